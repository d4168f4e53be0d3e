#include "vmx/ept.h"
#include "core/layout.h"
#include "core/libc.h"

#define SZ_2M LARGE_PAGE_SIZE
#define SZ_1G (1ULL << 30)

static uint64_t *table_new(struct palloc *pa, uint64_t *phys)
{
    uint64_t p = palloc_alloc(pa, 1, 1);
    if (p == PALLOC_FAIL)
        return NULL;
    memset((void *)(uintptr_t)p, 0, PAGE_SIZE);
    *phys = p;
    return (uint64_t *)(uintptr_t)p;
}

static bool is_ram_type(uint32_t t) { return t == MEM_USABLE || t == MEM_ACPI || t == MEM_NVS; }

/* Memory type of [base, base + len): 1 all RAM, 0 no RAM, -1 mixed. */
static int ram_cover(const struct memmap *m, uint64_t base, uint64_t len)
{
    uint64_t covered = 0;
    for (unsigned i = 0; i < m->n; i++) {
        if (!is_ram_type(m->e[i].type))
            continue;
        uint64_t lo = m->e[i].base > base ? m->e[i].base : base;
        uint64_t e_end = m->e[i].base + m->e[i].len;
        uint64_t hi = e_end < base + len ? e_end : base + len;
        if (hi > lo)
            covered += hi - lo;
    }
    return covered == len ? 1 : covered == 0 ? 0 : -1;
}

static uint64_t leaf_type(const struct memmap *m, uint64_t base, uint64_t len)
{
    /* The legacy VGA window is MMIO even where firmware calls it reserved RAM. */
    if (base < 0xC0000 && base + len > 0xA0000)
        return EPT_MT_UC << EPT_MT_SHIFT;
    /* Option ROMs and the BIOS (0xC0000-0xFFFFF) are shadowed RAM. */
    if (base >= 0xC0000 && base + len <= 0x100000)
        return EPT_MT_WB << EPT_MT_SHIFT;
    return (ram_cover(m, base, len) > 0 ? EPT_MT_WB : EPT_MT_UC) << EPT_MT_SHIFT;
}

static bool in_hide(const struct ept_layout *lay, uint64_t base)
{
    return base >= lay->hide_base && base < lay->hide_base + lay->hide_size;
}

/* One 2 MiB range as 4 KiB pages, each typed on its own. */
static uint64_t split_2m(struct palloc *pa, const struct ept_layout *lay, uint64_t base)
{
    uint64_t pt_pa;
    uint64_t *pt = table_new(pa, &pt_pa);
    if (!pt)
        return 0;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t a = base + (uint64_t)i * PAGE_SIZE;
        if (lay->is_hole && lay->is_hole(a, PAGE_SIZE)) {
            pt[i] = 0;
            continue;
        }
        uint64_t access = lay->ro_page && a == lay->ro_page ? EPT_R | EPT_X : EPT_RWX;
        pt[i] = a | access | leaf_type(lay->ram, a, PAGE_SIZE);
    }
    return pt_pa;
}

uint64_t ept_build_identity(struct palloc *pa, const struct ept_layout *lay)
{
    uint64_t pml4_pa, pdpt_pa, dummy_pa, hide_pt_pa;
    uint64_t *pml4 = table_new(pa, &pml4_pa);
    uint64_t *pdpt = pml4 ? table_new(pa, &pdpt_pa) : NULL;
    uint64_t *dummy = pdpt ? table_new(pa, &dummy_pa) : NULL;
    uint64_t *hide_pt = dummy ? table_new(pa, &hide_pt_pa) : NULL;
    if (!hide_pt)
        return 0;
    /* One page table, shared by every 2 MiB of the hidden range, all on the dummy. */
    for (unsigned i = 0; i < 512; i++)
        hide_pt[i] = dummy_pa | EPT_R | EPT_W | (EPT_MT_WB << EPT_MT_SHIFT);
    pml4[0] = pdpt_pa | EPT_RWX;

    uint64_t limit = lay->limit < 512 * SZ_1G ? lay->limit : 512 * SZ_1G;
    for (uint64_t g = 0; g * SZ_1G < limit; g++) {
        uint64_t pd_pa;
        uint64_t *pd = table_new(pa, &pd_pa);
        if (!pd)
            return 0;
        pdpt[g] = pd_pa | EPT_RWX;
        for (unsigned i = 0; i < 512; i++) {
            uint64_t base = g * SZ_1G + (uint64_t)i * SZ_2M;
            if (base >= limit)
                break;
            if (in_hide(lay, base)) {
                pd[i] = hide_pt_pa | EPT_RWX;
                continue;
            }
            bool holds_ro = (lay->ro_page && (lay->ro_page & ~(SZ_2M - 1)) == base) ||
                            (lay->is_hole && lay->is_hole(base, SZ_2M));
            bool uniform = base >= 0x100000 && !holds_ro && ram_cover(lay->ram, base, SZ_2M) >= 0;
            if (uniform) {
                pd[i] = base | EPT_RWX | EPT_PS | leaf_type(lay->ram, base, SZ_2M);
            } else {
                uint64_t pt_pa = split_2m(pa, lay, base);
                if (!pt_pa)
                    return 0;
                pd[i] = pt_pa | EPT_RWX;
            }
        }
    }
    return pml4_pa;
}

uint64_t ept_translate(uint64_t pml4_pa, uint64_t gpa, uint64_t *leaf)
{
    const uint64_t *t = (const uint64_t *)(uintptr_t)pml4_pa;
    for (int level = 3; level >= 0; level--) {
        uint64_t e = t[(gpa >> (12 + 9 * level)) & 511];
        if (!(e & EPT_RWX))
            return UINT64_MAX;
        if (level == 0 || ((level == 1 || level == 2) && (e & EPT_PS))) {
            uint64_t page = 1ULL << (12 + 9 * level);
            if (leaf)
                *leaf = e;
            return (e & EPT_ADDR & ~(page - 1)) | (gpa & (page - 1));
        }
        t = (const uint64_t *)(uintptr_t)(e & EPT_ADDR);
    }
    return UINT64_MAX;
}
