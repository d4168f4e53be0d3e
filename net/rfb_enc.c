/* RFB pixel formats and rectangle encoders (net/rfb_enc.h). */
#include "net/rfb_enc.h"
#include "core/libc.h"

/* ------------------------------------------------------------ pixel formats */

void rfb_pixfmt_default(struct rfb_pixfmt *pf)
{
    memset(pf, 0, sizeof *pf);
    pf->bpp = 32;
    pf->depth = 24;
    pf->big_endian = 0;
    pf->true_colour = 1;
    pf->rmax = pf->gmax = pf->bmax = 255;
    pf->rshift = 16;
    pf->gshift = 8;
    pf->bshift = 0;
}

static bool bpp_ok(unsigned bpp) { return bpp == 8 || bpp == 16 || bpp == 32; }

/* n for max = 2^n - 1 (callers check the form first). */
static unsigned max_bits(uint32_t max)
{
    unsigned n = 0;
    while (max) {
        n++;
        max >>= 1;
    }
    return n;
}

static bool fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return false;
}

bool rfb_pixfmt_check(const struct rfb_pixfmt *pf, const char **why)
{
    if (!pf->true_colour)
        return fail(why, "colour-map pixel formats are not supported");
    if (!bpp_ok(pf->bpp))
        return fail(why, "bits-per-pixel must be 8, 16 or 32");
    if (pf->depth < 1 || pf->depth > pf->bpp)
        return fail(why, "depth must be between 1 and bits-per-pixel");
    const uint32_t max[3] = { pf->rmax, pf->gmax, pf->bmax };
    const unsigned shift[3] = { pf->rshift, pf->gshift, pf->bshift };
    for (unsigned i = 0; i < 3; i++) {
        if (max[i] == 0 || (max[i] & (max[i] + 1)) != 0)
            return fail(why, "colour maximum is not of the form 2^n-1");
        if (shift[i] + max_bits(max[i]) > pf->bpp)
            return fail(why, "colour field (max << shift) does not fit in bits-per-pixel");
    }
    if (why)
        *why = NULL;
    return true;
}

void rfb_pixfmt_encode(const struct rfb_pixfmt *pf, uint8_t out[16])
{
    out[0] = pf->bpp;
    out[1] = pf->depth;
    out[2] = pf->big_endian;
    out[3] = pf->true_colour;
    out[4] = (uint8_t)(pf->rmax >> 8);
    out[5] = (uint8_t)pf->rmax;
    out[6] = (uint8_t)(pf->gmax >> 8);
    out[7] = (uint8_t)pf->gmax;
    out[8] = (uint8_t)(pf->bmax >> 8);
    out[9] = (uint8_t)pf->bmax;
    out[10] = pf->rshift;
    out[11] = pf->gshift;
    out[12] = pf->bshift;
    out[13] = out[14] = out[15] = 0;
}

void rfb_pixfmt_decode(struct rfb_pixfmt *pf, const uint8_t in[16])
{
    memset(pf, 0, sizeof *pf);
    pf->bpp = in[0];
    pf->depth = in[1];
    pf->big_endian = in[2];
    pf->true_colour = in[3];
    pf->rmax = (uint16_t)(in[4] << 8 | in[5]);
    pf->gmax = (uint16_t)(in[6] << 8 | in[7]);
    pf->bmax = (uint16_t)(in[8] << 8 | in[9]);
    pf->rshift = in[10];
    pf->gshift = in[11];
    pf->bshift = in[12];
}

/* ------------------------------------------------------- pixel conversion */

/* XRGB -> client pixel value, with a one-entry cache: screens (text above
 * all) repeat the previous pixel far more often than not. */
struct conv {
    uint32_t rmax, gmax, bmax;
    unsigned rshift, gshift, bshift;
    bool plain;                 /* all maxima 255: no scaling */
    uint32_t last_in, last_out;
};

static uint32_t shl(uint32_t v, unsigned s) { return s < 32 ? v << s : 0; }
static uint32_t scale(uint32_t c, uint32_t max) { return (c * max + 127) / 255; }

