/* PCI configuration space: mechanism #1 ports, enumeration, BARs, capabilities. */
#include "drivers/pci.h"
#include "core/hw.h"
#include <stddef.h>

#define PCI_ADDR_PORT   0xCF8
#define PCI_DATA_PORT   0xCFC
#define PCI_ADDR_ENABLE 0x80000000u
#define PCI_CFG1_LIMIT  256         /* mechanism #1 reaches the first 256 bytes */
#define PCI_CAP_MIN     0x40        /* capabilities live after the header */
#define PCI_CAP_MAX_WALK 48         /* (256 - 64) / 4: more means a loop */

static uint32_t ports_read(void *ctx, uint32_t bdf, uint16_t off, unsigned size)
{
    (void)ctx;
    if (off >= PCI_CFG1_LIMIT)
        return UINT32_MAX;
    outl(PCI_ADDR_PORT, PCI_ADDR_ENABLE | bdf << 8 | (off & 0xFCu));
    switch (size) {
    case 1: return inb((uint16_t)(PCI_DATA_PORT + (off & 3u)));
    case 2: return inw((uint16_t)(PCI_DATA_PORT + (off & 2u)));
    default: return inl(PCI_DATA_PORT);
    }
}

static void ports_write(void *ctx, uint32_t bdf, uint16_t off, unsigned size, uint32_t val)
{
    (void)ctx;
    if (off >= PCI_CFG1_LIMIT)
        return;
    outl(PCI_ADDR_PORT, PCI_ADDR_ENABLE | bdf << 8 | (off & 0xFCu));
    switch (size) {
    case 1: outb((uint16_t)(PCI_DATA_PORT + (off & 3u)), (uint8_t)val); break;
    case 2: outw((uint16_t)(PCI_DATA_PORT + (off & 2u)), (uint16_t)val); break;
    default: outl(PCI_DATA_PORT, val); break;
    }
}

const struct pci_cfg pci_cfg_ports = { .read = ports_read, .write = ports_write };

bool pci_func_read(const struct pci_cfg *c, uint32_t bdf, struct pci_func *out)
{
    uint32_t id = pci_read32(c, bdf, PCI_VENDOR_ID);
    /* Absent functions read as all ones; some bridges answer 0 instead. */
    if ((id & 0xFFFFu) == PCI_VENDOR_NONE || (id & 0xFFFFu) == 0)
        return false;
    uint32_t class = pci_read32(c, bdf, PCI_REVISION);
    uint8_t hdr = pci_read8(c, bdf, PCI_HEADER_TYPE);
    *out = (struct pci_func){
        .bdf = bdf, .vendor = (uint16_t)id, .device = (uint16_t)(id >> 16),
        .revision = (uint8_t)class, .prog_if = (uint8_t)(class >> 8),
        .subclass = (uint8_t)(class >> 16), .class_code = (uint8_t)(class >> 24),
        .header_type = hdr & PCI_HEADER_LAYOUT, .multifunction = hdr & PCI_HEADER_MULTIFN,
    };
    return true;
}

unsigned pci_scan(const struct pci_cfg *c, pci_visit_fn visit, void *ctx)
{
    unsigned n = 0;
    struct pci_func f;
    for (unsigned bus = 0; bus < 256; bus++) {
        for (unsigned dev = 0; dev < 32; dev++) {
            if (!pci_func_read(c, pci_bdf(bus, dev, 0), &f))
                continue;
            /* A single-function device may answer on every function number
             * with function 0's registers; only the multi-function bit
             * says the others are real. */
            unsigned nfn = f.multifunction ? 8 : 1;
            for (unsigned fn = 0; fn < nfn; fn++) {
                if (fn && !pci_func_read(c, pci_bdf(bus, dev, fn), &f))
                    continue;
                n++;
                if (!visit(ctx, &f))
                    return n;
            }
        }
    }
    return n;
}

static unsigned bar_count(uint8_t layout)
{
    switch (layout) {
    case 0: return 6;
    case 1: return 2;
    default: return 0;
    }
}

/* Writes all ones to the BAR dword at `off`, returns what sticks, restores it. */
static uint32_t bar_mask(const struct pci_cfg *c, uint32_t bdf, uint16_t off, uint32_t orig)
{
    pci_write32(c, bdf, off, UINT32_MAX);
    uint32_t mask = pci_read32(c, bdf, off);
    pci_write32(c, bdf, off, orig);
    return mask;
}

const char *pci_bar_probe(const struct pci_cfg *c, uint32_t bdf, unsigned index,
                          struct pci_bar *out)
{
    unsigned nbars = bar_count(pci_read8(c, bdf, PCI_HEADER_TYPE) & PCI_HEADER_LAYOUT);
    *out = (struct pci_bar){ 0 };
    if (index >= nbars)
        return "no such BAR in this header layout";
    uint16_t off = (uint16_t)(PCI_BAR0 + 4 * index);
    uint32_t lo = pci_read32(c, bdf, off);
    out->io = lo & PCI_BAR_IO;
    if (!out->io) {
        uint32_t type = lo & PCI_BAR_MEM_TYPE;
        if (type == PCI_BAR_MEM_RESERVED)
            return "reserved memory BAR type";
        out->is64 = type == PCI_BAR_MEM_64;
        out->prefetchable = lo & PCI_BAR_PREFETCH;
        if (out->is64 && index + 1 >= nbars)
            return "64-bit BAR in the last slot";
    }
    uint32_t hi = out->is64 ? pci_read32(c, bdf, (uint16_t)(off + 4)) : 0;

    /* Decoding stays off while the BAR holds all ones, so the function never
     * claims addresses that belong to RAM or another device. */
    uint16_t cmd = pci_read16(c, bdf, PCI_COMMAND);
    pci_write16(c, bdf, PCI_COMMAND, cmd & (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    uint64_t mask = bar_mask(c, bdf, off, lo);
    if (out->is64)
        mask |= (uint64_t)bar_mask(c, bdf, (uint16_t)(off + 4), hi) << 32;
    pci_write16(c, bdf, PCI_COMMAND, cmd);

    out->base = out->io ? lo & ~3u : ((uint64_t)hi << 32 | lo) & ~0xFull;
    mask &= out->io ? ~3ull : ~0xFull;
    /* The size is the lowest writable address bit (16-bit I/O decoders
     * hardwire the upper half to zero, so no other formula fits all);
     * nothing writable means the BAR is not implemented. */
    out->size = mask & (~mask + 1);
    return NULL;
}

uint8_t pci_cap_find(const struct pci_cfg *c, uint32_t bdf, uint8_t id)
{
    uint8_t layout = pci_read8(c, bdf, PCI_HEADER_TYPE) & PCI_HEADER_LAYOUT;
    if (layout > 1 || !(pci_read16(c, bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint8_t ptr = pci_read8(c, bdf, PCI_CAP_PTR) & 0xFCu;
    for (unsigned i = 0; i < PCI_CAP_MAX_WALK && ptr >= PCI_CAP_MIN; i++) {
        if (pci_read8(c, bdf, ptr) == id)
            return ptr;
        ptr = pci_read8(c, bdf, (uint16_t)(ptr + 1)) & 0xFCu;
    }
    return 0;
}
