/*
 * Cloud-VM exit dispatch: a table indexed by basic exit reason, short
 * handlers, per-reason counters and L0 cost. Guest-caused faults are
 * injected into the guest or stop the cloud VM; vsbypass keeps running.
 */
#include "core/cmdline.h"
#include "core/cpu.h"
#include "core/devhide.h"
#include "core/spinlock.h"
#include "core/hw.h"
#include "core/init.h"
#include "core/libc.h"
#include "core/log.h"
#include "core/smp.h"
#include "core/time.h"
#include "vmx/cloud.h"
#include "vmx/decode.h"
#include "vmx/guest.h"
#include "vmx/lapic.h"
#include "vmx/passthrough.h"
#include "vmx/nested_exits.h"
#include "vmx/vmcs_shadow.h"
#include "vmx/vmx_hw.h"
#include "vmx/vmx_msr.h"

#define CR4_VMXE    (1ULL << 13)
#define CR4_OSXSAVE (1ULL << 18)
#define CR4_PKE     (1ULL << 22)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_7_ECX_OSPKE   (1u << 4)
#define CR4_PAE     (1ULL << 5)
#define CR0_NE      (1ULL << 5)
#define CR0_PE      (1ULL << 0)
#define CR0_PG      (1ULL << 31)
#define CR0_CD      (1ULL << 30)
#define CR0_NW      (1ULL << 29)
#define VEC_UD      6
#define VEC_GP      13

static struct vcpu *all_vcpus[MAX_CPUS];
static const char *const reason_names[EXIT_REASON_MAX] = {
    [EXIT_REASON_EXCEPTION_NMI] = "exception/NMI", [EXIT_REASON_EXTERNAL_INTR] = "external interrupt",
    [EXIT_REASON_TRIPLE_FAULT] = "triple fault", [EXIT_REASON_INIT] = "INIT",
    [EXIT_REASON_SIPI] = "SIPI", [EXIT_REASON_CPUID] = "CPUID", [EXIT_REASON_GETSEC] = "GETSEC",
    [EXIT_REASON_HLT] = "HLT", [EXIT_REASON_INVD] = "INVD", [EXIT_REASON_VMCALL] = "VMCALL",
    [EXIT_REASON_VMCLEAR] = "VMCLEAR", [EXIT_REASON_VMLAUNCH] = "VMLAUNCH",
    [EXIT_REASON_VMPTRLD] = "VMPTRLD", [EXIT_REASON_VMPTRST] = "VMPTRST",
    [EXIT_REASON_VMREAD] = "VMREAD", [EXIT_REASON_VMRESUME] = "VMRESUME",
    [EXIT_REASON_VMWRITE] = "VMWRITE", [EXIT_REASON_VMXOFF] = "VMXOFF", [EXIT_REASON_VMXON] = "VMXON",
    [EXIT_REASON_CR_ACCESS] = "CR access", [EXIT_REASON_IO] = "I/O", [EXIT_REASON_RDMSR] = "RDMSR",
    [EXIT_REASON_WRMSR] = "WRMSR", [EXIT_REASON_ENTRY_FAIL_GUEST] = "entry failure (guest state)",
    [EXIT_REASON_ENTRY_FAIL_MSR] = "entry failure (MSR load)", [EXIT_REASON_EPT_VIOLATION] = "EPT violation",
    [EXIT_REASON_EPT_MISCONFIG] = "EPT misconfiguration", [EXIT_REASON_INVEPT] = "INVEPT",
    [EXIT_REASON_INVVPID] = "INVVPID", [EXIT_REASON_XSETBV] = "XSETBV",
};

static const char *reason_name(unsigned r)
{
    return r < EXIT_REASON_MAX && reason_names[r] ? reason_names[r] : "?";
}

void vmx_skip_instruction(void)
{
    vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + vmcs_read(VMCS_EXIT_INSTR_LEN));
    /* The emulated instruction ends any STI / MOV SS interrupt shadow. */
    uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & 3)
        vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr & ~3ULL);
}

