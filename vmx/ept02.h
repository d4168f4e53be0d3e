/*
 * EPT02: the EPT an L2 guest runs on, filled one 4 KiB page at a time from
 * L1's EPT12 on EPT violations. Pure logic: no VMCS, no hardware, so the
 * host unit tests run it as the kernel does (vmx/nested_entry.c does the
 * VMCS side and the INVEPT).
 */
#ifndef VMX_EPT02_H
#define VMX_EPT02_H
#include "core/palloc.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ept02_env {
    /* Reads L1-physical memory, 0 on success; [hide_base, +hide_size) reads as zeros. */
    int (*read_l1)(void *ctx, uint64_t l1pa, void *buf, size_t n);
    void *ctx;
    uint64_t hide_base, hide_size;  /* vsbypass's region: never mapped from EPT12 */
    uint64_t ro_page;               /* mapped without write access (the xAPIC), 0 = none */
    struct palloc *pa;              /* EPT02 tables, reached through (uint64_t *)phys */
    /* What EPT01 does not map is out of L1's reach through EPT12 too: */
    uint64_t l1_limit;              /* L1-physical addresses from here up (0 = no limit) */
    bool (*is_hole)(uint64_t base, uint64_t len);  /* devices vsbypass keeps, or NULL */
};

enum ept02_fill_result {
    EPT02_MAPPED,       /* EPT02 now maps the page */
    EPT02_NOT_PRESENT,  /* EPT12 does not map it: an EPT violation for L1 */
    EPT02_DENIED,       /* EPT12 forbids the access: an EPT violation for L1 */
    EPT02_MISCONFIG,    /* EPT12 is misconfigured: an EPT misconfiguration for L1 */
    EPT02_HIDDEN,       /* EPT12 points into the hidden range: nothing mapped */
    EPT02_NOMEM,        /* `pa` ran out: nothing mapped */
    EPT02_OUTSIDE,      /* EPT12 points where EPT01 maps nothing (past L1's memory, a
                           hidden device): nothing mapped */
    EPT02_RO_WRITE,     /* a write to `ro_page` through EPT12: not emulated for L2 */
};

/*
 * Walks EPT12 for an L2 guest-physical address. `eptp12 & 1` means L1 uses
 * no EPT: identity, RWX, WB. Returns 0 with the L1-physical address and the
 * leaf (its bits 2:0 narrowed to the rights every level of the walk grants),
 * 1 if not present, -1 if misconfigured or unreadable.
 */
int ept12_walk(const struct ept02_env *env, uint64_t eptp12, uint64_t gpa, uint64_t *l1pa, uint64_t *leaf);

/*
 * Handles an EPT02 violation at `gpa` for `access` (bit 0 read, bit 1 write,
 * bit 2 fetch): maps the 4 KiB page as EPT12 does, with EPT12's rights, memory
 * type and ignore-PAT, less write on `ro_page`. *leaf12_out gets the walk's
 * leaf (see ept12_walk), 0 when none. The EPT02 root `*root` is allocated on
 * first use.
 */
enum ept02_fill_result ept02_fill(const struct ept02_env *env, uint64_t *root, uint64_t eptp12,
                                  uint64_t gpa, unsigned access, uint64_t *leaf12_out);

/* Installs a 4 KiB mapping of `gpa` to `hpa` with `flags` (rights, type),
 * whatever `hpa` is. False when out of memory. */
bool ept02_map(const struct ept02_env *env, uint64_t *root, uint64_t gpa, uint64_t hpa, uint64_t flags);

/* Frees every EPT02 table; *root becomes 0. The caller flushes the TLBs. */
void ept02_free_all(const struct ept02_env *env, uint64_t *root);

#endif
