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
    bool nmi_window;            /* VMCS01 has virtual NMIs: NMI-window exiting works */
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
/* The exit interrupted the delivery of an event (IDT-vectoring information
 * valid): deliver it again at the next entry, or it is lost. */
void vmx_reinject_vectoring(void);

/* Host-state fields of the current VMCS (shared by VMCS01 and VMCS02). */
void vmx_write_host_state(struct vcpu *v);
/* A control value: `want` plus the CPU's must-be-1 bits, within its may-be-1
 * bits; panics if `required` bits are not available. */
uint32_t vmx_ctl_adjust(uint32_t cap_msr, uint32_t want, uint32_t required, const char *name);

/* MSRs vsbypass traps for the cloud VM (IA32_FEATURE_CONTROL, the VMX
 * capabilities): 0 and the value the guest reads; 1 for one that reads as
 * #GP; -1 for an MSR the guest reaches directly. Writes to the trapped
 * ones are refused (#GP). */
int cloud_msr_emulated(uint32_t msr, uint64_t *val);

/* The vCPU running on `cpu`, or NULL before it launched. */
struct vcpu *cloud_vcpu(unsigned cpu);

#endif