void vmx_reinject_vectoring(void)
{
    uint32_t idt = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO);
    if (!(idt & INTR_INFO_VALID))
        return;
    vmcs_write(VMCS_ENTRY_INTR_INFO, idt & ~(1u << 12));   /* bit 12 is undefined for entry */
    if (idt & INTR_INFO_DELIVER_ERROR)
        vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, vmcs_read(VMCS_IDT_VECTORING_ERROR));
    vmcs_write(VMCS_ENTRY_INSTR_LEN, vmcs_read(VMCS_EXIT_INSTR_LEN));
}

void vmx_inject_exception(unsigned vec, bool has_error, uint32_t error)
{
    /* Real mode delivers no error codes (SDM VM-entry checks on event injection). */
    if (!(vmcs_read(VMCS_GUEST_CR0) & CR0_PE))
        has_error = false;
    uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vec;
    if (has_error) {
        info |= INTR_INFO_DELIVER_ERROR;
        vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, error);
    }
    vmcs_write(VMCS_ENTRY_INTR_INFO, info);
}

/* Registers by SDM number; RSP is not saved by the exit path, it lives in the VMCS. */
static uint64_t *gpr_slot(struct vcpu *v, unsigned reg)
{
    struct vcpu_regs *r = &v->regs;
    uint64_t *map[16] = { &r->rax, &r->rcx, &r->rdx, &r->rbx, NULL, &r->rbp, &r->rsi,
                          &r->rdi, &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13,
                          &r->r14, &r->r15 };
    return map[reg & 15];
}

uint64_t vcpu_reg_read(struct vcpu *v, unsigned reg)
{
    uint64_t *slot = gpr_slot(v, reg);
    return slot ? *slot : vmcs_read(VMCS_GUEST_RSP);
}

void vcpu_reg_write(struct vcpu *v, unsigned reg, uint64_t val)
{
    uint64_t *slot = gpr_slot(v, reg);
    if (slot)
        *slot = val;
    else
        vmcs_write(VMCS_GUEST_RSP, val);
}

static void set_edx_eax(struct vcpu *v, uint64_t val)
{
    v->regs.rax = (uint32_t)val;
    v->regs.rdx = val >> 32;
}

static void h_cpuid(struct vcpu *v)
{
    uint32_t leaf = (uint32_t)v->regs.rax, sub = (uint32_t)v->regs.rcx;
    struct cpuid_regs r = cpuid(leaf, sub);
    /* OSXSAVE and OSPKE reflect CR4 of whoever runs CPUID: here, vsbypass's. */
    uint64_t cr4 = vmcs_read(VMCS_GUEST_CR4);
    if (leaf == 1) {
        if (!cloud.nested)
            r.ecx &= ~CPUID_1_ECX_VMX;
        r.ecx = (r.ecx & ~CPUID_1_ECX_OSXSAVE) | ((cr4 & CR4_OSXSAVE) ? CPUID_1_ECX_OSXSAVE : 0);
    }
    if (leaf == 7 && sub == 0)
        r.ecx = (r.ecx & ~CPUID_7_ECX_OSPKE) | ((cr4 & CR4_PKE) ? CPUID_7_ECX_OSPKE : 0);
    v->regs.rax = r.eax;
    v->regs.rbx = r.ebx;
    v->regs.rcx = r.ecx;
    v->regs.rdx = r.edx;
    vmx_skip_instruction();
}

/* Only the MSRs trapped in cloud_setup's bitmap arrive here. */
int cloud_msr_emulated(uint32_t msr, uint64_t *val)
{
    if (msr == MSR_IA32_FEATURE_CONTROL) {
        /* Locked, as firmware leaves it; VMX outside SMX on only when offered. */
        *val = FEATURE_CONTROL_LOCK | (cloud.nested ? FEATURE_CONTROL_VMX_OUTSIDE_SMX : 0);
        return 0;
    }
    if (msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_VMFUNC)
        return cloud.nested && !nested_caps_rdmsr(&cloud.caps, msr, val) ? 0 : 1;
    return -1;
}

static void h_rdmsr(struct vcpu *v)
{
    uint64_t val;
    if (cloud_msr_emulated((uint32_t)v->regs.rcx, &val) == 0) {
        set_edx_eax(v, val);
        vmx_skip_instruction();
        return;
    }
    vmx_inject_exception(VEC_GP, true, 0);
}

