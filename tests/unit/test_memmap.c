/* core/memmap.c: normalisation of firmware maps and region carving. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/memmap.h"
#include <string.h>

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

static void expect_entry(const struct memmap *m, unsigned i, uint64_t base, uint64_t len, uint32_t type)
{
    assert_true(i < m->n);
    assert_int_equal(m->e[i].base, base);
    assert_int_equal(m->e[i].len, len);
    assert_int_equal(m->e[i].type, type);
}

static void test_add_drops_zero_and_clips_overflow(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    assert_true(memmap_add(&m, 0x1000, 0, MEM_USABLE));
    assert_int_equal(m.n, 0);
    assert_true(memmap_add(&m, 0xFFFFFFFFFFFF0000ULL, 0x20000, MEM_RESERVED));
    expect_entry(&m, 0, 0xFFFFFFFFFFFF0000ULL, UINT64_MAX - 0xFFFFFFFFFFFF0000ULL, MEM_RESERVED);
    memmap_normalize(&m);
    expect_entry(&m, 0, 0xFFFFFFFFFFFF0000ULL, 0xFFFF, MEM_RESERVED);
}

static void test_normalize_sorts(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    memmap_add(&m, 0x100000, 0x7F00000, MEM_USABLE);
    memmap_add(&m, 0xF0000, 0x10000, MEM_RESERVED);
    memmap_add(&m, 0, 0x9F000, MEM_USABLE);
    memmap_normalize(&m);
    assert_int_equal(m.n, 3);
    expect_entry(&m, 0, 0, 0x9F000, MEM_USABLE);
    expect_entry(&m, 1, 0xF0000, 0x10000, MEM_RESERVED);
    expect_entry(&m, 2, 0x100000, 0x7F00000, MEM_USABLE);
    assert_false(m.truncated);
}

static void test_normalize_reserved_wins_over_usable(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    memmap_add(&m, 0, 0x10000, MEM_USABLE);
    memmap_add(&m, 0x4000, 0x2000, MEM_RESERVED);
    memmap_normalize(&m);
    assert_int_equal(m.n, 3);
    expect_entry(&m, 0, 0, 0x4000, MEM_USABLE);
    expect_entry(&m, 1, 0x4000, 0x2000, MEM_RESERVED);
    expect_entry(&m, 2, 0x6000, 0xA000, MEM_USABLE);
}

static void test_normalize_acpi_over_usable_bad_over_all(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    /* Order of the input must not matter: restrictive entries come first here. */
    memmap_add(&m, 0x3000, 0x1000, MEM_BAD);
    memmap_add(&m, 0x1000, 0x4000, MEM_ACPI);
    memmap_add(&m, 0x2000, 0x4000, MEM_NVS);
    memmap_add(&m, 0x2800, 0x100, MEM_RESERVED);
    memmap_add(&m, 0, 0x8000, MEM_USABLE);
    memmap_normalize(&m);
    assert_int_equal(m.n, 6);
    expect_entry(&m, 0, 0, 0x1000, MEM_USABLE);
    expect_entry(&m, 1, 0x1000, 0x1000, MEM_ACPI);
    expect_entry(&m, 2, 0x2000, 0x1000, MEM_NVS);     /* NVS beats the reserved inside it */
    expect_entry(&m, 3, 0x3000, 0x1000, MEM_BAD);
    expect_entry(&m, 4, 0x4000, 0x2000, MEM_NVS);
    expect_entry(&m, 5, 0x6000, 0x2000, MEM_USABLE);
}

static void test_normalize_unknown_type_ranks_as_reserved(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    memmap_add(&m, 0, 0x2000, 12);
    memmap_add(&m, 0x1000, 0x2000, MEM_ACPI);
    memmap_normalize(&m);
    assert_int_equal(m.n, 2);
    expect_entry(&m, 0, 0, 0x2000, 12);
    expect_entry(&m, 1, 0x2000, 0x1000, MEM_ACPI);
    assert_string_equal(memmap_type_name(12), "unknown");
    assert_string_equal(memmap_type_name(MEM_NVS), "ACPI NVS");
}

static void test_normalize_merges_touching_and_duplicates(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    memmap_add(&m, 0x2000, 0x1000, MEM_USABLE);
    memmap_add(&m, 0, 0x1000, MEM_USABLE);
    memmap_add(&m, 0x1000, 0x1000, MEM_USABLE);
    memmap_add(&m, 0x1000, 0x1800, MEM_USABLE);
    /* A gap, then touching entries of a different type stay separate. */
    memmap_add(&m, 0x4000, 0x1000, MEM_USABLE);
    memmap_add(&m, 0x5000, 0x1000, MEM_RESERVED);
    memmap_normalize(&m);
    assert_int_equal(m.n, 3);
    expect_entry(&m, 0, 0, 0x3000, MEM_USABLE);
    expect_entry(&m, 1, 0x4000, 0x1000, MEM_USABLE);
    expect_entry(&m, 2, 0x5000, 0x1000, MEM_RESERVED);
    assert_int_equal(memmap_total(&m, MEM_USABLE), 0x4000);
    assert_int_equal(memmap_total(&m, MEM_RESERVED), 0x1000);
    assert_int_equal(memmap_total(&m, MEM_BAD), 0);
}

