/*
 * What vsbypass needs to know of a user VM's IOAPIC and local APIC to
 * deliver the shadow devices' interrupts when L2 routes ISA IRQs through
 * its IOAPIC instead of its 8259s (docs/interrupts.md, step 6). L2's
 * writes to both still go on to L1's models; vsbypass only watches:
 *  - the IOAPIC's redirection entries for the owned lines (GSI 1 and 4),
 *    from IOREGSEL/IOWIN writes;
 *  - which vectors are in service in L2's local APIC, as far as vsbypass
 *    injected them itself or saw L1 inject them (VMCS12's VM-entry
 *    interruption information), so that an EOI, which retires the highest
 *    vector in service, is recognised as vsbypass's and kept from L1.
 */
#ifndef SHADOW_APIC_OBSERVER_H
#define SHADOW_APIC_OBSERVER_H
#include <stdbool.h>
#include <stdint.h>

#define APIC_OBS_PINS       24

struct apic_observer {
    uint32_t regsel;                    /* IOREGSEL as L2 last wrote it */
    uint64_t redir[APIC_OBS_PINS];      /* redirection entries as written */
    uint8_t irr;                        /* owned lines raised, not yet injected */
    uint32_t isr_l0[8], isr_l1[8];      /* in-service vectors by who injected them */
    uint64_t eois_kept;                 /* EOIs retired for vsbypass (not reflected) */
};

void apic_observer_init(struct apic_observer *a);

/* An L2 32-bit write at `offset` in the IOAPIC page (0x00 IOREGSEL, 0x10 IOWIN). */
void apic_observer_ioapic_write(struct apic_observer *a, uint32_t offset, uint32_t value);

/* Whether the IOAPIC routes owned line `gsi` (unmasked, fixed or lowest
 * priority delivery, a vector of 16 or more). */
bool apic_observer_routes(const struct apic_observer *a, unsigned gsi);

/* An owned line rose (edge): remembered until injected. */
void apic_observer_raise(struct apic_observer *a, unsigned gsi);

/* The vector to inject now for a raised, routed line, or -1; lines raised
 * while not routed are forgotten (an unrouted edge reaches no CPU). */
int apic_observer_pending(struct apic_observer *a);
/* The pending vector was injected: it is in service for vsbypass. */
void apic_observer_ack(struct apic_observer *a);

/* L1 injected external-interrupt `vector` into L2 (nested VM entry). */
void apic_observer_l1_injected(struct apic_observer *a, uint8_t vector);

/* L2 wrote its local APIC's EOI register. True: the highest vector in
 * service was vsbypass's (retired here; the write must not reach L1). */
bool apic_observer_eoi(struct apic_observer *a);

#endif
