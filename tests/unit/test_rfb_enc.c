/* RFB pixel formats and encoders (net/rfb_enc.c): each encoder's output is
 * decoded by an independent decoder written here from RFC 6143 and must
 * give back the source image converted to the client's pixel format. ZRLE
 * goes through real zlib (deflate here, inflate in the decoder) with one
 * stream per format across consecutive rectangles, as a connection does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "net/rfb_enc.h"
#include "vga_font8x16.h"

/* ------------------------------------------------------------ test formats */

struct fmt_case {
    const char *name;
    struct rfb_pixfmt pf;
};

#define PF(bpp, depth, be, rmax, gmax, bmax, rs, gs, bs) \
    { (bpp), (depth), (be), 1, (rmax), (gmax), (bmax), (rs), (gs), (bs) }

static const struct fmt_case fmts[] = {
    { "32le",       PF(32, 24, 0, 255, 255, 255, 16, 8, 0) },
    { "32be",       PF(32, 24, 1, 255, 255, 255, 16, 8, 0) },
    { "565le",      PF(16, 16, 0, 31, 63, 31, 11, 5, 0) },
    { "565be",      PF(16, 16, 1, 31, 63, 31, 11, 5, 0) },
    { "bgr233",     PF(8, 8, 0, 7, 7, 3, 0, 3, 6) },
    { "32bgr",      PF(32, 24, 0, 255, 255, 255, 0, 8, 16) },
    { "32hi_le",    PF(32, 24, 0, 255, 255, 255, 24, 16, 8) },
    { "32hi_be",    PF(32, 24, 1, 255, 255, 255, 24, 16, 8) },
    { "30bit",      PF(32, 30, 0, 1023, 1023, 1023, 20, 10, 0) },
};
#define NFMTS (sizeof fmts / sizeof fmts[0])

/* ---------------------------------------------- reference pixel conversion */

/* Written apart from the encoder: nearest integer of c * max / 255. */
static uint32_t ref_value(const struct rfb_pixfmt *pf, uint32_t xrgb)
{
    double c[3] = { (xrgb >> 16) & 0xFF, (xrgb >> 8) & 0xFF, xrgb & 0xFF };
    uint32_t max[3] = { pf->rmax, pf->gmax, pf->bmax };
    unsigned sh[3] = { pf->rshift, pf->gshift, pf->bshift };
    uint64_t v = 0;
    for (int i = 0; i < 3; i++)
        v |= (uint64_t)lround(c[i] * max[i] / 255.0) << sh[i];
    return (uint32_t)v;
}

static uint32_t rd_bytes(const uint8_t *p, unsigned n, bool be)
{
    uint32_t v = 0;
    for (unsigned k = 0; k < n; k++) {
        if (be)
            v = v << 8 | p[k];
        else
            v |= (uint32_t)p[k] << (8 * k);
    }
    return v;
}

/* CPIXEL layout: its length, and for a 3-byte one, where the dropped zero
 * byte sits in the 4-byte pixel (0 = first byte on the wire, 3 = last). */
struct cpix {
    unsigned len;
    int gap;
};

static struct cpix cpixel_layout(const struct rfb_pixfmt *pf)
{
    struct cpix c = { pf->bpp / 8u, -1 };
    if (!pf->true_colour || pf->bpp != 32 || pf->depth > 24)
        return c;
    uint64_t used = ((uint64_t)pf->rmax << pf->rshift) | ((uint64_t)pf->gmax << pf->gshift) |
                    ((uint64_t)pf->bmax << pf->bshift);
    bool low = (used >> 24) == 0, high = (used & 0xFF) == 0;
    if (low) {              /* the most significant byte is dropped */
        c.len = 3;
        c.gap = pf->big_endian ? 0 : 3;
    } else if (high) {      /* the least significant byte is dropped */
        c.len = 3;
        c.gap = pf->big_endian ? 3 : 0;
    }
    return c;
}

/* --------------------------------------------------------------- decoders */

struct rd {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
};

static const uint8_t *take(struct rd *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *at = r->p + r->pos;
    r->pos += n;
    return at;
}

static unsigned take_u8(struct rd *r)
{
    const uint8_t *b = take(r, 1);
    return b ? *b : 0;
}

static uint32_t take_pixel(struct rd *r, const struct rfb_pixfmt *pf)
{
    const uint8_t *b = take(r, pf->bpp / 8u);
    return b ? rd_bytes(b, pf->bpp / 8u, pf->big_endian) : 0;
}

static uint32_t take_cpixel(struct rd *r, const struct rfb_pixfmt *pf, struct cpix cp)
{
    if (cp.gap < 0)
        return take_pixel(r, pf);
    const uint8_t *b = take(r, 3);
    if (!b)
        return 0;
    uint8_t full[4];
    for (int k = 0, s = 0; k < 4; k++)
        full[k] = k == cp.gap ? 0 : b[s++];
    return rd_bytes(full, 4, pf->big_endian);
}

static bool dec_raw(const struct rfb_pixfmt *pf, const uint8_t *buf, size_t len,
                    unsigned w, unsigned h, uint32_t *img)
{
    struct rd r = { buf, len, 0, false };
    for (size_t i = 0; i < (size_t)w * h; i++)
        img[i] = take_pixel(&r, pf);
    return !r.bad && r.pos == len;
}

struct hx_stats {
    unsigned raw, solid, mono, coloured;
};

/* Hextile, strictly: the first non-raw tile must give the background, and
 * nothing is assumed to survive a Raw tile, nor the foreground a coloured
 * one. */
