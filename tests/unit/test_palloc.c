/* core/palloc.c: page-frame bitmap allocator. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/layout.h"
#include "core/palloc.h"
#include <string.h>

#define BASE    0x100000ULL
#define NPAGES  100             /* not a multiple of 64: the last word is partial */

static uint64_t bitmap[4];

static void init(struct palloc *pa, uint64_t base, size_t npages)
{
    assert_true(palloc_bitmap_words(npages) <= sizeof(bitmap) / sizeof(bitmap[0]));
    memset(bitmap, 0xA5, sizeof(bitmap));       /* init must clear what it owns */
    palloc_init(pa, base, npages, bitmap);
}

static void test_init_state(void **state)
{
    (void)state;
    struct palloc pa;
    init(&pa, BASE, NPAGES);
    assert_int_equal(pa.nfree, NPAGES);
    assert_int_equal(palloc_bitmap_words(NPAGES), 2);
    assert_int_equal(palloc_bitmap_words(64), 1);
    assert_int_equal(bitmap[0], 0);
    /* Pages 64..99 free, the 28 bits past the end marked used. */
    assert_int_equal(bitmap[1], ~((1ULL << 36) - 1));
    assert_false(spin_is_locked(&pa.lock));
}

static void test_alloc_all_one_by_one(void **state)
{
    (void)state;
    struct palloc pa;
    init(&pa, BASE, NPAGES);
    for (size_t i = 0; i < NPAGES; i++) {
        uint64_t p = palloc_alloc(&pa, 1, 0);
        assert_int_equal(p, BASE + i * PAGE_SIZE);
        assert_int_equal(pa.nfree, NPAGES - i - 1);
    }
    assert_int_equal(palloc_alloc(&pa, 1, 0), PALLOC_FAIL);
    assert_int_equal(palloc_alloc(&pa, 1, 1), PALLOC_FAIL);
    assert_int_equal(pa.nfree, 0);
    assert_false(spin_is_locked(&pa.lock));
}

static void test_free_and_realloc(void **state)
{
    (void)state;
    struct palloc pa;
    init(&pa, BASE, NPAGES);
    for (size_t i = 0; i < NPAGES; i++)
        palloc_alloc(&pa, 1, 0);
    /* Free one page in each bitmap word; both must come back, lowest first. */
    assert_int_equal(palloc_free(&pa, BASE + 90 * PAGE_SIZE, 1), 0);
    assert_int_equal(palloc_free(&pa, BASE + 5 * PAGE_SIZE, 1), 0);
    assert_int_equal(pa.nfree, 2);
    assert_int_equal(palloc_alloc(&pa, 1, 0), BASE + 5 * PAGE_SIZE);
    assert_int_equal(palloc_alloc(&pa, 1, 0), BASE + 90 * PAGE_SIZE);
    assert_int_equal(palloc_alloc(&pa, 1, 0), PALLOC_FAIL);
    /* A freed run is reusable as a run. */
    assert_int_equal(palloc_free(&pa, BASE + 10 * PAGE_SIZE, 20), 0);
    assert_int_equal(pa.nfree, 20);
    assert_int_equal(palloc_alloc(&pa, 20, 0), BASE + 10 * PAGE_SIZE);
    assert_int_equal(pa.nfree, 0);
}

static void test_runs_aligned_to_physical_address(void **state)
{
    (void)state;
    struct palloc pa;
    const uint64_t base = 0x101000;     /* page frame 0x101: not 4- or 8-aligned */
    init(&pa, base, 64);
    uint64_t a = palloc_alloc(&pa, 4, 4);
    assert_int_equal(a, 0x104000);
    assert_int_equal(a % (4 * PAGE_SIZE), 0);
    uint64_t b = palloc_alloc(&pa, 2, 8);
    assert_int_equal(b, 0x108000);
    uint64_t c = palloc_alloc(&pa, 8, 8);   /* 0x108000 taken: next 32 KiB boundary */
    assert_int_equal(c, 0x110000);
    assert_int_equal(pa.nfree, 64 - 14);
    /* Unaligned runs start at the first free page. */
    assert_int_equal(palloc_alloc(&pa, 3, 1), base);
    /* Page 0x104..0x107 taken, 0x10a..0x10f free: a 5-page run fits at 0x10a000. */
    assert_int_equal(palloc_alloc(&pa, 5, 0), 0x10A000);
    /* 64 KiB-aligned 16-page runs: 0x110000 is taken, 0x120000 and 0x130000
     * fit, and the range ends at 0x141000, one page past 0x140000. */
    assert_int_equal(palloc_alloc(&pa, 16, 16), 0x120000);
    assert_int_equal(palloc_alloc(&pa, 16, 16), 0x130000);
    assert_int_equal(palloc_alloc(&pa, 16, 16), PALLOC_FAIL);
    assert_int_equal(palloc_alloc(&pa, 1, 16), 0x140000);
}

