#include "shadow/uart.h"
#include "core/libc.h"

/* Outside loopback the console is a null-modem cable that is always attached:
 * the peer asserts CTS, DSR and DCD and never rings. */
#define UART_CABLE_LINES (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

static const uint8_t uart_trigger_levels[4] = { 1, 4, 8, 14 };

static bool fifo_on(const struct uart *u) { return u->fcr & UART_FCR_FIFOE; }
static bool loopback(const struct uart *u) { return u->mcr & UART_MCR_LOOP; }

static size_t rx_capacity(const struct uart *u) { return fifo_on(u) ? UART_FIFO_SIZE : 1; }

static size_t rx_trigger(const struct uart *u)
{
    return fifo_on(u) ? uart_trigger_levels[(u->fcr & UART_FCR_TRIG_MASK) >> 6] : 1;
}

/* MSR bits 4-7: the modem inputs, which loopback wires to the MCR outputs. */
static uint8_t modem_lines(const struct uart *u)
{
    if (!loopback(u))
        return UART_CABLE_LINES;
    uint8_t m = u->mcr;
    return (uint8_t)((m & UART_MCR_RTS ? UART_MSR_CTS : 0) |
                     (m & UART_MCR_DTR ? UART_MSR_DSR : 0) |
                     (m & UART_MCR_OUT1 ? UART_MSR_RI : 0) |
                     (m & UART_MCR_OUT2 ? UART_MSR_DCD : 0));
}

/* Each delta bit sits four below its line; RI counts only its trailing edge
 * (asserted to deasserted), the others any change. */
static uint8_t modem_deltas(uint8_t old, uint8_t now)
{
    uint8_t changed = (uint8_t)((old ^ now) & ~UART_MSR_RI);
    uint8_t ri_fell = (uint8_t)(old & ~now & UART_MSR_RI);
    return (uint8_t)((changed | ri_fell) >> 4);
}

/* The highest-priority enabled interrupt, as IIR bits 0-3. */
static uint8_t pending_source(const struct uart *u)
{
    if ((u->ier & UART_IER_ELSI) && (u->lsr_errors & UART_LSR_ERRORS))
        return UART_IIR_RLSI;
    /* Data below the trigger level stands for a character timeout: the wire
     * is idle between console writes, so the timeout has always expired. */
    if ((u->ier & UART_IER_ERBFI) && u->rx_count)
        return u->rx_count >= rx_trigger(u) ? UART_IIR_RDI : UART_IIR_CTI;
    if ((u->ier & UART_IER_ETBEI) && u->thre_pending)
        return UART_IIR_THRI;
    if ((u->ier & UART_IER_EDSSI) && u->msr_deltas)
        return UART_IIR_MSI;
    return UART_IIR_NO_INT;
}

static void update_irq(struct uart *u)
{
    bool level = pending_source(u) != UART_IIR_NO_INT &&
                 (u->mcr & (UART_MCR_OUT2 | UART_MCR_LOOP)) == UART_MCR_OUT2;
    if (level && !u->irq)
        u->irqs_raised++;
    u->irq = level;
}

static void rx_clear(struct uart *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
}

/* A character arrives from the line (console or loopback). Its PE/FE/BI show
 * in LSR once it is at the top of the FIFO; RXFE as soon as it is queued. */
static void rx_push(struct uart *u, uint8_t c, uint8_t err)
{
    if (u->rx_count == rx_capacity(u)) {
        u->lsr_errors |= UART_LSR_OE;
        u->overruns++;
        /* A full FIFO keeps its contents and loses the new character; the
         * 16450 holding register is overwritten by it instead. */
        if (fifo_on(u))
            return;
        rx_clear(u);
    }
    uint8_t tail = (uint8_t)((u->rx_head + u->rx_count) % UART_FIFO_SIZE);
    u->rx_data[tail] = c;
    u->rx_err[tail] = err;
    u->rx_count++;
    u->rx_bytes++;
    if (err && fifo_on(u))
        u->lsr_errors |= UART_LSR_RXFE;
    if (u->rx_count == 1)
        u->lsr_errors |= err;
}

static uint8_t rx_pop(struct uart *u)
{
    if (!u->rx_count)
        return 0;
    uint8_t c = u->rx_data[u->rx_head];
    u->rx_head = (uint8_t)((u->rx_head + 1) % UART_FIFO_SIZE);
    u->rx_count--;
    if (u->rx_count)
        u->lsr_errors |= u->rx_err[u->rx_head];
    return c;
}

/* Whether a character behind the top of the FIFO carries an error. */
static bool rx_errors_queued(const struct uart *u)
{
    for (size_t i = 1; i < u->rx_count; i++)
        if (u->rx_err[(u->rx_head + i) % UART_FIFO_SIZE])
            return true;
    return false;
}

