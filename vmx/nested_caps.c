/* Capability MSRs for L1 (SDM Appendix A, "VMX Capability Reporting Facility"). */
#include "vmx/nested_caps.h"
#include "core/libc.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_msr.h"

/* "Default1" bits: reserved controls that must be 1 (SDM A.2). */
#define PIN_DEFAULT1        0x00000016u
#define PROC_DEFAULT1       0x0401E172u
#define PROC_TRUE_DEFAULT1  0x04006172u     /* CR3-load/store exiting may be 0 */
#define EXIT_DEFAULT1       0x00036DFFu
#define EXIT_TRUE_DEFAULT1  0x00036DFBu     /* save-debug-controls may be 0 */
#define ENTRY_DEFAULT1      0x000011FFu
#define ENTRY_TRUE_DEFAULT1 0x000011FBu     /* load-debug-controls may be 0 */

#define PIN_OFFERED   (PIN_EXT_INTR_EXIT | PIN_NMI_EXIT | PIN_VIRTUAL_NMI)
#define PROC_OFFERED  (PROC_INTR_WINDOW_EXIT | PROC_TSC_OFFSETTING | PROC_HLT_EXIT |       \
                       PROC_INVLPG_EXIT | PROC_MWAIT_EXIT | PROC_RDPMC_EXIT |              \
                       PROC_RDTSC_EXIT | PROC_CR3_LOAD_EXIT | PROC_CR3_STORE_EXIT |        \
                       PROC_CR8_LOAD_EXIT | PROC_CR8_STORE_EXIT | PROC_NMI_WINDOW_EXIT |   \
                       PROC_MOV_DR_EXIT | PROC_UNCOND_IO_EXIT | PROC_USE_IO_BITMAPS |      \
                       PROC_USE_MSR_BITMAPS | PROC_MONITOR_EXIT | PROC_PAUSE_EXIT |        \
                       PROCBASED_ACTIVATE_SECONDARY)
#define PROC2_OFFERED (PROCBASED2_ENABLE_EPT | PROCBASED2_ENABLE_RDTSCP |                  \
                       PROCBASED2_ENABLE_VPID | PROCBASED2_UNRESTRICTED_GUEST |            \
                       PROCBASED2_ENABLE_INVPCID | PROCBASED2_WBINVD_EXIT |                \
                       PROCBASED2_DESC_TABLE_EXIT)
#define EXIT_OFFERED  (EXIT_SAVE_DEBUG | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT |\
                       EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER)
#define ENTRY_OFFERED (ENTRY_LOAD_DEBUG | ENTRY_IA32E_MODE | ENTRY_LOAD_PAT | ENTRY_LOAD_EFER)
#define EPT_OFFERED   (EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_UC | EPT_CAP_MEMTYPE_WB |           \
                       EPT_CAP_2M_PAGE | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE |          \
                       EPT_CAP_INVEPT_ALL | VPID_CAP_INVVPID | VPID_CAP_INVVPID_ADDR |     \
                       VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL |                    \
                       VPID_CAP_INVVPID_SINGLE_NONGLOBAL)
/* IA32_VMX_MISC: bit 5 (LMA saved in the entry control), activity HLT (bit 6). */
#define MISC_OFFERED  ((1ULL << 5) | (1ULL << 6))

static void set(struct nested_caps *c, uint32_t msr, uint64_t v)
{
    c->msr[msr - NESTED_MSR_FIRST] = v;
    c->present[msr - NESTED_MSR_FIRST] = true;
}

/* allowed-0 in the low half, allowed-1 in the high half; allowed-1 within the host's. */
static uint64_t ctl(uint32_t default1, uint32_t offered, uint64_t host)
{
    uint32_t a1 = default1 | (offered & vmx_allowed1(host));
    return ((uint64_t)a1 << 32) | default1;
}

bool nested_caps_compute(const struct vmx_caps *host, struct nested_caps *out)
{
    memset(out, 0, sizeof(*out));
    if (!host->supported || !(host->basic & VMX_BASIC_TRUE_CTLS))
        return false;
    uint32_t need2 = PROCBASED2_ENABLE_EPT | PROCBASED2_ENABLE_VPID | PROCBASED2_UNRESTRICTED_GUEST;
    if ((vmx_allowed1(host->proc2) & need2) != need2)
        return false;

    uint64_t basic = NESTED_VMCS_REVISION | (4096ULL << 32) | ((uint64_t)VMX_MEMTYPE_WB << 50) |
                     VMX_BASIC_TRUE_CTLS | (host->basic & VMX_BASIC_INOUT_INFO);
    set(out, MSR_IA32_VMX_BASIC, basic);
    /* The host's "true" MSRs describe what it can run; both views derive from them. */
    set(out, MSR_IA32_VMX_PINBASED_CTLS, ctl(PIN_DEFAULT1, PIN_OFFERED, host->pin));
    set(out, MSR_IA32_VMX_TRUE_PINBASED_CTLS, ctl(PIN_DEFAULT1, PIN_OFFERED, host->pin));
    set(out, MSR_IA32_VMX_PROCBASED_CTLS, ctl(PROC_DEFAULT1, PROC_OFFERED, host->proc));
    set(out, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, ctl(PROC_TRUE_DEFAULT1, PROC_OFFERED, host->proc));
    set(out, MSR_IA32_VMX_EXIT_CTLS, ctl(EXIT_DEFAULT1, EXIT_OFFERED, host->exit));
    set(out, MSR_IA32_VMX_TRUE_EXIT_CTLS, ctl(EXIT_TRUE_DEFAULT1, EXIT_OFFERED, host->exit));
    set(out, MSR_IA32_VMX_ENTRY_CTLS, ctl(ENTRY_DEFAULT1, ENTRY_OFFERED, host->entry));
    set(out, MSR_IA32_VMX_TRUE_ENTRY_CTLS, ctl(ENTRY_TRUE_DEFAULT1, ENTRY_OFFERED, host->entry));
    set(out, MSR_IA32_VMX_PROCBASED_CTLS2, (uint64_t)(PROC2_OFFERED & vmx_allowed1(host->proc2)) << 32);
    set(out, MSR_IA32_VMX_EPT_VPID_CAP, host->ept_vpid & EPT_OFFERED);
    set(out, MSR_IA32_VMX_MISC, host->misc & MISC_OFFERED);
    set(out, MSR_IA32_VMX_CR0_FIXED0, host->cr0_fixed0);
    set(out, MSR_IA32_VMX_CR0_FIXED1, host->cr0_fixed1);
    set(out, MSR_IA32_VMX_CR4_FIXED0, host->cr4_fixed0);
    set(out, MSR_IA32_VMX_CR4_FIXED1, host->cr4_fixed1);
    set(out, MSR_IA32_VMX_VMCS_ENUM, host->vmcs_enum);
    /* IA32_VMX_VMFUNC stays absent: VMFUNC is not offered. */
    return true;
}

int nested_caps_rdmsr(const struct nested_caps *c, uint32_t msr, uint64_t *val)
{
    if (msr < NESTED_MSR_FIRST || msr >= NESTED_MSR_FIRST + NESTED_MSR_COUNT ||
        !c->present[msr - NESTED_MSR_FIRST])
        return -1;
    *val = c->msr[msr - NESTED_MSR_FIRST];
    return 0;
}
