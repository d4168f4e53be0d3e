/* core/acpi.c: RSDP search and MADT parsing over tables built in fake memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/acpi.h"
#include <string.h>

/* "Physical memory" [0, 2 MiB): BIOS areas below 1 MiB, tables above. */
#define MEM_SIZE 0x200000
static _Alignas(4096) uint8_t mem[MEM_SIZE];

#define RSDT_PA 0x100000
#define XSDT_PA 0x101000
#define FACP_PA 0x102000
#define MADT_PA 0x103000

static const void *fake_map(uint64_t pa, size_t len)
{
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
        return NULL;
    return mem + pa;
}

static int setup(void **state)
{
    (void)state;
    memset(mem, 0, sizeof(mem));
    return 0;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s += *p++;
    return s;
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* RSDP of `rev` (0: 20 bytes, 2: 36 bytes), checksums right. */
static void make_rsdp(uint8_t r[36], unsigned rev, uint32_t rsdt, uint64_t xsdt)
{
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "VSBTST", 6);
    r[15] = (uint8_t)rev;
    put32(r + 16, rsdt);
    r[8] = (uint8_t)-sum8(r, 20);
    if (rev >= 2) {
        put32(r + 20, 36);
        put64(r + 24, xsdt);
        r[32] = (uint8_t)-sum8(r, 36);
    }
}

/* A system description table at `pa`: header, `body`, valid checksum. */
static void put_table(uint64_t pa, const char sig[4], const void *body, uint32_t body_len)
{
    uint8_t *t = mem + pa;
    uint32_t len = 36 + body_len;
    assert_true(pa + len <= MEM_SIZE);
    memset(t, 0, 36);
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = 1;
    memcpy(t + 10, "VSBTST", 6);
    memcpy(t + 36, body, body_len);
    t[9] = (uint8_t)-sum8(t, len);
}

static void put_rsdt(const uint32_t *tables, unsigned n)
{
    put_table(RSDT_PA, "RSDT", tables, n * 4);
}

static void put_xsdt(const uint64_t *tables, unsigned n)
{
    put_table(XSDT_PA, "XSDT", tables, n * 8);
}

struct madt {
    uint8_t b[2048];
    uint32_t len;
};

static void madt_begin(struct madt *m, uint32_t lapic_pa, uint32_t flags)
{
    put32(m->b, lapic_pa);
    put32(m->b + 4, flags);
    m->len = 8;
}

static uint8_t *madt_entry(struct madt *m, uint8_t type, uint8_t len)
{
    assert_true(m->len + len <= sizeof(m->b));
    uint8_t *e = m->b + m->len;
    memset(e, 0, len);
    e[0] = type;
    e[1] = len;
    m->len += len;
    return e;
}

static void madt_lapic(struct madt *m, uint8_t uid, uint8_t apic_id, uint32_t flags)
{
    uint8_t *e = madt_entry(m, 0, 8);
    e[2] = uid;
    e[3] = apic_id;
    put32(e + 4, flags);
}

static void madt_x2apic(struct madt *m, uint32_t apic_id, uint32_t flags, uint32_t uid)
{
    uint8_t *e = madt_entry(m, 9, 16);
    put32(e + 4, apic_id);
    put32(e + 8, flags);
    put32(e + 12, uid);
}

static void madt_ioapic(struct madt *m, uint8_t id, uint32_t pa, uint32_t gsi_base)
{
    uint8_t *e = madt_entry(m, 1, 12);
    e[2] = id;
    put32(e + 4, pa);
    put32(e + 8, gsi_base);
}

static void madt_override(struct madt *m, uint64_t pa)
{
    uint8_t *e = madt_entry(m, 5, 12);
    put64(e + 4, pa);
}

/* An RSDT with a FACP ahead of the MADT, so the walk has to skip one. */
static void put_rsdt_system(const struct madt *m, uint8_t rsdp[36])
{
    static const uint8_t facp_body[8];
    put_table(FACP_PA, "FACP", facp_body, sizeof(facp_body));
    put_table(MADT_PA, "APIC", m->b, m->len);
    const uint32_t tables[] = { FACP_PA, MADT_PA };
    put_rsdt(tables, 2);
    make_rsdp(rsdp, 0, RSDT_PA, 0);
}

/* ------------------------------------------------------------ MCFG */

#define MCFG_PA 0x104000

