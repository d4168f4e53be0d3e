#include "shadow/vga.h"
#include "core/libc.h"
#include "vga_font8x16.h"

/* Register values a VGA BIOS programs for mode 3 (80x25, 9x16 cells). */
static const uint8_t mode3_seq[VGA_SEQ_COUNT] = { 0x03, 0x00, 0x03, 0x00, 0x02 };
static const uint8_t mode3_gc[VGA_GC_COUNT] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF,
};
static const uint8_t mode3_crtc[VGA_CRTC_COUNT] = {
    0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
    0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF,
};
static const uint8_t mode3_ar[VGA_AR_COUNT] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
    0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F,
    0x0C, 0x00, 0x0F, 0x08, 0x00,
};

/* Per register: the bits that exist (reserved ones read back 0) and the
 * bits whose change alters the whole picture (others only steer CPU
 * accesses, or, for the cursor, are diffed at render time). */
struct vga_reg_group {
    uint8_t count;
    const uint8_t *bits;
    const uint8_t *display;
};

static const uint8_t seq_bits[VGA_SEQ_COUNT] = { 0x03, 0x3D, 0x0F, 0x3F, 0x0E };
static const uint8_t seq_display[VGA_SEQ_COUNT] = { 0x00, 0x21, 0x00, 0x3F, 0x00 };
static const uint8_t gc_bits[VGA_GC_COUNT] = {
    0x0F, 0x0F, 0x0F, 0x1F, 0x03, 0x7B, 0x0F, 0x0F, 0xFF,
};
static const uint8_t gc_display[VGA_GC_COUNT] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x60, 0x01, 0x00, 0x00,
};
static const uint8_t every_bit[VGA_CRTC_COUNT] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};
static const uint8_t crtc_display[VGA_CRTC_COUNT] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0xFF,
    0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};
static const uint8_t ar_bits[VGA_AR_COUNT] = {
    0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F,
    0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F, 0x3F,
    0xEF, 0xFF, 0x3F, 0x0F, 0x0F,
};

static const struct vga_reg_group seq_group = { VGA_SEQ_COUNT, seq_bits, seq_display };
static const struct vga_reg_group gc_group = { VGA_GC_COUNT, gc_bits, gc_display };
static const struct vga_reg_group crtc_group = { VGA_CRTC_COUNT, every_bit, crtc_display };
static const struct vga_reg_group ar_group = { VGA_AR_COUNT, ar_bits, every_bit };

static uint8_t *plane(const struct vga *v, unsigned p) { return v->planes + p * VGA_PLANE_SIZE; }
static uint8_t expand(unsigned bit) { return (bit & 1) ? 0xFF : 0x00; }

/* The 64 EGA colours (bits 5-0 = r g b R G B, lower case at 1/3 intensity). */
static void dac_load_ega(struct vga *v)
{
    for (unsigned i = 0; i < 64; i++) {
        v->dac[i][0] = (uint8_t)((i >> 2 & 1) * 0x2A + (i >> 5 & 1) * 0x15);
        v->dac[i][1] = (uint8_t)((i >> 1 & 1) * 0x2A + (i >> 4 & 1) * 0x15);
        v->dac[i][2] = (uint8_t)((i & 1) * 0x2A + (i >> 3 & 1) * 0x15);
    }
}

void vga_init(struct vga *v, uint8_t *planes)
{
    memset(v, 0, sizeof *v);
    v->planes = planes;
    memset(planes, 0, VGA_PLANES * VGA_PLANE_SIZE);
    v->misc = 0x67;
    memcpy(v->seq, mode3_seq, sizeof v->seq);
    memcpy(v->gc, mode3_gc, sizeof v->gc);
    memcpy(v->crtc, mode3_crtc, sizeof v->crtc);
    memcpy(v->ar, mode3_ar, sizeof v->ar);
    v->ar_index = VGA_AR_PAS;
    v->dac_mask = 0xFF;
    dac_load_ega(v);
    /* A BIOS mode set clears the screen to grey-on-black blanks... */
    for (uint32_t a = 0; a < VGA_TEXT_SIZE; a += 2) {
        plane(v, 0)[a] = ' ';
        plane(v, 1)[a] = 0x07;
    }
    /* ...and loads its ROM font into character map 0 of plane 2, so the
     * renderer always takes glyphs from plane 2 and a guest that replaces
     * all, some or none of them sees what it would on hardware. */
    for (unsigned ch = 0; ch < 256; ch++)
        memcpy(plane(v, 2) + ch * VGA_FONT_GLYPH_STRIDE, vga_font8x16[ch], VGA_FONT8X16_HEIGHT);
    v->blink_on = true;
    v->full_dirty = true;
}

