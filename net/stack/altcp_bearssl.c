/* TLS server layer for lwIP's altcp API over BearSSL (altcp_bearssl.h).
 *
 * Each accepted connection owns a slot: the BearSSL server engine with its
 * record buffers, the X.509 engine that validates the client's chain, and
 * two altcp pcbs, `outer` (what the application holds, fns = conn_fns) and
 * `inner` (the altcp TCP pcb carrying the records).
 *
 * Data flow, all driven by pump():
 *   inner recv -> tc->rx (ciphertext, not yet acknowledged to TCP)
 *              -> BearSSL input buffer (TCP window reopened by what it took)
 *              -> plaintext pbufs to the application, at most RX_WINDOW
 *                 bytes outstanding until it calls altcp_recved
 *   altcp_write -> BearSSL output buffer -> records -> inner altcp_write
 *
 * Re-entrancy: application callbacks run with tc->depth > 0. Anything the
 * application asks for meanwhile (close, abort) only sets a request flag;
 * finish() carries it out when the outermost entry point unwinds, so a slot
 * is never freed under a caller still using it. */
#include "net/stack/altcp_bearssl.h"
#include "core/fmt.h"
#include "core/libc.h"
#include "net/port.h"
#include <lwip/altcp_tcp.h>
#include <lwip/ip_addr.h>
#include <lwip/pbuf.h>
#include <lwip/priv/altcp_priv.h>
#include <lwip/tcp.h>

/* Plaintext per output record: small records keep the per-connection
 * footprint down; console traffic is small anyway. */
#define TLS_OBUF_PLAIN  4096
#define TLS_OBUF_SIZE   (BR_SSL_BUFSIZE_OUTPUT - 16384 + TLS_OBUF_PLAIN)
#define TLS_HANDSHAKE_TIMEOUT_DEFAULT_MS 10000

enum tc_phase { TC_FREE, TC_HANDSHAKE, TC_OPEN };

struct tls_conn {
    uint8_t phase;
    uint8_t depth;              /* nesting of entry points and callbacks */
    bool app_closed;            /* no more application callbacks */
    bool close_req;             /* tear down with a FIN when depth is 0 */
    bool abort_req;             /* tear down with a RST when depth is 0 */
    bool rx_fin;                /* the peer's FIN arrived on inner */
    bool eof_delivered;         /* the application got its NULL pbuf */
    bool failed_logged;
    bool got_bytes;
    uint8_t first_byte;         /* of the client's first record: 0x16 for TLS */
    uint8_t poll_ticks;
    struct altcp_pcb *outer;
    struct altcp_pcb *inner;
    struct altcp_pcb *listener;
    altcp_bearssl_ready_fn ready;   /* wrapped connection: told the outcome once */
    void *ready_arg;
    bool no_client_cert;        /* wrapped without a CertificateRequest */
    const struct altcp_bearssl_config *cfg;
    struct pbuf *rx;            /* ciphertext not yet taken by BearSSL */
    struct pbuf *refused;       /* plaintext the application refused */
    uint32_t app_outstanding;   /* plaintext delivered, not yet recved */
    uint32_t sent_credit;       /* plaintext accepted since the last sent() */
    uint64_t start_ms;
    char label[32];
    char cn[65];
    br_name_element cn_elt;
    br_ssl_server_context sc;
    br_x509_minimal_context xc;
    unsigned char ibuf[BR_SSL_BUFSIZE_INPUT];
    unsigned char obuf[TLS_OBUF_SIZE];
};

static struct tls_conn slots[ALTCP_BEARSSL_MAX_CONN];
static struct altcp_bearssl_stats stats = { .slots_max = ALTCP_BEARSSL_MAX_CONN };

static const struct altcp_functions conn_fns;
static const struct altcp_functions listener_fns;

/* ------------------------------------------------------------------ names */

const char *altcp_bearssl_strerror(int err)
{
    static char other[40];
    switch (err) {
    case BR_ERR_OK: return "ok";
    case BR_ERR_BAD_PARAM: return "bad parameter";
    case BR_ERR_BAD_STATE: return "bad state";
    case BR_ERR_UNSUPPORTED_VERSION: return "unsupported protocol version";
    case BR_ERR_BAD_VERSION: return "bad record version";
    case BR_ERR_BAD_LENGTH: return "bad record length (not TLS?)";
    case BR_ERR_TOO_LARGE: return "record too large";
    case BR_ERR_BAD_MAC: return "bad record MAC";
    case BR_ERR_NO_RANDOM: return "no entropy";
    case BR_ERR_UNKNOWN_TYPE: return "unknown record type (not TLS?)";
    case BR_ERR_UNEXPECTED: return "unexpected message";
    case BR_ERR_BAD_CCS: return "bad ChangeCipherSpec";
    case BR_ERR_BAD_ALERT: return "bad alert";
    case BR_ERR_BAD_HANDSHAKE: return "bad handshake message";
    case BR_ERR_OVERSIZED_ID: return "oversized session id";
    case BR_ERR_BAD_CIPHER_SUITE: return "no common cipher suite";
    case BR_ERR_BAD_COMPRESSION: return "bad compression";
    case BR_ERR_BAD_FRAGLEN: return "bad fragment length";
    case BR_ERR_BAD_SECRENEG: return "bad secure renegotiation";
    case BR_ERR_EXTRA_EXTENSION: return "unexpected extension";
    case BR_ERR_BAD_SNI: return "bad SNI";
    case BR_ERR_BAD_HELLO_DONE: return "bad ServerHelloDone";
    case BR_ERR_LIMIT_EXCEEDED: return "limit exceeded";
    case BR_ERR_BAD_FINISHED: return "bad Finished";
    case BR_ERR_RESUME_MISMATCH: return "resumption mismatch";
    case BR_ERR_INVALID_ALGORITHM: return "invalid algorithm";
    case BR_ERR_BAD_SIGNATURE: return "bad signature (CertificateVerify)";
    case BR_ERR_WRONG_KEY_USAGE: return "wrong key usage";
    case BR_ERR_NO_CLIENT_AUTH: return "no client certificate";
    case BR_ERR_IO: return "I/O error";
    case BR_ERR_X509_INVALID_VALUE: return "client certificate: invalid value";
    case BR_ERR_X509_TRUNCATED: return "client certificate: truncated";
    case BR_ERR_X509_EMPTY_CHAIN: return "client certificate: empty chain";
    case BR_ERR_X509_BAD_DN: return "client certificate: bad DN";
    case BR_ERR_X509_BAD_TIME: return "client certificate: bad time";
    case BR_ERR_X509_UNSUPPORTED: return "client certificate: unsupported feature";
    case BR_ERR_X509_LIMIT_EXCEEDED: return "client certificate: limit exceeded";
    case BR_ERR_X509_WRONG_KEY_TYPE: return "client certificate: wrong key type";
    case BR_ERR_X509_BAD_SIGNATURE: return "client certificate: bad signature";
    case BR_ERR_X509_TIME_UNKNOWN: return "client certificate: time unknown";
    case BR_ERR_X509_EXPIRED: return "client certificate: expired or not yet valid";
    case BR_ERR_X509_CRITICAL_EXTENSION: return "client certificate: unknown critical extension";
    case BR_ERR_X509_NOT_CA: return "client certificate: issuer is not a CA";
    case BR_ERR_X509_FORBIDDEN_KEY_USAGE: return "client certificate: forbidden key usage";
    case BR_ERR_X509_WEAK_PUBLIC_KEY: return "client certificate: weak public key";
    case BR_ERR_X509_NOT_TRUSTED: return "client certificate: not signed by the tenant CA";
    default: break;
    }
    if (err == BR_ERR_SEND_FATAL_ALERT + 40)
        return "sent handshake_failure alert (no common version, cipher suite or curve)";
    if (err == BR_ERR_SEND_FATAL_ALERT + 70)
        return "sent protocol_version alert (not TLS 1.2)";
    if (err >= BR_ERR_SEND_FATAL_ALERT)
        fmt_snprintf(other, sizeof(other), "sent fatal alert %d", err - BR_ERR_SEND_FATAL_ALERT);
    else if (err >= BR_ERR_RECV_FATAL_ALERT)
        fmt_snprintf(other, sizeof(other), "peer sent fatal alert %d", err - BR_ERR_RECV_FATAL_ALERT);
    else
        fmt_snprintf(other, sizeof(other), "BearSSL error %d", err);
    return other;
}

static const char *suite_name(unsigned suite)
{
    switch (suite) {
    case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-ECDSA-CHACHA20-POLY1305";
    case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: return "ECDHE-ECDSA-AES128-GCM-SHA256";
    case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: return "ECDHE-ECDSA-AES256-GCM-SHA384";
    case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: return "ECDHE-RSA-CHACHA20-POLY1305";
    case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: return "ECDHE-RSA-AES128-GCM-SHA256";
    case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: return "ECDHE-RSA-AES256-GCM-SHA384";
    default: return "?";
    }
}

/* ------------------------------------------------------------ PEM config */

struct sink {
    uint8_t *buf;
    size_t cap, len;
    bool overflow;
};

static void sink_append(void *ctx, const void *data, size_t len)
{
    struct sink *s = ctx;
    if (len > s->cap - s->len) {
        s->overflow = true;
        return;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
}

typedef bool (*pem_obj_fn)(struct altcp_bearssl_config *cfg, const char *name,
                           uint8_t *der, size_t len, char *err, size_t errlen);

/* Decodes every PEM object of text into the free tail of cfg->store and
 * hands it to fn, which keeps it (advancing store_used) or not. */
static bool pem_each(struct altcp_bearssl_config *cfg, const char *what,
                     const void *text, size_t len, pem_obj_fn fn, unsigned *count,
                     char *err, size_t errlen)
{
    br_pem_decoder_context pc;
    br_pem_decoder_init(&pc);
    const unsigned char *p = text;
    struct sink sink = {0};
    bool inobj = false;
    char name[128];
    *count = 0;
    /* A final newline lets the decoder see the last END line. */
    bool nl_pushed = false;
    while (len > 0 || !nl_pushed) {
        size_t n;
        if (len > 0) {
            n = br_pem_decoder_push(&pc, p, len);
            p += n;
            len -= n;
        } else {
            n = br_pem_decoder_push(&pc, "\n", 1);
            if (n == 1)
                nl_pushed = true;
        }
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            fmt_snprintf(name, sizeof(name), "%s", br_pem_decoder_name(&pc));
            sink.buf = cfg->store + cfg->store_used;
            sink.cap = sizeof(cfg->store) - cfg->store_used;
            sink.len = 0;
            sink.overflow = false;
            br_pem_decoder_setdest(&pc, sink_append, &sink);
            inobj = true;
            break;
        case BR_PEM_END_OBJ:
            if (!inobj)
                break;
            inobj = false;
            if (sink.overflow) {
                fmt_snprintf(err, errlen, "%s: PEM object too large for the store", what);
                return false;
            }
            if (!fn(cfg, name, sink.buf, sink.len, err, errlen))
                return false;
            (*count)++;
            break;
        case BR_PEM_ERROR:
            fmt_snprintf(err, errlen, "%s: malformed PEM", what);
            return false;
        default:
            break;
        }
    }
    if (inobj) {
        fmt_snprintf(err, errlen, "%s: unterminated PEM object", what);
        return false;
    }
    return true;
}

static bool keep_chain_cert(struct altcp_bearssl_config *cfg, const char *name,
                            uint8_t *der, size_t len, char *err, size_t errlen)
{
    if (strcmp(name, "CERTIFICATE") != 0 && strcmp(name, "X509 CERTIFICATE") != 0)
        return true;                    /* skip other objects */
    if (cfg->chain_len == ALTCP_BEARSSL_CHAIN_MAX) {
        fmt_snprintf(err, errlen, "server chain: more than %d certificates", ALTCP_BEARSSL_CHAIN_MAX);
        return false;
    }
    cfg->chain[cfg->chain_len].data = der;
    cfg->chain[cfg->chain_len].data_len = len;
    cfg->chain_len++;
    cfg->store_used += len;
    return true;
}