static uint32_t conv_slow(const struct conv *c, uint32_t xrgb)
{
    uint32_t r = (xrgb >> 16) & 0xFF, g = (xrgb >> 8) & 0xFF, b = xrgb & 0xFF;
    if (!c->plain) {
        r = scale(r, c->rmax);
        g = scale(g, c->gmax);
        b = scale(b, c->bmax);
    }
    return shl(r, c->rshift) | shl(g, c->gshift) | shl(b, c->bshift);
}

static void conv_init(struct conv *c, const struct rfb_pixfmt *pf)
{
    c->rmax = pf->rmax;
    c->gmax = pf->gmax;
    c->bmax = pf->bmax;
    c->rshift = pf->rshift;
    c->gshift = pf->gshift;
    c->bshift = pf->bshift;
    c->plain = c->rmax == 255 && c->gmax == 255 && c->bmax == 255;
    c->last_in = 0;
    c->last_out = conv_slow(c, 0);
}

static inline uint32_t conv(struct conv *c, uint32_t xrgb)
{
    if (xrgb != c->last_in) {
        c->last_in = xrgb;
        c->last_out = conv_slow(c, xrgb);
    }
    return c->last_out;
}

uint32_t rfb_pixel_value(const struct rfb_pixfmt *pf, uint32_t xrgb)
{
    struct conv c;
    conv_init(&c, pf);
    return conv_slow(&c, xrgb);
}

/* Stores the low n bytes (1..4) of v, most significant first if be. */
static inline uint8_t *put(uint8_t *o, uint32_t v, unsigned n, bool be)
{
    switch (n) {
    case 1:
        o[0] = (uint8_t)v;
        break;
    case 2:
        o[be ? 0 : 1] = (uint8_t)(v >> 8);
        o[be ? 1 : 0] = (uint8_t)v;
        break;
    case 3:
        o[be ? 0 : 2] = (uint8_t)(v >> 16);
        o[1] = (uint8_t)(v >> 8);
        o[be ? 2 : 0] = (uint8_t)v;
        break;
    default:
        o[be ? 0 : 3] = (uint8_t)(v >> 24);
        o[be ? 1 : 2] = (uint8_t)(v >> 16);
        o[be ? 2 : 1] = (uint8_t)(v >> 8);
        o[be ? 3 : 0] = (uint8_t)v;
        n = 4;
        break;
    }
    return o + n;
}

unsigned rfb_put_pixel(const struct rfb_pixfmt *pf, uint32_t xrgb, uint8_t *out)
{
    if (!bpp_ok(pf->bpp))
        return 0;
    unsigned n = pf->bpp / 8;
    put(out, rfb_pixel_value(pf, xrgb), n, pf->big_endian != 0);
    return n;
}

/* A row of cnt source pixels converted and stored, n bytes each: one loop
 * per byte layout so that put() is specialised. */
static uint8_t *put_row(uint8_t *o, const uint32_t *src, unsigned cnt, struct conv *cp,
                        unsigned n, bool be)
{
    /* A local copy: byte stores through o could alias *cp, this cannot. */
    struct conv c = *cp;
#define ROW(N, BE) for (unsigned i = 0; i < cnt; i++) o = put(o, conv(&c, src[i]), N, BE)
    switch (n * 2 + (be ? 1 : 0)) {
    case 2: case 3: ROW(1, false); break;
    case 4: ROW(2, false); break;
    case 5: ROW(2, true); break;
    case 8: ROW(4, false); break;
    default: ROW(4, true); break;
    }
#undef ROW
    *cp = c;
    return o;
}

static inline const uint32_t *row_at(const uint32_t *fb, unsigned stride_px, unsigned x, unsigned y)
{
    return fb + (size_t)y * stride_px + x;
}

/* --------------------------------------------------------------------- Raw */

size_t rfb_enc_raw_bound(const struct rfb_pixfmt *pf, unsigned w, unsigned h)
{
    return (size_t)w * h * (pf->bpp / 8);
}

size_t rfb_enc_raw(const struct rfb_pixfmt *pf, const uint32_t *fb, unsigned stride_px,
                   unsigned x, unsigned y, unsigned w, unsigned h, uint8_t *out, size_t cap)
{
    if (w == 0 || h == 0 || !bpp_ok(pf->bpp))
        return 0;
    size_t need = rfb_enc_raw_bound(pf, w, h);
    if (need > cap)
        return 0;
    struct conv c;
    conv_init(&c, pf);
    unsigned n = pf->bpp / 8;
    bool be = pf->big_endian != 0;
    uint8_t *o = out;
    for (unsigned j = 0; j < h; j++)
        o = put_row(o, row_at(fb, stride_px, x, y + j), w, &c, n, be);
    return need;
}

/* ----------------------------------------------------------------- Hextile */

#define HX_RAW        0x01
#define HX_BG         0x02
#define HX_FG         0x04
#define HX_ANY        0x08
#define HX_COLOURED   0x10
#define HX_TILE       16
#define HX_COLOURS    32      /* distinct colours counted for the background */

/* What the client holds from the previous tile of this rectangle. */
struct hx_state {
    bool bg_ok, fg_ok;
    uint32_t bg, fg;
};

static size_t tiles(unsigned w, unsigned h, unsigned t)
{
    return (size_t)((w + t - 1) / t) * ((h + t - 1) / t);
}

size_t rfb_enc_hextile_bound(const struct rfb_pixfmt *pf, unsigned w, unsigned h)
{
    /* Every tile is at most Raw: one byte plus its pixels. */
    return tiles(w, h, HX_TILE) + rfb_enc_raw_bound(pf, w, h);
}

static bool hx_row_is(const uint32_t *p, unsigned cnt, uint32_t v)
{
    for (unsigned i = 0; i < cnt; i++)
        if (p[i] != v)
            return false;
    return true;
}

static bool hx_col_is(const uint32_t *p, unsigned cnt, uint32_t v)
{
    for (unsigned j = 0; j < cnt; j++)
        if (p[j * HX_TILE] != v)
            return false;
    return true;
}

/* A Raw tile (caller checked the room). */
static size_t hx_raw(const uint32_t *px, unsigned tw, unsigned th, unsigned n, bool be,
                     struct hx_state *st, uint8_t *o)
{
    uint8_t *q = o;
    *q++ = HX_RAW;
    for (unsigned j = 0; j < th; j++)
        for (unsigned i = 0; i < tw; i++)
            q = put(q, px[j * HX_TILE + i], n, be);
    /* The RFC is not explicit about the colours after a Raw tile: the
     * next tiles specify them again. */
    st->bg_ok = st->fg_ok = false;
    return (size_t)(q - o);
}

/* One tile of pixel values px (row stride HX_TILE) into o[0..cap): the
 * subrectangle form if it is no larger than Raw, else Raw. 0 if it does not
 * fit. */
static size_t hx_tile(const uint32_t *px, unsigned tw, unsigned th, unsigned n, bool be,
                      struct hx_state *st, uint8_t *o, size_t cap)
{
    size_t raw = 1 + (size_t)tw * th * n;

    /* Distinct colours and their counts, up to the first HX_COLOURS; the
     * background is the commonest of those counted. */
    uint32_t col[HX_COLOURS];
    unsigned cnt[HX_COLOURS];
    unsigned ncol = 1, last = 0, run = 0;
    uint32_t cur = px[0];
    bool many = false;
    col[0] = cur;
    cnt[0] = 0;
    for (unsigned j = 0; j < th && !many; j++) {
        for (unsigned i = 0; i < tw; i++) {
            uint32_t v = px[j * HX_TILE + i];
            if (v == cur) {                 /* counted per run, not per pixel */
                run++;
                continue;
            }
            cnt[last] += run;
            run = 1;
            cur = v;
            unsigned k = 0;
            while (k < ncol && col[k] != v)
                k++;
            if (k == ncol) {
                if (ncol == HX_COLOURS) {
                    many = true;
                    run = 0;
                    break;
                }
                col[ncol] = v;
                cnt[ncol++] = 0;
            }
            last = k;
        }
    }
    cnt[last] += run;
    unsigned bgi = 0;
    for (unsigned k = 1; k < ncol; k++)
        if (cnt[k] > cnt[bgi])
            bgi = k;
    uint32_t bg = col[bgi];
    bool new_bg = !(st->bg_ok && st->bg == bg);

