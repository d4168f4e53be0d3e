/*
 * Option table and parser. Policy: an unknown key is reported and ignored; a
 * bad value is reported and the option keeps its documented default; values
 * that are adjusted (rounded) are reported with the value used.
 */
#include "core/cmdline.h"
#include "core/fmt.h"
#include "core/layout.h"
#include "core/libc.h"
#include "core/log.h"
#include <stddef.h>

#define MIB (1024ULL * 1024)
#define VALUE_MAX 64

struct cmdline_opt {
    const char *key;
    const char *syntax;
    const char *def;
    const char *help;
    /* Returns NULL on success or a reason; may write a note about an adjustment. */
    const char *(*parse)(const char *val, struct vsb_config *cfg, char *note, size_t notelen);
    bool flag;          /* takes no value */
};

static bool parse_u64(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return false;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *p = s;
    *out = v;
    return true;
}

static const char *opt_mem(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    uint64_t v, mul = 1;
    const char *p = val;
    if (!parse_u64(&p, &v))
        return "not a size (write e.g. 128M or 1G)";
    switch (*p) {
    case 'k': case 'K': mul = 1024; p++; break;
    case 'm': case 'M': mul = MIB; p++; break;
    case 'g': case 'G': mul = 1024 * MIB; p++; break;
    default: break;
    }
    if (*p)
        return "not a size (write e.g. 128M or 1G)";
    if (v > UINT64_MAX / mul)
        return "size too large";
    v *= mul;
    if (v < REGION_MIN_MIB * MIB)
        return "below the minimum of " "32M";
    if (v > REGION_MAX_MIB * MIB)
        return "above the maximum of " "2048M";
    uint64_t rounded = (v + LARGE_PAGE_SIZE - 1) & ~(LARGE_PAGE_SIZE - 1);
    if (rounded != v)
        fmt_snprintf(note, notelen, "rounded up to %lluM (2 MiB pages)",
                     (unsigned long long)(rounded / MIB));
    cfg->region_size = rounded;
    return NULL;
}

static const char *opt_console(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    static const struct { const char *name; unsigned bit; } outs[] = {
        { "com1", CON_COM1 }, { "com2", CON_COM2 }, { "com3", CON_COM3 },
        { "com4", CON_COM4 }, { "e9", CON_E9 },
    };
    unsigned mask = 0;
    const char *p = val;
    (void)note, (void)notelen;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool found = false;
        for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++)
            if (strlen(outs[i].name) == len && !strncmp(p, outs[i].name, len)) {
                mask |= outs[i].bit;
                found = true;
            }
        if (!found)
            return "unknown output (use com1..com4 and e9, comma-separated)";
        p += len + (end ? 1 : 0);
    }
    if (!mask)
        return "no output given";
    cfg->console = mask;
    return NULL;
}

static const char *opt_smp(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    uint64_t v;
    const char *p = val;
    (void)note, (void)notelen;
    if (!strcmp(val, "all")) {
        cfg->max_cpus = 0;
        return NULL;
    }
    if (!parse_u64(&p, &v) || *p)
        return "not a number";
    if (v < 1 || v > MAX_CPUS)
        return "out of range 1..64";
    cfg->max_cpus = (unsigned)v;
    return NULL;
}

static const char *opt_trace_exits(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    uint64_t v;
    const char *p = val;
    (void)note, (void)notelen;
    if (!parse_u64(&p, &v) || *p)
        return "not a number";
    if (v > 100000)
        return "out of range 0..100000";
    cfg->trace_exits = (unsigned)v;
    return NULL;
}

static const char *opt_boot(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    if (!strcmp(val, "bios")) {
        cfg->boot_drive = -1;
        return NULL;
    }
    if (val[0] == 'h' && val[1] == 'd' && val[2] >= '0' && val[2] <= '3' && !val[3]) {
        cfg->boot_drive = 0x80 + (val[2] - '0');
        return NULL;
    }
    return "not a boot device (bios, hd0..hd3)";
}

