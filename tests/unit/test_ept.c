/* vmx/ept.c: the cloud VM's identity EPT that hides vsbypass's region. */
#define _GNU_SOURCE     /* MAP_ANONYMOUS, MAP_FIXED_NOREPLACE */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmx/ept.h"
#include "core/layout.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/*
 * The builder writes its tables through (uint64_t *)phys, and ept_translate
 * reads them the same way, so on the host the palloc's "physical" pages are
 * a real buffer: physical = host virtual for the tables. Guest-physical
 * addresses are only numbers here; nothing dereferences them.
 */

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define SZ_4K 0x1000ULL
#define SZ_2M (2 * MIB)

#define MT(e)     (((e) >> EPT_MT_SHIFT) & 7)
#define PERMS(e)  ((e) & EPT_RWX)
#define APIC_PAGE 0xfee00000ULL

/* ------------------------------------------------------------ fixtures */

struct pool {
    void *mem;
    bool mapped;            /* mmap'd at a fixed address rather than aligned_alloc'd */
    size_t npages;
    uint64_t *bitmap;
    struct palloc pa;
};

static void pool_init_at(struct pool *p, void *mem, size_t npages, bool mapped)
{
    assert_non_null(mem);
    memset(mem, 0xA5, npages * SZ_4K);      /* the builder must clear what it uses */
    p->mem = mem;
    p->mapped = mapped;
    p->npages = npages;
    p->bitmap = calloc(palloc_bitmap_words(npages) ? palloc_bitmap_words(npages) : 1, 8);
    assert_non_null(p->bitmap);
    palloc_init(&p->pa, (uint64_t)(uintptr_t)mem, npages, p->bitmap);
}

static void pool_init(struct pool *p, size_t npages)
{
    size_t n = npages ? npages : 1;
    pool_init_at(p, aligned_alloc(SZ_4K, n * SZ_4K), npages, false);
}

static void pool_free(struct pool *p)
{
    if (p->mapped)
        munmap(p->mem, p->npages * SZ_4K);
    else
        free(p->mem);
    free(p->bitmap);
}

static uint64_t pool_lo(const struct pool *p) { return (uint64_t)(uintptr_t)p->mem; }
static uint64_t pool_hi(const struct pool *p) { return pool_lo(p) + p->npages * SZ_4K; }
static size_t pool_used(const struct pool *p) { return p->npages - p->pa.nfree; }

struct range { uint64_t base, len; uint32_t type; };

static void map_from(struct memmap *m, const struct range *r, size_t n)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++)
        assert_true(memmap_add(m, r[i].base, r[i].len, r[i].type));
    memmap_normalize(m);
}
#define MAP(m, table) map_from((m), (table), sizeof(table) / sizeof((table)[0]))

/* Bochs with 512 MiB. */
static const struct range bochs[] = {
    { 0x0,        0x9f000,     MEM_USABLE },
    { 0x9f000,    0x1000,      MEM_RESERVED },
    { 0xe8000,    0x18000,     MEM_RESERVED },
    { 0x100000,   0x1fef0000,  MEM_USABLE },
    { 0x1fff0000, 0x10000,     MEM_ACPI },
    { 0xfffc0000, 0x40000,     MEM_RESERVED },
};

/* A PC with 3 GiB below the hole and 4 GiB above 4 GiB (limit 8 GiB). */
static const struct range big8[] = {
    { 0x0,         0x9fc00,     MEM_USABLE },
    { 0x9fc00,     0x400,       MEM_RESERVED },
    { 0xf0000,     0x10000,     MEM_RESERVED },
    { 0x100000,    0xbfe00000,  MEM_USABLE },
    { 0xbff00000,  0x80000,     MEM_ACPI },
    { 0xbff80000,  0x80000,     MEM_NVS },
    { 0xfec00000,  0x1000,      MEM_RESERVED },
    { 0xfee00000,  0x1000,      MEM_RESERVED },
    { 0xfffc0000,  0x40000,     MEM_RESERVED },
    { 0x100000000, 0x100000000, MEM_USABLE },
};

/* QEMU with 3.5 GiB addressed, page-unaligned conventional memory end. */
static const struct range qemu[] = {
    { 0x0,        0x9fc00,     MEM_USABLE },
    { 0x9fc00,    0x400,       MEM_RESERVED },
    { 0xf0000,    0x10000,     MEM_RESERVED },
    { 0x100000,   0x7fee0000,  MEM_USABLE },
    { 0x7ffe0000, 0x20000,     MEM_RESERVED },
    { 0xb0000000, 0x10000000,  MEM_RESERVED },
};

