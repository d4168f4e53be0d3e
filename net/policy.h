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
 * Freestanding: no allocation, the table is inside struct policy. */
#ifndef NET_POLICY_H
#define NET_POLICY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_CN_MAX       64
#define POLICY_TENANTS_MAX  64
#define POLICY_VM_MAX       256

struct policy_tenant {
    char cn[POLICY_CN_MAX + 1];
    uint64_t vms[POLICY_VM_MAX / 64];   /* bit n: VM n allowed */
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

/* True if any rule names this CN. */
bool policy_knows(const struct policy *p, const char *cn, size_t cnlen);

#endif
