/* VMCS shadowing for L1's VMREAD/VMWRITE (vmx/vmcs_shadow.c). */
#ifndef VMX_VMCS_SHADOW_H
#define VMX_VMCS_SHADOW_H
#include "vmx/nested.h"
#include "vmx/vcpu.h"
#include <stdbool.h>
#include <stdint.h>

/* Once, on the BSP after the nested offer is known; false: not used. */
bool vmcs_shadow_setup(bool nested_offered);
/* On each CPU with its VMCS01 current: its shadow VMCS and the bitmaps. */
void vmcs_shadow_vcpu_init(struct vcpu *v);
/* At a VMX-instruction exit, before VMCS12 is read: L1's writes. */
void vmcs_shadow_pull(struct vcpu *v, struct nested_vcpu *n);
/* After vsbypass changed VMCS12, VMCS01 current: to the shadow VMCS, and
 * shadowing on or off as L1 has a current VMCS12 or not. */
void vmcs_shadow_push(struct vcpu *v, struct nested_vcpu *n);
void vmcs_shadow_stats(uint64_t *pulls, uint64_t *pushes);

#endif
