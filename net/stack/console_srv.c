/* Tenant serial console service over TLS (console_srv.h). */
#include "net/stack/console_srv.h"
#include "core/fmt.h"
#include "core/libc.h"
#include "net/console.h"
#include "net/port.h"
#include <lwip/altcp.h>
#include <lwip/pbuf.h>
#include <lwip/tcp.h>

#define SELECT_TIMEOUT_DEFAULT_MS 30000
#define OUT_CHUNK 2048

enum sess_state { S_FREE, S_SELECT, S_STREAM };

struct session {
    uint8_t state;
    bool break_pending;         /* ~B waiting for room in the UART FIFO */
    struct altcp_pcb *pcb;
    unsigned vm;
    struct uart *uart;
    uint64_t cursor;            /* next output-ring byte to send */
    struct console_esc esc;
    char sel[CONSOLE_SELECT_MAX];
    size_t sel_len;
    struct pbuf *in;            /* input not yet taken by the UART */
    uint64_t opened_ms;
    uint64_t last_rx_ms;
    char label[32];
    char cn[65];
};

static struct session sessions[CONSOLE_SRV_MAX_SESSIONS];
static struct uart *vms[CONSOLE_SRV_MAX_VMS];
static void *vm_locks[CONSOLE_SRV_MAX_VMS];    /* net_port_vm_lock's argument */
static const struct console_srv_config *config;
static struct console_srv_stats stats;

static void sess_release(struct session *s)
{
    if (s->in != NULL)
        pbuf_free(s->in);
    s->in = NULL;
    s->pcb = NULL;
    s->state = S_FREE;
    stats.sessions--;
    stats.closed++;
}

static void sess_close(struct session *s, const char *why)
{
    struct altcp_pcb *pcb = s->pcb;
    if (s->state == S_STREAM)
        net_log("console %s CN=%s vm %u: closed: %s", s->label, s->cn, s->vm, why);
    else
        net_log("console %s CN=%s: closed: %s", s->label, s->cn, why);
    if (pcb != NULL) {
        altcp_arg(pcb, NULL);
        altcp_recv(pcb, NULL);
        altcp_sent(pcb, NULL);
        altcp_err(pcb, NULL);
        altcp_poll(pcb, NULL, 0);
        if (altcp_close(pcb) != ERR_OK)
            altcp_abort(pcb);
    }
    sess_release(s);
}

/* Best effort: a short text to the client (errors, help, notices). */
static void sess_say(struct session *s, const char *text)
{
    size_t len = strlen(text);
    if (s->pcb == NULL || len == 0)
        return;
    if (altcp_write(s->pcb, text, (u16_t)len, TCP_WRITE_FLAG_COPY) == ERR_OK)
        altcp_output(s->pcb);
}

static void sess_refuse(struct session *s, const char *fmt_reason, unsigned vm)
{
    char line[128];
    char reason[96];
    fmt_snprintf(reason, sizeof(reason), fmt_reason, vm);
    fmt_snprintf(line, sizeof(line), "vsbypass: error: %s\r\n", reason);
    net_log("console %s CN=%s: refused: %s", s->label, s->cn, reason);
    stats.refused++;
    sess_say(s, line);
    sess_close(s, "refused");
}

/* Takes n bytes off the front of the input chain and tells TLS. */
static void sess_consume(struct session *s, size_t n)
{
    if (n == 0)
        return;
    s->in = pbuf_free_header(s->in, (u16_t)n);
    altcp_recved(s->pcb, (u16_t)n);
}

static void sess_select(struct session *s)
{
    while (s->in != NULL && s->state == S_SELECT) {
        const char *p = s->in->payload;
        size_t n = s->in->len, i;
        bool eol = false;
        for (i = 0; i < n; i++) {
            if (p[i] == '\n') {
                eol = true;
                i++;
                break;
            }
            if (s->sel_len == sizeof(s->sel)) {
                sess_consume(s, i);
                sess_refuse(s, "expected 'vm N' as the first line", 0);
                return;
            }
            s->sel[s->sel_len++] = p[i];
        }
        sess_consume(s, i);
        if (!eol)
            continue;
        unsigned vm;
        if (!console_parse_select(s->sel, s->sel_len, CONSOLE_SRV_MAX_VMS, &vm)) {
            sess_refuse(s, "expected 'vm N' as the first line", 0);
            return;
        }
        if (!policy_allows(config->policy, s->cn, strlen(s->cn), vm)) {
            sess_refuse(s, "vm %u is not allowed for this tenant", vm);
            return;
        }
        if (vms[vm] == NULL) {
            sess_refuse(s, "vm %u does not exist", vm);
            return;
        }
        s->vm = vm;
        s->uart = vms[vm];
        net_port_vm_lock(vm_locks[vm]);
        s->cursor = ring_replay_start(uart_output(s->uart));
        uint64_t replay = ring_pos(uart_output(s->uart)) - s->cursor;
        net_port_vm_unlock(vm_locks[vm]);
        s->state = S_STREAM;
        console_esc_init(&s->esc);
        net_log("console %s CN=%s: attached to vm %u (replaying %llu bytes)", s->label, s->cn,
                vm, (unsigned long long)replay);
        char hello[80];
        fmt_snprintf(hello, sizeof(hello), "vsbypass: vm %u console (~? for help)\r\n", vm);
        sess_say(s, hello);
    }
}

