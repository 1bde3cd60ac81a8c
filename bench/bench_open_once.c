// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_open_once: one device open+close, through the library or raw, for
 * counting its system calls with strace (bench/syscalls.sh).
 *
 *   bench_open_once lib|lib-legacy|lib-iommufd|raw|raw-cdev PCI-ADDRESS GROUP|CDEV [warm]
 *
 * raw: the legacy container's minimal sequence (GROUP is the group number);
 * raw-cdev: the cdev + iommufd one (CDEV is "vfioN"). lib: whatever path
 * the library chooses on this kernel; lib-legacy, lib-iommufd: the path forced.
 * With "warm", one open+close first, before the marker: what is counted is
 * then a later open+close, without the once-per-process costs (the heap's
 * first growth, the library's fork-guard page).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <svmbind/svmbind.h>

static int open_close(const char *how, const char *bdf, const char *group);

/* The cdev path's minimum: /dev/iommu, an IOAS, the cdev bound and attached, info. */
static int open_close_cdev(const char *cdev)
{
	struct { uint32_t size, flags, out_ioas_id; } alloc = { sizeof(alloc), 0, 0 };
	struct { uint32_t argsz, flags; int32_t iommufd; uint32_t out_devid; } bind;
	struct { uint32_t argsz, flags, pt_id; } attach;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char path[64];
	int i = open("/dev/iommu", O_RDWR | O_CLOEXEC), d;

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
	if (i < 0 || ioctl(i, _IO(';', 0x81), &alloc))
		return 1;
	d = open(path, O_RDWR | O_CLOEXEC);
	bind = (typeof(bind)){ sizeof(bind), 0, i, 0 };
	attach = (typeof(attach)){ sizeof(attach), 0, alloc.out_ioas_id };
	if (d < 0 || ioctl(d, _IO(VFIO_TYPE, VFIO_BASE + 18), &bind) ||
	    ioctl(d, _IO(VFIO_TYPE, VFIO_BASE + 19), &attach) || ioctl(d, VFIO_DEVICE_GET_INFO, &info))
		return 1;
	close(d);
	close(i);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4 && !(argc == 5 && !strcmp(argv[4], "warm"))) {
		fprintf(stderr, "usage: %s lib|lib-legacy|lib-iommufd|raw|raw-cdev PCI-ADDRESS GROUP|CDEV "
			"[warm]\n", argv[0]);
		return 64;
	}
	if (argc == 5 && open_close(argv[1], argv[2], argv[3]))
		return 1;
	/* Marker: syscalls.sh counts only what follows this write. */
	if (write(1, "open-begins\n", 12) != 12)
		return 1;
	return open_close(argv[1], argv[2], argv[3]);
}

static int open_close(const char *how, const char *bdf, const char *group)
{
	if (!strncmp(how, "lib", 3)) {
		struct svmbind_ctx_opts o = { .sz = sizeof(o) };
		struct svmbind_ctx *ctx;
		struct svmbind_device *dev;

		if (!strcmp(how, "lib-legacy"))
			o.backend = SVMBIND_BACKEND_LEGACY;
		else if (!strcmp(how, "lib-iommufd"))
			o.backend = SVMBIND_BACKEND_IOMMUFD;
		if (svmbind_ctx_new(&o, &ctx) || svmbind_device_open(ctx, bdf, NULL, &dev))
			return 1;
		svmbind_ctx_free(ctx);
		return 0;
	}
	if (!strcmp(how, "raw-cdev"))
		return open_close_cdev(group);
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char path[64];
	int c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC), g, d;

	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	g = open(path, O_RDWR | O_CLOEXEC);
	if (c < 0 || g < 0 || ioctl(g, VFIO_GROUP_GET_STATUS, &st) ||
	    ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) || ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 1;
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (d < 0 || ioctl(d, VFIO_DEVICE_GET_INFO, &info))
		return 1;
	close(d);
	close(g);
	close(c);
	return 0;
}
