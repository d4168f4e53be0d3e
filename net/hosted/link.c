/* The hosted console's in-process link into lwIP (link.h). */
#define _GNU_SOURCE
#include "net/hosted/link.h"
#include "net/port.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <lwip/etharp.h>
#include <lwip/ip4_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/tcp.h>
#include <netif/ethernet.h>

/* ------------------------------------------------------------------ wire */

#define WIRE_FRAMES 1024
#define FRAME_MAX   1518

struct frame {
    struct netif *to;
    uint16_t len;
    uint8_t data[FRAME_MAX];
};

static struct frame wire[WIRE_FRAMES];
static unsigned wire_head, wire_count;
static struct netif nif_sv, nif_cl;
static ip4_addr_t ip_sv, ip_cl;
static struct link_stats stats;

static err_t wire_output(struct netif *nif, struct pbuf *p)
{
    if (wire_count == WIRE_FRAMES || p->tot_len > FRAME_MAX) {
        stats.frames_dropped++;
        return ERR_OK;          /* a lost frame: TCP retransmits */
    }
    struct frame *f = &wire[(wire_head + wire_count) % WIRE_FRAMES];
    f->to = nif == &nif_sv ? &nif_cl : &nif_sv;
    f->len = pbuf_copy_partial(p, f->data, p->tot_len, 0);
    wire_count++;
    stats.frames++;
    return ERR_OK;
}

unsigned link_deliver(void)
{
    unsigned n = 0;
    while (wire_count > 0) {
        struct frame *f = &wire[wire_head];
        wire_head = (wire_head + 1) % WIRE_FRAMES;
        wire_count--;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, f->len, PBUF_POOL);
        if (p == NULL) {
            stats.frames_dropped++;
            continue;
        }
        pbuf_take(p, f->data, f->len);
        if (f->to->input(p, f->to) != ERR_OK)
            pbuf_free(p);
        n++;
    }
    return n;
}

static err_t nif_init(struct netif *nif)
{
    nif->hwaddr_len = 6;
    nif->hwaddr[0] = 0x02;      /* locally administered */
    nif->hwaddr[1] = 0x76;
    nif->hwaddr[2] = 0x73;
    nif->hwaddr[3] = 0x62;
    nif->hwaddr[4] = 0x00;
    nif->hwaddr[5] = nif == &nif_sv ? 1 : 2;
    nif->mtu = 1500;
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    nif->name[0] = nif == &nif_sv ? 's' : 'c';
    nif->name[1] = nif == &nif_sv ? 'v' : 'l';
    nif->output = etharp_output;
    nif->linkoutput = wire_output;
    return ERR_OK;
}

/* LWIP_HOOK_IP4_ROUTE_SRC: both netifs share one subnet, so route by the
 * source address; each side's segments leave through its own netif. */
struct netif *vsb_hosted_route(const struct ip4_addr *src, const struct ip4_addr *dest)
{
    (void)dest;
    if (src == NULL)
        return NULL;
    if (ip4_addr_cmp(src, &ip_sv))
        return &nif_sv;
    if (ip4_addr_cmp(src, &ip_cl))
        return &nif_cl;
    return NULL;
}

/* --------------------------------------------------------------- bridges */

struct bridge {
    bool used;
    bool connected;             /* lwIP side established */
    bool sock_eof;              /* the Linux client shut its sending side */
    bool lwip_eof;              /* the server side closed (FIN seen) */
    bool sock_shut;             /* SHUT_WR done on the socket */
    int fd;
    struct tcp_pcb *pcb;
    struct pbuf *out;           /* from lwIP, not yet written to the socket */
    char label[32];
};

static struct bridge bridges[LINK_MAX_BRIDGES];

/* Linux listeners on 127.0.0.1 and the lwIP port each forwards to. */
struct forward {
    int fd;
    uint16_t listen_port, lwip_port;
};
static struct forward forwards[LINK_MAX_FORWARDS];
static unsigned nforwards;