/* Feeds pending input to the UART as far as its FIFO has room (the VM's
 * device lock held: its vCPUs use the UART too). */
static void sess_input_locked(struct session *s)
{
    if (s->break_pending) {
        if (!uart_input_break(s->uart))
            return;
        s->break_pending = false;
        net_log("console %s CN=%s vm %u: break sent", s->label, s->cn, s->vm);
    }
    while (s->in != NULL) {
        size_t room = uart_input_room(s->uart);
        if (room == 0)
            return;
        uint8_t out[UART_FIFO_SIZE];
        if (room > sizeof(out))
            room = sizeof(out);
        size_t nout;
        enum console_action act;
        size_t used = console_esc_feed(&s->esc, s->in->payload, s->in->len, out, room, &nout, &act);
        size_t took = uart_input(s->uart, out, nout);
        stats.bytes_to_vm += took;
        sess_consume(s, used);
        switch (act) {
        case CONSOLE_DISCONNECT:
            sess_say(s, "\r\nvsbypass: disconnected\r\n");
            sess_close(s, "~.");
            return;
        case CONSOLE_BREAK:
            if (!uart_input_break(s->uart)) {
                s->break_pending = true;
                return;
            }
            net_log("console %s CN=%s vm %u: break sent", s->label, s->cn, s->vm);
            break;
        case CONSOLE_HELP:
            sess_say(s, console_help_text);
            break;
        case CONSOLE_NONE:
            if (used == 0)
                return;         /* out was too small for a pending "~x" */
            break;
        }
    }
}

static void sess_input(struct session *s)
{
    void *lock = vm_locks[s->vm];
    net_port_vm_lock(lock);
    sess_input_locked(s);
    net_port_vm_unlock(lock);
}

/* Sends new UART output (or the scrollback) as far as TLS has room. */
static void sess_output_locked(struct session *s)
{
    struct ring *r = uart_output(s->uart);
    bool wrote = false;
    while (s->pcb != NULL && s->cursor < ring_pos(r)) {
        size_t room = altcp_sndbuf(s->pcb);
        if (room == 0)
            break;
        uint8_t buf[OUT_CHUNK];
        if (room > sizeof(buf))
            room = sizeof(buf);
        uint64_t missed, before = s->cursor;
        size_t n = ring_read(r, &s->cursor, buf, room, &missed);
        if (missed > 0)
            net_log("console %s CN=%s vm %u: viewer fell behind, %llu bytes lost", s->label,
                    s->cn, s->vm, (unsigned long long)missed);
        if (n == 0)
            break;
        if (altcp_write(s->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
            s->cursor = before + missed;       /* retry these bytes later */
            break;
        }
        stats.bytes_from_vm += n;
        wrote = true;
    }
    if (wrote)
        altcp_output(s->pcb);
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct session *s = arg;
    (void)err;
    if (s == NULL) {
        if (p != NULL)
            pbuf_free(p);
        return ERR_OK;
    }
    if (p == NULL) {
        sess_close(s, "client closed the connection");
        return ERR_OK;
    }
    (void)pcb;
    s->last_rx_ms = net_port_now_ms();
    if (s->in == NULL)
        s->in = p;
    else
        pbuf_cat(s->in, p);
    if (s->state == S_SELECT)
        sess_select(s);
    if (s->state == S_STREAM)
        sess_input(s);
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct session *s = arg;
    if (s == NULL)
        return;
    net_log("console %s CN=%s: connection lost (lwIP error %d)", s->label, s->cn, (int)err);
    s->pcb = NULL;              /* already freed */
    sess_release(s);
}

static err_t on_accept(void *arg, struct altcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || pcb == NULL)
        return ERR_VAL;
    struct session *s = NULL;
    for (unsigned i = 0; i < CONSOLE_SRV_MAX_SESSIONS; i++) {
        if (sessions[i].state == S_FREE) {
            s = &sessions[i];
            break;
        }
    }
    if (s == NULL) {
        net_log("console %s: refused: no free session", altcp_bearssl_peer_label(pcb));
        altcp_abort(pcb);
        return ERR_ABRT;
    }
    memset(s, 0, sizeof(*s));
    s->state = S_SELECT;
    s->pcb = pcb;
    s->opened_ms = s->last_rx_ms = net_port_now_ms();
    fmt_snprintf(s->label, sizeof(s->label), "%s", altcp_bearssl_peer_label(pcb));
    fmt_snprintf(s->cn, sizeof(s->cn), "%s", altcp_bearssl_peer_cn(pcb));
    stats.sessions++;
    stats.opened++;
    altcp_arg(pcb, s);
    altcp_recv(pcb, on_recv);
    altcp_err(pcb, on_err);
    altcp_nagle_disable(pcb);
    if (!policy_knows(config->policy, s->cn, strlen(s->cn))) {
        /* Valid certificate from the tenant CA, but no rule names it. */
        sess_refuse(s, "this tenant has no VMs", 0);
        return ERR_OK;
    }
    return ERR_OK;
}