static bool keep_key(struct altcp_bearssl_config *cfg, const char *name,
                     uint8_t *der, size_t len, char *err, size_t errlen)
{
    if (strcmp(name, "EC PRIVATE KEY") != 0 && strcmp(name, "RSA PRIVATE KEY") != 0 &&
        strcmp(name, "PRIVATE KEY") != 0)
        return true;                    /* e.g. EC PARAMETERS */
    if (cfg->key_type != 0) {
        fmt_snprintf(err, errlen, "server key: more than one private key");
        return false;
    }
    br_skey_decoder_init(&cfg->key);
    br_skey_decoder_push(&cfg->key, der, len);
    memset(der, 0, len);                /* the decoder keeps its own copy */
    int e = br_skey_decoder_last_error(&cfg->key);
    if (e != 0) {
        fmt_snprintf(err, errlen, "server key: cannot decode (error %d)", e);
        return false;
    }
    cfg->key_type = br_skey_decoder_key_type(&cfg->key);
    if (cfg->key_type != BR_KEYTYPE_EC && cfg->key_type != BR_KEYTYPE_RSA) {
        fmt_snprintf(err, errlen, "server key: neither EC nor RSA");
        return false;
    }
    return true;
}

static bool store_copy(struct altcp_bearssl_config *cfg, const void *data, size_t len,
                       unsigned char **out)
{
    if (len > sizeof(cfg->store) - cfg->store_used)
        return false;
    *out = cfg->store + cfg->store_used;
    memcpy(*out, data, len);
    cfg->store_used += len;
    return true;
}

static bool keep_ca(struct altcp_bearssl_config *cfg, const char *name,
                    uint8_t *der, size_t len, char *err, size_t errlen)
{
    if (strcmp(name, "CERTIFICATE") != 0 && strcmp(name, "X509 CERTIFICATE") != 0)
        return true;
    if (cfg->ta_count == ALTCP_BEARSSL_TA_MAX) {
        fmt_snprintf(err, errlen, "tenant CA: more than %d certificates", ALTCP_BEARSSL_TA_MAX);
        return false;
    }
    /* The DER sits in the store's free tail; the DN and key are copied
     * after it and then moved down over it. */
    size_t der_at = cfg->store_used;
    cfg->store_used += len;
    struct sink dn = {
        .buf = cfg->store + cfg->store_used,
        .cap = sizeof(cfg->store) - cfg->store_used,
    };
    br_x509_decoder_context dc;
    br_x509_decoder_init(&dc, sink_append, &dn);
    br_x509_decoder_push(&dc, der, len);
    int e = br_x509_decoder_last_error(&dc);
    const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
    if (e != 0 || pk == NULL || dn.overflow) {
        cfg->store_used = der_at;
        fmt_snprintf(err, errlen, "tenant CA: cannot decode certificate (%s)",
                     dn.overflow ? "store full" : altcp_bearssl_strerror(e));
        return false;
    }
    cfg->store_used += dn.len;
    br_x509_trust_anchor *ta = &cfg->tas[cfg->ta_count];
    memset(ta, 0, sizeof(*ta));
    ta->dn.data = dn.buf;
    ta->dn.len = dn.len;
    ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = pk->key_type;
    bool ok;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ok = store_copy(cfg, pk->key.rsa.n, pk->key.rsa.nlen, &ta->pkey.key.rsa.n) &&
             store_copy(cfg, pk->key.rsa.e, pk->key.rsa.elen, &ta->pkey.key.rsa.e);
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
    } else {
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ok = store_copy(cfg, pk->key.ec.q, pk->key.ec.qlen, &ta->pkey.key.ec.q);
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
    }
    if (!ok) {
        cfg->store_used = der_at;
        fmt_snprintf(err, errlen, "tenant CA: store full");
        return false;
    }
    /* Move DN and key down over the DER, which is no longer needed. */
    size_t tail = cfg->store_used - (der_at + len);
    memmove(cfg->store + der_at, cfg->store + der_at + len, tail);
    ta->dn.data -= len;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta->pkey.key.rsa.n -= len;
        ta->pkey.key.rsa.e -= len;
    } else {
        ta->pkey.key.ec.q -= len;
    }
    cfg->store_used = der_at + tail;
    cfg->ta_count++;
    return true;
}

bool altcp_bearssl_config_load(struct altcp_bearssl_config *cfg,
                               const void *chain_pem, size_t chain_len,
                               const void *key_pem, size_t key_len,
                               const void *ca_pem, size_t ca_len,
                               char *err, size_t errlen)
{
    uint32_t timeout = cfg->handshake_timeout_ms;
    memset(cfg, 0, sizeof(*cfg));
    cfg->handshake_timeout_ms = timeout;
    unsigned n;
    if (!pem_each(cfg, "server certificate", chain_pem, chain_len, keep_chain_cert, &n, err, errlen))
        return false;
    if (cfg->chain_len == 0) {
        fmt_snprintf(err, errlen, "server certificate: no CERTIFICATE in the PEM");
        return false;
    }
    if (!pem_each(cfg, "server key", key_pem, key_len, keep_key, &n, err, errlen))
        return false;
    if (cfg->key_type == 0) {
        fmt_snprintf(err, errlen, "server key: no private key in the PEM");
        return false;
    }
    if (!pem_each(cfg, "tenant CA", ca_pem, ca_len, keep_ca, &n, err, errlen))
        return false;
    if (cfg->ta_count == 0) {
        fmt_snprintf(err, errlen, "tenant CA: no CERTIFICATE in the PEM");
        return false;
    }
    return true;
}

/* ----------------------------------------------------------------- slots */

static struct tls_conn *slot_alloc(void)
{
    for (unsigned i = 0; i < ALTCP_BEARSSL_MAX_CONN; i++) {
        struct tls_conn *tc = &slots[i];
        if (tc->phase == TC_FREE) {
            /* Only the bookkeeping: BearSSL initializes its own state. */
            memset(tc, 0, offsetof(struct tls_conn, sc));
            tc->phase = TC_HANDSHAKE;
            stats.slots_in_use++;
            if (stats.slots_in_use > stats.slots_high)
                stats.slots_high = stats.slots_in_use;
            return tc;
        }
    }
    return NULL;
}

static void slot_free(struct tls_conn *tc)
{
    /* Wipe the session keys and buffers. */
    memset(&tc->sc, 0, sizeof(tc->sc));
    memset(tc->ibuf, 0, sizeof(tc->ibuf));
    memset(tc->obuf, 0, sizeof(tc->obuf));
    tc->phase = TC_FREE;
    stats.slots_in_use--;
    stats.freed++;
}

