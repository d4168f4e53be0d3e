/* The network services inside the hypervisor: started at boot (CORE_INIT)
 * when a management NIC is up, then driven from CPU 0's VM exits
 * (CORE_POLL): lwIP with DHCP on the NIC, the tenant console over TLS on
 * port 7001 and VNC over TLS on 5900 + n, for every user VM's shadow
 * devices as vsbypass creates them, until it releases them.
 *
 * Credentials come as GRUB modules, named by a word in the module's
 * command line: tls-cert (server chain, PEM), tls-key (its key, PEM),
 * tls-ca (the tenant CA, PEM) and policy (net/policy.h). Without all four
 * the services stay off and the log says which is missing. */
#include "core/bootinfo.h"
#include "core/cmdline.h"
#include "core/init.h"
#include "core/layout.h"
#include "core/libc.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/region.h"
#include "drivers/nic.h"
#include "net/kern/kern.h"
#include "net/policy.h"
#include "net/port.h"
#include "net/stack/altcp_bearssl.h"
#include "net/stack/console_srv.h"
#include "net/stack/vnc_srv.h"
#include "shadow/devices.h"
#include <lwip/init.h>
#include <lwip/timeouts.h>

#define FB_BYTES ((uint64_t)VGA_MAX_WIDTH * VGA_MAX_HEIGHT * 4)

static struct altcp_bearssl_config tls;
static struct policy policy;
static struct console_srv_config console_cfg;
static struct vnc_srv_config vnc_cfg;
static bool running, vnc_on;
static bool served[SHADOW_MAX_VMS];     /* the set with this number is registered */
static uint64_t vnc_fb[SHADOW_MAX_VMS]; /* its VNC framebuffer pages; 0: none */

/* The module whose command line has `word` as one of its words. */
static const struct boot_module *module(const char *word)
{
    const struct bootinfo *bi = boot_info();
    size_t wl = strlen(word);
    for (unsigned i = 0; i < bi->nmods; i++) {
        const char *a = bi->mods[i].args;
        for (const char *p = a; *p;) {
            while (*p == ' ')
                p++;
            const char *t = p;
            while (*p && *p != ' ')
                p++;
            if ((size_t)(p - t) == wl && memcmp(t, word, wl) == 0)
                return &bi->mods[i];
        }
    }
    return NULL;
}

static const void *mod_data(const struct boot_module *m, size_t *len)
{
    *len = (size_t)(m->end - m->start);
    return (const void *)(uintptr_t)m->start;
}

static void net_init(void)
{
    if (!nic_up()) {
        kprintf("net: no management NIC running: tenant console and VNC off\n");
        return;
    }
    char why[160];
    const char *rng = net_kern_entropy_source();
    if (rng == NULL) {
        kprintf("net: the CPU has neither RDSEED nor RDRAND: no entropy for TLS, services off\n");
        return;
    }
    if (!net_kern_clock_init(why, sizeof(why))) {
        kprintf("net: %s: certificate validity cannot be checked, services off\n", why);
        return;
    }
    kprintf("net: wall clock %s, entropy from %s\n", why, rng);
    static const char *const names[] = { "tls-cert", "tls-key", "tls-ca", "policy" };
    const struct boot_module *m[4];
    for (unsigned i = 0; i < 4; i++) {
        m[i] = module(names[i]);
        if (m[i] == NULL) {
            kprintf("net: no GRUB module named '%s' (module2 FILE %s): services off\n", names[i],
                    names[i]);
            return;
        }
    }
    size_t cl, kl, al, pl;
    const void *c = mod_data(m[0], &cl), *k = mod_data(m[1], &kl), *a = mod_data(m[2], &al);
    const void *p = mod_data(m[3], &pl);
    if (!altcp_bearssl_config_load(&tls, c, cl, k, kl, a, al, why, sizeof(why))) {
        kprintf("net: TLS configuration refused: %s: services off\n", why);
        return;
    }
    /* The key now lives decoded in tls; wipe the module's PEM copy. */
    memset((void *)(uintptr_t)m[1]->start, 0, kl);
    if (!policy_parse(&policy, p, pl, why, sizeof(why))) {
        kprintf("net: policy module refused: %s: services off\n", why);
        return;
    }
    kprintf("net: server chain %u certificate(s), %s key, %u tenant CA(s), %u tenant rule(s)\n",
            (unsigned)tls.chain_len, tls.key_type == BR_KEYTYPE_EC ? "EC" : "RSA",
            (unsigned)tls.ta_count, policy.ntenants);
    const struct vsb_config *bc = boot_config();
    lwip_init();
    if (!net_kern_netif_start(bc->net_ip, bc->net_prefix, bc->net_gw, why, sizeof(why))) {
        kprintf("net: %s: services off\n", why);
        return;
    }
    console_cfg.port = bc->console_port;
    console_cfg.idle_timeout_ms = 600 * 1000;
    console_cfg.policy = &policy;
    console_cfg.tls = &tls;
    if (!console_srv_start(&console_cfg, why, sizeof(why))) {
        kprintf("net: console: %s\n", why);
        return;
    }
    vnc_cfg.base_port = bc->vnc_port;
    vnc_cfg.idle_timeout_ms = 600 * 1000;
    vnc_cfg.policy = &policy;
    vnc_cfg.tls = &tls;
    if (bc->vnc_port == 0) {
        kprintf("net: vnc_port=0: no VNC\n");
    } else if (bc->vnc_port <= bc->console_port && bc->console_port < bc->vnc_port + VNC_SRV_MAX_VMS) {
        kprintf("net: vnc_port=%u overlaps console_port=%u: no VNC\n", bc->vnc_port,
                bc->console_port);
    } else {
        vnc_on = vnc_srv_start(&vnc_cfg, why, sizeof(why));
        if (!vnc_on)
            kprintf("net: vnc: %s\n", why);
    }
    /* From now on the services hold pointers into the device sets: a
     * released set waits for net_poll to let go of it. */
    shadow_vm_hold_releases();
    running = true;
    core_poll_enable();
    kprintf("net: %s; console on TLS port %u, VNC %s%u once user VMs appear\n",
            bc->net_ip ? "static address" : "DHCP started", bc->console_port,
            vnc_on ? "from port " : "off, port ", vnc_on ? bc->vnc_port : 0);
}
CORE_INIT(net_init, 50);

