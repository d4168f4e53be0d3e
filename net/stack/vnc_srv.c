/* VNC over TLS for the shadow VGA and keyboard (net/stack/vnc_srv.h). */
#include "net/stack/vnc_srv.h"
#include "core/fmt.h"
#include "core/libc.h"
#include "net/port.h"
#include "net/rfb.h"
#include "net/rfb_enc.h"
#include "shadow/keymap.h"
#include <lwip/altcp.h>
#include <lwip/altcp_tcp.h>
#include <lwip/pbuf.h>
#include <lwip/tcp.h>
#include <zlib.h>

#define VNC_OBUF        (128 * 1024)    /* encoded update bytes waiting for TCP */
#define VNC_STRIP_MAX   (64 * 1024)     /* one encoded rectangle at most */
#define VNC_ZARENA      (64 * 1024)     /* zlib's memory per session */
#define VNC_KEYQ        64              /* key events waiting for the keyboard */
#define VNC_AUTH_TIMEOUT_DEFAULT_MS 30000
#define VNC_COPY_MIN_ROWS 8             /* shorter scrolls are just re-encoded */
#define VNC_MAX_RUNS    (VGA_MAX_HEIGHT / 2)
#define VNC_RENDER_MIN_MS 20            /* a VM's screen is looked at no more often */

#define KEYSYM_SHIFT_L  0xffe1
#define KEYSYM_SHIFT_R  0xffe2
#define SET1_LSHIFT     0x2a

struct key_ev {
    uint8_t code;
    bool extended, down;
};

struct vnc_vm {
    bool used;
    struct vga *vga;
    struct i8042 *kbd;
    uint32_t *fb;
    void *lock;
    void (*before_render)(void *arg);
    void *arg;
    struct altcp_pcb *listener;         /* kept after a remove: the port stays bound */
    unsigned w, h;                      /* picture size of the last render */
    uint64_t last_render_ms;
    bool rendered;                      /* fb holds a picture */
    uint64_t hash[VGA_MAX_HEIGHT];      /* per fb row, of the current picture */
    struct key_ev keyq[VNC_KEYQ];
    unsigned keyq_head, keyq_count;
};

enum vnc_phase { VP_FREE, VP_PLAIN, VP_TLS_HANDSHAKE, VP_TLS };

struct run {
    uint16_t y0, y1;
};

/* One FramebufferUpdate being streamed out. */
struct plan {
    bool active;
    uint16_t x0, x1;                    /* columns of every strip */
    int32_t enc;
    struct rfb_pixfmt pf;               /* the whole update in one format */
    uint16_t strip_h;
    unsigned nruns, run;                /* runs of rows to encode, current one */
    uint16_t y;                         /* next row of the current run */
    struct run runs[VNC_MAX_RUNS];
};

struct vnc_session {
    uint8_t phase;
    uint8_t gen;
    unsigned vm;
    struct altcp_pcb *pcb;              /* plain TCP, then the TLS pcb */
    struct pbuf *rx;
    uint32_t rx_taken;                  /* bytes of rx consumed, not yet recved */
    bool closing;
    bool viewing;                       /* ServerInit sent */
    bool want_update;
    bool bell;
    bool qemu_ack_due;
    bool shift_down;                    /* client holds a Shift key */
    bool warned_size;
    uint16_t fb_w, fb_h;                /* size the client was told */
    struct vga_rect pending;            /* changed since this viewer's last update */
    uint64_t start_ms, last_input_ms;
    char label[32];
    char cn[POLICY_CN_MAX + 1];
    struct rfb rfb;
    struct plan plan;
    size_t olen, ooff;                  /* obuf: bytes queued, bytes given to TCP */
    z_stream zs;
    bool zs_ready;
    size_t zarena_used;
    uint8_t zarena[VNC_ZARENA];
    uint64_t view[VGA_MAX_HEIGHT];      /* row hashes of what the client shows; 0: unknown */
    uint8_t obuf[VNC_OBUF];
};

static struct vnc_vm vms[VNC_SRV_MAX_VMS];
static struct vnc_session sessions[VNC_SRV_MAX_SESSIONS];
static struct vnc_srv_config config;
static struct vnc_srv_stats stats;
static bool started;
static uint8_t scratch[VNC_STRIP_MAX];  /* ZRLE before deflate */

static void session_close(struct vnc_session *s, bool abort);
static void session_flush(struct vnc_session *s);

/* ------------------------------------------------------------- helpers */

static void rect_union(struct vga_rect *a, const struct vga_rect *b)
{
    if (b->w == 0 || b->h == 0)
        return;
    if (a->w == 0 || a->h == 0) {
        *a = *b;
        return;
    }
    uint32_t x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
    uint32_t x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
    uint32_t y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;
    *a = (struct vga_rect){ x0, y0, x1 - x0, y1 - y0 };
}

/* PBKDF2-HMAC-SHA256 (RFC 8018), one 32-byte block. */
static void pbkdf2_sha256(const char *pw, size_t pwlen, const uint8_t *salt, size_t saltlen,
                          uint32_t iter, uint8_t out[32])
{
    br_hmac_key_context kc;
    br_hmac_context hc;
    uint8_t u[32];
    static const uint8_t block1[4] = { 0, 0, 0, 1 };
    br_hmac_key_init(&kc, &br_sha256_vtable, pw, pwlen);
    br_hmac_init(&hc, &kc, 0);
    br_hmac_update(&hc, salt, saltlen);
    br_hmac_update(&hc, block1, 4);
    br_hmac_out(&hc, u);
    memcpy(out, u, 32);
    for (uint32_t i = 1; i < iter; i++) {
        br_hmac_init(&hc, &kc, 0);
        br_hmac_update(&hc, u, 32);
        br_hmac_out(&hc, u);
        for (int j = 0; j < 32; j++)
            out[j] ^= u[j];
    }
    memset(u, 0, sizeof(u));
    memset(&kc, 0, sizeof(kc));
}

