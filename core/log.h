/* Console and log: formatted output to the configured ports, panic. */
#ifndef CORE_LOG_H
#define CORE_LOG_H
#include <stdarg.h>

/* Console outputs, combinable (cmdline "console=com1,e9"). */
#define CON_COM1  (1u << 0)
#define CON_COM2  (1u << 1)
#define CON_COM3  (1u << 2)
#define CON_COM4  (1u << 3)
#define CON_E9    (1u << 4)   /* Bochs/QEMU debug port */
#define CON_DEFAULT (CON_COM1 | CON_E9)

void con_init(unsigned outputs);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
