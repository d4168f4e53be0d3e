/*
 * VM exits for the VMX instructions L1 executes: operand decoding from the
 * VM-exit instruction-information field (SDM "Information for VM Exits Due
 * to Instruction Execution"), then the semantics in vmx/nested.c, then
 * RFLAGS per the SDM's VMsucceed/VMfailInvalid/VMfailValid conventions.
 */
#include "vmx/nested_exits.h"
#include "vmx/vmcs_shadow.h"
#include "core/cpu.h"
#include "core/hw.h"
#include "core/log.h"
#include "vmx/cloud.h"
#include "vmx/guest.h"
#include "vmx/nested.h"
#include "vmx/passthrough.h"
#include "vmx/vmx_hw.h"
#include "vmx/vmx_msr.h"

#define RFLAGS_CF  (1ULL << 0)
#define RFLAGS_PF  (1ULL << 2)
#define RFLAGS_AF  (1ULL << 4)
#define RFLAGS_ZF  (1ULL << 6)
#define RFLAGS_SF  (1ULL << 7)
#define RFLAGS_OF  (1ULL << 11)
#define RFLAGS_VM  (1ULL << 17)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

static struct nested_vcpu nested[MAX_CPUS];

struct nested_vcpu *nested_vcpu_of(unsigned cpu)
{
    return &nested[cpu];
}

static const uint32_t seg_base_field[6] = {
    VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
    VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE,
};

/* The decoded VM-exit instruction-information field. */
struct insn_info {
    unsigned scale, addr_bits, seg, index, base, reg1, reg2;
    bool is_reg, index_valid, base_valid;
};

static struct insn_info decode_info(uint32_t info)
{
    struct insn_info i = {
        .scale = info & 3,
        .reg1 = (info >> 3) & 15,
        .addr_bits = 16u << ((info >> 7) & 7),
        .is_reg = (info >> 10) & 1,
        .seg = (info >> 15) & 7,
        .index = (info >> 18) & 15,
        .index_valid = !((info >> 22) & 1),
        .base = (info >> 23) & 15,
        .base_valid = !((info >> 27) & 1),
        .reg2 = (info >> 28) & 15,
    };
    return i;
}

/* Linear address of the memory operand: segment base + base + index * scale
 * + displacement (the exit qualification), wrapped to the address size. */
static uint64_t operand_linear(struct vcpu *v, const struct insn_info *i, bool long_mode)
{
    uint64_t disp = vmcs_read(VMCS_EXIT_QUALIFICATION);
    uint64_t a = disp;
    if (i->base_valid)
        a += vcpu_reg_read(v, i->base);
    if (i->index_valid)
        a += vcpu_reg_read(v, i->index) << i->scale;
    if (i->addr_bits < 64)
        a &= (1ULL << i->addr_bits) - 1;
    /* In 64-bit mode only FS and GS contribute a base. */
    if (i->seg < 6 && (!long_mode || i->seg >= 4))
        a += vmcs_read(seg_base_field[i->seg]);
    return long_mode ? a : a & 0xFFFFFFFFULL;
}

static int l1_read(void *ctx, uint64_t gpa, void *buf, size_t n) { (void)ctx; return guest_read_phys(gpa, buf, n); }
static int l1_write(void *ctx, uint64_t gpa, const void *buf, size_t n) { (void)ctx; return guest_write_phys(gpa, buf, n); }
static const struct nested_mem l1_mem = { l1_read, l1_write, NULL };

static struct nested_cpu cpu_state(void)
{
    uint64_t cr0_l1 = (vmcs_read(VMCS_GUEST_CR0) & ~vmcs_read(VMCS_CR0_MASK)) |
                      (vmcs_read(VMCS_CR0_SHADOW) & vmcs_read(VMCS_CR0_MASK));
    uint64_t cr4_l1 = (vmcs_read(VMCS_GUEST_CR4) & ~vmcs_read(VMCS_CR4_MASK)) |
                      (vmcs_read(VMCS_CR4_SHADOW) & vmcs_read(VMCS_CR4_MASK));
    const struct nested_caps *c = &cloud.caps;
    uint64_t f0 = c->msr[MSR_IA32_VMX_CR0_FIXED0 - NESTED_MSR_FIRST];
    uint64_t f1 = c->msr[MSR_IA32_VMX_CR0_FIXED1 - NESTED_MSR_FIRST];
    uint64_t g0 = c->msr[MSR_IA32_VMX_CR4_FIXED0 - NESTED_MSR_FIRST];
    uint64_t g1 = c->msr[MSR_IA32_VMX_CR4_FIXED1 - NESTED_MSR_FIRST];
    struct nested_cpu s = {
        .cpl = (vmcs_read(VMCS_GUEST_SS_AR) >> 5) & 3,
        .protected_mode = cr0_l1 & 1,
        .v8086 = vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_VM,
        .long_mode = vmcs_read(VMCS_GUEST_EFER) & EFER_LMA,
        .cs_long = (vmcs_read(VMCS_GUEST_CS_AR) >> 13) & 1,
        .cr4_vmxe = cr4_l1 & (1ULL << 13),
        .cr0_cr4_fixed_ok = (cr0_l1 & f0) == f0 && !(cr0_l1 & ~f1) && (cr4_l1 & g0) == g0 && !(cr4_l1 & ~g1),
        .feature_control_ok = true,     /* reported locked with VMX outside SMX */
        .phys_bits = cpuid(0x80000008, 0).eax & 0xFF,
    };
    return s;
}

