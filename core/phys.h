/* Access to physical memory by address, replaceable in host tests. */
#ifndef CORE_PHYS_H
#define CORE_PHYS_H
#include <stddef.h>
#include <stdint.h>

/* Returns a pointer to [pa, pa + len) or NULL if that range is not mapped. */
typedef const void *(*phys_map_fn)(uint64_t pa, size_t len);

#endif
