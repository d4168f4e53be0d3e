#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "shadow/vga.h"
#include "vga_font8x16.h"

#define TEXT(off) (VGA_TEXT_WINDOW + (off))
#define PLANE(p) (planes + (p) * VGA_PLANE_SIZE)
#define STRIDE VGA_MAX_WIDTH
#define PX(x, y) fb[(size_t)(y) * STRIDE + (x)]

/* XRGB of the EGA colours mode 3 shows. */
#define BLACK  0x000000u
#define BLUE   0x0000AAu
#define GREY   0xAAAAAAu
#define WHITE  0xFFFFFFu

static struct vga v;
static uint8_t planes[VGA_PLANES * VGA_PLANE_SIZE];
static uint32_t fb[VGA_MAX_WIDTH * VGA_MAX_HEIGHT];

static int setup(void **state)
{
    (void)state;
    vga_init(&v, planes);
    memset(fb, 0x5A, sizeof fb);
    return 0;
}

static void seq_w(uint8_t i, uint8_t val) { vga_port_write(&v, 0x3C4, i); vga_port_write(&v, 0x3C5, val); }
static void gc_w(uint8_t i, uint8_t val) { vga_port_write(&v, 0x3CE, i); vga_port_write(&v, 0x3CF, val); }
static void crtc_w(uint8_t i, uint8_t val) { vga_port_write(&v, 0x3D4, i); vga_port_write(&v, 0x3D5, val); }
static uint8_t seq_r(uint8_t i) { vga_port_write(&v, 0x3C4, i); return vga_port_read(&v, 0x3C5); }
static uint8_t gc_r(uint8_t i) { vga_port_write(&v, 0x3CE, i); return vga_port_read(&v, 0x3CF); }
static uint8_t crtc_r(uint8_t i) { vga_port_write(&v, 0x3D4, i); return vga_port_read(&v, 0x3D5); }

/* Attribute register write the way drivers do it: reset the flip-flop,
 * index (PAS kept on), data. */
static void ar_w(uint8_t i, uint8_t val)
{
    vga_port_read(&v, 0x3DA);
    vga_port_write(&v, 0x3C0, (uint8_t)(i | VGA_AR_PAS));
    vga_port_write(&v, 0x3C0, val);
}

struct mode_regs {
    uint8_t misc, seq[VGA_SEQ_COUNT], crtc[VGA_CRTC_COUNT], gc[VGA_GC_COUNT], ar[VGA_AR_COUNT];
};

/* Standard BIOS tables for mode 1 (40x25 text), 12h (640x480x16), 13h. */
static const struct mode_regs mode1 = {
    0x67, { 0x03, 0x08, 0x03, 0x00, 0x02 },
    { 0x2D, 0x27, 0x28, 0x90, 0x2B, 0xA0, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
      0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x1F, 0x96, 0xB9, 0xA3, 0xFF },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E,
      0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00 },
};
static const struct mode_regs mode12 = {
    0xE3, { 0x03, 0x01, 0x0F, 0x00, 0x06 },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E,
      0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00 },
};
static const struct mode_regs mode13 = {
    0x63, { 0x03, 0x01, 0x0F, 0x00, 0x0E },
    { 0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF },
    { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF },
    { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
      0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00 },
};

static void set_mode(const struct mode_regs *m)
{
    vga_port_write(&v, 0x3C2, m->misc);
    seq_w(VGA_SEQ_RESET, 0x01);
    for (uint8_t i = 1; i < VGA_SEQ_COUNT; i++)
        seq_w(i, m->seq[i]);
    seq_w(VGA_SEQ_RESET, 0x03);
    crtc_w(VGA_CRTC_V_RETRACE_END, m->crtc[VGA_CRTC_V_RETRACE_END] & 0x7F);
    for (uint8_t i = 0; i < VGA_CRTC_COUNT; i++)
        crtc_w(i, m->crtc[i]);
    for (uint8_t i = 0; i < VGA_GC_COUNT; i++)
        gc_w(i, m->gc[i]);
    for (uint8_t i = 0; i < VGA_AR_COUNT; i++)
        ar_w(i, m->ar[i]);
}

static void put_char(unsigned row, unsigned col, uint8_t ch, uint8_t attr)
{
    vga_mem_write(&v, TEXT((row * 80 + col) * 2), ch);
    vga_mem_write(&v, TEXT((row * 80 + col) * 2 + 1), attr);
}

static void set_cursor(unsigned row, unsigned col)
{
    unsigned loc = row * 80 + col;
    crtc_w(VGA_CRTC_CURSOR_HI, (uint8_t)(loc >> 8));
    crtc_w(VGA_CRTC_CURSOR_LO, (uint8_t)loc);
}

static uint32_t fnv1a(unsigned w, unsigned h)
{
    uint32_t hash = 2166136261u;
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++)
            for (unsigned b = 0; b < 4; b++) {
                hash ^= PX(x, y) >> (8 * b) & 0xFF;
                hash *= 16777619u;
            }
    return hash;
}

static struct vga_rect render(void)
{
    struct vga_rect r = { 0, 0, 0, 0 };
    assert_true(vga_render(&v, fb, STRIDE, &r));
    return r;
}

static void assert_rect(struct vga_rect r, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    assert_int_equal(r.x, x);
    assert_int_equal(r.y, y);
    assert_int_equal(r.w, w);
    assert_int_equal(r.h, h);
}

/* ------------------------------------------------------------- registers */

static void test_misc_and_feature(void **state)
{
    (void)state;
    assert_int_equal(vga_port_read(&v, 0x3CC), 0x67);
    vga_port_write(&v, 0x3C2, 0xE3);
    assert_int_equal(vga_port_read(&v, 0x3CC), 0xE3);
    vga_port_write(&v, 0x3DA, 0x05);      /* feature control, colour alias */
    assert_int_equal(vga_port_read(&v, 0x3CA), 0x05);
    assert_int_equal(vga_port_read(&v, 0x3B0), 0xFF);
    assert_int_equal(vga_port_read(&v, 0x3C3), 0xFF);
}

static void test_seq_roundtrip(void **state)
{
    (void)state;
    vga_port_write(&v, 0x3C4, 0x0A);      /* index masked to 3 bits */
    assert_int_equal(vga_port_read(&v, 0x3C4), 0x02);
    vga_port_write(&v, 0x3C5, 0xFF);
    assert_int_equal(seq_r(VGA_SEQ_MAP_MASK), 0x0F);
    seq_w(VGA_SEQ_CHARACTER_MAP, 0xFF);
    assert_int_equal(seq_r(VGA_SEQ_CHARACTER_MAP), 0x3F);
    seq_w(VGA_SEQ_CLOCKING_MODE, 0x21);
    assert_int_equal(seq_r(VGA_SEQ_CLOCKING_MODE), 0x21);
    seq_w(VGA_SEQ_MEMORY_MODE, 0x0F);
    assert_int_equal(seq_r(VGA_SEQ_MEMORY_MODE), 0x0E);
    assert_int_equal(seq_r(5), 0xFF);     /* no such register */
}

