/* drivers/pci.c: enumeration, BAR decoding and probing, capabilities, on a fake bus. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "drivers/pci.h"
#include <string.h>

/* ------------------------------------------------------------ fake bus */

#define FAKE_FUNCS 16

struct fake_fn {
    uint32_t bdf;
    uint8_t cfg[256];
    uint32_t bar_rw[6];         /* writable bits of each BAR dword; the rest read as set */
    bool alias;                 /* single-function part answering on every function */
};

struct fake_bus {
    struct fake_fn fn[FAKE_FUNCS];
    unsigned n;
    unsigned writes;
    bool decoded_all_ones;      /* a BAR held all ones while decoding was on */
};

static struct fake_fn *fake_find(struct fake_bus *b, uint32_t bdf)
{
    for (unsigned i = 0; i < b->n; i++)
        if (b->fn[i].bdf == bdf || (b->fn[i].alias && b->fn[i].bdf == (bdf & ~7u)))
            return &b->fn[i];
    return NULL;
}

static uint32_t fake_read(void *ctx, uint32_t bdf, uint16_t off, unsigned size)
{
    assert_true(size == 1 || size == 2 || size == 4);
    assert_int_equal(off % size, 0);
    assert_true(off < 256);
    struct fake_fn *f = fake_find(ctx, bdf);
    if (!f)
        return size == 4 ? UINT32_MAX : (1u << (8 * size)) - 1;
    uint32_t v = 0;
    memcpy(&v, f->cfg + off, size);
    return v;
}

static bool is_bar(const struct fake_fn *f, uint16_t off)
{
    unsigned nbars = (f->cfg[PCI_HEADER_TYPE] & 0x7F) == 0 ? 6 : 2;
    return off >= PCI_BAR0 && off < PCI_BAR0 + 4 * nbars;
}

static void fake_write(void *ctx, uint32_t bdf, uint16_t off, unsigned size, uint32_t val)
{
    struct fake_bus *b = ctx;
    assert_int_equal(off % size, 0);
    struct fake_fn *f = fake_find(b, bdf);
    assert_non_null(f);
    b->writes++;
    if (is_bar(f, off)) {
        assert_int_equal(size, 4);
        uint32_t rw = f->bar_rw[(off - PCI_BAR0) / 4], old;
        memcpy(&old, f->cfg + off, 4);
        uint32_t v = (val & rw) | (old & ~rw);
        memcpy(f->cfg + off, &v, 4);
        if (val == UINT32_MAX && (f->cfg[PCI_COMMAND] & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
            b->decoded_all_ones = true;
        return;
    }
    memcpy(f->cfg + off, &val, size);
}

static struct fake_fn *fake_add(struct fake_bus *b, uint32_t bdf, uint16_t vendor, uint16_t device,
                                uint32_t class_rev, uint8_t header)
{
    assert_true(b->n < FAKE_FUNCS);
    struct fake_fn *f = &b->fn[b->n++];
    memset(f, 0, sizeof(*f));
    f->bdf = bdf;
    memcpy(f->cfg + PCI_VENDOR_ID, &vendor, 2);
    memcpy(f->cfg + PCI_DEVICE_ID, &device, 2);
    memcpy(f->cfg + PCI_REVISION, &class_rev, 4);
    f->cfg[PCI_HEADER_TYPE] = header;
    return f;
}

static void put32(struct fake_fn *f, uint16_t off, uint32_t v) { memcpy(f->cfg + off, &v, 4); }
static uint32_t get32(const struct fake_fn *f, uint16_t off) { uint32_t v; memcpy(&v, f->cfg + off, 4); return v; }

static struct fake_bus bus;
static struct pci_cfg cfg = { fake_read, fake_write, &bus };

static int reset_bus(void **state)
{
    (void)state;
    memset(&bus, 0, sizeof(bus));
    return 0;
}

/* ------------------------------------------------------------ enumeration */

struct seen {
    uint32_t bdf[32];
    unsigned n, stop_after;
};

static bool record(void *ctx, const struct pci_func *f)
{
    struct seen *s = ctx;
    s->bdf[s->n++] = f->bdf;
    return !s->stop_after || s->n < s->stop_after;
}

static void test_bdf_packing(void **state)
{
    (void)state;
    uint32_t bdf = pci_bdf(0x12, 0x1F, 7);
    assert_int_equal(bdf, 0x12FF);
    assert_int_equal(pci_bus(bdf), 0x12);
    assert_int_equal(pci_dev(bdf), 0x1F);
    assert_int_equal(pci_fn(bdf), 7);
    assert_int_equal(pci_bdf(0, 3, 0), 0x18);
}

static void test_func_read_decodes_identity(void **state)
{
    (void)state;
    fake_add(&bus, pci_bdf(0, 2, 0), 0x8086, 0x100E, 0x02000003, 0x00);
    fake_add(&bus, pci_bdf(0, 5, 0), 0x0000, 0x0000, 0, 0);     /* some bridges read 0 */
    struct pci_func f;
    assert_true(pci_func_read(&cfg, pci_bdf(0, 2, 0), &f));
    assert_int_equal(f.vendor, 0x8086);
    assert_int_equal(f.device, 0x100E);
    assert_int_equal(f.class_code, 0x02);
    assert_int_equal(f.subclass, 0x00);
    assert_int_equal(f.prog_if, 0x00);
    assert_int_equal(f.revision, 0x03);
    assert_int_equal(f.header_type, 0);
    assert_false(f.multifunction);
    assert_false(pci_func_read(&cfg, pci_bdf(0, 3, 0), &f));
    assert_false(pci_func_read(&cfg, pci_bdf(0, 5, 0), &f));
}

static void test_scan_all_buses_and_functions(void **state)
{
    (void)state;
    fake_add(&bus, pci_bdf(0, 0, 0), 0x8086, 0x1237, 0x06000002, 0x00)->alias = true;
    fake_add(&bus, pci_bdf(0, 1, 0), 0x8086, 0x7000, 0x06010000, 0x80);
    fake_add(&bus, pci_bdf(0, 1, 1), 0x8086, 0x7010, 0x01018000, 0x00);
    fake_add(&bus, pci_bdf(0, 1, 3), 0x8086, 0x7113, 0x06800003, 0x00);
    fake_add(&bus, pci_bdf(0, 2, 0), 0x8086, 0x100E, 0x02000003, 0x00);
    fake_add(&bus, pci_bdf(0, 0x1E, 0), 0x8086, 0x244E, 0x06040000, 0x01);
    fake_add(&bus, pci_bdf(5, 0x1F, 0), 0x15B3, 0x1017, 0x02000000, 0x80);
    fake_add(&bus, pci_bdf(5, 0x1F, 7), 0x15B3, 0x1018, 0x02000000, 0x00);
    fake_add(&bus, pci_bdf(255, 0x1F, 0), 0x1234, 0x5678, 0xFF000000, 0x00);
    struct seen s = { .n = 0 };
    assert_int_equal(pci_scan(&cfg, record, &s), 9);
    const uint32_t want[] = { pci_bdf(0, 0, 0), pci_bdf(0, 1, 0), pci_bdf(0, 1, 1), pci_bdf(0, 1, 3),
                              pci_bdf(0, 2, 0), pci_bdf(0, 0x1E, 0), pci_bdf(5, 0x1F, 0),
                              pci_bdf(5, 0x1F, 7), pci_bdf(255, 0x1F, 0) };
    assert_int_equal(s.n, 9);
    for (unsigned i = 0; i < 9; i++)
        assert_int_equal(s.bdf[i], want[i]);
    assert_int_equal(bus.writes, 0);
}

static void test_scan_stops_early(void **state)
{
    (void)state;
    for (unsigned d = 0; d < 4; d++)
        fake_add(&bus, pci_bdf(0, d, 0), 0x8086, (uint16_t)d, 0, 0);
    struct seen s = { .stop_after = 2 };
    assert_int_equal(pci_scan(&cfg, record, &s), 2);
    assert_int_equal(s.bdf[1], pci_bdf(0, 1, 0));
}

static void test_scan_empty_bus(void **state)
{
    (void)state;
    struct seen s = { .n = 0 };
    assert_int_equal(pci_scan(&cfg, record, &s), 0);
}

/* ------------------------------------------------------------ BARs */

/* An 82540EM as Bochs and QEMU show it: BAR0 128 KiB memory, BAR1 64 ports. */
static struct fake_fn *add_e1000(void)
{
    struct fake_fn *f = fake_add(&bus, pci_bdf(0, 2, 0), 0x8086, 0x100E, 0x02000003, 0x00);
    put32(f, PCI_BAR0, 0xFEBC0000);
    f->bar_rw[0] = 0xFFFE0000;
    put32(f, PCI_BAR0 + 4, 0xC001);
    f->bar_rw[1] = 0x0000FFC0;
    f->cfg[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
    return f;
}

static void test_bar_32bit_memory(void **state)
{
    (void)state;
    struct fake_fn *f = add_e1000();
    struct pci_bar bar;
    assert_null(pci_bar_probe(&cfg, f->bdf, 0, &bar));
    assert_int_equal(bar.base, 0xFEBC0000);
    assert_int_equal(bar.size, 0x20000);
    assert_false(bar.io);
    assert_false(bar.is64);
    assert_false(bar.prefetchable);
    assert_int_equal(get32(f, PCI_BAR0), 0xFEBC0000);
    assert_int_equal(f->cfg[PCI_COMMAND], PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
    assert_false(bus.decoded_all_ones);
}

static void test_bar_16bit_io(void **state)
{
    (void)state;
    struct fake_fn *f = add_e1000();
    struct pci_bar bar;
    assert_null(pci_bar_probe(&cfg, f->bdf, 1, &bar));
    assert_true(bar.io);
    assert_int_equal(bar.base, 0xC000);
    assert_int_equal(bar.size, 0x40);
    assert_int_equal(get32(f, PCI_BAR0 + 4), 0xC001);
    assert_false(bus.decoded_all_ones);
}

static void test_bar_64bit_prefetchable(void **state)
{
    (void)state;
    struct fake_fn *f = fake_add(&bus, pci_bdf(3, 0, 0), 0x10DE, 0x2330, 0x03020000, 0x00);
    put32(f, PCI_BAR0, 0x0000000C);             /* 64-bit, prefetchable */
    put32(f, PCI_BAR0 + 4, 0x00000038);         /* at 0x38_0000_0000 */
    f->bar_rw[0] = 0;                           /* 8 GiB: no writable bits below 2^33 */
    f->bar_rw[1] = 0xFFFFFFFE;
    put32(f, PCI_BAR0 + 8, 0xF000000C);         /* 64-bit, 16 KiB */
    put32(f, PCI_BAR0 + 12, 0);
    f->bar_rw[2] = 0xFFFFC000;
    f->bar_rw[3] = 0xFFFFFFFF;
    f->cfg[PCI_COMMAND] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

    struct pci_bar bar;
    assert_null(pci_bar_probe(&cfg, f->bdf, 0, &bar));
    assert_true(bar.is64);
    assert_true(bar.prefetchable);
    assert_int_equal(bar.base, 0x3800000000ull);
    assert_int_equal(bar.size, 8ull << 30);
    assert_null(pci_bar_probe(&cfg, f->bdf, 2, &bar));
    assert_int_equal(bar.base, 0xF0000000);
    assert_int_equal(bar.size, 0x4000);
    assert_int_equal(get32(f, PCI_BAR0), 0x0000000C);
    assert_int_equal(get32(f, PCI_BAR0 + 4), 0x38);
    assert_int_equal(get32(f, PCI_BAR0 + 8), 0xF000000C);
    assert_int_equal(get32(f, PCI_BAR0 + 12), 0);
    assert_int_equal(f->cfg[PCI_COMMAND], PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    assert_false(bus.decoded_all_ones);
}

static void test_bar_not_implemented(void **state)
{
    (void)state;
    struct fake_fn *f = add_e1000();
    struct pci_bar bar;
    assert_null(pci_bar_probe(&cfg, f->bdf, 3, &bar));
    assert_int_equal(bar.size, 0);
    assert_int_equal(bar.base, 0);
}

static void test_bar_errors_touch_nothing(void **state)
{
    (void)state;
    struct fake_fn *f = add_e1000();
    put32(f, PCI_BAR0 + 20, 0x4);               /* 64-bit BAR in slot 5 */
    put32(f, PCI_BAR0 + 16, 0x6);               /* reserved type 11b in slot 4 */
    struct fake_fn *bridge = fake_add(&bus, pci_bdf(0, 0x1E, 0), 0x8086, 0x244E, 0x06040000, 0x01);
    struct pci_bar bar = { .base = 1, .size = 1 };
    assert_non_null(pci_bar_probe(&cfg, f->bdf, 6, &bar));
    assert_int_equal(bar.size, 0);
    assert_non_null(pci_bar_probe(&cfg, f->bdf, 5, &bar));
    assert_non_null(pci_bar_probe(&cfg, f->bdf, 4, &bar));
    assert_non_null(pci_bar_probe(&cfg, bridge->bdf, 2, &bar));
    assert_null(pci_bar_probe(&cfg, bridge->bdf, 1, &bar));
    assert_int_equal(bar.size, 0);
    unsigned writes = bus.writes;
    assert_non_null(pci_bar_probe(&cfg, f->bdf, 5, &bar));
    assert_int_equal(bus.writes, writes);
}

/* ------------------------------------------------------------ capabilities */

static void add_cap(struct fake_fn *f, uint8_t at, uint8_t id, uint8_t next)
{
    f->cfg[at] = id;
    f->cfg[at + 1] = next;
}

static void test_cap_walk(void **state)
{
    (void)state;
    struct fake_fn *f = add_e1000();
    f->cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    f->cfg[PCI_CAP_PTR] = 0xDF;                 /* the low two bits are reserved */
    add_cap(f, 0xDC, 0x01, 0xE4);               /* power management */
    add_cap(f, 0xE4, 0x07, 0x00);               /* PCI-X */
    assert_int_equal(pci_cap_find(&cfg, f->bdf, 0x01), 0xDC);
    assert_int_equal(pci_cap_find(&cfg, f->bdf, 0x07), 0xE4);
    assert_int_equal(pci_cap_find(&cfg, f->bdf, 0x05), 0);
    f->cfg[PCI_STATUS] = 0;                     /* no list: the pointer means nothing */
    assert_int_equal(pci_cap_find(&cfg, f->bdf, 0x01), 0);
}

static void test_cap_walk_bad_lists_end(void **state)
{
    (void)state;
    struct fake_fn *f = add_e1000();
    f->cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    f->cfg[PCI_CAP_PTR] = 0x40;
    add_cap(f, 0x40, 0x01, 0x50);
    add_cap(f, 0x50, 0x05, 0x40);               /* loops back */
    assert_int_equal(pci_cap_find(&cfg, f->bdf, 0x05), 0x50);
    assert_int_equal(pci_cap_find(&cfg, f->bdf, 0x10), 0);
    add_cap(f, 0x50, 0x05, 0x08);               /* points into the header (revision 3) */
    assert_int_equal(pci_cap_find(&cfg, f->bdf, 0x03), 0);
    f->cfg[PCI_CAP_PTR] = 0x00;
    assert_int_equal(pci_cap_find(&cfg, f->bdf, 0x01), 0);
    struct fake_fn *cb = fake_add(&bus, pci_bdf(0, 9, 0), 0x104C, 0xAC50, 0x06070000, 0x02);
    cb->cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;  /* CardBus keeps its pointer elsewhere */
    cb->cfg[PCI_CAP_PTR] = 0x40;
    add_cap(cb, 0x40, 0x01, 0);
    assert_int_equal(pci_cap_find(&cfg, cb->bdf, 0x01), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_bdf_packing, reset_bus),
        cmocka_unit_test_setup(test_func_read_decodes_identity, reset_bus),
        cmocka_unit_test_setup(test_scan_all_buses_and_functions, reset_bus),
        cmocka_unit_test_setup(test_scan_stops_early, reset_bus),
        cmocka_unit_test_setup(test_scan_empty_bus, reset_bus),
        cmocka_unit_test_setup(test_bar_32bit_memory, reset_bus),
        cmocka_unit_test_setup(test_bar_16bit_io, reset_bus),
        cmocka_unit_test_setup(test_bar_64bit_prefetchable, reset_bus),
        cmocka_unit_test_setup(test_bar_not_implemented, reset_bus),
        cmocka_unit_test_setup(test_bar_errors_touch_nothing, reset_bus),
        cmocka_unit_test_setup(test_cap_walk, reset_bus),
        cmocka_unit_test_setup(test_cap_walk_bad_lists_end, reset_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
