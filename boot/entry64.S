/*
 * 64-bit image entry, exception stubs and the relocation switch.
 */
#include "core/layout.h"

    .section .text.entry, "ax"
    .code64
    .global kernel_entry64
/* rdi = multiboot magic, rsi = info phys, rdx = TSC at entry (from .boot). */
kernel_entry64:
    movq    %rdi, %r12
    movq    %rsi, %r13
    movq    %rdx, %r14
    movabs  $__bss_start, %rdi
    movabs  $__bss_end, %rcx
    subq    %rdi, %rcx
    xorl    %eax, %eax
    rep stosb
    movabs  $boot_stack_top, %rsp
    xorl    %ebp, %ebp
    movq    %r12, %rdi
    movq    %r13, %rsi
    movq    %r14, %rdx
    call    kmain
1:  cli
    hlt
    jmp     1b

/*
 * void reloc_switch(uint64_t dst, uint64_t src, uint64_t len, uint64_t cr3)
 * Copies the running image (stack included) to dst through the identity map,
 * then loads the page tables that map KERNEL_VBASE there. Nothing may touch
 * memory between the copy and the CR3 load: both copies must stay equal.
 */
    .text
    .global reloc_switch
reloc_switch:
    movq    %rcx, %r8
    movq    %rdx, %rcx
    rep movsb
    movq    %r8, %cr3
    ret

/* Exception stubs: push a zero error code where the CPU pushes none. */
.macro ISR_NOERR vec
isr_\vec:
    pushq   $0
    pushq   $\vec
    jmp     isr_common
.endm
.macro ISR_ERR vec
isr_\vec:
    pushq   $\vec
    jmp     isr_common
.endm

ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31

/* Saves registers in struct trap_frame order (core/cpu.h). */
isr_common:
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    movq    %rsp, %rdi
    cld
    call    cpu_exception
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    addq    $16, %rsp
    iretq

    .section .rodata
    .align 8
    .global isr_stub_table
isr_stub_table:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad isr_\v
    .endr

    .bss
    .align 16
boot_stack:
    .skip STACK_SIZE
    .global boot_stack_top
boot_stack_top:
