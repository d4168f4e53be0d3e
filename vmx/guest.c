#include "vmx/guest.h"
#include "core/hw.h"
#include "core/libc.h"
#include "core/region.h"
#include <stdbool.h>
#include "vmx/vmcs_fields.h"
#include "vmx/vmx_hw.h"

#define CR0_PG   (1ULL << 31)
#define CR4_PSE  (1ULL << 4)
#define CR4_PAE  (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define PG_P     1ULL
#define PG_PS    (1ULL << 7)
#define ADDR52   0x000FFFFFFFFFF000ULL

int guest_read_phys(uint64_t gpa, void *buf, size_t n)
{
    uint8_t *out = buf;
    uint64_t hide_lo = region.base, hide_hi = region.base + region.size;
    if (gpa + n <= hide_lo || gpa >= hide_hi) {     /* the common case: one copy */
        const uint8_t *p = region_phys_map(gpa, n);
        if (!p)
            return -1;
        memcpy(out, p, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++, gpa++) {
        if (gpa >= hide_lo && gpa < hide_hi) {
            out[i] = 0;
            continue;
        }
        const uint8_t *p = region_phys_map(gpa, 1);
        if (!p)
            return -1;
        out[i] = *p;
    }
    return 0;
}

int guest_write_phys(uint64_t gpa, const void *buf, size_t n)
{
    if (gpa + n > region.base && gpa < region.base + region.size)
        return -1;
    const uint8_t *p = region_phys_map(gpa, n);
    if (!p)
        return -1;
    memcpy((void *)(uintptr_t)p, buf, n);
    return 0;
}

static int linear_io(uint64_t lin, void *buf, size_t n, bool write)
{
    uint8_t *b = buf;
    size_t done = 0;
    while (done < n) {
        uint64_t at = lin + done, gpa;
        size_t chunk = 0x1000 - (at & 0xFFF);
        if (chunk > n - done)
            chunk = n - done;
        if (guest_linear_to_phys(at, &gpa))
            return -1;
        int r = write ? guest_write_phys(gpa, b + done, chunk) : guest_read_phys(gpa, b + done, chunk);
        if (r)
            return -1;
        done += chunk;
    }
    return 0;
}

int guest_read_linear(uint64_t lin, void *buf, size_t n) { return linear_io(lin, buf, n, false); }
int guest_write_linear(uint64_t lin, const void *buf, size_t n) { return linear_io(lin, (void *)(uintptr_t)buf, n, true); }

struct walk_ctx {
    guest_phys_reader rd;
    void *ctx;
};

static int read_entry(const struct walk_ctx *w, uint64_t gpa, unsigned size, uint64_t *e)
{
    *e = 0;
    return w->rd(w->ctx, gpa, e, size);
}

static int l1_reader(void *ctx, uint64_t gpa, void *buf, size_t n)
{
    (void)ctx;
    return guest_read_phys(gpa, buf, n);
}

int guest_linear_to_phys(uint64_t lin, uint64_t *gpa)
{
    return guest_walk(lin, l1_reader, NULL, gpa);
}

int guest_walk(uint64_t lin, guest_phys_reader rd, void *rd_ctx, uint64_t *gpa)
{
    const struct walk_ctx wc = { rd, rd_ctx }, *w = &wc;
    uint64_t cr0 = vmcs_read(VMCS_GUEST_CR0), cr4 = vmcs_read(VMCS_GUEST_CR4);
    uint64_t cr3 = vmcs_read(VMCS_GUEST_CR3), efer = vmcs_read(VMCS_GUEST_EFER);
    uint64_t e;
    if (!(cr0 & CR0_PG)) {
        *gpa = lin & 0xFFFFFFFFULL;
        return 0;
    }
    if (!(cr4 & CR4_PAE)) {     /* 32-bit paging, 4 MiB pages with PSE */
        uint32_t l = (uint32_t)lin;
        if (read_entry(w, (cr3 & 0xFFFFF000ULL) + (l >> 22) * 4, 4, &e) || !(e & PG_P))
            return -1;
        if ((cr4 & CR4_PSE) && (e & PG_PS)) {
            *gpa = (e & 0xFFC00000ULL) | (l & 0x3FFFFF);
            return 0;
        }
        if (read_entry(w, (e & 0xFFFFF000ULL) + ((l >> 12) & 1023) * 4, 4, &e) || !(e & PG_P))
            return -1;
        *gpa = (e & 0xFFFFF000ULL) | (l & 0xFFF);
        return 0;
    }
    if ((efer & EFER_LMA) && (cr4 & CR4_LA57))
        return -1;              /* 5-level paging: not supported yet */
    int levels = (efer & EFER_LMA) ? 4 : 3;
    uint64_t table = levels == 4 ? cr3 & ADDR52 : cr3 & 0xFFFFFFE0ULL;
    for (int level = levels; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        unsigned idx = levels == 3 && level == 3 ? (lin >> 30) & 3 : (lin >> shift) & 511;
        if (read_entry(w, table + idx * 8, 8, &e) || !(e & PG_P))
            return -1;
        if (level == 1 || (level <= 3 && level != levels && (e & PG_PS))) {
            uint64_t page = 1ULL << shift;
            *gpa = (e & ADDR52 & ~(page - 1)) | (lin & (page - 1));
            return 0;
        }
        table = e & ADDR52;
    }
    return -1;
}

unsigned guest_code_bits(void)
{
    uint64_t ar = vmcs_read(VMCS_GUEST_CS_AR);
    if ((vmcs_read(VMCS_GUEST_EFER) & EFER_LMA) && (ar & (1u << 13)))
        return 64;
    if (!(vmcs_read(VMCS_GUEST_CR0) & 1))
        return 16;
    return (ar & (1u << 14)) ? 32 : 16;
}

size_t guest_fetch_code(uint8_t *buf, size_t n)
{
    return guest_fetch_code_via(l1_reader, NULL, buf, n);
}

size_t guest_fetch_code_via(guest_phys_reader rd, void *ctx, uint8_t *buf, size_t n)
{
    uint64_t lin = vmcs_read(VMCS_GUEST_RIP);
    if (guest_code_bits() != 64)
        lin = (vmcs_read(VMCS_GUEST_CS_BASE) + lin) & 0xFFFFFFFFULL;
    size_t got = 0;
    while (got < n) {
        /* One translation per page: instructions rarely cross one. */
        uint64_t gpa, at = lin + got;
        size_t chunk = 0x1000 - (at & 0xFFF);
        if (chunk > n - got)
            chunk = n - got;
        if (guest_walk(at, rd, ctx, &gpa) || rd(ctx, gpa, buf + got, chunk))
            break;
        got += chunk;
    }
    return got;
}
