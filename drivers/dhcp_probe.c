/* DHCPDISCOVER builder and DHCPOFFER parser for the boot-time link check. */
#include "drivers/dhcp_probe.h"
#include "core/libc.h"

#define ETH_HLEN        14
#define ETH_TYPE_IPV4   0x0800
#define IP_HLEN         20
#define IP_PROTO_UDP    17
#define IP_FRAG_MASK    0x3FFF      /* MF flag and fragment offset */
#define UDP_HLEN        8
#define PORT_SERVER     67
#define PORT_CLIENT     68

/* BOOTP message (RFC 951, RFC 2131 figure 1) offsets. */
#define BOOTP_OP        0
#define BOOTP_HTYPE     1
#define BOOTP_HLEN      2
#define BOOTP_XID       4
#define BOOTP_FLAGS     10
#define BOOTP_YIADDR    16
#define BOOTP_CHADDR    28
#define BOOTP_COOKIE    236
#define BOOTP_OPTIONS   240
#define BOOTP_MIN_LEN   300
#define BOOTP_REQUEST   1
#define BOOTP_REPLY     2
#define BOOTP_BROADCAST 0x8000      /* we have no address yet: reply by broadcast */
#define HTYPE_ETHER     1

/* DHCP options (RFC 2132). */
#define OPT_PAD         0
#define OPT_NETMASK     1
#define OPT_ROUTER      3
#define OPT_DNS         6
#define OPT_LEASE       51
#define OPT_MSG_TYPE    53
#define OPT_SERVER_ID   54
#define OPT_PARAMS      55
#define OPT_END         255
#define DHCPDISCOVER    1
#define DHCPOFFER       2

static const uint8_t dhcp_cookie[4] = { 99, 130, 83, 99 };

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

static uint32_t sum_words(const uint8_t *p, size_t len, uint32_t sum)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    return sum;
}

uint16_t dhcp_probe_checksum(const void *data, size_t len, uint32_t sum)
{
    sum = sum_words(data, len, sum);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* UDP checksum: the pseudo-header (source, destination, protocol, length)
 * and the datagram, whose own checksum field is zero or already set. */
static uint16_t udp_checksum(const uint8_t *ip, const uint8_t *udp, size_t ulen)
{
    uint32_t sum = sum_words(ip + 12, 8, IP_PROTO_UDP + (uint32_t)ulen);
    return dhcp_probe_checksum(udp, ulen, sum);
}

size_t dhcp_probe_discover(uint8_t *buf, size_t cap, const uint8_t mac[6], uint32_t xid)
{
    if (cap < DHCP_PROBE_FRAME_LEN)
        return 0;
    memset(buf, 0, DHCP_PROBE_FRAME_LEN);
    memset(buf, 0xFF, 6);
    memcpy(buf + 6, mac, 6);
    put16(buf + 12, ETH_TYPE_IPV4);

    uint8_t *ip = buf + ETH_HLEN, *udp = ip + IP_HLEN, *b = udp + UDP_HLEN;
    ip[0] = 0x45;                               /* version 4, 5-word header */
    put16(ip + 2, IP_HLEN + UDP_HLEN + BOOTP_MIN_LEN);
    ip[8] = 64;                                 /* TTL */
    ip[9] = IP_PROTO_UDP;
    put32(ip + 16, 0xFFFFFFFFu);                /* from 0.0.0.0 to broadcast */
    put16(ip + 10, dhcp_probe_checksum(ip, IP_HLEN, 0));

    put16(udp, PORT_CLIENT);
    put16(udp + 2, PORT_SERVER);
    put16(udp + 4, UDP_HLEN + BOOTP_MIN_LEN);

    b[BOOTP_OP] = BOOTP_REQUEST;
    b[BOOTP_HTYPE] = HTYPE_ETHER;
    b[BOOTP_HLEN] = 6;
    put32(b + BOOTP_XID, xid);
    put16(b + BOOTP_FLAGS, BOOTP_BROADCAST);
    memcpy(b + BOOTP_CHADDR, mac, 6);
    memcpy(b + BOOTP_COOKIE, dhcp_cookie, 4);
    static const uint8_t opts[] = { OPT_MSG_TYPE, 1, DHCPDISCOVER,
                                    OPT_PARAMS, 3, OPT_NETMASK, OPT_ROUTER, OPT_DNS, OPT_END };
    memcpy(b + BOOTP_OPTIONS, opts, sizeof(opts));

    uint16_t csum = udp_checksum(ip, udp, UDP_HLEN + BOOTP_MIN_LEN);
    put16(udp + 6, csum ? csum : 0xFFFF);       /* 0 would mean "no checksum" */
    return DHCP_PROBE_FRAME_LEN;
}

/* Checks the Ethernet, IPv4 and UDP layers; returns the BOOTP message. */
static const char *udp_payload(const uint8_t *f, size_t len, const uint8_t **msg, size_t *mlen,
                               uint32_t *ip_src)
{
    if (len < ETH_HLEN + IP_HLEN || get16(f + 12) != ETH_TYPE_IPV4)
        return "not IPv4";
    const uint8_t *ip = f + ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 0xF) * 4, total = get16(ip + 2);
    if (ip[0] >> 4 != 4 || ihl < IP_HLEN || total < ihl + UDP_HLEN || ETH_HLEN + total > len)
        return "malformed IPv4 header";
    if (dhcp_probe_checksum(ip, ihl, 0))
        return "bad IPv4 header checksum";
    if (ip[9] != IP_PROTO_UDP || (get16(ip + 6) & IP_FRAG_MASK))
        return "not an unfragmented UDP datagram";
    const uint8_t *udp = ip + ihl;
    size_t ulen = get16(udp + 4);
    if (get16(udp) != PORT_SERVER || get16(udp + 2) != PORT_CLIENT)
        return "not from port 67 to port 68";
    if (ulen < UDP_HLEN || ulen > total - ihl)
        return "malformed UDP length";
    if (get16(udp + 6) && udp_checksum(ip, udp, ulen))
        return "bad UDP checksum";
    *msg = udp + UDP_HLEN;
    *mlen = ulen - UDP_HLEN;
    *ip_src = get32(ip + 12);
    return NULL;
}