static bool equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++)
        d |= a[i] ^ b[i];
    return d == 0;
}

/* zlib's allocator: a bump arena per session, emptied when it ends. */
static voidpf zarena_alloc(voidpf opaque, uInt items, uInt size)
{
    struct vnc_session *s = opaque;
    size_t n = ((size_t)items * size + 15) & ~(size_t)15;
    if (items != 0 && n / items < size)
        return Z_NULL;
    if (n > sizeof(s->zarena) - s->zarena_used)
        return Z_NULL;
    void *p = s->zarena + s->zarena_used;
    s->zarena_used += n;
    return p;
}

static void zarena_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    (void)p;
}

/* --------------------------------------------------------------- output */

static bool obuf_room(const struct vnc_session *s, size_t n)
{
    return s->olen + n <= sizeof(s->obuf);
}

static void session_flush(struct vnc_session *s)
{
    if (s->pcb == NULL || s->closing || s->phase == VP_TLS_HANDSHAKE)
        return;
    bool wrote = false;
    size_t hlen;
    const uint8_t *h = rfb_output(&s->rfb, &hlen);
    while (hlen > 0) {
        size_t room = altcp_sndbuf(s->pcb);
        size_t n = hlen < room ? hlen : room;
        if (n == 0 || altcp_write(s->pcb, h, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        rfb_output_ack(&s->rfb, n);
        stats.bytes_sent += n;
        wrote = true;
        h = rfb_output(&s->rfb, &hlen);
    }
    while (hlen == 0 && s->ooff < s->olen) {
        size_t room = altcp_sndbuf(s->pcb);
        size_t n = s->olen - s->ooff;
        if (n > room)
            n = room;
        if (n > 0xffff)
            n = 0xffff;
        if (n == 0 || altcp_write(s->pcb, s->obuf + s->ooff, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        s->ooff += n;
        stats.bytes_sent += n;
        wrote = true;
    }
    if (s->ooff == s->olen)
        s->ooff = s->olen = 0;
    else if (s->ooff > sizeof(s->obuf) / 2) {
        memmove(s->obuf, s->obuf + s->ooff, s->olen - s->ooff);
        s->olen -= s->ooff;
        s->ooff = 0;
    }
    if (wrote)
        altcp_output(s->pcb);
}

/* ------------------------------------------------------------- sessions */

static void session_free(struct vnc_session *s)
{
    if (s->rx != NULL)
        pbuf_free(s->rx);
    s->rx = NULL;
    if (s->zs_ready)
        deflateEnd(&s->zs);
    s->zs_ready = false;
    memset(&s->rfb, 0, sizeof(s->rfb));
    s->phase = VP_FREE;
    s->gen++;
    stats.sessions--;
    if (s->viewing)
        stats.viewing--;
    s->viewing = false;
    stats.closed++;
}

static void detach(struct altcp_pcb *pcb)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
}

/* Ends the session: flushes what is queued, then closes (or resets). */
static void session_close(struct vnc_session *s, bool abort)
{
    if (s->phase == VP_FREE)
        return;
    struct altcp_pcb *pcb = s->pcb;
    bool handshake = s->phase == VP_TLS_HANDSHAKE;
    if (pcb != NULL && !handshake) {
        if (!abort)
            session_flush(s);
        /* Give the window back first: lwIP resets instead of closing a
         * connection with received bytes it was not told were taken, and
         * the reset would drop the reason just queued. */
        if (s->rx != NULL) {
            uint32_t left = s->rx->tot_len;
            while (left > 0) {
                u16_t n = left > 0xffff ? 0xffff : (u16_t)left;
                altcp_recved(pcb, n);
                left -= n;
            }
        }
        detach(pcb);
    }
    s->pcb = NULL;
    session_free(s);
    if (pcb != NULL && handshake) {
        /* The TLS layer owns the handshake; its ready(NULL) now finds a
         * newer generation and does nothing. */
        altcp_abort(pcb);
    } else if (pcb != NULL && (abort || altcp_close(pcb) != ERR_OK)) {
        altcp_abort(pcb);
    }
}

static void *token_of(struct vnc_session *s)
{
    return (void *)(uintptr_t)((size_t)(s - sessions) | (size_t)s->gen << 8);
}

static struct vnc_session *session_of_token(void *arg)
{
    uintptr_t t = (uintptr_t)arg;
    size_t i = t & 0xff;
    if (i >= VNC_SRV_MAX_SESSIONS)
        return NULL;
    struct vnc_session *s = &sessions[i];
    return s->phase != VP_FREE && s->gen == (uint8_t)(t >> 8) ? s : NULL;
}

/* ------------------------------------------------------------- keyboard */

static void key_push(struct vnc_session *s, uint8_t code, bool extended, bool down)
{
    struct vnc_vm *v = &vms[s->vm];
    if (v->keyq_count == VNC_KEYQ) {
        stats.keys_dropped++;
        return;
    }
    v->keyq[(v->keyq_head + v->keyq_count++) % VNC_KEYQ] = (struct key_ev){ code, extended, down };
    stats.keys++;
}

/* Moves queued key events into the keyboard while its buffer has room for
 * a whole event (at most 3 bytes in set 2: E0 F0 code). */
static void keys_feed(struct vnc_vm *v)
{
    if (v->keyq_count == 0)
        return;
    net_port_vm_lock(v->lock);
    while (v->keyq_count > 0 && PS2KBD_QUEUE_SIZE - v->kbd->kbd.count > 4) {
        struct key_ev *k = &v->keyq[v->keyq_head];
        if (!i8042_key(v->kbd, k->code, k->extended, k->down))
            stats.keys_dropped++;
        v->keyq_head = (v->keyq_head + 1) % VNC_KEYQ;
        v->keyq_count--;
    }
    net_port_vm_unlock(v->lock);
}

static void on_keysym(struct vnc_session *s, uint32_t keysym, bool down)
{
    uint8_t code;
    bool ext, shift;
    if (keysym == KEYSYM_SHIFT_L || keysym == KEYSYM_SHIFT_R)
        s->shift_down = down;
    if (keymap_keysym_to_set1(keysym, &code, &ext, &shift) != 0) {
        stats.keys_dropped++;
        return;
    }
    /* A shifted character from a viewer that did not send Shift itself. */
    bool synth = down && shift && !s->shift_down;
    if (synth)
        key_push(s, SET1_LSHIFT, false, true);
    key_push(s, code, ext, down);
    if (synth)
        key_push(s, SET1_LSHIFT, false, false);
}

/* QEMU extended key event: an XT (set 1) code, E0-prefixed keys with bit 7
 * set (QEMU's key numbers) or, from some viewers, as 0xE0xx. */
static void on_qemu_key(struct vnc_session *s, uint32_t keysym, uint32_t keycode, bool down)
{
    if (keycode == 0) {                 /* no scancode known: use the keysym */
        on_keysym(s, keysym, down);
        return;
    }
    bool ext;
    uint8_t code;
    if ((keycode >> 8) == 0xE0) {
        ext = true;
        code = (uint8_t)(keycode & 0x7f);
    } else if (keycode <= 0xff) {
        ext = (keycode & 0x80) != 0;
        code = (uint8_t)(keycode & 0x7f);
    } else {
        stats.keys_dropped++;
        return;
    }
    if (keysym == KEYSYM_SHIFT_L || keysym == KEYSYM_SHIFT_R)
        s->shift_down = down;
    key_push(s, code, ext, down);
}

/* ------------------------------------------------------- authentication */

static void auth_verdict(struct vnc_session *s, bool ok, const char *why)
{
    if (ok) {
        net_log("vnc %s: VM %u: tenant %s authenticated (%s)", s->label, s->vm, s->cn,
                s->rfb.subtype == RFB_VENCRYPT_X509PLAIN ? "X509Plain password" : "X509None certificate");
    } else {
        stats.auth_failed++;
        net_log("vnc %s: VM %u: refused: %s", s->label, s->vm, why);
    }
    rfb_auth_done(&s->rfb, ok, ok ? NULL : why);
}

static void check_certificate(struct vnc_session *s)
{
    const char *cn = altcp_bearssl_peer_cn(s->pcb);
    size_t n = strnlen(cn, POLICY_CN_MAX);
    memcpy(s->cn, cn, n);
    s->cn[n] = '\0';
    if (!policy_allows(config.policy, s->cn, n, s->vm)) {
        char why[128];
        fmt_snprintf(why, sizeof(why), "tenant %s may not reach VM %u", s->cn, s->vm);
        auth_verdict(s, false, why);
        return;
    }
    auth_verdict(s, true, NULL);
}

static void check_password(struct vnc_session *s, const char *user, const char *password)
{
    size_t ulen = strlen(user);
    const struct policy_tenant *t = policy_tenant(config.policy, user, ulen);
    uint8_t hash[32];
    /* The same work whether or not the user exists. */
    static const uint8_t dummy_salt[8];
    pbkdf2_sha256(password, strlen(password), t && t->pw_iter ? t->pw_salt : dummy_salt,
                  t && t->pw_iter ? t->pw_salt_len : sizeof(dummy_salt),
                  t && t->pw_iter ? t->pw_iter : POLICY_PW_ITER_MIN, hash);
    bool match = t != NULL && t->pw_iter != 0 && equal_ct(hash, t->pw_hash, sizeof(hash));
    memset(hash, 0, sizeof(hash));
    size_t n = ulen < POLICY_CN_MAX ? ulen : POLICY_CN_MAX;
    memcpy(s->cn, user, n);
    s->cn[n] = '\0';
    if (!match) {
        char why[128];
        fmt_snprintf(why, sizeof(why), "X509Plain: wrong user name or password (user '%s')", s->cn);
        auth_verdict(s, false, why);
        return;
    }
    if (!policy_allows(config.policy, s->cn, n, s->vm)) {
        char why[128];
        fmt_snprintf(why, sizeof(why), "tenant %s may not reach VM %u", s->cn, s->vm);
        auth_verdict(s, false, why);
        return;
    }
    auth_verdict(s, true, NULL);
}

/* -------------------------------------------------------------- updates */

static void vm_render_locked(struct vnc_vm *v);

static void vm_render(struct vnc_vm *v)
{
    net_port_vm_lock(v->lock);
    if (v->before_render != NULL)
        v->before_render(v->arg);
    vm_render_locked(v);
    net_port_vm_unlock(v->lock);
}

static void vm_render_locked(struct vnc_vm *v)
{
    unsigned w, h;
    enum vga_kind kind;
    vga_mode_info(v->vga, &w, &h, &kind);
    if (w > VGA_MAX_WIDTH)
        w = VGA_MAX_WIDTH;
    if (h > VGA_MAX_HEIGHT)
        h = VGA_MAX_HEIGHT;
    struct vga_rect d;
    if (!v->rendered)
        v->vga->full_dirty = true;      /* the first picture is drawn whole */
    if (!vga_render(v->vga, v->fb, VGA_MAX_WIDTH, &d)) {
        stats.renders_idle++;
        return;
    }
    stats.renders++;
    bool resized = w != v->w || h != v->h || !v->rendered;
    v->w = w;
    v->h = h;
    v->rendered = true;
    if (resized)
        d = (struct vga_rect){ 0, 0, w, h };
    if (d.x + d.w > w)
        d.w = d.x < w ? w - d.x : 0;
    if (d.y + d.h > h)
        d.h = d.y < h ? h - d.y : 0;
    for (uint32_t y = d.y; y < d.y + d.h; y++)
        v->hash[y] = rfb_row_hash(v->fb + (size_t)y * VGA_MAX_WIDTH, w);
    for (unsigned i = 0; i < VNC_SRV_MAX_SESSIONS; i++) {
        struct vnc_session *s = &sessions[i];
        if (s->phase != VP_TLS || !s->viewing || &vms[s->vm] != v)
            continue;
        rect_union(&s->pending, &d);
        if (s->plan.active)            /* rows being sent may now be stale */
            for (uint32_t y = d.y; y < d.y + d.h && y < VGA_MAX_HEIGHT; y++)
                s->view[y] = 0;
    }
}

static size_t enc_bound(const struct rfb_pixfmt *pf, int32_t enc, unsigned w, unsigned h)
{
    switch (enc) {
    case RFB_ENC_ZRLE: {                /* deflate's worst-case growth, then the length */
        size_t b = rfb_enc_zrle_raw_bound(pf, w, h);
        return b + b / 1000 + 64 + 4;
    }
    case RFB_ENC_HEXTILE: return rfb_enc_hextile_bound(pf, w, h);
    default: return rfb_enc_raw_bound(pf, w, h);
    }
}

/* Picks the best vertical shift: rows the client already shows elsewhere. */
static bool find_scroll(const struct vnc_session *s, const struct vnc_vm *v, unsigned h,
                        uint16_t *dst_y, uint16_t *src_y, uint16_t *rows)
{
    unsigned best = 0, best_dst = 0;
    int best_dy = 0;
    for (int dy = -(int)h + 1; dy < (int)h; dy++) {
        if (dy == 0)
            continue;
        unsigned run = 0;
        unsigned y_lo = dy < 0 ? (unsigned)-dy : 0, y_hi = dy > 0 ? h - (unsigned)dy : h;
        for (unsigned y = y_lo; y <= y_hi; y++) {
            bool m = y < y_hi && v->hash[y] != s->view[y] && s->view[y + dy] == v->hash[y];
            if (m) {
                run++;
                continue;
            }
            if (run > best) {
                best = run;
                best_dst = y - run;
                best_dy = dy;
            }
            run = 0;
        }
    }
    if (best < VNC_COPY_MIN_ROWS)
        return false;
    *dst_y = (uint16_t)best_dst;
    *src_y = (uint16_t)((int)best_dst + best_dy);
    *rows = (uint16_t)best;
    return true;
}

/* Starts a FramebufferUpdate if the viewer asked and something is due. */
static void plan_start(struct vnc_session *s)
{
    struct vnc_vm *v = &vms[s->vm];
    struct plan *p = &s->plan;
    if (!s->want_update || p->active || !v->rendered)
        return;
    bool resize = (v->w != s->fb_w || v->h != s->fb_h) && s->rfb.enc_desktopsize;
    if (!resize && (v->w != s->fb_w || v->h != s->fb_h) && !s->warned_size) {
        s->warned_size = true;
        net_log("vnc %s: VM %u: screen now %ux%u, viewer keeps %ux%u (no DesktopSize support)",
                s->label, s->vm, v->w, v->h, s->fb_w, s->fb_h);
    }
    unsigned w = resize ? v->w : (v->w < s->fb_w ? v->w : s->fb_w);
    unsigned h = resize ? v->h : (v->h < s->fb_h ? v->h : s->fb_h);
    if (resize) {
        s->pending = (struct vga_rect){ 0, 0, w, h };
        for (unsigned y = 0; y < VGA_MAX_HEIGHT; y++)
            s->view[y] = 0;
    }
    /* Clip what is pending to what the viewer has. */
    struct vga_rect d = s->pending;
    if (d.x >= w || d.y >= h)
        d.w = d.h = 0;
    if (d.w > 0 && d.x + d.w > w)
        d.w = w - d.x;
    if (d.h > 0 && d.y + d.h > h)
        d.h = h - d.y;
    if ((d.w == 0 || d.h == 0) && !resize && !s->qemu_ack_due)
        return;

    if (!obuf_room(s, 4 + 12 * 3 + 4))
        return;                         /* next poll, once TCP took some */
    unsigned nrects = 0;
    bool copy = false;
    uint16_t cdst = 0, csrc = 0, crows = 0;
    if (!resize && s->rfb.enc_copyrect && d.w > 0 && d.h > 0) {
        unsigned changed = 0;
        for (unsigned y = 0; y < h; y++)
            changed += s->view[y] != v->hash[y];
        if (changed >= VNC_COPY_MIN_ROWS)
            copy = find_scroll(s, v, h, &cdst, &csrc, &crows);
    }

    /* Rows to encode: pending rows the viewer does not show yet. */
    p->nruns = 0;
    p->x0 = (uint16_t)d.x;
    p->x1 = (uint16_t)(d.x + d.w);
    if (copy) {                         /* the copy fixes whole rows */
        uint64_t moved[VGA_MAX_HEIGHT];
        for (unsigned i = 0; i < crows; i++)
            moved[i] = s->view[csrc + i];
        for (unsigned i = 0; i < crows; i++)
            s->view[cdst + i] = moved[i];
    }
    for (uint32_t y = d.y; y < d.y + d.h; y++) {
        bool need = s->view[y] != v->hash[y];
        if (!need)
            continue;
        if (p->nruns > 0 && p->runs[p->nruns - 1].y1 == y)
            p->runs[p->nruns - 1].y1 = (uint16_t)(y + 1);
        else if (p->nruns < VNC_MAX_RUNS)
            p->runs[p->nruns++] = (struct run){ (uint16_t)y, (uint16_t)(y + 1) };
        else
            p->runs[p->nruns - 1].y1 = (uint16_t)(y + 1);
    }
    p->enc = s->rfb.enc_pref;
    p->pf = s->rfb.pf;
    unsigned sw = p->x1 - p->x0;
    p->strip_h = 16;
    while (sw > 0 && p->strip_h > 1 && enc_bound(&p->pf, p->enc, sw, p->strip_h) + 16 > VNC_STRIP_MAX)
        p->strip_h /= 2;
    for (unsigned i = 0; i < p->nruns; i++) {
        unsigned rh = p->runs[i].y1 - p->runs[i].y0;
        nrects += (rh + p->strip_h - 1) / p->strip_h;
    }
    nrects += copy + resize + s->qemu_ack_due;
    if (nrects == 0) {
        s->pending = (struct vga_rect){ 0, 0, 0, 0 };
        return;
    }
    s->olen += rfb_put_update_header(s->obuf + s->olen, (uint16_t)nrects);
    if (s->qemu_ack_due) {
        s->olen += rfb_put_rect_header(s->obuf + s->olen, 0, 0, 0, 0, RFB_ENC_QEMU_EXT_KEY);
        s->qemu_ack_due = false;
    }
    if (resize) {
        s->olen += rfb_put_rect_header(s->obuf + s->olen, 0, 0, (uint16_t)w, (uint16_t)h,
                                       RFB_ENC_DESKTOPSIZE);
        s->fb_w = (uint16_t)w;
        s->fb_h = (uint16_t)h;
        s->rfb.fb_w = s->fb_w;
        s->rfb.fb_h = s->fb_h;
        net_log("vnc %s: VM %u: desktop size %ux%u", s->label, s->vm, w, h);
    }
    if (copy) {
        s->olen += rfb_put_rect_header(s->obuf + s->olen, 0, cdst, (uint16_t)w, crows, RFB_ENC_COPYRECT);
        s->olen += rfb_put_copyrect(s->obuf + s->olen, 0, csrc);
        stats.copyrects++;
    }
    stats.updates++;
    stats.rects += nrects;
    s->want_update = false;
    s->pending = (struct vga_rect){ 0, 0, 0, 0 };
    p->run = 0;
    p->y = p->nruns > 0 ? p->runs[0].y0 : 0;
    p->active = p->nruns > 0;
}

/* Encodes the next strips while the output buffer has room. */
static bool plan_step(struct vnc_session *s)
{
    struct vnc_vm *v = &vms[s->vm];
    struct plan *p = &s->plan;
    bool moved = false;
    unsigned w = p->x1 - p->x0;
    while (p->active) {
        struct run *r = &p->runs[p->run];
        unsigned h = r->y1 - p->y < p->strip_h ? r->y1 - p->y : p->strip_h;
        size_t bound = enc_bound(&p->pf, p->enc, w, h) + 12;
        if (!obuf_room(s, bound))
            break;
        uint8_t *out = s->obuf + s->olen;
        size_t n = rfb_put_rect_header(out, p->x0, p->y, (uint16_t)w, (uint16_t)h, p->enc);
        const uint32_t *fb = v->fb;
        size_t body = 0;
        if (p->enc == RFB_ENC_ZRLE) {
            size_t raw = rfb_enc_zrle_raw(&p->pf, fb, VGA_MAX_WIDTH, p->x0, p->y, w, h,
                                          scratch, sizeof(scratch));
            s->zs.next_in = scratch;
            s->zs.avail_in = (uInt)raw;
            s->zs.next_out = out + n + 4;
            s->zs.avail_out = (uInt)(sizeof(s->obuf) - s->olen - n - 4);
            int zr = deflate(&s->zs, Z_SYNC_FLUSH);
            if (raw == 0 || zr != Z_OK || s->zs.avail_in != 0) {
                net_log("vnc %s: ZRLE encoding failed (zlib %d); closing", s->label, zr);
                session_close(s, true);
                return false;
            }
            body = (size_t)(s->zs.next_out - (out + n + 4));
            out[n] = (uint8_t)(body >> 24);
            out[n + 1] = (uint8_t)(body >> 16);
            out[n + 2] = (uint8_t)(body >> 8);
            out[n + 3] = (uint8_t)body;
            body += 4;
        } else if (p->enc == RFB_ENC_HEXTILE) {
            body = rfb_enc_hextile(&p->pf, fb, VGA_MAX_WIDTH, p->x0, p->y, w, h, out + n, bound - n);
        } else {
            body = rfb_enc_raw(&p->pf, fb, VGA_MAX_WIDTH, p->x0, p->y, w, h, out + n, bound - n);
        }
        if (body == 0) {
            net_log("vnc %s: encoding %d failed; closing", s->label, (int)p->enc);
            session_close(s, true);
            return false;
        }
        s->olen += n + body;
        /* The viewer now shows these rows as they are (pending's invariant:
         * nothing outside x0..x1 differs), unless they change meanwhile. */
        for (unsigned y = p->y; y < p->y + h; y++)
            s->view[y] = v->hash[y];
        moved = true;
        p->y = (uint16_t)(p->y + h);
        if (p->y >= r->y1) {
            if (++p->run >= p->nruns)
                p->active = false;
            else
                p->y = p->runs[p->run].y0;
        }
    }
    return moved;
}

/* ------------------------------------------------------------ protocol */

static void tls_ready(void *arg, struct altcp_pcb *tls);
static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t len);
static void on_err(void *arg, err_t err);

static void attach(struct vnc_session *s, struct altcp_pcb *pcb)
{
    s->pcb = pcb;
    altcp_arg(pcb, token_of(s));
    altcp_recv(pcb, on_recv);
    altcp_sent(pcb, on_sent);
    altcp_err(pcb, on_err);
}

static void start_tls(struct vnc_session *s, uint32_t subtype)
{
    session_flush(s);                   /* the VeNCrypt "accepted" byte */
    struct altcp_pcb *tcp = s->pcb;
    struct pbuf *early = s->rx;
    if (early != NULL && s->rx_taken > 0) {
        altcp_recved(tcp, (u16_t)s->rx_taken);
        early = pbuf_free_header(early, (u16_t)s->rx_taken);
    }
    s->rx = NULL;
    s->rx_taken = 0;
    detach(tcp);
    s->phase = VP_TLS_HANDSHAKE;
    struct altcp_pcb *tls = altcp_bearssl_wrap(config.tls, tcp, subtype == RFB_VENCRYPT_X509NONE,
                                               tls_ready, token_of(s), early);
    if (tls == NULL) {
        if (early != NULL)
            pbuf_free(early);
        s->phase = VP_PLAIN;
        s->pcb = tcp;
        session_close(s, true);
        return;
    }
    s->pcb = tls;
}

static void tls_ready(void *arg, struct altcp_pcb *tls)
{
    struct vnc_session *s = session_of_token(arg);
    if (s == NULL) {
        if (tls != NULL)
            altcp_abort(tls);
        return;
    }
    if (tls == NULL) {                  /* handshake failed: logged by the TLS layer */
        stats.auth_failed++;
        s->pcb = NULL;
        session_free(s);
        return;
    }
    s->phase = VP_TLS;
    attach(s, tls);
    rfb_tls_up(&s->rfb);
    if (s->rfb.subtype == RFB_VENCRYPT_X509NONE)
        check_certificate(s);
    session_flush(s);
    if (s->rfb.state == RFB_S_CLOSED)
        session_close(s, false);
}

/* Feeds what was received to the protocol; false if the session ended. */
static bool session_input(struct vnc_session *s)
{
    while (s->rx != NULL && s->phase != VP_FREE) {
        struct rfb_event ev;
        struct pbuf *q = s->rx;
        /* Skip what was taken: rx_taken counts from the chain's start. */
        uint32_t off = s->rx_taken;
        while (q != NULL && off >= q->len) {
            off -= q->len;
            q = q->next;
        }
        if (q == NULL)
            break;
        size_t used = rfb_feed(&s->rfb, (const uint8_t *)q->payload + off, q->len - off, &ev);
        s->rx_taken += (uint32_t)used;
        if (used == 0 && ev.type == RFB_EV_NONE)
            break;                      /* waiting for us (TLS, auth) */
        switch (ev.type) {
        case RFB_EV_NONE:
            break;
        case RFB_EV_ERROR:
            net_log("vnc %s: VM %u: closing: %s", s->label, s->vm, ev.why);
            stats.refused++;
            session_close(s, false);
            return false;
        case RFB_EV_START_TLS:
            start_tls(s, ev.subtype);
            return s->phase != VP_FREE;
        case RFB_EV_PLAIN_CREDS:
            check_password(s, ev.user, ev.password);
            if (s->rfb.state == RFB_S_CLOSED) {
                session_close(s, false);
                return false;
            }
            break;
        case RFB_EV_CLIENT_INIT: {
            struct vnc_vm *v = &vms[s->vm];
            if (!v->rendered)
                vm_render(v);
            char name[RFB_NAME_MAX + 1];
            fmt_snprintf(name, sizeof(name), "vsbypass VM %u", s->vm);
            s->fb_w = (uint16_t)v->w;
            s->fb_h = (uint16_t)v->h;
            rfb_server_init(&s->rfb, s->fb_w, s->fb_h, name);
            s->viewing = true;
            stats.viewing++;
            s->pending = (struct vga_rect){ 0, 0, s->fb_w, s->fb_h };
            for (unsigned y = 0; y < VGA_MAX_HEIGHT; y++)
                s->view[y] = 0;
            net_log("vnc %s: VM %u: viewer connected (%ux%u, %s)", s->label, s->vm, s->fb_w,
                    s->fb_h, ev.shared ? "shared" : "exclusive asked; shared anyway");
            break;
        }
        case RFB_EV_PIXEL_FORMAT:
            /* Nothing sent so far in the old format stays valid; the viewer
             * asks for a full update after this. */
            break;
        case RFB_EV_ENCODINGS:
            if (s->rfb.enc_qemu_key)
                s->qemu_ack_due = true;
            break;
        case RFB_EV_UPDATE_REQUEST:
            s->last_input_ms = net_port_now_ms();
            if (ev.w == 0 || ev.h == 0) {
                net_log("vnc %s: VM %u: update request outside the %ux%u screen ignored",
                        s->label, s->vm, s->fb_w, s->fb_h);
                break;
            }
            if (!ev.incremental) {
                struct vga_rect r = { ev.x, ev.y, ev.w, ev.h };
                rect_union(&s->pending, &r);
                for (unsigned y = ev.y; y < (unsigned)ev.y + ev.h && y < VGA_MAX_HEIGHT; y++)
                    s->view[y] = 0;
            }
            s->want_update = true;
            break;
        case RFB_EV_KEY:
            s->last_input_ms = net_port_now_ms();
            on_keysym(s, ev.keysym, ev.down);
            break;
        case RFB_EV_QEMU_KEY:
            s->last_input_ms = net_port_now_ms();
            on_qemu_key(s, ev.keysym, ev.keycode, ev.down);
            break;
        case RFB_EV_POINTER:
            s->last_input_ms = net_port_now_ms();
            break;                      /* no mouse in the shadow devices */
        case RFB_EV_CUT_TEXT:
            break;                      /* bounded by the parser, ignored */
        }
        /* Give back whole pbufs that were consumed. */
        while (s->rx != NULL && s->rx_taken >= s->rx->len) {
            uint16_t n = s->rx->len;
            s->rx = pbuf_free_header(s->rx, n);
            s->rx_taken -= n;
            altcp_recved(s->pcb, n);
        }
    }
    return s->phase != VP_FREE;
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct vnc_session *s = session_of_token(arg);
    (void)err;
    if (s == NULL || s->pcb != pcb) {
        if (p != NULL)
            pbuf_free(p);
        return ERR_OK;
    }
    if (p == NULL) {
        net_log("vnc %s: VM %u: viewer closed the connection", s->label, s->vm);
        session_close(s, false);
        return ERR_OK;
    }
    if (s->rx == NULL)
        s->rx = p;
    else
        pbuf_cat(s->rx, p);
    if (session_input(s))
        session_flush(s);
    return ERR_OK;
}

static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    struct vnc_session *s = session_of_token(arg);
    if (s != NULL)
        session_flush(s);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct vnc_session *s = session_of_token(arg);
    if (s == NULL)
        return;
    net_log("vnc %s: VM %u: connection lost (%s)", s->label, s->vm,
            err == ERR_RST ? "reset" : "error");
    s->pcb = NULL;                      /* lwIP has freed it */
    session_free(s);
}

static err_t on_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    unsigned vm = (unsigned)(uintptr_t)arg;
    if (err != ERR_OK || pcb == NULL || vm >= VNC_SRV_MAX_VMS)
        return ERR_VAL;
    char ip[20];
    char label[32];
    ipaddr_ntoa_r(altcp_get_ip(pcb, 0), ip, sizeof(ip));
    fmt_snprintf(label, sizeof(label), "%s:%u", ip, (unsigned)altcp_get_port(pcb, 0));
    if (!vms[vm].used) {
        stats.refused++;
        net_log("vnc %s: VM %u: refused: the VM was released", label, vm);
        return ERR_VAL;                 /* lwIP aborts it */
    }
    struct vnc_session *s = NULL;
    for (unsigned i = 0; i < VNC_SRV_MAX_SESSIONS && s == NULL; i++)
        if (sessions[i].phase == VP_FREE)
            s = &sessions[i];
    if (s == NULL) {
        stats.refused++;
        net_log("vnc %s: VM %u: refused: all %d sessions busy", label, vm, VNC_SRV_MAX_SESSIONS);
        return ERR_MEM;                 /* lwIP aborts it */
    }
    uint8_t gen = s->gen;
    memset(s, 0, offsetof(struct vnc_session, zarena));
    s->gen = gen;
    s->phase = VP_PLAIN;
    s->vm = vm;
    memcpy(s->label, label, sizeof(label));
    s->start_ms = s->last_input_ms = net_port_now_ms();
    rfb_init(&s->rfb, policy_vm_has_password(config.policy, vm));
    s->zs.zalloc = zarena_alloc;
    s->zs.zfree = zarena_free;
    s->zs.opaque = s;
    if (deflateInit2(&s->zs, 6, Z_DEFLATED, 12, 5, Z_DEFAULT_STRATEGY) != Z_OK) {
        net_log("vnc %s: refused: zlib initialization failed", label);
        s->phase = VP_FREE;
        return ERR_MEM;
    }
    s->zs_ready = true;
    stats.sessions++;
    stats.opened++;
    attach(s, pcb);
    altcp_nagle_disable(pcb);
    session_flush(s);                   /* ProtocolVersion */
    return ERR_OK;
}

