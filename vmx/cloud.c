/*
 * Running the cloud VM: VMX on every CPU, one VMCS01 per CPU, identity EPT
 * without the hypervisor region, and the bootstrap CPU started in real mode
 * to re-run the BIOS boot (the BitVisor approach). APs wait for SIPI inside
 * VMX non-root, so the cloud OS starts them itself.
 */
#include "vmx/cloud.h"
#include "core/bootinfo.h"
#include "core/cmdline.h"
#include "core/cpu.h"
#include "core/devhide.h"
#include "core/hw.h"
#include "core/init.h"
#include "core/layout.h"
#include "core/libc.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/region.h"
#include "core/time.h"
#include "vmx/ept.h"
#include "vmx/lapic.h"
#include "vmx/vmx.h"
#include "vmx/vmcs_shadow.h"
#include "vmx/vmx_hw.h"
#include "vmx/vmx_msr.h"

#define CR4_VMXE    (1ULL << 13)
#define CR4_OSXSAVE (1ULL << 18)
#define CR0_NE      (1ULL << 5)
#define CR0_ET      (1ULL << 4)
#define MSR_PAT     0x277
#define CLOUD_VPID  1

struct cloud_vm cloud;
static struct vcpu vcpus[MAX_CPUS];
extern char vmx_exit_entry[];

static uint64_t page_zalloc(void)
{
    uint64_t p = palloc_alloc(&region_pages, 1, 1);
    if (p == PALLOC_FAIL)
        panic("vmx: out of region memory");
    memset((void *)(uintptr_t)p, 0, PAGE_SIZE);
    return p;
}

static void msr_trap(uint8_t *bitmap, uint32_t msr)
{
    /* Read bitmap for low MSRs at 0, write bitmap at 2048 (SDM "MSR-Bitmap Address"). */
    bitmap[msr / 8] |= (uint8_t)(1u << (msr % 8));
    bitmap[2048 + msr / 8] |= (uint8_t)(1u << (msr % 8));
}

static bool mmio_hidden(uint64_t base, uint64_t len)
{
    return devhide_overlaps(base, len, false);
}

/* Shared by every CPU; built once on the BSP after all CPUs are up. */
static void cloud_setup(void)
{
    if (!(cpuid(1, 0).ecx & CPUID_1_ECX_VMX)) {
        kprintf("cloud: no VT-x on this CPU; the cloud VM will not be started\n");
        return;
    }
    const struct memmap *fw = &boot_info()->mmap;
    uint64_t limit = 1ULL << 32;
    for (unsigned i = 0; i < fw->n; i++)
        if (fw->e[i].base + fw->e[i].len > limit)
            limit = fw->e[i].base + fw->e[i].len;
    struct ept_layout lay = { fw, (limit + (1ULL << 30) - 1) & ~((1ULL << 30) - 1),
                              region.base, region.size, lapic_guest_page(), mmio_hidden };
    uint64_t pml4 = ept_build_identity(&region_pages, &lay);
    if (!pml4)
        panic("cloud: out of region memory for EPT01");
    cloud.eptp = pml4 | EPTP_WB_4LEVEL;
    cloud.ept01_limit = lay.limit;
    cloud.io_bitmap_pa[0] = page_zalloc();
    cloud.io_bitmap_pa[1] = page_zalloc();
    cloud.msr_bitmap_pa = page_zalloc();
    /* PCI configuration mechanism #1 and the hidden devices' I/O ports exit. */
    uint8_t *ioa = (uint8_t *)(uintptr_t)cloud.io_bitmap_pa[0];
    for (unsigned p = 0xCF8; p <= 0xCFF; p++)
        ioa[p / 8] |= (uint8_t)(1u << (p % 8));
    for (unsigned d = 0; d < devhide_count(); d++) {
        const struct devhide_device *dev = devhide_get(d);
        for (unsigned r = 0; r < dev->nranges; r++)
            for (uint64_t p = dev->ranges[r].base; dev->ranges[r].io && p < dev->ranges[r].base +
                 dev->ranges[r].size && p < 0x10000; p++) {
                uint8_t *bm = (uint8_t *)(uintptr_t)cloud.io_bitmap_pa[p >= 0x8000];
                bm[(p & 0x7FFF) / 8] |= (uint8_t)(1u << (p % 8));
            }
        kprintf("cloud: PCI device %02x:%02x.%x is hidden from the cloud VM\n", dev->bdf >> 8,
                (dev->bdf >> 3) & 31, dev->bdf & 7);
    }
    uint8_t *mb = (uint8_t *)(uintptr_t)cloud.msr_bitmap_pa;
    msr_trap(mb, MSR_IA32_FEATURE_CONTROL);
    for (uint32_t m = MSR_IA32_VMX_BASIC; m <= MSR_IA32_VMX_VMFUNC; m++)
        msr_trap(mb, m);
    bios_install(&cloud.bios, fw, region.base, region.size);
    if (boot_config()->nested) {
        cloud.nested = nested_caps_compute(vmx_caps_of(0), &cloud.caps);
        kprintf("cloud: VT-x %s to the cloud VM%s\n", cloud.nested ? "offered" : "not offered",
                cloud.nested ? " (EPT, VPID, unrestricted guest; VMX instructions not emulated yet)"
                             : ": this CPU lacks EPT, VPID or unrestricted guest");
    }
    vmcs_shadow_setup(cloud.nested);
    kprintf("cloud: EPT01 maps 0-%llu GiB, region 0x%llx+%llu MiB hidden; %zu pages free\n",
            (unsigned long long)(lay.limit >> 30), (unsigned long long)region.base,
            (unsigned long long)(region.size >> 20), region_pages.nfree);
    __atomic_store_n(&cloud.ready, true, __ATOMIC_RELEASE);
}
CORE_INIT(cloud_setup, 50);

