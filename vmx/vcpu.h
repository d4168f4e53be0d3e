/* One virtual CPU of the cloud VM: its saved registers and VMX state. */
#ifndef VMX_VCPU_H
#define VMX_VCPU_H

/* Offsets used by vmx/entry.S; struct vcpu static-asserts them. */
#define VCPU_RAX      0
#define VCPU_RBX      8
#define VCPU_RCX      16
#define VCPU_RDX      24
#define VCPU_RSI      32
#define VCPU_RDI      40
#define VCPU_RBP      48
#define VCPU_R8       56
#define VCPU_R9       64
#define VCPU_R10      72
#define VCPU_R11      80
#define VCPU_R12      88
#define VCPU_R13      96
#define VCPU_R14      104
#define VCPU_R15      112
#define VCPU_CR2      120
#define VCPU_LAUNCHED 128

#ifndef __ASSEMBLY__
#include "vmx/vmcs_fields.h"
#include <stdbool.h>
#include <stdint.h>

/* General-purpose registers in the order of the VCPU_* offsets (index = reg
 * number as encoded in exit qualifications: 0 rax, 1 rcx, ... is NOT this
 * order; use vcpu_reg_read/vcpu_reg_write for that). */
struct vcpu_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t cr2;
};

struct shadow_vm;

struct vcpu {
    struct vcpu_regs regs;
    uint64_t launched;
    unsigned cpu;
    bool bsp;
    uint64_t vmxon_pa, vmcs_pa;
    uint64_t shadow_vmcs_pa;        /* VMCS shadowing for L1 (vmx/vmcs_shadow.c), 0 = none */
    bool shadow_active;             /* VMCS01 links it and has shadowing on */
    uint64_t exit_stack_top;
    uint64_t cr0_shadow_ne;         /* NE as the guest last wrote it */
    bool waiting_sipi;              /* in wait-for-SIPI (the post-INIT state) */
    bool init_pending;              /* a virtual INIT to take at the next NMI exit */
    bool nmi_pending;               /* an NMI L1 has not taken yet (vmx/lapic.c) */
    uint64_t nmis_delivered, nmis_windowed;
    unsigned trace_left;
    unsigned exit_reason;           /* basic reason of the exit being handled */
    /* Nested VMX: L2 runs on VMCS02 while in_l2 (vmx/nested_entry.c). */
    bool in_l2;
    uint64_t launched01;            /* VMCS01's launch flag while VMCS02 is current */
    uint64_t vmcs02_pa, vmcs02_for, launched02;
    /* VMCS02 is kept between entries (vmx/nested_entry.c): vmcs12_seen
     * holds VMCS12's slots as VMCS02 last reflected them; only fields
     * that differ are written again. */
    bool vmcs02_ready;
    uint64_t vmcs12_seen_pa;
    uint64_t vpid12_last;           /* L1's VPID at the last entry (L2 TLB tag) */
    uint64_t vmcs02_full, vmcs02_incr, vmcs02_writes;
    uint64_t ept02_root, ept02_for; /* EPT02 and the EPTP12 it shadows */
    uint64_t ept02_release_gen;     /* shadow sets released when EPT02 was last checked */
    struct shadow_vm *l2_vm;        /* the running user VM's device set (vmx/passthrough.c) */
    uint32_t vga_map_gen;           /* the set's A0000 mapping generation EPT02 follows */
    uint64_t vga_mmio;              /* L2 accesses to trapped VGA memory emulated */
    uint64_t msr_bitmap02, io_bitmap02[2];
    uint8_t io02_state;             /* what io_bitmap02 holds (vmx/nested_entry.c) */
    bool l2_cr0_ne, l2_cr4_vmxe;    /* L2's own view of the bits L0 keeps set */
    /* Benchmarks: each reflected L2 exit costs L0 exits and ticks until L1
     * re-enters L2 (a round trip); passthrough accesses are served in L0. */
    bool rt_open;
    unsigned rt_reason;
    uint64_t rt_start, rt_exits;
    uint64_t rt_count[EXIT_REASON_MAX], rt_l0_exits[EXIT_REASON_MAX], rt_ticks[EXIT_REASON_MAX];
    uint64_t pt_served, l2_io_reflected, l2_irqs_injected, apic_eois_kept;
    bool l0_intr_window;            /* L0 set interrupt-window exiting in VMCS02 */
    uint64_t exits[EXIT_REASON_MAX];
    uint64_t exit_cycles[EXIT_REASON_MAX];  /* TSC ticks spent in L0, by reason */
};

_Static_assert(__builtin_offsetof(struct vcpu, regs.rbx) == VCPU_RBX, "entry.S offsets");
_Static_assert(__builtin_offsetof(struct vcpu, regs.r15) == VCPU_R15, "entry.S offsets");
_Static_assert(__builtin_offsetof(struct vcpu, regs.cr2) == VCPU_CR2, "entry.S offsets");
_Static_assert(__builtin_offsetof(struct vcpu, launched) == VCPU_LAUNCHED, "entry.S offsets");

/* Register number as the SDM encodes it (0 = RAX, 1 = RCX, 2 = RDX, 3 = RBX,
 * 4 = RSP (in the VMCS), 5 = RBP, 6 = RSI, 7 = RDI, 8-15 = R8-R15). */
uint64_t vcpu_reg_read(struct vcpu *v, unsigned sdm_reg);
void vcpu_reg_write(struct vcpu *v, unsigned sdm_reg, uint64_t val);

#endif
#endif
