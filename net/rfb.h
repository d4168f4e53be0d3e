/* RFB 3.8 (RFC 6143) server protocol with VeNCrypt 0.2 security: a pure,
 * streaming state machine, no I/O, no allocation (freestanding).
 *
 * The caller feeds the client's bytes with rfb_feed(), which consumes at
 * most one message per call and reports it as an event; bytes the server
 * must answer during the handshake are queued in the session's small
 * output buffer (rfb_output / rfb_output_ack). Framebuffer updates are not
 * built here: the caller writes them with rfb_put_update_header and
 * rfb_put_rect_header around the encoders of net/rfb_enc.h.
 *
 * Security: only VeNCrypt (type 19) is offered, with only its X509
 * subtypes: X509None (260; the tenant's client certificate is the
 * credential) and, when enabled, X509Plain (262; a password inside TLS,
 * for viewers that cannot present a client certificate). No anonymous TLS,
 * no unencrypted RFB. The sequence, server side:
 *
 *   S "RFB 003.008\n"            C "RFB 003.00x\n" (3.7 or 3.8)
 *   S [1, 19]                    C 19
 *   S [0, 2]                     C [0, 2]
 *   S 0 (version ok), n, n x u32 subtypes ([262,] 260)
 *                                C u32 subtype
 *   S 1 (accepted)               -> RFB_EV_START_TLS: TLS from here on
 *   X509Plain:                   C u32 ulen, u32 plen, user, password
 *                                -> RFB_EV_PLAIN_CREDS
 *   caller: rfb_auth_done()      S SecurityResult (3.8: reason on failure)
 *                                C ClientInit -> RFB_EV_CLIENT_INIT
 *   caller: rfb_server_init()    S ServerInit (32 bpp true colour)
 *   then client messages, one event each. */
#ifndef NET_RFB_H
#define NET_RFB_H
#include "net/rfb_enc.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RFB_SEC_VENCRYPT        19
#define RFB_VENCRYPT_X509NONE   260
#define RFB_VENCRYPT_X509PLAIN  262

/* Encodings and pseudo-encodings (RFC 6143 and the community registry). */
#define RFB_ENC_RAW             0
#define RFB_ENC_COPYRECT        1
#define RFB_ENC_HEXTILE         5
#define RFB_ENC_ZRLE            16
#define RFB_ENC_DESKTOPSIZE     (-223)
#define RFB_ENC_QEMU_EXT_KEY    (-258)

/* Client-to-server message types. */
#define RFB_MSG_SET_PIXEL_FORMAT 0
#define RFB_MSG_SET_ENCODINGS   2
#define RFB_MSG_UPDATE_REQUEST  3
#define RFB_MSG_KEY             4
#define RFB_MSG_POINTER         5
#define RFB_MSG_CUT_TEXT        6
#define RFB_MSG_QEMU            255

/* Server-to-client message types. */
#define RFB_SMSG_UPDATE         0
#define RFB_SMSG_BELL           2

#define RFB_CRED_MAX            255     /* longest X509Plain user or password */
#define RFB_CUT_TEXT_MAX        (256 * 1024) /* longer ClientCutText: refused */
#define RFB_NAME_MAX            63
#define RFB_OUT_SIZE            320     /* handshake output queue */

enum rfb_event_type {
    RFB_EV_NONE,            /* bytes consumed, nothing complete yet */
    RFB_EV_ERROR,           /* protocol violation: log ev.why, flush output, close */
    RFB_EV_START_TLS,       /* ev.subtype chosen; flush output, then TLS */
    RFB_EV_PLAIN_CREDS,     /* ev.user / ev.password (NUL-terminated) */
    RFB_EV_CLIENT_INIT,     /* ev.shared */
    RFB_EV_PIXEL_FORMAT,    /* accepted; rfb->pf changed */
    RFB_EV_ENCODINGS,       /* rfb->enc_* flags changed */
    RFB_EV_UPDATE_REQUEST,  /* ev.incremental, ev.x/y/w/h (clipped; ev.clipped) */
    RFB_EV_KEY,             /* ev.down, ev.keysym */
    RFB_EV_QEMU_KEY,        /* ev.down, ev.keysym, ev.keycode (XT; 0xE0xx extended) */
    RFB_EV_POINTER,         /* ev.buttons, ev.x, ev.y */
    RFB_EV_CUT_TEXT,        /* ev.length bytes were skipped */
};

