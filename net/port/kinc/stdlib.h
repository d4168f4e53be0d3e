/* <stdlib.h> for third-party code (lwIP, BearSSL, zlib) in the kernel build
 * (see string.h here).
 *
 * Deliberately no malloc/free/abort/exit: lwIP uses its static heap and
 * pools (MEM_LIBC_MALLOC=0), BearSSL never allocates, and zlib is built with
 * Z_SOLO (the caller passes zalloc/zfree), so a call to any of them is a
 * build error. Only atoi is provided, for lwIP's netif_find() ("en0" ->
 * 0); as a static inline it adds no symbol to the kernel. */
#ifndef VSB_KINC_STDLIB_H
#define VSB_KINC_STDLIB_H
#include <stddef.h>

/* Optional leading blanks and sign, then decimal digits; stops at the first
 * non-digit. Overflow is undefined in C; here it wraps (modulo 2^32). */
static inline int atoi(const char *s)
{
    unsigned int v = 0;
    int neg = 0;
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    while (*s >= '0' && *s <= '9')
        v = v * 10u + (unsigned int)(*s++ - '0');
    return (int)(neg ? 0u - v : v);
}

#endif
