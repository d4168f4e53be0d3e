/* RFB 3.8 + VeNCrypt server protocol state machine (net/rfb.c): the exact
 * bytes the server queues (rfb_output) and the events rfb_feed reports,
 * through the handshake, each client message, errors, and streaming (the
 * same client bytes in one buffer or one byte at a time). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb.h"

/* ------------------------------------------------------------ byte builders */

struct buf {
    uint8_t b[16384];
    size_t n;
};

static void b8(struct buf *b, uint8_t v)
{
    assert_true(b->n < sizeof b->b);
    b->b[b->n++] = v;
}
static void b16(struct buf *b, uint16_t v) { b8(b, (uint8_t)(v >> 8)); b8(b, (uint8_t)v); }
static void b32(struct buf *b, uint32_t v) { b16(b, (uint16_t)(v >> 16)); b16(b, (uint16_t)v); }
static void bbytes(struct buf *b, const void *p, size_t n)
{
    assert_true(n <= sizeof b->b - b->n);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static void bstr(struct buf *b, const char *s) { bbytes(b, s, strlen(s)); }

/* The wire PIXEL_FORMAT, written here field by field (RFC 6143 7.4). */
static void bpixfmt(struct buf *b, uint8_t bpp, uint8_t depth, uint8_t be, uint8_t tc,
                    uint16_t rmax, uint16_t gmax, uint16_t bmax,
                    uint8_t rs, uint8_t gs, uint8_t bs)
{
    b8(b, bpp); b8(b, depth); b8(b, be); b8(b, tc);
    b16(b, rmax); b16(b, gmax); b16(b, bmax);
    b8(b, rs); b8(b, gs); b8(b, bs);
    b8(b, 0); b8(b, 0); b8(b, 0);
}

/* Client messages. */
static void m_set_pixel_format(struct buf *b, uint8_t bpp, uint8_t depth, uint8_t be, uint8_t tc,
                               uint16_t rmax, uint16_t gmax, uint16_t bmax,
                               uint8_t rs, uint8_t gs, uint8_t bs)
{
    b8(b, 0); b8(b, 0); b8(b, 0); b8(b, 0);
    bpixfmt(b, bpp, depth, be, tc, rmax, gmax, bmax, rs, gs, bs);
}
static void m_set_encodings(struct buf *b, const int32_t *e, uint16_t n)
{
    b8(b, 2); b8(b, 0); b16(b, n);
    for (unsigned i = 0; i < n; i++)
        b32(b, (uint32_t)e[i]);
}
static void m_update_request(struct buf *b, bool inc, uint16_t x, uint16_t y, uint16_t w, uint16_t h)
{
    b8(b, 3); b8(b, inc); b16(b, x); b16(b, y); b16(b, w); b16(b, h);
}
static void m_key(struct buf *b, bool down, uint32_t keysym)
{
    b8(b, 4); b8(b, down); b8(b, 0); b8(b, 0); b32(b, keysym);
}
static void m_pointer(struct buf *b, uint8_t buttons, uint16_t x, uint16_t y)
{
    b8(b, 5); b8(b, buttons); b16(b, x); b16(b, y);
}
static void m_cut_text(struct buf *b, const char *text)
{
    b8(b, 6); b8(b, 0); b8(b, 0); b8(b, 0); b32(b, (uint32_t)strlen(text));
    bstr(b, text);
}
static void m_qemu_key(struct buf *b, uint16_t down, uint32_t keysym, uint32_t keycode)
{
    b8(b, 255); b8(b, 0); b16(b, down); b32(b, keysym); b32(b, keycode);
}

/* ------------------------------------------------------------ helpers */

/* Feeds exactly the bytes given, expecting them all taken by one call and
 * the event type given. */
static struct rfb_event feed1(struct rfb *r, const void *p, size_t n, enum rfb_event_type type)
{
    struct rfb_event ev;
    size_t used = rfb_feed(r, p, n, &ev);
    assert_int_equal(used, n);
    assert_int_equal(ev.type, type);
    return ev;
}

/* Feeds a whole buffer with repeated calls until it is taken; only the last
 * call may report an event, which is returned. */
static struct rfb_event feed_msg(struct rfb *r, const struct buf *b, enum rfb_event_type type)
{
    struct rfb_event ev;
    size_t off = 0;
    for (;;) {
        size_t used = rfb_feed(r, b->b + off, b->n - off, &ev);
        assert_true(used <= b->n - off);
        off += used;
        if (off == b->n)
            break;
        assert_int_equal(ev.type, RFB_EV_NONE);
        assert_true(used > 0);
    }
    assert_int_equal(ev.type, type);
    return ev;
}

/* The queued output must be exactly these bytes; acknowledges them. */
static void expect_out(struct rfb *r, const void *want, size_t n)
{
    size_t len;
    const uint8_t *out = rfb_output(r, &len);
    if (len != n) {
        fprintf(stderr, "output %zu bytes, expected %zu:", len, n);
        for (size_t i = 0; i < len; i++)
            fprintf(stderr, " %02x", out[i]);
        fprintf(stderr, "\n");
    }
    assert_int_equal(len, n);
    if (n)
        assert_memory_equal(out, want, n);
    rfb_output_ack(r, len);
}
static void expect_buf(struct rfb *r, const struct buf *b) { expect_out(r, b->b, b->n); }
static void expect_none(struct rfb *r) { expect_out(r, "", 0); }

/* A u32 SecurityResult (or 3.3 security type) and a reason string. */
static void expect_u32_reason(struct rfb *r, uint32_t v, const char *reason)
{
    struct buf b = { .n = 0 };
    b32(&b, v);
    if (reason) {
        b32(&b, (uint32_t)strlen(reason));
        bstr(&b, reason);
    }
    expect_buf(r, &b);
}

static void expect_u32_out(struct rfb *r, uint32_t v)
{
    struct buf b = { .n = 0 };
    b32(&b, v);
    expect_buf(r, &b);
}

/* rfb_feed takes nothing now, whatever is offered. */
static void expect_takes_nothing(struct rfb *r)
{
    static const uint8_t junk[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    struct rfb_event ev;
    enum rfb_state st = r->state;
    assert_int_equal(rfb_feed(r, junk, sizeof junk, &ev), 0);
    assert_int_equal(ev.type, RFB_EV_NONE);
    assert_int_equal(r->state, st);
    expect_none(r);
}

static const uint8_t v38[12] = "RFB 003.008\n";
static const uint8_t v37[12] = "RFB 003.007\n";

/* Handshake up to (not including) the subtype choice: version, VeNCrypt,
 * VeNCrypt 0.2, with the server's bytes checked. */
static void to_subtype(struct rfb *r, bool offer_plain, const uint8_t version[12])
{
    rfb_init(r, offer_plain);
    expect_out(r, "RFB 003.008\n", 12);
    feed1(r, version, 12, RFB_EV_NONE);
    expect_out(r, "\x01\x13", 2);
    assert_int_equal(r->state, RFB_S_SECTYPE);
    feed1(r, "\x13", 1, RFB_EV_NONE);
    expect_out(r, "\x00\x02", 2);
    assert_int_equal(r->state, RFB_S_VENCRYPT_VERSION);
    feed1(r, "\x00\x02", 2, RFB_EV_NONE);
    if (offer_plain)    /* X509Plain listed first (rfb.h: "[262,] 260") */
        expect_out(r, "\x00\x02\x00\x00\x01\x06\x00\x00\x01\x04", 10);
    else
        expect_out(r, "\x00\x01\x00\x00\x01\x04", 6);
    assert_int_equal(r->state, RFB_S_SUBTYPE);
}

/* To RFB_S_AUTH with the subtype chosen and TLS up. */
static void to_auth_none(struct rfb *r, const uint8_t version[12])
{
    to_subtype(r, false, version);
    struct rfb_event ev = feed1(r, "\x00\x00\x01\x04", 4, RFB_EV_START_TLS);
    assert_int_equal(ev.subtype, RFB_VENCRYPT_X509NONE);
    expect_out(r, "\x01", 1);
    rfb_tls_up(r);
    assert_int_equal(r->state, RFB_S_AUTH);
}

static void to_plain_creds(struct rfb *r, const uint8_t version[12])
{
    to_subtype(r, true, version);
    struct rfb_event ev = feed1(r, "\x00\x00\x01\x06", 4, RFB_EV_START_TLS);
    assert_int_equal(ev.subtype, RFB_VENCRYPT_X509PLAIN);
    expect_out(r, "\x01", 1);
    assert_int_equal(r->state, RFB_S_TLS);
    expect_takes_nothing(r);
    rfb_tls_up(r);
    assert_int_equal(r->state, RFB_S_PLAIN_CREDS);
}

#define FB_W 720
#define FB_H 400

/* A session in RFB_S_NORMAL, fb 720 x 400, output drained. */
static void to_normal(struct rfb *r)
{
    to_auth_none(r, v38);
    rfb_auth_done(r, true, NULL);
    expect_u32_out(r, 0);
    feed1(r, "\x01", 1, RFB_EV_CLIENT_INIT);
    rfb_server_init(r, FB_W, FB_H, "vm");
    size_t len;
    rfb_output(r, &len);
    rfb_output_ack(r, len);
    assert_int_equal(r->state, RFB_S_NORMAL);
}

/* ServerInit for w x h and name, default pixel format. */
static void server_init_bytes(struct buf *b, uint16_t w, uint16_t h, const char *name)
{
    b16(b, w); b16(b, h);
    /* 32 bpp, depth 24, little endian, true colour, 255/255/255, 16/8/0. */
    bpixfmt(b, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0);
    b32(b, (uint32_t)strlen(name));
    bstr(b, name);
}

static void expect_default_pf(const struct rfb *r)
{
    assert_int_equal(r->pf.bpp, 32);
    assert_int_equal(r->pf.depth, 24);
    assert_int_equal(r->pf.big_endian, 0);
    assert_int_equal(r->pf.true_colour, 1);
    assert_int_equal(r->pf.rmax, 255);
    assert_int_equal(r->pf.gmax, 255);
    assert_int_equal(r->pf.bmax, 255);
    assert_int_equal(r->pf.rshift, 16);
    assert_int_equal(r->pf.gshift, 8);
    assert_int_equal(r->pf.bshift, 0);
}

/* ------------------------------------------------------------ handshake */

static void test_init(void **state)
{
    struct rfb r;
    rfb_init(&r, false);
    assert_int_equal(r.state, RFB_S_VERSION);
    assert_int_equal(r.enc_pref, RFB_ENC_RAW);
    assert_false(r.offer_plain);
    expect_default_pf(&r);
    expect_out(&r, "RFB 003.008\n", 12);
    /* Feeding nothing takes nothing. */
    struct rfb_event ev;
    assert_int_equal(rfb_feed(&r, v38, 0, &ev), 0);
    assert_int_equal(ev.type, RFB_EV_NONE);
    rfb_init(&r, true);
    assert_true(r.offer_plain);
}

static void test_happy_x509none(void **state)
{
    struct rfb r;
    to_subtype(&r, false, v38);
    assert_int_equal(r.minor, 8);
    struct rfb_event ev = feed1(&r, "\x00\x00\x01\x04", 4, RFB_EV_START_TLS);
    assert_int_equal(ev.subtype, 260);
    assert_int_equal(r.subtype, 260);
    expect_out(&r, "\x01", 1);
    assert_int_equal(r.state, RFB_S_TLS);
    expect_takes_nothing(&r);

    rfb_tls_up(&r);
    assert_int_equal(r.state, RFB_S_AUTH);
    expect_none(&r);
    expect_takes_nothing(&r);

    rfb_auth_done(&r, true, NULL);
    expect_u32_out(&r, 0);
    assert_int_equal(r.state, RFB_S_CLIENT_INIT);

    ev = feed1(&r, "\x01", 1, RFB_EV_CLIENT_INIT);
    assert_true(ev.shared);
    assert_int_equal(r.state, RFB_S_INIT_REPLY);
    expect_none(&r);
    expect_takes_nothing(&r);

    rfb_server_init(&r, 1024, 768, "tenant-vm");
    struct buf b = { .n = 0 };
    server_init_bytes(&b, 1024, 768, "tenant-vm");
    assert_int_equal(b.n, 24 + 9);
    expect_buf(&r, &b);
    assert_int_equal(r.state, RFB_S_NORMAL);
    assert_int_equal(r.fb_w, 1024);
    assert_int_equal(r.fb_h, 768);
    expect_default_pf(&r);
}

static void test_client_init_not_shared(void **state)
{
    struct rfb r;
    to_auth_none(&r, v38);
    rfb_auth_done(&r, true, "ignored");
    expect_u32_out(&r, 0);
    struct rfb_event ev = feed1(&r, "\x00", 1, RFB_EV_CLIENT_INIT);
    assert_false(ev.shared);
}

/* The desktop name is cut at RFB_NAME_MAX bytes; an empty one is fine. */
static void test_server_init_name(void **state)
{
    struct rfb r;
    char longname[100];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    to_auth_none(&r, v38);
    rfb_auth_done(&r, true, NULL);
    expect_u32_out(&r, 0);
    feed1(&r, "\x01", 1, RFB_EV_CLIENT_INIT);
    rfb_server_init(&r, 640, 480, longname);
    struct buf b = { .n = 0 };
    char cut[RFB_NAME_MAX + 1];
    memcpy(cut, longname, RFB_NAME_MAX);
    cut[RFB_NAME_MAX] = '\0';
    server_init_bytes(&b, 640, 480, cut);
    expect_buf(&r, &b);

    to_auth_none(&r, v38);
    rfb_auth_done(&r, true, NULL);
    expect_u32_out(&r, 0);
    feed1(&r, "\x01", 1, RFB_EV_CLIENT_INIT);
    rfb_server_init(&r, 1, 1, "");
    b.n = 0;
    server_init_bytes(&b, 1, 1, "");
    expect_buf(&r, &b);
}

/* The caller entry points do nothing in the wrong state. */
static void test_calls_in_wrong_state(void **state)
{
    struct rfb r;
    rfb_init(&r, true);
    expect_out(&r, "RFB 003.008\n", 12);
    rfb_tls_up(&r);
    rfb_auth_done(&r, true, NULL);
    rfb_server_init(&r, 10, 10, "x");
    assert_int_equal(r.state, RFB_S_VERSION);
    expect_none(&r);

    to_normal(&r);
    rfb_tls_up(&r);
    rfb_auth_done(&r, false, "no");
    rfb_server_init(&r, 10, 10, "x");
    assert_int_equal(r.state, RFB_S_NORMAL);
    assert_int_equal(r.fb_w, FB_W);
    expect_none(&r);

    /* X509None while waiting for TLS: rfb_auth_done and rfb_server_init
     * must not skip it. */
    to_subtype(&r, false, v38);
    feed1(&r, "\x00\x00\x01\x04", 4, RFB_EV_START_TLS);
    expect_out(&r, "\x01", 1);
    rfb_auth_done(&r, true, NULL);
    rfb_server_init(&r, 10, 10, "x");
    assert_int_equal(r.state, RFB_S_TLS);
    expect_none(&r);
}

static void test_subtypes_offer_plain(void **state)
{
    struct rfb r;
    to_subtype(&r, true, v38);
    /* X509None is still accepted when X509Plain is offered. */
    struct rfb_event ev = feed1(&r, "\x00\x00\x01\x04", 4, RFB_EV_START_TLS);
    assert_int_equal(ev.subtype, RFB_VENCRYPT_X509NONE);
    expect_out(&r, "\x01", 1);
    rfb_tls_up(&r);
    assert_int_equal(r.state, RFB_S_AUTH);
}

/* ------------------------------------------------------------ X509Plain */

static void creds(struct buf *b, const char *user, size_t ulen, const char *pass, size_t plen)
{
    b32(b, (uint32_t)ulen);
    b32(b, (uint32_t)plen);
    bbytes(b, user, ulen);
    bbytes(b, pass, plen);
}

static void test_plain_ok(void **state)
{
    struct rfb r;
    to_plain_creds(&r, v38);
    struct buf b = { .n = 0 };
    creds(&b, "alice", 5, "s3cret!", 7);
    struct rfb_event ev = feed_msg(&r, &b, RFB_EV_PLAIN_CREDS);
    assert_string_equal(ev.user, "alice");
    assert_string_equal(ev.password, "s3cret!");
    assert_int_equal(r.state, RFB_S_AUTH);
    expect_none(&r);
    expect_takes_nothing(&r);

    rfb_auth_done(&r, true, NULL);
    expect_u32_out(&r, 0);
    /* The password is wiped once the verdict is in. */
    for (size_t i = 0; i < sizeof r.password; i++)
        assert_int_equal(r.password[i], 0);
    ev = feed1(&r, "\x01", 1, RFB_EV_CLIENT_INIT);
    rfb_server_init(&r, 800, 600, "d");
    b.n = 0;
    server_init_bytes(&b, 800, 600, "d");
    expect_buf(&r, &b);
    assert_int_equal(r.state, RFB_S_NORMAL);
}

/* Credentials split at every possible point give the same event. */
static void test_plain_split(void **state)
{
    struct buf b = { .n = 0 };
    creds(&b, "bob", 3, "pw", 2);
    for (size_t cut = 1; cut < b.n; cut++) {
        struct rfb r;
        struct rfb_event ev;
        to_plain_creds(&r, v38);
        /* The first `cut` bytes: the lengths (8) are one call, the
         * strings another. */
        size_t off = 0;
        while (off < cut) {
            size_t used = rfb_feed(&r, b.b + off, cut - off, &ev);
            assert_int_equal(used, off < 8 ? (cut < 8 ? cut : 8) - off : cut - off);
            assert_int_equal(ev.type, RFB_EV_NONE);
            off += used;
        }
        while (off < b.n) {
            size_t used = rfb_feed(&r, b.b + off, b.n - off, &ev);
            assert_true(used > 0);
            off += used;
            if (off < b.n)
                assert_int_equal(ev.type, RFB_EV_NONE);
        }
        assert_int_equal(ev.type, RFB_EV_PLAIN_CREDS);
        assert_string_equal(ev.user, "bob");
        assert_string_equal(ev.password, "pw");
    }
}

static void test_plain_auth_failure(void **state)
{
    struct rfb r;
    to_plain_creds(&r, v38);
    struct buf b = { .n = 0 };
    creds(&b, "mallory", 7, "guess", 5);
    feed_msg(&r, &b, RFB_EV_PLAIN_CREDS);
    rfb_auth_done(&r, false, "wrong password");
    expect_u32_reason(&r, 1, "wrong password");
    assert_int_equal(r.state, RFB_S_CLOSED);
    for (size_t i = 0; i < sizeof r.password; i++)
        assert_int_equal(r.password[i], 0);
    expect_takes_nothing(&r);

    /* No reason given: a default one. */
    to_plain_creds(&r, v38);
    feed_msg(&r, &b, RFB_EV_PLAIN_CREDS);
    rfb_auth_done(&r, false, NULL);
    expect_u32_reason(&r, 1, "authentication failed");
    assert_int_equal(r.state, RFB_S_CLOSED);
}

/* X509None failure (bad client certificate) the same way. */
static void test_none_auth_failure(void **state)
{
    struct rfb r;
    to_auth_none(&r, v38);
    rfb_auth_done(&r, false, "certificate not allowed");
    expect_u32_reason(&r, 1, "certificate not allowed");
    assert_int_equal(r.state, RFB_S_CLOSED);
    expect_takes_nothing(&r);
}

static void test_plain_too_long(void **state)
{
    static const char *why = "X509Plain user name or password longer than 255 bytes";
    const uint32_t lens[][2] = { { 256, 1 }, { 1, 256 }, { 0xFFFFFFFF, 0 }, { 0, 0x80000000 } };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct rfb r;
        to_plain_creds(&r, v38);
        struct buf b = { .n = 0 };
        b32(&b, lens[i][0]);
        b32(&b, lens[i][1]);
        struct rfb_event ev = feed1(&r, b.b, b.n, RFB_EV_ERROR);
        assert_string_equal(ev.why, why);
        expect_u32_reason(&r, 1, why);
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_takes_nothing(&r);
    }
}

/* 255 bytes each is the longest accepted. */
static void test_plain_longest(void **state)
{
    struct rfb r;
    char u[255], p[255];
    memset(u, 'u', sizeof u);
    memset(p, 'p', sizeof p);
    to_plain_creds(&r, v38);
    struct buf b = { .n = 0 };
    creds(&b, u, 255, p, 255);
    struct rfb_event ev = feed_msg(&r, &b, RFB_EV_PLAIN_CREDS);
    assert_int_equal(strlen(ev.user), 255);
    assert_int_equal(strlen(ev.password), 255);
    assert_memory_equal(ev.user, u, 255);
    assert_memory_equal(ev.password, p, 255);
}

static void test_plain_nul(void **state)
{
    static const char *why = "NUL byte in X509Plain credentials";
    struct {
        const char *u; size_t ul; const char *p; size_t pl;
    } c[] = {
        { "al\0ce", 5, "pw", 2 },
        { "alice", 5, "p\0", 2 },
        { "\0", 1, "", 0 },
        { "", 0, "\0", 1 },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct rfb r;
        to_plain_creds(&r, v38);
        struct buf b = { .n = 0 };
        creds(&b, c[i].u, c[i].ul, c[i].p, c[i].pl);
        struct rfb_event ev = feed_msg(&r, &b, RFB_EV_ERROR);
        assert_string_equal(ev.why, why);
        expect_u32_reason(&r, 1, why);
        assert_int_equal(r.state, RFB_S_CLOSED);
        for (size_t k = 0; k < sizeof r.password; k++)
            assert_int_equal(r.password[k], 0);
        expect_takes_nothing(&r);
    }
    /* 3.7: the failure has no reason string. */
    struct rfb r;
    to_plain_creds(&r, v37);
    struct buf b = { .n = 0 };
    creds(&b, "a\0", 2, "b", 1);
    feed_msg(&r, &b, RFB_EV_ERROR);
    expect_u32_out(&r, 1);
}

static void test_plain_empty(void **state)
{
    struct rfb r;
    to_plain_creds(&r, v38);
    struct rfb_event ev = feed1(&r, "\0\0\0\0\0\0\0\0", 8, RFB_EV_PLAIN_CREDS);
    assert_non_null(ev.user);
    assert_non_null(ev.password);
    assert_string_equal(ev.user, "");
    assert_string_equal(ev.password, "");
    assert_int_equal(r.state, RFB_S_AUTH);

    /* Only one of the two empty. */
    to_plain_creds(&r, v38);
    struct buf b = { .n = 0 };
    creds(&b, "", 0, "x", 1);
    ev = feed_msg(&r, &b, RFB_EV_PLAIN_CREDS);
    assert_string_equal(ev.user, "");
    assert_string_equal(ev.password, "x");
    to_plain_creds(&r, v38);
    b.n = 0;
    creds(&b, "y", 1, "", 0);
    ev = feed_msg(&r, &b, RFB_EV_PLAIN_CREDS);
    assert_string_equal(ev.user, "y");
    assert_string_equal(ev.password, "");
}

/* A shorter second pair of credentials leaves nothing of a longer first
 * session's in the strings (a fresh rfb_init each time, as a connection). */
static void test_plain_then_shorter(void **state)
{
    struct rfb r;
    to_plain_creds(&r, v38);
    struct buf b = { .n = 0 };
    creds(&b, "longusername", 12, "longpassword", 12);
    feed_msg(&r, &b, RFB_EV_PLAIN_CREDS);
    to_plain_creds(&r, v38);
    b.n = 0;
    creds(&b, "u", 1, "p", 1);
    struct rfb_event ev = feed_msg(&r, &b, RFB_EV_PLAIN_CREDS);
    assert_string_equal(ev.user, "u");
    assert_string_equal(ev.password, "p");
}

/* ------------------------------------------------------------ versions */

static void test_version_37(void **state)
{
    struct rfb r;
    to_subtype(&r, false, v37);
    assert_int_equal(r.minor, 7);
    feed1(&r, "\x00\x00\x01\x04", 4, RFB_EV_START_TLS);
    expect_out(&r, "\x01", 1);
    rfb_tls_up(&r);
    /* 3.7 SecurityResult failure: u32 1, no reason. */
    rfb_auth_done(&r, false, "nope");
    expect_u32_out(&r, 1);
    assert_int_equal(r.state, RFB_S_CLOSED);

    to_auth_none(&r, v37);
    rfb_auth_done(&r, true, NULL);
    expect_u32_out(&r, 0);
    feed1(&r, "\x01", 1, RFB_EV_CLIENT_INIT);
}

static void test_version_33(void **state)
{
    static const char *why = "RFB 3.7 or later is required (VeNCrypt security)";
    const char *old[] = { "RFB 003.003\n", "RFB 003.006\n", "RFB 003.000\n",
                          "RFB 002.008\n", "RFB 000.000\n" };
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
        struct rfb r;
        rfb_init(&r, true);
        expect_out(&r, "RFB 003.008\n", 12);
        struct rfb_event ev = feed1(&r, old[i], 12, RFB_EV_ERROR);
        assert_string_equal(ev.why, why);
        expect_u32_reason(&r, 0, why);
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_takes_nothing(&r);
    }
}

/* A major version other than 3 is refused as a too old one is. */
static void test_version_major(void **state)
{
    static const char *why = "RFB 3.7 or later is required (VeNCrypt security)";
    const char *v[] = { "RFB 004.000\n", "RFB 004.008\n", "RFB 999.999\n" };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct rfb r;
        rfb_init(&r, false);
        expect_out(&r, "RFB 003.008\n", 12);
        feed1(&r, v[i], 12, RFB_EV_ERROR);
        expect_u32_reason(&r, 0, why);
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_takes_nothing(&r);
    }
}

static void test_version_garbage(void **state)
{
    const char *bad[] = {
        "GET / HTTP/1", "RFB 003.008\r", "rfb 003.008\n", "RFB 003,008\n", "RFB 0x3.008\n",
        "RFB 003.00a\n", "RFB  03.008\n", "RFB 003.008 ", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00",
        "RFB-003.008\n", "RFB 003.-08\n", "RFB 003.0 8\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rfb r;
        rfb_init(&r, false);
        expect_out(&r, "RFB 003.008\n", 12);
        struct rfb_event ev = feed1(&r, bad[i], 12, RFB_EV_ERROR);
        assert_non_null(ev.why);
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_none(&r);
        expect_takes_nothing(&r);
    }
}

static void test_version_3889(void **state)
{
    struct rfb r;
    rfb_init(&r, false);
    expect_out(&r, "RFB 003.008\n", 12);
    feed1(&r, "RFB 003.889\n", 12, RFB_EV_NONE);
    expect_out(&r, "\x01\x13", 2);
    assert_int_equal(r.minor, 8);
    assert_int_equal(r.state, RFB_S_SECTYPE);
    /* A reason on a later failure, as for 3.8. */
    feed1(&r, "\x02", 1, RFB_EV_ERROR);
    expect_u32_reason(&r, 1, "security type not offered (only VeNCrypt X509)");
}

/* The ProtocolVersion split byte by byte. */
static void test_version_bytewise(void **state)
{
    struct rfb r;
    struct rfb_event ev;
    rfb_init(&r, false);
    expect_out(&r, "RFB 003.008\n", 12);
    for (int i = 0; i < 11; i++) {
        assert_int_equal(rfb_feed(&r, v38 + i, 1, &ev), 1);
        assert_int_equal(ev.type, RFB_EV_NONE);
        expect_none(&r);
    }
    feed1(&r, v38 + 11, 1, RFB_EV_NONE);
    expect_out(&r, "\x01\x13", 2);
    assert_int_equal(r.state, RFB_S_SECTYPE);
}

/* ------------------------------------------------------------ security */

static void test_wrong_sectype(void **state)
{
    static const char *why = "security type not offered (only VeNCrypt X509)";
    const uint8_t types[] = { 0, 1, 2, 16, 18, 20, 255 };
    for (size_t i = 0; i < sizeof types; i++) {
        struct rfb r;
        rfb_init(&r, true);
        expect_out(&r, "RFB 003.008\n", 12);
        feed1(&r, v38, 12, RFB_EV_NONE);
        expect_out(&r, "\x01\x13", 2);
        struct rfb_event ev = feed1(&r, &types[i], 1, RFB_EV_ERROR);
        assert_string_equal(ev.why, why);
        expect_u32_reason(&r, 1, why);
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_takes_nothing(&r);
    }
    /* 3.7: no reason. */
    struct rfb r;
    rfb_init(&r, true);
    expect_out(&r, "RFB 003.008\n", 12);
    feed1(&r, v37, 12, RFB_EV_NONE);
    expect_out(&r, "\x01\x13", 2);
    feed1(&r, "\x01", 1, RFB_EV_ERROR);
    expect_u32_out(&r, 1);
}

