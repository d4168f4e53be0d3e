/* core/bootinfo.c: multiboot 1 and 2 information laid out in fake physical memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/bootinfo.h"
#include "core/multiboot.h"
#include <stdlib.h>
#include <string.h>

/* "Physical memory" [0, MEM_SIZE): anything outside is unmapped. */
#define MEM_SIZE 0x20000
static _Alignas(4096) uint8_t mem[MEM_SIZE];

static const void *fake_map(uint64_t pa, size_t len)
{
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa)
        return NULL;
    return mem + pa;
}

static void poke(uint64_t pa, const void *src, size_t len)
{
    assert_true(pa + len <= MEM_SIZE);
    memcpy(mem + pa, src, len);
}

static void poke_str(uint64_t pa, const char *s) { poke(pa, s, strlen(s) + 1); }

static int setup(void **state)
{
    memset(mem, 0, sizeof(mem));
    struct bootinfo *bi = malloc(sizeof(*bi));
    if (!bi)
        return -1;
    memset(bi, 0xCC, sizeof(*bi));     /* parse must reset everything */
    *state = bi;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static void expect_entry(const struct memmap *m, unsigned i, uint64_t base, uint64_t len, uint32_t type)
{
    assert_true(i < m->n);
    assert_int_equal(m->e[i].base, base);
    assert_int_equal(m->e[i].len, len);
    assert_int_equal(m->e[i].type, type);
}

static void expect_busy(const struct bootinfo *bi, unsigned i, uint64_t base, uint64_t len)
{
    assert_true(i < bi->nbusy);
    assert_int_equal(bi->busy[i].base, base);
    assert_int_equal(bi->busy[i].len, len);
}

static void expect_error(uint32_t magic, uint64_t info_pa, struct bootinfo *bi, const char *want)
{
    const char *err = bootinfo_parse(magic, info_pa, fake_map, bi);
    if (!err)
        fail_msg("parsed, but expected \"%s\"", want);
    assert_string_equal(err, want);
}

/* ------------------------------------------------------------ multiboot 1 */

#define MB1_INFO    0x1000
#define MB1_CMDLINE 0x2000
#define MB1_LOADER  0x2100
#define MB1_MMAP    0x3000
#define MB1_MODS    0x4000
#define MB1_MODSTR  0x4100

static void mb1_mmap_entry(uint64_t *off, uint32_t size, uint64_t addr, uint64_t len, uint32_t type)
{
    struct mb1_mmap_entry e = { size, addr, len, type };
    poke(MB1_MMAP + *off, &e, sizeof(e));
    *off += size + 4;
}

/* The typical PC map, given out of order; returns the byte length. */
static uint32_t mb1_pc_mmap(void)
{
    uint64_t off = 0;
    mb1_mmap_entry(&off, 20, 0x100000, 0x7EE0000, MEM_USABLE);
    mb1_mmap_entry(&off, 20, 0, 0x9FC00, MEM_USABLE);
    mb1_mmap_entry(&off, 20, 0x9FC00, 0x400, MEM_RESERVED);
    mb1_mmap_entry(&off, 20, 0x7FE0000, 0x20000, MEM_ACPI);
    return (uint32_t)off;
}

static void test_mb1_full(void **state)
{
    struct bootinfo *bi = *state;
    static const char cmdline[] = "/boot/vsbypass.elf mem=256M";
    poke_str(MB1_CMDLINE, cmdline);
    poke_str(MB1_LOADER, "GRUB 2.06");
    const struct mb1_module mods[2] = {
        { 0x800000, 0x880000, MB1_MODSTR, 0 },
        { 0x900000, 0x900100, 0, 0 },           /* no string */
    };
    poke(MB1_MODS, mods, sizeof(mods));
    poke_str(MB1_MODSTR, "/boot/guest.bin quiet");
    struct mb1_info info = {
        .flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP | MB1_INFO_LOADER,
        .mem_lower = 639, .mem_upper = 1,       /* ignored: the map wins */
        .cmdline = MB1_CMDLINE,
        .mods_count = 2, .mods_addr = MB1_MODS,
        .mmap_length = mb1_pc_mmap(), .mmap_addr = MB1_MMAP,
        .boot_loader_name = MB1_LOADER,
    };
    poke(MB1_INFO, &info, sizeof(info));

    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, fake_map, bi));
    assert_int_equal(bi->version, 1);
    assert_string_equal(bi->cmdline, cmdline);
    assert_false(bi->cmdline_truncated);
    assert_string_equal(bi->loader, "GRUB 2.06");
    assert_int_equal(bi->mmap.n, 4);
    expect_entry(&bi->mmap, 0, 0, 0x9FC00, MEM_USABLE);
    expect_entry(&bi->mmap, 1, 0x9FC00, 0x400, MEM_RESERVED);
    expect_entry(&bi->mmap, 2, 0x100000, 0x7EE0000, MEM_USABLE);
    expect_entry(&bi->mmap, 3, 0x7FE0000, 0x20000, MEM_ACPI);
    assert_int_equal(bi->nmods, 2);
    assert_false(bi->mods_truncated);
    assert_int_equal(bi->mods[0].start, 0x800000);
    assert_int_equal(bi->mods[0].end, 0x880000);
    assert_string_equal(bi->mods[0].args, "/boot/guest.bin quiet");
    assert_int_equal(bi->mods[1].start, 0x900000);
    assert_string_equal(bi->mods[1].args, "");
    assert_int_equal(bi->rsdp_len, 0);
    /* Info, command line, map, module list, module 0 and its string, module 1. */
    assert_int_equal(bi->nbusy, 7);
    expect_busy(bi, 0, MB1_INFO, sizeof(struct mb1_info));
    expect_busy(bi, 1, MB1_CMDLINE, sizeof(cmdline));
    expect_busy(bi, 2, MB1_MMAP, 4 * 24);
    expect_busy(bi, 3, MB1_MODS, 2 * sizeof(struct mb1_module));
    expect_busy(bi, 4, 0x800000, 0x80000);
    expect_busy(bi, 5, MB1_MODSTR, strlen("/boot/guest.bin quiet") + 1);
    expect_busy(bi, 6, 0x900000, 0x100);
}

