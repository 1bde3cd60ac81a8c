/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Harness smoke check, run in the guest (no libsvmbind needed):
 * container -> group -> TYPE1v2 -> device fd -> probe VFIO_DEVICE_BIND_TASK
 * (_IO(';', 100 + 22)) with an argsz below minsz, which a kernel with the
 * bind rejects with EINVAL before acting and a stock kernel with ENOTTY.
 *
 *   smoke [expect [BDF]]  expect: "enotty"    (stock vfio-pci, the default)
 *                                 "bind"      (a provider: anything but ENOTTY)
 *                                 "notviable" (the group must not be viable,
 *                                              and SET_CONTAINER must fail)
 * Device: $SVMBIND_LAB_DEVS's third (alone in its group), or argv[2].
 * With SVMBIND_LAB_NOIOMMU=1 (vm.sh --noiommu) the group is /dev/vfio/noiommu-N
 * and the container's IOMMU is VFIO_NOIOMMU_IOMMU (8) instead of TYPE1v2.
 * Exit 0 as expected, 1 not, 77 when there is no lab.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

#define BIND_TASK _IO(VFIO_TYPE, VFIO_BASE + 22)
#ifndef VFIO_NOIOMMU_IOMMU
#define VFIO_NOIOMMU_IOMMU 8
#endif

static int fail(const char *what)
{
	fprintf(stderr, "smoke: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	const char *expect = argc > 1 ? argv[1] : "enotty";
	char dev[64] = "", path[PATH_MAX], link[PATH_MAX];
	const char *devs = getenv("SVMBIND_LAB_DEVS");
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct { __u32 argsz, flags, pasid, pid; } svm = { .argsz = 4 };
	const char *grp, *noiommu = getenv("SVMBIND_LAB_NOIOMMU");
	int type = noiommu && !strcmp(noiommu, "1") ? VFIO_NOIOMMU_IOMMU : VFIO_TYPE1v2_IOMMU;
	const char *tname = type == VFIO_NOIOMMU_IOMMU ? "NOIOMMU" : "TYPE1v2";
	ssize_t n;
	int cont, group, devfd, r, e;

	if (argc > 2) {
		snprintf(dev, sizeof(dev), "%s", argv[2]);
	} else if (devs && strrchr(devs, ',')) {
		snprintf(dev, sizeof(dev), "%s", strrchr(devs, ',') + 1);
	} else {
		fprintf(stderr, "smoke: no SVMBIND_LAB_DEVS: not in the VM lab\n");
		return 77;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", dev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return fail(path);
	link[n] = 0;
	grp = strrchr(link, '/') + 1;

	cont = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (cont < 0)
		return fail("open /dev/vfio/vfio");
	if (ioctl(cont, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		return fail("VFIO_GET_API_VERSION");
	if (ioctl(cont, VFIO_CHECK_EXTENSION, type) != 1)
		return fail(type == VFIO_NOIOMMU_IOMMU ? "CHECK_EXTENSION NOIOMMU" : "CHECK_EXTENSION TYPE1v2");
	snprintf(path, sizeof(path), "/dev/vfio/%s%s", type == VFIO_NOIOMMU_IOMMU ? "noiommu-" : "", grp);
	group = open(path, O_RDWR | O_CLOEXEC);
	if (group < 0)
		return fail(path);
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st))
		return fail("GROUP_GET_STATUS");
	if (!strcmp(expect, "notviable")) {
		r = ioctl(group, VFIO_GROUP_SET_CONTAINER, &cont);
		e = errno;
		printf("smoke: %s group %s: flags 0x%x, SET_CONTAINER = %d (%s)\n", dev, grp,
		       st.flags, r, r ? strerror(e) : "ok");
		return !(st.flags & VFIO_GROUP_FLAGS_VIABLE) && r == -1 ? 0 : 1;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "smoke: group %s not viable\n", grp);
		return 1;
	}
	if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &cont))
		return fail("GROUP_SET_CONTAINER");
	if (ioctl(cont, VFIO_SET_IOMMU, type))
		return fail(type == VFIO_NOIOMMU_IOMMU ? "SET_IOMMU NOIOMMU" : "SET_IOMMU TYPE1v2");
	devfd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, dev);
	if (devfd < 0)
		return fail("GROUP_GET_DEVICE_FD");

	r = ioctl(devfd, BIND_TASK, &svm);
	e = errno;
	printf("smoke: %s group %s (%s): BIND_TASK(argsz 4) = %d (%s)\n", dev, grp, tname, r,
	       r ? strerror(e) : "ok");
	if (!strcmp(expect, "enotty"))
		return r == -1 && e == ENOTTY ? 0 : 1;
	return r == -1 && e == ENOTTY ? 1 : 0;
}
