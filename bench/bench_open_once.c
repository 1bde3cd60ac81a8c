// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_open_once: one device open+close, through the library or raw, for
 * counting its system calls with strace -c (bench/syscalls.sh).
 *
 *   bench_open_once lib|raw PCI-ADDRESS GROUP
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <svmbind/svmbind.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s lib|raw PCI-ADDRESS GROUP\n", argv[0]);
		return 64;
	}
	/* Marker: syscalls.sh counts only what follows this write. */
	if (write(1, "open-begins\n", 12) != 12)
		return 1;
	if (!strcmp(argv[1], "lib")) {
		struct svmbind_ctx *ctx;
		struct svmbind_device *dev;

		if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, argv[2], NULL, &dev))
			return 1;
		svmbind_ctx_free(ctx);
		return 0;
	}
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char path[64];
	int c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC), g, d;

	snprintf(path, sizeof(path), "/dev/vfio/%s", argv[3]);
	g = open(path, O_RDWR | O_CLOEXEC);
	if (c < 0 || g < 0 || ioctl(g, VFIO_GROUP_GET_STATUS, &st) ||
	    ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) || ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 1;
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, argv[2]);
	if (d < 0 || ioctl(d, VFIO_DEVICE_GET_INFO, &info))
		return 1;
	close(d);
	close(g);
	close(c);
	return 0;
}
