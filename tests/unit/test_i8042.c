#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "shadow/i8042.h"

/* Set-1 make codes of the keys the tests press. */
#define KEY_A           0x1E    /* set 2: 1C */
#define KEY_RIGHT       0x4D    /* with E0; set 2: E0 74 */

/* Config with translation off, so tests see the keyboard's own bytes. */
#define CFG_RAW         (I8042_CFG_IRQ1 | I8042_CFG_SYS | I8042_CFG_AUX_DISABLE)

static struct i8042 c;

static int setup(void **state)
{
    (void)state;
    memset(&c, 0xA5, sizeof(c));
    i8042_init(&c);
    return 0;
}

static void cmd(uint8_t v) { i8042_write(&c, I8042_PORT_COMMAND, v); }
static void dat(uint8_t v) { i8042_write(&c, I8042_PORT_DATA, v); }
static uint8_t status(void) { return i8042_read(&c, I8042_PORT_STATUS); }

static void set_config(uint8_t v)
{
    cmd(I8042_CMD_WRITE_CONFIG);
    dat(v);
}

static int setup_raw(void **state)
{
    setup(state);
    set_config(CFG_RAW);
    return 0;
}

/* Reads bytes while OBF is set, as a polling driver does. */
static size_t drain(uint8_t *buf, size_t max)
{
    size_t n = 0;
    while (n < max && (status() & I8042_STATUS_OBF))
        buf[n++] = i8042_read(&c, I8042_PORT_DATA);
    return n;
}

#define expect_bytes(...) do {                                  \
        const uint8_t want_[] = { __VA_ARGS__ };                \
        uint8_t got_[64];                                       \
        size_t n_ = drain(got_, sizeof(got_));                  \
        assert_int_equal(n_, sizeof(want_));                    \
        assert_memory_equal(got_, want_, sizeof(want_));        \
    } while (0)

static void expect_none(void) { assert_false(status() & I8042_STATUS_OBF); }

static uint8_t read_config(void)
{
    cmd(I8042_CMD_READ_CONFIG);
    assert_true(status() & I8042_STATUS_OBF);
    return i8042_read(&c, I8042_PORT_DATA);
}

static void press(uint8_t code, bool ext) { assert_true(i8042_key(&c, code, ext, true)); }
static void release(uint8_t code, bool ext) { assert_true(i8042_key(&c, code, ext, false)); }

/* ---------------------------------------------------------------- controller */

static void test_power_on(void **state)
{
    (void)state;
    assert_int_equal(status(), I8042_STATUS_INH);
    assert_false(i8042_irq1_line(&c));
    assert_false(i8042_take_irq1_edge(&c));
    assert_int_equal(read_config(), 0x61);
    cmd(I8042_CMD_READ_OUTPUT);
    expect_bytes(0xCF);
    assert_true(i8042_a20(&c));
    assert_false(i8042_take_reset_request(&c));
    assert_int_equal(ps2kbd_leds(&c.kbd), 0);
    assert_int_equal(c.unknown_commands, 0);
}

static void test_config_roundtrip(void **state)
{
    (void)state;
    set_config(0x47);
    assert_int_equal(status(), I8042_STATUS_SYS | I8042_STATUS_INH);
    assert_int_equal(read_config(), 0x47);
    set_config(0x43);
    assert_int_equal(status(), I8042_STATUS_INH);
    assert_int_equal(read_config(), 0x43);
}

static void test_status_a2(void **state)
{
    (void)state;
    cmd(I8042_CMD_SELF_TEST);
    assert_int_equal(status(), I8042_STATUS_OBF | I8042_STATUS_A2 | I8042_STATUS_INH);
    expect_bytes(0x55);
    assert_int_equal(status(), I8042_STATUS_A2 | I8042_STATUS_INH);
    dat(PS2KBD_CMD_ECHO);
    assert_int_equal(status(), I8042_STATUS_OBF | I8042_STATUS_INH);
    expect_bytes(0xEE);
}

static void test_self_tests(void **state)
{
    (void)state;
    cmd(I8042_CMD_SELF_TEST);
    expect_bytes(0x55);
    cmd(I8042_CMD_KBD_TEST);
    expect_bytes(0x00);
    cmd(I8042_CMD_AUX_TEST);
    expect_bytes(0x01);
}