void altcp_bearssl_get_stats(struct altcp_bearssl_stats *st)
{
    *st = stats;
}

/* -------------------------------------------------------------- teardown */

static void handshake_failed(struct tls_conn *tc, const char *why)
{
    if (!tc->failed_logged) {
        tc->failed_logged = true;
        stats.handshakes_failed++;
        if (tc->got_bytes && tc->first_byte != 0x16) {
            char c = tc->first_byte >= 0x20 && tc->first_byte < 0x7f ? (char)tc->first_byte : '.';
            net_log("tls %s: handshake refused: not TLS (first byte 0x%02x '%c', plain text?): %s",
                    tc->label, tc->first_byte, c, why);
            return;
        }
        net_log("tls %s: handshake refused: %s", tc->label, why);
    }
}

static void detach_inner(struct altcp_pcb *inner)
{
    altcp_arg(inner, NULL);
    altcp_recv(inner, NULL);
    altcp_sent(inner, NULL);
    altcp_err(inner, NULL);
    altcp_poll(inner, NULL, 0);
}

/* Moves whatever records BearSSL has ready (the last data, close_notify)
 * into TCP, without calling the application. */
static void flush_out(struct tls_conn *tc)
{
    br_ssl_engine_context *eng = &tc->sc.eng;
    bool wrote = false;
    for (;;) {
        if (!(br_ssl_engine_current_state(eng) & BR_SSL_SENDREC))
            break;
        size_t len;
        unsigned char *buf = br_ssl_engine_sendrec_buf(eng, &len);
        size_t room = altcp_sndbuf(tc->inner);
        size_t n = len < room ? len : room;
        if (n > 0xffff)
            n = 0xffff;
        if (n == 0 || altcp_write(tc->inner, buf, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        br_ssl_engine_sendrec_ack(eng, n);
        wrote = true;
    }
    if (wrote)
        altcp_output(tc->inner);
}

/* Frees the slot and both pcbs; returns true if inner was aborted. */
static bool teardown(struct tls_conn *tc)
{
    bool aborted = false;
    struct altcp_pcb *inner = tc->inner;
    if (inner != NULL) {
        if (!tc->abort_req && tc->phase == TC_OPEN) {
            br_ssl_engine_flush(&tc->sc.eng, 0);
            flush_out(tc);
        }
        detach_inner(inner);
        if (tc->abort_req) {
            altcp_abort(inner);
            aborted = true;
        } else if (altcp_close(inner) != ERR_OK) {
            altcp_abort(inner);
            aborted = true;
        }
        tc->inner = NULL;
    }
    if (tc->rx != NULL)
        pbuf_free(tc->rx);
    if (tc->refused != NULL)
        pbuf_free(tc->refused);
    tc->rx = tc->refused = NULL;
    if (tc->ready != NULL) {
        altcp_bearssl_ready_fn ready = tc->ready;
        tc->ready = NULL;
        ready(tc->ready_arg, NULL);     /* the handshake never completed */
    }
    if (tc->outer != NULL) {
        tc->outer->state = NULL;
        tc->outer->inner_conn = NULL;
        altcp_free(tc->outer);
        tc->outer = NULL;
    }
    slot_free(tc);
    return aborted;
}

/* Carries out a pending close/abort once no caller is inside the slot.
 * Returns ERR_ABRT if inner was aborted (for inner callbacks to return). */
static err_t finish(struct tls_conn *tc)
{
    if (tc->depth == 0 && (tc->close_req || tc->abort_req))
        return teardown(tc) ? ERR_ABRT : ERR_OK;
    return ERR_OK;
}

/* ------------------------------------------------------------------ pump */

static void handshake_done(struct tls_conn *tc)
{
    if (!tc->no_client_cert && (tc->cn_elt.status <= 0 || tc->cn[0] == '\0')) {
        handshake_failed(tc, "client certificate has no usable subject CN");
        tc->close_req = true;
        return;
    }
    br_ssl_session_parameters sp;
    br_ssl_engine_get_session_parameters(&tc->sc.eng, &sp);
    stats.handshakes_ok++;
    tc->phase = TC_OPEN;
    if (tc->no_client_cert)
        net_log("tls %s: handshake ok: no client certificate asked %s", tc->label,
                suite_name(sp.cipher_suite));
    else
        net_log("tls %s: handshake ok: CN=%s %s", tc->label, tc->cn, suite_name(sp.cipher_suite));
    if (tc->ready != NULL) {
        altcp_bearssl_ready_fn ready = tc->ready;
        tc->ready = NULL;
        ready(tc->ready_arg, tc->outer);
        return;
    }
    struct altcp_pcb *l = tc->listener;
    tc->listener = NULL;
    if (l == NULL || l->accept == NULL) {
        tc->close_req = true;
        return;
    }
    tc->outer->arg = l->arg;      /* like altcp_tcp: the listener's arg is inherited */
    err_t e = l->accept(l->arg, tc->outer, ERR_OK);
    if (e != ERR_OK && !tc->app_closed) {
        tc->app_closed = true;
        tc->abort_req = true;
    }
}

static void deliver(struct tls_conn *tc, struct pbuf *p)
{
    struct altcp_pcb *o = tc->outer;
    if (o->recv == NULL) {
        if (p != NULL) {
            tc->app_outstanding -= p->tot_len;
            pbuf_free(p);
        }
        return;
    }
    err_t e = o->recv(o->arg, o, p, ERR_OK);
    if (e != ERR_OK && !tc->app_closed && p != NULL)
        tc->refused = p;        /* lwIP's convention: refused data is kept */
}

/* Runs the engine: records out to TCP, ciphertext in from tc->rx, and, if
 * to_app, the handshake result, plaintext and end of stream to the
 * application. Calls made by the application itself pass to_app=false, so
 * the application is never re-entered from its own calls. */
static void pump(struct tls_conn *tc, bool to_app)
{
    br_ssl_engine_context *eng = &tc->sc.eng;
    bool wrote = false;
    tc->depth++;
    for (;;) {
        if (tc->close_req || tc->abort_req || tc->inner == NULL)
            break;
        unsigned st = br_ssl_engine_current_state(eng);
        if (st == BR_SSL_CLOSED) {
            int e = br_ssl_engine_last_error(eng);
            if (tc->phase == TC_HANDSHAKE) {
                handshake_failed(tc, altcp_bearssl_strerror(e));
                tc->close_req = true;
            } else {
                if (e != BR_ERR_OK && !tc->failed_logged) {
                    tc->failed_logged = true;
                    net_log("tls %s: connection error: %s", tc->label, altcp_bearssl_strerror(e));
                }
                tc->rx_fin = true;      /* reported below as end of stream */
            }
            break;
        }
        bool progress = false;
        if (st & BR_SSL_SENDREC) {
            size_t len;
            unsigned char *buf = br_ssl_engine_sendrec_buf(eng, &len);
            size_t room = altcp_sndbuf(tc->inner);
            size_t n = len < room ? len : room;
            if (n > 0xffff)
                n = 0xffff;
            if (n > 0 && altcp_write(tc->inner, buf, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK) {
                br_ssl_engine_sendrec_ack(eng, n);
                wrote = true;
                progress = true;
            }
        }
        if ((st & BR_SSL_RECVREC) && tc->rx != NULL) {
            size_t len;
            unsigned char *buf = br_ssl_engine_recvrec_buf(eng, &len);
            if (len > tc->rx->tot_len)
                len = tc->rx->tot_len;
            u16_t n = pbuf_copy_partial(tc->rx, buf, (u16_t)len, 0);
            br_ssl_engine_recvrec_ack(eng, n);
            tc->rx = pbuf_free_header(tc->rx, n);
            altcp_recved(tc->inner, n);
            progress = true;
        }
        if (to_app && tc->phase == TC_HANDSHAKE && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) {
            handshake_done(tc);
            progress = true;
            continue;
        }
        if (to_app && tc->phase == TC_OPEN && !tc->app_closed) {
            if (tc->refused != NULL) {
                struct pbuf *p = tc->refused;
                tc->refused = NULL;
                deliver(tc, p);
                if (tc->refused != NULL)
                    break;              /* still refused: wait for a poll */
                progress = true;
            } else if ((st & BR_SSL_RECVAPP) && tc->app_outstanding < ALTCP_BEARSSL_RX_WINDOW) {
                size_t len;
                unsigned char *buf = br_ssl_engine_recvapp_buf(eng, &len);
                size_t room = ALTCP_BEARSSL_RX_WINDOW - tc->app_outstanding;
                if (len > room)
                    len = room;
                struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
                if (p != NULL) {
                    pbuf_take(p, buf, (u16_t)len);
                    br_ssl_engine_recvapp_ack(eng, len);
                    tc->app_outstanding += (uint32_t)len;
                    deliver(tc, p);
                    progress = true;
                }
            }
        }
        if (!progress)
            break;
    }
    if (wrote && tc->inner != NULL)
        altcp_output(tc->inner);
    /* End of the peer's stream: its FIN (or close_notify) with nothing left. */
    if (to_app && tc->rx_fin && tc->rx == NULL && !tc->close_req && !tc->abort_req) {
        if (tc->phase == TC_HANDSHAKE) {
            handshake_failed(tc, "peer closed the connection during the handshake");
            tc->close_req = true;
        } else if (!tc->eof_delivered && !tc->app_closed && tc->refused == NULL) {
            unsigned st = br_ssl_engine_current_state(eng);
            if (st == BR_SSL_CLOSED || !(st & BR_SSL_RECVAPP)) {
                tc->eof_delivered = true;
                deliver(tc, NULL);
            }
        }
    }
    tc->depth--;
}

/* ------------------------------------------------------ inner callbacks */

static err_t inner_recv(void *arg, struct altcp_pcb *inner, struct pbuf *p, err_t err)
{
    struct tls_conn *tc = arg;
    (void)inner;
    if (tc == NULL) {
        if (p != NULL)
            pbuf_free(p);
        return ERR_OK;
    }
    if (p != NULL && !tc->got_bytes && p->len > 0) {
        tc->got_bytes = true;
        tc->first_byte = ((const uint8_t *)p->payload)[0];
    }
    if (p == NULL) {
        tc->rx_fin = true;
    } else if (tc->rx == NULL) {
        tc->rx = p;
    } else {
        pbuf_cat(tc->rx, p);
    }
    (void)err;
    pump(tc, true);
    return finish(tc);
}

static err_t inner_sent(void *arg, struct altcp_pcb *inner, u16_t len)
{
    struct tls_conn *tc = arg;
    (void)inner;
    (void)len;
    if (tc == NULL)
        return ERR_OK;
    pump(tc, true);
    if (tc->phase == TC_OPEN && !tc->app_closed && !tc->close_req && !tc->abort_req &&
        tc->outer->sent != NULL && tc->sent_credit > 0) {
        u16_t n = tc->sent_credit > 0xffff ? 0xffff : (u16_t)tc->sent_credit;
        tc->sent_credit -= n;
        tc->depth++;
        tc->outer->sent(tc->outer->arg, tc->outer, n);
        tc->depth--;
    }
    return finish(tc);
}

static void inner_err(void *arg, err_t err)
{
    struct tls_conn *tc = arg;
    if (tc == NULL)
        return;
    tc->inner = NULL;           /* lwIP has freed it */
    if (tc->phase == TC_HANDSHAKE) {
        handshake_failed(tc, err == ERR_RST ? "connection reset during the handshake"
                                            : "connection error during the handshake");
    } else if (!tc->app_closed && tc->outer->err != NULL) {
        tc->app_closed = true;
        tc->depth++;
        tc->outer->err(tc->outer->arg, err);
        tc->depth--;
    }
    tc->app_closed = true;
    tc->close_req = true;
    finish(tc);
}

static err_t inner_poll(void *arg, struct altcp_pcb *inner)
{
    struct tls_conn *tc = arg;
    (void)inner;
    if (tc == NULL)
        return ERR_OK;
    if (tc->phase == TC_HANDSHAKE) {
        uint32_t limit = tc->cfg->handshake_timeout_ms ? tc->cfg->handshake_timeout_ms
                                                       : TLS_HANDSHAKE_TIMEOUT_DEFAULT_MS;
        if (net_port_now_ms() - tc->start_ms > limit) {
            handshake_failed(tc, "handshake timeout");
            tc->abort_req = true;
            return finish(tc);
        }
    }
    pump(tc, true);
    if (tc->phase == TC_OPEN && !tc->app_closed && !tc->close_req && !tc->abort_req &&
        tc->outer->poll != NULL) {
        /* inner polls every 500 ms, like the application's interval unit */
        if (++tc->poll_ticks >= tc->outer->pollinterval) {
            tc->poll_ticks = 0;
            tc->depth++;
            tc->outer->poll(tc->outer->arg, tc->outer);
            tc->depth--;
        }
    }
    return finish(tc);
}

/* ------------------------------------------------------------ accepting */

static bool engine_setup(struct tls_conn *tc, char *why, size_t whylen)
{
    static const uint16_t suites_ec[] = {
        BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    };
    static const uint16_t suites_rsa[] = {
        BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    };
    static const unsigned char oid_cn[] = { 3, 0x55, 0x04, 0x03 };
    const struct altcp_bearssl_config *cfg = tc->cfg;
    br_ssl_server_context *sc = &tc->sc;
    br_ssl_engine_context *eng = &sc->eng;

    br_ssl_server_zero(sc);
    br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
    br_ssl_engine_add_flags(eng, BR_OPT_NO_RENEGOTIATION | BR_OPT_ENFORCE_SERVER_PREFERENCES);
    br_ssl_engine_set_default_ec(eng);
    if (cfg->key_type == BR_KEYTYPE_EC) {
        br_ssl_engine_set_suites(eng, suites_ec, sizeof(suites_ec) / sizeof(suites_ec[0]));
        br_ssl_server_set_single_ec(sc, cfg->chain, cfg->chain_len,
                                    br_skey_decoder_get_ec(&cfg->key), BR_KEYTYPE_SIGN,
                                    BR_KEYTYPE_EC, br_ec_get_default(),
                                    br_ecdsa_sign_asn1_get_default());
    } else {
        br_ssl_engine_set_suites(eng, suites_rsa, sizeof(suites_rsa) / sizeof(suites_rsa[0]));
        br_ssl_server_set_single_rsa(sc, cfg->chain, cfg->chain_len,
                                     br_skey_decoder_get_rsa(&cfg->key), BR_KEYTYPE_SIGN,
                                     br_rsa_private_get_default(),
                                     br_rsa_pkcs1_sign_get_default());
    }
    br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
    br_ssl_engine_set_hash(eng, br_sha224_ID, &br_sha224_vtable);
    br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
    br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
    br_ssl_engine_set_hash(eng, br_sha512_ID, &br_sha512_vtable);
    br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
    br_ssl_engine_set_default_aes_gcm(eng);
    br_ssl_engine_set_default_chapol(eng);
    /* The client's CertificateVerify. */
    br_ssl_engine_set_default_ecdsa(eng);
    br_ssl_engine_set_default_rsavrfy(eng);

    /* Client certificates: chain validated against the tenant CA; the
     * CertificateRequest names that CA, which makes them mandatory (BearSSL
     * fails with BR_ERR_NO_CLIENT_AUTH when none is sent). */
    br_x509_minimal_init_full(&tc->xc, cfg->tas, cfg->ta_count);
    uint32_t days, secs;
    if (!net_port_utc(&days, &secs)) {
        fmt_snprintf(why, whylen, "wall-clock time unknown: cannot check certificate validity");
        return false;
    }
    br_x509_minimal_set_time(&tc->xc, days, secs);
    tc->cn_elt.oid = oid_cn;
    tc->cn_elt.buf = tc->cn;
    tc->cn_elt.len = sizeof(tc->cn);
    br_x509_minimal_set_name_elements(&tc->xc, &tc->cn_elt, 1);
    br_ssl_engine_set_x509(eng, &tc->xc.vtable);
    if (!tc->no_client_cert)
        br_ssl_server_set_trust_anchor_names_alt(sc, cfg->tas, cfg->ta_count);

    br_ssl_engine_set_buffers_bidi(eng, tc->ibuf, sizeof(tc->ibuf), tc->obuf, sizeof(tc->obuf));
    unsigned char seed[32];
    if (!net_port_random(seed, sizeof(seed))) {
        fmt_snprintf(why, whylen, "no entropy source");
        return false;
    }
    br_ssl_engine_inject_entropy(eng, seed, sizeof(seed));
    memset(seed, 0, sizeof(seed));
    if (!br_ssl_server_reset(sc)) {
        fmt_snprintf(why, whylen, "engine reset: %s", altcp_bearssl_strerror(br_ssl_engine_last_error(eng)));
        return false;
    }
    return true;
}

/* Puts the slot between a new application pcb and the TCP pcb `inner`. */
static bool attach(struct tls_conn *tc, struct altcp_pcb *inner)
{
    struct altcp_pcb *outer = altcp_alloc();
    if (outer == NULL)
        return false;
    outer->fns = &conn_fns;
    outer->state = tc;
    outer->inner_conn = inner;
    tc->outer = outer;
    tc->inner = inner;
    altcp_arg(inner, tc);
    altcp_recv(inner, inner_recv);
    altcp_sent(inner, inner_sent);
    altcp_err(inner, inner_err);
    altcp_poll(inner, inner_poll, 1);
    altcp_nagle_disable(inner);
    return true;
}

/* A TLS server connection over the TCP pcb `inner`: a slot, the engine,
 * the outer pcb. NULL, logged and counted, when any of them is missing;
 * inner is then untouched. */
static struct tls_conn *conn_start(const struct altcp_bearssl_config *cfg,
                                   struct altcp_pcb *inner, bool client_cert)
{
    char label[32];
    char ip[20];
    ipaddr_ntoa_r(altcp_get_ip(inner, 0), ip, sizeof(ip));
    fmt_snprintf(label, sizeof(label), "%s:%u", ip, (unsigned)altcp_get_port(inner, 0));
    struct tls_conn *tc = slot_alloc();
    if (tc == NULL) {
        stats.refused_full++;
        net_log("tls %s: refused: all %d connection slots busy", label, ALTCP_BEARSSL_MAX_CONN);
        return NULL;
    }
    stats.accepted++;
    memcpy(tc->label, label, sizeof(label));
    tc->cfg = cfg;
    tc->no_client_cert = !client_cert;
    tc->start_ms = net_port_now_ms();
    char why[96];
    if (!engine_setup(tc, why, sizeof(why))) {
        net_log("tls %s: refused: %s", label, why);
        slot_free(tc);
        return NULL;
    }
    if (!attach(tc, inner)) {
        net_log("tls %s: refused: out of altcp pcbs", label);
        slot_free(tc);
        return NULL;
    }
    return tc;
}

static err_t inner_accept(void *arg, struct altcp_pcb *new_inner, err_t err)
{
    struct altcp_pcb *listener = arg;
    if (listener == NULL || err != ERR_OK || new_inner == NULL)
        return ERR_VAL;
    struct tls_conn *tc = conn_start(listener->state, new_inner, true);
    if (tc == NULL)
        return ERR_MEM;                 /* lwIP aborts and frees new_inner */
    tc->listener = listener;
    return ERR_OK;
}

struct altcp_pcb *altcp_bearssl_wrap(const struct altcp_bearssl_config *cfg,
                                     struct altcp_pcb *inner, bool client_cert,
                                     altcp_bearssl_ready_fn ready, void *arg,
                                     struct pbuf *early)
{
    struct tls_conn *tc = conn_start(cfg, inner, client_cert);
    if (tc == NULL)
        return NULL;
    tc->ready = ready;
    tc->ready_arg = arg;
    if (early != NULL) {
        tc->got_bytes = early->len > 0;
        if (tc->got_bytes)
            tc->first_byte = ((const uint8_t *)early->payload)[0];
        tc->rx = early;         /* taken by the next altcp_bearssl_poll() */
    }
    return tc->outer;
}

/* --------------------------------------------- application-facing pcbs */

static struct tls_conn *conn_of(struct altcp_pcb *conn)
{
    if (conn == NULL || conn->fns != &conn_fns)
        return NULL;
    return conn->state;
}

const char *altcp_bearssl_peer_cn(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    return tc != NULL && tc->phase == TC_OPEN ? tc->cn : "";
}

const char *altcp_bearssl_peer_label(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    return tc != NULL ? tc->label : "?";
}

const char *altcp_bearssl_suite_name(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc == NULL || tc->phase != TC_OPEN)
        return "?";
    br_ssl_session_parameters sp;
    br_ssl_engine_get_session_parameters(&tc->sc.eng, &sp);
    return suite_name(sp.cipher_suite);
}

static void conn_set_poll(struct altcp_pcb *conn, u8_t interval)
{
    (void)conn;
    (void)interval;             /* inner polls every 500 ms regardless */
}

/* After a call from the application: move data now, unless we are inside one
 * of our own callbacks, which does it when it returns. */
static void settle(struct tls_conn *tc)
{
    if (tc->depth == 0) {
        pump(tc, false);
        finish(tc);
    }
}

static void conn_recved(struct altcp_pcb *conn, u16_t len)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc == NULL || tc->phase != TC_OPEN)
        return;
    tc->app_outstanding -= len < tc->app_outstanding ? len : tc->app_outstanding;
    settle(tc);
}

