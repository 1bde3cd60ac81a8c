/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Harness check of the VFIO device cdev + iommufd path, run in the guest on
 * the new kernel (no libsvmbind needed; the host's 6.1 UAPI headers have none
 * of this, so the few structs are declared here from the kernel's UAPI):
 *
 *   /dev/iommu -> IOMMU_IOAS_ALLOC; /dev/vfio/devices/vfioN ->
 *   VFIO_DEVICE_BIND_IOMMUFD -> VFIO_DEVICE_ATTACH_IOMMUFD_PT -> IOMMU_IOAS_MAP
 *   -> DEVICE_GET_INFO / GET_REGION_INFO -> mmap BAR0 -> edu DMA round trip
 *   through the IOAS (RAM -> edu -> RAM, translated by the emulated VT-d)
 *   -> probe VFIO_DEVICE_BIND_TASK on that fd (and bind + unbind self when a
 *   provider answers) -> DETACH.
 * With SVMBIND_LAB_NOIOMMU=1: the cdev is /dev/vfio/devices/noiommu-vfioN; it
 * binds to /dev/iommu all the same (CAP_SYS_RAWIO), then no IOAS and no DMA
 * (there is no translation to prove).
 *
 *   cdevcheck [expect [BDF]]  expect: "enotty" (stock vfio-pci, default) or
 *                             "bind" (a provider: BIND_TASK exists)
 * Device: $SVMBIND_LAB_DEVS's third (alone in its group), or argv[2].
 * Exit 0 as expected, 1 not, 77 when there is no lab or no cdev.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>

#define VT ';'
/* VFIO (include/uapi/linux/vfio.h, 6.6+ for the cdev ones) */
#define DEVICE_GET_INFO		_IO(VT, 100 + 7)
#define DEVICE_GET_REGION_INFO	_IO(VT, 100 + 8)
#define DEVICE_BIND_TASK	_IO(VT, 100 + 22)	/* the seed's, never merged */
#define DEVICE_UNBIND_TASK	_IO(VT, 100 + 23)
#define DEVICE_BIND_IOMMUFD	_IO(VT, 100 + 18)
#define DEVICE_ATTACH_PT	_IO(VT, 100 + 19)
#define DEVICE_DETACH_PT	_IO(VT, 100 + 20)
/* iommufd (include/uapi/linux/iommufd.h) */
#define IOMMU_IOAS_ALLOC	_IO(VT, 0x81)
#define IOMMU_IOAS_MAP		_IO(VT, 0x85)
#define IOMMU_IOAS_MAP_FIXED_IOVA	(1 << 0)
#define IOMMU_IOAS_MAP_WRITEABLE	(1 << 1)
#define IOMMU_IOAS_MAP_READABLE		(1 << 2)

struct bind_iommufd { __u32 argsz, flags; __s32 iommufd; __u32 out_devid; };
struct attach_pt { __u32 argsz, flags, pt_id; };
struct detach_pt { __u32 argsz, flags; };
struct ioas_alloc { __u32 size, flags, out_ioas_id; };
struct ioas_map {
	__u32 size, flags, ioas_id, reserved;
	__u64 user_va, length, iova;
};
struct device_info { __u32 argsz, flags, num_regions, num_irqs; };
struct region_info { __u32 argsz, flags, index, cap_offset; __u64 size, offset; };
struct svm { __u32 argsz, flags, pasid, pid; };

#define DEVICE_FLAGS_PCI	(1 << 1)
#define CONFIG_REGION_INDEX	7
#define IOVA			0x100000ULL	/* edu: 28-bit DMA mask */
#define EDU_DMA_BUF		0x40000ULL	/* edu's internal DMA buffer */

static const char *me = "cdevcheck";

static int fail(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", me, what, strerror(errno));
	return 1;
}

/* /dev/vfio/devices/vfioN of @bdf, from sysfs; 0 or -1. */
static int cdev_path(const char *bdf, char *out, size_t len)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = -1;

	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	d = opendir(dir);
	if (!d)
		return -1;
	/* vfioN; noiommu-vfioN in no-IOMMU mode (the same name in /dev) */
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vfio", 4) || !strncmp(de->d_name, "noiommu-vfio", 12)) {
			snprintf(out, len, "/dev/vfio/devices/%s", de->d_name);
			ret = 0;
			break;
		}
	closedir(d);
	return ret;
}

