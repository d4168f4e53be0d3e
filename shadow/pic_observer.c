/* 8259A command decoding (Intel 8259A data sheet: ICW1-4, OCW1-3). */
#include "shadow/pic_observer.h"
#include "core/libc.h"

void pic_observer_init(struct pic_observer *p)
{
    memset(p, 0, sizeof(*p));
    p->imr[0] = p->imr[1] = 0xFF;
}

static unsigned highest(uint8_t bits)
{
    for (unsigned i = 0; i < 8; i++)
        if (bits & (1u << i))
            return i;
    return 8;
}

bool pic_observer_write(struct pic_observer *p, uint16_t port, uint8_t v)
{
    unsigned c = (port & 0x80) ? 1 : 0;         /* 0x20/0x21 master, 0xA0/0xA1 slave */
    bool data = port & 1;
    if (!data && (v & 0x10)) {                   /* ICW1: restart initialisation */
        p->icw_step[c] = 2;
        p->icw4_needed[c] = v & 1;
        p->imr[c] = 0;
        if (c == 0)
            p->isr = p->irr = 0;
        return false;
    }
    if (data) {
        switch (p->icw_step[c]) {
        case 2:
            p->base[c] = v & 0xF8;
            p->icw_step[c] = 3;                 /* cascaded mode assumed: ICW3 follows */
            return false;
        case 3:
            p->icw_step[c] = p->icw4_needed[c] ? 4 : 0;
            if (!p->icw4_needed[c] && c == 0)
                p->initialized = true;
            return false;
        case 4:
            if (c == 0) {
                p->auto_eoi = v & 2;
                p->initialized = true;
            }
            p->icw_step[c] = 0;
            return false;
        default:
            p->imr[c] = v;                      /* OCW1 */
            return false;
        }
    }
    if (c != 0 || (v & 0x18) != 0)              /* slave commands, OCW3: not ours */
        return false;
    /* OCW2: non-specific EOI (001) or specific EOI (011) for a line. */
    unsigned op = v >> 5;
    unsigned line = op == 1 ? highest(p->isr) : op == 3 ? (v & 7) : 8;
    if (line < 8 && (p->isr & (1u << line)) && line == highest(p->isr)) {
        p->isr &= (uint8_t)~(1u << line);
        return true;
    }
    return false;
}

void pic_observer_raise(struct pic_observer *p, unsigned line)
{
    if (line < 8 && (PIC_OWNED_LINES & (1u << line)))
        p->irr |= (uint8_t)(1u << line);
}

static unsigned pending_line(const struct pic_observer *p)
{
    uint8_t ready = p->irr & (uint8_t)~p->imr[0] & PIC_OWNED_LINES;
    if (!p->initialized || !ready)
        return 8;
    unsigned line = highest(ready);
    if (p->isr && highest(p->isr) <= line)
        return 8;                               /* an equal or higher line is in service */
    return line;
}

int pic_observer_pending(const struct pic_observer *p)
{
    unsigned line = pending_line(p);
    return line < 8 ? p->base[0] + (int)line : -1;
}

void pic_observer_ack(struct pic_observer *p)
{
    unsigned line = pending_line(p);
    if (line == 8)
        return;
    p->irr &= (uint8_t)~(1u << line);
    if (!p->auto_eoi)
        p->isr |= (uint8_t)(1u << line);
}
