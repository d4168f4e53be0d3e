# net/: the management network (lwIP + BearSSL + the tenant console service).
#
# The kernel build compiles net/*.c (freestanding, no lwIP/BearSSL yet). This
# fragment builds the hosted console: the same service code over the real
# lwIP and BearSSL, fetched from Debian's source packages by tools/fetch-src
# into $(BUILD)/src (never committed).
#
#   make net-hosted     build/net/vsbconsole-hosted
#   make net-test       tests/net/run (builds what it needs)

NET_OUT     := $(BUILD)/net
NET_SRCDIR  := $(BUILD)/src
NET_FETCHED := $(NET_SRCDIR)/.fetched
LWIP_DIR    := $(NET_SRCDIR)/lwip
BEARSSL_DIR := $(NET_SRCDIR)/bearssl
ZLIB_DIR    := $(NET_SRCDIR)/zlib
LIBLWIP     := $(NET_OUT)/lwip/liblwip.a
LIBBEARSSL  := $(NET_OUT)/bearssl/libbearssl.a
LIBZ        := $(NET_OUT)/zlib/libz.a
NET_HOSTED  := $(NET_OUT)/vsbconsole-hosted

# Third-party code: optimized, its own warnings not ours. lwIP gets the
# sanitizers too (it is small, and it catches misuse of pbufs by our code);
# the hosted link's route hook is compiled in (lwipopts.h, VSB_HOSTED_LINK).
NET_LIB_CFLAGS      = -std=gnu11 -O2 -g -fno-strict-aliasing -fno-omit-frame-pointer -w
NET_LWIP_CFLAGS     = $(NET_LIB_CFLAGS) -fsanitize=address,undefined -DVSB_HOSTED_LINK
NET_BEARSSL_CFLAGS  = $(NET_LIB_CFLAGS)
NET_ZLIB_CFLAGS     = $(NET_LIB_CFLAGS)
# For code that uses zlib (the VNC service's ZRLE): compile with this, link $(LIBZ).
NET_ZLIB_CPPFLAGS   = -isystem $(ZLIB_DIR)

$(NET_FETCHED):
	tools/fetch-src --dest $(NET_SRCDIR)
	@touch $@

.PHONY: net-libs net-hosted net-test FORCE
FORCE:

$(LIBLWIP): $(NET_FETCHED) FORCE
	+$(Q)$(MAKE) --no-print-directory -s -f net/lib.make LIB=lwip SRC=$(LWIP_DIR) \
	    OUT=$(NET_OUT)/lwip CC="$(HOSTCC)" CFLAGS="$(NET_LWIP_CFLAGS)"

$(LIBBEARSSL): $(NET_FETCHED) FORCE
	+$(Q)$(MAKE) --no-print-directory -s -f net/lib.make LIB=bearssl SRC=$(BEARSSL_DIR) \
	    OUT=$(NET_OUT)/bearssl CC="$(HOSTCC)" CFLAGS="$(NET_BEARSSL_CFLAGS)"

# zlib joined tools/fetch-src after lwIP and BearSSL: its own stamp fetches it
# into a build/src that an older fetch-src left without it.
$(ZLIB_DIR)/.vsb-version: | $(NET_FETCHED)
	tools/fetch-src --dest $(NET_SRCDIR)

$(LIBZ): $(ZLIB_DIR)/.vsb-version FORCE
	+$(Q)$(MAKE) --no-print-directory -s -f net/lib.make LIB=zlib SRC=$(ZLIB_DIR) \
	    OUT=$(NET_OUT)/zlib CC="$(HOSTCC)" CFLAGS="$(NET_ZLIB_CFLAGS)"

net-libs: $(LIBLWIP) $(LIBBEARSSL) $(LIBZ)

# The same three libraries compiled freestanding for vsbypass.elf:
#   make net-kernel-libs   $(BUILD)/net-k/{lwip/liblwip.a,bearssl/libbearssl.a,zlib/libz.a}
# The kernel's compiler and KCFLAGS, without our warnings (third-party code
# gets -w; gnu11 as in the hosted build), C-library headers from
# net/port/kinc (core/libc.h; -nostdinc stays), and every SIMD, OS-entropy
# and OS-time path off: the hypervisor never touches x87/SSE state (the
# guest's is live) and gets entropy and time from net/port.h. zlib is
# Z_SOLO (the caller gives zalloc/zfree). Not linked into the kernel yet.
NET_K_OUT       := $(BUILD)/net-k
LIBLWIP_K       := $(NET_K_OUT)/lwip/liblwip.a
LIBBEARSSL_K    := $(NET_K_OUT)/bearssl/libbearssl.a
LIBZ_K          := $(NET_K_OUT)/zlib/libz.a
NET_K_CFLAGS     = $(filter-out -std=% -W%,$(KCFLAGS)) -std=gnu11 -w
NET_K_CPPFLAGS   = -DVSB_KERNEL -Inet/port/kinc
NET_K_BEARSSL_CPPFLAGS = $(NET_K_CPPFLAGS) -DBR_AES_X86NI=0 -DBR_SSE2=0 -DBR_POWER8=0 \
                   -DBR_RDRAND=0 -DBR_USE_URANDOM=0 -DBR_USE_WIN32_RAND=0 \
                   -DBR_USE_UNIX_TIME=0 -DBR_USE_WIN32_TIME=0
NET_K_ZLIB_CPPFLAGS = $(NET_K_CPPFLAGS) -DZ_SOLO
# For kernel code that includes their headers (net/stack in the kernel):
# bearssl_hash.h includes <string.h>, and zlib.h must see Z_SOLO as libz did.
NET_K_USE_CPPFLAGS = $(NET_K_CPPFLAGS) -DZ_SOLO -Inet/port -isystem $(LWIP_DIR)/src/include \
                   -isystem $(BEARSSL_DIR)/inc -isystem $(ZLIB_DIR)

$(LIBLWIP_K): $(NET_FETCHED) FORCE
	+$(Q)$(MAKE) --no-print-directory -s -f net/lib.make LIB=lwip SRC=$(LWIP_DIR) \
	    OUT=$(NET_K_OUT)/lwip CC="$(KCC)" CFLAGS="$(NET_K_CFLAGS)" CPPEXTRA="$(NET_K_CPPFLAGS)"

$(LIBBEARSSL_K): $(NET_FETCHED) FORCE
	+$(Q)$(MAKE) --no-print-directory -s -f net/lib.make LIB=bearssl SRC=$(BEARSSL_DIR) \
	    OUT=$(NET_K_OUT)/bearssl CC="$(KCC)" CFLAGS="$(NET_K_CFLAGS)" \
	    CPPEXTRA="$(NET_K_BEARSSL_CPPFLAGS)"

$(LIBZ_K): $(ZLIB_DIR)/.vsb-version FORCE
	+$(Q)$(MAKE) --no-print-directory -s -f net/lib.make LIB=zlib SRC=$(ZLIB_DIR) \
	    OUT=$(NET_K_OUT)/zlib CC="$(KCC)" CFLAGS="$(NET_K_CFLAGS)" CPPEXTRA="$(NET_K_ZLIB_CPPFLAGS)"

.PHONY: net-kernel-libs
net-kernel-libs: $(LIBLWIP_K) $(LIBBEARSSL_K) $(LIBZ_K)

# The hosted program: net/*.c (the kernel's freestanding part), net/stack
# (lwIP/BearSSL services, freestanding-clean), net/hosted (Linux only), and
# the shadow UART with its ring.
NET_HOSTED_SRCS := $(wildcard net/*.c net/stack/*.c net/hosted/*.c) \
                   shadow/uart.c shadow/ring.c shadow/vga.c shadow/vga_render.c \
                   shadow/i8042.c shadow/ps2kbd.c shadow/keymap.c core/fmt.c
NET_HOSTED_HDRS := $(wildcard net/*.h net/stack/*.h net/hosted/*.h net/port/*.h \
                   net/port/arch/*.h shadow/*.h core/*.h)
NET_HOSTED_CFLAGS = $(HOSTCFLAGS) -std=gnu11 -DVSB_HOSTED_LINK -Inet/port \
                    -isystem $(LWIP_DIR)/src/include -isystem $(BEARSSL_DIR)/inc \
                    $(NET_ZLIB_CPPFLAGS)

$(NET_HOSTED): $(NET_HOSTED_SRCS) $(NET_HOSTED_HDRS) $(LIBLWIP) $(LIBBEARSSL) $(LIBZ) | $(GEN)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(NET_HOSTED_CFLAGS) -o $@ $(NET_HOSTED_SRCS) $(LIBLWIP) $(LIBBEARSSL) $(LIBZ)

net-hosted: $(NET_HOSTED)

net-test: $(NET_HOSTED)
	tests/net/run

# Unit tests of the freestanding protocol code (policy, selection, escapes).
$(NET_OUT)/test_net_proto: tests/net/test_proto.c net/policy.c net/console.c core/fmt.c \
                           net/policy.h net/console.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(HOSTCFLAGS) -o $@ tests/net/test_proto.c net/policy.c net/console.c core/fmt.c
