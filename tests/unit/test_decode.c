/* vmx/decode.c: decoding the MOV-to-memory stores a guest makes to emulated MMIO. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "vmx/decode.h"
#include <stdlib.h>
#include <string.h>

/*
 * Register file: every byte of every register is distinct, so a wrong
 * register, a wrong byte or a wrong width shows up as a wrong value.
 * regs[i] = 0x8070605040302010 + i * 0x0101010101010101:
 *   RAX 0x8070605040302010 (EAX 0x40302010, AX 0x2010, AL 0x10, AH 0x20)
 *   RBX 0x8373635343332313 (BH 0x23)   RSP 0x...24 14 (SPL 0x14)
 *   RDI 0x...27 17 (DIL 0x17)          R8  0x8878685848382818
 *   R15 0x8F7F6F5F4F3F2F1F
 */
static uint64_t regs[16];

static int setup_regs(void **state)
{
    (void)state;
    for (unsigned i = 0; i < 16; i++)
        regs[i] = 0x8070605040302010ULL + i * 0x0101010101010101ULL;
    return 0;
}

#define RAX  0x8070605040302010ULL
#define EAX  0x40302010ULL
#define AX   0x2010ULL
#define AH   0x20ULL
#define BH   0x23ULL
#define SPL  0x14ULL
#define DIL  0x17ULL
#define R8B  0x18ULL
#define R8W  0x2818ULL
#define R8D  0x48382818ULL
#define R15  0x8F7F6F5F4F3F2F1FULL

/* An instruction's bytes and their count. */
#define CODE(...) { __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

struct store_case {
    const char *what;
    uint8_t code[16];
    size_t n;
    unsigned len, size;
    uint64_t value;
};

/*
 * Decodes `c` twice: with exactly its bytes, and followed by filler up to 15
 * bytes (as the caller fetches them); length, size and value must be exact.
 */
static void check_store(unsigned bits, const struct store_case *c)
{
    struct mmio_store out;
    uint8_t buf[15];
    assert_true(c->n == c->len && c->n <= sizeof(buf));
    memset(buf, 0xCC, sizeof(buf));
    memcpy(buf, c->code, c->n);
    size_t sizes[2] = { c->n, sizeof(buf) };
    for (unsigned k = 0; k < 2; k++) {
        memset(&out, 0x5A, sizeof(out));
        int r = decode_mmio_store(buf, sizes[k], bits, regs, &out);
        if (r != 0)
            fail_msg("%u-bit %s (n=%zu): returned %d", bits, c->what, sizes[k], r);
        if (out.len != c->len || out.size != c->size || out.value != c->value)
            fail_msg("%u-bit %s (n=%zu): len %u size %u value 0x%llx, expected len %u size %u "
                     "value 0x%llx", bits, c->what, sizes[k], out.len, out.size,
                     (unsigned long long)out.value, c->len, c->size,
                     (unsigned long long)c->value);
    }
}

/* Every proper prefix of a valid instruction is rejected. */
static void check_truncations(unsigned bits, const struct store_case *c)
{
    struct mmio_store out;
    for (size_t k = 0; k < c->n; k++) {
        /* A heap copy of exactly k bytes: ASan catches any read past them. */
        uint8_t *exact = k ? malloc(k) : NULL;
        if (k)
            memcpy(exact, c->code, k);
        int r = decode_mmio_store(exact, k, bits, regs, &out);
        free(exact);
        if (r != -1)
            fail_msg("%u-bit %s truncated to %zu bytes: returned %d", bits, c->what, k, r);
    }
}

#define CHECK_ALL(bits, table)                                          \
    do {                                                                \
        for (size_t i_ = 0; i_ < sizeof(table) / sizeof(table[0]); i_++) { \
            check_store((bits), &(table)[i_]);                          \
            check_truncations((bits), &(table)[i_]);                    \
        }                                                               \
    } while (0)

/* ------------------------------------------------------------- 64-bit */

static const struct store_case reg64[] = {
    { "mov [rsi],eax",              CODE(0x89, 0x06),                   2, 4, EAX },
    { "mov [rsi+0x300],eax",        CODE(0x89, 0x86, 0x00, 0x03, 0x00, 0x00), 6, 4, EAX },
    { "mov [0xfee00300],eax (SIB)", CODE(0x89, 0x04, 0x25, 0x00, 0x03, 0xe0, 0xfe), 7, 4, EAX },
    { "mov [rip+0x10],eax",         CODE(0x89, 0x05, 0x10, 0x00, 0x00, 0x00), 6, 4, EAX },
    { "mov [rsp+8],eax (SIB+d8)",   CODE(0x89, 0x44, 0x24, 0x08),       4, 4, EAX },
    { "mov [rsp+0x100],eax (SIB+d32)", CODE(0x89, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00), 7, 4, EAX },
    { "mov [rdi+8],eax (d8)",       CODE(0x89, 0x47, 0x08),             3, 4, EAX },
    { "mov [rdi],rax (REX.W)",      CODE(0x48, 0x89, 0x07),             3, 8, RAX },
    { "mov [rdi],r8d (REX.R)",      CODE(0x44, 0x89, 0x07),             3, 4, R8D },
    { "mov [r15],eax (REX.B)",      CODE(0x41, 0x89, 0x07),             3, 4, EAX },
    { "mov [rsp],r15 (REX.WR)",     CODE(0x4c, 0x89, 0x3c, 0x24),       4, 8, R15 },
    { "mov [rsp-8],rax (REX.W SIB d8)", CODE(0x48, 0x89, 0x44, 0x24, 0xf8), 5, 8, RAX },
    { "mov [rdi],ax",               CODE(0x66, 0x89, 0x07),             3, 2, AX },
    { "mov [rdi],r8w (66 REX.R)",   CODE(0x66, 0x44, 0x89, 0x07),       4, 2, R8W },
    { "mov [rdi],rax (66 REX.W)",   CODE(0x66, 0x48, 0x89, 0x07),       4, 8, RAX },
    { "mov [rdi],ah (no REX)",      CODE(0x88, 0x27),                   2, 1, AH },
    { "mov [rdi],bh (no REX)",      CODE(0x88, 0x3f),                   2, 1, BH },
    { "mov [rdi],spl (REX)",        CODE(0x40, 0x88, 0x27),             3, 1, SPL },
    { "mov [rdi],dil (REX)",        CODE(0x40, 0x88, 0x3f),             3, 1, DIL },
    { "mov [r15],r8b (REX.RB)",     CODE(0x45, 0x88, 0x07),             3, 1, R8B },
    { "mov [rdi],al (REX.W ignored for 88)", CODE(0x48, 0x88, 0x07),    3, 1, 0x10 },
    { "mov gs:[rdi],eax",           CODE(0x65, 0x89, 0x07),             3, 4, EAX },
    { "five segment prefixes",      CODE(0x2e, 0x3e, 0x26, 0x36, 0x64, 0x89, 0x07), 7, 4, EAX },
    { "mov [edi],eax (67)",         CODE(0x67, 0x89, 0x07),             3, 4, EAX },
    { "movabs [0xfee00310],eax",    CODE(0xa3, 0x10, 0x03, 0xe0, 0xfe, 0, 0, 0, 0), 9, 4, EAX },
    { "movabs [moffs64],rax (REX.W)", CODE(0x48, 0xa3, 0x10, 0x03, 0xe0, 0xfe, 0, 0, 0, 0), 10, 8, RAX },
    { "movabs [moffs64],al",        CODE(0xa2, 0x10, 0x03, 0xe0, 0xfe, 0, 0, 0, 0), 9, 1, 0x10 },
    { "mov [moffs32],ax (66 67)",   CODE(0x66, 0x67, 0xa3, 0x10, 0x03, 0xe0, 0xfe), 7, 2, AX },
};

static void test_64bit_register_stores(void **state)
{
    (void)state;
    CHECK_ALL(64, reg64);
}

static const struct store_case imm64[] = {
    { "mov dword [rdi],0x12345678", CODE(0xc7, 0x07, 0x78, 0x56, 0x34, 0x12), 6, 4, 0x12345678 },
    { "mov qword [rdi],-1 (imm32 sign-extended)",
      CODE(0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff),                   7, 8, UINT64_MAX },
    { "mov qword [rdi],0x7fffffff (not extended)",
      CODE(0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0x7f),                   7, 8, 0x7fffffff },
    { "mov qword [rax+0x100],0x80000000",
      CODE(0x48, 0xc7, 0x80, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80), 11, 8,
      0xffffffff80000000ULL },
    { "mov dword [rip+0xff0],imm (imm after disp32)",
      CODE(0xc7, 0x05, 0xf0, 0x0f, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12), 10, 4, 0x12345678 },
    { "mov dword [rsp+0x100],imm (SIB+d32)",
      CODE(0xc7, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00, 0xef, 0xbe, 0xad, 0xde), 11, 4, 0xdeadbeef },
    { "mov dword [rsp+0x100],-2 (no sign extension at 4 bytes)",
      CODE(0xc7, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff), 11, 4, 0xfffffffe },
    { "mov word [rdi+8],0x1234",    CODE(0x66, 0xc7, 0x47, 0x08, 0x34, 0x12), 6, 2, 0x1234 },
    { "mov byte [rdi],0xaa",        CODE(0xc6, 0x07, 0xaa),             3, 1, 0xaa },
    { "mov byte [r15+8],0x80 (REX.B)", CODE(0x41, 0xc6, 0x47, 0x08, 0x80), 5, 1, 0x80 },
};

static void test_64bit_immediate_stores(void **state)
{
    (void)state;
    CHECK_ALL(64, imm64);
}

/* ------------------------------------------------------------- 32-bit */

static const struct store_case code32[] = {
    { "mov [esp+8],eax (SIB+d8)",   CODE(0x89, 0x44, 0x24, 0x08),       4, 4, EAX },
    { "mov [0xfee00300],eax",       CODE(0x89, 0x05, 0x00, 0x03, 0xe0, 0xfe), 6, 4, EAX },
    { "mov [esi],eax",              CODE(0x89, 0x06),                   2, 4, EAX },
    { "mov [0xfee00300],eax (moffs32)", CODE(0xa3, 0x00, 0x03, 0xe0, 0xfe), 5, 4, EAX },
    { "mov [0x300],al (67: moffs16)", CODE(0x67, 0xa2, 0x00, 0x03),     4, 1, 0x10 },
    { "mov [edi],ax",               CODE(0x66, 0x89, 0x07),             3, 2, AX },
    { "mov [edi],ah",               CODE(0x88, 0x27),                   2, 1, AH },
    { "mov [0x1234],eax (67: 16-bit addressing)", CODE(0x67, 0x89, 0x06, 0x34, 0x12), 5, 4, EAX },
    { "mov dword [edi],imm",        CODE(0xc7, 0x07, 0x78, 0x56, 0x34, 0x12), 6, 4, 0x12345678 },
    { "mov word [edi],imm",         CODE(0x66, 0xc7, 0x07, 0x34, 0x12), 5, 2, 0x1234 },
    { "mov byte [esp+8],0xaa",      CODE(0xc6, 0x44, 0x24, 0x08, 0xaa), 5, 1, 0xaa },
};

static void test_32bit_stores(void **state)
{
    (void)state;
    CHECK_ALL(32, code32);
}

/* ------------------------------------------------------------- 16-bit */

static const struct store_case code16[] = {
    { "mov [bx],ax",                CODE(0x89, 0x07),                   2, 2, AX },
    { "mov [0x1234],ax (mod 0 rm 6: disp16)", CODE(0x89, 0x06, 0x34, 0x12), 4, 2, AX },
    { "mov [bx+8],ax (d8)",         CODE(0x89, 0x47, 0x08),             3, 2, AX },
    { "mov [bx+0x1234],ax (d16)",   CODE(0x89, 0x87, 0x34, 0x12),       4, 2, AX },
    { "mov [si],ax (no SIB in 16-bit addressing)", CODE(0x89, 0x04),    2, 2, AX },
    { "mov [bx],eax (66)",          CODE(0x66, 0x89, 0x07),             3, 4, EAX },
    { "mov [edi],ax (67)",          CODE(0x67, 0x89, 0x07),             3, 2, AX },
    { "mov [esp],ax (67: SIB)",     CODE(0x67, 0x89, 0x04, 0x24),       4, 2, AX },
    { "mov [0xfee00300],ax (67: disp32)", CODE(0x67, 0x89, 0x05, 0x00, 0x03, 0xe0, 0xfe), 7, 2, AX },
    { "mov [bx],ah",                CODE(0x88, 0x27),                   2, 1, AH },
    { "mov word [0x1234],0xabcd",   CODE(0xc7, 0x06, 0x34, 0x12, 0xcd, 0xab), 6, 2, 0xabcd },
    { "mov dword [bx],imm (66)",    CODE(0x66, 0xc7, 0x07, 0x78, 0x56, 0x34, 0x12), 7, 4, 0x12345678 },
    { "mov byte [bx],0xaa",         CODE(0xc6, 0x07, 0xaa),             3, 1, 0xaa },
    { "mov es:[di],ax",             CODE(0x26, 0x89, 0x05),             3, 2, AX },
};

static void test_16bit_stores(void **state)
{
    (void)state;
    CHECK_ALL(16, code16);
}

/* ---------------------------------------------------------- rejections */

struct reject_case {
    const char *what;
    unsigned bits;
    uint8_t code[16];
    size_t n;
};

static const struct reject_case rejects[] = {
    { "mov eax,eax (register destination)", 64, CODE(0x89, 0xc0) },
    { "mov al,al (register destination)",   64, CODE(0x88, 0xc0) },
    { "mov eax,imm (C7 mod 3)",             64, CODE(0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00) },
    { "mov ax,ax in 16-bit code",           16, CODE(0x89, 0xc0) },
    { "mov eax,[rdi] (load)",               64, CODE(0x8b, 0x07) },
    { "mov al,[rdi] (load)",                64, CODE(0x8a, 0x07) },
    { "rep movsd",                          64, CODE(0xf3, 0xa5) },
    { "movsd",                              64, CODE(0xa5) },
    { "movabs [moffs64],eax cut short",     64, CODE(0xa3, 0x10, 0x03, 0xe0, 0xfe) },
    { "mov eax,[moffs] (load)",             64, CODE(0xa1, 0x10, 0x03, 0xe0, 0xfe, 0, 0, 0, 0) },
    { "stosd",                              64, CODE(0xab) },
    { "movups [rdi],xmm0",                  64, CODE(0x0f, 0x11, 0x07) },
    { "add [rdi],eax",                      64, CODE(0x01, 0x07) },
    { "xchg [rdi],eax",                     64, CODE(0x87, 0x07) },
    { "C6 /1 (reg field 1 is not MOV)", 64, CODE(0xc6, 0x4f, 0x00, 0xaa) },
    { "C7 /1 (reg field 1 is not MOV)",     64, CODE(0xc7, 0x4f, 0x00, 0x78, 0x56, 0x34, 0x12) },
    { "C7 /7",                              64, CODE(0xc7, 0x3f, 0x78, 0x56, 0x34, 0x12) },
    { "C7 /1 in 16-bit code",               16, CODE(0xc7, 0x0f, 0x34, 0x12) },
    { "REX not right before the opcode (refused)",    64, CODE(0x48, 0x66, 0x89, 0x07) },
    { "two REX prefixes (conservatively refused)", 64, CODE(0x48, 0x41, 0x89, 0x07) },
    { "48 is DEC EAX in 32-bit code",       32, CODE(0x48, 0x89, 0x07) },
    { "41 is INC CX in 16-bit code",        16, CODE(0x41, 0x89, 0x07) },
    { "F2 prefix",                          64, CODE(0xf2, 0x89, 0x07) },
    { "prefixes only",                      64, CODE(0x66, 0x67, 0x65) },
};

static void test_rejects_other_instructions(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        const struct reject_case *c = &rejects[i];
        struct mmio_store out;
        int r = decode_mmio_store(c->code, c->n, c->bits, regs, &out);
        if (r != -1)
            fail_msg("%u-bit %s: returned %d, len %u", c->bits, c->what, r, out.len);
    }
}

static void test_empty_input(void **state)
{
    (void)state;
    struct mmio_store out;
    static const uint8_t code[] = { 0x89, 0x07 };
    assert_int_equal(decode_mmio_store(code, 0, 64, regs, &out), -1);
    assert_int_equal(decode_mmio_store(code, 0, 16, regs, &out), -1);
}

/* Architectural limit: an instruction is at most 15 bytes, prefixes included. */
static void test_fifteen_byte_limit(void **state)
{
    (void)state;
    struct mmio_store out;
    uint8_t code[32];
    /* 13 prefixes + 89 07 = 15 bytes: accepted. */
    memset(code, 0x3e, 13);
    code[13] = 0x89;
    code[14] = 0x07;
    assert_int_equal(decode_mmio_store(code, 15, 64, regs, &out), 0);
    assert_int_equal(out.len, 15);
    assert_int_equal(out.size, 4);
    assert_int_equal(out.value, EAX);

    /* 14 prefixes + 89 07 = 16 bytes: rejected, however many bytes are offered. */
    memset(code, 0x3e, 14);
    code[14] = 0x89;
    code[15] = 0x07;
    assert_int_equal(decode_mmio_store(code, 16, 64, regs, &out), -1);
    assert_int_equal(decode_mmio_store(code, sizeof(code), 64, regs, &out), -1);

    /* 15 and more prefixes: rejected. */
    for (size_t p = 15; p <= 30; p++) {
        memset(code, 0x65, p);
        code[p] = 0x89;
        code[p + 1] = 0x07;
        assert_int_equal(decode_mmio_store(code, p + 2, 64, regs, &out), -1);
    }

    /* 12 prefixes + REX + 89 07 = 15 bytes; 13 prefixes + REX + 89 07 = 16. */
    memset(code, 0x66, 12);
    memcpy(code + 12, (const uint8_t[]){ 0x48, 0x89, 0x07 }, 3);
    assert_int_equal(decode_mmio_store(code, 15, 64, regs, &out), 0);
    assert_int_equal(out.len, 15);
    assert_int_equal(out.size, 8);
    memset(code, 0x66, 13);
    memcpy(code + 13, (const uint8_t[]){ 0x48, 0x89, 0x07 }, 3);
    assert_int_equal(decode_mmio_store(code, 16, 64, regs, &out), -1);

    /* A 15-byte store whose immediate ends on byte 15, and one ending on byte 16. */
    static const uint8_t imm15[] = { 0x65, 0x66, 0x67, 0x48, 0xc7, 0x84, 0x24, 0x00, 0x01,
                                     0x00, 0x00, 0x78, 0x56, 0x34, 0x12 };
    assert_int_equal(decode_mmio_store(imm15, sizeof(imm15), 64, regs, &out), 0);
    assert_int_equal(out.len, 15);
    assert_int_equal(out.size, 8);
    assert_int_equal(out.value, 0x12345678);
    static const uint8_t imm16[] = { 0x3e, 0x65, 0x66, 0x67, 0x48, 0xc7, 0x84, 0x24, 0x00, 0x01,
                                     0x00, 0x00, 0x78, 0x56, 0x34, 0x12 };
    assert_int_equal(decode_mmio_store(imm16, sizeof(imm16), 64, regs, &out), -1);
}

static void test_bad_code_size(void **state)
{
    (void)state;
    struct mmio_store out;
    static const uint8_t code[] = { 0x89, 0x07 };
    static const unsigned bad[] = { 0, 1, 8, 15, 17, 31, 33, 63, 65, 128 };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(decode_mmio_store(code, sizeof(code), bad[i], regs, &out), -1);
    /* The same bytes decode in each valid mode. */
    assert_int_equal(decode_mmio_store(code, sizeof(code), 16, regs, &out), 0);
    assert_int_equal(out.size, 2);
    assert_int_equal(decode_mmio_store(code, sizeof(code), 32, regs, &out), 0);
    assert_int_equal(out.size, 4);
    assert_int_equal(decode_mmio_store(code, sizeof(code), 64, regs, &out), 0);
    assert_int_equal(out.size, 4);
}

