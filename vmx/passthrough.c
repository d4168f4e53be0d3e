/*
 * Forced passthrough (docs/architecture.md): whatever VMCS12 says, VMCS02
 * exits on COM1, the i8042 and the VGA registers, and those exits are served
 * by the user VM's shadow devices here, never reflected to L1. L2's VGA
 * window is backed by vsbypass pages in EPT02, so L1 never sees its video
 * memory either. passthrough=off leaves everything to L1 for comparison.
 */
#include "vmx/passthrough.h"
#include "core/cmdline.h"
#include "core/hw.h"
#include "core/log.h"
#include "core/cpu.h"
#include "core/time.h"
#include "shadow/shadow.h"
#include "vmx/decode.h"
#include "vmx/cloud.h"
#include "vmx/guest.h"
#include "vmx/nested_exits.h"
#include "vmx/vmx_hw.h"

#define COM2_BASE 0x2F8

static uint64_t mirror_cursor[SHADOW_MAX_VMS];

void passthrough_mark_ports(uint8_t *a)
{
    for (unsigned p = 0; p < 0x400; p++)
        if (shadow_port_owned((uint16_t)p) || shadow_pic_port((uint16_t)p))
            a[p / 8] |= (uint8_t)(1u << (p % 8));
}

/* serial_mirror=N: copy what user VM N wrote to its shadow COM1 to COM2. */
static void mirror(struct shadow_vm *vm)
{
    int want = boot_config()->serial_mirror;
    if (want < 0 || (unsigned)want != shadow_vm_id(vm))
        return;
    static bool com2_ready;
    if (!com2_ready) {
        /* 8N1 at 115200: an unprogrammed UART may be in 5-bit mode. */
        outb(COM2_BASE + 3, 0x80);
        outb(COM2_BASE + 0, 0x01);
        outb(COM2_BASE + 1, 0x00);
        outb(COM2_BASE + 3, 0x03);
        com2_ready = true;
    }
    uint8_t buf[64];
    size_t n;
    while ((n = shadow_serial_read(vm, &mirror_cursor[want], buf, sizeof(buf))) > 0)
        for (size_t i = 0; i < n; i++) {
            for (unsigned spin = 0; spin < 100000 && !(inb(COM2_BASE + 5) & 0x20); spin++)
                cpu_relax();
            outb(COM2_BASE, buf[i]);
        }
}

static int l2_reader(void *ctx, uint64_t gpa, void *buf, size_t n)
{
    return nested_l2_phys_io(ctx, gpa, buf, n, false);
}

/* The running L2's code bytes at CS:RIP, read through its paging and EPT12. */
static size_t l2_fetch(struct vcpu *v, uint8_t *code, size_t n)
{
    return guest_fetch_code_via(l2_reader, v, code, n);
}

/* One element's bytes at an L2 linear address, each byte translated on its
 * own when the element crosses a page (rare). */
static int l2_linear_io(struct vcpu *v, uint64_t lin, uint8_t *buf, unsigned n, bool write)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t gpa;
        if ((i == 0 || ((lin + i) & 0xFFF) == 0) && guest_walk(lin + i, l2_reader, v, &gpa))
            return -1;
        if (i == 0 || ((lin + i) & 0xFFF) == 0) {
            unsigned run = n - i;
            unsigned to_page = (unsigned)(0x1000 - ((lin + i) & 0xFFF));
            if (run > to_page)
                run = to_page;
            if (nested_l2_phys_io(v, gpa, buf + i, run, write))
                return -1;
        }
    }
    return 0;
}

/*
 * INS/OUTS (REP or not) on a shadow port: one element per exit. The VM exit
 * gives the element's linear address (guest-linear-address field) and the
 * address size (instruction information bits 9:7); RSI or RDI moves by the
 * element size (down with RFLAGS.DF), RCX counts down under REP, and the
 * instruction is left to run again until RCX reaches zero - the CPU then
 * exits for each element, and interrupts can arrive in between, as on
 * hardware. Returns false when the operand cannot be reached (the access
 * is then dropped with a log line).
 */
