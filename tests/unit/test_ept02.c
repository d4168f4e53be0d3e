/* vmx/ept02.c: EPT02 built from EPT12 in (fake) L1 memory, never reaching the hidden range. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmx/ept02.h"
#include "vmx/ept.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * L1-physical [0, L1_SIZE) is a host buffer; EPT12 tables live there and
 * l1_read reads it the way guest_read_phys does (the hidden range as zeros,
 * -1 past the end). EPT02 tables come from a palloc whose "physical"
 * addresses are the host addresses of an aligned buffer, as in test_ept.c.
 */

#define MIB        (1024ULL * 1024)
#define GIB        (1024 * MIB)
#define SZ_4K      0x1000ULL
#define SZ_2M      (2 * MIB)
#define L1_SIZE    (4 * MIB)
#define HIDE_BASE  (3 * MIB)
#define HIDE_SIZE  (512 * 1024ULL)
#define RO_PAGE    0xfee00000ULL
#define POOL_PAGES 256
#define EPTP_FLAGS 0x1EULL                      /* WB, 4-level: bit 0 clear */
#define MT_MASK    (7ULL << EPT_MT_SHIFT)
#define WB         (EPT_MT_WB << EPT_MT_SHIFT)
#define HIGH_BITS  0xFFF0000000000000ULL        /* bits 63:52, never an address */

struct fx {
    struct ept02_env env;
    uint8_t *l1;            /* L1-physical memory */
    uint64_t l1_next;       /* bump allocator for EPT12 tables */
    unsigned reads;
    void *pool_mem;
    uint64_t *bitmap;
    struct palloc pa;
    uint64_t eptp12, root;
};

static int l1_read(void *ctx, uint64_t pa, void *buf, size_t n)
{
    struct fx *f = ctx;
    uint8_t *out = buf;
    f->reads++;
    if (pa >= L1_SIZE || n > L1_SIZE - pa)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = pa + i - f->env.hide_base < f->env.hide_size ? 0 : f->l1[pa + i];
    return 0;
}

static void pool_init(struct fx *f, size_t npages)
{
    f->pool_mem = aligned_alloc(SZ_4K, (npages ? npages : 1) * SZ_4K);
    f->bitmap = calloc(palloc_bitmap_words(npages) + 1, 8);
    assert_non_null(f->pool_mem);
    assert_non_null(f->bitmap);
    memset(f->pool_mem, 0xA5, npages * SZ_4K);      /* ept02 must clear what it uses */
    palloc_init(&f->pa, (uint64_t)(uintptr_t)f->pool_mem, npages, f->bitmap);
}

static void pool_free(struct fx *f)
{
    ept02_free_all(&f->env, &f->root);
    assert_int_equal(f->pa.nfree, f->pa.npages);    /* every table came back */
    free(f->pool_mem);
    free(f->bitmap);
}

static void repool(struct fx *f, size_t npages)
{
    pool_free(f);
    pool_init(f, npages);
}

static size_t pool_used(const struct fx *f) { return f->pa.npages - f->pa.nfree; }
static bool in_pool(const struct fx *f, uint64_t a)
{
    return a >= f->pa.base && a - f->pa.base < f->pa.npages * SZ_4K;
}

static uint64_t l1_table(struct fx *f)
{
    uint64_t t = f->l1_next;
    f->l1_next += SZ_4K;
    assert_true(f->l1_next <= HIDE_BASE);
    return t;
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->l1 = aligned_alloc(SZ_4K, L1_SIZE);
    memset(f->l1, 0, L1_SIZE);
    f->l1_next = 0x10000;
    pool_init(f, POOL_PAGES);
    f->env = (struct ept02_env){ l1_read, f, HIDE_BASE, HIDE_SIZE, RO_PAGE, &f->pa, 0, NULL };
    f->eptp12 = l1_table(f) | EPTP_FLAGS;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    pool_free(f);
    free(f->l1);
    free(f);
    return 0;
}

static uint64_t *l1_at(struct fx *f, uint64_t pa) { return (uint64_t *)(f->l1 + pa); }
static unsigned idx(uint64_t gpa, int level) { return (gpa >> (12 + 9 * level)) & 511; }

/* The EPT12 entry for `gpa` at `level`, creating RWX tables above it. */
static uint64_t *l1_slot(struct fx *f, uint64_t gpa, int level)
{
    uint64_t table = f->eptp12 & EPT_ADDR;
    for (int l = 3; l > level; l--) {
        uint64_t *e = l1_at(f, table + idx(gpa, l) * 8);
        if (!*e)
            *e = l1_table(f) | EPT_RWX;
        table = *e & EPT_ADDR;
    }
    return l1_at(f, table + idx(gpa, level) * 8);
}

static void l1_set(struct fx *f, uint64_t gpa, int level, uint64_t e) { *l1_slot(f, gpa, level) = e; }

static enum ept02_fill_result fill(struct fx *f, uint64_t gpa, unsigned access, uint64_t *leaf)
{
    return ept02_fill(&f->env, &f->root, f->eptp12, gpa, access, leaf);
}

/* EPT02's 4 KiB leaf for `gpa`, 0 when none; its tables must be pool pages. */
static uint64_t ept02_leaf(const struct fx *f, uint64_t gpa)
{
    uint64_t table = f->root;
    for (int level = 3; table; level--) {
        assert_true(in_pool(f, table) && table % SZ_4K == 0);
        uint64_t e = ((const uint64_t *)(uintptr_t)table)[idx(gpa, level)];
        if (level == 0)
            return e;
        table = (e & EPT_RWX) ? e & EPT_ADDR : 0;
    }
    return 0;
}

static bool hidden_page(const struct fx *f, uint64_t page)
{
    return page < f->env.hide_base + f->env.hide_size && f->env.hide_base < page + SZ_4K;
}

/* Every EPT02 entry: tables RWX in the pool, leaves readable, typed, and not hidden. */
static size_t check_tree(const struct fx *f, uint64_t table, int level)
{
    size_t leaves = 0;
    assert_true(in_pool(f, table) && table % SZ_4K == 0);
    for (unsigned i = 0; i < 512; i++) {
        uint64_t e = ((const uint64_t *)(uintptr_t)table)[i];
        if (!e)
            continue;
        if (level > 0) {
            assert_int_equal(e & ~EPT_ADDR, EPT_RWX);
            leaves += check_tree(f, e & EPT_ADDR, level - 1);
            continue;
        }
        uint64_t mt = (e & MT_MASK) >> EPT_MT_SHIFT;
        if (!(e & EPT_R) || (e & ~(EPT_ADDR | EPT_RWX | MT_MASK | EPT_IGNORE_PAT)) ||
            mt == 2 || mt == 3 || mt == 7 || hidden_page(f, e & EPT_ADDR))
            fail_msg("bad EPT02 leaf 0x%llx", (unsigned long long)e);
        leaves++;
    }
    return leaves;
}

static size_t check_ept02(const struct fx *f) { return f->root ? check_tree(f, f->root, 3) : 0; }

/* ------------------------------------------------------------ mapping */

static void test_map_4k(void **state)
{
    struct fx *f = *state;
    uint64_t e = 0x123000 | EPT_RWX | WB | EPT_IGNORE_PAT, leaf;
    l1_set(f, 0x7000, 0, e);
    assert_int_equal(fill(f, 0x7abc, EPT_W, &leaf), EPT02_MAPPED);
    assert_int_equal(leaf, e);
    assert_int_equal(ept02_leaf(f, 0x7000), e);
    assert_int_equal(pool_used(f), 4);
    /* Read-only, UC, no ignore-PAT; the same page table serves it. */
    l1_set(f, 0x8000, 0, 0x124000 | EPT_R);
    assert_int_equal(fill(f, 0x8000, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, 0x8000), 0x124000 | EPT_R);
    assert_int_equal(pool_used(f), 4);
    assert_int_equal(ept02_leaf(f, 0x9000), 0);
    assert_int_equal(check_ept02(f), 2);
}

static void test_not_present_each_level(void **state)
{
    struct fx *f = *state;
    for (int level = 3; level >= 0; level--) {
        uint64_t gpa = (uint64_t)(level + 1) << 39 | 0x5000, leaf = 1;
        l1_set(f, gpa, 0, 0x100000 | EPT_RWX | WB);
        /* Bits 2:0 clear is "not present", whatever else the entry holds. */
        *l1_slot(f, gpa, level) &= ~EPT_RWX;
        *l1_slot(f, gpa, level) |= EPT_PS | WB | HIGH_BITS;
        assert_int_equal(fill(f, gpa, EPT_R, &leaf), EPT02_NOT_PRESENT);
        assert_int_equal(leaf, 0);
    }
    assert_int_equal(f->root, 0);
    assert_int_equal(pool_used(f), 0);
}