static void test_aux_enable_disable(void **state)
{
    (void)state;
    cmd(I8042_CMD_AUX_ENABLE);
    assert_int_equal(read_config(), 0x41);
    cmd(I8042_CMD_AUX_DISABLE);
    assert_int_equal(read_config(), 0x61);
    expect_none();
}

static void test_aux_writes_discarded(void **state)
{
    (void)state;
    cmd(I8042_CMD_WRITE_AUX_OBUF);
    dat(0x5A);
    expect_none();
    /* A reset byte for the absent mouse must not reach the keyboard. */
    cmd(I8042_CMD_WRITE_AUX);
    dat(PS2KBD_CMD_RESET);
    expect_none();
    assert_false(status() & I8042_STATUS_AUXB);
    /* Each of those took exactly one data byte. */
    dat(PS2KBD_CMD_ECHO);
    expect_bytes(0xEE);
}

static void test_kbd_port_disable_holds_keys(void **state)
{
    (void)state;
    cmd(I8042_CMD_KBD_DISABLE);
    assert_int_equal(read_config(), 0x71);
    press(KEY_A, false);
    expect_none();
    assert_false(i8042_irq1_line(&c));
    cmd(I8042_CMD_KBD_ENABLE);
    assert_int_equal(status(), I8042_STATUS_OBF | I8042_STATUS_A2 | I8042_STATUS_INH);
    expect_bytes(0x1E);
    assert_int_equal(read_config(), 0x61);
}

static void test_kbd_port_disable_holds_responses(void **state)
{
    (void)state;
    set_config(CFG_RAW | I8042_CFG_KBD_DISABLE);
    dat(PS2KBD_CMD_RESET);
    expect_none();
    /* Controller responses still come through a disabled keyboard port. */
    assert_int_equal(read_config(), CFG_RAW | I8042_CFG_KBD_DISABLE);
    set_config(CFG_RAW);
    expect_bytes(0xFA, 0xAA);
}

static void test_response_priority(void **state)
{
    (void)state;
    press(KEY_RIGHT, true);
    /* E0 is already in the output buffer; the config byte overtakes 74. */
    cmd(I8042_CMD_READ_CONFIG);
    expect_bytes(0xE0, CFG_RAW, 0x74);
}

static void test_output_port(void **state)
{
    (void)state;
    cmd(I8042_CMD_WRITE_OUTPUT);
    dat(0xDD);
    assert_false(i8042_a20(&c));
    cmd(I8042_CMD_READ_OUTPUT);
    expect_bytes(0xDD);
    cmd(I8042_CMD_WRITE_OUTPUT);
    dat(0xDF);
    assert_true(i8042_a20(&c));
    cmd(I8042_CMD_READ_OUTPUT);
    expect_bytes(0xDF);
    assert_false(i8042_take_reset_request(&c));
}

static void test_output_port_reset(void **state)
{
    (void)state;
    cmd(I8042_CMD_WRITE_OUTPUT);
    dat(0xDE);
    assert_true(i8042_take_reset_request(&c));
    assert_false(i8042_take_reset_request(&c));
    cmd(I8042_CMD_READ_OUTPUT);
    expect_bytes(0xDF);
}

static void test_pulse_reset(void **state)
{
    (void)state;
    cmd(I8042_CMD_RESET);
    assert_true(i8042_take_reset_request(&c));
    assert_false(i8042_take_reset_request(&c));
    cmd(0xFF);              /* pulses nothing */
    assert_false(i8042_take_reset_request(&c));
    cmd(0xFD);              /* pulses bit 1 only */
    assert_false(i8042_take_reset_request(&c));
    cmd(0xF0);
    assert_true(i8042_take_reset_request(&c));
    cmd(0xFC);
    assert_true(i8042_take_reset_request(&c));
    expect_none();
    assert_int_equal(c.unknown_commands, 0);
}

static void test_write_kbd_obuf(void **state)
{
    (void)state;
    /* Translation is on, but D2 bytes do not come from the keyboard. */
    cmd(I8042_CMD_WRITE_KBD_OBUF);
    dat(0x1C);
    assert_true(i8042_irq1_line(&c));
    assert_true(i8042_take_irq1_edge(&c));
    assert_false(status() & I8042_STATUS_AUXB);
    expect_bytes(0x1C);
}

static void test_read_input_port(void **state)
{
    (void)state;
    cmd(I8042_CMD_READ_INPUT);
    expect_bytes(0xA0);
}