static void test_wrong_vencrypt_version(void **state)
{
    const uint8_t v[][2] = { { 0, 1 }, { 0, 3 }, { 1, 2 }, { 2, 0 }, { 0, 0 }, { 255, 255 } };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct rfb r;
        rfb_init(&r, true);
        expect_out(&r, "RFB 003.008\n", 12);
        feed1(&r, v38, 12, RFB_EV_NONE);
        feed1(&r, "\x13", 1, RFB_EV_NONE);
        expect_out(&r, "\x01\x13\x00\x02", 4);
        struct rfb_event ev = feed1(&r, v[i], 2, RFB_EV_ERROR);
        assert_non_null(ev.why);
        expect_out(&r, "\xff", 1);
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_takes_nothing(&r);
    }
}

static void test_unoffered_subtype(void **state)
{
    struct {
        bool plain;
        uint32_t st;
    } c[] = {
        { false, 262 }, { false, 257 }, { false, 256 }, { false, 0 }, { false, 261 },
        { true, 257 }, { true, 256 }, { true, 258 }, { true, 259 }, { true, 261 },
        { true, 263 }, { true, 2 }, { true, 19 }, { true, 0x01000104 }, { true, 0xFFFFFFFF },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct rfb r;
        to_subtype(&r, c[i].plain, v38);
        struct buf b = { .n = 0 };
        b32(&b, c[i].st);
        struct rfb_event ev = feed1(&r, b.b, 4, RFB_EV_ERROR);
        assert_non_null(ev.why);
        expect_out(&r, "\x00", 1);
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_takes_nothing(&r);
        rfb_tls_up(&r);
        assert_int_equal(r.state, RFB_S_CLOSED);
    }
}

/* ------------------------------------------------------------ normal messages */

static void test_set_pixel_format(void **state)
{
    struct rfb r;
    to_normal(&r);
    struct buf b = { .n = 0 };
    m_set_pixel_format(&b, 16, 16, 1, 1, 31, 63, 31, 11, 5, 0);
    feed_msg(&r, &b, RFB_EV_PIXEL_FORMAT);
    assert_int_equal(r.pf.bpp, 16);
    assert_int_equal(r.pf.depth, 16);
    assert_true(r.pf.big_endian);
    assert_true(r.pf.true_colour);
    assert_int_equal(r.pf.rmax, 31);
    assert_int_equal(r.pf.gmax, 63);
    assert_int_equal(r.pf.bmax, 31);
    assert_int_equal(r.pf.rshift, 11);
    assert_int_equal(r.pf.gshift, 5);
    assert_int_equal(r.pf.bshift, 0);
    assert_int_equal(r.state, RFB_S_NORMAL);

    /* 8 bpp BGR233, then back to 32 bpp. */
    b.n = 0;
    m_set_pixel_format(&b, 8, 8, 0, 1, 7, 7, 3, 0, 3, 6);
    feed_msg(&r, &b, RFB_EV_PIXEL_FORMAT);
    assert_int_equal(r.pf.bpp, 8);
    assert_int_equal(r.pf.bshift, 6);
    b.n = 0;
    m_set_pixel_format(&b, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0);
    feed_msg(&r, &b, RFB_EV_PIXEL_FORMAT);
    expect_default_pf(&r);

    /* Still in step: a key event next. */
    b.n = 0;
    m_key(&b, true, 'a');
    struct rfb_event ev = feed_msg(&r, &b, RFB_EV_KEY);
    assert_int_equal(ev.keysym, 'a');
    expect_none(&r);
}

static void test_set_pixel_format_invalid(void **state)
{
    struct {
        uint8_t bpp, depth, tc;
        uint16_t rmax, gmax, bmax;
        uint8_t rs, gs, bs;
        const char *why;
    } c[] = {
        { 8, 8, 0, 7, 7, 3, 0, 3, 6, "colour-map pixel formats are not supported" },
        { 24, 24, 1, 255, 255, 255, 16, 8, 0, "bits-per-pixel must be 8, 16 or 32" },
        { 32, 0, 1, 255, 255, 255, 16, 8, 0, NULL },
        { 32, 33, 1, 255, 255, 255, 16, 8, 0, NULL },
        { 32, 24, 1, 254, 255, 255, 16, 8, 0, NULL },
        { 32, 24, 1, 0, 255, 255, 16, 8, 0, NULL },
        { 16, 16, 1, 31, 63, 31, 12, 5, 0, NULL },
        { 32, 24, 1, 255, 255, 255, 25, 8, 0, NULL },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct rfb r;
        to_normal(&r);
        struct buf b = { .n = 0 };
        m_set_pixel_format(&b, c[i].bpp, c[i].depth, 0, c[i].tc, c[i].rmax, c[i].gmax,
                           c[i].bmax, c[i].rs, c[i].gs, c[i].bs);
        struct rfb_event ev = feed_msg(&r, &b, RFB_EV_ERROR);
        assert_non_null(ev.why);
        if (c[i].why)
            assert_string_equal(ev.why, c[i].why);
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_default_pf(&r);
        expect_none(&r);
        expect_takes_nothing(&r);
    }
}

static void test_set_encodings(void **state)
{
    struct rfb r;
    to_normal(&r);
    struct {
        int32_t e[8];
        uint16_t n;
        int32_t pref;
        bool copyrect, desktopsize, qemu_key, zrle, hextile;
    } c[] = {
        { { 16, 5, 0 }, 3, 16, false, false, false, true, true },
        { { 5, 16, 0 }, 3, 5, false, false, false, true, true },
        { { 0, 5, 16 }, 3, 0, false, false, false, true, true },
        { { 1, -223, -258, 5 }, 4, 5, true, true, true, false, true },
        { { 7, 6, -239, -224, 16 }, 5, 16, false, false, false, true, false },
        { { 7, 6, -239 }, 3, 0, false, false, false, false, false },
        { { -258 }, 1, 0, false, false, true, false, false },
        { { 1, 1, 1, 0 }, 4, 0, true, false, false, false, false },
        { { 0x10, 0x05 }, 2, 16, false, false, false, true, true },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct buf b = { .n = 0 };
        m_set_encodings(&b, c[i].e, c[i].n);
        feed_msg(&r, &b, RFB_EV_ENCODINGS);
        assert_int_equal(r.enc_pref, c[i].pref);
        assert_int_equal(r.enc_copyrect, c[i].copyrect);
        assert_int_equal(r.enc_desktopsize, c[i].desktopsize);
        assert_int_equal(r.enc_qemu_key, c[i].qemu_key);
        assert_int_equal(r.enc_zrle, c[i].zrle);
        assert_int_equal(r.enc_hextile, c[i].hextile);
        assert_int_equal(r.state, RFB_S_NORMAL);
    }
    /* In step afterwards. */
    struct buf b = { .n = 0 };
    m_pointer(&b, 1, 2, 3);
    feed_msg(&r, &b, RFB_EV_POINTER);
    expect_none(&r);
}

