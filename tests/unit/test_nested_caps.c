/* The VMX capabilities offered to L1: consistent, within the host's, and
 * enough for unmodified kvm_intel (requirements from the architecture brief). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "vmx/nested_caps.h"
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_msr.h"

/* Bochs 2.7 corei7_skylake_x, as vsbypass prints them at boot. */
static struct vmx_caps bochs(void)
{
    struct vmx_caps h = {
        .supported = true, .feature_control = 5, .basic = 0x00d810000000002bULL,
        .pin = 0x0000007f00000016ULL, .proc = 0xf7f9fffe04006172ULL,
        .exit = 0x007fffff00036dfbULL, .entry = 0x0000ffff000011fbULL,
        .proc2 = 0x02177fff00000000ULL, .ept_vpid = 0x00000f0106334141ULL,
        .misc = 0x00000000600401e0ULL, .cr0_fixed0 = 0x80000021, .cr0_fixed1 = 0xffffffff,
        .cr4_fixed0 = 0x2000, .cr4_fixed1 = 0x3727ff, .vmcs_enum = 0x2e,
    };
    return h;
}

static uint64_t rd(const struct nested_caps *c, uint32_t msr)
{
    uint64_t v = 0;
    assert_int_equal(nested_caps_rdmsr(c, msr, &v), 0);
    return v;
}

static void test_basic(void **state)
{
    (void)state;
    struct vmx_caps h = bochs();
    struct nested_caps c;
    assert_true(nested_caps_compute(&h, &c));
    uint64_t b = rd(&c, MSR_IA32_VMX_BASIC);
    assert_int_equal(VMX_BASIC_REVISION(b), NESTED_VMCS_REVISION);
    assert_int_equal(VMX_BASIC_VMCS_SIZE(b), 4096);       /* KVM: size <= 4096 */
    assert_int_equal(VMX_BASIC_MEMTYPE(b), VMX_MEMTYPE_WB);
    assert_false(b & VMX_BASIC_PHYS_32BIT);              /* KVM: bit 48 must be 0 */
    assert_true(b & VMX_BASIC_TRUE_CTLS);
    uint64_t v;
    assert_int_equal(nested_caps_rdmsr(&c, MSR_IA32_VMX_VMFUNC, &v), -1);
    assert_int_equal(nested_caps_rdmsr(&c, 0x47F, &v), -1);
    assert_int_equal(nested_caps_rdmsr(&c, 0x492, &v), -1);
}

/* KVM 6.1 setup_vmcs_config: each required control must be allowed-1. */
static void test_kvm_required(void **state)
{
    (void)state;
    struct vmx_caps h = bochs();
    struct nested_caps c;
    assert_true(nested_caps_compute(&h, &c));
    uint32_t pin = PIN_EXT_INTR_EXIT | PIN_NMI_EXIT;
    uint32_t proc = PROC_HLT_EXIT | PROC_CR3_LOAD_EXIT | PROC_CR3_STORE_EXIT | PROC_UNCOND_IO_EXIT |
                    PROC_MOV_DR_EXIT | PROC_TSC_OFFSETTING | PROC_MWAIT_EXIT | PROC_MONITOR_EXIT |
                    PROC_INVLPG_EXIT | PROC_RDPMC_EXIT | PROC_INTR_WINDOW_EXIT |
                    PROC_CR8_LOAD_EXIT | PROC_CR8_STORE_EXIT;
    uint32_t exit = EXIT_SAVE_DEBUG | EXIT_ACK_INTR_ON_EXIT | EXIT_HOST_ADDR_SPACE_SIZE;
    uint32_t entry = ENTRY_LOAD_DEBUG | ENTRY_IA32E_MODE;
    assert_int_equal(vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_PINBASED_CTLS)) & pin, pin);
    assert_int_equal(vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_PROCBASED_CTLS)) & proc, proc);
    assert_int_equal(vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_EXIT_CTLS)) & exit, exit);
    assert_int_equal(vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_ENTRY_CTLS)) & entry, entry);
    /* Xen additionally: I/O bitmaps, RDTSC exiting, interrupt window. */
    uint32_t xen = PROC_USE_IO_BITMAPS | PROC_RDTSC_EXIT | PROC_INTR_WINDOW_EXIT;
    assert_int_equal(vmx_allowed1(rd(&c, MSR_IA32_VMX_PROCBASED_CTLS)) & xen, xen);
    /* With TRUE controls KVM may clear CR3 exiting when EPT is on. */
    assert_false(vmx_allowed0(rd(&c, MSR_IA32_VMX_TRUE_PROCBASED_CTLS)) &
                 (PROC_CR3_LOAD_EXIT | PROC_CR3_STORE_EXIT));
    assert_true(vmx_allowed0(rd(&c, MSR_IA32_VMX_PROCBASED_CTLS)) & PROC_CR3_LOAD_EXIT);
    /* Entry/exit pairs match (PAT, EFER) and PERF_GLOBAL_CTRL is offered on neither side. */
    uint32_t ex1 = vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_EXIT_CTLS));
    uint32_t en1 = vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_ENTRY_CTLS));
    assert_int_equal(!!(ex1 & EXIT_LOAD_PAT), !!(en1 & ENTRY_LOAD_PAT));
    assert_int_equal(!!(ex1 & EXIT_LOAD_EFER), !!(en1 & ENTRY_LOAD_EFER));
    assert_false(ex1 & (1u << 12));
    assert_false(en1 & (1u << 13));
}

