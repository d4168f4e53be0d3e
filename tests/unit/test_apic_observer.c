/* shadow/apic_observer.c: IOAPIC routing of the owned lines, injection and
 * EOI attribution against L1's vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "shadow/apic_observer.h"

/* Programs redirection entry `pin` the way an OS does: low dword, then high. */
static void route(struct apic_observer *a, unsigned pin, uint32_t low, uint32_t high)
{
    apic_observer_ioapic_write(a, 0x00, 0x10 + 2 * pin + 1);
    apic_observer_ioapic_write(a, 0x10, high);
    apic_observer_ioapic_write(a, 0x00, 0x10 + 2 * pin);
    apic_observer_ioapic_write(a, 0x10, low);
}

static void test_reset_state_routes_nothing(void **state)
{
    (void)state;
    struct apic_observer a;
    apic_observer_init(&a);
    assert_false(apic_observer_routes(&a, 4));
    apic_observer_raise(&a, 4);
    assert_int_equal(apic_observer_pending(&a), -1);
    assert_int_equal(a.irr, 0);     /* an unrouted edge is forgotten */
}

static void test_routed_line_delivers_its_vector(void **state)
{
    (void)state;
    struct apic_observer a;
    apic_observer_init(&a);
    route(&a, 4, 0x34, 0);
    assert_true(apic_observer_routes(&a, 4));
    assert_int_equal(a.redir[4], 0x34);
    apic_observer_raise(&a, 4);
    assert_int_equal(apic_observer_pending(&a), 0x34);
    apic_observer_ack(&a);
    assert_int_equal(apic_observer_pending(&a), -1);
    assert_true(apic_observer_eoi(&a));
    assert_int_equal(a.eois_kept, 1);
    assert_false(apic_observer_eoi(&a));    /* nothing of ours left */
}

static void test_masked_level_or_odd_modes_do_not_route(void **state)
{
    (void)state;
    struct apic_observer a;
    apic_observer_init(&a);
    route(&a, 4, 0x34 | 1u << 16, 0);
    assert_false(apic_observer_routes(&a, 4));
    route(&a, 4, 0x34 | 4u << 8, 0);            /* NMI delivery */
    assert_false(apic_observer_routes(&a, 4));
    route(&a, 4, 0x0F, 0);                      /* vectors below 16 are illegal */
    assert_false(apic_observer_routes(&a, 4));
    route(&a, 4, 0x34 | 1u << 8, 0);            /* lowest priority */
    assert_true(apic_observer_routes(&a, 4));
    route(&a, 3, 0x33, 0);                      /* not an owned line */
    assert_false(apic_observer_routes(&a, 3));
    apic_observer_raise(&a, 3);
    assert_int_equal(a.irr, 0);
}

static void test_ioregsel_bounds(void **state)
{
    (void)state;
    struct apic_observer a;
    apic_observer_init(&a);
    apic_observer_ioapic_write(&a, 0x00, 0x01);     /* version register: read-only */
    apic_observer_ioapic_write(&a, 0x10, 0x12345678);
    apic_observer_ioapic_write(&a, 0x00, 0x10 + 2 * APIC_OBS_PINS);
    apic_observer_ioapic_write(&a, 0x10, 0x34);
    apic_observer_ioapic_write(&a, 0x20, 0x34);     /* EOI register of newer IOAPICs: ignored */
    for (unsigned i = 0; i < APIC_OBS_PINS; i++)
        assert_int_equal(a.redir[i], 1ULL << 16);
    route(&a, 4, 0x34, 0xFF000000u);
    assert_int_equal(a.redir[4], 0xFF00000000000034ULL);
}

static void test_eoi_retires_the_highest_vector(void **state)
{
    (void)state;
    struct apic_observer a;
    apic_observer_init(&a);
    route(&a, 4, 0x34, 0);
    route(&a, 1, 0x31, 0);
    apic_observer_raise(&a, 4);
    apic_observer_raise(&a, 1);
    assert_int_equal(apic_observer_pending(&a), 0x34);  /* higher vector first */
    apic_observer_ack(&a);
    /* 0x31 is in the same priority class as 0x34, in service: it waits. */
    assert_int_equal(apic_observer_pending(&a), -1);
    apic_observer_l1_injected(&a, 0xEC);                /* L1's timer, above ours */
    assert_false(apic_observer_eoi(&a));                /* that EOI is L1's */
    assert_true(apic_observer_eoi(&a));                 /* then ours (0x34) */
    assert_int_equal(apic_observer_pending(&a), 0x31);
    apic_observer_ack(&a);
    apic_observer_l1_injected(&a, 0x20);                /* below ours */
    assert_true(apic_observer_eoi(&a));                 /* 0x31 is the highest */
    assert_false(apic_observer_eoi(&a));                /* 0x20 is L1's */
    assert_int_equal(a.eois_kept, 2);
}

static void test_l1_vectors_do_not_hold_ours_back(void **state)
{
    (void)state;
    struct apic_observer a;
    apic_observer_init(&a);
    route(&a, 1, 0x31, 0);
    apic_observer_l1_injected(&a, 0x3F);        /* L1 vector, same class, never EOId */
    apic_observer_l1_injected(&a, 0x05);        /* an exception vector: not tracked */
    apic_observer_raise(&a, 1);
    assert_int_equal(apic_observer_pending(&a), 0x31);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_state_routes_nothing),
        cmocka_unit_test(test_routed_line_delivers_its_vector),
        cmocka_unit_test(test_masked_level_or_odd_modes_do_not_route),
        cmocka_unit_test(test_ioregsel_bounds),
        cmocka_unit_test(test_eoi_retires_the_highest_vector),
        cmocka_unit_test(test_l1_vectors_do_not_hold_ours_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
