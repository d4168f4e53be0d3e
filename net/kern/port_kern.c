/* net/port.h in the hypervisor: the console log, the TSC, RDSEED/RDRAND,
 * the CMOS clock read once at boot, and the shadow device sets' locks. */
#include "net/port.h"
#include "net/kern/kern.h"
#include "core/fmt.h"
#include "core/hw.h"
#include "core/log.h"
#include "core/time.h"
#include "shadow/devices.h"
#include <stdarg.h>

void net_log(const char *fmt, ...)
{
    char line[240];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    kprintf("net: %s\n", line);
}

void net_port_fatal(const char *msg)
{
    panic("net: %s", msg);
}

uint64_t net_port_now_ms(void)
{
    uint64_t t = tsc_now();
    return tsc_hz ? t / (tsc_hz / 1000) : 0;
}

/* ------------------------------------------------------------- entropy */

static bool has_rdseed, has_rdrand, probed;

static void probe(void)
{
    if (probed)
        return;
    probed = true;
    has_rdrand = (cpuid(1, 0).ecx >> 30) & 1;
    if (cpuid(0, 0).eax >= 7)
        has_rdseed = (cpuid(7, 0).ebx >> 18) & 1;
}

static bool rdseed64(uint64_t *v)
{
    for (int i = 0; i < 100; i++) {
        uint8_t ok;
        __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
        if (ok)
            return true;
        __asm__ volatile("pause");
    }
    return false;
}

static bool rdrand64(uint64_t *v)
{
    for (int i = 0; i < 10; i++) {
        uint8_t ok;
        __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
        if (ok)
            return true;
    }
    return false;
}

bool net_port_random(void *buf, size_t len)
{
    probe();
    uint8_t *p = buf;
    while (len > 0) {
        uint64_t v;
        if (!(has_rdseed && rdseed64(&v)) && !(has_rdrand && rdrand64(&v)))
            return false;
        size_t n = len < 8 ? len : 8;
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)(v >> (8 * i));
        p += n;
        len -= n;
    }
    return true;
}

const char *net_kern_entropy_source(void)
{
    probe();
    return has_rdseed ? "RDSEED" : has_rdrand ? "RDRAND" : NULL;
}

/* ---------------------------------------------------------- wall clock */

static bool utc_known;
static uint64_t utc_base_s, utc_base_ms;     /* seconds since 1970 at boot-relative ms */

static uint8_t cmos(uint8_t reg)
{
    outb(0x70, reg);
    return inb(0x71);
}

static unsigned bcd(uint8_t v, bool binary)
{
    return binary ? v : (unsigned)((v >> 4) * 10 + (v & 15));
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool net_kern_clock_init(char *why, size_t whylen)
{
    /* Before the cloud VM runs: nobody else drives ports 0x70/0x71 yet. */
    for (int i = 0; i < 100000 && (cmos(0x0A) & 0x80); i++)
        __asm__ volatile("pause");
    uint8_t s = cmos(0x00), mi = cmos(0x02), h = cmos(0x04), d = cmos(0x07), mo = cmos(0x08),
            y = cmos(0x09), c = cmos(0x32), b = cmos(0x0B);
    bool bin = b & 0x04, h24 = b & 0x02;
    unsigned hour = bcd(h & 0x7F, bin);
    if (!h24 && (h & 0x80))
        hour = (hour % 12) + 12;
    else if (!h24 && hour == 12)
        hour = 0;
    unsigned year = bcd(y, bin) + 100 * (c && bcd(c, bin) >= 19 ? bcd(c, bin) : 20);
    unsigned month = bcd(mo, bin), day = bcd(d, bin), min = bcd(mi, bin), sec = bcd(s, bin);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 ||
        year < 2020) {
        fmt_snprintf(why, whylen, "CMOS clock unusable (%04u-%02u-%02u %02u:%02u:%02u)", year,
                     month, day, hour, min, sec);
        return false;
    }
    utc_base_s = (uint64_t)days_from_civil(year, month, day) * 86400 + hour * 3600 + min * 60 + sec;
    utc_base_ms = net_port_now_ms();
    utc_known = true;
    fmt_snprintf(why, whylen, "%04u-%02u-%02u %02u:%02u:%02u UTC (CMOS clock)", year, month, day,
                 hour, min, sec);
    return true;
}

bool net_port_utc(uint32_t *days, uint32_t *seconds)
{
    if (!utc_known)
        return false;
    uint64_t t = utc_base_s + (net_port_now_ms() - utc_base_ms) / 1000;
    *days = (uint32_t)(t / 86400 + 719528);     /* BearSSL counts from 0000-01-01 */
    *seconds = (uint32_t)(t % 86400);
    return true;
}

/* ---------------------------------------------------------- VM devices */

/* The lock a VM is registered with is its struct shadow_vm. */
void net_port_vm_lock(void *lock)
{
    if (lock != NULL)
        shadow_vm_lock(lock);
}

void net_port_vm_unlock(void *lock)
{
    if (lock != NULL)
        shadow_vm_unlock(lock);
}
