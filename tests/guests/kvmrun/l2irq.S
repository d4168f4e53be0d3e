/*
 * L2 test guest for shadow-device interrupts (16-bit real mode at 0x1000).
 * It initialises the 8259 (vectors 0x08-0x0F, only IRQ 4 unmasked), points
 * vector 0x0C at its handler, enables the UART's transmit-holding-register
 * interrupt (which fires at once: the THR is empty) and waits with
 * interrupts on. The handler counts, reads IIR, turns the interrupt off
 * and sends a non-specific EOI. Then it reports on COM1 and halts. With
 * forced passthrough the interrupt comes from vsbypass's shadow UART and
 * the cloud VM (L1) never raised it.
 */
    .code16
    .text
    .global _start
_start:
    cli
    movw    $isr, 0x30              /* IVT[0x0C] = 0000:isr */
    movw    $0, 0x32
    movb    $0x11, %al              /* ICW1: edge, cascade, ICW4 */
    outb    %al, $0x20
    movb    $0x08, %al              /* ICW2: vectors 0x08-0x0F */
    outb    %al, $0x21
    movb    $0x04, %al              /* ICW3: slave on line 2 */
    outb    %al, $0x21
    movb    $0x01, %al              /* ICW4: 8086 mode */
    outb    %al, $0x21
    movb    $0xEF, %al              /* OCW1: only IRQ 4 */
    outb    %al, $0x21
    movw    $0x3FC, %dx             /* MCR: OUT2 gates the UART's IRQ line */
    movb    $0x08, %al
    outb    %al, %dx
    sti
    movw    $0x3F9, %dx             /* IER: THR empty -> IRQ 4 now */
    movb    $0x02, %al
    outb    %al, %dx
    movw    $0xFFFF, %cx
1:  cmpb    $0, count
    jne     2f
    loop    1b
2:  cli
    movb    count, %al
    addb    $'0', %al
    movb    %al, digit
    movw    $msg, %si
    movw    $0x3F8, %dx
3:  lodsb
    testb   %al, %al
    jz      4f
    outb    %al, %dx
    jmp     3b
4:  hlt

isr:
    pushw   %ax
    pushw   %dx
    incb    count
    movw    $0x3FA, %dx             /* IIR: reading it acknowledges THRE */
    inb     %dx, %al
    movw    $0x3F9, %dx             /* IER = 0: no more interrupts */
    xorb    %al, %al
    outb    %al, %dx
    movb    $0x20, %al              /* OCW2: non-specific EOI */
    outb    %al, $0x20
    popw    %dx
    popw    %ax
    iret

count:
    .byte   0
msg:
    .ascii  "L2: IRQ 4 from the shadow UART delivered "
digit:
    .ascii  "? time(s)\n"
    .byte   0