/* on|off options: the field each one sets. */
static const char *parse_on_off(const char *val, bool *field)
{
    if (!strcmp(val, "on"))
        *field = true;
    else if (!strcmp(val, "off"))
        *field = false;
    else
        return "not on or off";
    return NULL;
}

static const char *opt_nested(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    return parse_on_off(val, &cfg->nested);
}

static const char *opt_passthrough(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    return parse_on_off(val, &cfg->passthrough);
}

static const char *opt_vmcs_shadow(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    return parse_on_off(val, &cfg->vmcs_shadow);
}

static const char *opt_vmcs02_keep(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    return parse_on_off(val, &cfg->vmcs02_keep);
}

static const char *opt_serial_mirror(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    if (!strcmp(val, "off")) {
        cfg->serial_mirror = -1;
        return NULL;
    }
    if (val[0] >= '0' && val[0] <= '7' && !val[1]) {
        cfg->serial_mirror = val[0] - '0';
        return NULL;
    }
    return "not a user VM number 0..7 or off";
}

/* One to two hex digits, then `sep` (or the end of the string for '\0'). */
static bool parse_hex_field(const char **p, char sep, unsigned max, unsigned *out)
{
    unsigned v = 0, n = 0;
    const char *s = *p;
    for (; n < 2; n++, s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') d = (unsigned)(*s - '0');
        else if (*s >= 'a' && *s <= 'f') d = (unsigned)(*s - 'a' + 10);
        else if (*s >= 'A' && *s <= 'F') d = (unsigned)(*s - 'A' + 10);
        else break;
        v = v * 16 + d;
    }
    if (!n || *s != sep || v > max)
        return false;
    *p = sep ? s + 1 : s;
    *out = v;
    return true;
}

static const char *opt_net_nic(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    unsigned bus, dev, fn;
    const char *p = val;
    (void)note, (void)notelen;
    if (!strcmp(val, "auto")) {
        cfg->net_nic = -1;
        return NULL;
    }
    if (!parse_hex_field(&p, ':', 0xFF, &bus) || !parse_hex_field(&p, '.', 0x1F, &dev) ||
        !parse_hex_field(&p, '\0', 7, &fn))
        return "not a PCI address (bus:device.function in hex, e.g. 00:03.0, or auto)";
    cfg->net_nic = (int32_t)(bus << 8 | dev << 3 | fn);
    return NULL;
}

/* A dotted-quad IPv4 address (host byte order). */
static bool parse_ipv4(const char **p, uint32_t *out)
{
    uint32_t ip = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t octet;
        const char *start = *p;
        if (!parse_u64(p, &octet) || *p == start || octet > 255)
            return false;
        ip = ip << 8 | (uint32_t)octet;
        if (i < 3) {
            if (**p != '.')
                return false;
            (*p)++;
        }
    }
    *out = ip;
    return true;
}

static const char *opt_net_ip(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    if (!strcmp(val, "dhcp")) {
        cfg->net_ip = 0;
        cfg->net_prefix = 0;
        cfg->net_gw = 0;
        return NULL;
    }
    const char *p = val;
    uint32_t ip, gw = 0;
    uint64_t prefix;
    if (!parse_ipv4(&p, &ip) || *p != '/')
        return "expected dhcp or ADDRESS/PREFIX[,GATEWAY], e.g. 10.0.2.15/24,10.0.2.2";
    p++;
    if (!parse_u64(&p, &prefix) || prefix < 1 || prefix > 30)
        return "prefix length must be 1..30";
    if (*p == ',') {
        p++;
        if (!parse_ipv4(&p, &gw))
            return "gateway is not an IPv4 address";
    }
    if (*p)
        return "unexpected text after the address";
    uint32_t mask = ~0u << (32 - prefix);
    if (ip == 0 || (ip >> 24) == 127 || (ip >> 28) >= 14 || (ip & ~mask) == 0 ||
        (ip & ~mask) == ~mask)
        return "not a usable host address (network, broadcast, loopback or multicast)";
    if (gw != 0 && (gw & mask) != (ip & mask))
        return "gateway is not in the address's subnet";
    cfg->net_ip = ip;
    cfg->net_prefix = (uint8_t)prefix;
    cfg->net_gw = gw;
    return NULL;
}

