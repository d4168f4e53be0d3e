/* drivers/dhcp_probe.c: the DHCPDISCOVER it builds and the DHCPOFFERs it accepts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "drivers/dhcp_probe.h"
#include <string.h>

static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/*
 * A DHCPOFFER captured from Bochs 2.7's slirp (590 bytes) in answer to
 * xid 0x596d1054: IP 10.0.2.2 -> 255.255.255.255, yiaddr 10.0.2.15,
 * sname "slirp", options 53=2, 54=10.0.2.2, 51=86400, 1=255.255.255.0.
 * The rest of the frame is zeros.
 */
#define SLIRP_XID        0x596d1054u
#define SLIRP_LEN        590
#define SLIRP_OPTS_AT    0x116          /* the magic cookie */
static const uint8_t slirp_head[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x08, 0x00, 0x45, 0x10,
    0x02, 0x40, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x6c, 0x9b, 0x0a, 0x00, 0x02, 0x02, 0xff, 0xff,
    0xff, 0xff, 0x00, 0x43, 0x00, 0x44, 0x02, 0x2c, 0x11, 0xf2, 0x02, 0x01, 0x06, 0x00, 0x59, 0x6d,
    0x10, 0x54, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00,
    0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x73, 0x6c, 0x69, 0x72, 0x70,
};
static const uint8_t slirp_opts[] = {
    0x63, 0x82, 0x53, 0x63, 0x35, 0x01, 0x02, 0x36, 0x04, 0x0a, 0x00, 0x02, 0x02, 0x33, 0x04, 0x00,
    0x01, 0x51, 0x80, 0x01, 0x04, 0xff, 0xff, 0xff, 0x00, 0xff,
};

#define ETH 14
#define IP  (ETH)
#define UDP (ETH + 20)
#define BOOTP (UDP + 8)

static uint8_t frame[SLIRP_LEN];

static void load_slirp_offer(void)
{
    memset(frame, 0, sizeof(frame));
    memcpy(frame, slirp_head, sizeof(slirp_head));
    memcpy(frame + SLIRP_OPTS_AT, slirp_opts, sizeof(slirp_opts));
}