static void test_gc_roundtrip(void **state)
{
    (void)state;
    vga_port_write(&v, 0x3CE, 0x18);      /* index masked to 4 bits */
    assert_int_equal(vga_port_read(&v, 0x3CE), 0x08);
    vga_port_write(&v, 0x3CF, 0x5A);
    assert_int_equal(gc_r(VGA_GC_BIT_MASK), 0x5A);
    gc_w(VGA_GC_DATA_ROTATE, 0xFF);
    assert_int_equal(gc_r(VGA_GC_DATA_ROTATE), 0x1F);
    gc_w(VGA_GC_MODE, 0xFF);
    assert_int_equal(gc_r(VGA_GC_MODE), 0x7B);
    gc_w(VGA_GC_READ_MAP, 0xFF);
    assert_int_equal(gc_r(VGA_GC_READ_MAP), 0x03);
    gc_w(VGA_GC_MISC, 0x05);
    assert_int_equal(gc_r(VGA_GC_MISC), 0x05);
    assert_int_equal(gc_r(9), 0xFF);
}

static void test_crtc_roundtrip_and_protect(void **state)
{
    (void)state;
    vga_port_write(&v, 0x3D4, 0x2E);      /* index masked to 5 bits */
    assert_int_equal(vga_port_read(&v, 0x3D4), 0x0E);
    vga_port_write(&v, 0x3D5, 0x07);
    assert_int_equal(crtc_r(VGA_CRTC_CURSOR_HI), 0x07);
    assert_int_equal(crtc_r(0x19), 0xFF);

    /* Mode 3 leaves protect on: 0-6 frozen, overflow only bit 4. */
    assert_int_equal(crtc_r(VGA_CRTC_V_RETRACE_END) & VGA_CRTC_VRE_PROTECT, VGA_CRTC_VRE_PROTECT);
    crtc_w(VGA_CRTC_H_DISPLAY_END, 0x20);
    assert_int_equal(crtc_r(VGA_CRTC_H_DISPLAY_END), 0x4F);
    crtc_w(VGA_CRTC_OVERFLOW, 0x00);
    assert_int_equal(crtc_r(VGA_CRTC_OVERFLOW), 0x0F);
    crtc_w(VGA_CRTC_MAX_SCAN_LINE, 0x47); /* 8+ are never protected */
    assert_int_equal(crtc_r(VGA_CRTC_MAX_SCAN_LINE), 0x47);
    crtc_w(VGA_CRTC_V_RETRACE_END, 0x0E);
    crtc_w(VGA_CRTC_H_DISPLAY_END, 0x20);
    assert_int_equal(crtc_r(VGA_CRTC_H_DISPLAY_END), 0x20);
    crtc_w(VGA_CRTC_OVERFLOW, 0x00);
    assert_int_equal(crtc_r(VGA_CRTC_OVERFLOW), 0x00);
}

static void test_crtc_mono_ports(void **state)
{
    (void)state;
    vga_port_write(&v, 0x3C2, 0x66);      /* I/O at 3Bx */
    assert_int_equal(vga_port_read(&v, 0x3D5), 0xFF);
    assert_int_equal(vga_port_read(&v, 0x3DA), 0xFF);
    vga_port_write(&v, 0x3D4, VGA_CRTC_OFFSET);
    vga_port_write(&v, 0x3B4, VGA_CRTC_OFFSET);
    vga_port_write(&v, 0x3D5, 0x11);      /* ignored */
    assert_int_equal(vga_port_read(&v, 0x3B5), 0x28);
    vga_port_write(&v, 0x3B5, 0x11);
    assert_int_equal(vga_port_read(&v, 0x3B5), 0x11);
    vga_port_write(&v, 0x3C2, 0x67);
    assert_int_equal(crtc_r(VGA_CRTC_OFFSET), 0x11);
    assert_int_equal(vga_port_read(&v, 0x3B5), 0xFF);
}

static void test_ar_flipflop(void **state)
{
    (void)state;
    vga_port_read(&v, 0x3DA);
    vga_port_write(&v, 0x3C0, 0x21);      /* index 1, PAS */
    vga_port_write(&v, 0x3C0, 0xFF);      /* data, masked to 6 bits */
    assert_int_equal(vga_port_read(&v, 0x3C0), 0x21);
    assert_int_equal(vga_port_read(&v, 0x3C1), 0x3F);

    /* Index written, then a status read: the next write is an index again. */
    vga_port_write(&v, 0x3C0, 0x30);
    vga_port_read(&v, 0x3DA);
    vga_port_write(&v, 0x3C0, 0x32);
    assert_int_equal(vga_port_read(&v, 0x3C0), 0x32);
    vga_port_write(&v, 0x3C0, 0x0A);
    assert_int_equal(vga_port_read(&v, 0x3C1), 0x0A);   /* plane enable */

    /* Without the reset the flip-flop just alternates. */
    vga_port_write(&v, 0x3C0, 0x34);
    vga_port_write(&v, 0x3C0, 0x05);
    assert_int_equal(vga_port_read(&v, 0x3C0), 0x34);
    assert_int_equal(vga_port_read(&v, 0x3C1), 0x05);
    vga_port_write(&v, 0x3C0, 0x35);      /* no such register: index only */
    assert_int_equal(vga_port_read(&v, 0x3C1), 0xFF);
    vga_port_write(&v, 0x3C0, 0x77);
    vga_port_write(&v, 0x3C0, 0x30);
    assert_int_equal(vga_port_read(&v, 0x3C1), 0x0C);   /* mode control untouched */
}

static void test_status_retrace_toggles(void **state)
{
    (void)state;
    unsigned n = 0;
    while (vga_port_read(&v, 0x3DA) & VGA_STATUS1_VRETRACE)
        assert_true(++n < 8);
    while (!(vga_port_read(&v, 0x3DA) & VGA_STATUS1_VRETRACE))
        assert_true(++n < 8);
    while (vga_port_read(&v, 0x3DA) & VGA_STATUS1_VRETRACE)
        assert_true(++n < 8);
    bool seen_display = false, seen_blank = false;
    for (unsigned i = 0; i < 4; i++) {
        uint8_t s = vga_port_read(&v, 0x3DA);
        seen_display |= !(s & VGA_STATUS1_DISPLAY_DISABLED);
        seen_blank |= (s & VGA_STATUS1_DISPLAY_DISABLED) && !(s & VGA_STATUS1_VRETRACE);
    }
    assert_true(seen_display && seen_blank);
    assert_int_equal(vga_port_read(&v, 0x3C2), 0x00);
}

