/* lwIP configuration for vsbypass's management network.
 *
 * NO_SYS=1: no threads, no sockets/netconn; the raw and altcp APIs only,
 * polled from one loop (the hypervisor's event loop, or net/hosted's main
 * loop) that calls sys_check_timeouts(). All memory comes from lwIP's own
 * static heap and pools: no C library malloc. */
#ifndef VSB_LWIPOPTS_H
#define VSB_LWIPOPTS_H

#define NO_SYS                  1
#define SYS_LIGHTWEIGHT_PROT    0
#define LWIP_SOCKET             0
#define LWIP_NETCONN            0
#define LWIP_NETIF_API          0

/* Memory: a static heap for PBUF_RAM, static pools for everything else. */
#define MEM_LIBC_MALLOC         0
#define MEMP_MEM_MALLOC         0
#define MEM_ALIGNMENT           8
#define MEM_SIZE                (256 * 1024)
#define MEMP_NUM_PBUF           64
#define MEMP_NUM_TCP_PCB        48
#define MEMP_NUM_TCP_PCB_LISTEN 20      /* console + one VNC port per VM */
#define MEMP_NUM_TCP_SEG        512
#define MEMP_NUM_ALTCP_PCB      (2 * MEMP_NUM_TCP_PCB)
#define MEMP_NUM_SYS_TIMEOUT    (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
#define PBUF_POOL_SIZE          256
#define MEMP_OVERFLOW_CHECK     0

/* Protocols: IPv4, ARP, ICMP, UDP (DHCP), TCP. */
#define LWIP_IPV4               1
#define LWIP_IPV6               0
#define LWIP_ARP                1
#define LWIP_ETHERNET           1
#define LWIP_ICMP               1
#define LWIP_RAW                0
#define LWIP_UDP                1
#define LWIP_DHCP               1
#define LWIP_AUTOIP             0
#define LWIP_IGMP               0
#define LWIP_DNS                0
#define IP_REASSEMBLY           0
#define IP_FRAG                 0
#define LWIP_TCP                1
#define LWIP_TCP_KEEPALIVE      1
#define LWIP_ALTCP              1
#define LWIP_ALTCP_TLS          0       /* our TLS layer is net/stack/altcp_bearssl */
#define TCP_MSS                 1460
#define TCP_WND                 (16 * TCP_MSS)
#define TCP_SND_BUF             (16 * TCP_MSS)
#define TCP_SND_QUEUELEN        (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_LISTEN_BACKLOG      1
#define TCP_DEFAULT_LISTEN_BACKLOG 8
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK   1
#define LWIP_NETIF_LOOPBACK     0
#define LWIP_SINGLE_NETIF       0
#define LWIP_CHECKSUM_ON_COPY   1

/* Statistics: the pool and pcb counters the services report. */
#define LWIP_STATS              1
#define LWIP_STATS_DISPLAY      0
#define MEM_STATS               1
#define MEMP_STATS              1
#define TCP_STATS               1
#define LINK_STATS              1

/* The hosted build connects two netifs of this one stack by an in-process
 * wire (net/hosted/link.c); its route hook picks the netif by source
 * address so each side's segments leave through its own netif. */
#ifdef VSB_HOSTED_LINK
#include <stdint.h>
struct netif;
struct ip4_addr;
struct netif *vsb_hosted_route(const struct ip4_addr *src, const struct ip4_addr *dest);
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) vsb_hosted_route((src), (dest))
#endif

#endif
