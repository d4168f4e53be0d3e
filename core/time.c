#include "core/time.h"
#include "core/hw.h"
#include "core/log.h"

uint64_t tsc_hz;

#define PIT_HZ        1193182u
#define PIT_CH2       0x42
#define PIT_CMD       0x43
#define SYS_CTRL_B    0x61      /* bit 0: ch2 gate, bit 1: speaker, bit 5: ch2 output */

/*
 * One-shot on PIT channel 2 (mode 0): its output goes high when the count
 * reaches zero, readable in port 0x61 bit 5 without interrupts. Returns the
 * TSC ticks for `ms` milliseconds, or 0 if the output never rose.
 */
static uint64_t pit_measure(unsigned ms)
{
    uint32_t count = PIT_HZ * ms / 1000;
    uint8_t ctrl = inb(SYS_CTRL_B);
    outb(SYS_CTRL_B, (uint8_t)((ctrl & ~0x03) | 0x00));     /* gate low: hold */
    outb(PIT_CMD, 0xB0);                                    /* ch2, lo/hi, mode 0 */
    outb(PIT_CH2, (uint8_t)count);
    outb(PIT_CH2, (uint8_t)(count >> 8));
    uint64_t t0 = rdtsc();
    outb(SYS_CTRL_B, (uint8_t)((ctrl & ~0x02) | 0x01));     /* gate high: count */
    for (uint64_t spins = 0; spins < 50000000; spins++) {
        if (inb(SYS_CTRL_B) & 0x20) {
            uint64_t t1 = rdtsc();
            outb(SYS_CTRL_B, ctrl);
            return t1 - t0;
        }
    }
    outb(SYS_CTRL_B, ctrl);
    return 0;
}

void time_init(void)
{
    uint64_t best = 0;
    for (int i = 0; i < 3; i++) {
        uint64_t d = pit_measure(10);
        if (d && (!best || d < best))
            best = d;
    }
    if (best) {
        tsc_hz = best * 100;
        kprintf("time: TSC %llu.%03llu MHz (PIT channel 2, 10 ms)\n",
                (unsigned long long)(tsc_hz / 1000000), (unsigned long long)(tsc_hz / 1000 % 1000));
        return;
    }
    /* CPUID 0x16 gives the nominal base frequency in MHz where implemented. */
    struct cpuid_regs r = cpuid(0, 0);
    if (r.eax >= 0x16 && (r = cpuid(0x16, 0)).eax) {
        tsc_hz = (uint64_t)r.eax * 1000000;
        kprintf("time: PIT did not respond; TSC %u MHz from CPUID 0x16\n", r.eax);
        return;
    }
    tsc_hz = 1000000000ULL;
    kprintf("time: PIT did not respond and CPUID has no frequency; assuming 1 GHz TSC\n");
}

uint64_t tsc_now(void) { return rdtsc(); }

void udelay(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_hz / 1000000 * us;
    while (rdtsc() < end)
        cpu_relax();
}