static void test_dac_sequencing(void **state)
{
    (void)state;
    assert_int_equal(vga_port_read(&v, 0x3C6), 0xFF);
    vga_port_write(&v, 0x3C8, 5);
    assert_int_equal(vga_port_read(&v, 0x3C7), VGA_DAC_STATE_WRITE);
    const uint8_t in[6] = { 0x01, 0x02, 0xFF, 0x10, 0x20, 0x30 };
    for (unsigned i = 0; i < 6; i++)
        vga_port_write(&v, 0x3C9, in[i]);
    assert_int_equal(vga_port_read(&v, 0x3C8), 7);

    /* Two components then a new index: the colour is not latched. */
    vga_port_write(&v, 0x3C9, 0x3F);
    vga_port_write(&v, 0x3C9, 0x3F);
    vga_port_write(&v, 0x3C8, 9);
    vga_port_write(&v, 0x3C9, 0x11);
    vga_port_write(&v, 0x3C9, 0x12);
    vga_port_write(&v, 0x3C9, 0x13);

    vga_port_write(&v, 0x3C7, 5);
    assert_int_equal(vga_port_read(&v, 0x3C7), VGA_DAC_STATE_READ);
    /* 5 and 6 as written, 7 and 8 still the EGA grey and dark blue. */
    const uint8_t want[12] = { 0x01, 0x02, 0x3F, 0x10, 0x20, 0x30,
                               0x2A, 0x2A, 0x2A, 0x00, 0x00, 0x15 };
    for (unsigned i = 0; i < 12; i++)
        assert_int_equal(vga_port_read(&v, 0x3C9), want[i]);
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(vga_port_read(&v, 0x3C9), 0x11 + i);

    vga_port_write(&v, 0x3C7, 0xFF);      /* read index wraps to 0 */
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(vga_port_read(&v, 0x3C9), 0x00);
    assert_int_equal(vga_port_read(&v, 0x3C9), 0x00);         /* colour 0 red */
    vga_port_write(&v, 0x3C6, 0x0F);
    assert_int_equal(vga_port_read(&v, 0x3C6), 0x0F);
}

static void test_port_write16(void **state)
{
    (void)state;
    vga_port_write16(&v, 0x3C4, 0x0402);
    assert_int_equal(seq_r(VGA_SEQ_MAP_MASK), 0x04);
    vga_port_write16(&v, 0x3CE, 0x0F08);
    assert_int_equal(gc_r(VGA_GC_BIT_MASK), 0x0F);
    vga_port_write16(&v, 0x3D4, 0x200A);
    assert_int_equal(crtc_r(VGA_CRTC_CURSOR_START), 0x20);
}

/* ---------------------------------------------------------------- memory */

static void test_text_odd_even(void **state)
{
    (void)state;
    uint8_t font_byte = PLANE(2)[0x41 * 32 + 4];
    vga_mem_write(&v, TEXT(0), 'A');
    vga_mem_write(&v, TEXT(1), 0x1E);
    vga_mem_write(&v, TEXT(2), 'B');
    vga_mem_write(&v, TEXT(3), 0x2F);
    assert_int_equal(PLANE(0)[0], 'A');
    assert_int_equal(PLANE(1)[0], 0x1E);
    assert_int_equal(PLANE(0)[2], 'B');
    assert_int_equal(PLANE(1)[2], 0x2F);
    assert_int_equal(PLANE(2)[0x41 * 32 + 4], font_byte);
    assert_int_equal(vga_mem_read(&v, TEXT(0)), 'A');
    assert_int_equal(vga_mem_read(&v, TEXT(1)), 0x1E);
    assert_int_equal(vga_mem_read(&v, TEXT(3)), 0x2F);
    /* Read map select bit 1 moves odd/even reads to planes 2/3. */
    gc_w(VGA_GC_READ_MAP, 2);
    assert_int_equal(vga_mem_read(&v, TEXT(0)), PLANE(2)[0]);
}

/* Programs the sequencer and GC as a BIOS does to reach plane 2 at A0000. */
static void font_access_begin(void)
{
    seq_w(VGA_SEQ_MAP_MASK, 0x04);
    seq_w(VGA_SEQ_MEMORY_MODE, 0x07);
    gc_w(VGA_GC_READ_MAP, 0x02);
    gc_w(VGA_GC_MODE, 0x00);
    gc_w(VGA_GC_MISC, 0x04);
}

static void font_access_end(void)
{
    seq_w(VGA_SEQ_MAP_MASK, 0x03);
    seq_w(VGA_SEQ_MEMORY_MODE, 0x03);
    gc_w(VGA_GC_READ_MAP, 0x00);
    gc_w(VGA_GC_MODE, 0x10);
    gc_w(VGA_GC_MISC, 0x0E);
}

static void load_solid_font(void)
{
    font_access_begin();
    for (uint32_t ch = 0; ch < 256; ch++)
        for (uint32_t row = 0; row < 16; row++)
            vga_mem_write(&v, ch * 32 + row, 0xFF);
    font_access_end();
}

static void test_font_load_path(void **state)
{
    (void)state;
    put_char(0, 0, 'Q', 0x07);
    assert_memory_equal(PLANE(2) + 'Q' * 32, vga_font8x16['Q'], 16);
    font_access_begin();
    assert_false(vga_text_linear(&v));
    for (uint32_t row = 0; row < 16; row++)
        vga_mem_write(&v, 'Q' * 32 + row, (uint8_t)(0x80 | row));
    assert_int_equal(vga_mem_read(&v, 'Q' * 32 + 3), 0x83);
    assert_int_equal(vga_mem_read(&v, TEXT(0)), 0xFF);   /* B8000 unmapped now */
    font_access_end();
    for (uint32_t row = 0; row < 16; row++)
        assert_int_equal(PLANE(2)['Q' * 32 + row], 0x80 | row);
    assert_int_equal(PLANE(0)[0], 'Q');
    assert_int_equal(PLANE(1)[0], 0x07);
    assert_int_equal(PLANE(3)['Q' * 32], 0);
    assert_true(vga_text_linear(&v));
    assert_int_equal(vga_mem_read(&v, TEXT(0)), 'Q');
}

/* Mode 12h gives plain planar access at A0000; memory cleared as a BIOS does. */
static void planar_setup(void)
{
    set_mode(&mode12);
    memset(planes, 0, sizeof planes);
}

