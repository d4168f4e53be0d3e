/*
 * A malicious L1 for vsbypass: misuses every VMX instruction vsbypass
 * emulates and checks each outcome against the SDM (and vsbypass's own
 * documented limits). Output on COM1: "malicious: <check>: PASS|FAIL ...".
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE 4096
#define REVISION 0x5642u

/* Outcomes of a VMX instruction, one integer each. */
#define R_OK         0
#define R_INVALID    1                  /* VMfailInvalid: CF=1 */
#define R_VALID(e)   (0x100 + (e))      /* VMfailValid, error number e */
#define R_FAULT(v)   (0x1000 + (v))     /* exception vector v */
#define R_OTHER      0xFFFF             /* flags that mean nothing */

extern volatile uint64_t resume_rip;
extern volatile int fault_vector;
extern uint64_t gdt_tss[2];
extern struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr;
extern char isr0[], isr1[], isr2[], isr3[], isr4[], isr5[], isr6[], isr7[], isr8[], isr9[];
extern char isr10[], isr11[], isr12[], isr13[], isr14[], isr15[], isr16[], isr17[], isr18[], isr19[];
extern char isr_user_return[], l2_exit_landing[];
void run_user(void (*fn)(void), void *stack_top);

static uint8_t vmxon_region[PAGE] __attribute__((aligned(PAGE)));
static uint8_t vmcs_a[PAGE] __attribute__((aligned(PAGE)));
static uint8_t vmcs_b[PAGE] __attribute__((aligned(PAGE)));
static uint8_t vmcs_c[PAGE] __attribute__((aligned(PAGE)));
static uint8_t bad_rev[PAGE] __attribute__((aligned(PAGE)));
static uint64_t ept_pml4[512] __attribute__((aligned(PAGE)));
static uint64_t ept_pdpt[512] __attribute__((aligned(PAGE)));
static uint64_t ept_pd[512] __attribute__((aligned(PAGE)));
static uint8_t user_stack[8192] __attribute__((aligned(16)));
static uint8_t host_stack[8192] __attribute__((aligned(16)));
static uint8_t tss[104] __attribute__((aligned(16)));
static uint8_t kstack0[8192] __attribute__((aligned(16)));
static uint64_t idt[2 * 256] __attribute__((aligned(16)));

static unsigned passed, failed;

/* ------------------------------------------------------------ console */

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }

static void putc_(char c)
{
    for (int i = 0; i < 100000 && !(inb(0x3FD) & 0x20); i++)
        ;
    outb(0x3F8, (uint8_t)c);
}
static void puts_(const char *s) { while (*s) { if (*s == '\n') putc_('\r'); putc_(*s++); } }
static void puthex(uint64_t v)
{
    char b[19];
    int i = 18;
    b[i] = 0;
    do { b[--i] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    b[--i] = 'x';
    b[--i] = '0';
    puts_(b + i);
}
static void putdec(uint64_t v)
{
    char b[21];
    int i = 20;
    b[i] = 0;
    do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    puts_(b + i);
}

static void put_outcome(unsigned r)
{
    if (r == R_OK) puts_("VMsucceed");
    else if (r == R_INVALID) puts_("VMfailInvalid");
    else if (r >= 0x100 && r < 0x1000) { puts_("VMfailValid error "); putdec(r - 0x100); }
    else if (r >= 0x1000 && r < 0x1100) { puts_("fault vector "); putdec(r - 0x1000); }
    else puts_("nonsense flags");
}

static void result(const char *name, bool ok)
{
    puts_("malicious: ");
    puts_(name);
    puts_(ok ? ": PASS\n" : ": FAIL");
    if (ok) passed++; else failed++;
}

/* An outcome check: PASS, or FAIL (got X, want Y). */
static void expect(const char *name, unsigned got, unsigned want)
{
    result(name, got == want);
    if (got != want) {
        puts_(" (got "); put_outcome(got); puts_(", want "); put_outcome(want); puts_(")\n");
    }
}

/* A value check. */
static void expect_val(const char *name, uint64_t got, uint64_t want)
{
    result(name, got == want);
    if (got != want) {
        puts_(" (got "); puthex(got); puts_(", want "); puthex(want); puts_(")\n");
    }
}

static void summary(const char *what)
{
    puts_("malicious: "); putdec(passed); puts_(" passed, "); putdec(failed); puts_(" failed");
    puts_(what);
    puts_("\n");
}

void unexpected_fault(uint64_t vec, uint64_t err, uint64_t rip, uint64_t cr2)
{
    puts_("malicious: unexpected exception: FAIL (vector "); putdec(vec);
    puts_(" error "); puthex(err); puts_(" rip "); puthex(rip); puts_(" cr2 "); puthex(cr2);
    puts_(")\n");
    failed++;
    summary("");
    puts_("malicious: done\n");
}

/* ------------------------------------------------------------ CPU bits */

static inline uint64_t rdmsr(uint32_t m)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m));
    return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }

/* ------------------------------------------------------------ VMX wrappers */

/*
 * Each wrapper arms resume_rip at the label after the instruction, so an
 * exception resumes there with fault_vector set; otherwise RFLAGS tells
 * VMsucceed / VMfailInvalid / VMfailValid (error read from field 0x4400).
 */
