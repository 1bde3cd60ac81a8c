// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The lab on a real kernel: the QEMU guest of tests/vm/ (vm.sh), or any
 * machine that sets the environment the same way (see lab.h):
 *
 *   SVMBIND_LAB_DEVS          "A,B,C"  A and B share an IOMMU group, C is alone
 *   SVMBIND_LAB_DRIVER        the VFIO driver of the lab ("vfio-pci" or
 *                             "svmref-vfio-pci")
 *   SVMBIND_LAB_OTHER_DRIVER  a driver that is not VFIO and owns DMA through
 *                             the kernel's DMA API (uio_pci_generic in the VM):
 *                             bound to a member it makes the group not viable
 *                             (iommu_group_dma_owner_claimed() on 6.0+).
 *                             pci-stub would not do: it sets driver_managed_dma.
 *
 * Everything goes through sysfs and procfs, as root:
 *   /sys/bus/pci/devices/BDF/{driver_override,driver/unbind,enable}
 *   /sys/bus/pci/drivers/NAME/bind      (returns the probe's own error)
 *   /sys/module/svmref/parameters/NAME  (only when the lab driver is svmref's)
 *   /proc/sys/kernel/yama/ptrace_scope
 *
 * Only the three lab devices can be rebound: the guest's root filesystem is
 * on other PCI devices (virtio-9p).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lab.h"
#include "lab_backends.h"

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define PCI_DRIVERS	"/sys/bus/pci/drivers"
#define YAMA_SCOPE	"/proc/sys/kernel/yama/ptrace_scope"

static struct {
	bool open;
	char devs[3][32];
	char driver[64];	/* the lab's VFIO driver */
	char other[64];		/* the non-VFIO driver */
} lab;

__attribute__((format(printf, 1, 2)))
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "lab_real: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Write @val to @path in one write(); 0 or -errno (sysfs stores return theirs). */
static int write_str(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	err = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (close(fd) && !err && errno != EINTR)
		err = -errno;
	return err;
}

/* Read the first line of @path into @buf, newline stripped; 0 or -errno. */
static int read_line(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/* Last component of the symlink @path into @buf; "" when there is no link. */
static int link_name(const char *path, char *buf, size_t size)
{
	char target[PATH_MAX];
	ssize_t n;
	const char *base;

	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		buf[0] = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	target[n] = 0;
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	memcpy(buf, base, strlen(base) + 1);
	return 0;
}

static int dev_path(char *buf, size_t size, const char *bdf, const char *attr)
{
	int n = snprintf(buf, size, PCI_DEVICES "/%s/%s", bdf, attr);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int cur_driver(const char *bdf, char *buf, size_t size)
{
	char p[PATH_MAX];
	int r = dev_path(p, sizeof(p), bdf, "driver");

	return r ? r : link_name(p, buf, size);
}

static int group_of(const char *bdf, char *buf, size_t size)
{
	char p[PATH_MAX];
	int r = dev_path(p, sizeof(p), bdf, "iommu_group");

	if (r)
		return r;
	r = link_name(p, buf, size);
	return r ? r : buf[0] ? 0 : -ENOENT;
}

/* Members of IOMMU group @grp, or -errno. */
static int group_size(const char *grp)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%s/devices", grp);
	return lab_count_entries(p);
}

static bool is_lab_dev(const char *bdf)
{
	for (unsigned int i = 0; i < 3; i++)
		if (!strcmp(bdf, lab.devs[i]))
			return true;
	return false;
}

static bool driver_exists(const char *name)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), PCI_DRIVERS "/%s", name);
	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static bool is_svmref(void)
{
	return !strcmp(lab.driver, SVMREF_DRIVER_NAME);
}

int lab_real_open(void)
{
	const char *devs = getenv("SVMBIND_LAB_DEVS");
	const char *drv = getenv("SVMBIND_LAB_DRIVER");
	const char *other = getenv("SVMBIND_LAB_OTHER_DRIVER");
	char g[3][32], p[PATH_MAX];
	const char *s;
	struct stat st;
	bool noiommu;
	int r;

	if (lab.open)
		return 0;
	if (!devs || !*devs)
		return -ENODEV;
	if (!drv || !*drv || strlen(drv) >= sizeof(lab.driver) ||
	    (other && strlen(other) >= sizeof(lab.other))) {
		say("SVMBIND_LAB_DEVS is set but SVMBIND_LAB_DRIVER is %s%s", drv ? "bad: " : "not set", drv ? drv : "");
		return -EINVAL;
	}
	s = devs;
	for (unsigned int i = 0; i < 3; i++) {
		size_t len = strcspn(s, ",");

		if (!len || len >= sizeof(lab.devs[i]) || (i < 2 && s[len] != ',') || (i == 2 && s[len])) {
			say("SVMBIND_LAB_DEVS=\"%s\" is not \"A,B,C\"", devs);
			return -EINVAL;
		}
		memcpy(lab.devs[i], s, len);
		lab.devs[i][len] = 0;
		if (strchr(lab.devs[i], '/') || lab.devs[i][0] == '.') {
			say("bad device name \"%s\"", lab.devs[i]);
			return -EINVAL;
		}
		s += len + 1;
	}
	snprintf(lab.driver, sizeof(lab.driver), "%s", drv);
	snprintf(lab.other, sizeof(lab.other), "%s", other ? other : "");

	for (unsigned int i = 0; i < 3; i++) {
		if ((r = dev_path(p, sizeof(p), lab.devs[i], "")) || stat(p, &st)) {
			say("no PCI device %s", lab.devs[i]);
			return -ENODEV;
		}
		if ((r = group_of(lab.devs[i], g[i], sizeof(g[i])))) {
			say("%s has no IOMMU group (is the IOMMU on?)", lab.devs[i]);
			return r;
		}
	}
	/* In no-IOMMU mode every device has a group of its own: A and B cannot share. */
	noiommu = getenv("SVMBIND_LAB_NOIOMMU") && !strcmp(getenv("SVMBIND_LAB_NOIOMMU"), "1");
	if ((strcmp(g[0], g[1]) && !noiommu) || !strcmp(g[0], g[2])) {
		say("SVMBIND_LAB_DEVS=\"%s\": A and B must share an IOMMU group and C must not"
		    " (groups %s, %s, %s)", devs, g[0], g[1], g[2]);
		return -EINVAL;
	}
	if (group_size(g[2]) != 1) {
		say("%s must be alone in its IOMMU group %s", lab.devs[2], g[2]);
		return -EINVAL;
	}
	if (!driver_exists(lab.driver)) {
		say("driver %s is not loaded", lab.driver);
		return -ENODEV;
	}
	if (geteuid() != 0)
		return -EPERM;
	lab.open = true;
	return 0;
}

const char *lab_real_dev(unsigned int i)
{
	return lab.open && i < 3 ? lab.devs[i] : NULL;
}

/* Bind @bdf (driver_override already says @drv) to @drv. drivers/NAME/bind
 * reports the probe's own error, which drivers_probe would swallow: -EBUSY for
 * a DMA-API driver in a group that a VFIO container holds. */
static int probe(const char *bdf, const char *drv)
{
	char p[PATH_MAX], now[64];
	int r;

	snprintf(p, sizeof(p), PCI_DRIVERS "/%s/bind", drv);
	r = write_str(p, bdf);
	if (!cur_driver(bdf, now, sizeof(now)) && !strcmp(now, drv))
		return 0;
	return r ? r : -EBUSY;
}

int lab_real_bind_driver(const char *bdf, const char *which)
{
	char cur[64], p[PATH_MAX], val[32];
	const char *want;
	int r;

	if (!lab.open)
		return -ENODEV;
	if (!bdf || !which)
		return -EINVAL;
	if (!is_lab_dev(bdf))
		return -ENODEV;	/* only the lab's devices */
	if (!strcmp(which, "vfio"))
		want = lab.driver;
	else if (!strcmp(which, "other"))
		want = lab.other;
	else if (!strcmp(which, "none"))
		want = NULL;
	else
		return -EINVAL;
	if (want && !*want)
		return -EOPNOTSUPP;	/* no SVMBIND_LAB_OTHER_DRIVER */
	if (want && !driver_exists(want))
		return -EOPNOTSUPP;

	if ((r = cur_driver(bdf, cur, sizeof(cur))))
		return r;
	if ((r = dev_path(p, sizeof(p), bdf, "driver_override")))
		return r;
	if (want && !strcmp(cur, want))
		return write_str(p, want);
	if (!want && !*cur)
		return write_str(p, "\n");

	/*
	 * A VFIO driver's remove() waits, uninterruptibly in the end, until
	 * every fd of the device is closed: unbinding a device this process
	 * (or any other) has open would hang. vfio-pci enables the PCI device
	 * exactly while it is open; refuse then.
	 */
	if (*cur && (!strcmp(cur, lab.driver) || !strcmp(cur, "vfio-pci") ||
		     !strcmp(cur, SVMREF_DRIVER_NAME))) {
		char en[64];

		if (!dev_path(en, sizeof(en), bdf, "enable") &&
		    !read_line(en, val, sizeof(val)) && strcmp(val, "0"))
			return -EBUSY;
	}

	/* driver_override first, so that nothing else can take it once free. */
	if ((r = write_str(p, want ? want : "\n")))
		return r;
	if (*cur) {
		if ((r = dev_path(p, sizeof(p), bdf, "driver/unbind")) || (r = write_str(p, bdf)))
			return r;
	}
	if (!want)
		return 0;
	r = probe(bdf, want);
	if (r && *cur) {
		/* A refused rebind leaves the device where it was. */
		if (!dev_path(p, sizeof(p), bdf, "driver_override") && !write_str(p, cur))
			(void)probe(bdf, cur);
	}
	return r;
}

static int param_path(char *buf, size_t size, const char *name)
{
	if (!name || !*name || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	if (!is_svmref())
		return -EOPNOTSUPP;	/* stock vfio-pci has no provider to steer */
	snprintf(buf, size, SVMREF_PARAM_DIR "/%s", name);
	if (access(buf, F_OK))
		return access(SVMREF_PARAM_DIR, F_OK) ? -EOPNOTSUPP : -EINVAL;
	return 0;
}

int lab_real_set_param(const char *name, long value)
{
	char p[PATH_MAX], v[32];
	int r;

	if (!lab.open)
		return -ENODEV;
	if ((r = param_path(p, sizeof(p), name)))
		return r;
	snprintf(v, sizeof(v), "%ld\n", value);
	return write_str(p, v);
}

int lab_real_get_param(const char *name, long *value)
{
	char p[PATH_MAX], v[64], *end;
	long x;
	int r;

	if (!lab.open)
		return -ENODEV;
	if (!value)
		return -EINVAL;
	if ((r = param_path(p, sizeof(p), name)) || (r = read_line(p, v, sizeof(v))))
		return r;
	errno = 0;
	x = strtol(v, &end, 0);
	if (errno || end == v || *end)
		return -EIO;
	*value = x;
	return 0;
}

int lab_real_set_yama(int scope)
{
	char v[16];
	int r;

	if (!lab.open)
		return -ENODEV;
	if (scope < 0 || scope > 3)
		return -EINVAL;
	if ((r = read_line(YAMA_SCOPE, v, sizeof(v))))
		return r == -ENOENT ? -EOPNOTSUPP : r;
	if (!strcmp(v, "3") && scope != 3)
		return -EOPNOTSUPP;	/* sticky until reboot */
	snprintf(v, sizeof(v), "%d\n", scope);
	return write_str(YAMA_SCOPE, v);
}

int lab_real_reset(void)
{
	int r, ret = 0;

	if (!lab.open)
		return -ENODEV;
	for (unsigned int i = 0; i < 3; i++)
		if ((r = lab_real_bind_driver(lab.devs[i], "vfio")) && !ret)
			ret = r;
	if (is_svmref()) {
		/* pasid_max first, then pasid_min, then pasid_max again: whatever
		 * order a range check in the provider wants, this ends at 1..1023. */
		(void)lab_real_set_param("pasid_max", 1023);
		if ((r = lab_real_set_param("pasid_min", 1)) && !ret)
			ret = r;
		if ((r = lab_real_set_param("pasid_max", 1023)) && !ret)
			ret = r;
		if ((r = lab_real_set_param("dialect", SVMREF_DIALECT_PID)) && !ret)
			ret = r;
	}
	r = lab_real_set_yama(0);
	if (r && r != -EOPNOTSUPP && !ret)
		ret = r;
	else if (r == -EOPNOTSUPP && !access(YAMA_SCOPE, F_OK) && !ret)
		ret = r;	/* Yama is stuck at 3: this boot cannot run more cases */
	return ret;
}