static void h_wrmsr(struct vcpu *v)
{
    (void)v;
    vmx_inject_exception(VEC_GP, true, 0);     /* locked or nonexistent for this guest */
}

static void h_cr_access(struct vcpu *v)
{
    uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
    unsigned cr = q & 15, type = (q >> 4) & 3;
    uint64_t val = vcpu_reg_read(v, (q >> 8) & 15);
    if (type != 0 || (cr != 0 && cr != 4))
        cloud_stop(v, "unexpected control-register access exit");
    if (cr == 4) {
        /* Only a change of CR4.VMXE exits; the real bit stays 1 for vsbypass. */
        if (!cloud.nested || (val & ~rdmsr(MSR_IA32_VMX_CR4_FIXED1))) {
            vmx_inject_exception(VEC_GP, true, 0);
            return;
        }
        vmcs_write(VMCS_CR4_SHADOW, (vmcs_read(VMCS_CR4_SHADOW) & ~CR4_VMXE) | (val & CR4_VMXE));
        vmcs_write(VMCS_GUEST_CR4, val | CR4_VMXE);
        vmx_skip_instruction();
        return;
    }
    if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD))) {
        vmx_inject_exception(VEC_GP, true, 0);
        return;
    }
    uint64_t old = vmcs_read(VMCS_GUEST_CR0);
    if ((val & CR0_PG) && !(old & CR0_PG) && (vmcs_read(VMCS_GUEST_EFER) & EFER_LME) &&
        !(vmcs_read(VMCS_GUEST_CR4) & CR4_PAE)) {
        vmx_inject_exception(VEC_GP, true, 0);      /* long mode needs PAE */
        return;
    }
    vmcs_write(VMCS_CR0_SHADOW, val);
    vmcs_write(VMCS_GUEST_CR0, val | CR0_NE);
    /* This write bypassed the CPU, so apply the long-mode transition ourselves. */
    uint64_t efer = vmcs_read(VMCS_GUEST_EFER);
    if ((val ^ old) & CR0_PG) {
        bool lma = (val & CR0_PG) && (efer & EFER_LME);
        vmcs_write(VMCS_GUEST_EFER, lma ? efer | EFER_LMA : efer & ~(uint64_t)EFER_LMA);
        uint64_t entry = vmcs_read(VMCS_ENTRY_CTLS);
        vmcs_write(VMCS_ENTRY_CTLS, lma ? entry | ENTRY_IA32E_MODE : entry & ~(uint64_t)ENTRY_IA32E_MODE);
    }
    vmx_skip_instruction();
}

/* The VMX-preemption timer CPU 0 runs with so that background work
 * (core_poll: the network stack) gets the CPU at least every few ms. */
static void h_preempt_timer(struct vcpu *v)
{
    (void)v;                    /* core_poll runs after every exit anyway */
}

/* L1 can take the NMI it was waiting for (vmx/lapic.c armed the window). */
static void h_nmi_window(struct vcpu *v)
{
    lapic_nmi_deliver(v, true);
}

static void h_xsetbv(struct vcpu *v)
{
    uint32_t idx = (uint32_t)v->regs.rcx;
    uint64_t val = (v->regs.rdx << 32) | (uint32_t)v->regs.rax;
    struct cpuid_regs x = cpuid(0xD, 0);
    uint64_t supported = ((uint64_t)x.edx << 32) | x.eax;
    unsigned cpl = (vmcs_read(VMCS_GUEST_SS_AR) >> 5) & 3;
    if (cpl || idx != 0 || !(val & 1) || (val & ~supported) || ((val & 4) && !(val & 2))) {
        vmx_inject_exception(VEC_GP, true, 0);
        return;
    }
    __asm__ volatile("xsetbv" :: "c"(idx), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)));
    vmx_skip_instruction();
}

static void h_invd(struct vcpu *v)
{
    (void)v;
    __asm__ volatile("wbinvd" ::: "memory");    /* never drop dirty lines vsbypass owns */
    vmx_skip_instruction();
}