static void test_mb1_memory_counts_only(void **state)
{
    struct bootinfo *bi = *state;
    struct mb1_info info = { .flags = MB1_INFO_MEMORY, .mem_lower = 639, .mem_upper = 130048 };
    poke(MB1_INFO, &info, sizeof(info));
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, fake_map, bi));
    assert_int_equal(bi->mmap.n, 2);
    expect_entry(&bi->mmap, 0, 0, 639 * 1024, MEM_USABLE);
    expect_entry(&bi->mmap, 1, 0x100000, 130048ULL * 1024, MEM_USABLE);
    assert_string_equal(bi->cmdline, "");
    assert_string_equal(bi->loader, "");
    assert_int_equal(bi->nmods, 0);
    assert_int_equal(bi->nbusy, 1);
    expect_busy(bi, 0, MB1_INFO, sizeof(struct mb1_info));
}

static void test_mb1_mmap_wide_entries(void **state)
{
    struct bootinfo *bi = *state;
    /* Entries may be larger than 20 bytes; `size` says where the next starts. */
    uint64_t off = 0;
    mb1_mmap_entry(&off, 28, 0, 0x80000, MEM_USABLE);
    mb1_mmap_entry(&off, 28, 0x100000, 0x100000, MEM_USABLE);
    struct mb1_info info = { .flags = MB1_INFO_MMAP, .mmap_length = (uint32_t)off, .mmap_addr = MB1_MMAP };
    poke(MB1_INFO, &info, sizeof(info));
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, fake_map, bi));
    assert_int_equal(bi->mmap.n, 2);
    expect_entry(&bi->mmap, 1, 0x100000, 0x100000, MEM_USABLE);
}

