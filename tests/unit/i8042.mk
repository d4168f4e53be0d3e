# Shadow i8042 + PS/2 keyboard (shadow/i8042.c, shadow/ps2kbd.c) and the
# keysym / scan-code tables (shadow/keymap.c).
UNIT_TESTS += i8042 keymap
UT_SRCS_i8042 := shadow/i8042.c shadow/ps2kbd.c shadow/keymap.c
UT_SRCS_keymap := shadow/keymap.c
