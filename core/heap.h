/* General-purpose heap on top of a page source (the region's palloc). */
#ifndef CORE_HEAP_H
#define CORE_HEAP_H
#include "core/spinlock.h"
#include <stddef.h>
#include <stdint.h>

#define HEAP_CLASSES 7      /* blocks of 32 .. 2048 bytes, header included */

struct heap_block;

struct heap {
    void *(*page_alloc)(void *ctx, size_t npages);
    void (*page_free)(void *ctx, void *va, size_t npages);
    void *ctx;
    struct heap_block *free[HEAP_CLASSES];
    size_t bytes_in_use;    /* requested bytes of live allocations */
    size_t live;            /* live allocations */
    size_t pages;           /* pages currently taken from the source */
    size_t bad_frees;       /* frees of pointers the heap did not hand out */
    struct spinlock lock;
};

void heap_init(struct heap *h, void *(*page_alloc)(void *, size_t),
               void (*page_free)(void *, void *, size_t), void *ctx);
/* 16-byte aligned; NULL when the page source is exhausted or size is 0. */
void *heap_alloc(struct heap *h, size_t size);
void *heap_zalloc(struct heap *h, size_t size);
/* Returns -1 (and counts it) for a pointer that is not a live allocation. */
int heap_free(struct heap *h, void *p);

/* The hypervisor's own heap in its region (core/region.c). */
void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

#endif
