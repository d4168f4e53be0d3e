/* The cloud VM's writes to its local APIC, forwarded with INIT kept back. */
#ifndef VMX_LAPIC_H
#define VMX_LAPIC_H
#include "vmx/vcpu.h"

/* Physical address of the xAPIC page the EPT makes read-only (core value). */
uint64_t lapic_guest_page(void);

/* Emulates a guest store to the APIC page at `gpa`. Returns false when the
 * instruction cannot be decoded (the caller stops the guest). */
bool lapic_emulate_write(struct vcpu *v, uint64_t gpa);

/* An NMI VM exit: a virtual INIT for this CPU, or a real NMI to reinject. */
void lapic_nmi_exit(struct vcpu *v);

#endif