static void test_mcfg_ecam_pages(void **state)
{
    (void)state;
    uint8_t body[8 + 3 * 16] = { 0 };
    put64(body + 8, 0xE0000000);            /* segment 0, buses 0-63 */
    body[8 + 10] = 0;
    body[8 + 11] = 63;
    put64(body + 24, 0xF0000000);           /* segment 0, buses 64-127 */
    body[24 + 10] = 64;
    body[24 + 11] = 127;
    put64(body + 40, 0xE0000123);           /* misaligned: ignored */
    body[40 + 11] = 255;
    put_table(MCFG_PA, "MCFG", body, sizeof body);
    const uint32_t tables[] = { MCFG_PA };
    put_rsdt(tables, 1);
    uint8_t rsdp[36];
    make_rsdp(rsdp, 0, RSDT_PA, 0);
    struct acpi_mcfg_info m;
    assert_null(acpi_parse_mcfg(fake_map, rsdp, &m));
    assert_int_equal(m.n, 2);
    assert_int_equal(acpi_ecam_page(&m, 0x00 << 8 | 2 << 3 | 0), 0xE0010000);   /* 00:02.0 */
    assert_int_equal(acpi_ecam_page(&m, 0x01 << 8 | 31 << 3 | 7), 0xE01FF000); /* 01:1f.7 */
    assert_int_equal(acpi_ecam_page(&m, 0x41 << 8 | 0 << 3 | 1), 0xF0101000);  /* bus 65 */
    assert_int_equal(acpi_ecam_page(&m, 0x80 << 8), 0);                           /* no window */
}

static void test_mcfg_absent_or_bad(void **state)
{
    (void)state;
    static const uint8_t facp_body[8];
    put_table(FACP_PA, "FACP", facp_body, sizeof facp_body);
    const uint32_t tables[] = { FACP_PA };
    put_rsdt(tables, 1);
    uint8_t rsdp[36];
    make_rsdp(rsdp, 0, RSDT_PA, 0);
    struct acpi_mcfg_info m;
    assert_non_null(acpi_parse_mcfg(fake_map, rsdp, &m));
    assert_int_equal(m.n, 0);
    assert_int_equal(acpi_ecam_page(&m, 0x10), 0);
    uint8_t body[8 + 16] = { 0 };
    put64(body + 8, 0xE0000000);
    body[8 + 11] = 255;
    put_table(MCFG_PA, "MCFG", body, sizeof body);
    mem[MCFG_PA + 9]++;                       /* bad checksum */
    const uint32_t t2[] = { MCFG_PA };
    put_rsdt(t2, 1);
    make_rsdp(rsdp, 0, RSDT_PA, 0);
    assert_non_null(acpi_parse_mcfg(fake_map, rsdp, &m));
    assert_int_equal(m.n, 0);
}

/* ------------------------------------------------------------ RSDP */

static void test_find_rsdp_by_scanning_bios_area(void **state)
{
    (void)state;
    uint8_t want[36], got[36];
    /* A signature with a bad checksum comes first and must be passed over. */
    make_rsdp(want, 0, RSDT_PA, 0);
    memcpy(mem + 0xE1000, want, 20);
    mem[0xE1000 + 8] ^= 1;
    memcpy(mem + 0xF6A30, want, 20);
    assert_true(acpi_find_rsdp(fake_map, NULL, 0, got));
    assert_memory_equal(got, want, 20);

    /* A revision 2 RSDP with a bad extended checksum is refused as well. */
    memset(mem + 0xE0000, 0, 0x20000);
    make_rsdp(want, 2, RSDT_PA, XSDT_PA);
    memcpy(mem + 0xE2000, want, 36);
    mem[0xE2000 + 32] ^= 0xFF;
    memcpy(mem + 0xFFF00, want, 36);
    assert_true(acpi_find_rsdp(fake_map, NULL, 0, got));
    assert_memory_equal(got, want, 36);
}

static void test_find_rsdp_not_on_16_byte_boundary_or_absent(void **state)
{
    (void)state;
    uint8_t r[36], got[36];
    assert_false(acpi_find_rsdp(fake_map, NULL, 0, got));
    make_rsdp(r, 0, RSDT_PA, 0);
    memcpy(mem + 0xE0008, r, 20);
    assert_false(acpi_find_rsdp(fake_map, NULL, 0, got));
    /* Below 0xE0000 and outside the EBDA: not searched. */
    memcpy(mem + 0xD0000, r, 20);
    assert_false(acpi_find_rsdp(fake_map, NULL, 0, got));
}

