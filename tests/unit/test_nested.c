/* vmx/nested.c and vmx/vmcs12.c: VMX instructions as L1 sees them, against a
 * fake L1 memory of 1 MiB (guest-physical 0 .. 1 MiB; beyond it accesses fail). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmx/nested.h"
#include "vmx/vmcs12.h"
#include <stdbool.h>
#include <string.h>

#define MEM_SIZE   (1u << 20)
#define REV        0x5642u
#define NO_VMCS    (~0ULL)
#define VMXON_PTR  0x1000ULL
#define VMCS_A     0x2000ULL
#define VMCS_B     0x3000ULL
#define UNBACKED   0x200000ULL          /* within the address width, outside L1 memory */
#define PHYS_BITS  39u

static uint8_t mem[MEM_SIZE];
static struct nested_vcpu nv;

static bool in_mem(uint64_t gpa, size_t n)
{
    return gpa <= MEM_SIZE && n <= MEM_SIZE - gpa;
}

static int mem_read(void *ctx, uint64_t gpa, void *buf, size_t n)
{
    (void)ctx;
    if (!in_mem(gpa, n))
        return -1;
    memcpy(buf, mem + gpa, n);
    return 0;
}

static int mem_write(void *ctx, uint64_t gpa, const void *buf, size_t n)
{
    (void)ctx;
    if (!in_mem(gpa, n))
        return -1;
    memcpy(mem + gpa, buf, n);
    return 0;
}

static const struct nested_mem M = { mem_read, mem_write, NULL };

/* 64-bit mode, CPL 0, everything VMXON needs in place. */
static struct nested_cpu cpu64(void)
{
    struct nested_cpu c = {
        .cpl = 0, .protected_mode = true, .v8086 = false, .long_mode = true, .cs_long = true,
        .cr4_vmxe = true, .cr0_cr4_fixed_ok = true, .feature_control_ok = true,
        .phys_bits = PHYS_BITS,
    };
    return c;
}

/* A zeroed region with `rev` in its first 32 bits, as L1 prepares one. */
static void region(uint64_t ptr, uint32_t rev)
{
    memset(mem + ptr, 0, VMCS12_SIZE);
    memcpy(mem + ptr, &rev, sizeof(rev));
}

static int setup(void **state)
{
    (void)state;
    memset(mem, 0, sizeof(mem));
    nested_init(&nv, REV);
    return 0;
}

static void vmxon(void)
{
    struct nested_cpu c = cpu64();
    region(VMXON_PTR, REV);
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_SUCCEED);
}

/* VMCLEAR then VMPTRLD of a fresh region, as KVM and Xen do. */
static void load(uint64_t ptr)
{
    struct nested_cpu c = cpu64();
    region(ptr, REV);
    assert_int_equal(nested_vmclear(&nv, &c, &M, ptr), NESTED_SUCCEED);
    assert_int_equal(nested_vmptrld(&nv, &c, &M, ptr), NESTED_SUCCEED);
}

static uint64_t rd(uint64_t field)
{
    struct nested_cpu c = cpu64();
    uint64_t v = 0xDEADBEEF;
    assert_int_equal(nested_vmread(&nv, &c, field, &v), NESTED_SUCCEED);
    return v;
}

static void wr(uint64_t field, uint64_t value)
{
    struct nested_cpu c = cpu64();
    assert_int_equal(nested_vmwrite(&nv, &c, field, value), NESTED_SUCCEED);
}

static uint64_t current(void)
{
    struct nested_cpu c = cpu64();
    uint64_t p = 0;
    assert_int_equal(nested_vmptrst(&nv, &c, &p), NESTED_SUCCEED);
    return p;
}

/* The outcome was VMfailValid with `error` readable through VMREAD. */
static void assert_failed_with(enum nested_result r, uint64_t error)
{
    assert_int_equal(r, NESTED_FAIL_VALID);
    assert_int_equal(rd(VMCS_INSTR_ERROR), error);
}

static void test_vmxon_success(void **state)
{
    (void)state;
    vmxon();
    assert_true(nv.vmxon);
    assert_int_equal(nv.vmxon_ptr, VMXON_PTR);
    assert_int_equal(current(), NO_VMCS);
    /* Legacy 32-bit protected mode is a VMX mode too. */
    setup(NULL);
    struct nested_cpu c = cpu64();
    c.long_mode = c.cs_long = false;
    region(VMXON_PTR, REV);
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_SUCCEED);
}

static void test_vmxon_ud(void **state)
{
    (void)state;
    region(VMXON_PTR, REV);
    struct nested_cpu c = cpu64();
    c.cr4_vmxe = false;
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_UD);
    c = cpu64();
    c.v8086 = true;
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_UD);
    c = cpu64();
    c.cs_long = false;                                  /* compatibility mode */
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_UD);
    c = cpu64();
    c.protected_mode = c.long_mode = c.cs_long = false; /* real mode */
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_UD);
    /* #UD is checked before CPL. */
    c = cpu64();
    c.cr4_vmxe = false;
    c.cpl = 3;
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_UD);
    assert_false(nv.vmxon);
}

