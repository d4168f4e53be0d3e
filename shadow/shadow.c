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
#include "shadow/apic_observer.h"
#include "shadow/i8042.h"
#include "shadow/pic_observer.h"
#include "shadow/ring.h"
#include "shadow/uart.h"
#include "shadow/vga.h"
#include "shadow/vm_table.h"

#define COM1_BASE      0x3F8
#define SERIAL_RING    (64 * 1024)
#define SHADOW_PLANES_BYTES     (4 * 64 * 1024)
#define REAP_PERIOD_MS 100          /* shadow_vm_reap looks at the table no more often */

struct shadow_vm {
    unsigned id;
    struct spinlock lock;           /* one vCPU of the VM at a time in a device */
    struct uart uart;
    struct i8042 kbd;
    struct vga vga;
    struct pic_observer pic;
    struct apic_observer apic;      /* when L2 routes IRQs through its IOAPIC */
    bool irq_via_apic;              /* the pending vector came from `apic` */
    bool uart_level;                /* the UART's IRQ line at the last look (8259: edges) */
    uint8_t *serial_ring;
    uint8_t *vga_planes;
    uint64_t vga_window_pa;         /* 128 KiB of region pages backing 0xA0000 */
    bool a0000_backed;              /* A0000-AFFFF is plain chain-4 bytes (else it traps) */
    uint32_t vga_map_gen;           /* bumped when a0000_backed changes */
    uint8_t *text_seen;             /* the text window as last imported (VGA_TEXT_SIZE) */
    uint8_t *gfx_seen;              /* A0000-AFFFF as last imported (mode 13h), 64 KiB */
    uint64_t serial_end;            /* where the last set with this number stopped writing */
    uint64_t unused_ms;             /* at the reap that released it, for the log */
};

/* The slots' identity lives in `table`; vms[i] is slot i's device set
 * while the slot is used. Everything below is under table_lock. */
static struct shadow_vm vms[SHADOW_MAX_VMS];
static struct vm_table table;
static struct spinlock table_lock = SPINLOCK_INIT;
static bool held;                   /* shadow_vm_hold_releases: reaped sets wait for shadow_vm_free */
static bool warned_full;            /* "no device set" logged since the last release */
static uint64_t last_now_ms;        /* vmx/'s latest time, for sets shadow_vm_get creates */
static uint64_t release_gen;        /* atomic */
static uint64_t next_reap_ms;       /* atomic */

static bool vm_setup(struct shadow_vm *vm, unsigned id)
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
    vm->id = id;
    vm->vga_window_pa = win;
    vm->vga_map_gen++;              /* a reused slot: every old mapping goes */
    vm->lock = (struct spinlock)SPINLOCK_INIT;
    vm->uart_level = false;
    uart_init(&vm->uart, vm->serial_ring, SERIAL_RING);
    /* Positions go on from the previous set with this number, so a cursor
     * kept per number (serial_mirror) reads the new VM from its first byte. */
    ring_init_at(uart_output(&vm->uart), vm->serial_ring, SERIAL_RING, vm->serial_end);
    i8042_init(&vm->kbd);
    vga_init(&vm->vga, vm->vga_planes);
    vm->a0000_backed = vga_chain4_linear(&vm->vga);
    pic_observer_init(&vm->pic);
    apic_observer_init(&vm->apic);
    vm->irq_via_apic = false;
    return true;
}

/* Slot s was just created in the table for `key`: its devices, or the slot
 * given back when there is no memory for them. */
static struct shadow_vm *vm_created(int s, uint64_t key)
{
    if (!vm_setup(&vms[s], (unsigned)s)) {
        vm_table_release_done(&table, (unsigned)s);
        return NULL;
    }
    kprintf("shadow: user VM %d created (key 0x%llx): serial, keyboard, VGA\n", s,
            (unsigned long long)key);
    return &vms[s];
}

/* Once until a set is released: shadow_vm_enter runs at every VM entry. */
static void warn_no_set(uint64_t key)
{
    if (warned_full)
        return;
    warned_full = true;
    kprintf("shadow: no device set for user VM key 0x%llx (all %u in use, %u vCPUs tracked, "
            "or out of memory)\n", (unsigned long long)key, SHADOW_MAX_VMS, VM_TABLE_MEMBERS);
}

/* Frees a dying set. Nobody can find it any more; a vCPU or the network
 * service that found it before may still be in a device: wait for it. */
