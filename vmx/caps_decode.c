/* Decoding of VMX capability MSRs into console text (pure; host-tested). */
#include "vmx/vmx.h"
#include "core/fmt.h"
#include "core/libc.h"
#include "vmx/vmx_msr.h"

bool vmx_caps_equal(const struct vmx_caps *a, const struct vmx_caps *b)
{
    /* feature_control is per-CPU firmware state, not a capability. */
    return a->supported == b->supported && a->basic == b->basic && a->pin == b->pin &&
           a->proc == b->proc && a->exit == b->exit && a->entry == b->entry &&
           a->proc2 == b->proc2 && a->ept_vpid == b->ept_vpid && a->vmfunc == b->vmfunc &&
           a->misc == b->misc && a->cr0_fixed0 == b->cr0_fixed0 &&
           a->cr0_fixed1 == b->cr0_fixed1 && a->cr4_fixed0 == b->cr4_fixed0 &&
           a->cr4_fixed1 == b->cr4_fixed1 && a->vmcs_enum == b->vmcs_enum;
}

struct text {
    char *buf;
    size_t len, pos;
};

static void add(struct text *t, const char *s)
{
    int n = fmt_snprintf(t->buf + t->pos, t->len - t->pos, "%s%s", t->pos ? " " : "", s);
    if (n > 0)
        t->pos = t->pos + (size_t)n < t->len ? t->pos + (size_t)n : t->len - 1;
}

int vmx_caps_describe_basic(const struct vmx_caps *c, char *buf, size_t len)
{
    int n = fmt_snprintf(buf, len, "revision 0x%x, VMCS %u bytes, memory type %s, %s controls",
                         VMX_BASIC_REVISION(c->basic), VMX_BASIC_VMCS_SIZE(c->basic),
                         VMX_BASIC_MEMTYPE(c->basic) == VMX_MEMTYPE_WB ? "WB" : "UC",
                         (c->basic & VMX_BASIC_TRUE_CTLS) ? "TRUE" : "legacy");
    /* The length written, like the other describers, not what would have been. */
    if (n > 0 && (size_t)n >= len)
        n = len ? (int)(len - 1) : 0;
    return n;
}

int vmx_caps_describe_features(const struct vmx_caps *c, char *buf, size_t len)
{
    static const struct { uint32_t bit; const char *name; } p2[] = {
        { PROCBASED2_ENABLE_EPT, "EPT" },
        { PROCBASED2_ENABLE_VPID, "VPID" },
        { PROCBASED2_UNRESTRICTED_GUEST, "unrestricted-guest" },
        { PROCBASED2_VMCS_SHADOWING, "VMCS-shadowing" },
        { PROCBASED2_VIRT_APIC_ACCESS, "APIC-access" },
        { PROCBASED2_VIRT_X2APIC, "x2APIC-virt" },
        { PROCBASED2_VIRT_INTR_DELIVERY, "virtual-intr-delivery" },
        { PROCBASED2_ENABLE_PML, "PML" },
        { PROCBASED2_ENABLE_VMFUNC, "VMFUNC" },
        { PROCBASED2_EPT_VE, "EPT-#VE" },
        { PROCBASED2_ENABLE_RDTSCP, "RDTSCP" },
        { PROCBASED2_ENABLE_INVPCID, "INVPCID" },
        { PROCBASED2_ENABLE_XSAVES, "XSAVES" },
        { PROCBASED2_TSC_SCALING, "TSC-scaling" },
    };
    struct text t = { buf, len, 0 };
    if (!len)
        return 0;       /* no room even for the terminator */
    buf[0] = '\0';
    uint32_t a1 = vmx_allowed1(c->proc2);
    for (size_t i = 0; i < sizeof(p2) / sizeof(p2[0]); i++)
        if (a1 & p2[i].bit)
            add(&t, p2[i].name);
    if (!t.pos)
        add(&t, "no secondary controls");
    return (int)t.pos;
}

int vmx_caps_describe_ept(const struct vmx_caps *c, char *buf, size_t len)
{
    static const struct { uint64_t bit; const char *name; } caps[] = {
        { EPT_CAP_WALK_4, "4-level" }, { EPT_CAP_MEMTYPE_WB, "WB" },
        { EPT_CAP_2M_PAGE, "2M-pages" }, { EPT_CAP_1G_PAGE, "1G-pages" },
        { EPT_CAP_INVEPT_SINGLE, "INVEPT-single" }, { EPT_CAP_INVEPT_ALL, "INVEPT-all" },
        { EPT_CAP_AD_BITS, "A/D-bits" }, { EPT_CAP_EXEC_ONLY, "exec-only" },
        { VPID_CAP_INVVPID_ADDR, "INVVPID-addr" }, { VPID_CAP_INVVPID_SINGLE, "INVVPID-single" },
        { VPID_CAP_INVVPID_ALL, "INVVPID-all" },
        { VPID_CAP_INVVPID_SINGLE_NONGLOBAL, "INVVPID-single-nonglobal" },
    };
    struct text t = { buf, len, 0 };
    if (!len)
        return 0;       /* no room even for the terminator */
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
        if (c->ept_vpid & caps[i].bit)
            add(&t, caps[i].name);
    if (!t.pos)
        add(&t, "none");
    return (int)t.pos;
}
