/* Shadow PS/2 keyboard (IBM Personal System/2 keyboard protocol): the device
 * behind the i8042's first port.
 *
 * A pure state machine. The controller hands it the guest's bytes with
 * ps2kbd_write and drains its queue with ps2kbd_pop; the VNC service feeds
 * key events in with ps2kbd_key (through i8042_key). Keys are generated in
 * the selected scan-code set: set 2 (the default) or set 1. Set 3 can be
 * selected and is reported back, but keys keep the set-2 encoding: set 3's
 * own codes and its per-key make/break types are not emulated.
 *
 * The queue holds PS2KBD_QUEUE_SIZE bytes, the buffer of the original PS/2
 * keyboard. One entry is kept for the overrun code: a key that does not fit
 * whole is dropped and the overrun code queued once in its place.
 *
 * Nothing here locks: the owner serializes every call on one struct ps2kbd. */
#ifndef SHADOW_PS2KBD_H
#define SHADOW_PS2KBD_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PS2KBD_QUEUE_SIZE       16

/* Commands from the host (keyboard technical reference, "Commands from the
 * system"). ED, F0 and F3 take a parameter byte. */
#define PS2KBD_CMD_SET_LEDS     0xED
#define PS2KBD_CMD_ECHO         0xEE
#define PS2KBD_CMD_SCAN_SET     0xF0    /* parameter 0: report, 1-3: select */
#define PS2KBD_CMD_IDENTIFY     0xF2
#define PS2KBD_CMD_TYPEMATIC    0xF3
#define PS2KBD_CMD_ENABLE       0xF4
#define PS2KBD_CMD_DISABLE      0xF5    /* default disable */
#define PS2KBD_CMD_DEFAULTS     0xF6
#define PS2KBD_CMD_RESEND       0xFE
#define PS2KBD_CMD_RESET        0xFF

/* Bytes to the host ("Commands to the system"). */
#define PS2KBD_ACK              0xFA
#define PS2KBD_BAT_OK           0xAA    /* basic assurance test passed */
#define PS2KBD_ECHO             0xEE
#define PS2KBD_RESEND           0xFE
#define PS2KBD_ID_0             0xAB    /* keyboard ID, first byte */
#define PS2KBD_ID_1             0x83
#define PS2KBD_OVERRUN_SET1     0xFF
#define PS2KBD_OVERRUN_SET2     0x00    /* sets 2 and 3 */

/* Scan-code prefixes. */
#define PS2KBD_PREFIX_EXT       0xE0
#define PS2KBD_PREFIX_BREAK     0xF0    /* sets 2 and 3; set 1 sets bit 7 */
#define PS2KBD_SET1_BREAK       0x80

/* Set LEDs parameter bits. */
#define PS2KBD_LED_SCROLL       0x01
#define PS2KBD_LED_NUM          0x02
#define PS2KBD_LED_CAPS         0x04
#define PS2KBD_LED_MASK         0x07

#define PS2KBD_TYPEMATIC_DEFAULT 0x2B   /* 10.9 characters/s after 500 ms */

struct ps2kbd {
    uint8_t queue[PS2KBD_QUEUE_SIZE];
    uint8_t head, count;
    uint8_t param_cmd;          /* command waiting for its parameter, 0: none */
    uint8_t last_sent;          /* the byte a Resend repeats */
    uint8_t scan_set;           /* 1, 2 or 3 */
    uint8_t leds;               /* PS2KBD_LED_* */
    uint8_t typematic;          /* rate/delay byte as last set (not acted on) */
    bool scanning;
    /* Observability. */
    uint64_t keys_dropped;      /* key events lost: scanning off, queue full */
    uint64_t unknown_commands;  /* bytes answered with Resend */
};

/* Power-on state after a passed BAT whose 0xAA was already taken: set 2,
 * scanning, LEDs off, default typematic, empty queue. */
void ps2kbd_init(struct ps2kbd *k);

/* A byte from the host: a command or the parameter of the previous one. */
void ps2kbd_write(struct ps2kbd *k, uint8_t b);

/* A key event: the set-1 make code (without the E0 prefix; `extended` adds
 * it) pressed or released, queued in the current scan-code set. Returns
 * false, counting a dropped key, when scanning is off, the code has no key
 * on a 104-key keyboard, or the queue is full. */
bool ps2kbd_key(struct ps2kbd *k, uint8_t set1_code, bool extended, bool pressed);

/* Bytes waiting to go to the host. */
static inline bool ps2kbd_pending(const struct ps2kbd *k) { return k->count != 0; }

/* Sends the next byte to the host (remembered for Resend); 0 when empty. */
uint8_t ps2kbd_pop(struct ps2kbd *k);

/* LED state last set by the guest, PS2KBD_LED_* bits. */
static inline uint8_t ps2kbd_leds(const struct ps2kbd *k) { return k->leds; }

#endif
