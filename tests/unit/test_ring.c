#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "shadow/ring.h"

#define SIZE 8

static struct ring r;
static uint8_t store[SIZE];

static int setup(void **state)
{
    (void)state;
    memset(store, 0xee, sizeof(store));
    ring_init(&r, store, SIZE);
    return 0;
}

/* Writes bytes base, base+1, ... base+n-1. */
static void write_seq(uint8_t base, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)(base + i);
        ring_write(&r, &c, 1);
    }
}

static void test_empty(void **state)
{
    (void)state;
    uint8_t out[4];
    uint64_t cur = ring_replay_start(&r), missed = 99;
    assert_int_equal(ring_pos(&r), 0);
    assert_int_equal(cur, 0);
    assert_int_equal(ring_read(&r, &cur, out, sizeof(out), &missed), 0);
    assert_int_equal(missed, 0);
    assert_int_equal(cur, 0);
    assert_int_equal(ring_dropped(&r), 0);
}

static void test_write_read(void **state)
{
    (void)state;
    uint8_t out[8];
    uint64_t cur = 0, missed;
    ring_write(&r, "abc", 3);
    assert_int_equal(ring_read(&r, &cur, out, sizeof(out), &missed), 3);
    assert_memory_equal(out, "abc", 3);
    assert_int_equal(cur, 3);
    assert_int_equal(missed, 0);
    assert_int_equal(ring_read(&r, &cur, out, sizeof(out), &missed), 0);
}

static void test_partial_reads(void **state)
{
    (void)state;
    uint8_t out[8];
    uint64_t cur = 0, missed;
    ring_write(&r, "abcdef", 6);
    assert_int_equal(ring_read(&r, &cur, out, 4, &missed), 4);
    assert_memory_equal(out, "abcd", 4);
    assert_int_equal(ring_read(&r, &cur, out, 4, &missed), 2);
    assert_memory_equal(out, "ef", 2);
    assert_int_equal(cur, 6);
}

static void test_wraparound(void **state)
{
    (void)state;
    uint8_t out[8];
    uint64_t cur = 0, missed;
    ring_write(&r, "012345", 6);
    assert_int_equal(ring_read(&r, &cur, out, sizeof(out), &missed), 6);
    /* Bytes 6..11 occupy slots 6,7,0,1,2,3. */
    ring_write(&r, "ABCDEF", 6);
    assert_memory_equal(store, "CDEF45AB", SIZE);
    assert_int_equal(ring_read(&r, &cur, out, sizeof(out), &missed), 6);
    assert_memory_equal(out, "ABCDEF", 6);
    assert_int_equal(missed, 0);
    assert_int_equal(ring_dropped(&r), 4);
    assert_int_equal(ring_replay_start(&r), 4);
}

