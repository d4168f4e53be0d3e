/*
 * VMCS field encodings, control bits and exit reasons. Pure data, grouped as
 * in the SDM appendix "Field Encoding in VMCS" (by width, then type) and the
 * control tables of "VM-Execution Control Fields", "VM-Exit Control Fields",
 * "VM-Entry Control Fields", and appendix "VMX Basic Exit Reasons".
 */
#ifndef VMX_VMCS_FIELDS_H
#define VMX_VMCS_FIELDS_H

/* 16-bit control, guest-state and host-state fields. */
#define VMCS_VPID                       0x0000
#define VMCS_GUEST_ES_SEL               0x0800
#define VMCS_GUEST_CS_SEL               0x0802
#define VMCS_GUEST_SS_SEL               0x0804
#define VMCS_GUEST_DS_SEL               0x0806
#define VMCS_GUEST_FS_SEL               0x0808
#define VMCS_GUEST_GS_SEL               0x080A
#define VMCS_GUEST_LDTR_SEL             0x080C
#define VMCS_GUEST_TR_SEL               0x080E
#define VMCS_HOST_ES_SEL                0x0C00
#define VMCS_HOST_CS_SEL                0x0C02
#define VMCS_HOST_SS_SEL                0x0C04
#define VMCS_HOST_DS_SEL                0x0C06
#define VMCS_HOST_FS_SEL                0x0C08
#define VMCS_HOST_GS_SEL                0x0C0A
#define VMCS_HOST_TR_SEL                0x0C0C

/* 64-bit control fields. */
#define VMCS_IO_BITMAP_A                0x2000
#define VMCS_IO_BITMAP_B                0x2002
#define VMCS_MSR_BITMAP                 0x2004
#define VMCS_EXIT_MSR_STORE_ADDR        0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR         0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR        0x200A
#define VMCS_TSC_OFFSET                 0x2010
#define VMCS_EPT_POINTER                0x201A
/* 64-bit read-only data field. */
#define VMCS_GUEST_PHYS_ADDR            0x2400
/* 64-bit guest-state fields. */
#define VMCS_LINK_POINTER               0x2800
#define VMCS_GUEST_DEBUGCTL             0x2802
#define VMCS_GUEST_PAT                  0x2804
#define VMCS_GUEST_EFER                 0x2806
#define VMCS_GUEST_PDPTE0               0x280A
#define VMCS_GUEST_PDPTE1               0x280C
#define VMCS_GUEST_PDPTE2               0x280E
#define VMCS_GUEST_PDPTE3               0x2810
/* 64-bit host-state fields. */
#define VMCS_HOST_PAT                   0x2C00
#define VMCS_HOST_EFER                  0x2C02

/* 32-bit control fields. */
#define VMCS_PIN_CTLS                   0x4000
#define VMCS_PROC_CTLS                  0x4002
#define VMCS_EXCEPTION_BITMAP           0x4004
#define VMCS_PF_ERROR_MASK              0x4006
#define VMCS_PF_ERROR_MATCH             0x4008
#define VMCS_CR3_TARGET_COUNT           0x400A
#define VMCS_EXIT_CTLS                  0x400C
#define VMCS_EXIT_MSR_STORE_COUNT       0x400E
#define VMCS_EXIT_MSR_LOAD_COUNT        0x4010
#define VMCS_ENTRY_CTLS                 0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT       0x4014
#define VMCS_ENTRY_INTR_INFO            0x4016
#define VMCS_ENTRY_EXCEPTION_ERROR      0x4018
#define VMCS_ENTRY_INSTR_LEN            0x401A
#define VMCS_TPR_THRESHOLD              0x401C
#define VMCS_PROC_CTLS2                 0x401E
/* 32-bit read-only data fields. */
#define VMCS_INSTR_ERROR                0x4400
#define VMCS_EXIT_REASON                0x4402
#define VMCS_EXIT_INTR_INFO             0x4404
#define VMCS_EXIT_INTR_ERROR            0x4406
#define VMCS_IDT_VECTORING_INFO         0x4408
#define VMCS_IDT_VECTORING_ERROR        0x440A
#define VMCS_EXIT_INSTR_LEN             0x440C
#define VMCS_EXIT_INSTR_INFO            0x440E
/* 32-bit guest-state fields. */
#define VMCS_GUEST_ES_LIMIT             0x4800
#define VMCS_GUEST_CS_LIMIT             0x4802
#define VMCS_GUEST_SS_LIMIT             0x4804
#define VMCS_GUEST_DS_LIMIT             0x4806
#define VMCS_GUEST_FS_LIMIT             0x4808
#define VMCS_GUEST_GS_LIMIT             0x480A
#define VMCS_GUEST_LDTR_LIMIT           0x480C
#define VMCS_GUEST_TR_LIMIT             0x480E
#define VMCS_GUEST_GDTR_LIMIT           0x4810
#define VMCS_GUEST_IDTR_LIMIT           0x4812
#define VMCS_GUEST_ES_AR                0x4814
#define VMCS_GUEST_CS_AR                0x4816
#define VMCS_GUEST_SS_AR                0x4818
#define VMCS_GUEST_DS_AR                0x481A
#define VMCS_GUEST_FS_AR                0x481C
#define VMCS_GUEST_GS_AR                0x481E
#define VMCS_GUEST_LDTR_AR              0x4820
#define VMCS_GUEST_TR_AR                0x4822
#define VMCS_GUEST_INTERRUPTIBILITY     0x4824
#define VMCS_GUEST_ACTIVITY_STATE       0x4826
#define VMCS_GUEST_SYSENTER_CS          0x482A
/* 32-bit host-state field. */
#define VMCS_HOST_SYSENTER_CS           0x4C00

