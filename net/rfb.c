/* RFB 3.8 server protocol with VeNCrypt 0.2 (net/rfb.h). */
#include "net/rfb.h"
#include "core/libc.h"

static const char version_line[12] = { 'R', 'F', 'B', ' ', '0', '0', '3', '.', '0', '0', '8', '\n' };

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Handshake output: everything queued fits by construction (the largest
 * burst is a failure reason or ServerInit), so a full queue is a bug in
 * the caller (it never drained) and the bytes are dropped. */
static void out_bytes(struct rfb *r, const void *p, size_t n)
{
    if (n > sizeof(r->out) - r->out_len)
        n = sizeof(r->out) - r->out_len;
    memcpy(r->out + r->out_len, p, n);
    r->out_len += n;
}
static void out8(struct rfb *r, uint8_t v) { out_bytes(r, &v, 1); }
static void out32(struct rfb *r, uint32_t v)
{
    uint8_t b[4];
    put32(b, v);
    out_bytes(r, b, 4);
}

void rfb_output_ack(struct rfb *r, size_t n)
{
    if (n >= r->out_len) {
        r->out_len = 0;
        return;
    }
    memmove(r->out, r->out + n, r->out_len - n);
    r->out_len -= n;
}

/* A failure reason string (u32 length + bytes), bounded. */
static void out_reason(struct rfb *r, const char *reason)
{
    size_t n = strnlen(reason, 200);
    out32(r, (uint32_t)n);
    out_bytes(r, reason, n);
}

static void expect(struct rfb *r, uint8_t need)
{
    r->have = 0;
    r->need = need;
}

void rfb_init(struct rfb *r, bool offer_plain)
{
    memset(r, 0, sizeof(*r));
    r->offer_plain = offer_plain;
    r->state = RFB_S_VERSION;
    r->enc_pref = RFB_ENC_RAW;
    rfb_pixfmt_default(&r->pf);
    out_bytes(r, version_line, sizeof(version_line));
    expect(r, 12);
}

static void fail(struct rfb *r, struct rfb_event *ev, const char *why)
{
    r->state = RFB_S_CLOSED;
    ev->type = RFB_EV_ERROR;
    ev->why = why;
}

/* SecurityResult "failed" (with the reason for 3.8 clients), then closed. */
static void security_fail(struct rfb *r, struct rfb_event *ev, const char *why)
{
    out32(r, 1);
    if (r->minor >= 8)
        out_reason(r, why);
    fail(r, ev, why);
}

static void on_version(struct rfb *r, struct rfb_event *ev)
{
    const uint8_t *m = r->msg;
    bool shape = memcmp(m, "RFB ", 4) == 0 && m[7] == '.' && m[11] == '\n';
    unsigned major = 0, minor = 0;
    for (int i = 4; shape && i < 7; i++) {
        if (m[i] < '0' || m[i] > '9')
            shape = false;
        else
            major = major * 10 + (unsigned)(m[i] - '0');
    }
    for (int i = 8; shape && i < 11; i++) {
        if (m[i] < '0' || m[i] > '9')
            shape = false;
        else
            minor = minor * 10 + (unsigned)(m[i] - '0');
    }
    if (!shape) {
        fail(r, ev, "not an RFB client (bad ProtocolVersion)");
        return;
    }
    if (major != 3 || minor < 7) {
        /* RFB 3.3 reads a u32 security type; 0 means failure + reason. */
        const char *why = "RFB 3.7 or later is required (VeNCrypt security)";
        out32(r, 0);
        out_reason(r, why);
        fail(r, ev, why);
        return;
    }
    r->minor = minor >= 8 ? 8 : 7;
    out8(r, 1);
    out8(r, RFB_SEC_VENCRYPT);
    r->state = RFB_S_SECTYPE;
    expect(r, 1);
}

static void on_sectype(struct rfb *r, struct rfb_event *ev)
{
    if (r->msg[0] != RFB_SEC_VENCRYPT) {
        security_fail(r, ev, "security type not offered (only VeNCrypt X509)");
        return;
    }
    out8(r, 0);
    out8(r, 2);
    r->state = RFB_S_VENCRYPT_VERSION;
    expect(r, 2);
}

static void on_vencrypt_version(struct rfb *r, struct rfb_event *ev)
{
    if (r->msg[0] != 0 || r->msg[1] != 2) {
        out8(r, 0xFF);
        fail(r, ev, "VeNCrypt version other than 0.2");
        return;
    }
    /* X509Plain first: TigerVNC takes the first subtype in the server's
     * order that it allows, and it cannot present a client certificate;
     * viewers with one (gtk-vnc) choose by their own preference. */
    out8(r, 0);
    out8(r, r->offer_plain ? 2 : 1);
    if (r->offer_plain)
        out32(r, RFB_VENCRYPT_X509PLAIN);
    out32(r, RFB_VENCRYPT_X509NONE);
    r->state = RFB_S_SUBTYPE;
    expect(r, 4);
}

static void on_subtype(struct rfb *r, struct rfb_event *ev)
{
    uint32_t st = get32(r->msg);
    if (st != RFB_VENCRYPT_X509NONE && !(st == RFB_VENCRYPT_X509PLAIN && r->offer_plain)) {
        out8(r, 0);
        fail(r, ev, "VeNCrypt subtype not offered (only X509None, X509Plain)");
        return;
    }
    out8(r, 1);
    r->subtype = st;
    r->state = RFB_S_TLS;
    expect(r, 0);
    ev->type = RFB_EV_START_TLS;
    ev->subtype = st;
}

void rfb_tls_up(struct rfb *r)
{
    if (r->state != RFB_S_TLS)
        return;
    if (r->subtype == RFB_VENCRYPT_X509PLAIN) {
        r->state = RFB_S_PLAIN_CREDS;
        r->ulen = r->plen = r->cred_got = 0;
        expect(r, 8);
    } else {
        r->state = RFB_S_AUTH;
        expect(r, 0);
    }
}

void rfb_auth_done(struct rfb *r, bool ok, const char *reason)
{
    memset(r->password, 0, sizeof(r->password));
    if (r->state != RFB_S_AUTH)
        return;
    if (ok) {
        out32(r, 0);
        r->state = RFB_S_CLIENT_INIT;
        expect(r, 1);
        return;
    }
    out32(r, 1);
    if (r->minor >= 8)
        out_reason(r, reason != NULL ? reason : "authentication failed");
    r->state = RFB_S_CLOSED;
}

void rfb_server_init(struct rfb *r, uint16_t w, uint16_t h, const char *name)
{
    if (r->state != RFB_S_INIT_REPLY)
        return;
    uint8_t b[4 + 16 + 4];
    r->fb_w = w;
    r->fb_h = h;
    put16(b, w);
    put16(b + 2, h);
    rfb_pixfmt_default(&r->pf);
    rfb_pixfmt_encode(&r->pf, b + 4);
    size_t n = strnlen(name, RFB_NAME_MAX);
    put32(b + 20, (uint32_t)n);
    out_bytes(r, b, sizeof(b));
    out_bytes(r, name, n);
    r->state = RFB_S_NORMAL;
    expect(r, 1);
}

/* ------------------------------------------------------ normal messages */

static void start_message(struct rfb *r, struct rfb_event *ev)
{
    switch (r->msg[0]) {
    case RFB_MSG_SET_PIXEL_FORMAT: r->need = 20; break;
    case RFB_MSG_SET_ENCODINGS:    r->need = 4; break;
    case RFB_MSG_UPDATE_REQUEST:   r->need = 10; break;
    case RFB_MSG_KEY:              r->need = 8; break;
    case RFB_MSG_POINTER:          r->need = 6; break;
    case RFB_MSG_CUT_TEXT:         r->need = 8; break;
    case RFB_MSG_QEMU:             r->need = 2; break;
    default:
        fail(r, ev, "unknown client message type");
        return;
    }
    r->msg_type = r->msg[0];
}

static void encoding_seen(struct rfb *r, int32_t e)
{
    switch (e) {
    case RFB_ENC_ZRLE:
    case RFB_ENC_HEXTILE:
    case RFB_ENC_RAW:
        if (e == RFB_ENC_ZRLE)
            r->enc_zrle = true;
        if (e == RFB_ENC_HEXTILE)
            r->enc_hextile = true;
        if (r->enc_pref == -1)
            r->enc_pref = e;
        break;
    case RFB_ENC_COPYRECT: r->enc_copyrect = true; break;
    case RFB_ENC_DESKTOPSIZE: r->enc_desktopsize = true; break;
    case RFB_ENC_QEMU_EXT_KEY: r->enc_qemu_key = true; break;
    default: break;                 /* others are not used */
    }
}

