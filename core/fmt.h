/* printf-style formatting into a sink or a buffer (no floating point). */
#ifndef CORE_FMT_H
#define CORE_FMT_H
#include <stdarg.h>
#include <stddef.h>

typedef void (*fmt_sink)(void *ctx, char c);

/* Supports flags "-0+ #", width and precision (numbers or '*'), length
 * modifiers hh h l ll z j t, and conversions d i u x X o p s c %.
 * Returns the number of characters produced. */
int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
