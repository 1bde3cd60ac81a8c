/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Self-check of tests/lab/lab_real.c in the VM (no libsvmbind needed):
 * built by tests/vm/smoke.sh together with lab_real.c, run on each driver.
 * Prints one line per check; exits 0 when all pass, 1 otherwise, 77 when
 * there is no lab.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "lab.h"
#include "lab_backends.h"

static int failed, passed;

__attribute__((format(printf, 2, 3)))
static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", ok ? "ok" : "FAILED");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		passed++;
	else
		failed++;
}

static const char *driver_of(const char *bdf)
{
	static char buf[64];
	char p[PATH_MAX], t[PATH_MAX];
	ssize_t n;

	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(p, t, sizeof(t) - 1);
	if (n < 0)
		return "none";
	t[n] = 0;
	snprintf(buf, sizeof(buf), "%s", strrchr(t, '/') + 1);
	return buf;
}

struct vfio {
	int cont, group;
};

/* Open container + group of @bdf; returns the group's status flags or -errno. */
static int group_open(const char *bdf, struct vfio *v, int set_container)
{
	char p[PATH_MAX], t[PATH_MAX];
	struct vfio_group_status st = { .argsz = sizeof(st) };
	ssize_t n;

	v->cont = v->group = -1;
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(p, t, sizeof(t) - 1);
	if (n < 0)
		return -errno;
	t[n] = 0;
	snprintf(p, sizeof(p), "/dev/vfio/%s", strrchr(t, '/') + 1);
	v->group = open(p, O_RDWR | O_CLOEXEC);
	if (v->group < 0)
		return -errno;
	if (ioctl(v->group, VFIO_GROUP_GET_STATUS, &st))
		return -errno;
	if (set_container) {
		v->cont = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		if (v->cont < 0 || ioctl(v->group, VFIO_GROUP_SET_CONTAINER, &v->cont))
			return -errno;
		if (ioctl(v->cont, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
			return -errno;
	}
	return (int)st.flags;
}

static void group_close(struct vfio *v)
{
	if (v->group >= 0)
		close(v->group);
	if (v->cont >= 0)
		close(v->cont);
}

int main(void)
{
	const char *drv = getenv("SVMBIND_LAB_DRIVER");
	const char *A, *B, *C;
	struct vfio v;
	long x;
	int r, devfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = lab_real_open();
	if (r == -ENODEV && !getenv("SVMBIND_LAB_DEVS"))
		return 77;
	check(r == 0, "lab_real_open: %d", r);
	if (r)
		return 1;
	A = lab_real_dev(0), B = lab_real_dev(1), C = lab_real_dev(2);
	check(A && B && C && !lab_real_dev(3), "devices %s %s %s", A, B, C);
	check(lab_real_reset() == 0, "reset");
	check(!strcmp(driver_of(A), drv) && !strcmp(driver_of(B), drv) && !strcmp(driver_of(C), drv),
	      "all on %s", drv);

	/* other: the shared group is not viable */
	r = lab_real_bind_driver(B, "other");
	check(r == 0 && !strcmp(driver_of(B), getenv("SVMBIND_LAB_OTHER_DRIVER")),
	      "B to other: %d, now %s", r, driver_of(B));
	r = group_open(A, &v, 0);
	check(r >= 0 && !(r & VFIO_GROUP_FLAGS_VIABLE), "A's group with B on other: flags %d", r);
	group_close(&v);
	r = lab_real_bind_driver(B, "vfio");
	check(r == 0 && !strcmp(driver_of(B), drv), "B back to vfio: %d, now %s", r, driver_of(B));
	r = group_open(A, &v, 0);
	check(r >= 0 && (r & VFIO_GROUP_FLAGS_VIABLE), "A's group viable again: flags %d", r);
	group_close(&v);

	/* none: unbound, group node of a lone device is gone */
	r = lab_real_bind_driver(C, "none");
	check(r == 0 && !strcmp(driver_of(C), "none"), "C to none: %d, now %s", r, driver_of(C));
	check(lab_real_bind_driver(C, "none") == 0, "C to none twice");
	r = group_open(C, &v, 0);
	check(r == -ENOENT, "C's group node with C unbound: %d", r);
	group_close(&v);
	r = lab_real_bind_driver(A, "none");
	check(r == 0, "A to none: %d", r);
	r = group_open(B, &v, 0);
	check(r >= 0 && (r & VFIO_GROUP_FLAGS_VIABLE), "B's group with A unbound is viable (6.0+): %d", r);
	group_close(&v);

	/* the group is held by a container: other cannot probe into it */
	check(lab_real_reset() == 0, "reset");
	r = group_open(A, &v, 1);
	check(r >= 0, "A's group in a container: %d", r);
	r = lab_real_bind_driver(B, "other");
	check(r == -EBUSY && !strcmp(driver_of(B), drv),
	      "B to other while A's group is in a container: %d (%s), still %s", r,
	      strerror(-r), driver_of(B));
	/* an open device cannot be unbound (remove() would wait for it) */
	devfd = ioctl(v.group, VFIO_GROUP_GET_DEVICE_FD, A);
	check(devfd >= 0, "device fd of A: %d", devfd);
	r = lab_real_bind_driver(A, "none");
	check(r == -EBUSY && !strcmp(driver_of(A), drv), "A to none while open: %d, still %s", r, driver_of(A));
	if (devfd >= 0)
		close(devfd);
	group_close(&v);
	check(lab_real_reset() == 0, "reset after the container is gone");
	check(!strcmp(driver_of(B), drv) && !strcmp(driver_of(A), drv), "A and B on %s", drv);

	/* bad arguments */
	check(lab_real_bind_driver("0000:00:00.0", "none") == -ENODEV, "not a lab device");
	check(lab_real_bind_driver(A, "bogus") == -EINVAL, "bogus which");

	/* parameters */
	r = lab_real_get_param("dialect", &x);
	if (strcmp(drv, SVMREF_DRIVER_NAME)) {
		check(r == -EOPNOTSUPP, "no provider params on %s: %d", drv, r);
		check(lab_real_set_param("dialect", 1) == -EOPNOTSUPP, "set too");
	} else {
		check(r == 0 && x == 2, "dialect %ld", x);
		check(lab_real_set_param("dialect", 1) == 0 && !lab_real_get_param("dialect", &x) && x == 1,
		      "dialect set to 1");
		check(lab_real_set_param("dialect", 7) == -EINVAL, "dialect 7 refused");
		check(lab_real_set_param("pasid_min", 5) == 0 && lab_real_set_param("pasid_max", 5) == 0,
		      "pasid range 5..5");
		r = lab_real_set_param("bonds", 3);
		check(r < 0, "bonds is read-only: %d", r);
		r = lab_real_get_param("bonds", &x);
		check(r == 0 && x == 0, "bonds %ld", x);
		check(lab_real_get_param("nope", &x) == -EINVAL, "unknown param");
		check(lab_real_set_param("../x", 1) == -EINVAL, "bad param name");
		check(lab_real_reset() == 0, "reset");
		check(!lab_real_get_param("dialect", &x) && x == 2, "dialect back to 2");
		check(!lab_real_get_param("pasid_min", &x) && x == 1, "pasid_min back to 1");
		check(!lab_real_get_param("pasid_max", &x) && x == 1023, "pasid_max back to 1023");
	}

	/* Yama (3 is sticky: not tested here) */
	check(lab_real_set_yama(2) == 0, "yama 2");
	check(lab_real_set_yama(4) == -EINVAL, "yama 4 refused");
	check(lab_real_reset() == 0, "reset");
	{
		char b[8] = "";
		FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");

		if (f) {
			if (!fgets(b, sizeof(b), f))
				b[0] = 0;
			fclose(f);
		}
		check(b[0] == '0', "yama back to 0 (%s)", b);
	}
	printf("labcheck on %s: %d passed, %d failed\n", drv, passed, failed);
	return failed ? 1 : 0;
}
