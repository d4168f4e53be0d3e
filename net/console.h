/* Tenant console protocol: the transport-independent part of the console
 * service (net/stack/console_srv.c runs it over TLS).
 *
 * After the TLS handshake the client's first line selects the VM:
 *
 *     vm N\n          (or "vm N\r\n"; at most CONSOLE_SELECT_MAX bytes)
 *
 * A line was chosen over SNI because stock clients set SNI from the host
 * name they connect to, and `openssl s_client`/socat cannot put a VM number
 * there without pretending it is a host name. The server answers a refused
 * or malformed selection with one line "vsbypass: error: ...\r\n" and
 * closes; an accepted one with the scrollback, then the live stream.
 *
 * Input escapes, recognized only at the start of a line (after CR or LF, or
 * as the first input after the selection), like ssh's:
 *     ~.   disconnect
 *     ~B   send a break to the VM's serial port
 *     ~?   print the escape help (to this viewer only)
 *     ~~   send one '~'
 * A '~' followed by anything else sends both characters.
 *
 * Freestanding, no allocation. */
#ifndef NET_CONSOLE_H
#define NET_CONSOLE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_SELECT_MAX 32

enum console_action {
    CONSOLE_NONE,
    CONSOLE_DISCONNECT,     /* ~. */
    CONSOLE_BREAK,          /* ~B */
    CONSOLE_HELP,           /* ~? */
};

struct console_esc {
    bool bol;               /* at the beginning of a line */
    bool tilde;             /* a '~' at the beginning of a line is pending */
};

void console_esc_init(struct console_esc *e);

/* Runs input bytes through the escape recognizer. Copies bytes meant for the
 * VM into out (at most cap), and stops after the first escape action, when
 * the input is used up, or when out is full. Returns the number of input
 * bytes consumed; *nout receives the bytes written to out and *act the
 * action that stopped it (CONSOLE_NONE if none). */
size_t console_esc_feed(struct console_esc *e, const uint8_t *in, size_t n,
                        uint8_t *out, size_t cap, size_t *nout,
                        enum console_action *act);

/* Parses a selection line (without its '\n'; a trailing '\r' is allowed):
 * "vm N" with N decimal below limit. */
bool console_parse_select(const char *line, size_t len, unsigned limit, unsigned *vm);

/* The text ~? prints. */
extern const char console_help_text[];

#endif
