/*
 * Intel 8254x (82540EM) register offsets and bits, named after the PCI/PCI-X
 * Family of Gigabit Ethernet Controllers Software Developer's Manual
 * (chapter "Register Descriptions", and "Receive and Transmit Descriptors").
 * Pure data: no code.
 */
#ifndef DRIVERS_REGS_E1000_H
#define DRIVERS_REGS_E1000_H
#include <stdint.h>

#define E1000_MMIO_SIZE 0x20000u    /* BAR0: the 128 KiB register space */

/* General registers. */
#define E1000_CTRL      0x0000u     /* Device Control */
#define E1000_STATUS    0x0008u     /* Device Status */
#define E1000_EERD      0x0014u     /* EEPROM Read */
#define E1000_FCAL      0x0028u     /* Flow Control Address Low */
#define E1000_FCAH      0x002Cu     /* Flow Control Address High */
#define E1000_FCT       0x0030u     /* Flow Control Type */
#define E1000_FCTTV     0x0170u     /* Flow Control Transmit Timer Value */

/* Interrupt registers. */
#define E1000_ICR       0x00C0u     /* Interrupt Cause Read (clear on read) */
#define E1000_IMC       0x00D8u     /* Interrupt Mask Clear */
#define E1000_IMC_ALL   0xFFFFFFFFu

/* Receive registers. */
#define E1000_RCTL      0x0100u     /* Receive Control */
#define E1000_RDBAL     0x2800u     /* Receive Descriptor Base Address Low */
#define E1000_RDBAH     0x2804u     /* Receive Descriptor Base Address High */
#define E1000_RDLEN     0x2808u     /* Receive Descriptor Length (bytes, multiple of 128) */
#define E1000_RDH       0x2810u     /* Receive Descriptor Head */
#define E1000_RDT       0x2818u     /* Receive Descriptor Tail */
#define E1000_RDTR      0x2820u     /* Receive Delay Timer */
#define E1000_MTA       0x5200u     /* Multicast Table Array, 128 dwords */
#define E1000_MTA_COUNT 128u
#define E1000_RAL0      0x5400u     /* Receive Address Low, entry 0 */
#define E1000_RAH0      0x5404u     /* Receive Address High, entry 0 */

/* Transmit registers. */
#define E1000_TCTL      0x0400u     /* Transmit Control */
#define E1000_TIPG      0x0410u     /* Transmit Inter Packet Gap */
#define E1000_TDBAL     0x3800u     /* Transmit Descriptor Base Address Low */
#define E1000_TDBAH     0x3804u     /* Transmit Descriptor Base Address High */
#define E1000_TDLEN     0x3808u     /* Transmit Descriptor Length */
#define E1000_TDH       0x3810u     /* Transmit Descriptor Head */
#define E1000_TDT       0x3818u     /* Transmit Descriptor Tail */

/* Statistics (clear on read). */
#define E1000_MPC       0x4010u     /* Missed Packets Count: no free receive descriptor */

/* CTRL bits. */
#define E1000_CTRL_FD       (1u << 0)   /* full duplex */
#define E1000_CTRL_LRST     (1u << 3)   /* link reset */
#define E1000_CTRL_ASDE     (1u << 5)   /* auto-speed detection enable */
#define E1000_CTRL_SLU      (1u << 6)   /* set link up */
#define E1000_CTRL_ILOS     (1u << 7)   /* invert loss-of-signal */
#define E1000_CTRL_RST      (1u << 26)  /* device reset, self-clearing */
#define E1000_CTRL_VME      (1u << 30)  /* VLAN mode enable */
#define E1000_CTRL_PHY_RST  (1u << 31)  /* PHY reset */

/* STATUS bits. */
#define E1000_STATUS_FD           (1u << 0)   /* full duplex */
#define E1000_STATUS_LU           (1u << 1)   /* link up */
#define E1000_STATUS_SPEED_SHIFT  6           /* 00 10 Mb/s, 01 100 Mb/s, 1x 1000 Mb/s */
#define E1000_STATUS_SPEED_MASK   (3u << E1000_STATUS_SPEED_SHIFT)

/* EERD on the 82540/82545 (the 82541 and later moved DONE and ADDR). */
#define E1000_EERD_START       (1u << 0)
#define E1000_EERD_DONE        (1u << 4)
#define E1000_EERD_ADDR_SHIFT  8
#define E1000_EERD_DATA_SHIFT  16

