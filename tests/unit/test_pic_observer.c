#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "shadow/pic_observer.h"

/* Inject whatever is pending, as vsbypass does when L2 can take it. */
static int pic_observer_take(struct pic_observer *p)
{
    int v = pic_observer_pending(p);
    if (v >= 0)
        pic_observer_ack(p);
    return v;
}

/* A BIOS-style initialisation: master at 0x08, slave at 0x70. */
static void bios_init(struct pic_observer *p, uint8_t mask)
{
    pic_observer_init(p);
    pic_observer_write(p, 0x20, 0x11);
    pic_observer_write(p, 0x21, 0x08);
    pic_observer_write(p, 0x21, 0x04);
    pic_observer_write(p, 0x21, 0x01);
    pic_observer_write(p, 0xA0, 0x11);
    pic_observer_write(p, 0xA1, 0x70);
    pic_observer_write(p, 0xA1, 0x02);
    pic_observer_write(p, 0xA1, 0x01);
    pic_observer_write(p, 0x21, mask);
}

static void test_not_before_init(void **state)
{
    (void)state;
    struct pic_observer p;
    pic_observer_init(&p);
    pic_observer_raise(&p, 4);
    assert_int_equal(pic_observer_take(&p), -1);
}

/* Looking does not take: a vector stays pending until it is injected. */
static void test_pending_until_ack(void **state)
{
    (void)state;
    struct pic_observer p;
    bios_init(&p, 0xEF);
    pic_observer_raise(&p, 4);
    assert_int_equal(pic_observer_pending(&p), 0x0C);
    assert_int_equal(pic_observer_pending(&p), 0x0C);
    pic_observer_write(&p, 0x21, 0xFF);            /* masked before it could be taken */
    assert_int_equal(pic_observer_pending(&p), -1);
    pic_observer_write(&p, 0x21, 0xEF);
    pic_observer_ack(&p);
    assert_int_equal(pic_observer_pending(&p), -1);
    assert_true(pic_observer_write(&p, 0x20, 0x20));
}

static void test_vector_mask_and_eoi(void **state)
{
    (void)state;
    struct pic_observer p;
    bios_init(&p, 0xEF);                        /* only IRQ 4 unmasked */
    pic_observer_raise(&p, 1);
    assert_int_equal(pic_observer_take(&p), -1); /* IRQ 1 masked */
    pic_observer_raise(&p, 4);
    assert_int_equal(pic_observer_take(&p), 0x0C);
    assert_int_equal(pic_observer_take(&p), -1); /* nothing more */
    pic_observer_raise(&p, 4);
    assert_int_equal(pic_observer_take(&p), -1); /* IRQ 4 still in service */
    assert_true(pic_observer_write(&p, 0x20, 0x20));   /* non-specific EOI: ours */
    assert_int_equal(pic_observer_take(&p), 0x0C);
    assert_true(pic_observer_write(&p, 0x20, 0x64));   /* specific EOI for line 4 */
    assert_false(pic_observer_write(&p, 0x20, 0x20));  /* nothing of ours in service */
}

static void test_priority_and_rebase(void **state)
{
    (void)state;
    struct pic_observer p;
    bios_init(&p, 0x00);
    pic_observer_raise(&p, 4);
    pic_observer_raise(&p, 1);
    assert_int_equal(pic_observer_take(&p), 0x09);     /* line 1 first */
    assert_int_equal(pic_observer_take(&p), -1);       /* 4 waits behind 1 in service */
    assert_true(pic_observer_write(&p, 0x20, 0x20));
    assert_int_equal(pic_observer_take(&p), 0x0C);
    /* Linux re-bases the master at 0x30 with auto-EOI off. */
    pic_observer_write(&p, 0x20, 0x11);
    pic_observer_write(&p, 0x21, 0x30);
    pic_observer_write(&p, 0x21, 0x04);
    pic_observer_write(&p, 0x21, 0x01);
    pic_observer_raise(&p, 4);
    assert_int_equal(pic_observer_take(&p), 0x34);
    /* Slave commands and OCW3 are never ours. */
    assert_false(pic_observer_write(&p, 0xA0, 0x20));
    assert_false(pic_observer_write(&p, 0x20, 0x0B));
}

static void test_auto_eoi_and_foreign_lines(void **state)
{
    (void)state;
    struct pic_observer p;
    pic_observer_init(&p);
    pic_observer_write(&p, 0x20, 0x11);
    pic_observer_write(&p, 0x21, 0x20);
    pic_observer_write(&p, 0x21, 0x04);
    pic_observer_write(&p, 0x21, 0x03);         /* auto-EOI */
    pic_observer_raise(&p, 4);
    assert_int_equal(pic_observer_take(&p), 0x24);
    pic_observer_raise(&p, 4);
    assert_int_equal(pic_observer_take(&p), 0x24);     /* nothing stays in service */
    pic_observer_raise(&p, 0);                          /* not an owned line */
    pic_observer_raise(&p, 9);
    assert_int_equal(pic_observer_take(&p), -1);
    assert_false(pic_observer_write(&p, 0x20, 0x60));  /* EOI for L1's line 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_before_init),
        cmocka_unit_test(test_pending_until_ack),
        cmocka_unit_test(test_vector_mask_and_eoi),
        cmocka_unit_test(test_priority_and_rebase),
        cmocka_unit_test(test_auto_eoi_and_foreign_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
