# Host unit tests: test_NAME.c plus the sources it exercises.
# Other fragments (tests/unit/*.mk) may append to UNIT_TESTS the same way.
UNIT_TESTS += fmt memmap palloc heap cmdline bootinfo acpi vmx_caps spinlock
UT_SRCS_fmt      := core/fmt.c
UT_SRCS_memmap   := core/memmap.c
UT_SRCS_palloc   := core/palloc.c
UT_SRCS_heap     := core/heap.c core/palloc.c
UT_SRCS_cmdline  := core/cmdline.c core/fmt.c
UT_SRCS_bootinfo := core/bootinfo.c core/memmap.c
UT_SRCS_acpi     := core/acpi.c
UT_SRCS_vmx_caps := vmx/caps_decode.c core/fmt.c
UT_SRCS_spinlock :=
UT_LIBS_spinlock := -lpthread
