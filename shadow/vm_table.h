/*
 * Which user VM (L2) a nested VM entry runs, and when a user VM is gone
 * (docs/architecture.md, "User VM lifecycle"). Pure bookkeeping: no
 * allocation, no locks, no logging; shadow.c holds the lock and owns the
 * device sets the slots number.
 *
 * A slot is one user VM: its key is the EPT12 root L1 gives it, its number
 * is the slot index (the lowest free one is taken, so numbers come back
 * after a release). A member is one L1 VMCS12 (one vCPU of a user VM); it
 * is active from a VM entry until L1 executes VMCLEAR on it.
 */
#ifndef SHADOW_VM_TABLE_H
#define SHADOW_VM_TABLE_H
#include <stdbool.h>
#include <stdint.h>
#include "shadow/shadow.h"

#define VM_TABLE_MEMBERS    64

struct vm_slot {
    bool used;
    bool dying;                     /* reaped: being released, never joined again */
    uint64_t key;
    uint64_t last_use_ms;           /* creation, last entry, VMCLEAR or member leaving */
};

struct vm_member {
    bool used;
    bool active;                    /* entered and not VMCLEARed since */
    uint8_t slot;
    uint64_t vmcs12;
};

/* All zero is empty. */
struct vm_table {
    struct vm_slot slots[SHADOW_MAX_VMS];
    struct vm_member members[VM_TABLE_MEMBERS];
};

enum vm_table_how {
    VM_TABLE_JOINED,                /* a live slot had this key */
    VM_TABLE_CREATED,
    VM_TABLE_REKEYED,               /* VMRESUME with a new EPT root: the slot follows */
};

/* A nested VM entry of vmcs12 with EPT12 root `key`; resume: VMRESUME.
 * Returns the slot, or -1 when none is free or the member cannot be
 * tracked (all VM_TABLE_MEMBERS entries active); *how says what happened,
 * *old_key the key a re-keyed slot had. */
int vm_table_enter(struct vm_table *t, uint64_t vmcs12, uint64_t key, bool resume,
                   uint64_t now_ms, enum vm_table_how *how, uint64_t *old_key);

/* The live slot with this key, or -1 (dying slots are not found). */
int vm_table_lookup(const struct vm_table *t, uint64_t key);

/* A slot for `key` without a member: the live one with this key, else a
 * new one (*created set), else -1. */
int vm_table_get(struct vm_table *t, uint64_t key, uint64_t now_ms, bool *created);

/* L1 executed VMCLEAR on vmcs12: its member goes inactive (an unknown one
 * is ignored). */
void vm_table_vmclear(struct vm_table *t, uint64_t vmcs12, uint64_t now_ms);

/* Marks dying every live slot with no active member since at least
 * SHADOW_RELEASE_MS and drops its members; writes their numbers to
 * out_slots (SHADOW_MAX_VMS entries) and returns how many. */
unsigned vm_table_reap(struct vm_table *t, uint64_t now_ms, unsigned *out_slots);

/* The slot is free again (after a reap, or a creation its owner undoes). */
void vm_table_release_done(struct vm_table *t, unsigned slot);

/* True when slot is used and not dying. */
bool vm_table_live(const struct vm_table *t, unsigned slot);

#endif