static void test_truncation_at_max(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    for (unsigned i = 0; i < MEMMAP_MAX; i++)
        assert_true(memmap_add(&m, (uint64_t)i * 0x2000, 0x1000, MEM_USABLE));
    assert_false(m.truncated);
    assert_false(memmap_add(&m, 0x10000000, 0x1000, MEM_USABLE));
    assert_true(m.truncated);
    assert_int_equal(m.n, MEMMAP_MAX);
    /* The flag survives normalisation. */
    memmap_normalize(&m);
    assert_true(m.truncated);
    assert_int_equal(m.n, MEMMAP_MAX);
}

/* A typical PC: low memory, a BIOS hole, RAM to 3 GiB, PCI hole, RAM above 4 GiB. */
static void pc_map(struct memmap *m)
{
    memset(m, 0, sizeof(*m));
    memmap_add(m, 0, 0x9FC00, MEM_USABLE);
    memmap_add(m, 0x9FC00, 0x400, MEM_RESERVED);
    memmap_add(m, 0xF0000, 0x10000, MEM_RESERVED);
    memmap_add(m, 0x100000, 3 * GIB - 0x100000 - 0x20000, MEM_USABLE);
    memmap_add(m, 3 * GIB - 0x20000, 0x20000, MEM_ACPI);
    memmap_add(m, 0xFEC00000, 0x1000, MEM_RESERVED);
    memmap_add(m, 4 * GIB, 4 * GIB, MEM_USABLE);
    memmap_normalize(m);
}

static void test_carve_highest_below_4g(void **state)
{
    (void)state;
    struct memmap m;
    pc_map(&m);
    uint64_t base = 0;
    assert_true(memmap_carve(&m, 128 * MIB, 2 * MIB, 4 * GIB, NULL, 0, &base));
    /* Usable RAM below 4 GiB ends at 3 GiB - 128 KiB; 2 MiB alignment rounds down. */
    assert_int_equal(base, 3 * GIB - 2 * MIB - 128 * MIB);
    /* Without alignment pressure it sits right under the ACPI tables. */
    assert_true(memmap_carve(&m, 128 * MIB, 4 * KIB, 4 * GIB, NULL, 0, &base));
    assert_int_equal(base, 3 * GIB - 0x20000 - 128 * MIB);
    /* A lower limit cuts the entry. */
    assert_true(memmap_carve(&m, 16 * MIB, 2 * MIB, 1 * GIB + 1, NULL, 0, &base));
    assert_int_equal(base, 1 * GIB - 16 * MIB);
    /* Above 4 GiB is chosen only when the limit allows it. */
    assert_true(memmap_carve(&m, 16 * MIB, 2 * MIB, UINT64_MAX, NULL, 0, &base));
    assert_int_equal(base, 8 * GIB - 16 * MIB);
}

static void test_carve_alignment(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    memmap_add(&m, 0x123000, 0x5000000, MEM_USABLE);    /* ends at 0x5123000 */
    memmap_normalize(&m);
    uint64_t base = 0;
    assert_true(memmap_carve(&m, 0x1000000, 0x1000000, 4 * GIB, NULL, 0, &base));
    assert_int_equal(base, 0x4000000);
    assert_int_equal(base % 0x1000000, 0);
    /* Non-power-of-two alignment, zero alignment and zero size are refused. */
    assert_false(memmap_carve(&m, 0x1000, 3 * 0x1000, 4 * GIB, NULL, 0, &base));
    assert_false(memmap_carve(&m, 0x1000, 0, 4 * GIB, NULL, 0, &base));
    assert_false(memmap_carve(&m, 0, 0x1000, 4 * GIB, NULL, 0, &base));
    /* The aligned start must not fall below the entry. */
    assert_false(memmap_carve(&m, 0x4000000, 0x4000000, 4 * GIB, NULL, 0, &base));
}

static void test_carve_busy_at_top_forces_lower_block(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    memmap_add(&m, 0x100000, 0x7F00000, MEM_USABLE);    /* 1 MiB .. 128 MiB */
    memmap_normalize(&m);
    const struct mem_range busy[] = {
        { 0x7F00000, 0x10 },            /* boot info near the top */
        { 0x7000000, 0x400000 },        /* a module */
    };
    uint64_t base = 0;
    assert_true(memmap_carve(&m, 16 * MIB, 2 * MIB, 4 * GIB, busy, 2, &base));
    /* Top candidate 0x7000000 hits both; below the module: 0x6000000. */
    assert_int_equal(base, 0x6000000);
    /* A smaller block fits between the module and the boot info. */
    assert_true(memmap_carve(&m, 8 * MIB, 2 * MIB, 4 * GIB, busy, 2, &base));
    assert_int_equal(base, 0x7600000);
    /* Zero-length busy ranges are ignored. */
    const struct mem_range empty = { 0x7E00000, 0 };
    assert_true(memmap_carve(&m, 2 * MIB, 2 * MIB, 4 * GIB, &empty, 1, &base));
    assert_int_equal(base, 0x7E00000);
}