static void apply_result(struct vcpu *v, enum nested_result r)
{
    uint64_t fl = vmcs_read(VMCS_GUEST_RFLAGS) & ~RFLAGS_ARITH;
    switch (r) {
    case NESTED_UD:
        vmx_inject_exception(6, false, 0);
        return;
    case NESTED_GP:
        vmx_inject_exception(13, true, 0);
        return;
    case NESTED_FAIL_INVALID:
        fl |= RFLAGS_CF;
        break;
    case NESTED_FAIL_VALID:
        fl |= RFLAGS_ZF;
        break;
    case NESTED_SUCCEED:
        break;
    }
    vmcs_write(VMCS_GUEST_RFLAGS, fl);
    vmx_skip_instruction();
    (void)v;
}

/* Reads the 64-bit pointer operand of VMXON/VMCLEAR/VMPTRLD; false = #PF-like failure. */
static bool read_ptr_operand(struct vcpu *v, const struct nested_cpu *c, uint64_t *ptr)
{
    struct insn_info i = decode_info((uint32_t)vmcs_read(VMCS_EXIT_INSTR_INFO));
    uint64_t lin = operand_linear(v, &i, c->long_mode && c->cs_long);
    if (guest_read_linear(lin, ptr, 8)) {
        kprintf("nested: cpu%u: VMX operand at linear 0x%llx is not readable; #GP\n", v->cpu,
                (unsigned long long)lin);
        return false;
    }
    return true;
}

/* #UD and #GP conditions shared by every VMX instruction (SDM pseudocode). */
static enum nested_result mode_check(const struct nested_vcpu *n, const struct nested_cpu *c, bool vmxon)
{
    if ((vmxon ? !c->cr4_vmxe : !n->vmxon) || c->v8086 || !c->protected_mode ||
        (c->long_mode && !c->cs_long))
        return NESTED_UD;
    return c->cpl ? NESTED_GP : NESTED_SUCCEED;
}

static enum nested_result fail_valid(struct nested_vcpu *n, uint32_t error)
{
    if (n->current_ptr == ~0ULL)
        return NESTED_FAIL_INVALID;
    vmcs12_set(n, VMCS_INSTR_ERROR, error);
    return NESTED_FAIL_VALID;
}

/*
 * INVEPT / INVVPID: validate the type and descriptor. INVEPT drops EPT02;
 * INVVPID flushes the one VPID every L2 runs with.
 */
static enum nested_result invalidate(struct vcpu *v, struct nested_vcpu *n, const struct nested_cpu *c,
                                     const struct insn_info *i, bool ept)
{
    uint64_t type = vcpu_reg_read(v, i->reg2);
    uint64_t desc[2];
    if (!c->long_mode || !c->cs_long)
        type = (uint32_t)type;
    if (guest_read_linear(operand_linear(v, i, c->long_mode && c->cs_long), desc, 16))
        return NESTED_GP;
    uint64_t caps = cloud.caps.msr[MSR_IA32_VMX_EPT_VPID_CAP - NESTED_MSR_FIRST];
    if (ept) {
        bool ok = (type == 1 && (caps & EPT_CAP_INVEPT_SINGLE)) || (type == 2 && (caps & EPT_CAP_INVEPT_ALL));
        if (!ok)
            return fail_valid(n, VMXERR_INVALID_INVEPT_INVVPID);
        nested_flush_ept02(v);      /* EPT02 caches EPT12: rebuild it on demand */
        return NESTED_SUCCEED;
    }
    static const uint64_t vpid_type_cap[4] = { VPID_CAP_INVVPID_ADDR, VPID_CAP_INVVPID_SINGLE,
                                                VPID_CAP_INVVPID_ALL, VPID_CAP_INVVPID_SINGLE_NONGLOBAL };
    if (type > 3 || !(caps & vpid_type_cap[type]) || (desc[0] >> 16) ||
        (type != 2 && !(desc[0] & 0xFFFF)))
        return fail_valid(n, VMXERR_INVALID_INVEPT_INVVPID);
    nested_invvpid(v);
    return NESTED_SUCCEED;
}

