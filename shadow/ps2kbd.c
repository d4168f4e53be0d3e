#include "shadow/ps2kbd.h"
#include "shadow/keymap.h"
#include "core/libc.h"

/* The typematic byte has no bit 7: rate in bits 0-4, delay in bits 5-6. */
#define PS2KBD_TYPEMATIC_MASK   0x7F

static uint8_t overrun_code(const struct ps2kbd *k)
{
    return k->scan_set == 1 ? PS2KBD_OVERRUN_SET1 : PS2KBD_OVERRUN_SET2;
}

static void queue_clear(struct ps2kbd *k)
{
    k->head = 0;
    k->count = 0;
}

static void queue_append(struct ps2kbd *k, uint8_t b)
{
    k->queue[(k->head + k->count) % PS2KBD_QUEUE_SIZE] = b;
    k->count++;
}

static bool overrun_at_tail(const struct ps2kbd *k)
{
    return k->count && k->queue[(k->head + k->count - 1) % PS2KBD_QUEUE_SIZE] == overrun_code(k);
}

/* Queues a key sequence or response whole, or not at all: the host must never
 * see half a key. The last entry stays free for the overrun code, which marks
 * each run of lost bytes once. */
static bool queue_push(struct ps2kbd *k, const uint8_t *bytes, size_t n)
{
    if (k->count + n < PS2KBD_QUEUE_SIZE) {
        for (size_t i = 0; i < n; i++)
            queue_append(k, bytes[i]);
        return true;
    }
    if (!overrun_at_tail(k))
        queue_append(k, overrun_code(k));
    return false;
}

static void respond(struct ps2kbd *k, uint8_t b)
{
    queue_push(k, &b, 1);
}

/* Resend repeats the byte the host just received, ahead of anything queued. */
static void resend_last(struct ps2kbd *k)
{
    if (k->count == PS2KBD_QUEUE_SIZE)
        return;
    k->head = (uint8_t)((k->head + PS2KBD_QUEUE_SIZE - 1) % PS2KBD_QUEUE_SIZE);
    k->queue[k->head] = k->last_sent;
    k->count++;
}

/* Everything a Reset restores; the counters survive it. */
static void power_on_state(struct ps2kbd *k)
{
    queue_clear(k);
    k->param_cmd = 0;
    k->last_sent = PS2KBD_BAT_OK;
    k->scan_set = 2;
    k->leds = 0;
    k->typematic = PS2KBD_TYPEMATIC_DEFAULT;
    k->scanning = true;
}

void ps2kbd_init(struct ps2kbd *k)
{
    memset(k, 0, sizeof(*k));
    power_on_state(k);
}

static void parameter(struct ps2kbd *k, uint8_t cmd, uint8_t b)
{
    switch (cmd) {
    case PS2KBD_CMD_SET_LEDS:
        k->leds = b & PS2KBD_LED_MASK;
        break;
    case PS2KBD_CMD_TYPEMATIC:
        k->typematic = b & PS2KBD_TYPEMATIC_MASK;
        break;
    case PS2KBD_CMD_SCAN_SET:
        if (b > 3) {
            /* An invalid set asks the host to send the parameter again. */
            k->param_cmd = cmd;
            respond(k, PS2KBD_RESEND);
            return;
        }
        respond(k, PS2KBD_ACK);
        if (b == 0)
            respond(k, k->scan_set);
        else
            k->scan_set = b;
        return;
    }
    respond(k, PS2KBD_ACK);
}

/* Enable, Default Disable and Set Default all clear the output buffer before
 * acknowledging; the last two also restore the default typematic byte. */
static void restart_scanning(struct ps2kbd *k, bool scanning, bool defaults)
{
    queue_clear(k);
    if (defaults)
        k->typematic = PS2KBD_TYPEMATIC_DEFAULT;
    k->scanning = scanning;
    respond(k, PS2KBD_ACK);
}

static void command(struct ps2kbd *k, uint8_t b)
{
    static const uint8_t identify[] = { PS2KBD_ACK, PS2KBD_ID_0, PS2KBD_ID_1 };
    static const uint8_t reset[] = { PS2KBD_ACK, PS2KBD_BAT_OK };
    switch (b) {
    case PS2KBD_CMD_SET_LEDS:
    case PS2KBD_CMD_TYPEMATIC:
    case PS2KBD_CMD_SCAN_SET:
        k->param_cmd = b;
        respond(k, PS2KBD_ACK);
        break;
    case PS2KBD_CMD_ECHO: respond(k, PS2KBD_ECHO); break;
    case PS2KBD_CMD_IDENTIFY: queue_push(k, identify, sizeof(identify)); break;
    case PS2KBD_CMD_ENABLE: restart_scanning(k, true, false); break;
    case PS2KBD_CMD_DISABLE: restart_scanning(k, false, true); break;
    case PS2KBD_CMD_DEFAULTS: restart_scanning(k, true, true); break;
    case PS2KBD_CMD_RESEND: resend_last(k); break;
    case PS2KBD_CMD_RESET:
        power_on_state(k);
        queue_push(k, reset, sizeof(reset));
        break;
    default:
        k->unknown_commands++;
        respond(k, PS2KBD_RESEND);
        break;
    }
}

void ps2kbd_write(struct ps2kbd *k, uint8_t b)
{
    uint8_t cmd = k->param_cmd;
    k->param_cmd = 0;
    /* No parameter reaches 0xED, so such a byte is a new command and the
     * one waiting for its parameter is abandoned, as keyboards do. */
    if (cmd && b < PS2KBD_CMD_SET_LEDS)
        parameter(k, cmd, b);
    else
        command(k, b);
}

bool ps2kbd_key(struct ps2kbd *k, uint8_t set1_code, bool extended, bool pressed)
{
    uint8_t set2 = keymap_set1_to_set2(set1_code);
    uint8_t seq[3];
    size_t n = 0;
    if (extended)
        seq[n++] = PS2KBD_PREFIX_EXT;
    if (k->scan_set == 1) {
        seq[n++] = pressed ? set1_code : (uint8_t)(set1_code | PS2KBD_SET1_BREAK);
    } else {
        if (!pressed)
            seq[n++] = PS2KBD_PREFIX_BREAK;
        seq[n++] = set2;
    }
    if (!k->scanning || !set2 || !queue_push(k, seq, n)) {
        k->keys_dropped++;
        return false;
    }
    return true;
}

uint8_t ps2kbd_pop(struct ps2kbd *k)
{
    if (!k->count)
        return 0;
    uint8_t b = k->queue[k->head];
    k->head = (uint8_t)((k->head + 1) % PS2KBD_QUEUE_SIZE);
    k->count--;
    k->last_sent = b;
    return b;
}
