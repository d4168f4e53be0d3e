/* drivers/e1000.c: init, MAC, rings, send and poll, on a fake register file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "drivers/e1000.h"
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ fake NIC */

#define FAKE_REGS (0x6000 / 4)

/*
 * Registers are plain storage except where the 8254x manual gives a write
 * or a read side effects the driver depends on: CTRL.RST, EERD, ICR/MPC
 * (clear on read) and TDT (the NIC sends). Descriptor and buffer
 * "physical" addresses are host pointers, as the driver assumes.
 */
struct fake_nic {
    uint32_t regs[FAKE_REGS];
    uint16_t eeprom[64];
    uint32_t ral_reset, rah_reset;      /* what a reset loads into RAL0/RAH0 */
    bool reset_stuck, eerd_stuck, tx_hold;
    unsigned resets, eerd_reads;
    bool masked_before_reset;
    struct { uint8_t data[E1000_BUF_SIZE]; size_t len; uint8_t cmd; } sent[8];
    unsigned nsent;
};

static struct fake_nic fake;
static unsigned udelay_calls;
static uint8_t *dma;

void udelay(uint64_t us)
{
    (void)us;
    udelay_calls++;
}

static uint32_t *reg(uint32_t off)
{
    assert_int_equal(off % 4, 0);
    assert_true(off / 4 < FAKE_REGS);
    return &fake.regs[off / 4];
}

static void *ring(uint32_t bal)
{
    return (void *)(uintptr_t)((uint64_t)*reg(bal + 4) << 32 | *reg(bal));
}

static void fake_tx_process(void)
{
    struct e1000_tx_desc *d = ring(E1000_TDBAL);
    while (*reg(E1000_TDH) != *reg(E1000_TDT)) {
        struct e1000_tx_desc *t = &d[*reg(E1000_TDH)];
        unsigned k = fake.nsent++ % 8;
        memcpy(fake.sent[k].data, (void *)(uintptr_t)t->addr, t->length);
        fake.sent[k].len = t->length;
        fake.sent[k].cmd = t->cmd;
        if (t->cmd & E1000_TXD_CMD_RS)
            t->status |= E1000_TXD_STAT_DD;
        *reg(E1000_TDH) = (*reg(E1000_TDH) + 1) % E1000_RING;
    }
}

static uint32_t fake_rd(void *ctx, uint32_t off)
{
    (void)ctx;
    uint32_t v = *reg(off);
    if (off == E1000_ICR || off == E1000_MPC)
        *reg(off) = 0;
    return v;
}

static void fake_wr(void *ctx, uint32_t off, uint32_t v)
{
    (void)ctx;
    if (off == E1000_CTRL && (v & E1000_CTRL_RST)) {
        fake.resets++;
        fake.masked_before_reset = *reg(E1000_IMC) == E1000_IMC_ALL;
        *reg(E1000_CTRL) = fake.reset_stuck ? v : E1000_CTRL_FD | E1000_CTRL_LRST | E1000_CTRL_ILOS;
        *reg(E1000_RAL0) = fake.ral_reset;
        *reg(E1000_RAH0) = fake.rah_reset;
        *reg(E1000_RCTL) = *reg(E1000_TCTL) = 0;
        *reg(E1000_IMC) = 0;
        return;
    }
    if (off == E1000_EERD && (v & E1000_EERD_START)) {
        fake.eerd_reads++;
        unsigned word = (v >> E1000_EERD_ADDR_SHIFT) & 0xFF;
        *reg(off) = fake.eerd_stuck ? v : E1000_EERD_DONE | (uint32_t)fake.eeprom[word % 64] << 16;
        return;
    }
    *reg(off) = v;
    if (off == E1000_TDT && !fake.tx_hold)
        fake_tx_process();
}

