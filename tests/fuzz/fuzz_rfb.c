/* libFuzzer target for the RFB 3.8 + VeNCrypt server state machine
 * (net/rfb.c), built by tests/unit/rfb.mk (make fuzz-rfb).
 *
 * Input: byte 0 is the set-up, the rest the client's bytes.
 *   bit 0      offer X509Plain
 *   bit 1      the caller's verdict in rfb_auth_done (1: accepted)
 *   bits 2..7  how the client bytes are cut: 0 all at once, else pieces of
 *              1..2n bytes (a small LCG picks each length)
 * The bytes go through rfb_feed as a connection would: repeated calls,
 * the caller's part done whenever the state waits for it (RFB_S_TLS:
 * rfb_tls_up, RFB_S_AUTH: rfb_auth_done, RFB_S_INIT_REPLY:
 * rfb_server_init(720, 400, "x")), the output drained after every call.
 * Invariants are checked after every call, and the same bytes fed one at
 * a time must give the same events, output, counters and end state.
 *
 * Built with -DFUZZ_RFB_SEEDS (and no libFuzzer) it is instead the seed
 * writer: main(dir) writes a seed corpus and a dictionary (dir/../rfb.dict)
 * and runs every seed through the same checks. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb.h"

#define FB_W 720
#define FB_H 400

#define CHECK(c)                                                                     \
    do {                                                                             \
        if (!(c)) {                                                                  \
            fprintf(stderr, "fuzz_rfb: invariant failed: %s (%s:%d)\n", #c, __FILE__,  \
                    __LINE__);                                                       \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* What one run saw, order-sensitive (FNV-1a over events and output). */
struct summary {
    uint64_t hash;
    size_t events, out_bytes, consumed;
    enum rfb_state final;
    uint64_t msgs, keys, pointer_events, cut_bytes;
    bool saw[RFB_EV_CUT_TEXT + 1];
};

static void mix(struct summary *s, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        s->hash ^= b[i];
        s->hash *= 0x100000001b3ull;
    }
}
static void mix32(struct summary *s, uint32_t v) { mix(s, &v, sizeof v); }

static bool waits(enum rfb_state st)
{
    return st == RFB_S_TLS || st == RFB_S_AUTH || st == RFB_S_INIT_REPLY || st == RFB_S_CLOSED;
}

static void drain(struct rfb *r, struct summary *s)
{
    size_t len;
    const uint8_t *o = rfb_output(r, &len);
    CHECK(len <= RFB_OUT_SIZE);
    CHECK(r->out_len <= sizeof r->out);
    mix(s, o, len);
    s->out_bytes += len;
    /* Acknowledged in two parts: what is left must be the tail. */
    uint8_t copy[RFB_OUT_SIZE];
    memcpy(copy, o, len);
    size_t part = len / 3, left;
    rfb_output_ack(r, part);
    o = rfb_output(r, &left);
    CHECK(left == len - part && memcmp(o, copy + part, left) == 0);
    rfb_output_ack(r, left + (len & 1));    /* more than there is: all */
    rfb_output(r, &len);
    CHECK(len == 0);
}

static bool nul_within(const char *p, size_t max) { return memchr(p, 0, max + 1) != NULL; }

/* Checks one rfb_feed call: its result, the event and the state after. */
static void check_call(const struct rfb *r, const struct rfb_event *ev, enum rfb_state before,
                       size_t used, size_t avail, bool plain)
{
    CHECK(used <= avail);
    CHECK(r->state >= before);          /* states only move forward */
    CHECK(r->state <= RFB_S_CLOSED);
    CHECK(r->have <= r->need);
    CHECK(r->need <= sizeof r->msg);
    CHECK(r->offer_plain == plain);
    if (waits(before))
        CHECK(used == 0 && ev->type == RFB_EV_NONE);
    /* Progress: a call that takes nothing and completes nothing is only
     * right when the session waits for the caller, or is closed. */
    if (used == 0 && avail > 0 && ev->type == RFB_EV_NONE)
        CHECK(waits(r->state));
    if (r->state == RFB_S_NORMAL) {
        CHECK(r->fb_w == FB_W && r->fb_h == FB_H);
        CHECK(r->enc_pref == RFB_ENC_RAW || r->enc_pref == RFB_ENC_HEXTILE ||
              r->enc_pref == RFB_ENC_ZRLE || (r->enc_pref == -1 && r->enc_left > 0));
        CHECK(r->skip <= r->cut_len && r->cut_len <= RFB_CUT_TEXT_MAX);
        CHECK(rfb_pixfmt_check(&r->pf, NULL));
    }

    switch (ev->type) {
    case RFB_EV_NONE:
        break;
    case RFB_EV_ERROR:
        CHECK(ev->why != NULL && ev->why[0] != '\0');
        CHECK(r->state == RFB_S_CLOSED);
        break;
    case RFB_EV_START_TLS:
        CHECK(before == RFB_S_SUBTYPE && r->state == RFB_S_TLS);
        CHECK(ev->subtype == RFB_VENCRYPT_X509NONE ||
              (plain && ev->subtype == RFB_VENCRYPT_X509PLAIN));
        CHECK(r->subtype == ev->subtype);
        break;
    case RFB_EV_PLAIN_CREDS:
        CHECK(r->subtype == RFB_VENCRYPT_X509PLAIN && r->state == RFB_S_AUTH);
        CHECK(ev->user == r->user && ev->password == r->password);
        CHECK(nul_within(ev->user, RFB_CRED_MAX) && nul_within(ev->password, RFB_CRED_MAX));
        CHECK(strlen(ev->user) == r->ulen && strlen(ev->password) == r->plen);
        break;
    case RFB_EV_CLIENT_INIT:
        CHECK(before == RFB_S_CLIENT_INIT && r->state == RFB_S_INIT_REPLY);
        break;
    case RFB_EV_PIXEL_FORMAT:
        CHECK(r->state == RFB_S_NORMAL);
        break;
    case RFB_EV_ENCODINGS:
        CHECK(r->state == RFB_S_NORMAL && r->enc_left == 0);
        CHECK(r->enc_pref != RFB_ENC_ZRLE || r->enc_zrle);
        CHECK(r->enc_pref != RFB_ENC_HEXTILE || r->enc_hextile);
        break;
    case RFB_EV_UPDATE_REQUEST:
        CHECK(r->state == RFB_S_NORMAL);
        CHECK((uint32_t)ev->x + ev->w <= r->fb_w);
        CHECK((uint32_t)ev->y + ev->h <= r->fb_h);
        CHECK((ev->w == 0) == (ev->h == 0));
        if (ev->w == 0)
            CHECK(ev->clipped && ev->x == 0 && ev->y == 0);
        break;
    case RFB_EV_KEY:
    case RFB_EV_QEMU_KEY:
    case RFB_EV_POINTER:
        CHECK(r->state == RFB_S_NORMAL);
        break;
    case RFB_EV_CUT_TEXT:
        CHECK(r->state == RFB_S_NORMAL && r->skip == 0);
        CHECK(ev->length <= RFB_CUT_TEXT_MAX);
        break;
    default:
        CHECK(!"unknown event type");
    }
}

static void record(struct summary *s, const struct rfb_event *ev)
{
    s->events++;
    s->saw[ev->type] = true;
    mix32(s, ev->type);
    switch (ev->type) {
    case RFB_EV_START_TLS: mix32(s, ev->subtype); break;
    case RFB_EV_PLAIN_CREDS:
        mix(s, ev->user, strlen(ev->user) + 1);
        mix(s, ev->password, strlen(ev->password) + 1);
        break;
    case RFB_EV_CLIENT_INIT: mix32(s, ev->shared); break;
    case RFB_EV_UPDATE_REQUEST:
        mix32(s, (uint32_t)ev->incremental << 1 | ev->clipped);
        mix32(s, (uint32_t)ev->x << 16 | ev->y);
        mix32(s, (uint32_t)ev->w << 16 | ev->h);
        break;
    case RFB_EV_KEY: mix32(s, ev->down); mix32(s, ev->keysym); break;
    case RFB_EV_QEMU_KEY:
        mix32(s, ev->down); mix32(s, ev->keysym); mix32(s, ev->keycode);
        break;
    case RFB_EV_POINTER:
        mix32(s, ev->buttons);
        mix32(s, (uint32_t)ev->x << 16 | ev->y);
        break;
    case RFB_EV_CUT_TEXT: mix32(s, ev->length); break;
    default: break;
    }
}

