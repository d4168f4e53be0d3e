/* Forced passthrough: a user VM's console devices are served by vsbypass. */
#ifndef VMX_PASSTHROUGH_H
#define VMX_PASSTHROUGH_H
#include "vmx/vcpu.h"

/* Sets the owned ports in a pair of I/O bitmaps (A: 0-0x7FFF, B: the rest). */
void passthrough_mark_ports(uint8_t *bitmap_a);
/* An I/O exit from L2: true if vsbypass served it (never reflect then). */
bool passthrough_io(struct vcpu *v, uint64_t vm_key);
/* Host page backing L2 guest-physical `gpa` in the VGA window, or 0. */
uint64_t passthrough_vga_page(uint64_t vm_key, uint64_t gpa);

#endif
