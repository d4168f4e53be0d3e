/* Registers the management NIC with core's hidden-device table, so vmx/
 * keeps it out of the cloud VM (runs after drivers/nic.c chose it). */
#include "core/devhide.h"
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
    if (devhide_add(bdf, h, n < DEVHIDE_RANGES_MAX ? n : DEVHIDE_RANGES_MAX))
        kprintf("nic: %02x:%02x.%x and its %u BAR range(s) are hidden from the cloud VM\n",
                bdf >> 8, (bdf >> 3) & 31, bdf & 7, n);
}
CORE_INIT(nic_hide, 40);
