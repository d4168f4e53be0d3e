/*
 * Nested VM entry and exit (first cut). VMCS02 = VMCS12's controls and guest
 * state plus what L0 must keep: external-interrupt and NMI exiting, CR0.NE
 * and CR4.VMXE set, L0's MSR traps, its own EPT02 and VPID. The CPU checks
 * VMCS12's guest state when it enters VMCS02; a failure there comes back as
 * a VM-entry failure and is reflected to L1 like any other exit.
 * Every L2 exit goes to L1 except EPT02 fills and L0's virtual INIT.
 */
#include "core/hw.h"
#include "core/layout.h"
#include "core/libc.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/region.h"
#include "vmx/cloud.h"
#include "vmx/ept.h"
#include "vmx/ept02.h"
#include "vmx/guest.h"
#include "vmx/lapic.h"
#include "vmx/nested.h"
#include "vmx/nested_exits.h"
#include "vmx/passthrough.h"
#include "core/cmdline.h"
#include "core/devhide.h"
#include "vmx/vmcs12.h"
#include "vmx/vmx_hw.h"
#include "vmx/vmx_msr.h"

#define CR0_NE      (1ULL << 5)
#define CR4_VMXE    (1ULL << 13)
#define L2_VPID     2

/* Guest-state fields copied VMCS12 -> VMCS02 on entry and back on exit. */
static const uint32_t guest_fields[] = {
    VMCS_GUEST_ES_SEL, VMCS_GUEST_CS_SEL, VMCS_GUEST_SS_SEL, VMCS_GUEST_DS_SEL,
    VMCS_GUEST_FS_SEL, VMCS_GUEST_GS_SEL, VMCS_GUEST_LDTR_SEL, VMCS_GUEST_TR_SEL,
    VMCS_GUEST_DEBUGCTL, VMCS_GUEST_PDPTE0, VMCS_GUEST_PDPTE1, VMCS_GUEST_PDPTE2, VMCS_GUEST_PDPTE3,
    VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_DS_LIMIT,
    VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT, VMCS_GUEST_LDTR_LIMIT, VMCS_GUEST_TR_LIMIT,
    VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_LIMIT,
    VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR, VMCS_GUEST_SS_AR, VMCS_GUEST_DS_AR,
    VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR, VMCS_GUEST_LDTR_AR, VMCS_GUEST_TR_AR,
    VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_SYSENTER_CS,
    VMCS_GUEST_CR3, VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
    VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE, VMCS_GUEST_LDTR_BASE,
    VMCS_GUEST_TR_BASE, VMCS_GUEST_GDTR_BASE, VMCS_GUEST_IDTR_BASE, VMCS_GUEST_DR7,
    VMCS_GUEST_RSP, VMCS_GUEST_RIP, VMCS_GUEST_RFLAGS, VMCS_GUEST_PENDING_DBG,
    VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP,
};

static uint64_t g12(struct nested_vcpu *n, uint32_t f)
{
    uint64_t v = 0;
    vmcs12_get(n, f, &v);
    return v;
}

static uint64_t page_zalloc(void)
{
    uint64_t p = palloc_alloc(&region_pages, 1, 1);
    if (p != PALLOC_FAIL)
        memset((void *)(uintptr_t)p, 0, PAGE_SIZE);
    return p;
}

/* ------------------------------------------------------------------ EPT02 */

static int read_l1(void *ctx, uint64_t l1pa, void *buf, size_t n)
{
    (void)ctx;
    return guest_read_phys(l1pa, buf, n);
}

/* EPT02 hides what EPT01 hides; its tables come from the region. */
static bool l1_hole(uint64_t base, uint64_t len) { return devhide_overlaps(base, len, false); }

static struct ept02_env l1_env(void)
{
    return (struct ept02_env){ read_l1, NULL, region.base, region.size, lapic_guest_page(), &region_pages,
                               cloud.ept01_limit, l1_hole };
}

int nested_l2_phys_io(struct vcpu *v, uint64_t gpa, void *buf, size_t n, bool write)
{
    uint8_t *b = buf;
    struct ept02_env env = l1_env();
    while (n > 0) {
        size_t chunk = 0x1000 - (gpa & 0xFFF);
        if (chunk > n)
            chunk = n;
        uint64_t vga = passthrough_vga_page(v->ept02_for, gpa);
        if (vga) {
            uint8_t *p = (uint8_t *)(uintptr_t)(vga + (gpa & 0xFFF));
            if (write)
                memcpy(p, b, chunk);
            else
                memcpy(b, p, chunk);
        } else {
            uint64_t l1pa, leaf;
            if (ept12_walk(&env, v->ept02_for, gpa, &l1pa, &leaf) != 0 ||
                !(leaf & (write ? EPT_W : EPT_R)) || l1_hole(l1pa, chunk) ||
                (env.l1_limit && l1pa + chunk > env.l1_limit))
                return -1;
            int r = write ? guest_write_phys(l1pa, b, chunk) : guest_read_phys(l1pa, b, chunk);
            if (r)
                return -1;
        }
        gpa += chunk;
        b += chunk;
        n -= chunk;
    }
    return 0;
}

void nested_flush_ept02(struct vcpu *v)
{
    if (!v->ept02_root)
        return;
    struct ept02_env env = l1_env();
    ept02_free_all(&env, &v->ept02_root);
    /* The CPU may cache translations of the old tables: invalidate all contexts. */
    struct { uint64_t eptp, zero; } desc = { 0, 0 };
    __asm__ volatile("invept %0, %1" :: "m"(desc), "r"(2ULL) : "cc", "memory");
}

/* ------------------------------------------------------------ L2 entry */

static uint32_t offered(uint32_t msr) { return (uint32_t)(cloud.caps.msr[msr - NESTED_MSR_FIRST] >> 32); }
static uint32_t required(uint32_t msr) { return (uint32_t)cloud.caps.msr[msr - NESTED_MSR_FIRST]; }

static bool ctl_ok(uint64_t v, uint32_t msr)
{
    return (v & required(msr)) == required(msr) && !(v & ~(uint64_t)offered(msr));
}

static unsigned check_controls(struct nested_vcpu *n)
{
    uint64_t pin = g12(n, VMCS_PIN_CTLS), proc = g12(n, VMCS_PROC_CTLS);
    uint64_t proc2 = (proc & PROCBASED_ACTIVATE_SECONDARY) ? g12(n, VMCS_PROC_CTLS2) : 0;
    if (!ctl_ok(pin, MSR_IA32_VMX_TRUE_PINBASED_CTLS) || !ctl_ok(proc, MSR_IA32_VMX_TRUE_PROCBASED_CTLS) ||
        !ctl_ok(proc2, MSR_IA32_VMX_PROCBASED_CTLS2) ||
        !ctl_ok(g12(n, VMCS_EXIT_CTLS), MSR_IA32_VMX_TRUE_EXIT_CTLS) ||
        !ctl_ok(g12(n, VMCS_ENTRY_CTLS), MSR_IA32_VMX_TRUE_ENTRY_CTLS))
        return VMXERR_ENTRY_BAD_CONTROLS;
    /* vsbypass's own limitation: L0 relies on L1 taking L2's interrupts and NMIs. */
    if ((pin & (PIN_EXT_INTR_EXIT | PIN_NMI_EXIT)) != (PIN_EXT_INTR_EXIT | PIN_NMI_EXIT)) {
        kprintf("nested: VMCS12 without external-interrupt and NMI exiting is not supported\n");
        return VMXERR_ENTRY_BAD_CONTROLS;
    }
    if (g12(n, VMCS_EXIT_MSR_STORE_COUNT) || g12(n, VMCS_EXIT_MSR_LOAD_COUNT) ||
        g12(n, VMCS_ENTRY_MSR_LOAD_COUNT)) {
        kprintf("nested: VMCS12 MSR load/store lists are not supported yet\n");
        return VMXERR_ENTRY_BAD_CONTROLS;
    }
    if (g12(n, VMCS_CR3_TARGET_COUNT))
        return VMXERR_ENTRY_BAD_CONTROLS;   /* no CR3-target values are offered */
    return 0;
}

static bool canonical(uint64_t a) { return (uint64_t)((int64_t)(a << 16) >> 16) == a; }

static bool pat_valid(uint64_t pat)
{
    for (unsigned i = 0; i < 8; i++) {
        unsigned t = (pat >> (8 * i)) & 0xFF;
        if (t != 0 && t != 1 && t != 4 && t != 5 && t != 6 && t != 7)
            return false;
    }
    return true;
}

/* SDM "Checks on Host Control Registers, MSRs, and Segment and Descriptor-
 * Table Registers": what VMCS12's host area must satisfy before L1 may be
 * loaded from it at a nested VM exit. */
