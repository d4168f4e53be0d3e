/* VM exits caused by L1 executing VMX instructions (vmx/nested_exits.c). */
#ifndef VMX_NESTED_EXITS_H
#define VMX_NESTED_EXITS_H
#include "vmx/vcpu.h"

void nested_exit_vmx_insn(struct vcpu *v, unsigned reason);

#endif
