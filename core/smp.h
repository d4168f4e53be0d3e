/* Starting the application processors listed in the MADT. */
#ifndef CORE_SMP_H
#define CORE_SMP_H
#include "core/acpi.h"
#include "core/memmap.h"

/* Called on each AP once it runs 64-bit C code with its own tables. */
typedef void (*smp_ap_hook)(unsigned cpu);

/* Starts up to max_cpus (0 = all) CPUs; returns how many are online,
 * the BSP included. `hook` runs on each AP before it reports online. */
unsigned smp_init(const struct acpi_madt_info *madt, const struct memmap *mm,
                  unsigned max_cpus, smp_ap_hook hook);

/* Sends an INIT IPI (used to pull CPUs out of a guest that must stop). */
void smp_send_init(uint32_t apic_id);

#endif
