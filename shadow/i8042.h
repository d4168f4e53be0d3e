/* Shadow i8042 keyboard controller with a PS/2 keyboard on its first port.
 *
 * A pure state machine: the VM-exit handler forwards the guest's accesses to
 * ports 0x60/0x64 as i8042_read/i8042_write, then injects IRQ 1 when
 * i8042_take_irq1_edge says so and resets the VM when
 * i8042_take_reset_request does. The VNC service feeds keys in with
 * i8042_key and reads the guest's LEDs with ps2kbd_leds(&c->kbd).
 *
 * Every transfer is instant, so IBF is always clear and the output buffer is
 * refilled as soon as it is read: controller responses first, then the
 * keyboard's bytes while its port is enabled, translated from set 2 to set 1
 * when config bit 6 is set. Translation covers every byte from the keyboard,
 * as on the chip (identify reads AB 41, a set-2 report 41), and never bytes
 * written with command D2.
 *
 * There is no auxiliary (mouse) device: A7/A8 only flip config bit 5, the
 * interface test A9 answers 01 (clock line stuck low), and the bytes that
 * follow D3 and D4 are discarded without an answer, so a driver that still
 * writes to the mouse times out as with an unplugged one. AUXB and IRQ 12
 * are never raised.
 *
 * Nothing here locks: the owner serializes every call on one struct i8042. */
#ifndef SHADOW_I8042_H
#define SHADOW_I8042_H
#include "shadow/ps2kbd.h"
#include <stdbool.h>
#include <stdint.h>

/* I/O ports. */
#define I8042_PORT_DATA         0x60
#define I8042_PORT_STATUS       0x64    /* read */
#define I8042_PORT_COMMAND      0x64    /* write */

/* Status register. */
#define I8042_STATUS_OBF        0x01    /* output buffer full */
#define I8042_STATUS_IBF        0x02    /* input buffer full: never, writes are instant */
#define I8042_STATUS_SYS        0x04    /* system flag, copied from config bit 2 */
#define I8042_STATUS_A2         0x08    /* last write was to the command port */
#define I8042_STATUS_INH        0x10    /* 1: keyboard not inhibited (key lock off) */
#define I8042_STATUS_AUXB       0x20    /* output buffer holds aux data: never */

/* Configuration ("command") byte, read with 0x20, written with 0x60. */
#define I8042_CFG_IRQ1          0x01    /* first port interrupt */
#define I8042_CFG_IRQ12         0x02    /* aux port interrupt */
#define I8042_CFG_SYS           0x04    /* system flag */
#define I8042_CFG_KBD_DISABLE   0x10    /* first port clock off */
#define I8042_CFG_AUX_DISABLE   0x20    /* aux port clock off */
#define I8042_CFG_TRANSLATE     0x40    /* set 2 -> set 1 translation */

/* Controller commands (written to port 0x64). */
#define I8042_CMD_READ_CONFIG   0x20
#define I8042_CMD_WRITE_CONFIG  0x60    /* + data byte */
#define I8042_CMD_AUX_DISABLE   0xA7
#define I8042_CMD_AUX_ENABLE    0xA8
#define I8042_CMD_AUX_TEST      0xA9
#define I8042_CMD_SELF_TEST     0xAA
#define I8042_CMD_KBD_TEST      0xAB
#define I8042_CMD_KBD_DISABLE   0xAD
#define I8042_CMD_KBD_ENABLE    0xAE
#define I8042_CMD_READ_INPUT    0xC0
#define I8042_CMD_READ_OUTPUT   0xD0
#define I8042_CMD_WRITE_OUTPUT  0xD1    /* + data byte */
#define I8042_CMD_WRITE_KBD_OBUF 0xD2   /* + data byte, read back as keyboard data */
#define I8042_CMD_WRITE_AUX_OBUF 0xD3   /* + data byte */
#define I8042_CMD_WRITE_AUX     0xD4    /* + data byte */
#define I8042_CMD_PULSE         0xF0    /* F0-FF: pulse output port bits 0-3 that are 0 */
#define I8042_CMD_PULSE_MASK    0xF0
#define I8042_CMD_RESET         0xFE    /* pulse bit 0 only */

