/* Unit tests of net/policy.c and net/console.c (run by tests/net/run). */
#include "net/console.h"
#include "net/policy.h"
#include <stdio.h>
#include <string.h>

static int passed, failed;
#define CHECK(cond) do { if (cond) passed++; else { failed++; \
    printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } } while (0)

static bool parse(struct policy *p, const char *text, char *err)
{
    return policy_parse(p, text, strlen(text), err, 64);
}

static void test_policy(void)
{
    static struct policy p;
    char err[64];
    CHECK(parse(&p, "# c\n\ntenant a vm 0\ntenant bb vm 1,2,255\r\n  tenant a vm 7", err));
    CHECK(p.ntenants == 2);
    CHECK(policy_allows(&p, "a", 1, 0) && policy_allows(&p, "a", 1, 7));
    CHECK(!policy_allows(&p, "a", 1, 1));
    CHECK(policy_allows(&p, "bb", 2, 255) && policy_allows(&p, "bb", 2, 2));
    CHECK(!policy_allows(&p, "b", 1, 1));          /* prefix of a CN */
    CHECK(!policy_allows(&p, "bbb", 3, 1));
    CHECK(!policy_allows(&p, "bb", 2, 256));
    CHECK(!policy_allows(&p, "a\0x", 3, 0));       /* embedded NUL */
    CHECK(policy_knows(&p, "bb", 2) && !policy_knows(&p, "", 0));

    const char *bad[] = {
        "tenant a vm\n", "tenant a vm x\n", "tenant a vm 1,\n", "tenant a vm 256\n",
        "tenant a vm 1 extra\n", "tenant a\n", "tenant\n", "tenants a vm 1\n",
        "tenant a vms 1\n", "tenant a vm 99999999999999999999\n",
        "tenant aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa vm 1\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!parse(&p, bad[i], err));
        CHECK(p.ntenants == 0 && strncmp(err, "line 1: ", 8) == 0);
    }
    CHECK(!parse(&p, "tenant a vm 1\n\nbogus\n", err) && strncmp(err, "line 3:", 7) == 0);
    CHECK(!policy_parse(&p, "tenant a vm 1\0", 14, err, sizeof(err)));
    /* Too many tenants. */
    static char big[100 * 32];
    size_t n = 0;
    for (int i = 0; i < POLICY_TENANTS_MAX + 1; i++)
        n += (size_t)sprintf(big + n, "tenant t%d vm 1\n", i);
    CHECK(!parse(&p, big, err));
}

static void test_policy_passwords(void)
{
    static struct policy p;
    char err[64];
    const char *h32 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    char text[400];
    snprintf(text, sizeof(text), "tenant a vm 1\npassword a pbkdf2-sha256 1000 0011223344556677 %s\n", h32);
    CHECK(parse(&p, text, err));
    const struct policy_tenant *t = policy_tenant(&p, "a", 1);
    CHECK(t != NULL && t->pw_iter == 1000 && t->pw_salt_len == 8 && t->pw_salt[7] == 0x77 &&
          t->pw_hash[0] == 0x00 && t->pw_hash[31] == 0xff);
    CHECK(policy_has_passwords(&p));
    CHECK(parse(&p, "tenant a vm 1\n", err) && !policy_has_passwords(&p));
    /* A password line alone names a tenant with no VMs. */
    snprintf(text, sizeof(text), "password z pbkdf2-sha256 5000 aabbccddeeff0011 %s\n", h32);
    CHECK(parse(&p, text, err) && policy_knows(&p, "z", 1) && !policy_allows(&p, "z", 1, 0));
    const char *bad[] = {
        "password a\n", "password a sha1 1000 0011223344556677 %s\n",
        "password a pbkdf2-sha256 999 0011223344556677 %s\n",
        "password a pbkdf2-sha256 10000001 0011223344556677 %s\n",
        "password a pbkdf2-sha256 1x00 0011223344556677 %s\n",
        "password a pbkdf2-sha256 1000 00112233445566 %s\n",       /* 7-byte salt */
        "password a pbkdf2-sha256 1000 001122334455667 %s\n",      /* odd digits */
        "password a pbkdf2-sha256 1000 00112233445566zz %s\n",
        "password a pbkdf2-sha256 1000 0011223344556677 00\n",
        "password a pbkdf2-sha256 1000 0011223344556677 %s extra\n",
        "password a pbkdf2-sha256 1000 0011223344556677 %s\npassword a pbkdf2-sha256 1000 0011223344556677 %s\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), bad[i], h32, h32);
        CHECK(!parse(&p, text, err));
        CHECK(p.ntenants == 0 && strncmp(err, "line ", 5) == 0);
    }
}

static size_t feed(struct console_esc *e, const char *in, char *out, enum console_action *act)
{
    size_t nout = 0;
    size_t used = console_esc_feed(e, (const uint8_t *)in, strlen(in), (uint8_t *)out, 64, &nout, act);
    out[nout] = '\0';
    return used;
}

static void test_escapes(void)
{
    struct console_esc e;
    char out[65];
    enum console_action act;
    console_esc_init(&e);
    CHECK(feed(&e, "~.", out, &act) == 2 && act == CONSOLE_DISCONNECT && out[0] == '\0');
    console_esc_init(&e);
    CHECK(feed(&e, "ab~.", out, &act) == 4 && act == CONSOLE_NONE && !strcmp(out, "ab~."));
    console_esc_init(&e);
    CHECK(feed(&e, "ab\r~Bcd", out, &act) == 5 && act == CONSOLE_BREAK && !strcmp(out, "ab\r"));
    CHECK(feed(&e, "~?", out, &act) == 2 && act == CONSOLE_HELP);   /* still at bol */
    CHECK(feed(&e, "~~x", out, &act) == 3 && act == CONSOLE_NONE && !strcmp(out, "~x"));
    CHECK(feed(&e, "\n~x", out, &act) == 3 && !strcmp(out, "\n~x"));
    /* A '~' split across two packets. */
    CHECK(feed(&e, "\n~", out, &act) == 2 && !strcmp(out, "\n"));
    CHECK(feed(&e, ".", out, &act) == 1 && act == CONSOLE_DISCONNECT);
    /* Output room: a pending "~x" needs two bytes. */
    console_esc_init(&e);
    size_t nout;
    CHECK(console_esc_feed(&e, (const uint8_t *)"~x", 2, (uint8_t *)out, 1, &nout, &act) == 1 &&
          nout == 0);
    CHECK(console_esc_feed(&e, (const uint8_t *)"x", 1, (uint8_t *)out, 2, &nout, &act) == 1 &&
          nout == 2 && out[0] == '~' && out[1] == 'x');
}

static void test_select(void)
{
    unsigned vm = 99;
    CHECK(console_parse_select("vm 0", 4, 64, &vm) && vm == 0);
    CHECK(console_parse_select("vm 63\r", 6, 64, &vm) && vm == 63);
    CHECK(!console_parse_select("vm 64", 5, 64, &vm));
    CHECK(!console_parse_select("vm ", 3, 64, &vm));
    CHECK(!console_parse_select("vm -1", 5, 64, &vm));
    CHECK(!console_parse_select("VM 1", 4, 64, &vm));
    CHECK(!console_parse_select("vm 1 ", 5, 64, &vm));
    CHECK(!console_parse_select("vm 99999999999", 14, 64, &vm));
}

int main(void)
{
    test_policy();
    test_policy_passwords();
    test_escapes();
    test_select();
    printf("proto: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
