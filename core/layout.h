/*
 * Memory layout constants shared by assembly, C and (by hand) linker.ld.
 * Pure data: no code, usable from .S files.
 */
#ifndef CORE_LAYOUT_H
#define CORE_LAYOUT_H

#ifdef __ASSEMBLY__
#define LAYOUT_UL(x) x
#else
#define LAYOUT_UL(x) x##UL
#endif

#define BOOT_PHYS        LAYOUT_UL(0x100000)     /* .boot: 32-bit entry, early tables */
#define IMAGE_PHYS       LAYOUT_UL(0x200000)     /* where GRUB loads the 64-bit image */
#define KERNEL_VBASE     LAYOUT_UL(0xFFFFFFFF80000000)
#define IMAGE_MAX        LAYOUT_UL(0x2000000)    /* early mapping covers 32 MiB */
#define TRAMPOLINE_PHYS  LAYOUT_UL(0x8000)       /* AP real-mode entry (SIPI vector 0x08) */

#define PAGE_SIZE        LAYOUT_UL(4096)
#define LARGE_PAGE_SIZE  LAYOUT_UL(0x200000)
#define STACK_SIZE       LAYOUT_UL(16384)
#define MAX_CPUS         64

/* GDT selectors (core/cpu.c builds the table in this order). */
#define SEL_CODE64       0x08
#define SEL_DATA         0x10
#define SEL_CODE32       0x18
#define SEL_DATA32       0x20
#define SEL_TSS          0x28

#define REGION_DEFAULT_MIB  128
#define REGION_MIN_MIB      32
#define REGION_MAX_MIB      2048

#endif
