/*
 * The boot-time link check: one DHCPDISCOVER out, a DHCPOFFER back
 * (RFC 2131 over RFC 951 BOOTP, UDP, IPv4, Ethernet II). Pure frame
 * building and parsing, so it is tested on the host; drivers/nic.c sends
 * and polls. It stands in until lwIP runs in the hypervisor.
 */
#ifndef DRIVERS_DHCP_PROBE_H
#define DRIVERS_DHCP_PROBE_H
#include <stddef.h>
#include <stdint.h>

/* Ethernet 14 + IPv4 20 + UDP 8 + the 300-byte minimum BOOTP message. */
#define DHCP_PROBE_FRAME_LEN 342u

struct dhcp_offer {
    uint32_t yiaddr;        /* the address offered; IPv4 values in host order */
    uint32_t server;        /* server identifier (option 54), else the IP source */
    uint32_t netmask;       /* option 1, 0 when absent */
    uint32_t router;        /* first address of option 3, 0 when absent */
    uint32_t lease_s;       /* option 51, 0 when absent */
};

/* The RFC 1071 Internet checksum of `len` bytes, added to `sum` (a partial
 * sum of earlier data, e.g. a pseudo-header; 0 to start). */
uint16_t dhcp_probe_checksum(const void *data, size_t len, uint32_t sum);

/* Writes a broadcast DHCPDISCOVER from `mac` with transaction id `xid`.
 * Returns its length (DHCP_PROBE_FRAME_LEN), or 0 if `cap` is too small. */
size_t dhcp_probe_discover(uint8_t *buf, size_t cap, const uint8_t mac[6], uint32_t xid);

/* Parses a received frame. Returns NULL when it is a DHCPOFFER for `mac`
 * and `xid` with valid IPv4 and UDP checksums, else why it is not. */
const char *dhcp_probe_offer(const uint8_t *frame, size_t len, const uint8_t mac[6],
                             uint32_t xid, struct dhcp_offer *out);

#endif