static void test_unknown_commands(void **state)
{
    (void)state;
    cmd(0x21);
    cmd(0xC1);
    cmd(0x00);
    expect_none();
    assert_int_equal(c.unknown_commands, 3);
}

static void test_command_abandons_pending_data(void **state)
{
    (void)state;
    cmd(I8042_CMD_WRITE_CONFIG);
    cmd(I8042_CMD_SELF_TEST);
    expect_bytes(0x55);
    dat(PS2KBD_CMD_ECHO);       /* now a keyboard byte, not the config */
    expect_bytes(0xEE);
    assert_int_equal(read_config(), 0x61);
}

static void test_response_queue_bound(void **state)
{
    (void)state;
    for (int i = 0; i < 6; i++)
        cmd(I8042_CMD_SELF_TEST);
    cmd(I8042_CMD_KBD_TEST);
    /* One in the output buffer, four queued, the rest lost. */
    expect_bytes(0x55, 0x55, 0x55, 0x55, 0x55);
}

static void test_irq1_line(void **state)
{
    (void)state;
    cmd(I8042_CMD_WRITE_KBD_OBUF);
    dat(0x42);
    assert_true(i8042_irq1_line(&c));
    assert_true(i8042_take_irq1_edge(&c));
    set_config(CFG_RAW & ~I8042_CFG_IRQ1);
    assert_false(i8042_irq1_line(&c));
    assert_true(status() & I8042_STATUS_OBF);
    /* Enabling the interrupt with a byte waiting raises the line. */
    set_config(CFG_RAW);
    assert_true(i8042_irq1_line(&c));
    assert_true(i8042_take_irq1_edge(&c));
    assert_false(i8042_take_irq1_edge(&c));
    expect_bytes(0x42);
    assert_false(i8042_irq1_line(&c));
    assert_false(i8042_take_irq1_edge(&c));
}

static void test_irq1_edge_per_byte(void **state)
{
    (void)state;
    press(KEY_A, false);
    release(KEY_A, false);
    assert_true(i8042_take_irq1_edge(&c));
    assert_false(i8042_take_irq1_edge(&c));
    assert_int_equal(i8042_read(&c, I8042_PORT_DATA), 0x1C);
    assert_true(i8042_take_irq1_edge(&c));
    assert_int_equal(i8042_read(&c, I8042_PORT_DATA), 0xF0);
    assert_true(i8042_take_irq1_edge(&c));
    assert_int_equal(i8042_read(&c, I8042_PORT_DATA), 0x1C);
    assert_false(i8042_take_irq1_edge(&c));
    assert_false(i8042_irq1_line(&c));
}

static void test_bytes_to_guest_and_stale_read(void **state)
{
    (void)state;
    cmd(I8042_CMD_WRITE_KBD_OBUF);
    dat(0x33);
    assert_int_equal(i8042_read(&c, I8042_PORT_DATA), 0x33);
    assert_int_equal(c.bytes_to_guest, 1);
    /* An empty buffer reads its last byte again and counts nothing. */
    assert_int_equal(i8042_read(&c, I8042_PORT_DATA), 0x33);
    assert_int_equal(c.bytes_to_guest, 1);
    expect_none();
}

static void test_other_ports(void **state)
{
    (void)state;
    assert_int_equal(i8042_read(&c, 0x61), 0xFF);
    i8042_write(&c, 0x61, PS2KBD_CMD_ECHO);
    i8042_write(&c, 0x65, I8042_CMD_SELF_TEST);
    expect_none();
    assert_int_equal(status(), I8042_STATUS_INH);
}

/* --------------------------------------------------------------- translation */

static void test_translate_key(void **state)
{
    (void)state;
    press(KEY_A, false);
    expect_bytes(0x1E);
    release(KEY_A, false);
    expect_bytes(0x9E);
}

static void test_raw_key(void **state)
{
    (void)state;
    press(KEY_A, false);
    expect_bytes(0x1C);
    release(KEY_A, false);
    expect_bytes(0xF0, 0x1C);
}

static void test_translate_extended_key(void **state)
{
    (void)state;
    press(KEY_RIGHT, true);
    expect_bytes(0xE0, 0x4D);
    release(KEY_RIGHT, true);
    expect_bytes(0xE0, 0xCD);
}

