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

/* Device sets created so far; they are numbered 0 .. count-1 for good. */
unsigned shadow_vm_count(void);
struct shadow_vm *shadow_vm_at(unsigned id);

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
