#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "shadow/uart.h"

static struct uart u;
static uint8_t ring_store[64];

static int setup(void **state)
{
    (void)state;
    uart_init(&u, ring_store, sizeof(ring_store));
    return 0;
}

static uint8_t rd(unsigned off) { return uart_read(&u, off); }
static void wr(unsigned off, uint8_t val) { uart_write(&u, off, val); }

static void input_seq(uint8_t base, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)(base + i);
        assert_int_equal(uart_input(&u, &c, 1), 1);
    }
}

/* Everything the console service would see on the output ring so far. */
static size_t drain_output(uint8_t *out, size_t n)
{
    uint64_t cur = ring_replay_start(uart_output(&u)), missed;
    return ring_read(uart_output(&u), &cur, out, n, &missed);
}

static void test_reset_state(void **state)
{
    (void)state;
    assert_int_equal(rd(UART_IER), 0x00);
    assert_int_equal(rd(UART_IIR), 0x01);
    assert_int_equal(rd(UART_LCR), 0x00);
    assert_int_equal(rd(UART_MCR), 0x00);
    assert_int_equal(rd(UART_LSR), 0x60);
    /* Null-modem peer: CTS, DSR, DCD asserted, no deltas. */
    assert_int_equal(rd(UART_MSR), 0xb0);
    assert_int_equal(rd(UART_SCR), 0x00);
    assert_false(uart_irq_line(&u));
    assert_int_equal(uart_input_room(&u), 1);
    assert_int_equal(u.tx_bytes + u.rx_bytes + u.overruns + u.irqs_raised, 0);
}

static void test_dlab_divisor_roundtrip(void **state)
{
    (void)state;
    wr(UART_IER, UART_IER_ERBFI | UART_IER_ELSI);
    wr(UART_LCR, UART_LCR_DLAB | 0x03);
    assert_int_equal(rd(UART_LCR), 0x83);
    wr(UART_DLL, 0x0c);
    wr(UART_DLM, 0x34);
    assert_int_equal(rd(UART_DLL), 0x0c);
    assert_int_equal(rd(UART_DLM), 0x34);
    /* The divisor writes neither transmitted nor touched IER. */
    assert_int_equal(ring_pos(uart_output(&u)), 0);
    assert_int_equal(u.tx_bytes, 0);
    wr(UART_LCR, 0x03);
    assert_int_equal(rd(UART_IER), 0x05);
    wr(UART_IER, 0x00);
    wr(UART_LCR, UART_LCR_DLAB | 0x1b);
    assert_int_equal(rd(UART_DLL), 0x0c);
    assert_int_equal(rd(UART_DLM), 0x34);
    assert_int_equal(rd(UART_LCR), 0x9b);
}

static void test_dlab_hides_rbr(void **state)
{
    (void)state;
    input_seq('a', 1);
    wr(UART_LCR, UART_LCR_DLAB);
    assert_int_equal(rd(UART_RBR), 0x00);   /* DLL, not the character */
    wr(UART_LCR, 0);
    assert_int_equal(rd(UART_RBR), 'a');
}

static void test_scr_roundtrip(void **state)
{
    (void)state;
    wr(UART_SCR, 0xa5);
    assert_int_equal(rd(UART_SCR), 0xa5);
    wr(UART_SCR, 0x5a);
    assert_int_equal(rd(UART_SCR), 0x5a);
}

static void test_reserved_bits_read_zero(void **state)
{
    (void)state;
    wr(UART_IER, 0xf0);
    assert_int_equal(rd(UART_IER), 0x00);
    wr(UART_MCR, 0xe3);
    assert_int_equal(rd(UART_MCR), 0x03);
}

static void test_offsets_past_7(void **state)
{
    (void)state;
    wr(8, 'x');
    assert_int_equal(rd(8), 0xff);
    assert_int_equal(u.tx_bytes, 0);
    /* LSR and MSR ignore writes. */
    wr(UART_LSR, 0x00);
    wr(UART_MSR, 0x0f);
    assert_int_equal(rd(UART_LSR), 0x60);
    assert_int_equal(rd(UART_MSR), 0xb0);
}