/* Command responses. */
#define I8042_SELF_TEST_OK      0x55
#define I8042_PORT_TEST_OK      0x00
#define I8042_PORT_TEST_CLOCK_LOW 0x01

/* Output port (D0/D1). */
#define I8042_OUT_RESET         0x01    /* 0: hold the CPU in reset */
#define I8042_OUT_A20           0x02    /* A20 gate */
/* At power-on: reset released, A20 on, both ports' clock and data lines
 * (bits 2-3, 6-7) idle high, no output buffer interrupt (bits 4-5). */
#define I8042_OUT_POWER_ON      0xCF

/* Input port (C0): bit 7 keyboard not inhibited, bit 5 no manufacturing
 * jumper, bit 6 color display, bit 4 RAM size. */
#define I8042_INPUT_PORT        0xA0

/* Configuration at power-on: first port interrupt and translation on, aux
 * port off; the system flag stays clear until the firmware sets it. */
#define I8042_CFG_POWER_ON      (I8042_CFG_IRQ1 | I8042_CFG_AUX_DISABLE | I8042_CFG_TRANSLATE)

/* Unread command responses kept; more are lost (each command answers one). */
#define I8042_RESP_QUEUE_SIZE   4

struct i8042 {
    struct ps2kbd kbd;
    uint8_t config;
    uint8_t out_port;
    uint8_t obuf;               /* output buffer; keeps the last byte once read */
    bool obf;
    bool a2;                    /* last write went to the command port */
    uint8_t data_cmd;           /* command waiting for its byte on 0x60, 0: none */
    bool xlat_break;            /* translation took an F0: next byte gets bit 7 */
    bool irq1;                  /* IRQ1 level after the last call */
    bool irq1_edge;             /* a rising edge not yet taken */
    bool reset_request;
    uint8_t resp[I8042_RESP_QUEUE_SIZE];
    uint8_t resp_head, resp_count;
    /* Observability. Key drops and the keyboard's unknown commands are in
     * kbd.keys_dropped and kbd.unknown_commands. */
    uint64_t bytes_to_guest;    /* bytes the guest took from the output buffer */
    uint64_t unknown_commands;  /* controller commands ignored */
};

/* Power-on state of the controller (I8042_CFG_POWER_ON, I8042_OUT_POWER_ON,
 * empty output buffer) and of the keyboard (ps2kbd_init); counters zeroed.
 * Also what a machine reset of the guest does to both. */
void i8042_init(struct i8042 *c);

/* A guest access to port 0x60 or 0x64; other ports read 0xFF and ignore
 * writes. Reading 0x60 takes the output buffer (the last byte again when it
 * is empty). Writing 0x60 gives the data byte of a pending command, or a
 * byte for the keyboard. */
uint8_t i8042_read(struct i8042 *c, uint16_t port);
void i8042_write(struct i8042 *c, uint16_t port, uint8_t v);

/* IRQ 1 level: output buffer full (always first-port data, controller
 * responses included, as on the chip) and config bit 0 set. */
static inline bool i8042_irq1_line(const struct i8042 *c)
{
    return c->obf && (c->config & I8042_CFG_IRQ1);
}

/* Whether IRQ 1 rose since the last call. A read of 0x60 that refills the
 * output buffer at once drops and raises the line within one call, which
 * sampling the level after the call cannot see; the edge-triggered PIC
 * expects one interrupt per byte. */
bool i8042_take_irq1_edge(struct i8042 *c);

/* A key from the VNC service: set-1 make code, E0 prefix, press or release
 * (see ps2kbd_key). Returns false when the keyboard dropped it. */
bool i8042_key(struct i8042 *c, uint8_t set1_code, bool extended, bool pressed);

/* Whether the guest pulsed or wrote the reset line (D1 bit 0 clear, or an
 * F0-FF pulse of bit 0) since the last call. */
bool i8042_take_reset_request(struct i8042 *c);

/* The A20 gate as the output port sets it. */
static inline bool i8042_a20(const struct i8042 *c) { return c->out_port & I8042_OUT_A20; }

#endif
