/*
 * The VMX instructions L1 executes, after the Operation sections of SDM
 * Vol. 3C "VMX Instruction Reference". The "in VMX non-root operation"
 * branches are absent: these run only for L1, which is in VMX root operation
 * once it has executed VMXON; L2's VMX instructions exit to L1 instead.
 */
#include "vmx/nested.h"
#include "core/libc.h"
#include "vmx/vmcs12.h"

#define NESTED_NO_VMCS (~0ULL)

void nested_init(struct nested_vcpu *n, uint32_t revision)
{
    memset(n, 0, sizeof(*n));
    n->current_ptr = NESTED_NO_VMCS;
    n->revision = revision;
}

/* VMfail(ErrorNumber): VMfailValid when there is a current VMCS to hold
 * the error number, VMfailInvalid otherwise. */
static enum nested_result nested_fail(struct nested_vcpu *n, uint32_t error)
{
    if (n->current_ptr == NESTED_NO_VMCS)
        return NESTED_FAIL_INVALID;
    vmcs12_set(n, VMCS_INSTR_ERROR, error);
    return NESTED_FAIL_VALID;
}

/* Not real mode, virtual-8086 mode or compatibility mode. */
static bool nested_mode_ok(const struct nested_cpu *c)
{
    return c->protected_mode && !c->v8086 && !(c->long_mode && !c->cs_long);
}

/* The #UD and #GP(0) checks every instruction but VMXON begins with. */
static enum nested_result nested_check(const struct nested_vcpu *n, const struct nested_cpu *c)
{
    if (!n->vmxon || !nested_mode_ok(c))
        return NESTED_UD;
    return c->cpl > 0 ? NESTED_GP : NESTED_SUCCEED;
}

/* A VMXON or VMCS pointer: 4 KiB aligned, no bit beyond the physical-address width. */
static bool nested_ptr_ok(const struct nested_cpu *c, uint64_t ptr)
{
    return !(ptr & 0xFFF) && (c->phys_bits >= 64 || !(ptr >> c->phys_bits));
}

/* The first 32 bits of the region at `ptr`; nonzero if L1 memory there is unreadable. */
static int nested_read_revision(const struct nested_mem *m, uint64_t ptr, uint32_t *rev)
{
    return m->read(m->ctx, ptr + VMCS12_REVISION_OFF, rev, sizeof(*rev));
}

/* Bits 30:0 must match; bit 31 (shadow VMCS) must be clear, VMCS shadowing not being offered. */
static bool nested_revision_ok(const struct nested_vcpu *n, uint32_t rev)
{
    return !(rev & VMCS12_SHADOW_INDICATOR) && rev == n->revision;
}

/* Writes the current VMCS back to its region in L1 memory. */
static int nested_flush(const struct nested_vcpu *n, const struct nested_mem *m)
{
    return m->write(m->ctx, n->current_ptr, n->vmcs12, VMCS12_SIZE);
}

enum nested_result nested_vmxon(struct nested_vcpu *n, const struct nested_cpu *c,
                                const struct nested_mem *m, uint64_t ptr)
{
    if (!c->cr4_vmxe || !nested_mode_ok(c))
        return NESTED_UD;
    if (n->vmxon)
        return c->cpl > 0 ? NESTED_GP : nested_fail(n, VMXERR_VMXON_IN_ROOT);
    if (c->cpl > 0 || !c->cr0_cr4_fixed_ok || !c->feature_control_ok)
        return NESTED_GP;
    /* An unreadable region fails like a wrong revision: both are VMfailInvalid. */
    uint32_t rev;
    if (!nested_ptr_ok(c, ptr) || nested_read_revision(m, ptr, &rev) || !nested_revision_ok(n, rev))
        return NESTED_FAIL_INVALID;
    n->vmxon = true;
    n->vmxon_ptr = ptr;
    n->current_ptr = NESTED_NO_VMCS;
    return NESTED_SUCCEED;
}

/* The current VMCS is dropped without being written back: software must
 * VMCLEAR it first (SDM "Software Use of Virtual-Machine Control Structures"). */
enum nested_result nested_vmxoff(struct nested_vcpu *n, const struct nested_cpu *c)
{
    enum nested_result r = nested_check(n, c);
    if (r != NESTED_SUCCEED)
        return r;
    n->vmxon = false;
    n->current_ptr = NESTED_NO_VMCS;
    return NESTED_SUCCEED;
}

/*
 * "Ensure that data for the VMCS is in memory" is the write-back of the
 * current VMCS; a region not current is in memory already, and only its
 * launch state changes. L1 memory that cannot be written reports an
 * invalid address; the current VMCS then stays current and intact.
 */
