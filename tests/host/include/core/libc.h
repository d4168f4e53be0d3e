/* Host double for core/libc.h: the real C library. */
#ifndef CORE_LIBC_H
#define CORE_LIBC_H
#include <string.h>

/* POSIX, not C11: <string.h> hides it under -std=c11, glibc still has it. */
size_t strnlen(const char *s, size_t max);
#endif
