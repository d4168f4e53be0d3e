/* Per-user-VM shadow device sets, as vmx/ reaches them through shadow/shadow.h. */
#include "shadow/shadow.h"
#include "shadow/devices.h"
#include "core/heap.h"
#include "core/layout.h"
#include "core/libc.h"
#include "core/log.h"
#include "core/palloc.h"
#include "core/region.h"
#include "core/spinlock.h"
#include "shadow/i8042.h"
#include "shadow/pic_observer.h"
#include "shadow/ring.h"
#include "shadow/uart.h"
#include "shadow/vga.h"

#define COM1_BASE      0x3F8
#define SERIAL_RING    (64 * 1024)
#define SHADOW_PLANES_BYTES     (4 * 64 * 1024)

struct shadow_vm {
    uint64_t key;
    unsigned id;
    struct spinlock lock;           /* one vCPU of the VM at a time in a device */
    struct uart uart;
    struct i8042 kbd;
    struct vga vga;
    struct pic_observer pic;
    bool uart_level;                /* the UART's IRQ line at the last look (8259: edges) */
    uint8_t *serial_ring;
    uint8_t *vga_planes;
    uint64_t vga_window_pa;         /* 128 KiB of region pages backing 0xA0000 */
    uint8_t *text_seen;             /* the text window as last imported (VGA_TEXT_SIZE) */
    uint8_t *gfx_seen;              /* A0000-AFFFF as last imported (mode 13h), 64 KiB */
};

static struct shadow_vm vms[SHADOW_MAX_VMS];
static unsigned nvms;
static struct spinlock table_lock = SPINLOCK_INIT;

static bool vm_setup(struct shadow_vm *vm, uint64_t key, unsigned id)
{
    vm->serial_ring = kzalloc(SERIAL_RING);
    vm->vga_planes = kzalloc(SHADOW_PLANES_BYTES);
    vm->text_seen = kzalloc(VGA_TEXT_SIZE);
    vm->gfx_seen = kzalloc(0x10000);
    uint64_t win = palloc_alloc(&region_pages, SHADOW_VGA_SIZE / PAGE_SIZE, 1);
    if (!vm->serial_ring || !vm->vga_planes || !vm->text_seen || !vm->gfx_seen ||
        win == PALLOC_FAIL) {
        kfree(vm->serial_ring);
        kfree(vm->vga_planes);
        kfree(vm->text_seen);
        kfree(vm->gfx_seen);
        if (win != PALLOC_FAIL)
            palloc_free(&region_pages, win, SHADOW_VGA_SIZE / PAGE_SIZE);
        return false;
    }
    memset((void *)(uintptr_t)win, 0, SHADOW_VGA_SIZE);
    memset(vm->text_seen, 0xFF, VGA_TEXT_SIZE);    /* the first sync imports everything shown */
    memset(vm->gfx_seen, 0xFF, 0x10000);
    vm->key = key;
    vm->id = id;
    vm->vga_window_pa = win;
    vm->lock = (struct spinlock)SPINLOCK_INIT;
    uart_init(&vm->uart, vm->serial_ring, SERIAL_RING);
    i8042_init(&vm->kbd);
    vga_init(&vm->vga, vm->vga_planes);
    pic_observer_init(&vm->pic);
    return true;
}

struct shadow_vm *shadow_vm_get(uint64_t key)
{
    struct shadow_vm *found = NULL;
    spin_lock(&table_lock);
    for (unsigned i = 0; i < nvms && !found; i++)
        if (vms[i].key == key)
            found = &vms[i];
    if (!found && nvms < SHADOW_MAX_VMS && vm_setup(&vms[nvms], key, nvms)) {
        found = &vms[nvms];
        __atomic_store_n(&nvms, nvms + 1, __ATOMIC_RELEASE);   /* set up before it is counted */
        kprintf("shadow: user VM %u created (key 0x%llx): serial, keyboard, VGA\n", found->id,
                (unsigned long long)key);
    }
    spin_unlock(&table_lock);
    if (!found)
        kprintf("shadow: no device set for user VM key 0x%llx (all %u in use or out of memory)\n",
                (unsigned long long)key, SHADOW_MAX_VMS);
    return found;
}

struct shadow_vm *shadow_vm_find(uint64_t key)
{
    struct shadow_vm *found = NULL;
    spin_lock(&table_lock);
    for (unsigned i = 0; i < nvms && !found; i++)
        if (vms[i].key == key)
            found = &vms[i];
    spin_unlock(&table_lock);
    return found;
}

unsigned shadow_vm_id(const struct shadow_vm *vm) { return vm->id; }

bool shadow_pic_port(uint16_t port)
{
    return port == 0x20 || port == 0x21 || port == 0xA0 || port == 0xA1;
}

bool shadow_pic_write(struct shadow_vm *vm, uint16_t port, uint8_t value)
{
    spin_lock(&vm->lock);
    bool ours = pic_observer_write(&vm->pic, port, value);
    spin_unlock(&vm->lock);
    return ours;
}

int shadow_irq_pending(struct shadow_vm *vm)
{
    spin_lock(&vm->lock);
    bool level = uart_irq_line(&vm->uart);
    if (level && !vm->uart_level)
        pic_observer_raise(&vm->pic, 4);
    vm->uart_level = level;
    if (i8042_take_irq1_edge(&vm->kbd))
        pic_observer_raise(&vm->pic, 1);
    int vec = pic_observer_pending(&vm->pic);
    spin_unlock(&vm->lock);
    return vec;
}