static struct memmap bochs_map;

static int setup(void **state)
{
    (void)state;
    MAP(&bochs_map, bochs);
    return 0;
}

static struct ept_layout bochs_layout(void)
{
    return (struct ept_layout){ &bochs_map, 4 * GIB, 0x17e00000, 128 * MIB, APIC_PAGE, NULL };
}

/* Builds `lay` from a pool of `npages`; the PML4 is nonzero. */
static uint64_t build(struct pool *p, size_t npages, const struct ept_layout *lay)
{
    pool_init(p, npages);
    uint64_t pml4 = ept_build_identity(&p->pa, lay);
    assert_int_not_equal(pml4, 0);
    assert_true(pml4 >= pool_lo(p) && pml4 < pool_hi(p) && pml4 % SZ_4K == 0);
    return pml4;
}

static uint64_t leaf_of(uint64_t pml4, uint64_t gpa)
{
    uint64_t leaf = 0;
    assert_int_not_equal(ept_translate(pml4, gpa, &leaf), UINT64_MAX);
    return leaf;
}

/* ---------------------------------------------------- reference model */

static bool is_ram(uint32_t t) { return t == MEM_USABLE || t == MEM_ACPI || t == MEM_NVS; }

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

/* RAM bytes of the (normalised) map in [base, base + len). */
static uint64_t ram_bytes(const struct memmap *m, uint64_t base, uint64_t len)
{
    uint64_t sum = 0;
    for (unsigned i = 0; i < m->n; i++) {
        const struct memmap_entry *e = &m->e[i];
        if (!is_ram(e->type) || !overlaps(e->base, e->len, base, len))
            continue;
        uint64_t lo = e->base > base ? e->base : base;
        uint64_t hi = e->base + e->len < base + len ? e->base + e->len : base + len;
        sum += hi - lo;
    }
    return sum;
}

/*
 * The memory type a leaf over [gpa, gpa + size) must have, or -1 where no
 * single leaf of that size can be right (it must be split):
 *   VGA window 0xA0000-0xBFFFF UC; option ROMs/BIOS 0xC0000-0xFFFFF WB;
 *   all RAM (usable/ACPI/NVS) WB; anything else, partly RAM included, UC.
 */
static int model_type(const struct memmap *m, uint64_t gpa, uint64_t size)
{
    if (size > SZ_4K && gpa < MIB)
        return -1;
    if (overlaps(gpa, size, 0xA0000, 0x20000))
        return (int)EPT_MT_UC;
    if (gpa >= 0xC0000 && gpa + size <= MIB)
        return (int)EPT_MT_WB;
    uint64_t ram = ram_bytes(m, gpa, size);
    if (size > SZ_4K && ram != 0 && ram != size)
        return -1;
    return ram == size ? (int)EPT_MT_WB : (int)EPT_MT_UC;
}

/* ------------------------------------------------------ the EPT walker */

struct walk {
    const struct ept_layout *lay;
    const struct pool *pool;
    uint64_t dummy;             /* where the hidden range goes */
    bool dummy_in_hide;         /* the pool lies inside the hidden range (as on the machine) */
    uint64_t next_gpa;          /* leaves come in GPA order, without gaps */
    bool *is_table;             /* per pool page */
    size_t tables, leaves_4k, leaves_2m, hidden_4k;
};

static bool in_hide(const struct ept_layout *lay, uint64_t a)
{
    return a >= lay->hide_base && a - lay->hide_base < lay->hide_size;
}

