// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * rawcheck: the mainline pieces of the seed's flow, with raw ioctls only, on
 * the SVA VM (vm.sh --kernel new --sva) with STOCK vfio-pci on the svm-dma
 * device that has PRI. No libsvmbind: this is what the kernel and our QEMU
 * do, step by step (the library's path in lib/iommu/pasid*.c follows it).
 *
 *  1 IOMMU_GET_HW_INFO: the IOMMU offers PASIDs to the device
 *  2 the RID on a plain IOAS (an automatic, non-PASID domain): a PASID attach
 *    is refused (EINVAL), so the RID must sit on a HWPT_ALLOC_PASID HWPT
 *  3 IOMMU_FAULT_QUEUE_ALLOC; HWPT_ALLOC(ALLOC_PASID | FAULT_ID_VALID) over a
 *    second IOAS; VFIO_DEVICE_ATTACH_IOMMUFD_PT with VFIO_DEVICE_ATTACH_PASID
 *  4 IOMMU_IOAS_MAP_FILE of a memfd at IOVA = its address in this process
 *  5 device copy with that PASID at those addresses: bytes move
 *  6 an address outside the map: the copy fails, nothing written
 *  7 PRI: a never-mapped page of the memfd requested by the device arrives as
 *    struct iommu_hwpt_pgfault; MAP_FILE of the page + a SUCCESS response: the
 *    copy completes
 *  8 PRI outside any region: answered INVALID, the copy fails
 *  9 VFIO_DEVICE_DETACH_IOMMUFD_PT with DETACH_PASID: the copy fails
 * Exit 0 all passed, 1 one failed, 77 not the SVA VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kuapi.h"
#include "svmdma.h"

#define PG 4096u
#define PASID 7u

static int failures, n;
static int iommufd, devfd, fault_fd;
static uint32_t ioas2, nr_faults, nr_served;
static int memfd;
static uint8_t *buf;		/* memfd, 8 pages, at IOVA == (uintptr_t)buf */
static size_t buf_len = 8 * PG;
static size_t lazy_first = 4 * PG;	/* pages 4..7 are mapped on demand */

static void result(int ok, const char *what, const char *detail)
{
	n++;
	if (!ok)
		failures++;
	printf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", n, what, detail ? ": " : "",
	       detail ? detail : "");
	fflush(stdout);
}

static int serve(void *arg)
{
	struct k_pgfault f[8];
	struct pollfd p = { .fd = fault_fd, .events = POLLIN };
	ssize_t got;

	(void)arg;
	if (poll(&p, 1, 10) <= 0)
		return 0;
	got = read(fault_fd, f, sizeof(f));
	if (got < 0)
		return errno == EAGAIN ? 0 : -1;
	for (size_t i = 0; i < (size_t)got / sizeof(f[0]); i++) {
		uint64_t page = f[i].addr & ~(uint64_t)(PG - 1);
		uint64_t base = (uintptr_t)buf;
		struct k_page_response r = { .cookie = f[i].cookie, .code = K_PAGE_RESP_INVALID };

		nr_faults++;
		if (page >= base + lazy_first && page < base + buf_len) {
			struct k_ioas_map_file m = {
				.size = sizeof(m), .ioas_id = ioas2, .fd = memfd,
				.flags = K_MAP_FIXED_IOVA | K_MAP_READABLE | K_MAP_WRITEABLE,
				.start = page - base, .length = PG, .iova = page,
			};

			if (!ioctl(iommufd, K_IOMMU_IOAS_MAP_FILE, &m) || errno == EEXIST) {
				r.code = K_PAGE_RESP_SUCCESS;
				nr_served++;
			}
		}
		if ((f[i].flags & K_PGFAULT_LAST_PAGE) && write(fault_fd, &r, sizeof(r)) != sizeof(r))
			return -1;
	}
	return 0;
}

static int cdev_open(const char *bdf)
{
	char path[128], node[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "ls /sys/bus/pci/devices/%s/vfio-dev/", bdf);
	f = popen(path, "r");
	if (!f || !fgets(node, sizeof(node), f)) {
		if (f)
			pclose(f);
		return -1;
	}
	pclose(f);
	node[strcspn(node, "\n")] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", node);
	return open(path, O_RDWR | O_CLOEXEC);
}