/* Each encoding is one call; only the last one reports the event. */
static void test_set_encodings_steps(void **state)
{
    struct rfb r;
    struct rfb_event ev;
    to_normal(&r);
    struct buf b = { .n = 0 };
    const int32_t e[] = { 5, 1, 16 };
    m_set_encodings(&b, e, 3);
    size_t off = 0;
    size_t sizes[] = { 1, 3, 4, 4, 4 };
    for (size_t i = 0; i < 5; i++) {
        size_t used = rfb_feed(&r, b.b + off, b.n - off, &ev);
        assert_int_equal(used, sizes[i]);
        off += used;
        assert_int_equal(ev.type, i == 4 ? RFB_EV_ENCODINGS : RFB_EV_NONE);
    }
    assert_int_equal(off, b.n);
    assert_int_equal(r.enc_pref, 5);
    assert_true(r.enc_copyrect);
}

static void test_set_encodings_empty(void **state)
{
    struct rfb r;
    to_normal(&r);
    struct buf b = { .n = 0 };
    const int32_t e[] = { 16, 1, -223, -258 };
    m_set_encodings(&b, e, 4);
    feed_msg(&r, &b, RFB_EV_ENCODINGS);
    assert_int_equal(r.enc_pref, 16);
    assert_true(r.enc_copyrect && r.enc_desktopsize && r.enc_qemu_key && r.enc_zrle);
    /* An empty list: Raw, and the flags of the last list cleared. */
    b.n = 0;
    m_set_encodings(&b, NULL, 0);
    assert_int_equal(b.n, 4);
    feed_msg(&r, &b, RFB_EV_ENCODINGS);
    assert_int_equal(r.enc_pref, RFB_ENC_RAW);
    assert_false(r.enc_copyrect || r.enc_desktopsize || r.enc_qemu_key || r.enc_zrle ||
                 r.enc_hextile);
    b.n = 0;
    m_key(&b, false, 0xff0d);
    struct rfb_event ev = feed_msg(&r, &b, RFB_EV_KEY);
    assert_false(ev.down);
    assert_int_equal(ev.keysym, 0xff0d);
}

static void test_set_encodings_1000(void **state)
{
    struct rfb r;
    to_normal(&r);
    static int32_t e[1000];
    for (int i = 0; i < 1000; i++)
        e[i] = 0x574d5600 + i;          /* unknown ones */
    e[500] = -223;
    e[998] = RFB_ENC_HEXTILE;
    e[999] = RFB_ENC_ZRLE;
    struct buf b = { .n = 0 };
    m_set_encodings(&b, e, 1000);
    assert_int_equal(b.n, 4 + 4000);
    feed_msg(&r, &b, RFB_EV_ENCODINGS);
    assert_int_equal(r.enc_pref, RFB_ENC_HEXTILE);
    assert_true(r.enc_desktopsize);
    assert_true(r.enc_zrle);
    assert_false(r.enc_copyrect);
    b.n = 0;
    m_update_request(&b, false, 0, 0, 10, 10);
    struct rfb_event ev = feed_msg(&r, &b, RFB_EV_UPDATE_REQUEST);
    assert_int_equal(ev.w, 10);

    /* The largest count a u16 allows, all unknown: Raw. */
    struct rfb_event ev2;
    const uint8_t hdr[4] = { 2, 0, 0xff, 0xff };
    feed1(&r, hdr, 1, RFB_EV_NONE);
    feed1(&r, hdr + 1, 3, RFB_EV_NONE);
    for (uint32_t i = 0; i < 65535; i++) {
        uint32_t code = 1000 + i;
        uint8_t v[4] = { (uint8_t)(code >> 24), (uint8_t)(code >> 16), (uint8_t)(code >> 8),
                         (uint8_t)code };
        assert_int_equal(rfb_feed(&r, v, 4, &ev2), 4);
        assert_int_equal(ev2.type, i == 65534 ? RFB_EV_ENCODINGS : RFB_EV_NONE);
    }
    assert_int_equal(r.enc_pref, RFB_ENC_RAW);
}

static void test_update_request(void **state)
{
    struct rfb r;
    to_normal(&r);
    struct {
        bool inc;
        uint16_t x, y, w, h;
        uint16_t ex, ey, ew, eh;
        bool clipped;
    } c[] = {
        /* inside */
        { false, 0, 0, FB_W, FB_H, 0, 0, FB_W, FB_H, false },
        { true, 10, 20, 30, 40, 10, 20, 30, 40, false },
        { true, FB_W - 1, FB_H - 1, 1, 1, FB_W - 1, FB_H - 1, 1, 1, false },
        /* partly outside */
        { false, 700, 10, 100, 10, 700, 10, 20, 10, true },
        { false, 10, 390, 10, 100, 10, 390, 10, 10, true },
        { true, 700, 390, 65535, 65535, 700, 390, 20, 10, true },
        { false, 0, 0, 65535, 65535, 0, 0, FB_W, FB_H, true },
        { false, 0, 0, FB_W + 1, FB_H, 0, 0, FB_W, FB_H, true },
        /* fully outside, or empty */
        { false, FB_W, 0, 10, 10, 0, 0, 0, 0, true },
        { false, 0, FB_H, 10, 10, 0, 0, 0, 0, true },
        { true, 65535, 65535, 65535, 65535, 0, 0, 0, 0, true },
        { false, 5, 5, 0, 10, 0, 0, 0, 0, true },
        { false, 5, 5, 10, 0, 0, 0, 0, 0, true },
        { false, 0, 0, 0, 0, 0, 0, 0, 0, true },
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct buf b = { .n = 0 };
        m_update_request(&b, c[i].inc, c[i].x, c[i].y, c[i].w, c[i].h);
        struct rfb_event ev = feed_msg(&r, &b, RFB_EV_UPDATE_REQUEST);
        assert_int_equal(ev.incremental, c[i].inc);
        assert_int_equal(ev.x, c[i].ex);
        assert_int_equal(ev.y, c[i].ey);
        assert_int_equal(ev.w, c[i].ew);
        assert_int_equal(ev.h, c[i].eh);
        assert_int_equal(ev.clipped, c[i].clipped);
        assert_int_equal(r.state, RFB_S_NORMAL);
    }
    /* incremental is any non-zero byte */
    uint8_t m[10] = { 3, 0x80, 0, 0, 0, 0, 0, 1, 0, 1 };
    struct rfb_event ev = feed1(&r, m, 1, RFB_EV_NONE);
    ev = feed1(&r, m + 1, 9, RFB_EV_UPDATE_REQUEST);
    assert_true(ev.incremental);
    expect_none(&r);
}

static void test_key(void **state)
{
    struct rfb r;
    to_normal(&r);
    struct buf b = { .n = 0 };
    m_key(&b, true, 0xffe1);
    struct rfb_event ev = feed_msg(&r, &b, RFB_EV_KEY);
    assert_true(ev.down);
    assert_int_equal(ev.keysym, 0xffe1);
    b.n = 0;
    m_key(&b, false, 0x12345678);
    ev = feed_msg(&r, &b, RFB_EV_KEY);
    assert_false(ev.down);
    assert_int_equal(ev.keysym, 0x12345678);
    /* down-flag: any non-zero; padding ignored */
    uint8_t m[8] = { 4, 2, 0xaa, 0xbb, 0, 0, 0, 'q' };
    ev = feed1(&r, m, 1, RFB_EV_NONE);
    ev = feed1(&r, m + 1, 7, RFB_EV_KEY);
    assert_true(ev.down);
    assert_int_equal(ev.keysym, 'q');
    assert_int_equal(r.keys, 3);
}

static void test_pointer(void **state)
{
    struct rfb r;
    to_normal(&r);
    struct buf b = { .n = 0 };
    m_pointer(&b, 0x05, 123, 456);
    struct rfb_event ev = feed_msg(&r, &b, RFB_EV_POINTER);
    assert_int_equal(ev.buttons, 5);
    assert_int_equal(ev.x, 123);
    assert_int_equal(ev.y, 456);
    /* Coordinates are reported as sent, even outside the screen. */
    b.n = 0;
    m_pointer(&b, 0xff, 65535, 1000);
    ev = feed_msg(&r, &b, RFB_EV_POINTER);
    assert_int_equal(ev.buttons, 0xff);
    assert_int_equal(ev.x, 65535);
    assert_int_equal(ev.y, 1000);
    assert_int_equal(r.pointer_events, 2);
}