void nested_entry_failed(struct vcpu *v, uint64_t error)
{
    struct nested_vcpu *n = &nested[v->cpu];
    if (vmptrld(v->vmcs_pa))
        panic("nested: VMPTRLD of VMCS01 failed");
    v->launched = v->launched01;
    v->in_l2 = false;
    nested_vmcs02_forget(v, ~0ULL);
    vmcs12_set_launch_state(n, 0);
    kprintf("nested: cpu%u: entering VMCS02 failed (VM-instruction error %llu); VMfailValid to L1\n",
            v->cpu, (unsigned long long)error);
    apply_result(v, fail_valid(n, (uint32_t)error));
    vmcs_shadow_push(v, n);
}

void nested_exit_vmx_insn(struct vcpu *v, unsigned reason)
{
    struct nested_vcpu *n = &nested[v->cpu];
    if (!cloud.nested) {
        vmx_inject_exception(6, false, 0);
        return;
    }
    if (n->revision != NESTED_VMCS_REVISION)
        nested_init(n, NESTED_VMCS_REVISION);
    vmcs_shadow_pull(v, n);     /* L1's VMWRITEs to shadowed fields, before VMCS12 is read */
    struct nested_cpu c = cpu_state();
    bool lm64 = c.long_mode && c.cs_long;
    struct insn_info i = decode_info((uint32_t)vmcs_read(VMCS_EXIT_INSTR_INFO));
    uint64_t ptr = 0, val = 0;
    enum nested_result r;
    switch (reason) {
    case EXIT_REASON_VMXON:
    case EXIT_REASON_VMCLEAR:
    case EXIT_REASON_VMPTRLD:
        /* The SDM checks mode and CPL before it reads the memory operand. */
        if ((r = mode_check(n, &c, reason == EXIT_REASON_VMXON)) != NESTED_SUCCEED)
            break;
        if (!read_ptr_operand(v, &c, &ptr)) {
            r = NESTED_GP;
            break;
        }
        if (reason == EXIT_REASON_VMCLEAR)
            nested_vmcs02_forget(v, ptr);
        r = reason == EXIT_REASON_VMXON ? nested_vmxon(n, &c, &l1_mem, ptr)
          : reason == EXIT_REASON_VMCLEAR ? nested_vmclear(n, &c, &l1_mem, ptr)
          : nested_vmptrld(n, &c, &l1_mem, ptr);
        if (reason == EXIT_REASON_VMCLEAR && r == NESTED_SUCCEED)
            passthrough_vmclear(ptr);
        break;
    case EXIT_REASON_VMXOFF:
        r = nested_vmxoff(n, &c);
        if (r == NESTED_SUCCEED) {      /* nothing L1 built for VMX is kept */
            nested_vmcs02_forget(v, ~0ULL);
            nested_flush_ept02(v);
        }
        break;
    case EXIT_REASON_VMPTRST:
        r = nested_vmptrst(n, &c, &ptr);
        if (r == NESTED_SUCCEED &&
            guest_write_linear(operand_linear(v, &i, lm64), &ptr, 8))
            r = NESTED_GP;
        break;
    case EXIT_REASON_VMREAD: {
        uint64_t field = vcpu_reg_read(v, i.reg2);
        r = nested_vmread(n, &c, lm64 ? field : (uint32_t)field, &val);
        if (r != NESTED_SUCCEED)
            break;
        if (i.is_reg)
            vcpu_reg_write(v, i.reg1, lm64 ? val : (uint32_t)val);
        else if (guest_write_linear(operand_linear(v, &i, lm64), &val, lm64 ? 8 : 4))
            r = NESTED_GP;
        break;
    }
    case EXIT_REASON_VMWRITE: {
        uint64_t field = vcpu_reg_read(v, i.reg2);
        if (i.is_reg)
            val = vcpu_reg_read(v, i.reg1);
        else if (guest_read_linear(operand_linear(v, &i, lm64), &val, lm64 ? 8 : 4)) {
            r = NESTED_GP;
            break;
        }
        if (!lm64) {
            val = (uint32_t)val;
            field = (uint32_t)field;
        }
        r = nested_vmwrite(n, &c, field, val);
        break;
    }
    case EXIT_REASON_VMLAUNCH:
    case EXIT_REASON_VMRESUME:
        if ((r = mode_check(n, &c, false)) != NESTED_SUCCEED)
            break;
        if (n->current_ptr == ~0ULL) {
            r = NESTED_FAIL_INVALID;
            break;
        }
        {
            unsigned err = nested_enter_l2(v, n, reason == EXIT_REASON_VMLAUNCH);
            if (!err)
                return;         /* VMCS02 is current: the next entry runs L2 */
            r = fail_valid(n, err);
        }
        break;
    case EXIT_REASON_INVEPT:
    case EXIT_REASON_INVVPID:
        if ((r = mode_check(n, &c, false)) != NESTED_SUCCEED)
            break;
        r = invalidate(v, n, &c, &i, reason == EXIT_REASON_INVEPT);
        break;
    default:
        r = NESTED_UD;
        break;
    }
    apply_result(v, r);
    vmcs_shadow_push(v, n);
}
