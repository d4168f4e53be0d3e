/* The hypervisor region: where vsbypass lives once it has moved. */
#ifndef CORE_REGION_H
#define CORE_REGION_H
#include "core/bootinfo.h"
#include "core/palloc.h"

struct region {
    uint64_t base, size;        /* physical, 2 MiB aligned */
    uint64_t image_size;        /* bytes of the image at `base` (bss included) */
    uint64_t cr3;               /* the hypervisor page tables */
};

extern struct region region;
extern struct palloc region_pages;

/*
 * Carves the region (`size` bytes, falling back to the default and then the
 * minimum if it does not fit, or panics saying the largest block there is),
 * builds page tables there, moves the running image into it, wipes the copy
 * GRUB loaded, starts the page allocator and heap, and copies the boot
 * modules in. `bi` must live in the image (it is moved with it).
 */
void region_setup(struct bootinfo *bi, uint64_t size);

/* phys_map_fn over the hypervisor's identity map. */
const void *region_phys_map(uint64_t pa, size_t len);

#endif
