/*
 * L2 test guest for shadow-device interrupts routed through an IOAPIC, as
 * Linux routes ISA IRQs once it runs (16-bit entry at 0x1000, then flat
 * 32-bit protected mode without paging). It masks both 8259s, enables its
 * local APIC, points IOAPIC redirection entry 4 at vector 0x34, enables the
 * UART's transmit-holding-register interrupt (which fires at once) and
 * waits with interrupts on. The handler counts, reads IIR, turns the
 * interrupt off and writes the local APIC's EOI register. Then it reports
 * on COM1 and halts. With forced passthrough vsbypass reads the vector
 * from the IOAPIC writes on their way to L1, injects it, and keeps the EOI
 * from L1: kvmrun (L1) sees the IOAPIC and APIC setup writes, no EOI.
 */
    .equ    LAPIC, 0xFEE00000
    .equ    IOAPIC, 0xFEC00000
    .equ    VECTOR, 0x34

    .code16
    .text
    .global _start
_start:
    cli
    lgdtl   gdt_ptr
    movl    %cr0, %eax
    orl     $1, %eax
    movl    %eax, %cr0
    ljmpl   $0x08, $pm

    .code32
pm:
    movw    $0x10, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movl    $0x9000, %esp
    movl    $isr, %eax              /* IDT[VECTOR]: 32-bit interrupt gate */
    movw    %ax, idt + 8 * VECTOR
    movw    $0x08, idt + 8 * VECTOR + 2
    movw    $0x8E00, idt + 8 * VECTOR + 4
    shrl    $16, %eax
    movw    %ax, idt + 8 * VECTOR + 6
    lidtl   idt_ptr
    movb    $0xFF, %al              /* both 8259s fully masked */
    outb    %al, $0x21
    outb    %al, $0xA1
    movl    $0x1FF, LAPIC + 0xF0    /* SVR: APIC enabled, spurious 0xFF */
    movl    $0x18, IOAPIC           /* IOREGSEL: redirection entry 4, low */
    movl    $VECTOR, IOAPIC + 0x10  /* fixed, edge, active high, unmasked */
    movl    $0x19, IOAPIC           /* high: destination APIC 0 */
    movl    $0, IOAPIC + 0x10
    movw    $0x3FC, %dx             /* MCR: OUT2 gates the UART's IRQ line */
    movb    $0x08, %al
    outb    %al, %dx
    sti
    movw    $0x3F9, %dx             /* IER: THR empty -> IRQ 4 now */
    movb    $0x02, %al
    outb    %al, %dx
    movl    $0x100000, %ecx
1:  cmpb    $0, count
    jne     2f
    loop    1b
2:  cli
    movb    count, %al
    addb    $'0', %al
    movb    %al, digit
    movl    $msg, %esi
    movw    $0x3F8, %dx
3:  lodsb
    testb   %al, %al
    jz      4f
    outb    %al, %dx
    jmp     3b
4:  hlt
    jmp     4b

isr:
    pushl   %eax
    pushl   %edx
    incb    count
    movw    $0x3FA, %dx             /* IIR: reading it acknowledges THRE */
    inb     %dx, %al
    movw    $0x3F9, %dx             /* IER = 0: no more interrupts */
    xorb    %al, %al
    outb    %al, %dx
    movl    $0, LAPIC + 0xB0        /* EOI */
    popl    %edx
    popl    %eax
    iret

    .align 8
gdt:
    .quad   0
    .quad   0x00CF9A000000FFFF      /* 0x08: flat 32-bit code */
    .quad   0x00CF92000000FFFF      /* 0x10: flat data */
gdt_ptr:
    .word   gdt_ptr - gdt - 1
    .long   gdt
idt_ptr:
    .word   8 * 256 - 1
    .long   idt
count:
    .byte   0
msg:
    .ascii  "L2: IOAPIC vector 0x34 from the shadow UART delivered "
digit:
    .ascii  "? time(s)\n"
    .byte   0
    .align 8
idt:
    .fill   256, 8, 0
