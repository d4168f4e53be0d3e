/* VGA picture -> XRGB pixels, redrawing only what changed.
 * Not modelled: horizontal pel panning, preset row scan, the line compare
 * split screen, monochrome underline, count-by-2/4 and CGA interleaved
 * graphics (reported as VGA_KIND_UNSUPPORTED and drawn black). */
#include "shadow/vga.h"
#include "core/libc.h"

/* ------------------------------------------------------------- geometry */

static unsigned min_u(unsigned a, unsigned b) { return a < b ? a : b; }
static unsigned max_u(unsigned a, unsigned b) { return a > b ? a : b; }

/* The picture the CRTC describes. Sizes are the displayed area in pixels:
 * text at one pixel per dot (cells of 8 or 9 x char height, dot clock
 * halving ignored, so 40x25 is 360x400), graphics at one pixel per memory
 * pixel (scan line repeats dropped, so mode 13h is 320x200). */
static void vga_geometry(const struct vga *v, struct vga_geom *g)
{
    const uint8_t *cr = v->crtc;
    unsigned hde = cr[VGA_CRTC_H_DISPLAY_END] + 1u;
    unsigned vde = (cr[VGA_CRTC_V_DISPLAY_END] | (cr[VGA_CRTC_OVERFLOW] & VGA_CRTC_OVERFLOW_VDE8) << 7 |
                    (cr[VGA_CRTC_OVERFLOW] & VGA_CRTC_OVERFLOW_VDE9) << 3) + 1u;
    unsigned msl = (cr[VGA_CRTC_MAX_SCAN_LINE] & VGA_CRTC_MSL_MASK) + 1u;

    memset(g, 0, sizeof *g);
    g->dbl = (cr[VGA_CRTC_MAX_SCAN_LINE] & VGA_CRTC_MSL_DOUBLE) ? 1 : 0;
    g->start = (uint16_t)(cr[VGA_CRTC_START_HI] << 8 | cr[VGA_CRTC_START_LO]);
    g->pitch = (uint16_t)(cr[VGA_CRTC_OFFSET] * 2u);
    g->addr_shift = (cr[VGA_CRTC_UNDERLINE] & VGA_CRTC_UNDERLINE_DWORD) ? 2
                    : (cr[VGA_CRTC_MODE] & VGA_CRTC_MODE_BYTE) ? 0 : 1;
    g->wrap_bit = (cr[VGA_CRTC_MODE] & VGA_CRTC_MODE_ADDR_WRAP) ? 15 : 13;

    unsigned height;
    if (v->gc[VGA_GC_MISC] & VGA_GC_MISC_GRAPHICS) {
        uint8_t mode = v->gc[VGA_GC_MODE];
        g->kind = (mode & VGA_GC_MODE_SHIFT_256) ? VGA_KIND_256
                  : (mode & VGA_GC_MODE_SHIFT_INTERLEAVE) ? VGA_KIND_UNSUPPORTED : VGA_KIND_PLANAR16;
        g->unit_w = g->kind == VGA_KIND_256 ? 4 : 8;
        g->unit_h = 1;
        height = max_u(vde / (msl << g->dbl), 1);
    } else {
        g->kind = VGA_KIND_TEXT;
        g->dot9 = !(v->seq[VGA_SEQ_CLOCKING_MODE] & VGA_SEQ_CLOCKING_8DOT);
        g->unit_w = g->dot9 ? 9 : 8;
        g->char_height = (uint8_t)msl;
        g->unit_h = (uint8_t)(msl << g->dbl);
        height = vde;
    }
    g->width = (uint16_t)min_u(hde * g->unit_w, VGA_MAX_WIDTH);
    g->height = (uint16_t)min_u(height, VGA_MAX_HEIGHT);
    g->cols = (uint16_t)((g->width + g->unit_w - 1u) / g->unit_w);
    g->rows = (uint16_t)((g->height + g->unit_h - 1u) / g->unit_h);
    if ((v->seq[VGA_SEQ_CLOCKING_MODE] & VGA_SEQ_CLOCKING_SCREEN_OFF) || !(v->ar_index & VGA_AR_PAS))
        g->kind = VGA_KIND_BLANK;
}

/* CRTC address counter -> plane address for byte, word or doubleword mode;
 * the bits shifted out come back in at the bottom. */
static uint32_t crtc_addr(const struct vga_geom *g, uint32_t counter)
{
    uint32_t c = counter & 0xFFFF;
    switch (g->addr_shift) {
    case 1:  return (c << 1 | (c >> g->wrap_bit & 1)) & 0xFFFF;
    case 2:  return (c << 2 | (c >> 14 & 3)) & 0xFFFF;
    default: return c;
    }
}

void vga_mode_info(const struct vga *v, unsigned *width, unsigned *height, enum vga_kind *kind)
{
    struct vga_geom g;
    vga_geometry(v, &g);
    *width = g.width;
    *height = g.height;
    *kind = (enum vga_kind)g.kind;
}

/* ------------------------------------------------------------ dirty area */

static void rect_union(struct vga_rect *r, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
    if (w == 0 || h == 0)
        return;
    if (r->w == 0) {
        *r = (struct vga_rect){ x, y, w, h };
        return;
    }
    uint32_t x1 = max_u(r->x + r->w, x + w), y1 = max_u(r->y + r->h, y + h);
    r->x = min_u(r->x, x);
    r->y = min_u(r->y, y);
    r->w = x1 - r->x;
    r->h = y1 - r->y;
}

/* Adds columns [col0, col1] of rows [row0, row1], clipped to the picture. */
static void cells_union(const struct vga_geom *g, struct vga_rect *r, uint32_t row0, uint32_t row1,
                        uint32_t col0, uint32_t col1)
{
    if (row0 >= g->rows || col0 >= g->cols)
        return;
    row1 = min_u(row1, g->rows - 1u);
    col1 = min_u(col1, g->cols - 1u);
    uint32_t x = col0 * g->unit_w, y = row0 * g->unit_h;
    rect_union(r, x, y, min_u((col1 + 1) * g->unit_w, g->width) - x,
               min_u((row1 + 1) * g->unit_h, g->height) - y);
}

/* Plane addresses written since the last render, as screen area: exact
 * within one row, whole rows when the span crosses rows. */
static void mem_union(const struct vga *v, const struct vga_geom *g, struct vga_rect *r)
{
    if (v->mem_lo == v->mem_hi)
        return;
    if (g->pitch == 0) {
        cells_union(g, r, 0, g->rows - 1u, 0, g->cols - 1u);
        return;
    }
    uint32_t c0 = v->mem_lo >> g->addr_shift, c1 = (v->mem_hi - 1) >> g->addr_shift;
    if (c1 < g->start)
        return;
    uint32_t first = c0 > g->start ? c0 - g->start : 0, last = c1 - g->start;
    uint32_t row0 = first / g->pitch, row1 = last / g->pitch;
    if (row0 == row1)
        cells_union(g, r, row0, row0, first % g->pitch, last % g->pitch);
    else
        cells_union(g, r, row0, row1, 0, g->cols - 1u);
}

static void cursor_state(const struct vga *v, const struct vga_geom *g, struct vga_cursor *c)
{
    const uint8_t *cr = v->crtc;
    memset(c, 0, sizeof *c);
    if (g->kind != VGA_KIND_TEXT || !v->blink_on || g->pitch == 0 ||
        (cr[VGA_CRTC_CURSOR_START] & VGA_CRTC_CURSOR_DISABLE))
        return;
    uint32_t loc = (uint32_t)(cr[VGA_CRTC_CURSOR_HI] << 8 | cr[VGA_CRTC_CURSOR_LO]);
    uint8_t top = cr[VGA_CRTC_CURSOR_START] & VGA_CRTC_CURSOR_ROW_MASK;
    uint8_t bottom = cr[VGA_CRTC_CURSOR_END] & VGA_CRTC_CURSOR_ROW_MASK;
    /* The VGA shows no cursor when it starts below its end or the cell. */
    if (loc < g->start || top > bottom || top >= g->char_height)
        return;
    uint32_t row = (loc - g->start) / g->pitch, col = (loc - g->start) % g->pitch;
    if (row >= g->rows || col >= g->cols)
        return;
    *c = (struct vga_cursor){ .shown = 1, .top = top, .bottom = bottom,
                              .row = (uint16_t)row, .col = (uint16_t)col };
}

static void cursor_union(const struct vga_geom *g, struct vga_rect *r, const struct vga_cursor *c)
{
    if (c->shown)
        cells_union(g, r, c->row, c->row, c->col, c->col);
}

