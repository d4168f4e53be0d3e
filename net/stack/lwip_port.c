/* lwIP's platform functions (NO_SYS=1) on the environment seam net/port.h. */
#include "core/fmt.h"
#include "net/port.h"
#include <lwip/arch.h>
#include <lwip/sys.h>

u32_t sys_now(void)
{
    return (u32_t)net_port_now_ms();
}

uint32_t net_port_rand32(void)
{
    uint32_t v = 0;
    if (!net_port_random(&v, sizeof(v)))
        net_port_fatal("lwIP: no entropy for LWIP_RAND");
    return v;
}

void net_port_lwip_diag(const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    net_log("lwip: %s", line);
}

void net_port_lwip_assert(const char *msg, const char *file, int line)
{
    char text[200];
    fmt_snprintf(text, sizeof(text), "lwIP assertion \"%s\" failed at %s:%d", msg, file, line);
    net_port_fatal(text);
}