enum nested_result nested_vmclear(struct nested_vcpu *n, const struct nested_cpu *c,
                                  const struct nested_mem *m, uint64_t ptr)
{
    enum nested_result r = nested_check(n, c);
    if (r != NESTED_SUCCEED)
        return r;
    if (!nested_ptr_ok(c, ptr))
        return nested_fail(n, VMXERR_VMCLEAR_BAD_ADDR);
    if (ptr == n->vmxon_ptr)
        return nested_fail(n, VMXERR_VMCLEAR_VMXON_PTR);
    const uint8_t clear = 0;
    if ((ptr == n->current_ptr && nested_flush(n, m)) ||
        m->write(m->ctx, ptr + VMCS12_LAUNCH_OFF, &clear, sizeof(clear)))
        return nested_fail(n, VMXERR_VMCLEAR_BAD_ADDR);
    if (ptr == n->current_ptr)
        n->current_ptr = NESTED_NO_VMCS;
    return NESTED_SUCCEED;
}

/*
 * Loading a VMCS writes the previous one back, so that every region but the
 * current one is up to date in L1 memory, and copies the new one into L0, so
 * that L1 cannot change it between check and use. Reloading the current VMCS
 * keeps the L0 copy. L1 memory that cannot be read or written reports an
 * invalid address; if the new region fails after the old one was written
 * back, no VMCS is current (VMfailInvalid).
 */
enum nested_result nested_vmptrld(struct nested_vcpu *n, const struct nested_cpu *c,
                                  const struct nested_mem *m, uint64_t ptr)
{
    enum nested_result r = nested_check(n, c);
    if (r != NESTED_SUCCEED)
        return r;
    if (!nested_ptr_ok(c, ptr))
        return nested_fail(n, VMXERR_VMPTRLD_BAD_ADDR);
    if (ptr == n->vmxon_ptr)
        return nested_fail(n, VMXERR_VMPTRLD_VMXON_PTR);
    uint32_t rev;
    if (nested_read_revision(m, ptr, &rev))
        return nested_fail(n, VMXERR_VMPTRLD_BAD_ADDR);
    if (!nested_revision_ok(n, rev))
        return nested_fail(n, VMXERR_VMPTRLD_BAD_REVISION);
    if (ptr == n->current_ptr)
        return NESTED_SUCCEED;
    if (n->current_ptr != NESTED_NO_VMCS && nested_flush(n, m))
        return nested_fail(n, VMXERR_VMPTRLD_BAD_ADDR);
    n->current_ptr = NESTED_NO_VMCS;
    if (m->read(m->ctx, ptr, n->vmcs12, VMCS12_SIZE))
        return nested_fail(n, VMXERR_VMPTRLD_BAD_ADDR);
    n->current_ptr = ptr;
    return NESTED_SUCCEED;
}

enum nested_result nested_vmptrst(struct nested_vcpu *n, const struct nested_cpu *c,
                                  uint64_t *ptr_out)
{
    enum nested_result r = nested_check(n, c);
    if (r != NESTED_SUCCEED)
        return r;
    *ptr_out = n->current_ptr;
    return NESTED_SUCCEED;
}

/* In 64-bit mode the encoding is a 64-bit register: bits 63:32 set name no field. */
enum nested_result nested_vmread(struct nested_vcpu *n, const struct nested_cpu *c,
                                 uint64_t field, uint64_t *value)
{
    enum nested_result r = nested_check(n, c);
    if (r != NESTED_SUCCEED)
        return r;
    if (n->current_ptr == NESTED_NO_VMCS)
        return NESTED_FAIL_INVALID;
    if ((field >> 32) || vmcs12_get(n, (uint32_t)field, value))
        return nested_fail(n, VMXERR_UNSUPPORTED_FIELD);
    return NESTED_SUCCEED;
}

/* IA32_VMX_MISC bit 29 (VMWRITE to VM-exit information fields) is not
 * offered, so those fields are read-only to L1. */
enum nested_result nested_vmwrite(struct nested_vcpu *n, const struct nested_cpu *c,
                                  uint64_t field, uint64_t value)
{
    enum nested_result r = nested_check(n, c);
    if (r != NESTED_SUCCEED)
        return r;
    if (n->current_ptr == NESTED_NO_VMCS)
        return NESTED_FAIL_INVALID;
    if ((field >> 32) || !vmcs12_field_supported((uint32_t)field))
        return nested_fail(n, VMXERR_UNSUPPORTED_FIELD);
    if (VMCS12_ENC_TYPE(field) == VMCS12_TYPE_READ_ONLY)
        return nested_fail(n, VMXERR_WRITE_READONLY_FIELD);
    vmcs12_set(n, (uint32_t)field, value);
    return NESTED_SUCCEED;
}
