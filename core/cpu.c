#include "core/cpu.h"
#include "core/hw.h"
#include "core/libc.h"
#include "core/log.h"

struct percpu cpus[MAX_CPUS];
static bool percpu_ready;

struct __attribute__((packed)) idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate");
static struct idt_gate idt[256];
extern const uint64_t isr_stub_table[32];

static const char *const exc_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD error", "#VE virtualization exception",
    "#CP control protection", "reserved", "reserved", "reserved", "reserved",
    "reserved", "reserved", "#HV hypervisor injection", "#VC VMM communication",
    "#SX security exception", "reserved",
};

unsigned cpu_current_id(void)
{
    return percpu_ready ? this_cpu()->id : 0;
}

struct percpu *this_cpu(void)
{
    struct percpu *c;
    __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
    return c;
}

uint64_t cpu_idt_base(void)
{
    return (uint64_t)idt;
}

unsigned cpu_online_count(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < MAX_CPUS; i++)
        n += cpus[i].online;
    return n;
}

static void idt_set(unsigned vec, uint64_t handler, uint8_t ist)
{
    idt[vec] = (struct idt_gate){
        .off_lo = (uint16_t)handler, .sel = SEL_CODE64, .ist = ist,
        .type = 0x8E,               /* present, DPL 0, 64-bit interrupt gate */
        .off_mid = (uint16_t)(handler >> 16), .off_hi = (uint32_t)(handler >> 32),
    };
}

static void idt_build(void)
{
    for (unsigned v = 0; v < 32; v++)
        idt_set(v, isr_stub_table[v], (v == 2 || v == 8 || v == 18) ? 1 : 0);
}

static void load_tables(struct percpu *c)
{
    c->self = c;
    c->tss.ist[0] = (uint64_t)(c->ist_stack + IST_STACK_SIZE);
    c->tss.iomap_base = sizeof(c->tss);
    c->gdt[0] = 0;
    c->gdt[1] = 0x00AF9A000000FFFFULL;     /* SEL_CODE64 */
    c->gdt[2] = 0x00CF92000000FFFFULL;     /* SEL_DATA */
    c->gdt[3] = 0x00CF9A000000FFFFULL;     /* SEL_CODE32 */
    c->gdt[4] = 0x00CF92000000FFFFULL;     /* SEL_DATA32 */
    uint64_t b = (uint64_t)&c->tss, lim = sizeof(c->tss) - 1;
    c->gdt[5] = (lim & 0xFFFF) | ((b & 0xFFFFFF) << 16) | (0x89ULL << 40) |
                (((lim >> 16) & 0xF) << 48) | (((b >> 24) & 0xFF) << 56);
    c->gdt[6] = b >> 32;
    _Static_assert(SEL_TSS == 5 * 8, "TSS descriptor slot");

    struct desc_ptr gp = { sizeof(c->gdt) - 1, (uint64_t)c->gdt };
    struct desc_ptr ip = { sizeof(idt) - 1, (uint64_t)idt };
    lgdt(&gp);
    /* Reload CS with a far return, then the data segments. */
    __asm__ volatile("pushq %0; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
                     :: "i"(SEL_CODE64) : "rax", "memory");
    __asm__ volatile("movw %w0, %%ds; movw %w0, %%es; movw %w0, %%ss; movw %w1, %%fs; movw %w1, %%gs"
                     :: "r"(SEL_DATA), "r"(0) : "memory");
    ltr(SEL_TSS);
    lidt(&ip);
    wrmsr(MSR_GS_BASE, (uint64_t)c);
}

void cpu_init_bsp(void)
{
    idt_build();
    struct percpu *c = &cpus[0];
    c->id = 0;
    load_tables(c);
    percpu_ready = true;
}

void cpu_init_ap(struct percpu *c)
{
    load_tables(c);
}

_Noreturn void cpu_park(void)
{
    for (;;) {
        irq_disable();
        cpu_halt();
    }
}

void cpu_exception(struct trap_frame *tf)
{
    unsigned v = (unsigned)tf->vector;
    /* Every NMI belongs to the cloud VM (an IPI it sent, or vsbypass's own
     * virtual INIT): one that arrives in VMX root mode is noted here and
     * handed to the guest at this CPU's next VM entry (vmx/lapic.c). */
    if (v == 2 && percpu_ready) {
        struct percpu *c = this_cpu();
        c->nmi_pending = true;
        c->nmis_taken++;
        return;
    }
    extern const char msr_read_insn[], msr_write_insn[], msr_fault_resume[];
    if (v == 13 && (tf->rip == (uint64_t)msr_read_insn || tf->rip == (uint64_t)msr_write_insn)) {
        tf->rip = (uint64_t)msr_fault_resume;
        return;
    }
    kprintf("\ncpu%u: EXCEPTION vector %u (%s) error 0x%llx\n", cpu_current_id(), v,
            v < 32 ? exc_names[v] : "?", (unsigned long long)tf->error);
    kprintf("  rip %016llx cs %04llx rflags %016llx rsp %016llx ss %04llx\n",
            (unsigned long long)tf->rip, (unsigned long long)tf->cs,
            (unsigned long long)tf->rflags, (unsigned long long)tf->rsp,
            (unsigned long long)tf->ss);
    kprintf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n",
            (unsigned long long)tf->rax, (unsigned long long)tf->rbx,
            (unsigned long long)tf->rcx, (unsigned long long)tf->rdx);
    kprintf("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n",
            (unsigned long long)tf->rsi, (unsigned long long)tf->rdi,
            (unsigned long long)tf->rbp, (unsigned long long)tf->r8);
    kprintf("  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n",
            (unsigned long long)tf->r9, (unsigned long long)tf->r10,
            (unsigned long long)tf->r11, (unsigned long long)tf->r12);
    kprintf("  r13 %016llx r14 %016llx r15 %016llx\n",
            (unsigned long long)tf->r13, (unsigned long long)tf->r14,
            (unsigned long long)tf->r15);
    kprintf("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\n",
            (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
            (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
    kprintf("cpu%u: halted after exception; other CPUs continue\n", cpu_current_id());
    cpu_park();
}
