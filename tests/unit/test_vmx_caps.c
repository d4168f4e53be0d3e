/* vmx/caps_decode.c: capability comparison and console summaries. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmx/vmx.h"
#include <string.h>

/* Values read from Bochs (cpu model with VMX, EPT and VPID). */
#define BOCHS_BASIC     0x00d810000000002bULL
#define BOCHS_PROC2     0x02177fff00000000ULL
#define BOCHS_EPT_VPID  0x00000f0106334141ULL

static struct vmx_caps bochs_caps(void)
{
    return (struct vmx_caps){
        .supported = true, .feature_control = 0x5, .basic = BOCHS_BASIC,
        .pin = 0x0000007f00000016ULL, .proc = 0xfff9fffe04006172ULL,
        .exit = 0x003fffff00036dfbULL, .entry = 0x0000f3ff000011fbULL,
        .proc2 = BOCHS_PROC2, .ept_vpid = BOCHS_EPT_VPID, .vmfunc = 1,
        .misc = 0x0000000000000040ULL, .cr0_fixed0 = 0x80000021, .cr0_fixed1 = 0xffffffff,
        .cr4_fixed0 = 0x2000, .cr4_fixed1 = 0x3727ff, .vmcs_enum = 0x2e,
    };
}

static void test_equal_ignores_feature_control(void **state)
{
    (void)state;
    struct vmx_caps a = bochs_caps(), b = bochs_caps();
    assert_true(vmx_caps_equal(&a, &b));
    b.feature_control = 0;
    assert_true(vmx_caps_equal(&a, &b));
    assert_true(vmx_caps_equal(&b, &a));
}

static void test_equal_detects_every_capability(void **state)
{
    (void)state;
    static const size_t fields[] = {
        offsetof(struct vmx_caps, basic), offsetof(struct vmx_caps, pin),
        offsetof(struct vmx_caps, proc), offsetof(struct vmx_caps, exit),
        offsetof(struct vmx_caps, entry), offsetof(struct vmx_caps, proc2),
        offsetof(struct vmx_caps, ept_vpid), offsetof(struct vmx_caps, vmfunc),
        offsetof(struct vmx_caps, misc), offsetof(struct vmx_caps, cr0_fixed0),
        offsetof(struct vmx_caps, cr0_fixed1), offsetof(struct vmx_caps, cr4_fixed0),
        offsetof(struct vmx_caps, cr4_fixed1), offsetof(struct vmx_caps, vmcs_enum),
    };
    const struct vmx_caps a = bochs_caps();
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        struct vmx_caps b = bochs_caps();
        uint64_t v;
        memcpy(&v, (char *)&b + fields[i], sizeof(v));
        v ^= 1ULL << 40;
        memcpy((char *)&b + fields[i], &v, sizeof(v));
        if (vmx_caps_equal(&a, &b))
            fail_msg("a difference in the field at offset %zu went unnoticed", fields[i]);
    }
    struct vmx_caps b = bochs_caps();
    b.supported = false;
    assert_false(vmx_caps_equal(&a, &b));
}

static void test_describe_basic(void **state)
{
    (void)state;
    char buf[128];
    struct vmx_caps c = bochs_caps();
    int n = vmx_caps_describe_basic(&c, buf, sizeof(buf));
    assert_string_equal(buf, "revision 0x2b, VMCS 4096 bytes, memory type WB, TRUE controls");
    assert_int_equal(n, strlen(buf));

    /* Revision 1, 1 KiB VMCS, uncacheable, no TRUE control MSRs. */
    c.basic = 0x0000040000000001ULL;
    n = vmx_caps_describe_basic(&c, buf, sizeof(buf));
    assert_string_equal(buf, "revision 0x1, VMCS 1024 bytes, memory type UC, legacy controls");
    assert_int_equal(n, strlen(buf));
}

static void test_describe_features(void **state)
{
    (void)state;
    char buf[320];
    struct vmx_caps c = bochs_caps();
    int n = vmx_caps_describe_features(&c, buf, sizeof(buf));
    assert_string_equal(buf, "EPT VPID unrestricted-guest VMCS-shadowing APIC-access x2APIC-virt "
                             "virtual-intr-delivery PML VMFUNC EPT-#VE RDTSCP INVPCID XSAVES TSC-scaling");
    assert_int_equal(n, strlen(buf));

    /* Only the allowed-1 half counts: allowed-0 bits are not features. */
    c.proc2 = (1ULL << 33) | (1ULL << 39) | 0xFFFFFFFFULL;
    n = vmx_caps_describe_features(&c, buf, sizeof(buf));
    assert_string_equal(buf, "EPT unrestricted-guest");
    assert_int_equal(n, 22);

    c.proc2 = 0;
    n = vmx_caps_describe_features(&c, buf, sizeof(buf));
    assert_string_equal(buf, "no secondary controls");
    assert_int_equal(n, strlen(buf));
}

static void test_describe_ept(void **state)
{
    (void)state;
    char buf[320];
    struct vmx_caps c = bochs_caps();
    int n = vmx_caps_describe_ept(&c, buf, sizeof(buf));
    assert_string_equal(buf, "4-level WB 2M-pages 1G-pages INVEPT-single INVEPT-all A/D-bits exec-only "
                             "INVVPID-addr INVVPID-single INVVPID-all INVVPID-single-nonglobal");
    assert_int_equal(n, strlen(buf));

    c.ept_vpid = 0;
    n = vmx_caps_describe_ept(&c, buf, sizeof(buf));
    assert_string_equal(buf, "none");
    assert_int_equal(n, 4);
}

/* Each describer writes at most `len` bytes, NUL-terminates, and returns the
 * length of what it wrote. */
typedef int (*describe_fn)(const struct vmx_caps *, char *, size_t);

static void expect_truncated(describe_fn fn, size_t len, const char *want)
{
    char buf[64];
    struct vmx_caps c = bochs_caps();
    memset(buf, 'Z', sizeof(buf));
    int n = fn(&c, buf + 1, len);
    assert_int_equal(buf[0], 'Z');
    for (size_t i = 1 + len; i < sizeof(buf); i++)
        if (buf[i] != 'Z')
            fail_msg("byte %zu past a %zu-byte buffer was written", i - 1, len);
    if (len) {
        assert_string_equal(buf + 1, want);
        assert_int_equal(n, strlen(want));
    } else {
        assert_int_equal(n, 0);
    }
}

static void test_tiny_buffers_truncate_safely(void **state)
{
    (void)state;
    expect_truncated(vmx_caps_describe_features, 10, "EPT VPID ");
    expect_truncated(vmx_caps_describe_features, 4, "EPT");
    expect_truncated(vmx_caps_describe_features, 3, "EP");
    expect_truncated(vmx_caps_describe_features, 1, "");
    expect_truncated(vmx_caps_describe_features, 0, NULL);
    expect_truncated(vmx_caps_describe_ept, 12, "4-level WB ");
    expect_truncated(vmx_caps_describe_ept, 1, "");
    expect_truncated(vmx_caps_describe_ept, 0, NULL);
    expect_truncated(vmx_caps_describe_basic, 14, "revision 0x2b");
    expect_truncated(vmx_caps_describe_basic, 1, "");
    expect_truncated(vmx_caps_describe_basic, 0, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_ignores_feature_control),
        cmocka_unit_test(test_equal_detects_every_capability),
        cmocka_unit_test(test_describe_basic),
        cmocka_unit_test(test_describe_features),
        cmocka_unit_test(test_describe_ept),
        cmocka_unit_test(test_tiny_buffers_truncate_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
