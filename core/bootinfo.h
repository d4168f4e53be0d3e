/* What the boot loader told us, from either multiboot version, normalised. */
#ifndef CORE_BOOTINFO_H
#define CORE_BOOTINFO_H
#include "core/memmap.h"
#include "core/phys.h"

#define BOOTINFO_MAX_MODS   16
#define BOOTINFO_MAX_BUSY   (4 + 2 * BOOTINFO_MAX_MODS)

struct boot_module {
    uint64_t start, end;        /* physical, end exclusive */
    char args[128];             /* the module's command line (path + args) */
};

struct bootinfo {
    int version;                /* 1 or 2 */
    char cmdline[1024];
    bool cmdline_truncated;
    char loader[64];
    struct memmap mmap;         /* as reported, then normalised */
    unsigned nmods;
    bool mods_truncated;
    struct boot_module mods[BOOTINFO_MAX_MODS];
    uint8_t rsdp[36];           /* copy of the ACPI RSDP, if the loader gave one */
    unsigned rsdp_len;
    /* Loader data that must survive until copied: never carve over these. */
    struct mem_range busy[BOOTINFO_MAX_BUSY];
    unsigned nbusy;
};

/* Returns NULL on success or a reason the information could not be used. */
const char *bootinfo_parse(uint32_t magic, uint64_t info_pa, phys_map_fn map,
                           struct bootinfo *bi);

/* The information this boot was started with (core/main.c). */
const struct bootinfo *boot_info(void);

#endif
