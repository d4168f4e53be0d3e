/*
 * Nested VMX: the VMX instructions L1 executes, emulated by vsbypass (pure
 * semantics; vmx/nested_exits.c does the decoding and guest-memory access).
 * VMCS12 lives in vsbypass memory while current: copied in on VMPTRLD and
 * written back on VMCLEAR, so L1 cannot change it between check and use.
 */
#ifndef VMX_NESTED_H
#define VMX_NESTED_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* VM-instruction error numbers (SDM "VM Instruction Error Numbers"). */
#define VMXERR_VMCALL_IN_ROOT           1
#define VMXERR_VMCLEAR_BAD_ADDR         2
#define VMXERR_VMCLEAR_VMXON_PTR        3
#define VMXERR_VMLAUNCH_NOT_CLEAR       4
#define VMXERR_VMRESUME_NOT_LAUNCHED    5
#define VMXERR_VMRESUME_AFTER_VMXOFF    6
#define VMXERR_ENTRY_BAD_CONTROLS       7
#define VMXERR_ENTRY_BAD_HOST_STATE     8
#define VMXERR_VMPTRLD_BAD_ADDR         9
#define VMXERR_VMPTRLD_VMXON_PTR        10
#define VMXERR_VMPTRLD_BAD_REVISION     11
#define VMXERR_UNSUPPORTED_FIELD        12
#define VMXERR_WRITE_READONLY_FIELD     13
#define VMXERR_VMXON_IN_ROOT            15
#define VMXERR_ENTRY_EVENTS_BLOCKED_MOVSS 26
#define VMXERR_INVALID_INVEPT_INVVPID   28

enum nested_result {
    NESTED_SUCCEED,         /* VMsucceed: CF=ZF=...=0 */
    NESTED_FAIL_INVALID,    /* VMfailInvalid: CF=1 */
    NESTED_FAIL_VALID,      /* VMfailValid: ZF=1, error stored in VMCS12 */
    NESTED_UD,              /* inject #UD */
    NESTED_GP,              /* inject #GP(0) */
};

/* What the caller knows about L1's state when it executed the instruction. */
struct nested_cpu {
    unsigned cpl;
    bool protected_mode;    /* CR0.PE */
    bool v8086;             /* RFLAGS.VM */
    bool long_mode;         /* IA32_EFER.LMA */
    bool cs_long;           /* CS.L */
    bool cr4_vmxe;          /* as L1 set it (the shadow) */
    bool cr0_cr4_fixed_ok;  /* L1's CR0/CR4 satisfy IA32_VMX_CR*_FIXED* */
    bool feature_control_ok;/* locked with VMX outside SMX enabled */
    unsigned phys_bits;     /* physical-address width (CPUID 0x80000008) */
};

/* L1 guest-physical memory, as vsbypass lets L1 see it. */
struct nested_mem {
    int (*read)(void *ctx, uint64_t gpa, void *buf, size_t n);
    int (*write)(void *ctx, uint64_t gpa, const void *buf, size_t n);
    void *ctx;
};

#define VMCS12_SIZE 4096

/* Per-L1-vCPU nested state. `vmcs12` is the current VMCS's copy (valid
 * when current_ptr != ~0). */
struct nested_vcpu {
    bool vmxon;
    uint64_t vmxon_ptr;
    uint64_t current_ptr;                       /* ~0ULL: no current VMCS */
    uint32_t revision;                          /* what VMXON/VMPTRLD accept */
    uint8_t vmcs12[VMCS12_SIZE] __attribute__((aligned(8)));
};

void nested_init(struct nested_vcpu *n, uint32_t revision);

/* Each returns the outcome; for NESTED_FAIL_VALID it also stores the error
 * number in VMCS12's VM-instruction error field (readable by VMREAD). */
enum nested_result nested_vmxon(struct nested_vcpu *n, const struct nested_cpu *c,
                                const struct nested_mem *m, uint64_t ptr);
enum nested_result nested_vmxoff(struct nested_vcpu *n, const struct nested_cpu *c);
enum nested_result nested_vmclear(struct nested_vcpu *n, const struct nested_cpu *c,
                                  const struct nested_mem *m, uint64_t ptr);
enum nested_result nested_vmptrld(struct nested_vcpu *n, const struct nested_cpu *c,
                                  const struct nested_mem *m, uint64_t ptr);
enum nested_result nested_vmptrst(struct nested_vcpu *n, const struct nested_cpu *c,
                                  uint64_t *ptr_out);
enum nested_result nested_vmread(struct nested_vcpu *n, const struct nested_cpu *c,
                                 uint64_t field, uint64_t *value);
enum nested_result nested_vmwrite(struct nested_vcpu *n, const struct nested_cpu *c,
                                  uint64_t field, uint64_t value);

/* Direct access to the current VMCS12 for vsbypass itself (no checks of
 * CPL/mode; read-only fields writable). Return -1 for unknown fields. */
int vmcs12_get(const struct nested_vcpu *n, uint32_t field, uint64_t *value);
int vmcs12_set(struct nested_vcpu *n, uint32_t field, uint64_t value);
/* VMCS12 launch state: 0 clear, 1 launched. */
int vmcs12_launch_state(const struct nested_vcpu *n);
void vmcs12_set_launch_state(struct nested_vcpu *n, int launched);

#endif
