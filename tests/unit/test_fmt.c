/* core/fmt.c against glibc: every case formats with both and must agree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/fmt.h"
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Formats into a buffer of `size` bytes with glibc and with fmt, then checks
 * the text (including truncation) and the return value agree. */
static void check_sized(size_t size, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check_sized(size_t size, const char *fmt, ...)
{
    char want[256], got[256];
    va_list ap, ap2;
    memset(want, 'W', sizeof(want));
    memset(got, 'W', sizeof(got));
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int wn = vsnprintf(size ? want : NULL, size, fmt, ap);
    int gn = fmt_vsnprintf(size ? got : NULL, size, fmt, ap2);
    va_end(ap2);
    va_end(ap);
    if (size)
        assert_string_equal(got, want);
    /* Bytes past the buffer must be untouched. */
    assert_memory_equal(got + size, want + size, sizeof(got) - size);
    if (gn != wn)
        fail_msg("\"%s\": fmt returned %d, glibc %d", fmt, gn, wn);
}

#define CHECK(...) check_sized(256, __VA_ARGS__)

static void test_integers(void **state)
{
    (void)state;
    CHECK("%d", 0);
    CHECK("%d", 42);
    CHECK("%d", -42);
    CHECK("%i", INT_MAX);
    CHECK("%i", INT_MIN);
    CHECK("%u", 0u);
    CHECK("%u", UINT_MAX);
    CHECK("%x", 0xdeadbeefu);
    CHECK("%X", 0xdeadbeefu);
    CHECK("%o", 0755u);
    CHECK("%lld", (long long)INT64_MIN);
    CHECK("%lld", (long long)INT64_MAX);
    CHECK("%llu", (unsigned long long)UINT64_MAX);
    CHECK("%llx", (unsigned long long)INT64_MIN);
    CHECK("%llo", (unsigned long long)UINT64_MAX);
    CHECK("%ld", LONG_MIN);
    CHECK("%lx", ULONG_MAX);
    CHECK("%zu", (size_t)123456789);
    CHECK("%zd", (ptrdiff_t)-5);
    CHECK("%jd", (intmax_t)-77);
    CHECK("%td", (ptrdiff_t)-1000);
}

static void test_length_modifiers_narrow(void **state)
{
    (void)state;
    CHECK("%hhd", 300);
    CHECK("%hhd", 200);
    CHECK("%hhu", 261);
    CHECK("%hhx", 0x1ff);
    CHECK("%hd", 40000);
    CHECK("%hu", 70000);
    CHECK("%hx", 0x12345);
}

static void test_flags_width_precision(void **state)
{
    (void)state;
    CHECK("[%5d]", 42);
    CHECK("[%-5d]", 42);
    CHECK("[%05d]", 42);
    CHECK("[%05d]", -42);
    CHECK("[%+d]", 42);
    CHECK("[%+d]", 0);
    CHECK("[% d]", 42);
    CHECK("[% d]", -42);
    CHECK("[% 05d]", 42);
    CHECK("[%+5d]", -3);
    CHECK("[%-+5d]", 3);
    CHECK("[%.5d]", -42);
    CHECK("[%8.5d]", -42);
    CHECK("[%-8.5d]", 42);
    CHECK("[%.0d]", 0);
    CHECK("[%5.0d]", 0);
    CHECK("[%.0u]", 0u);
    CHECK("[%.0x]", 0u);
}

/* Flags C defines as ignored in these combinations; gcc warns about them in
 * literal formats, so they come from a table. */
static void test_ignored_flag_combinations(void **state)
{
    (void)state;
    static const struct { const char *fmt; int v; } cases[] = {
        { "[%-05d]", 42 },
        { "[%+ d]", 7 },
        { "[%08.3d]", 42 },
        { "[%0-6i]", -9 },
        { "[%+u]", 5 },
        { "[% x]", 5 },
        { "[%+o]", 8 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_sized(256, cases[i].fmt, cases[i].v);
}

static void test_alternate_forms(void **state)
{
    (void)state;
    CHECK("[%#x]", 0x1fu);
    CHECK("[%#X]", 0x1fu);
    CHECK("[%#x]", 0u);
    CHECK("[%#08x]", 0x1fu);
    CHECK("[%#-8x]", 0x1fu);
    CHECK("[%#10.4x]", 0xabu);
    CHECK("[%#o]", 8u);
    CHECK("[%#o]", 0u);
    CHECK("[%#.0o]", 0u);
    CHECK("[%#.3o]", 8u);
    CHECK("[%#5.0x]", 0u);
    CHECK("[%#llx]", 0xfffffffffULL);
}

static void test_star_width_precision(void **state)
{
    (void)state;
    CHECK("[%*d]", 6, 42);
    CHECK("[%*d]", -6, 42);
    CHECK("[%.*d]", 4, 7);
    CHECK("[%.*d]", -1, 7);
    CHECK("[%.*d]", -2, 0);     /* negative precision: as if none was given */
    CHECK("[%.*s]", -1, "abc");
    CHECK("[%*.*d]", 8, 3, -7);
    CHECK("[%-*s]", 6, "ab");
    CHECK("[%.*s]", 2, "abcdef");
}

static void test_strings_chars_pointers(void **state)
{
    (void)state;
    /* volatile: keeps gcc from rejecting a literal NULL argument to %s. */
    const char *volatile null_str = NULL;
    void *null_ptr = NULL;
    CHECK("%s", "hello");
    CHECK("[%10s]", "hi");
    CHECK("[%-10s]", "hi");
    CHECK("[%.3s]", "abcdef");
    CHECK("[%10.2s]", "abcdef");
    CHECK("[%.0s]", "abc");
    CHECK("[%s]", "");
    CHECK("[%s]", null_str);
    CHECK("[%c]", 'x');
    CHECK("[%3c]", 'y');
    CHECK("[%-3c]", 'z');
    CHECK("[%p]", (void *)0x1234);
    CHECK("[%p]", (void *)UINTPTR_MAX);
    CHECK("[%20p]", (void *)0xabc);
    CHECK("[%-20p]", (void *)0xabc);
    CHECK("[%p]", null_ptr);
    CHECK("[%10p]", null_ptr);
    CHECK("100%%");
    CHECK("a%%b%dc%%", 1);
    CHECK("%s=%d (%x) %c", "key", -1, 255u, '!');
}

static void test_truncation(void **state)
{
    (void)state;
    check_sized(0, "%d", 12345);
    check_sized(1, "%d", 12345);
    check_sized(2, "%d", 12345);
    check_sized(5, "%d", 12345);
    check_sized(6, "%d", 12345);
    check_sized(4, "%s and more", "text");
    check_sized(3, "[%8x]", 0xbeefu);
    check_sized(7, "%lld", (long long)INT64_MIN);

    /* The concrete figures, in case glibc and fmt ever agree on something wrong. */
    char buf[4] = "zzz";
    assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%d", 123456), 6);
    assert_string_equal(buf, "123");
    assert_int_equal(fmt_snprintf(NULL, 0, "%s", "abcdef"), 6);
}

struct count_ctx {
    char text[64];
    size_t n;
};

static void count_sink(void *ctx, char c)
{
    struct count_ctx *cc = ctx;
    if (cc->n + 1 < sizeof(cc->text))
        cc->text[cc->n] = c;
    cc->n++;
}

static int vformat(struct count_ctx *cc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vformat(count_sink, cc, fmt, ap);
    va_end(ap);
    return n;
}

/* Behaviour glibc cannot be asked about (the compiler rejects such formats):
 * an unknown conversion is shown literally, a trailing '%' prints nothing. */
static void test_vformat_sink_and_odd_formats(void **state)
{
    (void)state;
    struct count_ctx cc = { .n = 0 };
    const char *unknown = "a%qb%d";
    assert_int_equal(vformat(&cc, unknown, 5), 5);
    assert_int_equal(cc.n, 5);
    assert_string_equal(cc.text, "a%qb5");

    memset(&cc, 0, sizeof(cc));
    const char *trailing = "x=%d%";
    assert_int_equal(vformat(&cc, trailing, 9), 3);
    assert_string_equal(cc.text, "x=9");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_length_modifiers_narrow),
        cmocka_unit_test(test_flags_width_precision),
        cmocka_unit_test(test_ignored_flag_combinations),
        cmocka_unit_test(test_alternate_forms),
        cmocka_unit_test(test_star_width_precision),
        cmocka_unit_test(test_strings_chars_pointers),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_vformat_sink_and_odd_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
