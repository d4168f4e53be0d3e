#include "shadow/i8042.h"
#include "shadow/keymap.h"
#include "core/libc.h"

/* A translated break code is the set-1 make code with bit 7 set. */
#define I8042_XLAT_BREAK        0x80

static bool kbd_port_enabled(const struct i8042 *c) { return !(c->config & I8042_CFG_KBD_DISABLE); }

static void respond(struct i8042 *c, uint8_t b)
{
    if (c->resp_count == I8042_RESP_QUEUE_SIZE)
        return;
    c->resp[(c->resp_head + c->resp_count) % I8042_RESP_QUEUE_SIZE] = b;
    c->resp_count++;
}

static uint8_t resp_pop(struct i8042 *c)
{
    uint8_t b = c->resp[c->resp_head];
    c->resp_head = (uint8_t)((c->resp_head + 1) % I8042_RESP_QUEUE_SIZE);
    c->resp_count--;
    return b;
}

/* The next byte for the output buffer: a controller response, else a byte
 * the keyboard may send now. With translation the F0 break prefix is
 * consumed and turns into bit 7 of the code after it. */
static bool next_byte(struct i8042 *c, uint8_t *out)
{
    if (c->resp_count) {
        *out = resp_pop(c);
        return true;
    }
    while (kbd_port_enabled(c) && ps2kbd_pending(&c->kbd)) {
        uint8_t b = ps2kbd_pop(&c->kbd);
        if (!(c->config & I8042_CFG_TRANSLATE)) {
            *out = b;
            return true;
        }
        if (b == PS2KBD_PREFIX_BREAK) {
            c->xlat_break = true;
            continue;
        }
        *out = (uint8_t)(keymap_set2_to_set1(b) | (c->xlat_break ? I8042_XLAT_BREAK : 0));
        c->xlat_break = false;
        return true;
    }
    return false;
}

/* Ends every entry point: refills an empty output buffer, then records a
 * rising edge of IRQ 1. */
static void update(struct i8042 *c)
{
    if (!c->obf)
        c->obf = next_byte(c, &c->obuf);
    bool level = i8042_irq1_line(c);
    if (level && !c->irq1)
        c->irq1_edge = true;
    c->irq1 = level;
}

void i8042_init(struct i8042 *c)
{
    memset(c, 0, sizeof(*c));
    ps2kbd_init(&c->kbd);
    c->config = I8042_CFG_POWER_ON;
    c->out_port = I8042_OUT_POWER_ON;
}

static uint8_t status(const struct i8042 *c)
{
    return (uint8_t)((c->obf ? I8042_STATUS_OBF : 0) |
                     (c->config & I8042_CFG_SYS ? I8042_STATUS_SYS : 0) |
                     (c->a2 ? I8042_STATUS_A2 : 0) | I8042_STATUS_INH);
}

uint8_t i8042_read(struct i8042 *c, uint16_t port)
{
    if (port == I8042_PORT_STATUS)
        return status(c);
    if (port != I8042_PORT_DATA)
        return 0xFF;
    uint8_t v = c->obuf;
    if (c->obf) {
        c->obf = false;
        c->irq1 = false;
        c->bytes_to_guest++;
        update(c);
    }
    return v;
}

/* F0-FF pulse the output port bits 0-3 whose command bit is 0; of those
 * lines only bit 0, the CPU reset, reaches anything. */
static void pulse(struct i8042 *c, uint8_t cmd)
{
    if (!(cmd & I8042_OUT_RESET))
        c->reset_request = true;
}

static void command(struct i8042 *c, uint8_t cmd)
{
    /* A new command abandons one still waiting for its data byte. */
    c->data_cmd = 0;
    switch (cmd) {
    case I8042_CMD_READ_CONFIG: respond(c, c->config); break;
    case I8042_CMD_WRITE_CONFIG:
    case I8042_CMD_WRITE_OUTPUT:
    case I8042_CMD_WRITE_KBD_OBUF:
    case I8042_CMD_WRITE_AUX_OBUF:
    case I8042_CMD_WRITE_AUX:
        c->data_cmd = cmd;
        break;
    case I8042_CMD_AUX_DISABLE: c->config |= I8042_CFG_AUX_DISABLE; break;
    case I8042_CMD_AUX_ENABLE: c->config &= (uint8_t)~I8042_CFG_AUX_DISABLE; break;
    case I8042_CMD_AUX_TEST: respond(c, I8042_PORT_TEST_CLOCK_LOW); break;
    case I8042_CMD_SELF_TEST: respond(c, I8042_SELF_TEST_OK); break;
    case I8042_CMD_KBD_TEST: respond(c, I8042_PORT_TEST_OK); break;
    case I8042_CMD_KBD_DISABLE: c->config |= I8042_CFG_KBD_DISABLE; break;
    case I8042_CMD_KBD_ENABLE: c->config &= (uint8_t)~I8042_CFG_KBD_DISABLE; break;
    case I8042_CMD_READ_INPUT: respond(c, I8042_INPUT_PORT); break;
    case I8042_CMD_READ_OUTPUT: respond(c, c->out_port); break;
    default:
        if ((cmd & I8042_CMD_PULSE_MASK) == I8042_CMD_PULSE)
            pulse(c, cmd);
        else
            c->unknown_commands++;
        break;
    }
}

/* Bit 0 low holds the CPU in reset; the reset restarts the guest, so the
 * bit reads back high. */
static void write_output_port(struct i8042 *c, uint8_t v)
{
    if (!(v & I8042_OUT_RESET))
        c->reset_request = true;
    c->out_port = v | I8042_OUT_RESET;
}

static void data(struct i8042 *c, uint8_t v)
{
    uint8_t cmd = c->data_cmd;
    c->data_cmd = 0;
    switch (cmd) {
    case 0: ps2kbd_write(&c->kbd, v); break;
    case I8042_CMD_WRITE_CONFIG: c->config = v; break;
    case I8042_CMD_WRITE_OUTPUT: write_output_port(c, v); break;
    case I8042_CMD_WRITE_KBD_OBUF: respond(c, v); break;
    default: break;     /* D3, D4: the aux port is absent */
    }
}

void i8042_write(struct i8042 *c, uint16_t port, uint8_t v)
{
    if (port == I8042_PORT_COMMAND) {
        c->a2 = true;
        command(c, v);
    } else if (port == I8042_PORT_DATA) {
        c->a2 = false;
        data(c, v);
    }
    update(c);
}

bool i8042_take_irq1_edge(struct i8042 *c)
{
    bool e = c->irq1_edge;
    c->irq1_edge = false;
    return e;
}

bool i8042_key(struct i8042 *c, uint8_t set1_code, bool extended, bool pressed)
{
    bool queued = ps2kbd_key(&c->kbd, set1_code, extended, pressed);
    update(c);
    return queued;
}

bool i8042_take_reset_request(struct i8042 *c)
{
    bool r = c->reset_request;
    c->reset_request = false;
    return r;
}
