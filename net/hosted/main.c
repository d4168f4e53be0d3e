/* vsbconsole-hosted: the tenant console service as a Linux program.
 *
 * The same net/ and shadow/ code the hypervisor runs (lwIP NO_SYS=1, the
 * BearSSL altcp layer, the console service, the shadow 16550A UART and its
 * scrollback ring), with Linux underneath: the in-process link of link.h
 * instead of the management NIC, getrandom instead of RDSEED, and fake
 * guests instead of user VMs. Each fake guest drives its shadow UART
 * through the register interface like a driver would: it prints a banner,
 * echoes every character it receives, and prints "<BREAK>" for a break.
 *
 * Each VM also has a shadow VGA and i8042 driven by a fake text-mode shell
 * (vga_guest.h), served over VNC (VeNCrypt X509) on port VNC_BASE + vm.
 *
 * SIGUSR1 prints a "stats:" line (also printed at exit, on SIGINT/SIGTERM)
 * and, with --fb-dump DIR, writes each VM's screen to DIR/vmN.ppm. The
 * line of counters is what tests compare before and after a load.
 *
 * SIGUSR2 releases VM 0 and serves a new guest under its number, as the
 * hypervisor does when the cloud VM stops running a user VM and starts
 * another (console_srv_remove_vm, vnc_srv_remove_vm, then add again). */
#define _GNU_SOURCE
#include "net/hosted/link.h"
#include "net/hosted/vga_guest.h"
#include "net/policy.h"
#include "net/port.h"
#include "net/stack/altcp_bearssl.h"
#include "net/stack/console_srv.h"
#include "net/stack/vnc_srv.h"
#include "shadow/uart.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lwip/init.h>
#include <lwip/memp.h>
#include <lwip/stats.h>
#include <lwip/tcp.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/timeouts.h>

#define MAX_VMS 16
#define VM_RING (64 * 1024)

struct fake_vm {
    unsigned id;
    bool booted;
    struct uart uart;
    uint8_t ring[VM_RING];
    struct vga_guest *vga;
};

static struct fake_vm vms[MAX_VMS];
static unsigned nvms = 4;
static const char *fb_dump_dir;
static volatile sig_atomic_t want_stats, want_stop, want_renew;
static struct altcp_bearssl_config tls_cfg;
static struct policy policy;

static void guest_puts(struct fake_vm *vm, const char *s)
{
    while (*s)
        uart_write(&vm->uart, UART_THR, (uint8_t)*s++);
}

/* One step of the fake guest: a polled-mode driver loop. */
static bool guest_step(struct fake_vm *vm)
{
    bool moved = false;
    if (!vm->booted) {
        vm->booted = true;
        uart_write(&vm->uart, UART_LCR, 0x03);          /* 8N1 */
        uart_write(&vm->uart, UART_FCR, UART_FCR_FIFOE | UART_FCR_RFRES | UART_FCR_XFRES);
        uart_write(&vm->uart, UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
        char banner[80];
        snprintf(banner, sizeof(banner), "vsbypass hosted echo guest: vm %u ready\r\n", vm->id);
        guest_puts(vm, banner);
        moved = true;
    }
    for (;;) {
        uint8_t lsr = uart_read(&vm->uart, UART_LSR);
        if (!(lsr & UART_LSR_DR))
            break;
        uint8_t c = uart_read(&vm->uart, UART_RBR);
        if (lsr & UART_LSR_BI)
            guest_puts(vm, "<BREAK>\r\n");
        else
            uart_write(&vm->uart, UART_THR, c);
        moved = true;
    }
    return moved;
}

static void print_stats(void)
{
    struct altcp_bearssl_stats ts;
    struct console_srv_stats cs;
    struct link_stats ls;
    altcp_bearssl_get_stats(&ts);
    console_srv_get_stats(&cs);
    link_get_stats(&ls);
    struct vnc_srv_stats vs;
    vnc_srv_get_stats(&vs);
    unsigned active = 0, tw = 0;
    for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next)
        active++;
    for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next)
        tw++;
    net_log("stats: tls_slots=%u sessions=%u bridges=%u tcp_active=%u altcp_pcbs=%u "
            "pbuf_pool=%u mem_used=%u | tcp_timewait=%u tls_high=%u tls_accepted=%llu "
            "handshakes_ok=%llu handshakes_failed=%llu tls_refused_full=%llu "
            "console_opened=%llu console_refused=%llu console_closed=%llu frames=%llu dropped=%llu",
            ts.slots_in_use, cs.sessions, ls.bridges, active,
            (unsigned)lwip_stats.memp[MEMP_ALTCP_PCB]->used,
            (unsigned)lwip_stats.memp[MEMP_PBUF_POOL]->used, (unsigned)lwip_stats.mem.used, tw,
            ts.slots_high, (unsigned long long)ts.accepted,
            (unsigned long long)ts.handshakes_ok, (unsigned long long)ts.handshakes_failed,
            (unsigned long long)ts.refused_full, (unsigned long long)cs.opened,
            (unsigned long long)cs.refused, (unsigned long long)cs.closed,
            (unsigned long long)ls.frames, (unsigned long long)ls.frames_dropped);
    net_log("stats: vnc_sessions=%u vnc_viewing=%u | vnc_opened=%llu vnc_refused=%llu "
            "vnc_auth_failed=%llu vnc_closed=%llu vnc_updates=%llu vnc_rects=%llu "
            "vnc_copyrects=%llu vnc_bytes=%llu vnc_keys=%llu vnc_keys_dropped=%llu "
            "vnc_renders=%llu vnc_renders_idle=%llu",
            vs.sessions, vs.viewing, (unsigned long long)vs.opened,
            (unsigned long long)vs.refused, (unsigned long long)vs.auth_failed,
            (unsigned long long)vs.closed, (unsigned long long)vs.updates,
            (unsigned long long)vs.rects, (unsigned long long)vs.copyrects,
            (unsigned long long)vs.bytes_sent, (unsigned long long)vs.keys,
            (unsigned long long)vs.keys_dropped, (unsigned long long)vs.renders,
            (unsigned long long)vs.renders_idle);
    for (unsigned i = 0; fb_dump_dir != NULL && i < nvms; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/vm%u.ppm", fb_dump_dir, i);
        if (!vga_guest_dump_ppm(vms[i].vga, path))
            net_log("fb-dump: cannot write %s", path);
    }
}

/* VM 0 goes; a new guest with fresh devices takes its number. */
static void renew_vm0(bool vnc)
{
    struct fake_vm *vm = &vms[0];
    console_srv_remove_vm(0);
    if (vnc)
        vnc_srv_remove_vm(0);
    vm->booted = false;
    uart_init(&vm->uart, vm->ring, sizeof(vm->ring));
    vga_guest_init(vm->vga, 0);
    console_srv_add_vm(0, &vm->uart, NULL);
    char err[160];
    struct vnc_srv_vm dev = { .vga = &vm->vga->vga, .kbd = &vm->vga->kbd, .fb = vm->vga->fb };
    if (vnc && !vnc_srv_add_vm(0, &dev, err, sizeof(err)))
        net_log("%s", err);
    net_log("vm 0 renewed");
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        want_stats = 1;
    else if (sig == SIGUSR2)
        want_renew = 1;
    else
        want_stop = 1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "vsbconsole-hosted: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n == cap)
            buf = realloc(buf, cap *= 2);
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: vsbconsole-hosted --cert PEM --key PEM --ca PEM --policy FILE\n"
            "           [--port N] [--vms N] [--idle-timeout SEC] [--handshake-timeout SEC]\n"
            "           [--select-timeout SEC] [--vnc-port BASE] [--vnc-idle-timeout SEC]\n"
            "           [--fb-dump DIR]\n"
            "Serves the tenant console over TLS on 127.0.0.1:PORT (default 7001) and\n"
            "VM n's screen over VNC (VeNCrypt X509None/X509Plain) on 127.0.0.1:BASE+n\n"
            "(default 5900; 0: no VNC), through lwIP on an in-process link. VMs are\n"
            "fake guests: an echoing serial console and a text-mode shell on VGA.\n"
            "SIGUSR1: print statistics (and write DIR/vmN.ppm with --fb-dump).\n"
            "SIGUSR2: release VM 0 and serve a new guest as VM 0.\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *ca = NULL, *pol = NULL;
    unsigned port = CONSOLE_SRV_DEFAULT_PORT;
    unsigned idle_s = 600, hs_s = 10, sel_s = 30;
    unsigned vnc_port = VNC_SRV_DEFAULT_PORT, vnc_idle_s = 600;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            usage();
        if (!strcmp(a, "--cert")) cert = v;
        else if (!strcmp(a, "--key")) key = v;
        else if (!strcmp(a, "--ca")) ca = v;
        else if (!strcmp(a, "--policy")) pol = v;
        else if (!strcmp(a, "--port")) port = (unsigned)atoi(v);
        else if (!strcmp(a, "--vms")) nvms = (unsigned)atoi(v);
        else if (!strcmp(a, "--idle-timeout")) idle_s = (unsigned)atoi(v);
        else if (!strcmp(a, "--handshake-timeout")) hs_s = (unsigned)atoi(v);
        else if (!strcmp(a, "--select-timeout")) sel_s = (unsigned)atoi(v);
        else if (!strcmp(a, "--vnc-port")) vnc_port = (unsigned)atoi(v);
        else if (!strcmp(a, "--vnc-idle-timeout")) vnc_idle_s = (unsigned)atoi(v);
        else if (!strcmp(a, "--fb-dump")) fb_dump_dir = v;
        else usage();
        i++;
    }
    if (!cert || !key || !ca || !pol || port == 0 || port > 65535 || nvms == 0 || nvms > MAX_VMS ||
        vnc_port + nvms > 65536)
        usage();

    char err[160];
    size_t clen, klen, calen, plen;
    char *ctext = read_file(cert, &clen), *ktext = read_file(key, &klen);
    char *catext = read_file(ca, &calen), *ptext = read_file(pol, &plen);
    tls_cfg.handshake_timeout_ms = hs_s * 1000;
    if (!altcp_bearssl_config_load(&tls_cfg, ctext, clen, ktext, klen, catext, calen, err, sizeof(err))) {
        net_log("config: %s", err);
        return 1;
    }
    memset(ktext, 0, klen);
    if (!policy_parse(&policy, ptext, plen, err, sizeof(err))) {
        net_log("config: policy %s: %s", pol, err);
        return 1;
    }
    net_log("config: server chain %zu certificate(s), %s key, %zu tenant CA(s), %u tenant rule(s)",
            tls_cfg.chain_len, tls_cfg.key_type == BR_KEYTYPE_EC ? "EC" : "RSA",
            tls_cfg.ta_count, policy.ntenants);
    free(ctext);
    free(ktext);
    free(catext);
    free(ptext);

    lwip_init();
    if (!link_init((uint16_t)port, (uint16_t)port))
        return 1;
    for (unsigned i = 0; i < nvms; i++) {
        vms[i].id = i;
        uart_init(&vms[i].uart, vms[i].ring, sizeof(vms[i].ring));
        console_srv_add_vm(i, &vms[i].uart, NULL);
    }
    static struct console_srv_config ccfg;
    ccfg.port = (uint16_t)port;
    ccfg.idle_timeout_ms = idle_s * 1000;
    ccfg.select_timeout_ms = sel_s * 1000;
    ccfg.policy = &policy;
    ccfg.tls = &tls_cfg;
    if (!console_srv_start(&ccfg, err, sizeof(err))) {
        net_log("console: %s", err);
        return 1;
    }
    for (unsigned i = 0; i < nvms; i++) {
        vms[i].vga = calloc(1, sizeof(struct vga_guest));
        if (vms[i].vga == NULL) {
            net_log("out of memory");
            return 1;
        }
        vga_guest_init(vms[i].vga, i);
    }
    if (vnc_port != 0) {
        static struct vnc_srv_config vcfg;
        vcfg.base_port = (uint16_t)vnc_port;
        vcfg.idle_timeout_ms = vnc_idle_s * 1000;
        vcfg.auth_timeout_ms = hs_s * 1000 * 3;
        vcfg.policy = &policy;
        vcfg.tls = &tls_cfg;
        if (!vnc_srv_start(&vcfg, err, sizeof(err)))
            goto vnc_fail;
        for (unsigned i = 0; i < nvms; i++) {
            struct vga_guest *g = vms[i].vga;
            if (!link_forward((uint16_t)(vnc_port + i), (uint16_t)(vnc_port + i)))
                return 1;
            struct vnc_srv_vm dev = { .vga = &g->vga, .kbd = &g->kbd, .fb = g->fb };
            if (!vnc_srv_add_vm(i, &dev, err, sizeof(err)))
                goto vnc_fail;
        }
    }
    if (0) {
vnc_fail:
        net_log("%s", err);
        return 1;
    }

    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    net_log("ready: %u fake VMs", nvms);
    bool busy = true;
    while (!want_stop) {
        struct pollfd fds[LINK_MAX_BRIDGES + 1];
        size_t n = link_pollfds(fds, LINK_MAX_BRIDGES + 1);
        int timeout = busy ? 0 : 5;
        if (!busy) {
            u32_t next = sys_timeouts_sleeptime();
            if (next < (u32_t)timeout)
                timeout = (int)next;
        }
        int r = poll(fds, n, timeout);
        if (r < 0 && errno != EINTR) {
            net_log("poll: %s", strerror(errno));
            break;
        }
        if (r <= 0)
            for (size_t i = 0; i < n; i++)
                fds[i].revents = 0;
        busy = false;
        busy |= link_service(fds, n);
        busy |= link_deliver() > 0;
        sys_check_timeouts();
        for (unsigned i = 0; i < nvms; i++) {
            busy |= guest_step(&vms[i]);
            busy |= vga_guest_step(vms[i].vga);
            if (vga_guest_take_bell(vms[i].vga))
                vnc_srv_bell(i);
        }
        console_srv_poll();
        if (vnc_port != 0)
            vnc_srv_poll();
        altcp_bearssl_poll();
        busy |= link_deliver() > 0;
        if (want_stats) {
            want_stats = 0;
            print_stats();
        }
        if (want_renew) {
            want_renew = 0;
            renew_vm0(vnc_port != 0);
        }
    }
    print_stats();
    net_log("exit");
    return 0;
}