static unsigned check_host_state(struct nested_vcpu *n)
{
    const struct nested_caps *c = &cloud.caps;
    uint64_t f0 = c->msr[MSR_IA32_VMX_CR0_FIXED0 - NESTED_MSR_FIRST], f1 = c->msr[MSR_IA32_VMX_CR0_FIXED1 - NESTED_MSR_FIRST];
    uint64_t g0 = c->msr[MSR_IA32_VMX_CR4_FIXED0 - NESTED_MSR_FIRST], g1 = c->msr[MSR_IA32_VMX_CR4_FIXED1 - NESTED_MSR_FIRST];
    uint64_t cr0 = g12(n, VMCS_HOST_CR0), cr4 = g12(n, VMCS_HOST_CR4);
    uint64_t exit12 = g12(n, VMCS_EXIT_CTLS);
    bool lm = exit12 & EXIT_HOST_ADDR_SPACE_SIZE;
    unsigned phys = cpuid(0x80000008, 0).eax & 0xFF;
    bool ok = (cr0 & f0) == f0 && !(cr0 & ~f1) && (cr4 & g0) == g0 && !(cr4 & ~g1) &&
              !(g12(n, VMCS_HOST_CR3) >> phys);
    /* L1 runs in IA-32e mode, so its host state must be 64-bit too. */
    ok = ok && (!(vmcs_read(VMCS_GUEST_EFER) & EFER_LMA) || lm);
    ok = ok && (!lm || ((cr4 & (1ULL << 5)) && canonical(g12(n, VMCS_HOST_RIP))));
    static const uint32_t sels[] = { VMCS_HOST_ES_SEL, VMCS_HOST_CS_SEL, VMCS_HOST_SS_SEL, VMCS_HOST_DS_SEL,
                                     VMCS_HOST_FS_SEL, VMCS_HOST_GS_SEL, VMCS_HOST_TR_SEL };
    for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++)
        ok = ok && !(g12(n, sels[i]) & 7);              /* RPL 0, GDT */
    ok = ok && g12(n, VMCS_HOST_CS_SEL) && g12(n, VMCS_HOST_TR_SEL) && (lm || g12(n, VMCS_HOST_SS_SEL));
    static const uint32_t bases[] = { VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE, VMCS_HOST_TR_BASE,
                                      VMCS_HOST_GDTR_BASE, VMCS_HOST_IDTR_BASE,
                                      VMCS_HOST_SYSENTER_ESP, VMCS_HOST_SYSENTER_EIP };
    for (unsigned i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
        ok = ok && canonical(g12(n, bases[i]));
    if (exit12 & EXIT_LOAD_PAT)
        ok = ok && pat_valid(g12(n, VMCS_HOST_PAT));
    if (exit12 & EXIT_LOAD_EFER) {
        uint64_t efer = g12(n, VMCS_HOST_EFER);
        ok = ok && !(efer & ~(1ULL | EFER_LME | EFER_LMA | EFER_NXE)) &&
             !!(efer & EFER_LMA) == lm && !!(efer & EFER_LME) == lm;
    }
    return ok ? 0 : VMXERR_ENTRY_BAD_HOST_STATE;
}

/* The MSR bitmap for L2: L1's wishes plus every MSR L0 traps for itself. */
static bool build_msr_bitmap(struct vcpu *v, struct nested_vcpu *n, bool use12)
{
    if (!v->msr_bitmap02 && (v->msr_bitmap02 = page_zalloc()) == PALLOC_FAIL) {
        v->msr_bitmap02 = 0;
        return false;
    }
    uint8_t *b = (uint8_t *)(uintptr_t)v->msr_bitmap02;
    if (!use12)
        memset(b, 0xFF, PAGE_SIZE);     /* L1 traps every MSR */
    else if (guest_read_phys(g12(n, VMCS_MSR_BITMAP) & EPT_ADDR, b, PAGE_SIZE))
        return false;
    const uint8_t *l0 = (const uint8_t *)(uintptr_t)cloud.msr_bitmap_pa;
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        b[i] |= l0[i];
    return true;
}