static err_t conn_write(struct altcp_pcb *conn, const void *data, u16_t len, u8_t apiflags)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc == NULL || tc->phase != TC_OPEN || tc->app_closed || tc->inner == NULL)
        return ERR_CONN;
    br_ssl_engine_context *eng = &tc->sc.eng;
    if (len == 0)
        return ERR_OK;
    size_t avail = 0;
    if (br_ssl_engine_current_state(eng) & BR_SSL_SENDAPP)
        br_ssl_engine_sendapp_buf(eng, &avail);
    if (avail < len && tc->depth == 0) {
        /* Close the partial record and push it out to make room. */
        br_ssl_engine_flush(eng, 0);
        pump(tc, false);
        avail = 0;
        if (br_ssl_engine_current_state(eng) & BR_SSL_SENDAPP)
            br_ssl_engine_sendapp_buf(eng, &avail);
    }
    if (avail < len)
        return ERR_MEM;
    unsigned char *buf = br_ssl_engine_sendapp_buf(eng, &avail);
    memcpy(buf, data, len);
    br_ssl_engine_sendapp_ack(eng, len);
    tc->sent_credit += len;
    if (!(apiflags & TCP_WRITE_FLAG_MORE))
        br_ssl_engine_flush(eng, 0);
    settle(tc);
    return ERR_OK;
}

