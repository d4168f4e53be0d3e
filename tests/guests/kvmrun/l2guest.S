/*
 * The L2 test guest kvmrun runs: 16-bit real mode at 0x1000. It prints its
 * message on COM1, writes it (white on blue) at the top of the VGA text
 * screen, reads the i8042 status and data ports, and halts. With forced
 * passthrough none of this reaches L1 (kvmrun); without it, all of it does.
 */
    .code16
    .text
    .global _start
_start:
    movw    $msg, %si
    movw    $0x3F8, %dx
1:  lodsb
    testb   %al, %al
    jz      2f
    outb    %al, %dx
    jmp     1b
2:  movw    $0xB800, %ax
    movw    %ax, %es
    xorw    %di, %di
    movw    $msg, %si
3:  lodsb
    cmpb    $'\n', %al
    je      4f
    movb    $0x1F, %ah
    stosw
    jmp     3b
4:  inb     $0x64, %al
    inb     $0x60, %al
    hlt
msg:
    .asciz  "hello from L2 SECRET-7731\n"
