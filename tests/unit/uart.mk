# Shadow 16550A UART and its output ring (shadow/uart.c, shadow/ring.c).
UNIT_TESTS += uart ring
UT_SRCS_uart := shadow/uart.c shadow/ring.c
UT_SRCS_ring := shadow/ring.c
