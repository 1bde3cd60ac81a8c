// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The svm-dma devices in sysfs: which are there, which has PRI, their driver (svmdma.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "svmdma.h"

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int sysfs_read(const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[512];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* The PRI extended capability (id 0x13), from sysfs config space (root). */
static bool has_pri(const char *bdf)
{
	uint8_t cfg[4096];
	char path[128];
	unsigned int off = 0x100, n = 0;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	while (off >= 0x100 && off + 4 <= (unsigned int)len && n++ < 64) {
		uint32_t h = cfg[off] | cfg[off + 1] << 8 | cfg[off + 2] << 16 |
			     (uint32_t)cfg[off + 3] << 24;

		if ((h & 0xffff) == 0x13)
			return true;
		off = (h >> 20) & 0xffc;
	}
	return false;
}

int svmdma_bind(const char *bdf, const char *driver)
{
	char cur[256] = "", path[160];
	ssize_t l;
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	l = readlink(path, cur, sizeof(cur) - 1);
	if (l > 0) {
		cur[l] = 0;
		if (!strcmp(strrchr(cur, '/') + 1, driver))
			return 0;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", bdf);
		if ((ret = sysfs_write(path, bdf)))
			return ret;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override", bdf);
	if ((ret = sysfs_write(path, driver)))
		return ret;
	return sysfs_write("/sys/bus/pci/drivers_probe", bdf);
}

int svmdma_find(struct svmdma dev[2], const char *driver)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int ret;

	memset(dev, 0, 2 * sizeof(*dev));
	while (dir && (e = readdir(dir))) {
		char v[16], d[16];
		struct svmdma *s;

		if (e->d_name[0] == '.' || sysfs_read(e->d_name, "vendor", v, sizeof(v)) ||
		    sysfs_read(e->d_name, "device", d, sizeof(d)) ||
		    strcmp(v, "0x1234") || strcmp(d, "0x5356"))
			continue;
		s = has_pri(e->d_name) ? &dev[0] : &dev[1];
		if (s->bdf[0])
			continue;
		snprintf(s->bdf, sizeof(s->bdf), "%.31s", e->d_name);
		s->pri = s == &dev[0];
	}
	if (dir)
		closedir(dir);
	if (!dev[0].bdf[0] || !dev[1].bdf[0])
		return -ENODEV;
	for (int i = 0; i < 2; i++)
		if ((ret = svmdma_bind(dev[i].bdf, driver)))
			return ret;
	return 0;
}