static void test_mb1_errors(void **state)
{
    struct bootinfo *bi = *state;
    struct mb1_info info = { .flags = MB1_INFO_MMAP, .mmap_length = 24, .mmap_addr = MB1_MMAP };
    uint64_t off = 0;
    mb1_mmap_entry(&off, 12, 0, 0x80000, MEM_USABLE);
    poke(MB1_INFO, &info, sizeof(info));
    expect_error(MB1_BOOT_MAGIC, MB1_INFO, bi, "multiboot 1 memory map entry has a bad size");

    info.mmap_addr = MEM_SIZE - 8;
    poke(MB1_INFO, &info, sizeof(info));
    expect_error(MB1_BOOT_MAGIC, MB1_INFO, bi, "multiboot 1 memory map is outside memory");

    expect_error(MB1_BOOT_MAGIC, MEM_SIZE + 0x1000, bi, "multiboot 1 information is outside memory");
    expect_error(MB1_BOOT_MAGIC, MEM_SIZE - 10, bi, "multiboot 1 information is outside memory");

    /* A command line with no terminator before the end of memory. */
    memset(mem + MEM_SIZE - 16, 'x', 16);
    info = (struct mb1_info){ .flags = MB1_INFO_CMDLINE | MB1_INFO_MEMORY, .cmdline = MEM_SIZE - 16 };
    poke(MB1_INFO, &info, sizeof(info));
    expect_error(MB1_BOOT_MAGIC, MB1_INFO, bi, "multiboot 1 command line is outside memory");

    memset(mem + MEM_SIZE - 32, 0, 32);     /* two empty modules, then the end */
    info = (struct mb1_info){ .flags = MB1_INFO_MODS | MB1_INFO_MEMORY, .mods_count = 3,
                              .mods_addr = MEM_SIZE - 32 };
    poke(MB1_INFO, &info, sizeof(info));
    expect_error(MB1_BOOT_MAGIC, MB1_INFO, bi, "multiboot 1 module list is outside memory");

    /* Neither a map nor the basic counts. */
    info = (struct mb1_info){ .flags = MB1_INFO_CMDLINE, .cmdline = MB1_CMDLINE };
    poke(MB1_INFO, &info, sizeof(info));
    expect_error(MB1_BOOT_MAGIC, MB1_INFO, bi, "the boot loader gave no memory map");
    /* An all-zero-length map is as empty. */
    off = 0;
    mb1_mmap_entry(&off, 20, 0x100000, 0, MEM_USABLE);
    info = (struct mb1_info){ .flags = MB1_INFO_MMAP, .mmap_length = 24, .mmap_addr = MB1_MMAP };
    poke(MB1_INFO, &info, sizeof(info));
    expect_error(MB1_BOOT_MAGIC, MB1_INFO, bi, "the boot loader gave no memory map");
}

static void test_bad_magic(void **state)
{
    struct bootinfo *bi = *state;
    struct mb1_info info = { .flags = MB1_INFO_MEMORY, .mem_lower = 639, .mem_upper = 1024 };
    poke(MB1_INFO, &info, sizeof(info));
    expect_error(0x12345678, MB1_INFO, bi, "not started by a multiboot loader (bad magic)");
    expect_error(MB1_HEADER_MAGIC, MB1_INFO, bi, "not started by a multiboot loader (bad magic)");
    assert_int_equal(bi->version, 0);
    assert_int_equal(bi->mmap.n, 0);
}

static void test_mb1_cmdline_truncation(void **state)
{
    struct bootinfo *bi = *state;
    char line[1500];
    struct mb1_info info = { .flags = MB1_INFO_CMDLINE | MB1_INFO_MEMORY, .mem_upper = 1024,
                             .cmdline = MB1_CMDLINE };
    poke(MB1_INFO, &info, sizeof(info));

    /* 1023 characters fit exactly. */
    memset(line, 'a', 1023);
    line[1023] = '\0';
    poke_str(MB1_CMDLINE, line);
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, fake_map, bi));
    assert_false(bi->cmdline_truncated);
    assert_string_equal(bi->cmdline, line);

    /* 1024 characters: one too many. */
    line[1023] = 'a';
    line[1024] = '\0';
    poke_str(MB1_CMDLINE, line);
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, fake_map, bi));
    assert_true(bi->cmdline_truncated);
    assert_int_equal(strlen(bi->cmdline), 1023);

    memset(line, 'b', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    poke_str(MB1_CMDLINE, line);
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, fake_map, bi));
    assert_true(bi->cmdline_truncated);
    assert_int_equal(strlen(bi->cmdline), sizeof(bi->cmdline) - 1);
    assert_memory_equal(bi->cmdline, line, sizeof(bi->cmdline) - 1);
}

static void test_mb1_too_many_modules(void **state)
{
    struct bootinfo *bi = *state;
    struct mb1_module mods[BOOTINFO_MAX_MODS + 2];
    for (unsigned i = 0; i < BOOTINFO_MAX_MODS + 2; i++)
        mods[i] = (struct mb1_module){ 0x1000000 + i * 0x10000, 0x1000000 + i * 0x10000 + 0x8000, 0, 0 };
    poke(MB1_MODS, mods, sizeof(mods));
    struct mb1_info info = { .flags = MB1_INFO_MODS | MB1_INFO_MEMORY, .mem_upper = 1024,
                             .mods_count = BOOTINFO_MAX_MODS + 2, .mods_addr = MB1_MODS };
    poke(MB1_INFO, &info, sizeof(info));
    assert_null(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, fake_map, bi));
    assert_int_equal(bi->nmods, BOOTINFO_MAX_MODS);
    assert_true(bi->mods_truncated);
    assert_int_equal(bi->mods[BOOTINFO_MAX_MODS - 1].start, 0x1000000 + (BOOTINFO_MAX_MODS - 1) * 0x10000);
    /* Info, module list, then one busy range per kept module. */
    assert_int_equal(bi->nbusy, 2 + BOOTINFO_MAX_MODS);
}