static void test_cut_text(void **state)
{
    struct rfb r;
    struct rfb_event ev;
    to_normal(&r);
    struct buf b = { .n = 0 };
    m_cut_text(&b, "hello");
    /* Header (type, then 7 more), then the text. */
    assert_int_equal(rfb_feed(&r, b.b, b.n, &ev), 1);
    assert_int_equal(ev.type, RFB_EV_NONE);
    assert_int_equal(rfb_feed(&r, b.b + 1, b.n - 1, &ev), 7);
    assert_int_equal(ev.type, RFB_EV_NONE);
    /* Text bytes one by one: the event with the last. */
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rfb_feed(&r, b.b + 8 + i, 1, &ev), 1);
        if (i < 4) {
            assert_int_equal(ev.type, RFB_EV_NONE);
        } else {
            assert_int_equal(ev.type, RFB_EV_CUT_TEXT);
            assert_int_equal(ev.length, 5);
        }
    }
    assert_int_equal(r.cut_bytes, 5);

    /* The text in one call stops at its end. */
    b.n = 0;
    m_cut_text(&b, "abc");
    m_key(&b, true, 'z');
    size_t off = 0;
    off += rfb_feed(&r, b.b, b.n, &ev);
    off += rfb_feed(&r, b.b + off, b.n - off, &ev);
    assert_int_equal(off, 8);
    assert_int_equal(rfb_feed(&r, b.b + off, b.n - off, &ev), 3);
    assert_int_equal(ev.type, RFB_EV_CUT_TEXT);
    assert_int_equal(ev.length, 3);
    off += 3;
    ev = feed1(&r, b.b + off, 1, RFB_EV_NONE);
    ev = feed1(&r, b.b + off + 1, 7, RFB_EV_KEY);
    assert_int_equal(ev.keysym, 'z');

    /* Empty text: the event at once. */
    b.n = 0;
    m_cut_text(&b, "");
    ev = feed_msg(&r, &b, RFB_EV_CUT_TEXT);
    assert_int_equal(ev.length, 0);

    /* Text that looks like messages is skipped, not parsed. */
    b.n = 0;
    b8(&b, 6); b8(&b, 0); b8(&b, 0); b8(&b, 0); b32(&b, 12);
    b8(&b, 0xEE);                               /* unknown type */
    m_key(&b, true, 1);
    b8(&b, 0x99); b8(&b, 0x99); b8(&b, 0x99);
    ev = feed_msg(&r, &b, RFB_EV_CUT_TEXT);
    assert_int_equal(ev.length, 12);
    assert_int_equal(r.state, RFB_S_NORMAL);
    assert_int_equal(r.keys, 1);
    expect_none(&r);
}