/* The NIC receiving a frame: false when it has no descriptor (missed). */
static bool fake_rx(const void *data, uint16_t len, uint8_t status, uint8_t errors)
{
    uint32_t h = *reg(E1000_RDH);
    if (h == *reg(E1000_RDT)) {
        (*reg(E1000_MPC))++;
        return false;
    }
    struct e1000_rx_desc *d = &((struct e1000_rx_desc *)ring(E1000_RDBAL))[h];
    memcpy((void *)(uintptr_t)d->addr, data, len);
    d->length = len;
    d->errors = errors;
    d->status = status;
    *reg(E1000_RDH) = (h + 1) % E1000_RING;
    return true;
}

static const struct e1000_hw hw = { fake_rd, fake_wr, NULL };
static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int setup(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof(fake));
    fake.ral_reset = 0x12005452;
    fake.rah_reset = 0x5634 | E1000_RAH_AV;
    for (unsigned i = 0; i < E1000_MTA_COUNT; i++)
        *reg(E1000_MTA + 4 * i) = 0xDEADBEEF;   /* undefined after reset */
    *reg(E1000_STATUS) = E1000_STATUS_LU | E1000_STATUS_FD | 2u << E1000_STATUS_SPEED_SHIFT;
    udelay_calls = 0;
    dma = aligned_alloc(E1000_PAGE, E1000_DMA_BYTES);
    assert_non_null(dma);
    memset(dma, 0xA5, E1000_DMA_BYTES);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(dma);
    return 0;
}

static void start(struct e1000 *nic)
{
    assert_null(e1000_init(nic, &hw, (uint64_t)(uintptr_t)dma));
}

static void frame_fill(uint8_t *f, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(seed * 31 + i);
}

/* ------------------------------------------------------------ init */

static void test_supported_ids(void **state)
{
    (void)state;
    const char *model = NULL;
    assert_true(e1000_supported(0x8086, 0x100E, &model));
    assert_string_equal(model, "82540EM");
    assert_true(e1000_supported(0x8086, 0x100F, NULL));
    assert_true(e1000_supported(0x8086, 0x1015, NULL));
    assert_false(e1000_supported(0x8086, 0x10D3, NULL));    /* 82574L: e1000e, not yet */
    assert_false(e1000_supported(0x10EC, 0x100E, NULL));
}

static void test_init_programs_the_nic(void **state)
{
    (void)state;
    struct e1000 nic;
    start(&nic);
    uint64_t base = (uint64_t)(uintptr_t)dma;
    assert_int_equal(fake.resets, 1);
    assert_true(fake.masked_before_reset);
    assert_int_equal(*reg(E1000_IMC), E1000_IMC_ALL);
    uint32_t ctrl = *reg(E1000_CTRL);
    assert_int_equal(ctrl & (E1000_CTRL_SLU | E1000_CTRL_ASDE), E1000_CTRL_SLU | E1000_CTRL_ASDE);
    assert_int_equal(ctrl & (E1000_CTRL_LRST | E1000_CTRL_ILOS | E1000_CTRL_PHY_RST | E1000_CTRL_VME |
                             E1000_CTRL_RST), 0);
    assert_memory_equal(nic.mac, mac, 6);
    assert_int_equal(fake.eerd_reads, 0);
    for (unsigned i = 0; i < E1000_MTA_COUNT; i++)
        assert_int_equal(*reg(E1000_MTA + 4 * i), 0);

    assert_int_equal(*reg(E1000_RCTL), E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);
    assert_int_equal((uint64_t)*reg(E1000_RDBAH) << 32 | *reg(E1000_RDBAL), base);
    assert_int_equal(*reg(E1000_RDLEN), E1000_RING * 16);
    assert_int_equal(*reg(E1000_RDH), 0);
    assert_int_equal(*reg(E1000_RDT), E1000_RING - 1);
    uint64_t tdba = (uint64_t)*reg(E1000_TDBAH) << 32 | *reg(E1000_TDBAL);
    assert_true(tdba >= base + E1000_RING * 16 && tdba % 16 == 0 && tdba + E1000_RING * 16 <= base + E1000_PAGE);
    assert_int_equal(*reg(E1000_TDLEN), E1000_RING * 16);
    assert_int_equal(*reg(E1000_TDH), 0);
    assert_int_equal(*reg(E1000_TDT), 0);
    assert_int_equal(*reg(E1000_TCTL), E1000_TCTL_EN | E1000_TCTL_PSP | 0x0Fu << 4 | 0x40u << 12);
    assert_int_equal(*reg(E1000_TIPG), 0x0060200A);

    /* Every descriptor has its own buffer inside the DMA area, past the rings. */
    const struct e1000_rx_desc *rx = ring(E1000_RDBAL);
    const struct e1000_tx_desc *tx = ring(E1000_TDBAL);
    for (unsigned i = 0; i < E1000_RING; i++) {
        assert_int_equal(rx[i].addr, base + E1000_PAGE + i * E1000_BUF_SIZE);
        assert_int_equal(rx[i].status, 0);
        assert_int_equal(tx[i].addr, base + E1000_PAGE + (E1000_RING + i) * E1000_BUF_SIZE);
        assert_true(tx[i].addr + E1000_BUF_SIZE <= base + E1000_DMA_BYTES);
    }
}