/* ------------------------------------------------------------------ API */

bool vnc_srv_start(const struct vnc_srv_config *cfg, char *err, size_t errlen)
{
    if (cfg->policy == NULL || cfg->tls == NULL) {
        fmt_snprintf(err, errlen, "vnc: policy and TLS configuration needed");
        return false;
    }
    config = *cfg;
    if (config.base_port == 0)
        config.base_port = VNC_SRV_DEFAULT_PORT;
    if (config.auth_timeout_ms == 0)
        config.auth_timeout_ms = VNC_AUTH_TIMEOUT_DEFAULT_MS;
    started = true;
    return true;
}

static struct altcp_pcb *listen_on(unsigned vm, uint16_t port, char *err, size_t errlen)
{
    struct altcp_pcb *l = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (l == NULL) {
        fmt_snprintf(err, errlen, "vnc: VM %u: out of pcbs", vm);
        return NULL;
    }
    if (altcp_bind(l, IP4_ADDR_ANY, port) != ERR_OK) {
        altcp_close(l);
        fmt_snprintf(err, errlen, "vnc: VM %u: cannot bind port %u", vm, port);
        return NULL;
    }
    struct altcp_pcb *ll = altcp_listen(l);
    if (ll == NULL) {
        altcp_close(l);
        fmt_snprintf(err, errlen, "vnc: VM %u: cannot listen on port %u", vm, port);
        return NULL;
    }
    altcp_arg(ll, (void *)(uintptr_t)vm);
    altcp_accept(ll, on_accept);
    return ll;
}

