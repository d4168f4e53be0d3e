/*
 * VMCS shadowing for L1: the VMREADs and VMWRITEs KVM does on every L2 exit
 * go to a shadow VMCS in hardware instead of exiting to vsbypass.
 *
 * VMCS01 points its VMCS link pointer at a per-CPU shadow VMCS and enables
 * "VMCS shadowing" while L1 has a current VMCS12. The VMREAD and VMWRITE
 * bitmaps (shared) let a chosen set of frequently used fields through:
 * guest-state and control fields both ways, VM-exit information for
 * VMREAD only (L1 may not write those unless it was offered "VMWRITE to
 * any field", and the bitmaps must not give it more than that).
 *
 * VMCS12 stays the one copy vsbypass trusts: at every VMX-instruction exit
 * the shadowed read-write fields are pulled from the shadow VMCS into
 * VMCS12 before anything reads it, and whenever vsbypass changed VMCS12
 * (an emulated VMX instruction, an L2 exit reflected to L1) every shadowed
 * field is pushed back before L1 runs again. Fields a CPU's VMCS does not
 * hold are simply left to the exit path (checked once at boot).
 */
#include "vmx/vmcs_shadow.h"
#include "core/cmdline.h"
#include "core/hw.h"
#include "core/layout.h"
#include "core/libc.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/region.h"
#include "vmx/nested.h"
#include "vmx/vmcs12.h"
#include "vmx/vmx.h"
#include "vmx/vmx_hw.h"
#include "vmx/vmx_msr.h"

#define VMCS_VMREAD_BITMAP      0x2026
#define VMCS_VMWRITE_BITMAP     0x2028
#define MISC_VMWRITE_ANY        (1ULL << 29)

/* Read and written by KVM (L1) around most L2 exits. */
static const uint32_t rw_fields[] = {
    VMCS_GUEST_RIP, VMCS_GUEST_RSP, VMCS_GUEST_RFLAGS, VMCS_GUEST_INTERRUPTIBILITY,
    VMCS_GUEST_ACTIVITY_STATE, VMCS_ENTRY_INTR_INFO, VMCS_ENTRY_EXCEPTION_ERROR,
    VMCS_ENTRY_INSTR_LEN, VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4, VMCS_CR0_SHADOW,
    VMCS_CR4_SHADOW, VMCS_PROC_CTLS, VMCS_PROC_CTLS2, VMCS_EXCEPTION_BITMAP,
    VMCS_GUEST_CS_SEL, VMCS_GUEST_CS_AR, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_AR,
    VMCS_GUEST_DR7, VMCS_GUEST_PENDING_DBG, VMCS_TSC_OFFSET,
};
/* VM-exit information: read by L1, written only by vsbypass. */
static const uint32_t ro_fields[] = {
    VMCS_EXIT_REASON, VMCS_EXIT_QUALIFICATION, VMCS_EXIT_INTR_INFO, VMCS_EXIT_INTR_ERROR,
    VMCS_IDT_VECTORING_INFO, VMCS_IDT_VECTORING_ERROR, VMCS_EXIT_INSTR_LEN,
    VMCS_EXIT_INSTR_INFO, VMCS_GUEST_PHYS_ADDR, VMCS_GUEST_LINEAR_ADDR, VMCS_INSTR_ERROR,
};
#define NRW (sizeof(rw_fields) / sizeof(rw_fields[0]))
#define NRO (sizeof(ro_fields) / sizeof(ro_fields[0]))

static bool rw_ok[NRW], ro_ok[NRO];
static uint64_t read_bitmap_pa, write_bitmap_pa;
static bool available;
static uint32_t shadow_revision;
static uint64_t pulls, pushes;

static uint64_t zpage(void)
{
    uint64_t p = palloc_alloc(&region_pages, 1, 1);
    if (p != PALLOC_FAIL)
        memset((void *)(uintptr_t)p, 0, PAGE_SIZE);
    return p;
}

static void bit_clear(uint64_t bitmap_pa, uint32_t field)
{
    uint8_t *b = (uint8_t *)(uintptr_t)bitmap_pa;
    field &= 0x7FFF;
    b[field / 8] &= (uint8_t)~(1u << (field % 8));
}