/* I/O bitmaps for L2: L1's when it uses them, plus the ports vsbypass owns. */
static bool build_io_bitmaps(struct vcpu *v, struct nested_vcpu *n, uint64_t proc12)
{
    for (int i = 0; i < 2; i++)
        if (!v->io_bitmap02[i] && (v->io_bitmap02[i] = page_zalloc()) == PALLOC_FAIL) {
            v->io_bitmap02[i] = 0;
            return false;
        }
    uint8_t *a = (uint8_t *)(uintptr_t)v->io_bitmap02[0], *b = (uint8_t *)(uintptr_t)v->io_bitmap02[1];
    if (proc12 & PROC_USE_IO_BITMAPS) {
        if (guest_read_phys(g12(n, VMCS_IO_BITMAP_A) & EPT_ADDR, a, PAGE_SIZE) ||
            guest_read_phys(g12(n, VMCS_IO_BITMAP_B) & EPT_ADDR, b, PAGE_SIZE))
            return false;
    } else {
        memset(a, 0, PAGE_SIZE);
        memset(b, 0, PAGE_SIZE);
    }
    if (boot_config()->passthrough)
        passthrough_mark_ports(a);
    v->l0_intr_window = false;
    return true;
}

static void write_controls(struct vcpu *v, struct nested_vcpu *n)
{
    bool tru = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS;
    uint64_t proc12 = g12(n, VMCS_PROC_CTLS);
    uint32_t proc2 = (proc12 & PROCBASED_ACTIVATE_SECONDARY) ? (uint32_t)g12(n, VMCS_PROC_CTLS2) : 0;
    vmcs_write(VMCS_PIN_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
                                             (uint32_t)g12(n, VMCS_PIN_CTLS), PIN_NMI_EXIT, "VMCS02 pin"));
    /* Unconditional I/O exiting stays as L1 set it; otherwise merged bitmaps. */
    uint32_t io = (proc12 & PROC_UNCOND_IO_EXIT) ? 0 : PROC_USE_IO_BITMAPS;
    vmcs_write(VMCS_PROC_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
                                              (uint32_t)proc12 | io | PROC_USE_MSR_BITMAPS |
                                              PROCBASED_ACTIVATE_SECONDARY, 0, "VMCS02 proc"));
    /* EPT is always on in VMCS02: EPT02 shadows EPT12, or is EPT01 without it. */
    vmcs_write(VMCS_PROC_CTLS2, vmx_ctl_adjust(MSR_IA32_VMX_PROCBASED_CTLS2,
                                               proc2 | PROCBASED2_ENABLE_EPT | PROCBASED2_ENABLE_VPID,
                                               0, "VMCS02 proc2"));
    uint32_t exit12 = (uint32_t)g12(n, VMCS_EXIT_CTLS);
    vmcs_write(VMCS_EXIT_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
                                              EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
                                              EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG |
                                              (exit12 & EXIT_ACK_INTR_ON_EXIT), 0, "VMCS02 exit"));
    vmcs_write(VMCS_ENTRY_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
                                               (uint32_t)g12(n, VMCS_ENTRY_CTLS) | ENTRY_LOAD_EFER |
                                               ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG, 0, "VMCS02 entry"));
    vmcs_write(VMCS_EXCEPTION_BITMAP, g12(n, VMCS_EXCEPTION_BITMAP));
    vmcs_write(VMCS_PF_ERROR_MASK, g12(n, VMCS_PF_ERROR_MASK));
    vmcs_write(VMCS_PF_ERROR_MATCH, g12(n, VMCS_PF_ERROR_MATCH));
    vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_IO_BITMAP_A, v->io_bitmap02[0]);
    vmcs_write(VMCS_IO_BITMAP_B, v->io_bitmap02[1]);
    vmcs_write(VMCS_MSR_BITMAP, v->msr_bitmap02);
    vmcs_write(VMCS_TSC_OFFSET, g12(n, VMCS_TSC_OFFSET));
    vmcs_write(VMCS_VPID, L2_VPID);
    vmcs_write(VMCS_ENTRY_INTR_INFO, g12(n, VMCS_ENTRY_INTR_INFO));
    vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, g12(n, VMCS_ENTRY_EXCEPTION_ERROR));
    vmcs_write(VMCS_ENTRY_INSTR_LEN, g12(n, VMCS_ENTRY_INSTR_LEN));
}

