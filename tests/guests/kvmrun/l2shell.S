/*
 * The demo user VM (L2): a line-editing shell on COM1 and on the VGA text
 * screen, with keyboard and serial input taken through interrupts. 16-bit
 * real mode at 0x1000, run by `kvmrun --serve` (which keeps re-entering
 * it after each HLT).
 *
 * Setup: the 8259 at vectors 0x08-0x0F with IRQ 1 (keyboard) and IRQ 4
 * (COM1) unmasked; the 16550 at 8N1 with FIFOs and its receive interrupt
 * (OUT2 gates the IRQ line); the screen cleared to grey on black. Both
 * handlers put characters into one 64-byte ring and send a non-specific
 * EOI; the main loop sleeps with `sti; hlt` while the ring is empty. With
 * forced passthrough every one of these devices is vsbypass's shadow
 * device and the interrupts come from vsbypass, not from L1.
 *
 * Before the banner it writes one line to COM1 with `rep outsb` (string
 * I/O, one exit per byte, served by vsbypass like any other COM1 access).
 *
 * Input: printable characters are echoed and kept (70 at most), Backspace
 * erases, Enter runs the line: `help`, `echo TEXT`, `clear`, `mode13` (a
 * 320x200x256 test picture written straight into video memory), anything
 * else is reported as unknown. Keys arrive as set-1 scan codes (the i8042
 * translates), US layout, Shift honoured.
 */
    .code16
    .text
    .global _start
_start:
    cli
    xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    $0x8000, %sp
    movw    $kbd_isr, 0x24          /* IVT[0x09] = 0000:kbd_isr (IRQ 1) */
    movw    $0, 0x26
    movw    $uart_isr, 0x30         /* IVT[0x0C] = 0000:uart_isr (IRQ 4) */
    movw    $0, 0x32
    movb    $0x11, %al              /* ICW1: edge, cascade, ICW4 */
    outb    %al, $0x20
    movb    $0x08, %al              /* ICW2: vectors 0x08-0x0F */
    outb    %al, $0x21
    movb    $0x04, %al              /* ICW3 */
    outb    %al, $0x21
    movb    $0x01, %al              /* ICW4: 8086 mode */
    outb    %al, $0x21
    movb    $0xED, %al              /* OCW1: IRQ 1 and IRQ 4 only */
    outb    %al, $0x21
    movw    $0x3FB, %dx             /* LCR: DLAB */
    movb    $0x80, %al
    outb    %al, %dx
    movw    $0x3F8, %dx             /* divisor 1: 115200 baud */
    movb    $0x01, %al
    outb    %al, %dx
    movw    $0x3F9, %dx
    xorb    %al, %al
    outb    %al, %dx
    movw    $0x3FB, %dx             /* LCR: 8N1 */
    movb    $0x03, %al
    outb    %al, %dx
    movw    $0x3FA, %dx             /* FCR: FIFOs on, both cleared */
    movb    $0x07, %al
    outb    %al, %dx
    movw    $0x3FC, %dx             /* MCR: DTR, RTS, OUT2 */
    movb    $0x0B, %al
    outb    %al, %dx
    movw    $0x3F9, %dx             /* IER: received data available */
    movb    $0x01, %al
    outb    %al, %dx
    call    cls
    movw    $stringline, %si        /* one line by string I/O (serial only) */
    movw    $stringline_end - stringline, %cx
    movw    $0x3F8, %dx
    cld
    rep outsb
    movw    $banner, %si
    call    puts
    call    prompt
    sti

main:
    cli
    movb    rhead, %al
    cmpb    rtail, %al
    jne     1f
    sti                             /* the interrupt shadow covers the hlt */
    hlt
    jmp     main
1:  movzbw  %al, %bx
    movb    ring(%bx), %cl
    incb    %al
    andb    $63, %al
    movb    %al, rhead
    sti
    movb    %cl, %al
    call    handle
    jmp     main

/* One input character in %al. */
handle:
    cmpb    $'\r', %al
    je      h_enter
    cmpb    $'\n', %al
    je      h_enter
    cmpb    $0x08, %al
    je      h_back
    cmpb    $0x7F, %al
    je      h_back
    cmpb    $0x20, %al
    jb      h_done
    cmpb    $0x7E, %al
    ja      h_done
    movzbw  len, %bx
    cmpw    $70, %bx
    jae     h_done
    movb    %al, line(%bx)
    incb    len
    call    putc
h_done:
    ret
h_back:
    cmpb    $0, len
    je      h_done
    decb    len
    movw    $erase, %si
    jmp     puts
h_enter:
    movw    $crlf, %si
    call    puts
    movzbw  len, %bx
    movb    $0, line(%bx)
    call    run
    movb    $0, len
    jmp     prompt

/* Runs the command in `line`. */
run:
    cmpb    $0, line
    je      2f
    movw    $line, %si
    movw    $w_help, %di
    call    streq
    jne     1f
    movw    $helptext, %si
    jmp     puts
1:  movw    $line, %si
    movw    $w_clear, %di
    call    streq
    jne     1f
    jmp     cls