static volatile uint32_t *reg32(volatile uint8_t *bar, unsigned int off)
{
	return (volatile uint32_t *)(bar + off);
}

static volatile uint64_t *reg64(volatile uint8_t *bar, unsigned int off)
{
	return (volatile uint64_t *)(bar + off);
}

/* One edu DMA (src, dst, len, direction bit) and wait for it; 0 or -1. */
static int edu_dma(volatile uint8_t *bar, uint64_t src, uint64_t dst, uint64_t len, int to_ram)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	*reg64(bar, 0x80) = src;
	*reg64(bar, 0x88) = dst;
	*reg64(bar, 0x90) = len;
	*reg64(bar, 0x98) = 1 | (to_ram ? 2 : 0);
	for (i = 0; i < 2000; i++) {
		if (!(*reg64(bar, 0x98) & 1))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *expect = argc > 1 ? argv[1] : "enotty";
	const char *devs = getenv("SVMBIND_LAB_DEVS");
	int noiommu = getenv("SVMBIND_LAB_NOIOMMU") && !strcmp(getenv("SVMBIND_LAB_NOIOMMU"), "1");
	char dev[64] = "", cdev[PATH_MAX];
	struct bind_iommufd bind = { .argsz = sizeof(bind) };
	struct attach_pt at = { .argsz = sizeof(at) };
	struct detach_pt dt = { .argsz = sizeof(dt) };
	struct ioas_alloc ia = { .size = sizeof(ia) };
	struct device_info info = { .argsz = sizeof(info) };
	struct region_info bar0 = { .argsz = sizeof(bar0), .index = 0 };
	struct region_info cfg = { .argsz = sizeof(cfg), .index = CONFIG_REGION_INDEX };
	struct svm svm = { .argsz = 4 };
	volatile uint8_t *bar = MAP_FAILED;
	uint8_t *buf = MAP_FAILED;
	long pg = sysconf(_SC_PAGESIZE);
	int iommufd = -1, fd, r, e, i;
	uint16_t cmd;

	if (argc > 2) {
		snprintf(dev, sizeof(dev), "%s", argv[2]);
	} else if (devs && strrchr(devs, ',')) {
		snprintf(dev, sizeof(dev), "%s", strrchr(devs, ',') + 1);
	} else {
		fprintf(stderr, "%s: no SVMBIND_LAB_DEVS: not in the VM lab\n", me);
		return 77;
	}
	if (cdev_path(dev, cdev, sizeof(cdev))) {
		fprintf(stderr, "%s: %s has no VFIO cdev (kernel without CONFIG_VFIO_DEVICE_CDEV?)\n", me, dev);
		return 77;
	}
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0)
		return fail("/dev/iommu");
	fd = open(cdev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(cdev);
	bind.iommufd = iommufd;
	if (ioctl(fd, DEVICE_BIND_IOMMUFD, &bind))
		return fail("VFIO_DEVICE_BIND_IOMMUFD");
	printf("%s: %s %s bound to /dev/iommu%s, devid %u\n", me, dev, cdev,
	       noiommu ? " (no IOMMU)" : "", bind.out_devid);

	if (!noiommu) {
		if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &ia))
			return fail("IOMMU_IOAS_ALLOC");
		at.pt_id = ia.out_ioas_id;
		if (ioctl(fd, DEVICE_ATTACH_PT, &at))
			return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
		buf = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED)
			return fail("mmap buffer");
		memset(buf, 0, 2 * pg);
		struct ioas_map map = {
			.size = sizeof(map), .ioas_id = ia.out_ioas_id,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (uintptr_t)buf, .length = 2 * pg, .iova = IOVA,
		};
		if (ioctl(iommufd, IOMMU_IOAS_MAP, &map))
			return fail("IOMMU_IOAS_MAP");
		printf("%s: IOAS %u attached (pt_id %u), 2 pages at IOVA 0x%llx\n", me,
		       ia.out_ioas_id, at.pt_id, (unsigned long long)IOVA);
	}

	if (ioctl(fd, DEVICE_GET_INFO, &info))
		return fail("VFIO_DEVICE_GET_INFO");
	if (!(info.flags & DEVICE_FLAGS_PCI) || info.num_regions < 8) {
		fprintf(stderr, "%s: device info flags 0x%x, %u regions\n", me, info.flags, info.num_regions);
		return 1;
	}
	if (ioctl(fd, DEVICE_GET_REGION_INFO, &bar0) || ioctl(fd, DEVICE_GET_REGION_INFO, &cfg))
		return fail("VFIO_DEVICE_GET_REGION_INFO");
	bar = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, bar0.offset);
	if (bar == MAP_FAILED)
		return fail("mmap BAR0");
	printf("%s: info flags 0x%x, %u regions, %u irqs; BAR0 %llu bytes, edu id 0x%08x\n",
	       me, info.flags, info.num_regions, info.num_irqs,
	       (unsigned long long)bar0.size, *reg32(bar, 0));
	if ((*reg32(bar, 0) & 0xff) != 0xed) {
		fprintf(stderr, "%s: BAR0 does not look like edu\n", me);
		return 1;
	}

	if (!noiommu) {
		/* Bus master on, then RAM -> edu -> RAM through the IOAS. */
		if (pread(fd, &cmd, 2, cfg.offset + 4) != 2)
			return fail("read PCI_COMMAND");
		cmd |= 0x4;
		if (pwrite(fd, &cmd, 2, cfg.offset + 4) != 2)
			return fail("write PCI_COMMAND");
		for (i = 0; i < 64; i++)
			buf[i] = (uint8_t)(0xa5 ^ i);
		if (edu_dma(bar, IOVA, EDU_DMA_BUF, 64, 0) ||
		    edu_dma(bar, EDU_DMA_BUF, IOVA + pg, 64, 1)) {
			fprintf(stderr, "%s: edu DMA did not complete\n", me);
			return 1;
		}
		if (memcmp(buf, buf + pg, 64)) {
			fprintf(stderr, "%s: edu DMA through the IOAS: data differs\n", me);
			return 1;
		}
		printf("%s: edu DMA RAM -> edu -> RAM through the IOAS: ok\n", me);
	}

	/* The seed's bind on this fd: EINVAL (argsz below minsz) where it exists. */
	r = ioctl(fd, DEVICE_BIND_TASK, &svm);
	e = errno;
	printf("%s: BIND_TASK(argsz 4) = %d (%s)\n", me, r, r ? strerror(e) : "ok");
	if (!strcmp(expect, "enotty")) {
		if (r != -1 || e != ENOTTY) {
			fprintf(stderr, "%s: expected ENOTTY from stock vfio-pci\n", me);
			return 1;
		}
	} else {
		if (r != -1 || e == ENOTTY) {
			fprintf(stderr, "%s: expected a provider (not ENOTTY)\n", me);
			return 1;
		}
		svm = (struct svm){ .argsz = sizeof(svm) };
		if (ioctl(fd, DEVICE_BIND_TASK, &svm))
			return fail("BIND_TASK (self)");
		printf("%s: bound self on the cdev fd: PASID %u\n", me, svm.pasid);
		svm.flags = 0;
		if (ioctl(fd, DEVICE_UNBIND_TASK, &svm))
			return fail("UNBIND_TASK");
	}

	munmap((void *)bar, bar0.size);
	if (!noiommu && ioctl(fd, DEVICE_DETACH_PT, &dt))
		return fail("VFIO_DEVICE_DETACH_IOMMUFD_PT");
	close(fd);
	close(iommufd);
	printf("%s: ok (%s)\n", me, expect);
	return 0;
}
