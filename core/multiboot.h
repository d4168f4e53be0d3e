/*
 * Multiboot 1 (0.6.96) and Multiboot 2 (2.0) structures and constants.
 * Pure data, named after the specifications' field names.
 */
#ifndef CORE_MULTIBOOT_H
#define CORE_MULTIBOOT_H

#define MB1_HEADER_MAGIC      0x1BADB002
#define MB1_HEADER_FLAGS      0x00000003   /* page-aligned modules, memory info */
#define MB1_BOOT_MAGIC        0x2BADB002

#define MB2_HEADER_MAGIC      0xE85250D6
#define MB2_ARCH_I386         0
#define MB2_HEADER_TAG_END    0
#define MB2_HEADER_TAG_MODULE_ALIGN 6
#define MB2_BOOT_MAGIC        0x36D76289

#ifndef __ASSEMBLY__
#include <stdint.h>

/* Multiboot 1 information structure: the "flags" bits say which are valid. */
#define MB1_INFO_MEMORY   (1u << 0)
#define MB1_INFO_CMDLINE  (1u << 2)
#define MB1_INFO_MODS     (1u << 3)
#define MB1_INFO_MMAP     (1u << 6)
#define MB1_INFO_LOADER   (1u << 9)

struct mb1_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name;
} __attribute__((packed));

struct mb1_module {
    uint32_t mod_start, mod_end, string, reserved;
} __attribute__((packed));

/* Each entry is preceded by its size (not counting the size field itself). */
struct mb1_mmap_entry {
    uint32_t size;
    uint64_t addr, len;
    uint32_t type;
} __attribute__((packed));

/* Multiboot 2 information: a fixed header, then 8-byte aligned tags. */
#define MB2_TAG_END           0
#define MB2_TAG_CMDLINE       1
#define MB2_TAG_LOADER_NAME   2
#define MB2_TAG_MODULE        3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP          6
#define MB2_TAG_ACPI_OLD      14
#define MB2_TAG_ACPI_NEW      15

struct mb2_info_header { uint32_t total_size, reserved; };
struct mb2_tag { uint32_t type, size; };
struct mb2_tag_module { uint32_t type, size, mod_start, mod_end; /* string follows */ };
struct mb2_tag_mmap { uint32_t type, size, entry_size, entry_version; /* entries follow */ };
struct mb2_mmap_entry { uint64_t addr, len; uint32_t type, reserved; };

_Static_assert(sizeof(struct mb1_info) == 68, "multiboot 1 info layout");
_Static_assert(sizeof(struct mb1_mmap_entry) == 24, "multiboot 1 mmap entry layout");
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "multiboot 2 mmap entry layout");
#endif
#endif