static void test_lsr_after_rx(void **state)
{
    (void)state;
    input_seq('A', 1);
    assert_int_equal(rd(UART_LSR), 0x61);
    assert_int_equal(rd(UART_RBR), 'A');
    assert_int_equal(rd(UART_LSR), 0x60);
    assert_int_equal(rd(UART_RBR), 0x00);   /* empty */
    assert_int_equal(u.rx_bytes, 1);
}

static void test_tx_to_output_ring(void **state)
{
    (void)state;
    uint8_t out[16];
    for (const char *p = "hello"; *p; p++) {
        wr(UART_THR, (uint8_t)*p);
        assert_int_equal(rd(UART_LSR), 0x60);
    }
    assert_int_equal(drain_output(out, sizeof(out)), 5);
    assert_memory_equal(out, "hello", 5);
    assert_int_equal(u.tx_bytes, 5);
}

static void test_output_scrollback_wraps(void **state)
{
    (void)state;
    uint8_t out[64];
    for (int i = 0; i < 100; i++)
        wr(UART_THR, (uint8_t)i);
    assert_int_equal(ring_dropped(uart_output(&u)), 36);
    assert_int_equal(drain_output(out, sizeof(out)), 64);
    assert_int_equal(out[0], 36);
    assert_int_equal(out[63], 99);
}

static void test_fifo_enable_iir_bits(void **state)
{
    (void)state;
    wr(UART_FCR, UART_FCR_FIFOE);
    assert_int_equal(rd(UART_IIR), 0xc1);
    assert_int_equal(uart_input_room(&u), 16);
    wr(UART_FCR, 0);
    assert_int_equal(rd(UART_IIR), 0x01);
    assert_int_equal(uart_input_room(&u), 1);
}

static void test_fcr_clear_rx(void **state)
{
    (void)state;
    wr(UART_FCR, UART_FCR_FIFOE);
    input_seq('a', 5);
    wr(UART_FCR, UART_FCR_FIFOE | UART_FCR_RFRES | UART_FCR_XFRES);
    assert_int_equal(rd(UART_LSR), 0x60);
    assert_int_equal(uart_input_room(&u), 16);
    assert_int_equal(rd(UART_IIR), 0xc1);
    /* Fresh data after the clear comes out first. */
    input_seq('x', 1);
    assert_int_equal(rd(UART_RBR), 'x');
}

static void test_fcr_mode_switch_clears(void **state)
{
    (void)state;
    wr(UART_FCR, UART_FCR_FIFOE);
    input_seq('a', 3);
    wr(UART_FCR, 0);
    assert_int_equal(rd(UART_LSR), 0x60);
    input_seq('b', 1);
    wr(UART_FCR, UART_FCR_FIFOE | UART_FCR_TRIG_4);
    assert_int_equal(rd(UART_LSR), 0x60);
}

static void test_fcr_without_fifoe_not_programmed(void **state)
{
    (void)state;
    input_seq('a', 1);
    /* RFRES without FCR0 is ignored: the holding register keeps its byte. */
    wr(UART_FCR, UART_FCR_RFRES | UART_FCR_TRIG_14);
    assert_int_equal(rd(UART_LSR), 0x61);
    assert_int_equal(rd(UART_IIR), 0x01);
    assert_int_equal(rd(UART_RBR), 'a');
}

static void check_trigger(uint8_t fcr, unsigned level)
{
    uart_init(&u, ring_store, sizeof(ring_store));
    wr(UART_FCR, (uint8_t)(UART_FCR_FIFOE | fcr));
    wr(UART_IER, UART_IER_ERBFI);
    assert_int_equal(rd(UART_IIR), 0xc1);
    for (unsigned n = 1; n < level; n++) {
        input_seq('0', 1);
        assert_int_equal(rd(UART_IIR), 0xcc);   /* below trigger: timeout */
    }
    input_seq('0', 1);
    assert_int_equal(rd(UART_IIR), 0xc4);
    input_seq('0', 1);
    assert_int_equal(rd(UART_IIR), 0xc4);
    rd(UART_RBR);
    assert_int_equal(rd(UART_IIR), 0xc4);
    rd(UART_RBR);
    assert_int_equal(rd(UART_IIR), level > 1 ? 0xcc : 0xc1);
    for (unsigned n = 1; n < level; n++)
        rd(UART_RBR);
    assert_int_equal(rd(UART_IIR), 0xc1);
    assert_int_equal(rd(UART_LSR), 0x60);
}