bool vmcs_shadow_setup(bool nested_offered)
{
    const char *why = NULL;
    uint64_t proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
    if (!boot_config()->vmcs_shadow)
        why = "vmcs_shadow=off";
    else if (!nested_offered)
        why = "nested VMX is not offered";
    else if (!(vmx_allowed1(proc2) & PROCBASED2_VMCS_SHADOWING))
        why = "this CPU has no VMCS shadowing";
    else if (!(rdmsr(MSR_IA32_VMX_MISC) & MISC_VMWRITE_ANY))
        why = "this CPU cannot VMWRITE VM-exit information into a shadow VMCS";
    if (why) {
        kprintf("nested: VMCS shadowing off (%s): L1's VMREAD/VMWRITE exit\n", why);
        return false;
    }
    read_bitmap_pa = zpage();
    write_bitmap_pa = zpage();
    if (read_bitmap_pa == PALLOC_FAIL || write_bitmap_pa == PALLOC_FAIL) {
        kprintf("nested: VMCS shadowing off (no memory for its bitmaps)\n");
        return false;
    }
    memset((void *)(uintptr_t)read_bitmap_pa, 0xFF, PAGE_SIZE);
    memset((void *)(uintptr_t)write_bitmap_pa, 0xFF, PAGE_SIZE);
    shadow_revision = (uint32_t)(rdmsr(MSR_IA32_VMX_BASIC) & 0x7FFFFFFF) | VMCS12_SHADOW_INDICATOR;
    available = true;
    return true;
}

/* Tries every field on this CPU's shadow VMCS once (BSP): a field the CPU's
 * VMCS lacks stays behind an exit. The bitmaps are opened here. */
static void probe_fields(struct vcpu *v)
{
    unsigned n = 0;
    if (vmptrld(v->shadow_vmcs_pa))
        return;
    for (unsigned i = 0; i < NRW; i++)
        if ((rw_ok[i] = vmcs12_field_supported(rw_fields[i]) && !vmwrite_checked(rw_fields[i], 0))) {
            bit_clear(read_bitmap_pa, rw_fields[i]);
            bit_clear(write_bitmap_pa, rw_fields[i]);
            n++;
        }
    for (unsigned i = 0; i < NRO; i++)
        if ((ro_ok[i] = vmcs12_field_supported(ro_fields[i]) && !vmwrite_checked(ro_fields[i], 0))) {
            bit_clear(read_bitmap_pa, ro_fields[i]);
            n++;
        }
    vmptrld(v->vmcs_pa);
    kprintf("nested: VMCS shadowing on: %u fields served without an exit\n", n);
}

void vmcs_shadow_vcpu_init(struct vcpu *v)
{
    v->shadow_vmcs_pa = 0;
    v->shadow_active = false;
    if (!available)
        return;
    uint64_t p = zpage();
    if (p == PALLOC_FAIL)
        return;
    *(uint32_t *)(uintptr_t)p = shadow_revision;
    if (vmclear(p))
        return;
    v->shadow_vmcs_pa = p;
    vmcs_write(VMCS_VMREAD_BITMAP, read_bitmap_pa);
    vmcs_write(VMCS_VMWRITE_BITMAP, write_bitmap_pa);
    if (v->bsp)
        probe_fields(v);
}

static void set_active(struct vcpu *v, bool on)
{
    if (on == v->shadow_active)
        return;
    uint64_t p2 = vmcs_read(VMCS_PROC_CTLS2);
    vmcs_write(VMCS_PROC_CTLS2, on ? p2 | PROCBASED2_VMCS_SHADOWING : p2 & ~(uint64_t)PROCBASED2_VMCS_SHADOWING);
    vmcs_write(VMCS_LINK_POINTER, on ? v->shadow_vmcs_pa : ~0ULL);
    v->shadow_active = on;
}

void vmcs_shadow_pull(struct vcpu *v, struct nested_vcpu *n)
{
    if (!v->shadow_active || n->current_ptr == ~0ULL)
        return;
    if (vmptrld(v->shadow_vmcs_pa))
        panic("nested: VMPTRLD of the shadow VMCS failed");
    for (unsigned i = 0; i < NRW; i++) {
        uint64_t val;
        if (rw_ok[i] && !vmread_checked(rw_fields[i], &val))
            vmcs12_set(n, rw_fields[i], val);
    }
    if (vmptrld(v->vmcs_pa))
        panic("nested: VMPTRLD of VMCS01 failed");
    pulls++;
}

void vmcs_shadow_push(struct vcpu *v, struct nested_vcpu *n)
{
    if (!v->shadow_vmcs_pa || v->in_l2)
        return;
    bool want = n->vmxon && n->current_ptr != ~0ULL;
    if (want) {
        if (vmptrld(v->shadow_vmcs_pa))
            panic("nested: VMPTRLD of the shadow VMCS failed");
        for (unsigned i = 0; i < NRW; i++) {
            uint64_t val;
            if (rw_ok[i] && !vmcs12_get(n, rw_fields[i], &val))
                vmwrite_checked(rw_fields[i], val);
        }
        for (unsigned i = 0; i < NRO; i++) {
            uint64_t val;
            if (ro_ok[i] && !vmcs12_get(n, ro_fields[i], &val))
                vmwrite_checked(ro_fields[i], val);
        }
        if (vmptrld(v->vmcs_pa))
            panic("nested: VMPTRLD of VMCS01 failed");
        pushes++;
    }
    set_active(v, want);
}

void vmcs_shadow_stats(uint64_t *pull_count, uint64_t *push_count)
{
    *pull_count = pulls;
    *push_count = pushes;
}
