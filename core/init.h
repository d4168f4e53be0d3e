/*
 * Init hooks: higher layers (vmx/, drivers/, net/) register functions that
 * core's boot sequence runs, so core never includes their headers. The
 * linker collects the pointers (linker.ld: .initcall.*, .percpu_init).
 */
#ifndef CORE_INIT_H
#define CORE_INIT_H
#include <stdbool.h>

typedef void (*init_fn)(void);
typedef void (*percpu_init_fn)(unsigned cpu);

/* Runs once on the BSP after every CPU is up, in ascending `order` (00-99). */
#define CORE_INIT(fn, order) \
    static const init_fn initcall_##fn __attribute__((used, section(".initcall." #order))) = fn

/* Runs on every CPU (BSP first, then each AP as it starts), in link order. */
#define CORE_PERCPU_INIT(fn) \
    static const percpu_init_fn percpu_init_##fn __attribute__((used, section(".percpu_init"))) = fn

/* What every CPU runs once boot is done (at most one, e.g. the cloud VM);
 * without one, CPUs park. Must not return. */
typedef void (*cpu_run_fn)(unsigned cpu);
#define CORE_CPU_RUN(fn) \
    static const cpu_run_fn cpu_run_##fn __attribute__((used, section(".cpu_run"))) = fn

/* Background work driven from the VM-exit path (the network stack's
 * polling): run on CPU 0 after a VM exit, at most once per
 * CORE_POLL_PERIOD_MS, one at a time, on a dedicated 64 KiB stack. The
 * VMX layer arranges an exit on CPU 0 at least that often
 * (core_poll_wanted). */
typedef void (*poll_fn)(void);
#define CORE_POLL(fn) \
    static const poll_fn poll_##fn __attribute__((used, section(".core_poll"))) = fn
#define CORE_POLL_PERIOD_MS 2
/* A CORE_INIT hook that found work for its poll function says so; until
 * then no poll runs and CPU 0 gets no timer exits. */
void core_poll_enable(void);
bool core_poll_wanted(void);
void core_poll(unsigned cpu);

void init_run_percpu(unsigned cpu);
void init_run_all(void);
_Noreturn void init_run_cpu(unsigned cpu);

#endif
