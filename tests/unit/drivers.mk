# Management NIC (drivers/): PCI configuration space on a fake bus, the
# e1000 driver on a fake register file, the DHCP link-check frames.
UNIT_TESTS += pci
UT_SRCS_pci        := drivers/pci.c