static void check_leaf(struct walk *w, uint64_t gpa, uint64_t size, uint64_t e)
{
    const struct ept_layout *lay = w->lay;
    uint64_t out = e & EPT_ADDR;
    if (gpa != w->next_gpa)
        fail_msg("leaf for 0x%llx, expected the next at 0x%llx", (unsigned long long)gpa,
                 (unsigned long long)w->next_gpa);
    w->next_gpa = gpa + size;
    /* Only permissions, type and PS below bit 8; nothing above the address. */
    if (e & ~(EPT_ADDR | 0xFFULL) || out & (size - 1))
        fail_msg("leaf 0x%llx for 0x%llx has reserved bits set", (unsigned long long)e,
                 (unsigned long long)gpa);
    if (MT(e) != EPT_MT_UC && MT(e) != EPT_MT_WB)
        fail_msg("leaf for 0x%llx: memory type %llu", (unsigned long long)gpa,
                 (unsigned long long)MT(e));

    if (in_hide(lay, gpa) || in_hide(lay, gpa + size - 1)) {
        /* Hidden: 4 KiB pages, all on the dummy, read/write, never executable. */
        if (size != SZ_4K || !in_hide(lay, gpa) || out != w->dummy ||
            PERMS(e) != (EPT_R | EPT_W) || MT(e) != EPT_MT_WB)
            fail_msg("hidden 0x%llx: leaf 0x%llx size 0x%llx (dummy 0x%llx)",
                     (unsigned long long)gpa, (unsigned long long)e,
                     (unsigned long long)size, (unsigned long long)w->dummy);
        w->hidden_4k++;
    } else {
        if (out != gpa)
            fail_msg("0x%llx maps to 0x%llx", (unsigned long long)gpa, (unsigned long long)out);
        bool ro = lay->ro_page && gpa <= lay->ro_page && lay->ro_page - gpa < size;
        if (ro && size != SZ_4K)
            fail_msg("ro page 0x%llx inside a 0x%llx leaf", (unsigned long long)lay->ro_page,
                     (unsigned long long)size);
        if (PERMS(e) != (ro ? EPT_R | EPT_X : EPT_RWX))
            fail_msg("0x%llx: permissions %llu", (unsigned long long)gpa,
                     (unsigned long long)PERMS(e));
        int want = model_type(lay->ram, gpa, size);
        if (want < 0 || MT(e) != (uint64_t)want)
            fail_msg("0x%llx+0x%llx: memory type %llu, model says %d", (unsigned long long)gpa,
                     (unsigned long long)size, (unsigned long long)MT(e), want);
    }
    if (size == SZ_4K)
        w->leaves_4k++;
    else
        w->leaves_2m++;

    /* The security property: nothing but the dummy page of the hidden range and
     * of the tables' own pages is reachable from the guest. */
    bool is_dummy = out == w->dummy && size == SZ_4K;
    if (overlaps(out, size, lay->hide_base, lay->hide_size) && !(is_dummy && w->dummy_in_hide))
        fail_msg("GPA 0x%llx reaches hidden 0x%llx+0x%llx", (unsigned long long)gpa,
                 (unsigned long long)out, (unsigned long long)size);
    if (overlaps(out, size, pool_lo(w->pool), w->pool->npages * SZ_4K) && !is_dummy)
        fail_msg("GPA 0x%llx reaches the EPT's own pages at 0x%llx", (unsigned long long)gpa,
                 (unsigned long long)out);
}

static void walk_table(struct walk *w, uint64_t table, int level, uint64_t gpa_base)
{
    if (table < pool_lo(w->pool) || table >= pool_hi(w->pool) || table % SZ_4K)
        fail_msg("level %d table at 0x%llx is not a pool page", level, (unsigned long long)table);
    assert_int_not_equal(table, w->dummy);
    size_t idx = (table - pool_lo(w->pool)) / SZ_4K;
    if (!w->is_table[idx]) {
        w->is_table[idx] = true;
        w->tables++;
    }
    const uint64_t *t = (const uint64_t *)(uintptr_t)table;
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = t[i];
        uint64_t gpa = gpa_base + ((uint64_t)i << (12 + 9 * level));
        if (!PERMS(e)) {
            assert_int_equal(e, 0);     /* not present: nothing else set either */
            continue;
        }
        if (level == 0 || (level == 1 && (e & EPT_PS))) {
            check_leaf(w, gpa, 1ULL << (12 + 9 * level), e);
            continue;
        }
        /* Non-leaf: bits 7:3 are reserved (no 1 GiB pages: the CPU may lack them). */
        if ((e & 0xF8) || PERMS(e) != EPT_RWX || (e & ~(EPT_ADDR | 0xFFULL)))
            fail_msg("level %d entry %u = 0x%llx", level, i, (unsigned long long)e);
        walk_table(w, e & EPT_ADDR, level - 1, gpa);
    }
}

/* Every leaf of the table against the model; returns the walk's counts. */
static struct walk walk_all(const struct pool *p, uint64_t pml4, const struct ept_layout *lay,
                            bool dummy_in_hide)
{
    struct walk w = { .lay = lay, .pool = p, .dummy_in_hide = dummy_in_hide };
    w.dummy = ept_translate(pml4, lay->hide_base, NULL);
    assert_int_not_equal(w.dummy, UINT64_MAX);
    assert_true(w.dummy >= pool_lo(p) && w.dummy < pool_hi(p) && w.dummy % SZ_4K == 0);
    if (!dummy_in_hide)
        assert_false(overlaps(w.dummy, SZ_4K, lay->hide_base, lay->hide_size));
    w.is_table = calloc(p->npages, sizeof(bool));
    assert_non_null(w.is_table);
    walk_table(&w, pml4, 3, 0);

    /* All of [0, limit) is mapped, 2 MiB granular, capped at the PML4's first 512 GiB. */
    uint64_t limit = lay->limit < 512 * GIB ? lay->limit : 512 * GIB;
    assert_int_equal(w.next_gpa, (limit + SZ_2M - 1) & ~(SZ_2M - 1));
    assert_int_equal(w.hidden_4k ? 1 : 0, lay->hide_base < limit ? 1 : 0);
    /* Every page the builder took is a table or the dummy: nothing is orphaned. */
    assert_int_equal(w.tables + 1, pool_used(p));
    /* The guest cannot reach any table page at its own address. */
    for (size_t i = 0; i < p->npages; i++) {
        if (!w.is_table[i])
            continue;
        uint64_t hpa = ept_translate(pml4, pool_lo(p) + i * SZ_4K, NULL);
        assert_true(hpa == UINT64_MAX || hpa == w.dummy);
    }
    free(w.is_table);
    w.is_table = NULL;
    /* The dummy reads as zeros. */
    const uint8_t *d = (const uint8_t *)(uintptr_t)w.dummy;
    for (size_t i = 0; i < SZ_4K; i++)
        assert_int_equal(d[i], 0);
    return w;
}

/* ------------------------------------------------------- Bochs layout */

static void test_identity_outside_hidden(void **state)
{
    (void)state;
    struct ept_layout lay = bochs_layout();
    struct pool p;
    uint64_t pml4 = build(&p, 64, &lay);
    static const uint64_t gpas[] = {
        0x0, 0x4f0, 0x7c00, 0x9e000, 0x9efff, 0x9f000, 0xa0000, 0xb8000, 0xbffff, 0xc0000,
        0xe8000, 0xfffff, 0x100000, 0x1fffff, 0x200000, 0x12345678,
        0x17dfffff, 0x17dff000,                     /* just below the hidden range */
        0x1fe00000, 0x1fe00001,                     /* just above it */
        0x1ffeffff, 0x1fff0000, 0x1fffffff,         /* end of RAM, ACPI */
        0x20000000, 0x80000000, 0xc0000000, 0xe0000000, 0xfebfffff,  /* MMIO hole */
        0xfec00000, 0xfec00fff, 0xfed00000, 0xfedff000, 0xfee00000, 0xfee00300, 0xfee01000,
        0xfffc0000, 0xfffffff0, 0xffffffff,         /* last byte below 4 GiB */
    };
    for (size_t i = 0; i < sizeof(gpas) / sizeof(gpas[0]); i++) {
        uint64_t hpa = ept_translate(pml4, gpas[i], NULL);
        if (hpa != gpas[i])
            fail_msg("0x%llx translates to 0x%llx", (unsigned long long)gpas[i],
                     (unsigned long long)hpa);
    }
    /* Every 2 MiB outside the hidden range, at its first and last byte. */
    for (uint64_t a = 0; a < 4 * GIB; a += SZ_2M) {
        if (in_hide(&lay, a))
            continue;
        assert_int_equal(ept_translate(pml4, a, NULL), a);
        assert_int_equal(ept_translate(pml4, a + SZ_2M - 1, NULL), a + SZ_2M - 1);
    }
    pool_free(&p);
}

