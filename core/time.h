/* Time: TSC frequency (calibrated against the PIT) and busy-wait delays. */
#ifndef CORE_TIME_H
#define CORE_TIME_H
#include <stdint.h>

extern uint64_t tsc_hz;

/* Calibrates tsc_hz; prints the result and the method used. */
void time_init(void);
void udelay(uint64_t us);
uint64_t tsc_now(void);

#endif
