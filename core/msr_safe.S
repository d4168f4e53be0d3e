/*
 * RDMSR and WRMSR that report a #GP instead of taking vsbypass down, for
 * MSR accesses done on the cloud VM's behalf (nested VMX MSR lists): the
 * exception handler (core/cpu.c) resumes a fault at msr_read_insn or
 * msr_write_insn at msr_fault_resume, which returns -1.
 */
    .text
    .global msr_write_safe, msr_read_safe, msr_write_insn, msr_read_insn, msr_fault_resume

/* int msr_write_safe(uint32_t msr, uint64_t value) */
msr_write_safe:
    mov %edi, %ecx
    mov %esi, %eax
    mov %rsi, %rdx
    shr $32, %rdx
msr_write_insn:
    wrmsr
    xor %eax, %eax
    ret

/* int msr_read_safe(uint32_t msr, uint64_t *value) */
msr_read_safe:
    mov %edi, %ecx
msr_read_insn:
    rdmsr
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, (%rsi)
    xor %eax, %eax
    ret

msr_fault_resume:
    mov $-1, %eax
    ret