#define ARM   "lea 1f(%%rip), %%rax\n\tmov %%rax, resume_rip(%%rip)\n\t"
#define DONE  "\n1:\tpushfq\n\tpop %[fl]\n\tmovq $0, resume_rip(%%rip)"

static unsigned vmread_raw(uint64_t field, uint64_t *val);

static unsigned outcome(uint64_t fl)
{
    if (fault_vector >= 0)
        return R_FAULT((unsigned)fault_vector);
    bool cf = fl & 1, zf = fl & 0x40;
    if (cf && !zf) return R_INVALID;
    if (zf && !cf) {
        uint64_t e = 0xFFFF;
        fault_vector = -1;
        vmread_raw(0x4400, &e);
        return R_VALID((unsigned)e);
    }
    return cf || zf ? R_OTHER : R_OK;
}

#define M64_INSN(name, insn)                                                      \
    static unsigned name##_at(volatile uint64_t *op)                              \
    {                                                                             \
        uint64_t fl;                                                              \
        fault_vector = -1;                                                        \
        __asm__ volatile(ARM insn " %[p]" DONE                                    \
                         : [fl] "=r"(fl), [p] "+m"(*op) : : "rax", "cc", "memory"); \
        return outcome(fl);                                                       \
    }                                                                             \
    static __attribute__((unused)) unsigned name(uint64_t pa) { volatile uint64_t v = pa; return name##_at(&v); }
M64_INSN(vmxon, "vmxon")
M64_INSN(vmclear, "vmclear")
M64_INSN(vmptrld, "vmptrld")
M64_INSN(vmptrst_op, "vmptrst")

static unsigned vmptrst(uint64_t *out)
{
    volatile uint64_t v = 0x5a5a5a5a5a5a5a5aULL;
    unsigned r = vmptrst_op_at(&v);
    *out = v;
    return r;
}

static unsigned vmread_raw(uint64_t field, uint64_t *val)
{
    uint64_t fl, v = 0xdeadbeefdeadbeefULL;
    __asm__ volatile(ARM "vmread %[f], %[v]" DONE
                     : [fl] "=r"(fl), [v] "+r"(v) : [f] "r"(field) : "rax", "cc", "memory");
    *val = v;
    return (unsigned)fl;
}

static unsigned vmread(uint64_t field, uint64_t *val)
{
    fault_vector = -1;
    return outcome(vmread_raw(field, val));
}

static unsigned vmwrite(uint64_t field, uint64_t val)
{
    uint64_t fl;
    fault_vector = -1;
    __asm__ volatile(ARM "vmwrite %[v], %[f]" DONE
                     : [fl] "=r"(fl) : [f] "r"(field), [v] "r"(val) : "rax", "cc", "memory");
    return outcome(fl);
}

#define NOOP_INSN(name, insn)                                                     \
    static unsigned name(void)                                                    \
    {                                                                             \
        uint64_t fl;                                                              \
        fault_vector = -1;                                                        \
        __asm__ volatile(ARM insn DONE : [fl] "=r"(fl) : : "rax", "cc", "memory");\
        return outcome(fl);                                                       \
    }
NOOP_INSN(vmxoff, "vmxoff")
NOOP_INSN(vmlaunch, "vmlaunch")
NOOP_INSN(vmresume, "vmresume")

static uint64_t phys(const void *p) { return (uint64_t)(uintptr_t)p; }

static void set_rev(uint8_t *region, uint32_t rev)
{
    for (int i = 0; i < PAGE; i++)
        region[i] = 0;
    *(volatile uint32_t *)region = rev;
}

/* VMWRITE that must succeed (setup); a failure is reported once. */
static bool setup_ok;
static void w(uint64_t field, uint64_t val)
{
    unsigned r = vmwrite(field, val);
    if (r != R_OK && setup_ok) {
        setup_ok = false;
        puts_("malicious: setup VMWRITE "); puthex(field); puts_(" failed: ");
        put_outcome(r); puts_("\n");
    }
}

/* Control value adjusted to a capability MSR (allowed-0 low, allowed-1 high). */
static uint32_t adjust(uint32_t msr, uint32_t want)
{
    uint64_t cap = rdmsr(msr);
    return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

/* ------------------------------------------------------------ descriptors */

static void idt_set(unsigned vec, void *handler, unsigned dpl)
{
    uint64_t h = phys(handler);
    idt[2 * vec] = (h & 0xFFFF) | (0x08ULL << 16) | ((uint64_t)(0x8E | dpl << 5) << 40) |
                   ((h >> 16) & 0xFFFF) << 48;
    idt[2 * vec + 1] = h >> 32;
}

static void setup_descriptors(void)
{
    void *stubs[20] = { isr0, isr1, isr2, isr3, isr4, isr5, isr6, isr7, isr8, isr9,
                        isr10, isr11, isr12, isr13, isr14, isr15, isr16, isr17, isr18, isr19 };
    for (unsigned i = 0; i < 20; i++)
        idt_set(i, stubs[i], 0);
    idt_set(0x81, isr_user_return, 3);
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, phys(idt) };
    __asm__ volatile("lidt %0" :: "m"(idtr));
    /* TSS: RSP0 for faults taken at CPL 3; 64-bit available TSS descriptor at 0x28. */
    *(volatile uint64_t *)(tss + 4) = phys(kstack0 + sizeof(kstack0));
    *(volatile uint16_t *)(tss + 102) = sizeof(tss);
    uint64_t b = phys(tss);
    gdt_tss[0] = (sizeof(tss) - 1) | (b & 0xFFFFFF) << 16 | 0x89ULL << 40 | ((b >> 24) & 0xFF) << 56;
    gdt_tss[1] = b >> 32;
    __asm__ volatile("ltr %w0" :: "r"(0x28));
}

/* ------------------------------------------------------------ checks */

static uint64_t region_base;    /* from the command line: region=0x... */

static void parse_cmdline(uint32_t mbi)
{
    const volatile uint32_t *m = (const volatile uint32_t *)(uintptr_t)mbi;
    if (!mbi || !(m[0] & 4))
        return;
    const char *s = (const char *)(uintptr_t)m[4];
    for (; *s; s++) {
        const char *k = "region=0x";
        int i = 0;
        while (k[i] && s[i] == k[i]) i++;
        if (k[i])
            continue;
        uint64_t v = 0;
        for (s += i; ; s++) {
            char c = *s;
            if (c >= '0' && c <= '9') v = v << 4 | (uint64_t)(c - '0');
            else if (c >= 'a' && c <= 'f') v = v << 4 | (uint64_t)(c - 'a' + 10);
            else break;
        }
        region_base = v;
        return;
    }
}

static void check_caps(void)
{
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    expect_val("cpuid.1:ecx.vmx", (c >> 5) & 1, 1);
    expect_val("feature-control locked, vmx outside smx", rdmsr(0x3A) & 5, 5);
    uint64_t basic = rdmsr(0x480);
    expect_val("vmx-basic revision", basic & 0x7FFFFFFF, REVISION);
    expect_val("vmx-basic vmcs size", (basic >> 32) & 0x1FFF, 4096);
}

static void check_vmxon(void)
{
    set_rev(vmxon_region, REVISION);
    set_rev(bad_rev, 0x1234);
    write_cr4(read_cr4() & ~(1ULL << 13));
    expect("vmxon with cr4.vmxe=0 -> #UD", vmxon(phys(vmxon_region)), R_FAULT(6));

    /* Meet IA32_VMX_CR0/CR4_FIXED0, then enter the checks proper. */
    write_cr0(read_cr0() | rdmsr(0x486));
    write_cr4(read_cr4() | rdmsr(0x488) | (1ULL << 13));
    expect("vmxon unaligned pointer", vmxon(phys(vmxon_region) + 0x10), R_INVALID);
    expect("vmxon pointer beyond physical width", vmxon(1ULL << 52), R_INVALID);
    expect("vmxon wrong revision", vmxon(phys(bad_rev)), R_INVALID);
    *(volatile uint32_t *)vmxon_region = REVISION | 0x80000000u;
    expect("vmxon revision with shadow bit", vmxon(phys(vmxon_region)), R_INVALID);
    *(volatile uint32_t *)vmxon_region = REVISION;
    if (region_base)
        expect("vmxon region inside hypervisor region", vmxon(region_base), R_INVALID);
    expect("vmxon", vmxon(phys(vmxon_region)), R_OK);
    expect("second vmxon (no current vmcs)", vmxon(phys(vmxon_region)), R_INVALID);
}

static void check_no_current(void)
{
    uint64_t v, p;
    expect("vmread without current vmcs", vmread(0x681E, &v), R_INVALID);
    expect("vmwrite without current vmcs", vmwrite(0x681E, 1), R_INVALID);
    unsigned r = vmptrst(&p);
    expect("vmptrst without current vmcs", r, R_OK);
    expect_val("vmptrst without current vmcs stores ~0", p, ~0ULL);
    expect("vmlaunch without current vmcs", vmlaunch(), R_INVALID);
}

static void check_pointers(void)
{
    uint64_t a = phys(vmcs_a), v, p;
    set_rev(vmcs_a, REVISION);
    expect("vmclear unaligned (no current vmcs)", vmclear(a + 8), R_INVALID);
    expect("vmptrld of vmxon pointer (no current vmcs)", vmptrld(phys(vmxon_region)), R_INVALID);
    expect("vmptrld wrong revision (no current vmcs)", vmptrld(phys(bad_rev)), R_INVALID);
    expect("vmclear", vmclear(a), R_OK);
    expect("vmptrld", vmptrld(a), R_OK);
    expect("vmptrst", vmptrst(&p), R_OK);
    expect_val("vmptrst returns the current vmcs", p, a);

    expect("vmclear of vmxon pointer", vmclear(phys(vmxon_region)), R_VALID(3));
    expect("vmclear beyond physical width", vmclear(1ULL << 52), R_VALID(2));
    expect("vmptrld unaligned", vmptrld(a + 0x800), R_VALID(9));
    expect("vmptrld of vmxon pointer", vmptrld(phys(vmxon_region)), R_VALID(10));
    expect("vmptrld wrong revision", vmptrld(phys(bad_rev)), R_VALID(11));
    if (region_base) {
        /* Reads of the region see zeros (revision 0); writes must not land. */
        unsigned r = vmptrld(region_base);
        result("vmptrld of hypervisor region refused", r == R_VALID(11) || r == R_VALID(9));
        if (r != R_VALID(11) && r != R_VALID(9)) { puts_(" (got "); put_outcome(r); puts_(")\n"); }
        r = vmclear(region_base + PAGE);
        puts_("malicious: note: vmclear inside hypervisor region -> "); put_outcome(r); puts_("\n");
        result("vmclear inside hypervisor region refused or harmless", r == R_VALID(2) || r == R_OK);
        if (r != R_VALID(2) && r != R_OK) { puts_(" (got "); put_outcome(r); puts_(")\n"); }
    }
    vmptrst(&p);
    expect_val("failed vmptrlds keep the current vmcs", p, a);

    /* Operand addresses L1's paging cannot translate. */
    unsigned r = vmptrld_at((volatile uint64_t *)0x100000000ULL);
    result("vmptrld operand unmapped -> fault", r == R_FAULT(14) || r == R_FAULT(13));
    if (r == R_FAULT(13)) puts_("malicious: note: unmapped operand gave #GP, the SDM says #PF\n");
    if (r != R_FAULT(14) && r != R_FAULT(13)) { puts_(" (got "); put_outcome(r); puts_(")\n"); }
    expect("vmptrld operand non-canonical -> #GP", vmptrld_at((volatile uint64_t *)0x800000000000ULL), R_FAULT(13));
    expect("vmptrst operand non-canonical -> #GP",
           vmptrst_op_at((volatile uint64_t *)0xFFFF000000000000ULL), R_FAULT(13));

    expect("vmread unsupported field 0x7fff", vmread(0x7FFF, &v), R_VALID(12));
    expect("vmread posted-interrupt descriptor (not offered)", vmread(0x2016, &v), R_VALID(12));
    expect("vmread field with bits 63:32 set", vmread(0x100000000ULL | 0x681E, &v), R_VALID(12));
    expect("vmwrite read-only exit reason", vmwrite(0x4402, 0x30), R_VALID(13));
    expect("vmwrite read-only instruction error", vmwrite(0x4400, 0), R_VALID(13));
    expect("vmwrite vpid 0x12345", vmwrite(0x0000, 0x12345), R_OK);
    v = 0;
    vmread(0x0000, &v);
    expect_val("vpid reads back truncated to 16 bits", v, 0x2345);
    vmwrite(0x4000, 0x100000016ULL);
    vmread(0x4000, &v);
    expect_val("32-bit field truncated", v, 0x16);
    vmwrite(0x2010, 0x1111222233334444ULL);
    vmread(0x2011, &v);
    expect_val("64-bit field high-half read", v, 0x11112222);
    vmwrite(0x2011, 0xAAAABBBB);
    vmread(0x2010, &v);
    expect_val("64-bit field high-half write keeps low half", v, 0xAAAABBBB33334444ULL);
}

static void check_toctou(void)
{
    uint64_t v = 0;
    expect("vmwrite guest rip", vmwrite(0x681E, 0x1234567), R_OK);
    for (int i = 0; i < PAGE; i++)
        ((volatile uint8_t *)vmcs_a)[i] = 0xA5;
    vmread(0x681E, &v);
    expect_val("vmcs12 unaffected by l1 overwriting the region", v, 0x1234567);
    uint64_t p;
    vmptrst(&p);
    expect_val("overwritten region still current", p, phys(vmcs_a));
    /* VMCLEAR writes VMCS12 back over the garbage; VMPTRLD sees it again. */
    expect("vmclear writes back", vmclear(phys(vmcs_a)), R_OK);
    expect("vmptrld after write-back", vmptrld(phys(vmcs_a)), R_OK);
    v = 0;
    vmread(0x681E, &v);
    expect_val("value survives write-back", v, 0x1234567);
}

/*
 * Operand decoding: vsbypass rebuilds each operand from the exit's
 * instruction information, so every addressing form must land where the CPU
 * would put it: 32-bit address size, segment override, SIB, RSP as base and
 * RSP as a register operand.
 */
static volatile uint64_t dec_var;
static uint8_t alt_stack[4096] __attribute__((aligned(16)));

static inline void wrmsr(uint32_t m, uint64_t v)
{
    __asm__ volatile("wrmsr" :: "c"(m), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static void check_decoding(void)
{
    uint64_t fl, cur = phys(vmcs_a), v;
    uint64_t a = phys((const void *)&dec_var);

    dec_var = 0; fault_vector = -1;
    __asm__ volatile("mov %[a], %%rdx\n\t" ARM "vmptrst (%%edx)" DONE
                     : [fl] "=r"(fl) : [a] "r"(a | 0xFFFFFFFF00000000ULL) : "rax", "rdx", "cc", "memory");
    expect("vmptrst with 32-bit address size", outcome(fl), R_OK);
    expect_val("vmptrst with 32-bit address size stores at the wrapped address", dec_var, cur);

    dec_var = 0; fault_vector = -1;
    wrmsr(0xC0000100, a - 0x10000);
    __asm__ volatile("mov $0x10000, %%edx\n\t" ARM "vmptrst %%fs:(%%rdx)" DONE
                     : [fl] "=r"(fl) : : "rax", "rdx", "cc", "memory");
    wrmsr(0xC0000100, 0);
    expect("vmptrst with fs override", outcome(fl), R_OK);
    expect_val("vmptrst with fs override stores at fs.base + offset", dec_var, cur);

    dec_var = 0; fault_vector = -1;
    __asm__ volatile("mov %[a], %%rdx\n\tmov $3, %%ecx\n\t" ARM "vmptrst 8(%%rdx,%%rcx,4)" DONE
                     : [fl] "=r"(fl) : [a] "r"(a - 8 - 12) : "rax", "rcx", "rdx", "cc", "memory");
    expect("vmptrst with base+index*4+disp", outcome(fl), R_OK);
    expect_val("vmptrst with base+index*4+disp stores there", dec_var, cur);

    v = 0; fault_vector = -1;
    __asm__ volatile("sub $32, %%rsp\n\tmovq $0, 8(%%rsp)\n\t" ARM "vmptrst 8(%%rsp)" DONE
                     "\n\tmov 8(%%rsp), %[v]\n\tadd $32, %%rsp"
                     : [fl] "=r"(fl), [v] "=r"(v) : : "rax", "cc", "memory");
    expect("vmptrst with rsp base", outcome(fl), R_OK);
    expect_val("vmptrst with rsp base stores on the stack", v, cur);

    /* VMWRITE whose value register is RSP: the field must get L1's RSP. */
    uint64_t rsp = 0;
    fault_vector = -1;
    __asm__ volatile("mov %%rsp, %[r]\n\t" ARM "vmwrite %%rsp, %[f]" DONE
                     : [fl] "=r"(fl), [r] "=&r"(rsp) : [f] "r"(0x681EULL) : "rax", "cc", "memory");
    expect("vmwrite with rsp as the value register", outcome(fl), R_OK);
    vmread(0x681E, &v);
    expect_val("vmwrite with rsp as the value register writes l1's rsp", v, rsp);

    /* VMREAD whose destination is RSP: L1's RSP must become the field's value. */
    uint64_t want = phys(alt_stack + sizeof(alt_stack) - 64);
    vmwrite(0x681C, want);
    v = 0; fault_vector = -1;
    __asm__ volatile("mov %%rsp, %%rbx\n\t" ARM "vmread %[f], %%rsp" DONE
                     "\n\tmov %%rsp, %[v]\n\tmov %%rbx, %%rsp"
                     : [fl] "=r"(fl), [v] "=r"(v) : [f] "r"(0x681CULL) : "rax", "rbx", "cc", "memory");
    expect("vmread with rsp as the destination", outcome(fl), R_OK);
    expect_val("vmread with rsp as the destination sets l1's rsp", v, want);

    /* Field number in RSP: the encoding is L1's RSP value, 0x681E (guest RIP). */
    fault_vector = -1;
    __asm__ volatile("mov %%rsp, %%rbx\n\tmov $0x681E, %%esp\n\t" ARM "vmread %%rsp, %%rdx" DONE
                     "\n\tmov %%rbx, %%rsp"
                     : [fl] "=r"(fl) : : "rax", "rbx", "rdx", "cc", "memory");
    expect("vmread with the field number in rsp", outcome(fl), R_OK);
}

/* Host state of L1 itself (64-bit), for VMCS12's host area. */
static void write_host_state(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    w(0x6C00, read_cr0()); w(0x6C02, read_cr3()); w(0x6C04, read_cr4());
    w(0x0C00, 0x10); w(0x0C02, 0x08); w(0x0C04, 0x10); w(0x0C06, 0x10);
    w(0x0C08, 0x10); w(0x0C0A, 0x10); w(0x0C0C, 0x28);
    w(0x6C06, 0); w(0x6C08, 0); w(0x6C0A, phys(tss));
    w(0x6C0C, gdtr.base); w(0x6C0E, idtr.base);
    w(0x6C10, 0); w(0x6C12, 0); w(0x4C00, 0);
    w(0x6C14, phys(host_stack + sizeof(host_stack)));
    w(0x6C16, phys(l2_exit_landing));
}

/* Controls that vsbypass should accept (everything it needs, within the offer). */
static void write_good_controls(void)
{
    w(0x4000, adjust(0x48D, 0x1 | 0x8));            /* ext-intr and NMI exiting */
    w(0x4002, adjust(0x48E, 0x80000000u | 0x80));   /* secondary, HLT exiting */
    w(0x401E, adjust(0x48B, 0x2 | 0x80));           /* EPT, unrestricted guest */
    w(0x400C, adjust(0x48F, 0x200));                /* host address-space size */
    w(0x4012, adjust(0x490, 0x8000));               /* load EFER */
    w(0x4004, 0); w(0x400A, 0); w(0x400E, 0); w(0x4010, 0); w(0x4014, 0);
    w(0x2800, ~0ULL);
}

static void check_entry(void)
{
    uint64_t b = phys(vmcs_b);
    set_rev(vmcs_b, REVISION);
    expect("vmclear vmcs b", vmclear(b), R_OK);
    expect("vmptrld vmcs b", vmptrld(b), R_OK);
    expect("vmlaunch of a zero vmcs", vmlaunch(), R_VALID(7));

    setup_ok = true;
    write_good_controls();
    write_host_state();
    w(0x4000, adjust(0x48D, 0x9) | 0x80);
    expect("vmlaunch with posted interrupts (not offered)", vmlaunch(), R_VALID(7));
    w(0x4000, adjust(0x48D, 0x1));
    expect("vmlaunch without nmi exiting (vsbypass limit)", vmlaunch(), R_VALID(7));
    w(0x4000, adjust(0x48D, 0x9));
    w(0x4002, adjust(0x48E, 0x80000080u) | (1u << 21));
    expect("vmlaunch with tpr shadow (not offered)", vmlaunch(), R_VALID(7));
    w(0x4002, adjust(0x48E, 0x80000080u));
    w(0x401E, adjust(0x48B, 0x82) | (1u << 13));
    expect("vmlaunch with vmfunc (not offered)", vmlaunch(), R_VALID(7));
    w(0x401E, adjust(0x48B, 0x82));
    w(0x4014, 1); w(0x200A, 0x1004);
    expect("vmlaunch with a misaligned msr-load list", vmlaunch(), R_VALID(7));
    w(0x4014, 0); w(0x200A, 0);
    w(0x400A, 1);
    expect("vmlaunch with a cr3-target count", vmlaunch(), R_VALID(7));
    w(0x400A, 0);
    /* Good controls, bad host state: VMfailValid(8), before anything runs. */
    w(0x0C02, 0);
    expect("vmlaunch with host cs selector 0", vmlaunch(), R_VALID(8));
    w(0x0C02, 0x08);
    w(0x6C16, 0x0000800000000000ULL);
    expect("vmlaunch with a non-canonical host rip", vmlaunch(), R_VALID(8));
    w(0x6C16, phys(l2_exit_landing));
    w(0x0C0C, 0x2B);
    expect("vmlaunch with host tr rpl 3", vmlaunch(), R_VALID(8));
    w(0x0C0C, 0x28);
    w(0x400C, adjust(0x48F, 0));
    expect("vmlaunch with a 32-bit host from 64-bit l1", vmlaunch(), R_VALID(8));
    w(0x400C, adjust(0x48F, 0x200));
    result("setup vmwrites of vmcs b", setup_ok);
    if (!setup_ok) puts_("\n");

    expect("vmclear vmcs b again", vmclear(b), R_OK);
    expect("vmptrld vmcs b again", vmptrld(b), R_OK);
    expect("vmresume of a clear vmcs", vmresume(), R_VALID(5));
}

/* Ring 3: every VMX instruction must #GP (VMXON too: CR4.VMXE=1, in VMX operation). */
static volatile unsigned u_vmxon, u_vmread, u_vmptrst, u_vmxoff, u_vmclear;
static void user_code(void)
{
    uint64_t v;
    u_vmxon = vmxon(phys(vmxon_region));
    u_vmread = vmread(0x681E, &v);
    u_vmptrst = vmptrst(&v);
    u_vmclear = vmclear(phys(vmcs_a));
    u_vmxoff = vmxoff();
    __asm__ volatile("int $0x81");
    for (;;)
        ;
}

static void check_cpl3(void)
{
    u_vmxon = u_vmread = u_vmptrst = u_vmxoff = u_vmclear = 0xEEEE;
    run_user(user_code, user_stack + sizeof(user_stack));
    expect("cpl3 vmxon -> #GP", u_vmxon, R_FAULT(13));
    expect("cpl3 vmread -> #GP", u_vmread, R_FAULT(13));
    expect("cpl3 vmptrst -> #GP", u_vmptrst, R_FAULT(13));
    expect("cpl3 vmclear -> #GP", u_vmclear, R_FAULT(13));
    expect("cpl3 vmxoff -> #GP", u_vmxoff, R_FAULT(13));
    uint64_t p;
    vmptrst(&p);
    expect_val("still in vmx operation after cpl3 attempts", p, phys(vmcs_b));
}

static void check_vmxoff(void)
{
    uint64_t v;
    expect("vmxoff", vmxoff(), R_OK);
    expect("vmread after vmxoff -> #UD", vmread(0x681E, &v), R_FAULT(6));
    expect("vmptrld after vmxoff -> #UD", vmptrld(phys(vmcs_a)), R_FAULT(6));
    expect("vmxoff after vmxoff -> #UD", vmxoff(), R_FAULT(6));
}

/* L2 real-mode code at 0x8000: read DS:0 (DS base = L2 0x200000), then halt. */
static const uint8_t l2_code[] = { 0xA0, 0x00, 0x00, 0xF4, 0xEB, 0xFD };

void l2_exited(void)
{
    uint64_t reason = 0, qual = 0, gpa = 0;
    vmread(0x4402, &reason);
    vmread(0x6400, &qual);
    vmread(0x2400, &gpa);
    result("ept12 aimed at the hypervisor region stops the cloud vm", false);
    puts_(" (L2 exited to L1: reason "); puthex(reason); puts_(" qualification "); puthex(qual);
    puts_(" gpa "); puthex(gpa); puts_(")\n");
    summary("");
    puts_("malicious: done\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* VMXON, then a fresh VMCS `vmcs` made current and filled for a real-mode
 * L2 at 0x8000 running l2_code (HLT exiting on), with EPT12 mapping L2
 * 0-2 MiB to L1 0-2 MiB and L2 2-4 MiB to L1 `second_2mb`. */
static bool prepare_l2(uint8_t *vmcs, uint64_t second_2mb, const char *what)
{
    for (unsigned i = 0; i < sizeof(l2_code); i++)
        ((volatile uint8_t *)0x8000)[i] = l2_code[i];
    for (int i = 0; i < 512; i++)
        ept_pml4[i] = ept_pdpt[i] = ept_pd[i] = 0;
    ept_pml4[0] = phys(ept_pdpt) | 7;
    ept_pdpt[0] = phys(ept_pd) | 7;
    ept_pd[0] = 0 | 0x80 | (6 << 3) | 7;            /* L2 0-2 MiB -> L1 0-2 MiB */
    ept_pd[1] = second_2mb | 0x80 | (6 << 3) | 7;   /* L2 2-4 MiB -> second_2mb */

    write_cr4(read_cr4() | (1ULL << 13));
    set_rev(vmxon_region, REVISION);
    set_rev(vmcs, REVISION);
    if (vmxon(phys(vmxon_region)) != R_OK || vmclear(phys(vmcs)) != R_OK || vmptrld(phys(vmcs)) != R_OK) {
        result(what, false);
        puts_(" (vmxon/vmclear/vmptrld)\n");
        return false;
    }
    setup_ok = true;
    write_good_controls();
    write_host_state();
    w(0x201A, phys(ept_pml4) | (3 << 3) | 6);       /* EPTP: 4-level, WB */
    w(0x0000, 1);                                    /* VPID */
    /* Real-mode L2 under unrestricted guest: CS=0x800:0, DS base 2 MiB. */
    static const uint32_t sel[6] = { 0x0800, 0x0802, 0x0804, 0x0806, 0x0808, 0x080A };
    for (int s = 0; s < 6; s++) {
        w(sel[s], s == 1 ? 0x800 : 0);
        w(0x6806 + 2 * s, s == 1 ? 0x8000 : s == 3 ? 0x200000 : 0);
        w(0x4800 + 2 * s, 0xFFFF);
        w(0x4814 + 2 * s, s == 1 ? 0x9B : 0x93);
    }
    w(0x080C, 0); w(0x6812, 0); w(0x480C, 0); w(0x4820, 0x10000);      /* LDTR unusable */
    w(0x080E, 0); w(0x6814, 0); w(0x480E, 0xFFFF); w(0x4822, 0x8B);    /* TR busy TSS */
    w(0x6816, 0); w(0x4810, 0xFFFF); w(0x6818, 0); w(0x4812, 0x3FF);   /* GDTR, IDTR */
    w(0x6800, 0x30); w(0x6802, 0); w(0x6804, 1ULL << 13);              /* CR0 ET|NE, CR3, CR4 VMXE */
    w(0x6000, 0); w(0x6002, 0); w(0x6004, 0); w(0x6006, 0);            /* masks and shadows */
    w(0x681A, 0x400); w(0x681C, 0xFFF0); w(0x681E, 0); w(0x6820, 0x2);
    w(0x6822, 0); w(0x6824, 0); w(0x6826, 0); w(0x4824, 0); w(0x4826, 0); w(0x482A, 0);
    w(0x2802, 0); w(0x2806, 0); w(0x2804, 0x0007040600070406ULL);
    w(0x4016, 0);                                                       /* no event injection */
    if (!setup_ok) {
        result(what, false);
        puts_(" (setup vmwrites)\n");
    }
    return setup_ok;
}

static void check_ept12_region(void)
{
    if (!prepare_l2(vmcs_c, region_base, "ept12 setup"))
        return;
    puts_("malicious: ept12-region: launching L2 at 0x8000 with EPT12 L2 0x200000 -> ");
    puthex(region_base);
    puts_(" (expect vsbypass to stop the cloud VM)\n");
    unsigned r = vmlaunch();
    result("ept12 aimed at the hypervisor region stops the cloud vm", false);
    puts_(" (vmlaunch returned: "); put_outcome(r); puts_(")\n");
}

/* ------------------------------------------------------------ MSR lists */

/* boot.S: VMLAUNCH (resume = 0) or VMRESUME; returns 0 once L2 exited to
 * l2_back (the host RIP), or the RFLAGS of a failed instruction | bit 63. */
uint64_t l2_roundtrip(unsigned resume);
void l2_back(void);

#define MSR_SYSENTER_ESP    0x175
#define MSR_KERNEL_GS_BASE  0xC0000102
static uint64_t entry_list[513][2] __attribute__((aligned(16)));
static uint64_t store_list[2][2] __attribute__((aligned(16)));
static uint64_t exit_load_list[1][2] __attribute__((aligned(16)));

/* An entry MSR-load list whose entry `bad` (1-based) is (index, value):
 * VMRESUME must come back as a VM-entry failure (34) naming that entry. */
static void expect_load_failure(const char *name, unsigned count, unsigned bad, uint64_t index, uint64_t value)
{
    for (unsigned i = 0; i < count; i++) {
        entry_list[i][0] = MSR_SYSENTER_ESP;
        entry_list[i][1] = 0x5000;
    }
    entry_list[bad - 1][0] = index;
    entry_list[bad - 1][1] = value;
    w(0x4014, count);
    uint64_t fl = l2_roundtrip(1), reason = 0, qual = 0;
    vmread(0x4402, &reason);
    vmread(0x6400, &qual);
    bool ok = fl == 0 && reason == 0x80000022 && qual == bad;
    result(name, ok);
    if (!ok) {
        puts_(" (rflags "); puthex(fl); puts_(" reason "); puthex(reason);
        puts_(" qualification "); puthex(qual); puts_(")");
    }
    puts_("\n");
}

static void check_msr_lists(void)
{
    if (!prepare_l2(vmcs_c, 0x200000, "msr lists: setup"))
        return;
    w(0x6C16, phys(l2_back));
    w(0x6C14, phys(host_stack + sizeof(host_stack)));
    entry_list[0][0] = MSR_SYSENTER_ESP;
    entry_list[0][1] = 0x1234000;
    entry_list[1][0] = MSR_KERNEL_GS_BASE;
    entry_list[1][1] = 0xABCD000;
    store_list[0][0] = MSR_SYSENTER_ESP;
    store_list[1][0] = MSR_KERNEL_GS_BASE;
    store_list[0][1] = store_list[1][1] = 0;
    exit_load_list[0][0] = MSR_KERNEL_GS_BASE;
    exit_load_list[0][1] = 0x5555000;
    w(0x200A, phys(entry_list)); w(0x4014, 2);
    w(0x2006, phys(store_list)); w(0x400E, 2);
    w(0x2008, phys(exit_load_list)); w(0x4010, 1);
    uint64_t fl = l2_roundtrip(0), reason = 0, esp = 0;
    vmread(0x4402, &reason);
    vmread(0x6824, &esp);
    expect_val("msr lists: L2 runs and exits on HLT", fl == 0 ? reason : fl, 12);
    expect_val("msr lists: entry list loaded SYSENTER_ESP (VMCS12 after the exit)", esp, 0x1234000);
    expect_val("msr lists: exit store list saved L2's SYSENTER_ESP", store_list[0][1], 0x1234000);
    expect_val("msr lists: exit store list saved L2's KERNEL_GS_BASE", store_list[1][1], 0xABCD000);
    expect_val("msr lists: exit load list gave L1 its KERNEL_GS_BASE", rdmsr(MSR_KERNEL_GS_BASE), 0x5555000);
    w(0x400E, 0); w(0x4010, 0);
    expect_load_failure("msr lists: entry list with FS_BASE fails at entry 2", 2, 2, 0xC0000100, 0);
    expect_load_failure("msr lists: reserved bits in an entry fail it", 1, 1, MSR_SYSENTER_ESP | 1ULL << 32, 0);
    expect_load_failure("msr lists: an x2APIC MSR fails", 3, 3, 0x808, 0);
    expect_load_failure("msr lists: IA32_FEATURE_CONTROL (trapped by vsbypass) fails", 1, 1, 0x3A, 5);
    expect_load_failure("msr lists: a value WRMSR refuses (#GP caught by vsbypass) fails", 2, 2,
                        MSR_KERNEL_GS_BASE, 0x8000000000000000ULL);
    expect_load_failure("msr lists: entry 513 is past the 512 offered", 513, 513, MSR_SYSENTER_ESP, 0x5000);
    w(0x200A, phys(entry_list) | 8); w(0x4014, 1);
    expect("msr lists: a misaligned entry list is VMfailValid(7)", vmresume(), R_VALID(7));
    w(0x200A, 1ULL << 52);
    expect("msr lists: an entry list past the address width is VMfailValid(7)", vmresume(), R_VALID(7));
    w(0x4014, 0);
    expect("msr lists: vmclear", vmclear(phys(vmcs_c)), R_OK);
    expect("msr lists: vmxoff", vmxoff(), R_OK);
}

/* ------------------------------------------------------------ NMIs */

/* NMIs the cloud OS sends itself through its local APIC: the first one's
 * handler sends a second while NMIs are blocked, which must arrive after
 * its IRET (vsbypass holds it back with an NMI window) - not nested inside
 * the handler, not lost, and without the self-NMI, which reaches the CPU
 * while vsbypass runs, taking vsbypass down. */
void nmi_stub(void);
static volatile unsigned nmi_count, nmi_inside, nmi_nested;

static void send_self_nmi(void)
{
    volatile uint32_t *apic = (volatile uint32_t *)(uintptr_t)0xFEE00000;
    uint32_t id = apic[0x20 / 4] >> 24;
    apic[0x310 / 4] = id << 24;
    apic[0x300 / 4] = 4u << 8;          /* delivery mode NMI, physical destination */
}

void nmi_taken(void)
{
    if (nmi_inside)
        nmi_nested++;
    nmi_inside = 1;
    if (++nmi_count == 1) {
        send_self_nmi();
        for (volatile unsigned i = 0; i < 20000; i++)
            ;
    }
    nmi_inside = 0;
}

static void check_nmi(void)
{
    idt_set(2, nmi_stub, 0);
    send_self_nmi();
    for (volatile unsigned i = 0; i < 2000000 && nmi_count < 2; i++)
        ;
    expect_val("nmi: a self-NMI arrives", nmi_count >= 1, 1);
    expect_val("nmi: one sent inside the NMI handler arrives after its IRET", nmi_count, 2);
    expect_val("nmi: the handler never ran nested", nmi_nested, 0);
}

void kmain(uint32_t mbi)
{
    puts_("malicious: a malicious L1 starts\n");
    setup_descriptors();
    parse_cmdline(mbi);
    puts_("malicious: region "); puthex(region_base); puts_("\n");
    check_caps();
    check_nmi();
    check_vmxon();
    check_no_current();
    check_pointers();
    check_toctou();
    check_decoding();
    check_entry();
    check_cpl3();
    check_vmxoff();
    check_msr_lists();
    if (region_base) {
        summary(" (before the EPT12 check)");
        check_ept12_region();
    } else {
        puts_("malicious: ept12-region: SKIPPED (no region= on the command line)\n");
    }
    summary("");
    puts_("malicious: done\n");
}