/* The caller's part when the session waits for it; false when it does not. */
static bool act(struct rfb *r, bool ok, struct summary *s)
{
    switch (r->state) {
    case RFB_S_TLS:
        rfb_tls_up(r);
        CHECK(r->state == (r->subtype == RFB_VENCRYPT_X509PLAIN ? RFB_S_PLAIN_CREDS
                                                                 : RFB_S_AUTH));
        return true;
    case RFB_S_AUTH:
        rfb_auth_done(r, ok, "denied by policy");
        for (size_t i = 0; i < sizeof r->password; i++)
            CHECK(r->password[i] == 0);
        CHECK(r->state == (ok ? RFB_S_CLIENT_INIT : RFB_S_CLOSED));
        mix32(s, 0xA0000000u | ok);
        return true;
    case RFB_S_INIT_REPLY:
        rfb_server_init(r, FB_W, FB_H, "x");
        CHECK(r->state == RFB_S_NORMAL);
        return true;
    default:
        return false;
    }
}

/* One session over in[0..n); split as in the header comment (0: whole,
 * else pieces of 1..2*split bytes). */
static void session(const uint8_t *in, size_t n, bool plain, bool ok, unsigned split,
                    struct summary *s)
{
    static struct rfb r;
    uint32_t lcg = 0x9e3779b9u ^ split;
    memset(s, 0, sizeof *s);
    s->hash = 0xcbf29ce484222325ull;
    rfb_init(&r, plain);
    CHECK(r.state == RFB_S_VERSION);
    drain(&r, s);
    size_t off = 0;
    for (size_t calls = 0;; calls++) {
        /* Every call takes a byte, reports an event or is followed by the
         * caller's part (at most 3 per session): bounded. */
        CHECK(calls <= 2 * n + 16);
        size_t avail = n - off;
        if (split != 0) {
            lcg = lcg * 1103515245u + 12345u;
            size_t piece = 1 + (lcg >> 16) % (2 * split);
            if (split == 1)
                piece = 1;
            if (avail > piece)
                avail = piece;
        }
        enum rfb_state before = r.state;
        uint64_t out_before = r.out_len;
        struct rfb_event ev;
        memset(&ev, 0xA5, sizeof ev);   /* rfb_feed must set it all */
        size_t used = rfb_feed(&r, in + off, avail, &ev);
        check_call(&r, &ev, before, used, avail, plain);
        if (before == RFB_S_CLOSED)
            CHECK(r.out_len == out_before);
        off += used;
        drain(&r, s);
        if (ev.type != RFB_EV_NONE) {
            record(s, &ev);
            continue;
        }
        if (used > 0)
            continue;
        if (act(&r, ok, s)) {
            drain(&r, s);
            continue;
        }
        CHECK(r.state == RFB_S_CLOSED || off == n);
        break;
    }
    CHECK(off <= n);
    s->consumed = off;
    s->final = r.state;
    s->msgs = r.msgs;
    s->keys = r.keys;
    s->pointer_events = r.pointer_events;
    s->cut_bytes = r.cut_bytes;
    /* A closed session stays closed and silent. */
    if (r.state == RFB_S_CLOSED) {
        struct rfb_event ev;
        static const uint8_t more[4] = { 4, 1, 0, 0 };
        CHECK(rfb_feed(&r, more, sizeof more, &ev) == 0 && ev.type == RFB_EV_NONE);
        rfb_tls_up(&r);
        rfb_auth_done(&r, true, NULL);
        rfb_server_init(&r, 1, 1, "y");
        CHECK(r.state == RFB_S_CLOSED && r.out_len == 0);
    }
}

