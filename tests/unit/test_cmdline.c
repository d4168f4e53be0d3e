/* core/cmdline.c: option parsing and the messages it reports. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/cmdline.h"
#include "core/log.h"
#include <stdio.h>
#include <string.h>

#define MIB (1024ULL * 1024)

struct msgs {
    char text[24][256];
    unsigned n;
};

static void capture(void *ctx, const char *msg)
{
    struct msgs *m = ctx;
    if (m->n < 24) {
        strncpy(m->text[m->n], msg, sizeof(m->text[0]) - 1);
        m->text[m->n][sizeof(m->text[0]) - 1] = '\0';
    }
    m->n++;
}

/* Parses `line` from the defaults; checks the return value matches the
 * number of messages actually delivered. */
static unsigned parse(const char *line, struct vsb_config *cfg, struct msgs *m)
{
    memset(m, 0, sizeof(*m));
    cmdline_defaults(cfg);
    unsigned n = cmdline_parse(line, cfg, capture, m);
    assert_int_equal(n, m->n);
    return n;
}

static void expect_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("\"%s\" does not contain \"%s\"", text, needle);
}

static void expect_defaults(const struct vsb_config *cfg)
{
    assert_int_equal(cfg->region_size, 128 * MIB);
    assert_int_equal(cfg->console, CON_COM1 | CON_E9);
    assert_int_equal(cfg->max_cpus, 0);
    assert_int_equal(cfg->selftest, SELFTEST_NONE);
    assert_false(cfg->help);
}

static void test_defaults_and_empty_line(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("", &cfg, &m), 0);
    expect_defaults(&cfg);
    assert_int_equal(parse(" \t \n ", &cfg, &m), 0);
    expect_defaults(&cfg);
}

static void test_mem_sizes(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("mem=256M", &cfg, &m), 0);
    assert_int_equal(cfg.region_size, 256 * MIB);
    assert_int_equal(parse("mem=1G", &cfg, &m), 0);
    assert_int_equal(cfg.region_size, 1024 * MIB);
    assert_int_equal(parse("mem=131072K", &cfg, &m), 0);
    assert_int_equal(cfg.region_size, 128 * MIB);
    assert_int_equal(parse("mem=64m", &cfg, &m), 0);
    assert_int_equal(cfg.region_size, 64 * MIB);
    assert_int_equal(parse("mem=2048M", &cfg, &m), 0);
    assert_int_equal(cfg.region_size, 2048 * MIB);
    assert_int_equal(parse("mem=33554432", &cfg, &m), 0);     /* bytes, no suffix */
    assert_int_equal(cfg.region_size, 32 * MIB);
}

static void test_mem_not_a_size(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("mem=banana", &cfg, &m), 1);
    expect_contains(m.text[0], "mem=banana");
    expect_contains(m.text[0], "using default 128M");
    expect_defaults(&cfg);
    assert_int_equal(parse("mem=12Q", &cfg, &m), 1);
    expect_contains(m.text[0], "not a size");
    assert_int_equal(parse("mem=1MB", &cfg, &m), 1);
    expect_contains(m.text[0], "mem=1MB");
    assert_int_equal(parse("mem=99999999999999999999", &cfg, &m), 1);
    expect_contains(m.text[0], "not a size");
    assert_int_equal(parse("mem=17179869184G", &cfg, &m), 1);
    expect_contains(m.text[0], "too large");
    expect_defaults(&cfg);
}

static void test_mem_out_of_range(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("mem=8M", &cfg, &m), 1);
    expect_contains(m.text[0], "mem=8M");
    expect_contains(m.text[0], "below the minimum of 32M");
    expect_contains(m.text[0], "using default 128M");
    assert_int_equal(cfg.region_size, 128 * MIB);
    assert_int_equal(parse("mem=31M", &cfg, &m), 1);
    assert_int_equal(parse("mem=2049M", &cfg, &m), 1);
    expect_contains(m.text[0], "above the maximum of 2048M");
    assert_int_equal(cfg.region_size, 128 * MIB);
    assert_int_equal(parse("mem=32M", &cfg, &m), 0);
    assert_int_equal(cfg.region_size, 32 * MIB);
}

static void test_mem_rounded_up(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("mem=99M", &cfg, &m), 1);
    assert_string_equal(m.text[0], "cmdline: mem=99M: rounded up to 100M (2 MiB pages)");
    assert_int_equal(cfg.region_size, 100 * MIB);
    assert_int_equal(parse("mem=40961K", &cfg, &m), 1);    /* 40 MiB + 1 KiB */
    expect_contains(m.text[0], "rounded up to 42M");
    assert_int_equal(cfg.region_size, 42 * MIB);
}