static bool dec_hextile(const struct rfb_pixfmt *pf, const uint8_t *buf, size_t len,
                        unsigned w, unsigned h, uint32_t *img, struct hx_stats *st)
{
    struct rd r = { buf, len, 0, false };
    bool bg_ok = false, fg_ok = false;
    uint32_t bg = 0, fg = 0;
    for (unsigned ty = 0; ty < h; ty += 16) {
        for (unsigned tx = 0; tx < w; tx += 16) {
            unsigned tw = w - tx < 16 ? w - tx : 16, th = h - ty < 16 ? h - ty : 16;
            unsigned se = take_u8(&r);
            if (r.bad)
                return false;
            if (se & 1) {
                for (unsigned j = 0; j < th; j++)
                    for (unsigned i = 0; i < tw; i++)
                        img[(size_t)(ty + j) * w + tx + i] = take_pixel(&r, pf);
                bg_ok = fg_ok = false;
                st->raw++;
                continue;
            }
            if (se & ~0x1Fu)
                return false;
            if (se & 2) {
                bg = take_pixel(&r, pf);
                bg_ok = true;
            }
            if (!bg_ok)
                return false;
            if (se & 4) {
                if (se & 16)
                    return false;       /* FG with SubrectsColoured: forbidden */
                fg = take_pixel(&r, pf);
                fg_ok = true;
            }
            for (unsigned j = 0; j < th; j++)
                for (unsigned i = 0; i < tw; i++)
                    img[(size_t)(ty + j) * w + tx + i] = bg;
            if (!(se & 8)) {
                st->solid++;
                continue;
            }
            unsigned nsub = take_u8(&r);
            for (unsigned s = 0; s < nsub; s++) {
                uint32_t colour = fg;
                if (se & 16)
                    colour = take_pixel(&r, pf);
                else if (!fg_ok)
                    return false;
                unsigned xy = take_u8(&r), wh = take_u8(&r);
                if (r.bad)
                    return false;
                unsigned sx = xy >> 4, sy = xy & 15, sw = (wh >> 4) + 1, sh = (wh & 15) + 1;
                if (sx + sw > tw || sy + sh > th)
                    return false;
                for (unsigned j = 0; j < sh; j++)
                    for (unsigned i = 0; i < sw; i++)
                        img[(size_t)(ty + sy + j) * w + tx + sx + i] = colour;
            }
            if (se & 16) {
                fg_ok = false;
                st->coloured++;
            } else {
                st->mono++;
            }
        }
    }
    return !r.bad && r.pos == len;
}

struct zr_stats {
    unsigned kind[256];         /* tiles by sub-encoding byte */
};

static size_t rd_runlen(struct rd *r)
{
    size_t len = 1;
    unsigned b;
    do {
        b = take_u8(r);
        len += b;
    } while (b == 255 && !r->bad);
    return len;
}

/* ZRLE tile data (already inflated) of a w x h rectangle. */
static bool dec_zrle_tiles(const struct rfb_pixfmt *pf, const uint8_t *buf, size_t len,
                           unsigned w, unsigned h, uint32_t *img, struct zr_stats *st)
{
    struct rd r = { buf, len, 0, false };
    struct cpix cp = cpixel_layout(pf);
    for (unsigned ty = 0; ty < h; ty += 64) {
        for (unsigned tx = 0; tx < w; tx += 64) {
            unsigned tw = w - tx < 64 ? w - tx : 64, th = h - ty < 64 ? h - ty : 64;
            size_t npx = (size_t)tw * th;
            uint32_t tile[64 * 64];
            uint32_t pal[128];
            unsigned se = take_u8(&r);
            if (r.bad)
                return false;
            st->kind[se]++;
            if (se == 0) {
                for (size_t k = 0; k < npx; k++)
                    tile[k] = take_cpixel(&r, pf, cp);
            } else if (se == 1) {
                uint32_t v = take_cpixel(&r, pf, cp);
                for (size_t k = 0; k < npx; k++)
                    tile[k] = v;
            } else if (se <= 16) {
                unsigned bits = se == 2 ? 1 : se <= 4 ? 2 : 4;
                for (unsigned k = 0; k < se; k++)
                    pal[k] = take_cpixel(&r, pf, cp);
                for (unsigned j = 0; j < th; j++) {
                    size_t rowbytes = (tw * bits + 7) / 8;
                    const uint8_t *row = take(&r, rowbytes);
                    if (!row)
                        return false;
                    for (unsigned i = 0; i < tw; i++) {
                        unsigned bit = i * bits;
                        unsigned idx = (row[bit / 8] >> (8 - bits - bit % 8)) & ((1u << bits) - 1);
                        if (idx >= se)
                            return false;
                        tile[j * tw + i] = pal[idx];
                    }
                    /* padding bits must be zero for a deterministic stream */
                    unsigned used = tw * bits % 8;
                    if (used && (row[rowbytes - 1] & ((1u << (8 - used)) - 1)))
                        return false;
                }
            } else if (se == 128) {
                size_t k = 0;
                while (k < npx) {
                    uint32_t v = take_cpixel(&r, pf, cp);
                    size_t run = rd_runlen(&r);
                    if (r.bad || run > npx - k)
                        return false;
                    while (run--)
                        tile[k++] = v;
                }
            } else if (se >= 130) {
                unsigned n = se - 128;
                for (unsigned k = 0; k < n; k++)
                    pal[k] = take_cpixel(&r, pf, cp);
                size_t k = 0;
                while (k < npx) {
                    unsigned b = take_u8(&r);
                    size_t run = b & 128 ? rd_runlen(&r) : 1;
                    if (r.bad || (b & 127) >= n || run > npx - k)
                        return false;
                    while (run--)
                        tile[k++] = pal[b & 127];
                }
            } else {
                return false;           /* 17..127 and 129 are unused */
            }
            if (r.bad)
                return false;
            for (unsigned j = 0; j < th; j++)
                memcpy(&img[(size_t)(ty + j) * w + tx], &tile[j * tw], tw * sizeof(uint32_t));
        }
    }
    return r.pos == len;
}

