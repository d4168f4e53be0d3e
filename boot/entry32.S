/*
 * 32-bit entry from GRUB (either multiboot version), switch to long mode.
 *
 * Runs from .boot (linked where it is loaded, at 1 MiB). Builds throw-away
 * page tables that identity-map the low 4 GiB and map KERNEL_VBASE onto the
 * image GRUB loaded at IMAGE_PHYS, then jumps to the 64-bit image. The image
 * later moves itself into the hypervisor region (core/reloc.c).
 */
#include "core/layout.h"

#define PTE_P   0x1
#define PTE_W   0x2
#define PTE_PS  0x80
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define CR4_PAE  (1 << 5)
#define CR0_PE   (1 << 0)
#define CR0_WP   (1 << 16)
#define CR0_PG   (1 << 31)

    .section .boot.text, "ax"
    .code32
    .global boot_entry32
boot_entry32:
    cli
    cld
    movl    %eax, boot_mb_magic
    movl    %ebx, boot_mb_info
    rdtsc
    movl    %eax, boot_tsc0
    movl    %edx, boot_tsc0 + 4
    movl    $boot_stack32_top, %esp

    /* Long mode is required; say so on the emulator port and COM1 if not. */
    movl    $0x80000000, %eax
    cpuid
    cmpl    $0x80000001, %eax
    jb      no_long_mode
    movl    $0x80000001, %eax
    cpuid
    btl     $29, %edx
    jnc     no_long_mode

    /* early_pd[0..2047]: identity map 0..4 GiB with 2 MiB pages. */
    movl    $early_pd, %edi
    xorl    %ecx, %ecx
1:  movl    %ecx, %eax
    shll    $21, %eax
    orl     $(PTE_P | PTE_W | PTE_PS), %eax
    movl    %eax, (%edi, %ecx, 8)
    movl    $0, 4(%edi, %ecx, 8)
    incl    %ecx
    cmpl    $2048, %ecx
    jb      1b

    movl    $(early_pd + PTE_P + PTE_W), %eax
    movl    %eax, early_pdpt_low
    addl    $0x1000, %eax
    movl    %eax, early_pdpt_low + 8
    addl    $0x1000, %eax
    movl    %eax, early_pdpt_low + 16
    addl    $0x1000, %eax
    movl    %eax, early_pdpt_low + 24

    /* early_pd_high: KERNEL_VBASE + i * 2 MiB -> IMAGE_PHYS + i * 2 MiB. */
    movl    $early_pd_high, %edi
    xorl    %ecx, %ecx
2:  movl    %ecx, %eax
    shll    $21, %eax
    addl    $(IMAGE_PHYS | PTE_P | PTE_W | PTE_PS), %eax
    movl    %eax, (%edi, %ecx, 8)
    incl    %ecx
    cmpl    $(IMAGE_MAX >> 21), %ecx
    jb      2b

    movl    $(early_pd_high + PTE_P + PTE_W), early_pdpt_high + 510 * 8
    movl    $(early_pdpt_high + PTE_P + PTE_W), early_pml4 + 511 * 8
    movl    $(early_pdpt_low + PTE_P + PTE_W), early_pml4

    movl    %cr4, %eax
    orl     $CR4_PAE, %eax
    movl    %eax, %cr4
    movl    $early_pml4, %eax
    movl    %eax, %cr3
    movl    $MSR_EFER, %ecx
    rdmsr
    orl     $EFER_LME, %eax
    wrmsr
    movl    %cr0, %eax
    orl     $(CR0_PG | CR0_WP | CR0_PE), %eax
    movl    %eax, %cr0
    lgdt    early_gdt_ptr
    ljmp    $SEL_CODE64, $boot_entry64_low

no_long_mode:
    movl    $no_lm_msg, %esi
3:  lodsb
    testb   %al, %al
    jz      4f
    outb    %al, $0xE9
    movw    $0x3F8, %dx
    outb    %al, %dx
    jmp     3b
4:  hlt
    jmp     4b

    .code64
boot_entry64_low:
    movw    $SEL_DATA, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    %ax, %fs
    movw    %ax, %gs
    /* Hand the boot facts to C as arguments: C cannot address .boot. */
    movl    boot_mb_magic, %edi
    movl    boot_mb_info, %esi
    movq    boot_tsc0, %rdx
    movabs  $kernel_entry64, %rax
    jmp     *%rax

    .section .boot.data, "aw"
    .align 8
early_gdt:
    .quad   0
    .quad   0x00AF9A000000FFFF      /* 0x08: 64-bit code */
    .quad   0x00CF92000000FFFF      /* 0x10: data */
early_gdt_end:
early_gdt_ptr:
    .word   early_gdt_end - early_gdt - 1
    .long   early_gdt
boot_mb_magic:  .long 0
boot_mb_info:   .long 0
    .align 8
boot_tsc0:      .quad 0
no_lm_msg:
    .asciz  "vsbypass: this CPU has no long mode (64-bit); cannot start\n"

    .section .boot.bss, "aw", @nobits
    .align 4096
early_pml4:      .skip 4096
early_pdpt_low:  .skip 4096
early_pdpt_high: .skip 4096
early_pd_high:   .skip 4096
early_pd:        .skip 4 * 4096
boot_stack32:    .skip 4096
boot_stack32_top:
