// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* What sysfs says about PCI devices and IOMMU groups. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "internal.h"
#include "pure.h"

#define PCI_DEVICES "/sys/bus/pci/devices"
#define IOMMU_GROUPS "/sys/kernel/iommu_groups"

int svmbind__read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

/* Basename of a symlink's target. Returns 0 or -errno. */
static int readlink_base(const char *path, char *buf, size_t len)
{
	char target[512];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

bool svmbind__device_exists(const char *bdf)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s", bdf);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int svmbind__device_group(const char *bdf)
{
	char path[128], num[32];
	int ret;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", bdf);
	ret = readlink_base(path, num, sizeof(num));
	if (ret)
		return ret;
	return svmbind__parse_group(num);
}

int svmbind__device_driver(const char *bdf, char *buf, size_t len)
{
	char path[128];
	int ret;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	ret = readlink_base(path, buf, len);
	if (ret == -ENOENT) {
		buf[0] = '\0';
		return 0;
	}
	return ret;
}

int svmbind__group_offenders(int num, char *buf, size_t len)
{
	char path[128], driver[64];
	struct dirent *de;
	size_t used = 0;
	int count = 0;
	DIR *dir;

	buf[0] = '\0';
	snprintf(path, sizeof(path), IOMMU_GROUPS "/%d/devices", num);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char bdf[16];

		if (de->d_name[0] == '.' || !svmbind__parse_bdf(de->d_name, bdf))
			continue;
		if (svmbind__device_driver(bdf, driver, sizeof(driver)) ||
		    svmbind__driver_keeps_viable(driver))
			continue;
		count++;
		svmbind__offender_add(buf, len, &used, bdf, driver);
	}
	closedir(dir);
	return count;
}