static void test_offered_and_hidden(void **state)
{
    (void)state;
    struct vmx_caps h = bochs();
    struct nested_caps c;
    assert_true(nested_caps_compute(&h, &c));
    uint32_t p2 = vmx_allowed1(rd(&c, MSR_IA32_VMX_PROCBASED_CTLS2));
    uint32_t want = PROCBASED2_ENABLE_EPT | PROCBASED2_ENABLE_VPID | PROCBASED2_UNRESTRICTED_GUEST;
    assert_int_equal(p2 & want, want);
    uint32_t hidden = PROCBASED2_VMCS_SHADOWING | PROCBASED2_ENABLE_PML | PROCBASED2_VIRT_APIC_ACCESS |
                      PROCBASED2_VIRT_X2APIC | PROCBASED2_VIRT_INTR_DELIVERY | PROCBASED2_APIC_REG_VIRT |
                      PROCBASED2_ENABLE_VMFUNC | PROCBASED2_EPT_VE | PROCBASED2_TSC_SCALING;
    assert_int_equal(p2 & hidden, 0);
    assert_int_equal(vmx_allowed0(rd(&c, MSR_IA32_VMX_PROCBASED_CTLS2)), 0);
    uint32_t pin1 = vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_PINBASED_CTLS));
    assert_false(pin1 & PIN_PREEMPT_TIMER);
    assert_false(pin1 & (1u << 7));                         /* posted interrupts */
    assert_false(vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_PROCBASED_CTLS)) & PROC_TPR_SHADOW);
    uint64_t ept = rd(&c, MSR_IA32_VMX_EPT_VPID_CAP);
    uint64_t must = EPT_CAP_WALK_4 | EPT_CAP_MEMTYPE_WB | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE |
                    EPT_CAP_INVEPT_ALL | VPID_CAP_INVVPID | VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL;
    assert_int_equal(ept & must, must);
    assert_false(ept & EPT_CAP_AD_BITS);
    assert_false(ept & EPT_CAP_1G_PAGE);
    uint64_t misc = rd(&c, MSR_IA32_VMX_MISC);
    assert_true(misc & (1u << 6));                          /* activity HLT */
    assert_false(misc & ((1u << 7) | (1u << 8)));           /* shutdown, wait-for-SIPI */
    assert_false(misc & 0x1F);                              /* no preemption timer rate */
}

/* Everything L1 may set must be something the host can run, for any host. */
static void test_within_host(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    for (int i = 0; i < 500; i++) {
        struct vmx_caps h = bochs();
        uint64_t *f[] = { &h.pin, &h.proc, &h.exit, &h.entry, &h.proc2, &h.ept_vpid };
        for (unsigned k = 0; k < 6; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            *f[k] &= seed | 0xFFFFFFFFULL | ((uint64_t)(PROCBASED2_ENABLE_EPT | PROCBASED2_ENABLE_VPID |
                                                      PROCBASED2_UNRESTRICTED_GUEST) << 32);
            if (k < 5)      /* a real CPU allows 1 wherever it requires 1 */
                *f[k] |= (*f[k] & 0xFFFFFFFFULL) << 32;
        }
        struct nested_caps c;
        if (!nested_caps_compute(&h, &c))
            continue;
        assert_int_equal(vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_PINBASED_CTLS)) & ~vmx_allowed1(h.pin), 0);
        assert_int_equal(vmx_allowed1(rd(&c, MSR_IA32_VMX_PROCBASED_CTLS2)) & ~vmx_allowed1(h.proc2), 0);
        assert_int_equal(vmx_allowed1(rd(&c, MSR_IA32_VMX_TRUE_EXIT_CTLS)) & ~vmx_allowed1(h.exit), 0);
        assert_int_equal(rd(&c, MSR_IA32_VMX_EPT_VPID_CAP) & ~h.ept_vpid, 0);
        /* allowed-0 bits are always allowed-1 */
        uint64_t pr = rd(&c, MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
        assert_int_equal(vmx_allowed0(pr) & ~vmx_allowed1(pr), 0);
    }
}

static void test_refuses_weak_hosts(void **state)
{
    (void)state;
    struct nested_caps c;
    struct vmx_caps h = bochs();
    h.supported = false;
    assert_false(nested_caps_compute(&h, &c));
    h = bochs();
    h.basic &= ~VMX_BASIC_TRUE_CTLS;
    assert_false(nested_caps_compute(&h, &c));
    h = bochs();
    h.proc2 &= ~((uint64_t)PROCBASED2_UNRESTRICTED_GUEST << 32);
    assert_false(nested_caps_compute(&h, &c));
    uint64_t v;
    assert_int_equal(nested_caps_rdmsr(&c, MSR_IA32_VMX_BASIC, &v), -1);  /* nothing offered */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_kvm_required),
        cmocka_unit_test(test_offered_and_hidden),
        cmocka_unit_test(test_within_host),
        cmocka_unit_test(test_refuses_weak_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
