/*
 * What vsbypass needs to know of a user VM's 8259A pair to deliver the
 * shadow devices' interrupts without a helper in the cloud VM
 * (docs/interrupts.md): the vector bases and masks L2 programs (its writes
 * still go on to L1's PIC model), and IRR/ISR for the lines vsbypass owns.
 */
#ifndef SHADOW_PIC_OBSERVER_H
#define SHADOW_PIC_OBSERVER_H
#include <stdbool.h>
#include <stdint.h>

#define PIC_OWNED_LINES ((1u << 1) | (1u << 4))    /* keyboard, COM1 */

struct pic_observer {
    uint8_t base[2];        /* ICW2 of master and slave */
    uint8_t imr[2];
    uint8_t icw_step[2];    /* 0 = idle, 2..4 = next ICW expected */
    bool icw4_needed[2];
    bool auto_eoi;
    bool initialized;       /* master got a full ICW sequence */
    uint8_t irr, isr;       /* owned lines only (master) */
};

void pic_observer_init(struct pic_observer *p);

/* An L2 write to 0x20/0x21/0xA0/0xA1. Returns true if the write is an EOI
 * that belongs to vsbypass (an owned line was the highest in service): the
 * caller must not reflect it to L1. */
bool pic_observer_write(struct pic_observer *p, uint16_t port, uint8_t value);

/* Sets or clears the request of an owned line (edge: set on a rising line). */
void pic_observer_raise(struct pic_observer *p, unsigned line);

/* The vector to inject now, or -1: nothing pending, not initialised,
 * masked, or an equal or higher line already in service. */
int pic_observer_pending(const struct pic_observer *p);
/* The pending vector was injected: moves its line from IRR to ISR. */
void pic_observer_ack(struct pic_observer *p);

#endif
