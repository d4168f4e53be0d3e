#!/usr/bin/env python3
"""A small RFB 3.8 + VeNCrypt client for tests: an independent decoder of
vsbypass's VNC service (Raw, CopyRect, Hextile, ZRLE, DesktopSize, QEMU
extended key events), written from RFC 6143 and the VeNCrypt description.

    rfbclient.py --port P --ca CA [--cert C --key K | --user U --password W]
                 [--encodings zrle,hextile,raw,copyrect,desktopsize,qemukey]
                 [--bpp 32|16|8] [--big-endian] [--type TEXT] [--qemu-keys]
                 [--settle S] [--shot OUT.ppm] [--expect-refusal REGEX]
                 [--send-hex HEX] [--expect-close] [--hold S]

Connects, authenticates (X509None with --cert, X509Plain with --user),
requests updates until the screen has been quiet for --settle seconds
(default 0.5), types TEXT ("\\n" = Enter) one key at a time, settles again,
and writes the framebuffer as a PPM. With --expect-refusal the connection
must be refused with a reason matching REGEX (exit 0 then). --send-hex
sends raw bytes after the first settle; --expect-close then requires the
server to close the connection within the timeout. --hold keeps the session
open (answering updates) for S more seconds. Prints one line of figures:
updates, rects per encoding, bells, bytes.
"""
import argparse
import re
import select
import socket
import ssl
import struct
import sys
import time
import zlib

ENC = {"raw": 0, "copyrect": 1, "hextile": 5, "zrle": 16,
       "desktopsize": -223, "qemukey": -258}


class Refused(Exception):
    pass


class Conn:
    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.nbytes = 0

    def recv_exact(self, n, timeout=10.0):
        end = time.monotonic() + timeout
        while len(self.buf) < n:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("timeout waiting for %d bytes" % n)
            if not (isinstance(self.s, ssl.SSLSocket) and self.s.pending()):
                r, _, _ = select.select([self.s], [], [], left)
                if not r:
                    continue
            d = self.s.recv(65536)
            if not d:
                raise EOFError("server closed the connection")
            self.buf += d
            self.nbytes += len(d)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def readable(self, timeout):
        if self.buf or (isinstance(self.s, ssl.SSLSocket) and self.s.pending()):
            return True
        r, _, _ = select.select([self.s], [], [], timeout)
        return bool(r)

    def u8(self):
        return self.recv_exact(1)[0]

    def u16(self):
        return struct.unpack(">H", self.recv_exact(2))[0]

    def u32(self):
        return struct.unpack(">I", self.recv_exact(4))[0]

    def send(self, b):
        self.s.sendall(b)


def reason(c):
    n = c.u32()
    return c.recv_exact(n).decode(errors="replace") if n < 4096 else "?"


def handshake(port, ca, cert=None, key=None, user=None, password=None, subtype=None,
              version=b"RFB 003.008\n", sectype=19):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    c = Conn(sock)
    sv = c.recv_exact(12)
    if not sv.startswith(b"RFB 003."):
        raise Refused("bad server version %r" % sv)
    c.send(version)
    n = c.u8()
    if n == 0:
        raise Refused(reason(c))
    types = list(c.recv_exact(n))
    if types != [19]:
        raise Refused("server offers security types %r, not only VeNCrypt" % types)
    c.send(bytes([sectype]))
    if sectype != 19:
        if c.u32() != 0:
            raise Refused(reason(c))
        raise Refused("server accepted a non-VeNCrypt security type")
    maj, mnr = c.u8(), c.u8()
    if (maj, mnr) != (0, 2):
        raise Refused("VeNCrypt %d.%d" % (maj, mnr))
    c.send(b"\x00\x02")
    if c.u8() != 0:
        raise Refused("VeNCrypt version refused")
    nsub = c.u8()
    subs = [c.u32() for _ in range(nsub)]
    for bad in (256, 257, 258, 259, 261):   # Plain, TLSNone/Vnc/Plain, X509Vnc
        if bad in subs:
            raise Refused("server offers insecure subtype %d" % bad)
    want = subtype if subtype is not None else (262 if user is not None else 260)
    c.send(struct.pack(">I", want))
    if c.u8() != 1:
        raise Refused("subtype %d not accepted" % want)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    try:
        tls = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    except (ssl.SSLError, OSError) as e:
        raise Refused("TLS handshake failed: %s" % e)
    c.s = tls
    if want == 262:
        u, p = user.encode(), password.encode()
        c.send(struct.pack(">II", len(u), len(p)) + u + p)
    try:
        res = c.u32()
    except (EOFError, ssl.SSLError, ConnectionError) as e:
        raise Refused("connection closed before SecurityResult: %s" % e)
    if res != 0:
        raise Refused(reason(c))
    c.send(b"\x01")                          # ClientInit: shared
    w, h = c.u16(), c.u16()
    pf = c.recv_exact(16)
    name = c.recv_exact(c.u32()).decode(errors="replace")
    return c, w, h, pf, name