static const char *port_value(const char *val, bool zero_ok, uint16_t *out)
{
    uint64_t v;
    const char *p = val;
    if (!parse_u64(&p, &v) || *p || p == val)
        return "not a number";
    if ((v == 0 && !zero_ok) || v > 65535)
        return zero_ok ? "out of range 0..65535" : "out of range 1..65535";
    *out = (uint16_t)v;
    return NULL;
}

static const char *opt_console_port(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    return port_value(val, false, &cfg->console_port);
}

static const char *opt_vnc_port(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    uint16_t v;
    const char *why = port_value(val, true, &v);
    if (why)
        return why;
    if (v != 0 && (unsigned)v + 63 > 65535)
        return "base too high: VM n listens on base + n (n up to 63)";
    if (v != 0 && v <= cfg->console_port && cfg->console_port <= (unsigned)v + 63)
        return "overlaps the console port";
    cfg->vnc_port = v;
    return NULL;
}

static const char *opt_selftest(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)note, (void)notelen;
    if (!strcmp(val, "exception"))
        cfg->selftest = SELFTEST_EXCEPTION;
    else if (!strcmp(val, "none"))
        cfg->selftest = SELFTEST_NONE;
    else
        return "unknown self-test (exception, none)";
    return NULL;
}

static const char *opt_help(const char *val, struct vsb_config *cfg, char *note, size_t notelen)
{
    (void)val, (void)note, (void)notelen;
    cfg->help = true;
    return NULL;
}

static const struct cmdline_opt options[] = {
    { "mem", "SIZE", "128M", "hypervisor region size, 32M..2048M, carved from the top of RAM below 4 GiB", opt_mem, false },
    { "console", "LIST", "com1,e9", "console outputs: com1..com4, e9 (emulator debug port)", opt_console, false },
    { "boot", "DEV", "bios", "what the cloud VM boots: bios = the firmware's boot order (INT 19h), hd0..hd3 = that disk's MBR", opt_boot, false },
    { "nested", "on|off", "on", "offer VT-x to the cloud VM (nested VMX: its hypervisor can run user VMs)", opt_nested, false },
    { "passthrough", "on|off", "on", "keep user VMs' serial, keyboard and VGA in vsbypass (off: left to the cloud, for comparison)", opt_passthrough, false },
    { "vmcs_shadow", "on|off", "on", "let L1's VMREAD/VMWRITE use a shadow VMCS where the CPU can (off: every one exits, for comparison)", opt_vmcs_shadow, false },
    { "vmcs02_keep", "on|off", "on", "keep each VMCS02 between L2 entries, writing only what L1 changed (off: rebuilt at every entry, for comparison)", opt_vmcs02_keep, false },
    { "serial_mirror", "N|off", "off", "debug, trusted console only: copy user VM N's shadow serial output to COM2", opt_serial_mirror, false },
    { "smp", "N", "all", "start at most N CPUs (1..64)", opt_smp, false },
    { "selftest", "NAME", "none", "after boot, run a self-test: 'exception' raises #UD to show the fault report", opt_selftest, false },
    { "trace_exits", "N", "0", "diagnostics: log the first N cloud-VM exits on each CPU", opt_trace_exits, false },
    { "net_nic", "BB:DD.F", "auto", "management NIC's PCI address (hex); auto = the first Intel 82540EM/82545EM", opt_net_nic, false },
    { "net_ip", "dhcp|A.B.C.D/N[,GW]", "dhcp", "management address: DHCP, or static address/prefix and an optional gateway", opt_net_ip, false },
    { "console_port", "N", "7001", "TCP port of the tenant console (TLS)", opt_console_port, false },
    { "vnc_port", "N", "5900", "VNC over TLS: user VM n on port N + n; 0 = no VNC", opt_vnc_port, false },
    { "help", "", "", "print this option list at boot", opt_help, true },
};

