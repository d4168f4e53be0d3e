/* A fake user VM for the hosted VNC service: a text-mode "shell" that
 * drives the shadow VGA and i8042 through their register interfaces, as a
 * guest driver would (VGA memory writes, CRTC cursor, polled port 0x64/0x60
 * with set-1 scan codes from the controller's translation).
 *
 * It prints a banner, echoes typed keys on the 80x25 screen, scrolls at the
 * bottom, and on Enter logs the line ("vga guest vm N: line 'text'") and
 * runs it: "mode13" switches to 320x200x256 with a test picture, "text"
 * back to 80x25, "bell" rings the viewers' bell, "fill" writes a full
 * screen of text (for benchmarks). */
#ifndef NET_HOSTED_VGA_GUEST_H
#define NET_HOSTED_VGA_GUEST_H
#include "shadow/i8042.h"
#include "shadow/vga.h"
#include <stdbool.h>
#include <stdint.h>

struct vga_guest {
    unsigned id;
    bool booted, shift, e0, bell;
    unsigned row, col;
    bool graphics;
    char line[81];
    unsigned linelen;
    struct vga vga;
    struct i8042 kbd;
    uint8_t planes[VGA_PLANES * VGA_PLANE_SIZE];
    uint32_t fb[VGA_MAX_WIDTH * VGA_MAX_HEIGHT];
};

void vga_guest_init(struct vga_guest *g, unsigned id);

/* One step: boot, then take every waiting scan code. True if anything
 * happened. */
bool vga_guest_step(struct vga_guest *g);

/* True once after the guest rang the bell. */
bool vga_guest_take_bell(struct vga_guest *g);

/* Writes the screen as the renderer would draw it now, as a binary PPM
 * (uses a private render target; the VNC service's dirty state is kept). */
bool vga_guest_dump_ppm(struct vga_guest *g, const char *path);

#endif
