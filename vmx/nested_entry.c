/*
 * Nested VM entry and exit (first cut). VMCS02 = VMCS12's controls and guest
 * state plus what L0 must keep: external-interrupt and NMI exiting, CR0.NE
 * and CR4.VMXE set, L0's MSR traps, its own EPT02 and VPID. The CPU checks
 * VMCS12's guest state when it enters VMCS02; a failure there comes back as
 * a VM-entry failure and is reflected to L1 like any other exit.
 * Every L2 exit goes to L1 except EPT02 fills and L0's virtual INIT.
 */
#include "core/cpu.h"
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
#include "vmx/vmcs_shadow.h"
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
        uint64_t vga = passthrough_vga_page(v, gpa);
        if (!vga && passthrough_vga_trapped(v, gpa))
            return -1;          /* VGA memory served by the model only */
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

void nested_ept02_unmap(struct vcpu *v, uint64_t gpa, unsigned pages)
{
    if (!v->ept02_root)
        return;
    struct ept02_env env = l1_env();
    for (unsigned i = 0; i < pages; i++)
        ept02_map(&env, &v->ept02_root, gpa + (uint64_t)i * PAGE_SIZE, 0, 0);
    struct { uint64_t eptp, zero; } desc = { 0, 0 };
    __asm__ volatile("invept %0, %1" :: "m"(desc), "r"(2ULL) : "cc", "memory");
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

/* ------------------------------------------------------------ MSR lists */

/*
 * VMCS12's MSR lists (SDM "Loading MSRs" at entry, "Saving MSRs" and
 * "Loading MSRs" at exit): 16-byte entries in L1 memory, index in bits
 * 31:0, bits 63:32 reserved, the value in the second quadword. An MSR whose
 * guest value lives in the VMCS (EFER, PAT, DEBUGCTL, SYSENTER, the FS/GS
 * bases) is read or written there - VMCS02 for L2, VMCS01 for L1; the MSRs
 * vsbypass traps for the cloud VM read as it emulates them and cannot be
 * written; every other MSR the cloud VM reaches directly anyway, and is
 * read or written on the CPU with a #GP caught (core/msr_safe.S).
 */
#define MSR_LIST_MAX    512     /* IA32_VMX_MISC bits 27:25 offer 0: 512 entries */

static const struct { uint32_t msr, field; } vmcs_msrs[] = {
    { MSR_EFER, VMCS_GUEST_EFER }, { 0x277, VMCS_GUEST_PAT }, { 0x1D9, VMCS_GUEST_DEBUGCTL },
    { 0x174, VMCS_GUEST_SYSENTER_CS }, { 0x175, VMCS_GUEST_SYSENTER_ESP },
    { 0x176, VMCS_GUEST_SYSENTER_EIP }, { MSR_FS_BASE, VMCS_GUEST_FS_BASE },
    { MSR_GS_BASE, VMCS_GUEST_GS_BASE },
};

static uint32_t vmcs_msr_field(uint32_t msr)
{
    for (unsigned i = 0; i < sizeof(vmcs_msrs) / sizeof(vmcs_msrs[0]); i++)
        if (vmcs_msrs[i].msr == msr)
            return vmcs_msrs[i].field;
    return 0;
}

/* Count and address of a list as the entry checks want them: 16-byte
 * aligned, inside the physical-address width, last byte included. */
static bool msr_list_placed(struct nested_vcpu *n, uint32_t count_f, uint32_t addr_f)
{
    uint64_t count = g12(n, count_f), addr = g12(n, addr_f);
    unsigned phys = cpuid(0x80000008, 0).eax & 0xFF;
    if (!count)
        return true;
    bool ok = !(addr & 0xF) && !(addr >> phys) && !((addr + count * 16 - 1) >> phys);
    if (!ok)
        kprintf("nested: VMCS12 MSR list at 0x%llx (%llu entries) is misplaced\n",
                (unsigned long long)addr, (unsigned long long)count);
    return ok;
}

/* Whether a load list may name this MSR (SDM: not the FS/GS bases, not
 * the x2APIC range, not the SMM-only or microcode-update MSRs). */
static bool msr_loadable(uint32_t msr)
{
    return msr != MSR_FS_BASE && msr != MSR_GS_BASE && (msr >> 8) != 0x8 &&
           msr != 0x9B && msr != 0x9E && msr != 0x79;
}

/* Loads one entry into the VMCS that is current (VMCS02 at entry, VMCS01
 * at exit) or the CPU; false where the SDM makes the load fail. */
static bool msr_load_one(uint32_t msr, uint64_t val)
{
    uint32_t f = vmcs_msr_field(msr);
    uint64_t dummy;
    if (f) {
        bool ok = f == VMCS_GUEST_EFER ? !(val & ~(uint64_t)(1 | EFER_LME | EFER_LMA | EFER_NXE))
                : f == VMCS_GUEST_PAT ? pat_valid(val)
                : f == VMCS_GUEST_DEBUGCTL ? !(val >> 16)
                : f == VMCS_GUEST_SYSENTER_CS ? !(val >> 32)
                : canonical(val);
        if (ok)
            vmcs_write(f, val);
        return ok;
    }
    if (cloud_msr_emulated(msr, &dummy) >= 0)
        return false;               /* trapped for the cloud VM: WRMSR would #GP */
    return msr_write_safe(msr, val) == 0;
}

/* Processes a load list; 0, or the 1-based index of the entry that failed. */
static uint64_t msr_list_load(uint64_t addr, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        uint64_t e[2];
        if (i >= MSR_LIST_MAX || guest_read_phys(addr + 16 * i, e, sizeof(e)))
            return i + 1;
        uint32_t msr = (uint32_t)e[0];
        if ((e[0] >> 32) || !msr_loadable(msr) || !msr_load_one(msr, e[1])) {
            kprintf("nested: MSR list entry %llu (MSR 0x%x, value 0x%llx) cannot be loaded\n",
                    (unsigned long long)(i + 1), msr, (unsigned long long)e[1]);
            return i + 1;
        }
    }
    return 0;
}

