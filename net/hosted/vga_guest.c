/* The hosted VNC service's fake user VM (net/hosted/vga_guest.h). */
#include "net/hosted/vga_guest.h"
#include "net/port.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLS 80
#define ROWS 25
#define ATTR 0x07                       /* light grey on black */
#define ATTR_BANNER 0x1F                /* white on blue */

/* US keyboard, set-1 make codes 0x00-0x39: unshifted and shifted. */
static const char keys_plain[0x3A] =
    "\0\0331234567890-=\b\tqwertyuiop[]\n\0asdfghjkl;'`\0\\zxcvbnm,./\0*\0 ";
static const char keys_shift[0x3A] =
    "\0\033!@#$%^&*()_+\b\tQWERTYUIOP{}\n\0ASDFGHJKL:\"~\0|ZXCVBNM<>?\0*\0 ";

/* BIOS register values for mode 13h (320x200, 256 colours). */
static const uint8_t m13_seq[VGA_SEQ_COUNT] = { 0x03, 0x01, 0x0F, 0x00, 0x0E };
static const uint8_t m13_crtc[VGA_CRTC_COUNT] = {
    0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF,
};
static const uint8_t m13_gc[VGA_GC_COUNT] = { 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF };
static const uint8_t m13_ar[VGA_AR_COUNT] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E,
    0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00,
};

static void crtc_w(struct vga_guest *g, uint8_t i, uint8_t v)
{
    vga_port_write(&g->vga, VGA_PORT_CRTC_INDEX_COLOR, i);
    vga_port_write(&g->vga, VGA_PORT_CRTC_DATA_COLOR, v);
}

static void put(struct vga_guest *g, unsigned row, unsigned col, char c, uint8_t attr)
{
    uint32_t off = VGA_TEXT_WINDOW + (row * COLS + col) * 2;
    vga_mem_write(&g->vga, off, (uint8_t)c);
    vga_mem_write(&g->vga, off + 1, attr);
}

static void cursor(struct vga_guest *g)
{
    unsigned loc = g->row * COLS + g->col;
    crtc_w(g, 0x0E, (uint8_t)(loc >> 8));
    crtc_w(g, 0x0F, (uint8_t)loc);
}

static void scroll(struct vga_guest *g)
{
    for (unsigned i = 0; i < (ROWS - 1) * COLS * 2; i++)
        vga_mem_write(&g->vga, VGA_TEXT_WINDOW + i,
                      vga_mem_read(&g->vga, VGA_TEXT_WINDOW + COLS * 2 + i));
    for (unsigned c = 0; c < COLS; c++)
        put(g, ROWS - 1, c, ' ', ATTR);
}

static void newline(struct vga_guest *g)
{
    g->col = 0;
    if (++g->row == ROWS) {
        scroll(g);
        g->row = ROWS - 1;
    }
}

static void out(struct vga_guest *g, char c)
{
    if (g->graphics)
        return;
    if (c == '\n') {
        newline(g);
    } else if (c == '\b') {
        if (g->col > 0)
            put(g, g->row, --g->col, ' ', ATTR);
    } else {
        put(g, g->row, g->col, c, ATTR);
        if (++g->col == COLS)
            newline(g);
    }
    cursor(g);
}

static void puts_(struct vga_guest *g, const char *s)
{
    while (*s)
        out(g, *s++);
}

static void text_mode(struct vga_guest *g)
{
    vga_init(&g->vga, g->planes);
    g->graphics = false;
    for (unsigned r = 0; r < ROWS; r++)
        for (unsigned c = 0; c < COLS; c++)
            put(g, r, c, ' ', ATTR);
    g->row = g->col = 0;
}

static void mode13(struct vga_guest *g)
{
    struct vga *v = &g->vga;
    vga_port_write(v, VGA_PORT_MISC_WRITE, 0x63);
    vga_port_write(v, VGA_PORT_SEQ_INDEX, 0);
    vga_port_write(v, VGA_PORT_SEQ_DATA, 0x01);
    for (uint8_t i = 1; i < VGA_SEQ_COUNT; i++) {
        vga_port_write(v, VGA_PORT_SEQ_INDEX, i);
        vga_port_write(v, VGA_PORT_SEQ_DATA, m13_seq[i]);
    }
    vga_port_write(v, VGA_PORT_SEQ_INDEX, 0);
    vga_port_write(v, VGA_PORT_SEQ_DATA, 0x03);
    crtc_w(g, 0x11, m13_crtc[0x11] & 0x7F);     /* unlock CRTC 0-7 */
    for (uint8_t i = 0; i < VGA_CRTC_COUNT; i++)
        crtc_w(g, i, m13_crtc[i]);
    for (uint8_t i = 0; i < VGA_GC_COUNT; i++) {
        vga_port_write(v, VGA_PORT_GC_INDEX, i);
        vga_port_write(v, VGA_PORT_GC_DATA, m13_gc[i]);
    }
    (void)vga_port_read(v, VGA_PORT_STATUS1_COLOR);   /* AR flip-flop to index */
    for (uint8_t i = 0; i < VGA_AR_COUNT; i++) {
        vga_port_write(v, VGA_PORT_AR_INDEX, i);
        vga_port_write(v, VGA_PORT_AR_INDEX, m13_ar[i]);
    }
    vga_port_write(v, VGA_PORT_AR_INDEX, 0x20);       /* palette access off: video on */
    /* A test picture: diagonal bands over the default palette. */
    for (unsigned y = 0; y < 200; y++)
        for (unsigned x = 0; x < 320; x++)
            vga_mem_write(v, y * 320 + x, (uint8_t)((x + y) / 2));
    g->graphics = true;
}