static void test_memory_types(void **state)
{
    (void)state;
    struct ept_layout lay = bochs_layout();
    struct pool p;
    uint64_t pml4 = build(&p, 64, &lay);
    static const struct { uint64_t gpa, mt; } want[] = {
        { 0x0,        EPT_MT_WB }, { 0x9e000,    EPT_MT_WB },     /* conventional RAM */
        { 0x9f000,    EPT_MT_UC },                                /* reserved (EBDA) */
        { 0xa0000,    EPT_MT_UC }, { 0xb8000,    EPT_MT_UC },     /* VGA window */
        { 0xbf000,    EPT_MT_UC },
        { 0xc0000,    EPT_MT_WB }, { 0xdf000,    EPT_MT_WB },     /* option ROMs */
        { 0xe8000,    EPT_MT_WB }, { 0xff000,    EPT_MT_WB },     /* BIOS (reserved, shadowed) */
        { 0x100000,   EPT_MT_WB }, { 0x200000,   EPT_MT_WB },     /* RAM */
        { 0x17dff000, EPT_MT_WB }, { 0x1fe00000, EPT_MT_WB },
        { 0x1ffef000, EPT_MT_WB }, { 0x1fff0000, EPT_MT_WB },     /* ACPI is RAM */
        { 0x1ffff000, EPT_MT_WB },
        { 0x20000000, EPT_MT_UC }, { 0xc0000000, EPT_MT_UC },     /* hole */
        { 0xfec00000, EPT_MT_UC }, { 0xfee00000, EPT_MT_UC },     /* IOAPIC, LAPIC */
        { 0xfedff000, EPT_MT_UC }, { 0xfee01000, EPT_MT_UC },
        { 0xfffc0000, EPT_MT_UC }, { 0xfffff000, EPT_MT_UC },     /* flash */
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        uint64_t leaf = leaf_of(pml4, want[i].gpa);
        if (MT(leaf) != want[i].mt)
            fail_msg("0x%llx: memory type %llu, expected %llu", (unsigned long long)want[i].gpa,
                     (unsigned long long)MT(leaf), (unsigned long long)want[i].mt);
        assert_false(leaf & EPT_IGNORE_PAT);
    }
    /* Uniform 2 MiB blocks are single large pages; the first 2 MiB is split. */
    assert_true(leaf_of(pml4, 0x200000) & EPT_PS);
    assert_true(leaf_of(pml4, 0x20000000) & EPT_PS);
    assert_true(leaf_of(pml4, 0x1fe00000) & EPT_PS);      /* usable + ACPI: all WB */
    assert_false(leaf_of(pml4, 0x0) & EPT_PS);
    assert_false(leaf_of(pml4, 0x100000) & EPT_PS);
    pool_free(&p);
}

/* Firmware that calls the whole first MiB usable RAM: the VGA window is still
 * MMIO (UC), so the first 2 MiB cannot be one large page. */
static void test_vga_window_reported_as_ram(void **state)
{
    (void)state;
    static const struct range flat[] = { { 0x0, 0x40000000, MEM_USABLE } };
    struct memmap m;
    MAP(&m, flat);
    struct ept_layout lay = { &m, 4 * GIB, 0x20000000, 32 * MIB, APIC_PAGE, NULL };
    struct pool p;
    uint64_t pml4 = build(&p, 64, &lay);
    assert_false(leaf_of(pml4, 0) & EPT_PS);
    for (uint64_t a = 0; a < 0x200000; a += SZ_4K) {
        uint64_t want = a >= 0xA0000 && a < 0xC0000 ? EPT_MT_UC : EPT_MT_WB;
        uint64_t leaf = leaf_of(pml4, a);
        if (MT(leaf) != want || PERMS(leaf) != EPT_RWX)
            fail_msg("0x%llx: leaf 0x%llx", (unsigned long long)a, (unsigned long long)leaf);
    }
    walk_all(&p, pml4, &lay, false);
    pool_free(&p);
}

/* A hidden device's BAR (the management NIC's) is simply not mapped; its
 * neighbours and the rest of its 2 MiB keep their identity mappings. */
static bool nic_bar(uint64_t base, uint64_t len) { return base < 0xfebc0000 + 0x20000 && 0xfebc0000 < base + len; }

static void test_hole_not_mapped(void **state)
{
    (void)state;
    struct ept_layout lay = bochs_layout();
    lay.is_hole = nic_bar;
    struct pool p;
    uint64_t pml4 = build(&p, 64, &lay);
    for (uint64_t a = 0xfebc0000; a < 0xfebe0000; a += SZ_4K)
        assert_int_equal(ept_translate(pml4, a, NULL), UINT64_MAX);
    assert_int_equal(ept_translate(pml4, 0xfebbf000, NULL), 0xfebbf000);
    assert_int_equal(ept_translate(pml4, 0xfebe0000, NULL), 0xfebe0000);
    assert_int_equal(ept_translate(pml4, 0xfea00000, NULL), 0xfea00000);
    pool_free(&p);
}

static void test_hidden_range_maps_to_dummy(void **state)
{
    (void)state;
    struct ept_layout lay = bochs_layout();
    struct pool p;
    uint64_t pml4 = build(&p, 64, &lay);
    uint64_t dummy = ept_translate(pml4, lay.hide_base, NULL);
    assert_int_equal(dummy % SZ_4K, 0);
    assert_false(overlaps(dummy, SZ_4K, lay.hide_base, lay.hide_size));
    assert_true(dummy >= pool_lo(&p) && dummy < pool_hi(&p));
    /* Every page, at its first, middle and last byte: the same dummy page. */
    for (uint64_t a = lay.hide_base; a < lay.hide_base + lay.hide_size; a += SZ_4K) {
        uint64_t leaf = 0;
        assert_int_equal(ept_translate(pml4, a, &leaf), dummy);
        assert_int_equal(ept_translate(pml4, a + 0x123, NULL), dummy + 0x123);
        assert_int_equal(ept_translate(pml4, a + 0xfff, NULL), dummy + 0xfff);
        assert_int_equal(PERMS(leaf), EPT_R | EPT_W);   /* no execute */
        assert_false(leaf & EPT_PS);
    }
    /* The neighbours are themselves. */
    assert_int_equal(ept_translate(pml4, lay.hide_base - 1, NULL), lay.hide_base - 1);
    assert_int_equal(ept_translate(pml4, lay.hide_base + lay.hide_size, NULL),
                     lay.hide_base + lay.hide_size);
    pool_free(&p);
}

static void test_ro_page(void **state)
{
    (void)state;
    struct ept_layout lay = bochs_layout();
    struct pool p;
    uint64_t pml4 = build(&p, 64, &lay);
    uint64_t leaf = leaf_of(pml4, APIC_PAGE);
    assert_int_equal(PERMS(leaf), EPT_R | EPT_X);
    assert_false(leaf & EPT_PS);
    assert_int_equal(ept_translate(pml4, APIC_PAGE + 0xb0, NULL), APIC_PAGE + 0xb0);
    assert_int_equal(PERMS(leaf_of(pml4, APIC_PAGE - SZ_4K)), EPT_RWX);
    assert_int_equal(PERMS(leaf_of(pml4, APIC_PAGE + SZ_4K)), EPT_RWX);
    assert_int_equal(PERMS(leaf_of(pml4, 0xfec00000)), EPT_RWX);
    pool_free(&p);

    /* ro_page 0 means none: page 0 stays writable, 0xfee00000 is a 2 MiB page. */
    lay.ro_page = 0;
    pml4 = build(&p, 64, &lay);
    assert_int_equal(PERMS(leaf_of(pml4, 0)), EPT_RWX);
    leaf = leaf_of(pml4, APIC_PAGE);
    assert_int_equal(PERMS(leaf), EPT_RWX);
    assert_true(leaf & EPT_PS);
    walk_all(&p, pml4, &lay, false);
    pool_free(&p);

    /* An ro page in RAM: its 2 MiB block is split, the rest of it stays WB. */
    lay.ro_page = 0x10001000;
    pml4 = build(&p, 64, &lay);
    assert_int_equal(PERMS(leaf_of(pml4, 0x10001000)), EPT_R | EPT_X);
    assert_int_equal(MT(leaf_of(pml4, 0x10001000)), EPT_MT_WB);
    assert_int_equal(PERMS(leaf_of(pml4, 0x10000000)), EPT_RWX);
    assert_false(leaf_of(pml4, 0x10000000) & EPT_PS);
    walk_all(&p, pml4, &lay, false);
    pool_free(&p);
}