/* ------------------------------------------------------------------ images */

#define FB_STRIDE 1031
#define FB_H      450

enum { IMG_SOLID, IMG_NOISE, IMG_TEXT, IMG_BLOBS, IMG_ROWS, IMG_BLOCKS, IMG_DITHER, NIMGS };
static uint32_t *fbs[NIMGS];
static const char *const img_names[NIMGS] = {
    "solid", "noise", "text", "blobs", "rows", "blocks", "dither",
};

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 16) | (rng_state << 16);
}

static void fill(uint32_t *fb, unsigned x, unsigned y, unsigned w, unsigned h, uint32_t c)
{
    for (unsigned j = y; j < y + h && j < FB_H; j++)
        for (unsigned i = x; i < x + w && i < FB_STRIDE; i++)
            fb[(size_t)j * FB_STRIDE + i] = c;
}

/* Glyph-like blobs: 9x16 cells of blue background with random strokes in
 * a few colours, words separated by blanks, and a grey status line with
 * black blobs on top. */
static void make_blobs(uint32_t *fb, unsigned ox, unsigned oy)
{
    static const uint32_t fgs[] = { 0xAAAAAA, 0xFFFFFF, 0xFFFF55, 0x55FF55, 0xFF5555 };
    fill(fb, 0, 0, FB_STRIDE, FB_H, 0x0000AA);
    for (unsigned row = 0; oy + row * 16 < FB_H; row++) {
        bool status = row == 0;
        uint32_t bg = status ? 0xAAAAAA : 0x0000AA;
        uint32_t fg = status ? 0x000000 : fgs[rnd() % 5];
        fill(fb, ox, oy + row * 16, FB_STRIDE, 16, bg);
        unsigned line_len = status ? 80 : rnd() % 81;
        for (unsigned col = 0; col < line_len && ox + col * 9 < FB_STRIDE; col++) {
            if (rnd() % 6 == 0)
                continue;                           /* a blank between words */
            if (!status && rnd() % 10 == 0)
                fg = fgs[rnd() % 5];
            unsigned cx = ox + col * 9, cy = oy + row * 16;
            unsigned strokes = 2 + rnd() % 3;
            for (unsigned s = 0; s < strokes; s++) {
                unsigned thick = 1 + rnd() % 2;
                if (rnd() % 2)      /* vertical */
                    fill(fb, cx + 1 + rnd() % 6, cy + 3 + rnd() % 4, thick, 4 + rnd() % 6, fg);
                else                /* horizontal */
                    fill(fb, cx + 1 + rnd() % 4, cy + 3 + rnd() % 10, 2 + rnd() % 5, thick, fg);
            }
        }
    }
}

/* One character of the real VGA font (tools/psf2c) in a 9x16 cell. */
static void draw_char(uint32_t *fb, unsigned cx, unsigned cy, unsigned char ch, uint32_t fg, uint32_t bg)
{
    for (unsigned j = 0; j < 16 && cy + j < FB_H; j++)
        for (unsigned i = 0; i < 9 && cx + i < FB_STRIDE; i++)
            fb[(size_t)(cy + j) * FB_STRIDE + cx + i] =
                i < 8 && (vga_font8x16[ch][j] & (0x80 >> i)) ? fg : bg;
}

/* An 80x25 VGA text screen (720x400 from (ox,oy)) of boot-log lines in
 * the real font: light grey on black, green "[  OK  ]" marks, a few
 * yellow and red lines, and a status line, black on cyan. */
static void make_text(uint32_t *fb, unsigned ox, unsigned oy)
{
    static const char *const words[] = {
        "Started", "Reached", "target", "pci", "0000:00:1f.2", "usb", "eth0:", "link",
        "is", "up", "systemd[1]:", "Mounting", "kernel", "module", "ACPI:", "IRQ",
        "vsbypass", "Finished", "Network", "Manager.", "[drm]", "ata1:", "SATA",
        "1.5", "Gbps", "EXT4-fs", "(vda1):", "mounted", "filesystem", "with",
        "ordered", "data", "mode.", "Console:", "colour", "VGA+", "80x25",
    };
    fill(fb, 0, 0, FB_STRIDE, FB_H, 0x000000);
    for (unsigned row = 0; row < 25; row++) {
        char line[81];
        memset(line, ' ', 80);
        line[80] = 0;
        uint32_t fg = 0xAAAAAA, bg = 0x000000;
        size_t pos = 0;
        if (row == 24) {
            fg = 0x000000;
            bg = 0x00AAAA;
            memcpy(line, " vsbypass console  vm 0  ~? help", 32);
        } else {
            unsigned kind = rnd() % 8;
            if (kind < 3) {
                memcpy(line, "[  OK  ] ", 9);
                pos = 9;
            } else {
                pos = (size_t)snprintf(line, sizeof line, "[%5u.%06u] ", rnd() % 100, rnd() % 1000000);
                line[pos] = ' ';
            }
            if (kind == 7)
                fg = rnd() % 2 ? 0xFFFF55 : 0xFF5555;
            unsigned len = 20 + rnd() % 60;
            while (pos < len) {
                const char *wd = words[rnd() % (sizeof words / sizeof words[0])];
                size_t wl = strlen(wd);
                if (pos + wl + 1 > 80)
                    break;
                memcpy(line + pos, wd, wl);
                pos += wl + 1;
            }
        }
        for (unsigned col = 0; col < 80; col++) {
            uint32_t cfg = fg;
            if (line[0] == '[' && line[1] == ' ' && col >= 3 && col <= 4)
                cfg = 0x55FF55;                     /* the green OK */
            draw_char(fb, ox + col * 9, oy + row * 16, (unsigned char)line[col], cfg, bg);
        }
    }
}

