# Shadow VGA: registers, planar memory, renderer.
UNIT_TESTS += vga
UT_SRCS_vga := shadow/vga.c shadow/vga_render.c
$(BUILD)/tests/test_vga: shadow/vga.h shadow/vga_regs.h
