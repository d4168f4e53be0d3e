/* Tenant policy parser (net/policy.h). */
#include "net/policy.h"
#include "core/fmt.h"
#include "core/libc.h"

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* Next blank-separated token of [*pos, end): sets *tok and *toklen, advances. */
static bool next_token(const char **pos, const char *end, const char **tok, size_t *toklen)
{
    const char *s = *pos;
    while (s < end && is_blank(*s))
        s++;
    const char *t = s;
    while (s < end && !is_blank(*s))
        s++;
    *pos = s;
    *tok = t;
    *toklen = (size_t)(s - t);
    return *toklen > 0;
}

static bool token_is(const char *tok, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(tok, word, len) == 0;
}

static struct policy_tenant *find(const struct policy *p, const char *cn, size_t cnlen)
{
    if (cnlen == 0 || cnlen > POLICY_CN_MAX)
        return NULL;
    for (unsigned i = 0; i < p->ntenants; i++) {
        const struct policy_tenant *t = &p->tenants[i];
        if (strlen(t->cn) == cnlen && memcmp(t->cn, cn, cnlen) == 0)
            return (struct policy_tenant *)t;
    }
    return NULL;
}

/* Parses "N[,M...]" into the bitmap; false with a reason on error. */
static bool parse_vms(const char *s, size_t len, uint64_t *vms, const char **why)
{
    size_t i = 0;
    for (;;) {
        unsigned v = 0;
        size_t digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (unsigned)(s[i] - '0');
            if (v >= POLICY_VM_MAX) {
                *why = "VM number too large";
                return false;
            }
            i++, digits++;
        }
        if (digits == 0) {
            *why = "expected a VM number";
            return false;
        }
        vms[v / 64] |= 1ull << (v % 64);
        if (i == len)
            return true;
        if (s[i] != ',') {
            *why = "expected ',' between VM numbers";
            return false;
        }
        i++;
    }
}

static bool parse_line(struct policy *p, const char *s, const char *end, const char **why)
{
    const char *tok;
    size_t len;
    if (!next_token(&s, end, &tok, &len) || tok[0] == '#')
        return true;                                  /* blank or comment */
    if (!token_is(tok, len, "tenant")) {
        *why = "expected 'tenant CN vm N[,M...]'";
        return false;
    }
    const char *cn;
    size_t cnlen;
    if (!next_token(&s, end, &cn, &cnlen)) {
        *why = "missing tenant CN";
        return false;
    }
    if (cnlen > POLICY_CN_MAX) {
        *why = "tenant CN too long";
        return false;
    }
    if (!next_token(&s, end, &tok, &len) || !token_is(tok, len, "vm")) {
        *why = "expected 'vm' after the CN";
        return false;
    }
    if (!next_token(&s, end, &tok, &len)) {
        *why = "missing VM list";
        return false;
    }
    uint64_t vms[POLICY_VM_MAX / 64] = {0};
    if (!parse_vms(tok, len, vms, why))
        return false;
    const char *extra;
    size_t extralen;
    if (next_token(&s, end, &extra, &extralen)) {
        *why = "unexpected text after the VM list";
        return false;
    }
    struct policy_tenant *t = find(p, cn, cnlen);
    if (t == NULL) {
        if (p->ntenants == POLICY_TENANTS_MAX) {
            *why = "too many tenants";
            return false;
        }
        t = &p->tenants[p->ntenants++];
        memset(t, 0, sizeof(*t));
        memcpy(t->cn, cn, cnlen);
        t->cn[cnlen] = '\0';
    }
    for (unsigned i = 0; i < POLICY_VM_MAX / 64; i++)
        t->vms[i] |= vms[i];
    return true;
}

bool policy_parse(struct policy *p, const char *text, size_t len, char *err, size_t errlen)
{
    p->ntenants = 0;
    const char *s = text, *end = text + len;
    unsigned lineno = 0;
    while (s < end) {
        lineno++;
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        const char *lend = eol ? eol : end;
        const char *why = NULL;
        if (memchr(s, '\0', (size_t)(lend - s)) != NULL) {
            why = "NUL byte";
        } else if (!parse_line(p, s, lend, &why)) {
            /* why set by parse_line */
        }
        if (why != NULL) {
            p->ntenants = 0;
            if (err != NULL && errlen > 0)
                fmt_snprintf(err, errlen, "line %u: %s", lineno, why);
            return false;
        }
        s = eol ? eol + 1 : end;
    }
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    return true;
}

bool policy_knows(const struct policy *p, const char *cn, size_t cnlen)
{
    return find(p, cn, cnlen) != NULL;
}

bool policy_allows(const struct policy *p, const char *cn, size_t cnlen, unsigned vm)
{
    const struct policy_tenant *t = find(p, cn, cnlen);
    if (t == NULL || vm >= POLICY_VM_MAX)
        return false;
    return (t->vms[vm / 64] >> (vm % 64)) & 1;
}