static void test_translate_unmapped(void **state)
{
    (void)state;
    struct ept_layout lay = bochs_layout();
    lay.limit = 3 * GIB + 512 * MIB;               /* not a whole number of GiB */
    struct pool p;
    uint64_t pml4 = build(&p, 64, &lay);
    uint64_t leaf = 0x1234;
    assert_int_equal(ept_translate(pml4, 3 * GIB + 512 * MIB - 1, NULL), 3 * GIB + 512 * MIB - 1);
    assert_int_equal(ept_translate(pml4, 3 * GIB + 512 * MIB, &leaf), UINT64_MAX);
    assert_int_equal(ept_translate(pml4, 4 * GIB, &leaf), UINT64_MAX);
    assert_int_equal(ept_translate(pml4, 512 * GIB, &leaf), UINT64_MAX);
    assert_int_equal(ept_translate(pml4, UINT64_MAX, &leaf), UINT64_MAX);
    assert_int_equal(leaf, 0x1234);
    /* The ro page lies past the limit: nothing maps it. */
    assert_int_equal(ept_translate(pml4, APIC_PAGE, NULL), UINT64_MAX);
    walk_all(&p, pml4, &lay, false);
    pool_free(&p);
}

/* ------------------------------------------- the hidden-range property */

struct layout_case {
    const char *what;
    const struct range *map;
    size_t nmap;
    uint64_t limit, hide_base, hide_size, ro_page;
};
#define LMAP(t) (t), sizeof(t) / sizeof((t)[0])

static const struct layout_case layouts[] = {
    { "bochs, 128 MiB at 0x17e00000",      LMAP(bochs), 4 * GIB, 0x17e00000, 128 * MIB, APIC_PAGE },
    { "bochs, 32 MiB at 32 MiB",           LMAP(bochs), 4 * GIB, 0x2000000, 32 * MIB, APIC_PAGE },
    { "bochs, 32 MiB at 0",                LMAP(bochs), 4 * GIB, 0x0, 32 * MIB, APIC_PAGE },
    { "bochs, 32 MiB over RAM end and ACPI", LMAP(bochs), 4 * GIB, 0x1fe00000, 32 * MIB, APIC_PAGE },
    { "bochs, 32 MiB across 1 GiB",        LMAP(bochs), 4 * GIB, 0x3fe00000, 32 * MIB, APIC_PAGE },
    { "bochs, 32 MiB over the APIC page",  LMAP(bochs), 4 * GIB, 0xfe000000, 32 * MIB, APIC_PAGE },
    { "bochs, no ro page",                 LMAP(bochs), 4 * GIB, 0x17e00000, 128 * MIB, 0 },
    { "bochs, limit 1 TiB (capped at 512 GiB)", LMAP(bochs), 1024 * GIB, 0x17e00000, 128 * MIB, APIC_PAGE },
    { "8 GiB, 2 GiB at 1 GiB",             LMAP(big8), 8 * GIB, 0x40000000, 2 * GIB, APIC_PAGE },
    { "8 GiB, 128 MiB at 2 GiB",           LMAP(big8), 8 * GIB, 0x80000000, 128 * MIB, APIC_PAGE },
    { "8 GiB, 2 GiB above 4 GiB",          LMAP(big8), 8 * GIB, 0x140000000, 2 * GIB, APIC_PAGE },
    { "8 GiB, 32 MiB at the top",          LMAP(big8), 8 * GIB, 0x1fe000000, 32 * MIB, APIC_PAGE },
    { "8 GiB, 2 GiB at 0x3fe00000 (odd GiB)", LMAP(big8), 8 * GIB, 0x3fe00000, 2 * GIB, APIC_PAGE },
    { "qemu 3.5 GiB, 128 MiB",             LMAP(qemu), 3 * GIB + 512 * MIB, 0x77e00000, 128 * MIB, APIC_PAGE },
};

static void test_no_gpa_reaches_hidden_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
        const struct layout_case *c = &layouts[i];
        struct memmap m;
        map_from(&m, c->map, c->nmap);
        struct ept_layout lay = { &m, c->limit, c->hide_base, c->hide_size, c->ro_page, NULL };
        struct pool p;
        uint64_t pml4 = build(&p, 1100, &lay);
        struct walk w = walk_all(&p, pml4, &lay, false);
        uint64_t hidden_end = c->hide_base + c->hide_size;
        uint64_t limit = c->limit < 512 * GIB ? c->limit : 512 * GIB;
        assert_int_equal(w.hidden_4k, ((hidden_end < limit ? hidden_end : limit) - c->hide_base) / SZ_4K);
        /* Spot checks through ept_translate, independent of the walker. */
        uint64_t probes[] = { c->hide_base, c->hide_base + 0x1234, hidden_end - 1,
                              c->hide_base + c->hide_size / 2 + 0x800 };
        for (size_t k = 0; k < 4; k++) {
            uint64_t leaf = 0;
            assert_int_equal(ept_translate(pml4, probes[k], &leaf), w.dummy + (probes[k] & 0xfff));
            assert_false(leaf & EPT_X);
        }
        if (c->hide_base)
            assert_int_equal(ept_translate(pml4, c->hide_base - 1, NULL), c->hide_base - 1);
        if (hidden_end < limit)
            assert_int_equal(ept_translate(pml4, hidden_end, NULL), hidden_end);
        print_message("  %-42s %4zu pages, %7zu 4K + %6zu 2M leaves\n", c->what,
                      pool_used(&p), w.leaves_4k, w.leaves_2m);
        pool_free(&p);
    }
}