/* Stores L2's MSRs at an exit, VMCS02 current; false: the SDM's VMX abort. */
static bool msr_list_store(uint64_t addr, uint64_t count)
{
    for (uint64_t i = 0; i < count; i++) {
        uint64_t e[2];
        if (i >= MSR_LIST_MAX || guest_read_phys(addr + 16 * i, e, sizeof(e)))
            return false;
        uint32_t msr = (uint32_t)e[0], f = vmcs_msr_field(msr);
        if ((e[0] >> 32) || (msr >> 8) == 0x8 || msr == 0x9E)
            return false;
        if (f) {
            e[1] = vmcs_read(f);
        } else {
            int trapped = cloud_msr_emulated(msr, &e[1]);     /* 0: emulated value */
            if (trapped > 0 || (trapped < 0 && msr_read_safe(msr, &e[1])))
                return false;
        }
        if (guest_write_phys(addr + 16 * i + 8, &e[1], 8))
            return false;
    }
    return true;
}

/* VMX abort (SDM): the indicator goes into the VMCS region and the logical
 * processor shuts down - for the cloud VM, as a triple fault would. */
static _Noreturn void vmx_abort(struct vcpu *v, struct nested_vcpu *n, uint32_t indicator, const char *what)
{
    memcpy(n->vmcs12 + VMCS12_ABORT_OFF, &indicator, sizeof(indicator));
    guest_write_phys(n->current_ptr + VMCS12_ABORT_OFF, &indicator, sizeof(indicator));
    kprintf("nested: cpu%u: VMX abort %u (%s)\n", v->cpu, indicator, what);
    cloud_stop(v, "VMX abort at a nested VM exit");
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
    if (!msr_list_placed(n, VMCS_EXIT_MSR_STORE_COUNT, VMCS_EXIT_MSR_STORE_ADDR) ||
        !msr_list_placed(n, VMCS_EXIT_MSR_LOAD_COUNT, VMCS_EXIT_MSR_LOAD_ADDR) ||
        !msr_list_placed(n, VMCS_ENTRY_MSR_LOAD_COUNT, VMCS_ENTRY_MSR_LOAD_ADDR))
        return VMXERR_ENTRY_BAD_CONTROLS;
    if (g12(n, VMCS_CR3_TARGET_COUNT))
        return VMXERR_ENTRY_BAD_CONTROLS;   /* no CR3-target values are offered */
    return 0;
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

/*
 * VMCS02 is kept from one entry to the next. vmcs12_seen holds VMCS12's
 * slots as VMCS02 last took them: a field is written into VMCS02 again
 * only when VMCS12's slot differs, and a reflected exit, which copies
 * VMCS02's guest state into VMCS12, brings both sides back into agreement.
 * VMLAUNCH, another VMCS12, VMCLEAR of this one and a failed entry start
 * over with a full build (vmcs02_ready false: every field differs).
 */
static uint8_t *seen(struct vcpu *v) { return (uint8_t *)(uintptr_t)v->vmcs12_seen_pa; }

/* Whether the field must be written into VMCS02; records it as taken. */
static bool take(struct vcpu *v, struct nested_vcpu *n, uint32_t f)
{
    int o = vmcs12_field_offset(f);
    if (o < 0)
        return false;
    if (v->vmcs02_ready && !memcmp(seen(v) + o, n->vmcs12 + o, 8))
        return false;
    memcpy(seen(v) + o, n->vmcs12 + o, 8);
    return true;
}

/* Whether any of the fields changed (each is taken: no short cut). */
static bool take_any(struct vcpu *v, struct nested_vcpu *n, const uint32_t *f, size_t count)
{
    bool changed = false;
    for (size_t i = 0; i < count; i++)
        changed |= take(v, n, f[i]);
    return changed;
}

/* VMCS12's field was just set from VMCS02: they agree. */
static void agree(struct vcpu *v, struct nested_vcpu *n, uint32_t f)
{
    int o = vmcs12_field_offset(f);
    if (o >= 0 && v->vmcs12_seen_pa)
        memcpy(seen(v) + o, n->vmcs12 + o, 8);
}

static void w02(struct vcpu *v, uint32_t f, uint64_t val)
{
    vmcs_write(f, val);
    v->vmcs02_writes++;
}

/*
 * The MSR bitmap for L2 traps every MSR except the few that L1 hypervisors
 * hand to their guests for speed (speculation controls, SYSENTER, the
 * segment bases): each of those is open when neither L1's bitmap nor L0's
 * traps it. Checking them reads a few bytes of L1's bitmap per entry, so
 * a change L1 makes to its bitmap counts at once; any other MSR access by
 * L2 exits and is reflected to L1, which handles it as it handles the
 * MSRs it traps.
 */
static const uint32_t open_msrs[] = {
    0x48, 0x49, 0x10B,                      /* SPEC_CTRL, PRED_CMD, FLUSH_CMD */
    0x174, 0x175, 0x176,                    /* SYSENTER_CS/ESP/EIP */
    0xC0000100, 0xC0000101, 0xC0000102,     /* FS_BASE, GS_BASE, KERNEL_GS_BASE */
};

static unsigned msr_bit_offset(uint32_t msr, bool write)
{
    return (write ? 2048 : 0) + (msr >= 0xC0000000 ? 1024 : 0) + (msr & 0x1FFF) / 8;
}

static bool prepare_msr_bitmap(struct vcpu *v, struct nested_vcpu *n, bool use12)
{
    if (!v->msr_bitmap02) {
        if ((v->msr_bitmap02 = page_zalloc()) == PALLOC_FAIL) {
            v->msr_bitmap02 = 0;
            return false;
        }
        memset((void *)(uintptr_t)v->msr_bitmap02, 0xFF, PAGE_SIZE);
    }
    uint8_t *b = (uint8_t *)(uintptr_t)v->msr_bitmap02;
    const uint8_t *l0 = (const uint8_t *)(uintptr_t)cloud.msr_bitmap_pa;
    uint64_t l1 = g12(n, VMCS_MSR_BITMAP) & EPT_ADDR;
    for (unsigned i = 0; i < sizeof(open_msrs) / sizeof(open_msrs[0]); i++)
        for (int write = 0; write < 2; write++) {
            uint32_t msr = open_msrs[i];
            unsigned off = msr_bit_offset(msr, write), bit = msr & 7;
            uint8_t byte = 0xFF;
            bool trap = !use12 || (l0[off] >> bit & 1);
            if (!trap) {
                if (guest_read_phys(l1 + off, &byte, 1))
                    return false;
                trap = byte >> bit & 1;
            }
            b[off] = trap ? (uint8_t)(b[off] | 1u << bit) : (uint8_t)(b[off] & ~(1u << bit));
        }
    return true;
}

/*
 * I/O bitmaps for L2. With unconditional I/O exiting (KVM's choice) VMCS02
 * uses none: every access exits to L0, which serves its own ports and
 * reflects the rest. Without either control only vsbypass's ports are
 * marked, once. With L1's bitmaps both pages are read again at every entry,
 * since L1 may change them at any time.
 */
#define IO02_NONE       0
#define IO02_L0_ONLY    1
#define IO02_L1         2

static bool prepare_io_bitmaps(struct vcpu *v, struct nested_vcpu *n, uint64_t proc12)
{
    if (proc12 & PROC_UNCOND_IO_EXIT)
        return true;
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
        v->io02_state = IO02_L1;
    } else {
        if (v->io02_state == IO02_L0_ONLY)
            return true;
        memset(a, 0, PAGE_SIZE);
        memset(b, 0, PAGE_SIZE);
        v->io02_state = IO02_L0_ONLY;
    }
    if (boot_config()->passthrough)
        passthrough_mark_ports(a);
    return true;
}