static void test_misconfig_without_read(void **state)
{
    struct fx *f = *state;
    static const uint64_t bad[] = { EPT_W, EPT_X, EPT_W | EPT_X };
    for (int level = 3; level >= 0; level--)
        for (unsigned b = 0; b < 3; b++) {
            uint64_t gpa = (uint64_t)(level * 3 + b + 1) << 39, leaf;
            l1_set(f, gpa, 0, 0x100000 | EPT_RWX | WB);
            uint64_t *e = l1_slot(f, gpa, level);
            *e = (*e & ~EPT_RWX) | bad[b];
            assert_int_equal(fill(f, gpa, EPT_R, &leaf), EPT02_MISCONFIG);
            assert_int_equal(leaf, 0);
        }
    assert_int_equal(pool_used(f), 0);
}

static void test_misconfig_memory_type(void **state)
{
    struct fx *f = *state;
    uint64_t leaf;
    for (uint64_t mt = 0; mt < 8; mt++) {
        uint64_t gpa = mt * SZ_4K, e = (0x100000 + gpa) | EPT_RWX | mt << EPT_MT_SHIFT;
        l1_set(f, gpa, 0, e);
        bool reserved = mt == 2 || mt == 3 || mt == 7;
        assert_int_equal(fill(f, gpa, EPT_R, &leaf), reserved ? EPT02_MISCONFIG : EPT02_MAPPED);
        assert_int_equal(ept02_leaf(f, gpa), reserved ? 0 : e);
    }
    l1_set(f, GIB, 1, 0x200000 | EPT_RWX | EPT_PS | 7ULL << EPT_MT_SHIFT);
    assert_int_equal(fill(f, GIB, EPT_R, &leaf), EPT02_MISCONFIG);
}

static void test_misconfig_unreadable(void **state)
{
    struct fx *f = *state;
    uint64_t leaf;
    l1_set(f, 0, 1, (64 * GIB) | EPT_RWX);      /* a page table past L1 memory */
    assert_int_equal(fill(f, 0, EPT_R, &leaf), EPT02_MISCONFIG);
    f->eptp12 = (L1_SIZE - 4) | EPTP_FLAGS;     /* EPTP bits 11:0 are not address */
    assert_int_equal(fill(f, 0, EPT_R, &leaf), EPT02_NOT_PRESENT);
    f->eptp12 = L1_SIZE | EPTP_FLAGS;
    assert_int_equal(fill(f, 0, EPT_R, &leaf), EPT02_MISCONFIG);
    assert_int_equal(pool_used(f), 0);
}

/* ---------------------------------------------------------- permissions */

static void test_denied(void **state)
{
    struct fx *f = *state;
    static const struct { uint64_t rights; unsigned access; bool ok; } c[] = {
        { EPT_R, EPT_R, true },          { EPT_R, EPT_W, false },        { EPT_R, EPT_X, false },
        { EPT_R | EPT_W, EPT_X, false }, { EPT_R | EPT_W, EPT_W, true }, { EPT_R | EPT_X, EPT_W, false },
        { EPT_R | EPT_X, EPT_X, true },  { EPT_R, EPT_R | EPT_W, false }, { EPT_RWX, EPT_RWX, true },
    };
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint64_t gpa = (uint64_t)i * SZ_4K, e = (0x100000 + gpa) | c[i].rights | WB, leaf;
        l1_set(f, gpa, 0, e);
        assert_int_equal(fill(f, gpa, c[i].access, &leaf), c[i].ok ? EPT02_MAPPED : EPT02_DENIED);
        assert_int_equal(leaf, e);              /* the caller reports its bits 2:0 to L1 */
        assert_int_equal(ept02_leaf(f, gpa), c[i].ok ? e : 0);
    }
}

static void test_rights_every_level(void **state)
{
    struct fx *f = *state;
    uint64_t leaf;
    l1_set(f, 0, 0, 0x100000 | EPT_RWX | WB);
    *l1_slot(f, 0, 2) &= ~EPT_W;                /* the PDPTE forbids writes */
    *l1_slot(f, 0, 1) &= ~EPT_X;                /* the PDE forbids fetches */
    assert_int_equal(fill(f, 0, EPT_W, &leaf), EPT02_DENIED);
    assert_int_equal(leaf & EPT_RWX, EPT_R);
    assert_int_equal(fill(f, 0, EPT_X, &leaf), EPT02_DENIED);
    assert_int_equal(fill(f, 0, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, 0), 0x100000 | EPT_R | WB);
}

/* ---------------------------------------------------------- large pages */

