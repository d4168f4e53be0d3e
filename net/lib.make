# Builds one fetched third-party library into a static archive. Called by
# net/net.mk as a sub-make after tools/fetch-src has unpacked the sources
# (their file lists are only known then); not named *.mk on purpose, so the
# top Makefile does not include it.
#
#   make -f net/lib.make LIB=lwip|bearssl|zlib SRC=<tree> OUT=<dir> CC=... CFLAGS=... \
#        [CPPEXTRA=...]
#
# CPPEXTRA: extra include/define flags, given before the library's own (the
# kernel variant, net.mk's net-kernel-libs, passes -DVSB_KERNEL
# -Inet/port/kinc and the libraries' freestanding configuration).
LIB    ?=
SRC    ?=
OUT    ?=
CC     ?= gcc
AR     ?= ar
CFLAGS ?= -O2 -g
CPPEXTRA ?=

ifeq ($(LIB),lwip)
# lwIP's core, IPv4 and Ethernet: what NO_SYS=1 with the raw/altcp API needs
# (src/api is the threaded sockets/netconn layer and is not built).
LIB_SRCS := $(addprefix $(SRC)/src/core/, init.c def.c inet_chksum.c ip.c mem.c \
              memp.c netif.c pbuf.c raw.c stats.c sys.c altcp.c altcp_alloc.c \
              altcp_tcp.c tcp.c tcp_in.c tcp_out.c timeouts.c udp.c) \
            $(addprefix $(SRC)/src/core/ipv4/, dhcp.c etharp.c icmp.c ip4.c \
              ip4_addr.c ip4_frag.c) \
            $(SRC)/src/netif/ethernet.c
LIB_CPPFLAGS := -Inet/port -I$(SRC)/src/include
else ifeq ($(LIB),bearssl)
# All of BearSSL's library sources (src/*/*.c), as its own Makefile builds.
LIB_SRCS := $(sort $(wildcard $(SRC)/src/*.c $(SRC)/src/*/*.c))
LIB_CPPFLAGS := -I$(SRC)/inc -I$(SRC)/src
else ifeq ($(LIB),zlib)
# zlib's in-memory core: deflate/inflate, checksums, compress/uncompress. The
# gz* file layer (stdio, POSIX I/O) and infback are not built.
LIB_SRCS := $(addprefix $(SRC)/, adler32.c crc32.c deflate.c inflate.c inftrees.c \
              inffast.c trees.c zutil.c compress.c uncompr.c)
LIB_CPPFLAGS := -I$(SRC)
LIB_ARCHIVE  := libz.a
else
$(error LIB must be lwip, bearssl or zlib)
endif

LIB_OBJS := $(patsubst $(SRC)/%.c,$(OUT)/obj/%.o,$(LIB_SRCS))
ARCHIVE  := $(OUT)/$(or $(LIB_ARCHIVE),lib$(LIB).a)

all: $(ARCHIVE)

$(ARCHIVE): $(LIB_OBJS)
	@rm -f $@.tmp
	@echo "  AR      $@"
	@$(AR) rcs $@.tmp $(LIB_OBJS)
	@mv $@.tmp $@

$(OUT)/obj/%.o: $(SRC)/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $(LIB): $*.c"
	@$(CC) $(CFLAGS) $(CPPEXTRA) $(LIB_CPPFLAGS) -MMD -MP -c $< -o $@

-include $(LIB_OBJS:.o=.d)