static void run_line(struct vga_guest *g)
{
    g->line[g->linelen] = '\0';
    net_log("vga guest vm %u: line '%s'", g->id, g->line);
    if (!strcmp(g->line, "mode13")) {
        mode13(g);
    } else if (!strcmp(g->line, "text")) {
        text_mode(g);
        puts_(g, "back in text mode\n> ");
    } else if (!strcmp(g->line, "bell")) {
        g->bell = true;
        puts_(g, "> ");
    } else if (!strcmp(g->line, "fill")) {
        for (unsigned r = 0; r < ROWS; r++)
            for (unsigned c = 0; c < COLS; c++)
                put(g, r, c, (char)('!' + (r * 7 + c) % 90), (uint8_t)(1 + (r + c) % 15));
        g->row = ROWS - 1;
        g->col = 0;
        cursor(g);
    } else {
        puts_(g, "> ");
    }
    g->linelen = 0;
}

void vga_guest_init(struct vga_guest *g, unsigned id)
{
    memset(g, 0, sizeof(*g));
    g->id = id;
    vga_init(&g->vga, g->planes);
    i8042_init(&g->kbd);
}

static void key(struct vga_guest *g, uint8_t sc)
{
    if (sc == 0xE0) {
        g->e0 = true;
        return;
    }
    bool ext = g->e0;
    g->e0 = false;
    bool up = sc & 0x80;
    uint8_t code = sc & 0x7F;
    if (!ext && (code == 0x2A || code == 0x36)) {
        g->shift = !up;
        return;
    }
    if (up || code >= sizeof(keys_plain))
        return;
    if (ext && code != 0x1C)            /* keypad Enter only */
        return;
    char c = (g->shift ? keys_shift : keys_plain)[code];
    if (c == '\0' || c == '\033' || c == '\t')
        return;
    if (c == '\n') {
        if (!g->graphics)
            out(g, '\n');
        run_line(g);
    } else if (c == '\b') {
        if (g->linelen > 0) {
            g->linelen--;
            out(g, '\b');
        }
    } else if (g->linelen < sizeof(g->line) - 1) {
        g->line[g->linelen++] = c;
        out(g, c);
    }
}

bool vga_guest_step(struct vga_guest *g)
{
    bool moved = false;
    if (!g->booted) {
        g->booted = true;
        text_mode(g);
        char banner[COLS + 1];
        snprintf(banner, sizeof(banner), " vsbypass hosted VGA guest: vm %u ", g->id);
        for (unsigned c = 0; c < COLS; c++)
            put(g, 0, c, c < strlen(banner) ? banner[c] : ' ', ATTR_BANNER);
        g->row = 2;
        puts_(g, "Type a line and press Enter. Commands: mode13, text, bell, fill.\n> ");
        moved = true;
    }
    while (i8042_read(&g->kbd, I8042_PORT_STATUS) & I8042_STATUS_OBF) {
        key(g, i8042_read(&g->kbd, I8042_PORT_DATA));
        moved = true;
    }
    return moved;
}

bool vga_guest_take_bell(struct vga_guest *g)
{
    bool b = g->bell;
    g->bell = false;
    return b;
}

bool vga_guest_dump_ppm(struct vga_guest *g, const char *path)
{
    static uint32_t fb[VGA_MAX_WIDTH * VGA_MAX_HEIGHT];
    struct vga copy = g->vga;           /* the planes are only read */
    copy.full_dirty = true;
    struct vga_rect d;
    unsigned w, h;
    enum vga_kind kind;
    vga_mode_info(&copy, &w, &h, &kind);
    vga_render(&copy, fb, VGA_MAX_WIDTH, &d);
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        return false;
    fprintf(f, "P6\n%u %u\n255\n", w, h);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++) {
            uint32_t p = fb[y * VGA_MAX_WIDTH + x];
            uint8_t rgb[3] = { (uint8_t)(p >> 16), (uint8_t)(p >> 8), (uint8_t)p };
            fwrite(rgb, 1, 3, f);
        }
    return fclose(f) == 0;
}