/* ------------------------------------------------------------- registers */

static void reg_write(struct vga *v, uint8_t *regs, const struct vga_reg_group *g,
                      uint8_t index, uint8_t val)
{
    if (index >= g->count)
        return;
    val &= g->bits[index];
    if ((regs[index] ^ val) & g->display[index])
        v->full_dirty = true;
    regs[index] = val;
}

static uint8_t reg_read(const uint8_t *regs, const struct vga_reg_group *g, uint8_t index)
{
    return index < g->count ? regs[index] : 0xFF;
}

static void crtc_write(struct vga *v, uint8_t val)
{
    uint8_t i = v->crtc_index;
    /* Protect locks the horizontal timings and overflow, all but its
     * line compare bit, so old EGA code cannot break VGA timings. */
    if ((v->crtc[VGA_CRTC_V_RETRACE_END] & VGA_CRTC_VRE_PROTECT) && i <= VGA_CRTC_LAST_PROTECTED) {
        if (i != VGA_CRTC_OVERFLOW)
            return;
        val = (uint8_t)((v->crtc[i] & ~VGA_CRTC_OVERFLOW_LC8) | (val & VGA_CRTC_OVERFLOW_LC8));
    }
    reg_write(v, v->crtc, &crtc_group, i, val);
}

static void ar_write(struct vga *v, uint8_t val)
{
    if (v->ar_data_next) {
        reg_write(v, v->ar, &ar_group, v->ar_index & VGA_AR_INDEX_MASK, val);
    } else {
        /* PAS off hands the palette to the CPU and blanks the screen. */
        if ((v->ar_index ^ val) & VGA_AR_PAS)
            v->full_dirty = true;
        v->ar_index = val & (VGA_AR_INDEX_MASK | VGA_AR_PAS);
    }
    v->ar_data_next = !v->ar_data_next;
}

static uint8_t dac_read_data(struct vga *v)
{
    uint8_t c = v->dac[v->dac_read][v->dac_step];
    if (++v->dac_step == 3) {
        v->dac_step = 0;
        v->dac_read++;
    }
    return c;
}

/* The DAC latches a colour only once all three components arrived. */
static void dac_write_data(struct vga *v, uint8_t val)
{
    v->dac_wbuf[v->dac_step] = val & VGA_DAC_COMPONENT_MASK;
    if (++v->dac_step < 3)
        return;
    v->dac_step = 0;
    if (memcmp(v->dac[v->dac_write], v->dac_wbuf, 3) != 0) {
        memcpy(v->dac[v->dac_write], v->dac_wbuf, 3);
        v->full_dirty = true;
    }
    v->dac_write++;
}

/* No beam to follow: successive reads step through display, horizontal
 * blank, display, vertical retrace, so polling loops for either edge end. */
static uint8_t status1_read(struct vga *v)
{
    static const uint8_t phases[4] = {
        0, VGA_STATUS1_DISPLAY_DISABLED,
        0, VGA_STATUS1_DISPLAY_DISABLED | VGA_STATUS1_VRETRACE,
    };
    v->ar_data_next = false;
    return phases[v->status_reads++ & 3];
}

/* CRTC and input status 1 answer at 3Bx (mono) or 3Dx (colour) per misc
 * bit 0: returns the colour alias of `port`, or 0 for the inactive copy. */
static uint16_t port_alias(const struct vga *v, uint16_t port)
{
    bool color = v->misc & VGA_MISC_COLOR_IO;
    if (port >= 0x3B0 && port <= 0x3BF)
        return color ? 0 : (uint16_t)(port + VGA_PORT_COLOR_OFFSET);
    if (port >= 0x3D0 && port <= 0x3DF)
        return color ? port : 0;
    return port;
}

