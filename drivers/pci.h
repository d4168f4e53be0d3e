/*
 * PCI configuration space (PCI Local Bus Specification 3.0, chapter 6):
 * access through a pair of function pointers, enumeration of every bus,
 * BAR decoding with size probing, and the capability list.
 */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H
#include <stdbool.h>
#include <stdint.h>

/* Header offsets ("Configuration Space Header"). */
#define PCI_VENDOR_ID      0x00
#define PCI_DEVICE_ID      0x02
#define PCI_COMMAND        0x04
#define PCI_STATUS         0x06
#define PCI_REVISION       0x08
#define PCI_CLASS_PROG     0x09
#define PCI_HEADER_TYPE    0x0E
#define PCI_BAR0           0x10
#define PCI_CAP_PTR        0x34

#define PCI_COMMAND_IO      (1u << 0)
#define PCI_COMMAND_MEMORY  (1u << 1)
#define PCI_COMMAND_MASTER  (1u << 2)
#define PCI_STATUS_CAP_LIST (1u << 4)
#define PCI_HEADER_MULTIFN  0x80u
#define PCI_HEADER_LAYOUT   0x7Fu     /* 0 device, 1 PCI-PCI bridge, 2 CardBus */

#define PCI_BAR_IO          (1u << 0)
#define PCI_BAR_MEM_64      (2u << 1)  /* memory type field, bits 2:1 = 10b */
#define PCI_BAR_MEM_TYPE    (3u << 1)
#define PCI_BAR_MEM_RESERVED (3u << 1) /* type 11b */
#define PCI_BAR_PREFETCH    (1u << 3)

#define PCI_VENDOR_NONE     0xFFFFu   /* what an absent function reads as */

/* Bus/device/function packed as bus << 8 | device << 3 | function. */
static inline uint32_t pci_bdf(unsigned bus, unsigned dev, unsigned fn)
{
    return (bus & 0xFFu) << 8 | (dev & 0x1Fu) << 3 | (fn & 7u);
}
static inline unsigned pci_bus(uint32_t bdf) { return (bdf >> 8) & 0xFFu; }
static inline unsigned pci_dev(uint32_t bdf) { return (bdf >> 3) & 0x1Fu; }
static inline unsigned pci_fn(uint32_t bdf) { return bdf & 7u; }

/* Configuration access of `size` 1, 2 or 4 bytes at an offset aligned to it. */
struct pci_cfg {
    uint32_t (*read)(void *ctx, uint32_t bdf, uint16_t off, unsigned size);
    void (*write)(void *ctx, uint32_t bdf, uint16_t off, unsigned size, uint32_t val);
    void *ctx;
};

/* Configuration mechanism #1: ports 0xCF8 (address) and 0xCFC (data). */
extern const struct pci_cfg pci_cfg_ports;

static inline uint32_t pci_read32(const struct pci_cfg *c, uint32_t bdf, uint16_t off) { return c->read(c->ctx, bdf, off, 4); }
static inline uint16_t pci_read16(const struct pci_cfg *c, uint32_t bdf, uint16_t off) { return (uint16_t)c->read(c->ctx, bdf, off, 2); }
static inline uint8_t pci_read8(const struct pci_cfg *c, uint32_t bdf, uint16_t off) { return (uint8_t)c->read(c->ctx, bdf, off, 1); }
static inline void pci_write32(const struct pci_cfg *c, uint32_t bdf, uint16_t off, uint32_t v) { c->write(c->ctx, bdf, off, 4, v); }
static inline void pci_write16(const struct pci_cfg *c, uint32_t bdf, uint16_t off, uint16_t v) { c->write(c->ctx, bdf, off, 2, v); }

struct pci_func {
    uint32_t bdf;
    uint16_t vendor, device;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type;            /* layout, without the multi-function bit */
    bool multifunction;
};

/* Reads the identity of one function; false when nothing answers there. */
bool pci_func_read(const struct pci_cfg *c, uint32_t bdf, struct pci_func *out);

/* Calls `visit` for every function on buses 0..255 in bus/device/function
 * order (functions 1..7 only where function 0 is multi-function); stops
 * early when it returns false. Returns the number of functions visited. */
typedef bool (*pci_visit_fn)(void *ctx, const struct pci_func *f);
unsigned pci_scan(const struct pci_cfg *c, pci_visit_fn visit, void *ctx);

struct pci_bar {
    uint64_t base;          /* bus address (I/O port number for I/O BARs) */
    uint64_t size;          /* 0: the BAR is not implemented */
    bool io;
    bool is64;              /* occupies this BAR slot and the next */
    bool prefetchable;
};

/* Decodes BAR `index` and probes its size by writing all ones with the
 * function's decoding off, then restores the BAR and the command register.
 * Returns NULL, or why the BAR cannot be used (index beyond the header's
 * BARs, a 64-bit BAR in the last slot, a reserved memory type). */
const char *pci_bar_probe(const struct pci_cfg *c, uint32_t bdf, unsigned index,
                          struct pci_bar *out);

/* Offset of the first capability with `id`, or 0 when absent. Bounded, so a
 * looping or out-of-range list ends the walk. */
uint8_t pci_cap_find(const struct pci_cfg *c, uint32_t bdf, uint8_t id);

#endif
