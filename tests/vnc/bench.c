/*
 * VNC benchmark (issue 7): what the tenant's VNC view of a text console
 * costs, with our own Raw encoding as the baseline.
 *
 *   1. a full 720x400 text screen, per encoding: bytes on the wire and
 *      encode time, laid out as net/stack/vnc_srv.c sends it (strips of up
 *      to 16 rows) and as one rectangle;
 *   2. a one-character change: render time, its dirty rectangle, and that
 *      rectangle encoded per encoding;
 *   3. key press to updated framebuffer in L0: i8042_key (press, release),
 *      a tiny in-process guest that drains ports 0x64/0x60, echoes the
 *      character and moves the CRTC cursor, vga_render, vnc_srv's row hash
 *      and the update encoded (ZRLE on a warm stream);
 *   4. an idle poll: vga_render with nothing changed.
 *
 * The device models and encoders are the same C files vsbypass and the
 * hosted VNC service build (shadow/, net/rfb*.c), here hosted at -O2
 * without sanitizers; zlib is Debian's, as in the hosted service. Times are
 * CLOCK_MONOTONIC medians; the clock's own cost (measured, printed) is
 * subtracted from single-operation timings. Figures only, no thresholds.
 * Last line: "vnc bench: ..." with the headline figures.
 */
#include "net/rfb.h"
#include "net/rfb_enc.h"
#include "shadow/i8042.h"
#include "shadow/keymap.h"
#include "shadow/vga.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define COLS 80
#define ROWS 25
#define RUNS_FULL 101           /* full-screen encodes per encoding and layout */
#define RUNS_CHAR 1001          /* one-character changes */
#define KEYS 1000               /* timed key presses per encoding */
#define KEYS_WARM 50            /* untimed key presses before them */
#define IDLE_BATCH 1000         /* idle renders per timed batch */
#define IDLE_RUNS 101

/* As in net/stack/vnc_srv.c. */
#define STRIP_MAX (64 * 1024)   /* VNC_STRIP_MAX: one encoded rectangle at most */
#define STRIP_ROWS 16           /* plan_start's first strip height */

enum { E_RAW, E_HEXTILE, E_ZRLE, E_COUNT };
static const char *const enc_name[E_COUNT] = { "Raw", "Hextile", "ZRLE" };
static const int32_t enc_num[E_COUNT] = { RFB_ENC_RAW, RFB_ENC_HEXTILE, RFB_ENC_ZRLE };

static uint8_t planes[VGA_PLANES * VGA_PLANE_SIZE];
static uint32_t fb[VGA_MAX_WIDTH * VGA_MAX_HEIGHT];
static uint8_t out[4 << 20];            /* one whole update */
static uint8_t scratch[STRIP_MAX];      /* ZRLE tile data before deflate */
static struct vga vga;
static struct i8042 kbd;
static struct rfb_pixfmt pf;
static uint64_t clock_cost;             /* ns one now_ns() pair adds */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vnc bench: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* One sample: the interval minus the clock's own cost. */
static uint64_t since(uint64_t t0)
{
    uint64_t d = now_ns() - t0;
    return d > clock_cost ? d - clock_cost : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median; sorts the samples. */
static uint64_t median(uint64_t *s, size_t n)
{
    qsort(s, n, sizeof(s[0]), cmp_u64);
    return s[n / 2];
}

/* "12,345" */
static const char *grp(uint64_t v)
{
    static char buf[8][32];
    static unsigned k;
    char *b = buf[k++ % 8], tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            b[o++] = ',';
        b[o++] = tmp[i];
    }
    b[o] = 0;
    return b;
}

/* A time in ns as "850 ns", "12.3 us" or "1.23 ms". */
static const char *tm(uint64_t ns)
{
    static char buf[8][32];
    static unsigned k;
    char *b = buf[k++ % 8];
    if (ns < 10000)
        snprintf(b, 32, "%llu ns", (unsigned long long)ns);
    else if (ns < 1000000)
        snprintf(b, 32, "%.1f us", ns / 1e3);
    else
        snprintf(b, 32, "%.2f ms", ns / 1e6);
    return b;
}