struct vcpu *cloud_vcpu(unsigned cpu)
{
    return cpu < MAX_CPUS && vcpus[cpu].launched ? &vcpus[cpu] : NULL;
}

static bool vmx_on(struct vcpu *v)
{
    uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK))
        wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
    else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
        kprintf("cpu%u: VMX is disabled by the firmware (IA32_FEATURE_CONTROL 0x%llx)\n",
                v->cpu, (unsigned long long)fc);
        return false;
    }
    write_cr0((read_cr0() | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1));
    uint64_t cr4 = read_cr4() | CR4_VMXE;
    if (cpuid(1, 0).ecx & (1u << 26))   /* XSAVE: lets vsbypass run XSETBV for the guest */
        cr4 |= CR4_OSXSAVE;
    write_cr4((cr4 | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1));

    uint32_t rev = VMX_BASIC_REVISION(rdmsr(MSR_IA32_VMX_BASIC));
    v->vmxon_pa = page_zalloc();
    v->vmcs_pa = page_zalloc();
    *(uint32_t *)(uintptr_t)v->vmxon_pa = rev;
    *(uint32_t *)(uintptr_t)v->vmcs_pa = rev;
    int r;
    if ((r = vmxon(v->vmxon_pa)) || (r = vmclear(v->vmcs_pa)) || (r = vmptrld(v->vmcs_pa))) {
        kprintf("cpu%u: VMXON/VMCLEAR/VMPTRLD failed (%s)\n", v->cpu,
                r == 1 ? "VMfailInvalid" : "VMfailValid");
        return false;
    }
    return true;
}

/* allowed-0 bits must be 1, allowed-1 bits may be 1 (SDM A.3-A.5). */
uint32_t vmx_ctl_adjust(uint32_t cap_msr, uint32_t want, uint32_t required, const char *name)
{
    uint64_t cap = rdmsr(cap_msr);
    uint32_t v = (want | vmx_allowed0(cap)) & vmx_allowed1(cap);
    if (required & ~v)
        panic("vmx: %s controls lack required bits 0x%x", name, required & ~v);
    return v;
}

static void vmcs_setup_controls(void)
{
    bool tru = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS;
    /* NMI exiting carries virtual INITs (vmx/lapic.c); real NMIs are reinjected,
     * held back by NMI-window exiting (which needs virtual NMIs) while the
     * guest blocks them. */
    uint32_t pin = vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
                                  PIN_NMI_EXIT | PIN_VIRTUAL_NMI, PIN_NMI_EXIT, "pin-based");
    vmcs_write(VMCS_PIN_CTLS, pin);
    cloud.nmi_window = pin & PIN_VIRTUAL_NMI;
    uint32_t proc = PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROCBASED_ACTIVATE_SECONDARY;
    vmcs_write(VMCS_PROC_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
                                          proc, proc, "processor-based"));
    /* RDTSCP, INVPCID and XSAVES raise #UD in the guest unless enabled here. */
    uint32_t need2 = PROCBASED2_ENABLE_EPT | PROCBASED2_ENABLE_VPID | PROCBASED2_UNRESTRICTED_GUEST;
    uint32_t want2 = need2 | PROCBASED2_ENABLE_RDTSCP | PROCBASED2_ENABLE_INVPCID | PROCBASED2_ENABLE_XSAVES;
    vmcs_write(VMCS_PROC_CTLS2, vmx_ctl_adjust(MSR_IA32_VMX_PROCBASED_CTLS2, want2, need2, "secondary"));
    uint32_t exit = EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT |
                    EXIT_LOAD_PAT | EXIT_SAVE_DEBUG;
    vmcs_write(VMCS_EXIT_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
                                          exit, exit, "VM-exit"));
    uint32_t entry = ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG;
    vmcs_write(VMCS_ENTRY_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
                                           entry, entry, "VM-entry"));
    vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
    vmcs_write(VMCS_PF_ERROR_MASK, 0);
    vmcs_write(VMCS_PF_ERROR_MATCH, 0);
    vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
    vmcs_write(VMCS_IO_BITMAP_A, cloud.io_bitmap_pa[0]);
    vmcs_write(VMCS_IO_BITMAP_B, cloud.io_bitmap_pa[1]);
    vmcs_write(VMCS_MSR_BITMAP, cloud.msr_bitmap_pa);
    vmcs_write(VMCS_EPT_POINTER, cloud.eptp);
    vmcs_write(VMCS_VPID, CLOUD_VPID);
    vmcs_write(VMCS_TSC_OFFSET, 0);
    /* The guest owns CR0.NE and CR4.VMXE only in appearance: VMX needs both set. */
    vmcs_write(VMCS_CR0_MASK, CR0_NE);
    vmcs_write(VMCS_CR4_MASK, CR4_VMXE);
}

/* Host state for any VMCS this CPU runs (VMCS01 and VMCS02 alike). */
void vmx_write_host_state(struct vcpu *v)
{
    struct percpu *c = this_cpu();
    vmcs_write(VMCS_HOST_CR0, read_cr0());
    vmcs_write(VMCS_HOST_CR3, read_cr3());
    vmcs_write(VMCS_HOST_CR4, read_cr4());
    vmcs_write(VMCS_HOST_CS_SEL, SEL_CODE64);
    vmcs_write(VMCS_HOST_SS_SEL, SEL_DATA);
    vmcs_write(VMCS_HOST_DS_SEL, SEL_DATA);
    vmcs_write(VMCS_HOST_ES_SEL, SEL_DATA);
    vmcs_write(VMCS_HOST_FS_SEL, 0);
    vmcs_write(VMCS_HOST_GS_SEL, 0);
    vmcs_write(VMCS_HOST_TR_SEL, SEL_TSS);
    vmcs_write(VMCS_HOST_FS_BASE, 0);
    vmcs_write(VMCS_HOST_GS_BASE, (uint64_t)c);
    vmcs_write(VMCS_HOST_TR_BASE, (uint64_t)&c->tss);
    vmcs_write(VMCS_HOST_GDTR_BASE, (uint64_t)c->gdt);
    vmcs_write(VMCS_HOST_IDTR_BASE, cpu_idt_base());
    vmcs_write(VMCS_HOST_SYSENTER_CS, 0);
    vmcs_write(VMCS_HOST_SYSENTER_ESP, 0);
    vmcs_write(VMCS_HOST_SYSENTER_EIP, 0);
    vmcs_write(VMCS_HOST_EFER, rdmsr(MSR_EFER));
    vmcs_write(VMCS_HOST_PAT, rdmsr(MSR_PAT));
    vmcs_write(VMCS_HOST_RSP, v->exit_stack_top - 16);
    vmcs_write(VMCS_HOST_RIP, (uint64_t)vmx_exit_entry);
}

