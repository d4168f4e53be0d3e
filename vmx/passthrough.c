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
#include "shadow/shadow.h"
#include "vmx/cloud.h"
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

bool passthrough_io(struct vcpu *v, uint64_t vm_key)
{
    uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
    uint16_t port = (uint16_t)(q >> 16);
    unsigned size = (unsigned)(q & 7) + 1;
    bool in = q & 8, string = q & 16;
    if (!boot_config()->passthrough || !shadow_port_owned(port))
        return false;
    struct shadow_vm *vm = shadow_vm_get(vm_key);
    if (string || !vm) {
        /* Never hand these to L1: drop the access (reads see all ones). */
        kprintf("nested: cpu%u: %s on port 0x%x not served (%s); dropped\n", v->cpu,
                string ? "string I/O" : "I/O", port, string ? "not supported yet" : "no device set");
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

uint64_t passthrough_vga_page(uint64_t vm_key, uint64_t gpa)
{
    if (!boot_config()->passthrough || gpa < SHADOW_VGA_WINDOW ||
        gpa >= SHADOW_VGA_WINDOW + SHADOW_VGA_SIZE)
        return 0;
    struct shadow_vm *vm = shadow_vm_get(vm_key);
    return vm ? shadow_vga_page(vm, (unsigned)((gpa - SHADOW_VGA_WINDOW) >> 12)) : 0;
}

bool passthrough_pic_io(struct vcpu *v, uint64_t vm_key)
{
    uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
    uint16_t port = (uint16_t)(q >> 16);
    if (!boot_config()->passthrough || !shadow_pic_port(port) || (q & 8) || (q & 16) || (q & 7))
        return false;       /* only single-byte OUTs can be commands */
    struct shadow_vm *vm = shadow_vm_get(vm_key);
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

void passthrough_deliver(struct vcpu *v, uint64_t vm_key)
{
    struct shadow_vm *vm = boot_config()->passthrough ? shadow_vm_find(vm_key) : NULL;
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

bool passthrough_intr_window(struct vcpu *v, uint64_t vm_key, bool l1_wants_it)
{
    if (!v->l0_intr_window)
        return false;
    set_intr_window(v, l1_wants_it);
    v->l0_intr_window = false;
    if (l1_wants_it)
        return false;
    passthrough_deliver(v, vm_key);
    return true;
}