static void test_carve_busy_splits_entry_moves_to_lower_entry(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    memmap_add(&m, 0x100000, 0x1F00000, MEM_USABLE);    /* 1 MiB .. 32 MiB */
    memmap_add(&m, 0x2000000, 0x100000, MEM_RESERVED);
    memmap_add(&m, 0x2100000, 0x1F00000, MEM_USABLE);   /* 33 MiB .. 64 MiB */
    memmap_normalize(&m);
    assert_int_equal(m.n, 3);
    /* A busy range in the middle of the upper entry leaves 15 MiB either side. */
    const struct mem_range busy = { 0x3000000, 0x100000 };
    uint64_t base = 0;
    assert_true(memmap_carve(&m, 15 * MIB, MIB, 4 * GIB, &busy, 1, &base));
    assert_int_equal(base, 0x3100000);
    assert_true(memmap_carve(&m, 16 * MIB, MIB, 4 * GIB, &busy, 1, &base));
    assert_int_equal(base, 0x1000000);  /* neither half fits: the lower entry */
    assert_false(memmap_carve(&m, 32 * MIB, MIB, 4 * GIB, &busy, 1, &base));
}

static void test_carve_nothing_fits(void **state)
{
    (void)state;
    struct memmap m = { .n = 0 };
    memmap_add(&m, 0, 0x9F000, MEM_USABLE);
    memmap_add(&m, 0x100000, 0x300000, MEM_USABLE);
    memmap_add(&m, 0x400000, 64 * MIB, MEM_RESERVED);
    memmap_normalize(&m);
    uint64_t base = 0xdead;
    assert_false(memmap_carve(&m, 4 * MIB, 2 * MIB, 4 * GIB, NULL, 0, &base));
    assert_int_equal(base, 0xdead);
    assert_false(memmap_carve(&m, 64 * MIB, 0x1000, 4 * GIB, NULL, 0, &base));
    assert_int_equal(memmap_largest_block(&m, 2 * MIB, 4 * GIB), 2 * MIB);
    assert_int_equal(memmap_largest_block(&m, 0x1000, 4 * GIB), 0x300000);

    struct memmap empty = { .n = 0 };
    assert_false(memmap_carve(&empty, 0x1000, 0x1000, 4 * GIB, NULL, 0, &base));
    assert_int_equal(memmap_largest_block(&empty, 0x1000, 4 * GIB), 0);
}

static void test_largest_block_respects_limit(void **state)
{
    (void)state;
    struct memmap m;
    pc_map(&m);
    assert_int_equal(memmap_largest_block(&m, 2 * MIB, 4 * GIB), 3 * GIB - 4 * MIB);
    assert_int_equal(memmap_largest_block(&m, 2 * MIB, 1 * GIB), 1 * GIB - 2 * MIB);
    assert_int_equal(memmap_largest_block(&m, 2 * MIB, UINT64_MAX), 4 * GIB);
}

static void test_usable_from(void **state)
{
    (void)state;
    struct memmap m;
    pc_map(&m);
    assert_int_equal(memmap_usable_from(&m, 0x100000), 3 * GIB - 0x20000 - 0x100000);
    assert_int_equal(memmap_usable_from(&m, 0x9F000), 0xC00);
    assert_int_equal(memmap_usable_from(&m, 0x9FC00), 0);      /* reserved */
    assert_int_equal(memmap_usable_from(&m, 3 * GIB), 0);      /* ACPI data ends here */
    assert_int_equal(memmap_usable_from(&m, 6 * GIB), 2 * GIB);
    assert_int_equal(memmap_usable_from(&m, 9 * GIB), 0);      /* past the end */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_drops_zero_and_clips_overflow),
        cmocka_unit_test(test_normalize_sorts),
        cmocka_unit_test(test_normalize_reserved_wins_over_usable),
        cmocka_unit_test(test_normalize_acpi_over_usable_bad_over_all),
        cmocka_unit_test(test_normalize_unknown_type_ranks_as_reserved),
        cmocka_unit_test(test_normalize_merges_touching_and_duplicates),
        cmocka_unit_test(test_truncation_at_max),
        cmocka_unit_test(test_carve_highest_below_4g),
        cmocka_unit_test(test_carve_alignment),
        cmocka_unit_test(test_carve_busy_at_top_forces_lower_block),
        cmocka_unit_test(test_carve_busy_splits_entry_moves_to_lower_entry),
        cmocka_unit_test(test_carve_nothing_fits),
        cmocka_unit_test(test_largest_block_respects_limit),
        cmocka_unit_test(test_usable_from),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