static void h_vmcall(struct vcpu *v)
{
    bool boot_failed;
    if (!bios_vmcall(&cloud.bios, v, &boot_failed)) {
        vmx_inject_exception(VEC_UD, false, 0);
        return;
    }
    if (boot_failed) {
        kprintf("cloud: booting drive 0x%x failed: %s (status 0x%llx)\n", boot_config()->boot_drive,
                (v->regs.rax & 0xFFFF) == 0xAA55 ? "sector 0 has no boot signature" : "INT 13h read error",
                (unsigned long long)(v->regs.rax & 0xFFFF));
        cloud_stop(v, "the configured boot device could not be booted");
    }
}

static void h_vmx_insn(struct vcpu *v)
{
    nested_exit_vmx_insn(v, v->exit_reason);    /* #UD there when nested=off */
}

static void h_init(struct vcpu *v)
{
    if (cloud.stopped) {
        kprintf("cpu%u: left the stopped cloud VM\n", v->cpu);
        cpu_park();
    }
    if (v->bsp)
        cloud_stop(v, "INIT on the bootstrap CPU (the cloud OS reset the machine)");
    vcpu_reset_real_mode(v, 0, 0, ACTIVITY_WAIT_SIPI);
}

static void h_sipi(struct vcpu *v)
{
    unsigned vec = vmcs_read(VMCS_EXIT_QUALIFICATION) & 0xFF;
    vcpu_reset_real_mode(v, (uint16_t)(vec << 8), 0, ACTIVITY_ACTIVE);
    kprintf("cloud: cpu%u started by the cloud OS at %04x:0000\n", v->cpu, vec << 8);
}

/*
 * Port I/O that exits in the cloud VM: PCI configuration mechanism #1
 * (hidden devices read as absent) and hidden devices' own ports (dropped).
 * The address in 0xCF8 is shared by all CPUs, as in the chipset; the cloud
 * OS serialises its configuration accesses, vsbypass keeps each one atomic.
 */
static struct spinlock pci_lock = SPINLOCK_INIT;
static uint32_t pci_cf8;

