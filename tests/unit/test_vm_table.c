#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "shadow/vm_table.h"

#define LAUNCH false
#define RESUME true

static struct vm_table t;

static int setup(void **state)
{
    (void)state;
    memset(&t, 0, sizeof(t));
    return 0;
}

static enum vm_table_how how;
static uint64_t old_key;

static int enter(uint64_t vmcs12, uint64_t key, bool resume, uint64_t now)
{
    return vm_table_enter(&t, vmcs12, key, resume, now, &how, &old_key);
}

/* What a reap at `now` released, as a bit mask of slot numbers. */
static unsigned reap(uint64_t now)
{
    unsigned out[SHADOW_MAX_VMS], mask = 0;
    unsigned n = vm_table_reap(&t, now, out);
    for (unsigned i = 0; i < n; i++)
        mask |= 1u << out[i];
    return mask;
}

static void test_created_in_order(void **state)
{
    (void)state;
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    assert_int_equal(how, VM_TABLE_CREATED);
    assert_int_equal(enter(0x2000, 0xB000, LAUNCH, 0), 1);
    assert_int_equal(how, VM_TABLE_CREATED);
    assert_int_equal(enter(0x3000, 0xC000, LAUNCH, 0), 2);
    assert_int_equal(vm_table_lookup(&t, 0xB000), 1);
    assert_int_equal(vm_table_lookup(&t, 0xD000), -1);
}

static void test_join_by_key(void **state)
{
    (void)state;
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    /* A second vCPU of the same VM, and the first one continuing. */
    assert_int_equal(enter(0x2000, 0xA000, LAUNCH, 5), 0);
    assert_int_equal(how, VM_TABLE_JOINED);
    assert_int_equal(enter(0x1000, 0xA000, RESUME, 6), 0);
    assert_int_equal(how, VM_TABLE_JOINED);
    assert_int_equal(enter(0x3000, 0xB000, LAUNCH, 7), 1);
}

static void test_lowest_number_reused(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(enter(0x1000 * (i + 1), 0xA000 * (i + 1), LAUNCH, 0), (int)i);
    vm_table_vmclear(&t, 0x2000, 10);
    assert_int_equal(reap(10 + SHADOW_RELEASE_MS), 1u << 1);
    vm_table_release_done(&t, 1);
    assert_int_equal(enter(0x9000, 0xF000, LAUNCH, 3000), 1);
    assert_int_equal(how, VM_TABLE_CREATED);
    assert_int_equal(enter(0xA000, 0xE000, LAUNCH, 3000), 3);
}

static void test_rekey_on_resume(void **state)
{
    (void)state;
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    assert_int_equal(enter(0x2000, 0xA000, LAUNCH, 0), 0);
    assert_int_equal(enter(0x1000, 0xA800, RESUME, 10), 0);
    assert_int_equal(how, VM_TABLE_REKEYED);
    assert_int_equal(old_key, 0xA000);
    assert_int_equal(vm_table_lookup(&t, 0xA800), 0);
    assert_int_equal(vm_table_lookup(&t, 0xA000), -1);
    /* The other vCPU follows by key. */
    assert_int_equal(enter(0x2000, 0xA800, RESUME, 11), 0);
    assert_int_equal(how, VM_TABLE_JOINED);
    assert_int_equal(reap(100000), 0);
}

static void test_no_rekey_on_launch(void **state)
{
    (void)state;
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    /* The VMCS page now runs another VM (freed and reused by L1). */
    vm_table_vmclear(&t, 0x1000, 100);
    assert_int_equal(enter(0x1000, 0xB000, LAUNCH, 200), 1);
    assert_int_equal(how, VM_TABLE_CREATED);
    assert_int_equal(vm_table_lookup(&t, 0xA000), 0);
    /* The old VM has no member left: reaped from its last use on. */
    assert_int_equal(reap(200 + SHADOW_RELEASE_MS - 1), 0);
    assert_int_equal(reap(200 + SHADOW_RELEASE_MS), 1u << 0);
    assert_true(vm_table_live(&t, 1));
}

