/* Intel 8254x driver: reset, MAC address, legacy RX/TX rings, polled. */
#include "drivers/e1000.h"
#include "core/libc.h"
#include "core/time.h"

#define E1000_RESET_POLLS   1000    /* x 10 us: reset and EEPROM reads */
#define E1000_POLL_US       10

static const struct { uint16_t device; const char *model; } e1000_models[] = {
    { E1000_DEV_82540EM, "82540EM" },
    { E1000_DEV_82540EM_LOM, "82540EM" },
    { E1000_DEV_82545EM, "82545EM" },
};

/* Descriptors live in ordinary cacheable RAM that the NIC reads and writes
 * coherently; the compiler must still not move buffer or descriptor
 * accesses across the ownership hand-over. */
static inline void e1000_barrier(void) { __asm__ volatile("" ::: "memory"); }

static uint32_t rd(struct e1000 *nic, uint32_t reg) { return nic->hw.rd(nic->hw.ctx, reg); }
static void wr(struct e1000 *nic, uint32_t reg, uint32_t v) { nic->hw.wr(nic->hw.ctx, reg, v); }
static void *phys(uint64_t pa) { return (void *)(uintptr_t)pa; }

bool e1000_supported(uint16_t vendor, uint16_t device, const char **model)
{
    if (vendor != E1000_VENDOR_INTEL)
        return false;
    for (size_t i = 0; i < sizeof(e1000_models) / sizeof(e1000_models[0]); i++)
        if (e1000_models[i].device == device) {
            if (model)
                *model = e1000_models[i].model;
            return true;
        }
    return false;
}

/* Polls until `bits` of `reg` are all clear (want_set false) or all set. */
static bool poll_bits(struct e1000 *nic, uint32_t reg, uint32_t bits, bool want_set)
{
    for (unsigned i = 0; i < E1000_RESET_POLLS; i++) {
        uint32_t v = rd(nic, reg) & bits;
        if (want_set ? v == bits : !v)
            return true;
        udelay(E1000_POLL_US);
    }
    return false;
}

static bool eeprom_read(struct e1000 *nic, uint8_t word, uint16_t *out)
{
    wr(nic, E1000_EERD, E1000_EERD_START | (uint32_t)word << E1000_EERD_ADDR_SHIFT);
    if (!poll_bits(nic, E1000_EERD, E1000_EERD_DONE, true))
        return false;
    *out = (uint16_t)(rd(nic, E1000_EERD) >> E1000_EERD_DATA_SHIFT);
    return true;
}

/* The reset loads RAL0/RAH0 from the EEPROM on most boards; where it did
 * not, read the EEPROM's first three words and program the filter. */
static const char *read_mac(struct e1000 *nic)
{
    uint32_t ral = rd(nic, E1000_RAL0), rah = rd(nic, E1000_RAH0);
    if (!(rah & E1000_RAH_AV) || (!ral && !(rah & 0xFFFFu))) {
        uint16_t w[3];
        for (uint8_t i = 0; i < 3; i++)
            if (!eeprom_read(nic, i, &w[i]))
                return "EEPROM read timed out";
        ral = w[0] | (uint32_t)w[1] << 16;
        rah = w[2];
    }
    for (unsigned i = 0; i < 6; i++)
        nic->mac[i] = (uint8_t)((i < 4 ? ral >> (8 * i) : rah >> (8 * (i - 4))));
    bool zero = !(ral | (rah & 0xFFFFu));
    if (zero || (nic->mac[0] & 1))
        return "no valid MAC address (RAL/RAH and EEPROM empty or multicast)";
    wr(nic, E1000_RAL0, ral);
    wr(nic, E1000_RAH0, (rah & 0xFFFFu) | E1000_RAH_AV);
    return NULL;
}

static void rx_start(struct e1000 *nic, uint64_t ring)
{
    nic->rx = phys(ring);
    for (unsigned i = 0; i < E1000_RING; i++)
        nic->rx[i] = (struct e1000_rx_desc){ .addr = nic->rx_buf + i * E1000_BUF_SIZE };
    wr(nic, E1000_RDBAL, (uint32_t)ring);
    wr(nic, E1000_RDBAH, (uint32_t)(ring >> 32));
    wr(nic, E1000_RDLEN, E1000_RING * sizeof(struct e1000_rx_desc));
    wr(nic, E1000_RDH, 0);
    /* Head == tail means "no buffers", so one descriptor always stays ours. */
    wr(nic, E1000_RDT, E1000_RING - 1);
    wr(nic, E1000_RDTR, 0);
    wr(nic, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC | E1000_RCTL_BSIZE_2048);
    nic->rx_next = 0;
    nic->rx_partial = false;
}

static void tx_start(struct e1000 *nic, uint64_t ring)
{
    nic->tx = phys(ring);
    /* Done-on-start marks every descriptor free for e1000_send. */
    for (unsigned i = 0; i < E1000_RING; i++)
        nic->tx[i] = (struct e1000_tx_desc){ .addr = nic->tx_buf + i * E1000_BUF_SIZE,
                                             .status = E1000_TXD_STAT_DD };
    wr(nic, E1000_TDBAL, (uint32_t)ring);
    wr(nic, E1000_TDBAH, (uint32_t)(ring >> 32));
    wr(nic, E1000_TDLEN, E1000_RING * sizeof(struct e1000_tx_desc));
    wr(nic, E1000_TDH, 0);
    wr(nic, E1000_TDT, 0);
    wr(nic, E1000_TIPG, E1000_TIPG_COPPER);
    wr(nic, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP |
                        E1000_TCTL_CT_DEFAULT << E1000_TCTL_CT_SHIFT |
                        E1000_TCTL_COLD_FD << E1000_TCTL_COLD_SHIFT);
    nic->tx_next = 0;
}