uint8_t vga_port_read(struct vga *v, uint16_t port)
{
    switch (port_alias(v, port)) {
    case VGA_PORT_AR_INDEX:         return v->ar_index;
    case VGA_PORT_AR_READ:          return reg_read(v->ar, &ar_group, v->ar_index & VGA_AR_INDEX_MASK);
    case VGA_PORT_STATUS0:          return 0x00;
    case VGA_PORT_SEQ_INDEX:        return v->seq_index;
    case VGA_PORT_SEQ_DATA:         return reg_read(v->seq, &seq_group, v->seq_index);
    case VGA_PORT_DAC_MASK:         return v->dac_mask;
    case VGA_PORT_DAC_STATE:        return v->dac_state;
    case VGA_PORT_DAC_WRITE_INDEX:  return v->dac_write;
    case VGA_PORT_DAC_DATA:         return dac_read_data(v);
    case VGA_PORT_FEATURE_READ:     return v->feature;
    case VGA_PORT_MISC_READ:        return v->misc;
    case VGA_PORT_GC_INDEX:         return v->gc_index;
    case VGA_PORT_GC_DATA:          return reg_read(v->gc, &gc_group, v->gc_index);
    case VGA_PORT_CRTC_INDEX_COLOR: return v->crtc_index;
    case VGA_PORT_CRTC_DATA_COLOR:  return reg_read(v->crtc, &crtc_group, v->crtc_index);
    case VGA_PORT_STATUS1_COLOR:    return status1_read(v);
    default:                        return 0xFF;
    }
}

void vga_port_write(struct vga *v, uint16_t port, uint8_t val)
{
    switch (port_alias(v, port)) {
    case VGA_PORT_AR_INDEX:
        ar_write(v, val);
        break;
    case VGA_PORT_MISC_WRITE:
        if (v->misc != val)
            v->full_dirty = true;
        v->misc = val;
        break;
    case VGA_PORT_SEQ_INDEX:        v->seq_index = val & VGA_SEQ_INDEX_MASK; break;
    case VGA_PORT_SEQ_DATA:         reg_write(v, v->seq, &seq_group, v->seq_index, val); break;
    case VGA_PORT_DAC_MASK:
        if (v->dac_mask != val)
            v->full_dirty = true;
        v->dac_mask = val;
        break;
    case VGA_PORT_DAC_READ_INDEX:
        v->dac_read = val;
        v->dac_step = 0;
        v->dac_state = VGA_DAC_STATE_READ;
        break;
    case VGA_PORT_DAC_WRITE_INDEX:
        v->dac_write = val;
        v->dac_step = 0;
        v->dac_state = VGA_DAC_STATE_WRITE;
        break;
    case VGA_PORT_DAC_DATA:         dac_write_data(v, val); break;
    case VGA_PORT_GC_INDEX:         v->gc_index = val & VGA_GC_INDEX_MASK; break;
    case VGA_PORT_GC_DATA:          reg_write(v, v->gc, &gc_group, v->gc_index, val); break;
    case VGA_PORT_CRTC_INDEX_COLOR: v->crtc_index = val & VGA_CRTC_INDEX_MASK; break;
    case VGA_PORT_CRTC_DATA_COLOR:  crtc_write(v, val); break;
    case VGA_PORT_STATUS1_COLOR:    v->feature = val; break;
    default:                        break;
    }
}

void vga_port_write16(struct vga *v, uint16_t port, uint16_t val)
{
    vga_port_write(v, port, (uint8_t)val);
    vga_port_write(v, (uint16_t)(port + 1), (uint8_t)(val >> 8));
}

/* ---------------------------------------------------------------- memory */

/* Maps an offset from A0000 into the window GC misc selects. */
static bool cpu_window(const struct vga *v, uint32_t offset, uint32_t *addr)
{
    static const uint32_t base[4] = { 0, 0, 0x10000, 0x18000 };
    static const uint32_t size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
    unsigned map = (v->gc[VGA_GC_MISC] & VGA_GC_MISC_MAP_MASK) >> VGA_GC_MISC_MAP_SHIFT;
    if (!(v->misc & VGA_MISC_RAM_ENABLE) || offset < base[map] || offset - base[map] >= size[map])
        return false;
    *addr = offset - base[map];
    return true;
}

static void mark_mem(struct vga *v, uint32_t pa)
{
    if (v->mem_lo == v->mem_hi) {
        v->mem_lo = pa;
        v->mem_hi = pa + 1;
    } else if (pa < v->mem_lo) {
        v->mem_lo = pa;
    } else if (pa >= v->mem_hi) {
        v->mem_hi = pa + 1;
    }
}

static void plane_store(struct vga *v, unsigned p, uint32_t pa, uint8_t val)
{
    uint8_t *b = &plane(v, p)[pa];
    if (*b == val)
        return;
    *b = val;
    mark_mem(v, pa);
    if (p == 2)
        v->font_dirty = true;
}

static uint8_t alu(unsigned func, uint8_t d, uint8_t latch)
{
    switch (func) {
    case VGA_GC_FUNC_AND: return d & latch;
    case VGA_GC_FUNC_OR:  return d | latch;
    case VGA_GC_FUNC_XOR: return d ^ latch;
    default:              return d;
    }
}