static uint32_t io_in(uint16_t port, unsigned size)
{
    return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void io_out(uint16_t port, unsigned size, uint32_t v)
{
    if (size == 1) outb(port, (uint8_t)v);
    else if (size == 2) outw(port, (uint16_t)v);
    else outl(port, v);
}

static void h_io(struct vcpu *v)
{
    uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
    uint16_t port = (uint16_t)(q >> 16);
    unsigned size = (unsigned)(q & 7) + 1;
    bool in = q & 8;
    uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    uint32_t val = 0xFFFFFFFFu & mask;
    if (q & 16) {
        kprintf("cloud: cpu%u: string I/O on port 0x%x is not emulated; dropped\n", v->cpu, port);
        vmx_skip_instruction();
        return;
    }
    spin_lock(&pci_lock);
    if (port == 0xCF8 && size == 4) {
        if (in)
            val = inl(0xCF8);
        else
            outl(0xCF8, pci_cf8 = (uint32_t)v->regs.rax);
    } else if (port >= 0xCFC && port <= 0xCFF) {
        uint32_t bdf = (pci_cf8 >> 8) & 0xFFFF;
        if (!(pci_cf8 & 0x80000000u) || !devhide_bdf(bdf)) {
            outl(0xCF8, pci_cf8);
            if (in)
                val = io_in(port, size);
            else
                io_out(port, size, (uint32_t)v->regs.rax & mask);
        }   /* a hidden device: reads see no device (all ones), writes vanish */
    } else if (port >= 0xCF8 && port <= 0xCFB) {
        /* Byte/word accesses here are other chipset registers (0xCF9: reset). */
        if (in)
            val = io_in(port, size);
        else
            io_out(port, size, (uint32_t)v->regs.rax & mask);
    }   /* else: a hidden device's own I/O ports: dropped */
    spin_unlock(&pci_lock);
    if (in)
        v->regs.rax = size == 4 ? val : (v->regs.rax & ~(uint64_t)mask) | val;
    vmx_skip_instruction();
}

static void h_triple_fault(struct vcpu *v) { cloud_stop(v, "triple fault"); }

static void h_exception_nmi(struct vcpu *v)
{
    uint32_t info = (uint32_t)vmcs_read(VMCS_EXIT_INTR_INFO);
    if ((info & INTR_INFO_VALID) && (info & 0x700) == INTR_TYPE_NMI) {
        lapic_nmi_exit(v);
        return;
    }
    cloud_stop(v, "unexpected exception exit (the exception bitmap is empty)");
}

/* The cloud reached a hidden device's configuration space through
 * MMCONFIG (ECAM): as through ports 0xCF8/0xCFC, the device is absent.
 * Reads give all ones (a missing function's vendor ID 0xFFFF), writes are
 * dropped; the first access per device is logged. */
static bool ecam_emulate(struct vcpu *v, uint64_t q, const struct devhide_device *d)
{
    static uint32_t logged[DEVHIDE_MAX];
    static unsigned nlogged;
    uint8_t code[15];
    size_t got = guest_fetch_code(code, sizeof(code));
    unsigned bits = guest_code_bits(), len;
    if (q & 2) {
        uint64_t regs[16];
        for (unsigned r = 0; r < 16; r++)
            regs[r] = vcpu_reg_read(v, r);
        struct mmio_store st;
        if (decode_mmio_store(code, got, bits, regs, &st))
            return false;
        len = st.len;
    } else {
        struct mmio_load ld;
        if (decode_mmio_load(code, got, bits, &ld))
            return false;
        vcpu_reg_write(v, ld.reg, mmio_load_apply(&ld, vcpu_reg_read(v, ld.reg), ~0ULL));
        len = ld.len;
    }
    vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + len);
    bool seen = false;
    for (unsigned i = 0; i < nlogged; i++)
        seen |= logged[i] == d->bdf;
    if (!seen && nlogged < DEVHIDE_MAX) {
        logged[nlogged++] = d->bdf;
        kprintf("cloud: cpu%u: MMCONFIG %s of hidden device %02x:%02x.%x: it reads as absent\n",
                v->cpu, (q & 2) ? "write" : "read", d->bdf >> 8, (d->bdf >> 3) & 31, d->bdf & 7);
    }
    return true;
}

static void h_ept_violation(struct vcpu *v)
{
    uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
    uint64_t gpa = vmcs_read(VMCS_GUEST_PHYS_ADDR);
    if ((q & 2) && (gpa & ~0xFFFULL) == lapic_guest_page()) {
        if (!lapic_emulate_write(v, gpa))
            cloud_stop(v, "a store to the local APIC that vsbypass cannot decode");
        return;
    }
    const struct devhide_device *hidden = devhide_ecam_at(gpa);
    if (hidden) {
        if (!ecam_emulate(v, q, hidden))
            cloud_stop(v, "an MMCONFIG access to a hidden device that vsbypass cannot decode");
        return;
    }
    kprintf("cloud: EPT violation at guest-physical 0x%llx (qualification 0x%llx)\n",
            (unsigned long long)vmcs_read(VMCS_GUEST_PHYS_ADDR), (unsigned long long)q);
    cloud_stop(v, "access outside the memory the cloud VM may use");
}

static void h_ept_misconfig(struct vcpu *v)
{
    (void)v;
    vmcs_dump();
    panic("EPT misconfiguration at guest-physical 0x%llx: vsbypass built a bad EPT01",
          (unsigned long long)vmcs_read(VMCS_GUEST_PHYS_ADDR));
}

