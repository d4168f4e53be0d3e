/* Shadow PC16550D UART: the tenant's serial port, served inside vsbypass.
 *
 * A pure state machine: the VM-exit handler forwards the guest's port
 * accesses as uart_read/uart_write at offsets 0-7 and samples uart_irq_line
 * afterwards; the console service drains uart_output and feeds keystrokes in
 * with uart_input. The wire is infinitely fast: a byte written to THR is on
 * the output ring at once, so THR and the transmitter are always empty. Line
 * parameters (divisor, word length, parity) are kept for the guest to read
 * back but do not alter the byte stream.
 *
 * Nothing here locks: the owner serializes every call on one struct uart. */
#ifndef SHADOW_UART_H
#define SHADOW_UART_H
#include "shadow/ring.h"
#include "shadow/uart_regs.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uart {
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    uint8_t fcr;                /* FIFOE, DMA and trigger bits as programmed */
    uint8_t lsr_errors;         /* OE/PE/FE/BI/RXFE latched until LSR is read */
    uint8_t msr_deltas;         /* MSR bits 0-3, cleared when MSR is read */
    bool thre_pending;          /* THR-empty interrupt armed */
    bool irq;                   /* IRQ output level after the last call */
    /* Receiver FIFO, one entry deep in 16450 mode: each character with the
     * PE/FE/BI bits it was received with. */
    uint8_t rx_data[UART_FIFO_SIZE];
    uint8_t rx_err[UART_FIFO_SIZE];
    uint8_t rx_head, rx_count;
    struct ring out;            /* transmitted bytes: the scrollback */
    /* Observability. */
    uint64_t tx_bytes;          /* THR writes, loopback included */
    uint64_t rx_bytes;          /* characters that entered the receiver buffer */
    uint64_t overruns;          /* characters that found it full (LSR.OE) */
    uint64_t irqs_raised;       /* rising edges of the IRQ output */
};

/* Resets the UART (IER=0, IIR=0x01, LCR=0, MCR=0, LSR=0x60, FIFOs off, MSR
 * deltas clear) with an empty output ring over ring_buf, whose size must be a
 * nonzero power of two. */
void uart_init(struct uart *u, uint8_t *ring_buf, size_t ring_size);

/* A guest access to the register at `offset` (0-7; others read 0xff and
 * ignore writes), with the side effects of the datasheet: reading RBR pops
 * the FIFO, IIR acknowledges THRE, LSR and MSR clear their latched bits. */
uint8_t uart_read(struct uart *u, unsigned offset);
void uart_write(struct uart *u, unsigned offset, uint8_t val);

/* Level of the IRQ output as the PC wires it: an enabled interrupt is
 * pending and MCR.OUT2 is set, and the port is not in loopback. */
static inline bool uart_irq_line(const struct uart *u) { return u->irq; }

/* Characters the receiver can take from the console now: the free FIFO
 * entries, or 0 in loopback (the serial input is disconnected). */
size_t uart_input_room(const struct uart *u);

/* Receives up to n characters from the console; returns how many were taken
 * (at most uart_input_room). The caller keeps the rest for later. */
size_t uart_input(struct uart *u, const uint8_t *buf, size_t n);

/* Receives a break: a 0 character with BI and FE, a line-status event.
 * Returns false, receiving nothing, when there is no room. */
bool uart_input_break(struct uart *u);

/* The ring of transmitted bytes, for the console service's readers. */
static inline struct ring *uart_output(struct uart *u) { return &u->out; }

#endif
