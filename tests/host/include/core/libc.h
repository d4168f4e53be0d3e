/* Host double for core/libc.h: the real C library. */
#ifndef CORE_LIBC_H
#define CORE_LIBC_H
#include <string.h>
#endif