/* RAH bits. */
#define E1000_RAH_AV  (1u << 31)    /* address valid */

/* RCTL bits. */
#define E1000_RCTL_EN          (1u << 1)   /* receiver enable */
#define E1000_RCTL_SBP         (1u << 2)   /* store bad packets */
#define E1000_RCTL_UPE         (1u << 3)   /* unicast promiscuous */
#define E1000_RCTL_MPE         (1u << 4)   /* multicast promiscuous */
#define E1000_RCTL_LPE         (1u << 5)   /* long packet enable */
#define E1000_RCTL_BAM         (1u << 15)  /* broadcast accept mode */
#define E1000_RCTL_BSIZE_2048  (0u << 16)  /* with BSEX = 0 */
#define E1000_RCTL_BSEX        (1u << 25)  /* buffer size extension */
#define E1000_RCTL_SECRC       (1u << 26)  /* strip Ethernet CRC */

/* TCTL bits. */
#define E1000_TCTL_EN          (1u << 1)   /* transmit enable */
#define E1000_TCTL_PSP         (1u << 3)   /* pad short packets */
#define E1000_TCTL_CT_SHIFT    4           /* collision threshold */
#define E1000_TCTL_COLD_SHIFT  12          /* collision distance */
#define E1000_TCTL_CT_DEFAULT  0x0Fu       /* the manual's recommended threshold */
#define E1000_TCTL_COLD_FD     0x40u       /* full duplex: 64-byte time */

/* TIPG for the 82540 on copper: IPGT 10, IPGR1 8, IPGR2 6 (manual's values). */
#define E1000_TIPG_IPGT_SHIFT   0
#define E1000_TIPG_IPGR1_SHIFT  10
#define E1000_TIPG_IPGR2_SHIFT  20
#define E1000_TIPG_COPPER  ((10u << E1000_TIPG_IPGT_SHIFT) | (8u << E1000_TIPG_IPGR1_SHIFT) | \
                            (6u << E1000_TIPG_IPGR2_SHIFT))

/* Legacy receive descriptor ("Receive Descriptor Format"). */
struct e1000_rx_desc {
    uint64_t addr;          /* buffer physical address */
    uint16_t length;        /* bytes written to the buffer */
    uint16_t csum;
    uint8_t status;
    uint8_t errors;
    uint16_t special;
};
#define E1000_RXD_STAT_DD   (1u << 0)   /* descriptor done */
#define E1000_RXD_STAT_EOP  (1u << 1)   /* end of packet */
#define E1000_RXD_ERR_CE    (1u << 0)   /* CRC or alignment error */
#define E1000_RXD_ERR_SE    (1u << 1)   /* symbol error */
#define E1000_RXD_ERR_SEQ   (1u << 2)   /* sequence error */
#define E1000_RXD_ERR_CXE   (1u << 4)   /* carrier extension error */
#define E1000_RXD_ERR_RXE   (1u << 7)   /* RX data error */
#define E1000_RXD_ERR_FRAME (E1000_RXD_ERR_CE | E1000_RXD_ERR_SE | E1000_RXD_ERR_SEQ | \
                             E1000_RXD_ERR_CXE | E1000_RXD_ERR_RXE)

/* Legacy transmit descriptor ("Legacy Transmit Descriptor Format"). */
struct e1000_tx_desc {
    uint64_t addr;
    uint16_t length;
    uint8_t cso;
    uint8_t cmd;
    uint8_t status;
    uint8_t css;
    uint16_t special;
};
#define E1000_TXD_CMD_EOP   (1u << 0)   /* end of packet */
#define E1000_TXD_CMD_IFCS  (1u << 1)   /* insert FCS */
#define E1000_TXD_CMD_RS    (1u << 3)   /* report status (write back DD) */
#define E1000_TXD_STAT_DD   (1u << 0)   /* descriptor done */

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor is 16 bytes");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor is 16 bytes");

/* PCI device IDs of the 82540/82545 family this driver programs. */
#define E1000_VENDOR_INTEL    0x8086u
#define E1000_DEV_82540EM     0x100Eu
#define E1000_DEV_82545EM     0x100Fu
#define E1000_DEV_82540EM_LOM 0x1015u

#endif
