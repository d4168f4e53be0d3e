/* Shadow IBM VGA: registers, planar memory and a renderer to XRGB pixels.
 * Pure logic: the caller traps the guest's port and memory accesses and
 * serialises every call on one struct vga. */
#ifndef SHADOW_VGA_H
#define SHADOW_VGA_H
#include "shadow/vga_regs.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest picture vga_render() produces; bigger CRTC timings are cropped. */
#define VGA_MAX_WIDTH  800
#define VGA_MAX_HEIGHT 600

enum vga_kind {
    VGA_KIND_TEXT,          /* alphanumeric, char/attr in planes 0/1, font in plane 2 */
    VGA_KIND_PLANAR16,      /* 16 colours, one bit per plane (modes 0Dh-12h) */
    VGA_KIND_256,           /* 256 colours, 4 pixels per address (mode 13h, mode X) */
    VGA_KIND_BLANK,         /* screen off or attribute palette being loaded: black */
    VGA_KIND_UNSUPPORTED,   /* CGA interleaved graphics (modes 4-6): black */
};

struct vga_rect {
    uint32_t x, y, w, h;    /* pixels; w == 0 means empty */
};

/* What the last render drew: geometry and cursor decide what must redraw. */
struct vga_geom {
    uint8_t kind;
    uint8_t unit_w, unit_h; /* pixels per CRTC address step and per row of them */
    uint8_t addr_shift;     /* 0 byte, 1 word, 2 doubleword addressing */
    uint8_t dot9, dbl;      /* 9-dot text; scan doubling (text glyph rows) */
    uint16_t width, height;
    uint16_t cols, rows;    /* address steps shown per row, rows shown */
    uint16_t pitch;         /* address steps between rows */
    uint16_t start;
    uint8_t char_height;
    uint8_t wrap_bit;       /* word mode: counter bit copied to address bit 0 */
};

struct vga_cursor {
    uint8_t shown, top, bottom;
    uint16_t row, col;
};

struct vga {
    uint8_t *planes;        /* VGA_PLANES x VGA_PLANE_SIZE, plane p at p * 64 KiB */
    uint8_t misc, feature;
    uint8_t seq_index, seq[VGA_SEQ_COUNT];
    uint8_t gc_index, gc[VGA_GC_COUNT];
    uint8_t crtc_index, crtc[VGA_CRTC_COUNT];
    uint8_t ar_index;       /* bits 4-0 index, bit 5 PAS */
    bool ar_data_next;      /* flip-flop: the next 3C0 write is data */
    uint8_t ar[VGA_AR_COUNT];
    uint8_t dac_mask, dac_read, dac_write, dac_step, dac_state;
    uint8_t dac_wbuf[3];
    uint8_t dac[256][3];    /* 6-bit components */
    uint8_t latch[VGA_PLANES];
    uint32_t status_reads;  /* drives the fake retrace in input status 1 */
    bool blink_on;          /* blink phase, flipped by vga_tick() */

    /* Dirty tracking between renders. */
    bool full_dirty;        /* a register that shapes the whole picture changed */
    bool font_dirty;        /* plane 2 changed (glyphs, in text modes) */
    bool blink_dirty;       /* vga_tick() ran */
    uint32_t mem_lo, mem_hi; /* plane addresses changed: [lo, hi), empty if equal */
    struct vga_geom last_geom;
    struct vga_cursor last_cursor;
    uint32_t rgb[256];      /* DAC as XRGB, refreshed per render */
};

/* The state a VGA BIOS leaves after setting mode 3 (80x25, 16 colours,
 * blank screen, built-in 8x16 font in plane 2 map 0, cursor lines 13-14).
 * `planes` is VGA_PLANES * VGA_PLANE_SIZE bytes, owned by the caller. */
void vga_init(struct vga *v, uint8_t *planes);

/* 8-bit accesses to 0x3B0-0x3DF; unknown or inactive ports read 0xFF. */
uint8_t vga_port_read(struct vga *v, uint16_t port);
void vga_port_write(struct vga *v, uint16_t port, uint8_t val);
/* A 16-bit OUT: low byte to `port`, high byte to `port + 1`. */
void vga_port_write16(struct vga *v, uint16_t port, uint16_t val);

/* CPU accesses at `offset` from 0xA0000 (0 .. 0x1FFFF). Outside the window
 * the graphics controller maps, reads give 0xFF and writes are dropped. */
uint8_t vga_mem_read(struct vga *v, uint32_t offset);
void vga_mem_write(struct vga *v, uint32_t offset, uint8_t val);

/* True while CPU accesses to B8000-BFFFF behave as one linear char/attr
 * buffer (even bytes plane 0, odd bytes plane 1, no latch effects), so
 * the caller may back that window with a plain page. */
bool vga_text_linear(const struct vga *v);
/* Copies such a linear buffer (at most VGA_TEXT_SIZE bytes) into planes
 * 0/1, marking only changed bytes dirty; export is the reverse. */
void vga_text_import(struct vga *v, const uint8_t *linear, size_t len);
/* The same for bytes [off, off + len) of the buffer that starts at linear. */
void vga_text_import_range(struct vga *v, const uint8_t *linear, size_t off, size_t len);
/* True while CPU accesses to A0000-AFFFF are plain chain-4 bytes (mode 13h
 * with write mode 0, every plane enabled, no ALU, rotate or set/reset), so
 * a plain page can back that window: byte i is plane i & 3, address i & ~3. */
bool vga_chain4_linear(const struct vga *v);
/* Copies bytes [off, off + len) of such a 64 KiB buffer into the planes,
 * marking only changed bytes dirty. */
void vga_chain4_import_range(struct vga *v, const uint8_t *linear, size_t off, size_t len);

/* Byte offset in the linear text buffer where the screen starts (CRTC start
 * address, odd/even: two bytes per cell) and how many bytes it shows. */
void vga_text_visible(const struct vga *v, size_t *off, size_t *len);
void vga_text_export(const struct vga *v, uint8_t *linear, size_t len);

/* Picture size and kind for the current registers (VNC DesktopSize). */
void vga_mode_info(const struct vga *v, unsigned *width, unsigned *height,
                   enum vga_kind *kind);
/* Redraws what changed since the last call into `fb` (XRGB, at least the
 * vga_mode_info() size at `fb_stride_px` >= width; VGA_MAX_WIDTH x
 * VGA_MAX_HEIGHT always suffices). Returns false, touching nothing, when
 * nothing changed; else true with the redrawn bounding box in *dirty_out. */
bool vga_render(struct vga *v, uint32_t *fb, unsigned fb_stride_px,
                struct vga_rect *dirty_out);
/* Flips the blink phase (cursor and attribute-blinking characters); call it
 * every half blink period (about 266 ms), or never for a steady display. */
void vga_tick(struct vga *v);

#endif