static void test_vmxon_gp(void **state)
{
    (void)state;
    region(VMXON_PTR, REV);
    struct nested_cpu c = cpu64();
    c.cpl = 3;
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_GP);
    c = cpu64();
    c.cr0_cr4_fixed_ok = false;
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_GP);
    c = cpu64();
    c.feature_control_ok = false;
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_GP);
    /* #GP comes before the pointer is looked at. */
    c = cpu64();
    c.cpl = 1;
    assert_int_equal(nested_vmxon(&nv, &c, &M, 0x1234), NESTED_GP);
    assert_false(nv.vmxon);
}

static void test_vmxon_bad_pointer(void **state)
{
    (void)state;
    struct nested_cpu c = cpu64();
    region(VMXON_PTR, REV);
    const uint64_t bad[] = { VMXON_PTR + 4, VMXON_PTR + 0x800, 1ULL << PHYS_BITS,
                             VMXON_PTR | (1ULL << 63), UNBACKED };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(nested_vmxon(&nv, &c, &M, bad[i]), NESTED_FAIL_INVALID);
    region(VMXON_PTR, REV + 1);
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_FAIL_INVALID);
    region(VMXON_PTR, REV | VMCS12_SHADOW_INDICATOR);
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_FAIL_INVALID);
    assert_false(nv.vmxon);
    /* With 64 address bits no bit is beyond the width: bit 63 is only unbacked. */
    region(VMXON_PTR, REV);
    c.phys_bits = 64;
    assert_int_equal(nested_vmxon(&nv, &c, &M, 1ULL << 63), NESTED_FAIL_INVALID);
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_SUCCEED);
}

static void test_vmxon_in_root(void **state)
{
    (void)state;
    vmxon();
    struct nested_cpu c = cpu64();
    /* No current VMCS: VMfail(15) is VMfailInvalid, whatever the pointer. */
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_FAIL_INVALID);
    assert_int_equal(nested_vmxon(&nv, &c, &M, 0x1234), NESTED_FAIL_INVALID);
    load(VMCS_A);
    assert_failed_with(nested_vmxon(&nv, &c, &M, VMXON_PTR), VMXERR_VMXON_IN_ROOT);
    c.cpl = 3;
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_GP);
    c = cpu64();
    c.v8086 = true;
    assert_int_equal(nested_vmxon(&nv, &c, &M, VMXON_PTR), NESTED_UD);
    assert_int_equal(nv.vmxon_ptr, VMXON_PTR);
    assert_int_equal(current(), VMCS_A);
}

/* Runs every instruction but VMXON with `c`, expecting `want` from each. */
static void check_all_but_vmxon(const struct nested_cpu *c, enum nested_result want)
{
    uint64_t v = 0;
    region(VMCS_B, REV);
    assert_int_equal(nested_vmclear(&nv, c, &M, VMCS_B), want);
    assert_int_equal(nested_vmptrld(&nv, c, &M, VMCS_B), want);
    assert_int_equal(nested_vmptrst(&nv, c, &v), want);
    assert_int_equal(nested_vmread(&nv, c, VMCS_GUEST_RIP, &v), want);
    assert_int_equal(nested_vmwrite(&nv, c, VMCS_GUEST_RIP, 1), want);
    assert_int_equal(nested_vmxoff(&nv, c), want);
}

static void test_outside_vmx_operation(void **state)
{
    (void)state;
    struct nested_cpu c = cpu64();
    check_all_but_vmxon(&c, NESTED_UD);
    c.cpl = 3;                                          /* #UD before #GP */
    check_all_but_vmxon(&c, NESTED_UD);
}

static void test_mode_and_cpl(void **state)
{
    (void)state;
    vmxon();
    load(VMCS_A);
    wr(VMCS_GUEST_RIP, 0x42);
    struct nested_cpu c = cpu64();
    c.cpl = 3;
    check_all_but_vmxon(&c, NESTED_GP);
    c = cpu64();
    c.v8086 = true;
    check_all_but_vmxon(&c, NESTED_UD);
    c = cpu64();
    c.cs_long = false;
    check_all_but_vmxon(&c, NESTED_UD);
    c = cpu64();
    c.protected_mode = c.long_mode = c.cs_long = false;
    check_all_but_vmxon(&c, NESTED_UD);
    /* None of them did anything. */
    assert_true(nv.vmxon);
    assert_int_equal(current(), VMCS_A);
    assert_int_equal(rd(VMCS_GUEST_RIP), 0x42);
}