/* The graphics controller's write path: one byte for each plane. */
static void gc_write_data(const struct vga *v, uint8_t val, uint8_t data[VGA_PLANES])
{
    uint8_t rotate = v->gc[VGA_GC_DATA_ROTATE];
    unsigned n = rotate & VGA_GC_ROTATE_COUNT;
    uint8_t rotated = (uint8_t)(val >> n | val << ((8 - n) & 7));
    uint8_t mask = v->gc[VGA_GC_BIT_MASK];
    uint8_t sr = v->gc[VGA_GC_SET_RESET], esr = v->gc[VGA_GC_ENABLE_SET_RESET];

    switch (v->gc[VGA_GC_MODE] & VGA_GC_MODE_WRITE) {
    case 1:     /* latches straight through: fast copies */
        memcpy(data, v->latch, VGA_PLANES);
        return;
    case 2:     /* the byte's low nibble is a colour, one bit per plane */
        for (unsigned p = 0; p < VGA_PLANES; p++)
            data[p] = expand(val >> p);
        break;
    case 3:     /* set/reset colour, the rotated byte ANDed into the bit mask */
        mask &= rotated;
        for (unsigned p = 0; p < VGA_PLANES; p++)
            data[p] = expand(sr >> p);
        break;
    default:
        for (unsigned p = 0; p < VGA_PLANES; p++)
            data[p] = (esr >> p & 1) ? expand(sr >> p) : rotated;
        break;
    }
    unsigned func = rotate >> VGA_GC_ROTATE_FUNC_SHIFT & 3;
    for (unsigned p = 0; p < VGA_PLANES; p++) {
        uint8_t d = alu(func, data[p], v->latch[p]);
        data[p] = (uint8_t)((d & mask) | (v->latch[p] & ~mask));
    }
}

void vga_mem_write(struct vga *v, uint32_t offset, uint8_t val)
{
    uint32_t a, pa;
    uint8_t planes;
    if (!cpu_window(v, offset, &a))
        return;
    /* Chain-4 picks the plane by A1-A0, odd/even by A0; both then leave
     * those bits clear in the plane address (the CRTC shifts to match). */
    uint8_t mem_mode = v->seq[VGA_SEQ_MEMORY_MODE];
    if (mem_mode & VGA_SEQ_MEM_CHAIN4) {
        planes = (uint8_t)(1u << (a & 3));
        pa = a & 0xFFFC;
    } else if (!(mem_mode & VGA_SEQ_MEM_OE_DISABLE)) {
        planes = (a & 1) ? 0x0A : 0x05;
        pa = a & 0xFFFE;
    } else {
        planes = 0x0F;
        pa = a & 0xFFFF;
    }
    planes &= v->seq[VGA_SEQ_MAP_MASK];
    uint8_t data[VGA_PLANES];
    gc_write_data(v, val, data);
    for (unsigned p = 0; p < VGA_PLANES; p++)
        if (planes >> p & 1)
            plane_store(v, p, pa, data[p]);
}

uint8_t vga_mem_read(struct vga *v, uint32_t offset)
{
    uint32_t a, pa;
    unsigned p;
    if (!cpu_window(v, offset, &a))
        return 0xFF;
    unsigned read_map = v->gc[VGA_GC_READ_MAP] & 3;
    if (v->seq[VGA_SEQ_MEMORY_MODE] & VGA_SEQ_MEM_CHAIN4) {
        p = a & 3;
        pa = a & 0xFFFC;
    } else if (v->gc[VGA_GC_MODE] & VGA_GC_MODE_HOST_OE) {
        p = (read_map & 2) | (a & 1);
        pa = a & 0xFFFE;
    } else {
        p = read_map;
        pa = a & 0xFFFF;
    }
    for (unsigned q = 0; q < VGA_PLANES; q++)
        v->latch[q] = plane(v, q)[pa];
    if (!(v->gc[VGA_GC_MODE] & VGA_GC_MODE_READ1))
        return v->latch[p];
    /* Read mode 1: a bit is 1 where every cared-for plane matches the colour. */
    uint8_t diff = 0, cc = v->gc[VGA_GC_COLOR_COMPARE], care = v->gc[VGA_GC_COLOR_DONT_CARE];
    for (unsigned q = 0; q < VGA_PLANES; q++)
        if (care >> q & 1)
            diff |= v->latch[q] ^ expand(cc >> q);
    return (uint8_t)~diff;
}

/* ----------------------------------------------------- linear text window */

