/*
 * The management NIC: vsbypass's own network interface, chosen at boot
 * (net_nic= or the first supported e1000) and polled by the network stack.
 * The cloud VM must never see it: vmx/ hides it using nic_bdf() and
 * nic_ranges(). Everything here is valid once the CORE_INIT hooks ran.
 */
#ifndef DRIVERS_NIC_H
#define DRIVERS_NIC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NIC_RANGES_MAX 6        /* a type-0 header has six BARs */

struct nic_range {
    uint64_t base, size;        /* bus address (port number for I/O) */
    bool io;
};

struct nic_stats {
    uint64_t rx_frames, rx_bytes;
    uint64_t rx_dropped;        /* errored, split or larger than the caller's buffer */
    uint64_t rx_missed;         /* the NIC had no free descriptor */
    uint64_t tx_frames, tx_bytes;
    uint64_t tx_busy;           /* nic_send refused: ring full */
};

enum nic_send_result {
    NIC_SENT = 0,
    NIC_DOWN = -1,              /* no NIC, or its driver did not start */
    NIC_BAD_LENGTH = -2,        /* not 14..1514 bytes */
    NIC_RING_FULL = -3,
};

/* A NIC was chosen for vsbypass; it belongs to vsbypass (hide it) even
 * when its driver then failed to start. */
bool nic_present(void);
/* Its PCI address, bus << 8 | device << 3 | function (valid if present). */
uint32_t nic_bdf(void);
/* The register window (BAR0); false when not present. */
bool nic_mmio_range(uint64_t *base, uint64_t *size);
/* Every BAR it decodes, memory and I/O; returns how many were written. */
unsigned nic_ranges(struct nic_range out[NIC_RANGES_MAX]);

/* The driver is running (false also when no NIC is present). */
bool nic_up(void);
bool nic_link_up(void);
/* Its MAC address; false when the driver is not running. */
bool nic_mac(uint8_t mac[6]);

/* Queues one Ethernet frame (destination first, no FCS): NIC_SENT or why not. */
int nic_send(const void *frame, size_t len);
/* Copies the next received frame into `buf`; its length, 0 when none. */
size_t nic_poll(void *buf, size_t cap);
void nic_stats(struct nic_stats *out);

#endif