static void test_vmclear_errors(void **state)
{
    (void)state;
    vmxon();
    struct nested_cpu c = cpu64();
    /* Without a current VMCS each failure is VMfailInvalid. */
    assert_int_equal(nested_vmclear(&nv, &c, &M, VMCS_A + 8), NESTED_FAIL_INVALID);
    assert_int_equal(nested_vmclear(&nv, &c, &M, VMXON_PTR), NESTED_FAIL_INVALID);
    load(VMCS_A);
    assert_failed_with(nested_vmclear(&nv, &c, &M, VMCS_B + 8), VMXERR_VMCLEAR_BAD_ADDR);
    assert_failed_with(nested_vmclear(&nv, &c, &M, 1ULL << PHYS_BITS), VMXERR_VMCLEAR_BAD_ADDR);
    assert_failed_with(nested_vmclear(&nv, &c, &M, UNBACKED), VMXERR_VMCLEAR_BAD_ADDR);
    assert_failed_with(nested_vmclear(&nv, &c, &M, VMXON_PTR), VMXERR_VMCLEAR_VMXON_PTR);
    assert_int_equal(current(), VMCS_A);
}

static void test_vmptrld_errors(void **state)
{
    (void)state;
    vmxon();
    struct nested_cpu c = cpu64();
    region(VMCS_B, REV + 1);
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_B + 8), NESTED_FAIL_INVALID);
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMXON_PTR), NESTED_FAIL_INVALID);
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_B), NESTED_FAIL_INVALID);
    load(VMCS_A);
    wr(VMCS_GUEST_RIP, 0x1234);
    assert_failed_with(nested_vmptrld(&nv, &c, &M, VMCS_B + 0x10), VMXERR_VMPTRLD_BAD_ADDR);
    assert_failed_with(nested_vmptrld(&nv, &c, &M, 1ULL << 62), VMXERR_VMPTRLD_BAD_ADDR);
    assert_failed_with(nested_vmptrld(&nv, &c, &M, UNBACKED), VMXERR_VMPTRLD_BAD_ADDR);
    assert_failed_with(nested_vmptrld(&nv, &c, &M, VMXON_PTR), VMXERR_VMPTRLD_VMXON_PTR);
    assert_failed_with(nested_vmptrld(&nv, &c, &M, VMCS_B), VMXERR_VMPTRLD_BAD_REVISION);
    region(VMCS_B, REV | VMCS12_SHADOW_INDICATOR);
    assert_failed_with(nested_vmptrld(&nv, &c, &M, VMCS_B), VMXERR_VMPTRLD_BAD_REVISION);
    /* The error went into VMCS A, which is still current and intact. */
    assert_int_equal(current(), VMCS_A);
    assert_int_equal(rd(VMCS_GUEST_RIP), 0x1234);
}

static void test_field_widths(void **state)
{
    (void)state;
    vmxon();
    load(VMCS_A);
    const uint64_t v = 0x8123456789ABCDEFULL;
    wr(VMCS_GUEST_CS_SEL, v);                           /* 16-bit */
    assert_int_equal(rd(VMCS_GUEST_CS_SEL), 0xCDEF);
    wr(VMCS_GUEST_CS_LIMIT, v);                         /* 32-bit */
    assert_int_equal(rd(VMCS_GUEST_CS_LIMIT), 0x89ABCDEF);
    wr(VMCS_GUEST_RIP, v);                              /* natural */
    assert_int_equal(rd(VMCS_GUEST_RIP), v);
    wr(VMCS_EPT_POINTER, v);                            /* 64-bit, full and high */
    assert_int_equal(rd(VMCS_EPT_POINTER), v);
    assert_int_equal(rd(VMCS_EPT_POINTER | 1), 0x81234567);
    wr(VMCS_EPT_POINTER | 1, 0xFFFFFFFF00C0FFEEULL);    /* bits 63:32 from the low half */
    assert_int_equal(rd(VMCS_EPT_POINTER), 0x00C0FFEE89ABCDEFULL);
    assert_int_equal(rd(VMCS_EPT_POINTER | 1), 0x00C0FFEE);
    /* A full write clears what a high write set; neighbours are untouched. */
    wr(VMCS_TSC_OFFSET, 5);
    assert_int_equal(rd(VMCS_TSC_OFFSET | 1), 0);
    assert_int_equal(rd(VMCS_GUEST_CS_SEL), 0xCDEF);
    assert_int_equal(rd(VMCS_GUEST_CS_LIMIT), 0x89ABCDEF);
    assert_int_equal(rd(VMCS_GUEST_RIP), v);
    /* Exit information is readable. */
    assert_int_equal(rd(VMCS_EXIT_REASON), 0);
    assert_int_equal(rd(VMCS_GUEST_PHYS_ADDR | 1), 0);
}