/* Walks the options after the magic cookie; returns the message type. */
static const char *read_options(const uint8_t *b, size_t blen, uint8_t *type, struct dhcp_offer *out)
{
    *type = 0;
    for (size_t i = BOOTP_OPTIONS; i < blen;) {
        uint8_t code = b[i];
        if (code == OPT_PAD) {
            i++;
            continue;
        }
        if (code == OPT_END)
            return NULL;
        if (i + 2 > blen || i + 2 + b[i + 1] > blen)
            return "option runs past the message";
        const uint8_t *v = b + i + 2;
        uint8_t n = b[i + 1];
        if (code == OPT_MSG_TYPE && n == 1)
            *type = v[0];
        else if (code == OPT_SERVER_ID && n == 4)
            out->server = get32(v);
        else if (code == OPT_NETMASK && n == 4)
            out->netmask = get32(v);
        else if (code == OPT_ROUTER && n >= 4)
            out->router = get32(v);
        else if (code == OPT_LEASE && n == 4)
            out->lease_s = get32(v);
        i += 2 + (size_t)n;
    }
    return "options not terminated";
}

const char *dhcp_probe_offer(const uint8_t *frame, size_t len, const uint8_t mac[6],
                             uint32_t xid, struct dhcp_offer *out)
{
    const uint8_t *b;
    size_t blen;
    uint32_t ip_src;
    const char *err = udp_payload(frame, len, &b, &blen, &ip_src);
    if (err)
        return err;
    if (blen < BOOTP_OPTIONS || b[BOOTP_OP] != BOOTP_REPLY || b[BOOTP_HTYPE] != HTYPE_ETHER ||
        b[BOOTP_HLEN] != 6 || memcmp(b + BOOTP_COOKIE, dhcp_cookie, 4))
        return "not a DHCP reply";
    if (get32(b + BOOTP_XID) != xid || memcmp(b + BOOTP_CHADDR, mac, 6))
        return "reply for another client";
    *out = (struct dhcp_offer){ 0 };
    uint8_t type;
    if ((err = read_options(b, blen, &type, out)))
        return err;
    if (type != DHCPOFFER)
        return "not a DHCPOFFER";
    out->yiaddr = get32(b + BOOTP_YIADDR);
    if (!out->yiaddr)
        return "offer without an address";
    if (!out->server)
        out->server = ip_src;
    return NULL;
}
