/* Forced passthrough: a user VM's console devices are served by vsbypass. */
#ifndef VMX_PASSTHROUGH_H
#define VMX_PASSTHROUGH_H
#include "vmx/vcpu.h"

/* At every L2 entry VMCS12 allows (vmx/nested_entry.c): the device set of
 * the user VM `vmcs12` runs, keyed by `key` (its EPTP12), kept in the vCPU
 * for the exits that follow; reaps sets L1 stopped using. */
void passthrough_enter(struct vcpu *v, uint64_t vmcs12, uint64_t key, bool resume);
/* After an exit of L1's: releases device sets L1 stopped using (cheap). */
void passthrough_tick(void);
/* L1 executed VMCLEAR on `vmcs12`. */
void passthrough_vmclear(uint64_t vmcs12);
/* Whether a device set was released since `*gen` (updated): an EPT02
 * built before may map its freed VGA window. */
bool passthrough_released_since(uint64_t *gen);
/* An EPT violation on L2's IOAPIC or local APIC page, on its way to L1:
 * IOAPIC writes are observed (false: reflect as usual); an EOI that
 * retires a shadow-device interrupt is consumed (true: RIP moved on). */
bool passthrough_apic_write(struct vcpu *v, uint64_t gpa, uint64_t qualification);
/* A WRMSR exit of L2: true if it was an x2APIC EOI consumed here. */
bool passthrough_x2apic_eoi(struct vcpu *v);
/* At a nested entry: the event VMCS12 injects (external interrupts tracked). */
void passthrough_l1_injected(struct vcpu *v, uint32_t intr_info);
/* Sets the owned ports (and L2's PIC ports, observed) in I/O bitmap A. */
void passthrough_mark_ports(uint8_t *bitmap_a);
/* An I/O exit from L2: true if vsbypass served it (never reflect then). */
bool passthrough_io(struct vcpu *v);
/* An I/O exit on L2's PIC ports: true if it was an EOI vsbypass consumed
 * (skipped, not reflected); false means reflect it as usual. */
bool passthrough_pic_io(struct vcpu *v);
/* Before L2 resumes: injects a pending shadow-device interrupt if L2 can
 * take it, else asks for an interrupt-window exit (owned by L0). */
void passthrough_deliver(struct vcpu *v);
/* An interrupt-window exit from L2: true if it was L0's (handled here). */
bool passthrough_intr_window(struct vcpu *v, bool l1_wants_it);
/* Whether L2 `gpa` is VGA memory that traps now (not plain chain-4 bytes),
 * and its emulation through the VGA model (an EPT02 violation on it). */
bool passthrough_vga_trapped(struct vcpu *v, uint64_t gpa);
void passthrough_vga_mmio(struct vcpu *v, uint64_t gpa, uint64_t qualification);
/* Host page backing L2 guest-physical `gpa` in the VGA window, or 0. */
uint64_t passthrough_vga_page(struct vcpu *v, uint64_t gpa);

#endif
