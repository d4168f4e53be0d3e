/*
 * Why intercept: INIT must never reach a CPU that runs the cloud VM. In VMX
 * non-root an INIT only causes a VM exit, and in Bochs 2.7 the INIT then
 * stays pending, so every later VM entry exits again. The EPT maps the
 * xAPIC page read-only; vsbypass decodes each store, forwards it to the
 * physical APIC, and handles INIT itself:
 *  - a target still waiting for SIPI already is in the post-INIT state;
 *  - a running target gets an NMI (NMI exiting is on) and resets itself to
 *    wait-for-SIPI in its NMI exit.
 * SIPIs are forwarded: a CPU in wait-for-SIPI takes them as SIPI exits.
 */
#include "vmx/lapic.h"
#include "core/cpu.h"
#include "core/hw.h"
#include "core/log.h"
#include "vmx/cloud.h"
#include "vmx/decode.h"
#include "vmx/guest.h"
#include "vmx/vmx_hw.h"

#define APIC_ICR_LO      0x300
#define APIC_ICR_HI      0x310
#define ICR_MODE(v)      (((v) >> 8) & 7)
#define ICR_MODE_NMI     4
#define ICR_MODE_INIT    5
#define ICR_DEST_LOGICAL (1u << 11)
#define ICR_SHORTHAND(v) (((v) >> 18) & 3)
#define ICR_BUSY         (1u << 12)

uint64_t lapic_guest_page(void)
{
    return rdmsr(MSR_IA32_APIC_BASE) & 0xFFFFFF000ULL;
}

static void icr_send_raw(uint64_t apic, uint32_t dest, uint32_t lo)
{
    uint32_t saved_hi = mmio_read32(apic + APIC_ICR_HI);
    mmio_write32(apic + APIC_ICR_HI, dest << 24);
    mmio_write32(apic + APIC_ICR_LO, lo);
    for (unsigned i = 0; i < 100000 && (mmio_read32(apic + APIC_ICR_LO) & ICR_BUSY); i++)
        cpu_relax();
    mmio_write32(apic + APIC_ICR_HI, saved_hi);     /* the guest's destination */
}

static void virtual_init(struct vcpu *from, unsigned cpu, uint64_t apic)
{
    struct vcpu *t = cloud_vcpu(cpu);
    if (!t || t->waiting_sipi)
        return;     /* already in the state INIT would produce */
    if (t == from) {
        from->init_pending = true;
        return;
    }
    __atomic_store_n(&t->init_pending, true, __ATOMIC_RELEASE);
    icr_send_raw(apic, cpus[cpu].apic_id, ICR_MODE_NMI << 8);
}

static void route_init(struct vcpu *v, uint32_t lo, uint64_t apic)
{
    uint32_t dest = mmio_read32(apic + APIC_ICR_HI) >> 24;
    unsigned sh = ICR_SHORTHAND(lo);
    if (sh == 0 && (lo & ICR_DEST_LOGICAL)) {
        kprintf("cloud: cpu%u sent INIT in logical destination mode; not delivered\n", v->cpu);
        return;
    }
    for (unsigned i = 0; i < MAX_CPUS; i++) {
        if (!cpus[i].online)
            continue;
        bool self = i == v->cpu;
        bool hit = sh == 0 ? cpus[i].apic_id == dest : sh == 1 ? self : sh == 2 ? true : !self;
        if (hit)
            virtual_init(v, i, apic);
    }
}

bool lapic_emulate_write(struct vcpu *v, uint64_t gpa)
{
    uint8_t code[15];
    size_t got = guest_fetch_code(code, sizeof(code));
    uint64_t regs[16];
    for (unsigned r = 0; r < 16; r++)
        regs[r] = vcpu_reg_read(v, r);
    struct mmio_store st;
    if (decode_mmio_store(code, got, guest_code_bits(), regs, &st))
        return false;
    uint64_t apic = gpa & ~0xFFFULL, off = gpa & 0xFFF;
    if (st.size != 4 || (off & 3))
        return false;   /* APIC registers are 32-bit and aligned */
    uint32_t val = (uint32_t)st.value;
    vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + st.len);
    if (off != APIC_ICR_LO || ICR_MODE(val) != ICR_MODE_INIT) {
        mmio_write32(gpa, val);
        return true;
    }
    route_init(v, val, apic);
    if (__atomic_exchange_n(&v->init_pending, false, __ATOMIC_ACQ_REL)) {
        if (v->bsp)
            cloud_stop(v, "INIT to the bootstrap CPU (the cloud OS reset the machine)");
        vcpu_reset_real_mode(v, 0, 0, ACTIVITY_WAIT_SIPI);
    }
    return true;
}

static void nmi_window(bool on)
{
    uint64_t proc = vmcs_read(VMCS_PROC_CTLS);
    vmcs_write(VMCS_PROC_CTLS, on ? proc | PROC_NMI_WINDOW_EXIT : proc & ~(uint64_t)PROC_NMI_WINDOW_EXIT);
}

/*
 * NMIs for L1 wait in v->nmi_pending (one at most, as on hardware) until L1
 * can take one: not inside its NMI handler, not right after MOV SS or STI,
 * and no other event being injected at the same entry. Until then VMCS01
 * asks for an NMI-window exit. While L2 runs they wait for the next exit to
 * L1, which then finds them at its handler (L0 does not synthesize an NMI
 * exit for them). A CPU without virtual NMIs has no NMI window: such an
 * NMI is dropped with a log line.
 */
void lapic_nmi_deliver(struct vcpu *v, bool at_window)
{
    if (at_window)
        nmi_window(false);          /* armed again below if still needed */
    if (v->in_l2 || !v->nmi_pending)
        return;
    if (__atomic_exchange_n(&v->init_pending, false, __ATOMIC_ACQ_REL)) {
        v->nmi_pending = false;
        nmi_window(false);
        vmcs_write(VMCS_ENTRY_INTR_INFO, 0);    /* nothing is delivered in wait-for-SIPI */
        vcpu_reset_real_mode(v, 0, 0, ACTIVITY_WAIT_SIPI);
        return;
    }
    if (v->waiting_sipi) {          /* wait-for-SIPI blocks NMIs for good */
        v->nmi_pending = false;
        nmi_window(false);
        return;
    }
    /* At an NMI-window exit the CPU has judged STI blocking itself. */
    uint32_t block = INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_MOV_SS | (at_window ? 0 : INTERRUPTIBILITY_STI);
    bool busy = (vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & block) ||
                (vmcs_read(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
    if (busy) {
        if (cloud.nmi_window) {
            nmi_window(true);
            v->nmis_windowed++;
            return;
        }
        kprintf("cloud: cpu%u dropped an NMI that arrived while the guest blocked NMIs\n", v->cpu);
        v->nmi_pending = false;
        return;
    }
    if (cloud.nmi_window)
        nmi_window(false);
    vmcs_write(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_NMI | 2);
    v->nmi_pending = false;
    v->nmis_delivered++;
}

void lapic_nmi_exit(struct vcpu *v)
{
    v->nmi_pending = true;
    lapic_nmi_deliver(v, false);
}
