/* Ticket spinlocks: FIFO-fair, so a console flood on one CPU cannot starve another. */
#ifndef CORE_SPINLOCK_H
#define CORE_SPINLOCK_H
#include <stdint.h>

struct spinlock {
    uint32_t next;
    uint32_t owner;
};
#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(struct spinlock *l)
{
    uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
        __builtin_ia32_pause();
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

static inline int spin_is_locked(const struct spinlock *l)
{
    return __atomic_load_n(&l->next, __ATOMIC_RELAXED) != __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
}

#endif