static err_t conn_output(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc == NULL || tc->phase != TC_OPEN)
        return ERR_CONN;
    br_ssl_engine_flush(&tc->sc.eng, 0);
    settle(tc);
    return ERR_OK;
}

static u16_t conn_sndbuf(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc == NULL || tc->phase != TC_OPEN || tc->app_closed)
        return 0;
    br_ssl_engine_context *eng = &tc->sc.eng;
    if (!(br_ssl_engine_current_state(eng) & BR_SSL_SENDAPP))
        return 0;
    size_t avail;
    br_ssl_engine_sendapp_buf(eng, &avail);
    /* A nearly full record: report what a fresh record will hold if the
     * pending one can be pushed out now. */
    if (avail < 256 && tc->depth == 0) {
        br_ssl_engine_flush(eng, 0);
        pump(tc, false);
        avail = 0;
        if (br_ssl_engine_current_state(eng) & BR_SSL_SENDAPP)
            br_ssl_engine_sendapp_buf(eng, &avail);
    }
    return avail > 0xffff ? 0xffff : (u16_t)avail;
}

static u16_t conn_mss(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    return tc != NULL && tc->inner != NULL ? altcp_mss(tc->inner) : 0;
}

static u16_t conn_sndqueuelen(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    return tc != NULL && tc->inner != NULL ? altcp_sndqueuelen(tc->inner) : 0;
}

