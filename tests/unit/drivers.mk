# Management NIC (drivers/): PCI configuration space on a fake bus, the
# e1000 driver on a fake register file, the DHCP link-check frames.
UNIT_TESTS += pci e1000 dhcp_probe
UT_SRCS_pci        := drivers/pci.c
UT_SRCS_e1000      := drivers/e1000.c
UT_SRCS_dhcp_probe := drivers/dhcp_probe.c
# The hidden-device table the NIC is registered in (core/devhide.c).
UNIT_TESTS += devhide
UT_SRCS_devhide := core/devhide.c
