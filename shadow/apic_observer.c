/* The IOAPIC/LAPIC observer (shadow/apic_observer.h): pure bookkeeping. */
#include "shadow/apic_observer.h"
#include "core/libc.h"

#define REDIR_MASKED    (1ULL << 16)
#define REDIR_MODE(e)   (((e) >> 8) & 7)        /* 0 fixed, 1 lowest priority */
#define OWNED_GSIS      ((1u << 1) | (1u << 4))

void apic_observer_init(struct apic_observer *a)
{
    memset(a, 0, sizeof(*a));
    for (unsigned i = 0; i < APIC_OBS_PINS; i++)
        a->redir[i] = REDIR_MASKED;             /* the IOAPIC's reset state */
}

void apic_observer_ioapic_write(struct apic_observer *a, uint32_t offset, uint32_t value)
{
    if (offset == 0x00) {
        a->regsel = value & 0xFF;
        return;
    }
    if (offset != 0x10 || a->regsel < 0x10 || a->regsel >= 0x10 + 2 * APIC_OBS_PINS)
        return;
    unsigned pin = (a->regsel - 0x10) / 2;
    uint64_t e = a->redir[pin];
    if (a->regsel & 1)
        e = (e & 0xFFFFFFFFULL) | (uint64_t)value << 32;
    else
        e = (e & ~0xFFFFFFFFULL) | value;
    a->redir[pin] = e;
}

bool apic_observer_routes(const struct apic_observer *a, unsigned gsi)
{
    if (gsi >= APIC_OBS_PINS || !(OWNED_GSIS & (1u << gsi)))
        return false;
    uint64_t e = a->redir[gsi];
    return !(e & REDIR_MASKED) && REDIR_MODE(e) <= 1 && (e & 0xFF) >= 16;
}

void apic_observer_raise(struct apic_observer *a, unsigned gsi)
{
    if (gsi < 8 && (OWNED_GSIS & (1u << gsi)))
        a->irr |= (uint8_t)(1u << gsi);
}

static bool bit(const uint32_t *set, unsigned v) { return set[v / 32] >> (v % 32) & 1; }
static void set_bit(uint32_t *set, unsigned v) { set[v / 32] |= 1u << (v % 32); }
static void clear_bit(uint32_t *set, unsigned v) { set[v / 32] &= ~(1u << (v % 32)); }

/* Owned lines in priority order of their vectors: the highest vector first. */
static int pending_gsi(struct apic_observer *a)
{
    int best = -1;
    for (unsigned gsi = 0; gsi < 8; gsi++) {
        if (!(a->irr & (1u << gsi)))
            continue;
        if (!apic_observer_routes(a, gsi)) {
            a->irr &= (uint8_t)~(1u << gsi);
            continue;
        }
        if (best < 0 || (a->redir[gsi] & 0xFF) > (a->redir[best] & 0xFF))
            best = (int)gsi;
    }
    return best;
}

int apic_observer_pending(struct apic_observer *a)
{
    int gsi = pending_gsi(a);
    if (gsi < 0)
        return -1;
    unsigned vec = (unsigned)(a->redir[gsi] & 0xFF);
    /* Behind one of vsbypass's own vectors in service at the same or a
     * higher priority class it waits for that EOI, as the local APIC would.
     * L1's vectors in service do not hold it back: L2 takes interrupts only
     * with IF set, and a stale one (an EOI vsbypass did not see) must not
     * hold the console's interrupts back for good. */
    for (unsigned v = vec & 0xF0; v < 256; v++)
        if (bit(a->isr_l0, v))
            return -1;
    return (int)vec;
}

void apic_observer_ack(struct apic_observer *a)
{
    int gsi = pending_gsi(a);
    if (gsi < 0)
        return;
    a->irr &= (uint8_t)~(1u << gsi);
    set_bit(a->isr_l0, (unsigned)(a->redir[gsi] & 0xFF));
}

void apic_observer_l1_injected(struct apic_observer *a, uint8_t vector)
{
    if (vector >= 16)
        set_bit(a->isr_l1, vector);
}

bool apic_observer_eoi(struct apic_observer *a)
{
    for (int v = 255; v >= 16; v--) {
        if (bit(a->isr_l0, (unsigned)v)) {
            clear_bit(a->isr_l0, (unsigned)v);
            a->eois_kept++;
            return true;
        }
        if (bit(a->isr_l1, (unsigned)v)) {
            clear_bit(a->isr_l1, (unsigned)v);
            return false;
        }
    }
    return false;
}
