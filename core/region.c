#include "core/region.h"
#include "core/heap.h"
#include "core/hw.h"
#include "core/layout.h"
#include "core/libc.h"
#include "core/log.h"
#include "core/paging.h"

struct region region;
struct palloc region_pages;
static struct heap kheap;
static uint64_t ident_limit = 1ULL << 32;   /* what the early tables map */

extern char __boot_start[], __boot_end[], __image_start[], __image_end[];
void reloc_switch(uint64_t dst, uint64_t src, uint64_t len, uint64_t cr3);

#define MIB (1024ULL * 1024)
#define GIB (1024ULL * MIB)

const void *region_phys_map(uint64_t pa, size_t len)
{
    if (pa >= ident_limit || len > ident_limit - pa)
        return NULL;
    return (const void *)(uintptr_t)pa;
}

static void *kpages_alloc(void *ctx, size_t n)
{
    uint64_t p = palloc_alloc(ctx, n, 1);
    return p == PALLOC_FAIL ? NULL : (void *)(uintptr_t)p;
}

static void kpages_free(void *ctx, void *va, size_t n)
{
    if (palloc_free(ctx, (uint64_t)(uintptr_t)va, n))
        panic("heap: returned pages %p (+%zu) that were not allocated", va, n);
}

void *kmalloc(size_t size) { return heap_alloc(&kheap, size); }
void *kzalloc(size_t size) { return heap_zalloc(&kheap, size); }
void kfree(void *p)
{
    if (heap_free(&kheap, p))
        kprintf("heap: kfree(%p): not a live allocation; ignored\n", p);
}

static uint64_t carve(const struct bootinfo *bi, uint64_t size, uint64_t image_size)
{
    struct mem_range busy[BOOTINFO_MAX_BUSY + 2];
    unsigned n = 0;
    for (unsigned i = 0; i < bi->nbusy; i++)
        busy[n++] = bi->busy[i];
    busy[n++] = (struct mem_range){ BOOT_PHYS, IMAGE_PHYS + image_size - BOOT_PHYS };
    uint64_t tries[3] = { size, REGION_DEFAULT_MIB * MIB, REGION_MIN_MIB * MIB };
    for (unsigned t = 0; t < 3; t++) {
        uint64_t base;
        if (t && tries[t] >= tries[t - 1])
            continue;
        if (memmap_carve(&bi->mmap, tries[t], LARGE_PAGE_SIZE, 4 * GIB, busy, n, &base)) {
            if (t)
                kprintf("region: %llu MiB does not fit below 4 GiB; using %llu MiB\n",
                        (unsigned long long)(size / MIB), (unsigned long long)(tries[t] / MIB));
            region.size = tries[t];
            return base;
        }
    }
    panic("region: cannot carve a hypervisor region: asked for %llu MiB, the largest "
          "usable 2 MiB-aligned block below 4 GiB is %llu MiB (minimum %u MiB)",
          (unsigned long long)(size / MIB),
          (unsigned long long)(memmap_largest_block(&bi->mmap, LARGE_PAGE_SIZE, 4 * GIB) / MIB),
          REGION_MIN_MIB);
}

static void copy_modules(struct bootinfo *bi)
{
    for (unsigned i = 0; i < bi->nmods; i++) {
        struct boot_module *m = &bi->mods[i];
        uint64_t len = m->end > m->start ? m->end - m->start : 0;
        uint64_t pages = (len + PAGE_SIZE - 1) / PAGE_SIZE;
        uint64_t dst = pages ? palloc_alloc(&region_pages, pages, 1) : 0;
        if (dst == PALLOC_FAIL)
            panic("region: no room for module %u (%llu bytes) '%s'", i,
                  (unsigned long long)len, m->args);
        if (pages)
            memcpy((void *)(uintptr_t)dst, (const void *)(uintptr_t)m->start, len);
        kprintf("region: module %u '%s' (%llu bytes) copied to 0x%llx\n", i, m->args,
                (unsigned long long)len, (unsigned long long)dst);
        m->start = dst;
        m->end = dst + len;
    }
}

void region_setup(struct bootinfo *bi, uint64_t size)
{
    uint64_t image_size = (uint64_t)(__image_end - __image_start);
    uint64_t base = carve(bi, size, image_size);
    region.base = base;
    region.image_size = image_size;

    /* Page allocator over the region after the image; its bitmap comes first. */
    uint64_t pool = base + ((image_size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
    size_t npages = (size_t)((base + region.size - pool) / PAGE_SIZE);
    uint64_t *bitmap = (uint64_t *)(uintptr_t)pool;
    palloc_init(&region_pages, pool, npages, bitmap);
    palloc_reserve(&region_pages, pool, (palloc_bitmap_words(npages) * 8 + PAGE_SIZE - 1) / PAGE_SIZE);

    /* Identity-map all of RAM (at least the 4 GiB that hold MMIO), at most 512 GiB. */
    uint64_t top = 4 * GIB;
    for (unsigned i = 0; i < bi->mmap.n; i++)
        if (bi->mmap.e[i].base + bi->mmap.e[i].len > top)
            top = bi->mmap.e[i].base + bi->mmap.e[i].len;
    if (top > 512 * GIB)
        top = 512 * GIB;
    uint64_t cr3 = paging_build(&region_pages, top, base, image_size);
    if (!cr3)
        panic("region: %llu MiB is too small for the page tables", (unsigned long long)(region.size / MIB));
    region.cr3 = cr3;

    reloc_switch(base, IMAGE_PHYS, image_size, cr3);
    ident_limit = (top + (1ULL << 30) - 1) & ~((1ULL << 30) - 1);

    /* Nothing may run from the loaded copy now: prove it by wiping it. */
    uint64_t check = paging_translate(read_cr3(), (uint64_t)__image_start);
    if (check != base)
        panic("region: KERNEL_VBASE maps to 0x%llx, expected 0x%llx",
              (unsigned long long)check, (unsigned long long)base);
    heap_init(&kheap, kpages_alloc, kpages_free, &region_pages);
    copy_modules(bi);
    /* GRUB may have put loader data between the two, so wipe only what it loaded. */
    memset((void *)(uintptr_t)IMAGE_PHYS, 0, image_size);
    memset((void *)(uintptr_t)BOOT_PHYS, 0, (uint64_t)(__boot_end - __boot_start));

    kprintf("region: 0x%016llx-0x%016llx (%llu MiB) at the top of usable RAM below 4 GiB\n",
            (unsigned long long)base, (unsigned long long)(base + region.size - 1),
            (unsigned long long)(region.size / MIB));
    kprintf("region: image %llu KiB moved from 0x%llx to 0x%llx, loaded copy wiped; "
            "%zu pages free\n", (unsigned long long)(image_size / 1024),
            (unsigned long long)IMAGE_PHYS, (unsigned long long)base, region_pages.nfree);
}
