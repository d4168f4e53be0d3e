# RFB (VNC) pixel formats and encoders (net/rfb_enc.c), checked by decoders
# in the test; ZRLE through the system zlib.
UNIT_TESTS += rfb_enc
UT_SRCS_rfb_enc := net/rfb_enc.c
UT_LIBS_rfb_enc := -lz -lm
