/* core/heap.c over core/palloc.c, with "physical" pages that are host memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/heap.h"
#include "core/layout.h"
#include "core/palloc.h"
#include <stdlib.h>
#include <string.h>

#define POOL_PAGES 64

struct fixture {
    void *pool;
    uint64_t bitmap[POOL_PAGES / 64];
    struct palloc pa;
    struct heap h;
    size_t page_frees;
};

/* The palloc base is the pool's host address, so a "physical" page address
 * is directly a usable pointer, as in the hypervisor's identity map. */
static void *page_alloc(void *ctx, size_t npages)
{
    struct fixture *f = ctx;
    uint64_t pa = palloc_alloc(&f->pa, npages, 0);
    return pa == PALLOC_FAIL ? NULL : (void *)(uintptr_t)pa;
}

static void page_free(void *ctx, void *va, size_t npages)
{
    struct fixture *f = ctx;
    assert_int_equal(palloc_free(&f->pa, (uintptr_t)va, npages), 0);
    f->page_frees += npages;
}

static int setup_pages(void **state, size_t npages)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->pool = aligned_alloc(PAGE_SIZE, POOL_PAGES * PAGE_SIZE);
    if (!f->pool)
        return -1;
    palloc_init(&f->pa, (uintptr_t)f->pool, npages, f->bitmap);
    heap_init(&f->h, page_alloc, page_free, f);
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_pages(state, POOL_PAGES); }
static int setup_small(void **state) { return setup_pages(state, 4); }

static int teardown(void **state)
{
    struct fixture *f = *state;
    free(f->pool);
    free(f);
    return 0;
}

static void expect_idle(const struct heap *h)
{
    assert_int_equal(h->bytes_in_use, 0);
    assert_int_equal(h->live, 0);
    assert_false(spin_is_locked(&h->lock));
}

static void test_size_zero_is_null(void **state)
{
    struct fixture *f = *state;
    assert_null(heap_alloc(&f->h, 0));
    assert_null(heap_zalloc(&f->h, 0));
    assert_null(heap_alloc(&f->h, SIZE_MAX));
    expect_idle(&f->h);
    assert_int_equal(f->h.pages, 0);
    assert_int_equal(f->pa.nfree, POOL_PAGES);
}

static void test_many_sizes_aligned_disjoint(void **state)
{
    struct fixture *f = *state;
    static const size_t sizes[] = { 1, 8, 15, 16, 17, 31, 32, 48, 63, 64, 100, 200, 496,
                                    497, 1000, 1008, 1009, 2000, 2032, 2033, 4080, 4081, 9000 };
    enum { N = sizeof(sizes) / sizeof(sizes[0]) };
    unsigned char *p[N];
    size_t total = 0;
    for (size_t i = 0; i < N; i++) {
        p[i] = heap_alloc(&f->h, sizes[i]);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % 16, 0);
        assert_true(p[i] >= (unsigned char *)f->pool);
        assert_true(p[i] + sizes[i] <= (unsigned char *)f->pool + POOL_PAGES * PAGE_SIZE);
        memset(p[i], (int)i + 1, sizes[i]);
        total += sizes[i];
        assert_int_equal(f->h.bytes_in_use, total);
        assert_int_equal(f->h.live, i + 1);
    }
    /* Every block still holds its own pattern: no two overlap, headers intact. */
    for (size_t i = 0; i < N; i++)
        for (size_t k = 0; k < sizes[i]; k++)
            if (p[i][k] != (unsigned char)(i + 1))
                fail_msg("block %zu (size %zu) overwritten at byte %zu", i, sizes[i], k);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(heap_free(&f->h, p[i]), 0);
    expect_idle(&f->h);
    assert_int_equal(f->h.bad_frees, 0);
}

static void test_class_sizes_fill_pages(void **state)
{
    struct fixture *f = *state;
    /* 16 bytes + 16-byte header = 32-byte class: 128 blocks per page. */
    for (int i = 0; i < 128; i++)
        assert_non_null(heap_alloc(&f->h, 16));
    assert_int_equal(f->h.pages, 1);
    assert_non_null(heap_alloc(&f->h, 16));
    assert_int_equal(f->h.pages, 2);
    /* 2032 bytes is the largest small size: two 2048-byte blocks per page. */
    assert_non_null(heap_alloc(&f->h, 2032));
    assert_non_null(heap_alloc(&f->h, 2032));
    assert_int_equal(f->h.pages, 3);
    assert_non_null(heap_alloc(&f->h, 2032));
    assert_int_equal(f->h.pages, 4);
    /* 17 bytes no longer fits in 32: a new class, a new page. */
    assert_non_null(heap_alloc(&f->h, 17));
    assert_int_equal(f->h.pages, 5);
    assert_int_equal(f->pa.nfree, POOL_PAGES - 5);
}

static void test_reuse_after_free(void **state)
{
    struct fixture *f = *state;
    void *a = heap_alloc(&f->h, 100);
    void *b = heap_alloc(&f->h, 100);
    assert_ptr_not_equal(a, b);
    assert_int_equal(heap_free(&f->h, a), 0);
    assert_ptr_equal(heap_alloc(&f->h, 112), a);    /* same 128-byte class */
    assert_int_equal(heap_free(&f->h, b), 0);
    void *c = heap_alloc(&f->h, 20);                /* other class: not b */
    assert_ptr_not_equal(c, b);
    assert_ptr_equal(heap_alloc(&f->h, 100), b);
    assert_int_equal(f->h.pages, 2);
    assert_int_equal(f->h.live, 3);
    assert_int_equal(f->h.bytes_in_use, 112 + 20 + 100);
}