/* Natural-width control fields. */
#define VMCS_CR0_MASK                   0x6000
#define VMCS_CR4_MASK                   0x6002
#define VMCS_CR0_SHADOW                 0x6004
#define VMCS_CR4_SHADOW                 0x6006
/* Natural-width read-only data fields. */
#define VMCS_EXIT_QUALIFICATION         0x6400
#define VMCS_GUEST_LINEAR_ADDR          0x640A
/* Natural-width guest-state fields. */
#define VMCS_GUEST_CR0                  0x6800
#define VMCS_GUEST_CR3                  0x6802
#define VMCS_GUEST_CR4                  0x6804
#define VMCS_GUEST_ES_BASE              0x6806
#define VMCS_GUEST_CS_BASE              0x6808
#define VMCS_GUEST_SS_BASE              0x680A
#define VMCS_GUEST_DS_BASE              0x680C
#define VMCS_GUEST_FS_BASE              0x680E
#define VMCS_GUEST_GS_BASE              0x6810
#define VMCS_GUEST_LDTR_BASE            0x6812
#define VMCS_GUEST_TR_BASE              0x6814
#define VMCS_GUEST_GDTR_BASE            0x6816
#define VMCS_GUEST_IDTR_BASE            0x6818
#define VMCS_GUEST_DR7                  0x681A
#define VMCS_GUEST_RSP                  0x681C
#define VMCS_GUEST_RIP                  0x681E
#define VMCS_GUEST_RFLAGS               0x6820
#define VMCS_GUEST_PENDING_DBG          0x6822
#define VMCS_GUEST_SYSENTER_ESP         0x6824
#define VMCS_GUEST_SYSENTER_EIP         0x6826
/* Natural-width host-state fields. */
#define VMCS_HOST_CR0                   0x6C00
#define VMCS_HOST_CR3                   0x6C02
#define VMCS_HOST_CR4                   0x6C04
#define VMCS_HOST_FS_BASE               0x6C06
#define VMCS_HOST_GS_BASE               0x6C08
#define VMCS_HOST_TR_BASE               0x6C0A
#define VMCS_HOST_GDTR_BASE             0x6C0C
#define VMCS_HOST_IDTR_BASE             0x6C0E
#define VMCS_HOST_SYSENTER_ESP          0x6C10
#define VMCS_HOST_SYSENTER_EIP          0x6C12
#define VMCS_HOST_RSP                   0x6C14
#define VMCS_HOST_RIP                   0x6C16

/* Pin-based VM-execution controls. */
#define PIN_EXT_INTR_EXIT               (1u << 0)
#define PIN_NMI_EXIT                    (1u << 3)
#define PIN_VIRTUAL_NMI                 (1u << 5)
#define PIN_PREEMPT_TIMER               (1u << 6)
#ifndef VMCS_PREEMPT_TIMER_VALUE
#define VMCS_PREEMPT_TIMER_VALUE        0x482E
#endif
/* Primary processor-based VM-execution controls. */
#define PROC_INTR_WINDOW_EXIT           (1u << 2)
#define PROC_TSC_OFFSETTING             (1u << 3)
#define PROC_HLT_EXIT                   (1u << 7)
#define PROC_INVLPG_EXIT                (1u << 9)
#define PROC_MWAIT_EXIT                 (1u << 10)
#define PROC_RDPMC_EXIT                 (1u << 11)
#define PROC_RDTSC_EXIT                 (1u << 12)
#define PROC_CR3_LOAD_EXIT              (1u << 15)
#define PROC_CR3_STORE_EXIT             (1u << 16)
#define PROC_CR8_LOAD_EXIT              (1u << 19)
#define PROC_CR8_STORE_EXIT             (1u << 20)
#define PROC_TPR_SHADOW                 (1u << 21)
#define PROC_NMI_WINDOW_EXIT            (1u << 22)
#define PROC_MOV_DR_EXIT                (1u << 23)
#define PROC_UNCOND_IO_EXIT             (1u << 24)
#define PROC_USE_IO_BITMAPS             (1u << 25)
#define PROC_MTF                        (1u << 27)
#define PROC_USE_MSR_BITMAPS            (1u << 28)
#define PROC_MONITOR_EXIT               (1u << 29)
#define PROC_PAUSE_EXIT                 (1u << 30)
/* PROCBASED_ACTIVATE_SECONDARY and PROCBASED2_* are in vmx/vmx_msr.h. */