static void write_guest_state(struct vcpu *v, struct nested_vcpu *n)
{
    for (size_t i = 0; i < sizeof(guest_fields) / sizeof(guest_fields[0]); i++)
        vmcs_write(guest_fields[i], g12(n, guest_fields[i]));
    uint64_t entry12 = g12(n, VMCS_ENTRY_CTLS);
    vmcs_write(VMCS_GUEST_EFER, (entry12 & ENTRY_LOAD_EFER) ? g12(n, VMCS_GUEST_EFER) :
               vmcs_read(VMCS_GUEST_EFER));
    vmcs_write(VMCS_GUEST_PAT, (entry12 & ENTRY_LOAD_PAT) ? g12(n, VMCS_GUEST_PAT) : rdmsr(0x277));
    vmcs_write(VMCS_LINK_POINTER, ~0ULL);
    /* CR0.NE and CR4.VMXE stay set; L2 sees its own values through the shadows. */
    uint64_t cr0 = g12(n, VMCS_GUEST_CR0), cr4 = g12(n, VMCS_GUEST_CR4);
    uint64_t m0 = g12(n, VMCS_CR0_MASK), m4 = g12(n, VMCS_CR4_MASK);
    v->l2_cr0_ne = cr0 & CR0_NE;
    v->l2_cr4_vmxe = cr4 & CR4_VMXE;
    vmcs_write(VMCS_GUEST_CR0, cr0 | CR0_NE);
    vmcs_write(VMCS_GUEST_CR4, cr4 | CR4_VMXE);
    vmcs_write(VMCS_CR0_MASK, m0 | CR0_NE);
    vmcs_write(VMCS_CR4_MASK, m4 | CR4_VMXE);
    vmcs_write(VMCS_CR0_SHADOW, (g12(n, VMCS_CR0_SHADOW) & m0) | (cr0 & ~m0));
    vmcs_write(VMCS_CR4_SHADOW, (g12(n, VMCS_CR4_SHADOW) & m4) | (cr4 & ~m4));
}

unsigned nested_enter_l2(struct vcpu *v, struct nested_vcpu *n, bool launch)
{
    int state = vmcs12_launch_state(n);
    if (launch && state)
        return VMXERR_VMLAUNCH_NOT_CLEAR;
    if (!launch && !state)
        return VMXERR_VMRESUME_NOT_LAUNCHED;
    if (vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & INTERRUPTIBILITY_MOV_SS)
        return VMXERR_ENTRY_EVENTS_BLOCKED_MOVSS;
    unsigned err = check_controls(n);
    if (!err)
        err = check_host_state(n);
    if (err)
        return err;
    uint64_t proc12 = g12(n, VMCS_PROC_CTLS);
    uint64_t proc2 = (proc12 & PROCBASED_ACTIVATE_SECONDARY) ? g12(n, VMCS_PROC_CTLS2) : 0;
    if (!build_msr_bitmap(v, n, proc12 & PROC_USE_MSR_BITMAPS) || !build_io_bitmaps(v, n, proc12))
        return VMXERR_ENTRY_BAD_CONTROLS;
    if (!v->vmcs02_pa) {
        if ((v->vmcs02_pa = page_zalloc()) == PALLOC_FAIL)
            panic("nested: no memory for a VMCS02");
        *(uint32_t *)(uintptr_t)v->vmcs02_pa = VMX_BASIC_REVISION(rdmsr(MSR_IA32_VMX_BASIC));
    }
    /* Without EPT12, L2 addresses are L1's: EPT02 maps them 1:1 (key = VMCS12). */
    uint64_t eptp12 = (proc2 & PROCBASED2_ENABLE_EPT) ? g12(n, VMCS_EPT_POINTER) : n->current_ptr | 1;
    if (eptp12 != v->ept02_for) {
        nested_flush_ept02(v);
        v->ept02_for = eptp12;
    }
    /* L1 stays at its VMLAUNCH in VMCS01; L2 runs on a fresh VMCS02. */
    v->launched01 = v->launched;
    if (vmclear(v->vmcs02_pa) || vmptrld(v->vmcs02_pa))
        panic("nested: VMCLEAR/VMPTRLD of VMCS02 failed");
    v->launched = 0;
    write_controls(v, n);
    vmx_write_host_state(v);
    write_guest_state(v, n);
    if (!v->ept02_root && (v->ept02_root = page_zalloc()) == PALLOC_FAIL)
        panic("nested: no memory for EPT02");
    vmcs_write(VMCS_EPT_POINTER, v->ept02_root | EPTP_WB_4LEVEL);
    /* L2 gets one VPID for every L2: flush it so no translation leaks between them. */
    struct { uint64_t vpid, addr; } desc = { L2_VPID, 0 };
    __asm__ volatile("invvpid %0, %1" :: "m"(desc), "r"(1ULL) : "cc", "memory");
    vmcs12_set_launch_state(n, 1);
    vmcs12_set(n, VMCS_ENTRY_INTR_INFO, g12(n, VMCS_ENTRY_INTR_INFO) & ~(uint64_t)INTR_INFO_VALID);
    v->vmcs02_for = n->current_ptr;
    v->in_l2 = true;
    passthrough_deliver(v, v->ept02_for);
    if (v->rt_open && v->rt_reason < EXIT_REASON_MAX) {
        v->rt_count[v->rt_reason]++;
        v->rt_l0_exits[v->rt_reason] += v->rt_exits;
        v->rt_ticks[v->rt_reason] += rdtsc() - v->rt_start;
    }
    v->rt_open = false;
    return 0;
}

