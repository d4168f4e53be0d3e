# vsbypass build contract.
#
# The host's GNU toolchain is the cross toolchain (x86-64 ELF, freestanding);
# set CROSS=x86_64-elf- to use a prefixed one instead.
#
#   make          build/vsbypass.elf
#   make image    build/vsbypass.iso (GRUB rescue ISO, vsbypass first entry)
#   make run      install what is missing, build, boot the image in Bochs
#   make test     host unit tests + emulator boot tests
#   make bench    benchmarks that print figures
#   make clean
#   V=1 shows the full commands.

CROSS    ?=
KCC      := $(CROSS)gcc
KLD      := $(CROSS)ld
HOSTCC   ?= gcc
BUILD    := build
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)

# Compiler flags probed once, NOVA-style: keep only what this compiler knows.
probe = $(shell $(KCC) $(1) -Werror -x c -c /dev/null -o /dev/null 2>/dev/null && echo $(1))

KCFLAGS  := -std=c11 -O2 -g -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
            -mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mgeneral-regs-only \
            -fno-stack-protector -fno-asynchronous-unwind-tables \
            -fno-omit-frame-pointer -fno-common -fno-strict-aliasing \
            -nostdinc -isystem $(shell $(KCC) -print-file-name=include) \
            -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wvla -Wundef \
            $(call probe,-fcf-protection=none) $(call probe,-Wno-address-of-packed-member) \
            $(call probe,--param=min-pagesize=0) \
            -I. -I$(BUILD)/gen -DVSBYPASS_KERNEL
KASFLAGS := -g -fno-pic -fno-pie -I. -D__ASSEMBLY__ -DVSBYPASS_KERNEL
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
            --no-dynamic-linker -T linker.ld \
            $(shell $(KLD) --no-warn-rwx-segments -v >/dev/null 2>&1 && echo --no-warn-rwx-segments)

