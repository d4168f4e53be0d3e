UNIT_TESTS += pic_observer
UT_SRCS_pic_observer := shadow/pic_observer.c
