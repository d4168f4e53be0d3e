/* vmx/bios_int15.c: the cloud VM's memory map and the INT 15h memory services. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmx/bios.h"
#include <string.h>

#define KIB 1024ULL
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)
#define SMAP 0x534D4150u

#define HIDE_BASE 0x17e00000ULL
#define HIDE_SIZE (128 * MIB)

struct range { uint64_t base, len; uint32_t type; };

static void map_from(struct memmap *m, const struct range *r, size_t n)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++)
        assert_true(memmap_add(m, r[i].base, r[i].len, r[i].type));
    memmap_normalize(m);
}

/* Bochs with 512 MiB, as its BIOS reports it. */
static const struct range bochs[] = {
    { 0x0,        0x9f000,     MEM_USABLE },
    { 0x9f000,    0x1000,      MEM_RESERVED },
    { 0xe8000,    0x18000,     MEM_RESERVED },
    { 0x100000,   0x1fef0000,  MEM_USABLE },
    { 0x1fff0000, 0x10000,     MEM_ACPI },
    { 0xfffc0000, 0x40000,     MEM_RESERVED },
};

static void bochs_map(struct memmap *m) { map_from(m, bochs, sizeof(bochs) / sizeof(bochs[0])); }

static void expect_map(const struct memmap *m, const struct range *want, size_t n)
{
    if (m->n != n)
        fail_msg("map has %u entries, expected %zu", m->n, n);
    for (size_t i = 0; i < n; i++) {
        const struct memmap_entry *e = &m->e[i];
        if (e->base != want[i].base || e->len != want[i].len || e->type != want[i].type)
            fail_msg("entry %zu: 0x%llx+0x%llx type %u, expected 0x%llx+0x%llx type %u", i,
                     (unsigned long long)e->base, (unsigned long long)e->len, e->type,
                     (unsigned long long)want[i].base, (unsigned long long)want[i].len,
                     want[i].type);
    }
}

/* The cloud VM's view of Bochs: stub page at 0x9e000, region at 0x17e00000. */
static void bochs_cloud_map(struct memmap *out)
{
    struct memmap fw;
    bochs_map(&fw);
    bios_build_e820(&fw, bios_pick_stub_page(&fw), HIDE_BASE, HIDE_SIZE, out);
}

static const struct range bochs_cloud[] = {
    { 0x0,        0x9e000,     MEM_USABLE },
    { 0x9e000,    0x2000,      MEM_RESERVED },     /* stub page + EBDA */
    { 0xe8000,    0x18000,     MEM_RESERVED },
    { 0x100000,   0x17d00000,  MEM_USABLE },
    { 0x17e00000, 0x8000000,   MEM_RESERVED },     /* the hidden region */
    { 0x1fe00000, 0x1f0000,    MEM_USABLE },
    { 0x1fff0000, 0x10000,     MEM_ACPI },
    { 0xfffc0000, 0x40000,     MEM_RESERVED },
};
#define BOCHS_CLOUD_N (sizeof(bochs_cloud) / sizeof(bochs_cloud[0]))

/* ------------------------------------------------------- map building */

static void test_stub_page(void **state)
{
    (void)state;
    struct memmap m;
    bochs_map(&m);
    assert_int_equal(bios_pick_stub_page(&m), 0x9e000);

    /* QEMU/SeaBIOS: conventional memory ends mid-page at 0x9fc00. */
    static const struct range qemu[] = {
        { 0x0, 0x9fc00, MEM_USABLE }, { 0x9fc00, 0x400, MEM_RESERVED },
        { 0xf0000, 0x10000, MEM_RESERVED }, { 0x100000, 0x7ee0000, MEM_USABLE },
    };
    map_from(&m, qemu, 4);
    assert_int_equal(bios_pick_stub_page(&m), 0x9e000);

    /* Conventional memory running on into 0xA0000 and beyond: capped at 640 KiB. */
    static const struct range big[] = { { 0x0, 0x200000, MEM_USABLE } };
    map_from(&m, big, 1);
    assert_int_equal(bios_pick_stub_page(&m), 0x9f000);

    /* Small conventional memory (64 KiB). */
    static const struct range small[] = { { 0x0, 0x10000, MEM_USABLE },
                                          { 0x100000, 0x100000, MEM_USABLE } };
    map_from(&m, small, 2);
    assert_int_equal(bios_pick_stub_page(&m), 0xf000);

    /* The entry holding 0x500 must be usable. */
    static const struct range rsv[] = { { 0x0, 0xa0000, MEM_RESERVED },
                                        { 0x100000, 0x100000, MEM_USABLE } };
    map_from(&m, rsv, 2);
    assert_int_equal(bios_pick_stub_page(&m), 0);

    /* Nothing at 0x500 at all. */
    static const struct range none[] = { { 0x1000, 0x9e000, MEM_USABLE } };
    map_from(&m, none, 1);
    assert_int_equal(bios_pick_stub_page(&m), 0);

    /* Less than two pages: no page above the IVT/BDA page, so none (never 0 - 0x1000). */
    static const struct range tiny[] = { { 0x0, 0x1800, MEM_USABLE } };
    map_from(&m, tiny, 1);
    assert_int_equal(bios_pick_stub_page(&m), 0);
    static const struct range tinier[] = { { 0x0, 0x800, MEM_USABLE } };
    map_from(&m, tinier, 1);
    assert_int_equal(bios_pick_stub_page(&m), 0);
    static const struct range two[] = { { 0x0, 0x2000, MEM_USABLE } };
    map_from(&m, two, 1);
    assert_int_equal(bios_pick_stub_page(&m), 0x1000);
}

static void test_build_e820_bochs(void **state)
{
    (void)state;
    struct memmap out;
    bochs_cloud_map(&out);
    expect_map(&out, bochs_cloud, BOCHS_CLOUD_N);
    assert_false(out.truncated);
}

/* ------------------------------------------------------------- E820 */

static bool call(const struct memmap *m, struct bios_regs *r, uint8_t entry[24], unsigned *len)
{
    memset(entry, 0xEE, 24);
    *len = 99;
    return bios_int15(m, r, entry, len);
}

static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void test_e820_iterates_24_byte_entries(void **state)
{
    (void)state;
    struct memmap m;
    bochs_cloud_map(&m);
    uint8_t entry[24];
    unsigned len;
    struct bios_regs r = { .eax = 0xE820, .ebx = 0, .ecx = 24, .edx = SMAP };
    for (size_t i = 0; i < BOCHS_CLOUD_N; i++) {
        r.eax = 0xE820;
        r.ecx = 24;
        r.edx = SMAP;
        assert_true(call(&m, &r, entry, &len));
        assert_int_equal(r.eax, SMAP);
        assert_int_equal(r.ecx, 24);
        assert_int_equal(r.edx, SMAP);
        assert_int_equal(len, 24);
        assert_int_equal(get64(entry), bochs_cloud[i].base);
        assert_int_equal(get64(entry + 8), bochs_cloud[i].len);
        assert_int_equal(get32(entry + 16), bochs_cloud[i].type);
        assert_int_equal(get32(entry + 20), 1);       /* extended attributes: enabled */
        /* EBX: the next entry's index, 0 after the last one. */
        assert_int_equal(r.ebx, i + 1 < BOCHS_CLOUD_N ? i + 1 : 0);
    }
}

static void test_e820_20_byte_entries(void **state)
{
    (void)state;
    struct memmap m;
    bochs_cloud_map(&m);
    uint8_t entry[24];
    unsigned len;
    struct bios_regs r = { .eax = 0xE820, .ebx = 4, .ecx = 20, .edx = SMAP };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(len, 20);
    assert_int_equal(r.ecx, 20);
    assert_int_equal(r.eax, SMAP);
    assert_int_equal(r.ebx, 5);
    assert_int_equal(get64(entry), HIDE_BASE);
    assert_int_equal(get64(entry + 8), HIDE_SIZE);
    assert_int_equal(get32(entry + 16), MEM_RESERVED);
    assert_int_equal(get32(entry + 20), 0xEEEEEEEE);  /* beyond 20 bytes: untouched */

    /* 21..23 bytes offered: still 20; more than 24: 24. */
    for (uint32_t ecx = 21; ecx < 24; ecx++) {
        r = (struct bios_regs){ .eax = 0xE820, .ebx = 0, .ecx = ecx, .edx = SMAP };
        assert_true(call(&m, &r, entry, &len));
        assert_int_equal(len, 20);
        assert_int_equal(r.ecx, 20);
    }
    r = (struct bios_regs){ .eax = 0xE820, .ebx = 7, .ecx = 0x1000, .edx = SMAP };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(len, 24);
    assert_int_equal(r.ecx, 24);
    assert_int_equal(r.ebx, 0);
    assert_int_equal(get64(entry), 0xfffc0000);
}

static void expect_e820_error(const struct memmap *m, struct bios_regs r)
{
    uint8_t entry[24];
    unsigned len;
    assert_false(call(m, &r, entry, &len));
    assert_int_equal(len, 0);
}

static void test_e820_errors(void **state)
{
    (void)state;
    struct memmap m;
    bochs_cloud_map(&m);
    /* EDX is not 'SMAP' (byte-swapped, zero, almost). */
    expect_e820_error(&m, (struct bios_regs){ 0xE820, 0, 24, 0x50414D53 });
    expect_e820_error(&m, (struct bios_regs){ 0xE820, 0, 24, 0 });
    expect_e820_error(&m, (struct bios_regs){ 0xE820, 0, 24, SMAP + 1 });
    /* Buffer smaller than 20 bytes. */
    for (uint32_t ecx = 0; ecx < 20; ecx++)
        expect_e820_error(&m, (struct bios_regs){ 0xE820, 0, ecx, SMAP });
    /* Continuation value past the end. */
    expect_e820_error(&m, (struct bios_regs){ 0xE820, BOCHS_CLOUD_N, 24, SMAP });
    expect_e820_error(&m, (struct bios_regs){ 0xE820, 0x80000000u, 24, SMAP });
    expect_e820_error(&m, (struct bios_regs){ 0xE820, UINT32_MAX, 24, SMAP });
    /* An empty map has no entry 0. */
    struct memmap empty = { .n = 0 };
    expect_e820_error(&empty, (struct bios_regs){ 0xE820, 0, 24, SMAP });
}

/* ------------------------------------------------------ E801 and 88h */

static void test_e801_bochs(void **state)
{
    (void)state;
    struct memmap m;
    bochs_cloud_map(&m);
    uint8_t entry[24];
    unsigned len;
    struct bios_regs r = { .eax = 0xE801, .ebx = 0x1111, .ecx = 0x2222, .edx = 0x3333 };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(len, 0);
    assert_int_equal(r.eax, 15360);                 /* 1..16 MiB in KiB */
    assert_int_equal(r.ecx, 15360);
    /* 64 KiB blocks from 16 MiB up to the hidden region. */
    assert_int_equal(r.ebx, (HIDE_BASE - 16 * MIB) / (64 * KIB));
    assert_int_equal(r.ebx, 0x16e0);
    assert_int_equal(r.edx, r.ebx);
}

static void test_e801_hole_below_16m(void **state)
{
    (void)state;
    /* An ISA hole at 15-16 MiB: AX stops at the hole, and nothing is
     * contiguous from 16 MiB via 1 MiB, so BX is 0. */
    static const struct range holed[] = {
        { 0x0, 0x9f000, MEM_USABLE }, { 0x100000, 14 * MIB, MEM_USABLE },
        { 15 * MIB, MIB, MEM_RESERVED }, { 16 * MIB, 112 * MIB, MEM_USABLE },
    };
    struct memmap m;
    map_from(&m, holed, 4);
    uint8_t entry[24];
    unsigned len;
    struct bios_regs r = { .eax = 0xE801 };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(r.eax, 14 * 1024);
    assert_int_equal(r.ecx, 14 * 1024);
    assert_int_equal(r.ebx, 0);
    assert_int_equal(r.edx, 0);

    /* Only 8 MiB of RAM. */
    static const struct range small[] = { { 0x0, 0x9f000, MEM_USABLE },
                                          { 0x100000, 7 * MIB, MEM_USABLE } };
    map_from(&m, small, 2);
    r = (struct bios_regs){ .eax = 0xE801 };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(r.eax, 7 * 1024);
    assert_int_equal(r.ebx, 0);

    /* Nothing usable at 1 MiB. */
    static const struct range nothing[] = { { 0x0, 0x9f000, MEM_USABLE },
                                            { 0x200000, 64 * MIB, MEM_USABLE } };
    map_from(&m, nothing, 2);
    r = (struct bios_regs){ .eax = 0xE801 };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(r.eax, 0);
    assert_int_equal(r.ebx, 0);
}

static void test_e801_caps_at_4g(void **state)
{
    (void)state;
    static const struct range huge[] = { { 0x0, 0x9f000, MEM_USABLE },
                                         { 0x100000, 8 * GIB, MEM_USABLE } };
    struct memmap m;
    map_from(&m, huge, 2);
    uint8_t entry[24];
    unsigned len;
    struct bios_regs r = { .eax = 0xE801 };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(r.eax, 15360);
    assert_int_equal(r.ebx, 0xFF00);                /* (4 GiB - 16 MiB) / 64 KiB */
    assert_int_equal(r.edx, 0xFF00);

    /* Just at the cap: RAM up to exactly 4 GiB. */
    static const struct range exact[] = { { 0x0, 0x9f000, MEM_USABLE },
                                          { 0x100000, 4 * GIB - MIB, MEM_USABLE } };
    map_from(&m, exact, 2);
    r = (struct bios_regs){ .eax = 0xE801 };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(r.ebx, 0xFF00);
}

static void test_88h(void **state)
{
    (void)state;
    struct memmap m;
    uint8_t entry[24];
    unsigned len;
    bochs_cloud_map(&m);
    /* ~383 MiB above 1 MiB: capped at 0xFFFF KiB; EAX's upper half kept. */
    struct bios_regs r = { .eax = 0xABCD8800, .ebx = 1, .ecx = 2, .edx = 3 };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(r.eax, 0xABCDFFFF);
    assert_int_equal(r.ebx, 1);
    assert_int_equal(r.ecx, 2);
    assert_int_equal(r.edx, 3);
    assert_int_equal(len, 0);

    static const struct range small[] = { { 0x0, 0x9f000, MEM_USABLE },
                                          { 0x100000, 7 * MIB, MEM_USABLE } };
    map_from(&m, small, 2);
    r = (struct bios_regs){ .eax = 0x88FF };        /* AL is ignored */
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(r.eax, 7 * 1024);

    /* Just below and at the cap. */
    static const struct range below[] = { { 0x100000, 0xFFFE * KIB, MEM_USABLE } };
    map_from(&m, below, 1);
    r = (struct bios_regs){ .eax = 0x8800 };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(r.eax, 0xFFFE);
    static const struct range at[] = { { 0x100000, 0x10000 * KIB, MEM_USABLE } };
    map_from(&m, at, 1);
    r = (struct bios_regs){ .eax = 0x8800 };
    assert_true(call(&m, &r, entry, &len));
    assert_int_equal(r.eax, 0xFFFF);
}

static void test_unknown_functions(void **state)
{
    (void)state;
    struct memmap m;
    bochs_cloud_map(&m);
    static const uint32_t fns[] = { 0x0000, 0xE820 | 0x10000, 0xE881, 0xE802, 0xE800, 0x8700,
                                    0x8900, 0xC000, 0x2401, 0x5300, 0xEC00 };
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
        uint8_t entry[24];
        unsigned len;
        struct bios_regs r = { .eax = fns[i], .ebx = 0, .ecx = 24, .edx = SMAP };
        if (call(&m, &r, entry, &len))
            fail_msg("function 0x%x was answered", fns[i]);
        assert_int_equal(len, 0);
    }
}

/* ---------------------------------------------------- property test */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static uint64_t rnd_below(uint64_t n) { return rnd() % n; }

/* Type of the byte at `a`, 0 where the map says nothing. */
static uint32_t type_at(const struct memmap *m, uint64_t a)
{
    for (unsigned i = 0; i < m->n; i++)
        if (m->e[i].base <= a && a - m->e[i].base < m->e[i].len)
            return m->e[i].type;
    return 0;
}

static bool in(uint64_t a, uint64_t base, uint64_t len) { return a >= base && a - base < len; }

/*
 * A random firmware map: conventional memory from 0 (so there is a stub
 * page), then random entries of random types (some overlapping, some
 * unaligned), normalised as bootinfo does. `nent` entries in all.
 */
static void random_map(struct memmap *m, unsigned nent)
{
    static const uint32_t types[] = { MEM_USABLE, MEM_USABLE, MEM_USABLE, MEM_RESERVED,
                                      MEM_ACPI, MEM_NVS, MEM_BAD, 12 };
    memset(m, 0, sizeof(*m));
    memmap_add(m, 0, 0x10000 + rnd_below(0x90000), MEM_USABLE);
    uint64_t at = 0x100000;
    for (unsigned i = 1; i < nent; i++) {
        uint64_t gap = rnd_below(4) ? 0 : rnd_below(64 * MIB);
        uint64_t len = rnd_below(3) ? (1 + rnd_below(512)) * MIB : 1 + rnd_below(0x40000);
        if (rnd_below(8) == 0 && at > MIB)
            at -= rnd_below(at / 2);        /* overlap an earlier entry */
        at += gap;
        memmap_add(m, at, len, types[rnd_below(sizeof(types) / sizeof(types[0]))]);
        at += len;
    }
    memmap_normalize(m);
}

/* Checks one built map against the firmware map, byte-exactly, interval by interval. */
static void check_built(const struct memmap *fw, uint64_t stub, uint64_t hb, uint64_t hs,
                        const struct memmap *out, bool expect_all_kept, unsigned iter)
{
    /* Every edge of either map or of the hidden ranges bounds an interval of constant types. */
    uint64_t edges[4 * MEMMAP_MAX + 8];
    unsigned ne = 0;
    for (unsigned i = 0; i < fw->n; i++) {
        edges[ne++] = fw->e[i].base;
        edges[ne++] = fw->e[i].base + fw->e[i].len;
    }
    for (unsigned i = 0; i < out->n; i++) {
        edges[ne++] = out->e[i].base;
        edges[ne++] = out->e[i].base + out->e[i].len;
    }
    edges[ne++] = stub;
    edges[ne++] = stub + 0x1000;
    edges[ne++] = hb;
    edges[ne++] = hb + hs;
    for (unsigned k = 0; k < ne; k++) {
        uint64_t a = edges[k];
        uint32_t was = type_at(fw, a), now = type_at(out, a);
        if ((in(a, hb, hs) || in(a, stub, 0x1000)) && now == MEM_USABLE)
            fail_msg("iteration %u: hidden byte 0x%llx is usable", iter, (unsigned long long)a);
        if (in(a, hb, hs) || in(a, stub, 0x1000))
            continue;
        if (now == MEM_USABLE && was != MEM_USABLE)
            fail_msg("iteration %u: 0x%llx became usable (was type %u)", iter,
                     (unsigned long long)a, was);
        if (expect_all_kept && now != was)
            fail_msg("iteration %u: 0x%llx was type %u, now %u", iter,
                     (unsigned long long)a, was, now);
    }
    /* The built map is itself normalised: sorted, disjoint, no touching twins. */
    for (unsigned i = 1; i < out->n; i++) {
        const struct memmap_entry *p = &out->e[i - 1], *e = &out->e[i];
        assert_true(p->base + p->len <= e->base);
        assert_false(p->base + p->len == e->base && p->type == e->type);
    }
}