static void planes_at(uint32_t a, uint8_t p0, uint8_t p1, uint8_t p2, uint8_t p3)
{
    assert_int_equal(PLANE(0)[a], p0);
    assert_int_equal(PLANE(1)[a], p1);
    assert_int_equal(PLANE(2)[a], p2);
    assert_int_equal(PLANE(3)[a], p3);
}

static void fill_planes(uint32_t a, uint8_t p0, uint8_t p1, uint8_t p2, uint8_t p3)
{
    const uint8_t val[4] = { p0, p1, p2, p3 };
    for (uint8_t p = 0; p < 4; p++) {
        seq_w(VGA_SEQ_MAP_MASK, (uint8_t)(1 << p));
        vga_mem_write(&v, a, val[p]);
    }
    seq_w(VGA_SEQ_MAP_MASK, 0x0F);
}

static void test_write_mode0(void **state)
{
    (void)state;
    planar_setup();
    vga_mem_write(&v, 0, 0xA5);
    planes_at(0, 0xA5, 0xA5, 0xA5, 0xA5);
    gc_w(VGA_GC_SET_RESET, 0x05);
    gc_w(VGA_GC_ENABLE_SET_RESET, 0x0F);
    vga_mem_write(&v, 1, 0x12);
    planes_at(1, 0xFF, 0x00, 0xFF, 0x00);
    gc_w(VGA_GC_ENABLE_SET_RESET, 0x03);
    vga_mem_write(&v, 2, 0x12);
    planes_at(2, 0xFF, 0x00, 0x12, 0x12);
    gc_w(VGA_GC_ENABLE_SET_RESET, 0x00);
    gc_w(VGA_GC_DATA_ROTATE, 0x04);       /* rotate right by 4 */
    vga_mem_write(&v, 3, 0x12);
    planes_at(3, 0x21, 0x21, 0x21, 0x21);
    gc_w(VGA_GC_DATA_ROTATE, 0x00);

    /* Logical operations and the bit mask work against the latches. */
    fill_planes(4, 0xF0, 0xF0, 0xF0, 0xF0);
    vga_mem_read(&v, 4);
    const uint8_t func_want[4] = { 0x3C, 0x30, 0xFC, 0xCC };
    for (uint8_t f = 0; f < 4; f++) {
        gc_w(VGA_GC_DATA_ROTATE, (uint8_t)(f << 3));
        vga_mem_write(&v, 5, 0x3C);
        planes_at(5, func_want[f], func_want[f], func_want[f], func_want[f]);
    }
    gc_w(VGA_GC_DATA_ROTATE, 0x00);
    gc_w(VGA_GC_BIT_MASK, 0x0F);
    vga_mem_write(&v, 6, 0x55);
    planes_at(6, 0xF5, 0xF5, 0xF5, 0xF5);
    gc_w(VGA_GC_BIT_MASK, 0xFF);
    seq_w(VGA_SEQ_MAP_MASK, 0x02);
    vga_mem_write(&v, 7, 0x77);
    planes_at(7, 0x00, 0x77, 0x00, 0x00);
}

static void test_write_mode1(void **state)
{
    (void)state;
    planar_setup();
    fill_planes(10, 0x11, 0x22, 0x33, 0x44);
    vga_mem_read(&v, 10);
    gc_w(VGA_GC_MODE, 0x01);
    gc_w(VGA_GC_BIT_MASK, 0x00);          /* ignored in write mode 1 */
    vga_mem_write(&v, 20, 0x99);
    planes_at(20, 0x11, 0x22, 0x33, 0x44);
}

static void test_write_mode2(void **state)
{
    (void)state;
    planar_setup();
    gc_w(VGA_GC_MODE, 0x02);
    vga_mem_write(&v, 0, 0x09);
    planes_at(0, 0xFF, 0x00, 0x00, 0xFF);
    fill_planes(1, 0x00, 0x00, 0x00, 0x00);
    vga_mem_read(&v, 1);
    gc_w(VGA_GC_MODE, 0x02);
    gc_w(VGA_GC_BIT_MASK, 0x81);
    vga_mem_write(&v, 1, 0x06);
    planes_at(1, 0x00, 0x81, 0x81, 0x00);
}

static void test_write_mode3(void **state)
{
    (void)state;
    planar_setup();
    vga_mem_read(&v, 0);                  /* latches 0 */
    gc_w(VGA_GC_MODE, 0x03);
    gc_w(VGA_GC_SET_RESET, 0x06);
    gc_w(VGA_GC_BIT_MASK, 0xF0);
    vga_mem_write(&v, 0, 0x3C);           /* effective mask 0xF0 & 0x3C */
    planes_at(0, 0x00, 0x30, 0x30, 0x00);
    gc_w(VGA_GC_DATA_ROTATE, 0x02);
    vga_mem_write(&v, 1, 0xF0);           /* rotated to 0x3C first */
    planes_at(1, 0x00, 0x30, 0x30, 0x00);
}

static void test_read_modes(void **state)
{
    (void)state;
    planar_setup();
    fill_planes(8, 0xF0, 0xCC, 0xAA, 0x00);
    for (uint8_t p = 0; p < 4; p++) {
        gc_w(VGA_GC_READ_MAP, p);
        assert_int_equal(vga_mem_read(&v, 8), ((const uint8_t[]){ 0xF0, 0xCC, 0xAA, 0x00 })[p]);
    }
    gc_w(VGA_GC_MODE, VGA_GC_MODE_READ1);
    gc_w(VGA_GC_COLOR_COMPARE, 0x03);
    assert_int_equal(vga_mem_read(&v, 8), 0x40);    /* p0 & p1 & ~p2 & ~p3 */
    gc_w(VGA_GC_COLOR_DONT_CARE, 0x03);
    assert_int_equal(vga_mem_read(&v, 8), 0xC0);
    gc_w(VGA_GC_COLOR_DONT_CARE, 0x00);
    assert_int_equal(vga_mem_read(&v, 8), 0xFF);
}

static void test_chain4(void **state)
{
    (void)state;
    set_mode(&mode13);
    for (uint32_t a = 0; a < 8; a++)
        vga_mem_write(&v, a, (uint8_t)(10 + a));
    planes_at(0, 10, 11, 12, 13);
    planes_at(4, 14, 15, 16, 17);
    for (uint32_t a = 0; a < 8; a++)
        assert_int_equal(vga_mem_read(&v, a), 10 + a);
    seq_w(VGA_SEQ_MAP_MASK, 0x0D);        /* plane 1 off */
    vga_mem_write(&v, 5, 0x99);
    vga_mem_write(&v, 6, 0x98);
    planes_at(4, 14, 15, 0x98, 17);
    vga_mem_write(&v, 0xFFFF, 0x42);
    assert_int_equal(PLANE(3)[0xFFFC], 0x42);
}