static uint8_t read_lsr(struct uart *u)
{
    uint8_t v = (uint8_t)(u->lsr_errors | UART_LSR_THRE | UART_LSR_TEMT |
                          (u->rx_count ? UART_LSR_DR : 0));
    /* Reading clears the latched errors; RXFE survives only for errors of
     * characters still waiting behind the one just reported. */
    u->lsr_errors = rx_errors_queued(u) ? UART_LSR_RXFE : 0;
    return v;
}

static uint8_t read_iir(struct uart *u)
{
    uint8_t src = pending_source(u);
    if (src == UART_IIR_THRI)
        u->thre_pending = false;
    return (uint8_t)(src | (fifo_on(u) ? UART_IIR_FIFOS : 0));
}

static uint8_t read_msr(struct uart *u)
{
    uint8_t v = (uint8_t)(modem_lines(u) | u->msr_deltas);
    u->msr_deltas = 0;
    return v;
}

void uart_init(struct uart *u, uint8_t *ring_buf, size_t ring_size)
{
    memset(u, 0, sizeof(*u));
    ring_init(&u->out, ring_buf, ring_size);
}

uint8_t uart_read(struct uart *u, unsigned offset)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    uint8_t v;
    switch (offset) {
    case UART_RBR: v = dlab ? u->dll : rx_pop(u); break;
    case UART_IER: v = dlab ? u->dlm : u->ier; break;
    case UART_IIR: v = read_iir(u); break;
    case UART_LCR: v = u->lcr; break;
    case UART_MCR: v = u->mcr; break;
    case UART_LSR: v = read_lsr(u); break;
    case UART_MSR: v = read_msr(u); break;
    case UART_SCR: v = u->scr; break;
    default: v = 0xff; break;
    }
    update_irq(u);
    return v;
}

static void write_thr(struct uart *u, uint8_t val)
{
    u->tx_bytes++;
    if (loopback(u))
        rx_push(u, val, 0);
    else
        ring_write(&u->out, &val, 1);
    /* The byte leaves at once, so THR is empty again: THRE re-arms. */
    u->thre_pending = true;
}

static void write_ier(struct uart *u, uint8_t val)
{
    uint8_t old = u->ier;
    u->ier = val & UART_IER_MASK;
    /* Enabling ETBEI while THR is empty (here: always) raises THRE. */
    if (u->ier & ~old & UART_IER_ETBEI)
        u->thre_pending = true;
}

static void write_fcr(struct uart *u, uint8_t val)
{
    /* Switching between 16450 and FIFO mode empties the FIFOs, and with FCR0
     * clear the other bits are not programmed. The transmitter FIFO is
     * always empty here, so XFRES has nothing to clear. */
    if ((val ^ u->fcr) & UART_FCR_FIFOE)
        rx_clear(u);
    if (!(val & UART_FCR_FIFOE)) {
        u->fcr = 0;
        return;
    }
    if (val & UART_FCR_RFRES)
        rx_clear(u);
    u->fcr = val & (UART_FCR_FIFOE | UART_FCR_DMA | UART_FCR_TRIG_MASK);
}

static void write_mcr(struct uart *u, uint8_t val)
{
    uint8_t old = modem_lines(u);
    u->mcr = val & UART_MCR_MASK;
    u->msr_deltas |= modem_deltas(old, modem_lines(u));
}

void uart_write(struct uart *u, unsigned offset, uint8_t val)
{
    bool dlab = u->lcr & UART_LCR_DLAB;
    switch (offset) {
    case UART_THR:
        if (dlab)
            u->dll = val;
        else
            write_thr(u, val);
        break;
    case UART_IER:
        if (dlab)
            u->dlm = val;
        else
            write_ier(u, val);
        break;
    case UART_FCR: write_fcr(u, val); break;
    case UART_LCR: u->lcr = val; break;
    case UART_MCR: write_mcr(u, val); break;
    case UART_SCR: u->scr = val; break;
    default: break;     /* LSR, MSR (read-only) and offsets past 7 */
    }
    update_irq(u);
}

size_t uart_input_room(const struct uart *u)
{
    /* In loopback the serial input is disconnected from the line. */
    return loopback(u) ? 0 : rx_capacity(u) - u->rx_count;
}

size_t uart_input(struct uart *u, const uint8_t *buf, size_t n)
{
    size_t room = uart_input_room(u);
    if (n > room)
        n = room;
    for (size_t i = 0; i < n; i++)
        rx_push(u, buf[i], 0);
    update_irq(u);
    return n;
}

bool uart_input_break(struct uart *u)
{
    if (!uart_input_room(u))
        return false;
    rx_push(u, 0, UART_LSR_BI | UART_LSR_FE);
    update_irq(u);
    return true;
}