static void same(const struct summary *a, const struct summary *b)
{
    CHECK(a->events == b->events);
    CHECK(a->out_bytes == b->out_bytes);
    CHECK(a->consumed == b->consumed);
    CHECK(a->final == b->final);
    CHECK(a->hash == b->hash);
    CHECK(a->msgs == b->msgs && a->keys == b->keys);
    CHECK(a->pointer_events == b->pointer_events && a->cut_bytes == b->cut_bytes);
}

static struct summary last_run;     /* for the seed writer's checks */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool plain = data[0] & 1, ok = data[0] & 2;
    unsigned split = data[0] >> 2;
    struct summary a, b;
    session(data + 1, size - 1, plain, ok, split, &a);
    if (split != 1) {
        session(data + 1, size - 1, plain, ok, 1, &b);
        same(&a, &b);
    }
    last_run = a;
    return 0;
}

#ifdef FUZZ_RFB_SEEDS
/* ------------------------------------------------------------ seed writer */

struct seed {
    uint8_t b[8192];
    size_t n;
};

static void s8(struct seed *s, uint8_t v) { CHECK(s->n < sizeof s->b); s->b[s->n++] = v; }
static void s16(struct seed *s, uint16_t v) { s8(s, (uint8_t)(v >> 8)); s8(s, (uint8_t)v); }
static void s32(struct seed *s, uint32_t v) { s16(s, (uint16_t)(v >> 16)); s16(s, (uint16_t)v); }
static void sbytes(struct seed *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        s8(s, (uint8_t)p[i]);
}
static void sstr(struct seed *s, const char *p) { sbytes(s, p, strlen(p)); }

static void handshake(struct seed *s, const char *version, uint32_t subtype)
{
    sstr(s, version);
    s8(s, RFB_SEC_VENCRYPT);
    s8(s, 0); s8(s, 2);
    s32(s, subtype);
}

static void creds(struct seed *s, const char *user, const char *pass)
{
    s32(s, (uint32_t)strlen(user));
    s32(s, (uint32_t)strlen(pass));
    sstr(s, user);
    sstr(s, pass);
}

static void set_pixel_format(struct seed *s, uint8_t bpp, uint8_t depth, uint8_t be,
                             uint16_t rmax, uint16_t gmax, uint16_t bmax,
                             uint8_t rs, uint8_t gs, uint8_t bs)
{
    s8(s, RFB_MSG_SET_PIXEL_FORMAT); s8(s, 0); s8(s, 0); s8(s, 0);
    s8(s, bpp); s8(s, depth); s8(s, be); s8(s, 1);
    s16(s, rmax); s16(s, gmax); s16(s, bmax);
    s8(s, rs); s8(s, gs); s8(s, bs);
    s8(s, 0); s8(s, 0); s8(s, 0);
}
static void set_encodings(struct seed *s, const int32_t *e, uint16_t n)
{
    s8(s, RFB_MSG_SET_ENCODINGS); s8(s, 0); s16(s, n);
    for (unsigned i = 0; i < n; i++)
        s32(s, (uint32_t)e[i]);
}
static void update_request(struct seed *s, uint8_t inc, uint16_t x, uint16_t y, uint16_t w,
                           uint16_t h)
{
    s8(s, RFB_MSG_UPDATE_REQUEST); s8(s, inc); s16(s, x); s16(s, y); s16(s, w); s16(s, h);
}
static void key(struct seed *s, uint8_t down, uint32_t sym)
{
    s8(s, RFB_MSG_KEY); s8(s, down); s8(s, 0); s8(s, 0); s32(s, sym);
}
static void pointer(struct seed *s, uint8_t buttons, uint16_t x, uint16_t y)
{
    s8(s, RFB_MSG_POINTER); s8(s, buttons); s16(s, x); s16(s, y);
}
static void cut_text(struct seed *s, const char *text)
{
    s8(s, RFB_MSG_CUT_TEXT); s8(s, 0); s8(s, 0); s8(s, 0);
    s32(s, (uint32_t)strlen(text));
    sstr(s, text);
}
static void qemu_key(struct seed *s, uint16_t down, uint32_t sym, uint32_t code)
{
    s8(s, RFB_MSG_QEMU); s8(s, 0); s16(s, down); s32(s, sym); s32(s, code);
}

