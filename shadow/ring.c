#include "shadow/ring.h"
#include "core/libc.h"

void ring_init(struct ring *r, uint8_t *buf, size_t size)
{
    ring_init_at(r, buf, size, 0);
}

void ring_init_at(struct ring *r, uint8_t *buf, size_t size, uint64_t start)
{
    r->buf = buf;
    r->size = size;
    r->start = start;
    r->wpos = start;
}

static size_t ring_offset(const struct ring *r, uint64_t pos)
{
    return (size_t)(pos & (r->size - 1));
}

void ring_write(struct ring *r, const void *data, size_t n)
{
    const uint8_t *src = data;
    /* Of a write longer than the ring only the tail can be retained; the
     * head counts as written (and dropped) without being copied. */
    if (n > r->size) {
        r->wpos += n - r->size;
        src += n - r->size;
        n = r->size;
    }
    size_t off = ring_offset(r, r->wpos);
    size_t first = n < r->size - off ? n : r->size - off;
    memcpy(r->buf + off, src, first);
    memcpy(r->buf, src + first, n - first);
    r->wpos += n;
}

size_t ring_read(const struct ring *r, uint64_t *cursor, void *buf, size_t n,
                 uint64_t *missed)
{
    uint64_t oldest = ring_replay_start(r);
    *missed = 0;
    if (*cursor < oldest) {
        *missed = oldest - *cursor;
        *cursor = oldest;
    }
    uint64_t avail = r->wpos > *cursor ? r->wpos - *cursor : 0;
    if (n > avail)
        n = (size_t)avail;
    size_t off = ring_offset(r, *cursor);
    size_t first = n < r->size - off ? n : r->size - off;
    uint8_t *dst = buf;
    memcpy(dst, r->buf + off, first);
    memcpy(dst + first, r->buf, n - first);
    *cursor += n;
    return n;
}
