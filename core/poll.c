/* Background work from the VM-exit path (core/init.h, CORE_POLL). */
#include "core/init.h"
#include "core/time.h"
#include <stdint.h>

extern const poll_fn __core_poll_start[], __core_poll_end[];

#define POLL_STACK_SIZE (64 * 1024)

static uint8_t poll_stack[POLL_STACK_SIZE] __attribute__((aligned(16)));
static uint64_t next_tsc;
static bool running;

static bool enabled;

void core_poll_enable(void)
{
    enabled = true;
}

bool core_poll_wanted(void)
{
    if (!enabled)
        return false;
    /* Hidden from the optimizer: distinct arrays are "always" unequal to it. */
    uintptr_t a = (uintptr_t)__core_poll_start, b = (uintptr_t)__core_poll_end;
    __asm__("" : "+r"(a));
    return a != b;
}

static void run_hooks(void)
{
    for (const poll_fn *f = __core_poll_start; f < __core_poll_end; f++)
        (*f)();
}

/* Calls run_hooks on poll_stack (the exit handler's stack is small and the
 * network stack's TLS arithmetic is deep), then returns to the caller's. */
static void run_on_poll_stack(void)
{
    void *top = poll_stack + sizeof(poll_stack);
    void (*fn)(void) = run_hooks;
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov %0, %%rsp\n\t"
                     "call *%1\n\t"
                     "mov %%rbx, %%rsp"
                     : "+r"(top), "+r"(fn)
                     :
                     : "rbx", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11",
                       "memory", "cc");
}

void core_poll(unsigned cpu)
{
    if (cpu != 0 || !core_poll_wanted() || running)
        return;
    uint64_t now = tsc_now();
    if (now < next_tsc)
        return;
    next_tsc = now + tsc_hz / 1000 * CORE_POLL_PERIOD_MS;
    running = true;
    run_on_poll_stack();
    running = false;
}
