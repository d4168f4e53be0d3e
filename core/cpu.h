/* Per-CPU data, descriptor tables and the exception report. */
#ifndef CORE_CPU_H
#define CORE_CPU_H
#include "core/layout.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register save area built by boot/entry64.S isr_common (push order reversed). */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;      /* pushed by the CPU */
};
_Static_assert(offsetof(struct trap_frame, vector) == 15 * 8, "isr_common push order");
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "trap frame size");

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "TSS layout (SDM: 64-bit TSS)");

#define IST_STACK_SIZE 4096

struct percpu {
    struct percpu *self;            /* at %gs:0 */
    unsigned id;                    /* dense index, 0 = BSP */
    uint32_t apic_id;
    volatile bool online;
    uint64_t stack_top;
    uint64_t gdt[7];
    struct tss64 tss;
    uint8_t ist_stack[IST_STACK_SIZE] __attribute__((aligned(16)));
    volatile bool nmi_pending;      /* an NMI arrived while vsbypass ran (for the guest) */
    uint64_t nmis_taken;            /* NMIs taken by vsbypass itself, passed on */
};
_Static_assert(offsetof(struct percpu, self) == 0, "this_cpu() reads %gs:0");

extern struct percpu cpus[MAX_CPUS];

unsigned cpu_current_id(void);
uint64_t cpu_idt_base(void);
struct percpu *this_cpu(void);
void cpu_init_bsp(void);
void cpu_init_ap(struct percpu *c);
unsigned cpu_online_count(void);
void cpu_exception(struct trap_frame *tf);
/* RDMSR/WRMSR that return -1 on #GP instead of halting (core/msr_safe.S). */
int msr_read_safe(uint32_t msr, uint64_t *value);
int msr_write_safe(uint32_t msr, uint64_t value);
_Noreturn void cpu_park(void);

#endif
