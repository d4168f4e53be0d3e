# VMX-instruction emulation: vmx/nested.c and the VMCS12 layout (vmx/vmcs12.c).
UNIT_TESTS += nested
UT_SRCS_nested := vmx/nested.c vmx/vmcs12.c
