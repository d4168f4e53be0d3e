/* lwIP architecture header for vsbypass (hosted and, later, freestanding).
 *
 * lwIP finds this file as "arch/cc.h" through -Inet/port. Only freestanding
 * headers are used here; lwIP's platform hooks go to the environment seam
 * in net/port.h. */
#ifndef VSB_LWIP_ARCH_CC_H
#define VSB_LWIP_ARCH_CC_H
#include <stddef.h>
#include <stdint.h>

/* No <inttypes.h>, <limits.h>, <ctype.h> or <errno.h> from the C library in
 * the hypervisor: lwIP's own fallbacks are used everywhere, so the hosted
 * build runs the same code as the kernel will. */
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_LIMITS_H   1
#define LWIP_NO_CTYPE_H    1
#define LWIP_PROVIDE_ERRNO 1
#define LWIP_NO_UNISTD_H   1
/* ssize_t as every LP64 C library has it, so hosted code may include both
 * lwIP's and the system's headers. */
typedef long ssize_t;
#ifndef LONG_MAX
#define LONG_MAX  __LONG_MAX__
#endif
#ifndef INT_MAX
#define INT_MAX   __INT_MAX__
#endif
#ifndef SSIZE_MAX
#define SSIZE_MAX LONG_MAX
#endif

#define X8_F  "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define BYTE_ORDER LITTLE_ENDIAN

/* Diagnostics and assertions end in the environment's log (net/port.h). */
void net_port_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void net_port_lwip_assert(const char *msg, const char *file, int line) __attribute__((noreturn));
#define LWIP_PLATFORM_DIAG(x)   do { net_port_lwip_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) net_port_lwip_assert((x), __FILE__, __LINE__)

/* Initial sequence numbers and ports: the environment's random source. */
uint32_t net_port_rand32(void);
#define LWIP_RAND() net_port_rand32()

#endif
