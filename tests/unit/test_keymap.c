#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "shadow/keymap.h"

struct expect {
    uint32_t keysym;
    uint8_t code;
    bool extended;
    bool shift;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check(const struct expect *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t code = 0xEE;
        bool ext = !e[i].extended, shift = !e[i].shift;
        if (keymap_keysym_to_set1(e[i].keysym, &code, &ext, &shift) != 0)
            fail_msg("keysym 0x%x has no key", (unsigned)e[i].keysym);
        if (code != e[i].code || ext != e[i].extended || shift != e[i].shift)
            fail_msg("keysym 0x%x: code %02x ext %d shift %d, want %02x %d %d",
                     (unsigned)e[i].keysym, code, ext, shift,
                     e[i].code, e[i].extended, e[i].shift);
        /* Every key the map names can be typed in set 2 too. */
        assert_int_not_equal(keymap_set1_to_set2(code), 0);
    }
}

static void test_letters(void **state)
{
    (void)state;
    static const struct expect e[] = {
        { 'a', 0x1E, false, false }, { 'q', 0x10, false, false },
        { 'm', 0x32, false, false }, { 'z', 0x2C, false, false },
        { 'A', 0x1E, false, true },  { 'Q', 0x10, false, true },
        { 'M', 0x32, false, true },  { 'Z', 0x2C, false, true },
    };
    check(e, N(e));
}

static void test_digits_and_plain_symbols(void **state)
{
    (void)state;
    static const struct expect e[] = {
        { '1', 0x02, false, false }, { '9', 0x0A, false, false },
        { '0', 0x0B, false, false }, { ' ', 0x39, false, false },
        { '-', 0x0C, false, false }, { '=', 0x0D, false, false },
        { '[', 0x1A, false, false }, { ']', 0x1B, false, false },
        { ';', 0x27, false, false }, { '\'', 0x28, false, false },
        { '`', 0x29, false, false }, { '\\', 0x2B, false, false },
        { ',', 0x33, false, false }, { '.', 0x34, false, false },
        { '/', 0x35, false, false },
    };
    check(e, N(e));
}

static void test_shifted_symbols(void **state)
{
    (void)state;
    static const struct expect e[] = {
        { '!', 0x02, false, true }, { '@', 0x03, false, true },
        { '#', 0x04, false, true }, { '$', 0x05, false, true },
        { '%', 0x06, false, true }, { '^', 0x07, false, true },
        { '&', 0x08, false, true }, { '*', 0x09, false, true },
        { '(', 0x0A, false, true }, { ')', 0x0B, false, true },
        { '_', 0x0C, false, true }, { '+', 0x0D, false, true },
        { '{', 0x1A, false, true }, { '}', 0x1B, false, true },
        { ':', 0x27, false, true }, { '"', 0x28, false, true },
        { '~', 0x29, false, true }, { '|', 0x2B, false, true },
        { '<', 0x33, false, true }, { '>', 0x34, false, true },
        { '?', 0x35, false, true },
        { 0xFE20, 0x0F, false, true },      /* ISO_Left_Tab */
    };
    check(e, N(e));
}

static void test_every_printable_ascii(void **state)
{
    (void)state;
    for (uint32_t ch = 0x20; ch <= 0x7E; ch++) {
        uint8_t code = 0;
        bool ext = true, shift;
        assert_int_equal(keymap_keysym_to_set1(ch, &code, &ext, &shift), 0);
        assert_int_not_equal(keymap_set1_to_set2(code), 0);
        assert_false(ext);
    }
}

static void test_function_keys(void **state)
{
    (void)state;
    static const struct expect e[] = {
        { 0xFFBE, 0x3B, false, false }, { 0xFFBF, 0x3C, false, false },
        { 0xFFC0, 0x3D, false, false }, { 0xFFC1, 0x3E, false, false },
        { 0xFFC2, 0x3F, false, false }, { 0xFFC3, 0x40, false, false },
        { 0xFFC4, 0x41, false, false }, { 0xFFC5, 0x42, false, false },
        { 0xFFC6, 0x43, false, false }, { 0xFFC7, 0x44, false, false },
        { 0xFFC8, 0x57, false, false }, { 0xFFC9, 0x58, false, false },
    };
    check(e, N(e));
}