static void conn_nagle_disable(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc != NULL && tc->inner != NULL)
        altcp_nagle_disable(tc->inner);
}

static void conn_nagle_enable(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc != NULL && tc->inner != NULL)
        altcp_nagle_enable(tc->inner);
}

static int conn_nagle_disabled(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    return tc != NULL && tc->inner != NULL ? altcp_nagle_disabled(tc->inner) : 0;
}

static void conn_abort(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc == NULL)
        return;
    tc->app_closed = true;
    tc->abort_req = true;
    if (tc->depth == 0)
        teardown(tc);
}

static err_t conn_close(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc == NULL) {
        altcp_free(conn);
        return ERR_OK;
    }
    tc->app_closed = true;
    if (tc->phase == TC_OPEN && tc->inner != NULL) {
        /* close_notify, pushed to TCP before its FIN if there is room. */
        br_ssl_engine_flush(&tc->sc.eng, 0);
        br_ssl_engine_close(&tc->sc.eng);
        if (tc->depth == 0)
            pump(tc, false);
    }
    tc->close_req = true;
    if (tc->depth == 0)
        teardown(tc);
    return ERR_OK;
}

static err_t conn_shutdown(struct altcp_pcb *conn, int shut_rx, int shut_tx)
{
    if (shut_rx && shut_tx)
        return conn_close(conn);
    return ERR_VAL;             /* half-close has no meaning over TLS here */
}

