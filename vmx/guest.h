/* Reading the cloud VM's memory the way its current CPU mode sees it. */
#ifndef VMX_GUEST_H
#define VMX_GUEST_H
#include <stddef.h>
#include <stdint.h>

/* Copies guest-physical memory; the hypervisor region reads as zeros, as
 * EPT01 shows it to the guest. Returns -1 past the identity map. */
int guest_read_phys(uint64_t gpa, void *buf, size_t n);
/* Writes guest-physical memory; fails (-1) on any byte of the hypervisor
 * region or past the identity map. */
int guest_write_phys(uint64_t gpa, const void *buf, size_t n);
/* Reads or writes n bytes at a guest linear address, page by page. */
int guest_read_linear(uint64_t lin, void *buf, size_t n);
int guest_write_linear(uint64_t lin, const void *buf, size_t n);
/* Translates a linear address with the guest's paging mode (from the
 * current VMCS): none, 32-bit, PAE or 4-level. Returns -1 if not present. */
int guest_linear_to_phys(uint64_t lin, uint64_t *gpa);
/* The same walk over another guest-physical space (an L2 guest's): the
 * paging structures are read with rd(ctx, gpa, buf, n), 0 on success. */
typedef int (*guest_phys_reader)(void *ctx, uint64_t gpa, void *buf, size_t n);
int guest_walk(uint64_t lin, guest_phys_reader rd, void *ctx, uint64_t *gpa);
/* Fetches up to n instruction bytes at CS:RIP; returns how many it got. */
size_t guest_fetch_code(uint8_t *buf, size_t n);
/* The same through another guest-physical space (the running L2's). */
size_t guest_fetch_code_via(guest_phys_reader rd, void *ctx, uint8_t *buf, size_t n);
/* Default operand size of the code being run: 16, 32 or 64. */
unsigned guest_code_bits(void);

#endif