static void vm_release(struct shadow_vm *vm)
{
    spin_lock(&vm->lock);
    spin_unlock(&vm->lock);
    __atomic_add_fetch(&release_gen, 1, __ATOMIC_RELEASE);    /* before the pages can be reused */
    vm->serial_end = ring_pos(uart_output(&vm->uart));
    kfree(vm->serial_ring);
    kfree(vm->vga_planes);
    kfree(vm->text_seen);
    kfree(vm->gfx_seen);
    palloc_free(&region_pages, vm->vga_window_pa, SHADOW_VGA_SIZE / PAGE_SIZE);
    vm->serial_ring = vm->vga_planes = vm->text_seen = vm->gfx_seen = NULL;
    vm->vga_window_pa = 0;
    kprintf("shadow: user VM %u released (key 0x%llx, unused for %llu ms)\n", vm->id,
            (unsigned long long)table.slots[vm->id].key, (unsigned long long)vm->unused_ms);
    vm_table_release_done(&table, vm->id);
    warned_full = false;
}

static void note_time(uint64_t now_ms)
{
    if (now_ms > last_now_ms)
        last_now_ms = now_ms;
}

struct shadow_vm *shadow_vm_enter(uint64_t vmcs12, uint64_t key, bool resume, uint64_t now_ms)
{
    enum vm_table_how how;
    uint64_t old_key;
    struct shadow_vm *vm = NULL;
    spin_lock(&table_lock);
    note_time(now_ms);
    int s = vm_table_enter(&table, vmcs12, key, resume, now_ms, &how, &old_key);
    if (s >= 0 && how == VM_TABLE_CREATED) {
        vm = vm_created(s, key);
    } else if (s >= 0) {
        vm = &vms[s];
        if (how == VM_TABLE_REKEYED)
            kprintf("shadow: user VM %d re-keyed 0x%llx -> 0x%llx (L1 changed its EPT root)\n",
                    s, (unsigned long long)old_key, (unsigned long long)key);
    }
    if (vm == NULL)
        warn_no_set(key);
    spin_unlock(&table_lock);
    return vm;
}

void shadow_vm_vmclear(uint64_t vmcs12, uint64_t now_ms)
{
    spin_lock(&table_lock);
    note_time(now_ms);
    vm_table_vmclear(&table, vmcs12, now_ms);
    spin_unlock(&table_lock);
}

