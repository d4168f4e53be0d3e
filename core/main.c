/* Boot orchestration on the bootstrap CPU. */
#include "core/acpi.h"
#include "core/bootinfo.h"
#include "core/cmdline.h"
#include "core/cpu.h"
#include "core/hw.h"
#include "core/log.h"
#include "core/region.h"
#include "core/smp.h"
#include "core/time.h"
#include "core/init.h"

#include "version.h"     /* generated: build/gen/version.h */

void kmain(uint32_t magic, uint32_t info_pa, uint64_t tsc_entry);

extern const init_fn __initcall_start[], __initcall_end[];
extern const percpu_init_fn __percpu_init_start[], __percpu_init_end[];
extern const cpu_run_fn __cpu_run_start[], __cpu_run_end[];

void init_run_percpu(unsigned cpu)
{
    for (const percpu_init_fn *f = __percpu_init_start; f < __percpu_init_end; f++)
        (*f)(cpu);
}

void init_run_all(void)
{
    for (const init_fn *f = __initcall_start; f < __initcall_end; f++)
        (*f)();
}

_Noreturn void init_run_cpu(unsigned cpu)
{
    const cpu_run_fn *run = __cpu_run_start;
    if (run != __cpu_run_end)
        (*run)(cpu);
    cpu_park();
}

static struct bootinfo bootinfo;
static struct vsb_config config;

const struct bootinfo *boot_info(void) { return &bootinfo; }
const struct vsb_config *boot_config(void) { return &config; }

static void report_line(void *ctx, const char *msg)
{
    (void)ctx;
    kprintf("%s\n", msg);
}

static void print_memmap(const struct memmap *m)
{
    kprintf("memmap: %u entries%s\n", m->n, m->truncated ? " (truncated: more than 128 given)" : "");
    for (unsigned i = 0; i < m->n; i++)
        kprintf("memmap: 0x%016llx-0x%016llx %s\n", (unsigned long long)m->e[i].base,
                (unsigned long long)(m->e[i].base + m->e[i].len - 1), memmap_type_name(m->e[i].type));
    kprintf("memmap: %llu MiB usable\n", (unsigned long long)(memmap_total(m, MEM_USABLE) >> 20));
}

static unsigned start_cpus(void)
{
    uint8_t rsdp[36];
    struct acpi_madt_info *madt = &(struct acpi_madt_info){ 0 };
    const char *err = NULL;
    if (!acpi_find_rsdp(region_phys_map, bootinfo.rsdp_len ? bootinfo.rsdp : NULL,
                        bootinfo.rsdp_len, rsdp))
        err = "no ACPI RSDP found";
    else
        err = acpi_parse_madt(region_phys_map, rsdp, madt);
    if (err) {
        kprintf("acpi: %s; running on the bootstrap CPU only\n", err);
        madt->ncpus = 1;
    } else {
        kprintf("acpi: MADT lists %u usable CPUs (%u disabled), %u I/O APICs, local APIC at 0x%llx%s\n",
                madt->ncpus, madt->ndisabled, madt->nioapics, (unsigned long long)madt->lapic_pa,
                madt->cpus_truncated ? " (more than 64 CPUs: extra ignored)" : "");
    }
    return smp_init(madt, &bootinfo.mmap, config.max_cpus, init_run_percpu);
}

void kmain(uint32_t magic, uint32_t info_pa, uint64_t tsc_entry)
{
    con_init(CON_DEFAULT);
    cpu_init_bsp();
    uint64_t tsc_banner = rdtsc();
    kprintf("\nvsbypass %s: a VT-x hypervisor that keeps tenant consoles away from the cloud\n",
            VSBYPASS_VERSION);

    const char *err = bootinfo_parse(magic, info_pa, region_phys_map, &bootinfo);
    if (err)
        panic("boot: %s (magic 0x%x, info at 0x%x)", err, magic, info_pa);
    cmdline_defaults(&config);
    cmdline_parse(bootinfo.cmdline, &config, report_line, NULL);
    if (config.console != CON_DEFAULT)
        con_init(config.console);
    kprintf("boot: multiboot %d from '%s', command line '%s'%s\n", bootinfo.version,
            bootinfo.loader[0] ? bootinfo.loader : "unknown loader", bootinfo.cmdline,
            bootinfo.cmdline_truncated ? " (truncated)" : "");
    if (config.help)
        cmdline_help(report_line, NULL);
    print_memmap(&bootinfo.mmap);

    region_setup(&bootinfo, config.region_size);
    time_init();
    init_run_percpu(0);
    unsigned ncpus = start_cpus();
    init_run_all();

    uint64_t tsc_ready = rdtsc();
    kprintf("bench: boot tsc entry->banner %llu, entry->ready %llu\n",
            (unsigned long long)(tsc_banner - tsc_entry), (unsigned long long)(tsc_ready - tsc_entry));
    if (config.selftest == SELFTEST_EXCEPTION) {
        kprintf("selftest: raising #UD on cpu0\n");
        __asm__ volatile("ud2");
    }
    kprintf("vsbypass: boot complete, %u CPUs online\n", ncpus);
    init_run_cpu(0);
}