/* ------------------------------------------------------------- L2 exits */

/* Loads L1's state from VMCS12's host-state area (SDM "Loading Host State"). */
static void load_l1_host_state(struct nested_vcpu *n)
{
    uint64_t exit12 = g12(n, VMCS_EXIT_CTLS);
    bool lm = exit12 & EXIT_HOST_ADDR_SPACE_SIZE;
    uint64_t cr0 = g12(n, VMCS_HOST_CR0), cr4 = g12(n, VMCS_HOST_CR4);
    vmcs_write(VMCS_GUEST_CR0, cr0 | CR0_NE);
    vmcs_write(VMCS_CR0_SHADOW, cr0);
    vmcs_write(VMCS_GUEST_CR3, g12(n, VMCS_HOST_CR3));
    vmcs_write(VMCS_GUEST_CR4, cr4 | CR4_VMXE);
    vmcs_write(VMCS_CR4_SHADOW, cr4 | CR4_VMXE);   /* L1 is in VMX operation */
    vmcs_write(VMCS_GUEST_RSP, g12(n, VMCS_HOST_RSP));
    vmcs_write(VMCS_GUEST_RIP, g12(n, VMCS_HOST_RIP));
    vmcs_write(VMCS_GUEST_RFLAGS, 0x2);
    vmcs_write(VMCS_GUEST_DR7, 0x400);
    vmcs_write(VMCS_GUEST_DEBUGCTL, 0);
    static const uint32_t sel12[] = { VMCS_HOST_ES_SEL, VMCS_HOST_CS_SEL, VMCS_HOST_SS_SEL,
                                      VMCS_HOST_DS_SEL, VMCS_HOST_FS_SEL, VMCS_HOST_GS_SEL };
    for (unsigned s = 0; s < 6; s++) {
        uint16_t sel = (uint16_t)g12(n, sel12[s]);
        uint32_t ar = s == 1 ? (lm ? 0xA09B : 0xC09B) : (sel ? 0xC093 : 0x10000);
        uint64_t base = s == 4 ? g12(n, VMCS_HOST_FS_BASE) : s == 5 ? g12(n, VMCS_HOST_GS_BASE) : 0;
        vmcs_write(VMCS_GUEST_ES_SEL + 2 * s, sel);
        vmcs_write(VMCS_GUEST_ES_BASE + 2 * s, base);
        vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * s, 0xFFFFFFFF);
        vmcs_write(VMCS_GUEST_ES_AR + 2 * s, ar);
    }
    vmcs_write(VMCS_GUEST_TR_SEL, g12(n, VMCS_HOST_TR_SEL));
    vmcs_write(VMCS_GUEST_TR_BASE, g12(n, VMCS_HOST_TR_BASE));
    vmcs_write(VMCS_GUEST_TR_LIMIT, 0x67);
    vmcs_write(VMCS_GUEST_TR_AR, 0x8B);
    vmcs_write(VMCS_GUEST_LDTR_SEL, 0);
    vmcs_write(VMCS_GUEST_LDTR_AR, 0x10000);
    vmcs_write(VMCS_GUEST_GDTR_BASE, g12(n, VMCS_HOST_GDTR_BASE));
    vmcs_write(VMCS_GUEST_GDTR_LIMIT, 0xFFFF);
    vmcs_write(VMCS_GUEST_IDTR_BASE, g12(n, VMCS_HOST_IDTR_BASE));
    vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0xFFFF);
    vmcs_write(VMCS_GUEST_SYSENTER_CS, g12(n, VMCS_HOST_SYSENTER_CS));
    vmcs_write(VMCS_GUEST_SYSENTER_ESP, g12(n, VMCS_HOST_SYSENTER_ESP));
    vmcs_write(VMCS_GUEST_SYSENTER_EIP, g12(n, VMCS_HOST_SYSENTER_EIP));
    uint64_t efer = (exit12 & EXIT_LOAD_EFER) ? g12(n, VMCS_HOST_EFER) : vmcs_read(VMCS_GUEST_EFER);
    efer = lm ? efer | EFER_LME | EFER_LMA : efer & ~(uint64_t)(EFER_LME | EFER_LMA);
    vmcs_write(VMCS_GUEST_EFER, efer);
    if (exit12 & EXIT_LOAD_PAT)
        vmcs_write(VMCS_GUEST_PAT, g12(n, VMCS_HOST_PAT));
    uint64_t entry01 = vmcs_read(VMCS_ENTRY_CTLS);
    vmcs_write(VMCS_ENTRY_CTLS, lm ? entry01 | ENTRY_IA32E_MODE : entry01 & ~(uint64_t)ENTRY_IA32E_MODE);
    vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
    vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
    vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
    vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
}

