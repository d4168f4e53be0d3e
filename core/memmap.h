/* Physical memory map: normalisation and hypervisor-region carving. */
#ifndef CORE_MEMMAP_H
#define CORE_MEMMAP_H
#include <stdbool.h>
#include <stdint.h>

/* E820 types, as firmware and multiboot report them. */
#define MEM_USABLE      1
#define MEM_RESERVED    2
#define MEM_ACPI        3
#define MEM_NVS         4
#define MEM_BAD         5

#define MEMMAP_MAX      128

struct memmap_entry {
    uint64_t base, len;
    uint32_t type;
};

struct memmap {
    struct memmap_entry e[MEMMAP_MAX];
    unsigned n;
    bool truncated;     /* more entries were offered than fit */
};

struct mem_range {
    uint64_t base, len;
};

/* Appends an entry as given (zero-length entries are dropped; lengths that
 * run past 2^64 are clipped). Returns false when the table is full. */
bool memmap_add(struct memmap *m, uint64_t base, uint64_t len, uint32_t type);

/* Sorts, splits overlaps (the more restrictive type wins: usable < ACPI <
 * reserved/unknown < NVS < bad) and merges touching entries of one type. */
void memmap_normalize(struct memmap *m);

/* Finds the highest block of `size` bytes aligned to `align` (a power of
 * two) inside usable memory, ending at or below `limit`, that overlaps none
 * of `busy`. The map must be normalised. Returns false if none exists. */
bool memmap_carve(const struct memmap *m, uint64_t size, uint64_t align, uint64_t limit,
                  const struct mem_range *busy, unsigned nbusy, uint64_t *base);

/* The largest aligned usable block below `limit` (for error messages). */
uint64_t memmap_largest_block(const struct memmap *m, uint64_t align, uint64_t limit);

uint64_t memmap_total(const struct memmap *m, uint32_t type);

/* Bytes of usable memory contiguous from `from` (0 if `from` is not usable). */
uint64_t memmap_usable_from(const struct memmap *m, uint64_t from);
const char *memmap_type_name(uint32_t type);

#endif