static void test_find_rsdp_in_ebda_first(void **state)
{
    (void)state;
    uint8_t ebda[36], bios[36], got[36];
    const uint16_t seg = 0x9FC0;
    memcpy(mem + 0x40E, &seg, 2);
    make_rsdp(ebda, 0, 0x1111000, 0);
    make_rsdp(bios, 0, 0x2222000, 0);
    memcpy(mem + 0x9FC00 + 0x40, ebda, 20);
    memcpy(mem + 0xF0000, bios, 20);
    assert_true(acpi_find_rsdp(fake_map, NULL, 0, got));
    assert_memory_equal(got, ebda, 20);

    /* Past the first KiB of the EBDA is not searched: the BIOS area is. */
    memset(mem + 0x9FC00, 0, 0x400);
    memcpy(mem + 0x9FC00 + 0x400, ebda, 20);
    assert_true(acpi_find_rsdp(fake_map, NULL, 0, got));
    assert_memory_equal(got, bios, 20);
}

static void test_find_rsdp_hint(void **state)
{
    (void)state;
    uint8_t hint[36], bios[36], got[36];
    make_rsdp(bios, 0, 0x2222000, 0);
    memcpy(mem + 0xF0000, bios, 20);

    /* A revision 0 copy from the loader: 20 bytes, the rest zeroed. */
    make_rsdp(hint, 0, 0x3333000, 0);
    memset(got, 0xEE, sizeof(got));
    assert_true(acpi_find_rsdp(fake_map, hint, 20, got));
    assert_memory_equal(got, hint, 20);
    for (int i = 20; i < 36; i++)
        assert_int_equal(got[i], 0);

    make_rsdp(hint, 2, 0x3333000, 0x4444000);
    assert_true(acpi_find_rsdp(fake_map, hint, 36, got));
    assert_memory_equal(got, hint, 36);

    /* A revision 2 copy cut to 20 bytes, or a corrupt copy, falls back to memory. */
    assert_true(acpi_find_rsdp(fake_map, hint, 20, got));
    assert_memory_equal(got, bios, 20);
    hint[3] = 'X';
    assert_true(acpi_find_rsdp(fake_map, hint, 36, got));
    assert_memory_equal(got, bios, 20);
}

/* ------------------------------------------------------------ MADT */

static void test_madt_rsdt_cpus_ioapics(void **state)
{
    (void)state;
    struct madt m;
    uint8_t rsdp[36];
    madt_begin(&m, 0xFEE00000, 1);
    madt_lapic(&m, 0, 0, 1);                 /* enabled */
    madt_lapic(&m, 1, 2, 1);                 /* enabled */
    madt_lapic(&m, 2, 4, 0);                 /* disabled */
    madt_lapic(&m, 3, 6, 2);                 /* online-capable */
    madt_ioapic(&m, 8, 0xFEC00000, 0);
    madt_x2apic(&m, 2, 1, 1);                /* the same CPU again as x2APIC */
    madt_x2apic(&m, 0x100, 1, 0x40);         /* beyond xAPIC IDs */
    madt_x2apic(&m, 0x101, 0, 0x41);         /* disabled */
    madt_lapic(&m, 7, 0, 1);                 /* duplicate ID 0 */
    madt_ioapic(&m, 9, 0xFEC01000, 24);
    madt_entry(&m, 0x7F, 6);                 /* unknown type: skipped */
    put_rsdt_system(&m, rsdp);

    struct acpi_madt_info info;
    memset(&info, 0xCC, sizeof(info));
    assert_null(acpi_parse_madt(fake_map, rsdp, &info));
    assert_int_equal(info.lapic_pa, 0xFEE00000);
    assert_true(info.pcat_compat);
    assert_int_equal(info.ncpus, 4);
    assert_int_equal(info.ndisabled, 2);
    assert_false(info.cpus_truncated);
    static const struct acpi_cpu want[] = { { 0, 0 }, { 2, 1 }, { 6, 3 }, { 0x100, 0x40 } };
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(info.cpus[i].apic_id, want[i].apic_id);
        assert_int_equal(info.cpus[i].uid, want[i].uid);
    }
    assert_int_equal(info.nioapics, 2);
    assert_int_equal(info.ioapics[0].id, 8);
    assert_int_equal(info.ioapics[0].pa, 0xFEC00000);
    assert_int_equal(info.ioapics[0].gsi_base, 0);
    assert_int_equal(info.ioapics[1].id, 9);
    assert_int_equal(info.ioapics[1].pa, 0xFEC01000);
    assert_int_equal(info.ioapics[1].gsi_base, 24);
}

