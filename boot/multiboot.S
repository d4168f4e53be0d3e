/*
 * Multiboot 1 and 2 headers. Both describe the same ELF: GRUB loads its
 * segments by physical address and enters boot_entry32 in 32-bit protected
 * mode with EAX = magic and EBX = physical address of the info structure.
 */
#include "core/multiboot.h"

    .section .multiboot1, "a"
    .align 4
mb1_header:
    .long MB1_HEADER_MAGIC
    .long MB1_HEADER_FLAGS
    .long 0x100000000 - (MB1_HEADER_MAGIC + MB1_HEADER_FLAGS)

    .section .multiboot2, "a"
    .align 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* Page-align modules: they are later copied into the region page-wise. */
    .align 8
    .short MB2_HEADER_TAG_MODULE_ALIGN, 0
    .long 8
    .align 8
    .short MB2_HEADER_TAG_END, 0
    .long 8
mb2_header_end:
