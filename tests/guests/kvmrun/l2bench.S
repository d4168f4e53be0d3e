/*
 * L2 benchmark guest for kvmrun (16-bit real mode at 0x1000): 200 CPUIDs,
 * then 200 bytes to COM1, each loop timed with RDTSC; the two tick counts
 * go out on port 0x500 and 0x504 (kvmrun logs them), then it halts.
 */
    .code16
    .text
    .global _start
_start:
    rdtsc
    movl    %eax, %edi
    movw    $200, %si
1:  xorl    %eax, %eax
    cpuid
    decw    %si
    jnz     1b
    rdtsc
    subl    %edi, %eax
    movw    $0x500, %dx
    outl    %eax, %dx
    rdtsc
    movl    %eax, %edi
    movw    $200, %si
    movw    $0x3F8, %dx
2:  movb    $'x', %al
    outb    %al, %dx
    decw    %si
    jnz     2b
    rdtsc
    subl    %edi, %eax
    movw    $0x504, %dx
    outl    %eax, %dx
    hlt