static void test_raw_extended_key(void **state)
{
    (void)state;
    press(KEY_RIGHT, true);
    expect_bytes(0xE0, 0x74);
    release(KEY_RIGHT, true);
    expect_bytes(0xE0, 0xF0, 0x74);
}

static void test_translate_responses(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_IDENTIFY);
    expect_bytes(0xFA, 0xAB, 0x41);
    dat(PS2KBD_CMD_SCAN_SET);
    dat(0);
    expect_bytes(0xFA, 0xFA, 0x41);
    dat(PS2KBD_CMD_ECHO);
    expect_bytes(0xEE);
    dat(PS2KBD_CMD_RESET);
    expect_bytes(0xFA, 0xAA);
    dat(0x00);
    expect_bytes(0xFE);
}

/* ------------------------------------------------------------------ keyboard */

static void test_kbd_reset(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_SET_LEDS);
    dat(PS2KBD_LED_MASK);
    dat(PS2KBD_CMD_SCAN_SET);
    dat(1);
    expect_bytes(0xFA, 0xFA, 0xFA, 0xFA);
    dat(PS2KBD_CMD_DISABLE);
    expect_bytes(0xFA);
    assert_int_equal(ps2kbd_leds(&c.kbd), PS2KBD_LED_MASK);
    dat(PS2KBD_CMD_RESET);
    expect_bytes(0xFA, 0xAA);
    assert_int_equal(ps2kbd_leds(&c.kbd), 0);
    dat(PS2KBD_CMD_SCAN_SET);
    dat(0);
    expect_bytes(0xFA, 0xFA, 0x02);
    press(KEY_A, false);        /* scanning again */
    expect_bytes(0x1C);
}

static void test_kbd_reset_clears_queue(void **state)
{
    (void)state;
    cmd(I8042_CMD_KBD_DISABLE);
    press(KEY_A, false);
    release(KEY_A, false);
    dat(PS2KBD_CMD_RESET);
    cmd(I8042_CMD_KBD_ENABLE);
    expect_bytes(0xFA, 0xAA);
}

static void test_kbd_resend(void **state)
{
    (void)state;
    /* Before anything else, the last byte sent was the BAT result. */
    dat(PS2KBD_CMD_RESEND);
    expect_bytes(0xAA);
    dat(PS2KBD_CMD_IDENTIFY);
    expect_bytes(0xFA, 0xAB, 0x83);
    dat(PS2KBD_CMD_RESEND);
    expect_bytes(0x83);
    /* Resend goes ahead of bytes still queued. */
    cmd(I8042_CMD_KBD_DISABLE);
    press(KEY_A, false);
    dat(PS2KBD_CMD_RESEND);
    cmd(I8042_CMD_KBD_ENABLE);
    expect_bytes(0x83, 0x1C);
}

static void test_kbd_set_defaults(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_TYPEMATIC);
    dat(0x00);
    expect_bytes(0xFA, 0xFA);
    assert_int_equal(c.kbd.typematic, 0x00);
    cmd(I8042_CMD_KBD_DISABLE);
    press(KEY_A, false);
    dat(PS2KBD_CMD_DEFAULTS);
    cmd(I8042_CMD_KBD_ENABLE);
    expect_bytes(0xFA);         /* the queued key was cleared */
    assert_int_equal(c.kbd.typematic, 0x2B);
    press(KEY_A, false);
    expect_bytes(0x1C);
}

static void test_kbd_scanning_disable_enable(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_TYPEMATIC);
    dat(0x10);
    expect_bytes(0xFA, 0xFA);
    dat(PS2KBD_CMD_DISABLE);
    expect_bytes(0xFA);
    assert_int_equal(c.kbd.typematic, 0x2B);
    assert_false(i8042_key(&c, KEY_A, false, true));
    assert_false(i8042_key(&c, KEY_RIGHT, true, false));
    expect_none();
    assert_int_equal(c.kbd.keys_dropped, 2);
    dat(PS2KBD_CMD_ENABLE);
    expect_bytes(0xFA);
    press(KEY_A, false);
    expect_bytes(0x1C);
    assert_int_equal(c.kbd.keys_dropped, 2);
}

static void test_kbd_typematic(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_TYPEMATIC);
    expect_bytes(0xFA);
    dat(0x7F);
    expect_bytes(0xFA);
    assert_int_equal(c.kbd.typematic, 0x7F);
}

static void test_kbd_leds(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_SET_LEDS);
    expect_bytes(0xFA);
    dat(PS2KBD_LED_SCROLL | PS2KBD_LED_CAPS);
    expect_bytes(0xFA);
    assert_int_equal(ps2kbd_leds(&c.kbd), 0x05);
    dat(PS2KBD_CMD_SET_LEDS);
    dat(0x0A);                  /* bit 3 is not an LED */
    expect_bytes(0xFA, 0xFA);
    assert_int_equal(ps2kbd_leds(&c.kbd), PS2KBD_LED_NUM);
}

static void test_kbd_scan_set_1(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_SCAN_SET);
    dat(0);
    expect_bytes(0xFA, 0xFA, 0x02);
    dat(PS2KBD_CMD_SCAN_SET);
    dat(1);
    expect_bytes(0xFA, 0xFA);
    dat(PS2KBD_CMD_SCAN_SET);
    dat(0);
    expect_bytes(0xFA, 0xFA, 0x01);
    press(KEY_A, false);
    release(KEY_A, false);
    expect_bytes(0x1E, 0x9E);
    press(KEY_RIGHT, true);
    release(KEY_RIGHT, true);
    expect_bytes(0xE0, 0x4D, 0xE0, 0xCD);
    dat(PS2KBD_CMD_SCAN_SET);
    dat(2);
    expect_bytes(0xFA, 0xFA);
    press(KEY_A, false);
    expect_bytes(0x1C);
}

static void test_kbd_scan_set_3(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_SCAN_SET);
    dat(3);
    dat(PS2KBD_CMD_SCAN_SET);
    dat(0);
    expect_bytes(0xFA, 0xFA, 0xFA, 0xFA, 0x03);
    /* Accepted and reported, but keys keep the set-2 encoding. */
    press(KEY_RIGHT, true);
    release(KEY_RIGHT, true);
    expect_bytes(0xE0, 0x74, 0xE0, 0xF0, 0x74);
}

static void test_kbd_scan_set_invalid(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_SCAN_SET);
    dat(5);
    expect_bytes(0xFA, 0xFE);
    /* The keyboard still waits for the parameter. */
    dat(1);
    expect_bytes(0xFA);
    dat(PS2KBD_CMD_SCAN_SET);
    dat(0);
    expect_bytes(0xFA, 0xFA, 0x01);
    assert_int_equal(c.kbd.unknown_commands, 0);
}

static void test_kbd_echo(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_ECHO);
    expect_bytes(0xEE);
}

static void test_kbd_identify(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_IDENTIFY);
    expect_bytes(0xFA, 0xAB, 0x83);
}

static void test_kbd_unknown(void **state)
{
    (void)state;
    dat(0x00);
    dat(0xEF);
    dat(0xF7);      /* set-3 key types: not supported */
    expect_bytes(0xFE, 0xFE, 0xFE);
    assert_int_equal(c.kbd.unknown_commands, 3);
    assert_int_equal(c.unknown_commands, 0);
}

static void test_kbd_parameter_abort(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_SET_LEDS);
    dat(PS2KBD_CMD_ECHO);
    expect_bytes(0xFA, 0xEE);
    assert_int_equal(ps2kbd_leds(&c.kbd), 0);
    dat(0x01);                  /* no longer a parameter */
    expect_bytes(0xFE);
    dat(PS2KBD_CMD_TYPEMATIC);
    dat(PS2KBD_CMD_SET_LEDS);
    dat(0x02);
    expect_bytes(0xFA, 0xFA, 0xFA);
    assert_int_equal(ps2kbd_leds(&c.kbd), PS2KBD_LED_NUM);
    assert_int_equal(c.kbd.typematic, 0x2B);
}

static void test_queue_overflow_set2(void **state)
{
    (void)state;
    cmd(I8042_CMD_KBD_DISABLE);
    for (int i = 0; i < 15; i++)
        press(KEY_A, false);
    assert_false(i8042_key(&c, KEY_A, false, true));
    assert_false(i8042_key(&c, KEY_A, false, true));
    assert_int_equal(c.kbd.keys_dropped, 2);
    cmd(I8042_CMD_KBD_ENABLE);
    expect_bytes(0x1C, 0x1C, 0x1C, 0x1C, 0x1C, 0x1C, 0x1C, 0x1C,
                 0x1C, 0x1C, 0x1C, 0x1C, 0x1C, 0x1C, 0x1C, 0x00);
    press(KEY_A, false);
    expect_bytes(0x1C);
}