/* Every byte register, with and without REX, reads the right byte. */
static void test_byte_registers(void **state)
{
    (void)state;
    struct mmio_store out;
    for (unsigned reg = 0; reg < 8; reg++) {
        uint8_t modrm = (uint8_t)(reg << 3 | 7);          /* mov [rdi], r8(reg) */
        const uint8_t plain[] = { 0x88, modrm };
        const uint8_t rex[] = { 0x40, 0x88, modrm };
        const uint8_t rexr[] = { 0x44, 0x88, modrm };
        uint64_t legacy = reg < 4 ? regs[reg] & 0xFF : (regs[reg - 4] >> 8) & 0xFF;
        assert_int_equal(decode_mmio_store(plain, sizeof(plain), 64, regs, &out), 0);
        assert_int_equal(out.value, legacy);
        assert_int_equal(decode_mmio_store(plain, sizeof(plain), 16, regs, &out), 0);
        assert_int_equal(out.value, legacy);
        assert_int_equal(decode_mmio_store(rex, sizeof(rex), 64, regs, &out), 0);
        assert_int_equal(out.value, regs[reg] & 0xFF);
        assert_int_equal(decode_mmio_store(rexr, sizeof(rexr), 64, regs, &out), 0);
        assert_int_equal(out.value, regs[reg + 8] & 0xFF);
        assert_int_equal(out.size, 1);
    }
}

/* Every 32/64-bit register, selected by ModRM.reg and REX.R. */
/* Loads (MMIO reads): the forms Linux's readb/readw/readl/readq compile to. */
static int load(unsigned bits, const uint8_t *code, size_t n, struct mmio_load *ld)
{
    return decode_mmio_load(code, n, bits, ld);
}

