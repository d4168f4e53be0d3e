# RFB 3.8 + VeNCrypt server protocol (net/rfb.c): unit tests, and a
# libFuzzer target (tests/fuzz/fuzz_rfb.c). The rules for the fuzzer live
# here because the top Makefile includes only tests/unit/*.mk and the
# hypervisor folders' fragments.
UNIT_TESTS += rfb
UT_SRCS_rfb := net/rfb.c net/rfb_enc.c

# make fuzz-rfb         builds build/fuzz/fuzz_rfb, writes the seed corpus
#                       and fuzzes for FUZZ_SECONDS (default 60)
# make fuzz-rfb-smoke   the same for 20 s
# The corpus (seeds plus what the fuzzer finds) is build/fuzz/corpus/rfb,
# the dictionary build/fuzz/corpus/rfb.dict; crashing inputs land in
# build/fuzz/ as crash-* / leak-* / timeout-*. FUZZ_FLAGS adds libFuzzer
# options (e.g. FUZZ_FLAGS=-jobs=4).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_CFLAGS  := -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer \
                -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
                -Itests/host/include -I. -DVSBYPASS_HOST
FUZZ_RFB_SRCS := tests/fuzz/fuzz_rfb.c net/rfb.c net/rfb_enc.c
FUZZ_RFB_HDRS := net/rfb.h net/rfb_enc.h tests/host/include/core/libc.h

.PHONY: fuzz-rfb fuzz-rfb-smoke
$(BUILD)/fuzz/fuzz_rfb: $(FUZZ_RFB_SRCS) $(FUZZ_RFB_HDRS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(FUZZ_RFB_SRCS)

# The seed writer: the same source built without libFuzzer, with a main().
$(BUILD)/fuzz/fuzz_rfb_seeds: $(FUZZ_RFB_SRCS) $(FUZZ_RFB_HDRS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(HOSTCFLAGS) -DFUZZ_RFB_SEEDS -o $@ $(FUZZ_RFB_SRCS)

fuzz-rfb: $(BUILD)/fuzz/fuzz_rfb $(BUILD)/fuzz/fuzz_rfb_seeds
	@mkdir -p $(BUILD)/fuzz/corpus/rfb
	$(Q)$(BUILD)/fuzz/fuzz_rfb_seeds $(BUILD)/fuzz/corpus/rfb
	$(Q)$(BUILD)/fuzz/fuzz_rfb -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/ -dict=$(BUILD)/fuzz/corpus/rfb.dict $(FUZZ_FLAGS) \
	    $(BUILD)/fuzz/corpus/rfb

fuzz-rfb-smoke:
	$(Q)$(MAKE) --no-print-directory fuzz-rfb FUZZ_SECONDS=20