static void test_madt_xsdt_and_lapic_override(void **state)
{
    (void)state;
    struct madt m;
    uint8_t rsdp[36];
    madt_begin(&m, 0xFEE00000, 0);
    madt_lapic(&m, 0, 1, 1);
    madt_override(&m, 0x1FEE00000ULL);
    put_table(MADT_PA, "APIC", m.b, m.len);
    /* The RSDT points at garbage: with revision 2 only the XSDT counts. */
    const uint32_t bogus[] = { 0x1F0000 };
    put_rsdt(bogus, 1);
    const uint64_t tables[] = { MADT_PA };
    put_xsdt(tables, 1);
    make_rsdp(rsdp, 2, RSDT_PA, XSDT_PA);

    struct acpi_madt_info info;
    assert_null(acpi_parse_madt(fake_map, rsdp, &info));
    assert_int_equal(info.lapic_pa, 0x1FEE00000ULL);
    assert_false(info.pcat_compat);
    assert_int_equal(info.ncpus, 1);
    assert_int_equal(info.cpus[0].apic_id, 1);

    /* Revision 2 with a zero XSDT address falls back to the RSDT. */
    const uint32_t rsdt_tables[] = { MADT_PA };
    put_rsdt(rsdt_tables, 1);
    make_rsdp(rsdp, 2, RSDT_PA, 0);
    assert_null(acpi_parse_madt(fake_map, rsdp, &info));
    assert_int_equal(info.ncpus, 1);
}

static void test_madt_bad_checksum(void **state)
{
    (void)state;
    struct madt m;
    uint8_t rsdp[36];
    struct acpi_madt_info info;
    madt_begin(&m, 0xFEE00000, 1);
    madt_lapic(&m, 0, 0, 1);
    put_rsdt_system(&m, rsdp);
    mem[MADT_PA + 36 + 8 + 3] ^= 0x01;         /* APIC ID 0 -> 1 */
    assert_string_equal(acpi_parse_madt(fake_map, rsdp, &info),
                        "a table is truncated or has a bad checksum");

    /* A root table with a bad checksum is reported as such. */
    put_rsdt_system(&m, rsdp);
    mem[RSDT_PA + 36] ^= 0x10;
    assert_string_equal(acpi_parse_madt(fake_map, rsdp, &info),
                        "the RSDT/XSDT is unreadable or has a bad checksum");
    /* So is a root table of the wrong kind. */
    put_rsdt_system(&m, rsdp);
    make_rsdp(rsdp, 0, MADT_PA, 0);
    assert_string_equal(acpi_parse_madt(fake_map, rsdp, &info),
                        "the RSDT/XSDT is unreadable or has a bad checksum");
    /* And a table length running off the end of memory. */
    put_rsdt_system(&m, rsdp);
    put32(mem + MADT_PA + 4, 0x100000);
    assert_string_equal(acpi_parse_madt(fake_map, rsdp, &info),
                        "a table is truncated or has a bad checksum");
}

static void test_madt_missing(void **state)
{
    (void)state;
    static const uint8_t body[8];
    uint8_t rsdp[36];
    struct acpi_madt_info info;
    put_table(FACP_PA, "FACP", body, sizeof(body));
    const uint32_t tables[] = { FACP_PA, 0x7FFFFFF0 };     /* the second is unmapped */
    put_rsdt(tables, 2);
    make_rsdp(rsdp, 0, RSDT_PA, 0);
    assert_string_equal(acpi_parse_madt(fake_map, rsdp, &info), "no such table");
}

static void expect_madt_error(struct madt *m, const char *why)
{
    uint8_t rsdp[36];
    struct acpi_madt_info info;
    put_rsdt_system(m, rsdp);
    assert_string_equal(acpi_parse_madt(fake_map, rsdp, &info), why);
}