static const uint32_t control_fields[] = {
    VMCS_PIN_CTLS, VMCS_PROC_CTLS, VMCS_PROC_CTLS2, VMCS_EXIT_CTLS, VMCS_ENTRY_CTLS,
    VMCS_EXCEPTION_BITMAP, VMCS_PF_ERROR_MASK, VMCS_PF_ERROR_MATCH, VMCS_TSC_OFFSET,
};

static void write_controls(struct vcpu *v, struct nested_vcpu *n)
{
    bool tru = rdmsr(MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS;
    uint64_t proc12 = g12(n, VMCS_PROC_CTLS);
    uint32_t proc2 = (proc12 & PROCBASED_ACTIVATE_SECONDARY) ? (uint32_t)g12(n, VMCS_PROC_CTLS2) : 0;
    w02(v, VMCS_PIN_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS,
                                         (uint32_t)g12(n, VMCS_PIN_CTLS), PIN_NMI_EXIT, "VMCS02 pin"));
    /* Unconditional I/O exiting stays as L1 set it; otherwise merged bitmaps. */
    uint32_t io = (proc12 & PROC_UNCOND_IO_EXIT) ? 0 : PROC_USE_IO_BITMAPS;
    w02(v, VMCS_PROC_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS,
                                          (uint32_t)proc12 | io | PROC_USE_MSR_BITMAPS |
                                          PROCBASED_ACTIVATE_SECONDARY, 0, "VMCS02 proc"));
    v->l0_intr_window = false;          /* PROC_CTLS is L1's again */
    /* EPT is always on in VMCS02: EPT02 shadows EPT12, or is EPT01 without it. */
    w02(v, VMCS_PROC_CTLS2, vmx_ctl_adjust(MSR_IA32_VMX_PROCBASED_CTLS2,
                                           proc2 | PROCBASED2_ENABLE_EPT | PROCBASED2_ENABLE_VPID,
                                           0, "VMCS02 proc2"));
    uint32_t exit12 = (uint32_t)g12(n, VMCS_EXIT_CTLS);
    w02(v, VMCS_EXIT_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
                                          EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER |
                                          EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG |
                                          (exit12 & EXIT_ACK_INTR_ON_EXIT), 0, "VMCS02 exit"));
    w02(v, VMCS_ENTRY_CTLS, vmx_ctl_adjust(tru ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
                                           (uint32_t)g12(n, VMCS_ENTRY_CTLS) | ENTRY_LOAD_EFER |
                                           ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG, 0, "VMCS02 entry"));
    w02(v, VMCS_EXCEPTION_BITMAP, g12(n, VMCS_EXCEPTION_BITMAP));
    w02(v, VMCS_PF_ERROR_MASK, g12(n, VMCS_PF_ERROR_MASK));
    w02(v, VMCS_PF_ERROR_MATCH, g12(n, VMCS_PF_ERROR_MATCH));
    w02(v, VMCS_TSC_OFFSET, g12(n, VMCS_TSC_OFFSET));
    /* The bitmap pages may have been allocated since the last full build
     * (L1 left unconditional I/O exiting): their addresses follow. */
    vmcs_write(VMCS_IO_BITMAP_A, v->io_bitmap02[0]);
    vmcs_write(VMCS_IO_BITMAP_B, v->io_bitmap02[1]);
}