/* ------------------------------------------------------------ multiboot 2 */

#define MB2_INFO 0x8000

struct mb2_builder {
    uint32_t off;
};

static void mb2_begin(struct mb2_builder *b) { b->off = sizeof(struct mb2_info_header); }

static void mb2_tag(struct mb2_builder *b, uint32_t type, const void *body, uint32_t len)
{
    struct mb2_tag t = { type, (uint32_t)sizeof(t) + len };
    poke(MB2_INFO + b->off, &t, sizeof(t));
    if (len)
        poke(MB2_INFO + b->off + sizeof(t), body, len);
    b->off += (t.size + 7) & ~7u;
}

static void mb2_str_tag(struct mb2_builder *b, uint32_t type, const char *s)
{
    mb2_tag(b, type, s, (uint32_t)strlen(s) + 1);
}

static void mb2_module(struct mb2_builder *b, uint32_t start, uint32_t end, const char *s)
{
    uint8_t body[136];
    uint32_t n = (uint32_t)strlen(s) + 1;
    assert_true(8 + n <= sizeof(body));
    memcpy(body, &start, 4);
    memcpy(body + 4, &end, 4);
    memcpy(body + 8, s, n);
    mb2_tag(b, MB2_TAG_MODULE, body, 8 + n);
}

static void mb2_mmap(struct mb2_builder *b, uint32_t entry_size, const struct mb2_mmap_entry *e, unsigned n)
{
    uint8_t body[8 + 8 * 32];
    uint32_t version = 0;
    assert_true(n * entry_size <= 8 * 32);
    memset(body, 0, sizeof(body));
    memcpy(body, &entry_size, 4);
    memcpy(body + 4, &version, 4);
    for (unsigned i = 0; i < n; i++)
        memcpy(body + 8 + i * entry_size, &e[i], sizeof(e[i]));
    mb2_tag(b, MB2_TAG_MMAP, body, 8 + n * entry_size);
}

/* Writes the end tag (unless `end` is false) and the header's total size. */
static uint32_t mb2_finish(struct mb2_builder *b, bool end)
{
    if (end)
        mb2_tag(b, MB2_TAG_END, NULL, 0);
    struct mb2_info_header h = { b->off, 0 };
    poke(MB2_INFO, &h, sizeof(h));
    return b->off;
}

static const struct mb2_mmap_entry pc_mmap2[] = {
    { 0x100000, 0x3FF00000, MEM_USABLE, 0 },
    { 0, 0x9FC00, MEM_USABLE, 0 },
    { 0xFEC00000, 0x1000, MEM_RESERVED, 0 },
};

static void make_rsdp(uint8_t r[36], unsigned rev, uint8_t tag)
{
    memset(r, 0, 36);
    memcpy(r, "RSD PTR ", 8);
    r[15] = (uint8_t)rev;
    r[16] = tag;        /* tells the copies apart */
}