static void test_unsupported_fields(void **state)
{
    (void)state;
    vmxon();
    load(VMCS_A);
    struct nested_cpu c = cpu64();
    const uint64_t bad[] = {
        VMCS_GUEST_RIP | 0x1000,            /* bit 12 */
        VMCS_VPID | 0x8000,                 /* bit 15 */
        VMCS_GUEST_RIP | 0x10000,           /* bits 31:16 */
        VMCS_GUEST_RIP | (1ULL << 32),      /* bits 63:32 */
        VMCS_GUEST_RIP | (1ULL << 63),
        VMCS_GUEST_RIP | 1,                 /* high access of a natural-width field */
        VMCS_GUEST_CS_SEL | 1,
        VMCS_GUEST_CS_LIMIT | 1,
        0x0002,                             /* posted-interrupt notification vector */
        0x0812,                             /* PML index */
        0x200E,                             /* PML address */
        0x201C,                             /* EOI-exit bitmap 0 */
        0x2812,                             /* guest BNDCFGS */
        0x482C,                             /* unused index */
        0x4C02, 0x6C18, 0x2C06,             /* beyond the last host field of a width */
        0x03FE,                             /* index 511 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t v = 0;
        assert_failed_with(nested_vmread(&nv, &c, bad[i], &v), VMXERR_UNSUPPORTED_FIELD);
        assert_int_equal(vmcs12_set(&nv, VMCS_INSTR_ERROR, 0), 0);
        assert_failed_with(nested_vmwrite(&nv, &c, bad[i], 1), VMXERR_UNSUPPORTED_FIELD);
    }
}

static void test_read_only_fields(void **state)
{
    (void)state;
    vmxon();
    load(VMCS_A);
    struct nested_cpu c = cpu64();
    const uint64_t ro[] = { VMCS_EXIT_REASON, VMCS_INSTR_ERROR, VMCS_GUEST_PHYS_ADDR,
                            VMCS_GUEST_PHYS_ADDR | 1, VMCS_EXIT_QUALIFICATION, VMCS_IO_RIP,
                            VMCS_GUEST_LINEAR_ADDR, VMCS_EXIT_INSTR_INFO };
    for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
        assert_failed_with(nested_vmwrite(&nv, &c, ro[i], 99), VMXERR_WRITE_READONLY_FIELD);
    assert_int_equal(rd(VMCS_EXIT_REASON), 0);
    /* vsbypass itself writes them, at their width. */
    assert_int_equal(vmcs12_set(&nv, VMCS_EXIT_REASON, 0x1234567800000030ULL), 0);
    assert_int_equal(rd(VMCS_EXIT_REASON), 0x30);
    assert_int_equal(vmcs12_set(&nv, VMCS_GUEST_PHYS_ADDR | 1, 0xABC), 0);
    assert_int_equal(rd(VMCS_GUEST_PHYS_ADDR), 0xABC00000000ULL);
}

static void test_no_current_vmcs(void **state)
{
    (void)state;
    vmxon();
    struct nested_cpu c = cpu64();
    uint64_t v = 5;
    assert_int_equal(nested_vmread(&nv, &c, VMCS_GUEST_RIP, &v), NESTED_FAIL_INVALID);
    assert_int_equal(nested_vmread(&nv, &c, 0x1000, &v), NESTED_FAIL_INVALID);
    assert_int_equal(nested_vmwrite(&nv, &c, VMCS_GUEST_RIP, 1), NESTED_FAIL_INVALID);
    assert_int_equal(nested_vmwrite(&nv, &c, VMCS_EXIT_REASON, 1), NESTED_FAIL_INVALID);
    assert_int_equal(v, 5);
}

static void test_vmclear_writes_back(void **state)
{
    (void)state;
    vmxon();
    load(VMCS_A);
    wr(VMCS_GUEST_RIP, 0xFFFFFFFF81000000ULL);
    wr(VMCS_GUEST_CS_SEL, 0x10);
    wr(VMCS_EPT_POINTER | 1, 0x77);
    vmcs12_set_launch_state(&nv, 1);
    struct nested_cpu c = cpu64();
    assert_int_equal(nested_vmclear(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(current(), NO_VMCS);
    uint64_t v;
    assert_int_equal(nested_vmread(&nv, &c, VMCS_GUEST_RIP, &v), NESTED_FAIL_INVALID);
    /* Header intact in memory, launch state clear. */
    uint32_t rev;
    memcpy(&rev, mem + VMCS_A, sizeof(rev));
    assert_int_equal(rev, REV);
    assert_int_equal(mem[VMCS_A + VMCS12_LAUNCH_OFF], 0);
    /* Scribble over the copy in L0: the values come back from L1 memory. */
    memset(nv.vmcs12, 0xA5, sizeof(nv.vmcs12));
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(rd(VMCS_GUEST_RIP), 0xFFFFFFFF81000000ULL);
    assert_int_equal(rd(VMCS_GUEST_CS_SEL), 0x10);
    assert_int_equal(rd(VMCS_EPT_POINTER), 0x7700000000ULL);
    assert_int_equal(vmcs12_launch_state(&nv), 0);
}

static void test_switch_between_two(void **state)
{
    (void)state;
    vmxon();
    region(VMCS_B, REV);
    load(VMCS_A);
    wr(VMCS_GUEST_RIP, 0xA);
    wr(VMCS_GUEST_CS_LIMIT, 0xAAAA);
    struct nested_cpu c = cpu64();
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_B), NESTED_SUCCEED);
    assert_int_equal(current(), VMCS_B);
    assert_int_equal(rd(VMCS_GUEST_RIP), 0);
    wr(VMCS_GUEST_RIP, 0xB);
    wr(VMCS_GUEST_CS_LIMIT, 0xBBBB);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
        assert_int_equal(rd(VMCS_GUEST_RIP), 0xA);
        assert_int_equal(rd(VMCS_GUEST_CS_LIMIT), 0xAAAA);
        assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_B), NESTED_SUCCEED);
        assert_int_equal(rd(VMCS_GUEST_RIP), 0xB);
        assert_int_equal(rd(VMCS_GUEST_CS_LIMIT), 0xBBBB);
    }
    /* A VMfailValid goes to the VMCS current at the time only. */
    assert_failed_with(nested_vmptrld(&nv, &c, &M, VMXON_PTR), VMXERR_VMPTRLD_VMXON_PTR);
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(rd(VMCS_INSTR_ERROR), 0);
}