class PixFmt:
    def __init__(self, bpp=32, big=False):
        self.bpp, self.big = bpp, big
        if bpp == 32:
            self.depth, self.maxes, self.shifts = 24, (255, 255, 255), (16, 8, 0)
        elif bpp == 16:
            self.depth, self.maxes, self.shifts = 16, (31, 63, 31), (11, 5, 0)
        else:
            self.depth, self.maxes, self.shifts = 8, (7, 7, 3), (0, 3, 6)
        self.bytes = bpp // 8

    def wire(self):
        return struct.pack(">BBBBHHHBBBxxx", self.bpp, self.depth, int(self.big), 1,
                           *self.maxes, *self.shifts)

    def cpixel_bytes(self):
        if self.bpp == 32 and self.depth <= 24:
            return 3
        return self.bytes

    def to_rgb(self, v):
        return tuple(((v >> s) & m) * 255 // m for s, m in zip(self.shifts, self.maxes))

    def quantize(self, rgb):
        return tuple(((c * m + 127) // 255) * 255 // m for c, m in zip(rgb, self.maxes))

    def value(self, b):
        return int.from_bytes(b, "big" if self.big else "little")

    def cvalue(self, b):
        # CPIXEL: 3 bytes of a 32-bit pixel whose colours fit the low 3 bytes
        if len(b) == 3:
            b = b + b"\x00" if not self.big else b"\x00" + b
        return self.value(b)


class Screen:
    def __init__(self, w, h, pf):
        self.w, self.h, self.pf = w, h, pf
        self.px = [[(0, 0, 0)] * w for _ in range(h)]
        self.z = zlib.decompressobj()
        self.counts = {}
        self.updates = 0
        self.qemu_ack = False
        self.resized = 0

    def fill(self, x, y, w, h, rgb):
        for j in range(y, y + h):
            row = self.px[j]
            for i in range(x, x + w):
                row[i] = rgb

    def read_update(self, c):
        t = c.u8()
        if t == 2:
            self.counts["bell"] = self.counts.get("bell", 0) + 1
            return "bell"
        if t != 0:
            raise ValueError("unexpected server message type %d" % t)
        c.u8()
        n = c.u16()
        for _ in range(n):
            x, y, w, h, e = struct.unpack(">HHHHi", c.recv_exact(12))
            self.counts[e] = self.counts.get(e, 0) + 1
            if e == -258:
                self.qemu_ack = True
                continue
            if e == -223:
                self.w, self.h = w, h
                self.px = [[(0, 0, 0)] * w for _ in range(h)]
                self.resized += 1
                continue
            if x + w > self.w or y + h > self.h:
                raise ValueError("rectangle %dx%d+%d+%d outside %dx%d" % (w, h, x, y, self.w, self.h))
            if e == 0:
                self.raw(c, x, y, w, h)
            elif e == 1:
                sx, sy = struct.unpack(">HH", c.recv_exact(4))
                src = [self.px[sy + j][sx:sx + w] for j in range(h)]
                for j in range(h):
                    self.px[y + j][x:x + w] = src[j]
            elif e == 5:
                self.hextile(c, x, y, w, h)
            elif e == 16:
                self.zrle(c, x, y, w, h)
            else:
                raise ValueError("unexpected encoding %d" % e)
        self.updates += 1
        return "update"

    def raw(self, c, x, y, w, h):
        pf = self.pf
        data = c.recv_exact(w * h * pf.bytes)
        k = 0
        for j in range(h):
            row = self.px[y + j]
            for i in range(w):
                row[x + i] = pf.to_rgb(pf.value(data[k:k + pf.bytes]))
                k += pf.bytes

    def hextile(self, c, x, y, w, h):
        pf = self.pf
        bg = fg = None
        for ty in range(y, y + h, 16):
            th = min(16, y + h - ty)
            for tx in range(x, x + w, 16):
                tw = min(16, x + w - tx)
                m = c.u8()
                if m & 1:
                    self.raw(c, tx, ty, tw, th)
                    bg = fg = None  # undefined after raw; the server must resend
                    continue
                if m & 2:
                    bg = pf.to_rgb(pf.value(c.recv_exact(pf.bytes)))
                if bg is None:
                    raise ValueError("hextile: no background")
                self.fill(tx, ty, tw, th, bg)
                if m & 4:
                    fg = pf.to_rgb(pf.value(c.recv_exact(pf.bytes)))
                if m & 8:
                    ns = c.u8()
                    for _ in range(ns):
                        col = fg
                        if m & 16:
                            col = pf.to_rgb(pf.value(c.recv_exact(pf.bytes)))
                        if col is None:
                            raise ValueError("hextile: no foreground")
                        xy, wh = c.u8(), c.u8()
                        sx, sy = xy >> 4, xy & 15
                        sw, sh = (wh >> 4) + 1, (wh & 15) + 1
                        if sx + sw > tw or sy + sh > th:
                            raise ValueError("hextile: subrect outside its tile")
                        self.fill(tx + sx, ty + sy, sw, sh, col)

    def zrle(self, c, x, y, w, h):
        pf = self.pf
        n = c.u32()
        data = self.z.decompress(c.recv_exact(n))
        pos = 0
        cb = pf.cpixel_bytes()

        def take(k):
            nonlocal pos
            if pos + k > len(data):
                raise ValueError("ZRLE: data ends early")
            b = data[pos:pos + k]
            pos += k
            return b

        def cpix():
            return pf.to_rgb(pf.cvalue(take(cb)))

        for ty in range(y, y + h, 64):
            th = min(64, y + h - ty)
            for tx in range(x, x + w, 64):
                tw = min(64, x + w - tx)
                sub = take(1)[0]
                if sub == 0:
                    for j in range(th):
                        for i in range(tw):
                            self.px[ty + j][tx + i] = cpix()
                elif sub == 1:
                    self.fill(tx, ty, tw, th, cpix())
                elif 2 <= sub <= 16:
                    pal = [cpix() for _ in range(sub)]
                    bits = 1 if sub == 2 else 2 if sub <= 4 else 4
                    for j in range(th):
                        rowbytes = (tw * bits + 7) // 8
                        rb = take(rowbytes)
                        for i in range(tw):
                            bit = i * bits
                            v = (rb[bit // 8] >> (8 - bits - bit % 8)) & ((1 << bits) - 1)
                            self.px[ty + j][tx + i] = pal[v]
                elif sub == 128 or sub >= 130:
                    pal = [cpix() for _ in range(sub - 128)] if sub >= 130 else None
                    k = 0
                    while k < tw * th:
                        if pal is None:
                            col, run = cpix(), 1
                            while True:
                                b = take(1)[0]
                                run += b
                                if b != 255:
                                    break
                        else:
                            idx = take(1)[0]
                            run = 1
                            if idx & 128:
                                while True:
                                    b = take(1)[0]
                                    run += b
                                    if b != 255:
                                        break
                            col = pal[idx & 127]
                        if k + run > tw * th:
                            raise ValueError("ZRLE: run past the tile")
                        for _ in range(run):
                            self.px[ty + k // tw][tx + k % tw] = col
                            k += 1
                else:
                    raise ValueError("ZRLE: bad subencoding %d" % sub)
        if pos != len(data):
            raise ValueError("ZRLE: %d bytes left over" % (len(data) - pos))

    def ppm(self, path):
        with open(path, "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (self.w, self.h))
            f.write(bytes(v for row in self.px for p in row for v in p))


# keysyms for typing: printable ASCII maps to itself; Enter, BackSpace
def keysym(ch):
    if ch == "\n":
        return 0xff0d
    if ch == "\b":
        return 0xff08
    return ord(ch)


# set-1 codes for QEMU extended key events (US), unshifted and shifted chars
XT = {}
for row, base in (("1234567890-=", 0x02), ("qwertyuiop[]", 0x10), ("asdfghjkl;'`", 0x1e),
                  ("\\zxcvbnm,./", 0x2b)):
    for i, ch in enumerate(row):
        XT[ch] = (base + i, False)
for row, base in (("!@#$%^&*()_+", 0x02), ("QWERTYUIOP{}", 0x10), ('ASDFGHJKL:"~', 0x1e),
                  ("|ZXCVBNM<>?", 0x2b)):
    for i, ch in enumerate(row):
        XT[ch] = (base + i, True)
XT[" "] = (0x39, False)
XT["\n"] = (0x1c, False)
XT["\b"] = (0x0e, False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--subtype", type=int)
    ap.add_argument("--encodings", default="zrle,hextile,raw,copyrect,desktopsize,qemukey")
    ap.add_argument("--bpp", type=int, default=32, choices=(8, 16, 32))
    ap.add_argument("--big-endian", action="store_true")
    ap.add_argument("--type", default="")
    ap.add_argument("--qemu-keys", action="store_true")
    ap.add_argument("--settle", type=float, default=0.5)
    ap.add_argument("--shot")
    ap.add_argument("--expect-refusal")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--key-delay", type=float, default=0.01)
    ap.add_argument("--send-hex")
    ap.add_argument("--expect-close", action="store_true")
    ap.add_argument("--hold", type=float, default=0)
    args = ap.parse_args()

    try:
        c, w, h, _, name = handshake(args.port, args.ca, args.cert, args.key, args.user,
                                     args.password, args.subtype)
    except (Refused, EOFError, ConnectionError, ssl.SSLError, TimeoutError) as e:
        if args.expect_refusal and re.search(args.expect_refusal, str(e)):
            print("refused as expected: %s" % e)
            return 0
        print("rfbclient: refused: %s" % e, file=sys.stderr)
        return 1
    if args.expect_refusal:
        print("rfbclient: connected, but a refusal was expected", file=sys.stderr)
        return 1
    pf = PixFmt(args.bpp, args.big_endian)
    c.send(b"\x00\x00\x00\x00" + pf.wire())
    encs = [ENC[e] for e in args.encodings.split(",") if e]
    c.send(struct.pack(">BxH", 2, len(encs)) + b"".join(struct.pack(">i", e) for e in encs))
    scr = Screen(w, h, pf)
    c.send(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))
    deadline = time.monotonic() + args.timeout

    def settle():
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < args.settle:
            if time.monotonic() > deadline:
                raise TimeoutError("screen never settled")
            if c.readable(0.05):
                if scr.read_update(c) == "update":
                    c.send(struct.pack(">BBHHHH", 3, 1, 0, 0, scr.w, scr.h))
                quiet_since = time.monotonic()

    try:
        settle()
        shift = False
        for ch in args.type.encode().decode("unicode_escape"):
            if args.qemu_keys:
                code, sh = XT[ch]
                if sh != shift:
                    c.send(struct.pack(">BBHII", 255, 0, int(sh), 0xffe1, 0x2a))
                    shift = sh
                for down in (1, 0):
                    c.send(struct.pack(">BBHII", 255, 0, down, keysym(ch), code))
            else:
                for down in (1, 0):
                    c.send(struct.pack(">BBxxI", 4, down, keysym(ch)))
            # Take the updates that arrive while typing, as a viewer does.
            pause = time.monotonic() + args.key_delay
            while time.monotonic() < pause:
                if c.readable(max(0.0, pause - time.monotonic())):
                    if scr.read_update(c) == "update":
                        c.send(struct.pack(">BBHHHH", 3, 1, 0, 0, scr.w, scr.h))
        if shift:
            c.send(struct.pack(">BBHII", 255, 0, 0, 0xffe1, 0x2a))
        if args.type:
            settle()
        if args.send_hex:
            c.send(bytes.fromhex(args.send_hex))
        if args.expect_close:
            try:
                while time.monotonic() < deadline:
                    if c.readable(0.1) and scr.read_update(c) == "update":
                        c.send(struct.pack(">BBHHHH", 3, 1, 0, 0, scr.w, scr.h))
            except (EOFError, ConnectionError, ssl.SSLError):
                print("rfbclient: server closed the connection as expected")
                return 0
            print("rfbclient: the server did not close the connection", file=sys.stderr)
            return 1
        end = time.monotonic() + args.hold
        while time.monotonic() < end:
            if c.readable(0.05) and scr.read_update(c) == "update":
                c.send(struct.pack(">BBHHHH", 3, 1, 0, 0, scr.w, scr.h))
    except (EOFError, ValueError, TimeoutError, ConnectionError, ssl.SSLError) as e:
        print("rfbclient: %s" % e, file=sys.stderr)
        return 1
    if args.shot:
        scr.ppm(args.shot)
    counts = " ".join("%s=%s" % ({0: "raw", 1: "copyrect", 5: "hextile", 16: "zrle",
                                   -223: "desktopsize", -258: "qemukey"}.get(k, k), v)
                      for k, v in sorted(scr.counts.items(), key=lambda kv: str(kv[0])))
    print("rfbclient: name='%s' %dx%d updates=%d bytes=%d %s" %
          (name, scr.w, scr.h, scr.updates, c.nbytes, counts))
    c.s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
