/* <string.h> for third-party code (lwIP, BearSSL, zlib) in the kernel build.
 *
 * net/net.mk compiles those libraries with KCFLAGS (-nostdinc) plus
 * -Inet/port/kinc, so their C-library includes land here and never in the
 * host's libc headers. Only what the kernel really has is declared: the
 * functions of core/libc.h (core/string.c). Anything else a library calls
 * fails at compile time (implicit declaration) or at link time, never
 * silently. core/libc.h is found through KCFLAGS' -I. (the repository
 * root). */
#ifndef VSB_KINC_STRING_H
#define VSB_KINC_STRING_H
#include "core/libc.h"
#endif
