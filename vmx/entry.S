/*
 * VM entry and exit. HOST_RSP points 16 bytes below the top of the CPU's
 * exit stack, where vmx/cloud.c stored the struct vcpu pointer, so the
 * exit path finds its vCPU without any other state.
 */
#include "vmx/vcpu.h"

    .text
    .global vmx_exit_entry
vmx_exit_entry:
    pushq   %rax
    movq    8(%rsp), %rax               /* struct vcpu * */
    movq    %rbx, VCPU_RBX(%rax)
    movq    %rcx, VCPU_RCX(%rax)
    movq    %rdx, VCPU_RDX(%rax)
    movq    %rsi, VCPU_RSI(%rax)
    movq    %rdi, VCPU_RDI(%rax)
    movq    %rbp, VCPU_RBP(%rax)
    movq    %r8,  VCPU_R8(%rax)
    movq    %r9,  VCPU_R9(%rax)
    movq    %r10, VCPU_R10(%rax)
    movq    %r11, VCPU_R11(%rax)
    movq    %r12, VCPU_R12(%rax)
    movq    %r13, VCPU_R13(%rax)
    movq    %r14, VCPU_R14(%rax)
    movq    %r15, VCPU_R15(%rax)
    popq    %rbx
    movq    %rbx, VCPU_RAX(%rax)
    movq    %cr2, %rbx                  /* not part of the VMCS guest state */
    movq    %rbx, VCPU_CR2(%rax)
    movq    %rax, %rdi
    xorl    %ebp, %ebp
    call    vmx_exit_handler            /* returns the vcpu to resume */
    movq    %rax, %rdi
    jmp     vmx_enter

/* _Noreturn void vmx_enter(struct vcpu *v): load guest registers, launch or resume. */
    .global vmx_enter
vmx_enter:
    pushq   %rdi                        /* for the failure path: no register survives */
    movq    VCPU_CR2(%rdi), %rax
    movq    %rax, %cr2
    movq    VCPU_RAX(%rdi), %rax
    movq    VCPU_RBX(%rdi), %rbx
    movq    VCPU_RCX(%rdi), %rcx
    movq    VCPU_RDX(%rdi), %rdx
    movq    VCPU_RSI(%rdi), %rsi
    movq    VCPU_RBP(%rdi), %rbp
    movq    VCPU_R8(%rdi),  %r8
    movq    VCPU_R9(%rdi),  %r9
    movq    VCPU_R10(%rdi), %r10
    movq    VCPU_R11(%rdi), %r11
    movq    VCPU_R12(%rdi), %r12
    movq    VCPU_R13(%rdi), %r13
    movq    VCPU_R14(%rdi), %r14
    movq    VCPU_R15(%rdi), %r15
    cmpq    $0, VCPU_LAUNCHED(%rdi)
    jne     1f
    movq    $1, VCPU_LAUNCHED(%rdi)
    movq    VCPU_RDI(%rdi), %rdi
    vmlaunch
    jmp     2f
1:  movq    VCPU_RDI(%rdi), %rdi
    vmresume
    /* Reached only if the entry failed: flags say how. */
2:  pushfq
    popq    %rsi
    popq    %rdi                        /* the vcpu pushed on entry */
    andq    $-16, %rsp
    call    vmx_entry_failed
3:  hlt
    jmp     3b
