/* IBM VGA register map: ports, indices and bits, named after the standard. */
#ifndef SHADOW_VGA_REGS_H
#define SHADOW_VGA_REGS_H

/* ------------------------------------------------------------------ ports */
#define VGA_PORT_FIRST          0x3B0
#define VGA_PORT_LAST           0x3DF
#define VGA_PORT_CRTC_INDEX_MONO  0x3B4
#define VGA_PORT_CRTC_DATA_MONO   0x3B5
#define VGA_PORT_STATUS1_MONO     0x3BA   /* read; write: feature control */
#define VGA_PORT_AR_INDEX       0x3C0     /* index/data flip-flop on write */
#define VGA_PORT_AR_READ        0x3C1
#define VGA_PORT_MISC_WRITE     0x3C2     /* read: input status 0 */
#define VGA_PORT_STATUS0        0x3C2
#define VGA_PORT_SEQ_INDEX      0x3C4
#define VGA_PORT_SEQ_DATA       0x3C5
#define VGA_PORT_DAC_MASK       0x3C6
#define VGA_PORT_DAC_READ_INDEX 0x3C7     /* read: DAC state */
#define VGA_PORT_DAC_STATE      0x3C7
#define VGA_PORT_DAC_WRITE_INDEX 0x3C8
#define VGA_PORT_DAC_DATA       0x3C9
#define VGA_PORT_FEATURE_READ   0x3CA
#define VGA_PORT_MISC_READ      0x3CC
#define VGA_PORT_GC_INDEX       0x3CE
#define VGA_PORT_GC_DATA        0x3CF
#define VGA_PORT_CRTC_INDEX_COLOR 0x3D4
#define VGA_PORT_CRTC_DATA_COLOR  0x3D5
#define VGA_PORT_STATUS1_COLOR    0x3DA   /* read; write: feature control */

/* Mono and colour ports differ only in this nibble (3Bx / 3Dx). */
#define VGA_PORT_COLOR_OFFSET   0x20

/* ---------------------------------------------------- miscellaneous output */
#define VGA_MISC_COLOR_IO       0x01      /* CRTC and status 1 at 3Dx, else 3Bx */
#define VGA_MISC_RAM_ENABLE     0x02
#define VGA_MISC_PAGE_SELECT    0x20

/* ---------------------------------------------------------- input status 1 */
#define VGA_STATUS1_DISPLAY_DISABLED 0x01
#define VGA_STATUS1_VRETRACE    0x08

/* --------------------------------------------------------------- sequencer */
#define VGA_SEQ_INDEX_MASK      0x07
#define VGA_SEQ_RESET           0x00
#define VGA_SEQ_CLOCKING_MODE   0x01
#define VGA_SEQ_MAP_MASK        0x02
#define VGA_SEQ_CHARACTER_MAP   0x03
#define VGA_SEQ_MEMORY_MODE     0x04
#define VGA_SEQ_COUNT           5

#define VGA_SEQ_CLOCKING_8DOT   0x01      /* 8-dot characters, else 9 */
#define VGA_SEQ_CLOCKING_DOT_HALF 0x08
#define VGA_SEQ_CLOCKING_SCREEN_OFF 0x20

#define VGA_SEQ_MEM_EXTENDED    0x02
#define VGA_SEQ_MEM_OE_DISABLE  0x04      /* host writes sequential, not odd/even */
#define VGA_SEQ_MEM_CHAIN4      0x08

/* ------------------------------------------------------ graphics controller */
#define VGA_GC_INDEX_MASK       0x0F
#define VGA_GC_SET_RESET        0x00
#define VGA_GC_ENABLE_SET_RESET 0x01
#define VGA_GC_COLOR_COMPARE    0x02
#define VGA_GC_DATA_ROTATE      0x03
#define VGA_GC_READ_MAP         0x04
#define VGA_GC_MODE             0x05
#define VGA_GC_MISC             0x06
#define VGA_GC_COLOR_DONT_CARE  0x07
#define VGA_GC_BIT_MASK         0x08
#define VGA_GC_COUNT            9

#define VGA_GC_ROTATE_COUNT     0x07
#define VGA_GC_ROTATE_FUNC_SHIFT 3        /* 0 replace, 1 AND, 2 OR, 3 XOR */
#define VGA_GC_FUNC_REPLACE     0
#define VGA_GC_FUNC_AND         1
#define VGA_GC_FUNC_OR          2
#define VGA_GC_FUNC_XOR         3

#define VGA_GC_MODE_WRITE       0x03
#define VGA_GC_MODE_READ1       0x08      /* read mode 1: colour compare */
#define VGA_GC_MODE_HOST_OE     0x10      /* host reads odd/even */
#define VGA_GC_MODE_SHIFT_INTERLEAVE 0x20 /* CGA 2-bit pixels */
#define VGA_GC_MODE_SHIFT_256   0x40

