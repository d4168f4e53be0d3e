/* Installing the firmware hooks in the cloud VM and serving the VMCALL. */
#include "vmx/bios.h"
#include "core/libc.h"
#include "core/log.h"
#include "vmx/vmx_hw.h"

extern const char bios_stub_start[], bios_stub_end[], bios_stub_int15[], bios_stub_vmcall[],
    bios_stub_boot[], bios_stub_orig[], bios_stub_boot_disk[], bios_stub_disk_fail[],
    bios_stub_drive[];

#define IVT_INT15    (0x15 * 4)
#define BDA_BASEMEM  0x413          /* conventional memory size, KiB */
#define FLAGS_CF     1u

static uint64_t stub_off(const char *sym) { return (uint64_t)(sym - bios_stub_start); }

void bios_install(struct bios_view *bv, const struct memmap *fw, uint64_t hide_base,
                  uint64_t hide_size)
{
    uint64_t page = bios_pick_stub_page(fw);
    if (!page)
        panic("bios: no conventional memory below 640 KiB for the INT 15h hook");
    bv->stub_pa = page;
    bios_build_e820(fw, page, hide_base, hide_size, &bv->e820);

    uint8_t *dst = (uint8_t *)(uintptr_t)page;
    memcpy(dst, bios_stub_start, (size_t)(bios_stub_end - bios_stub_start));
    volatile uint32_t *ivt15 = (volatile uint32_t *)(uintptr_t)IVT_INT15;
    memcpy(dst + stub_off(bios_stub_orig), (const void *)(uintptr_t)IVT_INT15, 4);
    *ivt15 = (uint32_t)(page >> 4) << 16 | (uint32_t)stub_off(bios_stub_int15);
    *(volatile uint16_t *)(uintptr_t)BDA_BASEMEM = (uint16_t)(page >> 10);
    *(volatile uint32_t *)(uintptr_t)BIOS_MARKER_PA = BIOS_MARKER_MAGIC;
    kprintf("bios: INT 15h hooked at %04llx:%04llx (was %08x), base memory %llu KiB, "
            "GRUB marker at 0x%x\n", (unsigned long long)(page >> 4),
            (unsigned long long)stub_off(bios_stub_int15),
            *(const uint32_t *)(const void *)(dst + stub_off(bios_stub_orig)),
            (unsigned long long)(page >> 10), BIOS_MARKER_PA);
    for (unsigned i = 0; i < bv->e820.n; i++)
        kprintf("bios: cloud e820 0x%016llx-0x%016llx %s\n",
                (unsigned long long)bv->e820.e[i].base,
                (unsigned long long)(bv->e820.e[i].base + bv->e820.e[i].len - 1),
                memmap_type_name(bv->e820.e[i].type));
}

uint16_t bios_boot_cs(const struct bios_view *bv) { return (uint16_t)(bv->stub_pa >> 4); }

uint16_t bios_boot_ip(const struct bios_view *bv, int drive)
{
    if (drive < 0)
        return (uint16_t)stub_off(bios_stub_boot);
    *(volatile uint8_t *)(uintptr_t)(bv->stub_pa + stub_off(bios_stub_drive)) = (uint8_t)drive;
    return (uint16_t)stub_off(bios_stub_boot_disk);
}

bool bios_vmcall(const struct bios_view *bv, struct vcpu *v, bool *boot_failed)
{
    uint64_t cr0 = vmcs_read(VMCS_GUEST_CR0);
    uint64_t rip = vmcs_read(VMCS_GUEST_RIP);
    uint64_t cs_base = vmcs_read(VMCS_GUEST_CS_BASE);
    *boot_failed = false;
    if ((cr0 & 1) || cs_base != bv->stub_pa)
        return false;
    if (rip == stub_off(bios_stub_disk_fail)) {
        *boot_failed = true;
        return true;
    }
    if (rip != stub_off(bios_stub_vmcall))
        return false;

    struct bios_regs r = { (uint32_t)v->regs.rax, (uint32_t)v->regs.rbx,
                           (uint32_t)v->regs.rcx, (uint32_t)v->regs.rdx };
    uint8_t entry[24];
    unsigned len;
    bool ok = bios_int15(&bv->e820, &r, entry, &len);
    if (ok && len) {
        uint64_t buf = vmcs_read(VMCS_GUEST_ES_BASE) + (v->regs.rdi & 0xFFFF);
        if (buf + len > 0x100000) {     /* real mode cannot reach past 1 MiB + 64 KiB */
            ok = false;
        } else {
            memcpy((void *)(uintptr_t)buf, entry, len);
        }
    }
    if (ok) {
        v->regs.rax = (v->regs.rax & ~0xFFFFFFFFULL) | r.eax;
        v->regs.rbx = (v->regs.rbx & ~0xFFFFFFFFULL) | r.ebx;
        v->regs.rcx = (v->regs.rcx & ~0xFFFFFFFFULL) | r.ecx;
        v->regs.rdx = (v->regs.rdx & ~0xFFFFFFFFULL) | r.edx;
    }
    /* The caller's FLAGS image is on its stack under IP and CS: set CF there. */
    uint64_t flags_at = vmcs_read(VMCS_GUEST_SS_BASE) + ((vmcs_read(VMCS_GUEST_RSP) + 4) & 0xFFFF);
    if (flags_at + 2 > 0x110000) {
        /* Big-real-mode stack bases could point anywhere, vsbypass included. */
        kprintf("bios: INT 15h caller's stack at 0x%llx is outside real-mode memory; "
                "result not returned\n", (unsigned long long)flags_at);
        vmcs_write(VMCS_GUEST_RIP, rip + vmcs_read(VMCS_EXIT_INSTR_LEN));
        return true;
    }
    volatile uint16_t *flags = (volatile uint16_t *)(uintptr_t)flags_at;
    *flags = ok ? (uint16_t)(*flags & ~FLAGS_CF) : (uint16_t)(*flags | FLAGS_CF);
    vmcs_write(VMCS_GUEST_RIP, rip + vmcs_read(VMCS_EXIT_INSTR_LEN));
    return true;
}
