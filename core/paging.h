/* The hypervisor's own page tables (not the cloud VM's EPT). */
#ifndef CORE_PAGING_H
#define CORE_PAGING_H
#include "core/palloc.h"

#define PTE_P    (1ULL << 0)
#define PTE_W    (1ULL << 1)
#define PTE_PS   (1ULL << 7)
#define PTE_ADDR 0x000FFFFFFFFFF000ULL

/*
 * Builds tables that identity-map [0, ident_limit) (2 MiB pages, the first
 * 2 MiB in 4 KiB pages; page 0 stays writable because vsbypass installs the
 * cloud VM's INT 15h hook in the real-mode IVT there) and map KERNEL_VBASE onto
 * [image_pa, image_pa + image_size). Table pages come from `pa` and are
 * written through the identity map. Returns the PML4's physical address,
 * or 0 when `pa` runs out.
 */
uint64_t paging_build(struct palloc *pa, uint64_t ident_limit, uint64_t image_pa,
                      uint64_t image_size);

/* Physical address that `va` translates to under the PML4 at `cr3`, or
 * UINT64_MAX if unmapped (walks through the identity map). */
uint64_t paging_translate(uint64_t cr3, uint64_t va);

#endif