static bool string_io(struct vcpu *v, struct shadow_vm *vm, uint16_t port, unsigned size,
                      bool in, bool rep)
{
    uint64_t info = vmcs_read(VMCS_EXIT_INSTR_INFO);
    unsigned asz = (unsigned)(info >> 7) & 7;
    uint64_t amask = asz == 0 ? 0xFFFFULL : asz == 1 ? 0xFFFFFFFFULL : ~0ULL;
    uint64_t rcx = vcpu_reg_read(v, 1);
    if (rep && (rcx & amask) == 0) {
        vmx_skip_instruction();
        return true;
    }
    uint64_t lin = vmcs_read(VMCS_GUEST_LINEAR_ADDR);
    uint8_t data[4] = { 0 };
    if (in) {
        uint32_t val = shadow_port_in(vm, port, size);
        for (unsigned i = 0; i < size; i++)
            data[i] = (uint8_t)(val >> (8 * i));
        if (l2_linear_io(v, lin, data, size, true))
            return false;
    } else {
        if (l2_linear_io(v, lin, data, size, false))
            return false;
        uint32_t val = 0;
        for (unsigned i = 0; i < size; i++)
            val |= (uint32_t)data[i] << (8 * i);
        shadow_port_out(vm, port, size, val);
        mirror(vm);
    }
    unsigned idx = in ? 7 : 6;                         /* RDI for INS, RSI for OUTS */
    uint64_t r = vcpu_reg_read(v, idx);
    uint64_t step = (vmcs_read(VMCS_GUEST_RFLAGS) & (1u << 10)) ? (uint64_t)-size : size;
    vcpu_reg_write(v, idx, (r & ~amask) | ((r + step) & amask));
    if (rep) {
        rcx = (rcx & ~amask) | ((rcx - 1) & amask);
        vcpu_reg_write(v, 1, rcx);
        if ((rcx & amask) != 0)
            return true;                               /* the next element: exit again */
    }
    vmx_skip_instruction();
    return true;
}

static uint64_t now_ms(void)
{
    return tsc_hz ? tsc_now() / (tsc_hz / 1000) : 0;
}

void passthrough_enter(struct vcpu *v, uint64_t vmcs12, uint64_t key, bool resume)
{
    if (!boot_config()->passthrough) {
        v->l2_vm = NULL;
        return;
    }
    uint64_t now = now_ms();
    shadow_vm_reap(now);
    v->l2_vm = shadow_vm_enter(vmcs12, key, resume, now);
}

/* A VMCLEAR of a VMCS12 that another CPU is running L2 from (a misbehaving
 * L1) does not count: its device set must not be released under it. */
void passthrough_tick(void)
{
    if (boot_config()->passthrough)
        shadow_vm_reap(now_ms());
}

void passthrough_vmclear(uint64_t vmcs12)
{
    if (!boot_config()->passthrough)
        return;
    for (unsigned c = 0; c < MAX_CPUS; c++) {
        struct vcpu *o = cloud_vcpu(c);
        if (o && __atomic_load_n(&o->in_l2, __ATOMIC_ACQUIRE) && o->vmcs02_for == vmcs12) {
            kprintf("nested: VMCLEAR of VMCS 0x%llx while cpu%u runs it; its user VM stays\n",
                    (unsigned long long)vmcs12, c);
            return;
        }
    }
    shadow_vm_vmclear(vmcs12, now_ms());
}

bool passthrough_released_since(uint64_t *gen)
{
    uint64_t now = shadow_vm_release_gen();
    if (now == *gen)
        return false;
    *gen = now;
    return true;
}

bool passthrough_io(struct vcpu *v)
{
    uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
    uint16_t port = (uint16_t)(q >> 16);
    unsigned size = (unsigned)(q & 7) + 1;
    bool in = q & 8, string = q & 16;
    if (!boot_config()->passthrough || !shadow_port_owned(port))
        return false;
    struct shadow_vm *vm = v->l2_vm;
    if (vm && string) {
        v->pt_served++;
        if (string_io(v, vm, port, size, in, q & 32))
            return true;
    }
    if (string || !vm) {
        /* Never hand these to L1: drop the access (reads see all ones). */
        kprintf("nested: cpu%u: %s on port 0x%x not served (%s); dropped\n", v->cpu,
                string ? "string I/O" : "I/O", port,
                !vm ? "no device set" : "its memory operand is not reachable");
        if (in && !string)
            v->regs.rax |= size == 4 ? 0xFFFFFFFFULL : (1ULL << (8 * size)) - 1;
        vmx_skip_instruction();
        return true;
    }
    v->pt_served++;
    if (in) {
        uint64_t val = shadow_port_in(vm, port, size);
        uint64_t mask = size == 4 ? 0xFFFFFFFFFFFFFFFFULL : (1ULL << (8 * size)) - 1;
        v->regs.rax = size == 4 ? val : (v->regs.rax & ~mask) | val;   /* 32-bit IN zero-extends */
    } else {
        shadow_port_out(vm, port, size, (uint32_t)v->regs.rax);
        mirror(vm);
    }
    vmx_skip_instruction();
    return true;
}

#define VGA_GRAPHICS_END    0xB0000

bool passthrough_vga_trapped(struct vcpu *v, uint64_t gpa)
{
    return boot_config()->passthrough && v->l2_vm && gpa >= SHADOW_VGA_WINDOW &&
           gpa < VGA_GRAPHICS_END && shadow_vga_window_trapped(v->l2_vm);
}