static void test_memory_windows(void **state)
{
    (void)state;
    uint8_t before = PLANE(0)[0];
    assert_int_equal(vga_mem_read(&v, 0x00000), 0xFF);    /* B8000 window only */
    assert_int_equal(vga_mem_read(&v, 0x17FFF), 0xFF);
    vga_mem_write(&v, 0x00000, 0x12);
    assert_int_equal(PLANE(0)[0], before);
    assert_int_equal(vga_mem_read(&v, TEXT(0x7FFE)), 0x20);

    gc_w(VGA_GC_MISC, 0x0A);              /* B0000, 32K */
    vga_mem_write(&v, 0x10000, 'm');
    assert_int_equal(PLANE(0)[0], 'm');
    assert_int_equal(vga_mem_read(&v, 0x18000), 0xFF);
    gc_w(VGA_GC_MISC, 0x06);              /* A0000, 64K */
    assert_int_equal(vga_mem_read(&v, 0x00000), 'm');
    assert_int_equal(vga_mem_read(&v, 0x10000), 0xFF);
    gc_w(VGA_GC_MISC, 0x02);              /* A0000, 128K: wraps per 64K plane */
    assert_int_equal(vga_mem_read(&v, 0x10000), 'm');
    assert_int_equal(vga_mem_read(&v, 0x10001), 0x07);
    vga_port_write(&v, 0x3C2, 0x65);      /* RAM disabled */
    assert_int_equal(vga_mem_read(&v, 0x00000), 0xFF);
    vga_mem_write(&v, 0x00000, 'x');
    assert_int_equal(PLANE(0)[0], 'm');
}

static void test_text_linear_import_export(void **state)
{
    (void)state;
    assert_true(vga_text_linear(&v));
    seq_w(VGA_SEQ_MAP_MASK, 0x0F);
    assert_false(vga_text_linear(&v));
    seq_w(VGA_SEQ_MAP_MASK, 0x03);
    gc_w(VGA_GC_BIT_MASK, 0x7F);
    assert_false(vga_text_linear(&v));
    gc_w(VGA_GC_BIT_MASK, 0xFF);
    gc_w(VGA_GC_MISC, 0x06);
    assert_false(vga_text_linear(&v));
    gc_w(VGA_GC_MISC, 0x0E);
    assert_true(vga_text_linear(&v));

    static uint8_t linear[VGA_TEXT_SIZE];
    vga_text_export(&v, linear, sizeof linear);
    assert_int_equal(linear[0], ' ');
    assert_int_equal(linear[1], 0x07);
    linear[160] = 'Z';
    linear[161] = 0x4E;
    vga_text_import(&v, linear, sizeof linear);
    assert_int_equal(vga_mem_read(&v, TEXT(160)), 'Z');
    assert_int_equal(vga_mem_read(&v, TEXT(161)), 0x4E);
    put_char(0, 3, 'k', 0x02);
    vga_text_export(&v, linear, sizeof linear);
    assert_int_equal(linear[6], 'k');
    assert_int_equal(linear[7], 0x02);
}

/* The visible range follows the CRTC (80x25 from the start address), and a
 * ranged import changes only its bytes and marks only them dirty. */
static void test_text_visible_and_ranged_import(void **state)
{
    (void)state;
    size_t off, len;
    vga_text_visible(&v, &off, &len);
    assert_int_equal(off, 0);
    assert_int_equal(len, 80 * 25 * 2);
    crtc_w(VGA_CRTC_START_HI, 0x00);
    crtc_w(VGA_CRTC_START_LO, 80);          /* scrolled by one row */
    vga_text_visible(&v, &off, &len);
    assert_int_equal(off, 160);
    assert_int_equal(len, 80 * 25 * 2);
    crtc_w(VGA_CRTC_START_HI, 0x3F);        /* wraps inside the 32 KiB window */
    crtc_w(VGA_CRTC_START_LO, 0xFF);
    vga_text_visible(&v, &off, &len);
    assert_int_equal(off, (0x3FFFu * 2) % VGA_TEXT_SIZE);
    crtc_w(VGA_CRTC_START_HI, 0);
    crtc_w(VGA_CRTC_START_LO, 0);

    static uint8_t linear[VGA_TEXT_SIZE];
    static uint32_t full[VGA_MAX_WIDTH * VGA_MAX_HEIGHT];
    struct vga_rect d;
    vga_text_export(&v, linear, sizeof linear);
    vga_render(&v, full, VGA_MAX_WIDTH, &d);         /* settle */
    linear[2 * (80 * 2 + 5)] = 'Q';                   /* row 2, column 5 */
    linear[2 * (80 * 20 + 1)] = 'R';                  /* row 20: outside the range */
    vga_text_import_range(&v, linear, 2 * 80 * 2, 2 * 80);
    assert_int_equal(vga_mem_read(&v, TEXT(2 * (80 * 2 + 5))), 'Q');
    assert_int_not_equal(vga_mem_read(&v, TEXT(2 * (80 * 20 + 1))), 'R');
    assert_true(vga_render(&v, full, VGA_MAX_WIDTH, &d));
    assert_int_equal(d.y, 32);                        /* only row 2 redrawn */
    assert_int_equal(d.h, 16);
    vga_text_import_range(&v, linear, VGA_TEXT_SIZE - 2, 100);  /* clipped, no overrun */
    vga_text_import_range(&v, linear, VGA_TEXT_SIZE, 10);       /* nothing */
}

/* -------------------------------------------------------------- renderer */

static void hello_screen(void)
{
    static const char msg[] = "Hello, VGA";
    for (unsigned i = 0; i < sizeof msg - 1; i++)
        put_char(0, i, (uint8_t)msg[i], 0x1F);
    set_cursor(5, 0);
}

/* Golden values computed once from this renderer and this font, and
 * cross-checked by the pixel assertions next to them. */
#define HELLO_DEFAULT_FONT 0x4C9416E1u
#define HELLO_SOLID_FONT   0xE85EA6A5u

static void test_render_hello_default_font(void **state)
{
    (void)state;
    hello_screen();
    unsigned w, h;
    enum vga_kind kind;
    vga_mode_info(&v, &w, &h, &kind);
    assert_int_equal(w, 720);
    assert_int_equal(h, 400);
    assert_int_equal(kind, VGA_KIND_TEXT);
    assert_rect(render(), 0, 0, 720, 400);
    /* 'H' row 2 is ##...##. : dots 0, 1, 5, 6 set. */
    assert_int_equal(PX(0, 2), WHITE);
    assert_int_equal(PX(6, 2), WHITE);
    assert_int_equal(PX(2, 2), BLUE);
    assert_int_equal(PX(8, 2), BLUE);     /* 9th dot: background */
    assert_int_equal(PX(0, 0), BLUE);
    assert_int_equal(PX(0, 16), BLACK);   /* row 1: blank grey on black */
    assert_int_equal(PX(719, 399), BLACK);
    assert_int_equal(PX(0, 5 * 16 + 13), GREY);   /* cursor, lines 13-14 */
    assert_int_equal(PX(8, 5 * 16 + 14), GREY);
    assert_int_equal(PX(0, 5 * 16 + 12), BLACK);
    assert_int_equal(PX(9, 5 * 16 + 13), BLACK);
    assert_int_equal(fnv1a(720, 400), HELLO_DEFAULT_FONT);
}

