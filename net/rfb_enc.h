/* RFB (VNC) pixel formats and rectangle encoders (RFC 6143, sections 7.4
 * and 7.7): Raw, Hextile, and ZRLE's tile data before zlib.
 *
 * The source is an XRGB framebuffer: uint32_t pixels 0x??RRGGBB (the top
 * byte is ignored), stride_px pixels from one row to the next. Pixels are
 * converted to the client's pixel format (struct rfb_pixfmt, which must
 * have passed rfb_pixfmt_check or come from rfb_pixfmt_default) by scaling
 * each 8-bit component c to (c * max + 127) / 255.
 *
 * Freestanding: no allocation, no zlib; at most about 1.7 KiB of stack
 * (Hextile; ZRLE about 1.2 KiB). The ZRLE caller deflates
 * rfb_enc_zrle_raw's output with the connection's one zlib stream (a
 * Z_SYNC_FLUSH per rectangle) and sends a u32 length and those bytes. */
#ifndef NET_RFB_ENC_H
#define NET_RFB_ENC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFB encoding numbers of what this file produces. */
#define RFB_ENCODING_RAW      0
#define RFB_ENCODING_HEXTILE  5
#define RFB_ENCODING_ZRLE     16

struct rfb_pixfmt {           /* RFB PIXEL_FORMAT, host-order fields */
    uint8_t bpp, depth, big_endian, true_colour;   /* flags: non-zero = true */
    uint16_t rmax, gmax, bmax;
    uint8_t rshift, gshift, bshift;
};

/* 32 bpp, depth 24, little endian, true colour, 255/255/255, shifts 16/8/0:
 * the wire bytes of pixel 0x00RRGGBB are BB GG RR 00. */
void rfb_pixfmt_default(struct rfb_pixfmt *pf);

/* Checks a client's SetPixelFormat: bpp 8/16/32, true colour required
 * (colour maps: *why = "colour-map pixel formats are not supported"),
 * depth 1..bpp, max values of the form 2^n-1 (n>=1) that fit with their
 * shift inside bpp. Overlapping fields are allowed. Returns true, or false
 * with a short static reason in *why (why may be NULL). */
bool rfb_pixfmt_check(const struct rfb_pixfmt *pf, const char **why);

/* 16 bytes of wire PIXEL_FORMAT (incl. 3 padding bytes) <-> struct.
 * encode writes the padding as zeros; decode copies the fields as they are
 * (flags not normalised) and ignores the padding. */
void rfb_pixfmt_encode(const struct rfb_pixfmt *pf, uint8_t out[16]);
void rfb_pixfmt_decode(struct rfb_pixfmt *pf, const uint8_t in[16]);

/* The client pixel value of xrgb in format pf (scaled and shifted). */
uint32_t rfb_pixel_value(const struct rfb_pixfmt *pf, uint32_t xrgb);

/* One pixel converted (scale each 8-bit component to max: (c*max+127)/255)
 * and stored in pf's byte order; returns bpp/8 (0, nothing stored, for a
 * bpp other than 8, 16, 32). */
unsigned rfb_put_pixel(const struct rfb_pixfmt *pf, uint32_t xrgb, uint8_t *out);

/* Bytes of one ZRLE CPIXEL in format pf: 3 when true colour, 32 bpp,
 * depth <= 24 and every colour bit (max << shift) lies in the least (or
 * else the most) significant 3 bytes of the pixel value; else bpp/8. */
unsigned rfb_zrle_cpixel_bytes(const struct rfb_pixfmt *pf);

/* Encoders for the rectangle (x,y,w,h) of fb (stride_px pixels per row).
 * They write only the encoding's payload (NOT the 12-byte rectangle
 * header) into out[0..cap) and return the number of bytes, or 0 if it
 * would not fit (nothing is written at or past out[cap]; out[0..cap) may
 * hold partial output then). w or h 0, or a bpp other than 8/16/32, also
 * gives 0. *_bound gives a cap that always suffices. */
size_t rfb_enc_raw(const struct rfb_pixfmt *pf, const uint32_t *fb, unsigned stride_px,
                   unsigned x, unsigned y, unsigned w, unsigned h, uint8_t *out, size_t cap);
size_t rfb_enc_raw_bound(const struct rfb_pixfmt *pf, unsigned w, unsigned h);

/* Hextile (encoding 5): 16x16 tiles; solid tiles are one byte (or one
 * pixel more when the background changes), two-colour tiles are
 * foreground subrectangles on the background, others coloured
 * subrectangles, and a tile is sent Raw when those would be larger. The
 * background and foreground are carried from tile to tile within the
 * rectangle, but not across a Raw tile, nor the foreground across a
 * coloured one. */
size_t rfb_enc_hextile(const struct rfb_pixfmt *pf, const uint32_t *fb, unsigned stride_px,
                       unsigned x, unsigned y, unsigned w, unsigned h, uint8_t *out, size_t cap);
size_t rfb_enc_hextile_bound(const struct rfb_pixfmt *pf, unsigned w, unsigned h);

/* ZRLE (encoding 16) tile data BEFORE zlib: 64x64 tiles, each the smallest
 * of raw, solid, packed palette (2..16 colours), plain RLE and palette RLE
 * (2..127 colours), pixels as CPIXELs (rfb_zrle_cpixel_bytes). */
size_t rfb_enc_zrle_raw(const struct rfb_pixfmt *pf, const uint32_t *fb, unsigned stride_px,
                        unsigned x, unsigned y, unsigned w, unsigned h, uint8_t *out, size_t cap);
size_t rfb_enc_zrle_raw_bound(const struct rfb_pixfmt *pf, unsigned w, unsigned h);

/* A 64-bit hash of w pixels (all 32 bits of each), never 0: the VNC
 * service keeps one per row of what each viewer shows to find changed and
 * scrolled rows. Four independent multiply lanes over pixel pairs, so a
 * 720-pixel row costs well under a microsecond. */
uint64_t rfb_row_hash(const uint32_t *row, unsigned w);

#endif
