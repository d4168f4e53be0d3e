/*
 * The shadow device sets as the network services (net/) reach them: by
 * number, with the set's lock held around every use of its devices,
 * because the VM's vCPUs use the same devices from their VM exits on
 * other CPUs.
 */
#ifndef SHADOW_DEVICES_H
#define SHADOW_DEVICES_H
#include "shadow/i8042.h"
#include "shadow/shadow.h"
#include "shadow/uart.h"
#include "shadow/vga.h"

/* Device sets are numbered 0 .. count-1 (count is SHADOW_MAX_VMS); a
 * number is free, live or dying (being released), and is given to a new
 * user VM after a release. at(id) is NULL unless the set is live. */
unsigned shadow_vm_count(void);
struct shadow_vm *shadow_vm_at(unsigned id);

/* Releases as the network services see them (docs/architecture.md, "User
 * VM lifecycle"). Once they call shadow_vm_hold_releases(), a set that
 * shadow_vm_reap releases only becomes dying; the services close its
 * sessions, drop every pointer into it and call shadow_vm_free(id), which
 * frees it. Without that call, shadow_vm_reap frees at once. */
void shadow_vm_hold_releases(void);
bool shadow_vm_dying(unsigned id);
void shadow_vm_free(unsigned id);

void shadow_vm_lock(struct shadow_vm *vm);
void shadow_vm_unlock(struct shadow_vm *vm);

/* The devices themselves (use them with the lock held). */
struct uart *shadow_vm_uart(struct shadow_vm *vm);
struct vga *shadow_vm_vga(struct shadow_vm *vm);
struct i8042 *shadow_vm_kbd(struct shadow_vm *vm);

/* Brings what the guest wrote straight into its backed text window
 * (B8000) into the VGA model, marking changed cells dirty, while the
 * registers say the window is linear text. Call with the lock held, before
 * rendering. */
void shadow_vm_vga_sync(struct shadow_vm *vm);

#endif
