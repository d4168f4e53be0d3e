/* VMCS12 field table and field access (SDM appendix "Field Encoding in VMCS"). */
#include "vmx/vmcs12.h"
#include "core/libc.h"

/*
 * Every field KVM and Xen use as L1, by width then type; a field's slot is
 * its position here. Also held: fields of controls not offered yet (TPR
 * shadow, APIC-access page, PAUSE-loop exiting, preemption timer, interrupt
 * status). Absent, so that VMREAD/VMWRITE fail as on a processor without
 * them: posted interrupts, PML, EOI-exit bitmaps, VM functions, EPTP
 * switching, VMCS shadowing, #VE, XSS/ENCLS exiting, TSC scaling, MPX.
 */
#define VMCS12_FIELDS(X)                                                                   \
    /* 16-bit control, guest-state, host-state */                                          \
    X(VMCS_VPID)                                                                           \
    X(VMCS_GUEST_ES_SEL) X(VMCS_GUEST_CS_SEL) X(VMCS_GUEST_SS_SEL) X(VMCS_GUEST_DS_SEL)    \
    X(VMCS_GUEST_FS_SEL) X(VMCS_GUEST_GS_SEL) X(VMCS_GUEST_LDTR_SEL) X(VMCS_GUEST_TR_SEL)  \
    X(VMCS_GUEST_INTR_STATUS)                                                              \
    X(VMCS_HOST_ES_SEL) X(VMCS_HOST_CS_SEL) X(VMCS_HOST_SS_SEL) X(VMCS_HOST_DS_SEL)        \
    X(VMCS_HOST_FS_SEL) X(VMCS_HOST_GS_SEL) X(VMCS_HOST_TR_SEL)                            \
    /* 64-bit control, read-only, guest-state, host-state */                               \
    X(VMCS_IO_BITMAP_A) X(VMCS_IO_BITMAP_B) X(VMCS_MSR_BITMAP)                             \
    X(VMCS_EXIT_MSR_STORE_ADDR) X(VMCS_EXIT_MSR_LOAD_ADDR) X(VMCS_ENTRY_MSR_LOAD_ADDR)     \
    X(VMCS_EXEC_VMCS_PTR) X(VMCS_TSC_OFFSET) X(VMCS_VIRT_APIC_ADDR)                        \
    X(VMCS_APIC_ACCESS_ADDR) X(VMCS_EPT_POINTER)                                           \
    X(VMCS_GUEST_PHYS_ADDR)                                                                \
    X(VMCS_LINK_POINTER) X(VMCS_GUEST_DEBUGCTL) X(VMCS_GUEST_PAT) X(VMCS_GUEST_EFER)       \
    X(VMCS_GUEST_PERF_GLOBAL_CTRL) X(VMCS_GUEST_PDPTE0) X(VMCS_GUEST_PDPTE1)               \
    X(VMCS_GUEST_PDPTE2) X(VMCS_GUEST_PDPTE3)                                              \
    X(VMCS_HOST_PAT) X(VMCS_HOST_EFER) X(VMCS_HOST_PERF_GLOBAL_CTRL)                       \
    /* 32-bit control */                                                                   \
    X(VMCS_PIN_CTLS) X(VMCS_PROC_CTLS) X(VMCS_EXCEPTION_BITMAP) X(VMCS_PF_ERROR_MASK)      \
    X(VMCS_PF_ERROR_MATCH) X(VMCS_CR3_TARGET_COUNT) X(VMCS_EXIT_CTLS)                      \
    X(VMCS_EXIT_MSR_STORE_COUNT) X(VMCS_EXIT_MSR_LOAD_COUNT) X(VMCS_ENTRY_CTLS)            \
    X(VMCS_ENTRY_MSR_LOAD_COUNT) X(VMCS_ENTRY_INTR_INFO) X(VMCS_ENTRY_EXCEPTION_ERROR)     \
    X(VMCS_ENTRY_INSTR_LEN) X(VMCS_TPR_THRESHOLD) X(VMCS_PROC_CTLS2) X(VMCS_PLE_GAP)       \
    X(VMCS_PLE_WINDOW)                                                                     \
    /* 32-bit read-only */                                                                 \
    X(VMCS_INSTR_ERROR) X(VMCS_EXIT_REASON) X(VMCS_EXIT_INTR_INFO) X(VMCS_EXIT_INTR_ERROR) \
    X(VMCS_IDT_VECTORING_INFO) X(VMCS_IDT_VECTORING_ERROR) X(VMCS_EXIT_INSTR_LEN)          \
    X(VMCS_EXIT_INSTR_INFO)                                                                \
    /* 32-bit guest-state, host-state */                                                   \
    X(VMCS_GUEST_ES_LIMIT) X(VMCS_GUEST_CS_LIMIT) X(VMCS_GUEST_SS_LIMIT)                   \
    X(VMCS_GUEST_DS_LIMIT) X(VMCS_GUEST_FS_LIMIT) X(VMCS_GUEST_GS_LIMIT)                   \
    X(VMCS_GUEST_LDTR_LIMIT) X(VMCS_GUEST_TR_LIMIT) X(VMCS_GUEST_GDTR_LIMIT)               \
    X(VMCS_GUEST_IDTR_LIMIT) X(VMCS_GUEST_ES_AR) X(VMCS_GUEST_CS_AR) X(VMCS_GUEST_SS_AR)   \
    X(VMCS_GUEST_DS_AR) X(VMCS_GUEST_FS_AR) X(VMCS_GUEST_GS_AR) X(VMCS_GUEST_LDTR_AR)      \
    X(VMCS_GUEST_TR_AR) X(VMCS_GUEST_INTERRUPTIBILITY) X(VMCS_GUEST_ACTIVITY_STATE)        \
    X(VMCS_GUEST_SMBASE) X(VMCS_GUEST_SYSENTER_CS) X(VMCS_PREEMPT_TIMER_VALUE)             \
    X(VMCS_HOST_SYSENTER_CS)                                                               \
    /* natural-width control, read-only */                                                 \
    X(VMCS_CR0_MASK) X(VMCS_CR4_MASK) X(VMCS_CR0_SHADOW) X(VMCS_CR4_SHADOW)                \
    X(VMCS_CR3_TARGET0) X(VMCS_CR3_TARGET1) X(VMCS_CR3_TARGET2) X(VMCS_CR3_TARGET3)        \
    X(VMCS_EXIT_QUALIFICATION) X(VMCS_IO_RCX) X(VMCS_IO_RSI) X(VMCS_IO_RDI)                \
    X(VMCS_IO_RIP) X(VMCS_GUEST_LINEAR_ADDR)                                               \
    /* natural-width guest-state */                                                        \
    X(VMCS_GUEST_CR0) X(VMCS_GUEST_CR3) X(VMCS_GUEST_CR4) X(VMCS_GUEST_ES_BASE)            \
    X(VMCS_GUEST_CS_BASE) X(VMCS_GUEST_SS_BASE) X(VMCS_GUEST_DS_BASE)                      \
    X(VMCS_GUEST_FS_BASE) X(VMCS_GUEST_GS_BASE) X(VMCS_GUEST_LDTR_BASE)                    \
    X(VMCS_GUEST_TR_BASE) X(VMCS_GUEST_GDTR_BASE) X(VMCS_GUEST_IDTR_BASE)                  \
    X(VMCS_GUEST_DR7) X(VMCS_GUEST_RSP) X(VMCS_GUEST_RIP) X(VMCS_GUEST_RFLAGS)             \
    X(VMCS_GUEST_PENDING_DBG) X(VMCS_GUEST_SYSENTER_ESP) X(VMCS_GUEST_SYSENTER_EIP)        \
    /* natural-width host-state */                                                         \
    X(VMCS_HOST_CR0) X(VMCS_HOST_CR3) X(VMCS_HOST_CR4) X(VMCS_HOST_FS_BASE)                \
    X(VMCS_HOST_GS_BASE) X(VMCS_HOST_TR_BASE) X(VMCS_HOST_GDTR_BASE)                       \
    X(VMCS_HOST_IDTR_BASE) X(VMCS_HOST_SYSENTER_ESP) X(VMCS_HOST_SYSENTER_EIP)             \
    X(VMCS_HOST_RSP) X(VMCS_HOST_RIP)