/* REP STOS into trapped VGA memory (how video memory is cleared): one
 * element per exit, like string I/O; RIP stays until RCX reaches zero. */
static bool vga_stos(struct vcpu *v, const uint8_t *code, size_t got, unsigned bits, uint32_t off)
{
    size_t i = 0;
    bool rep = false, opsize = false, addrsize = false;
    for (; i < got; i++) {
        if (code[i] == 0xF3) rep = true;
        else if (code[i] == 0x66) opsize = true;
        else if (code[i] == 0x67) addrsize = true;
        else if (code[i] != 0x26 && code[i] != 0x2E && code[i] != 0x36 && code[i] != 0x3E) break;
    }
    uint8_t rex = 0;
    if (bits == 64 && i < got && (code[i] & 0xF0) == 0x40)
        rex = code[i++];
    if (i >= got || (code[i] != 0xAA && code[i] != 0xAB))
        return false;
    unsigned size = code[i] == 0xAA ? 1 : (rex & 8) ? 8 : ((bits == 16) != opsize) ? 2 : 4;
    unsigned abits = bits == 64 ? (addrsize ? 32 : 64) : ((bits == 16) != addrsize) ? 16 : 32;
    uint64_t amask = abits == 64 ? ~0ULL : (1ULL << abits) - 1;
    uint64_t rax = vcpu_reg_read(v, 0);
    for (unsigned b = 0; b < size; b++)
        shadow_vga_mem_write(v->l2_vm, off + b, (uint8_t)(rax >> (8 * b)));
    uint64_t rdi = vcpu_reg_read(v, 7);
    uint64_t step = (vmcs_read(VMCS_GUEST_RFLAGS) & (1u << 10)) ? (uint64_t)-size : size;
    vcpu_reg_write(v, 7, (rdi & ~amask) | ((rdi + step) & amask));
    if (rep) {
        uint64_t rcx = vcpu_reg_read(v, 1);
        rcx = (rcx & ~amask) | ((rcx - 1) & amask);
        vcpu_reg_write(v, 1, rcx);
        if (rcx & amask)
            return true;                /* the next element exits again */
    }
    vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + i + 1);
    return true;
}

void passthrough_vga_mmio(struct vcpu *v, uint64_t gpa, uint64_t q)
{
    static bool logged;
    struct shadow_vm *vm = v->l2_vm;
    uint32_t off = (uint32_t)(gpa - SHADOW_VGA_WINDOW);
    uint8_t code[15];
    size_t got = l2_fetch(v, code, sizeof(code));
    unsigned bits = guest_code_bits();
    v->vga_mmio++;
    if (q & 2) {
        uint64_t regs[16];
        for (unsigned r = 0; r < 16; r++)
            regs[r] = vcpu_reg_read(v, r);
        struct mmio_store st;
        if (!decode_mmio_store(code, got, bits, regs, &st)) {
            for (unsigned b = 0; b < st.size; b++)
                shadow_vga_mem_write(vm, off + b, (uint8_t)(st.value >> (8 * b)));
            vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + st.len);
            return;
        }
        if (vga_stos(v, code, got, bits, off))
            return;
    } else if (!(q & 4)) {
        struct mmio_load ld;
        if (!decode_mmio_load(code, got, bits, &ld)) {
            uint64_t val = 0;
            for (unsigned b = 0; b < ld.size; b++)
                val |= (uint64_t)shadow_vga_mem_read(vm, off + b) << (8 * b);
            vcpu_reg_write(v, ld.reg, mmio_load_apply(&ld, vcpu_reg_read(v, ld.reg), val));
            vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + ld.len);
            return;
        }
    }
    /* Neither L1 nor L2's memory may take the access: L2 gets #UD. */
    if (!logged) {
        logged = true;
        kprintf("nested: cpu%u: L2 %s VGA memory at 0x%llx with an instruction vsbypass does not "
                "emulate (%02x %02x %02x); #UD to L2 (logged once)\n", v->cpu,
                (q & 4) ? "executes" : (q & 2) ? "writes" : "reads", (unsigned long long)gpa,
                got > 0 ? code[0] : 0, got > 1 ? code[1] : 0, got > 2 ? code[2] : 0);
    }
    vmx_inject_exception(6, false, 0);
}

uint64_t passthrough_vga_page(struct vcpu *v, uint64_t gpa)
{
    if (!boot_config()->passthrough || gpa < SHADOW_VGA_WINDOW ||
        gpa >= SHADOW_VGA_WINDOW + SHADOW_VGA_SIZE || passthrough_vga_trapped(v, gpa))
        return 0;
    struct shadow_vm *vm = v->l2_vm;
    return vm ? shadow_vga_page(vm, (unsigned)((gpa - SHADOW_VGA_WINDOW) >> 12)) : 0;
}

