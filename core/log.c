/*
 * Console: each kprintf is formatted into a line buffer, then written whole
 * to every configured output under one lock, so lines from different CPUs
 * never interleave.
 */
#include "core/log.h"
#include "core/cpu.h"
#include "core/fmt.h"
#include "core/hw.h"
#include "core/spinlock.h"
#include <stdbool.h>
#include <stdint.h>

static const uint16_t com_ports[4] = { 0x3F8, 0x2F8, 0x3E8, 0x2E8 };
static unsigned con_outputs = CON_DEFAULT;
static unsigned com_present;
static struct spinlock con_lock = SPINLOCK_INIT;
static volatile int con_owner = -1;   /* CPU holding con_lock, for panics inside printing */

#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7
#define LSR_THRE 0x20

static bool uart_probe_init(uint16_t base)
{
    /* The scratch register round-trips on a real 16550; absent ports float. */
    outb(base + UART_SCR, 0x5A);
    if (inb(base + UART_SCR) != 0x5A)
        return false;
    outb(base + UART_IER, 0x00);
    outb(base + UART_LCR, 0x80);        /* DLAB: divisor 1 = 115200 baud */
    outb(base + 0, 0x01);
    outb(base + 1, 0x00);
    outb(base + UART_LCR, 0x03);        /* 8N1 */
    outb(base + UART_FCR, 0xC7);        /* FIFOs on, cleared */
    outb(base + UART_MCR, 0x03);        /* DTR, RTS */
    return true;
}

static void uart_putc(uint16_t base, char c)
{
    for (unsigned spin = 0; spin < 100000; spin++)
        if (inb(base + UART_LSR) & LSR_THRE)
            break;
    outb(base + UART_THR, (uint8_t)c);
}

void con_init(unsigned outputs)
{
    con_outputs = outputs;
    for (unsigned i = 0; i < 4; i++)
        if ((outputs & (CON_COM1 << i)) && !(com_present & (1u << i)) &&
            uart_probe_init(com_ports[i]))
            com_present |= 1u << i;
}

static void con_write(const char *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        char c = s[i];
        for (unsigned p = 0; p < 4; p++) {
            if (!(con_outputs & com_present & (1u << p)))
                continue;
            if (c == '\n')
                uart_putc(com_ports[p], '\r');
            uart_putc(com_ports[p], c);
        }
        if (con_outputs & CON_E9)
            outb(0xE9, (uint8_t)c);
    }
}

struct line_buf {
    char buf[256];
    unsigned n;
};

static void line_sink(void *ctx, char c)
{
    struct line_buf *lb = ctx;
    if (lb->n == sizeof(lb->buf)) {
        con_write(lb->buf, lb->n);
        lb->n = 0;
    }
    lb->buf[lb->n++] = c;
}

void kvprintf(const char *fmt, va_list ap)
{
    int me = (int)cpu_current_id();
    bool nested = con_owner == me;      /* a fault while this CPU printed */
    if (!nested)
        spin_lock(&con_lock);
    con_owner = me;
    struct line_buf lb;
    lb.n = 0;
    fmt_vformat(line_sink, &lb, fmt, ap);
    con_write(lb.buf, lb.n);
    if (!nested) {
        con_owner = -1;
        spin_unlock(&con_lock);
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
}

_Noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    irq_disable();
    kprintf("\nPANIC on cpu%u: ", cpu_current_id());
    va_start(ap, fmt);
    kvprintf(fmt, ap);
    va_end(ap);
    kprintf("\nvsbypass: cpu%u halted\n", cpu_current_id());
    for (;;)
        cpu_halt();
}