1:  movw    $line, %si
    movw    $w_mode13, %di
    call    streq
    jne     1f
    jmp     mode13
1:  movw    $line, %si
    movw    $w_echo, %di
    call    prefix
    jne     1f
    call    puts                    /* %si: after "echo " */
    movw    $crlf, %si
    jmp     puts
1:  movw    $unknown, %si
    call    puts
    movw    $line, %si
    call    puts
    movw    $crlf, %si
    call    puts
2:  ret

/* Mode 13h (320x200, 256 colours) by its BIOS register values, written
 * through the (shadow) VGA ports, then a test picture written straight into
 * A000:0000: byte i = i mod 256, so every row repeats with period 256. The
 * shell keeps reading keys but stops drawing text. */
mode13:
    movw    $0x3C2, %dx             /* misc output */
    movb    $0x63, %al
    outb    %al, %dx
    movw    $0x3C4, %dx             /* sequencer: reset, 1..4, run */
    movw    $m13_seq, %si
    movb    $5, %cl
    call    out_indexed
    movw    $0x3D4, %dx             /* CRTC: unlock 0-7, then 0..24 */
    movw    $0x0E11, %ax
    outw    %ax, %dx
    movw    $m13_crtc, %si
    movb    $25, %cl
    call    out_indexed
    movw    $0x3CE, %dx             /* graphics controller 0..8 */
    movw    $m13_gc, %si
    movb    $9, %cl
    call    out_indexed
    movw    $0x3DA, %dx             /* attribute controller 0..20, then video on */
    inb     %dx, %al
    movw    $0x3C0, %dx
    movw    $m13_ar, %si
    xorb    %ah, %ah
1:  movb    %ah, %al
    outb    %al, %dx
    lodsb
    outb    %al, %dx
    incb    %ah
    cmpb    $21, %ah
    jb      1b
    movb    $0x20, %al
    outb    %al, %dx
    pushw   %es
    movw    $0xA000, %ax
    movw    %ax, %es
    xorw    %di, %di
    movw    $64000, %cx
    cld
1:  movw    %di, %ax
    stosb
    loop    1b
    popw    %es
    movb    $1, graphics
    ret

/* Registers 0 .. %cl-1 behind the index port %dx (data at %dx+1), values
 * from the table at %si. */
out_indexed:
    xorb    %ah, %ah
1:  movb    %ah, %al
    outb    %al, %dx
    incw    %dx
    lodsb
    outb    %al, %dx
    decw    %dx
    incb    %ah
    cmpb    %cl, %ah
    jb      1b
    ret

m13_seq:
    .byte   0x03, 0x01, 0x0F, 0x00, 0x0E
m13_crtc:
    .byte   0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00
    .byte   0x00, 0x00, 0x00, 0x9C, 0x0E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF
m13_gc:
    .byte   0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF
m13_ar:
    .byte   0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D
    .byte   0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00

/* ZF=1 if the strings at %si and %di are equal. */
streq:
    movb    (%si), %al
    cmpb    (%di), %al
    jne     1f
    testb   %al, %al
    jz      1f
    incw    %si
    incw    %di
    jmp     streq
1:  ret

/* ZF=1 if the string at %si starts with the one at %di; %si then points
 * past it. */
prefix:
    movb    (%di), %al
    testb   %al, %al
    jz      1f
    cmpb    (%si), %al
    jne     2f
    incw    %si
    incw    %di
    jmp     prefix
1:  cmpb    %al, %al                /* ZF=1 */
2:  ret

prompt:
    movw    $promptstr, %si
/* Writes the NUL-terminated string at %si. */
puts:
    lodsb
    testb   %al, %al
    jz      1f
    call    putc
    jmp     puts
1:  ret

/* One character to COM1 (when its THR is empty) and to the screen. */
putc:
    pushw   %ax
    pushw   %dx
    movb    %al, %ah
    movw    $0x3FD, %dx
1:  inb     %dx, %al
    testb   $0x20, %al
    jz      1b
    movw    $0x3F8, %dx
    movb    %ah, %al
    outb    %al, %dx
    call    vga_putc
    popw    %dx
    popw    %ax
    ret

vga_putc:
    cmpb    $0, graphics
    je      0f
    ret
0:  pushw   %ax
    pushw   %bx
    pushw   %cx
    pushw   %di
    pushw   %es
    movw    $0xB800, %bx
    movw    %bx, %es
    cmpb    $'\r', %al
    je      v_cr
    cmpb    $'\n', %al
    je      v_lf
    cmpb    $0x08, %al
    je      v_bs
    movb    %al, %cl
    movb    row, %al
    movb    $80, %bl
    mulb    %bl
    movzbw  col, %bx
    addw    %bx, %ax
    shlw    $1, %ax
    movw    %ax, %di
    movb    %cl, %es:(%di)
    movb    $0x07, %es:1(%di)
    incb    col
    cmpb    $80, col
    jb      v_done
    movb    $0, col
    jmp     v_lf
v_cr:
    movb    $0, col
    jmp     v_done
v_bs:
    cmpb    $0, col
    je      v_done
    decb    col
    jmp     v_done