static void test_render_hello_guest_font(void **state)
{
    (void)state;
    hello_screen();
    load_solid_font();
    render();
    assert_int_equal(PX(2, 2), WHITE);
    assert_int_equal(PX(0, 0), WHITE);
    assert_int_equal(PX(8, 2), BLUE);
    assert_int_equal(PX(0, 16), GREY);
    assert_int_equal(PX(8, 16), BLACK);
    assert_int_not_equal(fnv1a(720, 400), HELLO_DEFAULT_FONT);
    assert_int_equal(fnv1a(720, 400), HELLO_SOLID_FONT);
}

static void test_render_character_map_select(void **state)
{
    (void)state;
    put_char(0, 0, 'H', 0x07);
    put_char(0, 1, 'H', 0x0F);            /* attribute bit 3: map A */
    font_access_begin();
    for (uint32_t row = 0; row < 16; row++)
        vga_mem_write(&v, 0x2000 + 'H' * 32 + row, 0xFF);   /* map 4 */
    font_access_end();
    seq_w(VGA_SEQ_CHARACTER_MAP, 0x20);   /* A = map 4, B = map 0 */
    render();
    assert_int_equal(PX(2, 2), BLACK);    /* B: the built-in 'H' */
    assert_int_equal(PX(0, 2), GREY);
    assert_int_equal(PX(9 + 2, 2), WHITE);
    assert_int_equal(PX(9 + 2, 0), WHITE);
}

static void test_render_cursor(void **state)
{
    (void)state;
    put_char(2, 3, ' ', 0x1E);
    set_cursor(2, 3);
    render();
    uint32_t x = 3 * 9, y = 2 * 16;
    assert_int_equal(PX(x, y + 13), 0xFFFF55);    /* yellow foreground */
    assert_int_equal(PX(x + 8, y + 14), 0xFFFF55);
    assert_int_equal(PX(x, y + 12), BLUE);
    assert_int_equal(PX(x, y + 15), BLUE);
    crtc_w(VGA_CRTC_CURSOR_START, 0x2D);  /* disable bit */
    render();
    assert_int_equal(PX(x, y + 13), BLUE);
    crtc_w(VGA_CRTC_CURSOR_START, 0x00);
    crtc_w(VGA_CRTC_CURSOR_END, 0x0F);
    render();
    assert_int_equal(PX(x, y), 0xFFFF55);
    assert_int_equal(PX(x, y + 15), 0xFFFF55);
    crtc_w(VGA_CRTC_CURSOR_START, 0x0E);  /* start below end: none */
    crtc_w(VGA_CRTC_CURSOR_END, 0x0D);
    render();
    assert_int_equal(PX(x, y + 13), BLUE);
    assert_int_equal(PX(x, y + 14), BLUE);
}

static void test_render_ninth_dot(void **state)
{
    (void)state;
    put_char(0, 0, 0xC4, 0x07);           /* line drawing: the 9th dot continues */
    put_char(0, 1, 0xB1, 0x07);           /* shade: outside C0-DF */
    render();
    assert_int_equal(PX(7, 7), GREY);
    assert_int_equal(PX(8, 7), GREY);
    assert_int_equal(PX(9 + 7, 0), GREY);
    assert_int_equal(PX(9 + 8, 0), BLACK);
    ar_w(VGA_AR_MODE, 0x08);              /* line graphics off */
    render();
    assert_int_equal(PX(8, 7), BLACK);
    seq_w(VGA_SEQ_CLOCKING_MODE, 0x01);   /* 8-dot cells */
    render();
    assert_int_equal(PX(8, 0), BLACK);    /* the shade now starts at x 8 */
    assert_int_equal(PX(9, 0), GREY);
    assert_int_equal(PX(8 + 7, 0), GREY);
}

static void test_render_blink_and_intensity(void **state)
{
    (void)state;
    put_char(0, 0, 0xDB, 0xF1);           /* full block, blue on white/blink */
    put_char(0, 1, ' ', 0xF1);
    render();
    assert_int_equal(PX(0, 0), BLUE);
    assert_int_equal(PX(9, 0), GREY);     /* blink mode: bg bit 3 dropped */
    vga_tick(&v);
    struct vga_rect r = render();
    assert_int_equal(PX(0, 0), GREY);     /* blinking foreground hidden */
    assert_rect(r, 0, 0, 18, 16);         /* the two blinking cells (cursor at 0,0 too) */
    vga_tick(&v);
    render();
    assert_int_equal(PX(0, 0), BLUE);
    ar_w(VGA_AR_MODE, 0x04);              /* blink off: bit 7 = bright background */
    render();
    assert_int_equal(PX(9, 0), WHITE);
    vga_tick(&v);
    render();
    assert_int_equal(PX(0, 0), BLUE);     /* no blinking any more */
}

static void test_render_40_columns(void **state)
{
    (void)state;
    set_mode(&mode1);
    unsigned w, h;
    enum vga_kind kind;
    vga_mode_info(&v, &w, &h, &kind);
    assert_int_equal(w, 360);
    assert_int_equal(h, 400);
    assert_int_equal(kind, VGA_KIND_TEXT);
    vga_mem_write(&v, TEXT(2 * 41), 'H'); /* row 1, column 1 in 40 columns */
    vga_mem_write(&v, TEXT(2 * 41 + 1), 0x0F);
    assert_rect(render(), 0, 0, 360, 400);
    assert_int_equal(PX(9, 16 + 2), WHITE);
    assert_int_equal(PX(9 + 2, 16 + 2), BLACK);
    seq_w(VGA_SEQ_CLOCKING_MODE, 0x09);
    vga_mode_info(&v, &w, &h, &kind);
    assert_int_equal(w, 320);
    set_mode(&mode13);
    vga_mode_info(&v, &w, &h, &kind);
    assert_int_equal(w, 320);
    assert_int_equal(h, 200);
    assert_int_equal(kind, VGA_KIND_256);
    set_mode(&mode12);
    vga_mode_info(&v, &w, &h, &kind);
    assert_int_equal(w, 640);
    assert_int_equal(h, 480);
    assert_int_equal(kind, VGA_KIND_PLANAR16);
}