void shadow_vm_reap(uint64_t now_ms)
{
    /* Every exit may call this: one CPU per period takes the lock. */
    uint64_t next = __atomic_load_n(&next_reap_ms, __ATOMIC_RELAXED);
    if (now_ms < next ||
        !__atomic_compare_exchange_n(&next_reap_ms, &next, now_ms + REAP_PERIOD_MS, false,
                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    unsigned reaped[SHADOW_MAX_VMS];
    spin_lock(&table_lock);
    note_time(now_ms);
    unsigned n = vm_table_reap(&table, now_ms, reaped);
    for (unsigned i = 0; i < n; i++) {
        struct shadow_vm *vm = &vms[reaped[i]];
        vm->unused_ms = now_ms - table.slots[reaped[i]].last_use_ms;
        if (!held)
            vm_release(vm);
    }
    spin_unlock(&table_lock);
}

uint64_t shadow_vm_release_gen(void)
{
    return __atomic_load_n(&release_gen, __ATOMIC_ACQUIRE);
}

struct shadow_vm *shadow_vm_get(uint64_t key)
{
    bool created;
    struct shadow_vm *vm = NULL;
    spin_lock(&table_lock);
    int s = vm_table_get(&table, key, last_now_ms, &created);
    if (s >= 0)
        vm = created ? vm_created(s, key) : &vms[s];
    if (vm == NULL)
        warn_no_set(key);
    spin_unlock(&table_lock);
    return vm;
}

struct shadow_vm *shadow_vm_find(uint64_t key)
{
    spin_lock(&table_lock);
    int s = vm_table_lookup(&table, key);
    spin_unlock(&table_lock);
    return s >= 0 ? &vms[s] : NULL;
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
    if (level && !vm->uart_level) {
        pic_observer_raise(&vm->pic, 4);
        apic_observer_raise(&vm->apic, 4);
    }
    vm->uart_level = level;
    if (i8042_take_irq1_edge(&vm->kbd)) {
        pic_observer_raise(&vm->pic, 1);
        apic_observer_raise(&vm->apic, 1);
    }
    /* The 8259s when L2 uses them, else its IOAPIC (Linux masks the 8259s). */
    int vec = pic_observer_pending(&vm->pic);
    vm->irq_via_apic = vec < 0 && (vec = apic_observer_pending(&vm->apic)) >= 0;
    spin_unlock(&vm->lock);
    return vec;
}

void shadow_irq_ack(struct shadow_vm *vm)
{
    spin_lock(&vm->lock);
    if (vm->irq_via_apic)
        apic_observer_ack(&vm->apic);
    else
        pic_observer_ack(&vm->pic);
    spin_unlock(&vm->lock);
}

void shadow_ioapic_write(struct shadow_vm *vm, uint32_t offset, uint32_t value)
{
    spin_lock(&vm->lock);
    apic_observer_ioapic_write(&vm->apic, offset, value);
    spin_unlock(&vm->lock);
}

bool shadow_lapic_eoi(struct shadow_vm *vm)
{
    spin_lock(&vm->lock);
    bool ours = apic_observer_eoi(&vm->apic);
    spin_unlock(&vm->lock);
    return ours;
}

void shadow_l1_injected(struct shadow_vm *vm, uint8_t vector)
{
    spin_lock(&vm->lock);
    apic_observer_l1_injected(&vm->apic, vector);
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

static void sync_chunks(struct vga *v, const uint8_t *w, uint8_t *seen, size_t size, size_t off,
                        size_t len, void (*import)(struct vga *, const uint8_t *, size_t, size_t));

/*
 * A0000-AFFFF is backed by a plain page while its bytes are plain chain-4
 * bytes (mode 13h); in every other state (planar 16-colour modes, a font
 * load into plane 2, write modes, ALU) it traps and each access goes
 * through the VGA model (vmx/passthrough.c). On the way out of the backed
 * state what the guest wrote there is imported first; on the way in the
 * planes are copied out to the page, so both views stay one memory.
 */
static void vga_window_follow(struct shadow_vm *vm, bool was_backed)
{
    bool backed = vga_chain4_linear(&vm->vga);
    if (backed == was_backed)
        return;
    uint8_t *w = (uint8_t *)(uintptr_t)vm->vga_window_pa;
    if (backed) {
        for (uint32_t i = 0; i < 0x10000; i++)
            w[i] = vga_mem_read(&vm->vga, i);
        memcpy(vm->gfx_seen, w, 0x10000);
    }
    vm->a0000_backed = backed;
    __atomic_add_fetch(&vm->vga_map_gen, 1, __ATOMIC_RELEASE);
}

void shadow_port_out(struct shadow_vm *vm, uint16_t port, unsigned size, uint32_t value)
{
    spin_lock(&vm->lock);
    bool was_backed = vm->a0000_backed;
    bool mode_port = port == 0x3C2 || port == 0x3C5 || port == 0x3CF ||
                     (size >= 2 && (port == 0x3C4 || port == 0x3CE));
    if (was_backed && mode_port)        /* the page's bytes first, while they are chain-4 */
        sync_chunks(&vm->vga, (const uint8_t *)(uintptr_t)vm->vga_window_pa, vm->gfx_seen,
                    0x10000, 0, 0x10000, vga_chain4_import_range);
    if (size == 2 && is_vga(port))
        vga_port_write16(&vm->vga, port, (uint16_t)value);
    else
        for (unsigned i = 0; i < size && i < 4; i++)
            out8(vm, (uint16_t)(port + i), (uint8_t)(value >> (8 * i)));
    if (is_vga(port))
        vga_window_follow(vm, was_backed);
    spin_unlock(&vm->lock);
}

bool shadow_vga_window_trapped(struct shadow_vm *vm)
{
    return !__atomic_load_n(&vm->a0000_backed, __ATOMIC_ACQUIRE);
}

uint32_t shadow_vga_map_gen(struct shadow_vm *vm)
{
    return __atomic_load_n(&vm->vga_map_gen, __ATOMIC_ACQUIRE);
}

uint8_t shadow_vga_mem_read(struct shadow_vm *vm, uint32_t offset)
{
    spin_lock(&vm->lock);
    uint8_t v = vga_mem_read(&vm->vga, offset);
    spin_unlock(&vm->lock);
    return v;
}

void shadow_vga_mem_write(struct shadow_vm *vm, uint32_t offset, uint8_t val)
{
    spin_lock(&vm->lock);
    vga_mem_write(&vm->vga, offset, val);
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

unsigned shadow_vm_count(void) { return SHADOW_MAX_VMS; }

struct shadow_vm *shadow_vm_at(unsigned id)
{
    spin_lock(&table_lock);
    bool live = vm_table_live(&table, id);
    spin_unlock(&table_lock);
    return live ? &vms[id] : NULL;
}

void shadow_vm_hold_releases(void)
{
    spin_lock(&table_lock);
    held = true;
    spin_unlock(&table_lock);
}

bool shadow_vm_dying(unsigned id)
{
    spin_lock(&table_lock);
    bool dying = id < SHADOW_MAX_VMS && table.slots[id].used && table.slots[id].dying;
    spin_unlock(&table_lock);
    return dying;
}

void shadow_vm_free(unsigned id)
{
    spin_lock(&table_lock);
    if (id < SHADOW_MAX_VMS && table.slots[id].used && table.slots[id].dying)
        vm_release(&vms[id]);
    spin_unlock(&table_lock);
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
