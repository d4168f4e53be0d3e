/* Page-frame allocator over one physical range (the hypervisor region). */
#ifndef CORE_PALLOC_H
#define CORE_PALLOC_H
#include "core/spinlock.h"
#include <stddef.h>
#include <stdint.h>

#define PALLOC_FAIL UINT64_MAX

struct palloc {
    uint64_t base;          /* physical address of page 0 */
    size_t npages;
    uint64_t *bitmap;       /* one bit per page, 1 = in use */
    size_t nfree;
    size_t hint;            /* first word that may have a free page */
    struct spinlock lock;
};

static inline size_t palloc_bitmap_words(size_t npages) { return (npages + 63) / 64; }

/* All pages start free; `bitmap` must hold palloc_bitmap_words(npages). */
void palloc_init(struct palloc *pa, uint64_t base, size_t npages, uint64_t *bitmap);
/* Marks [phys, phys + n pages) used (for the allocator's own metadata). */
void palloc_reserve(struct palloc *pa, uint64_t phys, size_t n);
/* n contiguous pages whose address is a multiple of align_pages pages
 * (0 or 1: any). Returns PALLOC_FAIL when none is free. */
uint64_t palloc_alloc(struct palloc *pa, size_t n, size_t align_pages);
/* Returns -1, changing nothing, if any page is outside the range or free. */
int palloc_free(struct palloc *pa, uint64_t phys, size_t n);

#endif