/* ------------------------------------------------------------ the screen */

static uint32_t rng = 0x2545f491u;
static uint32_t rnd(void)              /* xorshift32: the same screen every run */
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void put(unsigned row, unsigned col, uint8_t ch, uint8_t attr)
{
    uint32_t off = VGA_TEXT_WINDOW + 2u * (row * COLS + col);
    vga_mem_write(&vga, off, ch);
    vga_mem_write(&vga, off + 1, attr);
}

/* Writes s at (row, col) in attr; returns the column after it. */
static unsigned puts_at(unsigned row, unsigned col, const char *s, uint8_t attr)
{
    for (; *s && col < COLS; s++, col++)
        put(row, col, (uint8_t)*s, attr);
    return col;
}

static void clear_screen(uint8_t ch, uint8_t attr)
{
    for (unsigned r = 0; r < ROWS; r++)
        for (unsigned c = 0; c < COLS; c++)
            put(r, c, ch, attr);
}

static const char *const boot_msgs[] = {
    "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14)",
    "Command line: BOOT_IMAGE=/vmlinuz root=/dev/vda1 ro console=tty0 quiet",
    "BIOS-e820: [mem 0x0000000000100000-0x000000001ffdffff] usable",
    "ACPI: RSDP 0x00000000000F5A50 000014 (v00 BOCHS )",
    "smpboot: CPU0: Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz (family: 0x6, model: 0x4f)",
    "Memory: 482716K/523896K available (14336K kernel code, 2275K rwdata)",
    "clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: 0x228cc5a3c8e",
    "pci 0000:00:02.0: vgaarb: setting as boot VGA device",
    "i8042: PNP: PS/2 Controller [PNP0303:KBD] at 0x60,0x64 irq 1",
    "serio: i8042 KBD port at 0x60,0x64 irq 1",
    "input: AT Translated Set 2 keyboard as /devices/platform/i8042/serio0/input/input0",
    "virtio_blk virtio1: [vda] 20971520 512-byte logical blocks (10.7 GB/10.0 GiB)",
    "EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none.",
    "systemd[1]: Detected virtualization kvm.",
    "e1000 0000:00:03.0 eth0: (PCI:33MHz:32-bit) 52:54:00:12:34:56",
};
static const char *const units[] = {
    "Started Journal Service.", "Mounted Kernel Debug File System.",
    "Reached target Local File Systems.", "Started Network Time Synchronization.",
    "Finished Load Kernel Modules.", "Started OpenBSD Secure Shell server.",
};

/* 80x25 like a console after boot: a title bar, kernel messages with
 * timestamps, systemd status lines in colour, a login prompt. */
static void draw_screen(void)
{
    rng = 0x2545f491u;
    clear_screen(' ', 0x07);
    unsigned c = puts_at(0, 0, " vsbypass console  VM 0 (tenant-a)", 0x1F);
    for (; c < COLS; c++)
        put(0, c, ' ', 0x1F);
    puts_at(0, 62, "ZRLE  720x400 ", 0x1E);
    unsigned nk = sizeof(boot_msgs) / sizeof(boot_msgs[0]);
    unsigned nu = sizeof(units) / sizeof(units[0]);
    uint32_t usec = 0;
    for (unsigned r = 1; r < ROWS - 2; r++) {
        char ts[32];
        if (r < 14) {                   /* kernel log */
            usec += 1000 + rnd() % 400000;
            snprintf(ts, sizeof(ts), "[%5u.%06u] ", usec / 1000000, usec % 1000000);
            c = puts_at(r, 0, ts, 0x07);
            puts_at(r, c, boot_msgs[(r - 1 + rnd() % 3) % nk], (rnd() % 5 == 0) ? 0x0E : 0x07);
        } else {                        /* systemd status */
            unsigned k = rnd() % 8;
            c = puts_at(r, 0, "[", 0x07);
            if (k == 0)
                c = puts_at(r, c, "FAILED", 0x0C);
            else
                c = puts_at(r, c, "  OK  ", 0x0A);
            c = puts_at(r, c, "] ", 0x07);
            puts_at(r, c, units[rnd() % nu], k == 0 ? 0x0F : 0x07);
        }
    }
    puts_at(ROWS - 1, 0, "debian login: ", 0x07);
}

