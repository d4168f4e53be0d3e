/* TLS server layer for lwIP's altcp API over BearSSL (ours; lwIP ships only
 * an mbedTLS one).
 *
 * A listener made by altcp_bearssl_new_listener() behaves like an altcp TCP
 * pcb: altcp_bind, altcp_listen, altcp_accept, then on each accepted pcb
 * altcp_recv/sent/err/poll, altcp_write/output/recved, altcp_close/abort.
 * Differences a user must know:
 *  - accept is called only after the TLS handshake has succeeded, the client
 *    certificate chain has been validated against the tenant CA, and the
 *    certificate's subject CN has been read (altcp_bearssl_peer_cn). Failed
 *    handshakes never reach the application; they are logged and closed.
 *  - TLS 1.2 only; ECDHE_(ECDSA|RSA) with AES-128/256-GCM or
 *    ChaCha20-Poly1305; client certificates are mandatory.
 *  - altcp_write is all-or-nothing and copies; altcp_sndbuf tells how much
 *    plaintext fits now (the TLS output record has room for).
 *  - Received plaintext is delivered as pbufs; at most ALTCP_BEARSSL_RX_WINDOW
 *    bytes may be outstanding before the application calls altcp_recved,
 *    which is how back-pressure reaches the TCP window.
 *
 * Memory: a static pool of ALTCP_BEARSSL_MAX_CONN connection slots (BearSSL
 * context and record buffers each); no malloc. Nagle is disabled on every
 * connection (TLS records are written whole). */
#ifndef NET_STACK_ALTCP_BEARSSL_H
#define NET_STACK_ALTCP_BEARSSL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>
#include <lwip/altcp.h>

#ifndef ALTCP_BEARSSL_MAX_CONN
#define ALTCP_BEARSSL_MAX_CONN 16
#endif
#define ALTCP_BEARSSL_RX_WINDOW 4096
#define ALTCP_BEARSSL_CHAIN_MAX 4
#define ALTCP_BEARSSL_TA_MAX    8
#define ALTCP_BEARSSL_STORE     (32 * 1024)

/* Server identity and tenant CA, decoded once from PEM into static storage. */
struct altcp_bearssl_config {
    br_x509_certificate chain[ALTCP_BEARSSL_CHAIN_MAX];
    size_t chain_len;
    br_skey_decoder_context key;                /* holds the private key */
    int key_type;                               /* BR_KEYTYPE_RSA or _EC */
    br_x509_trust_anchor tas[ALTCP_BEARSSL_TA_MAX];
    size_t ta_count;
    uint32_t handshake_timeout_ms;              /* 0: 10 s */
    size_t store_used;
    uint8_t store[ALTCP_BEARSSL_STORE];         /* DER certificates, CA names and keys */
};

/* Decodes the server certificate chain (PEM, leaf first), its private key
 * (PEM: EC, RSA or PKCS#8) and the tenant CA certificates (PEM, one or more)
 * into *cfg. False with a reason in err on any error. */
bool altcp_bearssl_config_load(struct altcp_bearssl_config *cfg,
                               const void *chain_pem, size_t chain_len,
                               const void *key_pem, size_t key_len,
                               const void *ca_pem, size_t ca_len,
                               char *err, size_t errlen);

/* A new TLS server pcb over a new TCP pcb, ready for altcp_bind/listen.
 * cfg must outlive every connection. NULL if out of memory. */
struct altcp_pcb *altcp_bearssl_new_listener(const struct altcp_bearssl_config *cfg);

/* TLS server over a TCP pcb the application accepted itself and has
 * already talked plain text on (VeNCrypt: the TLS handshake starts inside
 * the RFB handshake). `inner` is taken over on success: its callbacks are
 * replaced, and the application must not touch it again. `early` (may be
 * NULL) holds bytes already received after the plain-text part; it is
 * taken over too. client_cert: send a CertificateRequest naming the tenant
 * CA and require a valid certificate, as the listener does; false: ask for
 * none (password authentication inside TLS follows).
 *
 * ready(arg, tls) is called exactly once: with the TLS pcb when the
 * handshake succeeded (set its callbacks there), or with NULL when it
 * failed (logged; inner is closed and freed). Returns the TLS pcb (for
 * altcp_bearssl_peer_cn etc.), or NULL, leaving inner and early to the
 * caller, when no slot is free. */
typedef void (*altcp_bearssl_ready_fn)(void *arg, struct altcp_pcb *tls);
struct altcp_pcb *altcp_bearssl_wrap(const struct altcp_bearssl_config *cfg,
                                     struct altcp_pcb *inner, bool client_cert,
                                     altcp_bearssl_ready_fn ready, void *arg,
                                     struct pbuf *early);

/* The authenticated client's certificate subject CN (NUL-terminated) of a
 * pcb the listener accepted; "" for anything else. */
const char *altcp_bearssl_peer_cn(struct altcp_pcb *conn);

/* Cipher suite name of an accepted connection, for logs. */
const char *altcp_bearssl_suite_name(struct altcp_pcb *conn);

/* A short label "ADDR:PORT" of the connection's peer, for logs. */
const char *altcp_bearssl_peer_label(struct altcp_pcb *conn);

/* Moves pending data of every connection (plaintext the application can now
 * take after altcp_recved, records TCP now has room for). Call from the
 * network loop; inner TCP events do the same for their own connection. */
void altcp_bearssl_poll(void);

struct altcp_bearssl_stats {
    unsigned slots_in_use;          /* connection slots now allocated */
    unsigned slots_max;             /* ALTCP_BEARSSL_MAX_CONN */
    unsigned slots_high;            /* most ever in use at once */
    uint64_t accepted;              /* TCP connections taken into a slot */
    uint64_t refused_full;          /* TCP connections refused: no slot */
    uint64_t handshakes_ok;
    uint64_t handshakes_failed;     /* TLS error, bad certificate, timeout, EOF */
    uint64_t freed;                 /* slots returned */
};
void altcp_bearssl_get_stats(struct altcp_bearssl_stats *st);

/* Name of a BearSSL error code (engine or X.509), for logs. */
const char *altcp_bearssl_strerror(int err);

#endif
