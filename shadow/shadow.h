/*
 * shadow/: the one header vmx/ uses. A user VM (L2) gets its own shadow
 * serial port, keyboard controller and VGA when vsbypass first enters it
 * (or sees it touch one); vmx/ routes the trapped accesses here and never
 * to L1. The set is released once L1 has stopped running the VM for
 * SHADOW_RELEASE_MS (docs/architecture.md, "User VM lifecycle").
 */
#ifndef SHADOW_SHADOW_H
#define SHADOW_SHADOW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHADOW_MAX_VMS      8
#define SHADOW_VGA_WINDOW   0xA0000u    /* guest-physical start of VGA memory */
#define SHADOW_VGA_SIZE     0x20000u
#define SHADOW_RELEASE_MS   2000        /* every vCPU VMCLEARed this long: released */

struct shadow_vm;

/* Every nested VM entry: the device set of the user VM this VMCS12 runs
 * (created, joined or re-keyed per docs/architecture.md, "User VM
 * lifecycle"); NULL if none can be had. */
struct shadow_vm *shadow_vm_enter(uint64_t vmcs12, uint64_t key, bool resume, uint64_t now_ms);
/* L1 executed VMCLEAR on vmcs12. */
void shadow_vm_vmclear(uint64_t vmcs12, uint64_t now_ms);
/* Releases the sets unused for SHADOW_RELEASE_MS; cheap, call often, any CPU. */
void shadow_vm_reap(uint64_t now_ms);
/* Bumped at every release: an EPT02 built before it must be dropped
 * (it may map the freed VGA window). */
uint64_t shadow_vm_release_gen(void);

/* The device set for the user VM identified by `key` (its EPT12 root),
 * created if no live set has that key; NULL if every slot is taken. A set
 * created here with no vCPU entering it is released like an unused one. */
struct shadow_vm *shadow_vm_get(uint64_t key);
/* Its number: 0 .. SHADOW_MAX_VMS-1, given again after a release. */
unsigned shadow_vm_id(const struct shadow_vm *vm);

/* Ports the shadow devices own: COM1, the i8042, the VGA registers. */
bool shadow_port_owned(uint16_t port);
uint32_t shadow_port_in(struct shadow_vm *vm, uint16_t port, unsigned size);
void shadow_port_out(struct shadow_vm *vm, uint16_t port, unsigned size, uint32_t value);

/* The pages backing the user VM's VGA window (guest-physical 0xA0000-0xBFFFF):
 * physical address of page `index` (0..31), written by the guest directly. */
uint64_t shadow_vga_page(struct shadow_vm *vm, unsigned index);

/* VGA memory beyond the backed text window: whether A0000-AFFFF traps now
 * (anything but plain chain-4 bytes), a generation bumped when that
 * changes (mappings of it made before must go), and one byte accessed
 * through the VGA model (offset from 0xA0000). */
bool shadow_vga_window_trapped(struct shadow_vm *vm);
uint32_t shadow_vga_map_gen(struct shadow_vm *vm);
uint8_t shadow_vga_mem_read(struct shadow_vm *vm, uint32_t offset);
void shadow_vga_mem_write(struct shadow_vm *vm, uint32_t offset, uint8_t val);

/* The live device set for `key` if there is one (never creates one). */
struct shadow_vm *shadow_vm_find(uint64_t key);

/* Interrupts (docs/interrupts.md). L2's writes to its 8259s are observed on
 * their way to L1; true means the write is an EOI for a shadow-device
 * interrupt, which L1 must not see. */
bool shadow_pic_port(uint16_t port);
bool shadow_pic_write(struct shadow_vm *vm, uint16_t port, uint8_t value);
/* The vector a shadow device wants delivered now, or -1; ack once injected. */
int shadow_irq_pending(struct shadow_vm *vm);
void shadow_irq_ack(struct shadow_vm *vm);

/* L2's IOAPIC and local APIC (docs/interrupts.md, step 6), observed on
 * their way to L1: a 32-bit write at `offset` in the IOAPIC page; an EOI
 * write to the local APIC (true: it retires a shadow-device interrupt and
 * must not reach L1); an external interrupt L1 injected into L2. */
#define IOAPIC_GUEST_BASE   0xFEC00000u     /* where L2's IOAPIC is watched */
#define LAPIC_GUEST_BASE    0xFEE00000u     /* L2's xAPIC page (default base) */
#define LAPIC_EOI           0xB0u
#define X2APIC_EOI_MSR      0x80Bu
void shadow_ioapic_write(struct shadow_vm *vm, uint32_t offset, uint32_t value);
bool shadow_lapic_eoi(struct shadow_vm *vm);
void shadow_l1_injected(struct shadow_vm *vm, uint8_t vector);

/* Serial output the user VM produced since *cursor (its scrollback). */
size_t shadow_serial_read(struct shadow_vm *vm, uint64_t *cursor, uint8_t *buf, size_t n);

#endif