#define VMCS12_SLOT_NAME(f) VMCS12_SLOT_##f,
enum { VMCS12_FIELDS(VMCS12_SLOT_NAME) VMCS12_FIELD_COUNT };
_Static_assert(VMCS12_SLOT_OFF + 8 * VMCS12_FIELD_COUNT <= VMCS12_SIZE, "VMCS12 exceeds 4 KiB");
_Static_assert(VMCS12_FIELD_COUNT < 256, "slots must fit the uint8_t lookup table");

/*
 * Lookup is one table index (VMREAD/VMWRITE are L1's hottest exits): the key
 * is width, type and index, and every index in use is below 32. A key used
 * twice is a duplicate initializer, which -Wextra (-Woverride-init) rejects.
 */
#define VMCS12_INDEX_LIMIT 32u
#define VMCS12_KEY(f) ((VMCS12_ENC_WIDTH(f) << 7) | (VMCS12_ENC_TYPE(f) << 5) | VMCS12_ENC_INDEX(f))
#define VMCS12_CHECK(f) \
    _Static_assert(VMCS12_ENC_INDEX(f) < VMCS12_INDEX_LIMIT && !VMCS12_ENC_HIGH(f), #f);
VMCS12_FIELDS(VMCS12_CHECK)

#define VMCS12_SLOT_ENTRY(f) [VMCS12_KEY(f)] = VMCS12_SLOT_##f + 1,
static const uint8_t vmcs12_slot_plus1[16 * VMCS12_INDEX_LIMIT] = {
    VMCS12_FIELDS(VMCS12_SLOT_ENTRY)
};

/* What a field keeps, by width: 16-bit, 64-bit, 32-bit, natural (64 bits for L1). */
static const uint64_t vmcs12_width_mask[4] = { 0xFFFF, ~0ULL, 0xFFFFFFFF, ~0ULL };

/* Slot of a full or high-half encoding; -1 for reserved bits set, a high
 * half of a field that is not 64-bit, or a field VMCS12 lacks. */
static int vmcs12_slot(uint32_t field)
{
    if (field & VMCS12_ENC_RESERVED)
        return -1;
    if (VMCS12_ENC_HIGH(field) && VMCS12_ENC_WIDTH(field) != VMCS12_WIDTH_64)
        return -1;
    if (VMCS12_ENC_INDEX(field) >= VMCS12_INDEX_LIMIT)
        return -1;
    return (int)vmcs12_slot_plus1[VMCS12_KEY(field)] - 1;
}

static size_t vmcs12_slot_off(int slot)
{
    return VMCS12_SLOT_OFF + 8 * (size_t)slot;
}

bool vmcs12_field_supported(uint32_t field)
{
    return vmcs12_slot(field) >= 0;
}

int vmcs12_field_offset(uint32_t field)
{
    int slot = vmcs12_slot(field);
    return slot < 0 ? -1 : (int)vmcs12_slot_off(slot);
}

/* Masks on read as well: after VMPTRLD the slots hold whatever L1 put in
 * memory, and vsbypass relies on a 16-bit field having 16 bits. */
int vmcs12_get(const struct nested_vcpu *n, uint32_t field, uint64_t *value)
{
    int slot = vmcs12_slot(field);
    if (slot < 0)
        return -1;
    uint64_t v;
    memcpy(&v, n->vmcs12 + vmcs12_slot_off(slot), sizeof(v));
    *value = VMCS12_ENC_HIGH(field) ? v >> 32 : v & vmcs12_width_mask[VMCS12_ENC_WIDTH(field)];
    return 0;
}

/* A high-half encoding writes bits 63:32 from the value's low 32 bits and
 * keeps bits 31:0. */
int vmcs12_set(struct nested_vcpu *n, uint32_t field, uint64_t value)
{
    int slot = vmcs12_slot(field);
    if (slot < 0)
        return -1;
    uint8_t *p = n->vmcs12 + vmcs12_slot_off(slot);
    uint64_t v;
    if (VMCS12_ENC_HIGH(field)) {
        memcpy(&v, p, sizeof(v));
        v = (v & 0xFFFFFFFFULL) | (value << 32);
    } else {
        v = value & vmcs12_width_mask[VMCS12_ENC_WIDTH(field)];
    }
    memcpy(p, &v, sizeof(v));
    return 0;
}

int vmcs12_launch_state(const struct nested_vcpu *n)
{
    return n->vmcs12[VMCS12_LAUNCH_OFF] != 0;
}

void vmcs12_set_launch_state(struct nested_vcpu *n, int launched)
{
    n->vmcs12[VMCS12_LAUNCH_OFF] = launched ? 1 : 0;
}
