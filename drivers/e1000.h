/*
 * Intel 8254x (82540EM/82545EM) driver, polled: legacy descriptor rings,
 * no interrupts. Registers are reached through `struct e1000_hw`, so the
 * host tests run it against a fake register file.
 */
#ifndef DRIVERS_E1000_H
#define DRIVERS_E1000_H
#include "drivers/regs_e1000.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define E1000_RING       32u        /* descriptors per ring (RDLEN/TDLEN: multiple of 8) */
#define E1000_BUF_SIZE   2048u      /* one buffer per descriptor (RCTL.BSIZE 2048) */
#define E1000_FRAME_MIN  14u        /* an Ethernet header; the NIC pads to 60 (TCTL.PSP) */
#define E1000_FRAME_MAX  1514u      /* without FCS, which the NIC appends (IFCS) */

/* DMA memory e1000_init lays out: one page for both rings, then RX buffers,
 * then TX buffers. Physical addresses must equal virtual ones (vsbypass's
 * identity-mapped region; host buffers in the tests). */
#define E1000_PAGE       4096u
#define E1000_DMA_BYTES  (E1000_PAGE + 2u * E1000_RING * E1000_BUF_SIZE)
#define E1000_DMA_PAGES  (E1000_DMA_BYTES / E1000_PAGE)

struct e1000_hw {
    uint32_t (*rd)(void *ctx, uint32_t reg);
    void (*wr)(void *ctx, uint32_t reg, uint32_t val);
    void *ctx;
};

struct e1000_stats {
    uint64_t rx_frames, rx_bytes;
    uint64_t rx_dropped;        /* errored, split or larger than the caller's buffer */
    uint64_t rx_missed;         /* the NIC found no free descriptor (MPC) */
    uint64_t tx_frames, tx_bytes;
    uint64_t tx_busy;           /* refused: every descriptor still in flight */
};

struct e1000 {
    struct e1000_hw hw;
    uint8_t mac[6];
    volatile struct e1000_rx_desc *rx;
    volatile struct e1000_tx_desc *tx;
    uint64_t rx_buf, tx_buf;    /* physical base of each buffer array */
    unsigned rx_next;           /* next descriptor the NIC fills */
    unsigned tx_next;           /* next descriptor to hand to the NIC */
    bool rx_partial;            /* inside a frame that spans buffers: drop it */
    struct e1000_stats stats;
};

enum e1000_send_result { E1000_SENT = 0, E1000_BAD_LENGTH = -1, E1000_RING_FULL = -2 };

/* True for the 8254x parts this driver programs; `model` names the part. */
bool e1000_supported(uint16_t vendor, uint16_t device, const char **model);

/* Resets the NIC, masks its interrupts, sets the link up, reads the MAC and
 * starts both rings in E1000_DMA_BYTES at `dma` (page aligned). Returns NULL
 * or why the NIC cannot be used (the rings are then not started). */
const char *e1000_init(struct e1000 *nic, const struct e1000_hw *hw, uint64_t dma);

/* Link state from STATUS; `mbps` and `full_duplex` may be NULL. */
bool e1000_link(struct e1000 *nic, unsigned *mbps, bool *full_duplex);
/* Polls for link up for at most `ms` milliseconds. */
bool e1000_wait_link(struct e1000 *nic, unsigned ms);

/* Queues one frame (destination MAC first, no FCS). */
enum e1000_send_result e1000_send(struct e1000 *nic, const void *frame, size_t len);

/* Copies the next received frame into `buf`: its length, or 0 when none is
 * waiting. Frames that do not fit in `cap` are dropped and counted. */
size_t e1000_poll(struct e1000 *nic, void *buf, size_t cap);

/* The counters, with the NIC's missed-packet count folded in. */
void e1000_read_stats(struct e1000 *nic, struct e1000_stats *out);

#endif
