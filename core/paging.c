#include "core/paging.h"
#include "core/layout.h"
#include "core/libc.h"

static uint64_t *table_alloc(struct palloc *pa, uint64_t *phys)
{
    uint64_t p = palloc_alloc(pa, 1, 1);
    if (p == PALLOC_FAIL)
        return NULL;
    uint64_t *t = (uint64_t *)(uintptr_t)p;
    memset(t, 0, PAGE_SIZE);
    *phys = p;
    return t;
}

uint64_t paging_build(struct palloc *pa, uint64_t ident_limit, uint64_t image_pa,
                      uint64_t image_size)
{
    uint64_t pml4_pa, pdpt_pa, pt_pa;
    uint64_t *pml4 = table_alloc(pa, &pml4_pa);
    uint64_t *pdpt = pml4 ? table_alloc(pa, &pdpt_pa) : NULL;
    uint64_t *pt = pdpt ? table_alloc(pa, &pt_pa) : NULL;
    if (!pt)
        return 0;
    pml4[0] = pdpt_pa | PTE_P | PTE_W;

    /* The first 2 MiB in 4 KiB pages, so later work can change single low pages. */
    for (unsigned i = 0; i < 512; i++)
        pt[i] = (uint64_t)i * PAGE_SIZE | PTE_P | PTE_W;

    uint64_t gib = (ident_limit + (1ULL << 30) - 1) >> 30;
    for (uint64_t g = 0; g < gib && g < 512; g++) {
        uint64_t pd_pa;
        uint64_t *pd = table_alloc(pa, &pd_pa);
        if (!pd)
            return 0;
        pdpt[g] = pd_pa | PTE_P | PTE_W;
        for (unsigned i = 0; i < 512; i++)
            pd[i] = ((g << 30) + ((uint64_t)i << 21)) | PTE_P | PTE_W | PTE_PS;
        if (g == 0)
            pd[0] = pt_pa | PTE_P | PTE_W;
    }

    /* KERNEL_VBASE: PML4 slot 511, PDPT slot 510, then 2 MiB pages. */
    uint64_t hpdpt_pa, hpd_pa;
    uint64_t *hpdpt = table_alloc(pa, &hpdpt_pa);
    uint64_t *hpd = hpdpt ? table_alloc(pa, &hpd_pa) : NULL;
    if (!hpd)
        return 0;
    pml4[511] = hpdpt_pa | PTE_P | PTE_W;
    hpdpt[510] = hpd_pa | PTE_P | PTE_W;
    for (uint64_t off = 0; off < image_size && off < (1ULL << 30); off += LARGE_PAGE_SIZE)
        hpd[off >> 21] = (image_pa + off) | PTE_P | PTE_W | PTE_PS;
    return pml4_pa;
}

uint64_t paging_translate(uint64_t cr3, uint64_t va)
{
    const uint64_t *t = (const uint64_t *)(uintptr_t)(cr3 & PTE_ADDR);
    for (int level = 3; level >= 0; level--) {
        uint64_t e = t[(va >> (12 + 9 * level)) & 511];
        if (!(e & PTE_P))
            return UINT64_MAX;
        if (level == 0 || (level <= 2 && (e & PTE_PS))) {
            uint64_t page = 1ULL << (12 + 9 * level);
            return (e & PTE_ADDR & ~(page - 1)) | (va & (page - 1));
        }
        t = (const uint64_t *)(uintptr_t)(e & PTE_ADDR);
    }
    return UINT64_MAX;
}