/* VM-exit controls. */
#define EXIT_SAVE_DEBUG                 (1u << 2)
#define EXIT_HOST_ADDR_SPACE_SIZE       (1u << 9)
#define EXIT_ACK_INTR_ON_EXIT           (1u << 15)
#define EXIT_SAVE_PAT                   (1u << 18)
#define EXIT_LOAD_PAT                   (1u << 19)
#define EXIT_SAVE_EFER                  (1u << 20)
#define EXIT_LOAD_EFER                  (1u << 21)
/* VM-entry controls. */
#define ENTRY_LOAD_DEBUG                (1u << 2)
#define ENTRY_IA32E_MODE                (1u << 9)
#define ENTRY_LOAD_PAT                  (1u << 14)
#define ENTRY_LOAD_EFER                 (1u << 15)

/* Guest activity states. */
#define ACTIVITY_ACTIVE                 0
#define ACTIVITY_HLT                    1
#define ACTIVITY_SHUTDOWN               2
#define ACTIVITY_WAIT_SIPI              3

/* Guest interruptibility state. */
#define INTERRUPTIBILITY_STI            (1u << 0)
#define INTERRUPTIBILITY_MOV_SS         (1u << 1)
#define INTERRUPTIBILITY_SMI            (1u << 2)
#define INTERRUPTIBILITY_NMI            (1u << 3)

/* VM-entry interruption-information field. */
#define INTR_INFO_VALID                 (1u << 31)
#define INTR_INFO_DELIVER_ERROR         (1u << 11)
#define INTR_TYPE_EXTERNAL              (0u << 8)
#define INTR_TYPE_NMI                   (2u << 8)
#define INTR_TYPE_HW_EXCEPTION          (3u << 8)
#define INTR_TYPE_SW_INTR               (4u << 8)

/* Basic exit reasons. */
#define EXIT_REASON_EXCEPTION_NMI       0
#define EXIT_REASON_EXTERNAL_INTR       1
#define EXIT_REASON_TRIPLE_FAULT        2
#define EXIT_REASON_INIT                3
#define EXIT_REASON_SIPI                4
#define EXIT_REASON_IO_SMI              5
#define EXIT_REASON_OTHER_SMI           6
#define EXIT_REASON_INTR_WINDOW         7
#define EXIT_REASON_NMI_WINDOW          8
#define EXIT_REASON_TASK_SWITCH         9
#define EXIT_REASON_CPUID               10
#define EXIT_REASON_GETSEC              11
#define EXIT_REASON_HLT                 12
#define EXIT_REASON_INVD                13
#define EXIT_REASON_INVLPG              14
#define EXIT_REASON_RDPMC               15
#define EXIT_REASON_RDTSC               16
#define EXIT_REASON_RSM                 17
#define EXIT_REASON_VMCALL              18
#define EXIT_REASON_VMCLEAR             19
#define EXIT_REASON_VMLAUNCH            20
#define EXIT_REASON_VMPTRLD             21
#define EXIT_REASON_VMPTRST             22
#define EXIT_REASON_VMREAD              23
#define EXIT_REASON_VMRESUME            24
#define EXIT_REASON_VMWRITE             25
#define EXIT_REASON_VMXOFF              26
#define EXIT_REASON_VMXON               27
#define EXIT_REASON_CR_ACCESS           28
#define EXIT_REASON_DR_ACCESS           29
#define EXIT_REASON_IO                  30
#define EXIT_REASON_RDMSR               31
#define EXIT_REASON_WRMSR               32
#define EXIT_REASON_ENTRY_FAIL_GUEST    33
#define EXIT_REASON_ENTRY_FAIL_MSR      34
#define EXIT_REASON_MWAIT               36
#define EXIT_REASON_MTF                 37
#define EXIT_REASON_MONITOR             39
#define EXIT_REASON_PAUSE               40
#define EXIT_REASON_ENTRY_FAIL_MC       41
#define EXIT_REASON_TPR_BELOW           43
#define EXIT_REASON_APIC_ACCESS         44
#define EXIT_REASON_VIRT_EOI            45
#define EXIT_REASON_GDTR_IDTR           46
#define EXIT_REASON_LDTR_TR             47
#define EXIT_REASON_EPT_VIOLATION       48
#define EXIT_REASON_EPT_MISCONFIG       49
#define EXIT_REASON_INVEPT              50
#define EXIT_REASON_RDTSCP              51
#define EXIT_REASON_PREEMPT_TIMER       52
#define EXIT_REASON_INVVPID             53
#define EXIT_REASON_WBINVD              54
#define EXIT_REASON_XSETBV              55
#define EXIT_REASON_APIC_WRITE          56
#define EXIT_REASON_RDRAND              57
#define EXIT_REASON_INVPCID             58
#define EXIT_REASON_VMFUNC              59
#define EXIT_REASON_ENCLS               60
#define EXIT_REASON_RDSEED              61
#define EXIT_REASON_PML_FULL            62
#define EXIT_REASON_XSAVES              63
#define EXIT_REASON_XRSTORS             64
#define EXIT_REASON_MAX                 65
#define EXIT_REASON_ENTRY_FAILURE_BIT   (1u << 31)

#endif