static void test_madt_malformed_entries(void **state)
{
    (void)state;
    struct madt m;
    madt_begin(&m, 0xFEE00000, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_entry(&m, 0x7F, 2)[1] = 0;                     /* length 0 */
    expect_madt_error(&m, "a MADT entry runs past the table");

    madt_begin(&m, 0xFEE00000, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_entry(&m, 0x7F, 4)[1] = 1;                     /* length 1 */
    expect_madt_error(&m, "a MADT entry runs past the table");

    madt_begin(&m, 0xFEE00000, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_entry(&m, 0, 8)[1] = 12;                       /* 4 bytes past the end */
    expect_madt_error(&m, "a MADT entry runs past the table");

    madt_begin(&m, 0xFEE00000, 1);
    madt_entry(&m, 0, 6);
    expect_madt_error(&m, "a MADT local APIC entry is too short");
    madt_begin(&m, 0xFEE00000, 1);
    madt_entry(&m, 9, 12);
    expect_madt_error(&m, "a MADT x2APIC entry is too short");
    madt_begin(&m, 0xFEE00000, 1);
    madt_entry(&m, 1, 8);
    expect_madt_error(&m, "a MADT I/O APIC entry is too short");
    madt_begin(&m, 0xFEE00000, 1);
    madt_entry(&m, 5, 10);
    expect_madt_error(&m, "a MADT local APIC override is too short");

    m.len = 4;      /* not even the local APIC address and flags */
    expect_madt_error(&m, "the MADT is too short");
}

static void test_madt_no_usable_cpu(void **state)
{
    (void)state;
    struct madt m;
    madt_begin(&m, 0xFEE00000, 1);
    madt_lapic(&m, 0, 0, 0);
    madt_x2apic(&m, 5, 0, 5);
    madt_ioapic(&m, 1, 0xFEC00000, 0);
    expect_madt_error(&m, "the MADT lists no usable CPU");
    madt_begin(&m, 0xFEE00000, 1);
    expect_madt_error(&m, "the MADT lists no usable CPU");
}

static void test_madt_limits(void **state)
{
    (void)state;
    struct madt m;
    uint8_t rsdp[36];
    madt_begin(&m, 0xFEE00000, 1);
    for (unsigned i = 0; i < MAX_CPUS + 3; i++)
        madt_x2apic(&m, i, 1, i);
    for (unsigned i = 0; i < ACPI_MAX_IOAPICS + 2; i++)
        madt_ioapic(&m, (uint8_t)i, 0xFEC00000 + i * 0x1000, i * 24);
    put_rsdt_system(&m, rsdp);
    struct acpi_madt_info info;
    assert_null(acpi_parse_madt(fake_map, rsdp, &info));
    assert_int_equal(info.ncpus, MAX_CPUS);
    assert_true(info.cpus_truncated);
    assert_int_equal(info.cpus[MAX_CPUS - 1].apic_id, MAX_CPUS - 1);
    assert_int_equal(info.nioapics, ACPI_MAX_IOAPICS);
    assert_int_equal(info.ioapics[ACPI_MAX_IOAPICS - 1].gsi_base, (ACPI_MAX_IOAPICS - 1) * 24);
}

static void test_found_rsdp_feeds_parser(void **state)
{
    (void)state;
    struct madt m;
    uint8_t rsdp[36], found[36];
    madt_begin(&m, 0xFEE00000, 1);
    madt_lapic(&m, 0, 0, 1);
    madt_lapic(&m, 1, 1, 1);
    put_rsdt_system(&m, rsdp);
    memcpy(mem + 0xF5B60, rsdp, 20);
    assert_true(acpi_find_rsdp(fake_map, NULL, 0, found));
    struct acpi_madt_info info;
    assert_null(acpi_parse_madt(fake_map, found, &info));
    assert_int_equal(info.ncpus, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, setup)
    const struct CMUnitTest tests[] = {
        T(test_find_rsdp_by_scanning_bios_area),
        T(test_find_rsdp_not_on_16_byte_boundary_or_absent),
        T(test_find_rsdp_in_ebda_first),
        T(test_find_rsdp_hint),
        T(test_madt_rsdt_cpus_ioapics),
        T(test_mcfg_ecam_pages),
        T(test_mcfg_absent_or_bad),
        T(test_madt_xsdt_and_lapic_override),
        T(test_madt_bad_checksum),
        T(test_madt_missing),
        T(test_madt_malformed_entries),
        T(test_madt_no_usable_cpu),
        T(test_madt_limits),
        T(test_found_rsdp_feeds_parser),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