void cmdline_defaults(struct vsb_config *cfg)
{
    cfg->region_size = REGION_DEFAULT_MIB * MIB;
    cfg->console = CON_DEFAULT;
    cfg->max_cpus = 0;
    cfg->selftest = SELFTEST_NONE;
    cfg->help = false;
    cfg->trace_exits = 0;
    cfg->boot_drive = -1;
    cfg->nested = true;
    cfg->passthrough = true;
    cfg->vmcs_shadow = true;
    cfg->vmcs02_keep = true;
    cfg->serial_mirror = -1;
    cfg->net_nic = -1;
    cfg->net_ip = 0;
    cfg->net_prefix = 0;
    cfg->net_gw = 0;
    cfg->console_port = 7001;
    cfg->vnc_port = 5900;
}

static void reportf(cmdline_report report, void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reportf(cmdline_report report, void *ctx, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    report(ctx, msg);
}

static const struct cmdline_opt *find_opt(const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        if (strlen(options[i].key) == len && !strncmp(options[i].key, key, len))
            return &options[i];
    return NULL;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

unsigned cmdline_parse(const char *line, struct vsb_config *cfg,
                       cmdline_report report, void *ctx)
{
    unsigned msgs = 0;
    bool first = true;
    const char *p = line;
    while (*p) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && !is_space(*p))
            p++;
        size_t toklen = (size_t)(p - tok);
        const char *eq = memchr(tok, '=', toklen);
        size_t keylen = eq ? (size_t)(eq - tok) : toklen;
        /* GRUB passes the image path first ("/boot/vsbypass.elf ..."). */
        if (first && !eq && (tok[0] == '/' || tok[0] == '('))  {
            first = false;
            continue;
        }
        first = false;
        const struct cmdline_opt *o = find_opt(tok, keylen);
        if (!o) {
            reportf(report, ctx, "cmdline: unknown option '%.*s' ignored (boot with 'help' to list options)",
                    (int)(toklen > VALUE_MAX ? VALUE_MAX : toklen), tok);
            msgs++;
            continue;
        }
        if (o->flag != !eq || (eq && toklen == keylen + 1)) {
            reportf(report, ctx, o->flag ? "cmdline: option '%s' takes no value; ignored"
                                         : "cmdline: option '%s' needs a value (%s=%s); using default %s",
                    o->key, o->key, o->syntax, o->def);
            msgs++;
            if (!o->flag)
                o->parse(o->def, cfg, (char[8]){ 0 }, 8);
            continue;
        }
        char val[VALUE_MAX + 1] = "";
        size_t vlen = eq ? toklen - keylen - 1 : 0;
        if (vlen > VALUE_MAX) {
            reportf(report, ctx, "cmdline: %s=: value longer than %d characters; using default %s",
                    o->key, VALUE_MAX, o->def);
            msgs++;
            o->parse(o->def, cfg, (char[8]){ 0 }, 8);
            continue;
        }
        if (eq)
            memcpy(val, eq + 1, vlen);
        val[vlen] = '\0';
        char note[96] = "";
        const char *why = o->parse(val, cfg, note, sizeof(note));
        if (why) {
            reportf(report, ctx, "cmdline: %s=%s: %s; using default %s", o->key, val, why, o->def);
            msgs++;
            /* An earlier good value for this key must not survive: re-apply the default. */
            o->parse(o->def, cfg, note, sizeof(note));
        } else if (note[0]) {
            reportf(report, ctx, "cmdline: %s=%s: %s", o->key, val, note);
            msgs++;
        }
    }
    return msgs;
}

void cmdline_help(cmdline_report report, void *ctx)
{
    reportf(report, ctx, "options (key=value, space-separated, on the multiboot command line):");
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
        const struct cmdline_opt *o = &options[i];
        reportf(report, ctx, "  %s%s%-*s %s%s%s%s", o->key, o->flag ? "" : "=", 14 - (int)strlen(o->key) - (o->flag ? 0 : 1),
                o->syntax, o->help, o->def[0] ? " [default " : "", o->def, o->def[0] ? "]" : "");
    }
}