bool passthrough_apic_write(struct vcpu *v, uint64_t gpa, uint64_t qualification)
{
    struct shadow_vm *vm = boot_config()->passthrough ? v->l2_vm : NULL;
    uint64_t page = gpa & ~0xFFFULL, off = gpa & 0xFFF;
    if (!vm || !(qualification & 2))
        return false;
    bool ioapic = page == IOAPIC_GUEST_BASE && (off == 0x00 || off == 0x10);
    bool eoi = page == LAPIC_GUEST_BASE && off == LAPIC_EOI;
    if (!ioapic && !eoi)
        return false;
    uint8_t code[15];
    size_t got = l2_fetch(v, code, sizeof(code));
    uint64_t regs[16];
    for (unsigned r = 0; r < 16; r++)
        regs[r] = vcpu_reg_read(v, r);
    struct mmio_store st;
    if (decode_mmio_store(code, got, guest_code_bits(), regs, &st) || st.size != 4) {
        kprintf("nested: cpu%u: an L2 store to its %s at 0x%llx was not decoded; L1 alone sees it\n",
                v->cpu, ioapic ? "IOAPIC" : "local APIC", (unsigned long long)gpa);
        return false;
    }
    if (ioapic) {
        shadow_ioapic_write(vm, (uint32_t)off, (uint32_t)st.value);
        return false;               /* L1's IOAPIC model gets it as well */
    }
    if (!shadow_lapic_eoi(vm))
        return false;
    vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + st.len);
    v->apic_eois_kept++;
    return true;
}

bool passthrough_x2apic_eoi(struct vcpu *v)
{
    struct shadow_vm *vm = boot_config()->passthrough ? v->l2_vm : NULL;
    if (!vm || (uint32_t)v->regs.rcx != X2APIC_EOI_MSR || !shadow_lapic_eoi(vm))
        return false;
    vmx_skip_instruction();
    v->apic_eois_kept++;
    return true;
}

void passthrough_l1_injected(struct vcpu *v, uint32_t intr_info)
{
    if (boot_config()->passthrough && v->l2_vm && (intr_info & INTR_INFO_VALID) &&
        (intr_info & 0x700) == INTR_TYPE_EXTERNAL)
        shadow_l1_injected(v->l2_vm, (uint8_t)intr_info);
}

bool passthrough_pic_io(struct vcpu *v)
{
    uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
    uint16_t port = (uint16_t)(q >> 16);
    if (!boot_config()->passthrough || !shadow_pic_port(port) || (q & 8) || (q & 16) || (q & 7))
        return false;       /* only single-byte OUTs can be commands */
    struct shadow_vm *vm = v->l2_vm;
    if (!vm || !shadow_pic_write(vm, port, (uint8_t)v->regs.rax))
        return false;
    vmx_skip_instruction();
    return true;
}

static void set_intr_window(struct vcpu *v, bool on)
{
    uint64_t proc = vmcs_read(VMCS_PROC_CTLS);
    vmcs_write(VMCS_PROC_CTLS, on ? proc | PROC_INTR_WINDOW_EXIT : proc & ~(uint64_t)PROC_INTR_WINDOW_EXIT);
    v->l0_intr_window = on;
}

void passthrough_deliver(struct vcpu *v)
{
    struct shadow_vm *vm = boot_config()->passthrough ? v->l2_vm : NULL;
    /* A0000-AFFFF changed between backed and trapped since this vCPU last
     * looked: its EPT02 must not keep the old mapping. */
    if (vm && v->vga_map_gen != shadow_vga_map_gen(vm)) {
        v->vga_map_gen = shadow_vga_map_gen(vm);
        nested_ept02_unmap(v, SHADOW_VGA_WINDOW, (VGA_GRAPHICS_END - SHADOW_VGA_WINDOW) / 0x1000);
    }
    int vec = vm ? shadow_irq_pending(vm) : -1;
    if (vec < 0)
        return;
    bool busy = vmcs_read(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID;     /* L1's event first */
    bool open = (vmcs_read(VMCS_GUEST_RFLAGS) & (1u << 9)) &&
                !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) &&
                vmcs_read(VMCS_GUEST_ACTIVITY_STATE) == ACTIVITY_ACTIVE;
    if (busy || !open) {
        set_intr_window(v, true);
        return;
    }
    vmcs_write(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (uint32_t)vec);
    shadow_irq_ack(vm);
    v->l2_irqs_injected++;
}

bool passthrough_intr_window(struct vcpu *v, bool l1_wants_it)
{
    if (!v->l0_intr_window)
        return false;
    set_intr_window(v, l1_wants_it);
    v->l0_intr_window = false;
    if (l1_wants_it)
        return false;
    passthrough_deliver(v);
    return true;
}