/* What never changes for a VMCS02: L0's host state, bitmaps, VPID, no lists. */
static void write_fixed(struct vcpu *v)
{
    vmx_write_host_state(v);
    vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write(VMCS_IO_BITMAP_A, v->io_bitmap02[0]);
    vmcs_write(VMCS_IO_BITMAP_B, v->io_bitmap02[1]);
    vmcs_write(VMCS_MSR_BITMAP, v->msr_bitmap02);
    vmcs_write(VMCS_VPID, L2_VPID);
    vmcs_write(VMCS_LINK_POINTER, ~0ULL);
}

static const uint32_t cr_fields[] = {
    VMCS_GUEST_CR0, VMCS_GUEST_CR4, VMCS_CR0_MASK, VMCS_CR4_MASK, VMCS_CR0_SHADOW, VMCS_CR4_SHADOW,
};

static void write_guest_state(struct vcpu *v, struct nested_vcpu *n, uint64_t l1_efer, uint64_t l1_pat)
{
    for (size_t i = 0; i < sizeof(guest_fields) / sizeof(guest_fields[0]); i++)
        if (take(v, n, guest_fields[i]))
            w02(v, guest_fields[i], g12(n, guest_fields[i]));
    /* EFER and PAT: VMCS12's when the entry loads them, else L1's own (the
     * MSR keeps its value across a VM entry, with EFER.LMA/LME following the
     * IA-32e mode guest control). Two writes: always done. */
    uint64_t entry12 = g12(n, VMCS_ENTRY_CTLS), cr0 = g12(n, VMCS_GUEST_CR0);
    uint64_t efer = l1_efer;
    if (entry12 & ENTRY_LOAD_EFER)
        efer = g12(n, VMCS_GUEST_EFER);
    else if (entry12 & ENTRY_IA32E_MODE)
        efer |= EFER_LMA | EFER_LME;
    else
        efer &= ~(uint64_t)(EFER_LMA | ((cr0 & (1ULL << 31)) ? EFER_LME : 0));
    w02(v, VMCS_GUEST_EFER, efer);
    w02(v, VMCS_GUEST_PAT, (entry12 & ENTRY_LOAD_PAT) ? g12(n, VMCS_GUEST_PAT) : l1_pat);
    if (!take_any(v, n, cr_fields, sizeof(cr_fields) / sizeof(cr_fields[0])))
        return;
    /* CR0.NE and CR4.VMXE stay set; L2 sees its own values through the shadows. */
    uint64_t cr4 = g12(n, VMCS_GUEST_CR4);
    uint64_t m0 = g12(n, VMCS_CR0_MASK), m4 = g12(n, VMCS_CR4_MASK);
    v->l2_cr0_ne = cr0 & CR0_NE;
    v->l2_cr4_vmxe = cr4 & CR4_VMXE;
    w02(v, VMCS_GUEST_CR0, cr0 | CR0_NE);
    w02(v, VMCS_GUEST_CR4, cr4 | CR4_VMXE);
    w02(v, VMCS_CR0_MASK, m0 | CR0_NE);
    w02(v, VMCS_CR4_MASK, m4 | CR4_VMXE);
    w02(v, VMCS_CR0_SHADOW, (g12(n, VMCS_CR0_SHADOW) & m0) | (cr0 & ~m0));
    w02(v, VMCS_CR4_SHADOW, (g12(n, VMCS_CR4_SHADOW) & m4) | (cr4 & ~m4));
}