static void test_vmptrst(void **state)
{
    (void)state;
    vmxon();
    assert_int_equal(current(), NO_VMCS);
    load(VMCS_A);
    assert_int_equal(current(), VMCS_A);
    load(VMCS_B);
    assert_int_equal(current(), VMCS_B);
}

static void test_current_copy_is_in_l0(void **state)
{
    (void)state;
    vmxon();
    load(VMCS_A);
    wr(VMCS_GUEST_RIP, 0x1111);
    wr(VMCS_HOST_RIP, 0x2222);
    /* L1 writes over the region of its current VMCS, header included. */
    memset(mem + VMCS_A, 0x5A, VMCS12_SIZE);
    assert_int_equal(rd(VMCS_GUEST_RIP), 0x1111);
    assert_int_equal(rd(VMCS_HOST_RIP), 0x2222);
    /* Reloading the current VMCS checks the revision in memory... */
    struct nested_cpu c = cpu64();
    assert_failed_with(nested_vmptrld(&nv, &c, &M, VMCS_A), VMXERR_VMPTRLD_BAD_REVISION);
    /* ...and keeps the L0 copy rather than the scribbled fields. */
    uint32_t rev = REV;
    memcpy(mem + VMCS_A, &rev, sizeof(rev));
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(rd(VMCS_GUEST_RIP), 0x1111);
    assert_int_equal(rd(VMCS_HOST_RIP), 0x2222);
}

