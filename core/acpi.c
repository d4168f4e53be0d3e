/*
 * ACPI table walking (ACPI 6.x, sections "Root System Description Pointer",
 * "Multiple APIC Description Table"). Every table is bounds- and
 * checksum-checked before use: firmware tables are input, not truth.
 */
#include "core/acpi.h"
#include "core/libc.h"

struct __attribute__((packed)) acpi_sdt_header {
    char sig[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem_id[6], oem_table_id[8];
    uint32_t oem_revision, creator_id, creator_revision;
};
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "ACPI SDT header layout");

#define MADT_LAPIC          0
#define MADT_IOAPIC         1
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC         9
#define MADT_ENABLED        1u
#define MADT_ONLINE_CAPABLE 2u

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s += *p++;
    return s;
}

static bool rsdp_valid(const uint8_t *p, unsigned len)
{
    if (len < 20 || memcmp(p, "RSD PTR ", 8) || sum8(p, 20))
        return false;
    if (p[15] >= 2) {   /* revision 2+: extended checksum over `length` bytes */
        uint32_t xlen;
        memcpy(&xlen, p + 20, 4);
        if (len < 36 || xlen < 36 || sum8(p, 36))
            return false;
    }
    return true;
}

static bool scan(phys_map_fn map, uint64_t start, uint64_t len, uint8_t rsdp[36])
{
    for (uint64_t pa = start; pa + 20 <= start + len; pa += 16) {
        const uint8_t *p = map(pa, 36);
        if (p && rsdp_valid(p, 36)) {
            memcpy(rsdp, p, 36);
            return true;
        }
    }
    return false;
}

bool acpi_find_rsdp(phys_map_fn map, const uint8_t *hint, unsigned hint_len, uint8_t rsdp[36])
{
    if (hint && rsdp_valid(hint, hint_len)) {
        memset(rsdp, 0, 36);
        memcpy(rsdp, hint, hint_len < 36 ? hint_len : 36);
        return true;
    }
    const uint16_t *ebda_seg = map(0x40E, 2);
    if (ebda_seg && *ebda_seg && scan(map, (uint64_t)*ebda_seg << 4, 1024, rsdp))
        return true;
    return scan(map, 0xE0000, 0x20000, rsdp);
}

static const struct acpi_sdt_header *map_table(phys_map_fn map, uint64_t pa)
{
    const struct acpi_sdt_header *h = map(pa, sizeof(*h));
    if (!h || h->length < sizeof(*h) || h->length > 1024 * 1024)
        return NULL;
    const uint8_t *all = map(pa, h->length);
    if (!all || sum8(all, h->length))
        return NULL;
    return (const void *)all;
}

static const struct acpi_sdt_header *find_table(phys_map_fn map, const uint8_t rsdp[36],
                                                const char sig[4], const char **err)
{
    uint32_t rsdt;
    uint64_t xsdt = 0;
    memcpy(&rsdt, rsdp + 16, 4);
    if (rsdp[15] >= 2)
        memcpy(&xsdt, rsdp + 24, 8);
    uint64_t root_pa = xsdt ? xsdt : rsdt;
    unsigned width = xsdt ? 8 : 4;
    const struct acpi_sdt_header *root = map_table(map, root_pa);
    if (!root || memcmp(root->sig, xsdt ? "XSDT" : "RSDT", 4)) {
        *err = "the RSDT/XSDT is unreadable or has a bad checksum";
        return NULL;
    }
    const uint8_t *ent = (const uint8_t *)(root + 1);
    unsigned n = (root->length - sizeof(*root)) / width;
    for (unsigned i = 0; i < n; i++) {
        uint64_t pa = 0;
        memcpy(&pa, ent + i * width, width);
        const struct acpi_sdt_header *h = map(pa, sizeof(*h));
        if (h && !memcmp(h->sig, sig, 4)) {
            const struct acpi_sdt_header *t = map_table(map, pa);
            if (!t)
                *err = "a table is truncated or has a bad checksum";
            return t;
        }
    }
    *err = "no such table";
    return NULL;
}

