/*
 * Devices vsbypass keeps for itself (the management NIC). drivers/ registers
 * them at boot; vmx/ hides them from the cloud VM (PCI configuration space
 * reads as absent, their memory and I/O ranges are not reachable). Kept in
 * core so that neither layer includes the other.
 */
#ifndef CORE_DEVHIDE_H
#define CORE_DEVHIDE_H
#include <stdbool.h>
#include <stdint.h>

#define DEVHIDE_MAX        4
#define DEVHIDE_RANGES_MAX 6

struct devhide_range {
    uint64_t base, size;
    bool io;                /* port range rather than memory */
};

struct devhide_device {
    uint32_t bdf;           /* bus << 8 | device << 3 | function */
    unsigned nranges;
    struct devhide_range ranges[DEVHIDE_RANGES_MAX];
    uint64_t ecam;          /* its 4 KiB MMCONFIG (ECAM) page, 0 if none */
};

/* Returns false (and logs) when the table is full. */
bool devhide_add(uint32_t bdf, const struct devhide_range *ranges, unsigned n);
unsigned devhide_count(void);
const struct devhide_device *devhide_get(unsigned i);
bool devhide_bdf(uint32_t bdf);
/* Whether [base, base + len) overlaps a hidden range of that kind (memory:
 * BARs and the ECAM page). */
bool devhide_overlaps(uint64_t base, uint64_t len, bool io);
/* Records a hidden device's ECAM page (from the ACPI MCFG). */
void devhide_set_ecam(uint32_t bdf, uint64_t page);
/* The hidden device whose ECAM page holds physical address pa, or NULL. */
const struct devhide_device *devhide_ecam_at(uint64_t pa);

#endif