static void test_render_mode13(void **state)
{
    (void)state;
    set_mode(&mode13);
    vga_port_write(&v, 0x3C8, 5);
    vga_port_write(&v, 0x3C9, 63);
    vga_port_write(&v, 0x3C9, 32);
    vga_port_write(&v, 0x3C9, 0);
    for (uint32_t y = 0; y < 200; y++)    /* BIOS clear */
        for (uint32_t x = 0; x < 320; x++)
            vga_mem_write(&v, y * 320 + x, 0);
    vga_mem_write(&v, 20 * 320 + 10, 5);
    vga_mem_write(&v, 199 * 320 + 319, 0x3F);
    assert_int_equal(PLANE(2)[(20 * 320 + 10) & ~3u], 5);
    assert_rect(render(), 0, 0, 320, 200);
    assert_int_equal(PX(10, 20), 0xFF8200);    /* 6-bit 63, 32, 0 scaled */
    assert_int_equal(PX(11, 20), BLACK);
    assert_int_equal(PX(9, 20), BLACK);
    assert_int_equal(PX(319, 199), WHITE);
    vga_port_write(&v, 0x3C6, 0xFE);      /* PEL mask: 5 shows as 4 */
    render();
    assert_int_equal(PX(10, 20), 0xAA0000);
}

static void test_render_planar16(void **state)
{
    (void)state;
    planar_setup();
    gc_w(VGA_GC_MODE, 0x02);
    gc_w(VGA_GC_BIT_MASK, 0x10);          /* pixel 3 of the byte */
    vga_mem_read(&v, 80);
    vga_mem_write(&v, 80, 0x0C);          /* (3, 1) light red */
    gc_w(VGA_GC_BIT_MASK, 0x01);
    vga_mem_read(&v, 80 * 479 + 79);
    vga_mem_write(&v, 80 * 479 + 79, 0x01);
    render();
    assert_int_equal(PX(3, 1), 0xFF5555);
    assert_int_equal(PX(2, 1), BLACK);
    assert_int_equal(PX(4, 1), BLACK);
    assert_int_equal(PX(639, 479), BLUE);
    ar_w(VGA_AR_PLANE_ENABLE, 0x07);      /* plane 3 masked: 0xC -> 0x4 red */
    render();
    assert_int_equal(PX(3, 1), 0xAA0000);
}

static void test_render_blank(void **state)
{
    (void)state;
    put_char(0, 0, 0xDB, 0x0F);
    render();
    assert_int_equal(PX(0, 0), WHITE);
    seq_w(VGA_SEQ_CLOCKING_MODE, 0x20);   /* screen off */
    unsigned w, h;
    enum vga_kind kind;
    vga_mode_info(&v, &w, &h, &kind);
    assert_int_equal(kind, VGA_KIND_BLANK);
    assert_int_equal(w, 720);
    assert_rect(render(), 0, 0, 720, 400);
    assert_int_equal(PX(0, 0), BLACK);
    seq_w(VGA_SEQ_CLOCKING_MODE, 0x00);
    vga_port_read(&v, 0x3DA);
    vga_port_write(&v, 0x3C0, 0x00);      /* PAS off: palette being loaded */
    vga_mode_info(&v, &w, &h, &kind);
    assert_int_equal(kind, VGA_KIND_BLANK);
    vga_port_write(&v, 0x3C0, 0x00);
    vga_port_write(&v, 0x3C0, VGA_AR_PAS);
    render();
    assert_int_equal(PX(0, 0), WHITE);
}

/* ----------------------------------------------------------- dirty areas */

static void test_dirty_nothing_changed(void **state)
{
    (void)state;
    struct vga_rect r = { 1, 2, 3, 4 };
    render();
    memset(fb, 0x5A, sizeof fb);
    assert_false(vga_render(&v, fb, STRIDE, &r));
    assert_int_equal(r.x, 1);
    assert_int_equal(fb[0], 0x5A5A5A5A);  /* no work done */
    put_char(3, 10, ' ', 0x07);           /* same values: no change */
    crtc_w(VGA_CRTC_OFFSET, 0x28);
    gc_w(VGA_GC_BIT_MASK, 0x0F);          /* steers CPU writes only */
    vga_port_read(&v, 0x3DA);
    assert_false(vga_render(&v, fb, STRIDE, &r));
}

static void test_dirty_one_cell(void **state)
{
    (void)state;
    render();
    memset(fb, 0x5A, sizeof fb);
    put_char(3, 10, 'x', 0x07);
    assert_rect(render(), 90, 48, 9, 16);
    assert_int_equal(PX(90, 48), BLACK);
    assert_int_equal(PX(89, 48), 0x5A5A5A5A);
    assert_int_equal(PX(99, 48), 0x5A5A5A5A);
    assert_int_equal(PX(90, 47), 0x5A5A5A5A);
    vga_mem_write(&v, TEXT((3 * 80 + 12) * 2 + 1), 0x70);   /* attribute only */
    assert_rect(render(), 108, 48, 9, 16);
    put_char(1, 79, 'a', 0x07);           /* two rows: whole rows */
    put_char(2, 0, 'b', 0x07);
    assert_rect(render(), 0, 16, 720, 32);
}

static void test_dirty_cursor_move(void **state)
{
    (void)state;
    render();
    set_cursor(0, 1);                     /* from (0,0) */
    assert_rect(render(), 0, 0, 18, 16);
    set_cursor(2, 5);
    assert_rect(render(), 9, 0, 45, 48);
    crtc_w(VGA_CRTC_CURSOR_START, 0x0C);  /* shape change: its cell only */
    assert_rect(render(), 45, 32, 9, 16);
    crtc_w(VGA_CRTC_CURSOR_START, 0x2C);  /* hidden */
    assert_rect(render(), 45, 32, 9, 16);
    assert_int_equal(PX(45, 32 + 13), BLACK);
    set_cursor(7, 7);                     /* moving a hidden cursor costs nothing */
    struct vga_rect r;
    assert_false(vga_render(&v, fb, STRIDE, &r));
    crtc_w(VGA_CRTC_CURSOR_START, 0x0F);  /* enabled, but starts below its end */
    set_cursor(8, 8);
    assert_false(vga_render(&v, fb, STRIDE, &r));
}

