/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * A user-space driver for svm-dma, our QEMU's PASID test device (register
 * map: tests/vm/qemu/README.md): find the devices and hand them to a VFIO
 * driver, take over a BAR0 someone mapped, run one copy in the address space
 * of a PASID. ab_owner, the tests and the benchmarks drive the device with it.
 * Not part of the library, and it needs none: give it the mapped BAR and the
 * VFIO device's fd (libsvmbind's, or a raw VFIO cdev's).
 */
#ifndef SVMBIND_EXAMPLES_SVMDMA_H
#define SVMBIND_EXAMPLES_SVMDMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SD_ID		0x00
#define SD_CAPS		0x04
#define SD_PASID	0x08
#define SD_CTRL		0x0c
#define SD_SRC_LO	0x10
#define SD_SRC_HI	0x14
#define SD_DST_LO	0x18
#define SD_DST_HI	0x1c
#define SD_LEN		0x20
#define SD_DOORBELL	0x24
#define SD_STATUS	0x28
#define SD_FAULT_LO	0x30
#define SD_FAULT_HI	0x34
#define SD_XLATES	0x38
#define SD_PRQS		0x3c
#define SD_IRQ		0x40
#define SD_COPIES	0x44
#define SD_MAGIC	0x53564d44u	/* "SVMD" */
#define SD_CAPS_PRI	(1u << 2)
#define SD_CTRL_NOPASID	(1u << 0)
#define SD_CTRL_PRI	(1u << 2)
#define SD_CTRL_IRQ	(1u << 3)
#define SD_ST_BUSY	0x01
#define SD_ST_DONE	0x02
#define SD_ST_ERR_SRC	0x12
#define SD_ST_ERR_DST	0x13
#define SD_ST_ERR_PRI	0x15

struct svmdma {
	char bdf[32];
	bool pri;			/* has the PRI capability */
	volatile uint32_t *bar;		/* BAR0: svmdma_attach(), or set by the caller */
	size_t bar_len;
};

/* Find the SVA VM's two svm-dma devices ([0] with PRI, [1] without) and bind
 * both to @driver. 0; -ENODEV when they are not there (not the SVA VM);
 * another -errno when binding failed. */
int svmdma_find(struct svmdma dev[2], const char *driver);

/* Hand the device @bdf to @driver (driver_override), unless it is there. 0 or -errno. */
int svmdma_bind(const char *bdf, const char *driver);

/* Take over @bar, BAR0 of @len bytes mapped by the caller, check it is an
 * svm-dma device (-ENODEV when not), read its PRI capability, and turn bus
 * mastering on through VFIO's config region of @devfd (vfio-pci hands the
 * device over with it off). 0 or -errno. */
int svmdma_attach(struct svmdma *d, void *bar, size_t len, int devfd);

/* The completion MSI (a copy with SD_CTRL_IRQ) signals eventfd @efd, through
 * VFIO_DEVICE_SET_IRQS on @devfd; @efd < 0 turns it off. 0 or -errno. */
int svmdma_set_msi(int devfd, int efd);

/* Between polls of a busy copy: serve page requests; return < 0 to give up. */
typedef int (*svmdma_serve_fn)(void *arg);

/* One copy of @len bytes from @src to @dst in PASID @pasid's address space
 * (ctrl: SD_CTRL_*). While the device waits for page responses, @serve (may
 * be NULL) runs. Returns the final STATUS (SD_ST_DONE, an error), -ETIMEDOUT
 * after 20 s busy, or -EIO when @serve gave up; *fault: the first address that
 * did not translate. */
int svmdma_copy(struct svmdma *d, uint32_t pasid, uint32_t ctrl, uint64_t src, uint64_t dst,
		uint32_t len, uint64_t *fault, svmdma_serve_fn serve, void *arg);

/* A STATUS value in words. */
const char *svmdma_status_str(uint32_t status);

static inline uint32_t svmdma_rd(const struct svmdma *d, unsigned int off)
{
	return d->bar[off / 4];
}

static inline void svmdma_wr(struct svmdma *d, unsigned int off, uint32_t v)
{
	d->bar[off / 4] = v;
}

#endif
