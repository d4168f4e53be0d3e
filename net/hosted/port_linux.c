/* net/port.h on Linux, for the hosted console. */
#define _GNU_SOURCE
#include "net/port.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

static uint64_t t0_ms;

uint64_t net_port_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    if (t0_ms == 0)
        t0_ms = ms - 1;
    return ms - t0_ms;
}

/* The hypervisor uses RDSEED (RDRAND as fallback) here. */
bool net_port_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

bool net_port_utc(uint32_t *days, uint32_t *seconds)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return false;
    uint64_t s = (uint64_t)ts.tv_sec;
    *days = (uint32_t)(s / 86400) + 719528;     /* 0000-01-01 .. 1970-01-01 */
    *seconds = (uint32_t)(s % 86400);
    return true;
}

void net_log(const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "[%6llu.%03ld] %s\n", (unsigned long long)ts.tv_sec, ts.tv_nsec / 1000000, line);
    fflush(stderr);
}

void net_port_fatal(const char *msg)
{
    net_log("FATAL: %s", msg);
    abort();
}

void net_port_vm_lock(void *lock)
{
    (void)lock;                 /* one thread: the loop owns every fake VM */
}

void net_port_vm_unlock(void *lock)
{
    (void)lock;
}
