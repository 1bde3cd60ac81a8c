// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The seed's SVM bind/unbind, the bonds a handle holds, and the dialect probe. */
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

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
		return FAIL(EINVAL);
	d = svmbind__probe_dialect(dev);
	if (d == -EPROTO)	/* the library's verdict, not the kernel's errno */
		return FAIL(d);
	return d < 0 ? KFAIL(d, -d) : svmbind__ok(d);
}

static struct bond *find_bond(struct svmbind_device *dev, uint32_t pasid)
{
	for (size_t i = 0; i < dev->nr_bonds; i++)
		if (dev->bonds[i].pasid == pasid)
			return &dev->bonds[i];
	return NULL;
}

static void drop_bond(struct svmbind_device *dev, struct bond *b)
{
	size_t i = (size_t)(b - dev->bonds);

	memmove(b, b + 1, (dev->nr_bonds - i - 1) * sizeof(*b));
	dev->nr_bonds--;
}

/* Make room before asking the kernel, so a bond is never made and then lost. */
static int reserve_bond(struct svmbind_device *dev)
{
	struct bond *p;
	size_t cap;

	if (dev->nr_bonds < dev->cap_bonds)
		return 0;
	cap = dev->cap_bonds ? dev->cap_bonds * 2 : 4;
	p = realloc(dev->bonds, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	dev->bonds = p;
	dev->cap_bonds = cap;
	return 0;
}

static int bind_error(struct svmbind_device *dev, pid_t pid, bool foreign, int err)
{
	int scope;

	switch (err) {
	case ENOTTY:
		pr_err("%s: VFIO_DEVICE_BIND_TASK: %s: this kernel has no SVM bind (no mainline "
		       "kernel does); it needs the seed's VFIO SVM patch or a provider driver",
		       dev->name, strerror(err));
		return KFAIL(SVMBIND_ERR_NO_SVM_BIND, err);
	case ENOSPC:
		pr_err("%s: VFIO_DEVICE_BIND_TASK: %s: the device's PASID space is exhausted; "
		       "unbind PASIDs no longer used", dev->name, strerror(err));
		return KFAIL(SVMBIND_ERR_PASID_EXHAUSTED, err);
	case ENODEV:
		pr_err("%s: VFIO_DEVICE_BIND_TASK: %s: the device or its IOMMU cannot do SVM (PASID, "
		       "and on VT-d scalable mode: boot with intel_iommu=on,sm_on)", dev->name,
		       strerror(err));
		return KFAIL(err, err);
	}
	if (!foreign) {
		pr_err("%s: VFIO_DEVICE_BIND_TASK (self): %s", dev->name, strerror(err));
		return KFAIL(err, err);
	}
	switch (err) {
	case ESRCH:
		pr_err("%s: bind pid %d: %s: no such process in this pid namespace, or it has no "
		       "address space (zombie or kernel thread)", dev->name, pid, strerror(err));
		return KFAIL(SVMBIND_ERR_NO_PROCESS, err);
	case EACCES:
	case EPERM:
		scope = svmbind__ptrace_scope();
		if (scope == 1)
			pr_err("%s: bind pid %d: %s: Yama ptrace_scope is 1: only ancestors may bind it; "
			       "have process %d call prctl(PR_SET_PTRACER, %d), or grant CAP_SYS_PTRACE",
			       dev->name, pid, strerror(err), pid, getpid());
		else if (scope >= 2)
			pr_err("%s: bind pid %d: %s: Yama ptrace_scope is %d: %s", dev->name, pid,
			       strerror(err), scope, scope == 2 ? "only CAP_SYS_PTRACE may bind another "
			       "process" : "no process may bind another (until reboot)");
		else
			pr_err("%s: bind pid %d: %s: the ptrace access check refused: run as the same "
			       "user (real uid and gid), or with CAP_SYS_PTRACE; the target may also be "
			       "non-dumpable or an LSM may deny it", dev->name, pid, strerror(err));
		return KFAIL(SVMBIND_ERR_PTRACE_DENIED, err);
	case EINVAL:
		/* Ambiguous: unknown flag (a kernel without VFIO_SVM_PID) or an IOMMU refusal. */
		if (svmbind__probe_dialect(dev) == SVMBIND_DIALECT_SELF) {
			pr_err("%s: bind pid %d: %s: this kernel binds only the caller's own address "
			       "space (no VFIO_SVM_PID); have process %d open the device and bind itself",
			       dev->name, pid, strerror(err), pid);
			return KFAIL(SVMBIND_ERR_NO_PID_BIND, err);
		}
		break;
	}
	pr_err("%s: bind pid %d: VFIO_DEVICE_BIND_TASK: %s", dev->name, pid, strerror(err));
	return KFAIL(err, err);
}

static int do_bind(struct svmbind_device *dev, bool foreign, pid_t pid, uint32_t *pasid)
{
	struct vfio_device_svm s = { .argsz = sizeof(s) };
	struct bond *b;
	int err;

	if (!dev || !pasid)
		return FAIL(EINVAL);
	if (foreign) {
		if (pid <= 0) {
			pr_err("%s: svm_bind_pid: pid %d: give a positive pid", dev->name, pid);
			return FAIL(EINVAL);
		}
		s.flags = VFIO_SVM_PID;
		s.pid = (uint32_t)pid;
	}

	pthread_mutex_lock(&dev->lock);
	if (reserve_bond(dev)) {
		pthread_mutex_unlock(&dev->lock);
		return FAIL(ENOMEM);
	}
	if (ioctl(dev->fd, VFIO_DEVICE_BIND_TASK, &s)) {
		err = errno;
		if (err == ENOTTY)
			dev->dialect = SVMBIND_DIALECT_NONE;
		pthread_mutex_unlock(&dev->lock);
		return bind_error(dev, pid, foreign, err);
	}
	if (!foreign)
		pid = getpid();
	b = find_bond(dev, s.pasid);
	if (b && b->pid != pid) {
		/* The kernel reuses a PASID only once its bond has ended (the
		 * process exited or exec'd): our entry is stale. */
		pr_info("%s: PASID %u now binds pid %d: its bond with pid %d had ended",
			dev->name, s.pasid, pid, b->pid);
		*b = (struct bond){ .pasid = s.pasid, .refs = 1, .pid = pid };
	} else if (b) {
		b->refs++;	/* the same address space again: one more reference */
	} else {
		dev->bonds[dev->nr_bonds++] = (struct bond){ .pasid = s.pasid, .refs = 1, .pid = pid };
	}
	pthread_mutex_unlock(&dev->lock);
	pr_debug("%s: bound pid %d to PASID %u", dev->name, pid, s.pasid);
	*pasid = s.pasid;
	return svmbind__ok(0);
}

int svm_bind_self(struct svmbind_device *dev, uint32_t *pasid)
{
	return do_bind(dev, false, 0, pasid);
}

int svm_bind_pid(struct svmbind_device *dev, pid_t pid, uint32_t *pasid)
{
	return do_bind(dev, true, pid, pasid);
}

/* dev->lock held. Returns 0, or a code with errno set. */
static int unbind_locked(struct svmbind_device *dev, struct bond *b, uint32_t flags)
{
	struct vfio_device_svm s = { .argsz = sizeof(s), .flags = flags, .pasid = b->pasid };
	int err;

	if (!ioctl(dev->fd, VFIO_DEVICE_UNBIND_TASK, &s)) {
		if (--b->refs == 0)
			drop_bond(dev, b);
		return 0;
	}
	err = errno;
	if (err == ESRCH) {
		pr_warn("%s: PASID %u (pid %d): the kernel had already released it: the process "
			"exited or exec'd", dev->name, b->pasid, b->pid);
		drop_bond(dev, b);
		return KFAIL(SVMBIND_ERR_BOND_GONE, err);
	}
	pr_err("%s: VFIO_DEVICE_UNBIND_TASK of PASID %u (flags 0x%x): %s%s", dev->name, b->pasid,
	       flags, strerror(err), err == EINVAL ? ": use 0, VFIO_SVM_PASID_RELEASE_FLUSHED or "
	       "VFIO_SVM_PASID_RELEASE_CLEAN" : "");
	return KFAIL(err, err);
}

int svm_unbind(struct svmbind_device *dev, uint32_t pasid, uint32_t flags)
{
	struct bond *b;
	int ret;

	if (!dev)
		return FAIL(EINVAL);
	pthread_mutex_lock(&dev->lock);
	b = find_bond(dev, pasid);
	if (!b) {
		pthread_mutex_unlock(&dev->lock);
		pr_err("%s: svm_unbind: this handle never bound PASID %u (or it is already unbound)",
		       dev->name, pasid);
		return FAIL(SVMBIND_ERR_UNKNOWN_PASID);
	}
	ret = unbind_locked(dev, b, flags);
	pthread_mutex_unlock(&dev->lock);
	return ret ? ret : svmbind__ok(0);
}

int svmbind__unbind_all(struct svmbind_device *dev)
{
	int first = 0;

	pthread_mutex_lock(&dev->lock);
	while (dev->nr_bonds) {
		struct bond *b = &dev->bonds[dev->nr_bonds - 1];
		int ret = unbind_locked(dev, b, 0);

		if (ret == -EINVAL)	/* some IOMMUs insist on a release mode */
			ret = unbind_locked(dev, b, VFIO_SVM_PASID_RELEASE_FLUSHED);
		if (ret == -SVMBIND_ERR_BOND_GONE)
			continue;
		if (ret) {
			if (!first)
				first = ret;
			drop_bond(dev, b);	/* closing the fd releases it in the kernel anyway */
		}
	}
	pthread_mutex_unlock(&dev->lock);
	return first;
}

size_t svmbind_device_nr_bonds(struct svmbind_device *dev)
{
	size_t n;

	pthread_mutex_lock(&dev->lock);
	n = dev->nr_bonds;
	pthread_mutex_unlock(&dev->lock);
	return n;
}

int svmbind_device_bond(struct svmbind_device *dev, size_t i, struct svmbind_bond *bond)
{
	struct svmbind_bond out = { 0 };

	if (!dev || !bond || !OPTS_VALID(bond, struct svmbind_bond))
		return FAIL(EINVAL);
	pthread_mutex_lock(&dev->lock);
	if (i >= dev->nr_bonds) {
		pthread_mutex_unlock(&dev->lock);
		return FAIL(ENOENT);
	}
	out.sz = bond->sz;
	out.pasid = dev->bonds[i].pasid;
	out.refs = dev->bonds[i].refs;
	out.pid = dev->bonds[i].pid;
	pthread_mutex_unlock(&dev->lock);
	memcpy(bond, &out, bond->sz < sizeof(out) ? bond->sz : sizeof(out));
	return svmbind__ok(0);
}