typedef void (*exit_handler)(struct vcpu *v);
static const exit_handler handlers[EXIT_REASON_MAX] = {
    [EXIT_REASON_EXCEPTION_NMI] = h_exception_nmi,
    [EXIT_REASON_TRIPLE_FAULT] = h_triple_fault,
    [EXIT_REASON_INIT] = h_init,
    [EXIT_REASON_SIPI] = h_sipi,
    [EXIT_REASON_CPUID] = h_cpuid,
    [EXIT_REASON_INVD] = h_invd,
    [EXIT_REASON_VMCALL] = h_vmcall,
    [EXIT_REASON_VMCLEAR] = h_vmx_insn,
    [EXIT_REASON_VMLAUNCH] = h_vmx_insn,
    [EXIT_REASON_VMPTRLD] = h_vmx_insn,
    [EXIT_REASON_VMPTRST] = h_vmx_insn,
    [EXIT_REASON_VMREAD] = h_vmx_insn,
    [EXIT_REASON_VMRESUME] = h_vmx_insn,
    [EXIT_REASON_VMWRITE] = h_vmx_insn,
    [EXIT_REASON_VMXOFF] = h_vmx_insn,
    [EXIT_REASON_VMXON] = h_vmx_insn,
    [EXIT_REASON_INVEPT] = h_vmx_insn,
    [EXIT_REASON_INVVPID] = h_vmx_insn,
    [EXIT_REASON_CR_ACCESS] = h_cr_access,
    [EXIT_REASON_IO] = h_io,
    [EXIT_REASON_RDMSR] = h_rdmsr,
    [EXIT_REASON_WRMSR] = h_wrmsr,
    [EXIT_REASON_EPT_VIOLATION] = h_ept_violation,
    [EXIT_REASON_EPT_MISCONFIG] = h_ept_misconfig,
    [EXIT_REASON_XSETBV] = h_xsetbv,
    [EXIT_REASON_PREEMPT_TIMER] = h_preempt_timer,
    [EXIT_REASON_NMI_WINDOW] = h_nmi_window,
};

/* An NMI vsbypass took in root mode (core/cpu.c) goes to the guest. */
static void take_root_nmi(struct vcpu *v)
{
    struct percpu *c = this_cpu();
    if (!c->nmi_pending)
        return;
    c->nmi_pending = false;
    if (v->in_l2)
        v->nmi_pending = true;      /* for L1, at the next exit to it */
    else
        lapic_nmi_exit(v);
}

struct vcpu *vmx_exit_handler(struct vcpu *v)
{
    uint64_t t0 = rdtsc();
    uint32_t reason = (uint32_t)vmcs_read(VMCS_EXIT_REASON);
    unsigned basic = reason & 0xFFFF;
    all_vcpus[v->cpu] = v;
    v->exit_reason = basic;
    if (basic < EXIT_REASON_MAX)
        v->exits[basic]++;
    if (v->trace_left) {
        v->trace_left--;
        kprintf("cpu%u: exit %u (%s) at %04llx:%llx qualification 0x%llx\n", v->cpu, basic,
                reason_name(basic), (unsigned long long)vmcs_read(VMCS_GUEST_CS_SEL),
                (unsigned long long)vmcs_read(VMCS_GUEST_RIP),
                (unsigned long long)vmcs_read(VMCS_EXIT_QUALIFICATION));
    }
    if (v->rt_open && !v->in_l2)
        v->rt_exits++;          /* L1 working on a reflected L2 exit */
    if (v->in_l2) {
        /* Clear Bochs' spurious SMI blocking here too, then let L1 see the exit. */
        uint64_t i2 = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
        if (i2 & INTERRUPTIBILITY_SMI)
            vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, i2 & ~(uint64_t)INTERRUPTIBILITY_SMI);
        nested_l2_exit(v, basic);
        if (cloud.stopped)
            cpu_park();
        if (!v->in_l2)              /* reflected to L1: VMCS12 changed */
            vmcs_shadow_push(v, nested_vcpu_of(v->cpu));
        core_poll(v->cpu);
        take_root_nmi(v);
        return v;
    }
    if (reason & EXIT_REASON_ENTRY_FAILURE_BIT)
        cloud_stop(v, "VM entry failed (invalid guest state or MSR loading)");
    /* Bochs can save "blocking by SMI" outside SMM (a known quirk), which the
     * next VM entry rejects; the cloud VM never runs in SMM, so clear it. */
    uint64_t intr = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);
    if (intr & INTERRUPTIBILITY_SMI)
        vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(uint64_t)INTERRUPTIBILITY_SMI);
    exit_handler h = basic < EXIT_REASON_MAX ? handlers[basic] : NULL;
    if (!h) {
        kprintf("cloud: unhandled exit reason %u (%s)\n", basic, reason_name(basic));
        cloud_stop(v, "unhandled VM exit");
    }
    /* An event cut short by this exit is delivered again first; an NMI the
     * handler wants to inject then waits for its window. */
    vmx_reinject_vectoring();
    h(v);
    if (cloud.stopped)
        cpu_park();
    if (basic < EXIT_REASON_MAX)
        v->exit_cycles[basic] += rdtsc() - t0;
    passthrough_tick();
    core_poll(v->cpu);
    take_root_nmi(v);
    return v;
}