static void make_images(void)
{
    for (int k = 0; k < NIMGS; k++) {
        fbs[k] = malloc((size_t)FB_STRIDE * FB_H * sizeof(uint32_t));
        assert_non_null(fbs[k]);
    }
    for (size_t i = 0; i < (size_t)FB_STRIDE * FB_H; i++) {
        fbs[IMG_SOLID][i] = 0x336699;
        fbs[IMG_NOISE][i] = rnd();                  /* the X byte too */
    }
    make_text(fbs[IMG_TEXT], 17, 9);
    make_blobs(fbs[IMG_BLOBS], 17, 9);
    for (unsigned j = 0; j < FB_H; j++) {
        for (unsigned i = 0; i < FB_STRIDE; i++) {
            /* every row its own colour (plain RLE in ZRLE) */
            fbs[IMG_ROWS][(size_t)j * FB_STRIDE + i] = (j * 0x010305u * 7) & 0xFFFFFF;
            /* 8x8 blocks from 40 colours (palette RLE) */
            unsigned b = ((i / 8) * 31 + (j / 8) * 17) % 40;
            fbs[IMG_BLOCKS][(size_t)j * FB_STRIDE + i] = b * 0x050607u + 0x102030;
            /* fine detail in 2, 4 and 12 colours (packed palettes) */
            unsigned ncol = i < 300 ? 2 : i < 600 ? 4 : 12;
            fbs[IMG_DITHER][(size_t)j * FB_STRIDE + i] = (rnd() % ncol) * 0x151515u;
        }
    }
}

struct rect {
    unsigned x, y, w, h;
};
static const struct rect rects[] = {
    { 0, 0, 1, 1 }, { 3, 5, 17, 33 }, { 16, 16, 16, 16 }, { 1, 1, 65, 129 },
    { 17, 9, 720, 400 },
};
#define NRECTS (sizeof rects / sizeof rects[0])

/* The source rectangle converted by the reference. */
static uint32_t *expected(const struct rfb_pixfmt *pf, const uint32_t *fb, struct rect r)
{
    uint32_t *img = malloc((size_t)r.w * r.h * sizeof(uint32_t));
    assert_non_null(img);
    for (unsigned j = 0; j < r.h; j++)
        for (unsigned i = 0; i < r.w; i++)
            img[(size_t)j * r.w + i] = ref_value(pf, fb[(size_t)(r.y + j) * FB_STRIDE + r.x + i]);
    return img;
}

typedef size_t (*enc_fn)(const struct rfb_pixfmt *, const uint32_t *, unsigned, unsigned,
                         unsigned, unsigned, unsigned, uint8_t *, size_t);
typedef size_t (*bound_fn)(const struct rfb_pixfmt *, unsigned, unsigned);

/* Encodes into a buffer of exactly the bound (ASan catches any overrun). */
static uint8_t *encode(enc_fn enc, bound_fn bound, const struct rfb_pixfmt *pf,
                       const uint32_t *fb, struct rect r, size_t *len)
{
    size_t cap = bound(pf, r.w, r.h);
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    *len = enc(pf, fb, FB_STRIDE, r.x, r.y, r.w, r.h, out, cap);
    assert_true(*len > 0);
    assert_true(*len <= cap);
    return out;
}

static void check_same(const char *what, const struct fmt_case *fc, int img, struct rect r,
                       const uint32_t *got, const uint32_t *want)
{
    for (size_t k = 0; k < (size_t)r.w * r.h; k++) {
        if (got[k] != want[k]) {
            fail_msg("%s %s %s %ux%u+%u+%u: pixel (%zu,%zu) is %08x, want %08x", what, fc->name,
                     img_names[img], r.w, r.h, r.x, r.y, k % r.w, k / r.w, got[k], want[k]);
        }
    }
}

/* ------------------------------------------------------------ pixel format */

static void test_pixfmt_default(void **state)
{
    (void)state;
    struct rfb_pixfmt pf;
    memset(&pf, 0xEE, sizeof pf);
    rfb_pixfmt_default(&pf);
    assert_int_equal(pf.bpp, 32);
    assert_int_equal(pf.depth, 24);
    assert_int_equal(pf.big_endian, 0);
    assert_int_equal(pf.true_colour, 1);
    assert_int_equal(pf.rmax, 255);
    assert_int_equal(pf.gmax, 255);
    assert_int_equal(pf.bmax, 255);
    assert_int_equal(pf.rshift, 16);
    assert_int_equal(pf.gshift, 8);
    assert_int_equal(pf.bshift, 0);
    const char *why = "x";
    assert_true(rfb_pixfmt_check(&pf, &why));
    assert_null(why);
}

static void assert_pf_equal(const struct rfb_pixfmt *a, const struct rfb_pixfmt *b)
{
    assert_int_equal(a->bpp, b->bpp);
    assert_int_equal(a->depth, b->depth);
    assert_int_equal(a->big_endian, b->big_endian);
    assert_int_equal(a->true_colour, b->true_colour);
    assert_int_equal(a->rmax, b->rmax);
    assert_int_equal(a->gmax, b->gmax);
    assert_int_equal(a->bmax, b->bmax);
    assert_int_equal(a->rshift, b->rshift);
    assert_int_equal(a->gshift, b->gshift);
    assert_int_equal(a->bshift, b->bshift);
}