static void test_mb2_full(void **state)
{
    struct bootinfo *bi = *state;
    struct mb2_builder b;
    uint8_t old_rsdp[36], new_rsdp[36];
    make_rsdp(new_rsdp, 2, 0x22);
    make_rsdp(old_rsdp, 0, 0x11);

    mb2_begin(&b);
    mb2_str_tag(&b, MB2_TAG_CMDLINE, "/vsbypass.elf smp=2");
    mb2_str_tag(&b, MB2_TAG_LOADER_NAME, "GRUB 2.12");
    mb2_tag(&b, MB2_TAG_ACPI_NEW, new_rsdp, sizeof(new_rsdp));
    mb2_module(&b, 0x2000000, 0x2400000, "guest.img");
    mb2_mmap(&b, sizeof(struct mb2_mmap_entry), pc_mmap2, 3);
    mb2_tag(&b, 21, "\x01\x02\x03", 3);        /* unknown tags are skipped */
    mb2_tag(&b, MB2_TAG_ACPI_OLD, old_rsdp, 20);   /* after the new one: ignored */
    mb2_module(&b, 0x3000000, 0x3000800, "");
    uint32_t total = mb2_finish(&b, true);

    assert_null(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, fake_map, bi));
    assert_int_equal(bi->version, 2);
    assert_string_equal(bi->cmdline, "/vsbypass.elf smp=2");
    assert_false(bi->cmdline_truncated);
    assert_string_equal(bi->loader, "GRUB 2.12");
    assert_int_equal(bi->mmap.n, 3);
    expect_entry(&bi->mmap, 0, 0, 0x9FC00, MEM_USABLE);
    expect_entry(&bi->mmap, 1, 0x100000, 0x3FF00000, MEM_USABLE);
    expect_entry(&bi->mmap, 2, 0xFEC00000, 0x1000, MEM_RESERVED);
    assert_int_equal(bi->nmods, 2);
    assert_int_equal(bi->mods[0].start, 0x2000000);
    assert_int_equal(bi->mods[0].end, 0x2400000);
    assert_string_equal(bi->mods[0].args, "guest.img");
    assert_string_equal(bi->mods[1].args, "");
    assert_int_equal(bi->rsdp_len, 36);
    assert_memory_equal(bi->rsdp, new_rsdp, 36);
    /* The whole information block, then the modules. */
    assert_int_equal(bi->nbusy, 3);
    expect_busy(bi, 0, MB2_INFO, total);
    expect_busy(bi, 1, 0x2000000, 0x400000);
    expect_busy(bi, 2, 0x3000000, 0x800);
}

static void test_mb2_acpi_new_replaces_earlier_old(void **state)
{
    struct bootinfo *bi = *state;
    struct mb2_builder b;
    uint8_t old_rsdp[36], new_rsdp[36];
    make_rsdp(new_rsdp, 2, 0x22);
    make_rsdp(old_rsdp, 0, 0x11);

    mb2_begin(&b);
    mb2_tag(&b, MB2_TAG_ACPI_OLD, old_rsdp, 20);
    mb2_mmap(&b, sizeof(struct mb2_mmap_entry), pc_mmap2, 1);
    mb2_tag(&b, MB2_TAG_ACPI_NEW, new_rsdp, sizeof(new_rsdp));
    mb2_finish(&b, true);
    assert_null(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, fake_map, bi));
    assert_int_equal(bi->rsdp_len, 36);
    assert_int_equal(bi->rsdp[16], 0x22);

    /* Only the old one: its 20 bytes are kept. */
    mb2_begin(&b);
    mb2_tag(&b, MB2_TAG_ACPI_OLD, old_rsdp, 20);
    mb2_mmap(&b, sizeof(struct mb2_mmap_entry), pc_mmap2, 1);
    mb2_finish(&b, true);
    assert_null(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, fake_map, bi));
    assert_int_equal(bi->rsdp_len, 20);
    assert_memory_equal(bi->rsdp, old_rsdp, 20);
}

static void test_mb2_mmap_wider_entries_and_end_stops(void **state)
{
    struct bootinfo *bi = *state;
    struct mb2_builder b;
    mb2_begin(&b);
    mb2_mmap(&b, 32, pc_mmap2, 3);
    mb2_finish(&b, true);
    /* Tags after the end tag (inside total_size) are not read. */
    struct mb2_builder tail = { b.off };
    mb2_str_tag(&tail, MB2_TAG_CMDLINE, "after end");
    struct mb2_info_header h = { tail.off, 0 };
    poke(MB2_INFO, &h, sizeof(h));

    assert_null(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, fake_map, bi));
    assert_int_equal(bi->mmap.n, 3);
    expect_entry(&bi->mmap, 2, 0xFEC00000, 0x1000, MEM_RESERVED);
    assert_string_equal(bi->cmdline, "");
}

static void test_mb2_cmdline_truncation(void **state)
{
    struct bootinfo *bi = *state;
    char line[1100];
    memset(line, 'c', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    struct mb2_builder b;
    mb2_begin(&b);
    mb2_str_tag(&b, MB2_TAG_CMDLINE, line);
    mb2_mmap(&b, sizeof(struct mb2_mmap_entry), pc_mmap2, 1);
    mb2_finish(&b, true);
    assert_null(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, fake_map, bi));
    assert_true(bi->cmdline_truncated);
    assert_int_equal(strlen(bi->cmdline), sizeof(bi->cmdline) - 1);

    /* A string without its NUL inside the tag is cut at the tag's end. */
    mb2_begin(&b);
    mb2_tag(&b, MB2_TAG_CMDLINE, "abcdef", 4);
    mb2_mmap(&b, sizeof(struct mb2_mmap_entry), pc_mmap2, 1);
    mb2_finish(&b, true);
    assert_null(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, fake_map, bi));
    assert_string_equal(bi->cmdline, "abcd");
    assert_false(bi->cmdline_truncated);
}