static unsigned guest_io;               /* the guest's port accesses: VM exits in vsbypass */

static void set_cursor(unsigned pos)
{
    guest_io += 4;
    vga_port_write(&vga, 0x3D4, VGA_CRTC_CURSOR_HI);
    vga_port_write(&vga, 0x3D5, (uint8_t)(pos >> 8));
    vga_port_write(&vga, 0x3D4, VGA_CRTC_CURSOR_LO);
    vga_port_write(&vga, 0x3D5, (uint8_t)pos);
}

/* ------------------------------------------------------------- encoding */

static z_stream zs;
static bool zs_open;

static void zs_fresh(void)
{
    if (zs_open)
        deflateEnd(&zs);
    memset(&zs, 0, sizeof(zs));
    /* vnc_srv.c's stream: level 6, 4 KiB window, memLevel 5. */
    if (deflateInit2(&zs, 6, Z_DEFLATED, 12, 5, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2 failed");
    zs_open = true;
}

static size_t enc_bound(int e, unsigned w, unsigned h)
{
    switch (e) {
    case E_ZRLE: {
        size_t b = rfb_enc_zrle_raw_bound(&pf, w, h);
        return b + b / 1000 + 64 + 4;
    }
    case E_HEXTILE: return rfb_enc_hextile_bound(&pf, w, h);
    default: return rfb_enc_raw_bound(&pf, w, h);
    }
}

/* Rows per rectangle for width w, as vnc_srv.c's plan_start picks it. */
static unsigned strip_rows(int e, unsigned w)
{
    unsigned sh = STRIP_ROWS;
    while (sh > 1 && enc_bound(e, w, sh) + 16 > STRIP_MAX)
        sh /= 2;
    return sh;
}

struct enc_cost {
    size_t bytes;               /* the whole FramebufferUpdate */
    unsigned rects;
    uint64_t tile_ns;           /* encoder proper (ZRLE: before deflate) */
    uint64_t zlib_ns;           /* ZRLE: deflate */
};

/* One FramebufferUpdate of (x,y,w,h) in encoding e, split in rectangles of
 * at most `sh` rows, into out[]; ZRLE deflates on the current stream. */
static struct enc_cost encode_update(int e, unsigned x, unsigned y, unsigned w, unsigned h,
                                     unsigned sh)
{
    struct enc_cost c = { 0, (h + sh - 1) / sh, 0, 0 };
    size_t o = rfb_put_update_header(out, (uint16_t)c.rects);
    for (unsigned y0 = y; y0 < y + h; y0 += sh) {
        unsigned rh = y + h - y0 < sh ? y + h - y0 : sh;
        size_t bound = enc_bound(e, w, rh);
        if (o + 12 + bound > sizeof(out))
            die("update larger than the buffer");
        uint8_t *p = out + o;
        size_t n = rfb_put_rect_header(p, (uint16_t)x, (uint16_t)y0, (uint16_t)w, (uint16_t)rh,
                                       enc_num[e]);
        size_t body;
        uint64_t t0 = now_ns();
        if (e == E_ZRLE) {
            size_t raw = rfb_enc_zrle_raw(&pf, fb, VGA_MAX_WIDTH, x, y0, w, rh, scratch,
                                          sizeof(scratch));
            uint64_t t1 = now_ns();
            c.tile_ns += t1 - t0;
            zs.next_in = scratch;
            zs.avail_in = (uInt)raw;
            zs.next_out = p + n + 4;
            zs.avail_out = (uInt)(sizeof(out) - o - n - 4);
            int zr = deflate(&zs, Z_SYNC_FLUSH);
            c.zlib_ns += now_ns() - t1;
            if (raw == 0 || zr != Z_OK || zs.avail_in != 0)
                die("ZRLE: zlib %d", zr);
            body = (size_t)(zs.next_out - (p + n + 4));
            p[n] = (uint8_t)(body >> 24);
            p[n + 1] = (uint8_t)(body >> 16);
            p[n + 2] = (uint8_t)(body >> 8);
            p[n + 3] = (uint8_t)body;
            body += 4;
        } else {
            body = e == E_HEXTILE
                ? rfb_enc_hextile(&pf, fb, VGA_MAX_WIDTH, x, y0, w, rh, p + n, bound)
                : rfb_enc_raw(&pf, fb, VGA_MAX_WIDTH, x, y0, w, rh, p + n, bound);
            c.tile_ns += now_ns() - t0;
        }
        if (body == 0)
            die("%s encoder failed", enc_name[e]);
        o += n + body;
    }
    c.bytes = o;
    return c;
}

/* vnc_srv.c hashes every dirty row (full width) after each render with
 * rfb_row_hash, so that plan_start can skip rows the viewer already shows. */
static volatile uint64_t hashes[VGA_MAX_HEIGHT];   /* kept, as vnc_srv keeps them */

static void print_rel(size_t bytes, size_t raw_bytes, uint64_t ns, uint64_t raw_ns)
{
    printf(" %6.1f%% %7.2fx", 100.0 * (double)bytes / (double)raw_bytes,
           raw_ns ? (double)ns / (double)raw_ns : 0.0);
}

/* ----------------------------------------------------------- part 1 */

static size_t full_zrle_bytes, full_raw_bytes;
static uint64_t full_zrle_ns;

static void bench_full(unsigned w, unsigned h)
{
    static uint64_t tile[RUNS_FULL], zlib[RUNS_FULL], tot[RUNS_FULL], rend[RUNS_FULL];
    struct vga_rect d;

    /* Render cost of the whole screen: blank, then the log screen again. */
    for (unsigned i = 0; i < RUNS_FULL; i++) {
        clear_screen(' ', 0x07);
        vga_render(&vga, fb, VGA_MAX_WIDTH, &d);
        draw_screen();
        uint64_t t0 = now_ns();
        vga_render(&vga, fb, VGA_MAX_WIDTH, &d);
        rend[i] = since(t0);
    }
    printf("1. full screen %ux%u (80x25 boot log, 7 attributes); render %s, dirty %ux%u+%u+%u\n",
           w, h, tm(median(rend, RUNS_FULL)), d.w, d.h, d.x, d.y);
    printf("   %-8s %-18s %10s %6s %12s %12s %12s %7s %8s\n", "encoding", "layout", "bytes",
           "rects", "encode", "+deflate", "total", "bytes", "time");
    printf("   %-8s %-18s %10s %6s %12s %12s %12s %7s %8s\n", "", "", "", "", "", "", "",
           "vs Raw", "vs Raw");

    for (int layout = 0; layout < 2; layout++) {
        size_t raw_bytes = 0;
        uint64_t raw_ns = 0;
        for (int e = 0; e < E_COUNT; e++) {
            unsigned sh = layout == 0 ? strip_rows(e, w) : h;
            struct enc_cost c = { 0 };
            for (unsigned i = 0; i < RUNS_FULL; i++) {
                if (e == E_ZRLE)
                    zs_fresh();         /* a new viewer: a fresh stream */
                c = encode_update(e, 0, 0, w, h, sh);
                tile[i] = c.tile_ns;
                zlib[i] = c.zlib_ns;
                tot[i] = c.tile_ns + c.zlib_ns;
            }
            uint64_t mt = median(tile, RUNS_FULL), mz = median(zlib, RUNS_FULL);
            uint64_t mtot = median(tot, RUNS_FULL);
            if (e == E_RAW) {
                raw_bytes = c.bytes;
                raw_ns = mtot;
            }
            char lay[32];
            if (layout == 0)
                snprintf(lay, sizeof(lay), "vnc_srv, %u-row", sh);
            else
                snprintf(lay, sizeof(lay), "one rectangle");
            printf("   %-8s %-18s %10s %6u %12s %12s %12s", enc_name[e], lay, grp(c.bytes),
                   c.rects, tm(mt), e == E_ZRLE ? tm(mz) : "-", tm(mtot));
            print_rel(c.bytes, raw_bytes, mtot, raw_ns);
            putchar('\n');
            if (layout == 0 && e == E_RAW)
                full_raw_bytes = c.bytes;
            if (layout == 0 && e == E_ZRLE) {
                full_zrle_bytes = c.bytes;
                full_zrle_ns = mtot;
            }
        }
    }
    printf("   (bytes: the whole FramebufferUpdate, 4-byte header, 12 per rectangle, ZRLE's\n"
           "    u32 lengths; ZRLE on a fresh zlib stream each run, as for a new viewer;\n"
           "    median of %d runs; 'total' is the median of encode+deflate sums)\n", RUNS_FULL);
}

/* ----------------------------------------------------------- part 2 */

static void bench_char(void)
{
    static uint64_t rend[RUNS_CHAR], t[E_COUNT][RUNS_CHAR];
    size_t bytes[E_COUNT] = { 0 };
    struct vga_rect d = { 0 }, d0 = { 0 };
    const unsigned row = 12, col = 40;
    unsigned odd = 0;

    /* ZRLE continues the stream that sent the full screen to this viewer. */
    zs_fresh();
    encode_update(E_ZRLE, 0, 0, 720, 400, strip_rows(E_ZRLE, 720));
    for (unsigned i = 0; i < RUNS_CHAR; i++) {
        uint32_t off = VGA_TEXT_WINDOW + 2u * (row * COLS + col);
        vga_mem_write(&vga, off, (uint8_t)('a' + i % 26));
        uint64_t t0 = now_ns();
        bool changed = vga_render(&vga, fb, VGA_MAX_WIDTH, &d);
        rend[i] = since(t0);
        if (!changed || d.w == 0)
            die("one-character change: nothing to render");
        if (i == 0)
            d0 = d;
        else if (d.x != d0.x || d.y != d0.y || d.w != d0.w || d.h != d0.h)
            odd++;
        for (int e = 0; e < E_COUNT; e++) {
            struct enc_cost c = encode_update(e, d.x, d.y, d.w, d.h, strip_rows(e, d.w));
            t[e][i] = c.tile_ns + c.zlib_ns;
            bytes[e] = c.bytes;
        }
    }
    printf("\n2. one character changed (row %u, col %u): render %s, dirty rect %ux%u+%u+%u%s\n",
           row, col, tm(median(rend, RUNS_CHAR)), d0.w, d0.h, d0.x, d0.y,
           odd ? " (varied)" : "");
    printf("   %-8s %10s %12s %7s %8s\n", "encoding", "bytes", "encode", "bytes", "time");
    uint64_t raw_ns = 0;
    for (int e = 0; e < E_COUNT; e++) {
        uint64_t m = median(t[e], RUNS_CHAR);
        if (e == E_RAW)
            raw_ns = m;
        printf("   %-8s %10s %12s", enc_name[e], grp(bytes[e]), tm(m));
        print_rel(bytes[e], bytes[E_RAW], m, raw_ns);
        putchar('\n');
    }
    printf("   (ZRLE: encode+deflate on the warm stream that sent the full screen;\n"
           "    median of %d changes; bytes of the last update)\n", RUNS_CHAR);
}

/* ----------------------------------------------------------- part 3 */

static uint8_t set1_to_ascii[128];      /* the guest's keymap */
static unsigned cursor_pos;
static const char typed_text[] = "the quick brown fox jumps over the lazy dog 0123456789 ";

/* The guest's keyboard interrupt handler: drains the controller; returns
 * the characters typed (make codes only). */
static unsigned guest_kbd_irq(char *chars, unsigned max)
{
    unsigned n = 0;
    (void)i8042_take_irq1_edge(&kbd);   /* what the exit handler asks to inject IRQ 1 */
    for (;;) {
        guest_io++;
        if (!(i8042_read(&kbd, I8042_PORT_STATUS) & I8042_STATUS_OBF))
            break;
        guest_io++;
        uint8_t b = i8042_read(&kbd, I8042_PORT_DATA);
        (void)i8042_take_irq1_edge(&kbd);
        if (b < 0x80 && set1_to_ascii[b] && n < max)
            chars[n++] = (char)set1_to_ascii[b];
    }
    return n;
}

/* The guest's console: echo at the cursor, advance it along the prompt row. */
static void guest_echo(const char *chars, unsigned n)
{
    const unsigned first = (ROWS - 1) * COLS + 14, last = ROWS * COLS - 1;
    for (unsigned i = 0; i < n; i++) {
        vga_mem_write(&vga, VGA_TEXT_WINDOW + 2u * cursor_pos, (uint8_t)chars[i]);
        vga_mem_write(&vga, VGA_TEXT_WINDOW + 2u * cursor_pos + 1, 0x07);
        cursor_pos = cursor_pos == last ? first : cursor_pos + 1;
    }
    set_cursor(cursor_pos);
}

struct key_cost {
    uint64_t kbd, vga, render, hash, enc, total;
    size_t bytes;
    struct vga_rect d;
};

/* One key: VNC KeyEvent down+up to the FramebufferUpdate bytes. */
static struct key_cost one_key(unsigned k, int e, bool timed)
{
    struct key_cost c = { 0 };
    char ch = typed_text[k % (sizeof(typed_text) - 1)], chars[8];
    uint8_t code;
    bool ext, shift;
    uint64_t t0 = timed ? now_ns() : 0;
    if (keymap_keysym_to_set1((uint8_t)ch, &code, &ext, &shift) != 0)
        die("no key for '%c'", ch);
    /* vnc_srv feeds the keyboard; the guest takes each byte on IRQ 1. */
    if (!i8042_key(&kbd, code, ext, true))
        die("key dropped");
    unsigned n = guest_kbd_irq(chars, 8);
    if (!i8042_key(&kbd, code, ext, false))
        die("key dropped");
    n += guest_kbd_irq(chars + n, 8 - n);
    if (n != 1)
        die("guest saw %u characters for one key", n);
    uint64_t t1 = timed ? now_ns() : 0;
    guest_echo(chars, n);
    uint64_t t2 = timed ? now_ns() : 0;
    if (!vga_render(&vga, fb, VGA_MAX_WIDTH, &c.d))
        die("key press: nothing to render");
    uint64_t t3 = timed ? now_ns() : 0;
    for (uint32_t y = c.d.y; y < c.d.y + c.d.h; y++)
        hashes[y] = rfb_row_hash(fb + (size_t)y * VGA_MAX_WIDTH, 720);
    uint64_t t4 = timed ? now_ns() : 0;
    struct enc_cost ec = encode_update(e, c.d.x, c.d.y, c.d.w, c.d.h, strip_rows(e, c.d.w));
    c.bytes = ec.bytes;
    if (timed) {
        uint64_t t5 = now_ns();
        /* Each interval minus one clock read (the one that ends it). */
        uint64_t cc = clock_cost;
        c.kbd = t1 - t0 > cc ? t1 - t0 - cc : 0;
        c.vga = t2 - t1 > cc ? t2 - t1 - cc : 0;
        c.render = t3 - t2 > cc ? t3 - t2 - cc : 0;
        c.hash = t4 - t3 > cc ? t4 - t3 - cc : 0;
        /* encode_update reads the clock 2 (Raw, Hextile) or 3 (ZRLE) times
         * per rectangle besides its work. */
        uint64_t reads = (e == E_ZRLE ? 3 : 2) * (uint64_t)ec.rects + 1;
        c.enc = t5 - t4 > reads * cc ? t5 - t4 - reads * cc : 0;
        c.total = c.kbd + c.vga + c.render + c.hash + c.enc;
    }
    return c;
}

static uint64_t key_zrle_ns;
static size_t key_zrle_bytes;

static void bench_keys(void)
{
    static uint64_t s[6][KEYS];
    uint64_t zrle_mean = 0;
    unsigned io_per_key = 0;
    static size_t b[KEYS];
    struct vga_rect d_typ = { 0 };

    for (unsigned c = 0x20; c < 0x7f; c++) {
        uint8_t code;
        bool ext, shift;
        if (keymap_keysym_to_set1(c, &code, &ext, &shift) == 0 && !shift && !ext && code < 0x80)
            set1_to_ascii[code] = (uint8_t)c;
    }
    printf("\n3. key press -> updated framebuffer in L0 (per key: KeyEvent down+up, %u keys)\n", KEYS);
    printf("   %-8s %9s %9s %9s %9s %9s %10s %8s %8s %8s\n", "encoding", "keyboard", "VGA wr",
           "render", "row hash", "encode", "total", "bytes", "bytes", "total");
    printf("   %-8s %9s %9s %9s %9s %9s %10s %8s %8s %8s\n", "", "", "", "", "", "", "",
           "median", "vs Raw", "vs Raw");
    size_t raw_b = 0;
    uint64_t raw_t = 0;
    for (int e = 0; e < E_COUNT; e++) {
        zs_fresh();
        encode_update(e, 0, 0, 720, 400, strip_rows(e, 720));   /* the viewer's first update */
        for (unsigned k = 0; k < KEYS_WARM; k++)
            one_key(k, e, false);
        unsigned io0 = guest_io;
        for (unsigned k = 0; k < KEYS; k++) {
            struct key_cost c = one_key(k, e, true);
            if (e == E_ZRLE)
                zrle_mean += c.total;
            s[0][k] = c.kbd;
            s[1][k] = c.vga;
            s[2][k] = c.render;
            s[3][k] = c.hash;
            s[4][k] = c.enc;
            s[5][k] = c.total;
            b[k] = c.bytes;
            if (k == KEYS / 2)
                d_typ = c.d;
        }
        io_per_key = (guest_io - io0) / KEYS;
        uint64_t m[6];
        for (int i = 0; i < 6; i++)
            m[i] = median(s[i], KEYS);
        uint64_t bs[KEYS];
        for (unsigned k = 0; k < KEYS; k++)
            bs[k] = b[k];
        size_t mb = (size_t)median(bs, KEYS);
        if (e == E_RAW) {
            raw_b = mb;
            raw_t = m[5];
        }
        printf("   %-8s %9s %9s %9s %9s %9s %10s %8s", enc_name[e], tm(m[0]), tm(m[1]), tm(m[2]),
               tm(m[3]), tm(m[4]), tm(m[5]), grp(mb));
        print_rel(mb, raw_b, m[5], raw_t);
        putchar('\n');
        if (e == E_ZRLE) {
            key_zrle_ns = m[5];
            key_zrle_bytes = mb;
        }
    }
    /* Cross-check without the per-phase clock reads. */
    uint64_t t0 = now_ns();
    for (unsigned k = 0; k < KEYS; k++)
        one_key(k, E_ZRLE, false);
    uint64_t batch = (now_ns() - t0) / KEYS;
    printf("   (typical dirty rect %ux%u+%u+%u: the echoed cell and the cursor's old and new cells;\n"
           "    keyboard: keysym->set 1, i8042_key x2, the guest's reads of 0x64/0x60 per IRQ 1;\n"
           "    VGA wr: the guest's char/attr writes and 4 CRTC port writes (0x0E/0x0F);\n"
           "    row hash: vnc_srv's rfb_row_hash of each dirty row, full width, after every render;\n"
           "    ZRLE on a warm stream; medians per phase, 'total' the median of per-key sums;\n"
           "    the cursor wraps back along the prompt row every 66 keys (a 720x16 update);\n"
           "    ZRLE mean per key incl. those: %s timed by phase, %s in one untimed loop;\n"
           "    L0 handler work only: the guest's %u port accesses per key are each a VM exit,\n"
           "    whose hardware exit/entry cost is not included)\n",
           d_typ.w, d_typ.h, d_typ.x, d_typ.y, tm(zrle_mean / KEYS), tm(batch), io_per_key);
}

/* ----------------------------------------------------------- part 4 */

static uint64_t idle_ns;

static void bench_idle(void)
{
    static uint64_t s[IDLE_RUNS];
    struct vga_rect d;
    vga_render(&vga, fb, VGA_MAX_WIDTH, &d);
    for (unsigned i = 0; i < IDLE_RUNS; i++) {
        uint64_t t0 = now_ns();
        for (unsigned j = 0; j < IDLE_BATCH; j++)
            if (vga_render(&vga, fb, VGA_MAX_WIDTH, &d))
                die("idle render found a change");
        s[i] = (now_ns() - t0) / IDLE_BATCH;
    }
    idle_ns = median(s, IDLE_RUNS);
    printf("\n4. idle poll: vga_render with nothing changed: %s per call "
           "(median of %u batches of %u)\n", tm(idle_ns), IDLE_RUNS, IDLE_BATCH);
}

int main(void)
{
    uint64_t start = now_ns();
    static uint64_t cs[1001];
    for (unsigned i = 0; i < 1001; i++) {
        uint64_t t0 = now_ns();
        cs[i] = now_ns() - t0;
    }
    clock_cost = median(cs, 1001);

    vga_init(&vga, planes);
    i8042_init(&kbd);
    rfb_pixfmt_default(&pf);
    unsigned w, h;
    enum vga_kind kind;
    vga_mode_info(&vga, &w, &h, &kind);
    if (kind != VGA_KIND_TEXT || w != 720 || h != 400)
        die("vga_init: expected 720x400 text, got %ux%u kind %d", w, h, (int)kind);
    draw_screen();
    cursor_pos = (ROWS - 1) * COLS + 14;
    set_cursor(cursor_pos);
    struct vga_rect d;
    vga_render(&vga, fb, VGA_MAX_WIDTH, &d);

    printf("VNC (host build -O2, no sanitizers; pixel format 32 bpp true colour; zlib %s;\n"
           " clock_gettime costs %llu ns, subtracted from single-operation times)\n\n",
           zlibVersion(), (unsigned long long)clock_cost);
    bench_full(w, h);
    draw_screen();                      /* part 1 left the screen as drawn; keep it so */
    vga_render(&vga, fb, VGA_MAX_WIDTH, &d);
    bench_char();
    bench_keys();
    bench_idle();
    if (zs_open)
        deflateEnd(&zs);
    printf("\nvnc bench: full screen ZRLE %s B (%.1f%% of Raw) in %s; key press -> ZRLE update "
           "%s, %s B; idle poll %s (%.1f s)\n",
           grp(full_zrle_bytes), 100.0 * (double)full_zrle_bytes / (double)full_raw_bytes,
           tm(full_zrle_ns), tm(key_zrle_ns), grp(key_zrle_bytes), tm(idle_ns),
           (double)(now_ns() - start) / 1e9);
    return 0;
}
