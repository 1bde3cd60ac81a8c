// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* What sysfs says about PCI devices and IOMMU groups. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define PCI_DEVICES "/sys/bus/pci/devices"
#define IOMMU_GROUPS "/sys/kernel/iommu_groups"

static bool hex_run(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool svmbind__parse_bdf(const char *name, char out[16])
{
	const char *base;
	size_t len;

	if (!name || !*name)
		return false;
	len = strlen(name);
	while (len > 1 && name[len - 1] == '/')	/* "/sys/.../0000:00:02.0/" */
		len--;
	base = name + len;
	while (base > name && base[-1] != '/')
		base--;
	len -= (size_t)(base - name);

	/* DDDD:BB:DD.F or BB:DD.F */
	if (len == 7 && hex_run(base, 2) && base[2] == ':' && hex_run(base + 3, 2) &&
	    base[5] == '.' && base[6] >= '0' && base[6] <= '7') {
		snprintf(out, 16, "0000:%.7s", base);
	} else if (len == 12 && hex_run(base, 4) && base[4] == ':' && hex_run(base + 5, 2) &&
		   base[7] == ':' && hex_run(base + 8, 2) && base[10] == '.' &&
		   base[11] >= '0' && base[11] <= '7') {
		snprintf(out, 16, "%.12s", base);
	} else {
		return false;
	}
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return true;
}

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
	char path[128], num[32], *end;
	long n;
	int ret;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", bdf);
	ret = readlink_base(path, num, sizeof(num));
	if (ret)
		return ret;
	n = strtol(num, &end, 10);
	if (*end || n < 0 || n > 0x7fffffff)
		return -EINVAL;
	return (int)n;
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

bool svmbind__driver_is_vfio(const char *driver)
{
	/* vfio-pci and its variants (mlx5-vfio-pci, ...) all say so in their name. */
	return strstr(driver, "vfio") != NULL;
}

/* Drivers that leave DMA to their user (driver_managed_dma) keep a group viable. */
static bool driver_keeps_viable(const char *driver)
{
	return !*driver || svmbind__driver_is_vfio(driver) || !strcmp(driver, "pci-stub") ||
	       !strcmp(driver, "pcieport");
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
		if (svmbind__device_driver(bdf, driver, sizeof(driver)) || driver_keeps_viable(driver))
			continue;
		count++;
		if (used < len) {
			int n = snprintf(buf + used, len - used, "%s%s (%s)", used ? ", " : "", bdf, driver);

			used += n > 0 ? (size_t)n : 0;
		}
	}
	closedir(dir);
	if (used >= len && len > 4)
		strcpy(buf + len - 4, "...");
	return count;
}