static void test_trigger_levels(void **state)
{
    (void)state;
    check_trigger(UART_FCR_TRIG_1, 1);
    check_trigger(UART_FCR_TRIG_4, 4);
    check_trigger(UART_FCR_TRIG_8, 8);
    check_trigger(UART_FCR_TRIG_14, 14);
}

static void test_overrun_fifo(void **state)
{
    (void)state;
    wr(UART_FCR, UART_FCR_FIFOE);
    wr(UART_MCR, UART_MCR_LOOP);
    for (int i = 0; i < 17; i++)
        wr(UART_THR, (uint8_t)i);
    assert_int_equal(u.overruns, 1);
    assert_int_equal(u.rx_bytes, 16);
    assert_int_equal(rd(UART_LSR), 0x63);
    assert_int_equal(rd(UART_LSR), 0x61);     /* OE cleared by the read */
    for (int i = 0; i < 16; i++)
        assert_int_equal(rd(UART_RBR), i);    /* the 17th was lost */
    assert_int_equal(rd(UART_LSR), 0x60);
}

static void test_overrun_16450_overwrites(void **state)
{
    (void)state;
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_THR, 'a');
    wr(UART_THR, 'b');
    assert_int_equal(u.overruns, 1);
    assert_int_equal(rd(UART_LSR), 0x63);
    assert_int_equal(rd(UART_RBR), 'b');
    assert_int_equal(rd(UART_LSR), 0x60);
}

static void test_overrun_raises_line_status(void **state)
{
    (void)state;
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_IER, UART_IER_ELSI);
    wr(UART_THR, 'a');
    assert_int_equal(rd(UART_IIR), 0x01);
    wr(UART_THR, 'b');
    assert_int_equal(rd(UART_IIR), 0x06);
    assert_int_equal(rd(UART_IIR), 0x06);     /* IIR read does not clear it */
    rd(UART_LSR);
    assert_int_equal(rd(UART_IIR), 0x01);
}

static void test_iir_priority(void **state)
{
    (void)state;
    /* Line status, data, THRE and modem status all pending at once. */
    wr(UART_FCR, UART_FCR_FIFOE | UART_FCR_TRIG_4);
    wr(UART_MCR, UART_MCR_LOOP);
    for (int i = 0; i < 17; i++)
        wr(UART_THR, (uint8_t)i);
    wr(UART_IER, UART_IER_MASK);
    assert_int_equal(rd(UART_IIR), 0xc6);
    rd(UART_LSR);
    assert_int_equal(rd(UART_IIR), 0xc4);
    for (int i = 0; i < 12; i++)
        rd(UART_RBR);
    assert_int_equal(rd(UART_IIR), 0xc4);     /* 4 left, trigger 4 ... */
    rd(UART_RBR);
    assert_int_equal(rd(UART_IIR), 0xcc);     /* ... 3 left: timeout */
    for (int i = 0; i < 3; i++)
        rd(UART_RBR);
    assert_int_equal(rd(UART_IIR), 0xc2);     /* THRE, acknowledged by the read */
    assert_int_equal(rd(UART_IIR), 0xc0);
    assert_int_equal(rd(UART_IIR), 0xc0);     /* modem status needs an MSR read */
    rd(UART_MSR);
    assert_int_equal(rd(UART_IIR), 0xc1);
}

static void test_iir_masked_sources(void **state)
{
    (void)state;
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_THR, 'a');
    wr(UART_THR, 'b');
    /* OE, data, THRE and MSR deltas are pending but only EDSSI is enabled. */
    wr(UART_IER, UART_IER_EDSSI);
    assert_int_equal(rd(UART_IIR), 0x00);
    rd(UART_MSR);
    assert_int_equal(rd(UART_IIR), 0x01);
}