static void flush_l2_vpid(void)
{
    struct { uint64_t vpid, addr; } desc = { L2_VPID, 0 };
    __asm__ volatile("invvpid %0, %1" :: "m"(desc), "r"(1ULL) : "cc", "memory");
}

/* L1 executed INVVPID: every L2 shares L2_VPID, so all of it goes. */
void nested_invvpid(struct vcpu *v)
{
    (void)v;
    flush_l2_vpid();
}

void nested_vmcs02_forget(struct vcpu *v, uint64_t vmcs12)
{
    if (vmcs12 == ~0ULL || vmcs12 == v->vmcs02_for)
        v->vmcs02_ready = false;
}

static void entry_failed_msr(struct vcpu *v, struct nested_vcpu *n, uint64_t index);

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
    bool full = launch || !v->vmcs02_ready || v->vmcs02_for != n->current_ptr ||
                !boot_config()->vmcs02_keep;
    if (full)
        v->io02_state = IO02_NONE;
    if (!prepare_msr_bitmap(v, n, proc12 & PROC_USE_MSR_BITMAPS) || !prepare_io_bitmaps(v, n, proc12))
        return VMXERR_ENTRY_BAD_CONTROLS;
    if (!v->vmcs02_pa) {
        if ((v->vmcs02_pa = page_zalloc()) == PALLOC_FAIL || (v->vmcs12_seen_pa = page_zalloc()) == PALLOC_FAIL)
            panic("nested: no memory for a VMCS02");
        *(uint32_t *)(uintptr_t)v->vmcs02_pa = VMX_BASIC_REVISION(rdmsr(MSR_IA32_VMX_BASIC));
    }
    /* Without EPT12, L2 addresses are L1's: EPT02 maps them 1:1 (key = VMCS12). */
    uint64_t eptp12 = (proc2 & PROCBASED2_ENABLE_EPT) ? g12(n, VMCS_EPT_POINTER) : n->current_ptr | 1;
    /* The user VM's device set first: from here on it cannot be released
     * while this vCPU runs it. Then EPT02: another VM's, or one that may
     * map a released set's VGA window, is dropped. */
    passthrough_enter(v, n->current_ptr, eptp12, !launch);
    passthrough_l1_injected(v, (uint32_t)g12(n, VMCS_ENTRY_INTR_INFO));
    if (eptp12 != v->ept02_for || passthrough_released_since(&v->ept02_release_gen)) {
        nested_flush_ept02(v);
        v->ept02_for = eptp12;
    }
    /* L1's EFER and PAT, for an entry that does not load them. */
    uint64_t l1_efer = vmcs_read(VMCS_GUEST_EFER), l1_pat = vmcs_read(VMCS_GUEST_PAT);
    /* L1 stays at its VMLAUNCH in VMCS01; L2 runs on VMCS02. */
    v->launched01 = v->launched;
    if (full) {
        v->vmcs02_ready = false;        /* every field is taken */
        if (vmclear(v->vmcs02_pa) || vmptrld(v->vmcs02_pa))
            panic("nested: VMCLEAR/VMPTRLD of VMCS02 failed");
        v->launched = 0;
        write_fixed(v);
        v->vmcs02_full++;
    } else {
        if (vmptrld(v->vmcs02_pa))
            panic("nested: VMPTRLD of VMCS02 failed");
        v->launched = v->launched02;
        v->vmcs02_incr++;
    }
    if (take_any(v, n, control_fields, sizeof(control_fields) / sizeof(control_fields[0])))
        write_controls(v, n);
    write_guest_state(v, n, l1_efer, l1_pat);
    vmcs_write(VMCS_ENTRY_INTR_INFO, g12(n, VMCS_ENTRY_INTR_INFO));
    vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, g12(n, VMCS_ENTRY_EXCEPTION_ERROR));
    vmcs_write(VMCS_ENTRY_INSTR_LEN, g12(n, VMCS_ENTRY_INSTR_LEN));
    if (!v->ept02_root && (v->ept02_root = page_zalloc()) == PALLOC_FAIL)
        panic("nested: no memory for EPT02");
    vmcs_write(VMCS_EPT_POINTER, v->ept02_root | EPTP_WB_4LEVEL);
    /* Every L2 runs with L2_VPID: its TLB entries may stay only while the
     * same VMCS12 runs with the same nonzero VPID12 (zero means L1 wants a
     * flush at every entry, as the SDM has it for VPID 0). */
    uint64_t vpid12 = (proc2 & PROCBASED2_ENABLE_VPID) ? g12(n, VMCS_VPID) : 0;
    if (full || !vpid12 || vpid12 != v->vpid12_last)
        flush_l2_vpid();
    v->vpid12_last = vpid12;
    uint64_t bad = msr_list_load(g12(n, VMCS_ENTRY_MSR_LOAD_ADDR), g12(n, VMCS_ENTRY_MSR_LOAD_COUNT));
    if (bad) {
        entry_failed_msr(v, n, bad);
        return 0;               /* L1 continues at its host RIP, as after an exit */
    }
    v->vmcs02_ready = true;
    vmcs12_set_launch_state(n, 1);
    vmcs12_set(n, VMCS_ENTRY_INTR_INFO, g12(n, VMCS_ENTRY_INTR_INFO) & ~(uint64_t)INTR_INFO_VALID);
    v->vmcs02_for = n->current_ptr;
    v->in_l2 = true;
    passthrough_deliver(v);
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

