/* lwIP's netif on the management NIC (drivers/nic.h), polled. */
#include "net/kern/kern.h"
#include "core/fmt.h"
#include "core/libc.h"
#include "drivers/nic.h"
#include "net/port.h"
#include <lwip/dhcp.h>
#include <lwip/etharp.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <netif/ethernet.h>

#define FRAME_MAX 1514

static struct netif nif;
static uint8_t tx_frame[FRAME_MAX];
static uint8_t rx_frame[FRAME_MAX + 4];
static uint64_t tx_dropped, rx_dropped;

static err_t linkoutput(struct netif *n, struct pbuf *p)
{
    (void)n;
    if (p->tot_len > FRAME_MAX) {
        tx_dropped++;
        return ERR_BUF;
    }
    u16_t len = pbuf_copy_partial(p, tx_frame, p->tot_len, 0);
    int r = nic_send(tx_frame, len);
    if (r != NIC_SENT) {
        tx_dropped++;
        return r == NIC_RING_FULL ? ERR_MEM : ERR_IF;
    }
    return ERR_OK;
}

static void status_changed(struct netif *n)
{
    if (!ip4_addr_isany_val(*netif_ip4_addr(n))) {
        char ip[16], mask[16], gw[16];
        ip4addr_ntoa_r(netif_ip4_addr(n), ip, sizeof(ip));
        ip4addr_ntoa_r(netif_ip4_netmask(n), mask, sizeof(mask));
        ip4addr_ntoa_r(netif_ip4_gw(n), gw, sizeof(gw));
        net_log("DHCP lease: address %s netmask %s gateway %s", ip, mask, gw);
    }
}

static void link_changed(struct netif *n)
{
    net_log("link %s", netif_is_link_up(n) ? "up" : "down");
}

static err_t nif_init(struct netif *n)
{
    n->name[0] = 'm';
    n->name[1] = 'n';
    n->output = etharp_output;
    n->linkoutput = linkoutput;
    n->mtu = 1500;
    n->hwaddr_len = 6;
    nic_mac(n->hwaddr);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

bool net_kern_netif_start(uint32_t ip, unsigned prefix, uint32_t gw, char *why, size_t whylen)
{
    ip4_addr_t a, m, g;
    ip4_addr_set_u32(&a, lwip_htonl(ip));
    ip4_addr_set_u32(&m, ip ? lwip_htonl(~0u << (32 - prefix)) : 0);
    ip4_addr_set_u32(&g, lwip_htonl(gw));
    if (netif_add(&nif, &a, &m, &g, NULL, nif_init, ethernet_input) == NULL) {
        fmt_snprintf(why, whylen, "netif_add failed");
        return false;
    }
    if (ip == 0)
        netif_set_status_callback(&nif, status_changed);
    netif_set_link_callback(&nif, link_changed);
    netif_set_default(&nif);
    netif_set_up(&nif);
    if (nic_link_up())
        netif_set_link_up(&nif);
    if (ip != 0) {
        char as[16], gs[16];
        ip4addr_ntoa_r(&a, as, sizeof(as));
        ip4addr_ntoa_r(&g, gs, sizeof(gs));
        net_log("static address %s/%u, gateway %s (net_ip=)", as, prefix, gw ? gs : "none");
        return true;
    }
    err_t e = dhcp_start(&nif);
    if (e != ERR_OK) {
        fmt_snprintf(why, whylen, "dhcp_start failed (%d)", (int)e);
        return false;
    }
    return true;
}

bool net_kern_netif_poll(void)
{
    bool any = false;
    bool link = nic_link_up();
    if (link != netif_is_link_up(&nif)) {
        if (link)
            netif_set_link_up(&nif);
        else
            netif_set_link_down(&nif);
    }
    for (int i = 0; i < 32; i++) {
        size_t len = nic_poll(rx_frame, sizeof(rx_frame));
        if (len == 0)
            break;
        any = true;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
        if (p == NULL) {
            rx_dropped++;
            continue;
        }
        pbuf_take(p, rx_frame, (u16_t)len);
        if (nif.input(p, &nif) != ERR_OK)
            pbuf_free(p);
    }
    return any;
}
