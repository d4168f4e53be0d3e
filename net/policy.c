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

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Hex string into out (exactly len/2 bytes, at most max); false on bad digits. */
static bool parse_hex(const char *s, size_t len, uint8_t *out, size_t max, size_t *outlen)
{
    if (len == 0 || len % 2 != 0 || len / 2 > max)
        return false;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = len / 2;
    return true;
}

static struct policy_tenant *find_or_add(struct policy *p, const char *cn, size_t cnlen,
                                         const char **why)
{
    struct policy_tenant *t = find(p, cn, cnlen);
    if (t != NULL)
        return t;
    if (p->ntenants == POLICY_TENANTS_MAX) {
        *why = "too many tenants";
        return NULL;
    }
    t = &p->tenants[p->ntenants++];
    memset(t, 0, sizeof(*t));
    memcpy(t->cn, cn, cnlen);
    t->cn[cnlen] = '\0';
    return t;
}

/* password CN pbkdf2-sha256 ITERATIONS SALT_HEX HASH_HEX */
static bool parse_password(struct policy *p, const char *s, const char *end, const char **why)
{
    const char *cn, *tok;
    size_t cnlen, len;
    if (!next_token(&s, end, &cn, &cnlen)) {
        *why = "missing tenant CN";
        return false;
    }
    if (cnlen > POLICY_CN_MAX) {
        *why = "tenant CN too long";
        return false;
    }
    if (!next_token(&s, end, &tok, &len) || !token_is(tok, len, "pbkdf2-sha256")) {
        *why = "expected 'pbkdf2-sha256' after the CN";
        return false;
    }
    if (!next_token(&s, end, &tok, &len)) {
        *why = "missing iteration count";
        return false;
    }
    uint32_t iter = 0;
    for (size_t i = 0; i < len; i++) {
        if (tok[i] < '0' || tok[i] > '9' || iter > POLICY_PW_ITER_MAX) {
            iter = 0;
            break;
        }
        iter = iter * 10 + (uint32_t)(tok[i] - '0');
    }
    if (iter < POLICY_PW_ITER_MIN || iter > POLICY_PW_ITER_MAX) {
        *why = "iteration count must be 1000..10000000";
        return false;
    }
    uint8_t salt[POLICY_PW_SALT_MAX], hash[POLICY_PW_HASH_LEN];
    size_t saltlen, hashlen;
    if (!next_token(&s, end, &tok, &len) || !parse_hex(tok, len, salt, sizeof(salt), &saltlen) ||
        saltlen < 8) {
        *why = "salt must be 8..32 bytes in hex";
        return false;
    }
    if (!next_token(&s, end, &tok, &len) || !parse_hex(tok, len, hash, sizeof(hash), &hashlen) ||
        hashlen != POLICY_PW_HASH_LEN) {
        *why = "hash must be 32 bytes in hex";
        return false;
    }
    if (next_token(&s, end, &tok, &len)) {
        *why = "unexpected text after the hash";
        return false;
    }
    struct policy_tenant *t = find_or_add(p, cn, cnlen, why);
    if (t == NULL)
        return false;
    if (t->pw_iter != 0) {
        *why = "a second password for this CN";
        return false;
    }
    t->pw_iter = iter;
    t->pw_salt_len = (uint8_t)saltlen;
    memcpy(t->pw_salt, salt, saltlen);
    memcpy(t->pw_hash, hash, sizeof(hash));
    return true;
}

static bool parse_line(struct policy *p, const char *s, const char *end, const char **why)
{
    const char *tok;
    size_t len;
    if (!next_token(&s, end, &tok, &len) || tok[0] == '#')
        return true;                                  /* blank or comment */
    if (token_is(tok, len, "password"))
        return parse_password(p, s, end, why);
    if (!token_is(tok, len, "tenant")) {
        *why = "expected 'tenant CN vm N[,M...]' or 'password CN pbkdf2-sha256 ...'";
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
    struct policy_tenant *t = find_or_add(p, cn, cnlen, why);
    if (t == NULL)
        return false;
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

const struct policy_tenant *policy_tenant(const struct policy *p, const char *cn, size_t cnlen)
{
    return find(p, cn, cnlen);
}

bool policy_has_passwords(const struct policy *p)
{
    for (unsigned i = 0; i < p->ntenants; i++)
        if (p->tenants[i].pw_iter != 0)
            return true;
    return false;
}

bool policy_vm_has_password(const struct policy *p, unsigned vm)
{
    if (vm >= POLICY_VM_MAX)
        return false;
    for (unsigned i = 0; i < p->ntenants; i++) {
        const struct policy_tenant *t = &p->tenants[i];
        if (t->pw_iter != 0 && ((t->vms[vm / 64] >> (vm % 64)) & 1))
            return true;
    }
    return false;
}