v_lf:
    incb    row
    cmpb    $25, row
    jb      v_done
    call    scroll
    movb    $24, row
v_done:
    call    cursor
    popw    %es
    popw    %di
    popw    %cx
    popw    %bx
    popw    %ax
    ret

/* Moves rows 1-24 up one and blanks row 24 (ES = 0xB800). */
scroll:
    pushw   %ds
    pushw   %si
    movw    %es, %ax
    movw    %ax, %ds
    xorw    %di, %di
    movw    $160, %si
    movw    $80 * 24, %cx
    cld
    rep movsw
    movw    $0x0720, %ax
    movw    $80, %cx
    rep stosw
    popw    %si
    popw    %ds
    ret

/* The CRTC cursor to (row, col). */
cursor:
    pushw   %ax
    pushw   %bx
    pushw   %dx
    movb    row, %al
    movb    $80, %bl
    mulb    %bl
    movzbw  col, %bx
    addw    %ax, %bx
    movw    $0x3D4, %dx
    movb    $0x0F, %al
    outb    %al, %dx
    incw    %dx
    movb    %bl, %al
    outb    %al, %dx
    decw    %dx
    movb    $0x0E, %al
    outb    %al, %dx
    incw    %dx
    movb    %bh, %al
    outb    %al, %dx
    popw    %dx
    popw    %bx
    popw    %ax
    ret

cls:
    pushw   %es
    movw    $0xB800, %ax
    movw    %ax, %es
    xorw    %di, %di
    movw    $0x0720, %ax
    movw    $80 * 25, %cx
    cld
    rep stosw
    popw    %es
    movb    $0, row
    movb    $0, col
    jmp     cursor

/* %al into the input ring (dropped when full). */
ring_put:
    pushw   %bx
    movzbw  rtail, %bx
    movb    %al, ring(%bx)
    incb    %bl
    andb    $63, %bl
    cmpb    rhead, %bl
    je      1f
    movb    %bl, rtail
1:  popw    %bx
    ret

kbd_isr:
    pushw   %ax
    pushw   %bx
    inb     $0x60, %al
    cmpb    $0x2A, %al              /* Shift pressed / released */
    je      k_shift_down
    cmpb    $0x36, %al
    je      k_shift_down
    cmpb    $0xAA, %al
    je      k_shift_up
    cmpb    $0xB6, %al
    je      k_shift_up
    cmpb    $0x3A, %al              /* releases, prefixes, keys not mapped */
    jae     k_eoi
    movzbw  %al, %bx
    movb    keys(%bx), %al
    cmpb    $0, shift
    je      1f
    movb    keys_shift(%bx), %al
1:  testb   %al, %al
    jz      k_eoi
    call    ring_put
    jmp     k_eoi
k_shift_down:
    movb    $1, shift
    jmp     k_eoi
k_shift_up:
    movb    $0, shift
k_eoi:
    movb    $0x20, %al
    outb    %al, $0x20
    popw    %bx
    popw    %ax
    iret

uart_isr:
    pushw   %ax
    pushw   %dx
1:  movw    $0x3FD, %dx             /* LSR: data ready? */
    inb     %dx, %al
    testb   $0x01, %al
    jz      2f
    movw    $0x3F8, %dx
    inb     %dx, %al
    call    ring_put
    jmp     1b
2:  movw    $0x3FA, %dx             /* IIR */
    inb     %dx, %al
    movb    $0x20, %al
    outb    %al, $0x20
    popw    %dx
    popw    %ax
    iret

/* Set-1 make codes 0x00-0x39 (US): unshifted and shifted characters. */
keys:
    .byte   0, 0
    .ascii  "1234567890-="
    .byte   0x08, 0
    .ascii  "qwertyuiop[]"
    .byte   '\r', 0
    .ascii  "asdfghjkl;'`"
    .byte   0
    .ascii  "\\zxcvbnm,./"
    .byte   0, '*', 0, ' '
keys_shift:
    .byte   0, 0
    .ascii  "!@#$%^&*()_+"
    .byte   0x08, 0
    .ascii  "QWERTYUIOP{}"
    .byte   '\r', 0
    .ascii  "ASDFGHJKL:\"~"
    .byte   0
    .ascii  "|ZXCVBNM<>?"
    .byte   0, '*', 0, ' '

stringline:
    .ascii  "L2: this line was written with rep outsb\r\n"
stringline_end:
banner:
    .asciz  "vsbypass demo L2 shell: serial and VGA, input by interrupts. Type help.\r\n"
promptstr:
    .asciz  "L2> "
helptext:
    .asciz  "commands: help, echo TEXT, clear, mode13\r\n"
unknown:
    .asciz  "unknown command: "
crlf:
    .asciz  "\r\n"
erase:
    .byte   0x08, ' ', 0x08, 0
w_help:
    .asciz  "help"
w_clear:
    .asciz  "clear"
w_echo:
    .asciz  "echo "
w_mode13:
    .asciz  "mode13"

rhead:  .byte 0
rtail:  .byte 0
shift:  .byte 0
len:    .byte 0
row:    .byte 0
col:    .byte 0
graphics: .byte 0
ring:   .space 64
line:   .space 80
