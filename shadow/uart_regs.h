/* PC16550D UART registers and bits, named as in the National datasheet. */
#ifndef SHADOW_UART_REGS_H
#define SHADOW_UART_REGS_H

#define UART_FIFO_SIZE  16

/* Register offsets from the base port; DLL/DLM replace 0/1 while LCR.DLAB. */
#define UART_RBR        0       /* receiver buffer (read) */
#define UART_THR        0       /* transmitter holding (write) */
#define UART_DLL        0       /* divisor latch LSB (DLAB) */
#define UART_IER        1       /* interrupt enable */
#define UART_DLM        1       /* divisor latch MSB (DLAB) */
#define UART_IIR        2       /* interrupt identification (read) */
#define UART_FCR        2       /* FIFO control (write) */
#define UART_LCR        3       /* line control */
#define UART_MCR        4       /* modem control */
#define UART_LSR        5       /* line status */
#define UART_MSR        6       /* modem status */
#define UART_SCR        7       /* scratch */

#define UART_IER_ERBFI  0x01    /* received data available (and timeout) */
#define UART_IER_ETBEI  0x02    /* transmitter holding register empty */
#define UART_IER_ELSI   0x04    /* receiver line status */
#define UART_IER_EDSSI  0x08    /* modem status */
#define UART_IER_MASK   0x0f

#define UART_IIR_NO_INT 0x01    /* bit 0 clear: an interrupt is pending */
#define UART_IIR_MSI    0x00    /* modem status */
#define UART_IIR_THRI   0x02    /* transmitter holding register empty */
#define UART_IIR_RDI    0x04    /* received data available */
#define UART_IIR_RLSI   0x06    /* receiver line status */
#define UART_IIR_CTI    0x0c    /* character timeout */
#define UART_IIR_FIFOS  0xc0    /* bits 6-7: FIFOs enabled (FCR0) */

#define UART_FCR_FIFOE  0x01    /* FIFO enable; other bits need it set */
#define UART_FCR_RFRES  0x02    /* clear receiver FIFO (self-clearing) */
#define UART_FCR_XFRES  0x04    /* clear transmitter FIFO (self-clearing) */
#define UART_FCR_DMA    0x08    /* DMA mode select (RXRDY/TXRDY pins) */
#define UART_FCR_TRIG_1  0x00   /* receiver trigger level, bits 6-7 */
#define UART_FCR_TRIG_4  0x40
#define UART_FCR_TRIG_8  0x80
#define UART_FCR_TRIG_14 0xc0
#define UART_FCR_TRIG_MASK 0xc0

#define UART_LCR_WLS    0x03    /* word length select: 5 + value bits */
#define UART_LCR_STB    0x04    /* stop bits */
#define UART_LCR_PEN    0x08    /* parity enable */
#define UART_LCR_EPS    0x10    /* even parity select */
#define UART_LCR_SP     0x20    /* stick parity */
#define UART_LCR_SBRK   0x40    /* set break */
#define UART_LCR_DLAB   0x80    /* divisor latch access */

#define UART_MCR_DTR    0x01
#define UART_MCR_RTS    0x02
#define UART_MCR_OUT1   0x04
#define UART_MCR_OUT2   0x08    /* gates the IRQ onto the PC bus */
#define UART_MCR_LOOP   0x10
#define UART_MCR_MASK   0x1f

#define UART_LSR_DR     0x01    /* data ready */
#define UART_LSR_OE     0x02    /* overrun error */
#define UART_LSR_PE     0x04    /* parity error */
#define UART_LSR_FE     0x08    /* framing error */
#define UART_LSR_BI     0x10    /* break interrupt */
#define UART_LSR_THRE   0x20    /* transmitter holding register empty */
#define UART_LSR_TEMT   0x40    /* transmitter empty */
#define UART_LSR_RXFE   0x80    /* error in receiver FIFO */
#define UART_LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)

#define UART_MSR_DCTS   0x01    /* delta clear to send */
#define UART_MSR_DDSR   0x02    /* delta data set ready */
#define UART_MSR_TERI   0x04    /* trailing edge ring indicator */
#define UART_MSR_DDCD   0x08    /* delta data carrier detect */
#define UART_MSR_CTS    0x10
#define UART_MSR_DSR    0x20
#define UART_MSR_RI     0x40
#define UART_MSR_DCD    0x80
#define UART_MSR_DELTAS 0x0f

#endif