int main(void)
{
	struct svmdma d[2];
	struct k_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct k_ioas_alloc ia = { .size = sizeof(ia) };
	struct k_hw_info hw = { .size = sizeof(hw) };
	struct k_fault_alloc fa = { .size = sizeof(fa) };
	struct k_region_info ri = { .argsz = sizeof(ri) };
	char msg[256];
	uint32_t ioas1, rid_hwpt, hwpt2, devid, st;
	uint64_t fault;
	void *bar;
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	ret = svmdma_find(d, "vfio-pci");
	if (ret == -ENODEV) {
		printf("rawcheck: SKIP: no svm-dma devices (not the SVA VM: vm.sh --kernel new --sva)\n");
		return 77;
	}
	if (ret) {
		printf("rawcheck: binding svm-dma to vfio-pci: %s\n", strerror(-ret));
		return 1;
	}
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	devfd = cdev_open(d[0].bdf);
	if (iommufd < 0 || devfd < 0) {
		printf("rawcheck: SKIP: no /dev/iommu or no VFIO cdev for %s\n", d[0].bdf);
		return 77;
	}
	bind.iommufd = iommufd;
	if (ioctl(devfd, K_VFIO_DEVICE_BIND_IOMMUFD, &bind) || ioctl(iommufd, K_IOMMU_IOAS_ALLOC, &ia)) {
		printf("rawcheck: bind/IOAS: %s\n", strerror(errno));
		return 1;
	}
	devid = bind.out_devid;
	ioas1 = ia.out_ioas_id;

	hw.dev_id = devid;
	ret = ioctl(iommufd, K_IOMMU_GET_HW_INFO, &hw) ? -errno : 0;
	snprintf(msg, sizeof(msg), "ret %d, out_max_pasid_log2 %u, caps 0x%llx", ret,
		 hw.out_max_pasid_log2, (unsigned long long)hw.out_capabilities);
	result(!ret && hw.out_max_pasid_log2 > 0, "GET_HW_INFO: PASIDs offered", msg);

	/* 2: RID on the IOAS itself, then a PASID attach */
	{
		struct k_attach_pt a = { .argsz = sizeof(a), .pt_id = ioas1 };
		struct k_hwpt_alloc h = { .size = sizeof(h), .flags = K_HWPT_ALLOC_PASID,
					  .dev_id = devid, .pt_id = ioas1 };
		struct k_attach_pt ap = { .argsz = sizeof(ap), .flags = K_VFIO_DEVICE_ATTACH_PASID,
					  .pasid = PASID };

		if (ioctl(devfd, K_VFIO_DEVICE_ATTACH_PT, &a) ||
		    ioctl(iommufd, K_IOMMU_HWPT_ALLOC, &h)) {
			printf("rawcheck: attach RID / HWPT_ALLOC(PASID): %s\n", strerror(errno));
			return 1;
		}
		ap.pt_id = h.out_hwpt_id;
		ret = ioctl(devfd, K_VFIO_DEVICE_ATTACH_PT, &ap) ? -errno : 0;
		snprintf(msg, sizeof(msg), "PASID attach with the RID on an automatic domain: %d", ret);
		result(ret == -EINVAL, "RID on a non-PASID domain: PASID attach refused", msg);
		if (!ret) {
			struct k_detach_pt dp = { .argsz = sizeof(dp), .flags = K_VFIO_DEVICE_DETACH_PASID,
						  .pasid = PASID };
			ioctl(devfd, K_VFIO_DEVICE_DETACH_PT, &dp);
		}
		/* the RID onto the PASID-capable HWPT over the same IOAS (a replace) */
		a.pt_id = h.out_hwpt_id;
		ret = ioctl(devfd, K_VFIO_DEVICE_ATTACH_PT, &a) ? -errno : 0;
		snprintf(msg, sizeof(msg), "%d", ret);
		result(!ret, "RID replaced onto a HWPT_ALLOC_PASID HWPT of its IOAS", msg);
		rid_hwpt = h.out_hwpt_id;
		(void)rid_hwpt;
	}

	/* 3: the client's address space: a fault queue, an IOAS, a HWPT, the PASID */
	{
		struct k_ioas_alloc ib = { .size = sizeof(ib) };
		struct k_hwpt_alloc h = { .size = sizeof(h), .dev_id = devid,
					  .flags = K_HWPT_ALLOC_PASID | K_HWPT_FAULT_ID_VALID };
		struct k_attach_pt ap = { .argsz = sizeof(ap), .flags = K_VFIO_DEVICE_ATTACH_PASID,
					  .pasid = PASID };

		if (ioctl(iommufd, K_IOMMU_FAULT_QUEUE_ALLOC, &fa) ||
		    ioctl(iommufd, K_IOMMU_IOAS_ALLOC, &ib)) {
			printf("rawcheck: FAULT_QUEUE_ALLOC / IOAS_ALLOC: %s\n", strerror(errno));
			return 1;
		}
		fault_fd = (int)fa.out_fault_fd;
		ioas2 = ib.out_ioas_id;
		h.pt_id = ioas2;
		h.fault_id = fa.out_fault_id;
		ret = ioctl(iommufd, K_IOMMU_HWPT_ALLOC, &h) ? -errno : 0;
		snprintf(msg, sizeof(msg), "%d", ret);
		result(!ret, "HWPT_ALLOC(ALLOC_PASID | FAULT_ID_VALID) over the client IOAS", msg);
		hwpt2 = h.out_hwpt_id;
		ap.pt_id = hwpt2;
		ret = ioctl(devfd, K_VFIO_DEVICE_ATTACH_PT, &ap) ? -errno : 0;
		snprintf(msg, sizeof(msg), "PASID %u -> HWPT %u: %d", PASID, hwpt2, ret);
		result(!ret, "VFIO_DEVICE_ATTACH_IOMMUFD_PT with ATTACH_PASID", msg);
		if (ret)
			return 1;
	}

	/* 4: a memfd at its own address, half mapped now */
	memfd = memfd_create("rawcheck", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, (off_t)buf_len)) {
		printf("rawcheck: memfd: %s\n", strerror(errno));
		return 1;
	}
	buf = mmap(NULL, buf_len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (buf == MAP_FAILED)
		return 1;
	{
		struct k_ioas_map_file m = {
			.size = sizeof(m), .ioas_id = ioas2, .fd = memfd,
			.flags = K_MAP_FIXED_IOVA | K_MAP_READABLE | K_MAP_WRITEABLE,
			.start = 0, .length = lazy_first, .iova = (uintptr_t)buf,
		};

		ret = ioctl(iommufd, K_IOMMU_IOAS_MAP_FILE, &m) ? -errno : 0;
		snprintf(msg, sizeof(msg), "iova %p: %d", (void *)buf, ret);
		result(!ret, "IOAS_MAP_FILE of a memfd at IOVA = its virtual address", msg);
	}

	/* the device: BAR0, bus master */
	ri.index = 0;
	if (ioctl(devfd, _IO(';', 100 + 8), &ri))
		return 1;
	bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, devfd, (off_t)ri.offset);
	if (bar == MAP_FAILED || svmdma_attach(&d[0], bar, 4096, devfd))
		return 1;

	/* 5: a copy inside the mapped half */
	memset(buf, 0, buf_len);
	for (unsigned int i = 0; i < PG; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	st = (uint32_t)svmdma_copy(&d[0], PASID, 0, (uintptr_t)buf, (uintptr_t)buf + 2 * PG, PG,
				   &fault, NULL, NULL);
	snprintf(msg, sizeof(msg), "status 0x%x", st);
	result(st == SD_ST_DONE && !memcmp(buf, buf + 2 * PG, PG),
	       "device copy with the PASID at the memfd's own addresses", msg);

	/* 6: outside the map (a never-shared anonymous page) */
	{
		uint8_t *other = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		memset(other, 0x5a, PG);
		st = (uint32_t)svmdma_copy(&d[0], PASID, 0, (uintptr_t)buf, (uintptr_t)other, 64,
					   &fault, NULL, NULL);
		snprintf(msg, sizeof(msg), "status 0x%x fault 0x%llx", st, (unsigned long long)fault);
		result(st == SD_ST_ERR_DST && fault == (uintptr_t)other && other[0] == 0x5a,
		       "an address outside the map does not translate; nothing written", msg);
	}

	/* 7: PRI: pages 4.. were never mapped */
	{
		uint32_t prqs0 = svmdma_rd(&d[0], SD_PRQS);

		st = (uint32_t)svmdma_copy(&d[0], PASID, SD_CTRL_PRI, (uintptr_t)buf,
					   (uintptr_t)buf + 5 * PG, PG, &fault, serve, NULL);
		snprintf(msg, sizeof(msg), "status 0x%x, %u page requests read, %u served, device PRQS +%u",
			 st, nr_faults, nr_served, svmdma_rd(&d[0], SD_PRQS) - prqs0);
		result(st == SD_ST_DONE && nr_served >= 1 && !memcmp(buf, buf + 5 * PG, PG),
		       "page request for an unmapped memfd page served in user space", msg);
	}

	/* 8: PRI outside every region: INVALID */
	{
		uint8_t *other = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint32_t before = nr_faults;

		memset(other, 0x5a, PG);
		st = (uint32_t)svmdma_copy(&d[0], PASID, SD_CTRL_PRI, (uintptr_t)buf, (uintptr_t)other,
					   64, &fault, serve, NULL);
		snprintf(msg, sizeof(msg), "status 0x%x, %u requests", st, nr_faults - before);
		result(st == SD_ST_ERR_PRI && nr_faults > before && other[0] == 0x5a,
		       "page request outside the regions answered invalid; nothing written", msg);
	}

	/* 9: detach the PASID */
	{
		struct k_detach_pt dp = { .argsz = sizeof(dp), .flags = K_VFIO_DEVICE_DETACH_PASID,
					  .pasid = PASID };

		ret = ioctl(devfd, K_VFIO_DEVICE_DETACH_PT, &dp) ? -errno : 0;
		buf[3 * PG] = 0x77;
		st = (uint32_t)svmdma_copy(&d[0], PASID, 0, (uintptr_t)buf, (uintptr_t)buf + 3 * PG, 64,
					   &fault, NULL, NULL);
		snprintf(msg, sizeof(msg), "detach %d, status 0x%x", ret, st);
		result(!ret && st != SD_ST_DONE && buf[3 * PG] == 0x77,
		       "after DETACH_PASID the PASID translates nothing", msg);
	}
	printf("rawcheck: %d of %d passed\n", n - failures, n);
	return failures ? 1 : 0;
}
