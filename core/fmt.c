/* A small printf engine; tests/unit/test_fmt.c compares it with glibc. */
#include "core/fmt.h"
#include <stdbool.h>
#include <stdint.h>

struct fmt_spec {
    bool left, zero, plus, space, alt;
    int width, prec;            /* prec < 0: not given */
    char len;                   /* 'H' hh, 'h', 'l', 'L' ll/j/z/t, 0 int */
};

struct fmt_out {
    fmt_sink sink;
    void *ctx;
    int count;
};

static void put(struct fmt_out *o, char c)
{
    o->sink(o->ctx, c);
    o->count++;
}

static void pad(struct fmt_out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

static void emit_str(struct fmt_out *o, const struct fmt_spec *sp, const char *s)
{
    int n = 0;
    if (!s)
        s = "(null)";
    while (s[n] && (sp->prec < 0 || n < sp->prec))
        n++;
    if (!sp->left)
        pad(o, ' ', sp->width - n);
    for (int i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        pad(o, ' ', sp->width - n);
}

static void emit_num(struct fmt_out *o, const struct fmt_spec *sp, uint64_t v,
                     bool neg, unsigned base, bool upper, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int nd = 0;
    while (v) {
        tmp[nd++] = digits[v % base];
        v /= base;
    }
    int prec = sp->prec < 0 ? 1 : sp->prec;
    int zeros = prec > nd ? prec - nd : 0;
    /* "%#o" guarantees a leading zero, which may already be there. */
    if (base == 8 && sp->alt && zeros == 0 && (nd == 0 || tmp[nd - 1] != '0'))
        zeros = 1;
    char sign = neg ? '-' : sp->plus ? '+' : sp->space ? ' ' : 0;
    int plen = 0;
    while (prefix && prefix[plen])
        plen++;
    int body = nd + zeros + (sign ? 1 : 0) + plen;
    bool zero_pad = sp->zero && !sp->left && sp->prec < 0;
    if (!sp->left && !zero_pad)
        pad(o, ' ', sp->width - body);
    if (sign)
        put(o, sign);
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (zero_pad)
        pad(o, '0', sp->width - body);
    pad(o, '0', zeros);
    while (nd)
        put(o, tmp[--nd]);
    if (sp->left)
        pad(o, ' ', sp->width - body);
}

static int parse_int(const char **p)
{
    int v = 0;
    while (**p >= '0' && **p <= '9') {
        if (v < 100000)
            v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

static int64_t arg_signed(va_list *ap, char len)
{
    switch (len) {
    case 'L': return va_arg(*ap, long long);
    case 'l': return va_arg(*ap, long);
    case 'h': return (short)va_arg(*ap, int);
    case 'H': return (signed char)va_arg(*ap, int);
    default:  return va_arg(*ap, int);
    }
}

static uint64_t arg_unsigned(va_list *ap, char len)
{
    switch (len) {
    case 'L': return va_arg(*ap, unsigned long long);
    case 'l': return va_arg(*ap, unsigned long);
    case 'h': return (unsigned short)va_arg(*ap, unsigned int);
    case 'H': return (unsigned char)va_arg(*ap, unsigned int);
    default:  return va_arg(*ap, unsigned int);
    }
}

static void parse_spec(const char **pp, va_list *ap, struct fmt_spec *sp)
{
    const char *p = *pp;
    *sp = (struct fmt_spec){ .prec = -1 };
    for (;; p++) {
        if (*p == '-') sp->left = true;
        else if (*p == '0') sp->zero = true;
        else if (*p == '+') sp->plus = true;
        else if (*p == ' ') sp->space = true;
        else if (*p == '#') sp->alt = true;
        else break;
    }
    if (*p == '*') {
        sp->width = va_arg(*ap, int);
        if (sp->width < 0) {
            sp->left = true;
            sp->width = -sp->width;
        }
        p++;
    } else {
        sp->width = parse_int(&p);
    }
    if (*p == '.') {
        p++;
        if (*p == '*') {
            sp->prec = va_arg(*ap, int);
            if (sp->prec < 0)
                sp->prec = -1;
            p++;
        } else {
            sp->prec = parse_int(&p);
        }
    }
    if (p[0] == 'h' && p[1] == 'h') { sp->len = 'H'; p += 2; }
    else if (p[0] == 'l' && p[1] == 'l') { sp->len = 'L'; p += 2; }
    else if (*p == 'h') { sp->len = 'h'; p++; }
    else if (*p == 'l') { sp->len = 'l'; p++; }
    else if (*p == 'z' || *p == 'j' || *p == 't') { sp->len = 'L'; p++; }
    *pp = p;
}

int fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap_in)
{
    struct fmt_out o = { sink, ctx, 0 };
    va_list ap;
    va_copy(ap, ap_in);
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        p++;
        struct fmt_spec sp;
        parse_spec(&p, &ap, &sp);
        switch (*p) {
        case 'd': case 'i': {
            int64_t v = arg_signed(&ap, sp.len);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            emit_num(&o, &sp, mag, v < 0, 10, false, NULL);
            break;
        }
        case 'u':
            sp.plus = sp.space = false;
            emit_num(&o, &sp, arg_unsigned(&ap, sp.len), false, 10, false, NULL);
            break;
        case 'x': case 'X': {
            uint64_t v = arg_unsigned(&ap, sp.len);
            sp.plus = sp.space = false;
            emit_num(&o, &sp, v, false, 16, *p == 'X',
                     sp.alt && v ? (*p == 'X' ? "0X" : "0x") : NULL);
            break;
        }
        case 'o':
            sp.plus = sp.space = false;
            emit_num(&o, &sp, arg_unsigned(&ap, sp.len), false, 8, false, NULL);
            break;
        case 'p': {
            uintptr_t v = (uintptr_t)va_arg(ap, void *);
            if (!v) {
                sp.prec = -1;
                emit_str(&o, &sp, "(nil)");
                break;
            }
            sp.plus = sp.space = false;
            emit_num(&o, &sp, v, false, 16, false, "0x");
            break;
        }
        case 's':
            emit_str(&o, &sp, va_arg(ap, const char *));
            break;
        case 'c': {
            char s[2] = { (char)va_arg(ap, int), 0 };
            sp.prec = 1;
            if (!sp.left)
                pad(&o, ' ', sp.width - 1);
            put(&o, s[0]);
            if (sp.left)
                pad(&o, ' ', sp.width - 1);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        case '\0':
            p--;        /* a lone '%' at the end: print nothing more */
            break;
        default:        /* unknown conversion: show it literally */
            put(&o, '%');
            put(&o, *p);
            break;
        }
    }
    va_end(ap);
    return o.count;
}

struct buf_ctx {
    char *buf;
    size_t size, pos;
};

static void buf_sink(void *ctx, char c)
{
    struct buf_ctx *b = ctx;
    if (b->pos + 1 < b->size)
        b->buf[b->pos] = c;
    b->pos++;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct buf_ctx b = { buf, size, 0 };
    int n = fmt_vformat(buf_sink, &b, fmt, ap);
    if (size)
        buf[b.pos < size ? b.pos : size - 1] = '\0';
    return n;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