/* A viewer's usual first messages and a little typing and pointing. */
static void messages(struct seed *s)
{
    static const int32_t enc[] = { RFB_ENC_ZRLE, RFB_ENC_HEXTILE, RFB_ENC_RAW, RFB_ENC_COPYRECT,
                                   RFB_ENC_DESKTOPSIZE, RFB_ENC_QEMU_EXT_KEY, -239, -314 };
    set_pixel_format(s, 32, 24, 0, 255, 255, 255, 16, 8, 0);
    set_encodings(s, enc, sizeof enc / sizeof enc[0]);
    update_request(s, 0, 0, 0, FB_W, FB_H);
    update_request(s, 1, 700, 390, 100, 100);
    key(s, 1, 0xffe3);
    qemu_key(s, 1, 0x63, 0x2e);
    qemu_key(s, 0, 0x63, 0x2e);
    key(s, 0, 0xffe3);
    pointer(s, 1, 100, 200);
    pointer(s, 0, 101, 201);
    cut_text(s, "clipboard text");
    cut_text(s, "");
    set_pixel_format(s, 16, 16, 1, 31, 63, 31, 11, 5, 0);
    set_encodings(s, NULL, 0);
    update_request(s, 1, 0, 0, 65535, 65535);
    set_pixel_format(s, 8, 8, 0, 7, 7, 3, 0, 3, 6);
    update_request(s, 1, 800, 0, 1, 1);
}

static const char *dir;
static unsigned nseeds;

/* Writes seed `name` (set-up byte first) and runs it through the target;
 * want_state is the end state it must reach with every byte taken
 * (RFB_S_CLOSED: only the end state is checked). */
static void emit(const char *name, uint8_t setup, const struct seed *s, enum rfb_state want)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    CHECK(fwrite(&setup, 1, 1, f) == 1);
    CHECK(fwrite(s->b, 1, s->n, f) == s->n);
    CHECK(fclose(f) == 0);
    nseeds++;

    uint8_t buf[sizeof s->b + 1];
    buf[0] = setup;
    memcpy(buf + 1, s->b, s->n);
    LLVMFuzzerTestOneInput(buf, s->n + 1);
    if (last_run.final != want || (want != RFB_S_CLOSED && last_run.consumed != s->n)) {
        fprintf(stderr, "seed %s: end state %d after %zu of %zu bytes, expected state %d\n",
                name, last_run.final, last_run.consumed, s->n, want);
        exit(1);
    }
}

#define SETUP(plain, ok, split) ((uint8_t)((plain) | (ok) << 1 | (split) << 2))