static void add_cpu(struct acpi_madt_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags)
{
    if (!(flags & (MADT_ENABLED | MADT_ONLINE_CAPABLE))) {
        out->ndisabled++;
        return;
    }
    for (unsigned i = 0; i < out->ncpus; i++)
        if (out->cpus[i].apic_id == apic_id)
            return;     /* listed as both xAPIC and x2APIC */
    if (out->ncpus == MAX_CPUS) {
        out->cpus_truncated = true;
        return;
    }
    out->cpus[out->ncpus++] = (struct acpi_cpu){ apic_id, uid };
}

const char *acpi_parse_madt(phys_map_fn map, const uint8_t rsdp[36], struct acpi_madt_info *out)
{
    const char *err = NULL;
    memset(out, 0, sizeof(*out));
    const struct acpi_sdt_header *madt = find_table(map, rsdp, "APIC", &err);
    if (!madt)
        return err;
    const uint8_t *p = (const uint8_t *)(madt + 1);
    const uint8_t *end = (const uint8_t *)madt + madt->length;
    if (end - p < 8)
        return "the MADT is too short";
    uint32_t lapic32, flags;
    memcpy(&lapic32, p, 4);
    memcpy(&flags, p + 4, 4);
    out->lapic_pa = lapic32;
    out->pcat_compat = flags & 1;
    for (p += 8; p + 2 <= end;) {
        uint8_t type = p[0], len = p[1];
        if (len < 2 || p + len > end)
            return "a MADT entry runs past the table";
        uint32_t v32, f32;
        switch (type) {
        case MADT_LAPIC:
            if (len < 8)
                return "a MADT local APIC entry is too short";
            memcpy(&f32, p + 4, 4);
            add_cpu(out, p[3], p[2], f32);
            break;
        case MADT_X2APIC:
            if (len < 16)
                return "a MADT x2APIC entry is too short";
            memcpy(&v32, p + 4, 4);
            memcpy(&f32, p + 8, 4);
            uint32_t uid;
            memcpy(&uid, p + 12, 4);
            add_cpu(out, v32, uid, f32);
            break;
        case MADT_IOAPIC:
            if (len < 12)
                return "a MADT I/O APIC entry is too short";
            if (out->nioapics < ACPI_MAX_IOAPICS) {
                struct acpi_ioapic *io = &out->ioapics[out->nioapics++];
                io->id = p[2];
                memcpy(&io->pa, p + 4, 4);
                memcpy(&io->gsi_base, p + 8, 4);
            }
            break;
        case MADT_LAPIC_OVERRIDE:
            if (len < 12)
                return "a MADT local APIC override is too short";
            memcpy(&out->lapic_pa, p + 4, 8);
            break;
        default:
            break;
        }
        p += len;
    }
    if (out->ncpus == 0)
        return "the MADT lists no usable CPU";
    return NULL;
}

const char *acpi_parse_mcfg(phys_map_fn map, const uint8_t rsdp[36], struct acpi_mcfg_info *out)
{
    const char *err = NULL;
    memset(out, 0, sizeof(*out));
    const struct acpi_sdt_header *t = find_table(map, rsdp, "MCFG", &err);
    if (!t)
        return err;
    /* After the header: 8 reserved bytes, then 16-byte allocation entries. */
    if (t->length < sizeof(*t) + 8)
        return "the MCFG is shorter than its fixed part";
    const uint8_t *e = (const uint8_t *)(t + 1) + 8;
    unsigned n = (t->length - sizeof(*t) - 8) / 16;
    for (unsigned i = 0; i < n && out->n < ACPI_MAX_ECAM; i++, e += 16) {
        struct acpi_ecam x;
        memcpy(&x.base, e, 8);
        memcpy(&x.segment, e + 8, 2);
        x.start_bus = e[10];
        x.end_bus = e[11];
        if (x.base == 0 || x.end_bus < x.start_bus || (x.base & 0xFFFFF))
            continue;                       /* unusable entry: ignored */
        out->ecam[out->n++] = x;
    }
    return NULL;
}

uint64_t acpi_ecam_page(const struct acpi_mcfg_info *m, uint32_t bdf)
{
    unsigned bus = (bdf >> 8) & 0xFF;
    for (unsigned i = 0; i < m->n; i++) {
        const struct acpi_ecam *x = &m->ecam[i];
        if (x->segment == 0 && bus >= x->start_bus && bus <= x->end_bus)
            return x->base + ((uint64_t)(bus - x->start_bus) << 20) +
                   ((uint64_t)(bdf & 0xFF) << 12);
    }
    return 0;
}