static void test_loads(void **state)
{
    (void)state;
    struct mmio_load ld;
    static const uint8_t readl[] = { 0x8B, 0x00 };                 /* mov (%rax),%eax */
    assert_int_equal(load(64, readl, sizeof readl, &ld), 0);
    assert_int_equal(ld.len, 2);
    assert_int_equal(ld.size, 4);
    assert_int_equal(ld.reg, 0);
    assert_int_equal(mmio_load_apply(&ld, 0x1122334455667788ULL, 0xFFFFFFFF), 0xFFFFFFFFULL);
    static const uint8_t readq[] = { 0x48, 0x8B, 0x47, 0x10 };      /* mov 0x10(%rdi),%rax */
    assert_int_equal(load(64, readq, sizeof readq, &ld), 0);
    assert_int_equal(ld.len, 4);
    assert_int_equal(ld.size, 8);
    assert_int_equal(mmio_load_apply(&ld, 0, ~0ULL), ~0ULL);
    static const uint8_t readw[] = { 0x0F, 0xB7, 0x06 };            /* movzwl (%rsi),%eax */
    assert_int_equal(load(64, readw, sizeof readw, &ld), 0);
    assert_int_equal(ld.len, 3);
    assert_int_equal(ld.size, 2);
    assert_int_equal(ld.dest_size, 4);
    assert_int_equal(mmio_load_apply(&ld, ~0ULL, 0xFFFFFFFF), 0xFFFFULL);
    static const uint8_t readb[] = { 0x44, 0x8A, 0x41, 0x03 };      /* mov 0x3(%rcx),%r8b */
    assert_int_equal(load(64, readb, sizeof readb, &ld), 0);
    assert_int_equal(ld.reg, 8);
    assert_false(ld.high_byte);
    assert_int_equal(mmio_load_apply(&ld, 0x1234, 0xFF), 0x12FFULL);
    static const uint8_t ah[] = { 0x8A, 0x20 };                     /* mov (%eax),%ah (no REX) */
    assert_int_equal(load(32, ah, sizeof ah, &ld), 0);
    assert_true(ld.high_byte);
    assert_int_equal(ld.reg, 0);
    assert_int_equal(mmio_load_apply(&ld, 0xABCD, 0x5A), 0x5ACDULL);
    static const uint8_t w16[] = { 0x66, 0x8B, 0x18 };              /* mov (%eax),%bx */
    assert_int_equal(load(32, w16, sizeof w16, &ld), 0);
    assert_int_equal(ld.reg, 3);
    assert_int_equal(mmio_load_apply(&ld, 0x11112222ULL, 0xFFFF), 0x1111FFFFULL);
    static const uint8_t sib[] = { 0x8B, 0x84, 0x8B, 0x00, 0x10, 0x00, 0x00 };  /* disp32(%rbx,%rcx,4) */
    assert_int_equal(load(64, sib, sizeof sib, &ld), 0);
    assert_int_equal(ld.len, 7);
    static const uint8_t moffs[] = { 0xA1, 0x20, 0x03, 0xE0, 0xFE, 0, 0, 0, 0 };  /* movabs 0xfee00320,%eax */
    assert_int_equal(load(64, moffs, sizeof moffs, &ld), 0);
    assert_int_equal(ld.len, 9);
    assert_int_equal(ld.reg, 0);
    assert_int_equal(ld.size, 4);
    assert_int_equal(mmio_load_apply(&ld, ~0ULL, 0x12345678), 0x12345678ULL);
    static const uint8_t moffs_b[] = { 0xA0, 0x20, 0x03, 0xE0, 0xFE };     /* mov 0xfee00320,%al (32-bit) */
    assert_int_equal(load(32, moffs_b, sizeof moffs_b, &ld), 0);
    assert_int_equal(ld.len, 5);
    assert_int_equal(mmio_load_apply(&ld, 0x1234, 0xAB), 0x12ABULL);
    static const uint8_t moffs_cut[] = { 0xA1, 0x20, 0x03 };
    assert_int_equal(load(64, moffs_cut, sizeof moffs_cut, &ld), -1);
    static const uint8_t reg_form[] = { 0x8B, 0xC1 };               /* mov %ecx,%eax: no memory */
    assert_int_equal(load(64, reg_form, sizeof reg_form, &ld), -1);
    static const uint8_t store[] = { 0x89, 0x00 };
    assert_int_equal(load(64, store, sizeof store, &ld), -1);
    static const uint8_t movsx[] = { 0x0F, 0xBE, 0x00 };
    assert_int_equal(load(64, movsx, sizeof movsx, &ld), -1);
    static const uint8_t cut[] = { 0x8B, 0x80, 0x00 };             /* disp32 cut short */
    assert_int_equal(load(64, cut, sizeof cut, &ld), -1);
    assert_int_equal(load(8, readl, sizeof readl, &ld), -1);
}

static void test_all_registers(void **state)
{
    (void)state;
    struct mmio_store out;
    for (unsigned reg = 0; reg < 16; reg++) {
        uint8_t modrm = (uint8_t)((reg & 7) << 3 | 6);      /* mov [rsi], reg */
        const uint8_t d[] = { (uint8_t)(0x40 | (reg & 8 ? 4 : 0)), 0x89, modrm };
        const uint8_t q[] = { (uint8_t)(0x48 | (reg & 8 ? 4 : 0)), 0x89, modrm };
        assert_int_equal(decode_mmio_store(d, sizeof(d), 64, regs, &out), 0);
        assert_int_equal(out.value, regs[reg] & 0xFFFFFFFF);
        assert_int_equal(decode_mmio_store(q, sizeof(q), 64, regs, &out), 0);
        assert_int_equal(out.value, regs[reg]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_64bit_register_stores),
        cmocka_unit_test(test_64bit_immediate_stores),
        cmocka_unit_test(test_32bit_stores),
        cmocka_unit_test(test_16bit_stores),
        cmocka_unit_test(test_rejects_other_instructions),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_fifteen_byte_limit),
        cmocka_unit_test(test_bad_code_size),
        cmocka_unit_test(test_byte_registers),
        cmocka_unit_test(test_all_registers),
        cmocka_unit_test(test_loads),
    };
    return cmocka_run_group_tests(tests, setup_regs, NULL);
}
