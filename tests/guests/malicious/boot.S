/*
 * Malicious-L1 kernel entry: multiboot 1 header, 32-bit entry from GRUB,
 * switch to long mode with the first 4 GiB identity-mapped (2 MiB pages,
 * user-accessible so ring-3 checks can run), exception stubs that honour
 * the "expected fault" protocol, and the ring-3 round trip.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x0

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .section .bss
    .align 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4096 * 4
    .align 16
stack:  .skip 32768
stack_top:

    .section .data
    .align 16
    .global gdt
gdt:
    .quad 0                         /* 0x00 */
    .quad 0x00AF9A000000FFFF        /* 0x08 kernel code, 64-bit */
    .quad 0x00CF92000000FFFF        /* 0x10 kernel data */
    .quad 0x00AFFA000000FFFF        /* 0x18 user code, 64-bit, DPL 3 */
    .quad 0x00CFF2000000FFFF        /* 0x20 user data, DPL 3 */
    .global gdt_tss
gdt_tss:
    .quad 0, 0                      /* 0x28 TSS, filled in by main.c */
gdt_end:
    .global gdtr
gdtr:
    .word gdt_end - gdt - 1
    .quad gdt
mb_info:
    .long 0
    .global resume_rip, fault_vector, kernel_saved_rsp
resume_rip:         .quad 0         /* nonzero: a fault is expected; resume here */
fault_vector:       .long -1        /* vector of the last expected fault */
kernel_saved_rsp:   .quad 0         /* ring-0 stack while ring-3 code runs */
l2_saved_rsp:       .quad 0         /* L1's stack around an L2 round trip */

    .section .text
    .code32
    .global _start
_start:
    cli
    mov $stack_top, %esp
    mov %ebx, mb_info
    /* PML4[0] -> PDPT; PDPT[0..3] -> four PDs; PD entries: 2 MiB pages, P|W|U|PS. */
    mov $pdpt + 7, %eax
    mov %eax, pml4
    mov $pd + 7, %eax
    xor %ecx, %ecx
1:  mov %eax, pdpt(,%ecx,8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jb 1b
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x87, %eax
    mov %eax, pd(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b
    mov $pml4, %eax
    mov %eax, %cr3
    mov %cr4, %eax
    or $0x20, %eax                  /* PAE */
    mov %eax, %cr4
    mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax                 /* EFER.LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000021, %eax            /* PG, NE, PE */
    mov %eax, %cr0
    lgdt gdtr
    ljmp $0x08, $long_entry

    .code64
long_entry:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $stack_top, %rsp
    mov mb_info(%rip), %edi
    call kmain
3:  cli
    hlt
    jmp 3b

/* Exception stubs: push a zero error code where the CPU pushes none, then the vector. */
.macro STUB vec
    .global isr\vec
isr\vec:
    .if (\vec != 8) && (\vec != 10) && (\vec != 11) && (\vec != 12) && (\vec != 13) && (\vec != 14) && (\vec != 17)
    push $0
    .endif
    push $\vec
    jmp isr_common
.endm
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19
    STUB \v
.endr

/* NMI handler for the NMI-window check: calls nmi_taken() with every
 * caller-saved register preserved. */
    .global nmi_stub
nmi_stub:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    mov %rsp, %rax
    and $-16, %rsp
    push %rax
    push %rax
    call nmi_taken
    pop %rax
    mov %rax, %rsp
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    iretq

/* An expected fault records its vector and resumes at resume_rip (at the
 * faulting CPL); any other fault is reported by unexpected_fault(). */
isr_common:
    push %rax
    mov resume_rip(%rip), %rax
    test %rax, %rax
    jz 4f
    mov %rax, 24(%rsp)
    movq $0, resume_rip(%rip)
    mov 8(%rsp), %rax
    mov %eax, fault_vector(%rip)
    pop %rax
    add $16, %rsp
    iretq
4:  mov 8(%rsp), %rdi
    mov 16(%rsp), %rsi
    mov 24(%rsp), %rdx
    mov %cr2, %rcx
    and $-16, %rsp
    call unexpected_fault
5:  cli
    hlt
    jmp 5b

/* run_user(fn, user_stack_top): runs fn at CPL 3; fn ends with int $0x81. */
    .global run_user
run_user:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, kernel_saved_rsp(%rip)
    push $0x23                      /* SS */
    push %rsi                       /* RSP */
    push $0x2                       /* RFLAGS: IF=0, IOPL 0 */
    push $0x1b                      /* CS */
    push %rdi                       /* RIP */
    iretq

/* int $0x81 (DPL 3 gate): back to run_user's caller at CPL 0. */
    .global isr_user_return
isr_user_return:
    mov kernel_saved_rsp(%rip), %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

/* uint64_t l2_roundtrip(unsigned resume): VMLAUNCH or VMRESUME; an L2 exit
 * (or a VM-entry failure) continues at l2_back, the VMCS's host RIP, which
 * returns 0 to the caller; a failed instruction returns RFLAGS | bit 63. */
    .global l2_roundtrip, l2_back
l2_roundtrip:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, l2_saved_rsp(%rip)
    test %edi, %edi
    jnz 1f
    vmlaunch
    jmp 2f
1:  vmresume
2:  pushfq
    pop %rax
    bts $63, %rax
    jmp 3f
l2_back:
    mov l2_saved_rsp(%rip), %rsp
    xor %eax, %eax
3:  pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

/* VMCS12 host RIP for the EPT12 check: L2 came back to L1 (it should not have). */
    .global l2_exit_landing
l2_exit_landing:
    and $-16, %rsp
    call l2_exited
6:  cli
    hlt
    jmp 6b

    .section .note.GNU-stack, "", @progbits