    if (ncol == 1 && !many) {           /* solid: background only */
        size_t need = new_bg ? 1 + n : 1;
        if (need > cap)
            return 0;
        o[0] = new_bg ? HX_BG : 0;
        if (new_bg)
            put(o + 1, bg, n, be);
        st->bg_ok = true;
        st->bg = bg;
        return need;
    }

    bool mono = ncol == 2 && !many;
    uint32_t fg = col[bgi ^ 1];         /* meaningful when mono */
    bool new_fg = mono && !(st->fg_ok && st->fg == fg);
    size_t limit = raw < cap ? raw : cap;
    size_t p = 1 + (new_bg ? n : 0) + (new_fg ? n : 0) + 1;
    if (p > limit)
        return raw > cap ? 0 : hx_raw(px, tw, th, n, be, st, o);
    uint8_t flags = HX_ANY | (new_bg ? HX_BG : 0) | (new_fg ? HX_FG : 0) | (mono ? 0 : HX_COLOURED);
    uint8_t *q = o + 1;
    if (new_bg)
        q = put(q, bg, n, be);
    if (new_fg)
        q = put(q, fg, n, be);
    uint8_t *countp = q++;

    /* Subrectangles covering every non-background pixel; one may repaint
     * pixels an earlier one of the same colour covered. For each uncovered
     * pixel, the larger of the row-first and column-first rectangles. */
    uint16_t done[HX_TILE];
    memset(done, 0, sizeof done);
    size_t each = mono ? 2 : 2 + n;
    unsigned nsub = 0;
    for (unsigned j = 0; j < th; j++) {
        for (unsigned i = 0; i < tw; i++) {
            if ((done[j] >> i) & 1)
                continue;
            const uint32_t *at = px + j * HX_TILE + i;
            uint32_t v = *at;
            if (v == bg)
                continue;
            unsigned w1 = 1, h1 = 1, w2 = 1, h2 = 1;
            while (i + w1 < tw && at[w1] == v)
                w1++;
            while (j + h1 < th && hx_row_is(at + h1 * HX_TILE, w1, v))
                h1++;
            while (j + h2 < th && at[h2 * HX_TILE] == v)
                h2++;
            while (i + w2 < tw && hx_col_is(at + w2, h2, v))
                w2++;
            unsigned rw = w1, rh = h1;
            if (w2 * h2 > w1 * h1) {
                rw = w2;
                rh = h2;
            }
            uint16_t mask = (uint16_t)(((1u << rw) - 1) << i);
            for (unsigned k = 0; k < rh; k++)
                done[j + k] |= mask;
            p += each;
            if (p > limit)
                return raw > cap ? 0 : hx_raw(px, tw, th, n, be, st, o);
            if (!mono)
                q = put(q, v, n, be);
            *q++ = (uint8_t)(i << 4 | j);
            *q++ = (uint8_t)((rw - 1) << 4 | (rh - 1));
            nsub++;
        }
    }
    o[0] = flags;
    *countp = (uint8_t)nsub;            /* < 256: the background has a pixel */
    st->bg_ok = true;
    st->bg = bg;
    st->fg_ok = mono;
    st->fg = fg;
    return p;
}

size_t rfb_enc_hextile(const struct rfb_pixfmt *pf, const uint32_t *fb, unsigned stride_px,
                       unsigned x, unsigned y, unsigned w, unsigned h, uint8_t *out, size_t cap)
{
    if (w == 0 || h == 0 || !bpp_ok(pf->bpp))
        return 0;
    struct conv c;
    conv_init(&c, pf);
    unsigned n = pf->bpp / 8;
    bool be = pf->big_endian != 0;
    struct hx_state st = { false, false, 0, 0 };
    uint32_t px[HX_TILE * HX_TILE];
    size_t pos = 0;
    for (unsigned ty = 0; ty < h; ty += HX_TILE) {
        unsigned th = h - ty < HX_TILE ? h - ty : HX_TILE;
        for (unsigned tx = 0; tx < w; tx += HX_TILE) {
            unsigned tw = w - tx < HX_TILE ? w - tx : HX_TILE;
            for (unsigned j = 0; j < th; j++) {
                const uint32_t *src = row_at(fb, stride_px, x + tx, y + ty + j);
                uint32_t *dst = px + j * HX_TILE;
                for (unsigned i = 0; i < tw; i++)
                    dst[i] = conv(&c, src[i]);
            }
            size_t len = hx_tile(px, tw, th, n, be, &st, out + pos, cap - pos);
            if (len == 0)
                return 0;
            pos += len;
        }
    }
    return pos;
}

/* -------------------------------------------------------------------- ZRLE */

#define ZR_TILE      64
#define ZR_PAL_MAX   127      /* palette RLE's limit; packed palette's is 16 */

/* CPIXEL size, and the right shift that drops an unused low byte. */
static unsigned cpixel(const struct rfb_pixfmt *pf, unsigned *shift)
{
    *shift = 0;
    if (pf->true_colour && pf->bpp == 32 && pf->depth <= 24) {
        uint32_t used = shl(pf->rmax, pf->rshift) | shl(pf->gmax, pf->gshift) |
                        shl(pf->bmax, pf->bshift);
        if ((used & 0xFF000000u) == 0)
            return 3;
        if ((used & 0xFFu) == 0) {
            *shift = 8;
            return 3;
        }
    }
    return pf->bpp / 8;
}

unsigned rfb_zrle_cpixel_bytes(const struct rfb_pixfmt *pf)
{
    unsigned shift;
    return cpixel(pf, &shift);
}

size_t rfb_enc_zrle_raw_bound(const struct rfb_pixfmt *pf, unsigned w, unsigned h)
{
    /* Every tile is at most raw: one byte plus its CPIXELs. */
    return tiles(w, h, ZR_TILE) + (size_t)w * h * rfb_zrle_cpixel_bytes(pf);
}

/* Palette in order of first use, with a 256-slot hash (index + 1, 0 free). */
struct zr_pal {
    unsigned n;
    uint32_t col[ZR_PAL_MAX];
    uint8_t slot[256];
};

static unsigned zr_hash(uint32_t v) { return (v * 0x9E3779B1u) >> 24; }

/* Index of v, adding it if new; -1 if new and the palette is full. */
static int zr_pal_index(struct zr_pal *p, uint32_t v)
{
    unsigned h = zr_hash(v);
    while (p->slot[h]) {
        unsigned k = p->slot[h] - 1u;
        if (p->col[k] == v)
            return (int)k;
        h = (h + 1) & 255;
    }
    if (p->n == ZR_PAL_MAX)
        return -1;
    p->col[p->n] = v;
    p->slot[h] = (uint8_t)(p->n + 1);
    return (int)p->n++;
}

/* Bytes of a run length (len >= 1): (len - 1) as 255s and a final < 255. */
static size_t zr_rl_bytes(size_t len) { return (len - 1) / 255 + 1; }

static uint8_t *zr_put_rl(uint8_t *o, size_t len)
{
    size_t v = len - 1;
    while (v >= 255) {
        *o++ = 255;
        v -= 255;
    }
    *o++ = (uint8_t)v;
    return o;
}

/* The tile being encoded: its source rows and the CPIXEL layout. */
struct zr_tile {
    const uint32_t *fb;
    unsigned stride_px, x, y, w, h;
    unsigned cp, cshift;
    bool be;
};

static inline uint8_t *zr_put_cpixel(const struct zr_tile *t, uint8_t *o, uint32_t v)
{
    return put(o, v >> t->cshift, t->cp, t->be);
}

/* Runs the statements on each run of equal pixel values (VAR, LEN), in row
 * order, a run going on from one row of the tile into the next. */
#define ZR_FOR_RUNS(t, c, VAR, LEN, ...)                                        \
    do {                                                                        \
        uint32_t VAR = 0;                                                       \
        size_t LEN = 0;                                                         \
        for (unsigned zj = 0; zj < (t)->h; zj++) {                              \
            const uint32_t *zs = row_at((t)->fb, (t)->stride_px, (t)->x, (t)->y + zj); \
            for (unsigned zi = 0; zi < (t)->w; zi++) {                          \
                uint32_t zv = conv(c, zs[zi]);                                  \
                if (LEN && zv == VAR) {                                         \
                    LEN++;                                                      \
                    continue;                                                   \
                }                                                               \
                if (LEN) {                                                      \
                    __VA_ARGS__;                                                \
                }                                                               \
                VAR = zv;                                                       \
                LEN = 1;                                                        \
            }                                                                   \
        }                                                                       \
        __VA_ARGS__;                                                            \
    } while (0)

enum zr_kind { ZR_RAW, ZR_SOLID, ZR_PACKED, ZR_PLAIN_RLE, ZR_PAL_RLE };

/* One tile into o[0..cap); 0 if it does not fit. */
static size_t zr_tile(const struct zr_tile *t, struct conv *cp, uint8_t *o, size_t cap)
{
    /* A local copy: byte stores through o could alias *cp, this cannot. */
    struct conv c = *cp;
    struct zr_pal pal;
    pal.n = 0;
    memset(pal.slot, 0, sizeof pal.slot);
    size_t npx = (size_t)t->w * t->h;
    size_t plain = 1, palrle_runs = 0;
    bool many = false;

    /* Pass 1: palette and the cost of both RLE forms. */
    ZR_FOR_RUNS(t, &c, v, len, {
        plain += t->cp + zr_rl_bytes(len);
        palrle_runs += len == 1 ? 1 : 1 + zr_rl_bytes(len);
        if (!many && zr_pal_index(&pal, v) < 0)
            many = true;
    });

    enum zr_kind kind = ZR_RAW;
    size_t best = 1 + npx * t->cp;
    unsigned bits = 0;
    if (plain < best) {
        kind = ZR_PLAIN_RLE;
        best = plain;
    }
    if (!many) {
        size_t palbytes = 1 + (size_t)pal.n * t->cp;
        if (pal.n == 1) {
            kind = ZR_SOLID;
            best = palbytes;
        } else {
            if (palbytes + palrle_runs < best) {
                kind = ZR_PAL_RLE;
                best = palbytes + palrle_runs;
            }
            if (pal.n <= 16) {
                unsigned b = pal.n <= 2 ? 1 : pal.n <= 4 ? 2 : 4;
                size_t packed = palbytes + (size_t)t->h * ((t->w * b + 7) / 8);
                if (packed <= best) {
                    kind = ZR_PACKED;
                    best = packed;
                    bits = b;
                }
            }
        }
    }
    if (best > cap) {
        *cp = c;
        return 0;
    }

    /* Pass 2: emit. */
    uint8_t *q = o;
    switch (kind) {
    case ZR_RAW:
        *q++ = 0;
        for (unsigned j = 0; j < t->h; j++) {
            const uint32_t *s = row_at(t->fb, t->stride_px, t->x, t->y + j);
            for (unsigned i = 0; i < t->w; i++)
                q = zr_put_cpixel(t, q, conv(&c, s[i]));
        }
        break;
    case ZR_SOLID:
        *q++ = 1;
        q = zr_put_cpixel(t, q, pal.col[0]);
        break;
    case ZR_PLAIN_RLE:
        *q++ = 128;
        ZR_FOR_RUNS(t, &c, v, len, {
            q = zr_put_cpixel(t, q, v);
            q = zr_put_rl(q, len);
        });
        break;
    case ZR_PAL_RLE:
        *q++ = (uint8_t)(128 + pal.n);
        for (unsigned k = 0; k < pal.n; k++)
            q = zr_put_cpixel(t, q, pal.col[k]);
        ZR_FOR_RUNS(t, &c, v, len, {
            uint8_t idx = (uint8_t)zr_pal_index(&pal, v);
            if (len == 1) {
                *q++ = idx;
            } else {
                *q++ = (uint8_t)(idx | 128);
                q = zr_put_rl(q, len);
            }
        });
        break;
    case ZR_PACKED: {
        *q++ = (uint8_t)pal.n;
        for (unsigned k = 0; k < pal.n; k++)
            q = zr_put_cpixel(t, q, pal.col[k]);
        uint32_t lastv = pal.col[0];
        unsigned lasti = 0;
        for (unsigned j = 0; j < t->h; j++) {
            const uint32_t *s = row_at(t->fb, t->stride_px, t->x, t->y + j);
            unsigned acc = 0, nacc = 0;
            for (unsigned i = 0; i < t->w; i++) {
                uint32_t v = conv(&c, s[i]);
                if (v != lastv) {
                    lastv = v;
                    lasti = (unsigned)zr_pal_index(&pal, v);
                }
                acc = acc << bits | lasti;
                nacc += bits;
                if (nacc == 8) {
                    *q++ = (uint8_t)acc;
                    acc = nacc = 0;
                }
            }
            if (nacc)
                *q++ = (uint8_t)(acc << (8 - nacc));
        }
        break;
    }
    }
    *cp = c;
    return (size_t)(q - o);
}

size_t rfb_enc_zrle_raw(const struct rfb_pixfmt *pf, const uint32_t *fb, unsigned stride_px,
                        unsigned x, unsigned y, unsigned w, unsigned h, uint8_t *out, size_t cap)
{
    if (w == 0 || h == 0 || !bpp_ok(pf->bpp))
        return 0;
    struct conv c;
    conv_init(&c, pf);
    struct zr_tile t = { .fb = fb, .stride_px = stride_px, .be = pf->big_endian != 0 };
    t.cp = cpixel(pf, &t.cshift);
    size_t pos = 0;
    for (unsigned ty = 0; ty < h; ty += ZR_TILE) {
        for (unsigned tx = 0; tx < w; tx += ZR_TILE) {
            t.x = x + tx;
            t.y = y + ty;
            t.w = w - tx < ZR_TILE ? w - tx : ZR_TILE;
            t.h = h - ty < ZR_TILE ? h - ty : ZR_TILE;
            size_t len = zr_tile(&t, &c, out + pos, cap - pos);
            if (len == 0)
                return 0;
            pos += len;
        }
    }
    return pos;
}

uint64_t rfb_row_hash(const uint32_t *row, unsigned w)
{
    const uint64_t k = 0x9E3779B97F4A7C15ull;
    uint64_t h0 = 1, h1 = 2, h2 = 3, h3 = 4;
    unsigned x = 0;
    for (; x + 8 <= w; x += 8) {
        uint64_t a, b, c, d;
        memcpy(&a, row + x, 8);
        memcpy(&b, row + x + 2, 8);
        memcpy(&c, row + x + 4, 8);
        memcpy(&d, row + x + 6, 8);
        h0 = (h0 ^ a) * k;
        h1 = (h1 ^ b) * k;
        h2 = (h2 ^ c) * k;
        h3 = (h3 ^ d) * k;
        h0 ^= h0 >> 29;
        h1 ^= h1 >> 29;
        h2 ^= h2 >> 29;
        h3 ^= h3 >> 29;
    }
    for (; x < w; x++)
        h0 = ((h0 ^ row[x]) * k) ^ (h0 >> 31);
    uint64_t h = h0 ^ (h1 * 0xC2B2AE3D27D4EB4Full) ^ (h2 * 0x165667B19E3779F9ull) ^
                 (h3 * 0x27D4EB2F165667C5ull) ^ w;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h | 1;                       /* 0 means "unknown" to the caller */
}
