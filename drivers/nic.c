/*
 * Choosing and starting the management NIC at boot (CORE_INIT, before the
 * cloud VM exists), and the polled interface the network stack uses.
 */
#include "drivers/nic.h"
#include "drivers/dhcp_probe.h"
#include "drivers/e1000.h"
#include "drivers/pci.h"
#include "core/cmdline.h"
#include "core/hw.h"
#include "core/init.h"
#include "core/log.h"
#include "core/region.h"
#include "core/time.h"

#define PCI_CLASS_NETWORK   0x02
#define NIC_LINK_WAIT_MS    3000    /* copper autonegotiation takes 2-3 s */
#define NIC_DHCP_WAIT_S     2

static struct {
    bool present, up;
    uint32_t bdf;
    uint64_t mmio_base, mmio_size;
    struct nic_range ranges[NIC_RANGES_MAX];
    unsigned nranges;
    struct e1000 dev;
} nic;

struct nic_pick {
    int32_t want;               /* net_nic=, -1: the first supported one */
    bool found;
    struct pci_func func;
};

static bool pick_visit(void *ctx, const struct pci_func *f)
{
    struct nic_pick *p = ctx;
    if (f->class_code == PCI_CLASS_NETWORK)
        kprintf("pci: %02x:%02x.%x %04x:%04x network controller\n", pci_bus(f->bdf),
                pci_dev(f->bdf), pci_fn(f->bdf), f->vendor, f->device);
    if (!p->found && (p->want >= 0 ? f->bdf == (uint32_t)p->want
                                   : e1000_supported(f->vendor, f->device, NULL))) {
        p->func = *f;
        p->found = true;
    }
    return true;
}

static uint32_t mmio_rd(void *ctx, uint32_t reg) { return mmio_read32(*(uint64_t *)ctx + reg); }
static void mmio_wr(void *ctx, uint32_t reg, uint32_t v) { mmio_write32(*(uint64_t *)ctx + reg, v); }

/* Records every implemented BAR (what vmx/ must hide from the cloud VM)
 * and checks BAR0, the register window: memory inside the identity map and
 * clear of the hypervisor region, whatever the firmware assigned. */
static const char *probe_bars(uint32_t bdf)
{
    struct pci_bar bar, bar0 = { 0 };
    for (unsigned i = 0; i < NIC_RANGES_MAX; i += bar.is64 ? 2 : 1) {
        if (pci_bar_probe(&pci_cfg_ports, bdf, i, &bar) || !bar.size)
            continue;
        if (!i)
            bar0 = bar;
        nic.ranges[nic.nranges++] = (struct nic_range){ bar.base, bar.size, bar.io };
    }
    if (bar0.io || !bar0.size)
        return "BAR0 is not an implemented memory BAR";
    nic.mmio_base = bar0.base;
    nic.mmio_size = bar0.size;
    if (!bar0.base)
        return "BAR0 was not assigned an address by the firmware";
    if (bar0.size < E1000_MMIO_SIZE)
        return "BAR0 is smaller than the 128 KiB register space";
    if (bar0.base + bar0.size > (1ull << 32))
        return "BAR0 lies above 4 GiB, outside the identity map";
    if (bar0.base < region.base + region.size && region.base < bar0.base + bar0.size)
        return "BAR0 overlaps the hypervisor region";
    return NULL;
}

/* Brings up the chosen e1000; returns why not. On failure it stops the
 * function mastering the bus, so no DMA reaches freed pages. */
