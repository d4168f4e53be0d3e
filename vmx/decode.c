/* A deliberately small x86 decoder: only the MOV forms that MMIO needs
 * (register, immediate and moffs forms, MOVZX for loads). */
#include "vmx/decode.h"
#include <stdbool.h>

struct cursor {
    const uint8_t *code;
    size_t n, pos;
};

static bool take(struct cursor *c, uint8_t *b)
{
    if (c->pos >= c->n || c->pos >= 15)
        return false;
    *b = c->code[c->pos++];
    return true;
}

static bool skip(struct cursor *c, size_t k)
{
    if (c->pos + k > c->n || c->pos + k > 15)
        return false;
    c->pos += k;
    return true;
}

static uint64_t read_le(const uint8_t *p, unsigned k)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < k; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Skips the ModRM operand's SIB and displacement; requires a memory operand. */
static bool skip_modrm_mem(struct cursor *c, uint8_t modrm, unsigned addr_bits)
{
    unsigned mod = modrm >> 6, rm = modrm & 7;
    if (mod == 3)
        return false;
    if (addr_bits == 16) {
        if (mod == 0 && rm == 6)
            return skip(c, 2);
        return skip(c, mod == 1 ? 1 : mod == 2 ? 2 : 0);
    }
    if (rm == 4) {
        uint8_t sib;
        if (!take(c, &sib))
            return false;
        if (mod == 0 && (sib & 7) == 5)
            return skip(c, 4);
    }
    if (mod == 0 && rm == 5)
        return skip(c, 4);      /* disp32, RIP-relative in 64-bit code */
    return skip(c, mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

static uint64_t mask(uint64_t v, unsigned size)
{
    return size == 8 ? v : v & ((1ULL << (8 * size)) - 1);
}

/* Legacy prefixes, REX and the opcode byte, with the operand and address
 * sizes they give in code of `bits`. */
struct prefixed {
    uint8_t rex, opcode;
    unsigned opnd, addr_bits;
};

static bool parse_prefixes(struct cursor *c, unsigned bits, bool lock_ok, struct prefixed *p)
{
    bool opsize = false, addrsize = false;
    uint8_t b;
    if (bits != 16 && bits != 32 && bits != 64)
        return false;
    for (;;) {
        if (!take(c, &b))
            return false;
        if (b == 0x66) opsize = true;
        else if (b == 0x67) addrsize = true;
        else if (b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65 ||
                 (b == 0xF0 && lock_ok)) continue;
        else break;
    }
    p->rex = 0;
    if (bits == 64 && (b & 0xF0) == 0x40) {     /* REX must come right before the opcode */
        p->rex = b;
        if (!take(c, &b))
            return false;
    }
    p->opcode = b;
    p->opnd = bits == 64 ? ((p->rex & 8) ? 8 : opsize ? 2 : 4)
            : bits == 32 ? (opsize ? 2 : 4) : (opsize ? 4 : 2);
    p->addr_bits = bits == 64 ? (addrsize ? 32 : 64)
                 : bits == 32 ? (addrsize ? 16 : 32) : (addrsize ? 32 : 16);
    return true;
}

int decode_mmio_store(const uint8_t *code, size_t n, unsigned bits, const uint64_t regs[16],
                      struct mmio_store *out)
{
    struct cursor c = { code, n, 0 };
    struct prefixed pf;
    if (!parse_prefixes(&c, bits, true, &pf))
        return -1;
    uint8_t rex = pf.rex;
    unsigned size = pf.opnd, addr_bits = pf.addr_bits;
    uint8_t opcode = pf.opcode, modrm;
    if (opcode == 0xA2 || opcode == 0xA3) {
        /* MOV moffs, AL/eAX: the address is an immediate of the address size. */
        if (!skip(&c, addr_bits / 8))
            return -1;
        out->size = opcode == 0xA2 ? 1 : size;
        out->value = mask(regs[0], out->size);
        out->len = (unsigned)c.pos;
        return 0;
    }
    if (opcode != 0x88 && opcode != 0x89 && opcode != 0xC6 && opcode != 0xC7)
        return -1;
    if (!take(&c, &modrm) || !skip_modrm_mem(&c, modrm, addr_bits))
        return -1;
    unsigned reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
    if (opcode == 0x88 || opcode == 0xC6)
        size = 1;
    if (opcode == 0x88) {
        /* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
        if (!rex && reg >= 4 && reg < 8)
            out->value = (regs[reg - 4] >> 8) & 0xFF;
        else
            out->value = regs[reg] & 0xFF;
    } else if (opcode == 0x89) {
        out->value = mask(regs[reg], size);
    } else {
        if ((modrm >> 3) & 7)
            return -1;      /* C6/C7 with reg != 0 are not MOV */
        unsigned immlen = size == 8 ? 4 : size;
        size_t at = c.pos;
        if (!skip(&c, immlen))
            return -1;
        uint64_t imm = read_le(code + at, immlen);
        if (size == 8 && (imm & 0x80000000u))
            imm |= 0xFFFFFFFF00000000ULL;   /* imm32 sign-extended to 64 bits */
        out->value = imm;
    }
    out->size = size;
    out->len = (unsigned)c.pos;
    return 0;
}

int decode_mmio_load(const uint8_t *code, size_t n, unsigned bits, struct mmio_load *out)
{
    struct cursor c = { code, n, 0 };
    struct prefixed pf;
    if (!parse_prefixes(&c, bits, false, &pf))
        return -1;
    uint8_t rex = pf.rex, b = pf.opcode;
    unsigned opnd = pf.opnd, addr_bits = pf.addr_bits;
    uint8_t modrm;
    unsigned size, dest;
    if (b == 0xA0 || b == 0xA1) {
        /* MOV AL/eAX, moffs */
        if (!skip(&c, addr_bits / 8))
            return -1;
        out->size = out->dest_size = b == 0xA0 ? 1 : opnd;
        out->reg = 0;
        out->high_byte = false;
        out->len = (unsigned)c.pos;
        return 0;
    }
    if (b == 0x8A) {
        size = dest = 1;
    } else if (b == 0x8B) {
        size = dest = opnd;
    } else if (b == 0x0F) {
        uint8_t b2;
        if (!take(&c, &b2) || (b2 != 0xB6 && b2 != 0xB7))
            return -1;
        size = b2 == 0xB6 ? 1 : 2;
        dest = opnd;
    } else {
        return -1;
    }
    if (!take(&c, &modrm) || !skip_modrm_mem(&c, modrm, addr_bits))
        return -1;
    unsigned reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
    out->high_byte = dest == 1 && !rex && reg >= 4 && reg < 8;
    out->reg = out->high_byte ? reg - 4 : reg;
    out->size = size;
    out->dest_size = dest;
    out->len = (unsigned)c.pos;
    return 0;
}

uint64_t mmio_load_apply(const struct mmio_load *ld, uint64_t old, uint64_t value)
{
    value = mask(value, ld->size);                  /* movzx: zero-extended */
    if (ld->high_byte)
        return (old & ~0xFF00ULL) | (value & 0xFF) << 8;
    switch (ld->dest_size) {
    case 1: return (old & ~0xFFULL) | value;
    case 2: return (old & ~0xFFFFULL) | value;
    case 4: return value & 0xFFFFFFFFULL;           /* writes to 32-bit registers clear 63:32 */
    default: return value;
    }
}