static void test_mem_empty_value(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("mem=", &cfg, &m), 1);
    assert_string_equal(m.text[0], "cmdline: option 'mem' needs a value (mem=SIZE); using default 128M");
    expect_defaults(&cfg);
    assert_int_equal(parse("mem", &cfg, &m), 1);
    expect_contains(m.text[0], "needs a value");
}

static void test_unknown_key(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("foo=bar mem=64M", &cfg, &m), 1);
    expect_contains(m.text[0], "'foo=bar'");
    expect_contains(m.text[0], "help");
    assert_int_equal(cfg.region_size, 64 * MIB);      /* parsing went on */
    assert_int_equal(parse("memory=64M", &cfg, &m), 1);   /* a prefix is not a match */
    expect_contains(m.text[0], "memory");
    assert_int_equal(cfg.region_size, 128 * MIB);
}

static void test_boot_path_skipped(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("/boot/vsbypass.elf mem=256M", &cfg, &m), 0);
    assert_int_equal(cfg.region_size, 256 * MIB);
    assert_int_equal(parse("(hd0,msdos1)/vsbypass.elf", &cfg, &m), 0);
    /* Only the first token may be a path. */
    assert_int_equal(parse("smp=2 /boot/x", &cfg, &m), 1);
    expect_contains(m.text[0], "/boot/x");
}

static void test_console(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("console=com2,e9", &cfg, &m), 0);
    assert_int_equal(cfg.console, CON_COM2 | CON_E9);
    assert_int_equal(parse("console=com4", &cfg, &m), 0);
    assert_int_equal(cfg.console, CON_COM4);
    assert_int_equal(parse("console=lpt1", &cfg, &m), 1);
    expect_contains(m.text[0], "console=lpt1");
    expect_contains(m.text[0], "unknown output");
    expect_contains(m.text[0], "using default com1,e9");
    assert_int_equal(cfg.console, CON_DEFAULT);
    assert_int_equal(parse("console=com1,lpt1", &cfg, &m), 1);  /* all or nothing */
    assert_int_equal(cfg.console, CON_DEFAULT);
    assert_int_equal(parse("console=,", &cfg, &m), 1);
    assert_int_equal(cfg.console, CON_DEFAULT);
}

static void test_smp(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("smp=2", &cfg, &m), 0);
    assert_int_equal(cfg.max_cpus, 2);
    assert_int_equal(parse("smp=64", &cfg, &m), 0);
    assert_int_equal(cfg.max_cpus, 64);
    assert_int_equal(parse("smp=0", &cfg, &m), 1);
    expect_contains(m.text[0], "smp=0: out of range 1..64; using default all");
    assert_int_equal(cfg.max_cpus, 0);
    assert_int_equal(parse("smp=65", &cfg, &m), 1);
    expect_contains(m.text[0], "smp=65");
    assert_int_equal(cfg.max_cpus, 0);
    assert_int_equal(parse("smp=two", &cfg, &m), 1);
    expect_contains(m.text[0], "not a number");
    assert_int_equal(cfg.max_cpus, 0);
}

static void test_selftest(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("selftest=exception", &cfg, &m), 0);
    assert_int_equal(cfg.selftest, SELFTEST_EXCEPTION);
    assert_int_equal(parse("selftest=reboot", &cfg, &m), 1);
    expect_contains(m.text[0], "selftest=reboot");
    assert_int_equal(cfg.selftest, SELFTEST_NONE);
}

static void test_help_flag(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("help", &cfg, &m), 0);
    assert_true(cfg.help);
    assert_int_equal(parse("help=1", &cfg, &m), 1);
    assert_string_equal(m.text[0], "cmdline: option 'help' takes no value; ignored");
    assert_false(cfg.help);
    assert_int_equal(parse("help=", &cfg, &m), 1);
    assert_false(cfg.help);
}

static void test_long_values(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    char line[256] = "console=";
    memset(line + 8, 'a', 200);
    line[208] = '\0';
    assert_int_equal(parse(line, &cfg, &m), 1);
    expect_contains(m.text[0], "console=: value longer than 64 characters; using default com1,e9");
    assert_int_equal(cfg.console, CON_DEFAULT);

    /* A long unknown token is quoted, cut to 64 characters. */
    memset(line, 'k', 200);
    line[200] = '\0';
    assert_int_equal(parse(line, &cfg, &m), 1);
    char quoted[80];
    quoted[0] = '\'';
    memset(quoted + 1, 'k', 64);
    strcpy(quoted + 65, "' ignored");
    expect_contains(m.text[0], quoted);
}

static void test_spaces_tabs_and_several_messages(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("  /boot/vsbypass.elf\t\tmem=99M   smp=3\t console=com3 x=y smp=0 help  ",
                           &cfg, &m), 3);
    expect_contains(m.text[0], "rounded up to 100M");
    expect_contains(m.text[1], "'x=y'");
    expect_contains(m.text[2], "smp=0");
    assert_int_equal(cfg.region_size, 100 * MIB);
    assert_int_equal(cfg.max_cpus, 0);      /* smp=0 was refused: back to the default */
    assert_int_equal(cfg.console, CON_COM3);
    assert_true(cfg.help);
}

/* A bad value after a good one falls back to the default, as the message says. */
static void test_bad_value_resets_earlier_good_one(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("mem=256M mem=banana smp=2 smp=x console=com2 console=", &cfg, &m), 3);
    assert_int_equal(cfg.region_size, 128ULL << 20);
    assert_int_equal(cfg.max_cpus, 0);
    assert_int_equal(cfg.console, CON_DEFAULT);
    assert_int_equal(parse("trace_exits=12", &cfg, &m), 0);
    assert_int_equal(cfg.trace_exits, 12);
    assert_int_equal(parse("trace_exits=12 trace_exits=many", &cfg, &m), 1);
    assert_int_equal(cfg.trace_exits, 0);
}

static void test_boot_device(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("", &cfg, &m), 0);
    assert_int_equal(cfg.boot_drive, -1);
    assert_int_equal(parse("boot=hd0", &cfg, &m), 0);
    assert_int_equal(cfg.boot_drive, 0x80);
    assert_int_equal(parse("boot=hd3", &cfg, &m), 0);
    assert_int_equal(cfg.boot_drive, 0x83);
    assert_int_equal(parse("boot=hd2 boot=bios", &cfg, &m), 0);
    assert_int_equal(cfg.boot_drive, -1);
    assert_int_equal(parse("boot=hd1 boot=hd4", &cfg, &m), 1);
    expect_contains(m.text[0], "boot=hd4: not a boot device (bios, hd0..hd3); using default bios");
    assert_int_equal(cfg.boot_drive, -1);
    assert_int_equal(parse("boot=hd", &cfg, &m), 1);
    assert_int_equal(parse("boot=hd00", &cfg, &m), 1);
}

static void test_passthrough_and_mirror(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("", &cfg, &m), 0);
    assert_true(cfg.passthrough);
    assert_int_equal(cfg.serial_mirror, -1);
    assert_int_equal(parse("passthrough=off serial_mirror=3", &cfg, &m), 0);
    assert_false(cfg.passthrough);
    assert_int_equal(cfg.serial_mirror, 3);
    assert_int_equal(parse("passthrough=maybe serial_mirror=8", &cfg, &m), 2);
    assert_true(cfg.passthrough);
    assert_int_equal(cfg.serial_mirror, -1);
    expect_contains(m.text[1], "serial_mirror=8: not a user VM number 0..7 or off; using default off");
    assert_int_equal(parse("nested=off", &cfg, &m), 0);
    assert_false(cfg.nested);
}

static void test_net_ip_and_ports(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("", &cfg, &m), 0);
    assert_int_equal(cfg.net_ip, 0);
    assert_int_equal(cfg.console_port, 7001);
    assert_int_equal(cfg.vnc_port, 5900);
    assert_int_equal(parse("net_ip=10.0.2.15/24,10.0.2.2", &cfg, &m), 0);
    assert_int_equal(cfg.net_ip, 0x0A00020F);
    assert_int_equal(cfg.net_prefix, 24);
    assert_int_equal(cfg.net_gw, 0x0A000202);
    assert_int_equal(parse("net_ip=192.168.1.9/16", &cfg, &m), 0);
    assert_int_equal(cfg.net_ip, 0xC0A80109);
    assert_int_equal(cfg.net_gw, 0);
    assert_int_equal(parse("net_ip=10.0.2.15/24 net_ip=dhcp", &cfg, &m), 0);
    assert_int_equal(cfg.net_ip, 0);
    static const char *const bad[] = {
        "10.0.2.15", "10.0.2/24", "10.0.2.256/24", "10.0.2.15/0", "10.0.2.15/31",
        "10.0.2.15/24,10.0.3.2", "10.0.2.0/24", "10.0.2.255/24", "127.0.0.1/8",
        "224.0.0.1/4", "10.0.2.15/24,", "10.0.2.15/24x", "x", "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[80];
        snprintf(line, sizeof(line), "net_ip=%s", bad[i]);
        assert_int_equal(parse(line, &cfg, &m), 1);
        assert_int_equal(cfg.net_ip, 0);            /* the default: DHCP */
    }
    expect_contains(m.text[0], "using default dhcp");
    assert_int_equal(parse("console_port=8443 vnc_port=15900", &cfg, &m), 0);
    assert_int_equal(cfg.console_port, 8443);
    assert_int_equal(cfg.vnc_port, 15900);
    assert_int_equal(parse("vnc_port=0", &cfg, &m), 0);
    assert_int_equal(cfg.vnc_port, 0);
    assert_int_equal(parse("console_port=0", &cfg, &m), 1);
    assert_int_equal(cfg.console_port, 7001);
    assert_int_equal(parse("console_port=70000", &cfg, &m), 1);
    assert_int_equal(parse("vnc_port=65500", &cfg, &m), 1);
    assert_int_equal(cfg.vnc_port, 5900);
    assert_int_equal(parse("vnc_port=6990", &cfg, &m), 1);     /* 6990..7053 holds 7001 */
    expect_contains(m.text[0], "overlaps the console port");
    assert_int_equal(cfg.vnc_port, 5900);
}