static void test_mb2_errors(void **state)
{
    struct bootinfo *bi = *state;
    struct mb2_builder b;

    /* A tag whose size runs past total_size. */
    mb2_begin(&b);
    mb2_mmap(&b, sizeof(struct mb2_mmap_entry), pc_mmap2, 1);
    uint32_t at = b.off;
    mb2_str_tag(&b, MB2_TAG_CMDLINE, "x");
    uint32_t total = mb2_finish(&b, true);
    struct mb2_tag long_tag = { MB2_TAG_CMDLINE, total - at + 8 };
    poke(MB2_INFO + at, &long_tag, sizeof(long_tag));
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "multiboot 2 tag runs past the end of the information");
    /* A tag smaller than its own header. */
    struct mb2_tag tiny = { MB2_TAG_CMDLINE, 4 };
    poke(MB2_INFO + at, &tiny, sizeof(tiny));
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "multiboot 2 tag runs past the end of the information");

    /* No end tag. */
    mb2_begin(&b);
    mb2_mmap(&b, sizeof(struct mb2_mmap_entry), pc_mmap2, 1);
    mb2_finish(&b, false);
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "multiboot 2 information has no end tag");

    /* Memory map entries smaller than the structure. */
    mb2_begin(&b);
    mb2_mmap(&b, 16, pc_mmap2, 1);
    mb2_finish(&b, true);
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "multiboot 2 memory map has a bad entry size");

    /* An entry size so large that offset + size wraps around 2^32 must not
     * make the parser read an entry past the tag (here: the end tag and the
     * 0xFF bytes after the information, which would pass as an entry). */
    mb2_begin(&b);
    struct mb2_tag_mmap huge = { MB2_TAG_MMAP, sizeof(huge), 0xFFFFFFF0, 0 };
    poke(MB2_INFO + b.off, &huge, sizeof(huge));
    b.off += sizeof(huge);
    total = mb2_finish(&b, true);
    memset(mem + MB2_INFO + total, 0xFF, 32);
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "the boot loader gave no memory map");
    memset(mem + MB2_INFO + total, 0, 32);

    /* A module tag too short for its addresses. */
    mb2_begin(&b);
    mb2_tag(&b, MB2_TAG_MODULE, "\0\0\0\0", 4);
    mb2_finish(&b, true);
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "multiboot 2 module tag is too short");

    /* Valid, but with no memory map. */
    mb2_begin(&b);
    mb2_str_tag(&b, MB2_TAG_CMDLINE, "mem=64M");
    mb2_finish(&b, true);
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "the boot loader gave no memory map");
    assert_string_equal(bi->cmdline, "mem=64M");

    /* Implausible sizes and places. */
    struct mb2_info_header h = { 8, 0 };
    poke(MB2_INFO, &h, sizeof(h));
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "multiboot 2 information has an implausible size");
    h.total_size = 0x7FFFFFFF;
    poke(MB2_INFO, &h, sizeof(h));
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "multiboot 2 information has an implausible size");
    h.total_size = MEM_SIZE;    /* plausible, but runs past the end of memory */
    poke(MB2_INFO, &h, sizeof(h));
    expect_error(MB2_BOOT_MAGIC, MB2_INFO, bi, "multiboot 2 information is outside memory");
    expect_error(MB2_BOOT_MAGIC, MEM_SIZE + 8, bi, "multiboot 2 information is outside memory");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mb1_full),
        T(test_mb1_memory_counts_only),
        T(test_mb1_mmap_wide_entries),
        T(test_mb1_errors),
        T(test_bad_magic),
        T(test_mb1_cmdline_truncation),
        T(test_mb1_too_many_modules),
        T(test_mb2_full),
        T(test_mb2_acpi_new_replaces_earlier_old),
        T(test_mb2_mmap_wider_entries_and_end_stops),
        T(test_mb2_cmdline_truncation),
        T(test_mb2_errors),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
