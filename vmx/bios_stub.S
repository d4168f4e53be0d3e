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
    .section .rodata
    .code16
    .global bios_stub_start, bios_stub_end
    .global bios_stub_int15, bios_stub_vmcall, bios_stub_boot, bios_stub_orig
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
    cli
    xorw    %ax, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movw    $0x7C00, %sp
    int     $0x19
1:  hlt
    jmp     1b

    .balign 4
bios_stub_orig:
    .long   0           /* original INT 15h vector, offset:segment */
bios_stub_end:
