/* Tenant serial console service over TLS (net/console.h is the protocol).
 *
 * One TLS port (default 7001). A tenant authenticated by a client
 * certificate (altcp_bearssl) selects a VM with "vm N\n"; the tenant policy
 * decides; then the VM's shadow UART scrollback is replayed and the live
 * stream runs both ways until ~. or an idle timeout. Several viewers may
 * watch one VM; each has its own ring cursor; all of them type into it.
 *
 * Polled: console_srv_poll() moves bytes between the sessions and the UARTs
 * and enforces timeouts; call it from the network loop after the UARTs'
 * owner has run. Static pool of CONSOLE_SRV_MAX_SESSIONS sessions. */
#ifndef NET_STACK_CONSOLE_SRV_H
#define NET_STACK_CONSOLE_SRV_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "net/policy.h"
#include "net/stack/altcp_bearssl.h"
#include "shadow/uart.h"

#define CONSOLE_SRV_MAX_SESSIONS ALTCP_BEARSSL_MAX_CONN
#define CONSOLE_SRV_MAX_VMS      64
#define CONSOLE_SRV_DEFAULT_PORT 7001

struct console_srv_config {
    uint16_t port;                      /* 0: CONSOLE_SRV_DEFAULT_PORT */
    uint32_t idle_timeout_ms;           /* no input for this long: closed; 0: never */
    uint32_t select_timeout_ms;         /* no "vm N" line within: closed; 0: 30 s */
    const struct policy *policy;
    const struct altcp_bearssl_config *tls;
};

/* Listens on cfg->port on every interface; cfg must stay valid. */
bool console_srv_start(const struct console_srv_config *cfg, char *err, size_t errlen);

/* Makes VM vm's shadow UART reachable (vm < CONSOLE_SRV_MAX_VMS). Every use
 * of the UART is bracketed by net_port_vm_lock(lock)/unlock(lock). */
bool console_srv_add_vm(unsigned vm, struct uart *u, void *lock);

/* VM vm's device set is going away: each of its viewers gets the output
 * still unsent (as far as TLS has room) and a last line saying so, then is
 * closed; the service lets go of the UART, and vm may be added again. */
void console_srv_remove_vm(unsigned vm);

void console_srv_poll(void);

struct console_srv_stats {
    unsigned sessions;                  /* now open (selecting or streaming) */
    unsigned streaming;
    uint64_t opened, refused, closed, idle_timeouts;
    uint64_t bytes_to_vm, bytes_from_vm;
};
void console_srv_get_stats(struct console_srv_stats *st);

#endif