static void test_extended_keys(void **state)
{
    (void)state;
    static const struct expect e[] = {
        { 0xFF50, 0x47, true, false },      /* Home */
        { 0xFF51, 0x4B, true, false },      /* Left */
        { 0xFF52, 0x48, true, false },      /* Up */
        { 0xFF53, 0x4D, true, false },      /* Right */
        { 0xFF54, 0x50, true, false },      /* Down */
        { 0xFF55, 0x49, true, false },      /* Page_Up */
        { 0xFF56, 0x51, true, false },      /* Page_Down */
        { 0xFF57, 0x4F, true, false },      /* End */
        { 0xFF61, 0x37, true, false },      /* Print */
        { 0xFF63, 0x52, true, false },      /* Insert */
        { 0xFFFF, 0x53, true, false },      /* Delete */
        { 0xFF67, 0x5D, true, false },      /* Menu */
        { 0xFF8D, 0x1C, true, false },      /* KP_Enter */
        { 0xFFAF, 0x35, true, false },      /* KP_Divide */
        { 0xFFE4, 0x1D, true, false },      /* Control_R */
        { 0xFFEA, 0x38, true, false },      /* Alt_R */
        { 0xFE03, 0x38, true, false },      /* ISO_Level3_Shift */
        { 0xFFEB, 0x5B, true, false },      /* Super_L */
        { 0xFFEC, 0x5C, true, false },      /* Super_R */
    };
    check(e, N(e));
}

static void test_other_keys(void **state)
{
    (void)state;
    static const struct expect e[] = {
        { 0xFF0D, 0x1C, false, false },     /* Return */
        { 0xFF08, 0x0E, false, false },     /* BackSpace */
        { 0xFF09, 0x0F, false, false },     /* Tab */
        { 0xFF1B, 0x01, false, false },     /* Escape */
        { 0xFFE1, 0x2A, false, false },     /* Shift_L */
        { 0xFFE2, 0x36, false, false },     /* Shift_R */
        { 0xFFE3, 0x1D, false, false },     /* Control_L */
        { 0xFFE9, 0x38, false, false },     /* Alt_L */
        { 0xFFE5, 0x3A, false, false },     /* Caps_Lock */
        { 0xFF7F, 0x45, false, false },     /* Num_Lock */
        { 0xFF14, 0x46, false, false },     /* Scroll_Lock */
        { 0xFF15, 0x54, false, false },     /* Sys_Req */
        { 0xFFB0, 0x52, false, false },     /* KP_0 */
        { 0xFFB1, 0x4F, false, false },     /* KP_1 */
        { 0xFFB5, 0x4C, false, false },     /* KP_5 */
        { 0xFFB9, 0x49, false, false },     /* KP_9 */
        { 0xFFAE, 0x53, false, false },     /* KP_Decimal */
        { 0xFFAB, 0x4E, false, false },     /* KP_Add */
        { 0xFFAD, 0x4A, false, false },     /* KP_Subtract */
        { 0xFFAA, 0x37, false, false },     /* KP_Multiply */
        { 0xFF95, 0x47, false, false },     /* KP_Home */
        { 0xFF98, 0x4D, false, false },     /* KP_Right */
        { 0xFF9F, 0x53, false, false },     /* KP_Delete */
    };
    check(e, N(e));
}

static void test_unknown_keysyms(void **state)
{
    (void)state;
    static const uint32_t unknown[] = {
        0x0000, 0x001F, 0x007F, 0x00E9 /* eacute */, 0xFF13 /* Pause */,
        0xFFCA /* F13 */, 0xFFE7 /* Meta_L */, 0x1000041, 0xFFFFFFFF,
        0x1FF0D /* Return plus a high bit */,
    };
    for (size_t i = 0; i < N(unknown); i++) {
        uint8_t code = 0x77;
        bool ext = true, shift = true;
        assert_int_equal(keymap_keysym_to_set1(unknown[i], &code, &ext, &shift), -1);
        assert_int_equal(code, 0x77);
        assert_true(ext);
        assert_true(shift);
    }
}

static void test_set1_to_set2(void **state)
{
    (void)state;
    assert_int_equal(keymap_set1_to_set2(0x1E), 0x1C);     /* A */
    assert_int_equal(keymap_set1_to_set2(0x01), 0x76);     /* Esc */
    assert_int_equal(keymap_set1_to_set2(0x41), 0x83);     /* F7 */
    assert_int_equal(keymap_set1_to_set2(0x4D), 0x74);     /* KP6 / Right */
    assert_int_equal(keymap_set1_to_set2(0x54), 0x84);     /* SysRq */
    assert_int_equal(keymap_set1_to_set2(0x58), 0x07);     /* F12 */
    assert_int_equal(keymap_set1_to_set2(0x5B), 0x1F);     /* Left Windows */
    assert_int_equal(keymap_set1_to_set2(0x5D), 0x2F);     /* Menu */
    assert_int_equal(keymap_set1_to_set2(0x00), 0);
    assert_int_equal(keymap_set1_to_set2(0x55), 0);
    assert_int_equal(keymap_set1_to_set2(0x59), 0);
    assert_int_equal(keymap_set1_to_set2(0x5E), 0);
    assert_int_equal(keymap_set1_to_set2(0x9E), 0);        /* a break code */
    assert_int_equal(keymap_set1_to_set2(0xFF), 0);
    /* 0x01-0x54, 0x56-0x58 and 0x5B-0x5D. */
    size_t keys = 0;
    for (unsigned s1 = 0; s1 < 256; s1++)
        keys += keymap_set1_to_set2((uint8_t)s1) != 0;
    assert_int_equal(keys, 90);
}

static void test_set2_to_set1(void **state)
{
    (void)state;
    assert_int_equal(keymap_set2_to_set1(0x1C), 0x1E);
    assert_int_equal(keymap_set2_to_set1(0x74), 0x4D);
    assert_int_equal(keymap_set2_to_set1(0x83), 0x41);
    assert_int_equal(keymap_set2_to_set1(0x84), 0x54);
    /* Overrun, and codes no key of a 104-key keyboard sends. */
    assert_int_equal(keymap_set2_to_set1(0x00), 0xFF);
    assert_int_equal(keymap_set2_to_set1(0x02), 0x41);
    assert_int_equal(keymap_set2_to_set1(0x08), 0x64);
    assert_int_equal(keymap_set2_to_set1(0x60), 0x55);
    assert_int_equal(keymap_set2_to_set1(0x6F), 0x6F);
    assert_int_equal(keymap_set2_to_set1(0x7F), 0x54);
    assert_int_equal(keymap_set2_to_set1(0x80), 0x80);
    /* Responses and prefixes pass through. */
    static const uint8_t same[] = { 0x85, 0xAA, 0xAB, 0xE0, 0xE1, 0xEE, 0xF0, 0xFA, 0xFC, 0xFE, 0xFF };
    for (size_t i = 0; i < N(same); i++)
        assert_int_equal(keymap_set2_to_set1(same[i]), same[i]);
}

static void test_tables_are_inverse(void **state)
{
    (void)state;
    for (unsigned s1 = 0; s1 < 256; s1++) {
        uint8_t s2 = keymap_set1_to_set2((uint8_t)s1);
        if (s2 && keymap_set2_to_set1(s2) != s1)
            fail_msg("set1 %02x -> set2 %02x -> set1 %02x", s1, s2, keymap_set2_to_set1(s2));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_letters),
        cmocka_unit_test(test_digits_and_plain_symbols),
        cmocka_unit_test(test_shifted_symbols),
        cmocka_unit_test(test_every_printable_ascii),
        cmocka_unit_test(test_function_keys),
        cmocka_unit_test(test_extended_keys),
        cmocka_unit_test(test_other_keys),
        cmocka_unit_test(test_unknown_keysyms),
        cmocka_unit_test(test_set1_to_set2),
        cmocka_unit_test(test_set2_to_set1),
        cmocka_unit_test(test_tables_are_inverse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
