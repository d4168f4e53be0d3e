/* Forced passthrough: a user VM's console devices are served by vsbypass. */
#ifndef VMX_PASSTHROUGH_H
#define VMX_PASSTHROUGH_H
#include "vmx/vcpu.h"

/* Sets the owned ports (and L2's PIC ports, observed) in I/O bitmap A. */
void passthrough_mark_ports(uint8_t *bitmap_a);
/* An I/O exit from L2: true if vsbypass served it (never reflect then). */
bool passthrough_io(struct vcpu *v, uint64_t vm_key);
/* An I/O exit on L2's PIC ports: true if it was an EOI vsbypass consumed
 * (skipped, not reflected); false means reflect it as usual. */
bool passthrough_pic_io(struct vcpu *v, uint64_t vm_key);
/* Before L2 resumes: injects a pending shadow-device interrupt if L2 can
 * take it, else asks for an interrupt-window exit (owned by L0). */
void passthrough_deliver(struct vcpu *v, uint64_t vm_key);
/* An interrupt-window exit from L2: true if it was L0's (handled here). */
bool passthrough_intr_window(struct vcpu *v, uint64_t vm_key, bool l1_wants_it);
/* Host page backing L2 guest-physical `gpa` in the VGA window, or 0. */
uint64_t passthrough_vga_page(uint64_t vm_key, uint64_t gpa);

#endif