static void test_mac_from_eeprom(void **state)
{
    (void)state;
    fake.ral_reset = fake.rah_reset = 0;        /* Bochs leaves the filter empty */
    fake.eeprom[0] = 0x5452;
    fake.eeprom[1] = 0x1200;
    fake.eeprom[2] = 0x5634;
    struct e1000 nic;
    start(&nic);
    assert_int_equal(fake.eerd_reads, 3);
    assert_memory_equal(nic.mac, mac, 6);
    assert_int_equal(*reg(E1000_RAL0), 0x12005452);
    assert_int_equal(*reg(E1000_RAH0), 0x5634 | E1000_RAH_AV);
}

static void test_init_failures(void **state)
{
    (void)state;
    struct e1000 nic;
    const char *err;

    fake.reset_stuck = true;
    err = e1000_init(&nic, &hw, (uint64_t)(uintptr_t)dma);
    assert_non_null(err);
    assert_non_null(strstr(err, "reset"));
    assert_true(udelay_calls <= 1001);          /* bounded: about 10 ms */
    assert_int_equal(*reg(E1000_RCTL) & E1000_RCTL_EN, 0);

    fake.reset_stuck = false;
    fake.ral_reset = fake.rah_reset = 0;
    fake.eerd_stuck = true;
    err = e1000_init(&nic, &hw, (uint64_t)(uintptr_t)dma);
    assert_non_null(err);
    assert_string_equal(err, "EEPROM read timed out");
    assert_int_equal(*reg(E1000_RCTL) & E1000_RCTL_EN, 0);

    fake.eerd_stuck = false;                    /* blank EEPROM */
    assert_non_null(e1000_init(&nic, &hw, (uint64_t)(uintptr_t)dma));
    fake.eeprom[0] = 0x0001;                    /* a multicast address */
    assert_non_null(e1000_init(&nic, &hw, (uint64_t)(uintptr_t)dma));
    assert_int_equal(*reg(E1000_TCTL) & E1000_TCTL_EN, 0);
}

static void test_link_state(void **state)
{
    (void)state;
    struct e1000 nic;
    start(&nic);
    unsigned mbps = 0;
    bool fd = false;
    assert_true(e1000_link(&nic, &mbps, &fd));
    assert_int_equal(mbps, 1000);
    assert_true(fd);
    *reg(E1000_STATUS) = E1000_STATUS_LU | 1u << E1000_STATUS_SPEED_SHIFT;
    assert_true(e1000_link(&nic, &mbps, &fd));
    assert_int_equal(mbps, 100);
    assert_false(fd);
    assert_true(e1000_wait_link(&nic, 3000));
    *reg(E1000_STATUS) = 0;
    udelay_calls = 0;
    assert_false(e1000_link(&nic, NULL, NULL));
    assert_false(e1000_wait_link(&nic, 3000));
    assert_int_equal(udelay_calls, 3000);
}

