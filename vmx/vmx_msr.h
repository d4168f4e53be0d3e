/*
 * VMX capability MSRs and control bits. Pure data, grouped by the SDM
 * appendix "VMX Capability Reporting Facility" and the VMCS control tables
 * ("Pin-Based VM-Execution Controls", "Processor-Based ...", ...).
 */
#ifndef VMX_VMX_MSR_H
#define VMX_VMX_MSR_H

/* Capability MSRs (SDM Appendix A). */
#define MSR_IA32_VMX_BASIC              0x480
#define MSR_IA32_VMX_PINBASED_CTLS      0x481
#define MSR_IA32_VMX_PROCBASED_CTLS     0x482
#define MSR_IA32_VMX_EXIT_CTLS          0x483
#define MSR_IA32_VMX_ENTRY_CTLS         0x484
#define MSR_IA32_VMX_MISC               0x485
#define MSR_IA32_VMX_CR0_FIXED0         0x486
#define MSR_IA32_VMX_CR0_FIXED1         0x487
#define MSR_IA32_VMX_CR4_FIXED0         0x488
#define MSR_IA32_VMX_CR4_FIXED1         0x489
#define MSR_IA32_VMX_VMCS_ENUM          0x48A
#define MSR_IA32_VMX_PROCBASED_CTLS2    0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP       0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS     0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS    0x490
#define MSR_IA32_VMX_VMFUNC             0x491

/* IA32_FEATURE_CONTROL (0x3A). */
#define FEATURE_CONTROL_LOCK            (1ULL << 0)
#define FEATURE_CONTROL_VMX_IN_SMX      (1ULL << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ULL << 2)

/* IA32_VMX_BASIC fields (A.1 "Basic VMX Information"). */
#define VMX_BASIC_REVISION(b)           ((uint32_t)((b) & 0x7FFFFFFF))
#define VMX_BASIC_VMCS_SIZE(b)          ((uint32_t)(((b) >> 32) & 0x1FFF))
#define VMX_BASIC_PHYS_32BIT            (1ULL << 48)
#define VMX_BASIC_DUAL_MONITOR          (1ULL << 49)
#define VMX_BASIC_MEMTYPE(b)            ((unsigned)(((b) >> 50) & 0xF))
#define VMX_BASIC_INOUT_INFO            (1ULL << 54)
#define VMX_BASIC_TRUE_CTLS             (1ULL << 55)
#define VMX_MEMTYPE_WB                  6

/* CPUID.1:ECX */
#define CPUID_1_ECX_VMX                 (1u << 5)

/* Primary processor-based controls (Table "Definitions of Primary Processor-Based ..."). */
#define PROCBASED_ACTIVATE_SECONDARY    (1u << 31)

/* Secondary processor-based controls. */
#define PROCBASED2_VIRT_APIC_ACCESS     (1u << 0)
#define PROCBASED2_ENABLE_EPT           (1u << 1)
#define PROCBASED2_DESC_TABLE_EXIT      (1u << 2)
#define PROCBASED2_ENABLE_RDTSCP        (1u << 3)
#define PROCBASED2_VIRT_X2APIC          (1u << 4)
#define PROCBASED2_ENABLE_VPID          (1u << 5)
#define PROCBASED2_WBINVD_EXIT          (1u << 6)
#define PROCBASED2_UNRESTRICTED_GUEST   (1u << 7)
#define PROCBASED2_APIC_REG_VIRT        (1u << 8)
#define PROCBASED2_VIRT_INTR_DELIVERY   (1u << 9)
#define PROCBASED2_PAUSE_LOOP_EXIT      (1u << 10)
#define PROCBASED2_RDRAND_EXIT          (1u << 11)
#define PROCBASED2_ENABLE_INVPCID       (1u << 12)
#define PROCBASED2_ENABLE_VMFUNC        (1u << 13)
#define PROCBASED2_VMCS_SHADOWING       (1u << 14)
#define PROCBASED2_RDSEED_EXIT          (1u << 16)
#define PROCBASED2_ENABLE_PML           (1u << 17)
#define PROCBASED2_EPT_VE               (1u << 18)
#define PROCBASED2_ENABLE_XSAVES        (1u << 20)
#define PROCBASED2_TSC_SCALING          (1u << 25)

/* IA32_VMX_EPT_VPID_CAP (A.10). */
#define EPT_CAP_EXEC_ONLY               (1ULL << 0)
#define EPT_CAP_WALK_4                  (1ULL << 6)
#define EPT_CAP_MEMTYPE_UC              (1ULL << 8)
#define EPT_CAP_MEMTYPE_WB              (1ULL << 14)
#define EPT_CAP_2M_PAGE                 (1ULL << 16)
#define EPT_CAP_1G_PAGE                 (1ULL << 17)
#define EPT_CAP_INVEPT                  (1ULL << 20)
#define EPT_CAP_AD_BITS                 (1ULL << 21)
#define EPT_CAP_INVEPT_SINGLE           (1ULL << 25)
#define EPT_CAP_INVEPT_ALL              (1ULL << 26)
#define VPID_CAP_INVVPID                (1ULL << 32)
#define VPID_CAP_INVVPID_ADDR           (1ULL << 40)
#define VPID_CAP_INVVPID_SINGLE         (1ULL << 41)
#define VPID_CAP_INVVPID_ALL            (1ULL << 42)
#define VPID_CAP_INVVPID_SINGLE_NONGLOBAL (1ULL << 43)

#endif
