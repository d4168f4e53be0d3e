/* vmx/: public interface. */
#ifndef VMX_VMX_H
#define VMX_VMX_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The VMX capability MSRs of one CPU, raw, as read. */
struct vmx_caps {
    bool supported;             /* CPUID.1:ECX.VMX */
    uint64_t feature_control;
    uint64_t basic;
    uint64_t pin, proc, exit, entry;    /* TRUE_* variants when basic says so */
    uint64_t proc2, ept_vpid, vmfunc;   /* 0 where the CPU has none */
    uint64_t misc, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, vmcs_enum;
};

/* The capabilities read on `cpu` at boot. */
const struct vmx_caps *vmx_caps_of(unsigned cpu);

/* Pure helpers (host-tested). */
static inline uint32_t vmx_allowed1(uint64_t ctl_msr) { return (uint32_t)(ctl_msr >> 32); }
static inline uint32_t vmx_allowed0(uint64_t ctl_msr) { return (uint32_t)ctl_msr; }
bool vmx_caps_equal(const struct vmx_caps *a, const struct vmx_caps *b);
/* One-line summaries for the console; return the length written. */
int vmx_caps_describe_basic(const struct vmx_caps *c, char *buf, size_t len);
int vmx_caps_describe_features(const struct vmx_caps *c, char *buf, size_t len);
int vmx_caps_describe_ept(const struct vmx_caps *c, char *buf, size_t len);

#endif
