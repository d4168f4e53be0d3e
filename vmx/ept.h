/* EPT tables (SDM "EPT Translation Mechanism"): building EPT01 for the cloud VM. */
#ifndef VMX_EPT_H
#define VMX_EPT_H
#include "core/memmap.h"
#include "core/palloc.h"

#define EPT_R          (1ULL << 0)
#define EPT_W          (1ULL << 1)
#define EPT_X          (1ULL << 2)
#define EPT_RWX        (EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT   3
#define EPT_MT_UC      0ULL
#define EPT_MT_WB      6ULL
#define EPT_IGNORE_PAT (1ULL << 6)
#define EPT_PS         (1ULL << 7)
#define EPT_ADDR       0x000FFFFFFFFFF000ULL

/* EPTP: WB paging-structure memory type, 4-level walk (length - 1 = 3). */
#define EPTP_WB_4LEVEL ((6ULL) | (3ULL << 3))

struct ept_layout {
    const struct memmap *ram;   /* firmware map: usable/ACPI/NVS are RAM (WB) */
    uint64_t limit;             /* map [0, limit) */
    uint64_t hide_base;         /* vsbypass's region: 2 MiB aligned */
    uint64_t hide_size;
    uint64_t ro_page;           /* mapped read/execute only (writes exit), 0 = none */
    /* Not mapped at all (devices vsbypass keeps, e.g. the NIC's BARs). */
    bool (*is_hole)(uint64_t base, uint64_t len);
};

/*
 * Builds an identity EPT for the cloud VM. RAM is write-back, everything
 * else (MMIO, holes, reserved) uncached, the legacy VGA window uncached.
 * Every page of [hide_base, hide_base + hide_size) maps to one shared
 * zero-filled dummy page (read/write, no execute), so the cloud VM reads
 * zeros there and its writes land nowhere that matters. `ro_page` (the
 * xAPIC page) is mapped without write access so vsbypass sees each store. Tables come from
 * `pa` (written through the identity map). Returns the PML4's physical
 * address, or 0 when `pa` runs out.
 */
uint64_t ept_build_identity(struct palloc *pa, const struct ept_layout *lay);

/* Walks an EPT: the host-physical address for `gpa` and its leaf entry
 * (through *leaf), or UINT64_MAX when not mapped. */
uint64_t ept_translate(uint64_t pml4_pa, uint64_t gpa, uint64_t *leaf);

#endif
