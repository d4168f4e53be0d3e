/*
 * Checked, typed wrappers for the VMX instructions. Call sites never issue
 * VMREAD/VMWRITE/VMLAUNCH themselves: a failing VMREAD or VMWRITE on the
 * current VMCS is a hypervisor bug, reported with the VM-instruction error.
 */
#ifndef VMX_VMX_HW_H
#define VMX_VMX_HW_H
#include <stdint.h>

/* 0 = VMsucceed, 1 = VMfailInvalid (CF), 2 = VMfailValid (ZF). */
static inline int vmx_insn_result(uint8_t cf, uint8_t zf) { return cf ? 1 : zf ? 2 : 0; }

static inline int vmxon(uint64_t pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmxon %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
    return vmx_insn_result(cf, zf);
}

static inline int vmclear(uint64_t pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmclear %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
    return vmx_insn_result(cf, zf);
}

static inline int vmptrld(uint64_t pa)
{
    uint8_t cf, zf;
    __asm__ volatile("vmptrld %2; setc %0; setz %1" : "=qm"(cf), "=qm"(zf) : "m"(pa) : "cc", "memory");
    return vmx_insn_result(cf, zf);
}

static inline int vmread_checked(uint64_t field, uint64_t *val)
{
    uint8_t cf, zf;
    __asm__ volatile("vmread %3, %0; setc %1; setz %2"
                     : "=rm"(*val), "=qm"(cf), "=qm"(zf) : "r"(field) : "cc");
    return vmx_insn_result(cf, zf);
}

static inline int vmwrite_checked(uint64_t field, uint64_t val)
{
    uint8_t cf, zf;
    __asm__ volatile("vmwrite %2, %3; setc %0; setz %1"
                     : "=qm"(cf), "=qm"(zf) : "rm"(val), "r"(field) : "cc", "memory");
    return vmx_insn_result(cf, zf);
}

/* Panic with the field and the VM-instruction error (vmx/vmcs.c). */
_Noreturn void vmcs_access_failed(const char *op, uint64_t field, int result);

static inline uint64_t vmcs_read(uint64_t field)
{
    uint64_t v;
    int r = vmread_checked(field, &v);
    if (r)
        vmcs_access_failed("VMREAD", field, r);
    return v;
}

static inline void vmcs_write(uint64_t field, uint64_t val)
{
    int r = vmwrite_checked(field, val);
    if (r)
        vmcs_access_failed("VMWRITE", field, r);
}

#endif
