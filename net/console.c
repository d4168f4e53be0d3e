/* Tenant console protocol (net/console.h). */
#include "net/console.h"

const char console_help_text[] =
    "\r\nvsbypass console escapes (at the start of a line):\r\n"
    "  ~.  disconnect\r\n"
    "  ~B  send a break\r\n"
    "  ~?  this help\r\n"
    "  ~~  send '~'\r\n";

void console_esc_init(struct console_esc *e)
{
    e->bol = true;
    e->tilde = false;
}

size_t console_esc_feed(struct console_esc *e, const uint8_t *in, size_t n,
                        uint8_t *out, size_t cap, size_t *nout,
                        enum console_action *act)
{
    size_t i = 0, o = 0;
    *act = CONSOLE_NONE;
    while (i < n) {
        uint8_t c = in[i];
        if (e->tilde) {
            if (c == '.' || c == 'B' || c == '?') {
                e->tilde = false;
                i++;
                *act = c == '.' ? CONSOLE_DISCONNECT : c == 'B' ? CONSOLE_BREAK : CONSOLE_HELP;
                /* After ~B or ~? the user is still at the start of a line. */
                e->bol = true;
                break;
            }
            if (c == '~') {
                if (o == cap)
                    break;
                out[o++] = '~';
                e->tilde = false;
                e->bol = false;
                i++;
                continue;
            }
            /* Not an escape: the '~' and this byte both go to the VM. */
            if (cap - o < 2)
                break;
            out[o++] = '~';
            e->tilde = false;
            out[o++] = c;
            e->bol = c == '\r' || c == '\n';
            i++;
            continue;
        }
        if (e->bol && c == '~') {
            e->tilde = true;
            i++;
            continue;
        }
        if (o == cap)
            break;
        out[o++] = c;
        e->bol = c == '\r' || c == '\n';
        i++;
    }
    *nout = o;
    return i;
}

bool console_parse_select(const char *line, size_t len, unsigned limit, unsigned *vm)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len < 4 || line[0] != 'v' || line[1] != 'm' || line[2] != ' ')
        return false;
    unsigned v = 0;
    for (size_t i = 3; i < len; i++) {
        if (line[i] < '0' || line[i] > '9')
            return false;
        v = v * 10 + (unsigned)(line[i] - '0');
        if (v >= limit)
            return false;
    }
    *vm = v;
    return true;
}
