/*
 * AP start-up with INIT-SIPI-SIPI through the xAPIC (SDM "MP Initialization
 * Protocol Algorithm"). APs are started one at a time because they share the
 * trampoline's data slots.
 */
#include "core/smp.h"
#include "core/cpu.h"
#include "core/hw.h"
#include "core/init.h"
#include "core/libc.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/region.h"
#include "core/time.h"

#define LAPIC_ID        0x020
#define LAPIC_ICR_LO    0x300
#define LAPIC_ICR_HI    0x310
#define ICR_BUSY        (1u << 12)
#define ICR_INIT_ASSERT 0x0000C500u
#define ICR_INIT_DEASSERT 0x00008500u
#define ICR_STARTUP     0x00004600u
#define APIC_BASE_ENABLE (1ULL << 11)

extern const char trampoline_start[], trampoline_end[];
extern const char tramp_cr3[], tramp_efer[], tramp_stack[], tramp_entry[], tramp_arg[];

static uint64_t lapic_pa;
static smp_ap_hook ap_hook;

static void icr_send(uint32_t apic_id, uint32_t cmd)
{
    mmio_write32(lapic_pa + LAPIC_ICR_HI, apic_id << 24);
    mmio_write32(lapic_pa + LAPIC_ICR_LO, cmd);
    for (unsigned spin = 0; spin < 1000000; spin++)
        if (!(mmio_read32(lapic_pa + LAPIC_ICR_LO) & ICR_BUSY))
            return;
    kprintf("smp: IPI 0x%x to apic %u still pending\n", cmd, apic_id);
}

static void slot_write(const char *slot, uint64_t v)
{
    uint64_t *p = (uint64_t *)(uintptr_t)(TRAMPOLINE_PHYS + (uint64_t)(slot - trampoline_start));
    *p = v;
}

static void ap_main(struct percpu *c)
{
    cpu_init_ap(c);
    uint64_t efer = rdmsr(MSR_EFER);
    kprintf("cpu%u: online, apic id %u, 64-bit long mode (EFER.LMA=%u)\n", c->id, c->apic_id,
            (efer & EFER_LMA) ? 1 : 0);
    if (ap_hook)
        ap_hook(c->id);
    __atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
    init_run_cpu(c->id);
}

void smp_send_init(uint32_t apic_id)
{
    icr_send(apic_id, ICR_INIT_ASSERT);
}

static bool wait_online(struct percpu *c, uint64_t us)
{
    uint64_t end = tsc_now() + tsc_hz / 1000000 * us;
    while (tsc_now() < end) {
        if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
            return true;
        cpu_relax();
    }
    return __atomic_load_n(&c->online, __ATOMIC_ACQUIRE);
}

static bool start_ap(struct percpu *c)
{
    uint64_t stack = palloc_alloc(&region_pages, STACK_SIZE / PAGE_SIZE, 1);
    if (stack == PALLOC_FAIL) {
        kprintf("smp: no memory for cpu%u's stack\n", c->id);
        return false;
    }
    c->stack_top = stack + STACK_SIZE;
    slot_write(tramp_cr3, read_cr3());
    slot_write(tramp_efer, rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE));
    slot_write(tramp_stack, c->stack_top);
    slot_write(tramp_entry, (uint64_t)(uintptr_t)ap_main);
    slot_write(tramp_arg, (uint64_t)(uintptr_t)c);

    icr_send(c->apic_id, ICR_INIT_ASSERT);
    udelay(200);
    icr_send(c->apic_id, ICR_INIT_DEASSERT);
    udelay(10000);
    for (int i = 0; i < 2; i++) {
        icr_send(c->apic_id, ICR_STARTUP | (TRAMPOLINE_PHYS >> 12));
        if (wait_online(c, i ? 200000 : 1000))
            return true;
    }
    return false;
}

static bool trampoline_usable(const struct memmap *mm)
{
    for (unsigned i = 0; i < mm->n; i++)
        if (mm->e[i].type == MEM_USABLE && mm->e[i].base <= TRAMPOLINE_PHYS &&
            mm->e[i].base + mm->e[i].len >= TRAMPOLINE_PHYS + PAGE_SIZE)
            return true;
    return false;
}

unsigned smp_init(const struct acpi_madt_info *madt, const struct memmap *mm,
                  unsigned max_cpus, smp_ap_hook hook)
{
    ap_hook = hook;
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    lapic_pa = base & 0xFFFFFF000ULL;
    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
    uint32_t bsp_apic = mmio_read32(lapic_pa + LAPIC_ID) >> 24;
    cpus[0].apic_id = bsp_apic;
    cpus[0].online = true;
    kprintf("cpu0: online, apic id %u, 64-bit long mode (EFER.LMA=%u) [bootstrap]\n", bsp_apic,
            (rdmsr(MSR_EFER) & EFER_LMA) ? 1 : 0);

    unsigned want = madt->ncpus;
    if (max_cpus && max_cpus < want) {
        kprintf("smp: starting %u of %u CPUs (smp=%u)\n", max_cpus, want, max_cpus);
        want = max_cpus;
    }
    if (want > 1 && !trampoline_usable(mm)) {
        kprintf("smp: 0x%x is not usable RAM for the AP trampoline; running on the BSP only\n",
                (unsigned)TRAMPOLINE_PHYS);
        want = 1;
    }
    memcpy((void *)(uintptr_t)TRAMPOLINE_PHYS, trampoline_start,
           (size_t)(trampoline_end - trampoline_start));

    unsigned next = 1;
    for (unsigned i = 0; i < madt->ncpus && next < want; i++) {
        uint32_t id = madt->cpus[i].apic_id;
        if (id == bsp_apic)
            continue;
        if (id > 0xFE) {
            kprintf("smp: apic id %u needs x2APIC, not supported yet; skipped\n", id);
            continue;
        }
        struct percpu *c = &cpus[next];
        c->id = next;
        c->apic_id = id;
        if (start_ap(c))
            next++;
        else
            kprintf("smp: cpu with apic id %u did not come online; skipped\n", id);
    }
    unsigned online = cpu_online_count();
    kprintf("smp: %u of %u CPUs online\n", online, madt->ncpus);
    return online;
}