static void conn_dealloc(struct altcp_pcb *conn)
{
    (void)conn;                 /* the slot is released by teardown() */
}

static err_t conn_addrinfo(struct altcp_pcb *conn, int local, ip_addr_t *addr, u16_t *port)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc == NULL || tc->inner == NULL)
        return ERR_CONN;
    return altcp_get_tcp_addrinfo(tc->inner, local, addr, port);
}

static ip_addr_t *conn_getip(struct altcp_pcb *conn, int local)
{
    struct tls_conn *tc = conn_of(conn);
    return tc != NULL && tc->inner != NULL ? altcp_get_ip(tc->inner, local) : NULL;
}

static u16_t conn_getport(struct altcp_pcb *conn, int local)
{
    struct tls_conn *tc = conn_of(conn);
    return tc != NULL && tc->inner != NULL ? altcp_get_port(tc->inner, local) : 0;
}

static void conn_setprio(struct altcp_pcb *conn, u8_t prio)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc != NULL && tc->inner != NULL)
        altcp_setprio(tc->inner, prio);
}

#if LWIP_TCP_KEEPALIVE
static void conn_keepalive_disable(struct altcp_pcb *conn)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc != NULL && tc->inner != NULL)
        altcp_keepalive_disable(tc->inner);
}

static void conn_keepalive_enable(struct altcp_pcb *conn, u32_t idle, u32_t intvl, u32_t count)
{
    struct tls_conn *tc = conn_of(conn);
    if (tc != NULL && tc->inner != NULL)
        altcp_keepalive_enable(tc->inner, idle, intvl, count);
}
#endif

static const struct altcp_functions conn_fns = {
    .set_poll = conn_set_poll,
    .recved = conn_recved,
    .bind = NULL,
    .connect = NULL,
    .listen = NULL,
    .abort = conn_abort,
    .close = conn_close,
    .shutdown = conn_shutdown,
    .write = conn_write,
    .output = conn_output,
    .mss = conn_mss,
    .sndbuf = conn_sndbuf,
    .sndqueuelen = conn_sndqueuelen,
    .nagle_disable = conn_nagle_disable,
    .nagle_enable = conn_nagle_enable,
    .nagle_disabled = conn_nagle_disabled,
    .setprio = conn_setprio,
    .dealloc = conn_dealloc,
    .addrinfo = conn_addrinfo,
    .getip = conn_getip,
    .getport = conn_getport,
#if LWIP_TCP_KEEPALIVE
    .keepalive_disable = conn_keepalive_disable,
    .keepalive_enable = conn_keepalive_enable,
#endif
};

/* -------------------------------------------------------------- listener */

static err_t lst_bind(struct altcp_pcb *conn, const ip_addr_t *ip, u16_t port)
{
    return conn->inner_conn != NULL ? altcp_bind(conn->inner_conn, ip, port) : ERR_VAL;
}

static struct altcp_pcb *lst_listen(struct altcp_pcb *conn, u8_t backlog, err_t *err)
{
    if (conn->inner_conn == NULL)
        return NULL;
    struct altcp_pcb *l = altcp_listen_with_backlog_and_err(conn->inner_conn, backlog, err);
    if (l == NULL)
        return NULL;
    conn->inner_conn = l;
    altcp_arg(l, conn);
    altcp_accept(l, inner_accept);
    return conn;
}

static void lst_forget(struct altcp_pcb *conn)
{
    for (unsigned i = 0; i < ALTCP_BEARSSL_MAX_CONN; i++)
        if (slots[i].phase != TC_FREE && slots[i].listener == conn)
            slots[i].listener = NULL;
}

static err_t lst_close(struct altcp_pcb *conn)
{
    lst_forget(conn);
    if (conn->inner_conn != NULL) {
        altcp_arg(conn->inner_conn, NULL);
        altcp_accept(conn->inner_conn, NULL);
        if (altcp_close(conn->inner_conn) != ERR_OK)
            altcp_abort(conn->inner_conn);
        conn->inner_conn = NULL;
    }
    altcp_free(conn);
    return ERR_OK;
}

static void lst_abort(struct altcp_pcb *conn)
{
    lst_close(conn);
}

static const struct altcp_functions listener_fns = {
    .bind = lst_bind,
    .listen = lst_listen,
    .close = lst_close,
    .abort = lst_abort,
    .dealloc = conn_dealloc,
};

struct altcp_pcb *altcp_bearssl_new_listener(const struct altcp_bearssl_config *cfg)
{
    struct altcp_pcb *inner = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (inner == NULL)
        return NULL;
    struct altcp_pcb *outer = altcp_alloc();
    if (outer == NULL) {
        altcp_close(inner);
        return NULL;
    }
    outer->fns = &listener_fns;
    outer->inner_conn = inner;
    outer->state = (void *)cfg;
    return outer;
}

void altcp_bearssl_poll(void)
{
    for (unsigned i = 0; i < ALTCP_BEARSSL_MAX_CONN; i++) {
        struct tls_conn *tc = &slots[i];
        if (tc->phase == TC_FREE || tc->depth != 0 || tc->inner == NULL)
            continue;
        pump(tc, true);
        finish(tc);
    }
}