struct rfb_event {
    enum rfb_event_type type;
    const char *why;        /* RFB_EV_ERROR: static reason */
    uint32_t subtype;
    bool shared, incremental, down, clipped;
    uint8_t buttons;
    uint16_t x, y, w, h;
    uint32_t keysym, keycode, length;
    const char *user, *password;
};

enum rfb_state {
    RFB_S_VERSION, RFB_S_SECTYPE, RFB_S_VENCRYPT_VERSION, RFB_S_SUBTYPE,
    RFB_S_TLS,              /* waiting for the caller to finish TLS and rfb_tls_up() */
    RFB_S_PLAIN_CREDS, RFB_S_AUTH,  /* credentials read / waiting for rfb_auth_done */
    RFB_S_CLIENT_INIT, RFB_S_INIT_REPLY, RFB_S_NORMAL, RFB_S_CLOSED,
};

struct rfb {
    enum rfb_state state;
    uint8_t minor;          /* client's protocol minor version: 7 or 8 */
    bool offer_plain;       /* X509Plain offered */
    uint32_t subtype;       /* chosen VeNCrypt subtype */
    uint16_t fb_w, fb_h;    /* size told to the client */
    struct rfb_pixfmt pf;   /* client's pixel format */

    /* Encodings from the last SetEncodings. */
    int32_t enc_pref;       /* first of ZRLE/Hextile/Raw the client listed; Raw if none */
    bool enc_copyrect, enc_desktopsize, enc_qemu_key;
    bool enc_zrle, enc_hextile;

    /* Parser. */
    uint8_t msg[24];        /* current fixed-size part */
    uint8_t have, need;
    uint8_t msg_type;
    uint32_t skip;          /* ClientCutText bytes still to skip */
    uint32_t cut_len;       /* ... of this many */
    uint32_t enc_left;      /* SetEncodings entries still to read */
    uint32_t ulen, plen, cred_got;
    char user[RFB_CRED_MAX + 1];
    char password[RFB_CRED_MAX + 1];

    /* Handshake output. */
    uint8_t out[RFB_OUT_SIZE];
    size_t out_len;

    /* Counters. */
    uint64_t msgs, keys, pointer_events, cut_bytes;
};

/* A new session; queues the server's ProtocolVersion. offer_plain adds the
 * X509Plain subtype, listed before X509None. */
void rfb_init(struct rfb *r, bool offer_plain);

/* Consumes at most one message (or part of one) from in[0..len) and returns
 * how many bytes it took; *ev says what completed. In RFB_S_TLS and the
 * waiting states it takes nothing. After RFB_EV_ERROR the session is
 * closed and takes nothing more. */
size_t rfb_feed(struct rfb *r, const uint8_t *in, size_t len, struct rfb_event *ev);

/* The TLS handshake of the chosen subtype succeeded: X509Plain now reads
 * the credentials; X509None waits for rfb_auth_done. */
void rfb_tls_up(struct rfb *r);

/* The caller's verdict on the credentials (certificate CN or user and
 * password, against the policy): queues SecurityResult, with `reason` on
 * failure (3.8), after which the session is closed. Wipes the password. */
void rfb_auth_done(struct rfb *r, bool ok, const char *reason);

/* After RFB_EV_CLIENT_INIT: queues ServerInit for a w x h screen in the
 * default pixel format (32 bpp true colour) with this desktop name. */
void rfb_server_init(struct rfb *r, uint16_t w, uint16_t h, const char *name);

/* Handshake output waiting, and acknowledging n bytes of it as sent. */
static inline const uint8_t *rfb_output(const struct rfb *r, size_t *len)
{
    *len = r->out_len;
    return r->out;
}
void rfb_output_ack(struct rfb *r, size_t n);

/* Writers for server messages: each returns the bytes written. */
size_t rfb_put_update_header(uint8_t *out, uint16_t nrects);            /* 4 bytes */
size_t rfb_put_rect_header(uint8_t *out, uint16_t x, uint16_t y, uint16_t w, uint16_t h,
                           int32_t encoding);                           /* 12 bytes */
size_t rfb_put_copyrect(uint8_t *out, uint16_t src_x, uint16_t src_y); /* 4 bytes */
size_t rfb_put_bell(uint8_t *out);                                      /* 1 byte */

#endif
