/* Tenant policy: which user VMs a tenant may reach, by certificate CN.
 *
 * The policy is a text file (a GRUB module in the hypervisor, a file for the
 * hosted console) written by the vsbypass administrators:
 *
 *     # comment
 *     tenant tenant-a vm 0
 *     tenant tenant-b vm 1,2
 *
 * One rule per line: the word `tenant`, the tenant certificate's subject CN
 * (one token: no blanks, at most POLICY_CN_MAX bytes), the word `vm` and a
 * comma-separated list of VM numbers below POLICY_VM_MAX. Several lines for
 * one CN add up. Blank lines and lines starting with '#' are ignored; any
 * other line is an error and the whole policy is rejected.
 *
 * A tenant may also have a password, for VNC viewers that cannot present a
 * client certificate (VeNCrypt X509Plain: user name = the CN):
 *
 *     password tenant-a pbkdf2-sha256 100000 SALT_HEX HASH_HEX
 *
 * HASH = PBKDF2-HMAC-SHA256(password, SALT, ITERATIONS, 32 bytes); the salt
 * is 8..32 bytes, iterations 1000..10000000. `tools/certs` and
 * `tools/vnc-password` write such lines; the plain password is never stored.
 *
 * Freestanding: no allocation, the table is inside struct policy. */
#ifndef NET_POLICY_H
#define NET_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_CN_MAX       64
#define POLICY_TENANTS_MAX  64
#define POLICY_VM_MAX       256

#define POLICY_PW_SALT_MAX  32
#define POLICY_PW_HASH_LEN  32
#define POLICY_PW_ITER_MIN  1000
#define POLICY_PW_ITER_MAX  10000000

struct policy_tenant {
    char cn[POLICY_CN_MAX + 1];
    uint64_t vms[POLICY_VM_MAX / 64];   /* bit n: VM n allowed */
    uint32_t pw_iter;                   /* 0: no password (certificate only) */
    uint8_t pw_salt_len;
    uint8_t pw_salt[POLICY_PW_SALT_MAX];
    uint8_t pw_hash[POLICY_PW_HASH_LEN];
};

struct policy {
    unsigned ntenants;
    struct policy_tenant tenants[POLICY_TENANTS_MAX];
};

/* Parses text[0..len) into *p (emptied first). On error returns false and
 * writes "line N: reason" into err (NUL-terminated, truncated to errlen);
 * *p is then empty, so everything is refused. */
bool policy_parse(struct policy *p, const char *text, size_t len, char *err, size_t errlen);

/* True if the tenant with this CN may reach VM vm. The CN is compared
 * exactly (bytes, case-sensitive); cnlen excludes any NUL. */
bool policy_allows(const struct policy *p, const char *cn, size_t cnlen, unsigned vm);

/* The tenant's entry (for its password), or NULL. */
const struct policy_tenant *policy_tenant(const struct policy *p, const char *cn, size_t cnlen);

/* True if any tenant has a password (VNC then offers X509Plain). */
bool policy_has_passwords(const struct policy *p);

/* True if a tenant allowed on VM vm has a password: the VM's VNC port then
 * offers X509Plain besides X509None. */
bool policy_vm_has_password(const struct policy *p, unsigned vm);

/* True if any rule names this CN. */
bool policy_knows(const struct policy *p, const char *cn, size_t cnlen);

#endif
