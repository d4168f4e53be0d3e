/* The VMX capabilities offered to the cloud VM (L1), derived from the CPU's. */
#ifndef VMX_NESTED_CAPS_H
#define VMX_NESTED_CAPS_H
#include "vmx/vmx.h"

#define NESTED_VMCS_REVISION 0x5642     /* "VB": VMCS12 is vsbypass's format */
#define NESTED_MSR_FIRST     0x480
#define NESTED_MSR_COUNT     0x12       /* 0x480 .. 0x491 */

struct nested_caps {
    uint64_t msr[NESTED_MSR_COUNT];
    bool present[NESTED_MSR_COUNT];     /* false: RDMSR raises #GP */
};

/*
 * Computes what L1 sees in IA32_VMX_* from the host's capabilities: EPT
 * (4-level, WB, 2 MiB pages, INVEPT single + all), VPID (every INVVPID
 * type), unrestricted guest, I/O and MSR bitmaps, virtual NMIs, PAT/EFER
 * load/save, activity HLT, TRUE controls. Hidden: VMCS shadowing, PML,
 * APIC virtualization, posted interrupts, VMFUNC, #VE, TSC scaling, the
 * preemption timer, EPT A/D bits, MSR-list counts beyond the minimum.
 * Every allowed-1 bit is also allowed by the host, so anything L1 may ask
 * for can be run. Returns false if the host lacks what nesting needs.
 */
bool nested_caps_compute(const struct vmx_caps *host, struct nested_caps *out);

/* RDMSR of a VMX capability MSR: 0 and the value, or -1 for #GP. */
int nested_caps_rdmsr(const struct nested_caps *c, uint32_t msr, uint64_t *val);

#endif
