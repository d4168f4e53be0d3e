# VMX layer: EPT builder, INT 15h memory services, MMIO store decoder.
UNIT_TESTS += ept bios_int15 decode
UT_SRCS_ept := vmx/ept.c core/palloc.c core/memmap.c
UT_SRCS_bios_int15 := vmx/bios_int15.c core/memmap.c
UT_SRCS_decode := vmx/decode.c
UNIT_TESTS += nested_caps
UT_SRCS_nested_caps := vmx/nested_caps.c
UNIT_TESTS += ept02
UT_SRCS_ept02 := vmx/ept02.c core/palloc.c