/* Reference Internet checksum, written independently of the code under test. */
static uint16_t ref_sum(const uint8_t *p, size_t n, uint32_t acc)
{
    for (size_t i = 0; i < n; i++)
        acc += i % 2 ? p[i] : (uint32_t)p[i] << 8;
    while (acc > 0xFFFF)
        acc = (acc >> 16) + (acc & 0xFFFF);
    return (uint16_t)~acc;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static void set16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static uint16_t ref_udp_sum(const uint8_t *f)
{
    uint8_t pseudo[12];
    memcpy(pseudo, f + IP + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = 17;
    memcpy(pseudo + 10, f + UDP + 4, 2);
    uint16_t p = (uint16_t)~ref_sum(pseudo, sizeof(pseudo), 0);
    return ref_sum(f + UDP, be16(f + UDP + 4), p);
}

/* After editing the offer, make both checksums right again. */
static void fix_checksums(void)
{
    set16(frame + IP + 10, 0);
    set16(frame + IP + 10, ref_sum(frame + IP, 20, 0));
    set16(frame + UDP + 6, 0);
    uint16_t u = ref_udp_sum(frame);
    set16(frame + UDP + 6, u ? u : 0xFFFF);
}

static const char *parse(size_t len, struct dhcp_offer *o)
{
    return dhcp_probe_offer(frame, len, mac, SLIRP_XID, o);
}

/* ------------------------------------------------------------ checksum */

static void test_checksum_rfc1071(void **state)
{
    (void)state;
    /* RFC 1071 section 3's example: the sum is 0xddf2. */
    static const uint8_t words[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    assert_int_equal(dhcp_probe_checksum(words, sizeof(words), 0), (uint16_t)~0xddf2);
    static const uint8_t odd[] = { 0x01 };
    assert_int_equal(dhcp_probe_checksum(odd, 1, 0), 0xFEFF);
    assert_int_equal(dhcp_probe_checksum(NULL, 0, 0), 0xFFFF);
    static const uint8_t carry[] = { 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x02 };
    assert_int_equal(dhcp_probe_checksum(carry, sizeof(carry), 0), ref_sum(carry, sizeof(carry), 0));
    load_slirp_offer();
    assert_int_equal(dhcp_probe_checksum(frame + IP, 20, 0), 0);   /* a real header sums to zero */
}

/* ------------------------------------------------------------ DHCPDISCOVER */

static void test_discover_layout(void **state)
{
    (void)state;
    uint8_t f[DHCP_PROBE_FRAME_LEN + 10];
    memset(f, 0xEE, sizeof(f));
    assert_int_equal(dhcp_probe_discover(f, sizeof(f), mac, 0xA1B2C3D4), DHCP_PROBE_FRAME_LEN);
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_memory_equal(f, bcast, 6);
    assert_memory_equal(f + 6, mac, 6);
    assert_int_equal(be16(f + 12), 0x0800);

    assert_int_equal(f[IP], 0x45);
    assert_int_equal(be16(f + IP + 2), 328);
    assert_int_equal(be16(f + IP + 6) & 0x3FFF, 0);
    assert_int_equal(f[IP + 8], 64);
    assert_int_equal(f[IP + 9], 17);
    static const uint8_t addrs[8] = { 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
    assert_memory_equal(f + IP + 12, addrs, 8);
    assert_int_equal(ref_sum(f + IP, 20, 0), 0);

    assert_int_equal(be16(f + UDP), 68);
    assert_int_equal(be16(f + UDP + 2), 67);
    assert_int_equal(be16(f + UDP + 4), 308);
    assert_int_not_equal(be16(f + UDP + 6), 0);
    assert_int_equal(ref_udp_sum(f), 0);

    const uint8_t *b = f + BOOTP;
    assert_int_equal(b[0], 1);                  /* BOOTREQUEST */
    assert_int_equal(b[1], 1);
    assert_int_equal(b[2], 6);
    assert_int_equal(b[3], 0);
    static const uint8_t xid[4] = { 0xA1, 0xB2, 0xC3, 0xD4 };
    assert_memory_equal(b + 4, xid, 4);
    assert_int_equal(be16(b + 10), 0x8000);     /* broadcast reply */
    static const uint8_t zero16[16] = { 0 };
    assert_memory_equal(b + 12, zero16, 16);    /* ciaddr, yiaddr, siaddr, giaddr */
    assert_memory_equal(b + 28, mac, 6);
    assert_memory_equal(b + 34, zero16, 10);
    static const uint8_t opts[] = { 99, 130, 83, 99, 53, 1, 1, 55, 3, 1, 3, 6, 255 };
    assert_memory_equal(b + 236, opts, sizeof(opts));
    for (size_t i = 236 + sizeof(opts); i < 300; i++)
        assert_int_equal(b[i], 0);
    assert_int_equal(f[DHCP_PROBE_FRAME_LEN], 0xEE);
    assert_int_equal(dhcp_probe_discover(f, DHCP_PROBE_FRAME_LEN - 1, mac, 1), 0);
}

/* ------------------------------------------------------------ DHCPOFFER */

static void test_slirp_offer(void **state)
{
    (void)state;
    load_slirp_offer();
    struct dhcp_offer o;
    assert_null(parse(SLIRP_LEN, &o));
    assert_int_equal(o.yiaddr, 0x0A00020F);
    assert_int_equal(o.server, 0x0A000202);
    assert_int_equal(o.netmask, 0xFFFFFF00);
    assert_int_equal(o.lease_s, 86400);
    assert_int_equal(o.router, 0);
}

static void test_offer_for_someone_else(void **state)
{
    (void)state;
    struct dhcp_offer o;
    load_slirp_offer();
    assert_string_equal(dhcp_probe_offer(frame, SLIRP_LEN, mac, SLIRP_XID + 1, &o),
                        "reply for another client");
    static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
    assert_string_equal(dhcp_probe_offer(frame, SLIRP_LEN, other, SLIRP_XID, &o),
                        "reply for another client");
}

static void test_offer_checksums(void **state)
{
    (void)state;
    struct dhcp_offer o;
    load_slirp_offer();
    frame[IP + 8]--;                            /* TTL changed, header checksum not */
    assert_string_equal(parse(SLIRP_LEN, &o), "bad IPv4 header checksum");
    load_slirp_offer();
    frame[BOOTP + 16 + 3] = 16;                 /* yiaddr changed, UDP checksum not */
    assert_string_equal(parse(SLIRP_LEN, &o), "bad UDP checksum");
    set16(frame + UDP + 6, 0);                  /* "no checksum" is allowed over IPv4 */
    assert_null(parse(SLIRP_LEN, &o));
    assert_int_equal(o.yiaddr, 0x0A000210);
}

static void test_offer_layers(void **state)
{
    (void)state;
    struct dhcp_offer o;
    load_slirp_offer();
    set16(frame + 12, 0x0806);
    assert_string_equal(parse(SLIRP_LEN, &o), "not IPv4");
    load_slirp_offer();
    frame[IP] = 0x65;
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "malformed IPv4 header");
    load_slirp_offer();
    set16(frame + IP + 2, SLIRP_LEN);           /* longer than the frame */
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "malformed IPv4 header");
    load_slirp_offer();
    set16(frame + IP + 6, 0x2000);              /* more fragments */
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "not an unfragmented UDP datagram");
    load_slirp_offer();
    frame[IP + 9] = 6;
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "not an unfragmented UDP datagram");
    load_slirp_offer();
    set16(frame + UDP + 2, 69);
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "not from port 67 to port 68");
    load_slirp_offer();
    set16(frame + UDP + 4, 4);
    assert_string_equal(parse(SLIRP_LEN, &o), "malformed UDP length");
    load_slirp_offer();
    frame[BOOTP] = 1;                           /* a request, not a reply */
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "not a DHCP reply");
    load_slirp_offer();
    frame[SLIRP_OPTS_AT + 3] = 0x64;            /* bad magic cookie */
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "not a DHCP reply");
}