static void bridge_free(struct bridge *b, const char *why)
{
    if (b->pcb != NULL) {
        tcp_arg(b->pcb, NULL);
        tcp_recv(b->pcb, NULL);
        tcp_sent(b->pcb, NULL);
        tcp_err(b->pcb, NULL);
        if (tcp_close(b->pcb) != ERR_OK)
            tcp_abort(b->pcb);
        b->pcb = NULL;
    }
    if (b->out != NULL)
        pbuf_free(b->out);
    b->out = NULL;
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
    b->used = false;
    stats.bridges--;
    (void)why;
}

static err_t br_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct bridge *b = arg;
    (void)err;
    if (b == NULL) {
        if (p != NULL) {
            tcp_recved(pcb, p->tot_len);
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (p == NULL) {
        b->lwip_eof = true;
        return ERR_OK;
    }
    if (b->out == NULL)
        b->out = p;
    else
        pbuf_cat(b->out, p);
    return ERR_OK;
}

static void br_err(void *arg, err_t err)
{
    struct bridge *b = arg;
    (void)err;
    if (b == NULL)
        return;
    b->pcb = NULL;              /* freed by lwIP */
    b->lwip_eof = true;
    /* A reset from the server side: reset the Linux client too. */
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(b->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    if (b->out != NULL) {
        pbuf_free(b->out);
        b->out = NULL;
    }
}

static err_t br_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct bridge *b = arg;
    (void)pcb;
    if (b != NULL && err == ERR_OK)
        b->connected = true;
    return ERR_OK;
}

static void accept_one(const struct forward *fw)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    int fd = accept4(fw->fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    struct bridge *b = NULL;
    for (unsigned i = 0; i < LINK_MAX_BRIDGES; i++) {
        if (!bridges[i].used) {
            b = &bridges[i];
            break;
        }
    }
    char label[32];
    snprintf(label, sizeof(label), "%s:%u", inet_ntoa(sa.sin_addr), ntohs(sa.sin_port));
    if (b == NULL) {
        net_log("link %s: refused: all %d bridges busy", label, LINK_MAX_BRIDGES);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL) {
        net_log("link %s: refused: no lwIP pcb", label);
        close(fd);
        return;
    }
    memset(b, 0, sizeof(*b));
    b->used = true;
    b->fd = fd;
    b->pcb = pcb;
    memcpy(b->label, label, sizeof(label));
    stats.bridges++;
    stats.accepted++;
    tcp_arg(pcb, b);
    tcp_recv(pcb, br_recv);
    tcp_err(pcb, br_err);
    tcp_nagle_disable(pcb);
    ip_addr_t local, remote;
    ip_addr_copy_from_ip4(local, ip_cl);
    ip_addr_copy_from_ip4(remote, ip_sv);
    err_t e = tcp_bind(pcb, &local, 0);
    if (e == ERR_OK)
        e = tcp_connect(pcb, &remote, fw->lwip_port, br_connected);
    if (e != ERR_OK) {
        net_log("link %s: lwIP connect failed (%d)", label, (int)e);
        bridge_free(b, "connect failed");
    }
}

/* Moves bytes both ways; returns true if anything moved. */
static bool bridge_step(struct bridge *b, short revents)
{
    bool moved = false;
    /* lwIP -> socket */
    while (b->out != NULL) {
        struct pbuf *q = b->out;
        ssize_t n = send(b->fd, q->payload, q->len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            bridge_free(b, "socket write error");
            return true;
        }
        if (b->pcb != NULL)
            tcp_recved(b->pcb, (u16_t)n);
        b->out = pbuf_free_header(b->out, (u16_t)n);
        moved = true;
        if ((size_t)n < q->len)
            break;
    }
    if (b->lwip_eof && b->out == NULL && !b->sock_shut) {
        shutdown(b->fd, SHUT_WR);
        b->sock_shut = true;
        moved = true;
    }
    /* socket -> lwIP */
    if (b->pcb != NULL && b->connected && !b->sock_eof && (revents & (POLLIN | POLLHUP | POLLERR))) {
        size_t room = tcp_sndbuf(b->pcb);
        if (room > 0 && tcp_sndqueuelen(b->pcb) < TCP_SND_QUEUELEN - 2) {
            uint8_t buf[8192];
            if (room > sizeof(buf))
                room = sizeof(buf);
            ssize_t n = recv(b->fd, buf, room, 0);
            if (n > 0) {
                if (tcp_write(b->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK)
                    tcp_output(b->pcb);
                else
                    net_log("link %s: tcp_write failed, bytes lost", b->label);
                moved = true;
            } else if (n == 0) {
                b->sock_eof = true;
                tcp_shutdown(b->pcb, 0, 1);
                moved = true;
            } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                /* Client reset: reset the lwIP side as well. */
                tcp_arg(b->pcb, NULL);
                tcp_err(b->pcb, NULL);
                tcp_abort(b->pcb);
                b->pcb = NULL;
                bridge_free(b, "client reset");
                return true;
            }
        }
    }
    if (b->pcb == NULL && b->out == NULL) {
        bridge_free(b, "server side gone");
        return true;
    }
    if (b->sock_eof && b->lwip_eof && b->out == NULL) {
        bridge_free(b, "both sides closed");
        return true;
    }
    return moved;
}

size_t link_pollfds(struct pollfd *fds, size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; i < nforwards && n < max; i++)
        fds[n++] = (struct pollfd){ .fd = forwards[i].fd, .events = POLLIN };
    for (unsigned i = 0; i < LINK_MAX_BRIDGES && n < max; i++) {
        struct bridge *b = &bridges[i];
        if (!b->used)
            continue;
        short ev = 0;
        if (b->pcb != NULL && b->connected && !b->sock_eof && tcp_sndbuf(b->pcb) > 0)
            ev |= POLLIN;
        if (b->out != NULL)
            ev |= POLLOUT;
        fds[n++] = (struct pollfd){ .fd = b->fd, .events = ev };
    }
    return n;
}

