/* ACPI: find the RSDP and read the MADT (CPUs, I/O APICs). */
#ifndef CORE_ACPI_H
#define CORE_ACPI_H
#include "core/layout.h"
#include "core/phys.h"
#include <stdbool.h>

#define ACPI_MAX_IOAPICS 8

struct acpi_cpu {
    uint32_t apic_id;
    uint32_t uid;
};

struct acpi_ioapic {
    uint32_t id, pa, gsi_base;
};

struct acpi_madt_info {
    uint64_t lapic_pa;
    bool pcat_compat;               /* dual 8259s present */
    unsigned ncpus;                 /* enabled or online-capable CPUs */
    unsigned ndisabled;             /* listed but unusable */
    bool cpus_truncated;            /* more than MAX_CPUS */
    struct acpi_cpu cpus[MAX_CPUS];
    unsigned nioapics;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
};

/* Finds the RSDP: `hint` (a loader-provided copy) if valid, else the BIOS
 * areas (first KiB of the EBDA, 0xE0000-0xFFFFF). Copies it to rsdp[36]. */
bool acpi_find_rsdp(phys_map_fn map, const uint8_t *hint, unsigned hint_len, uint8_t rsdp[36]);

/* Returns NULL on success or why the MADT could not be read. */
const char *acpi_parse_madt(phys_map_fn map, const uint8_t rsdp[36], struct acpi_madt_info *out);

/* MCFG: PCI Express enhanced configuration (ECAM, "MMCONFIG") windows. */
#define ACPI_MAX_ECAM 8

struct acpi_ecam {
    uint64_t base;                  /* bus start_bus, device 0, function 0 */
    uint16_t segment;
    uint8_t start_bus, end_bus;
};

struct acpi_mcfg_info {
    unsigned n;
    struct acpi_ecam ecam[ACPI_MAX_ECAM];
};

/* Returns NULL on success (n may be 0) or why there is no usable MCFG. */
const char *acpi_parse_mcfg(phys_map_fn map, const uint8_t rsdp[36], struct acpi_mcfg_info *out);

/* The physical address of bus:dev.fn's 4 KiB configuration page in
 * segment 0, or 0 when no window covers that bus. */
uint64_t acpi_ecam_page(const struct acpi_mcfg_info *m, uint32_t bdf);

#endif