static void test_pixfmt_wire(void **state)
{
    (void)state;
    struct rfb_pixfmt pf, back;
    uint8_t b[16];

    rfb_pixfmt_default(&pf);
    memset(b, 0xEE, sizeof b);
    rfb_pixfmt_encode(&pf, b);
    static const uint8_t want_default[16] = { 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0 };
    assert_memory_equal(b, want_default, 16);

    rfb_pixfmt_encode(&fmts[3].pf, b);                      /* 565 big endian */
    static const uint8_t want_565be[16] = { 16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0 };
    assert_memory_equal(b, want_565be, 16);

    rfb_pixfmt_encode(&fmts[8].pf, b);                      /* 16-bit maxima */
    static const uint8_t want_30[16] = { 32, 30, 0, 1, 3, 255, 3, 255, 3, 255, 20, 10, 0, 0, 0, 0 };
    assert_memory_equal(b, want_30, 16);

    /* Padding is ignored when decoding, written as zeros when encoding. */
    uint8_t in[16] = { 16, 15, 1, 1, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 1, 2, 3, 0xAA, 0xBB, 0xCC };
    rfb_pixfmt_decode(&back, in);
    assert_int_equal(back.bpp, 16);
    assert_int_equal(back.depth, 15);
    assert_int_equal(back.rmax, 0x1234);
    assert_int_equal(back.gmax, 0x5678);
    assert_int_equal(back.bmax, 0x9ABC);
    assert_int_equal(back.rshift, 1);
    assert_int_equal(back.gshift, 2);
    assert_int_equal(back.bshift, 3);
    rfb_pixfmt_encode(&back, b);
    assert_memory_equal(b, in, 13);
    assert_int_equal(b[13] | b[14] | b[15], 0);

    for (size_t k = 0; k < NFMTS; k++) {
        rfb_pixfmt_encode(&fmts[k].pf, b);
        rfb_pixfmt_decode(&back, b);
        assert_pf_equal(&back, &fmts[k].pf);
    }
}