static void test_net_nic(void **state)
{
    (void)state;
    struct vsb_config cfg;
    struct msgs m;
    assert_int_equal(parse("", &cfg, &m), 0);
    assert_int_equal(cfg.net_nic, -1);
    assert_int_equal(parse("net_nic=00:03.0", &cfg, &m), 0);
    assert_int_equal(cfg.net_nic, 3 << 3);
    assert_int_equal(parse("net_nic=ff:1f.7", &cfg, &m), 0);
    assert_int_equal(cfg.net_nic, 0xFF << 8 | 0x1F << 3 | 7);
    assert_int_equal(parse("net_nic=3:A.1", &cfg, &m), 0);
    assert_int_equal(cfg.net_nic, 3 << 8 | 0xA << 3 | 1);
    assert_int_equal(parse("net_nic=00:09.0 net_nic=auto", &cfg, &m), 0);
    assert_int_equal(cfg.net_nic, -1);
    static const char *const bad[] = { "00:20.0", "00:03.8", "100:00.0", "00:03", "00.03.0",
                                       "0000:00:03.0", "00:03.0x", ":03.0", "00:.0", "g0:03.0" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[64];
        snprintf(line, sizeof(line), "net_nic=00:02.0 net_nic=%s", bad[i]);
        assert_int_equal(parse(line, &cfg, &m), 1);
        assert_int_equal(cfg.net_nic, -1);
    }
    expect_contains(m.text[0], "net_nic=g0:03.0: not a PCI address (bus:device.function in hex, "
                               "e.g. 00:03.0, or auto); using default auto");
}

static void test_help_table(void **state)
{
    (void)state;
    struct msgs m = { .n = 0 };
    cmdline_help(capture, &m);
    assert_int_equal(m.n, 17);
    expect_contains(m.text[0], "options");
    assert_string_equal(m.text[1], "  mem=SIZE       hypervisor region size, 32M..2048M, carved from the "
                                   "top of RAM below 4 GiB [default 128M]");
    expect_contains(m.text[2], "console=LIST");
    expect_contains(m.text[3], "boot=DEV");
    expect_contains(m.text[4], "nested=on|off");
    expect_contains(m.text[5], "passthrough=on|off");
    expect_contains(m.text[6], "vmcs_shadow=on|off");
    expect_contains(m.text[7], "vmcs02_keep=on|off");
    expect_contains(m.text[8], "serial_mirror=N|off");
    expect_contains(m.text[9], "[default all]");
    expect_contains(m.text[11], "trace_exits=N");
    expect_contains(m.text[12], "net_nic=BB:DD.F");
    expect_contains(m.text[13], "net_ip=dhcp|A.B.C.D/N[,GW]");
    expect_contains(m.text[14], "console_port=N");
    expect_contains(m.text[15], "vnc_port=N");
    assert_string_equal(m.text[16], "  help           print this option list at boot");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_empty_line),
        cmocka_unit_test(test_mem_sizes),
        cmocka_unit_test(test_mem_not_a_size),
        cmocka_unit_test(test_mem_out_of_range),
        cmocka_unit_test(test_mem_rounded_up),
        cmocka_unit_test(test_mem_empty_value),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_boot_path_skipped),
        cmocka_unit_test(test_console),
        cmocka_unit_test(test_smp),
        cmocka_unit_test(test_selftest),
        cmocka_unit_test(test_help_flag),
        cmocka_unit_test(test_long_values),
        cmocka_unit_test(test_spaces_tabs_and_several_messages),
        cmocka_unit_test(test_bad_value_resets_earlier_good_one),
        cmocka_unit_test(test_boot_device),
        cmocka_unit_test(test_passthrough_and_mirror),
        cmocka_unit_test(test_net_nic),
        cmocka_unit_test(test_net_ip_and_ports),
        cmocka_unit_test(test_help_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
