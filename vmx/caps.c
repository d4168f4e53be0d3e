/* Reading and reporting VMX capabilities on every CPU. */
#include "vmx/vmx.h"
#include "core/cpu.h"
#include "core/hw.h"
#include "core/init.h"
#include "core/log.h"
#include "vmx/vmx_msr.h"

static struct vmx_caps caps[MAX_CPUS];

const struct vmx_caps *vmx_caps_of(unsigned cpu)
{
    return &caps[cpu];
}

static void vmx_caps_probe(unsigned cpu)
{
    struct vmx_caps *c = &caps[cpu];
    c->supported = cpuid(1, 0).ecx & CPUID_1_ECX_VMX;
    if (!c->supported)
        return;     /* every VMX MSR would #GP */
    c->feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
    c->basic = rdmsr(MSR_IA32_VMX_BASIC);
    bool true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
    c->pin = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
    c->proc = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
    c->exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
    c->entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
    c->misc = rdmsr(MSR_IA32_VMX_MISC);
    c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
    c->vmcs_enum = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
    /* Each of these MSRs exists only if the control that reports it can be 1. */
    if (vmx_allowed1(c->proc) & PROCBASED_ACTIVATE_SECONDARY) {
        c->proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
        if (vmx_allowed1(c->proc2) & (PROCBASED2_ENABLE_EPT | PROCBASED2_ENABLE_VPID))
            c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
        if (vmx_allowed1(c->proc2) & PROCBASED2_ENABLE_VMFUNC)
            c->vmfunc = rdmsr(MSR_IA32_VMX_VMFUNC);
    }
}

static void vmx_caps_report(void)
{
    unsigned ncpus = cpu_online_count();
    const struct vmx_caps *c = &caps[0];
    char buf[320];
    if (!c->supported) {
        kprintf("vmx: this CPU has no VT-x (CPUID.1:ECX.VMX=0); the cloud VM cannot be run\n");
        return;
    }
    uint64_t fc = c->feature_control;
    kprintf("vmx: supported; IA32_FEATURE_CONTROL 0x%llx (%s, VMX outside SMX %s)\n",
            (unsigned long long)fc, (fc & FEATURE_CONTROL_LOCK) ? "locked" : "unlocked",
            (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX) ? "enabled" :
            (fc & FEATURE_CONTROL_LOCK) ? "disabled by firmware" : "not yet enabled");
    vmx_caps_describe_basic(c, buf, sizeof(buf));
    kprintf("vmx: basic 0x%016llx: %s\n", (unsigned long long)c->basic, buf);
    kprintf("vmx: pin 0x%016llx proc 0x%016llx proc2 0x%016llx\n",
            (unsigned long long)c->pin, (unsigned long long)c->proc, (unsigned long long)c->proc2);
    kprintf("vmx: exit 0x%016llx entry 0x%016llx misc 0x%016llx\n",
            (unsigned long long)c->exit, (unsigned long long)c->entry, (unsigned long long)c->misc);
    kprintf("vmx: cr0 fixed0 0x%llx fixed1 0x%llx, cr4 fixed0 0x%llx fixed1 0x%llx\n",
            (unsigned long long)c->cr0_fixed0, (unsigned long long)c->cr0_fixed1,
            (unsigned long long)c->cr4_fixed0, (unsigned long long)c->cr4_fixed1);
    vmx_caps_describe_features(c, buf, sizeof(buf));
    kprintf("vmx: secondary controls: %s\n", buf);
    vmx_caps_describe_ept(c, buf, sizeof(buf));
    kprintf("vmx: EPT/VPID 0x%016llx: %s\n", (unsigned long long)c->ept_vpid, buf);
    unsigned same = 1;
    for (unsigned i = 1; i < ncpus; i++) {
        if (vmx_caps_equal(&caps[0], &caps[i]))
            same++;
        else
            kprintf("vmx: cpu%u reports different VMX capabilities than cpu0\n", i);
    }
    kprintf("vmx: capabilities identical on %u of %u CPUs\n", same, ncpus);
}

CORE_PERCPU_INIT(vmx_caps_probe);
CORE_INIT(vmx_caps_report, 10);
