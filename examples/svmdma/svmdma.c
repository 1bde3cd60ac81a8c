// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The svm-dma device through its BAR0 (svmdma.h). The device translates every
 * page of a copy with an ATS request tagged with the PASID (the IOMMU walks
 * that address space's own page tables); with PRI it asks for a missing page
 * with a page request and retries when the answer comes.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "svmdma.h"

#define BUSY_LIMIT_S	20

/* vfio-pci hands the device over with bus mastering off. */
static int enable_bus_master(int devfd)
{
	struct vfio_region_info cfg = { .argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t cmd;

	if (ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return -errno;
	if (pread(devfd, &cmd, sizeof(cmd), (off_t)cfg.offset + PCI_COMMAND) != (ssize_t)sizeof(cmd))
		return -errno;
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(devfd, &cmd, sizeof(cmd), (off_t)cfg.offset + PCI_COMMAND) != (ssize_t)sizeof(cmd))
		return -errno;
	return 0;
}

int svmdma_attach(struct svmdma *d, void *bar, size_t len, int devfd)
{
	d->bar = bar;
	d->bar_len = len;
	if (len < 0x50 || svmdma_rd(d, SD_ID) != SD_MAGIC)
		return -ENODEV;
	d->pri = svmdma_rd(d, SD_CAPS) & SD_CAPS_PRI;
	return enable_bus_master(devfd);
}

int svmdma_set_msi(int devfd, int efd)
{
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} irq = { .set = { .argsz = sizeof(irq), .index = VFIO_PCI_MSI_IRQ_INDEX, .count = 1,
			    .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER },
		  .fd = efd };

	if (efd < 0) {	/* off: no eventfd, count 0 */
		irq.set.argsz = sizeof(irq.set);
		irq.set.count = 0;
		irq.set.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	}
	return ioctl(devfd, VFIO_DEVICE_SET_IRQS, &irq) ? -errno : 0;
}

int svmdma_copy(struct svmdma *d, uint32_t pasid, uint32_t ctrl, uint64_t src, uint64_t dst,
		uint32_t len, uint64_t *fault, svmdma_serve_fn serve, void *arg)
{
	struct timespec t0, t;
	uint32_t st;

	svmdma_wr(d, SD_PASID, pasid);
	svmdma_wr(d, SD_CTRL, ctrl);
	svmdma_wr(d, SD_SRC_LO, (uint32_t)src);
	svmdma_wr(d, SD_SRC_HI, (uint32_t)(src >> 32));
	svmdma_wr(d, SD_DST_LO, (uint32_t)dst);
	svmdma_wr(d, SD_DST_HI, (uint32_t)(dst >> 32));
	svmdma_wr(d, SD_LEN, len);
	svmdma_wr(d, SD_DOORBELL, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((st = svmdma_rd(d, SD_STATUS)) == SD_ST_BUSY) {	/* waiting for a page response */
		if (serve && serve(arg) < 0)
			return -EIO;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > BUSY_LIMIT_S)
			return -ETIMEDOUT;
		if (!serve)
			usleep(100);
	}
	if (fault)
		*fault = svmdma_rd(d, SD_FAULT_LO) | (uint64_t)svmdma_rd(d, SD_FAULT_HI) << 32;
	return (int)st;
}

const char *svmdma_status_str(uint32_t status)
{
	switch (status) {
	case 0x00: return "idle";
	case SD_ST_BUSY: return "busy (a page request was never answered)";
	case SD_ST_DONE: return "done";
	case 0x10: return "bad length";
	case 0x11: return "bus master, ATS or PASID not enabled";
	case SD_ST_ERR_SRC: return "the source did not translate for reading";
	case SD_ST_ERR_DST: return "the destination did not translate for writing";
	case 0x14: return "a translated access failed";
	case SD_ST_ERR_PRI: return "a page request was refused or answered with failure";
	default: return "unknown status";
	}
}