# Every folder of the hypervisor proper; tools/ and tests/ are not linked in.
KDIRS    := boot core vmx drivers shadow net
KSRC_C   := $(foreach d,$(KDIRS),$(wildcard $(d)/*.c))
KSRC_S   := $(foreach d,$(KDIRS),$(wildcard $(d)/*.S))
KOBJS    := $(patsubst %.c,$(BUILD)/k/%.o,$(KSRC_C)) $(patsubst %.S,$(BUILD)/k/%.o,$(KSRC_S))
# The network services (net/stack, net/kern) over lwIP, BearSSL and zlib
# from Debian's source packages, compiled freestanding (net/net.mk).
KNET_SRC := $(wildcard net/stack/*.c net/kern/*.c)
KNET_OBJS := $(patsubst %.c,$(BUILD)/k/%.o,$(KNET_SRC))
KOBJS    += $(KNET_OBJS)

.DEFAULT_GOAL := all

# Folder fragments (e.g. shadow/shadow.mk) may add generated headers to GEN
# (built before any object) and unit tests to UNIT_TESTS.
GEN      :=
UNIT_TESTS :=
-include $(wildcard $(addsuffix /*.mk,$(KDIRS)))

ELF      := $(BUILD)/vsbypass.elf
ISO      := $(BUILD)/vsbypass.iso
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

.PHONY: all image run test unit boot-tests bench clean deps check-layers
all: $(ELF)

# The version in the banner: rewritten only when `git describe` changes, so
# the objects that include it rebuild exactly then.
GEN += $(BUILD)/gen/version.h
$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(dir $@)
	@echo '#define VSBYPASS_VERSION "$(VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
.PHONY: FORCE

$(KOBJS): | $(GEN)


$(BUILD)/k/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(KCC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/k/%.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(KCC) $(KASFLAGS) -MMD -MP -c $< -o $@

$(KNET_OBJS): KCFLAGS += $(NET_K_USE_CPPFLAGS)
$(KNET_OBJS): | $(NET_FETCHED) $(ZLIB_DIR)/.vsb-version
KNET_LIBS := $(LIBLWIP_K) $(LIBBEARSSL_K) $(LIBZ_K)

$(ELF): $(KOBJS) $(KNET_LIBS) linker.ld
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(KLD) $(KLDFLAGS) -o $@ $(KOBJS) --start-group $(KNET_LIBS) --end-group
	$(Q)tools/check-elf $@

image: $(ISO)
$(ISO): $(ELF) tools/mkimage
	tools/mkimage -o $@

# ---------------------------------------------------------------- host tests
HOSTCFLAGS := -std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -Wall -Wextra -Werror -Wshadow \
              -Wno-unused-parameter -Itests/host/include -I. -I$(BUILD)/gen -DVSBYPASS_HOST
include tests/unit/tests.mk
-include $(filter-out tests/unit/tests.mk,$(wildcard tests/unit/*.mk))

UT_HDRS   := $(wildcard tests/host/include/*/*.h $(addsuffix /*.h,$(KDIRS)))
UNIT_BINS := $(patsubst %,$(BUILD)/tests/test_%,$(UNIT_TESTS))
define unit_rule
$(BUILD)/tests/test_$(1): tests/unit/test_$(1).c $$(UT_SRCS_$(1)) $$(UT_HDRS) | $$(GEN)
	@mkdir -p $$(dir $$@)
	@$$(if $$(Q),echo "  HOSTCC  $$@")
	$$(Q)$$(HOSTCC) $$(HOSTCFLAGS) -o $$@ tests/unit/test_$(1).c $$(UT_SRCS_$(1)) -lcmocka $$(UT_LIBS_$(1))
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

unit: $(UNIT_BINS)
	tests/run-unit $(UNIT_BINS)

check-layers:
	tools/check-layers

boot-tests: $(ELF)
	tests/boot/run

# The whole suite: its last line is "N passed, N failed".
test: deps
	$(MAKE) --no-print-directory $(ELF) $(UNIT_BINS)
	tests/run-all $(UNIT_BINS)

bench: deps $(ELF)
	tests/bench/run

# The demo: vsbypass, the Debian cloud kernel inside the cloud VM, and a user
# VM that kvmrun starts there under unmodified KVM; the cloud OS is then left
# at a shell (vsbtest.stay=1). COM1 is shown here; the user VM's shadow serial
# (which the cloud never sees) goes to build/run-user-vm-serial.log.
# Ctrl-C stops Bochs.
DEMO_APPEND := console=ttyS0,115200 quiet cryptomgr.notests=1 tsc=reliable no_timer_check \
               vsbtest.expect_cpus=2 vsbtest.kvm=1 vsbtest.kvmshell=1 vsbtest.stay=1
# The tenant's side of `make run`: TLS console on 127.0.0.1:7001 and VM 0's
# screen over VNC on 127.0.0.1:5900, forwarded by Bochs' slirp to vsbypass's
# own network stack (test certificates from tools/certs).
DEMO_CERTS := $(BUILD)/net/certs
DEMO_NETMODS = --vsbypass-module "$(DEMO_CERTS)/server.crt tls-cert" \
               --vsbypass-module "$(DEMO_CERTS)/server.key tls-key" \
               --vsbypass-module "$(DEMO_CERTS)/ca.crt tls-ca" \
               --vsbypass-module "$(DEMO_CERTS)/policy policy"
run: deps
	$(MAKE) --no-print-directory $(ELF)
	tools/mkcloud
	tools/certs $(DEMO_CERTS)
	tools/mkimage -o $(BUILD)/demo.iso --vsbypass-args serial_mirror=0 $(DEMO_NETMODS) \
	    --linux $(BUILD)/cloud/vmlinuz --initrd $(BUILD)/cloud/initrd.img --append "$(DEMO_APPEND)"
	@echo "run: tenant console: tools/tenant-console --cert $(DEMO_CERTS)/tenant-a.crt" \
	    "--key $(DEMO_CERTS)/tenant-a.key --ca $(DEMO_CERTS)/ca.crt 127.0.0.1:7001 0"
	@echo "run: VM 0's screen:  VNC_USERNAME=tenant-a VNC_PASSWORD=\$$(cat $(DEMO_CERTS)/tenant-a.vncpass)" \
	    "vncviewer -SecurityTypes X509Plain -X509CA $(DEMO_CERTS)/ca.crt 127.0.0.1::5900"
	tools/run-bochs $(BUILD)/demo.iso --cpus 2 --mem 512 --serial $(BUILD)/run-serial.log \
	    --serial2 $(BUILD)/run-user-vm-serial.log --timeout 0 --forward 7001:7001 --forward 5900:5900

deps:
	@tools/deps

clean:
	rm -rf $(BUILD)

-include $(KOBJS:.o=.d)