const char *e1000_init(struct e1000 *nic, const struct e1000_hw *hw, uint64_t dma)
{
    *nic = (struct e1000){ .hw = *hw };
    /* Mask first: the reset must not leave a cause pending with nobody to
     * take it (vsbypass has no interrupt path). */
    wr(nic, E1000_IMC, E1000_IMC_ALL);
    wr(nic, E1000_CTRL, rd(nic, E1000_CTRL) | E1000_CTRL_RST);
    udelay(E1000_POLL_US);
    if (!poll_bits(nic, E1000_CTRL, E1000_CTRL_RST, false))
        return "reset did not complete within 10 ms";
    wr(nic, E1000_IMC, E1000_IMC_ALL);
    (void)rd(nic, E1000_ICR);

    uint32_t ctrl = rd(nic, E1000_CTRL);
    ctrl &= ~(E1000_CTRL_LRST | E1000_CTRL_PHY_RST | E1000_CTRL_ILOS | E1000_CTRL_VME);
    wr(nic, E1000_CTRL, ctrl | E1000_CTRL_SLU | E1000_CTRL_ASDE);
    /* No flow control: the manual asks for these to be zero then. */
    wr(nic, E1000_FCAL, 0);
    wr(nic, E1000_FCAH, 0);
    wr(nic, E1000_FCT, 0);
    wr(nic, E1000_FCTTV, 0);

    const char *err = read_mac(nic);
    if (err)
        return err;
    for (uint32_t i = 0; i < E1000_MTA_COUNT; i++)
        wr(nic, E1000_MTA + 4 * i, 0);

    nic->rx_buf = dma + E1000_PAGE;
    nic->tx_buf = nic->rx_buf + E1000_RING * E1000_BUF_SIZE;
    rx_start(nic, dma);
    tx_start(nic, dma + E1000_PAGE / 2);
    return NULL;
}

bool e1000_link(struct e1000 *nic, unsigned *mbps, bool *full_duplex)
{
    static const unsigned speeds[] = { 10, 100, 1000, 1000 };
    uint32_t st = rd(nic, E1000_STATUS);
    if (mbps)
        *mbps = speeds[(st & E1000_STATUS_SPEED_MASK) >> E1000_STATUS_SPEED_SHIFT];
    if (full_duplex)
        *full_duplex = st & E1000_STATUS_FD;
    return st & E1000_STATUS_LU;
}

bool e1000_wait_link(struct e1000 *nic, unsigned ms)
{
    for (unsigned i = 0; i < ms; i++) {
        if (e1000_link(nic, NULL, NULL))
            return true;
        udelay(1000);
    }
    return e1000_link(nic, NULL, NULL);
}

enum e1000_send_result e1000_send(struct e1000 *nic, const void *frame, size_t len)
{
    if (len < E1000_FRAME_MIN || len > E1000_FRAME_MAX)
        return E1000_BAD_LENGTH;
    unsigned i = nic->tx_next, next = (i + 1) % E1000_RING;
    /* Tail == head means "empty" to the NIC, so the descriptor after this
     * one must be done too, or handing this one over would hide them all. */
    if (!(nic->tx[i].status & E1000_TXD_STAT_DD) || !(nic->tx[next].status & E1000_TXD_STAT_DD)) {
        nic->stats.tx_busy++;
        return E1000_RING_FULL;
    }
    memcpy(phys(nic->tx_buf + i * E1000_BUF_SIZE), frame, len);
    volatile struct e1000_tx_desc *d = &nic->tx[i];
    d->length = (uint16_t)len;
    d->cso = 0;
    d->css = 0;
    d->special = 0;
    d->cmd = E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS;
    d->status = 0;
    e1000_barrier();
    wr(nic, E1000_TDT, next);
    nic->tx_next = next;
    nic->stats.tx_frames++;
    nic->stats.tx_bytes += len;
    return E1000_SENT;
}

size_t e1000_poll(struct e1000 *nic, void *buf, size_t cap)
{
    /* Bounded: a flood of bad frames must not keep the caller here. */
    for (unsigned n = 0; n < E1000_RING; n++) {
        unsigned i = nic->rx_next;
        volatile struct e1000_rx_desc *d = &nic->rx[i];
        uint8_t st = d->status;
        if (!(st & E1000_RXD_STAT_DD))
            return 0;
        e1000_barrier();
        size_t len = d->length;
        bool eop = st & E1000_RXD_STAT_EOP;
        bool bad = nic->rx_partial || !eop || (d->errors & E1000_RXD_ERR_FRAME) ||
                   !len || len > cap;
        nic->rx_partial = !eop;
        if (!bad)
            memcpy(buf, phys(nic->rx_buf + i * E1000_BUF_SIZE), len);
        else if (eop)
            nic->stats.rx_dropped++;
        /* Give the descriptor back: it becomes the new tail. */
        d->status = 0;
        e1000_barrier();
        wr(nic, E1000_RDT, i);
        nic->rx_next = (i + 1) % E1000_RING;
        if (!bad) {
            nic->stats.rx_frames++;
            nic->stats.rx_bytes += len;
            return len;
        }
    }
    return 0;
}

void e1000_read_stats(struct e1000 *nic, struct e1000_stats *out)
{
    nic->stats.rx_missed += rd(nic, E1000_MPC);
    *out = nic->stats;
}