/* ------------------------------------------------------------ transmit */

static void test_send_frames(void **state)
{
    (void)state;
    struct e1000 nic;
    start(&nic);
    uint8_t f[E1000_FRAME_MAX];
    for (unsigned n = 0; n < 3 * E1000_RING + 5; n++) {
        size_t len = E1000_FRAME_MIN + (n * 97) % (E1000_FRAME_MAX - E1000_FRAME_MIN + 1);
        frame_fill(f, len, n);
        assert_int_equal(e1000_send(&nic, f, len), E1000_SENT);
        assert_int_equal(fake.nsent, n + 1);
        assert_int_equal(fake.sent[n % 8].len, len);
        assert_memory_equal(fake.sent[n % 8].data, f, len);
        assert_int_equal(fake.sent[n % 8].cmd, E1000_TXD_CMD_EOP | E1000_TXD_CMD_IFCS | E1000_TXD_CMD_RS);
        assert_int_equal(*reg(E1000_TDT), (n + 1) % E1000_RING);
    }
    assert_int_equal(nic.stats.tx_frames, 3 * E1000_RING + 5);
    assert_int_equal(nic.stats.tx_busy, 0);
}

static void test_send_lengths(void **state)
{
    (void)state;
    struct e1000 nic;
    start(&nic);
    static uint8_t f[E1000_FRAME_MAX + 1];
    assert_int_equal(e1000_send(&nic, f, 0), E1000_BAD_LENGTH);
    assert_int_equal(e1000_send(&nic, f, E1000_FRAME_MIN - 1), E1000_BAD_LENGTH);
    assert_int_equal(e1000_send(&nic, f, E1000_FRAME_MAX + 1), E1000_BAD_LENGTH);
    assert_int_equal(fake.nsent, 0);
    assert_int_equal(e1000_send(&nic, f, E1000_FRAME_MIN), E1000_SENT);
    assert_int_equal(e1000_send(&nic, f, E1000_FRAME_MAX), E1000_SENT);
    assert_int_equal(nic.stats.tx_bytes, E1000_FRAME_MIN + E1000_FRAME_MAX);
}

/* The ring never fills completely: tail == head would read as empty. */
static void test_send_ring_full(void **state)
{
    (void)state;
    struct e1000 nic;
    start(&nic);
    fake.tx_hold = true;
    uint8_t f[60] = { 0 };
    for (unsigned i = 0; i < E1000_RING - 1; i++)
        assert_int_equal(e1000_send(&nic, f, sizeof(f)), E1000_SENT);
    assert_int_equal(e1000_send(&nic, f, sizeof(f)), E1000_RING_FULL);
    assert_int_equal(nic.stats.tx_busy, 1);
    assert_int_equal(*reg(E1000_TDT), E1000_RING - 1);
    assert_int_not_equal(*reg(E1000_TDT), *reg(E1000_TDH));
    fake_tx_process();
    assert_int_equal(fake.nsent, E1000_RING - 1);
    assert_int_equal(e1000_send(&nic, f, sizeof(f)), E1000_SENT);
    fake_tx_process();
    assert_int_equal(fake.nsent, E1000_RING);
}

/* ------------------------------------------------------------ receive */

