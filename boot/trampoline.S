/*
 * AP start-up trampoline. core/smp.c copies this blob to TRAMPOLINE_PHYS and
 * fills its data slots; a SIPI with vector TRAMPOLINE_PHYS >> 12 starts the AP
 * here in real mode at CS:IP = 0x0800:0000. Every address is computed from
 * TRAMPOLINE_PHYS, so the blob needs no relocation.
 */
#include "core/layout.h"

#define T(sym) (TRAMPOLINE_PHYS + ((sym) - trampoline_start))

    .section .rodata
    .global trampoline_start, trampoline_end
    .global tramp_cr3, tramp_stack, tramp_entry, tramp_arg, tramp_efer
    .code16
trampoline_start:
    cli
    cld
    movw    %cs, %ax
    movw    %ax, %ds
    lgdtl   tramp_gdt_ptr - trampoline_start
    movl    %cr0, %eax
    orl     $1, %eax
    movl    %eax, %cr0
    ljmpl   $SEL_CODE32, $T(tramp_pm)

    .code32
tramp_pm:
    movw    $SEL_DATA32, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movl    %cr4, %eax
    orl     $(1 << 5), %eax             /* PAE */
    movl    %eax, %cr4
    movl    T(tramp_cr3), %eax
    movl    %eax, %cr3
    movl    $0xC0000080, %ecx           /* EFER: the BSP's value (LME, NXE) */
    movl    T(tramp_efer), %eax
    xorl    %edx, %edx
    wrmsr
    movl    %cr0, %eax
    orl     $((1 << 31) | (1 << 16)), %eax  /* PG, WP */
    movl    %eax, %cr0
    ljmp    $SEL_CODE64, $T(tramp_lm)

    .code64
tramp_lm:
    movw    $SEL_DATA, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movq    T(tramp_stack), %rsp
    movq    T(tramp_arg), %rdi
    movq    T(tramp_entry), %rax
    xorl    %ebp, %ebp
    jmp     *%rax

    .align 8
tramp_gdt:
    .quad   0
    .quad   0x00AF9A000000FFFF          /* SEL_CODE64 */
    .quad   0x00CF92000000FFFF          /* SEL_DATA */
    .quad   0x00CF9A000000FFFF          /* SEL_CODE32 */
    .quad   0x00CF92000000FFFF          /* SEL_DATA32 */
tramp_gdt_end:
tramp_gdt_ptr:
    .word   tramp_gdt_end - tramp_gdt - 1
    .long   T(tramp_gdt)
    .align 8
tramp_cr3:   .quad 0
tramp_efer:  .quad 0
tramp_stack: .quad 0
tramp_entry: .quad 0
tramp_arg:   .quad 0
trampoline_end:
