#include "core/palloc.h"
#include "core/layout.h"
#include <stdbool.h>

static bool bit_test(const struct palloc *pa, size_t i) { return pa->bitmap[i / 64] >> (i % 64) & 1; }
static void bit_set(struct palloc *pa, size_t i) { pa->bitmap[i / 64] |= 1ULL << (i % 64); }
static void bit_clear(struct palloc *pa, size_t i) { pa->bitmap[i / 64] &= ~(1ULL << (i % 64)); }

void palloc_init(struct palloc *pa, uint64_t base, size_t npages, uint64_t *bitmap)
{
    pa->base = base;
    pa->npages = npages;
    pa->bitmap = bitmap;
    pa->nfree = npages;
    pa->hint = 0;
    pa->lock = (struct spinlock)SPINLOCK_INIT;
    for (size_t w = 0; w < palloc_bitmap_words(npages); w++)
        bitmap[w] = 0;
    /* Bits past the last page read as used, so word scans never hand them out. */
    for (size_t i = npages; i < palloc_bitmap_words(npages) * 64; i++)
        bit_set(pa, i);
}

void palloc_reserve(struct palloc *pa, uint64_t phys, size_t n)
{
    spin_lock(&pa->lock);
    for (size_t k = 0; k < n; k++) {
        uint64_t a = phys + k * PAGE_SIZE;
        if (a < pa->base || (a - pa->base) / PAGE_SIZE >= pa->npages)
            continue;
        size_t i = (a - pa->base) / PAGE_SIZE;
        if (!bit_test(pa, i)) {
            bit_set(pa, i);
            pa->nfree--;
        }
    }
    spin_unlock(&pa->lock);
}

static uint64_t alloc_one(struct palloc *pa)
{
    size_t words = palloc_bitmap_words(pa->npages);
    for (size_t k = 0; k < words; k++) {
        size_t w = (pa->hint + k) % words;
        if (pa->bitmap[w] != UINT64_MAX) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(~pa->bitmap[w]);
            bit_set(pa, i);
            pa->nfree--;
            pa->hint = w;
            return pa->base + i * PAGE_SIZE;
        }
    }
    return PALLOC_FAIL;
}

static uint64_t alloc_run(struct palloc *pa, size_t n, size_t align)
{
    /* Alignment is of the physical address, not of the index. */
    uint64_t base_pfn = pa->base / PAGE_SIZE;
    size_t i = (size_t)((align - base_pfn % align) % align);
    while (i + n <= pa->npages) {
        size_t run = 0;
        while (run < n && !bit_test(pa, i + run))
            run++;
        if (run == n) {
            for (size_t k = 0; k < n; k++)
                bit_set(pa, i + k);
            pa->nfree -= n;
            return pa->base + i * PAGE_SIZE;
        }
        /* Skip past the used page, to the next aligned index. */
        i += run + 1;
        i += (align - (base_pfn + i) % align) % align;
    }
    return PALLOC_FAIL;
}

uint64_t palloc_alloc(struct palloc *pa, size_t n, size_t align_pages)
{
    if (n == 0)
        return PALLOC_FAIL;
    if (align_pages == 0)
        align_pages = 1;
    spin_lock(&pa->lock);
    uint64_t r = PALLOC_FAIL;
    if (n <= pa->nfree)
        r = (n == 1 && align_pages == 1) ? alloc_one(pa) : alloc_run(pa, n, align_pages);
    spin_unlock(&pa->lock);
    return r;
}

int palloc_free(struct palloc *pa, uint64_t phys, size_t n)
{
    if (phys < pa->base || (phys - pa->base) % PAGE_SIZE || n == 0)
        return -1;
    size_t first = (phys - pa->base) / PAGE_SIZE;
    if (first >= pa->npages || n > pa->npages - first)
        return -1;
    spin_lock(&pa->lock);
    for (size_t k = 0; k < n; k++) {
        if (!bit_test(pa, first + k)) {
            spin_unlock(&pa->lock);
            return -1;
        }
    }
    for (size_t k = 0; k < n; k++)
        bit_clear(pa, first + k);
    pa->nfree += n;
    if (first / 64 < pa->hint)
        pa->hint = first / 64;
    spin_unlock(&pa->lock);
    return 0;
}
