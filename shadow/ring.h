/* Byte ring with scrollback semantics: one writer that never blocks, any
 * number of readers that each keep their own cursor.
 *
 * Positions are 64-bit byte counts since ring_init (or from ring_init_at's
 * start) and never wrap, so a cursor names one byte of the whole stream
 * forever. The ring retains the
 * newest `size` bytes; older ones are overwritten (dropped). The ring has no
 * lock: the owner serializes writers and readers. */
#ifndef SHADOW_RING_H
#define SHADOW_RING_H
#include <stddef.h>
#include <stdint.h>

struct ring {
    uint8_t *buf;
    size_t size;            /* bytes in buf, a power of two */
    uint64_t start;         /* position of the first byte this ring was given */
    uint64_t wpos;          /* position of the next byte written */
};

/* `size` must be a nonzero power of two; the ring starts empty. */
void ring_init(struct ring *r, uint8_t *buf, size_t size);
/* The same, the stream going on from position `start`: a ring that takes
 * over from an earlier one keeps its readers' cursors meaningful (a cursor
 * before `start` reads as dropped bytes, then the new stream). */
void ring_init_at(struct ring *r, uint8_t *buf, size_t size, uint64_t start);

/* Appends n bytes, overwriting the oldest retained bytes when full. */
void ring_write(struct ring *r, const void *data, size_t n);

/* Copies up to n bytes from *cursor into buf and advances *cursor past them;
 * returns the number copied (0: the reader is up to date). If the bytes at
 * *cursor were already dropped, the cursor first jumps to the oldest retained
 * byte and *missed says how many bytes the reader lost; otherwise *missed is
 * 0. A cursor beyond the write position reads nothing. */
size_t ring_read(const struct ring *r, uint64_t *cursor, void *buf, size_t n,
                 uint64_t *missed);

/* Position of the next byte to be written: a cursor for live output only. */
static inline uint64_t ring_pos(const struct ring *r) { return r->wpos; }

/* Position of the oldest retained byte: a cursor that replays the scrollback. */
static inline uint64_t ring_replay_start(const struct ring *r)
{
    return r->wpos - r->start > r->size ? r->wpos - r->size : r->start;
}

/* Total bytes overwritten before the ring could retain them for readers. */
static inline uint64_t ring_dropped(const struct ring *r)
{
    return ring_replay_start(r) - r->start;
}

#endif
