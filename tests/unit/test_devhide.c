/* core/devhide.c: the hidden-device table, BAR ranges and MMCONFIG pages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/devhide.h"
#include <stdio.h>

static int logged;
void kprintf(const char *fmt, ...)
{
    (void)fmt;
    logged++;
}

static void test_ranges_and_ecam(void **state)
{
    (void)state;
    const struct devhide_range r[] = {
        { 0xFEBC0000, 0x20000, false },         /* BAR0: registers */
        { 0xC000, 0x40, true },                 /* BAR1: I/O ports */
    };
    uint32_t bdf = 0 << 8 | 2 << 3 | 0;         /* 00:02.0 */
    assert_true(devhide_add(bdf, r, 2));
    assert_true(devhide_bdf(bdf));
    assert_false(devhide_bdf(3 << 3));
    assert_true(devhide_overlaps(0xFEBD0000, 4, false));
    assert_false(devhide_overlaps(0xFEBD0000, 4, true));
    assert_true(devhide_overlaps(0xC03F, 1, true));
    assert_false(devhide_overlaps(0xC040, 1, true));
    /* No ECAM page yet: configuration space is only behind 0xCF8/0xCFC. */
    assert_null(devhide_ecam_at(0xE0010000));
    assert_false(devhide_overlaps(0xE0010000, 4096, false));
    devhide_set_ecam(bdf, 0xE0010000);
    assert_ptr_equal(devhide_ecam_at(0xE0010FFC), devhide_get(0));
    assert_null(devhide_ecam_at(0xE0011000));          /* the next function's page */
    assert_null(devhide_ecam_at(0xE000F000));
    assert_true(devhide_overlaps(0xE0000000, 0x100000, false));  /* hole in EPT01 */
    assert_false(devhide_overlaps(0xE0010000, 4096, true));
    devhide_set_ecam(0x1234, 0xF0000000);               /* not hidden: ignored */
    assert_null(devhide_ecam_at(0xF0000000));
}

static void test_table_full(void **state)
{
    (void)state;
    int before = logged;
    unsigned n = devhide_count();
    for (unsigned i = n; i < DEVHIDE_MAX; i++)
        assert_true(devhide_add(0x100 + i, NULL, 0));
    assert_false(devhide_add(0x200, NULL, 0));
    assert_int_equal(logged, before + 1);               /* refused with a log line */
    assert_int_equal(devhide_count(), DEVHIDE_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_and_ecam),
        cmocka_unit_test(test_table_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