void vmx_entry_failed(struct vcpu *v, uint64_t rflags)
{
    uint64_t err = 0;
    int r = (rflags & 1) ? 1 : vmread_checked(VMCS_INSTR_ERROR, &err);
    if (v->in_l2 && !(rflags & 1)) {
        nested_entry_failed(v, err);
        vmx_enter(v);
    }
    kprintf("cpu%u: VM%s failed: %s, VM-instruction error %llu\n", v->cpu,
            v->launched > 1 ? "RESUME" : "LAUNCH", (rflags & 1) ? "VMfailInvalid" : "VMfailValid",
            (unsigned long long)err);
    (void)r;
    cloud_stop(v, "VM entry instruction failed");
}

_Noreturn void vmcs_access_failed(const char *op, uint64_t field, int result)
{
    uint64_t err = 0;
    if (result == 2)
        vmread_checked(VMCS_INSTR_ERROR, &err);
    panic("%s of VMCS field 0x%llx failed (%s, VM-instruction error %llu)", op,
          (unsigned long long)field, result == 1 ? "VMfailInvalid" : "VMfailValid",
          (unsigned long long)err);
}

void vmcs_dump(void)
{
    static const struct { uint32_t f; const char *n; } fields[] = {
        { VMCS_EXIT_REASON, "exit reason" }, { VMCS_EXIT_QUALIFICATION, "qualification" },
        { VMCS_EXIT_INTR_INFO, "exit intr info" }, { VMCS_IDT_VECTORING_INFO, "IDT vectoring" },
        { VMCS_EXIT_INSTR_LEN, "instr len" }, { VMCS_GUEST_PHYS_ADDR, "guest phys" },
        { VMCS_GUEST_LINEAR_ADDR, "guest linear" },
        { VMCS_GUEST_RIP, "rip" }, { VMCS_GUEST_RSP, "rsp" }, { VMCS_GUEST_RFLAGS, "rflags" },
        { VMCS_GUEST_CS_SEL, "cs" }, { VMCS_GUEST_CS_BASE, "cs base" }, { VMCS_GUEST_CS_AR, "cs ar" },
        { VMCS_GUEST_SS_SEL, "ss" }, { VMCS_GUEST_SS_AR, "ss ar" }, { VMCS_GUEST_TR_AR, "tr ar" },
        { VMCS_GUEST_CR0, "cr0" }, { VMCS_CR0_SHADOW, "cr0 shadow" }, { VMCS_GUEST_CR3, "cr3" },
        { VMCS_GUEST_CR4, "cr4" }, { VMCS_CR4_SHADOW, "cr4 shadow" }, { VMCS_GUEST_EFER, "efer" },
        { VMCS_GUEST_ACTIVITY_STATE, "activity" }, { VMCS_GUEST_INTERRUPTIBILITY, "interruptibility" },
        { VMCS_ENTRY_INTR_INFO, "entry intr info" }, { VMCS_PIN_CTLS, "pin ctls" },
        { VMCS_PROC_CTLS, "proc ctls" }, { VMCS_PROC_CTLS2, "proc2 ctls" },
        { VMCS_ENTRY_CTLS, "entry ctls" }, { VMCS_EXIT_CTLS, "exit ctls" },
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        uint64_t val = 0;
        int r = vmread_checked(fields[i].f, &val);
        kprintf("  vmcs %-17s %s0x%llx\n", fields[i].n, r ? "(unreadable) " : "",
                (unsigned long long)val);
    }
}

