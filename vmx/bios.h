/* The cloud VM's firmware view: INT 15h memory hook, boot stub, GRUB marker. */
#ifndef VMX_BIOS_H
#define VMX_BIOS_H
#include "core/memmap.h"
#include "vmx/vcpu.h"

/* "VSBP" at BIOS_MARKER_PA tells the second GRUB pass to boot the cloud OS. */
#define BIOS_MARKER_PA    0x4F0
#define BIOS_MARKER_MAGIC 0x50425356u

struct bios_view {
    uint64_t stub_pa;           /* page holding the real-mode stubs */
    struct memmap e820;         /* the memory map the cloud VM is told */
};

/* Builds the cloud VM's memory map from the firmware's, hiding
 * [hide_base, hide_base + hide_size) and the stub page (pure; host-tested). */
void bios_build_e820(const struct memmap *fw, uint64_t stub_pa, uint64_t hide_base,
                     uint64_t hide_size, struct memmap *out);
/* The stub page: the last page of the conventional memory containing 0x500. */
uint64_t bios_pick_stub_page(const struct memmap *fw);

/* Writes the stubs, hooks INT 15h, lowers the BDA's base-memory size and
 * sets the GRUB marker in the cloud VM's (identity-mapped) low memory. */
void bios_install(struct bios_view *bv, const struct memmap *fw, uint64_t hide_base,
                  uint64_t hide_size);
/* Real-mode CS:IP where the bootstrap CPU starts: INT 19h (the firmware's
 * boot order) for drive < 0, else the MBR of BIOS drive `drive` (0x80..). */
uint16_t bios_boot_cs(const struct bios_view *bv);
uint16_t bios_boot_ip(const struct bios_view *bv, int drive);

/* Handles a VMCALL from the INT 15h stub. Returns false if the VMCALL did
 * not come from there (the caller injects #UD). A VMCALL from the disk-boot
 * stub's failure path sets *boot_failed with the status in AX. */
bool bios_vmcall(const struct bios_view *bv, struct vcpu *v, bool *boot_failed);

/* Answers one INT 15h memory query in `r` (EAX/EBX/ECX/EDX as the BIOS
 * interface defines them) and, for E820, fills `entry` (24 bytes).
 * Returns false when the BIOS would set CF (error). Pure; host-tested. */
struct bios_regs { uint32_t eax, ebx, ecx, edx; };
bool bios_int15(const struct memmap *e820, struct bios_regs *r, uint8_t entry[24],
                unsigned *entry_len);

#endif