static void test_offer_options(void **state)
{
    (void)state;
    struct dhcp_offer o;
    uint8_t *opt = frame + SLIRP_OPTS_AT + 4;
    load_slirp_offer();
    opt[2] = 5;                                 /* DHCPACK */
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "not a DHCPOFFER");

    /* Pads, a router list, no server identifier: the IP source stands in. */
    load_slirp_offer();
    static const uint8_t opts[] = { 0, 0, 53, 1, 2, 3, 8, 10, 0, 2, 9, 10, 0, 2, 8, 0, 255 };
    memcpy(opt, opts, sizeof(opts));
    memset(opt + sizeof(opts), 0, 16);
    fix_checksums();
    assert_null(parse(SLIRP_LEN, &o));
    assert_int_equal(o.router, 0x0A000209);
    assert_int_equal(o.server, 0x0A000202);
    assert_int_equal(o.lease_s, 0);

    load_slirp_offer();
    size_t room = SLIRP_LEN - (size_t)(opt - frame);
    memset(opt, 0, room);
    opt[0] = 53, opt[1] = 1, opt[2] = 2;
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "options not terminated");
    opt[room - 2] = 12, opt[room - 1] = 4;      /* hostname option past the end */
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "option runs past the message");
    opt[room - 2] = 0, opt[room - 1] = 12;      /* an option code with no length byte */
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "option runs past the message");

    load_slirp_offer();
    memset(frame + BOOTP + 16, 0, 4);           /* no address offered */
    fix_checksums();
    assert_string_equal(parse(SLIRP_LEN, &o), "offer without an address");
}

/* Every truncation of a good offer is refused without reading past it. */
static void test_offer_truncated(void **state)
{
    (void)state;
    load_slirp_offer();
    struct dhcp_offer o;
    for (size_t len = 0; len < SLIRP_LEN; len++) {
        uint8_t *heap = test_malloc(len ? len : 1);
        memcpy(heap, frame, len);               /* ASan bounds the read at len */
        assert_non_null(dhcp_probe_offer(heap, len, mac, SLIRP_XID, &o));
        test_free(heap);
    }
    /* Shorter IP and UDP lengths that still hold the options are fine. */
    set16(frame + IP + 2, 20 + 8 + 236 + sizeof(slirp_opts));
    set16(frame + UDP + 4, 8 + 236 + sizeof(slirp_opts));
    fix_checksums();
    assert_null(parse(SLIRP_LEN, &o));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum_rfc1071),
        cmocka_unit_test(test_discover_layout),
        cmocka_unit_test(test_slirp_offer),
        cmocka_unit_test(test_offer_for_someone_else),
        cmocka_unit_test(test_offer_checksums),
        cmocka_unit_test(test_offer_layers),
        cmocka_unit_test(test_offer_options),
        cmocka_unit_test(test_offer_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