static void print_nested_stats(void)
{
    uint64_t served = 0, reflected_io = 0;
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        struct vcpu *v = all_vcpus[c];
        if (!v)
            continue;
        served += v->pt_served;
        reflected_io += v->l2_io_reflected;
        for (unsigned r = 0; r < EXIT_REASON_MAX; r++)
            if (v->rt_count[r])
                kprintf("nested: cpu%u: L2 exit %u (%s) handled by L1: %llu round trips, "
                        "%llu L0 exits and %llu TSC ticks each\n", c, r, reason_name(r),
                        (unsigned long long)v->rt_count[r],
                        (unsigned long long)(v->rt_l0_exits[r] / v->rt_count[r]),
                        (unsigned long long)(v->rt_ticks[r] / v->rt_count[r]));
    }
    uint64_t irqs = 0, full = 0, incr = 0, writes = 0, eois = 0;
    for (unsigned c = 0; c < MAX_CPUS; c++)
        if (all_vcpus[c]) {
            irqs += all_vcpus[c]->l2_irqs_injected;
            eois += all_vcpus[c]->apic_eois_kept;
            full += all_vcpus[c]->vmcs02_full;
            incr += all_vcpus[c]->vmcs02_incr;
            writes += all_vcpus[c]->vmcs02_writes;
        }
    if (full + incr)
        kprintf("nested: L2 entries: %llu with VMCS02 built in full, %llu kept (%llu VMCS12-derived "
                "fields written, %llu per entry)\n", (unsigned long long)full, (unsigned long long)incr,
                (unsigned long long)writes, (unsigned long long)(writes / (full + incr)));
    kprintf("passthrough: %llu user-VM port accesses served in L0, %llu L2 I/O exits reflected to L1, "
            "%llu shadow-device interrupts injected, %llu local-APIC EOIs kept from L1\n",
            (unsigned long long)served, (unsigned long long)reflected_io, (unsigned long long)irqs,
            (unsigned long long)eois);
}

void cloud_print_exit_stats(void)
{
    print_nested_stats();
    uint64_t delivered = 0, windowed = 0, root = 0;
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        root += cpus[c].nmis_taken;
        if (all_vcpus[c]) {
            delivered += all_vcpus[c]->nmis_delivered;
            windowed += all_vcpus[c]->nmis_windowed;
        }
    }
    if (delivered + windowed + root)
        kprintf("cloud: NMIs: %llu delivered to the guest, %llu waited for an NMI window, "
                "%llu arrived while vsbypass ran\n", (unsigned long long)delivered,
                (unsigned long long)windowed, (unsigned long long)root);
    kprintf("cloud: VM exits by reason (count, average L0 TSC ticks):\n");
    for (unsigned r = 0; r < EXIT_REASON_MAX; r++) {
        uint64_t n = 0, cyc = 0;
        for (unsigned c = 0; c < MAX_CPUS; c++) {
            if (all_vcpus[c]) {
                n += all_vcpus[c]->exits[r];
                cyc += all_vcpus[c]->exit_cycles[r];
            }
        }
        if (n)
            kprintf("cloud:   exit %2u %-28s %10llu %8llu\n", r, reason_name(r),
                    (unsigned long long)n, (unsigned long long)(cyc / n));
    }
}

_Noreturn void cloud_stop(struct vcpu *v, const char *why)
{
    bool first = !__atomic_exchange_n(&cloud.stopped, true, __ATOMIC_ACQ_REL);
    kprintf("cloud: cpu%u stops the cloud VM: %s\n", v->cpu, why);
    vmcs_dump();
    if (first) {
        cloud_print_exit_stats();
        /* Pull the other CPUs out of the guest: INIT always causes a VM exit. */
        for (unsigned i = 0; i < MAX_CPUS; i++)
            if (cpus[i].online && i != v->cpu)
                smp_send_init(cpus[i].apic_id);
        kprintf("vsbypass: cloud VM stopped; vsbypass keeps running\n");
        /* Show that this CPU still runs vsbypass code after the guest is gone. */
        udelay(100000);
        kprintf("vsbypass: still running after the cloud VM stopped (%u CPUs parked)\n",
                cpu_online_count());
    }
    cpu_park();
}