static void test_cut_text_limit(void **state)
{
    struct rfb r;
    struct rfb_event ev;
    to_normal(&r);
    uint8_t hdr[8] = { 6, 0, 0, 0 };
    hdr[4] = (uint8_t)(RFB_CUT_TEXT_MAX >> 24);
    hdr[5] = (uint8_t)(RFB_CUT_TEXT_MAX >> 16);
    hdr[6] = (uint8_t)(RFB_CUT_TEXT_MAX >> 8);
    hdr[7] = (uint8_t)RFB_CUT_TEXT_MAX;
    /* Exactly the limit: skipped. */
    feed1(&r, hdr, 1, RFB_EV_NONE);
    feed1(&r, hdr + 1, 7, RFB_EV_NONE);
    static uint8_t text[RFB_CUT_TEXT_MAX + 16];
    memset(text, 'x', sizeof text);
    size_t got = rfb_feed(&r, text, sizeof text, &ev);
    assert_int_equal(got, RFB_CUT_TEXT_MAX);
    assert_int_equal(ev.type, RFB_EV_CUT_TEXT);
    assert_int_equal(ev.length, RFB_CUT_TEXT_MAX);

    /* One more: refused. */
    uint32_t n = RFB_CUT_TEXT_MAX + 1;
    hdr[4] = (uint8_t)(n >> 24);
    hdr[5] = (uint8_t)(n >> 16);
    hdr[6] = (uint8_t)(n >> 8);
    hdr[7] = (uint8_t)n;
    feed1(&r, hdr, 1, RFB_EV_NONE);
    ev = feed1(&r, hdr + 1, 7, RFB_EV_ERROR);
    assert_string_equal(ev.why, "ClientCutText longer than 256 KiB");
    assert_int_equal(r.state, RFB_S_CLOSED);
    expect_takes_nothing(&r);

    to_normal(&r);
    uint8_t huge[8] = { 6, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
    feed1(&r, huge, 1, RFB_EV_NONE);
    feed1(&r, huge + 1, 7, RFB_EV_ERROR);
}

static void test_qemu_key(void **state)
{
    struct rfb r;
    struct rfb_event ev;
    to_normal(&r);
    struct buf b = { .n = 0 };
    m_qemu_key(&b, 1, 0xffe4, 0xE01D);
    ev = feed_msg(&r, &b, RFB_EV_QEMU_KEY);
    assert_true(ev.down);
    assert_int_equal(ev.keysym, 0xffe4);
    assert_int_equal(ev.keycode, 0xE01D);
    b.n = 0;
    m_qemu_key(&b, 0, 'a', 0x1E);
    ev = feed_msg(&r, &b, RFB_EV_QEMU_KEY);
    assert_false(ev.down);
    assert_int_equal(ev.keysym, 'a');
    assert_int_equal(ev.keycode, 0x1E);
    /* down is a u16: non-zero in the low byte only. */
    b.n = 0;
    m_qemu_key(&b, 0x0100, 0, 0);
    ev = feed_msg(&r, &b, RFB_EV_QEMU_KEY);
    assert_true(ev.down);
    /* The steps: type (1), subtype (1), the rest (10). */
    b.n = 0;
    m_qemu_key(&b, 1, 2, 3);
    assert_int_equal(rfb_feed(&r, b.b, b.n, &ev), 1);
    assert_int_equal(rfb_feed(&r, b.b + 1, b.n - 1, &ev), 1);
    assert_int_equal(ev.type, RFB_EV_NONE);
    assert_int_equal(rfb_feed(&r, b.b + 2, b.n - 2, &ev), 10);
    assert_int_equal(ev.type, RFB_EV_QEMU_KEY);
    assert_int_equal(ev.keycode, 3);
    assert_int_equal(r.keys, 4);
    /* Then an ordinary message. */
    b.n = 0;
    m_key(&b, true, 9);
    ev = feed_msg(&r, &b, RFB_EV_KEY);
    assert_int_equal(ev.keysym, 9);
}

static void test_qemu_other_subtype(void **state)
{
    const uint8_t sub[] = { 1, 2, 0x80, 0xff };
    for (size_t i = 0; i < sizeof sub; i++) {
        struct rfb r;
        to_normal(&r);
        uint8_t m[2] = { 255, sub[i] };
        feed1(&r, m, 1, RFB_EV_NONE);
        struct rfb_event ev = feed1(&r, m + 1, 1, RFB_EV_ERROR);
        assert_non_null(ev.why);
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_takes_nothing(&r);
    }
}

static void test_unknown_message(void **state)
{
    const uint8_t types[] = { 1, 7, 8, 127, 150, 250, 254 };
    for (size_t i = 0; i < sizeof types; i++) {
        struct rfb r;
        to_normal(&r);
        uint8_t m[4] = { types[i], 0, 0, 0 };
        struct rfb_event ev;
        /* Only the type byte is taken. */
        assert_int_equal(rfb_feed(&r, m, sizeof m, &ev), 1);
        assert_int_equal(ev.type, RFB_EV_ERROR);
        assert_string_equal(ev.why, "unknown client message type");
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_takes_nothing(&r);
        /* Still nothing after the caller entry points. */
        rfb_tls_up(&r);
        rfb_auth_done(&r, true, NULL);
        rfb_server_init(&r, 1, 1, "x");
        assert_int_equal(r.state, RFB_S_CLOSED);
        expect_takes_nothing(&r);
    }
}

/* Every client message with one byte per call. */
static void test_messages_bytewise(void **state)
{
    struct rfb r;
    struct rfb_event ev;
    to_normal(&r);
    struct buf b = { .n = 0 };
    m_set_pixel_format(&b, 16, 15, 0, 1, 31, 31, 31, 10, 5, 0);
    const int32_t e[] = { -258, 16, 1 };
    m_set_encodings(&b, e, 3);
    m_update_request(&b, true, 1, 2, 3, 4);
    m_key(&b, true, 0x41);
    m_pointer(&b, 3, 9, 8);
    m_cut_text(&b, "xy");
    m_qemu_key(&b, 1, 0x41, 0x1e);
    enum rfb_event_type want[] = { RFB_EV_PIXEL_FORMAT, RFB_EV_ENCODINGS,
                                   RFB_EV_UPDATE_REQUEST, RFB_EV_KEY, RFB_EV_POINTER,
                                   RFB_EV_CUT_TEXT, RFB_EV_QEMU_KEY };
    size_t k = 0;
    for (size_t i = 0; i < b.n; i++) {
        assert_int_equal(rfb_feed(&r, b.b + i, 1, &ev), 1);
        if (ev.type != RFB_EV_NONE) {
            assert_true(k < sizeof want / sizeof want[0]);
            assert_int_equal(ev.type, want[k]);
            k++;
        }
    }
    assert_int_equal(k, sizeof want / sizeof want[0]);
    assert_int_equal(r.pf.depth, 15);
    assert_int_equal(r.enc_pref, 16);
    assert_true(r.enc_qemu_key && r.enc_copyrect);
    assert_int_equal(r.state, RFB_S_NORMAL);
    expect_none(&r);
}

/* Regression (found while writing these tests): complete_message() runs
 * twice for message 255 (after the subtype byte, then after the other 10
 * bytes) and once counted it twice. */
static void test_qemu_key_counted_once(void **state)
{
    struct rfb r;
    to_normal(&r);
    struct buf b = { .n = 0 };
    m_key(&b, true, 0x41);
    feed_msg(&r, &b, RFB_EV_KEY);
    b.n = 0;
    m_qemu_key(&b, 1, 0x41, 0x1e);
    feed_msg(&r, &b, RFB_EV_QEMU_KEY);
    assert_int_equal(r.keys, 2);
    assert_int_equal(r.msgs, 2);
}

/* ------------------------------------------------------------ streaming */

struct rec {
    enum rfb_event_type type;
    uint32_t subtype;
    bool shared, incremental, down, clipped;
    uint8_t buttons;
    uint16_t x, y, w, h;
    uint32_t keysym, keycode, length;
    char user[RFB_CRED_MAX + 1], password[RFB_CRED_MAX + 1];
};

struct run {
    struct rec ev[64];
    size_t nev;
    uint8_t out[1024];
    size_t nout;
    size_t consumed;
    enum rfb_state final;
};

static void drain(struct rfb *r, struct run *run)
{
    size_t len;
    const uint8_t *o = rfb_output(r, &len);
    assert_true(len <= RFB_OUT_SIZE);
    assert_true(len <= sizeof run->out - run->nout);
    memcpy(run->out + run->nout, o, len);
    run->nout += len;
    /* Acknowledged in two parts: what is left is the tail. */
    size_t half = len / 2, left;
    rfb_output_ack(r, half);
    o = rfb_output(r, &left);
    assert_int_equal(left, len - half);
    if (left)
        assert_memory_equal(o, run->out + run->nout - left, left);
    rfb_output_ack(r, left);
}

static void record(struct run *run, const struct rfb_event *ev)
{
    assert_true(run->nev < sizeof run->ev / sizeof run->ev[0]);
    struct rec *c = &run->ev[run->nev++];
    memset(c, 0, sizeof *c);
    c->type = ev->type;
    c->subtype = ev->subtype;
    c->shared = ev->shared;
    c->incremental = ev->incremental;
    c->down = ev->down;
    c->clipped = ev->clipped;
    c->buttons = ev->buttons;
    c->x = ev->x; c->y = ev->y; c->w = ev->w; c->h = ev->h;
    c->keysym = ev->keysym;
    c->keycode = ev->keycode;
    c->length = ev->length;
    if (ev->type == RFB_EV_PLAIN_CREDS) {
        strcpy(c->user, ev->user);
        strcpy(c->password, ev->password);
    }
}

/* The caller's part when the state waits for it; false when it does not. */
static bool act(struct rfb *r)
{
    switch (r->state) {
    case RFB_S_TLS: rfb_tls_up(r); return true;
    case RFB_S_AUTH: rfb_auth_done(r, true, NULL); return true;
    case RFB_S_INIT_REPLY: rfb_server_init(r, FB_W, FB_H, "stream"); return true;
    default: return false;
    }
}

/* Feeds in[0..n) in pieces of `step` bytes (0: all that is left), each piece
 * with repeated calls until a call returns 0 with no event. */
static void run_stream(struct run *run, bool plain, const uint8_t *in, size_t n, size_t step)
{
    struct rfb r;
    memset(run, 0, sizeof *run);
    rfb_init(&r, plain);
    drain(&r, run);
    size_t off = 0;
    for (;;) {
        size_t avail = n - off;
        if (step && avail > step)
            avail = step;
        struct rfb_event ev;
        size_t used = rfb_feed(&r, in + off, avail, &ev);
        assert_true(used <= avail);
        off += used;
        drain(&r, run);
        if (ev.type != RFB_EV_NONE) {
            record(run, &ev);
            continue;
        }
        if (used > 0)
            continue;
        if (act(&r)) {
            drain(&r, run);
            continue;
        }
        if (off == n || r.state == RFB_S_CLOSED)
            break;
        /* One piece done: only possible when a piece ran out. */
        assert_int_equal(avail, 0);
        break;
    }
    run->consumed = off;
    run->final = r.state;
}

static void same_runs(const struct run *a, const struct run *b)
{
    assert_int_equal(a->nev, b->nev);
    for (size_t i = 0; i < a->nev; i++)
        assert_memory_equal(&a->ev[i], &b->ev[i], sizeof a->ev[i]);
    assert_int_equal(a->nout, b->nout);
    assert_memory_equal(a->out, b->out, a->nout);
    assert_int_equal(a->consumed, b->consumed);
    assert_int_equal(a->final, b->final);
}

static void client_stream(struct buf *b, bool plain)
{
    bbytes(b, v38, 12);
    b8(b, 19);
    b8(b, 0); b8(b, 2);
    b32(b, plain ? 262 : 260);
    if (plain)
        creds(b, "operator", 8, "correct horse", 13);
    b8(b, 1);                                   /* ClientInit, shared */
    m_set_pixel_format(b, 16, 16, 0, 1, 31, 63, 31, 11, 5, 0);
    const int32_t e[] = { 16, 5, 0, 1, -223, -258, -239 };
    m_set_encodings(b, e, 7);
    m_update_request(b, false, 0, 0, FB_W, FB_H);
    m_update_request(b, true, 700, 390, 100, 100);
    m_key(b, true, 0xffe3);
    m_qemu_key(b, 1, 0x63, 0x2e);
    m_qemu_key(b, 0, 0x63, 0x2e);
    m_key(b, false, 0xffe3);
    m_pointer(b, 1, 100, 200);
    m_pointer(b, 0, 101, 201);
    m_cut_text(b, "some text from the client");
    m_cut_text(b, "");
    m_set_encodings(b, NULL, 0);
    m_update_request(b, true, 800, 0, 1, 1);
}

static void expected_stream_out(struct buf *b, bool plain)
{
    bstr(b, "RFB 003.008\n");
    b8(b, 1); b8(b, 19);
    b8(b, 0); b8(b, 2);
    if (plain) {
        b8(b, 0); b8(b, 2); b32(b, 262); b32(b, 260);
    } else {
        b8(b, 0); b8(b, 1); b32(b, 260);
    }
    b8(b, 1);
    b32(b, 0);
    server_init_bytes(b, FB_W, FB_H, "stream");
}

static void check_stream(bool plain)
{
    static struct buf in;
    static struct run whole, bytes, sevens;
    in.n = 0;
    client_stream(&in, plain);
    run_stream(&whole, plain, in.b, in.n, 0);
    run_stream(&bytes, plain, in.b, in.n, 1);
    run_stream(&sevens, plain, in.b, in.n, 7);

    /* All taken, the session still open. */
    assert_int_equal(whole.consumed, in.n);
    assert_int_equal(whole.final, RFB_S_NORMAL);

    struct buf want = { .n = 0 };
    expected_stream_out(&want, plain);
    assert_int_equal(whole.nout, want.n);
    assert_memory_equal(whole.out, want.b, want.n);

    enum rfb_event_type types[] = {
        RFB_EV_START_TLS, RFB_EV_PLAIN_CREDS, RFB_EV_CLIENT_INIT, RFB_EV_PIXEL_FORMAT,
        RFB_EV_ENCODINGS, RFB_EV_UPDATE_REQUEST, RFB_EV_UPDATE_REQUEST, RFB_EV_KEY,
        RFB_EV_QEMU_KEY, RFB_EV_QEMU_KEY, RFB_EV_KEY, RFB_EV_POINTER, RFB_EV_POINTER,
        RFB_EV_CUT_TEXT, RFB_EV_CUT_TEXT, RFB_EV_ENCODINGS, RFB_EV_UPDATE_REQUEST,
    };
    size_t nt = sizeof types / sizeof types[0];
    size_t k = 0;
    for (size_t i = 0; i < nt; i++) {
        if (!plain && types[i] == RFB_EV_PLAIN_CREDS)
            continue;
        assert_true(k < whole.nev);
        assert_int_equal(whole.ev[k].type, types[i]);
        k++;
    }
    assert_int_equal(whole.nev, k);
    const struct rec *ev = whole.ev;
    assert_int_equal(ev[0].subtype, plain ? 262 : 260);
    if (plain) {
        assert_string_equal(ev[1].user, "operator");
        assert_string_equal(ev[1].password, "correct horse");
        ev++;
    }
    assert_true(ev[1].shared);
    assert_int_equal(ev[4].w, FB_W);
    assert_false(ev[4].clipped);
    assert_int_equal(ev[5].x, 700);
    assert_int_equal(ev[5].w, 20);
    assert_int_equal(ev[5].h, 10);
    assert_true(ev[5].clipped);
    assert_int_equal(ev[7].keycode, 0x2e);
    assert_true(ev[7].down);
    assert_false(ev[8].down);
    assert_int_equal(ev[10].x, 100);
    assert_int_equal(ev[12].length, 25);
    assert_int_equal(ev[13].length, 0);
    assert_int_equal(ev[15].w, 0);
    assert_true(ev[15].clipped);

    same_runs(&whole, &bytes);
    same_runs(&whole, &sevens);
}

static void test_stream_x509none(void **state) { check_stream(false); }
static void test_stream_x509plain(void **state) { check_stream(true); }

/* A client that sends its ClientInit (and more) before the server has
 * answered: the bytes wait in the caller's buffer until the states move. */
static void test_stream_waits(void **state)
{
    struct rfb r;
    struct rfb_event ev;
    to_subtype(&r, false, v38);
    struct buf b = { .n = 0 };
    b32(&b, 260);
    b8(&b, 0);
    m_key(&b, true, 7);
    assert_int_equal(rfb_feed(&r, b.b, b.n, &ev), 4);
    assert_int_equal(ev.type, RFB_EV_START_TLS);
    assert_int_equal(rfb_feed(&r, b.b + 4, b.n - 4, &ev), 0);
    rfb_tls_up(&r);
    assert_int_equal(rfb_feed(&r, b.b + 4, b.n - 4, &ev), 0);
    rfb_auth_done(&r, true, NULL);
    assert_int_equal(rfb_feed(&r, b.b + 4, b.n - 4, &ev), 1);
    assert_int_equal(ev.type, RFB_EV_CLIENT_INIT);
    assert_false(ev.shared);
    assert_int_equal(rfb_feed(&r, b.b + 5, b.n - 5, &ev), 0);
    rfb_server_init(&r, 10, 10, "w");
    assert_int_equal(rfb_feed(&r, b.b + 5, b.n - 5, &ev), 1);
    assert_int_equal(rfb_feed(&r, b.b + 6, b.n - 6, &ev), 7);
    assert_int_equal(ev.type, RFB_EV_KEY);
    assert_int_equal(ev.keysym, 7);
}

/* ------------------------------------------------------------ writers */

static void test_writers(void **state)
{
    uint8_t out[32];
    memset(out, 0xAA, sizeof out);
    assert_int_equal(rfb_put_update_header(out, 0x1234), 4);
    assert_memory_equal(out, "\x00\x00\x12\x34\xAA", 5);

    memset(out, 0xAA, sizeof out);
    assert_int_equal(rfb_put_rect_header(out, 0x0102, 0x0304, 0x0506, 0x0708, RFB_ENC_ZRLE), 12);
    assert_memory_equal(out, "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x00\x10\xAA", 13);

    memset(out, 0xAA, sizeof out);
    assert_int_equal(rfb_put_rect_header(out, 0, 0, 720, 400, RFB_ENC_DESKTOPSIZE), 12);
    assert_memory_equal(out, "\x00\x00\x00\x00\x02\xd0\x01\x90\xff\xff\xff\x21\xAA", 13);

    memset(out, 0xAA, sizeof out);
    assert_int_equal(rfb_put_rect_header(out, 65535, 1, 2, 65535, RFB_ENC_COPYRECT), 12);
    assert_memory_equal(out, "\xff\xff\x00\x01\x00\x02\xff\xff\x00\x00\x00\x01\xAA", 13);

    memset(out, 0xAA, sizeof out);
    assert_int_equal(rfb_put_copyrect(out, 0xBEEF, 7), 4);
    assert_memory_equal(out, "\xbe\xef\x00\x07\xAA", 5);

    memset(out, 0xAA, sizeof out);
    assert_int_equal(rfb_put_bell(out), 1);
    assert_memory_equal(out, "\x02\xAA", 2);
}

static void test_output_ack(void **state)
{
    struct rfb r;
    size_t len;
    rfb_init(&r, false);
    rfb_output_ack(&r, 0);
    const uint8_t *o = rfb_output(&r, &len);
    assert_int_equal(len, 12);
    rfb_output_ack(&r, 4);
    o = rfb_output(&r, &len);
    assert_int_equal(len, 8);
    assert_memory_equal(o, "003.008\n", 8);
    /* New output goes after what is left. */
    feed1(&r, v38, 12, RFB_EV_NONE);
    o = rfb_output(&r, &len);
    assert_int_equal(len, 10);
    assert_memory_equal(o, "003.008\n\x01\x13", 10);
    rfb_output_ack(&r, 9);
    o = rfb_output(&r, &len);
    assert_int_equal(len, 1);
    assert_int_equal(o[0], 0x13);
    /* More than there is: empty. */
    rfb_output_ack(&r, 100);
    rfb_output(&r, &len);
    assert_int_equal(len, 0);
    rfb_output_ack(&r, 1);
    rfb_output(&r, &len);
    assert_int_equal(len, 0);

    /* Never drained: the whole handshake's output stays in the queue. */
    rfb_init(&r, true);
    struct buf b = { .n = 0 };
    bbytes(&b, v38, 12); b8(&b, 19); b8(&b, 0); b8(&b, 2); b32(&b, 262);
    creds(&b, "u", 1, "p", 1);
    size_t off = 0;
    struct rfb_event ev;
    while (off < b.n) {
        size_t used = rfb_feed(&r, b.b + off, b.n - off, &ev);
        off += used;
        if (used == 0 && ev.type == RFB_EV_NONE)
            assert_true(act(&r));
    }
    assert_int_equal(ev.type, RFB_EV_PLAIN_CREDS);
    rfb_auth_done(&r, false, "a reason");
    struct buf want = { .n = 0 };
    bstr(&want, "RFB 003.008\n");
    b8(&want, 1); b8(&want, 19); b8(&want, 0); b8(&want, 2);
    b8(&want, 0); b8(&want, 2); b32(&want, 262); b32(&want, 260);
    b8(&want, 1);
    b32(&want, 1); b32(&want, 8); bstr(&want, "a reason");
    expect_buf(&r, &want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_happy_x509none),
        cmocka_unit_test(test_client_init_not_shared),
        cmocka_unit_test(test_server_init_name),
        cmocka_unit_test(test_calls_in_wrong_state),
        cmocka_unit_test(test_subtypes_offer_plain),
        cmocka_unit_test(test_plain_ok),
        cmocka_unit_test(test_plain_split),
        cmocka_unit_test(test_plain_auth_failure),
        cmocka_unit_test(test_none_auth_failure),
        cmocka_unit_test(test_plain_too_long),
        cmocka_unit_test(test_plain_longest),
        cmocka_unit_test(test_plain_nul),
        cmocka_unit_test(test_plain_empty),
        cmocka_unit_test(test_plain_then_shorter),
        cmocka_unit_test(test_version_37),
        cmocka_unit_test(test_version_33),
        cmocka_unit_test(test_version_major),
        cmocka_unit_test(test_version_garbage),
        cmocka_unit_test(test_version_3889),
        cmocka_unit_test(test_version_bytewise),
        cmocka_unit_test(test_wrong_sectype),
        cmocka_unit_test(test_wrong_vencrypt_version),
        cmocka_unit_test(test_unoffered_subtype),
        cmocka_unit_test(test_set_pixel_format),
        cmocka_unit_test(test_set_pixel_format_invalid),
        cmocka_unit_test(test_set_encodings),
        cmocka_unit_test(test_set_encodings_steps),
        cmocka_unit_test(test_set_encodings_empty),
        cmocka_unit_test(test_set_encodings_1000),
        cmocka_unit_test(test_update_request),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_pointer),
        cmocka_unit_test(test_cut_text),
        cmocka_unit_test(test_cut_text_limit),
        cmocka_unit_test(test_qemu_key),
        cmocka_unit_test(test_qemu_other_subtype),
        cmocka_unit_test(test_unknown_message),
        cmocka_unit_test(test_messages_bytewise),
        cmocka_unit_test(test_qemu_key_counted_once),
        cmocka_unit_test(test_stream_x509none),
        cmocka_unit_test(test_stream_x509plain),
        cmocka_unit_test(test_stream_waits),
        cmocka_unit_test(test_writers),
        cmocka_unit_test(test_output_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