bool vnc_srv_add_vm(unsigned vm, const struct vnc_srv_vm *dev, char *err, size_t errlen)
{
    if (!started || vm >= VNC_SRV_MAX_VMS || vms[vm].used) {
        fmt_snprintf(err, errlen, "vnc: VM %u: not started, out of range or already served", vm);
        return false;
    }
    if ((unsigned)config.base_port + vm > 0xffff) {
        fmt_snprintf(err, errlen, "vnc: VM %u: port %u + %u out of range", vm, config.base_port, vm);
        return false;
    }
    uint16_t port = (uint16_t)(config.base_port + vm);
    struct altcp_pcb *ll = vms[vm].listener;
    if (ll == NULL && (ll = listen_on(vm, port, err, errlen)) == NULL)
        return false;
    struct vnc_vm *v = &vms[vm];
    memset(v, 0, sizeof(*v));
    v->used = true;
    v->vga = dev->vga;
    v->kbd = dev->kbd;
    v->fb = dev->fb;
    v->lock = dev->lock;
    v->before_render = dev->before_render;
    v->arg = dev->arg;
    v->listener = ll;
    net_log("vnc: VM %u on port %u (VeNCrypt %s)", vm, port,
            policy_vm_has_password(config.policy, vm) ? "X509Plain, X509None" : "X509None");
    return true;
}

