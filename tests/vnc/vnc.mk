# tests/vnc/: the VNC benchmark (issue 7).
#
# The top Makefile includes only the hypervisor folders' fragments and
# tests/unit/*.mk, so this one is read on request: tests/vnc/bench runs
#   make -f Makefile -f tests/vnc/vnc.mk build/vnc/bench
#
# build/vnc/bench: the shadow VGA and i8042 models and the RFB encoders (the
# same C files vsbypass and the hosted VNC service build), hosted at -O2
# WITHOUT sanitizers, linked with Debian's zlib ($(LIBZ), net/net.mk).

VNC_BENCH      := $(BUILD)/vnc/bench
VNC_BENCH_SRCS := tests/vnc/bench.c shadow/vga.c shadow/vga_render.c shadow/i8042.c \
                  shadow/ps2kbd.c shadow/keymap.c net/rfb.c net/rfb_enc.c
VNC_BENCH_HDRS := $(wildcard shadow/*.h) net/rfb.h net/rfb_enc.h tests/host/include/core/libc.h
VNC_BENCH_CFLAGS := -std=c11 -O2 -g -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wshadow \
                    -Wno-unused-parameter -Itests/host/include -I. -I$(BUILD)/gen -DVSBYPASS_HOST \
                    $(NET_ZLIB_CPPFLAGS)

$(VNC_BENCH): $(VNC_BENCH_SRCS) $(VNC_BENCH_HDRS) $(LIBZ) | $(BUILD)/gen/vga_font8x16.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(VNC_BENCH_CFLAGS) -o $@ $(VNC_BENCH_SRCS) $(LIBZ)

.PHONY: vnc-bench
vnc-bench: $(VNC_BENCH)
	$(VNC_BENCH)