static void vmcs_setup_host(struct vcpu *v)
{
    uint64_t stack = palloc_alloc(&region_pages, STACK_SIZE / PAGE_SIZE, 1);
    if (stack == PALLOC_FAIL)
        panic("vmx: no memory for cpu%u's exit stack", v->cpu);
    v->exit_stack_top = stack + STACK_SIZE;
    *(struct vcpu **)(uintptr_t)(v->exit_stack_top - 16) = v;
    vmx_write_host_state(v);
}

static void seg(uint32_t sel_f, uint32_t base_f, uint32_t lim_f, uint32_t ar_f,
                uint16_t sel, uint32_t ar)
{
    vmcs_write(sel_f, sel);
    vmcs_write(base_f, (uint64_t)sel << 4);
    vmcs_write(lim_f, 0xFFFF);
    vmcs_write(ar_f, ar);
}

/* The architectural state after INIT, in real mode at cs:ip (SDM "Processor
 * State After Reset"), with VMX's CR0.NE and CR4.VMXE hidden behind shadows. */
void vcpu_reset_real_mode(struct vcpu *v, uint16_t cs, uint16_t ip, unsigned activity)
{
    memset(&v->regs, 0, sizeof(v->regs));
    v->regs.rdx = 0x600;    /* family/model/stepping signature, as after reset */
    vmcs_write(VMCS_GUEST_CR0, CR0_ET | CR0_NE);
    vmcs_write(VMCS_CR0_SHADOW, CR0_ET);
    vmcs_write(VMCS_GUEST_CR3, 0);
    vmcs_write(VMCS_GUEST_CR4, rdmsr(MSR_IA32_VMX_CR4_FIXED0) | CR4_VMXE);
    vmcs_write(VMCS_CR4_SHADOW, 0);
    vmcs_write(VMCS_GUEST_DR7, 0x400);
    vmcs_write(VMCS_GUEST_RSP, 0);
    vmcs_write(VMCS_GUEST_RIP, ip);
    vmcs_write(VMCS_GUEST_RFLAGS, 0x2);
    seg(VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR, cs, 0x9B);
    seg(VMCS_GUEST_DS_SEL, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_AR, 0, 0x93);
    seg(VMCS_GUEST_ES_SEL, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_AR, 0, 0x93);
    seg(VMCS_GUEST_FS_SEL, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_FS_AR, 0, 0x93);
    seg(VMCS_GUEST_GS_SEL, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_GS_AR, 0, 0x93);
    seg(VMCS_GUEST_SS_SEL, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_AR, 0, 0x93);
    seg(VMCS_GUEST_LDTR_SEL, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_LDTR_AR, 0, 0x82);
    seg(VMCS_GUEST_TR_SEL, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR, 0, 0x8B);
    vmcs_write(VMCS_GUEST_GDTR_BASE, 0);
    vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xFFFF);
    vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
    vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0x3FF);
    vmcs_write(VMCS_GUEST_EFER, 0);
    vmcs_write(VMCS_GUEST_PAT, 0x0007040600070406ULL);
    vmcs_write(VMCS_GUEST_DEBUGCTL, 0);
    vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
    vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
    vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
    vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
    /* Written explicitly: Bochs may report SMI blocking after a SIPI exit. */
    vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmcs_write(VMCS_GUEST_ACTIVITY_STATE, activity);
    v->waiting_sipi = activity == ACTIVITY_WAIT_SIPI;
    vmcs_write(VMCS_LINK_POINTER, ~0ULL);
    vmcs_write(VMCS_ENTRY_CTLS, vmcs_read(VMCS_ENTRY_CTLS) & ~ENTRY_IA32E_MODE);
}

