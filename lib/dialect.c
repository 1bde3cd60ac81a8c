// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Which SVM bind the kernel speaks (none, self only, with VFIO_SVM_PID), asked once per handle. */
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

/* A pid no kernel hands out (PID_MAX_LIMIT is 4M): the PID dialect answers ESRCH. */
#define PROBE_PID INT_MAX

static const char *const dialect_names[] = { "no SVM bind", "bind self only", "bind with VFIO_SVM_PID" };

/*
 * Ask with calls the kernel rejects before acting: argsz 0 is below every
 * minsz (EINVAL where BIND exists, ENOTTY where it does not); then a PID bind
 * of a pid that cannot exist (ESRCH where VFIO_SVM_PID is known, EINVAL where
 * the flag is not).
 */
static int probe_dialect(struct svmbind_device *dev)
{
	struct vfio_device_svm s = { .argsz = 0 };
	int err;

	if (!ioctl(dev->fd, VFIO_DEVICE_BIND_TASK, &s)) {
		pr_err("%s: dialect probe: BIND with argsz 0 succeeded (PASID %u): this kernel "
		       "checks no argsz; unbinding it", dev->name, s.pasid);
		s.argsz = sizeof(s);
		ioctl(dev->fd, VFIO_DEVICE_UNBIND_TASK, &s);
		return -EPROTO;
	}
	err = errno;
	if (err == ENOTTY)
		return SVMBIND_DIALECT_NONE;
	if (err != EINVAL) {
		pr_warn("%s: dialect probe: BIND with argsz 0: %s", dev->name, strerror(err));
		return -err;
	}
	s = (struct vfio_device_svm){ .argsz = sizeof(s), .flags = VFIO_SVM_PID, .pid = PROBE_PID };
	if (!ioctl(dev->fd, VFIO_DEVICE_BIND_TASK, &s)) {
		pr_err("%s: dialect probe: BIND of pid %d succeeded (PASID %u); unbinding it",
		       dev->name, PROBE_PID, s.pasid);
		s.flags = 0;
		ioctl(dev->fd, VFIO_DEVICE_UNBIND_TASK, &s);
		return -EPROTO;
	}
	err = errno;
	if (err == ESRCH)
		return SVMBIND_DIALECT_PID;
	if (err == EINVAL)
		return SVMBIND_DIALECT_SELF;
	pr_warn("%s: dialect probe: PID bind of a pid that cannot exist: %s", dev->name, strerror(err));
	return -err;
}

int svmbind__probe_dialect(struct svmbind_device *dev)
{
	int d;

	pthread_mutex_lock(&dev->lock);
	d = dev->dialect;
	if (d == INT_MIN) {
		d = probe_dialect(dev);
		/* Cache answers, not transient failures. */
		if (d >= 0) {
			dev->dialect = d;
			pr_info("%s: the kernel speaks: %s", dev->name, dialect_names[d]);
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return d;
}

int svmbind_device_dialect(struct svmbind_device *dev)
{
	int d;

	if (!dev)
		return NULL_ARG();
	d = svmbind__check_owner(dev->ctx, "svmbind_device_dialect");
	if (d)
		return d;
	d = svmbind__probe_dialect(dev);
	if (d == -EPROTO)	/* the library's verdict, not the kernel's errno */
		return FAIL(d);
	return d < 0 ? KFAIL(d, -d) : svmbind__ok(d);
}