static void test_launch_leaves_active_slot(void **state)
{
    (void)state;
    /* Without a VMCLEAR seen: the member still leaves its old slot. */
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    assert_int_equal(enter(0x1000, 0xB000, LAUNCH, 50), 1);
    assert_int_equal(reap(50 + SHADOW_RELEASE_MS), 1u << 0);
}

static void test_resume_unknown_member_creates(void **state)
{
    (void)state;
    assert_int_equal(enter(0x1000, 0xA000, RESUME, 0), 0);
    assert_int_equal(how, VM_TABLE_CREATED);
    assert_int_equal(enter(0x2000, 0xB000, RESUME, 0), 1);
    assert_int_equal(how, VM_TABLE_CREATED);
}

static void test_vmclear_grace(void **state)
{
    (void)state;
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    assert_int_equal(enter(0x2000, 0xA000, LAUNCH, 0), 0);
    assert_int_equal(reap(10000), 0);               /* active: never */
    vm_table_vmclear(&t, 0x1000, 10000);
    assert_int_equal(reap(10000 + SHADOW_RELEASE_MS), 0);   /* 0x2000 still active */
    vm_table_vmclear(&t, 0x2000, 11000);
    assert_int_equal(reap(11000 + SHADOW_RELEASE_MS - 1), 0);
    assert_int_equal(reap(11000 + SHADOW_RELEASE_MS), 1u << 0);
    assert_false(vm_table_live(&t, 0));
    assert_int_equal(vm_table_lookup(&t, 0xA000), -1);
    assert_int_equal(reap(20000), 0);               /* reported once */
}

static void test_reentry_cancels(void **state)
{
    (void)state;
    /* vCPU migration: VMCLEAR on one CPU, VMPTRLD + VMLAUNCH on another. */
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    vm_table_vmclear(&t, 0x1000, 100);
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 1500), 0);
    assert_int_equal(how, VM_TABLE_JOINED);
    assert_int_equal(reap(100 + SHADOW_RELEASE_MS), 0);
    vm_table_vmclear(&t, 0x1000, 5000);
    assert_int_equal(reap(5000 + SHADOW_RELEASE_MS - 1), 0);
    assert_int_equal(reap(5000 + SHADOW_RELEASE_MS), 1u << 0);
}

static void test_vmclear_unknown_ignored(void **state)
{
    (void)state;
    vm_table_vmclear(&t, 0x5000, 0);
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    vm_table_vmclear(&t, 0x5000, 10);
    assert_int_equal(reap(100000), 0);
}

static void test_table_full(void **state)
{
    (void)state;
    for (unsigned i = 0; i < SHADOW_MAX_VMS; i++)
        assert_int_equal(enter(0x1000 + i, 0xA000 + i, LAUNCH, 0), (int)i);
    assert_int_equal(enter(0x9000, 0xF000, LAUNCH, 0), -1);
    /* Its member is not kept: resuming it tries to create again. */
    assert_int_equal(enter(0x9000, 0xF000, RESUME, 1), -1);
    /* A running vCPU relaunched for another VM when none is free: it
     * leaves its old slot, which is then reaped. */
    assert_int_equal(enter(0x1000, 0xF000, LAUNCH, 10), -1);
    assert_int_equal(reap(10 + SHADOW_RELEASE_MS), 1u << 0);
    vm_table_release_done(&t, 0);
    assert_int_equal(enter(0x9000, 0xF000, RESUME, 3000), 0);
    assert_int_equal(how, VM_TABLE_CREATED);
}

static void test_members_full(void **state)
{
    (void)state;
    for (unsigned i = 0; i < VM_TABLE_MEMBERS; i++)
        assert_int_equal(enter(0x1000 + i, 0xA000, LAUNCH, 0), 0);
    /* Every member active: no more can be tracked. */
    assert_int_equal(enter(0x9000, 0xA000, LAUNCH, 0), -1);
    assert_int_equal(enter(0x9000, 0xB000, LAUNCH, 0), -1);
    assert_int_equal(vm_table_lookup(&t, 0xB000), -1);
    /* An inactive one makes room. */
    vm_table_vmclear(&t, 0x1005, 10);
    assert_int_equal(enter(0x9000, 0xB000, LAUNCH, 20), 1);
    /* The evicted member enters again like a new vCPU: it joins by key. */
    vm_table_vmclear(&t, 0x1006, 30);
    assert_int_equal(enter(0x1005, 0xA000, LAUNCH, 40), 0);
    assert_int_equal(how, VM_TABLE_JOINED);
}

