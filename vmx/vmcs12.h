/*
 * VMCS12: vsbypass's own layout of the VMCS region L1 gives to VMPTRLD
 * (private to vmx/). As on hardware the format is implementation-specific:
 * L1 sees the fields only through VMREAD/VMWRITE.
 *
 *   bytes 0-3    revision identifier (bits 30:0), shadow-VMCS indicator (bit 31)
 *   bytes 4-7    VMX-abort indicator
 *   byte  8      launch state (0 clear, 1 launched)
 *   bytes 16-    one 8-byte slot per supported field, in vmx/vmcs12.c's order
 */
#ifndef VMX_VMCS12_H
#define VMX_VMCS12_H
#include "vmx/nested.h"
#include "vmx/vmcs_fields.h"

#define VMCS12_REVISION_OFF     0
#define VMCS12_ABORT_OFF        4
#define VMCS12_LAUNCH_OFF       8
#define VMCS12_SLOT_OFF         16

#define VMCS12_SHADOW_INDICATOR (1u << 31)

/* Structure of a field encoding (SDM appendix "Field Encoding in VMCS"). */
#define VMCS12_ENC_HIGH(f)      ((f) & 1u)              /* upper half of a 64-bit field */
#define VMCS12_ENC_INDEX(f)     (((f) >> 1) & 0x1FFu)
#define VMCS12_ENC_TYPE(f)      (((f) >> 10) & 3u)
#define VMCS12_ENC_WIDTH(f)     (((f) >> 13) & 3u)
#define VMCS12_ENC_RESERVED     0xFFFF9000u             /* bit 12, bits 31:15 */

enum vmcs12_width {
    VMCS12_WIDTH_16,
    VMCS12_WIDTH_64,
    VMCS12_WIDTH_32,
    VMCS12_WIDTH_NATURAL,
};

enum vmcs12_type {
    VMCS12_TYPE_CONTROL,
    VMCS12_TYPE_READ_ONLY,      /* VM-exit information */
    VMCS12_TYPE_GUEST,
    VMCS12_TYPE_HOST,
};

/* Encodings vmx/vmcs_fields.h lacks. */
#define VMCS_GUEST_INTR_STATUS          0x0810
#define VMCS_EXEC_VMCS_PTR              0x200C
#define VMCS_VIRT_APIC_ADDR             0x2012
#define VMCS_APIC_ACCESS_ADDR           0x2014
#define VMCS_GUEST_PERF_GLOBAL_CTRL     0x2808
#define VMCS_HOST_PERF_GLOBAL_CTRL      0x2C04
#define VMCS_PLE_GAP                    0x4020
#define VMCS_PLE_WINDOW                 0x4022
#define VMCS_GUEST_SMBASE               0x4828
#define VMCS_PREEMPT_TIMER_VALUE        0x482E
#define VMCS_CR3_TARGET0                0x6008
#define VMCS_CR3_TARGET1                0x600A
#define VMCS_CR3_TARGET2                0x600C
#define VMCS_CR3_TARGET3                0x600E
#define VMCS_IO_RCX                     0x6402
#define VMCS_IO_RSI                     0x6404
#define VMCS_IO_RDI                     0x6406
#define VMCS_IO_RIP                     0x6408

/* Whether `field` (a 32-bit encoding) names a field VMCS12 holds. */
bool vmcs12_field_supported(uint32_t field);
/* Byte offset of the field's 8-byte slot in the region, or -1. */
int vmcs12_field_offset(uint32_t field);

#endif
