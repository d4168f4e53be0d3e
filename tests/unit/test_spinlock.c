/* core/spinlock.h: the ticket lock under real contention from host threads. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/spinlock.h"
#include <pthread.h>

#define ITERATIONS 1000000
#define THREADS    2

struct shared {
    struct spinlock lock;
    /* volatile: each increment is a separate load and store, so a lock that
     * failed to exclude would lose updates instead of being optimised away. */
    volatile uint64_t counter;
};

static void *worker(void *arg)
{
    struct shared *s = arg;
    for (int i = 0; i < ITERATIONS; i++) {
        spin_lock(&s->lock);
        s->counter = s->counter + 1;
        spin_unlock(&s->lock);
    }
    return NULL;
}

static void test_two_threads_count_exactly(void **state)
{
    (void)state;
    struct shared s = { .lock = SPINLOCK_INIT, .counter = 0 };
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, &s), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(s.counter, (uint64_t)THREADS * ITERATIONS);
    /* Every ticket taken was served. */
    assert_int_equal(s.lock.next, (uint32_t)(THREADS * ITERATIONS));
    assert_int_equal(s.lock.owner, s.lock.next);
    assert_false(spin_is_locked(&s.lock));
}

static void test_is_locked_reflects_state(void **state)
{
    (void)state;
    struct spinlock l = SPINLOCK_INIT;
    assert_false(spin_is_locked(&l));
    spin_lock(&l);
    assert_true(spin_is_locked(&l));
    spin_unlock(&l);
    assert_false(spin_is_locked(&l));
    spin_lock(&l);
    assert_true(spin_is_locked(&l));
    spin_unlock(&l);
    assert_false(spin_is_locked(&l));
    assert_int_equal(l.next, 2);
    assert_int_equal(l.owner, 2);
}

static void test_ticket_counters_wrap(void **state)
{
    (void)state;
    /* Tickets are compared for equality, so 32-bit wrap-around is harmless. */
    struct spinlock l = { UINT32_MAX, UINT32_MAX };
    assert_false(spin_is_locked(&l));
    spin_lock(&l);
    assert_true(spin_is_locked(&l));
    spin_unlock(&l);
    assert_false(spin_is_locked(&l));
    assert_int_equal(l.next, 0);
    assert_int_equal(l.owner, 0);
}

struct waiter_ctx {
    struct spinlock *lock;
    volatile int entered;
};

static void *waiter(void *arg)
{
    struct waiter_ctx *w = arg;
    spin_lock(w->lock);
    w->entered = 1;
    spin_unlock(w->lock);
    return NULL;
}

static void test_holder_excludes_waiter(void **state)
{
    (void)state;
    struct spinlock l = SPINLOCK_INIT;
    struct waiter_ctx w = { &l, 0 };
    spin_lock(&l);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, waiter, &w), 0);
    /* Wait until the other thread has taken its ticket, then check it is
     * still outside the critical section while we hold the lock. */
    while (__atomic_load_n(&l.next, __ATOMIC_RELAXED) != 2)
        __builtin_ia32_pause();
    for (int i = 0; i < 100000; i++)
        __builtin_ia32_pause();
    assert_int_equal(w.entered, 0);
    spin_unlock(&l);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(w.entered, 1);
    assert_false(spin_is_locked(&l));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_threads_count_exactly),
        cmocka_unit_test(test_is_locked_reflects_state),
        cmocka_unit_test(test_ticket_counters_wrap),
        cmocka_unit_test(test_holder_excludes_waiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