/* Ends L2: saves its state and the exit information into VMCS12 and
 * continues L1 at VMCS12's host RIP. */
static void reflect_exit(struct vcpu *v, struct nested_vcpu *n, uint32_t reason)
{
    static const uint32_t exit_info[] = {
        VMCS_EXIT_QUALIFICATION, VMCS_EXIT_INTR_INFO, VMCS_EXIT_INTR_ERROR,
        VMCS_IDT_VECTORING_INFO, VMCS_IDT_VECTORING_ERROR, VMCS_EXIT_INSTR_LEN,
        VMCS_EXIT_INSTR_INFO, VMCS_GUEST_LINEAR_ADDR, VMCS_GUEST_PHYS_ADDR,
    };
    for (size_t i = 0; i < sizeof(guest_fields) / sizeof(guest_fields[0]); i++)
        vmcs12_set(n, guest_fields[i], vmcs_read(guest_fields[i]));
    for (size_t i = 0; i < sizeof(exit_info) / sizeof(exit_info[0]); i++)
        vmcs12_set(n, exit_info[i], vmcs_read(exit_info[i]));
    vmcs12_set(n, VMCS_EXIT_REASON, reason);
    uint64_t cr0 = vmcs_read(VMCS_GUEST_CR0), cr4 = vmcs_read(VMCS_GUEST_CR4);
    vmcs12_set(n, VMCS_GUEST_CR0, v->l2_cr0_ne ? cr0 : cr0 & ~CR0_NE);
    vmcs12_set(n, VMCS_GUEST_CR4, v->l2_cr4_vmxe ? cr4 : cr4 & ~CR4_VMXE);
    uint64_t exit12 = g12(n, VMCS_EXIT_CTLS);
    if (exit12 & EXIT_SAVE_EFER)
        vmcs12_set(n, VMCS_GUEST_EFER, vmcs_read(VMCS_GUEST_EFER));
    if (exit12 & EXIT_SAVE_PAT)
        vmcs12_set(n, VMCS_GUEST_PAT, vmcs_read(VMCS_GUEST_PAT));
    uint64_t entry12 = g12(n, VMCS_ENTRY_CTLS) & ~(uint64_t)ENTRY_IA32E_MODE;
    if (vmcs_read(VMCS_ENTRY_CTLS) & ENTRY_IA32E_MODE)
        entry12 |= ENTRY_IA32E_MODE;
    vmcs12_set(n, VMCS_ENTRY_CTLS, entry12);
    if (vmptrld(v->vmcs_pa))
        panic("nested: VMPTRLD of VMCS01 failed");
    v->launched02 = v->launched;
    v->launched = v->launched01;
    v->in_l2 = false;
    load_l1_host_state(n);
    v->rt_open = true;
    v->rt_reason = reason & 0xFFFF;
    v->rt_start = rdtsc();
    v->rt_exits = 1;        /* the L2 exit itself */
    if (v->rt_reason == EXIT_REASON_IO)
        v->l2_io_reflected++;
}

