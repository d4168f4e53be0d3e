/* User-VM identity and lifetime (shadow/vm_table.h). */
#include "shadow/vm_table.h"

bool vm_table_live(const struct vm_table *t, unsigned slot)
{
    return slot < SHADOW_MAX_VMS && t->slots[slot].used && !t->slots[slot].dying;
}

int vm_table_lookup(const struct vm_table *t, uint64_t key)
{
    for (unsigned i = 0; i < SHADOW_MAX_VMS; i++)
        if (vm_table_live(t, i) && t->slots[i].key == key)
            return (int)i;
    return -1;
}

static int slot_new(struct vm_table *t, uint64_t key, uint64_t now_ms)
{
    for (unsigned i = 0; i < SHADOW_MAX_VMS; i++) {
        if (!t->slots[i].used) {
            t->slots[i] = (struct vm_slot){ .used = true, .key = key, .last_use_ms = now_ms };
            return (int)i;
        }
    }
    return -1;
}

static struct vm_member *member_find(struct vm_table *t, uint64_t vmcs12)
{
    for (unsigned i = 0; i < VM_TABLE_MEMBERS; i++)
        if (t->members[i].used && t->members[i].vmcs12 == vmcs12)
            return &t->members[i];
    return NULL;
}

/* A free entry, else an inactive one: it no longer keeps its slot alive,
 * and after a VMCLEAR its next entry is a VMLAUNCH, which finds its VM by
 * key anyway. NULL when every entry is an active vCPU. */
static struct vm_member *member_new(struct vm_table *t)
{
    struct vm_member *inactive = NULL;
    for (unsigned i = 0; i < VM_TABLE_MEMBERS; i++) {
        if (!t->members[i].used)
            return &t->members[i];
        if (!t->members[i].active && inactive == NULL)
            inactive = &t->members[i];
    }
    if (inactive != NULL)
        inactive->used = false;
    return inactive;
}

/* The member stops using its slot: the slot's idle time starts now. */
static void member_leave(struct vm_table *t, struct vm_member *m, uint64_t now_ms)
{
    t->slots[m->slot].last_use_ms = now_ms;
    m->active = false;
}

int vm_table_enter(struct vm_table *t, uint64_t vmcs12, uint64_t key, bool resume,
                   uint64_t now_ms, enum vm_table_how *how, uint64_t *old_key)
{
    struct vm_member *m = member_find(t, vmcs12);
    int s = vm_table_lookup(t, key);
    *how = VM_TABLE_JOINED;
    *old_key = key;
    if (s < 0 && resume && m != NULL && vm_table_live(t, m->slot)) {
        /* The same vCPU continuing: its VM got a new EPT root. */
        s = m->slot;
        *old_key = t->slots[s].key;
        t->slots[s].key = key;
        *how = VM_TABLE_REKEYED;
    }
    if (m == NULL && (m = member_new(t)) == NULL)
        return -1;
    if (s < 0) {
        s = slot_new(t, key, now_ms);
        *how = VM_TABLE_CREATED;
    }
    if (m->used && (s < 0 || m->slot != (unsigned)s))
        member_leave(t, m, now_ms);
    if (s < 0) {
        m->used = false;
        return -1;
    }
    *m = (struct vm_member){ .used = true, .active = true, .slot = (uint8_t)s, .vmcs12 = vmcs12 };
    t->slots[s].last_use_ms = now_ms;
    return s;
}

int vm_table_get(struct vm_table *t, uint64_t key, uint64_t now_ms, bool *created)
{
    int s = vm_table_lookup(t, key);
    *created = s < 0;
    return s >= 0 ? s : slot_new(t, key, now_ms);
}

void vm_table_vmclear(struct vm_table *t, uint64_t vmcs12, uint64_t now_ms)
{
    struct vm_member *m = member_find(t, vmcs12);
    if (m != NULL)
        member_leave(t, m, now_ms);
}

static bool slot_in_use(const struct vm_table *t, unsigned slot)
{
    for (unsigned i = 0; i < VM_TABLE_MEMBERS; i++)
        if (t->members[i].used && t->members[i].active && t->members[i].slot == slot)
            return true;
    return false;
}

static void drop_members(struct vm_table *t, unsigned slot)
{
    for (unsigned i = 0; i < VM_TABLE_MEMBERS; i++)
        if (t->members[i].used && t->members[i].slot == slot)
            t->members[i].used = false;
}

unsigned vm_table_reap(struct vm_table *t, uint64_t now_ms, unsigned *out_slots)
{
    unsigned n = 0;
    for (unsigned i = 0; i < SHADOW_MAX_VMS; i++) {
        if (!vm_table_live(t, i) || slot_in_use(t, i) ||
            now_ms < t->slots[i].last_use_ms + SHADOW_RELEASE_MS)
            continue;
        t->slots[i].dying = true;
        drop_members(t, i);
        out_slots[n++] = i;
    }
    return n;
}

void vm_table_release_done(struct vm_table *t, unsigned slot)
{
    if (slot >= SHADOW_MAX_VMS)
        return;
    drop_members(t, slot);
    t->slots[slot] = (struct vm_slot){ 0 };
}