bool vga_text_linear(const struct vga *v)
{
    const uint8_t *gc = v->gc;
    unsigned map = (gc[VGA_GC_MISC] & VGA_GC_MISC_MAP_MASK) >> VGA_GC_MISC_MAP_SHIFT;
    uint8_t mem_mode = v->seq[VGA_SEQ_MEMORY_MODE];
    return (v->misc & VGA_MISC_RAM_ENABLE) && map == VGA_GC_MAP_B8000_32K &&
           !(mem_mode & (VGA_SEQ_MEM_CHAIN4 | VGA_SEQ_MEM_OE_DISABLE)) &&
           v->seq[VGA_SEQ_MAP_MASK] == 0x03 &&
           (gc[VGA_GC_MODE] & (VGA_GC_MODE_WRITE | VGA_GC_MODE_READ1 | VGA_GC_MODE_HOST_OE)) ==
               VGA_GC_MODE_HOST_OE &&
           !(gc[VGA_GC_READ_MAP] & 2) && !(gc[VGA_GC_ENABLE_SET_RESET] & 0x03) &&
           gc[VGA_GC_DATA_ROTATE] == 0 && gc[VGA_GC_BIT_MASK] == 0xFF;
}

void vga_text_import(struct vga *v, const uint8_t *linear, size_t len)
{
    if (len > VGA_TEXT_SIZE)
        len = VGA_TEXT_SIZE;
    for (size_t i = 0; i < len; i++)
        plane_store(v, i & 1, (uint32_t)(i & ~(size_t)1), linear[i]);
}

void vga_text_import_range(struct vga *v, const uint8_t *linear, size_t off, size_t len)
{
    if (off >= VGA_TEXT_SIZE)
        return;
    if (len > VGA_TEXT_SIZE - off)
        len = VGA_TEXT_SIZE - off;
    for (size_t i = off; i < off + len; i++)
        plane_store(v, i & 1, (uint32_t)(i & ~(size_t)1), linear[i]);
}

bool vga_chain4_linear(const struct vga *v)
{
    const uint8_t *gc = v->gc;
    unsigned map = (gc[VGA_GC_MISC] & VGA_GC_MISC_MAP_MASK) >> VGA_GC_MISC_MAP_SHIFT;
    return (v->misc & VGA_MISC_RAM_ENABLE) && map == VGA_GC_MAP_A0000_64K &&
           (v->seq[VGA_SEQ_MEMORY_MODE] & VGA_SEQ_MEM_CHAIN4) &&
           v->seq[VGA_SEQ_MAP_MASK] == 0x0F && (gc[VGA_GC_MODE] & VGA_GC_MODE_WRITE) == 0 &&
           !(gc[VGA_GC_ENABLE_SET_RESET] & 0x0F) && gc[VGA_GC_DATA_ROTATE] == 0 &&
           gc[VGA_GC_BIT_MASK] == 0xFF;
}

void vga_chain4_import_range(struct vga *v, const uint8_t *linear, size_t off, size_t len)
{
    if (off >= 0x10000)
        return;
    if (len > 0x10000 - off)
        len = 0x10000 - off;
    for (size_t i = off; i < off + len; i++)
        plane_store(v, i & 3, (uint32_t)(i & 0xFFFC), linear[i]);
}

void vga_text_visible(const struct vga *v, size_t *off, size_t *len)
{
    unsigned w, h;
    enum vga_kind kind;
    vga_mode_info(v, &w, &h, &kind);
    unsigned start = (unsigned)v->crtc[VGA_CRTC_START_HI] << 8 | v->crtc[VGA_CRTC_START_LO];
    unsigned cols = (unsigned)v->crtc[VGA_CRTC_H_DISPLAY_END] + 1;
    unsigned cell_h = (v->crtc[VGA_CRTC_MAX_SCAN_LINE] & 0x1F) + 1;
    unsigned rows = cell_h ? (h + cell_h - 1) / cell_h : 25;
    if (v->crtc[VGA_CRTC_MAX_SCAN_LINE] & 0x80)
        rows = (rows + 1) / 2;          /* scan doubling: h counted doubled rows */
    *off = ((size_t)start * 2) % VGA_TEXT_SIZE;
    *len = (size_t)cols * rows * 2;
    if (*len > VGA_TEXT_SIZE)
        *len = VGA_TEXT_SIZE;
}

void vga_text_export(const struct vga *v, uint8_t *linear, size_t len)
{
    if (len > VGA_TEXT_SIZE)
        len = VGA_TEXT_SIZE;
    for (size_t i = 0; i < len; i++)
        linear[i] = plane(v, i & 1)[i & ~(size_t)1];
}
