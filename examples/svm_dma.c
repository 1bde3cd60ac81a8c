// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The svm-dma test device from user space (register map:
 * tests/vm/qemu/README.md). The device translates every page of a copy with
 * an ATS request tagged with the PASID (the IOMMU walks that address space's
 * own page tables); with PRI it asks for a missing page with a page request
 * and retries when the kernel answers.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "svm_dma.h"

enum {
	R_ID = 0x00, R_CAPS = 0x04, R_PASID = 0x08, R_CTRL = 0x0c, R_SRC_LO = 0x10, R_SRC_HI = 0x14,
	R_DST_LO = 0x18, R_DST_HI = 0x1c, R_LEN = 0x20, R_DOORBELL = 0x24, R_STATUS = 0x28,
	R_FAULT_LO = 0x30, R_FAULT_HI = 0x34, R_XLATES = 0x38, R_PRQS = 0x3c,
};
#define SVM_DMA_ID	0x53564d44u	/* "SVMD" */
#define CAPS_PRI	(1u << 2)
#define CTRL_PRI	(1u << 2)
#define ST_BUSY		0x01
#define BUSY_LIMIT_S	20

struct svm_dma {
	struct svmbind_device *dev;
	volatile uint32_t *bar;
	size_t bar_len;
	uint32_t caps;
};

static uint32_t rd(const struct svm_dma *d, unsigned int off) { return d->bar[off / 4]; }
static void wr(struct svm_dma *d, unsigned int off, uint32_t v) { d->bar[off / 4] = v; }

/* vfio-pci hands the device over with bus mastering off. */
static int enable_bus_master(struct svmbind_device *dev)
{
	struct svmbind_region_info cfg = { .sz = sizeof(cfg) };
	int fd = svmbind_device_fd(dev), ret;
	uint16_t cmd;

	ret = svmbind_device_region_info(dev, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (ret)
		return ret;
	if (pread(fd, &cmd, sizeof(cmd), (off_t)cfg.offset + PCI_COMMAND) != (ssize_t)sizeof(cmd))
		return -errno;
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(fd, &cmd, sizeof(cmd), (off_t)cfg.offset + PCI_COMMAND) != (ssize_t)sizeof(cmd))
		return -errno;
	return 0;
}

int svm_dma_open(struct svmbind_device *dev, struct svm_dma **out)
{
	struct svm_dma *d = calloc(1, sizeof(*d));
	void *p;
	int ret;

	if (!d)
		return -ENOMEM;
	ret = svmbind_device_map_region(dev, VFIO_PCI_BAR0_REGION_INDEX, PROT_READ | PROT_WRITE, &p,
					&d->bar_len);
	if (ret) {
		free(d);
		return ret;
	}
	d->dev = dev;
	d->bar = p;
	if (d->bar_len < 0x50 || rd(d, R_ID) != SVM_DMA_ID) {
		svm_dma_close(d);
		return -ENODEV;
	}
	d->caps = rd(d, R_CAPS);
	ret = enable_bus_master(dev);
	if (ret) {
		svm_dma_close(d);
		return ret;
	}
	*out = d;
	return 0;
}

void svm_dma_close(struct svm_dma *d)
{
	if (!d)
		return;
	svmbind_device_unmap_region(d->dev, (void *)d->bar, d->bar_len);
	free(d);
}

bool svm_dma_has_pri(const struct svm_dma *d)
{
	return d->caps & CAPS_PRI;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int svm_dma_copy(struct svm_dma *d, uint32_t pasid, uint64_t src, uint64_t dst, uint32_t len,
		 bool pri, struct svm_dma_result *res)
{
	return svm_dma_copy_wait(d, pasid, src, dst, len, pri, NULL, NULL, res);
}

int svm_dma_copy_wait(struct svm_dma *d, uint32_t pasid, uint64_t src, uint64_t dst, uint32_t len,
		      bool pri, void (*wait)(void *arg), void *arg, struct svm_dma_result *res)
{
	uint32_t xlates0 = rd(d, R_XLATES), prqs0 = rd(d, R_PRQS), st;
	double t0;

	if (!len || len > SVM_DMA_MAX_LEN)
		return -EINVAL;
	wr(d, R_PASID, pasid);
	wr(d, R_CTRL, pri && svm_dma_has_pri(d) ? CTRL_PRI : 0);
	wr(d, R_SRC_LO, (uint32_t)src);
	wr(d, R_SRC_HI, (uint32_t)(src >> 32));
	wr(d, R_DST_LO, (uint32_t)dst);
	wr(d, R_DST_HI, (uint32_t)(dst >> 32));
	wr(d, R_LEN, len);
	wr(d, R_DOORBELL, 1);
	t0 = now();
	while ((st = rd(d, R_STATUS)) == ST_BUSY) {	/* waiting for a page response */
		if (now() - t0 > BUSY_LIMIT_S)
			break;
		if (wait)
			wait(arg);	/* e.g. serve the page requests the device waits for */
		else
			usleep(50);
	}
	*res = (struct svm_dma_result){
		.status = st,
		.fault = rd(d, R_FAULT_LO) | (uint64_t)rd(d, R_FAULT_HI) << 32,
		.translations = rd(d, R_XLATES) - xlates0,
		.page_requests = rd(d, R_PRQS) - prqs0,
	};
	if (st == SVM_DMA_DONE)
		return 0;
	if (st == ST_BUSY)
		return -ETIMEDOUT;
	return st == 0x12 || st == 0x13 || st == 0x15 ? -EFAULT : -EIO;
}

const char *svm_dma_status_str(uint32_t status)
{
	switch (status) {
	case 0x00: return "idle";
	case ST_BUSY: return "busy (a page request was never answered)";
	case SVM_DMA_DONE: return "done";
	case 0x10: return "bad length";
	case 0x11: return "bus master, ATS or PASID not enabled";
	case 0x12: return "the source did not translate for reading";
	case 0x13: return "the destination did not translate for writing";
	case 0x14: return "a translated access failed";
	case 0x15: return "a page request was refused or answered with failure";
	default: return "unknown status";
	}
}