static void vga_sync(void *vm)
{
    shadow_vm_vga_sync(vm);
}

/* A user VM's device set appeared: make it reachable. */
static void serve_vm(unsigned id, struct shadow_vm *vm)
{
    served[id] = true;
    if (!console_srv_add_vm(id, shadow_vm_uart(vm), vm))
        net_log("console: user VM %u: beyond the console's %u VMs", id, CONSOLE_SRV_MAX_VMS);
    if (!vnc_on)
        return;
    uint64_t fb = palloc_alloc(&region_pages, (FB_BYTES + PAGE_SIZE - 1) / PAGE_SIZE, 1);
    if (fb == PALLOC_FAIL) {
        net_log("vnc: user VM %u: no memory for its framebuffer", id);
        return;
    }
    vnc_fb[id] = fb;
    struct vnc_srv_vm dev = {
        .vga = shadow_vm_vga(vm), .kbd = shadow_vm_kbd(vm), .fb = (uint32_t *)(uintptr_t)fb,
        .lock = vm, .before_render = vga_sync, .arg = vm,
    };
    char why[120];
    if (!vnc_srv_add_vm(id, &dev, why, sizeof(why)))
        net_log("%s", why);
}

/* The set is being released: its sessions end and nothing here points
 * into it any more. */
static void unserve_vm(unsigned id)
{
    console_srv_remove_vm(id);
    if (vnc_on)
        vnc_srv_remove_vm(id);
    if (vnc_fb[id] != 0)
        palloc_free(&region_pages, vnc_fb[id], (FB_BYTES + PAGE_SIZE - 1) / PAGE_SIZE);
    vnc_fb[id] = 0;
    served[id] = false;
    net_log("user VM %u released: its console and VNC sessions are closed", id);
}

/* Serves each live set once per life; lets go of each dying one. */
static void track_vms(void)
{
    for (unsigned id = 0; id < shadow_vm_count(); id++) {
        struct shadow_vm *vm;
        if (shadow_vm_dying(id)) {
            if (served[id])
                unserve_vm(id);
            shadow_vm_free(id);
        } else if (!served[id] && (vm = shadow_vm_at(id)) != NULL) {
            serve_vm(id, vm);
        }
    }
}

static void net_poll(void)
{
    if (!running)
        return;
    track_vms();
    net_kern_netif_poll();
    sys_check_timeouts();
    console_srv_poll();
    if (vnc_on)
        vnc_srv_poll();
    altcp_bearssl_poll();
}
CORE_POLL(net_poll);
