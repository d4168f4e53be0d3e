/* Decoding the stores a guest makes to emulated MMIO (pure; host-tested). */
#ifndef VMX_DECODE_H
#define VMX_DECODE_H
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

#endif