static void test_thre_enable_raises(void **state)
{
    (void)state;
    wr(UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(UART_IIR), 0x02);
    assert_int_equal(rd(UART_IIR), 0x01);     /* the read acknowledged it */
    /* Rewriting IER with ETBEI already set is no new enable. */
    wr(UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(UART_IIR), 0x01);
    wr(UART_IER, 0);
    wr(UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(UART_IIR), 0x02);
}

static void test_thre_rearmed_by_thr_write(void **state)
{
    (void)state;
    wr(UART_IER, UART_IER_ETBEI);
    assert_int_equal(rd(UART_IIR), 0x02);
    assert_int_equal(rd(UART_IIR), 0x01);
    wr(UART_THR, 'x');
    assert_int_equal(rd(UART_IIR), 0x02);
    assert_int_equal(rd(UART_IIR), 0x01);
}

static void test_thre_survives_iir_read_of_other_source(void **state)
{
    (void)state;
    input_seq('a', 1);
    wr(UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
    assert_int_equal(rd(UART_IIR), 0x04);
    rd(UART_RBR);
    assert_int_equal(rd(UART_IIR), 0x02);
    assert_int_equal(rd(UART_IIR), 0x01);
}

static void test_irq_line_gated_by_out2(void **state)
{
    (void)state;
    wr(UART_IER, UART_IER_ETBEI);
    assert_false(uart_irq_line(&u));          /* pending, OUT2 low */
    wr(UART_MCR, UART_MCR_OUT2);
    assert_true(uart_irq_line(&u));
    assert_int_equal(u.irqs_raised, 1);
    wr(UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
    assert_false(uart_irq_line(&u));          /* never in loopback */
    wr(UART_MCR, UART_MCR_OUT2);
    assert_true(uart_irq_line(&u));
    assert_int_equal(u.irqs_raised, 2);
    rd(UART_IIR);
    assert_false(uart_irq_line(&u));
    assert_int_equal(u.irqs_raised, 2);
}

static void test_irq_edges_counted(void **state)
{
    (void)state;
    wr(UART_MCR, UART_MCR_OUT2);
    wr(UART_IER, UART_IER_ERBFI | UART_IER_ETBEI);
    assert_int_equal(u.irqs_raised, 1);
    /* Line stays high while THRE and data overlap: one edge. */
    input_seq('a', 1);
    wr(UART_THR, 'b');
    assert_true(uart_irq_line(&u));
    assert_int_equal(u.irqs_raised, 1);
    rd(UART_RBR);
    rd(UART_IIR);
    assert_false(uart_irq_line(&u));
    input_seq('c', 1);
    assert_true(uart_irq_line(&u));
    assert_int_equal(u.irqs_raised, 2);
}

static void test_loopback_data_path(void **state)
{
    (void)state;
    wr(UART_MCR, UART_MCR_LOOP);
    wr(UART_THR, 'x');
    assert_int_equal(ring_pos(uart_output(&u)), 0);
    assert_int_equal(rd(UART_LSR), 0x61);
    assert_int_equal(rd(UART_RBR), 'x');
    assert_int_equal(u.tx_bytes, 1);
    assert_int_equal(u.rx_bytes, 1);
    /* The serial input is disconnected: console input waits. */
    assert_int_equal(uart_input_room(&u), 0);
    assert_int_equal(uart_input(&u, (const uint8_t *)"k", 1), 0);
    assert_false(uart_input_break(&u));
    wr(UART_MCR, 0);
    wr(UART_THR, 'y');
    assert_int_equal(ring_pos(uart_output(&u)), 1);
    assert_int_equal(uart_input(&u, (const uint8_t *)"k", 1), 1);
}

static void test_loopback_msr_mapping(void **state)
{
    (void)state;
    wr(UART_MCR, UART_MCR_LOOP);
    assert_int_equal(rd(UART_MSR) & 0xf0, 0x00);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
    assert_int_equal(rd(UART_MSR) & 0xf0, UART_MSR_CTS);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
    assert_int_equal(rd(UART_MSR) & 0xf0, UART_MSR_DSR);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
    assert_int_equal(rd(UART_MSR) & 0xf0, UART_MSR_RI);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
    assert_int_equal(rd(UART_MSR) & 0xf0, UART_MSR_DCD);
    /* The probe Linux's 8250 driver makes: OUT2|RTS reads back DCD|CTS. */
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    assert_int_equal(rd(UART_MSR) & 0xf0, 0x90);
}

static void test_msr_deltas_clear_on_read(void **state)
{
    (void)state;
    /* Entering loopback drops CTS, DSR and DCD of the cable. */
    wr(UART_MCR, UART_MCR_LOOP);
    assert_int_equal(rd(UART_MSR), 0x0b);
    assert_int_equal(rd(UART_MSR), 0x00);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
    assert_int_equal(rd(UART_MSR), 0x22);
    assert_int_equal(rd(UART_MSR), 0x20);
    /* RI: only the trailing edge is latched. */
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
    assert_int_equal(rd(UART_MSR), 0x42);     /* DSR fell too */
    wr(UART_MCR, UART_MCR_LOOP);
    assert_int_equal(rd(UART_MSR), 0x04);
    assert_int_equal(rd(UART_MSR), 0x00);
    /* Deltas accumulate until read. */
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
    wr(UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
    assert_int_equal(rd(UART_MSR), 0x89);
}

static void test_msr_interrupt(void **state)
{
    (void)state;
    wr(UART_IER, UART_IER_EDSSI);
    assert_int_equal(rd(UART_IIR), 0x01);
    /* Loopback wiring that reproduces the cable's lines changes nothing. */
    uint8_t cable = UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_DTR | UART_MCR_OUT2;
    wr(UART_MCR, cable);
    assert_int_equal(rd(UART_IIR), 0x01);
    wr(UART_MCR, cable | UART_MCR_OUT1);      /* RI rises: no TERI */
    assert_int_equal(rd(UART_IIR), 0x01);
    wr(UART_MCR, cable);                      /* RI falls */
    assert_int_equal(rd(UART_IIR), 0x00);
    assert_int_equal(rd(UART_MSR), 0xb4);
    assert_int_equal(rd(UART_IIR), 0x01);
}

static void test_break_fifo(void **state)
{
    (void)state;
    wr(UART_FCR, UART_FCR_FIFOE);
    wr(UART_IER, UART_IER_ELSI | UART_IER_ERBFI);
    assert_true(uart_input_break(&u));
    assert_int_equal(rd(UART_IIR), 0xc6);
    assert_int_equal(rd(UART_LSR), 0xf9);     /* RXFE BI FE DR + THRE TEMT */
    assert_int_equal(rd(UART_LSR), 0x61);
    assert_int_equal(rd(UART_IIR), 0xc4);
    assert_int_equal(rd(UART_RBR), 0x00);
    assert_int_equal(rd(UART_LSR), 0x60);
    assert_int_equal(u.rx_bytes, 1);
}

static void test_break_16450(void **state)
{
    (void)state;
    assert_true(uart_input_break(&u));
    assert_int_equal(rd(UART_LSR), 0x79);     /* no RXFE outside FIFO mode */
    assert_int_equal(rd(UART_RBR), 0x00);
    assert_int_equal(rd(UART_LSR), 0x60);
}

static void test_break_behind_data(void **state)
{
    (void)state;
    wr(UART_FCR, UART_FCR_FIFOE);
    input_seq('a', 2);
    assert_true(uart_input_break(&u));
    /* BI waits until the break reaches the top; RXFE shows at once and
     * survives LSR reads while the break is still queued behind. */
    assert_int_equal(rd(UART_LSR), 0xe1);
    assert_int_equal(rd(UART_LSR), 0xe1);
    assert_int_equal(rd(UART_RBR), 'a');
    assert_int_equal(rd(UART_RBR), 'b');
    assert_int_equal(rd(UART_LSR), 0xf9);
    assert_int_equal(rd(UART_LSR), 0x61);
    assert_int_equal(rd(UART_RBR), 0x00);
}

static void test_break_without_room(void **state)
{
    (void)state;
    input_seq('a', 1);
    assert_false(uart_input_break(&u));
    assert_int_equal(rd(UART_LSR), 0x61);
    assert_int_equal(u.overruns, 0);
}

static void test_input_backpressure(void **state)
{
    (void)state;
    uint8_t buf[20];
    for (int i = 0; i < 20; i++)
        buf[i] = (uint8_t)('A' + i);
    wr(UART_FCR, UART_FCR_FIFOE);
    assert_int_equal(uart_input(&u, buf, 20), 16);
    assert_int_equal(uart_input_room(&u), 0);
    assert_int_equal(uart_input(&u, buf + 16, 4), 0);
    assert_int_equal(rd(UART_RBR), 'A');
    assert_int_equal(uart_input_room(&u), 1);
    assert_int_equal(uart_input(&u, buf + 16, 4), 1);
    assert_int_equal(u.overruns, 0);
    assert_int_equal(rd(UART_LSR), 0x61);
    for (int i = 1; i < 17; i++)
        assert_int_equal(rd(UART_RBR), 'A' + i);
    assert_int_equal(u.rx_bytes, 17);
}

static void test_16450_single_holding_register(void **state)
{
    (void)state;
    wr(UART_IER, UART_IER_ERBFI);
    assert_int_equal(uart_input(&u, (const uint8_t *)"ab", 2), 1);
    assert_int_equal(uart_input_room(&u), 0);
    assert_int_equal(uart_input(&u, (const uint8_t *)"b", 1), 0);
    assert_int_equal(rd(UART_IIR), 0x04);     /* no FIFO bits, no timeout */
    assert_int_equal(rd(UART_RBR), 'a');
    assert_int_equal(rd(UART_IIR), 0x01);
    assert_int_equal(uart_input(&u, (const uint8_t *)"b", 1), 1);
    assert_int_equal(rd(UART_RBR), 'b');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_reset_state, setup),
        cmocka_unit_test_setup(test_dlab_divisor_roundtrip, setup),
        cmocka_unit_test_setup(test_dlab_hides_rbr, setup),
        cmocka_unit_test_setup(test_scr_roundtrip, setup),
        cmocka_unit_test_setup(test_reserved_bits_read_zero, setup),
        cmocka_unit_test_setup(test_offsets_past_7, setup),
        cmocka_unit_test_setup(test_lsr_after_rx, setup),
        cmocka_unit_test_setup(test_tx_to_output_ring, setup),
        cmocka_unit_test_setup(test_output_scrollback_wraps, setup),
        cmocka_unit_test_setup(test_fifo_enable_iir_bits, setup),
        cmocka_unit_test_setup(test_fcr_clear_rx, setup),
        cmocka_unit_test_setup(test_fcr_mode_switch_clears, setup),
        cmocka_unit_test_setup(test_fcr_without_fifoe_not_programmed, setup),
        cmocka_unit_test_setup(test_trigger_levels, setup),
        cmocka_unit_test_setup(test_overrun_fifo, setup),
        cmocka_unit_test_setup(test_overrun_16450_overwrites, setup),
        cmocka_unit_test_setup(test_overrun_raises_line_status, setup),
        cmocka_unit_test_setup(test_iir_priority, setup),
        cmocka_unit_test_setup(test_iir_masked_sources, setup),
        cmocka_unit_test_setup(test_thre_enable_raises, setup),
        cmocka_unit_test_setup(test_thre_rearmed_by_thr_write, setup),
        cmocka_unit_test_setup(test_thre_survives_iir_read_of_other_source, setup),
        cmocka_unit_test_setup(test_irq_line_gated_by_out2, setup),
        cmocka_unit_test_setup(test_irq_edges_counted, setup),
        cmocka_unit_test_setup(test_loopback_data_path, setup),
        cmocka_unit_test_setup(test_loopback_msr_mapping, setup),
        cmocka_unit_test_setup(test_msr_deltas_clear_on_read, setup),
        cmocka_unit_test_setup(test_msr_interrupt, setup),
        cmocka_unit_test_setup(test_break_fifo, setup),
        cmocka_unit_test_setup(test_break_16450, setup),
        cmocka_unit_test_setup(test_break_behind_data, setup),
        cmocka_unit_test_setup(test_break_without_room, setup),
        cmocka_unit_test_setup(test_input_backpressure, setup),
        cmocka_unit_test_setup(test_16450_single_holding_register, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