/* After a blink flip, the cells whose attribute has the blink bit. */
static void blink_union(const struct vga *v, const struct vga_geom *g, struct vga_rect *r)
{
    if (g->kind != VGA_KIND_TEXT || !(v->ar[VGA_AR_MODE] & VGA_AR_MODE_BLINK))
        return;
    const uint8_t *attrs = v->planes + VGA_PLANE_SIZE;
    for (uint32_t row = 0; row < g->rows; row++)
        for (uint32_t col = 0; col < g->cols; col++)
            if (attrs[crtc_addr(g, g->start + row * g->pitch + col)] & 0x80)
                cells_union(g, r, row, row, col, col);
}

/* -------------------------------------------------------------- drawing */

static uint32_t dac_xrgb(const uint8_t c[3])
{
    uint32_t px = 0;
    for (unsigned i = 0; i < 3; i++)
        px = px << 8 | (uint32_t)(c[i] << 2 | c[i] >> 4);   /* 6 -> 8 bits */
    return px;
}

/* 4-bit attribute colour -> DAC index, through the palette registers. */
static uint8_t ar_dac_index(const struct vga *v, unsigned colour)
{
    uint8_t p = v->ar[VGA_AR_PALETTE0 + (colour & 0x0F)];
    uint8_t sel = v->ar[VGA_AR_COLOR_SELECT];
    if (v->ar[VGA_AR_MODE] & VGA_AR_MODE_P54S)
        p = (uint8_t)((p & 0x0F) | (sel & 0x03) << 4);
    return (uint8_t)((p & 0x3F) | (sel & 0x0C) << 4);
}

static void palette16(const struct vga *v, uint32_t pal[16])
{
    uint8_t enable = v->ar[VGA_AR_PLANE_ENABLE] & 0x0F;
    for (unsigned i = 0; i < 16; i++)
        pal[i] = v->rgb[ar_dac_index(v, i & enable)];
}

/* Character map n (0-7) in plane 2: maps 0-3 at 16 KiB steps, 4-7 at +8 KiB. */
static uint32_t font_base(unsigned n) { return (n & 3) * 0x4000u + (n >> 2) * 0x2000u; }

struct text_ctx {
    const struct vga *v;
    const struct vga_geom *g;
    const struct vga_cursor *cursor;
    uint32_t pal[16];
    uint32_t font_a, font_b;    /* attribute bit 3 set: map A, clear: map B */
    bool blink, line_graphics;
};

/* One scan line of one cell, clipped to [x0, x1). */
static void text_cell_line(const struct text_ctx *t, uint32_t *out, uint32_t row, uint32_t col,
                           unsigned line, uint32_t x0, uint32_t x1)
{
    const struct vga_geom *g = t->g;
    const uint8_t *planes = t->v->planes;
    uint32_t addr = crtc_addr(g, g->start + row * g->pitch + col);
    uint8_t ch = planes[addr], at = planes[VGA_PLANE_SIZE + addr];
    uint32_t glyph = ((at & 0x08) ? t->font_a : t->font_b) + ch * VGA_FONT_GLYPH_STRIDE + line;
    unsigned bits = planes[2 * VGA_PLANE_SIZE + glyph];
    unsigned fg = at & 0x0F, bg = at >> 4;
    if (t->blink) {
        bg &= 0x07;
        if ((at & 0x80) && !t->v->blink_on)
            fg = bg;
    }
    /* The 9th dot is background, or a copy of the 8th for line drawing. */
    bits <<= 1;
    if (g->dot9 && t->line_graphics && ch >= 0xC0 && ch <= 0xDF)
        bits |= bits >> 1 & 1;
    const struct vga_cursor *c = t->cursor;
    if (c->shown && c->row == row && c->col == col && line >= c->top && line <= c->bottom)
        bits = 0x1FF;
    uint32_t x = col * g->unit_w;
    for (unsigned k = 0; k < g->unit_w; k++, x++)
        if (x >= x0 && x < x1)
            out[x] = t->pal[(bits >> (8 - k) & 1) ? fg : bg];
}