static void test_large_2m(void **state)
{
    struct fx *f = *state;
    uint64_t e = 0x80000000ULL | EPT_RWX | EPT_PS | WB, leaf, l1pa;
    l1_set(f, GIB, 1, e);
    assert_int_equal(ept12_walk(&f->env, f->eptp12, GIB + 0x123456, &l1pa, &leaf), 0);
    assert_int_equal(l1pa, 0x80123456ULL);
    assert_int_equal(leaf, e);
    assert_int_equal(fill(f, GIB + 0x123456, EPT_W, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, GIB + 0x123000), 0x80123000ULL | EPT_RWX | WB);
    assert_int_equal(fill(f, GIB + SZ_2M - 1, EPT_X, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, GIB + SZ_2M - SZ_4K), 0x801FF000ULL | EPT_RWX | WB);
    /* Bits 20:12 of a 2 MiB leaf are not address: they cannot move the page. */
    l1_set(f, GIB + SZ_2M, 1, 0x200000 | 0x101000 | EPT_RWX | EPT_PS | WB);
    assert_int_equal(fill(f, GIB + SZ_2M + 0x5000, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, GIB + SZ_2M + 0x5000), 0x205000 | EPT_RWX | WB);
    assert_int_equal(check_ept02(f), 3);
}

static void test_large_1g(void **state)
{
    struct fx *f = *state;
    uint64_t e = 7 * GIB | EPT_R | EPT_X | EPT_PS | WB | EPT_IGNORE_PAT, leaf, l1pa;
    l1_set(f, 2 * GIB, 2, e);
    assert_int_equal(ept12_walk(&f->env, f->eptp12, 2 * GIB + 0x2345678, &l1pa, &leaf), 0);
    assert_int_equal(l1pa, 7 * GIB + 0x2345678);
    assert_int_equal(fill(f, 2 * GIB + 0x2345678, EPT_X, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, 2 * GIB + 0x2345000), (7 * GIB + 0x2345000) | EPT_R | EPT_X | WB | EPT_IGNORE_PAT);
    assert_int_equal(fill(f, 3 * GIB - 1, EPT_W, &leaf), EPT02_DENIED);
    assert_int_equal(check_ept02(f), 1);
}

/* ------------------------------------------------------ identity, ro page */