static void complete_message(struct rfb *r, struct rfb_event *ev)
{
    const uint8_t *m = r->msg;
    if (!(r->msg_type == RFB_MSG_QEMU && r->need == 2))
        r->msgs++;              /* message 255 completes in two steps: count it once */
    switch (r->msg_type) {
    case RFB_MSG_SET_PIXEL_FORMAT: {
        struct rfb_pixfmt pf;
        const char *why;
        rfb_pixfmt_decode(&pf, m + 4);
        if (!rfb_pixfmt_check(&pf, &why)) {
            fail(r, ev, why);
            return;
        }
        r->pf = pf;
        ev->type = RFB_EV_PIXEL_FORMAT;
        break;
    }
    case RFB_MSG_SET_ENCODINGS:
        r->enc_left = get16(m + 2);
        r->enc_pref = -1;
        r->enc_copyrect = r->enc_desktopsize = r->enc_qemu_key = false;
        r->enc_zrle = r->enc_hextile = false;
        if (r->enc_left == 0) {
            r->enc_pref = RFB_ENC_RAW;
            ev->type = RFB_EV_ENCODINGS;
        }
        break;
    case RFB_MSG_UPDATE_REQUEST: {
        uint32_t x = get16(m + 2), y = get16(m + 4), w = get16(m + 6), h = get16(m + 8);
        ev->type = RFB_EV_UPDATE_REQUEST;
        ev->incremental = m[1] != 0;
        ev->clipped = false;
        if (x >= r->fb_w || y >= r->fb_h || w == 0 || h == 0) {
            ev->clipped = true;
            x = y = w = h = 0;
        } else {
            if (x + w > r->fb_w) {
                w = r->fb_w - x;
                ev->clipped = true;
            }
            if (y + h > r->fb_h) {
                h = r->fb_h - y;
                ev->clipped = true;
            }
        }
        ev->x = (uint16_t)x, ev->y = (uint16_t)y, ev->w = (uint16_t)w, ev->h = (uint16_t)h;
        break;
    }
    case RFB_MSG_KEY:
        r->keys++;
        ev->type = RFB_EV_KEY;
        ev->down = m[1] != 0;
        ev->keysym = get32(m + 4);
        break;
    case RFB_MSG_POINTER:
        r->pointer_events++;
        ev->type = RFB_EV_POINTER;
        ev->buttons = m[1];
        ev->x = get16(m + 2);
        ev->y = get16(m + 4);
        break;
    case RFB_MSG_CUT_TEXT: {
        uint32_t len = get32(m + 4);
        if (len > RFB_CUT_TEXT_MAX) {
            fail(r, ev, "ClientCutText longer than 256 KiB");
            return;
        }
        r->skip = r->cut_len = len;
        ev->length = len;
        if (len == 0)
            ev->type = RFB_EV_CUT_TEXT;
        break;
    }
    case RFB_MSG_QEMU:
        if (r->need == 2) {
            if (m[1] != 0) {
                fail(r, ev, "unsupported QEMU client message subtype");
                return;
            }
            r->need = 12;       /* the rest of the extended key event */
            return;
        }
        r->keys++;
        ev->type = RFB_EV_QEMU_KEY;
        ev->down = get16(m + 2) != 0;
        ev->keysym = get32(m + 4);
        ev->keycode = get32(m + 8);
        break;
    }
    expect(r, 1);
}

/* ------------------------------------------------------------------ feed */

