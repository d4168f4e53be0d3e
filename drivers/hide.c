/* Registers the management NIC with core's hidden-device table, so vmx/
 * keeps it out of the cloud VM (runs after drivers/nic.c chose it). */
#include "core/acpi.h"
#include "core/bootinfo.h"
#include "core/devhide.h"
#include "core/region.h"
#include "core/init.h"
#include "core/log.h"
#include "drivers/nic.h"

static void nic_hide(void)
{
    if (!nic_present())
        return;
    struct nic_range r[NIC_RANGES_MAX];
    struct devhide_range h[DEVHIDE_RANGES_MAX];
    unsigned n = nic_ranges(r);
    for (unsigned i = 0; i < n && i < DEVHIDE_RANGES_MAX; i++)
        h[i] = (struct devhide_range){ r[i].base, r[i].size, r[i].io };
    uint32_t bdf = nic_bdf();
    if (!devhide_add(bdf, h, n < DEVHIDE_RANGES_MAX ? n : DEVHIDE_RANGES_MAX))
        return;
    kprintf("nic: %02x:%02x.%x and its %u BAR range(s) are hidden from the cloud VM\n",
            bdf >> 8, (bdf >> 3) & 31, bdf & 7, n);
    /* Its configuration space through MMCONFIG (PCIe ECAM) too, when the
     * platform has one: that page reads as absent like port 0xCFC does. */
    const struct bootinfo *bi = boot_info();
    uint8_t rsdp[36];
    struct acpi_mcfg_info mcfg;
    const char *why = NULL;
    if (!acpi_find_rsdp(region_phys_map, bi->rsdp_len ? bi->rsdp : NULL, bi->rsdp_len, rsdp))
        why = "no ACPI RSDP";
    else
        why = acpi_parse_mcfg(region_phys_map, rsdp, &mcfg);
    uint64_t page = why ? 0 : acpi_ecam_page(&mcfg, bdf);
    if (page == 0) {
        kprintf("nic: no MMCONFIG window covers %02x:%02x.%x (ACPI MCFG: %s): its configuration space "
                "is reachable only through ports 0xCF8/0xCFC, which are trapped\n",
                bdf >> 8, (bdf >> 3) & 31, bdf & 7, why ? why : "no entry for its bus");
        return;
    }
    devhide_set_ecam(bdf, page);
    kprintf("nic: its MMCONFIG page 0x%llx is hidden too (reads as absent)\n",
            (unsigned long long)page);
}
CORE_INIT(nic_hide, 40);