static void test_dying_not_joined(void **state)
{
    (void)state;
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    assert_int_equal(enter(0x2000, 0xB000, LAUNCH, 0), 1);
    vm_table_vmclear(&t, 0x1000, 0);
    assert_int_equal(reap(SHADOW_RELEASE_MS), 1u << 0);
    /* Slot 0 is dying (not yet released): its key and member find nothing. */
    assert_int_equal(vm_table_lookup(&t, 0xA000), -1);
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 3000), 2);
    assert_int_equal(how, VM_TABLE_CREATED);
    vm_table_release_done(&t, 0);
    assert_int_equal(enter(0x4000, 0xA000, LAUNCH, 3000), 2);
    assert_int_equal(how, VM_TABLE_JOINED);
}

static void test_dying_not_rekeyed(void **state)
{
    (void)state;
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    vm_table_vmclear(&t, 0x1000, 0);
    assert_int_equal(reap(SHADOW_RELEASE_MS), 1u << 0);
    assert_int_equal(enter(0x1000, 0xA800, RESUME, 3000), 1);
    assert_int_equal(how, VM_TABLE_CREATED);
    assert_false(vm_table_live(&t, 0));
}

static void test_get_without_member(void **state)
{
    (void)state;
    bool created;
    assert_int_equal(vm_table_get(&t, 0xA000, 0, &created), 0);
    assert_true(created);
    assert_int_equal(vm_table_get(&t, 0xA000, 5, &created), 0);
    assert_false(created);
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 10), 0);
    assert_int_equal(how, VM_TABLE_JOINED);
    assert_int_equal(vm_table_get(&t, 0xB000, 1000, &created), 1);
    /* Nobody enters it: released like an unused set. */
    assert_int_equal(reap(1000 + SHADOW_RELEASE_MS), 1u << 1);
}

static void test_release_done_undoes_creation(void **state)
{
    (void)state;
    assert_int_equal(enter(0x1000, 0xA000, LAUNCH, 0), 0);
    vm_table_release_done(&t, 0);       /* its owner could not set it up */
    assert_false(vm_table_live(&t, 0));
    assert_int_equal(reap(100000), 0);
    assert_int_equal(enter(0x1000, 0xA000, RESUME, 10), 0);
    assert_int_equal(how, VM_TABLE_CREATED);
    vm_table_release_done(&t, SHADOW_MAX_VMS);    /* out of range: nothing */
    assert_true(vm_table_live(&t, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_created_in_order, setup),
        cmocka_unit_test_setup(test_join_by_key, setup),
        cmocka_unit_test_setup(test_lowest_number_reused, setup),
        cmocka_unit_test_setup(test_rekey_on_resume, setup),
        cmocka_unit_test_setup(test_no_rekey_on_launch, setup),
        cmocka_unit_test_setup(test_launch_leaves_active_slot, setup),
        cmocka_unit_test_setup(test_resume_unknown_member_creates, setup),
        cmocka_unit_test_setup(test_vmclear_grace, setup),
        cmocka_unit_test_setup(test_reentry_cancels, setup),
        cmocka_unit_test_setup(test_vmclear_unknown_ignored, setup),
        cmocka_unit_test_setup(test_table_full, setup),
        cmocka_unit_test_setup(test_members_full, setup),
        cmocka_unit_test_setup(test_dying_not_joined, setup),
        cmocka_unit_test_setup(test_dying_not_rekeyed, setup),
        cmocka_unit_test_setup(test_get_without_member, setup),
        cmocka_unit_test_setup(test_release_done_undoes_creation, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