static void test_property_hidden_never_usable(void **state)
{
    (void)state;
    rng_state = 0x5EED0F1E820ULL;
    unsigned ncarved = 0;
    for (unsigned iter = 0; iter < 200; iter++) {
        struct memmap fw, out;
        random_map(&fw, 2 + (unsigned)rnd_below(40));
        uint64_t stub = bios_pick_stub_page(&fw);
        assert_true(stub >= 0x1000 && stub < 0xA0000);
        assert_int_equal(type_at(&fw, stub), MEM_USABLE);
        assert_int_equal(type_at(&fw, stub + 0xFFF), MEM_USABLE);

        /* Half the time where vsbypass would carve it, half anywhere (2 MiB aligned). */
        bool carved = false;
        uint64_t hs, hb;
        if (rnd_below(2)) {
            hs = (16 + rnd_below(113)) * 2 * MIB;           /* 32..256 MiB */
            carved = memmap_carve(&fw, hs, 2 * MIB, 4 * GIB, NULL, 0, &hb);
        }
        if (!carved) {
            hs = (16 + rnd_below(1009)) * 2 * MIB;          /* 32 MiB..2 GiB */
            hb = rnd_below(4096) * 2 * MIB;
        }
        bios_build_e820(&fw, stub, hb, hs, &out);
        assert_false(out.truncated);
        check_built(&fw, stub, hb, hs, &out, true, iter);
        ncarved += carved;
    }
    assert_true(ncarved > 50);      /* where vsbypass would put it, often enough */
}

/* A firmware map that fills the table: the reserved entries cannot be
 * appended, yet the hidden range and the stub page must not stay usable. */
static void test_full_firmware_map(void **state)
{
    (void)state;
    for (unsigned extra = 0; extra < 3; extra++) {
        struct memmap fw = { .n = 0 };
        memmap_add(&fw, 0, 0x9f000, MEM_USABLE);
        /* 1 MiB usable, 4 KiB reserved, alternating, up to the table's size. */
        for (uint64_t a = MIB; fw.n < MEMMAP_MAX - extra; a += MIB + 0x1000)
            memmap_add(&fw, a, fw.n % 2 ? MIB : 0x1000, fw.n % 2 ? MEM_USABLE : MEM_RESERVED);
        /* One big usable block at the end holds the hidden range. */
        fw.e[fw.n - 1] = (struct memmap_entry){ 0x40000000, 0x40000000, MEM_USABLE };
        memmap_normalize(&fw);
        assert_int_equal(fw.n, MEMMAP_MAX - extra);

        struct memmap out;
        uint64_t stub = bios_pick_stub_page(&fw);
        uint64_t hb = 0x60000000, hs = 128 * MIB;
        bios_build_e820(&fw, stub, hb, hs, &out);
        check_built(&fw, stub, hb, hs, &out, false, extra);
        for (uint64_t a = hb; a < hb + hs; a += 0x1000)
            assert_int_not_equal(type_at(&out, a), MEM_USABLE);
        for (uint64_t a = stub; a < stub + 0x1000; a += 0x100)
            assert_int_not_equal(type_at(&out, a), MEM_USABLE);
        /* And the rest of the block still reaches the guest where the table has room. */
        assert_int_equal(type_at(&out, 0x40000000), MEM_USABLE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stub_page),
        cmocka_unit_test(test_build_e820_bochs),
        cmocka_unit_test(test_e820_iterates_24_byte_entries),
        cmocka_unit_test(test_e820_20_byte_entries),
        cmocka_unit_test(test_e820_errors),
        cmocka_unit_test(test_e801_bochs),
        cmocka_unit_test(test_e801_hole_below_16m),
        cmocka_unit_test(test_e801_caps_at_4g),
        cmocka_unit_test(test_88h),
        cmocka_unit_test(test_unknown_functions),
        cmocka_unit_test(test_property_hidden_never_usable),
        cmocka_unit_test(test_full_firmware_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
