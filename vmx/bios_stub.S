/*
 * Real-mode code that vsbypass copies into a page it takes from the top of
 * the cloud VM's conventional memory (vmx/bios.c). Offsets are relative to
 * bios_stub_start, which sits at offset 0 of a segment (CS = page >> 4).
 *
 * int15: the INT 15h hook. Memory-size queries (E820, E801, 88h) trap to
 *        vsbypass with VMCALL, which answers without the hypervisor region;
 *        everything else goes to the firmware's original handler.
 * boot:  where the bootstrap CPU starts as a guest: re-run the BIOS boot.
 */
/* Flat real-mode data segments and the stack the BIOS boot path expects. */
.macro REAL_MODE_SEGMENTS
    cli
    xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    $0x7C00, %sp
.endm

    .section .rodata
    .code16
    .global bios_stub_start, bios_stub_end
    .global bios_stub_int15, bios_stub_vmcall, bios_stub_boot, bios_stub_orig
    .global bios_stub_boot_disk, bios_stub_disk_fail, bios_stub_drive
bios_stub_start:
bios_stub_int15:
    cmpl    $0xE820, %eax
    je      bios_stub_vmcall
    cmpw    $0xE801, %ax
    je      bios_stub_vmcall
    cmpb    $0x88, %ah
    je      bios_stub_vmcall
    ljmp    *%cs:(bios_stub_orig - bios_stub_start)
bios_stub_vmcall:
    vmcall
    iret

bios_stub_boot:
    REAL_MODE_SEGMENTS
    int     $0x19
1:  hlt
    jmp     1b

/*
 * boot_disk: load sector 0 of the drive in bios_stub_drive with INT 13h
 * AH=02h (three tries, resetting the drive between them), check the boot
 * signature, and jump to it with DL = drive, as the BIOS would. A failure
 * traps to vsbypass with VMCALL (AX = INT 13h status, or 0xAA55 when the
 * signature is missing), which stops the cloud VM with a message.
 */
bios_stub_boot_disk:
    REAL_MODE_SEGMENTS
    sti
    movw    $3, %si
2:  movw    $0x0201, %ax            /* read one sector */
    movw    $0x0001, %cx            /* cylinder 0, sector 1 */
    movb    %cs:(bios_stub_drive - bios_stub_start), %dl
    xorb    %dh, %dh                /* head 0 */
    movw    $0x7C00, %bx
    int     $0x13
    jnc     3f
    pushw   %ax
    xorb    %ah, %ah                /* reset the drive, then retry */
    int     $0x13
    popw    %ax
    decw    %si
    jnz     2b
    jmp     bios_stub_disk_fail
3:  movw    $0xAA55, %ax
    cmpw    %ax, 0x7DFE
    jne     bios_stub_disk_fail
    movb    %cs:(bios_stub_drive - bios_stub_start), %dl
    ljmp    $0, $0x7C00
bios_stub_disk_fail:
    vmcall
4:  hlt
    jmp     4b

bios_stub_drive:
    .byte   0x80
    .balign 4
bios_stub_orig:
    .long   0           /* original INT 15h vector, offset:segment */
bios_stub_end:
