/*
 * Size-class heap: each block carries a 16-byte header (magic, class, size),
 * small classes are carved from whole pages and recycled on free lists, and
 * requests above 2032 bytes take whole pages that go back on free.
 */
#include "core/heap.h"
#include "core/layout.h"
#include "core/libc.h"
#include <stdbool.h>

#define MAGIC_USED  0x48454150u     /* "HEAP" */
#define MAGIC_FREE  0x46524545u     /* "FREE" */
#define CLASS_LARGE 0xFFu

struct heap_block {
    uint32_t magic;
    uint32_t cls;
    uint64_t size;      /* requested size; for large blocks also gives the pages */
};
struct heap_free_link {
    struct heap_block hdr;
    struct heap_block *next;
};
_Static_assert(sizeof(struct heap_block) == 16, "heap header keeps 16-byte alignment");

static size_t class_size(unsigned cls) { return (size_t)32 << cls; }

void heap_init(struct heap *h, void *(*page_alloc)(void *, size_t),
               void (*page_free)(void *, void *, size_t), void *ctx)
{
    memset(h, 0, sizeof(*h));
    h->page_alloc = page_alloc;
    h->page_free = page_free;
    h->ctx = ctx;
}

static bool refill(struct heap *h, unsigned cls)
{
    char *page = h->page_alloc(h->ctx, 1);
    if (!page)
        return false;
    h->pages++;
    size_t bs = class_size(cls);
    for (size_t off = 0; off + bs <= PAGE_SIZE; off += bs) {
        struct heap_free_link *l = (struct heap_free_link *)(page + off);
        l->hdr.magic = MAGIC_FREE;
        l->hdr.cls = cls;
        l->next = h->free[cls];
        h->free[cls] = &l->hdr;
    }
    return true;
}

void *heap_alloc(struct heap *h, size_t size)
{
    if (size == 0 || size > (size_t)1 << 40)
        return NULL;
    size_t need = size + sizeof(struct heap_block);
    struct heap_block *b = NULL;
    spin_lock(&h->lock);
    if (need > class_size(HEAP_CLASSES - 1)) {
        size_t np = (need + PAGE_SIZE - 1) / PAGE_SIZE;
        b = h->page_alloc(h->ctx, np);
        if (b) {
            h->pages += np;
            b->cls = CLASS_LARGE;
        }
    } else {
        unsigned cls = 0;
        while (class_size(cls) < need)
            cls++;
        if (h->free[cls] || refill(h, cls)) {
            b = h->free[cls];
            h->free[cls] = ((struct heap_free_link *)b)->next;
        }
    }
    if (b) {
        b->magic = MAGIC_USED;
        b->size = size;
        h->bytes_in_use += size;
        h->live++;
    }
    spin_unlock(&h->lock);
    return b ? b + 1 : NULL;
}

void *heap_zalloc(struct heap *h, size_t size)
{
    void *p = heap_alloc(h, size);
    if (p)
        memset(p, 0, size);
    return p;
}

int heap_free(struct heap *h, void *p)
{
    if (!p)
        return 0;
    struct heap_block *b = (struct heap_block *)p - 1;
    spin_lock(&h->lock);
    if (((uintptr_t)p & 15) || b->magic != MAGIC_USED ||
        (b->cls != CLASS_LARGE && b->cls >= HEAP_CLASSES)) {
        h->bad_frees++;
        spin_unlock(&h->lock);
        return -1;
    }
    h->bytes_in_use -= b->size;
    h->live--;
    if (b->cls == CLASS_LARGE) {
        size_t np = (b->size + sizeof(*b) + PAGE_SIZE - 1) / PAGE_SIZE;
        b->magic = MAGIC_FREE;
        h->pages -= np;
        spin_unlock(&h->lock);
        h->page_free(h->ctx, b, np);
        return 0;
    }
    struct heap_free_link *l = (struct heap_free_link *)b;
    l->hdr.magic = MAGIC_FREE;
    l->next = h->free[b->cls];
    h->free[b->cls] = b;
    spin_unlock(&h->lock);
    return 0;
}