static void draw_text(const struct vga *v, const struct vga_geom *g, const struct vga_cursor *cursor,
                      uint32_t *fb, unsigned stride, const struct vga_rect *r)
{
    uint8_t map = v->seq[VGA_SEQ_CHARACTER_MAP];
    struct text_ctx t = {
        .v = v, .g = g, .cursor = cursor,
        .font_a = font_base((map >> 3 & 4) | (map >> 2 & 3)),
        .font_b = font_base((map >> 2 & 4) | (map & 3)),
        .blink = v->ar[VGA_AR_MODE] & VGA_AR_MODE_BLINK,
        .line_graphics = v->ar[VGA_AR_MODE] & VGA_AR_MODE_LINE_GRAPHICS,
    };
    palette16(v, t.pal);
    for (uint32_t y = r->y; y < r->y + r->h; y++) {
        uint32_t row = y / g->unit_h;
        unsigned line = (y % g->unit_h) >> g->dbl;
        for (uint32_t col = r->x / g->unit_w; col * g->unit_w < r->x + r->w; col++)
            text_cell_line(&t, fb + (size_t)y * stride, row, col, line, r->x, r->x + r->w);
    }
}

static void draw_planar16(const struct vga *v, const struct vga_geom *g, uint32_t *fb,
                          unsigned stride, const struct vga_rect *r)
{
    uint32_t pal[16];
    palette16(v, pal);
    for (uint32_t y = r->y; y < r->y + r->h; y++) {
        uint32_t *out = fb + (size_t)y * stride;
        for (uint32_t x = r->x; x < r->x + r->w; x++) {
            uint32_t addr = crtc_addr(g, g->start + y * g->pitch + x / 8);
            unsigned shift = 7 - x % 8, colour = 0;
            for (unsigned p = 0; p < VGA_PLANES; p++)
                colour |= (unsigned)(v->planes[p * VGA_PLANE_SIZE + addr] >> shift & 1) << p;
            out[x] = pal[colour];
        }
    }
}

/* 256 colours: each address holds four pixels, planes 0-3 left to right;
 * the byte indexes the DAC directly (the palette registers are bypassed). */
static void draw_256(const struct vga *v, const struct vga_geom *g, uint32_t *fb, unsigned stride,
                     const struct vga_rect *r)
{
    for (uint32_t y = r->y; y < r->y + r->h; y++) {
        uint32_t *out = fb + (size_t)y * stride;
        for (uint32_t x = r->x; x < r->x + r->w; x++) {
            uint32_t addr = crtc_addr(g, g->start + y * g->pitch + x / 4);
            out[x] = v->rgb[v->planes[(x % 4) * VGA_PLANE_SIZE + addr]];
        }
    }
}

static void fill_black(uint32_t *fb, unsigned stride, const struct vga_rect *r)
{
    for (uint32_t y = r->y; y < r->y + r->h; y++)
        memset(fb + (size_t)y * stride + r->x, 0, r->w * sizeof *fb);
}

bool vga_render(struct vga *v, uint32_t *fb, unsigned fb_stride_px, struct vga_rect *dirty_out)
{
    struct vga_geom g;
    struct vga_cursor cursor;
    struct vga_rect r = { 0, 0, 0, 0 };

    vga_geometry(v, &g);
    cursor_state(v, &g, &cursor);
    if (v->full_dirty || memcmp(&g, &v->last_geom, sizeof g) != 0 ||
        (v->font_dirty && g.kind == VGA_KIND_TEXT)) {
        r = (struct vga_rect){ 0, 0, g.width, g.height };
    } else {
        mem_union(v, &g, &r);
        if (memcmp(&cursor, &v->last_cursor, sizeof cursor) != 0) {
            cursor_union(&g, &r, &v->last_cursor);
            cursor_union(&g, &r, &cursor);
        }
        if (v->blink_dirty)
            blink_union(v, &g, &r);
    }
    v->full_dirty = v->font_dirty = v->blink_dirty = false;
    v->mem_lo = v->mem_hi = 0;
    v->last_geom = g;
    v->last_cursor = cursor;
    if (r.w == 0 || r.h == 0)
        return false;

    for (unsigned i = 0; i < 256; i++)
        v->rgb[i] = dac_xrgb(v->dac[i & v->dac_mask]);
    switch (g.kind) {
    case VGA_KIND_TEXT:     draw_text(v, &g, &cursor, fb, fb_stride_px, &r); break;
    case VGA_KIND_PLANAR16: draw_planar16(v, &g, fb, fb_stride_px, &r); break;
    case VGA_KIND_256:      draw_256(v, &g, fb, fb_stride_px, &r); break;
    default:                fill_black(fb, fb_stride_px, &r); break;
    }
    *dirty_out = r;
    return true;
}

void vga_tick(struct vga *v)
{
    v->blink_on = !v->blink_on;
    v->blink_dirty = true;
}
