/* The management network's seam to its environment.
 *
 * net/stack (lwIP, BearSSL and the services) calls only these for time,
 * randomness and logging. The hosted build implements them on Linux
 * (net/hosted/port_linux.c: clock_gettime, getrandom, stderr); the
 * hypervisor will implement them on its timer, RDSEED/RDRAND and console. */
#ifndef NET_PORT_H
#define NET_PORT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One log line (no newline needed), prefixed by the environment. */
void net_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Stops everything after logging msg (an lwIP assertion, no entropy). */
void net_port_fatal(const char *msg) __attribute__((noreturn));

/* Monotonic milliseconds since an arbitrary origin. */
uint64_t net_port_now_ms(void);

/* Fills buf with len bytes from a cryptographic entropy source (getrandom;
 * RDSEED, else RDRAND, in the hypervisor). False if none is available: TLS
 * then refuses to start. */
bool net_port_random(void *buf, size_t len);

/* Wall-clock time for certificate validity, in BearSSL's terms: days since
 * January 1st, year 0 (proleptic Gregorian) and seconds in the day. False
 * if the time is unknown. */
bool net_port_utc(uint32_t *days, uint32_t *seconds);

/* Serializes the services' use of a user VM's shadow devices with that
 * VM's vCPUs (`lock` is what the VM was registered with; the hypervisor
 * takes the device set's spinlock, the single-threaded hosted build does
 * nothing). */
void net_port_vm_lock(void *lock);
void net_port_vm_unlock(void *lock);

#endif