static void test_poll_frames_in_order(void **state)
{
    (void)state;
    struct e1000 nic;
    start(&nic);
    uint8_t buf[E1000_BUF_SIZE], f[E1000_FRAME_MAX];
    assert_int_equal(e1000_poll(&nic, buf, sizeof(buf)), 0);
    for (unsigned n = 0; n < 5 * E1000_RING; n++) {
        uint16_t len = (uint16_t)(60 + n * 13 % 1400);
        frame_fill(f, len, n);
        assert_true(fake_rx(f, len, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0));
        assert_int_equal(e1000_poll(&nic, buf, sizeof(buf)), len);
        assert_memory_equal(buf, f, len);
        assert_int_equal(*reg(E1000_RDT), n % E1000_RING);
        assert_int_equal(e1000_poll(&nic, buf, sizeof(buf)), 0);
    }
    assert_int_equal(nic.stats.rx_frames, 5 * E1000_RING);
    assert_int_equal(nic.stats.rx_dropped, 0);
}

static void test_poll_full_ring_and_missed(void **state)
{
    (void)state;
    struct e1000 nic;
    start(&nic);
    uint8_t buf[E1000_BUF_SIZE], f[64];
    unsigned taken = 0;
    for (unsigned n = 0; n < E1000_RING + 3; n++) {
        frame_fill(f, sizeof(f), n);
        taken += fake_rx(f, sizeof(f), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0);
    }
    assert_int_equal(taken, E1000_RING - 1);
    for (unsigned n = 0; n < taken; n++) {
        frame_fill(f, sizeof(f), n);
        assert_int_equal(e1000_poll(&nic, buf, sizeof(buf)), sizeof(f));
        assert_memory_equal(buf, f, sizeof(f));
    }
    assert_int_equal(e1000_poll(&nic, buf, sizeof(buf)), 0);
    struct e1000_stats st;
    e1000_read_stats(&nic, &st);
    assert_int_equal(st.rx_missed, 4);
    assert_int_equal(st.rx_frames, E1000_RING - 1);
    assert_int_equal(st.rx_bytes, (E1000_RING - 1) * sizeof(f));
    /* Every buffer went back: the ring takes a full load again. */
    for (unsigned n = 0; n < E1000_RING - 1; n++)
        assert_true(fake_rx(f, sizeof(f), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, 0));
}

static void test_poll_drops_bad_frames(void **state)
{
    (void)state;
    struct e1000 nic;
    start(&nic);
    uint8_t buf[256], f[1000];
    const uint8_t ok = E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP;
    frame_fill(f, sizeof(f), 1);
    fake_rx(f, 60, ok, E1000_RXD_ERR_CE);                   /* CRC error */
    fake_rx(f, 500, ok, 0);                                 /* larger than the caller's buffer */
    fake_rx(f, 0, ok, 0);                                   /* empty */
    fake_rx(f, 100, E1000_RXD_STAT_DD, 0);                  /* first half of a split frame */
    fake_rx(f, 100, ok, 0);                                 /* its end */
    fake_rx(f + 7, 70, ok, 0);                              /* a good one */
    assert_int_equal(e1000_poll(&nic, buf, sizeof(buf)), 70);
    assert_memory_equal(buf, f + 7, 70);
    assert_int_equal(nic.stats.rx_dropped, 4);
    assert_int_equal(nic.stats.rx_frames, 1);
    assert_int_equal(*reg(E1000_RDT), 5);
    assert_int_equal(e1000_poll(&nic, buf, sizeof(buf)), 0);
}

/* One poll handles at most a ring's worth, so a flood cannot pin the caller. */
static void test_poll_is_bounded(void **state)
{
    (void)state;
    struct e1000 nic;
    start(&nic);
    uint8_t buf[64], f[60] = { 0 };
    for (unsigned i = 0; i < E1000_RING - 1; i++)
        fake_rx(f, sizeof(f), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP, E1000_RXD_ERR_RXE);
    assert_int_equal(e1000_poll(&nic, buf, sizeof(buf)), 0);
    assert_int_equal(nic.stats.rx_dropped, E1000_RING - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supported_ids),
        cmocka_unit_test_setup_teardown(test_init_programs_the_nic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mac_from_eeprom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_lengths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_ring_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_frames_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_full_ring_and_missed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_drops_bad_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poll_is_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