size_t rfb_feed(struct rfb *r, const uint8_t *in, size_t len, struct rfb_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = RFB_EV_NONE;
    size_t used = 0;

    switch (r->state) {
    case RFB_S_TLS:
    case RFB_S_AUTH:
    case RFB_S_INIT_REPLY:
    case RFB_S_CLOSED:
        return 0;
    default:
        break;
    }

    /* Variable-length tails. */
    if (r->skip > 0) {
        size_t n = len < r->skip ? len : r->skip;
        r->skip -= (uint32_t)n;
        r->cut_bytes += n;
        if (r->skip == 0) {
            ev->type = RFB_EV_CUT_TEXT;
            ev->length = r->cut_len;
        }
        return n;
    }
    if (r->state == RFB_S_PLAIN_CREDS && r->need == 0) {
        uint32_t total = r->ulen + r->plen;
        while (used < len && r->cred_got < total) {
            uint32_t i = r->cred_got++;
            char c = (char)in[used++];
            if (i < r->ulen)
                r->user[i] = c;
            else
                r->password[i - r->ulen] = c;
        }
        if (r->cred_got == total) {
            r->user[r->ulen] = '\0';
            r->password[r->plen] = '\0';
            if (strlen(r->user) != r->ulen || strlen(r->password) != r->plen) {
                r->state = RFB_S_AUTH;
                security_fail(r, ev, "NUL byte in X509Plain credentials");
                memset(r->password, 0, sizeof(r->password));
                return used;
            }
            r->state = RFB_S_AUTH;
            ev->type = RFB_EV_PLAIN_CREDS;
            ev->user = r->user;
            ev->password = r->password;
        }
        return used;
    }

    while (used < len && r->have < r->need)
        r->msg[r->have++] = in[used++];
    if (r->have < r->need)
        return used;

    if (r->enc_left > 0) {
        encoding_seen(r, (int32_t)get32(r->msg));
        if (--r->enc_left == 0) {
            if (r->enc_pref == -1)
                r->enc_pref = RFB_ENC_RAW;
            ev->type = RFB_EV_ENCODINGS;
            expect(r, 1);
        } else {
            expect(r, 4);
        }
        return used;
    }

    switch (r->state) {
    case RFB_S_VERSION: on_version(r, ev); break;
    case RFB_S_SECTYPE: on_sectype(r, ev); break;
    case RFB_S_VENCRYPT_VERSION: on_vencrypt_version(r, ev); break;
    case RFB_S_SUBTYPE: on_subtype(r, ev); break;
    case RFB_S_PLAIN_CREDS:
        r->ulen = get32(r->msg);
        r->plen = get32(r->msg + 4);
        if (r->ulen > RFB_CRED_MAX || r->plen > RFB_CRED_MAX) {
            r->state = RFB_S_AUTH;
            security_fail(r, ev, "X509Plain user name or password longer than 255 bytes");
            break;
        }
        r->cred_got = 0;
        expect(r, 0);
        if (r->ulen + r->plen == 0) {
            r->user[0] = r->password[0] = '\0';
            r->state = RFB_S_AUTH;
            ev->type = RFB_EV_PLAIN_CREDS;
            ev->user = r->user;
            ev->password = r->password;
        }
        break;
    case RFB_S_CLIENT_INIT:
        ev->type = RFB_EV_CLIENT_INIT;
        ev->shared = r->msg[0] != 0;
        r->state = RFB_S_INIT_REPLY;
        expect(r, 0);
        break;
    case RFB_S_NORMAL:
        if (r->have == 1 && r->need == 1) {
            start_message(r, ev);
            if (r->state == RFB_S_NORMAL && r->have == r->need)
                complete_message(r, ev);
        } else {
            complete_message(r, ev);
        }
        if (r->state == RFB_S_NORMAL && r->msg_type == RFB_MSG_SET_ENCODINGS &&
            r->enc_left > 0)
            expect(r, 4);
        break;
    default:
        break;
    }
    return used;
}

/* --------------------------------------------------------------- writers */

size_t rfb_put_update_header(uint8_t *out, uint16_t nrects)
{
    out[0] = RFB_SMSG_UPDATE;
    out[1] = 0;
    put16(out + 2, nrects);
    return 4;
}

size_t rfb_put_rect_header(uint8_t *out, uint16_t x, uint16_t y, uint16_t w, uint16_t h,
                           int32_t encoding)
{
    put16(out, x);
    put16(out + 2, y);
    put16(out + 4, w);
    put16(out + 6, h);
    put32(out + 8, (uint32_t)encoding);
    return 12;
}

size_t rfb_put_copyrect(uint8_t *out, uint16_t src_x, uint16_t src_y)
{
    put16(out, src_x);
    put16(out + 2, src_y);
    return 4;
}

size_t rfb_put_bell(uint8_t *out)
{
    out[0] = RFB_SMSG_BELL;
    return 1;
}