#define VGA_GC_MISC_GRAPHICS    0x01      /* alphanumeric disable */
#define VGA_GC_MISC_CHAIN_OE    0x02
#define VGA_GC_MISC_MAP_SHIFT   2
#define VGA_GC_MISC_MAP_MASK    0x0C
#define VGA_GC_MAP_A0000_128K   0
#define VGA_GC_MAP_A0000_64K    1
#define VGA_GC_MAP_B0000_32K    2
#define VGA_GC_MAP_B8000_32K    3

/* ------------------------------------------------------------------- CRTC */
#define VGA_CRTC_INDEX_MASK     0x1F
#define VGA_CRTC_H_TOTAL        0x00
#define VGA_CRTC_H_DISPLAY_END  0x01
#define VGA_CRTC_H_BLANK_START  0x02
#define VGA_CRTC_H_BLANK_END    0x03
#define VGA_CRTC_H_RETRACE_START 0x04
#define VGA_CRTC_H_RETRACE_END  0x05
#define VGA_CRTC_V_TOTAL        0x06
#define VGA_CRTC_OVERFLOW       0x07
#define VGA_CRTC_PRESET_ROW_SCAN 0x08
#define VGA_CRTC_MAX_SCAN_LINE  0x09
#define VGA_CRTC_CURSOR_START   0x0A
#define VGA_CRTC_CURSOR_END     0x0B
#define VGA_CRTC_START_HI       0x0C
#define VGA_CRTC_START_LO       0x0D
#define VGA_CRTC_CURSOR_HI      0x0E
#define VGA_CRTC_CURSOR_LO      0x0F
#define VGA_CRTC_V_RETRACE_START 0x10
#define VGA_CRTC_V_RETRACE_END  0x11
#define VGA_CRTC_V_DISPLAY_END  0x12
#define VGA_CRTC_OFFSET         0x13
#define VGA_CRTC_UNDERLINE      0x14
#define VGA_CRTC_V_BLANK_START  0x15
#define VGA_CRTC_V_BLANK_END    0x16
#define VGA_CRTC_MODE           0x17
#define VGA_CRTC_LINE_COMPARE   0x18
#define VGA_CRTC_COUNT          25

#define VGA_CRTC_LAST_PROTECTED 0x07      /* 0x00-0x07 obey the protect bit */
#define VGA_CRTC_OVERFLOW_VDE8  0x02
#define VGA_CRTC_OVERFLOW_LC8   0x10      /* stays writable under protect */
#define VGA_CRTC_OVERFLOW_VDE9  0x40
#define VGA_CRTC_MSL_MASK       0x1F
#define VGA_CRTC_MSL_DOUBLE     0x80      /* 200 -> 400 line scan doubling */
#define VGA_CRTC_CURSOR_DISABLE 0x20
#define VGA_CRTC_CURSOR_ROW_MASK 0x1F
#define VGA_CRTC_VRE_PROTECT    0x80
#define VGA_CRTC_UNDERLINE_DWORD 0x40
#define VGA_CRTC_MODE_ADDR_WRAP 0x20      /* word mode: MA15 (else MA13) to MA0 */
#define VGA_CRTC_MODE_BYTE      0x40

/* --------------------------------------------------- attribute controller */
#define VGA_AR_INDEX_MASK       0x1F
#define VGA_AR_PAS              0x20      /* palette address source: video on */
#define VGA_AR_PALETTE0         0x00
#define VGA_AR_PALETTE_COUNT    16
#define VGA_AR_MODE             0x10
#define VGA_AR_OVERSCAN         0x11
#define VGA_AR_PLANE_ENABLE     0x12
#define VGA_AR_HPEL             0x13
#define VGA_AR_COLOR_SELECT     0x14
#define VGA_AR_COUNT            21

#define VGA_AR_MODE_GRAPHICS    0x01
#define VGA_AR_MODE_MONO        0x02
#define VGA_AR_MODE_LINE_GRAPHICS 0x04    /* 9th dot copies the 8th, C0-DF */
#define VGA_AR_MODE_BLINK       0x08      /* attribute bit 7 blinks, else bright bg */
#define VGA_AR_MODE_PPM         0x20
#define VGA_AR_MODE_8BIT        0x40
#define VGA_AR_MODE_P54S        0x80      /* colour select bits 1-0 -> DAC bits 5-4 */

/* -------------------------------------------------------------------- DAC */
#define VGA_DAC_STATE_WRITE     0x00
#define VGA_DAC_STATE_READ      0x03
#define VGA_DAC_COMPONENT_MASK  0x3F

/* ------------------------------------------------------------------ memory */
#define VGA_PLANES              4
#define VGA_PLANE_SIZE          0x10000
#define VGA_WINDOW_SIZE         0x20000   /* A0000-BFFFF */
#define VGA_TEXT_WINDOW         0x18000   /* B8000 - A0000 */
#define VGA_TEXT_SIZE           0x8000
#define VGA_FONT_GLYPH_STRIDE   32        /* plane 2 bytes per glyph */

#endif
