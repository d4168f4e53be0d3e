/* The cloud VM's writes to its local APIC, forwarded with INIT kept back. */
#ifndef VMX_LAPIC_H
#define VMX_LAPIC_H
#include "vmx/vcpu.h"

/* Physical address of the xAPIC page the EPT makes read-only (core value). */
uint64_t lapic_guest_page(void);

/* Emulates a guest store to the APIC page at `gpa`. Returns false when the
 * instruction cannot be decoded (the caller stops the guest). */
bool lapic_emulate_write(struct vcpu *v, uint64_t gpa);

/* An NMI for this CPU's guest (an NMI exit, or one vsbypass took in root
 * mode): a virtual INIT for this CPU, or a real NMI to deliver to L1. */
void lapic_nmi_exit(struct vcpu *v);
/* Delivers a pending NMI to L1 if it can take one now, else arms the NMI
 * window (VMCS01 current). `at_window`: called from an NMI-window exit. */
void lapic_nmi_deliver(struct vcpu *v, bool at_window);

#endif
