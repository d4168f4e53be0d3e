/* The hosted console's in-process link into lwIP.
 *
 * Two lwIP netifs of the one stack, "sv" (the vsbypass side, SERVER_IP) and
 * "cl" (a stand-in client host, CLIENT_IP), joined by an in-memory Ethernet
 * wire: every frame is really built and parsed by lwIP (ARP, IPv4, TCP).
 * A Linux TCP listener on 127.0.0.1:PORT accepts real clients (socat,
 * openssl s_client); each accepted socket is bridged byte for byte to an
 * lwIP TCP connection that "cl" opens to SERVER_IP:PORT, where the TLS
 * console service listens exactly as it will on the management NIC. */
#ifndef NET_HOSTED_LINK_H
#define NET_HOSTED_LINK_H
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINK_SERVER_IP "10.77.0.1"
#define LINK_CLIENT_IP "10.77.0.2"
#define LINK_MAX_BRIDGES 64
#define LINK_MAX_FORWARDS 17

/* Brings up both netifs (call after lwip_init) and the Linux listener on
 * 127.0.0.1:listen_port, forwarding to SERVER_IP:lwip_port. */
bool link_init(uint16_t listen_port, uint16_t lwip_port);

/* One more Linux listener, 127.0.0.1:listen_port -> SERVER_IP:lwip_port. */
bool link_forward(uint16_t listen_port, uint16_t lwip_port);

/* Delivers queued frames; returns how many. */
unsigned link_deliver(void);

/* Fills pollfds (at most max) for the listener and bridges. */
size_t link_pollfds(struct pollfd *fds, size_t max);

/* Handles what poll() reported and moves bridge bytes; returns true if
 * anything moved. */
bool link_service(const struct pollfd *fds, size_t n);

struct link_stats {
    unsigned bridges;               /* open bridged connections */
    uint64_t accepted, frames, frames_dropped;
};
void link_get_stats(struct link_stats *st);

#endif
