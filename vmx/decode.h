/* Decoding the stores a guest makes to emulated MMIO (pure; host-tested). */
#ifndef VMX_DECODE_H
#define VMX_DECODE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mmio_store {
    unsigned len;       /* instruction length in bytes */
    unsigned size;      /* bytes stored: 1, 2, 4 or 8 */
    uint64_t value;     /* what is stored (zero-extended to 64 bits) */
};

/*
 * Decodes one MOV-to-memory instruction (88, 89, C6 /0, C7 /0, with legacy,
 * segment and REX prefixes) in code of `bits` (16, 32 or 64). `regs` holds
 * the 16 general registers in SDM encoding order (RAX, RCX, RDX, RBX, RSP,
 * RBP, RSI, RDI, R8..R15). Returns 0, or -1 for anything else (the caller
 * stops the guest rather than guess).
 */
int decode_mmio_store(const uint8_t *code, size_t n, unsigned bits, const uint64_t regs[16],
                      struct mmio_store *out);

/* A load from emulated MMIO: the register it fills and how. */
struct mmio_load {
    unsigned len;       /* instruction length in bytes */
    unsigned size;      /* bytes read: 1, 2, 4 or 8 */
    unsigned reg;       /* destination, SDM encoding (0-15); see high_byte */
    bool high_byte;     /* AH/CH/DH/BH: bits 15:8 of register reg */
    unsigned dest_size; /* bytes the destination receives: movzx widens */
};

/*
 * Decodes one load into a general register: MOV r, m (8A, 8B) and MOVZX r,
 * m8/m16 (0F B6, 0F B7), with legacy, segment and REX prefixes, in code of
 * `bits` (16, 32 or 64). Returns 0, or -1 for anything else.
 */
int decode_mmio_load(const uint8_t *code, size_t n, unsigned bits, struct mmio_load *out);

/* The register after the load delivered `value` (x86 rules: a 32-bit
 * destination clears bits 63:32, 8- and 16-bit ones keep the rest). */
uint64_t mmio_load_apply(const struct mmio_load *ld, uint64_t old, uint64_t value);

#endif