static void test_vmxoff(void **state)
{
    (void)state;
    vmxon();
    load(VMCS_A);
    wr(VMCS_GUEST_RIP, 0x10);
    struct nested_cpu c = cpu64();
    assert_int_equal(nested_vmclear(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    wr(VMCS_GUEST_RIP, 0x20);
    assert_int_equal(nested_vmxoff(&nv, &c), NESTED_SUCCEED);
    assert_false(nv.vmxon);
    assert_int_equal(nv.current_ptr, NO_VMCS);
    check_all_but_vmxon(&c, NESTED_UD);
    /* VMXOFF did not write the current VMCS back: the last VMCLEAR's data stands. */
    vmxon();
    assert_int_equal(current(), NO_VMCS);
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(rd(VMCS_GUEST_RIP), 0x10);
}

static void test_launch_state(void **state)
{
    (void)state;
    vmxon();
    load(VMCS_A);
    assert_int_equal(vmcs12_launch_state(&nv), 0);
    vmcs12_set_launch_state(&nv, 1);
    assert_int_equal(vmcs12_launch_state(&nv), 1);
    /* Switching away and back keeps it (written back, read again). */
    load(VMCS_B);
    assert_int_equal(vmcs12_launch_state(&nv), 0);
    struct nested_cpu c = cpu64();
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(vmcs12_launch_state(&nv), 1);
    /* VMCLEAR of a VMCS not current changes its launch-state byte only. */
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_B), NESTED_SUCCEED);
    uint8_t before[VMCS12_SIZE];
    memcpy(before, mem + VMCS_A, VMCS12_SIZE);
    assert_int_equal(before[VMCS12_LAUNCH_OFF], 1);
    assert_int_equal(nested_vmclear(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    before[VMCS12_LAUNCH_OFF] = 0;
    assert_memory_equal(before, mem + VMCS_A, VMCS12_SIZE);
    assert_int_equal(current(), VMCS_B);
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(vmcs12_launch_state(&nv), 0);
}

/* Every encoding: 137 fields, 24 of them 64-bit with a high half; each in
 * its own slot inside the region, past the header. */
static void test_field_table(void **state)
{
    (void)state;
    vmxon();
    load(VMCS_A);
    unsigned full = 0, high = 0;
    for (uint32_t f = 0; f <= 0xFFFF; f++) {
        if (!vmcs12_field_supported(f))
            continue;
        if (f & 1) {
            assert_int_equal(VMCS12_ENC_WIDTH(f), VMCS12_WIDTH_64);
            assert_true(vmcs12_field_supported(f & ~1u));
            high++;
            continue;
        }
        full++;
        assert_int_equal(vmcs12_set(&nv, f, 0x0101010101010101ULL * (full & 0xFF)), 0);
    }
    assert_int_equal(full, 137);
    assert_int_equal(high, 24);
    unsigned i = 0;
    static const uint64_t mask[4] = { 0xFFFF, ~0ULL, 0xFFFFFFFF, ~0ULL };
    for (uint32_t f = 0; f <= 0xFFFF; f += 2) {
        uint64_t v;
        if (vmcs12_get(&nv, f, &v))
            continue;
        i++;
        assert_int_equal(v, 0x0101010101010101ULL * (i & 0xFF) & mask[VMCS12_ENC_WIDTH(f)]);
    }
    /* The header survived; all of it goes to memory and back. */
    uint32_t rev;
    memcpy(&rev, nv.vmcs12, sizeof(rev));
    assert_int_equal(rev, REV);
    struct nested_cpu c = cpu64();
    assert_int_equal(nested_vmclear(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    memcpy(&rev, mem + VMCS_A, sizeof(rev));
    assert_int_equal(rev, REV);
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(rd(VMCS_HOST_RIP), 0x0101010101010101ULL * 137);
}

static void test_direct_access(void **state)
{
    (void)state;
    uint64_t v = 3;
    assert_int_equal(vmcs12_get(&nv, 0x0002, &v), -1);
    assert_int_equal(vmcs12_set(&nv, 0x0002, 1), -1);
    assert_int_equal(vmcs12_get(&nv, VMCS_GUEST_RIP | 1, &v), -1);
    assert_int_equal(vmcs12_set(&nv, 0xFFFFFFFF, 1), -1);
    assert_int_equal(v, 3);
    /* A region L1 filled with ones still reads at each field's width. */
    vmxon();
    region(VMCS_A, REV);
    memset(mem + VMCS_A + VMCS12_SLOT_OFF, 0xFF, VMCS12_SIZE - VMCS12_SLOT_OFF);
    struct nested_cpu c = cpu64();
    assert_int_equal(nested_vmptrld(&nv, &c, &M, VMCS_A), NESTED_SUCCEED);
    assert_int_equal(rd(VMCS_GUEST_TR_SEL), 0xFFFF);
    assert_int_equal(rd(VMCS_GUEST_TR_AR), 0xFFFFFFFF);
    assert_int_equal(rd(VMCS_LINK_POINTER), ~0ULL);
    assert_int_equal(rd(VMCS_LINK_POINTER | 1), 0xFFFFFFFF);
    assert_int_equal(vmcs12_get(&nv, VMCS_HOST_SYSENTER_CS, &v), 0);
    assert_int_equal(v, 0xFFFFFFFF);
}

/* ------------------------------------------------------------------------
 * Property test: random instruction sequences against a reference model
 * that keeps field values per region, as the SDM describes a VMCS, with no
 * notion of vsbypass's layout.
 */
struct model_field {
    uint64_t enc;
    int var;            /* which model variable; -1: unsupported */
    uint64_t mask;
    bool high, ro;
};

enum { V_SEL, V_LIMIT, V_EPTP, V_RIP, V_EXIT_REASON, V_ERROR, V_GPA, NVARS };

static const struct model_field mfields[] = {
    { VMCS_GUEST_CS_SEL, V_SEL, 0xFFFF, false, false },
    { VMCS_GUEST_CS_LIMIT, V_LIMIT, 0xFFFFFFFF, false, false },
    { VMCS_EPT_POINTER, V_EPTP, ~0ULL, false, false },
    { VMCS_EPT_POINTER | 1, V_EPTP, ~0ULL, true, false },
    { VMCS_GUEST_RIP, V_RIP, ~0ULL, false, false },
    { VMCS_EXIT_REASON, V_EXIT_REASON, 0xFFFFFFFF, false, true },
    { VMCS_INSTR_ERROR, V_ERROR, 0xFFFFFFFF, false, true },
    { VMCS_GUEST_PHYS_ADDR, V_GPA, ~0ULL, false, true },
    { VMCS_GUEST_PHYS_ADDR | 1, V_GPA, ~0ULL, true, true },
    { 0x0812, -1, 0, false, false },
    { VMCS_GUEST_RIP | 0x1000, -1, 0, false, false },
    { VMCS_GUEST_RIP | (1ULL << 32), -1, 0, false, false },
    { VMCS_GUEST_RIP | 1, -1, 0, false, false },
};
#define NFIELDS (sizeof(mfields) / sizeof(mfields[0]))

/* Candidate pointers: regions 0-3 have the right revision, 4 a wrong one,
 * 5 the shadow indicator; then misaligned, too wide, unbacked. */
static const uint64_t mptrs[] = { 0x10000, 0x11000, 0x12000, 0x13000, 0x14000, 0x15000,
                                  0x12008, 1ULL << 45, UNBACKED };
#define NPTRS (sizeof(mptrs) / sizeof(mptrs[0]))

struct model_vmcs {
    uint64_t var[NVARS];
    bool launched;
};

struct model {
    bool vmxon;
    int vmxon_ptr, current;                     /* indices into mptrs; -1: none */
    struct model_vmcs mem[NPTRS], cache;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static bool m_ptr_ok(int p) { return !(mptrs[p] & 0xFFF) && !(mptrs[p] >> PHYS_BITS); }
static bool m_backed(int p) { return mptrs[p] < MEM_SIZE; }
static bool m_rev_ok(int p) { return p < 4; }

static enum nested_result m_fail(struct model *m, uint64_t error)
{
    if (m->current < 0)
        return NESTED_FAIL_INVALID;
    m->cache.var[V_ERROR] = error;
    return NESTED_FAIL_VALID;
}

static enum nested_result m_vmxon(struct model *m, const struct nested_cpu *c, int p)
{
    bool mode = c->protected_mode && !c->v8086 && !(c->long_mode && !c->cs_long);
    if (!c->cr4_vmxe || !mode)
        return NESTED_UD;
    if (c->cpl)
        return NESTED_GP;
    if (m->vmxon)
        return m_fail(m, VMXERR_VMXON_IN_ROOT);
    if (!m_ptr_ok(p) || !m_backed(p) || !m_rev_ok(p))
        return NESTED_FAIL_INVALID;
    m->vmxon = true;
    m->vmxon_ptr = p;
    m->current = -1;
    return NESTED_SUCCEED;
}

static enum nested_result m_vmclear(struct model *m, int p)
{
    if (!m_ptr_ok(p) || !m_backed(p))
        return m_fail(m, VMXERR_VMCLEAR_BAD_ADDR);
    if (p == m->vmxon_ptr)
        return m_fail(m, VMXERR_VMCLEAR_VMXON_PTR);
    if (p == m->current) {
        m->mem[p] = m->cache;
        m->current = -1;
    }
    m->mem[p].launched = false;
    return NESTED_SUCCEED;
}

static enum nested_result m_vmptrld(struct model *m, int p)
{
    if (!m_ptr_ok(p) || !m_backed(p))
        return m_fail(m, VMXERR_VMPTRLD_BAD_ADDR);
    if (p == m->vmxon_ptr)
        return m_fail(m, VMXERR_VMPTRLD_VMXON_PTR);
    if (!m_rev_ok(p))
        return m_fail(m, VMXERR_VMPTRLD_BAD_REVISION);
    if (p != m->current) {
        if (m->current >= 0)
            m->mem[m->current] = m->cache;
        m->cache = m->mem[p];
        m->current = p;
    }
    return NESTED_SUCCEED;
}

static enum nested_result m_vmread(struct model *m, const struct model_field *f, uint64_t *v)
{
    if (m->current < 0)
        return NESTED_FAIL_INVALID;
    if (f->var < 0)
        return m_fail(m, VMXERR_UNSUPPORTED_FIELD);
    uint64_t x = m->cache.var[f->var];
    *v = f->high ? x >> 32 : x & f->mask;
    return NESTED_SUCCEED;
}

static enum nested_result m_vmwrite(struct model *m, const struct model_field *f, uint64_t v)
{
    if (m->current < 0)
        return NESTED_FAIL_INVALID;
    if (f->var < 0)
        return m_fail(m, VMXERR_UNSUPPORTED_FIELD);
    if (f->ro)
        return m_fail(m, VMXERR_WRITE_READONLY_FIELD);
    uint64_t *x = &m->cache.var[f->var];
    *x = f->high ? (*x & 0xFFFFFFFF) | (v << 32) : v & f->mask;
    return NESTED_SUCCEED;
}

/* Mostly 64-bit CPL 0; sometimes CPL 3 or compatibility mode. */
static struct nested_cpu random_cpu(void)
{
    struct nested_cpu c = cpu64();
    unsigned r = rng() % 20;
    if (r == 0)
        c.cpl = 3;
    else if (r == 1)
        c.cs_long = false;
    return c;
}

/* One random step on both, which must agree on outcome and value. */
static void property_step(struct model *m, unsigned step)
{
    struct nested_cpu c = random_cpu();
    bool mode_ok = c.cpl == 0 && c.cs_long;
    int p = (int)(rng() % NPTRS);
    const struct model_field *f = &mfields[rng() % NFIELDS];
    uint64_t val = rng(), got = 0, want = 0;
    enum nested_result r, e;
    unsigned op = rng() % 16;
    /* Every instruction but VMXON: #UD outside VMX or in compatibility mode, #GP at CPL 3. */
    enum nested_result gate = !m->vmxon || !c.cs_long ? NESTED_UD : c.cpl ? NESTED_GP : NESTED_SUCCEED;
    switch (op) {
    case 0:
        r = nested_vmxon(&nv, &c, &M, mptrs[p]);
        e = m_vmxon(m, &c, p);
        break;
    case 1:
        r = nested_vmxoff(&nv, &c);
        e = gate;
        if (e == NESTED_SUCCEED) {
            m->vmxon = false;
            m->current = -1;
        }
        break;
    case 2: case 3:
        r = nested_vmclear(&nv, &c, &M, mptrs[p]);
        e = gate == NESTED_SUCCEED ? m_vmclear(m, p) : gate;
        break;
    case 4: case 5: case 6:
        r = nested_vmptrld(&nv, &c, &M, mptrs[p]);
        e = gate == NESTED_SUCCEED ? m_vmptrld(m, p) : gate;
        break;
    case 7:
        r = nested_vmptrst(&nv, &c, &got);
        e = gate;
        want = m->current < 0 ? NO_VMCS : mptrs[m->current];
        if (e != NESTED_SUCCEED)
            got = want;
        break;
    case 8: case 9: case 10: case 11:
        r = nested_vmread(&nv, &c, f->enc, &got);
        e = gate == NESTED_SUCCEED ? m_vmread(m, f, &want) : gate;
        if (e != NESTED_SUCCEED)
            got = want;
        break;
    case 12: case 13: case 14:
        r = nested_vmwrite(&nv, &c, f->enc, val);
        e = gate == NESTED_SUCCEED ? m_vmwrite(m, f, val) : gate;
        break;
    default:                                    /* vsbypass launching or checking */
        if (!mode_ok || m->current < 0)
            return;
        assert_int_equal(vmcs12_launch_state(&nv), m->cache.launched);
        m->cache.launched = val & 1;
        vmcs12_set_launch_state(&nv, m->cache.launched);
        return;
    }
    if (r != e || got != want)
        print_error("step %u: op %u ptr 0x%llx field 0x%llx: result %d want %d, value 0x%llx want 0x%llx\n",
                    step, op, (unsigned long long)mptrs[p], (unsigned long long)f->enc, r, e,
                    (unsigned long long)got, (unsigned long long)want);
    assert_int_equal(r, e);
    assert_int_equal(got, want);
}

static void test_property_random_sequences(void **state)
{
    (void)state;
    static const uint64_t seeds[] = { 0x9E3779B97F4A7C15ULL, 12345, 0xC0FFEE };
    for (size_t s = 0; s < sizeof(seeds) / sizeof(seeds[0]); s++) {
        setup(NULL);
        for (int i = 0; i < 6; i++) {
            uint32_t rev = i < 4 ? REV : i == 4 ? REV ^ 0x100 : REV | VMCS12_SHADOW_INDICATOR;
            region(mptrs[i], rev);
        }
        struct model m = { .vmxon = false, .vmxon_ptr = -1, .current = -1 };
        rng_state = seeds[s];
        for (unsigned step = 0; step < 2000; step++)
            property_step(&m, step);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_vmxon_success, setup),
        cmocka_unit_test_setup(test_vmxon_ud, setup),
        cmocka_unit_test_setup(test_vmxon_gp, setup),
        cmocka_unit_test_setup(test_vmxon_bad_pointer, setup),
        cmocka_unit_test_setup(test_vmxon_in_root, setup),
        cmocka_unit_test_setup(test_outside_vmx_operation, setup),
        cmocka_unit_test_setup(test_mode_and_cpl, setup),
        cmocka_unit_test_setup(test_vmclear_errors, setup),
        cmocka_unit_test_setup(test_vmptrld_errors, setup),
        cmocka_unit_test_setup(test_field_widths, setup),
        cmocka_unit_test_setup(test_unsupported_fields, setup),
        cmocka_unit_test_setup(test_read_only_fields, setup),
        cmocka_unit_test_setup(test_no_current_vmcs, setup),
        cmocka_unit_test_setup(test_vmclear_writes_back, setup),
        cmocka_unit_test_setup(test_switch_between_two, setup),
        cmocka_unit_test_setup(test_vmptrst, setup),
        cmocka_unit_test_setup(test_current_copy_is_in_l0, setup),
        cmocka_unit_test_setup(test_vmxoff, setup),
        cmocka_unit_test_setup(test_launch_state, setup),
        cmocka_unit_test_setup(test_field_table, setup),
        cmocka_unit_test_setup(test_direct_access, setup),
        cmocka_unit_test_setup(test_property_random_sequences, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
