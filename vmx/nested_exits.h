/* VM exits caused by L1 executing VMX instructions (vmx/nested_exits.c). */
#ifndef VMX_NESTED_EXITS_H
#define VMX_NESTED_EXITS_H
#include "vmx/vcpu.h"
#include <stdbool.h>
#include <stddef.h>

void nested_exit_vmx_insn(struct vcpu *v, unsigned reason);
struct nested_vcpu *nested_vcpu_of(unsigned cpu);

/* vmx/nested_entry.c: VMLAUNCH/VMRESUME, L2 exits, EPT02. */
struct nested_vcpu;
/* Returns 0 (L2 entered: VMCS02 is current) or a VM-instruction error. */
unsigned nested_enter_l2(struct vcpu *v, struct nested_vcpu *n, bool launch);
/* An exit while L2 runs: handled in L0 or reflected to L1. */
void nested_l2_exit(struct vcpu *v, unsigned reason);
/* The CPU refused VMCS02 (VMfailValid): L1 sees VMfailValid with `error`. */
void nested_entry_failed(struct vcpu *v, uint64_t error);
/* L1 executed INVVPID: L2's TLB entries go. */
void nested_invvpid(struct vcpu *v);
/* VMCS02 no longer mirrors `vmcs12` (VMCLEAR of it, or ~0: whatever it
 * mirrors): the next entry builds it in full. */
void nested_vmcs02_forget(struct vcpu *v, uint64_t vmcs12);
/* Makes `pages` pages from L2 `gpa` not present in EPT02 (refilled on use). */
void nested_ept02_unmap(struct vcpu *v, uint64_t gpa, unsigned pages);
/* Drops EPT02 (INVEPT, or the EPTP12 changed). */
void nested_flush_ept02(struct vcpu *v);
/* Reads or writes the running L2 guest's physical memory as EPT12 maps it
 * (its VGA window: vsbypass's backing), never the hypervisor region or a
 * hidden device, honouring EPT12's read/write rights. 0, or -1 when any
 * byte is not reachable. */
int nested_l2_phys_io(struct vcpu *v, uint64_t gpa, void *buf, size_t n, bool write);

#endif