bool link_service(const struct pollfd *fds, size_t n)
{
    bool moved = false;
    for (size_t i = 0; i < n; i++) {
        for (unsigned f = 0; f < nforwards; f++) {
            if (fds[i].fd == forwards[f].fd && (fds[i].revents & POLLIN)) {
                accept_one(&forwards[f]);
                moved = true;
            }
        }
    }
    /* Every bridge, whatever poll said: lwIP-side data needs no event. */
    for (unsigned i = 0; i < LINK_MAX_BRIDGES; i++) {
        struct bridge *b = &bridges[i];
        if (!b->used)
            continue;
        short rev = 0;
        for (size_t j = 0; j < n; j++)
            if (fds[j].fd == b->fd)
                rev = fds[j].revents;
        moved |= bridge_step(b, rev);
    }
    return moved;
}

bool link_init(uint16_t listen_port, uint16_t lwip_port)
{
    ip4_addr_t mask, gw;
    ip4addr_aton(LINK_SERVER_IP, &ip_sv);
    ip4addr_aton(LINK_CLIENT_IP, &ip_cl);
    ip4addr_aton("255.255.255.0", &mask);
    ip4_addr_set_zero(&gw);
    if (netif_add(&nif_sv, &ip_sv, &mask, &gw, NULL, nif_init, ethernet_input) == NULL ||
        netif_add(&nif_cl, &ip_cl, &mask, &gw, NULL, nif_init, ethernet_input) == NULL) {
        net_log("link: netif_add failed");
        return false;
    }
    netif_set_default(&nif_sv);
    netif_set_up(&nif_sv);
    netif_set_link_up(&nif_sv);
    netif_set_up(&nif_cl);
    netif_set_link_up(&nif_cl);
    return link_forward(listen_port, lwip_port);
}

bool link_forward(uint16_t listen_port, uint16_t lwip_port)
{
    if (nforwards == LINK_MAX_FORWARDS) {
        net_log("link: more than %d forwarded ports", LINK_MAX_FORWARDS);
        return false;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        net_log("link: socket: %s", strerror(errno));
        return false;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(listen_port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 64) != 0) {
        net_log("link: cannot listen on 127.0.0.1:%u: %s", listen_port, strerror(errno));
        close(fd);
        return false;
    }
    forwards[nforwards++] = (struct forward){ fd, listen_port, lwip_port };
    net_log("link: 127.0.0.1:%u -> lwIP %s:%u (netifs sv %s, cl %s, in-process wire)", listen_port,
            LINK_SERVER_IP, lwip_port, LINK_SERVER_IP, LINK_CLIENT_IP);
    return true;
}

void link_get_stats(struct link_stats *st)
{
    *st = stats;
}
