#include "core/memmap.h"

bool memmap_add(struct memmap *m, uint64_t base, uint64_t len, uint32_t type)
{
    if (len == 0)
        return true;
    if (base + len < base)
        len = UINT64_MAX - base;
    if (m->n == MEMMAP_MAX) {
        m->truncated = true;
        return false;
    }
    m->e[m->n++] = (struct memmap_entry){ base, len, type };
    return true;
}

static int type_rank(uint32_t type)
{
    switch (type) {
    case MEM_USABLE: return 0;
    case MEM_ACPI:   return 1;
    case MEM_NVS:    return 3;
    case MEM_BAD:    return 4;
    default:         return 2;  /* reserved and anything unknown */
    }
}

static void sort_u64(uint64_t *v, unsigned n)
{
    for (unsigned i = 1; i < n; i++) {
        uint64_t x = v[i];
        unsigned j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/*
 * Boundary sweep: every entry edge splits the address space into elementary
 * intervals; each interval takes the highest-ranked type covering it.
 * O(n^2) on at most MEMMAP_MAX entries, done once at boot.
 */
void memmap_normalize(struct memmap *m)
{
    uint64_t edges[2 * MEMMAP_MAX];
    unsigned ne = 0;
    for (unsigned i = 0; i < m->n; i++) {
        edges[ne++] = m->e[i].base;
        edges[ne++] = m->e[i].base + m->e[i].len;
    }
    sort_u64(edges, ne);

    struct memmap out = { .n = 0, .truncated = m->truncated };
    for (unsigned k = 0; k + 1 < ne; k++) {
        uint64_t lo = edges[k], hi = edges[k + 1];
        if (lo == hi)
            continue;
        int best = -1;
        uint32_t type = 0;
        for (unsigned i = 0; i < m->n; i++) {
            const struct memmap_entry *e = &m->e[i];
            if (e->base <= lo && hi <= e->base + e->len && type_rank(e->type) > best) {
                best = type_rank(e->type);
                type = e->type;
            }
        }
        if (best < 0)
            continue;
        struct memmap_entry *last = out.n ? &out.e[out.n - 1] : 0;
        if (last && last->type == type && last->base + last->len == lo)
            last->len += hi - lo;
        else
            memmap_add(&out, lo, hi - lo, type);
    }
    *m = out;
}

static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

bool memmap_carve(const struct memmap *m, uint64_t size, uint64_t align, uint64_t limit,
                  const struct mem_range *busy, unsigned nbusy, uint64_t *base)
{
    if (size == 0 || align == 0 || (align & (align - 1)))
        return false;
    for (unsigned i = m->n; i-- > 0;) {
        const struct memmap_entry *e = &m->e[i];
        if (e->type != MEM_USABLE)
            continue;
        uint64_t lo = e->base;
        uint64_t hi = e->base + e->len < limit ? e->base + e->len : limit;
        /* Slide the candidate down below each busy range it hits. */
        while (hi > lo && hi - lo >= size) {
            uint64_t start = align_down(hi - size, align);
            if (start < lo)
                break;
            uint64_t end = start + size;
            bool clash = false;
            for (unsigned b = 0; b < nbusy; b++) {
                if (busy[b].len && busy[b].base < end && start < busy[b].base + busy[b].len) {
                    if (busy[b].base < hi)
                        hi = busy[b].base;
                    clash = true;
                }
            }
            if (!clash) {
                *base = start;
                return true;
            }
        }
    }
    return false;
}

uint64_t memmap_largest_block(const struct memmap *m, uint64_t align, uint64_t limit)
{
    uint64_t best = 0;
    for (unsigned i = 0; i < m->n; i++) {
        const struct memmap_entry *e = &m->e[i];
        if (e->type != MEM_USABLE || e->base >= limit)
            continue;
        uint64_t lo = (e->base + align - 1) & ~(align - 1);
        uint64_t hi = align_down(e->base + e->len < limit ? e->base + e->len : limit, align);
        if (hi > lo && hi - lo > best)
            best = hi - lo;
    }
    return best;
}

uint64_t memmap_total(const struct memmap *m, uint32_t type)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < m->n; i++)
        if (m->e[i].type == type)
            sum += m->e[i].len;
    return sum;
}

uint64_t memmap_usable_from(const struct memmap *m, uint64_t from)
{
    uint64_t at = from;
    for (unsigned i = 0; i < m->n; i++) {
        const struct memmap_entry *e = &m->e[i];
        if (e->type == MEM_USABLE && e->base <= at && at < e->base + e->len)
            at = e->base + e->len;      /* normalised: entries are sorted */
    }
    return at - from;
}

const char *memmap_type_name(uint32_t type)
{
    switch (type) {
    case MEM_USABLE:   return "usable";
    case MEM_RESERVED: return "reserved";
    case MEM_ACPI:     return "ACPI data";
    case MEM_NVS:      return "ACPI NVS";
    case MEM_BAD:      return "bad";
    default:           return "unknown";
    }
}