/*
 * As on the machine: the page allocator, hence the tables and the dummy,
 * lie inside the hidden range. The guest reaches only the dummy there and
 * never a table. Needs the pool at a fixed low address; skipped if the host
 * will not map one there.
 */
static void test_tables_inside_hidden_range(void **state)
{
    (void)state;
    const uint64_t hide_base = 0x40000000, hide_size = 32 * MIB, npages = 64;
    void *want = (void *)(uintptr_t)(hide_base + 8 * MIB);
    void *mem = mmap(want, npages * SZ_4K, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (mem == MAP_FAILED || mem != want) {
        if (mem != MAP_FAILED)
            munmap(mem, npages * SZ_4K);
        skip();
    }
    static const struct range ram[] = {
        { 0x0, 0x9f000, MEM_USABLE }, { 0x100000, 0x7ff00000, MEM_USABLE },
        { 0xfffc0000, 0x40000, MEM_RESERVED },
    };
    struct memmap m;
    MAP(&m, ram);
    struct ept_layout lay = { &m, 4 * GIB, hide_base, hide_size, APIC_PAGE, NULL };
    struct pool p;
    pool_init_at(&p, mem, npages, true);
    uint64_t pml4 = ept_build_identity(&p.pa, &lay);
    assert_int_not_equal(pml4, 0);
    struct walk w = walk_all(&p, pml4, &lay, true);
    assert_true(in_hide(&lay, w.dummy));
    /* The guest addressing the PML4 or the dummy by its own address gets the dummy. */
    assert_int_equal(ept_translate(pml4, pml4, NULL), w.dummy);
    assert_int_equal(ept_translate(pml4, w.dummy, NULL), w.dummy);
    for (uint64_t a = pool_lo(&p); a < pool_hi(&p); a += SZ_4K)
        assert_int_equal(ept_translate(pml4, a, NULL), w.dummy);
    pool_free(&p);
}

/* ----------------------------------------------------------- exhaustion */

static void check_exhaustion(const struct ept_layout *lay)
{
    struct pool p;
    build(&p, 1100, lay);
    size_t need = pool_used(&p);
    pool_free(&p);
    assert_true(need > 4);
    for (size_t k = 0; k < need; k++) {
        pool_init(&p, k);
        assert_int_equal(ept_build_identity(&p.pa, lay), 0);
        pool_free(&p);
    }
    pool_init(&p, need);
    assert_int_not_equal(ept_build_identity(&p.pa, lay), 0);
    assert_int_equal(p.pa.nfree, 0);
    pool_free(&p);
}

static void test_out_of_pages(void **state)
{
    (void)state;
    struct ept_layout lay = bochs_layout();
    check_exhaustion(&lay);
    struct memmap m;
    MAP(&m, big8);
    struct ept_layout lay8 = { &m, 8 * GIB, 0x80000000, 128 * MIB, APIC_PAGE, NULL };
    check_exhaustion(&lay8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identity_outside_hidden),
        cmocka_unit_test(test_memory_types),
        cmocka_unit_test(test_vga_window_reported_as_ram),
        cmocka_unit_test(test_hole_not_mapped),
        cmocka_unit_test(test_hidden_range_maps_to_dummy),
        cmocka_unit_test(test_ro_page),
        cmocka_unit_test(test_translate_unmapped),
        cmocka_unit_test(test_no_gpa_reaches_hidden_range),
        cmocka_unit_test(test_tables_inside_hidden_range),
        cmocka_unit_test(test_out_of_pages),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
