# shadow/: generated headers for the device models.

# The VGA's built-in font (what a BIOS mode set loads into plane 2): 8x16
# glyphs in CP437 order, from Debian's console-data package. psf2c orders
# them through the font's Unicode table and fails if one is missing.
VGA_FONT_PSF ?= /usr/share/consolefonts/default8x16.psf.gz
GEN += $(BUILD)/gen/vga_font8x16.h

$(BUILD)/gen/vga_font8x16.h: tools/psf2c $(VGA_FONT_PSF)
	@mkdir -p $(dir $@)
	tools/psf2c --cp437 --name vga_font8x16 $(VGA_FONT_PSF) > $@.tmp
	mv $@.tmp $@

$(VGA_FONT_PSF):
	@echo "missing $@: install the Debian package console-data (make deps)" >&2
	@exit 1