/* VMCS01 current again: L1's state from VMCS12's host area, then its
 * VM-exit MSR-load list, then any NMI that waited while L2 ran. */
static void back_in_l1(struct vcpu *v, struct nested_vcpu *n)
{
    load_l1_host_state(n);
    if (msr_list_load(g12(n, VMCS_EXIT_MSR_LOAD_ADDR), g12(n, VMCS_EXIT_MSR_LOAD_COUNT)))
        vmx_abort(v, n, 4, "loading the VM-exit MSR-load list failed");
    lapic_nmi_deliver(v, false);
}

/* The entry's MSR-load list failed at entry `index` (1-based): a VM-entry
 * failure exit to L1 (reason 34, the index as qualification), after L1's
 * host state and VM-exit MSR-load list, as the SDM has it. VMCS12's guest
 * state stays as L1 wrote it; VMCS02 starts over at the next entry. */
static void entry_failed_msr(struct vcpu *v, struct nested_vcpu *n, uint64_t index)
{
    v->vmcs02_ready = false;
    vmcs12_set(n, VMCS_EXIT_REASON, EXIT_REASON_ENTRY_FAIL_MSR | EXIT_REASON_ENTRY_FAILURE_BIT);
    vmcs12_set(n, VMCS_EXIT_QUALIFICATION, index);
    vmcs12_set(n, VMCS_EXIT_INTR_INFO, 0);
    vmcs12_set(n, VMCS_IDT_VECTORING_INFO, 0);
    if (vmptrld(v->vmcs_pa))
        panic("nested: VMPTRLD of VMCS01 failed");
    v->launched = v->launched01;
    v->in_l2 = false;
    back_in_l1(v, n);
    vmcs_shadow_push(v, n);
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
    /* L2's MSRs first, while VMCS02 is current (not after a failed entry). */
    if (!(reason & EXIT_REASON_ENTRY_FAILURE_BIT) &&
        !msr_list_store(g12(n, VMCS_EXIT_MSR_STORE_ADDR), g12(n, VMCS_EXIT_MSR_STORE_COUNT)))
        vmx_abort(v, n, 1, "saving L2's MSRs into the VM-exit MSR-store list failed");
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
    /* VMCS02 holds exactly this guest state: nothing to write back at the
     * next entry unless L1 changes it. */
    for (size_t i = 0; i < sizeof(guest_fields) / sizeof(guest_fields[0]); i++)
        agree(v, n, guest_fields[i]);
    agree(v, n, VMCS_GUEST_CR0);
    agree(v, n, VMCS_GUEST_CR4);
    agree(v, n, VMCS_ENTRY_CTLS);
    if (vmptrld(v->vmcs_pa))
        panic("nested: VMPTRLD of VMCS01 failed");
    v->launched02 = v->launched;
    v->launched = v->launched01;
    v->in_l2 = false;
    back_in_l1(v, n);
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
    /* The user VM's video memory lives in vsbypass, whatever EPT12 says:
     * backed pages, or each access through the VGA model. */
    if (passthrough_vga_trapped(v, gpa)) {
        passthrough_vga_mmio(v, gpa, q);
        return;
    }
    uint64_t vga = passthrough_vga_page(v, gpa);
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
        if (passthrough_apic_write(v, gpa, q))
            return;                     /* an EOI of vsbypass's: L2 goes on */
        reflect_exit(v, n, EXIT_REASON_EPT_MISCONFIG);
        return;
    case EPT02_NOT_PRESENT:
    case EPT02_DENIED:
        if (passthrough_apic_write(v, gpa, q))
            return;
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

/* An exit that vsbypass handles itself can interrupt the delivery of an
 * event to L2 (an EPT02 fill while pushing an interrupt frame, say): an L1
 * interrupt, an exception or a shadow-device IRQ, delivered again. */
void nested_l2_exit(struct vcpu *v, unsigned reason)
{
    struct nested_vcpu *n = nested_vcpu_of(v->cpu);
    uint32_t full = (uint32_t)vmcs_read(VMCS_EXIT_REASON);
    bool l0 = (reason == EXIT_REASON_IO && (passthrough_io(v) ||
                                             passthrough_pic_io(v))) ||
              (reason == EXIT_REASON_WRMSR && passthrough_x2apic_eoi(v)) ||
              (reason == EXIT_REASON_INTR_WINDOW &&
               passthrough_intr_window(v, g12(n, VMCS_PROC_CTLS) & PROC_INTR_WINDOW_EXIT));
    if (reason == EXIT_REASON_EPT_VIOLATION) {
        handle_ept_violation(v, n);
        l0 = v->in_l2;          /* handled here (not reflected): L2 resumes */
        if (!l0)
            return;
    }
    if (l0) {
        vmx_reinject_vectoring();
        passthrough_deliver(v);
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
    if (full & EXIT_REASON_ENTRY_FAILURE_BIT) {
        vmcs12_set_launch_state(n, 0);  /* a failed VMLAUNCH leaves the VMCS clear */
        v->vmcs02_ready = false;
    }
    reflect_exit(v, n, full);
}