static const char *nic_start(uint32_t bdf)
{
    const char *err = probe_bars(bdf);
    if (err)
        return err;
    uint16_t cmd = pci_read16(&pci_cfg_ports, bdf, PCI_COMMAND);
    pci_write16(&pci_cfg_ports, bdf, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    uint64_t dma = palloc_alloc(&region_pages, E1000_DMA_PAGES, 1);
    if (dma == PALLOC_FAIL)
        err = "no memory for the descriptor rings";
    else
        err = e1000_init(&nic.dev, &(struct e1000_hw){ mmio_rd, mmio_wr, &nic.mmio_base }, dma);
    if (!err)
        return NULL;
    pci_write16(&pci_cfg_ports, bdf, PCI_COMMAND, cmd & (uint16_t)~PCI_COMMAND_MASTER);
    if (dma != PALLOC_FAIL)
        palloc_free(&region_pages, dma, E1000_DMA_PAGES);
    return err;
}

static void print_ip(const char *label, uint32_t ip)
{
    kprintf("%s%u.%u.%u.%u", label, ip >> 24, (ip >> 16) & 0xFF, (ip >> 8) & 0xFF, ip & 0xFF);
}

/*
 * The link check printed at boot until lwIP runs here: one DHCPDISCOVER,
 * then up to 2 s of polling for the matching DHCPOFFER. It proves both
 * rings end to end; the offered address is not taken.
 */
static void nic_dhcp_probe(void)
{
    static uint8_t frame[E1000_BUF_SIZE];
    uint32_t xid = (uint32_t)tsc_now() ^ (uint32_t)nic.dev.mac[5] << 24;
    size_t len = dhcp_probe_discover(frame, sizeof(frame), nic.dev.mac, xid);
    if (e1000_send(&nic.dev, frame, len) != E1000_SENT) {
        kprintf("nic: could not queue the DHCPDISCOVER\n");
        return;
    }
    unsigned others = 0;
    uint64_t deadline = tsc_now() + NIC_DHCP_WAIT_S * tsc_hz;
    while (tsc_now() < deadline) {
        struct dhcp_offer offer;
        size_t n = e1000_poll(&nic.dev, frame, sizeof(frame));
        if (!n) {
            cpu_relax();
            continue;
        }
        if (dhcp_probe_offer(frame, n, nic.dev.mac, xid, &offer)) {
            others++;
            continue;
        }
        print_ip("nic: DHCP offer of ", offer.yiaddr);
        print_ip(" from ", offer.server);
        kprintf(" (link check only: the address is not taken)\n");
        return;
    }
    kprintf("nic: no DHCP offer within %u s (%u other frames received)\n", NIC_DHCP_WAIT_S, others);
}

static void nic_report(const struct pci_func *f)
{
    uint32_t bdf = f->bdf;
    unsigned mbps = 0;
    bool fd = false;
    bool link = e1000_wait_link(&nic.dev, NIC_LINK_WAIT_MS) && e1000_link(&nic.dev, &mbps, &fd);
    const uint8_t *m = nic.dev.mac;
    kprintf("nic: e1000 at %02x:%02x.%x (%04x:%04x), MAC %02x:%02x:%02x:%02x:%02x:%02x, ",
            pci_bus(bdf), pci_dev(bdf), pci_fn(bdf), f->vendor, f->device,
            m[0], m[1], m[2], m[3], m[4], m[5]);
    if (link)
        kprintf("link up, %u Mb/s %s duplex\n", mbps, fd ? "full" : "half");
    else
        kprintf("link down after %u s (no DHCP link check)\n", NIC_LINK_WAIT_MS / 1000);
}

static void nic_init(void)
{
    int32_t want = boot_config()->net_nic;
    struct nic_pick pick = { .want = want };
    unsigned nfunc = pci_scan(&pci_cfg_ports, pick_visit, &pick);
    const struct pci_func *f = &pick.func;
    kprintf("pci: %u functions on buses 0-255\n", nfunc);
    if (want >= 0 && (!pick.found || !e1000_supported(f->vendor, f->device, NULL))) {
        kprintf("nic: no supported NIC at %02x:%02x.%x (", pci_bus((uint32_t)want),
                pci_dev((uint32_t)want), pci_fn((uint32_t)want));
        if (pick.found)
            kprintf("%04x:%04x is not an Intel 82540EM/82545EM", f->vendor, f->device);
        else
            kprintf("no device there");
        kprintf("); continuing without network\n");
        return;
    }
    if (!pick.found) {
        kprintf("nic: no supported NIC found (Intel 82540EM/82545EM); continuing without network\n");
        return;
    }
    nic.present = true;
    nic.bdf = f->bdf;
    const char *err = nic_start(f->bdf);
    if (err) {
        kprintf("nic: e1000 at %02x:%02x.%x (%04x:%04x): %s; continuing without network\n",
                pci_bus(f->bdf), pci_dev(f->bdf), pci_fn(f->bdf), f->vendor, f->device, err);
        return;
    }
    nic.up = true;
    nic_report(f);
    if (e1000_link(&nic.dev, NULL, NULL))
        nic_dhcp_probe();
}
CORE_INIT(nic_init, 30);

bool nic_present(void) { return nic.present; }
uint32_t nic_bdf(void) { return nic.bdf; }
bool nic_up(void) { return nic.up; }
bool nic_link_up(void) { return nic.up && e1000_link(&nic.dev, NULL, NULL); }

bool nic_mmio_range(uint64_t *base, uint64_t *size)
{
    if (!nic.present || !nic.mmio_size)
        return false;
    *base = nic.mmio_base;
    *size = nic.mmio_size;
    return true;
}

unsigned nic_ranges(struct nic_range out[NIC_RANGES_MAX])
{
    for (unsigned i = 0; i < nic.nranges; i++)
        out[i] = nic.ranges[i];
    return nic.nranges;
}

bool nic_mac(uint8_t mac[6])
{
    if (!nic.up)
        return false;
    for (unsigned i = 0; i < 6; i++)
        mac[i] = nic.dev.mac[i];
    return true;
}

int nic_send(const void *frame, size_t len)
{
    if (!nic.up)
        return NIC_DOWN;
    switch (e1000_send(&nic.dev, frame, len)) {
    case E1000_SENT: return NIC_SENT;
    case E1000_BAD_LENGTH: return NIC_BAD_LENGTH;
    default: return NIC_RING_FULL;
    }
}

size_t nic_poll(void *buf, size_t cap)
{
    return nic.up ? e1000_poll(&nic.dev, buf, cap) : 0;
}

void nic_stats(struct nic_stats *out)
{
    struct e1000_stats s = { 0 };
    if (nic.up)
        e1000_read_stats(&nic.dev, &s);
    *out = (struct nic_stats){ s.rx_frames, s.rx_bytes, s.rx_dropped, s.rx_missed,
                               s.tx_frames, s.tx_bytes, s.tx_busy };
}