static void test_identity(void **state)
{
    struct fx *f = *state;
    uint64_t leaf;
    f->eptp12 = 0x5000 | 1;                     /* no EPT12: keyed by VMCS12 */
    assert_int_equal(fill(f, 0x12345678, EPT_W, &leaf), EPT02_MAPPED);
    assert_int_equal(leaf, EPT_RWX | WB);
    assert_int_equal(ept02_leaf(f, 0x12345000), 0x12345000 | EPT_RWX | WB);
    assert_int_equal(fill(f, RO_PAGE + 0x300, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, RO_PAGE), RO_PAGE | EPT_R | EPT_X | WB);
    assert_int_equal(fill(f, HIDE_BASE + 0x1234, EPT_R, &leaf), EPT02_HIDDEN);
    assert_int_equal(fill(f, HIDE_BASE - 1, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(f->reads, 0);              /* nothing of L1 was read */
    assert_int_equal(check_ept02(f), 3);
}

static void test_ro_page(void **state)
{
    struct fx *f = *state;
    uint64_t e = RO_PAGE | EPT_RWX | WB, leaf;
    l1_set(f, 0x4000, 0, e);
    /* A write there would fault forever on a read-only mapping: refused, nothing mapped. */
    assert_int_equal(fill(f, 0x4000, EPT_W, &leaf), EPT02_RO_WRITE);
    assert_int_equal(ept02_leaf(f, 0x4000), 0);
    /* A read maps it, and EPT02 still takes W away so vsbypass sees each store. */
    assert_int_equal(fill(f, 0x4000, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(leaf, e);
    assert_int_equal(ept02_leaf(f, 0x4000), RO_PAGE | EPT_R | EPT_X | WB);
    /* Through a 2 MiB leaf: only that page loses W. */
    l1_set(f, GIB, 1, (RO_PAGE & ~(SZ_2M - 1)) | EPT_R | EPT_W | EPT_PS | WB);
    uint64_t gpa = GIB + (RO_PAGE & (SZ_2M - 1));
    assert_int_equal(fill(f, gpa, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, gpa), RO_PAGE | EPT_R | WB);
    assert_int_equal(fill(f, gpa + SZ_4K, EPT_W, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, gpa + SZ_4K), (RO_PAGE + SZ_4K) | EPT_R | EPT_W | WB);
}

/* What EPT01 does not map (past L1's memory, a hidden device's BAR) is
 * refused too, so L2 cannot reach it through EPT12. */
static bool hole_at_8m(uint64_t base, uint64_t len) { return base < 0x801000 && 0x800000 < base + len; }

static void test_outside_l1(void **state)
{
    struct fx *f = *state;
    uint64_t leaf;
    f->env.l1_limit = 0x10000000;
    f->env.is_hole = hole_at_8m;
    l1_set(f, 0x5000, 0, 0x10000000 | EPT_RWX | WB);            /* first page past the limit */
    assert_int_equal(fill(f, 0x5000, EPT_R, &leaf), EPT02_OUTSIDE);
    assert_int_equal(ept02_leaf(f, 0x5000), 0);
    l1_set(f, 0x6000, 0, 0x0FFFF000 | EPT_RWX | WB);            /* last page below it */
    assert_int_equal(fill(f, 0x6000, EPT_R, &leaf), EPT02_MAPPED);
    l1_set(f, 0x7000, 0, 0x800000 | EPT_RWX | WB);              /* the hidden device */
    assert_int_equal(fill(f, 0x7000, EPT_R, &leaf), EPT02_OUTSIDE);
    assert_int_equal(ept02_leaf(f, 0x7000), 0);
    l1_set(f, 0x8000, 0, 0x801000 | EPT_RWX | WB);              /* its neighbour */
    assert_int_equal(fill(f, 0x8000, EPT_R, &leaf), EPT02_MAPPED);
    l1_set(f, 0x9000, 0, (1ULL << 51) | EPT_RWX | WB);           /* beyond any physical width */
    assert_int_equal(fill(f, 0x9000, EPT_R, &leaf), EPT02_OUTSIDE);
}

/* ------------------------------------------------- the hidden range */

/* Fills `gpa`, expecting `want`; a refused page must leave EPT02 untouched. */
static void expect(struct fx *f, uint64_t gpa, enum ept02_fill_result want)
{
    uint64_t leaf = 0;
    size_t used = pool_used(f);
    enum ept02_fill_result r = fill(f, gpa, EPT_R, &leaf);
    if (r != want)
        fail_msg("gpa 0x%llx: result %d, expected %d", (unsigned long long)gpa, r, want);
    if (want == EPT02_HIDDEN) {
        assert_int_not_equal(leaf, 0);
        assert_int_equal(ept02_leaf(f, gpa), 0);
        assert_int_equal(pool_used(f), used);
    }
}

static void test_hidden_4k(void **state)
{
    struct fx *f = *state;
    static const struct { uint64_t l1pa; enum ept02_fill_result r; } c[] = {
        { HIDE_BASE - SZ_4K, EPT02_MAPPED },           { HIDE_BASE, EPT02_HIDDEN },
        { HIDE_BASE + HIDE_SIZE / 2, EPT02_HIDDEN },   { HIDE_BASE + HIDE_SIZE - SZ_4K, EPT02_HIDDEN },
        { HIDE_BASE + HIDE_SIZE, EPT02_MAPPED },
        /* Bits 63:52 are not address: they cannot take a leaf out of the range. */
        { (1ULL << 52) | HIDE_BASE, EPT02_HIDDEN },    { HIGH_BITS | (HIDE_BASE + SZ_4K), EPT02_HIDDEN },
    };
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        l1_set(f, i * SZ_4K, 0, c[i].l1pa | EPT_RWX | WB);
        expect(f, i * SZ_4K + 0x123, c[i].r);
    }
    assert_int_equal(check_ept02(f), 2);
}

static void test_hidden_unaligned(void **state)
{
    struct fx *f = *state;
    /* A range that starts and ends inside pages: both pages are off limits,
     * even for a faulting address below the range's first byte. */
    f->env.hide_base = HIDE_BASE + 0x800;
    f->env.hide_size = SZ_4K;
    for (unsigned i = 0; i < 4; i++)
        l1_set(f, i * SZ_4K, 0, (HIDE_BASE - SZ_4K + i * SZ_4K) | EPT_RWX | WB);
    expect(f, 0x0000, EPT02_MAPPED);
    expect(f, 0x1010, EPT02_HIDDEN);
    expect(f, 0x2FFF, EPT02_HIDDEN);
    expect(f, 0x3000, EPT02_MAPPED);
    assert_int_equal(check_ept02(f), 2);
}

static void test_hidden_2m_partial(void **state)
{
    struct fx *f = *state;
    /* [2 MiB, 4 MiB) holds the hidden [3 MiB, 3.5 MiB): each 4 KiB page on its own. */
    l1_set(f, GIB, 1, SZ_2M | EPT_RWX | EPT_PS | WB);
    expect(f, GIB + MIB - 1, EPT02_MAPPED);
    expect(f, GIB + MIB, EPT02_HIDDEN);
    for (uint64_t off = 0; off < SZ_2M; off += SZ_4K) {
        bool hidden = SZ_2M + off >= HIDE_BASE && SZ_2M + off < HIDE_BASE + HIDE_SIZE;
        expect(f, GIB + off + (off & 0xFFF0) / 16, hidden ? EPT02_HIDDEN : EPT02_MAPPED);
    }
    assert_int_equal(check_ept02(f), 512 - HIDE_SIZE / SZ_4K);
}

static void test_hidden_1g_covering(void **state)
{
    struct fx *f = *state;
    l1_set(f, 5 * GIB, 2, 0 | EPT_RWX | EPT_PS | WB);
    for (uint64_t a = HIDE_BASE - 16 * SZ_4K; a < HIDE_BASE + HIDE_SIZE + 16 * SZ_4K; a += SZ_4K) {
        bool hidden = a >= HIDE_BASE && a < HIDE_BASE + HIDE_SIZE;
        expect(f, 5 * GIB + a + 0xFFF, hidden ? EPT02_HIDDEN : EPT02_MAPPED);
    }
    assert_int_equal(check_ept02(f), 32);
}

static void test_tables_in_hidden_range(void **state)
{
    struct fx *f = *state;
    uint64_t leaf, pt = HIDE_BASE + 0x1000;
    /* A valid page table in hidden memory: L1 cannot see it, so neither does the walk. */
    *l1_at(f, pt + idx(0x3000, 0) * 8) = 0x100000 | EPT_RWX | WB;
    l1_set(f, 0x3000, 1, pt | EPT_RWX);
    assert_int_equal(fill(f, 0x3000, EPT_R, &leaf), EPT02_NOT_PRESENT);
    /* The same table outside the range works. */
    memcpy(l1_at(f, 0x100000), l1_at(f, pt), SZ_4K);
    l1_set(f, 0x3000, 1, 0x100000 | EPT_RWX);
    assert_int_equal(fill(f, 0x3000, EPT_R, &leaf), EPT02_MAPPED);
    /* A root in hidden memory, holding a copy of the real root. */
    memcpy(l1_at(f, HIDE_BASE), l1_at(f, f->eptp12 & EPT_ADDR), SZ_4K);
    f->eptp12 = HIDE_BASE | EPTP_FLAGS;
    assert_int_equal(fill(f, 0x3000, EPT_R, &leaf), EPT02_NOT_PRESENT);
}

/* --------------------------------------------------------- hostile trees */

static void test_self_referencing(void **state)
{
    struct fx *f = *state;
    uint64_t root = f->eptp12 & EPT_ADDR, leaf;
    /* PML4[0] is the PML4: each level reads it again and the walk still ends. */
    *l1_at(f, root) = root | EPT_RWX;
    f->reads = 0;
    assert_int_equal(fill(f, 0x123, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(f->reads, 4);
    assert_int_equal(ept02_leaf(f, 0), root | EPT_RWX);
    /* With PS, it becomes a 1 GiB leaf at 0, over the hidden range. */
    *l1_at(f, root) = root | EPT_RWX | EPT_PS | WB;
    expect(f, HIDE_BASE + 0x40, EPT02_HIDDEN);
    expect(f, HIDE_BASE + HIDE_SIZE, EPT02_MAPPED);
    /* Two tables pointing at each other. */
    uint64_t a = l1_table(f), b = l1_table(f);
    *l1_at(f, root + 8) = a | EPT_RWX;
    *l1_at(f, a) = b | EPT_RWX;
    *l1_at(f, b) = a | EPT_RWX;
    assert_int_equal(fill(f, 1ULL << 39, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, 1ULL << 39), b | EPT_RWX);
    check_ept02(f);
}

static void test_high_bits(void **state)
{
    struct fx *f = *state;
    uint64_t leaf;
    /* Bits 63:52 (ignored, suppress-#VE) reach neither the walk nor EPT02. */
    l1_set(f, 0x6000, 0, HIGH_BITS | 0x456000 | EPT_RWX | WB);
    *l1_slot(f, 0x6000, 2) |= HIGH_BITS;
    *l1_slot(f, 0x6000, 1) |= HIGH_BITS;
    f->eptp12 |= HIGH_BITS;
    assert_int_equal(fill(f, 0x6000, EPT_W, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, 0x6000), 0x456000 | EPT_RWX | WB);
    /* Address bits a large leaf does not use stay out of the EPT02 entry too. */
    l1_set(f, GIB, 1, HIGH_BITS | 0x1FF000 | EPT_R | EPT_PS | WB);
    assert_int_equal(fill(f, GIB + 0x3000, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(ept02_leaf(f, GIB + 0x3000), 0x3000 | EPT_R | WB);
    assert_int_equal(check_ept02(f), 2);
}

/* -------------------------------------------------------- property test */

static uint64_t rng;
static uint64_t rnd(void)
{
    /* splitmix64: fixed seed, so a failure reproduces. */
    uint64_t z = (rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* An address a hostile L1 would pick: in, around or far from the hidden range. */
static uint64_t rnd_target(void)
{
    switch (rnd() % 4) {
    case 0:  return HIDE_BASE + rnd() % HIDE_SIZE;
    case 1:  return HIDE_BASE - SZ_2M + rnd() % (HIDE_SIZE + 2 * SZ_2M);
    case 2:  return rnd() % L1_SIZE;
    default: return rnd() & EPT_ADDR;
    }
}

static uint64_t rnd_entry(void)
{
    uint64_t x = rnd();
    if (x % 16 == 0)
        return x & ~EPT_RWX;                    /* not present, junk elsewhere */
    uint64_t rights = x & 0x10 ? EPT_RWX : (x >> 8) & EPT_RWX;
    uint64_t mt = x & 0x40 ? (x >> 11) & 7 : EPT_MT_WB;
    uint64_t ps = (x >> 14 & 3) == 0 ? EPT_PS : 0, ipat = x >> 18 & 1 ? EPT_IGNORE_PAT : 0;
    uint64_t high = x & (1 << 16) ? x & HIGH_BITS : 0;
    uint64_t addr = x & (1 << 17) ? rnd() % L1_SIZE : rnd_target();
    return high | (addr & EPT_ADDR) | mt << EPT_MT_SHIFT | ps | ipat | rights;
}

/* The model: what ept02_fill must answer, from the spec rather than the code. */
static enum ept02_fill_result model(const struct fx *f, uint64_t gpa, unsigned access, uint64_t *want)
{
    uint64_t table = f->eptp12 & EPT_ADDR, rights = EPT_RWX, e = EPT_RWX | WB, page = gpa;
    if (!(f->eptp12 & 1))
        for (int level = 3;; level--) {
            uint64_t at = table + idx(gpa, level) * 8;
            if (at >= L1_SIZE)
                return EPT02_MISCONFIG;
            bool hid = at >= f->env.hide_base && at < f->env.hide_base + f->env.hide_size;
            e = hid ? 0 : *(const uint64_t *)(f->l1 + at);
            uint64_t mt = (e & MT_MASK) >> EPT_MT_SHIFT, size = 1ULL << (12 + 9 * level);
            if (!(e & EPT_RWX))
                return EPT02_NOT_PRESENT;
            if (!(e & EPT_R))
                return EPT02_MISCONFIG;
            rights &= e;
            bool is_leaf = level == 0 || (level < 3 && (e & EPT_PS));
            if (is_leaf && (mt == 2 || mt == 3 || mt == 7))
                return EPT02_MISCONFIG;
            if (is_leaf) {
                page = (e & EPT_ADDR & ~(size - 1)) + (gpa & (size - 1) & ~(SZ_4K - 1));
                break;
            }
            table = e & EPT_ADDR;
        }
    if (access & ~rights)
        return EPT02_DENIED;
    if (hidden_page(f, page & EPT_ADDR))
        return EPT02_HIDDEN;
    if ((page & EPT_ADDR) == RO_PAGE)
        rights &= ~EPT_W;
    *want = (page & EPT_ADDR) | rights | (e & (MT_MASK | EPT_IGNORE_PAT));
    return EPT02_MAPPED;
}

static void test_random_trees(void **state)
{
    struct fx *f = *state;
    unsigned seen[EPT02_NOMEM + 1] = { 0 };
    rng = 0x5EED02;
    for (unsigned tree = 0; tree < 40; tree++) {
        /* Every page of L1 memory is a table full of hostile entries. */
        for (uint64_t i = 0; i < L1_SIZE / 8; i++)
            ((uint64_t *)f->l1)[i] = rnd_entry();
        f->eptp12 = (rnd() % L1_SIZE & ~(SZ_4K - 1)) | (tree % 10 == 9 ? 1 : EPTP_FLAGS);
        uint64_t mapped[50];
        size_t nmapped = 0;
        for (unsigned k = 0; k < 50; k++) {
            uint64_t gpa = rnd() % 2 ? rnd() & ((1ULL << 48) - 1) : rnd_target(), want = 0, leaf;
            unsigned access = rnd() % 4 ? 1u << rnd() % 3 : (unsigned)rnd() % 8;
            enum ept02_fill_result r = fill(f, gpa, access, &leaf), m = model(f, gpa, access, &want);
            if (r != m)
                fail_msg("tree %u gpa 0x%llx access %u: %d, model %d", tree, (unsigned long long)gpa, access, r, m);
            seen[r]++;
            if (r != EPT02_MAPPED)
                continue;
            assert_int_equal(ept02_leaf(f, gpa), want);
            bool dup = false;
            for (size_t j = 0; j < nmapped; j++)
                dup |= mapped[j] == (gpa & ~(SZ_4K - 1));
            if (!dup)
                mapped[nmapped++] = gpa & ~(SZ_4K - 1);
        }
        /* Nothing but what was asked for, nothing hidden, no table outside the pool. */
        assert_int_equal(check_ept02(f), nmapped);
        ept02_free_all(&f->env, &f->root);
        assert_int_equal(pool_used(f), 0);
    }
    print_message("  2000 fills: %u mapped, %u not present, %u denied, %u misconfigured, %u hidden\n",
                  seen[EPT02_MAPPED], seen[EPT02_NOT_PRESENT], seen[EPT02_DENIED],
                  seen[EPT02_MISCONFIG], seen[EPT02_HIDDEN]);
    for (int r = EPT02_MAPPED; r <= EPT02_HIDDEN; r++)
        assert_true(seen[r] >= 20);
}

/* ------------------------------------------------------- memory, freeing */

static void test_exhaustion(void **state)
{
    struct fx *f = *state;
    uint64_t leaf;
    l1_set(f, 0x1000, 0, 0x100000 | EPT_RWX | WB);
    l1_set(f, 1ULL << 39, 0, 0x101000 | EPT_RWX | WB);
    for (size_t n = 0; n < 4; n++) {
        repool(f, n);
        assert_int_equal(fill(f, 0x1000, EPT_R, &leaf), EPT02_NOMEM);
        assert_int_equal(ept02_leaf(f, 0x1000), 0);
        assert_false(ept02_map(&f->env, &f->root, 0xA0000, 0x200000, EPT_R | EPT_W | WB));
    }
    repool(f, 4);
    assert_int_equal(fill(f, 0x1000, EPT_R, &leaf), EPT02_MAPPED);
    assert_int_equal(fill(f, 1ULL << 39, EPT_R, &leaf), EPT02_NOMEM);
    assert_int_equal(ept02_leaf(f, 1ULL << 39), 0);
    assert_int_equal(ept02_leaf(f, 0x1000), 0x100000 | EPT_RWX | WB);
    check_ept02(f);
}

static void test_map_and_free_all(void **state)
{
    struct fx *f = *state;
    /* ept02_map takes any host page: the VGA window is backed by vsbypass pages. */
    assert_true(ept02_map(&f->env, &f->root, 0xA0000, HIDE_BASE, EPT_R | EPT_W | WB));
    assert_int_equal(ept02_leaf(f, 0xA0000), HIDE_BASE | EPT_R | EPT_W | WB);
    assert_true(ept02_map(&f->env, &f->root, 0xA0000, HIDE_BASE + SZ_4K, EPT_R | WB));
    assert_int_equal(ept02_leaf(f, 0xA0000), (HIDE_BASE + SZ_4K) | EPT_R | WB);
    assert_true(ept02_map(&f->env, &f->root, 3ULL << 39, 0x5000, EPT_R));
    assert_true(ept02_map(&f->env, &f->root, 5 * GIB, 0x6000, EPT_R));
    assert_int_equal(pool_used(f), 1 + 3 + 3 + 2);
    ept02_free_all(&f->env, &f->root);
    assert_int_equal(f->root, 0);
    assert_int_equal(pool_used(f), 0);
    ept02_free_all(&f->env, &f->root);
    assert_int_equal(pool_used(f), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_map_4k),           T(test_not_present_each_level), T(test_misconfig_without_read),
        T(test_misconfig_memory_type), T(test_misconfig_unreadable), T(test_denied),
        T(test_rights_every_level), T(test_large_2m),           T(test_large_1g),
        T(test_identity),         T(test_ro_page), T(test_outside_l1),T(test_hidden_4k),
        T(test_hidden_unaligned), T(test_hidden_2m_partial),    T(test_hidden_1g_covering),
        T(test_tables_in_hidden_range), T(test_self_referencing), T(test_high_bits),
        T(test_random_trees),     T(test_exhaustion),           T(test_map_and_free_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