static void test_dirty_full_on_registers(void **state)
{
    (void)state;
    render();
    vga_port_write(&v, 0x3C8, 1);         /* DAC colour 1 changes */
    vga_port_write(&v, 0x3C9, 0);
    vga_port_write(&v, 0x3C9, 0x3F);
    vga_port_write(&v, 0x3C9, 0);
    assert_rect(render(), 0, 0, 720, 400);
    vga_port_write(&v, 0x3C8, 1);         /* same colour again */
    vga_port_write(&v, 0x3C9, 0);
    vga_port_write(&v, 0x3C9, 0x3F);
    vga_port_write(&v, 0x3C9, 0);
    struct vga_rect r;
    assert_false(vga_render(&v, fb, STRIDE, &r));
    crtc_w(VGA_CRTC_START_LO, 80);        /* scroll one row */
    assert_rect(render(), 0, 0, 720, 400);
    ar_w(VGA_AR_PALETTE0 + 3, 0x3F);
    assert_rect(render(), 0, 0, 720, 400);
    font_access_begin();                  /* a glyph change redraws all */
    vga_mem_write(&v, 'A' * 32, 0x81);
    font_access_end();
    assert_rect(render(), 0, 0, 720, 400);
}

static void test_dirty_scrolled_cell(void **state)
{
    (void)state;
    crtc_w(VGA_CRTC_START_LO, 80);        /* screen starts at row 1 of memory */
    render();
    put_char(3, 2, 'x', 0x07);            /* memory row 3 = screen row 2 */
    assert_rect(render(), 18, 32, 9, 16);
    put_char(0, 2, 'x', 0x07);            /* above the screen */
    struct vga_rect r;
    assert_false(vga_render(&v, fb, STRIDE, &r));
}

static void test_dirty_import(void **state)
{
    (void)state;
    static uint8_t linear[VGA_TEXT_SIZE];
    render();
    vga_text_export(&v, linear, sizeof linear);
    vga_text_import(&v, linear, sizeof linear);
    struct vga_rect r;
    assert_false(vga_render(&v, fb, STRIDE, &r));
    linear[(24 * 80 + 79) * 2] = '#';
    vga_text_import(&v, linear, sizeof linear);
    assert_rect(render(), 711, 384, 9, 16);
}

static void test_dirty_mode13_pixel(void **state)
{
    (void)state;
    set_mode(&mode13);
    render();
    vga_mem_write(&v, 7 * 320 + 33, 9);
    assert_rect(render(), 32, 7, 4, 1);
    assert_int_equal(PX(33, 7), 0x0000FF);
}

/* Mode 13h written straight into a backed window, then imported, draws
 * what the same bytes written through the VGA draw; only changes are dirty. */
static void test_chain4_import(void **state)
{
    (void)state;
    assert_false(vga_chain4_linear(&v));            /* mode 3 */
    set_mode(&mode13);
    assert_true(vga_chain4_linear(&v));
    static uint8_t linear[0x10000];
    for (unsigned i = 0; i < 64000; i++)
        linear[i] = (uint8_t)(i * 7 + i / 320);
    for (unsigned i = 0; i < 64000; i++)
        vga_mem_write(&v, i, linear[i]);
    static uint32_t want[VGA_MAX_WIDTH * VGA_MAX_HEIGHT];
    struct vga_rect d;
    v.full_dirty = true;
    vga_render(&v, want, VGA_MAX_WIDTH, &d);
    for (unsigned i = 0; i < 64000; i++)
        vga_mem_write(&v, i, 0);                    /* the model forgets the picture */
    vga_chain4_import_range(&v, linear, 0, sizeof linear);
    static uint32_t got[VGA_MAX_WIDTH * VGA_MAX_HEIGHT];
    v.full_dirty = true;
    vga_render(&v, got, VGA_MAX_WIDTH, &d);
    assert_memory_equal(got, want, sizeof(got));
    linear[100 * 320 + 10] ^= 0xFF;                 /* one pixel */
    vga_chain4_import_range(&v, linear, 100 * 320, 320);
    assert_true(vga_render(&v, got, VGA_MAX_WIDTH, &d));
    assert_int_equal(d.y, 100);
    assert_int_equal(d.h, 1);
    gc_w(VGA_GC_BIT_MASK, 0x0F);                    /* latched writes: not a plain page */
    assert_false(vga_chain4_linear(&v));
    vga_chain4_import_range(&v, linear, 0xFFF0, 100);   /* clipped at 64 KiB */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_misc_and_feature, setup),
        cmocka_unit_test_setup(test_seq_roundtrip, setup),
        cmocka_unit_test_setup(test_gc_roundtrip, setup),
        cmocka_unit_test_setup(test_crtc_roundtrip_and_protect, setup),
        cmocka_unit_test_setup(test_crtc_mono_ports, setup),
        cmocka_unit_test_setup(test_ar_flipflop, setup),
        cmocka_unit_test_setup(test_status_retrace_toggles, setup),
        cmocka_unit_test_setup(test_dac_sequencing, setup),
        cmocka_unit_test_setup(test_port_write16, setup),
        cmocka_unit_test_setup(test_text_odd_even, setup),
        cmocka_unit_test_setup(test_font_load_path, setup),
        cmocka_unit_test_setup(test_write_mode0, setup),
        cmocka_unit_test_setup(test_write_mode1, setup),
        cmocka_unit_test_setup(test_write_mode2, setup),
        cmocka_unit_test_setup(test_write_mode3, setup),
        cmocka_unit_test_setup(test_read_modes, setup),
        cmocka_unit_test_setup(test_chain4, setup),
        cmocka_unit_test_setup(test_memory_windows, setup),
        cmocka_unit_test_setup(test_text_linear_import_export, setup),
        cmocka_unit_test_setup(test_text_visible_and_ranged_import, setup),
        cmocka_unit_test_setup(test_chain4_import, setup),
        cmocka_unit_test_setup(test_render_hello_default_font, setup),
        cmocka_unit_test_setup(test_render_hello_guest_font, setup),
        cmocka_unit_test_setup(test_render_character_map_select, setup),
        cmocka_unit_test_setup(test_render_cursor, setup),
        cmocka_unit_test_setup(test_render_ninth_dot, setup),
        cmocka_unit_test_setup(test_render_blink_and_intensity, setup),
        cmocka_unit_test_setup(test_render_40_columns, setup),
        cmocka_unit_test_setup(test_render_mode13, setup),
        cmocka_unit_test_setup(test_render_planar16, setup),
        cmocka_unit_test_setup(test_render_blank, setup),
        cmocka_unit_test_setup(test_dirty_nothing_changed, setup),
        cmocka_unit_test_setup(test_dirty_one_cell, setup),
        cmocka_unit_test_setup(test_dirty_cursor_move, setup),
        cmocka_unit_test_setup(test_dirty_full_on_registers, setup),
        cmocka_unit_test_setup(test_dirty_scrolled_cell, setup),
        cmocka_unit_test_setup(test_dirty_import, setup),
        cmocka_unit_test_setup(test_dirty_mode13_pixel, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
