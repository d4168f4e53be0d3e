/* VNC over TLS: the tenant's view of a user VM's shadow VGA and keyboard.
 *
 * RFB 3.8 (net/rfb.h) with VeNCrypt X509 security only. VM n is served on
 * TCP port base + n (base 5900 by default, so VM n is VNC display :n).
 * Credentials, checked against the tenant policy (net/policy.h) for VM n:
 *  - X509None: the tenant's client certificate (validated against the
 *    tenant CA during the TLS handshake; its CN is the tenant);
 *  - X509Plain, offered on VM n's port only when a tenant allowed on VM n
 *    has a password in the policy (gtk-vnc prefers X509Plain whenever it
 *    is offered, so a certificate-only VM must not offer it): user name =
 *    the tenant CN, password checked against its PBKDF2-SHA256 hash; the
 *    TLS handshake asks for no client certificate (TigerVNC cannot send
 *    one).
 * Several viewers may watch one VM; all of them type into it.
 *
 * Updates follow the shadow VGA's dirty tracking (vga_render): only rows
 * that changed since a viewer's last update are encoded, a scrolled text
 * screen is sent as one CopyRect plus the new rows, and an idle screen
 * costs one vga_render() call per poll that finds nothing. Encodings: ZRLE,
 * Hextile, Raw (the client's first choice among them), CopyRect,
 * DesktopSize when the VGA mode changes size, QEMU extended key events.
 *
 * Polled, static pools, no malloc (zlib allocates from a per-session
 * arena). Single-threaded: vnc_srv_poll() runs the VGA renderer and feeds
 * the i8042, so the caller serializes it with the VM's device models. */
#ifndef NET_STACK_VNC_SRV_H
#define NET_STACK_VNC_SRV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "net/policy.h"
#include "net/stack/altcp_bearssl.h"
#include "shadow/i8042.h"
#include "shadow/vga.h"

#define VNC_SRV_MAX_SESSIONS 8
#define VNC_SRV_MAX_VMS      16
#define VNC_SRV_DEFAULT_PORT 5900

struct vnc_srv_config {
    uint16_t base_port;                 /* 0: VNC_SRV_DEFAULT_PORT */
    uint32_t idle_timeout_ms;           /* no input for this long: closed; 0: never */
    uint32_t auth_timeout_ms;           /* not past authentication within: closed; 0: 30 s */
    const struct policy *policy;
    const struct altcp_bearssl_config *tls;
};

bool vnc_srv_start(const struct vnc_srv_config *cfg, char *err, size_t errlen);

/* One user VM's devices as the service uses them. */
struct vnc_srv_vm {
    struct vga *vga;
    struct i8042 *kbd;
    uint32_t *fb;                       /* VGA_MAX_WIDTH x VGA_MAX_HEIGHT render target */
    void *lock;                         /* net_port_vm_lock() around every device use */
    void (*before_render)(void *arg);   /* with the lock held; may be NULL */
    void *arg;
};

/* Serves VM vm's shadow VGA and keyboard on base_port + vm. *dev is
 * copied; the devices and fb stay the caller's. vnc_srv is the only caller
 * of vga_render on this vga. */
bool vnc_srv_add_vm(unsigned vm, const struct vnc_srv_vm *dev, char *err, size_t errlen);

/* VM vm's devices are going away: its viewers are closed, its port
 * refuses connections, the service lets go of the devices and fb, and vm
 * may be added again (on the same port). */
void vnc_srv_remove_vm(unsigned vm);

/* The guest rang the bell: an RFB Bell to every viewer of the VM. */
void vnc_srv_bell(unsigned vm);

void vnc_srv_poll(void);

struct vnc_srv_stats {
    unsigned sessions;                  /* open, any phase */
    unsigned viewing;                   /* past ServerInit */
    uint64_t opened, refused, closed, auth_failed, idle_timeouts;
    uint64_t updates, rects, copyrects, bytes_sent, keys, keys_dropped;
    uint64_t renders, renders_idle;     /* vga_render calls that drew / found nothing */
};
void vnc_srv_get_stats(struct vnc_srv_stats *st);

#endif
