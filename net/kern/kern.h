/* The network services inside the hypervisor (net/kern/): lwIP on the
 * management NIC, the TLS console and VNC over the shadow devices. */
#ifndef NET_KERN_KERN_H
#define NET_KERN_KERN_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads the CMOS clock once (certificate validity); false with a reason. */
bool net_kern_clock_init(char *why, size_t whylen);
/* "RDSEED", "RDRAND" or NULL when the CPU has neither. */
const char *net_kern_entropy_source(void);

/* The lwIP netif on drivers/nic.h: brings it up with DHCP (ip == 0) or the
 * static address ip/prefix (host byte order) and gateway gw (0: none). */
bool net_kern_netif_start(uint32_t ip, unsigned prefix, uint32_t gw, char *why, size_t whylen);
/* Moves received frames into lwIP; true if any. */
bool net_kern_netif_poll(void);

#endif
