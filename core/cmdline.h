/* vsbypass command line: "key=value ..." from GRUB, checked against a table. */
#ifndef CORE_CMDLINE_H
#define CORE_CMDLINE_H
#include <stdbool.h>
#include <stdint.h>

enum selftest { SELFTEST_NONE, SELFTEST_EXCEPTION };

struct vsb_config {
    uint64_t region_size;       /* mem=: hypervisor region, bytes */
    unsigned console;           /* console=: CON_* mask (core/log.h) */
    unsigned max_cpus;          /* smp=: CPUs to start, 0 = all */
    enum selftest selftest;     /* selftest=: deliberate fault after boot */
    bool help;                  /* help: print the option table */
    unsigned trace_exits;       /* trace_exits=: log the first N VM exits per CPU */
    bool nested;                /* nested=: offer VMX to the cloud VM */
    bool passthrough;           /* passthrough=: user VMs' console devices stay in L0 */
    bool vmcs_shadow;           /* vmcs_shadow=: L1's VMREAD/VMWRITE through a shadow VMCS */
    bool vmcs02_keep;           /* vmcs02_keep=: VMCS02 kept between entries, not rebuilt */
    int serial_mirror;          /* serial_mirror=: user VM whose serial goes to COM2, -1 off */
    int boot_drive;             /* boot=: -1 BIOS boot order (INT 19h), else 0x80 + N */
    int32_t net_nic;            /* net_nic=: PCI bus << 8 | dev << 3 | fn, -1 = auto */
    uint32_t net_ip;            /* net_ip=: static IPv4 address (host order), 0 = DHCP */
    uint8_t net_prefix;         /* ... its prefix length */
    uint32_t net_gw;            /* ... gateway, 0 = none */
    uint16_t console_port;      /* console_port=: the TLS console's TCP port */
    uint16_t vnc_port;          /* vnc_port=: VM n's VNC port is this + n; 0 = no VNC */
};

/* The configuration this boot runs with (core/main.c). */
const struct vsb_config *boot_config(void);

typedef void (*cmdline_report)(void *ctx, const char *msg);

/* Defaults for every option. */
void cmdline_defaults(struct vsb_config *cfg);

/* Parses `line` into `cfg` (which should hold the defaults). Every unknown
 * key, bad value or adjusted value produces one message through `report`
 * naming the option and what is used instead; parsing always continues.
 * Returns the number of messages reported. */
unsigned cmdline_parse(const char *line, struct vsb_config *cfg,
                       cmdline_report report, void *ctx);

/* Writes the option table, one line per option, through `report`. */
void cmdline_help(cmdline_report report, void *ctx);

#endif