static void write_dict(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/../rfb.dict", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs("# RFB / VeNCrypt tokens (written by fuzz_rfb_seeds)\n"
          "v38=\"RFB 003.008\\x0a\"\n"
          "v37=\"RFB 003.007\\x0a\"\n"
          "v33=\"RFB 003.003\\x0a\"\n"
          "x509none=\"\\x00\\x00\\x01\\x04\"\n"
          "x509plain=\"\\x00\\x00\\x01\\x06\"\n"
          "vencrypt02=\"\\x00\\x02\"\n"
          "zrle=\"\\x00\\x00\\x00\\x10\"\n"
          "hextile=\"\\x00\\x00\\x00\\x05\"\n"
          "desktopsize=\"\\xff\\xff\\xff\\x21\"\n"
          "qemukey=\"\\xff\\xff\\xfe\\xfe\"\n"
          "cred_max=\"\\x00\\x00\\x00\\xff\"\n"
          "cred_over=\"\\x00\\x00\\x01\\x00\"\n"
          "cut_max=\"\\x00\\x04\\x00\\x00\"\n"
          "cut_over=\"\\x00\\x04\\x00\\x01\"\n"
          "qemu_msg=\"\\xff\\x00\"\n"
          "pf32=\"\\x20\\x18\\x00\\x01\\x00\\xff\\x00\\xff\\x00\\xff\\x10\\x08\\x00\"\n",
          f);
    CHECK(fclose(f) == 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    struct seed s;

    /* Full X509None sessions, cut four ways. */
    s.n = 0;
    handshake(&s, "RFB 003.008\n", RFB_VENCRYPT_X509NONE);
    s8(&s, 1);                                  /* ClientInit, shared */
    messages(&s);
    emit("none-whole", SETUP(0, 1, 0), &s, RFB_S_NORMAL);
    emit("none-bytes", SETUP(0, 1, 1), &s, RFB_S_NORMAL);
    emit("none-split5", SETUP(1, 1, 5), &s, RFB_S_NORMAL);
    emit("none-split63", SETUP(0, 1, 63), &s, RFB_S_NORMAL);
    emit("none-denied", SETUP(0, 0, 0), &s, RFB_S_CLOSED);

    /* RFB 3.7 and 3.889. */
    s.n = 0;
    handshake(&s, "RFB 003.007\n", RFB_VENCRYPT_X509NONE);
    s8(&s, 0);
    messages(&s);
    emit("none-37", SETUP(0, 1, 2), &s, RFB_S_NORMAL);
    s.n = 0;
    handshake(&s, "RFB 003.889\n", RFB_VENCRYPT_X509NONE);
    s8(&s, 0);
    messages(&s);
    emit("none-3889", SETUP(0, 1, 3), &s, RFB_S_NORMAL);

    /* X509Plain. */
    s.n = 0;
    handshake(&s, "RFB 003.008\n", RFB_VENCRYPT_X509PLAIN);
    creds(&s, "operator", "correct horse battery staple");
    s8(&s, 1);
    messages(&s);
    emit("plain-whole", SETUP(1, 1, 0), &s, RFB_S_NORMAL);
    emit("plain-split3", SETUP(1, 1, 3), &s, RFB_S_NORMAL);
    emit("plain-denied", SETUP(1, 0, 0), &s, RFB_S_CLOSED);
    emit("plain-not-offered", SETUP(0, 1, 0), &s, RFB_S_CLOSED);
    s.n = 0;
    handshake(&s, "RFB 003.008\n", RFB_VENCRYPT_X509PLAIN);
    creds(&s, "", "");
    s8(&s, 1);
    messages(&s);
    emit("plain-empty", SETUP(1, 1, 4), &s, RFB_S_NORMAL);

    /* Refusals. */
    s.n = 0;
    handshake(&s, "RFB 003.008\n", RFB_VENCRYPT_X509PLAIN);
    s32(&s, 256); s32(&s, 1);
    emit("plain-too-long", SETUP(1, 1, 0), &s, RFB_S_CLOSED);
    s.n = 0;
    sstr(&s, "RFB 003.003\n");
    emit("v33", SETUP(0, 1, 0), &s, RFB_S_CLOSED);
    s.n = 0;
    sstr(&s, "RFB 003.008\n");
    s8(&s, 2);
    emit("sectype-vnc", SETUP(0, 1, 0), &s, RFB_S_CLOSED);
    s.n = 0;
    handshake(&s, "RFB 003.008\n", 257);
    emit("tlsnone", SETUP(1, 1, 0), &s, RFB_S_CLOSED);

    /* A long SetEncodings and a long ClientCutText after the handshake. */
    s.n = 0;
    handshake(&s, "RFB 003.008\n", RFB_VENCRYPT_X509NONE);
    s8(&s, 1);
    {
        static int32_t enc[600];
        for (int i = 0; i < 600; i++)
            enc[i] = i % 7 == 0 ? RFB_ENC_HEXTILE : 0x100 + i;
        set_encodings(&s, enc, 600);
        char text[1500];
        memset(text, 'c', sizeof text - 1);
        text[sizeof text - 1] = '\0';
        cut_text(&s, text);
        key(&s, 1, 'k');
    }
    emit("long-messages", SETUP(0, 1, 40), &s, RFB_S_NORMAL);

    write_dict();
    printf("fuzz_rfb_seeds: %u seeds in %s\n", nseeds, dir);
    return 0;
}
#endif
