/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The lab's fake-kernel backend: the world is the fake root of
 * libsvmbind-fakekernel.so (tests/fake/), found in the process with dlsym.
 * Same signatures and semantics as lab.h's lab_* (lab.c dispatches).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lab.h"
#include "lab_backends.h"

static struct {
	unsigned (*version)(void);
	const char *(*root)(void);
	int (*set_driver)(const char *, const char *);
	int (*reset)(void);
} fk;

int lab_fake_open(void)
{
	fk.version = (unsigned (*)(void))dlsym(RTLD_DEFAULT, "fakek_version");
	fk.root = (const char *(*)(void))dlsym(RTLD_DEFAULT, "fakek_root");
	fk.set_driver = (int (*)(const char *, const char *))dlsym(RTLD_DEFAULT, "fakek_set_driver");
	fk.reset = (int (*)(void))dlsym(RTLD_DEFAULT, "fakek_reset");
	if (!fk.version || !fk.root || !fk.set_driver || !fk.reset || !fk.root())
		return -ENODEV;
	return 0;
}

const char *lab_fake_dev(unsigned int i)
{
	static const char *const devs[] = { "0000:01:01.0", "0000:01:02.0", "0000:00:03.0" };

	return i < 3 ? devs[i] : NULL;
}

int lab_fake_reset(void)
{
	if (!fk.reset && lab_fake_open())
		return -ENODEV;
	return fk.reset();
}

static bool param_known(const char *name)
{
	return !strcmp(name, "dialect") || !strcmp(name, "pasid_min") || !strcmp(name, "pasid_max") ||
	       !strcmp(name, "bonds");
}

/* Through the (interposed) open/write, exactly as a test writes the real module's parameters. */
static int write_sys(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ssize_t k = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	return k == (ssize_t)strlen(val) ? 0 : -(k < 0 ? e : EIO);
}

static int read_sys(const char *path, long *value)
{
	char b[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ssize_t k = read(fd, b, sizeof(b) - 1);
	int e = errno;
	close(fd);
	if (k < 0)
		return -e;
	b[k] = 0;
	char *end;
	errno = 0;
	*value = strtol(b, &end, 0);
	return end == b || errno ? -EIO : 0;
}

int lab_fake_set_param(const char *name, long value)
{
	char p[256], v[32];

	if (!name || !param_known(name))
		return -ENOENT;
	if (!strcmp(name, "bonds"))
		return -EACCES; /* read-only parameter: kernfs refuses the write open */
	snprintf(p, sizeof(p), SVMREF_PARAM_DIR "/%s", name);
	snprintf(v, sizeof(v), "%ld\n", value);
	return write_sys(p, v);
}

int lab_fake_get_param(const char *name, long *value)
{
	char p[256];

	if (!name || !value || !param_known(name))
		return -ENOENT;
	snprintf(p, sizeof(p), SVMREF_PARAM_DIR "/%s", name);
	return read_sys(p, value);
}

static bool cap_sys_ptrace(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_SYS_PTRACE / 32].effective & (1u << (CAP_SYS_PTRACE % 32));
}

int lab_fake_set_yama(int scope)
{
	const char *path = "/proc/sys/kernel/yama/ptrace_scope";
	char v[16];
	long cur = 0;
	int r;

	if (scope < 0 || scope > 3)
		return -EINVAL;
	if ((r = read_sys(path, &cur)))
		return r == -ENOENT ? -EOPNOTSUPP : r;
	if (cur == 3 && scope != 3)
		return -EOPNOTSUPP; /* Yama's "no attach" is sticky */
	if (!cap_sys_ptrace())
		return -EPERM; /* yama_dointvec_minmax() */
	snprintf(v, sizeof(v), "%d\n", scope);
	return write_sys(path, v);
}

int lab_fake_bind_driver(const char *bdf, const char *which)
{
	const char *drv;

	if (!fk.set_driver && lab_fake_open())
		return -ENODEV;
	if (!bdf || !which)
		return -EINVAL;
	if (!strcmp(which, "vfio"))
		drv = SVMREF_DRIVER_NAME;
	else if (!strcmp(which, "other"))
		drv = "e1000e";
	else if (!strcmp(which, "none"))
		drv = NULL;
	else
		return -EINVAL;
	return fk.set_driver(bdf, drv);
}
