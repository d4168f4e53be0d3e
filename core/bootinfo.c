/*
 * Multiboot 1 and 2 information parsing. Everything the loader points at is
 * reached through `map`, checked for bounds, and copied into struct bootinfo,
 * so nothing later depends on loader memory the cloud VM will reuse.
 */
#include "core/bootinfo.h"
#include "core/libc.h"
#include "core/multiboot.h"

static void add_busy(struct bootinfo *bi, uint64_t base, uint64_t len)
{
    if (len && bi->nbusy < BOOTINFO_MAX_BUSY)
        bi->busy[bi->nbusy++] = (struct mem_range){ base, len };
}

/* Copies a NUL-terminated string at `pa` (at most `cap - 1` characters). */
static bool copy_cstr(phys_map_fn map, uint64_t pa, char *dst, size_t cap, bool *truncated)
{
    size_t n = 0;
    for (;; n++) {
        const char *c = map(pa + n, 1);
        if (!c)
            return false;
        if (!*c)
            break;
        if (n + 1 < cap)
            dst[n] = *c;
    }
    dst[n + 1 < cap ? n : cap - 1] = '\0';
    if (truncated)
        *truncated = n + 1 > cap;
    return true;
}

static void copy_bounded(char *dst, size_t cap, const char *src, size_t srclen, bool *truncated)
{
    size_t n = strnlen(src, srclen);
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(dst, src, k);
    dst[k] = '\0';
    if (truncated)
        *truncated = n > k;
}

static void add_module(struct bootinfo *bi, uint64_t start, uint64_t end)
{
    if (bi->nmods == BOOTINFO_MAX_MODS) {
        bi->mods_truncated = true;
        return;
    }
    bi->mods[bi->nmods].start = start;
    bi->mods[bi->nmods].end = end;
    add_busy(bi, start, end > start ? end - start : 0);
    bi->nmods++;
}

static const char *parse_mb1(uint64_t info_pa, phys_map_fn map, struct bootinfo *bi)
{
    const struct mb1_info *mi = map(info_pa, sizeof(*mi));
    if (!mi)
        return "multiboot 1 information is outside memory";
    bi->version = 1;
    add_busy(bi, info_pa, sizeof(*mi));
    if (mi->flags & MB1_INFO_CMDLINE) {
        if (!copy_cstr(map, mi->cmdline, bi->cmdline, sizeof(bi->cmdline), &bi->cmdline_truncated))
            return "multiboot 1 command line is outside memory";
        add_busy(bi, mi->cmdline, strlen(bi->cmdline) + 1);
    }
    if (mi->flags & MB1_INFO_LOADER)
        copy_cstr(map, mi->boot_loader_name, bi->loader, sizeof(bi->loader), NULL);
    if (mi->flags & MB1_INFO_MMAP) {
        add_busy(bi, mi->mmap_addr, mi->mmap_length);
        for (uint64_t off = 0; off + sizeof(struct mb1_mmap_entry) <= mi->mmap_length;) {
            const struct mb1_mmap_entry *e = map(mi->mmap_addr + off, sizeof(*e));
            if (!e)
                return "multiboot 1 memory map is outside memory";
            if (e->size < 20)
                return "multiboot 1 memory map entry has a bad size";
            memmap_add(&bi->mmap, e->addr, e->len, e->type);
            off += e->size + 4;
        }
    } else if (mi->flags & MB1_INFO_MEMORY) {
        /* No map: the basic counts describe low memory and memory above 1 MiB. */
        memmap_add(&bi->mmap, 0, (uint64_t)mi->mem_lower * 1024, MEM_USABLE);
        memmap_add(&bi->mmap, 0x100000, (uint64_t)mi->mem_upper * 1024, MEM_USABLE);
    }
    if (mi->flags & MB1_INFO_MODS) {
        add_busy(bi, mi->mods_addr, (uint64_t)mi->mods_count * sizeof(struct mb1_module));
        for (uint32_t i = 0; i < mi->mods_count; i++) {
            const struct mb1_module *m = map(mi->mods_addr + (uint64_t)i * sizeof(*m), sizeof(*m));
            if (!m)
                return "multiboot 1 module list is outside memory";
            add_module(bi, m->mod_start, m->mod_end);
            if (bi->mods_truncated)
                break;
            if (m->string) {
                struct boot_module *bm = &bi->mods[bi->nmods - 1];
                if (!copy_cstr(map, m->string, bm->args, sizeof(bm->args), NULL))
                    return "multiboot 1 module string is outside memory";
                add_busy(bi, m->string, strlen(bm->args) + 1);
            }
        }
    }
    return NULL;
}

static const char *parse_mb2(uint64_t info_pa, phys_map_fn map, struct bootinfo *bi)
{
    const struct mb2_info_header *h = map(info_pa, sizeof(*h));
    if (!h)
        return "multiboot 2 information is outside memory";
    uint32_t total = h->total_size;
    if (total < sizeof(*h) + 8 || total > 16 * 1024 * 1024)
        return "multiboot 2 information has an implausible size";
    const uint8_t *base = map(info_pa, total);
    if (!base)
        return "multiboot 2 information is outside memory";
    bi->version = 2;
    add_busy(bi, info_pa, total);
    bool ended = false;
    for (uint32_t off = sizeof(*h); off + sizeof(struct mb2_tag) <= total;) {
        const struct mb2_tag *t = (const void *)(base + off);
        if (t->size < sizeof(*t) || t->size > total - off)
            return "multiboot 2 tag runs past the end of the information";
        const uint8_t *body = (const uint8_t *)t + sizeof(*t);
        uint32_t blen = t->size - sizeof(*t);
        switch (t->type) {
        case MB2_TAG_END:
            ended = true;
            break;
        case MB2_TAG_CMDLINE:
            copy_bounded(bi->cmdline, sizeof(bi->cmdline), (const char *)body, blen, &bi->cmdline_truncated);
            break;
        case MB2_TAG_LOADER_NAME:
            copy_bounded(bi->loader, sizeof(bi->loader), (const char *)body, blen, NULL);
            break;
        case MB2_TAG_MODULE: {
            if (t->size < sizeof(struct mb2_tag_module))
                return "multiboot 2 module tag is too short";
            const struct mb2_tag_module *m = (const void *)t;
            add_module(bi, m->mod_start, m->mod_end);
            if (!bi->mods_truncated)
                copy_bounded(bi->mods[bi->nmods - 1].args, sizeof(bi->mods[0].args),
                             (const char *)(m + 1), t->size - sizeof(*m), NULL);
            break;
        }
        case MB2_TAG_MMAP: {
            const struct mb2_tag_mmap *mm = (const void *)t;
            if (t->size < sizeof(*mm) || mm->entry_size < sizeof(struct mb2_mmap_entry))
                return "multiboot 2 memory map has a bad entry size";
            /* Compared as a remainder: eo + entry_size could wrap around 2^32. */
            for (uint32_t eo = sizeof(*mm); mm->entry_size <= t->size - eo; eo += mm->entry_size) {
                const struct mb2_mmap_entry *e = (const void *)((const uint8_t *)t + eo);
                memmap_add(&bi->mmap, e->addr, e->len, e->type);
            }
            break;
        }
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW:
            /* Prefer the ACPI 2.0 RSDP (it has the XSDT) over the 1.0 one. */
            if (t->type == MB2_TAG_ACPI_NEW || bi->rsdp_len == 0) {
                bi->rsdp_len = blen < sizeof(bi->rsdp) ? blen : sizeof(bi->rsdp);
                memcpy(bi->rsdp, body, bi->rsdp_len);
            }
            break;
        default:
            break;
        }
        if (ended)
            break;
        off += (t->size + 7) & ~7u;
    }
    if (!ended)
        return "multiboot 2 information has no end tag";
    return NULL;
}

const char *bootinfo_parse(uint32_t magic, uint64_t info_pa, phys_map_fn map,
                           struct bootinfo *bi)
{
    memset(bi, 0, sizeof(*bi));
    const char *err;
    if (magic == MB1_BOOT_MAGIC)
        err = parse_mb1(info_pa, map, bi);
    else if (magic == MB2_BOOT_MAGIC)
        err = parse_mb2(info_pa, map, bi);
    else
        return "not started by a multiboot loader (bad magic)";
    if (err)
        return err;
    if (bi->mmap.n == 0)
        return "the boot loader gave no memory map";
    memmap_normalize(&bi->mmap);
    return NULL;
}