static void test_second_round_takes_no_new_pages(void **state)
{
    struct fixture *f = *state;
    void *p[100];
    size_t pages_after_first = 0;
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 100; i++)
            assert_non_null(p[i] = heap_alloc(&f->h, (size_t)(i % 50) * 40 + 1));
        if (round == 0)
            pages_after_first = f->h.pages;
        for (int i = 99; i >= 0; i--)
            assert_int_equal(heap_free(&f->h, p[i]), 0);
        expect_idle(&f->h);
    }
    assert_int_equal(f->h.pages, pages_after_first);
    assert_int_equal(f->pa.nfree, POOL_PAGES - pages_after_first);
}

static void test_large_allocations_return_pages(void **state)
{
    struct fixture *f = *state;
    unsigned char *a = heap_alloc(&f->h, 2033);     /* 2049 with the header: 1 page */
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % PAGE_SIZE, 16);
    assert_int_equal(f->h.pages, 1);
    unsigned char *b = heap_alloc(&f->h, 4081);     /* 4097: 2 pages */
    assert_non_null(b);
    assert_int_equal(f->h.pages, 3);
    unsigned char *c = heap_alloc(&f->h, 5 * PAGE_SIZE);
    assert_non_null(c);
    assert_int_equal(f->h.pages, 9);
    assert_int_equal(f->pa.nfree, POOL_PAGES - 9);
    memset(c, 0x5A, 5 * PAGE_SIZE);
    assert_int_equal(f->h.bytes_in_use, 2033 + 4081 + 5 * PAGE_SIZE);

    assert_int_equal(heap_free(&f->h, b), 0);
    assert_int_equal(f->page_frees, 2);
    assert_int_equal(heap_free(&f->h, c), 0);
    assert_int_equal(heap_free(&f->h, a), 0);
    assert_int_equal(f->page_frees, 9);
    assert_int_equal(f->h.pages, 0);
    assert_int_equal(f->pa.nfree, POOL_PAGES);
    expect_idle(&f->h);
}

static void test_zalloc_clears_recycled_block(void **state)
{
    struct fixture *f = *state;
    unsigned char *p = heap_alloc(&f->h, 64);
    memset(p, 0xFF, 64);
    assert_int_equal(heap_free(&f->h, p), 0);
    unsigned char *q = heap_zalloc(&f->h, 64);
    assert_ptr_equal(q, p);
    for (int i = 0; i < 64; i++)
        assert_int_equal(q[i], 0);
}

static void test_bad_frees(void **state)
{
    struct fixture *f = *state;
    unsigned char *small = heap_alloc(&f->h, 40);
    unsigned char *large = heap_alloc(&f->h, 3000);
    unsigned char *keep = heap_alloc(&f->h, 24);
    memset(keep, 0, 24);    /* so keep + 16 has no stale header-like bytes */
    assert_int_equal(heap_free(&f->h, small), 0);
    assert_int_equal(heap_free(&f->h, large), 0);
    size_t pages = f->h.pages, nfree = f->pa.nfree;

    assert_int_equal(heap_free(&f->h, small), -1);          /* double free, small */
    assert_int_equal(heap_free(&f->h, large), -1);          /* double free, large */
    _Alignas(16) unsigned char foreign[64] = { 0 };
    assert_int_equal(heap_free(&f->h, foreign + 16), -1);  /* never from the heap */
    assert_int_equal(heap_free(&f->h, keep + 1), -1);      /* inside a live block */
    assert_int_equal(heap_free(&f->h, keep + 16), -1);
    assert_int_equal(f->h.bad_frees, 5);
    assert_int_equal(heap_free(&f->h, NULL), 0);            /* free(NULL) is fine */
    assert_int_equal(f->h.bad_frees, 5);

    /* Nothing else moved: the live block is intact and still frees once. */
    assert_int_equal(f->h.live, 1);
    assert_int_equal(f->h.bytes_in_use, 24);
    assert_int_equal(f->h.pages, pages);
    assert_int_equal(f->pa.nfree, nfree);
    assert_int_equal(f->page_frees, 1);
    assert_int_equal(heap_free(&f->h, keep), 0);
    expect_idle(&f->h);
}

static void test_exhaustion(void **state)
{
    struct fixture *f = *state;     /* 4 pages in all */
    void *big = heap_alloc(&f->h, 3 * PAGE_SIZE - 16);    /* exactly 3 pages */
    assert_non_null(big);
    assert_null(heap_alloc(&f->h, 2 * PAGE_SIZE));
    /* The last page feeds one class; another class then finds nothing. */
    void *blocks[2];
    assert_non_null(blocks[0] = heap_alloc(&f->h, 2000));
    assert_non_null(blocks[1] = heap_alloc(&f->h, 2000));
    assert_null(heap_alloc(&f->h, 2000));
    assert_null(heap_alloc(&f->h, 8));
    assert_int_equal(f->h.pages, 4);
    assert_int_equal(f->h.live, 3);
    assert_int_equal(f->h.bytes_in_use, 3 * PAGE_SIZE - 16 + 4000);
    /* Freeing the large block makes room again. */
    assert_int_equal(heap_free(&f->h, big), 0);
    assert_non_null(heap_alloc(&f->h, 8));
    assert_int_equal(f->h.pages, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_size_zero_is_null, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_sizes_aligned_disjoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_class_sizes_fill_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse_after_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_round_takes_no_new_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_allocations_return_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zalloc_clears_recycled_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_frees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhaustion, setup_small, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