/* CPU 0 runs the cloud VM with the VMX-preemption timer when background
 * work wants the CPU (core_poll): an exit at least every
 * CORE_POLL_PERIOD_MS of guest time, even while the guest never exits on
 * its own. The timer counts TSC >> IA32_VMX_MISC[4:0] and restarts from
 * the VMCS value at every entry (its value is not saved on exit). */
static void poll_timer_setup(void)
{
    if (!core_poll_wanted())
        return;
    bool tru = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS;
    uint64_t cap = rdmsr(tru ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
    if (!(vmx_allowed1(cap) & PIN_PREEMPT_TIMER)) {
        kprintf("cloud: no VMX-preemption timer: background work runs only on cpu0's own exits\n");
        return;
    }
    unsigned shift = (unsigned)(rdmsr(MSR_IA32_VMX_MISC) & 0x1F);
    uint64_t ticks = (tsc_hz / 1000 * CORE_POLL_PERIOD_MS) >> shift;
    if (ticks == 0)
        ticks = 1;
    if (ticks > 0xFFFFFFFFu)
        ticks = 0xFFFFFFFFu;
    vmcs_write(VMCS_PIN_CTLS, vmcs_read(VMCS_PIN_CTLS) | PIN_PREEMPT_TIMER);
    vmcs_write(VMCS_PREEMPT_TIMER_VALUE, ticks);
    kprintf("cloud: cpu0 VMX-preemption timer every %u ms (%llu ticks, TSC >> %u) for background work\n",
            CORE_POLL_PERIOD_MS, (unsigned long long)ticks, shift);
}

static void cloud_run(unsigned cpu)
{
    while (!__atomic_load_n(&cloud.ready, __ATOMIC_ACQUIRE)) {
        if (cpu == 0)
            return;         /* cloud_setup declined (no VT-x): park */
        cpu_relax();
    }
    struct vcpu *v = &vcpus[cpu];
    v->cpu = cpu;
    v->bsp = cpu == 0;
    v->trace_left = boot_config()->trace_exits;
    if (!vmx_on(v))
        return;
    vmcs_setup_controls();
    vmcs_shadow_vcpu_init(v);
    if (v->bsp)
        poll_timer_setup();
    vmcs_setup_host(v);
    if (v->bsp) {
        /* Let every AP reach wait-for-SIPI before the cloud OS can send it INIT. */
        unsigned aps = cpu_online_count() - 1;
        while (__atomic_load_n(&cloud.launched, __ATOMIC_ACQUIRE) < aps)
            cpu_relax();
        int drive = boot_config()->boot_drive;
        uint16_t ip = bios_boot_ip(&cloud.bios, drive);
        vcpu_reset_real_mode(v, bios_boot_cs(&cloud.bios), ip, ACTIVITY_ACTIVE);
        if (drive < 0)
            kprintf("cloud: cpu0 enters the cloud VM at %04x:%04x (BIOS boot, INT 19h)\n",
                    bios_boot_cs(&cloud.bios), ip);
        else
            kprintf("cloud: cpu0 enters the cloud VM at %04x:%04x (booting drive 0x%x's MBR)\n",
                    bios_boot_cs(&cloud.bios), ip, drive);
    } else {
        vcpu_reset_real_mode(v, 0, 0, ACTIVITY_WAIT_SIPI);
        kprintf("cloud: cpu%u waits for SIPI in the cloud VM\n", cpu);
    }
    __atomic_fetch_add(&cloud.launched, 1, __ATOMIC_RELEASE);
    vmx_enter(v);
}
CORE_CPU_RUN(cloud_run);