static void test_queue_overflow_translated(void **state)
{
    (void)state;
    cmd(I8042_CMD_KBD_DISABLE);
    for (int i = 0; i < 15; i++)
        press(KEY_A, false);
    assert_false(i8042_key(&c, KEY_A, false, false));
    cmd(I8042_CMD_KBD_ENABLE);
    expect_bytes(0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E,
                 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0xFF);
}

static void test_queue_overflow_whole_keys(void **state)
{
    (void)state;
    cmd(I8042_CMD_KBD_DISABLE);
    for (int i = 0; i < 7; i++)
        release(KEY_A, false);
    /* 14 bytes queued: a 2-byte release no longer fits, nor afterwards a
     * 1-byte press, and the overrun code is queued once. */
    assert_false(i8042_key(&c, KEY_A, false, false));
    assert_false(i8042_key(&c, KEY_A, false, true));
    assert_int_equal(c.kbd.keys_dropped, 2);
    cmd(I8042_CMD_KBD_ENABLE);
    expect_bytes(0xF0, 0x1C, 0xF0, 0x1C, 0xF0, 0x1C, 0xF0, 0x1C,
                 0xF0, 0x1C, 0xF0, 0x1C, 0xF0, 0x1C, 0x00);
}

static void test_queue_overflow_set1(void **state)
{
    (void)state;
    dat(PS2KBD_CMD_SCAN_SET);
    dat(1);
    expect_bytes(0xFA, 0xFA);
    cmd(I8042_CMD_KBD_DISABLE);
    for (int i = 0; i < 16; i++)
        i8042_key(&c, KEY_A, false, true);
    cmd(I8042_CMD_KBD_ENABLE);
    expect_bytes(0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E,
                 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0x1E, 0xFF);
    assert_int_equal(c.kbd.keys_dropped, 1);
}

static void test_key_without_set2_code(void **state)
{
    (void)state;
    assert_false(i8042_key(&c, 0x00, false, true));
    assert_false(i8042_key(&c, 0x59, false, true));
    assert_false(i8042_key(&c, 0x80 | KEY_A, false, true));
    expect_none();
    assert_int_equal(c.kbd.keys_dropped, 3);
}

#define T(fn) cmocka_unit_test_setup(fn, setup)
#define T_RAW(fn) cmocka_unit_test_setup(fn, setup_raw)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_power_on),
        T(test_config_roundtrip),
        T(test_status_a2),
        T(test_self_tests),
        T(test_aux_enable_disable),
        T(test_aux_writes_discarded),
        T(test_kbd_port_disable_holds_keys),
        T(test_kbd_port_disable_holds_responses),
        T_RAW(test_response_priority),
        T(test_output_port),
        T(test_output_port_reset),
        T(test_pulse_reset),
        T(test_write_kbd_obuf),
        T(test_read_input_port),
        T(test_unknown_commands),
        T(test_command_abandons_pending_data),
        T(test_response_queue_bound),
        T(test_irq1_line),
        T_RAW(test_irq1_edge_per_byte),
        T(test_bytes_to_guest_and_stale_read),
        T(test_other_ports),
        T(test_translate_key),
        T_RAW(test_raw_key),
        T(test_translate_extended_key),
        T_RAW(test_raw_extended_key),
        T(test_translate_responses),
        T_RAW(test_kbd_reset),
        T_RAW(test_kbd_reset_clears_queue),
        T_RAW(test_kbd_resend),
        T_RAW(test_kbd_set_defaults),
        T_RAW(test_kbd_scanning_disable_enable),
        T_RAW(test_kbd_typematic),
        T_RAW(test_kbd_leds),
        T_RAW(test_kbd_scan_set_1),
        T_RAW(test_kbd_scan_set_3),
        T_RAW(test_kbd_scan_set_invalid),
        T_RAW(test_kbd_echo),
        T_RAW(test_kbd_identify),
        T_RAW(test_kbd_unknown),
        T_RAW(test_kbd_parameter_abort),
        T_RAW(test_queue_overflow_set2),
        T(test_queue_overflow_translated),
        T_RAW(test_queue_overflow_whole_keys),
        T_RAW(test_queue_overflow_set1),
        T(test_key_without_set2_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
