// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* What a file descriptor handed to the library is: its path, the device behind a cdev. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

int svmbind__fd_path(int fd, char *buf, size_t len)
{
	char link[32];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

/* /sys/dev/char/MAJ:MIN -> .../0000:00:04.0/vfio-dev/vfio0: the address is two up. */
int svmbind__cdev_name(int fd, char out[16])
{
	char link[64], target[512], *p;
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) || !S_ISCHR(st.st_mode)) {
		pr_err("fd %d is not a character device: pass a VFIO device cdev fd "
		       "(/dev/vfio/devices/vfioN)", fd);
		return FAIL(EBADF);
	}
	snprintf(link, sizeof(link), "/sys/dev/char/%u:%u", major(st.st_rdev), minor(st.st_rdev));
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		pr_err("fd %d: readlink %s: %s: cannot tell which device it is; pass its PCI address",
		       fd, link, strerror(errno));
		return KFAIL(EBADF, errno);
	}
	target[n] = '\0';
	p = strstr(target, "/vfio-dev/");
	if (!p) {
		pr_err("fd %d (%s) is not a VFIO device cdev (/dev/vfio/devices/vfioN)", fd, target);
		return FAIL(EBADF);
	}
	*p = '\0';
	if (!svmbind__parse_bdf(target, out)) {
		pr_err("fd %d: the device behind it (%s) is not a PCI device", fd, target);
		return FAIL(EBADF);
	}
	return 0;
}
