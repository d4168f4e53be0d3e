/* The cloud VM: VMCS01 on every CPU, its exits, and stopping it. */
#ifndef VMX_CLOUD_H
#define VMX_CLOUD_H
#include "vmx/bios.h"
#include "vmx/nested_caps.h"
#include "vmx/vcpu.h"

struct cloud_vm {
    uint64_t eptp;
    uint64_t ept01_limit;       /* EPT01 maps [0, this) */
    uint64_t io_bitmap_pa[2];
    uint64_t msr_bitmap_pa;
    struct bios_view bios;
    bool nested;                /* VMX offered to the cloud VM */
    struct nested_caps caps;    /* what it sees in IA32_VMX_* */
    volatile bool ready;        /* shared structures built: CPUs may launch */
    volatile bool stopped;      /* a fatal guest event: no CPU resumes it */
    volatile unsigned launched; /* CPUs that entered the guest */
};

extern struct cloud_vm cloud;

/* Exit handling (vmx/exits.c). */
struct vcpu *vmx_exit_handler(struct vcpu *v);
void vmx_entry_failed(struct vcpu *v, uint64_t rflags);
_Noreturn void vmx_enter(struct vcpu *v);
void vmcs_dump(void);
void vcpu_reset_real_mode(struct vcpu *v, uint16_t cs, uint16_t ip, unsigned activity);
_Noreturn void cloud_stop(struct vcpu *v, const char *why);
void cloud_print_exit_stats(void);
/* For exit handlers: inject a hardware exception at the next entry; skip
 * the instruction that exited (clearing any STI/MOV SS shadow). */
void vmx_inject_exception(unsigned vec, bool has_error, uint32_t error);
void vmx_skip_instruction(void);

/* Host-state fields of the current VMCS (shared by VMCS01 and VMCS02). */
void vmx_write_host_state(struct vcpu *v);
/* A control value: `want` plus the CPU's must-be-1 bits, within its may-be-1
 * bits; panics if `required` bits are not available. */
uint32_t vmx_ctl_adjust(uint32_t cap_msr, uint32_t want, uint32_t required, const char *name);

/* The vCPU running on `cpu`, or NULL before it launched. */
struct vcpu *cloud_vcpu(unsigned cpu);

#endif