void shadow_irq_ack(struct shadow_vm *vm)
{
    spin_lock(&vm->lock);
    pic_observer_ack(&vm->pic);
    spin_unlock(&vm->lock);
}

static bool is_com1(uint16_t p) { return p >= COM1_BASE && p < COM1_BASE + 8; }
static bool is_kbd(uint16_t p) { return p == 0x60 || p == 0x64; }
static bool is_vga(uint16_t p) { return p >= 0x3B0 && p <= 0x3DF; }

bool shadow_port_owned(uint16_t port)
{
    return is_com1(port) || is_kbd(port) || is_vga(port);
}

static uint8_t in8(struct shadow_vm *vm, uint16_t port)
{
    if (is_com1(port))
        return uart_read(&vm->uart, port - COM1_BASE);
    if (is_kbd(port))
        return i8042_read(&vm->kbd, port);
    if (is_vga(port))
        return vga_port_read(&vm->vga, port);
    return 0xFF;
}

static void out8(struct shadow_vm *vm, uint16_t port, uint8_t v)
{
    if (is_com1(port))
        uart_write(&vm->uart, port - COM1_BASE, v);
    else if (is_kbd(port))
        i8042_write(&vm->kbd, port, v);
    else if (is_vga(port))
        vga_port_write(&vm->vga, port, v);
}

/* Wider accesses are byte accesses to consecutive ports, as on the ISA bus. */
uint32_t shadow_port_in(struct shadow_vm *vm, uint16_t port, unsigned size)
{
    uint32_t v = 0;
    spin_lock(&vm->lock);
    for (unsigned i = 0; i < size && i < 4; i++)
        v |= (uint32_t)in8(vm, (uint16_t)(port + i)) << (8 * i);
    spin_unlock(&vm->lock);
    return v;
}

void shadow_port_out(struct shadow_vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    spin_lock(&vm->lock);
    if (size == 2 && is_vga(port))
        vga_port_write16(&vm->vga, port, (uint16_t)value);
    else
        for (unsigned i = 0; i < size && i < 4; i++)
            out8(vm, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)));
    spin_unlock(&vm->lock);
}

uint64_t shadow_vga_page(struct shadow_vm *vm, unsigned index)
{
    return index < SHADOW_VGA_SIZE / PAGE_SIZE ? vm->vga_window_pa + (uint64_t)index * PAGE_SIZE : 0;
}

size_t shadow_serial_read(struct shadow_vm *vm, uint64_t *cursor, uint8_t *buf, size_t n)
{
    size_t missed;
    spin_lock(&vm->lock);
    size_t got = ring_read(uart_output(&vm->uart), cursor, buf, n, &missed);
    spin_unlock(&vm->lock);
    return got;
}

/* ------------------------------------------- shadow/devices.h (net/) */

unsigned shadow_vm_count(void)
{
    return __atomic_load_n(&nvms, __ATOMIC_ACQUIRE);
}

struct shadow_vm *shadow_vm_at(unsigned id)
{
    return id < shadow_vm_count() ? &vms[id] : NULL;
}

void shadow_vm_lock(struct shadow_vm *vm) { spin_lock(&vm->lock); }
void shadow_vm_unlock(struct shadow_vm *vm) { spin_unlock(&vm->lock); }
struct uart *shadow_vm_uart(struct shadow_vm *vm) { return &vm->uart; }
struct vga *shadow_vm_vga(struct shadow_vm *vm) { return &vm->vga; }
struct i8042 *shadow_vm_kbd(struct shadow_vm *vm) { return &vm->kbd; }

/* 64-byte chunks of [off, off + len) (wrapping at `size`) that differ from
 * what the last import saw: copied into `seen`, then given to `import`. */
static void sync_chunks(struct vga *v, const uint8_t *w, uint8_t *seen, size_t size, size_t off,
                        size_t len, void (*import)(struct vga *, const uint8_t *, size_t, size_t))
{
    for (size_t done = 0; done < len; done += 64) {
        size_t at = (off + done) % size & ~(size_t)63;
        const uint64_t *a = (const uint64_t *)(w + at), *b = (const uint64_t *)(seen + at);
        bool same = true;
        for (unsigned i = 0; i < 8 && same; i++)
            same = a[i] == b[i];
        if (same)
            continue;
        memcpy(seen + at, w + at, 64);
        import(v, seen, at, 64);
    }
}

/* Only the visible part, and only 64-byte chunks that differ from what the
 * last import saw: an unchanged text screen costs one compare of ~4 KB, an
 * unchanged mode 13h screen one of 64 KB. Other graphics modes are not
 * imported: their writes go through latches a plain page cannot model. */
void shadow_vm_vga_sync(struct shadow_vm *vm)
{
    if (vga_chain4_linear(&vm->vga)) {
        sync_chunks(&vm->vga, (const uint8_t *)(uintptr_t)vm->vga_window_pa, vm->gfx_seen,
                    0x10000, 0, 64000, vga_chain4_import_range);
        return;
    }
    if (!vga_text_linear(&vm->vga))
        return;
    const uint8_t *w = (const uint8_t *)(uintptr_t)(vm->vga_window_pa + 0x18000);
    size_t off, len;
    vga_text_visible(&vm->vga, &off, &len);
    sync_chunks(&vm->vga, w, vm->text_seen, VGA_TEXT_SIZE, off, len, vga_text_import_range);
}