static void test_run_skips_used_pages_and_fragmentation_fails(void **state)
{
    (void)state;
    struct palloc pa;
    init(&pa, BASE, 16);
    /* Use every 4th page: 12 pages free but no run longer than 3. */
    for (size_t i = 0; i < 16; i += 4)
        palloc_reserve(&pa, BASE + i * PAGE_SIZE, 1);
    assert_int_equal(pa.nfree, 12);
    assert_int_equal(palloc_alloc(&pa, 4, 0), PALLOC_FAIL);
    assert_int_equal(pa.nfree, 12);
    assert_int_equal(palloc_alloc(&pa, 3, 0), BASE + 1 * PAGE_SIZE);
    assert_int_equal(palloc_alloc(&pa, 3, 0), BASE + 5 * PAGE_SIZE);
    assert_int_equal(palloc_alloc(&pa, 0, 0), PALLOC_FAIL);
    assert_int_equal(palloc_alloc(&pa, 7, 0), PALLOC_FAIL);     /* more than nfree */
}

static void expect_free_fails_unchanged(struct palloc *pa, uint64_t phys, size_t n)
{
    uint64_t before[4];
    memcpy(before, bitmap, sizeof(before));
    size_t nfree = pa->nfree;
    assert_int_equal(palloc_free(pa, phys, n), -1);
    assert_memory_equal(before, bitmap, sizeof(before));
    assert_int_equal(pa->nfree, nfree);
    assert_false(spin_is_locked(&pa->lock));
}

static void test_free_errors_change_nothing(void **state)
{
    (void)state;
    struct palloc pa;
    init(&pa, BASE, NPAGES);
    uint64_t run = palloc_alloc(&pa, 10, 0);
    assert_int_equal(run, BASE);
    assert_int_equal(palloc_free(&pa, BASE + 3 * PAGE_SIZE, 1), 0);

    expect_free_fails_unchanged(&pa, BASE + 3 * PAGE_SIZE, 1);     /* double free */
    expect_free_fails_unchanged(&pa, BASE, 10);                     /* run partly free */
    expect_free_fails_unchanged(&pa, BASE + 2 * PAGE_SIZE, 2);      /* free page last */
    expect_free_fails_unchanged(&pa, BASE - PAGE_SIZE, 1);          /* below the range */
    expect_free_fails_unchanged(&pa, BASE + NPAGES * PAGE_SIZE, 1); /* past the end */
    expect_free_fails_unchanged(&pa, BASE + 8 * PAGE_SIZE, NPAGES); /* runs past the end */
    expect_free_fails_unchanged(&pa, BASE + 8 * PAGE_SIZE, SIZE_MAX);
    expect_free_fails_unchanged(&pa, BASE + 4 * PAGE_SIZE + 8, 1);  /* misaligned */
    expect_free_fails_unchanged(&pa, BASE + 4 * PAGE_SIZE, 0);      /* empty */
    expect_free_fails_unchanged(&pa, BASE + 50 * PAGE_SIZE, 1);     /* never allocated */

    /* The valid pieces still free normally. */
    assert_int_equal(palloc_free(&pa, BASE, 3), 0);
    assert_int_equal(palloc_free(&pa, BASE + 4 * PAGE_SIZE, 6), 0);
    assert_int_equal(pa.nfree, NPAGES);
}

static void test_reserve(void **state)
{
    (void)state;
    struct palloc pa;
    init(&pa, BASE, NPAGES);
    /* Straddles the start of the range: only the in-range pages count. */
    palloc_reserve(&pa, BASE - 2 * PAGE_SIZE, 5);
    assert_int_equal(pa.nfree, NPAGES - 3);
    /* Reserving again is idempotent. */
    palloc_reserve(&pa, BASE, 3);
    assert_int_equal(pa.nfree, NPAGES - 3);
    /* Straddles the end. */
    palloc_reserve(&pa, BASE + (NPAGES - 1) * PAGE_SIZE, 4);
    assert_int_equal(pa.nfree, NPAGES - 4);
    assert_int_equal(palloc_alloc(&pa, 1, 0), BASE + 3 * PAGE_SIZE);
    /* Reserved pages are in use: they can be freed like allocated ones. */
    assert_int_equal(palloc_free(&pa, BASE, 3), 0);
    assert_int_equal(pa.nfree, NPAGES - 2);
    assert_int_equal(palloc_alloc(&pa, 1, 0), BASE);
    assert_false(spin_is_locked(&pa.lock));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_state),
        cmocka_unit_test(test_alloc_all_one_by_one),
        cmocka_unit_test(test_free_and_realloc),
        cmocka_unit_test(test_runs_aligned_to_physical_address),
        cmocka_unit_test(test_run_skips_used_pages_and_fragmentation_fails),
        cmocka_unit_test(test_free_errors_change_nothing),
        cmocka_unit_test(test_reserve),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