static void test_pixfmt_check(void **state)
{
    (void)state;
    const char *why;
    for (size_t k = 0; k < NFMTS; k++) {
        why = "x";
        if (!rfb_pixfmt_check(&fmts[k].pf, &why))
            fail_msg("%s refused: %s", fmts[k].name, why);
    }
    struct rfb_pixfmt ok[] = {
        PF(32, 32, 0, 255, 255, 255, 24, 16, 8),    /* top field ends at bit 31 */
        PF(32, 24, 0, 65535, 1, 1, 16, 0, 1),       /* 16-bit field */
        PF(8, 1, 0, 1, 1, 1, 0, 0, 0),              /* overlapping 1-bit fields */
        PF(16, 15, 1, 31, 31, 31, 10, 5, 0),        /* 555 */
    };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
        assert_true(rfb_pixfmt_check(&ok[k], NULL));

    struct rfb_pixfmt pf = fmts[4].pf;
    pf.true_colour = 0;
    assert_false(rfb_pixfmt_check(&pf, &why));
    assert_string_equal(why, "colour-map pixel formats are not supported");

    struct { struct rfb_pixfmt pf; const char *what; } bad[] = {
        { PF(24, 24, 0, 255, 255, 255, 16, 8, 0), "bpp 24" },
        { PF(0, 0, 0, 1, 1, 1, 0, 0, 0), "bpp 0" },
        { PF(12, 12, 0, 15, 15, 15, 8, 4, 0), "bpp 12" },
        { PF(64, 24, 0, 255, 255, 255, 16, 8, 0), "bpp 64" },
        { PF(32, 0, 0, 255, 255, 255, 16, 8, 0), "depth 0" },
        { PF(16, 17, 0, 31, 63, 31, 11, 5, 0), "depth > bpp" },
        { PF(32, 24, 0, 0, 255, 255, 16, 8, 0), "max 0" },
        { PF(32, 24, 0, 255, 6, 255, 16, 8, 0), "max 6" },
        { PF(32, 24, 0, 255, 255, 254, 16, 8, 0), "max 254" },
        { PF(32, 24, 0, 255, 255, 0x8000, 16, 8, 0), "max 0x8000" },
        { PF(32, 24, 0, 255, 255, 255, 25, 8, 0), "red 8 bits at 25 in 32" },
        { PF(16, 16, 0, 31, 63, 31, 11, 11, 0), "green 6 bits at 11 in 16" },
        { PF(8, 8, 0, 7, 7, 3, 0, 3, 7), "blue 2 bits at 7 in 8" },
        { PF(8, 8, 0, 7, 7, 3, 200, 3, 6), "shift 200" },
        { PF(32, 24, 0, 65535, 255, 255, 17, 8, 0), "16-bit max at 17" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        why = NULL;
        if (rfb_pixfmt_check(&bad[k].pf, &why))
            fail_msg("%s accepted", bad[k].what);
        assert_non_null(why);
        assert_true(strlen(why) > 0);
        assert_false(rfb_pixfmt_check(&bad[k].pf, NULL));
    }
}

static void test_put_pixel(void **state)
{
    (void)state;
    uint8_t b[4];
    struct rfb_pixfmt pf;
    rfb_pixfmt_default(&pf);
    assert_int_equal(rfb_put_pixel(&pf, 0x123456, b), 4);
    assert_memory_equal(b, ((uint8_t[]){ 0x56, 0x34, 0x12, 0x00 }), 4);
    assert_int_equal(rfb_put_pixel(&pf, 0xFF123456, b), 4);          /* X ignored */
    assert_memory_equal(b, ((uint8_t[]){ 0x56, 0x34, 0x12, 0x00 }), 4);
    assert_int_equal(rfb_put_pixel(&fmts[1].pf, 0x123456, b), 4);
    assert_memory_equal(b, ((uint8_t[]){ 0x00, 0x12, 0x34, 0x56 }), 4);
    assert_int_equal(rfb_put_pixel(&fmts[6].pf, 0x123456, b), 4);    /* shifts 24/16/8 */
    assert_memory_equal(b, ((uint8_t[]){ 0x00, 0x56, 0x34, 0x12 }), 4);

    assert_int_equal(rfb_put_pixel(&fmts[2].pf, 0xFFFFFF, b), 2);
    assert_memory_equal(b, ((uint8_t[]){ 0xFF, 0xFF }), 2);
    assert_int_equal(rfb_put_pixel(&fmts[2].pf, 0xFF0000, b), 2);
    assert_memory_equal(b, ((uint8_t[]){ 0x00, 0xF8 }), 2);
    assert_int_equal(rfb_put_pixel(&fmts[3].pf, 0xFF0000, b), 2);
    assert_memory_equal(b, ((uint8_t[]){ 0xF8, 0x00 }), 2);
    /* 0x80 -> 31: 16.06 -> 16, 63: 32.12 -> 32 */
    assert_int_equal(rfb_pixel_value(&fmts[2].pf, 0x808080), 16u << 11 | 32u << 5 | 16u);
    /* 0x7F -> 31: 15.44 -> 15; 0x84 -> 16.05 -> 16; 0x85 -> 16.17 -> 16 */
    assert_int_equal(rfb_pixel_value(&fmts[2].pf, 0x7F0000), 15u << 11);
    assert_int_equal(rfb_pixel_value(&fmts[2].pf, 0x000084), 16u);

    assert_int_equal(rfb_put_pixel(&fmts[4].pf, 0xFFFFFF, b), 1);   /* BGR233 */
    assert_int_equal(b[0], 0xFF);
    rfb_put_pixel(&fmts[4].pf, 0x00FF00, b);
    assert_int_equal(b[0], 7 << 3);
    rfb_put_pixel(&fmts[4].pf, 0x0000FF, b);
    assert_int_equal(b[0], 3 << 6);

    /* The whole 8-bit range of each component against the reference. */
    for (size_t k = 0; k < NFMTS; k++)
        for (uint32_t c = 0; c < 256; c++)
            for (int s = 0; s < 24; s += 8)
                assert_int_equal(rfb_pixel_value(&fmts[k].pf, c << s), ref_value(&fmts[k].pf, c << s));

    /* CPIXEL sizes */
    assert_int_equal(rfb_zrle_cpixel_bytes(&fmts[0].pf), 3);
    assert_int_equal(rfb_zrle_cpixel_bytes(&fmts[1].pf), 3);
    assert_int_equal(rfb_zrle_cpixel_bytes(&fmts[2].pf), 2);
    assert_int_equal(rfb_zrle_cpixel_bytes(&fmts[4].pf), 1);
    assert_int_equal(rfb_zrle_cpixel_bytes(&fmts[5].pf), 3);
    assert_int_equal(rfb_zrle_cpixel_bytes(&fmts[6].pf), 3);
    assert_int_equal(rfb_zrle_cpixel_bytes(&fmts[8].pf), 4);       /* depth 30 */
    pf = fmts[0].pf;
    pf.depth = 32;
    assert_int_equal(rfb_zrle_cpixel_bytes(&pf), 4);
    pf = (struct rfb_pixfmt)PF(32, 24, 0, 255, 255, 255, 20, 8, 0);    /* bits 0..27 */
    assert_int_equal(rfb_zrle_cpixel_bytes(&pf), 4);
}

/* ---------------------------------------------------------- round trips */

static void test_raw(void **state)
{
    const struct fmt_case *fc = *state;
    for (int img = 0; img < NIMGS; img++) {
        for (size_t k = 0; k < NRECTS; k++) {
            struct rect r = rects[k];
            size_t len;
            uint8_t *out = encode(rfb_enc_raw, rfb_enc_raw_bound, &fc->pf, fbs[img], r, &len);
            assert_int_equal(len, (size_t)r.w * r.h * (fc->pf.bpp / 8));
            uint32_t *want = expected(&fc->pf, fbs[img], r);
            uint32_t *got = calloc((size_t)r.w * r.h, sizeof(uint32_t));
            if (!dec_raw(&fc->pf, out, len, r.w, r.h, got))
                fail_msg("raw %s %s: does not decode", fc->name, img_names[img]);
            check_same("raw", fc, img, r, got, want);
            free(out);
            free(want);
            free(got);
        }
    }
}

static void test_hextile(void **state)
{
    const struct fmt_case *fc = *state;
    struct hx_stats st = { 0, 0, 0, 0 };
    for (int img = 0; img < NIMGS; img++) {
        for (size_t k = 0; k < NRECTS; k++) {
            struct rect r = rects[k];
            size_t len;
            uint8_t *out = encode(rfb_enc_hextile, rfb_enc_hextile_bound, &fc->pf, fbs[img], r, &len);
            uint32_t *want = expected(&fc->pf, fbs[img], r);
            uint32_t *got = calloc((size_t)r.w * r.h, sizeof(uint32_t));
            if (!dec_hextile(&fc->pf, out, len, r.w, r.h, got, &st))
                fail_msg("hextile %s %s %ux%u: does not decode", fc->name, img_names[img], r.w, r.h);
            check_same("hextile", fc, img, r, got, want);
            free(out);
            free(want);
            free(got);
        }
    }
    /* Every tile form was used. */
    assert_true(st.raw > 0);
    assert_true(st.solid > 0);
    assert_true(st.mono > 0);
    assert_true(st.coloured > 0);
}

/* Deflates in[0..len) with Z_SYNC_FLUSH on zd into a new buffer. */
static uint8_t *deflate_sync(z_stream *zd, const uint8_t *in, size_t len, size_t *clen)
{
    size_t cap = len + len / 8 + 1024;
    uint8_t *c = malloc(cap);
    assert_non_null(c);
    zd->next_in = (Bytef *)in;
    zd->avail_in = (uInt)len;
    zd->next_out = c;
    zd->avail_out = (uInt)cap;
    assert_int_equal(deflate(zd, Z_SYNC_FLUSH), Z_OK);
    assert_int_equal(zd->avail_in, 0);
    assert_true(zd->avail_out > 0);
    *clen = cap - zd->avail_out;
    return c;
}

/* What a client does with one ZRLE rectangle: inflate exactly clen bytes on
 * its stream, then decode the tiles. */
static bool dec_zrle(const struct rfb_pixfmt *pf, z_stream *zi, const uint8_t *c, size_t clen,
                     unsigned w, unsigned h, uint32_t *img, struct zr_stats *st, size_t max_raw)
{
    uint8_t *raw = malloc(max_raw + 1);
    assert_non_null(raw);
    zi->next_in = (Bytef *)c;
    zi->avail_in = (uInt)clen;
    zi->next_out = raw;
    zi->avail_out = (uInt)(max_raw + 1);
    int rc = inflate(zi, Z_SYNC_FLUSH);
    bool ok = (rc == Z_OK || rc == Z_BUF_ERROR) && zi->avail_in == 0;
    size_t n = max_raw + 1 - zi->avail_out;
    ok = ok && n <= max_raw && dec_zrle_tiles(pf, raw, n, w, h, img, st);
    free(raw);
    return ok;
}

static void test_zrle(void **state)
{
    const struct fmt_case *fc = *state;
    struct zr_stats st;
    memset(&st, 0, sizeof st);
    z_stream zd, zi;
    memset(&zd, 0, sizeof zd);
    memset(&zi, 0, sizeof zi);
    assert_int_equal(deflateInit(&zd, 6), Z_OK);
    assert_int_equal(inflateInit(&zi), Z_OK);
    /* All rectangles of this format through one pair of streams. */
    for (int img = 0; img < NIMGS; img++) {
        for (size_t k = 0; k < NRECTS; k++) {
            struct rect r = rects[k];
            size_t len, clen;
            uint8_t *out = encode(rfb_enc_zrle_raw, rfb_enc_zrle_raw_bound, &fc->pf, fbs[img], r, &len);
            uint8_t *c = deflate_sync(&zd, out, len, &clen);
            uint32_t *want = expected(&fc->pf, fbs[img], r);
            uint32_t *got = calloc((size_t)r.w * r.h, sizeof(uint32_t));
            if (!dec_zrle(&fc->pf, &zi, c, clen, r.w, r.h, got, &st, len))
                fail_msg("zrle %s %s %ux%u: does not decode", fc->name, img_names[img], r.w, r.h);
            check_same("zrle", fc, img, r, got, want);
            free(out);
            free(c);
            free(want);
            free(got);
        }
    }
    deflateEnd(&zd);
    inflateEnd(&zi);
    /* Every sub-encoding was used: raw, solid, packed 1/2/4-bit, plain
     * RLE and palette RLE (8 bpp merges too many colours for the last). */
    assert_true(st.kind[0] > 0);
    assert_true(st.kind[1] > 0);
    assert_true(st.kind[2] > 0);
    assert_true(st.kind[3] + st.kind[4] > 0);
    unsigned packed4 = 0, palrle = 0;
    for (int k = 5; k <= 16; k++)
        packed4 += st.kind[k];
    for (int k = 130; k < 256; k++)
        palrle += st.kind[k];
    assert_true(packed4 > 0);
    assert_true(st.kind[128] > 0);
    if (fc->pf.bpp > 8)
        assert_true(palrle > 0);
}

/* ------------------------------------------------------------ edge cases */

static const struct {
    const char *name;
    enc_fn enc;
    bound_fn bound;
} encs[] = {
    { "raw", rfb_enc_raw, rfb_enc_raw_bound },
    { "hextile", rfb_enc_hextile, rfb_enc_hextile_bound },
    { "zrle", rfb_enc_zrle_raw, rfb_enc_zrle_raw_bound },
};
#define NENCS (sizeof encs / sizeof encs[0])
#define GUARD 64

/* Encodes into cap bytes followed by a guard; checks the guard. */
static size_t enc_guarded(size_t e, const struct rfb_pixfmt *pf, int img, struct rect r,
                          uint8_t *buf, size_t cap)
{
    memset(buf, 0xA5, cap + GUARD);
    size_t len = encs[e].enc(pf, fbs[img], FB_STRIDE, r.x, r.y, r.w, r.h, buf, cap);
    for (size_t k = cap; k < cap + GUARD; k++)
        if (buf[k] != 0xA5)
            fail_msg("%s cap %zu: byte %zu written", encs[e].name, cap, k);
    return len;
}

static void test_small_cap(void **state)
{
    (void)state;
    static const struct rect small[] = { { 0, 0, 1, 1 }, { 3, 5, 17, 33 }, { 5, 3, 70, 20 } };
    for (size_t e = 0; e < NENCS; e++) {
        for (size_t f = 0; f < NFMTS; f += 2) {
            const struct rfb_pixfmt *pf = &fmts[f].pf;
            for (int img = 0; img < NIMGS; img++) {
                for (size_t k = 0; k < sizeof small / sizeof small[0]; k++) {
                    struct rect r = small[k];
                    size_t bound = encs[e].bound(pf, r.w, r.h);
                    uint8_t *ref = malloc(bound);
                    uint8_t *buf = malloc(bound + GUARD);
                    size_t full = encs[e].enc(pf, fbs[img], FB_STRIDE, r.x, r.y, r.w, r.h, ref, bound);
                    assert_true(full > 0 && full <= bound);
                    /* caps below the size fail cleanly: all small ones,
                     * then a stride through, then the last few */
                    for (size_t cap = 0; cap < full; cap += cap < 48 || cap + 8 >= full ? 1 : 13)
                        assert_int_equal(enc_guarded(e, pf, img, r, buf, cap), 0);
                    /* the exact size succeeds with the same bytes */
                    assert_int_equal(enc_guarded(e, pf, img, r, buf, full), full);
                    assert_memory_equal(buf, ref, full);
                    free(ref);
                    free(buf);
                }
            }
        }
    }
    /* A big rectangle: a few caps below its size. */
    struct rect big = rects[NRECTS - 1];
    for (size_t e = 0; e < NENCS; e++) {
        for (int img = IMG_NOISE; img <= IMG_TEXT; img++) {
            size_t bound = encs[e].bound(&fmts[0].pf, big.w, big.h);
            uint8_t *buf = malloc(bound + GUARD);
            size_t full = enc_guarded(e, &fmts[0].pf, img, big, buf, bound);
            assert_true(full > 0);
            size_t caps[] = { 0, 1, full / 3, full / 2, full - 2, full - 1 };
            for (size_t k = 0; k < sizeof caps / sizeof caps[0]; k++)
                assert_int_equal(enc_guarded(e, &fmts[0].pf, img, big, buf, caps[k]), 0);
            free(buf);
        }
    }
}

static void test_empty_rect(void **state)
{
    (void)state;
    uint8_t buf[64];
    for (size_t e = 0; e < NENCS; e++) {
        assert_int_equal(encs[e].enc(&fmts[0].pf, fbs[0], FB_STRIDE, 0, 0, 0, 5, buf, sizeof buf), 0);
        assert_int_equal(encs[e].enc(&fmts[0].pf, fbs[0], FB_STRIDE, 0, 0, 5, 0, buf, sizeof buf), 0);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Text screen: Hextile well under a quarter of Raw; sizes and times shown. */
static void test_text_sizes(void **state)
{
    (void)state;
    const struct rfb_pixfmt *pf = &fmts[0].pf;
    struct rect r = rects[NRECTS - 1];
    size_t sz[NENCS];
    double ms[NENCS];
    uint8_t *zrle = NULL;
    for (size_t e = 0; e < NENCS; e++) {
        size_t bound = encs[e].bound(pf, r.w, r.h);
        uint8_t *out = malloc(bound);
        double t0 = now_ms();
        for (int rep = 0; rep < 10; rep++)
            sz[e] = encs[e].enc(pf, fbs[IMG_TEXT], FB_STRIDE, r.x, r.y, r.w, r.h, out, bound);
        ms[e] = (now_ms() - t0) / 10;
        assert_true(sz[e] > 0);
        if (e == 2)
            zrle = out;
        else
            free(out);
    }
    z_stream zd;
    memset(&zd, 0, sizeof zd);
    assert_int_equal(deflateInit(&zd, 6), Z_OK);
    size_t clen;
    uint8_t *c = deflate_sync(&zd, zrle, sz[2], &clen);
    deflateEnd(&zd);
    printf("    text %ux%u, 32bpp: raw %zu, hextile %zu, zrle %zu (%zu deflated); "
           "encode ms raw %.2f hextile %.2f zrle %.2f (this build)\n",
           r.w, r.h, sz[0], sz[1], sz[2], clen, ms[0], ms[1], ms[2]);
    assert_true(sz[1] * 4 < sz[0]);
    assert_true(clen < sz[1]);
    free(zrle);
    free(c);

    /* A solid screen: Hextile gives the background once, then one byte a
     * tile (45x25 tiles); ZRLE a solid CPIXEL a tile (12x7 tiles). */
    uint8_t *out = malloc(rfb_enc_hextile_bound(pf, r.w, r.h));
    assert_int_equal(rfb_enc_hextile(pf, fbs[IMG_SOLID], FB_STRIDE, r.x, r.y, r.w, r.h, out,
                                     rfb_enc_hextile_bound(pf, r.w, r.h)), 45 * 25 + 4);
    assert_int_equal(rfb_enc_zrle_raw(pf, fbs[IMG_SOLID], FB_STRIDE, r.x, r.y, r.w, r.h, out,
                                      rfb_enc_zrle_raw_bound(pf, r.w, r.h)), 12 * 7 * 4);
    free(out);
}

static int setup_images(void **state)
{
    (void)state;
    make_images();
    return 0;
}

static int teardown_images(void **state)
{
    (void)state;
    for (int k = 0; k < NIMGS; k++)
        free(fbs[k]);
    return 0;
}

int main(void)
{
    static char names[3][NFMTS][32];
    struct CMUnitTest tests[7 + 3 * NFMTS];
    size_t n = 0;
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_pixfmt_default);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_pixfmt_wire);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_pixfmt_check);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_put_pixel);
    static const char *const kind[3] = { "raw", "hextile", "zrle" };
    CMUnitTestFunction fn[3] = { test_raw, test_hextile, test_zrle };
    for (int e = 0; e < 3; e++) {
        for (size_t f = 0; f < NFMTS; f++) {
            snprintf(names[e][f], sizeof names[e][f], "%s_%s", kind[e], fmts[f].name);
            tests[n++] = (struct CMUnitTest){ names[e][f], fn[e], NULL, NULL, (void *)&fmts[f] };
        }
    }
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_small_cap);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_empty_rect);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_text_sizes);
    return _cmocka_run_group_tests("rfb_enc", tests, n, setup_images, teardown_images);
}
