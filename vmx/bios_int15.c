/* INT 15h memory-size services answered from the cloud VM's memory map. */
#include "vmx/bios.h"
#include "core/libc.h"

#define SMAP 0x534D4150u        /* "SMAP" */
#define MIB  0x100000ULL

/* Adds [base, end) less the `ncut` ranges of `cut`. */
static void add_outside(struct memmap *out, uint64_t base, uint64_t end, uint32_t type,
                        const struct mem_range *cut, unsigned ncut)
{
    if (base >= end)
        return;
    if (ncut == 0) {
        memmap_add(out, base, end - base, type);
        return;
    }
    uint64_t lo = cut->base, hi = cut->base + cut->len;
    if (hi <= base || lo >= end) {
        add_outside(out, base, end, type, cut + 1, ncut - 1);
        return;
    }
    add_outside(out, base, lo, type, cut + 1, ncut - 1);   /* below the cut, if any */
    add_outside(out, hi, end, type, cut + 1, ncut - 1);    /* above it, if any */
}

void bios_build_e820(const struct memmap *fw, uint64_t stub_pa, uint64_t hide_base,
                     uint64_t hide_size, struct memmap *out)
{
    /*
     * Cut the stub page and the hidden range out of every firmware entry
     * before adding them as reserved: when the table is full the reserved
     * entries (or pieces past them) are dropped, and a dropped range is one
     * the cloud VM is not told about, never one it is told is usable.
     */
    const struct mem_range cut[2] = { { stub_pa, 0x1000 }, { hide_base, hide_size } };
    out->n = 0;
    out->truncated = fw->truncated;
    for (unsigned i = 0; i < fw->n; i++)
        add_outside(out, fw->e[i].base, fw->e[i].base + fw->e[i].len, fw->e[i].type, cut, 2);
    memmap_add(out, stub_pa, 0x1000, MEM_RESERVED);
    memmap_add(out, hide_base, hide_size, MEM_RESERVED);
    memmap_normalize(out);
}

uint64_t bios_pick_stub_page(const struct memmap *fw)
{
    for (unsigned i = 0; i < fw->n; i++) {
        const struct memmap_entry *e = &fw->e[i];
        if (e->type == MEM_USABLE && e->base <= 0x500 && e->base + e->len > 0x500) {
            uint64_t end = e->base + e->len;
            if (end > 0xA0000)
                end = 0xA0000;
            if (end < 0x2000)
                return 0;       /* no whole page above page 0 (IVT, BDA) */
            return (end & ~0xFFFULL) - 0x1000;
        }
    }
    return 0;
}

static bool e820(const struct memmap *m, struct bios_regs *r, uint8_t entry[24], unsigned *len)
{
    if (r->edx != SMAP || r->ecx < 20 || r->ebx >= m->n)
        return false;
    const struct memmap_entry *e = &m->e[r->ebx];
    memcpy(entry, &e->base, 8);
    memcpy(entry + 8, &e->len, 8);
    memcpy(entry + 16, &e->type, 4);
    *len = 20;
    if (r->ecx >= 24) {     /* ACPI 3.0 extended attributes: bit 0 = enabled */
        uint32_t attr = 1;
        memcpy(entry + 20, &attr, 4);
        *len = 24;
    }
    r->eax = SMAP;
    r->ecx = *len;
    r->ebx = r->ebx + 1 < m->n ? r->ebx + 1 : 0;
    return true;
}

bool bios_int15(const struct memmap *m, struct bios_regs *r, uint8_t entry[24],
                unsigned *entry_len)
{
    *entry_len = 0;
    if (r->eax == 0xE820)
        return e820(m, r, entry, entry_len);
    if ((r->eax & 0xFFFF) == 0xE801) {
        /* KiB between 1 and 16 MiB, then 64 KiB blocks from 16 MiB, both contiguous. */
        uint64_t low = memmap_usable_from(m, MIB);
        uint64_t kb = (low < 15 * MIB ? low : 15 * MIB) >> 10;
        uint64_t high = low >= 15 * MIB ? memmap_usable_from(m, 16 * MIB) : 0;
        if (16 * MIB + high > (1ULL << 32))
            high = (1ULL << 32) - 16 * MIB;
        r->eax = r->ecx = (uint32_t)kb;
        r->ebx = r->edx = (uint32_t)(high >> 16);
        return true;
    }
    if ((r->eax & 0xFF00) == 0x8800) {
        uint64_t kb = memmap_usable_from(m, MIB) >> 10;
        r->eax = (r->eax & 0xFFFF0000u) | (uint32_t)(kb < 0xFFFF ? kb : 0xFFFF);
        return true;
    }
    return false;
}
