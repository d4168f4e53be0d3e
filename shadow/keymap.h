/* Key codes: X11/RFB keysyms to PS/2 scan-code set 1 (US layout), and the
 * tables between scan-code sets 1 and 2.
 *
 * Keys are named by their set-1 make code plus an "extended" flag for the
 * 0xE0 prefix: the form QEMU's extended key events carry and the one the
 * keyboard model takes. Pause (an E1 sequence) and Print Screen's fake-shift
 * prefix are not represented: Print maps to E0 37 alone. */
#ifndef SHADOW_KEYMAP_H
#define SHADOW_KEYMAP_H
#include <stdbool.h>
#include <stdint.h>

/* The key that types `keysym` on a US keyboard: its set-1 make code, whether
 * it carries the E0 prefix, and whether Shift must be held (uppercase
 * letters, shifted symbols, ISO_Left_Tab). Returns 0, or -1 for a keysym with
 * no key here (the outputs are then left alone). */
int keymap_keysym_to_set1(uint32_t keysym, uint8_t *code, bool *extended, bool *needs_shift);

/* The set-2 code of the key whose set-1 make code is `set1` (E0 prefix, if
 * any, unchanged), or 0 for codes with no key on a 104-key keyboard. */
uint8_t keymap_set1_to_set2(uint8_t set1);

/* The i8042's translation of a byte from the keyboard (config bit 6): the
 * real table for 0x00-0x84 (0x00, set 2's overrun, becomes 0xFF; unassigned
 * codes map as on the chip), and 0x85-0xFF unchanged, which passes the
 * keyboard's responses (FA, AA, EE, FE, AB) and the E0/E1 prefixes. The break
 * prefix F0 is the caller's to handle: it sets bit 7 of the next byte. */
uint8_t keymap_set2_to_set1(uint8_t set2);

#endif
