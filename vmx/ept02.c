#include "vmx/ept02.h"
#include "core/layout.h"
#include "core/libc.h"
#include "vmx/ept.h"

#define EPT_MT_MASK (7ULL << EPT_MT_SHIFT)

static unsigned index_of(uint64_t gpa, int level) { return (gpa >> (12 + 9 * level)) & 511; }

/* Memory types 2, 3 and 7 are reserved (SDM "EPT Misconfigurations"). */
static bool reserved_type(uint64_t leaf)
{
    uint64_t mt = (leaf & EPT_MT_MASK) >> EPT_MT_SHIFT;
    return mt == 2 || mt == 3 || mt == 7;
}

int ept12_walk(const struct ept02_env *env, uint64_t eptp12, uint64_t gpa, uint64_t *l1pa, uint64_t *leaf)
{
    if (eptp12 & 1) {
        *l1pa = gpa;
        *leaf = EPT_RWX | (EPT_MT_WB << EPT_MT_SHIFT);
        return 0;
    }
    uint64_t table = eptp12 & EPT_ADDR, rights = EPT_RWX;
    for (int level = 3;; level--) {
        uint64_t e;
        if (env->read_l1(env->ctx, table + index_of(gpa, level) * 8, &e, 8))
            return -1;
        if (!(e & EPT_RWX))
            return 1;
        /* Write or fetch without read is misconfigured: L1 is offered no execute-only EPT. */
        if (!(e & EPT_R))
            return -1;
        /* As on the CPU, an access needs the right at every level of the walk. */
        rights &= e;
        if (level == 0 || ((level == 1 || level == 2) && (e & EPT_PS))) {
            if (reserved_type(e))
                return -1;
            uint64_t size = 1ULL << (12 + 9 * level);
            *l1pa = (e & EPT_ADDR & ~(size - 1)) | (gpa & (size - 1));
            *leaf = (e & ~EPT_RWX) | rights;
            return 0;
        }
        table = e & EPT_ADDR;
    }
}

/* The EPT02 leaf maps one 4 KiB page, whatever EPT12's page size: all of
 * that page, not just the faulting byte, must miss the hidden range. */
static bool page_hidden(const struct ept02_env *env, uint64_t page)
{
    return env->hide_size && page < env->hide_base + env->hide_size &&
           env->hide_base < page + PAGE_SIZE;
}

enum ept02_fill_result ept02_fill(const struct ept02_env *env, uint64_t *root, uint64_t eptp12,
                                  uint64_t gpa, unsigned access, uint64_t *leaf12_out)
{
    uint64_t l1pa, leaf;
    int r = ept12_walk(env, eptp12, gpa, &l1pa, &leaf);
    *leaf12_out = r == 0 ? leaf : 0;
    if (r < 0)
        return EPT02_MISCONFIG;
    if (r > 0)
        return EPT02_NOT_PRESENT;
    if (access & ~leaf & EPT_RWX)
        return EPT02_DENIED;
    uint64_t page = l1pa & EPT_ADDR, rights = leaf & EPT_RWX;
    if (page_hidden(env, page))
        return EPT02_HIDDEN;
    if ((env->l1_limit && page >= env->l1_limit) || (env->is_hole && env->is_hole(page, PAGE_SIZE)))
        return EPT02_OUTSIDE;
    if (env->ro_page && page == (env->ro_page & EPT_ADDR)) {
        /* Mapping it again without W would fault forever on this write. */
        if (access & EPT_W)
            return EPT02_RO_WRITE;
        rights &= ~EPT_W;
    }
    if (!ept02_map(env, root, gpa, page, rights | (leaf & (EPT_MT_MASK | EPT_IGNORE_PAT))))
        return EPT02_NOMEM;
    return EPT02_MAPPED;
}

static uint64_t table_zalloc(const struct ept02_env *env)
{
    uint64_t p = palloc_alloc(env->pa, 1, 1);
    if (p != PALLOC_FAIL)
        memset((void *)(uintptr_t)p, 0, PAGE_SIZE);
    return p;
}

bool ept02_map(const struct ept02_env *env, uint64_t *root, uint64_t gpa, uint64_t hpa, uint64_t flags)
{
    if (!*root) {
        uint64_t p = table_zalloc(env);
        if (p == PALLOC_FAIL)
            return false;
        *root = p;
    }
    uint64_t *t = (uint64_t *)(uintptr_t)*root;
    for (int level = 3; level > 0; level--) {
        uint64_t *e = &t[index_of(gpa, level)];
        if (!(*e & EPT_RWX)) {
            uint64_t p = table_zalloc(env);
            if (p == PALLOC_FAIL)
                return false;
            *e = p | EPT_RWX;
        }
        t = (uint64_t *)(uintptr_t)(*e & EPT_ADDR);
    }
    t[index_of(gpa, 0)] = (hpa & EPT_ADDR) | flags;
    return true;
}

/* EPT02 has no large pages: every present entry above level 0 is a table. */
static void free_table(const struct ept02_env *env, uint64_t table, int level)
{
    const uint64_t *t = (const uint64_t *)(uintptr_t)table;
    for (unsigned i = 0; level > 0 && i < 512; i++)
        if (t[i] & EPT_RWX)
            free_table(env, t[i] & EPT_ADDR, level - 1);
    palloc_free(env->pa, table, 1);
}

void ept02_free_all(const struct ept02_env *env, uint64_t *root)
{
    if (*root)
        free_table(env, *root, 3);
    *root = 0;
}