static void test_dropped_counting(void **state)
{
    (void)state;
    uint8_t out[8];
    write_seq(0, 20);
    assert_int_equal(ring_pos(&r), 20);
    assert_int_equal(ring_dropped(&r), 12);
    uint64_t cur = ring_replay_start(&r), missed;
    assert_int_equal(cur, 12);
    assert_int_equal(ring_read(&r, &cur, out, sizeof(out), &missed), 8);
    assert_int_equal(missed, 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(out[i], 12 + i);
}

static void test_write_longer_than_ring(void **state)
{
    (void)state;
    uint8_t out[8];
    ring_write(&r, "xy", 2);
    ring_write(&r, "0123456789A", 11);
    assert_int_equal(ring_pos(&r), 13);
    assert_int_equal(ring_dropped(&r), 5);
    uint64_t cur = ring_replay_start(&r), missed;
    assert_int_equal(ring_read(&r, &cur, out, sizeof(out), &missed), 8);
    assert_memory_equal(out, "3456789A", 8);
}

static void test_two_readers(void **state)
{
    (void)state;
    uint8_t out[8];
    uint64_t a = 0, b = 0, missed;
    ring_write(&r, "hello", 5);
    assert_int_equal(ring_read(&r, &a, out, 2, &missed), 2);
    assert_memory_equal(out, "he", 2);
    assert_int_equal(ring_read(&r, &b, out, sizeof(out), &missed), 5);
    assert_memory_equal(out, "hello", 5);
    ring_write(&r, "!!", 2);
    assert_int_equal(ring_read(&r, &a, out, sizeof(out), &missed), 5);
    assert_memory_equal(out, "llo!!", 5);
    assert_int_equal(ring_read(&r, &b, out, sizeof(out), &missed), 2);
    assert_memory_equal(out, "!!", 2);
    assert_int_equal(a, 7);
    assert_int_equal(b, 7);
}

static void test_reader_falls_behind(void **state)
{
    (void)state;
    uint8_t out[8];
    uint64_t slow = 0, fast = 0, missed;
    write_seq(0, 5);
    assert_int_equal(ring_read(&r, &slow, out, 2, &missed), 2);
    assert_int_equal(ring_read(&r, &fast, out, 8, &missed), 5);
    write_seq(5, 3);
    assert_int_equal(ring_read(&r, &fast, out, 8, &missed), 3);
    write_seq(8, 7);
    /* The fast reader, at 8, kept inside the window 7..14: nothing lost. */
    assert_int_equal(ring_read(&r, &fast, out, 8, &missed), 7);
    assert_int_equal(missed, 0);
    assert_int_equal(out[0], 8);
    /* The slow one, at 2, lost bytes 2..6: it resumes at 7, the oldest kept. */
    assert_int_equal(ring_read(&r, &slow, out, 3, &missed), 3);
    assert_int_equal(missed, 5);
    assert_int_equal(out[0], 7);
    assert_int_equal(out[2], 9);
    assert_int_equal(slow, 10);
    /* Caught up inside the window, the next read reports no loss. */
    assert_int_equal(ring_read(&r, &slow, out, 8, &missed), 5);
    assert_int_equal(missed, 0);
    assert_int_equal(out[4], 14);
}

static void test_live_cursor(void **state)
{
    (void)state;
    uint8_t out[8];
    uint64_t missed;
    ring_write(&r, "old", 3);
    uint64_t live = ring_pos(&r);
    assert_int_equal(ring_read(&r, &live, out, sizeof(out), &missed), 0);
    ring_write(&r, "new", 3);
    assert_int_equal(ring_read(&r, &live, out, sizeof(out), &missed), 3);
    assert_memory_equal(out, "new", 3);
}

static void test_cursor_beyond_write_position(void **state)
{
    (void)state;
    uint8_t out[8];
    uint64_t cur = 10, missed;
    ring_write(&r, "abc", 3);
    assert_int_equal(ring_read(&r, &cur, out, sizeof(out), &missed), 0);
    assert_int_equal(cur, 10);
    assert_int_equal(missed, 0);
}

/* A ring that takes over another's stream: old cursors read on from the
 * first new byte; the new ring's empty slots are never replayed. */
static void test_init_at_continues(void **state)
{
    (void)state;
    uint8_t out[8];
    uint64_t caught_up = 0, behind = 0, missed;
    write_seq(0, 6);
    assert_int_equal(ring_read(&r, &caught_up, out, sizeof(out), &missed), 6);
    assert_int_equal(ring_read(&r, &behind, out, 2, &missed), 2);
    ring_init_at(&r, store, SIZE, ring_pos(&r));
    assert_int_equal(ring_pos(&r), 6);
    assert_int_equal(ring_replay_start(&r), 6);
    assert_int_equal(ring_dropped(&r), 0);
    assert_int_equal(ring_read(&r, &caught_up, out, sizeof(out), &missed), 0);
    write_seq(100, 3);
    assert_int_equal(ring_read(&r, &caught_up, out, sizeof(out), &missed), 3);
    assert_int_equal(missed, 0);
    assert_int_equal(out[0], 100);
    /* Bytes 2..5 went with the old ring. */
    assert_int_equal(ring_read(&r, &behind, out, sizeof(out), &missed), 3);
    assert_int_equal(missed, 4);
    assert_int_equal(out[0], 100);
    write_seq(103, 10);
    assert_int_equal(ring_dropped(&r), 5);
    assert_int_equal(ring_replay_start(&r), 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_empty, setup),
        cmocka_unit_test_setup(test_write_read, setup),
        cmocka_unit_test_setup(test_partial_reads, setup),
        cmocka_unit_test_setup(test_wraparound, setup),
        cmocka_unit_test_setup(test_dropped_counting, setup),
        cmocka_unit_test_setup(test_write_longer_than_ring, setup),
        cmocka_unit_test_setup(test_two_readers, setup),
        cmocka_unit_test_setup(test_reader_falls_behind, setup),
        cmocka_unit_test_setup(test_live_cursor, setup),
        cmocka_unit_test_setup(test_cursor_beyond_write_position, setup),
        cmocka_unit_test_setup(test_init_at_continues, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