bool console_srv_start(const struct console_srv_config *cfg, char *err, size_t errlen)
{
    config = cfg;
    uint16_t port = cfg->port ? cfg->port : CONSOLE_SRV_DEFAULT_PORT;
    struct altcp_pcb *l = altcp_bearssl_new_listener(cfg->tls);
    if (l == NULL) {
        fmt_snprintf(err, errlen, "out of pcbs");
        return false;
    }
    err_t e = altcp_bind(l, IP4_ADDR_ANY, port);
    if (e != ERR_OK) {
        altcp_close(l);
        fmt_snprintf(err, errlen, "cannot bind port %u (lwIP error %d)", (unsigned)port, (int)e);
        return false;
    }
    struct altcp_pcb *ll = altcp_listen(l);
    if (ll == NULL) {
        altcp_close(l);
        fmt_snprintf(err, errlen, "cannot listen on port %u", (unsigned)port);
        return false;
    }
    altcp_accept(ll, on_accept);
    net_log("console: listening on TLS port %u", (unsigned)port);
    return true;
}

static void sess_output(struct session *s)
{
    void *lock = vm_locks[s->vm];
    net_port_vm_lock(lock);
    sess_output_locked(s);
    net_port_vm_unlock(lock);
}

bool console_srv_add_vm(unsigned vm, struct uart *u, void *lock)
{
    if (vm >= CONSOLE_SRV_MAX_VMS)
        return false;
    vm_locks[vm] = lock;
    vms[vm] = u;
    return true;
}

void console_srv_remove_vm(unsigned vm)
{
    if (vm >= CONSOLE_SRV_MAX_VMS || vms[vm] == NULL)
        return;
    char bye[80];
    fmt_snprintf(bye, sizeof(bye), "\r\nvsbypass: vm %u was released by the cloud VM\r\n", vm);
    for (unsigned i = 0; i < CONSOLE_SRV_MAX_SESSIONS; i++) {
        struct session *s = &sessions[i];
        if (s->state != S_STREAM || s->vm != vm)
            continue;
        sess_output(s);
        sess_say(s, bye);
        sess_close(s, "vm released");
    }
    vms[vm] = NULL;
    vm_locks[vm] = NULL;
}

void console_srv_poll(void)
{
    uint64_t now = net_port_now_ms();
    for (unsigned i = 0; i < CONSOLE_SRV_MAX_SESSIONS; i++) {
        struct session *s = &sessions[i];
        if (s->state == S_FREE)
            continue;
        if (s->state == S_SELECT) {
            uint32_t limit = config->select_timeout_ms ? config->select_timeout_ms
                                                       : SELECT_TIMEOUT_DEFAULT_MS;
            if (now - s->opened_ms > limit) {
                sess_refuse(s, "no 'vm N' line in time", 0);
            }
            continue;
        }
        if (config->idle_timeout_ms && now - s->last_rx_ms > config->idle_timeout_ms) {
            stats.idle_timeouts++;
            sess_say(s, "\r\nvsbypass: idle timeout\r\n");
            sess_close(s, "idle timeout");
            continue;
        }
        sess_input(s);
        if (s->state == S_STREAM)
            sess_output(s);
    }
    unsigned streaming = 0;
    for (unsigned i = 0; i < CONSOLE_SRV_MAX_SESSIONS; i++)
        streaming += sessions[i].state == S_STREAM;
    stats.streaming = streaming;
}

void console_srv_get_stats(struct console_srv_stats *st)
{
    *st = stats;
}
