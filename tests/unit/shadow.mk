UNIT_TESTS += pic_observer vm_table apic_observer
UT_SRCS_pic_observer := shadow/pic_observer.c
UT_SRCS_vm_table := shadow/vm_table.c
UT_SRCS_apic_observer := shadow/apic_observer.c