static void handle_ept_violation(struct vcpu *v, struct nested_vcpu *n)
{
    uint64_t gpa = vmcs_read(VMCS_GUEST_PHYS_ADDR), q = vmcs_read(VMCS_EXIT_QUALIFICATION);
    struct ept02_env env = l1_env();
    /* The user VM's video memory lives in vsbypass, whatever EPT12 says. */
    uint64_t vga = passthrough_vga_page(v->ept02_for, gpa);
    if (vga) {
        if (!ept02_map(&env, &v->ept02_root, gpa, vga, EPT_R | EPT_W | (EPT_MT_WB << EPT_MT_SHIFT)))
            cloud_stop(v, "out of region memory for EPT02");
        return;
    }
    uint64_t leaf12, l1pa;
    switch (ept02_fill(&env, &v->ept02_root, v->ept02_for, gpa, q & 7, &leaf12)) {
    case EPT02_MAPPED:
        return;
    case EPT02_MISCONFIG:
        reflect_exit(v, n, EXIT_REASON_EPT_MISCONFIG);
        return;
    case EPT02_NOT_PRESENT:
    case EPT02_DENIED:
        /* Report L1's permissions for the address, as the CPU would (bits 5:3). */
        vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
        reflect_exit(v, n, EXIT_REASON_EPT_VIOLATION);
        vmcs12_set(n, VMCS_EXIT_QUALIFICATION, (q & ~0x38ULL) | (leaf12 & EPT_RWX) << 3);
        return;
    case EPT02_HIDDEN:
        ept12_walk(&env, v->ept02_for, gpa, &l1pa, &leaf12);     /* for the message only */
        kprintf("nested: EPT12 maps L2 0x%llx to L1 0x%llx, inside vsbypass's region: stopping\n",
                (unsigned long long)gpa, (unsigned long long)l1pa);
        cloud_stop(v, "EPT12 aimed at the hypervisor region");
    case EPT02_NOMEM:
        cloud_stop(v, "out of region memory for EPT02");
    case EPT02_OUTSIDE:
        kprintf("nested: EPT12 maps L2 0x%llx past L1's memory or onto a device vsbypass keeps\n",
                (unsigned long long)gpa);
        cloud_stop(v, "EPT12 aimed at memory the cloud VM cannot reach");
    case EPT02_RO_WRITE:
        cloud_stop(v, "L2 writes L1's local APIC page through EPT12 (not supported)");
    }
}

/*
 * An exit that vsbypass handles itself can interrupt the delivery of an
 * event to L2 (an EPT02 fill while pushing an interrupt frame, say): the
 * event is in the IDT-vectoring information and must be delivered again,
 * or it is lost (an L1 interrupt, an exception, or a shadow-device IRQ).
 */
static void reinject_vectoring(void)
{
    uint32_t idt = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO);
    if (!(idt & INTR_INFO_VALID))
        return;
    vmcs_write(VMCS_ENTRY_INTR_INFO, idt & ~(1u << 12));   /* bit 12 is undefined for entry */
    if (idt & INTR_INFO_DELIVER_ERROR)
        vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, vmcs_read(VMCS_IDT_VECTORING_ERROR));
    vmcs_write(VMCS_ENTRY_INSTR_LEN, vmcs_read(VMCS_EXIT_INSTR_LEN));
}

void nested_l2_exit(struct vcpu *v, unsigned reason)
{
    struct nested_vcpu *n = nested_vcpu_of(v->cpu);
    uint32_t full = (uint32_t)vmcs_read(VMCS_EXIT_REASON);
    bool l0 = (reason == EXIT_REASON_IO && (passthrough_io(v, v->ept02_for) ||
                                             passthrough_pic_io(v, v->ept02_for))) ||
              (reason == EXIT_REASON_INTR_WINDOW &&
               passthrough_intr_window(v, v->ept02_for, g12(n, VMCS_PROC_CTLS) & PROC_INTR_WINDOW_EXIT));
    if (reason == EXIT_REASON_EPT_VIOLATION) {
        handle_ept_violation(v, n);
        l0 = v->in_l2;          /* handled here (not reflected): L2 resumes */
        if (!l0)
            return;
    }
    if (l0) {
        reinject_vectoring();
        passthrough_deliver(v, v->ept02_for);
        return;
    }
    if (reason == EXIT_REASON_EPT_MISCONFIG) {
        vmcs_dump();
        panic("nested: EPT misconfiguration in EPT02 at 0x%llx", (unsigned long long)vmcs_read(VMCS_GUEST_PHYS_ADDR));
    }
    if (reason == EXIT_REASON_EXCEPTION_NMI && v->init_pending &&
        (vmcs_read(VMCS_EXIT_INTR_INFO) & 0x700) == INTR_TYPE_NMI) {
        /* L0's virtual INIT for this CPU: L2 ends with L1 going to wait-for-SIPI. */
        reflect_exit(v, n, reason);
        lapic_nmi_exit(v);
        return;
    }
    if (full & EXIT_REASON_ENTRY_FAILURE_BIT)
        vmcs12_set_launch_state(n, 0);  /* a failed VMLAUNCH leaves the VMCS clear */
    reflect_exit(v, n, full);
}