void vnc_srv_remove_vm(unsigned vm)
{
    if (vm >= VNC_SRV_MAX_VMS || !vms[vm].used)
        return;
    unsigned closed = 0;
    for (unsigned i = 0; i < VNC_SRV_MAX_SESSIONS; i++) {
        if (sessions[i].phase != VP_FREE && sessions[i].vm == vm) {
            session_close(&sessions[i], false);
            closed++;
        }
    }
    /* The port stays bound (and refuses) until the number is served again:
     * lwIP could not bind it anew while closed connections wait in
     * TIME-WAIT. */
    struct altcp_pcb *listener = vms[vm].listener;
    memset(&vms[vm], 0, sizeof(vms[vm]));
    vms[vm].listener = listener;
    net_log("vnc: VM %u released: %u viewer(s) disconnected", vm, closed);
}

void vnc_srv_bell(unsigned vm)
{
    for (unsigned i = 0; i < VNC_SRV_MAX_SESSIONS; i++)
        if (sessions[i].phase == VP_TLS && sessions[i].viewing && sessions[i].vm == vm)
            sessions[i].bell = true;
}

void vnc_srv_poll(void)
{
    uint64_t now = net_port_now_ms();
    for (unsigned i = 0; i < VNC_SRV_MAX_VMS; i++) {
        struct vnc_vm *v = &vms[i];
        if (!v->used)
            continue;
        keys_feed(v);
        bool wanted = false;
        for (unsigned j = 0; j < VNC_SRV_MAX_SESSIONS; j++) {
            struct vnc_session *s = &sessions[j];
            if (s->phase == VP_TLS && s->viewing && s->vm == i && (s->want_update || s->plan.active))
                wanted = true;
        }
        if (wanted && (now - v->last_render_ms >= VNC_RENDER_MIN_MS || !v->rendered)) {
            v->last_render_ms = now;
            vm_render(v);
        }
    }
    for (unsigned j = 0; j < VNC_SRV_MAX_SESSIONS; j++) {
        struct vnc_session *s = &sessions[j];
        if (s->phase == VP_FREE)
            continue;
        if (!s->viewing && now - s->start_ms > config.auth_timeout_ms) {
            net_log("vnc %s: VM %u: closing: no authentication within %u s", s->label, s->vm,
                    (unsigned)(config.auth_timeout_ms / 1000));
            stats.refused++;
            session_close(s, true);
            continue;
        }
        if (config.idle_timeout_ms != 0 && now - s->last_input_ms > config.idle_timeout_ms) {
            net_log("vnc %s: VM %u: closing: idle for %u s", s->label, s->vm,
                    (unsigned)(config.idle_timeout_ms / 1000));
            stats.idle_timeouts++;
            session_close(s, false);
            continue;
        }
        if (s->phase != VP_TLS || !s->viewing)
            continue;
        if (s->bell && !s->plan.active && obuf_room(s, 1)) {
            s->olen += rfb_put_bell(s->obuf + s->olen);
            s->bell = false;
        }
        plan_start(s);
        if (s->phase != VP_FREE)
            plan_step(s);
        if (s->phase != VP_FREE)
            session_flush(s);
    }
}

void vnc_srv_get_stats(struct vnc_srv_stats *st)
{
    *st = stats;
}
