/*
 * L2 test guest for VGA memory outside the backed windows (16-bit real
 * mode at 0x1000): it puts the shadow VGA into planar graphics (chain-4
 * and odd/even off, A0000-AFFFF mapped, as in modes 0Dh-12h), then checks
 * what only a VGA, not a plain page, does: writes through the map mask
 * land in separate planes, reads follow the read-map select, write mode 1
 * copies the latches a read loaded, and REP STOSB fills every enabled
 * plane. It reports on COM1: "L2: planar VGA ok", or the first failed
 * check's number. With forced passthrough every such access is served by
 * vsbypass's VGA model and none reaches the cloud VM (L1).
 */
    .code16
    .text
    .global _start
_start:
    cli
    movw    $0xA000, %ax
    movw    %ax, %es
    movw    $0x3C4, %dx
    movw    $0x0604, %ax            /* sequencer 4: chain-4 and odd/even off */
    outw    %ax, %dx
    movw    $0x3CE, %dx
    movw    $0x0506, %ax            /* GC 6: graphics, A0000-AFFFF */
    outw    %ax, %dx
    movw    $0x0005, %ax            /* GC 5: write mode 0, read mode 0 */
    outw    %ax, %dx
    movw    $0xFF08, %ax            /* GC 8: bit mask all */
    outw    %ax, %dx
    movw    $0x0001, %ax            /* GC 1: no set/reset */
    outw    %ax, %dx
    movw    $0x0003, %ax            /* GC 3: no rotate, no ALU */
    outw    %ax, %dx

    movb    $1, %bl                 /* check 1: planes 0 and 1 keep their own bytes */
    call    mapmask1
    movb    $0xAA, %es:0
    movw    $0x3C4, %dx
    movw    $0x0202, %ax            /* map mask: plane 1 */
    outw    %ax, %dx
    movb    $0x55, %es:0
    movb    $0, %ah
    call    readmap
    movb    %es:0, %al
    cmpb    $0xAA, %al
    jne     fail
    movb    $2, %bl                 /* check 2: read map 1 */
    movb    $1, %ah
    call    readmap
    movb    %es:0, %al
    cmpb    $0x55, %al
    jne     fail

    movb    $3, %bl                 /* check 3: write mode 1 copies the latches */
    movb    %es:0, %al              /* loads all four latches */
    movw    $0x3CE, %dx
    movw    $0x0105, %ax            /* write mode 1 */
    outw    %ax, %dx
    movw    $0x3C4, %dx
    movw    $0x0F02, %ax            /* map mask: all planes */
    outw    %ax, %dx
    movb    %al, %es:1              /* the value written does not matter */
    movw    $0x3CE, %dx
    movw    $0x0005, %ax            /* write mode 0 again */
    outw    %ax, %dx
    movb    $0, %ah
    call    readmap
    movb    %es:1, %al
    cmpb    $0xAA, %al
    jne     fail
    movb    $4, %bl
    movb    $1, %ah
    call    readmap
    movb    %es:1, %al
    cmpb    $0x55, %al
    jne     fail

    movb    $5, %bl                 /* check 5: REP STOSB fills every enabled plane */
    movw    $0x100, %di
    movw    $16, %cx
    movb    $0x0F, %al
    cld
    rep stosb
    cmpw    $0x110, %di
    jne     fail
    movb    $3, %ah
    call    readmap
    movb    %es:0x10F, %al
    cmpb    $0x0F, %al
    jne     fail
    movb    $6, %bl
    movb    %es:0x110, %al          /* one past the fill: untouched */
    cmpb    $0x0F, %al
    je      fail

    movw    $ok, %si
    jmp     print
fail:
    addb    $'0', %bl
    movb    %bl, failnum
    movw    $bad, %si
print:
    movw    $0x3F8, %dx
1:  lodsb
    testb   %al, %al
    jz      2f
    outb    %al, %dx
    jmp     1b
2:  hlt
    jmp     2b

mapmask1:
    movw    $0x3C4, %dx
    movw    $0x0102, %ax            /* map mask: plane 0 */
    outw    %ax, %dx
    ret
readmap:                            /* GC 4 = AH: read map select */
    movw    $0x3CE, %dx
    movb    $0x04, %al
    outw    %ax, %dx
    ret

ok:
    .ascii  "L2: planar VGA ok\n"
    .byte   0
bad:
    .ascii  "L2: planar VGA check "
failnum:
    .ascii  "? FAILED\n"
    .byte   0
