// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The seed's SVM bind/unbind, and what each does to the handle's bond book (bondbook.c). */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

static void witness_close(int w)
{
	if (w >= 0)
		close(w);
}

static int witness_open(struct svmbind_device *dev, pid_t pid)
{
	int fd = svmbind__witness_open(pid);

	if (fd >= 0)
		return fd;
	if (fd == -ENOENT || fd == -ESRCH)	/* no such process: the bind will say so */
		return WITNESS_NONE;
	/* A deployment fact (a service binding other users' processes, or a /proc of
	 * another pid namespace), not trouble: said once per device handle, the rest
	 * at debug level. */
	if (__atomic_exchange_n(&dev->unwatched_said, true, __ATOMIC_RELAXED))
		pr_debug("%s: pid %d: cannot watch its address space (%s)", dev->name, pid,
			 strerror(-fd));
	else if (fd == -EXDEV || fd == -ENOSYS)
		pr_info("%s: pid %d: /proc shows another pid namespace than this process's, and "
			"%s: the library cannot watch the address spaces it binds, so it will not "
			"notice by itself when one of them execs; mount a /proc of this pid "
			"namespace to let it (said once for this device)", dev->name, pid,
			fd == -ENOSYS ? "this kernel has no pidfd_open(2) to reach it through" :
			"the process is not visible there");
	else
		pr_info("%s: open /proc/%d/mem: %s: this process cannot watch the address spaces "
			"of the processes it binds (other users' ones, most likely), so the library "
			"will not notice by itself when one of them execs; run as their uid or with "
			"CAP_DAC_OVERRIDE to let it (said once for this device)", dev->name, pid,
			strerror(-fd));
	return WITNESS_NONE;
}

/* 1 while the witnessed address space exists, 0 once it is gone (exit, exec). */
static int witness_alive(int w)
{
	if (w < 0)
		return 1;	/* SELF (only asked in the owner process), NONE (unknowable) */
	return svmbind__witness_alive(w);
}

/* The ioctls, retried on EINTR: the kernel leaves nothing behind when it says so. */
static int svm_ioctl(struct svmbind_device *dev, unsigned long req, struct vfio_device_svm *s)
{
	int ret;

	do
		ret = ioctl(dev->fd, req, s);
	while (ret && errno == EINTR);
	return ret ? -errno : 0;
}

/* Undo a bind the caller must not keep. dev->lock held. */
static void undo_bind(struct svmbind_device *dev, uint32_t pasid)
{
	struct vfio_device_svm s = { .argsz = sizeof(s), .pasid = pasid };
	int ret = svm_ioctl(dev, VFIO_DEVICE_UNBIND_TASK, &s);

	if (ret && ret != -ESRCH)
		pr_warn("%s: undoing the bind of PASID %u: VFIO_DEVICE_UNBIND_TASK: %s (closing the "
			"device releases it)", dev->name, pasid, strerror(-ret));
}

static int bind_error(struct svmbind_device *dev, pid_t pid, bool foreign, int err)
{
	int scope, target_uid;

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
		if (scope < 2 && (target_uid = svmbind__real_uid_of(pid)) >= 0 &&
		    (uid_t)target_uid != getuid() && svmbind__cap_effective(19 /* CAP_SYS_PTRACE */) != 1)
			pr_err("%s: bind pid %d: %s: pid %d runs as uid %d, this process as uid %u: the "
			       "ptrace access check needs the same real uid and gid, or CAP_SYS_PTRACE",
			       dev->name, pid, strerror(err), pid, target_uid, (unsigned int)getuid());
		else if (scope == 1)
			pr_err("%s: bind pid %d: %s: Yama ptrace_scope is 1: only ancestors, or the tracer "
			       "it named, may bind it; have process %d call prctl(PR_SET_PTRACER, %d), or "
			       "grant CAP_SYS_PTRACE",
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

/*
 * Enter a bond the kernel just made into the book. dev->lock held; room reserved.
 *
 * The kernel hands a live address space's PASID to that address space only.
 * So when @pasid is already listed, either the listed address space still
 * lives, and this bind took one more reference on it (a thread, a CLONE_VM
 * child, or the same process again), or it is gone and the PASID was handed
 * out anew (1 reference). The witness tells which. Without one (WITNESS_NONE)
 * the entry is replaced: undercounting leaves a bond until the device closes,
 * overcounting could one day unbind someone else's.
 */
static void record_bond(struct svmbind_device *dev, uint32_t pasid, pid_t pid, int witness)
{
	struct bond *b = svmbind__book_find(&dev->book, pasid);

	if (!b) {
		svmbind__book_add(&dev->book, (struct bond){ pasid, 1, pid, witness });
		return;
	}
	if (b->witness != WITNESS_NONE && witness_alive(b->witness) && b->refs < UINT32_MAX) {
		b->refs++;
		witness_close(witness);	/* the older one watches the same address space */
		return;
	}
	pr_info("%s: PASID %u now binds pid %d: the address space pid %d had bound under it is "
		"gone (or cannot be watched)", dev->name, pasid, pid, b->pid);
	witness_close(b->witness);
	*b = (struct bond){ pasid, 1, pid, witness };
}

/*
 * Take dev->lock, make room in the book, ask the kernel to bind. 0 with the
 * lock held; else the lock released, @w closed, and the code to return.
 */
static int bind_locked(struct svmbind_device *dev, struct vfio_device_svm *s, int w, pid_t pid,
		       bool foreign)
{
	int ret;

	pthread_mutex_lock(&dev->lock);
	if (svmbind__book_reserve(&dev->book)) {	/* room first: a bond is never made and lost */
		pthread_mutex_unlock(&dev->lock);
		witness_close(w);
		return FAIL(ENOMEM);
	}
	ret = svm_ioctl(dev, VFIO_DEVICE_BIND_TASK, s);
	if (ret) {
		if (ret == -ENOTTY)
			dev->dialect = SVMBIND_DIALECT_NONE;
		pthread_mutex_unlock(&dev->lock);
		witness_close(w);
		return bind_error(dev, pid, foreign, -ret);
	}
	return 0;
}

enum bind_kind { BIND_SELF, BIND_PID, BIND_PIDFD };

static int do_bind(struct svmbind_device *dev, enum bind_kind kind, pid_t pid, int pidfd,
		   uint32_t *pasid)
{
	struct vfio_device_svm s;
	const char *what = kind == BIND_SELF ? "svm_bind_self" :
			   kind == BIND_PID ? "svm_bind_pid" : "svmbind_bind_pidfd";
	bool foreign = kind != BIND_SELF;
	int ret, witness, tries = 0;

	if (!dev || !pasid)
		return NULL_ARG();
	ret = svmbind__check_owner(dev->ctx, what);
	if (ret)
		return ret;
	if (kind == BIND_PIDFD) {
		pid = svmbind__pidfd_pid(pidfd);
		if (pid == -EBADF) {
			pr_err("%s: %s: fd %d is not a pidfd; get one with pidfd_open(2)", dev->name,
			       what, pidfd);
			return FAIL(EBADF);
		}
		if (pid < 0) {
			pr_err("%s: %s: the process of pidfd %d has exited and was reaped (or lives in "
			       "a pid namespace this process cannot see)", dev->name, what, pidfd);
			return KFAIL(SVMBIND_ERR_NO_PROCESS, ESRCH);
		}
	} else if (foreign && pid <= 0) {
		pr_err("%s: %s: pid %d: give a positive pid", dev->name, what, pid);
		return FAIL(EINVAL);
	}
	if (!foreign || pid == dev->ctx->owner)
		pid = dev->ctx->owner;

again:
	witness = pid == dev->ctx->owner ? WITNESS_SELF : witness_open(dev, pid);
	s = (struct vfio_device_svm){ .argsz = sizeof(s) };
	if (foreign) {
		s.flags = VFIO_SVM_PID;
		s.pid = (uint32_t)pid;
	}

	ret = bind_locked(dev, &s, witness, pid, foreign);
	if (ret)
		return ret;
	if (kind == BIND_PIDFD && !svmbind__pidfd_alive(pidfd)) {
		/* Reaped in between: the pid may have named a stranger at the bind. */
		undo_bind(dev, s.pasid);
		pthread_mutex_unlock(&dev->lock);
		witness_close(witness);
		pr_err("%s: %s: the process of pidfd %d (pid %d) exited during the bind; the bond "
		       "was undone", dev->name, what, pidfd, pid);
		return KFAIL(SVMBIND_ERR_NO_PROCESS, ESRCH);
	}
	if (!witness_alive(witness)) {
		/* The target exec'd (or exited) between the witness and the bind: we cannot
		 * tell which address space the kernel bound, so undo it and look again. */
		undo_bind(dev, s.pasid);
		pthread_mutex_unlock(&dev->lock);
		witness_close(witness);
		if (++tries < 3)
			goto again;
		pr_err("%s: %s: pid %d replaced its address space during each of %d binds", dev->name,
		       what, pid, tries);
		return FAIL(EAGAIN);
	}
	record_bond(dev, s.pasid, pid, witness);
	pthread_mutex_unlock(&dev->lock);
	pr_debug("%s: bound pid %d to PASID %u", dev->name, pid, s.pasid);
	*pasid = s.pasid;
	return svmbind__ok(0);
}

int svm_bind_self(struct svmbind_device *dev, uint32_t *pasid)
{
	return do_bind(dev, BIND_SELF, 0, -1, pasid);
}

int svm_bind_pid(struct svmbind_device *dev, pid_t pid, uint32_t *pasid)
{
	return do_bind(dev, BIND_PID, pid, -1, pasid);
}

int svmbind_bind_pidfd(struct svmbind_device *dev, int pidfd, uint32_t *pasid)
{
	return do_bind(dev, BIND_PIDFD, 0, pidfd, pasid);
}

/*
 * The broker's bind (lib/broker/request.c). @pid was read from @pidfd when the
 * client said HELLO, and @witness (a /proc/PID/mem fd opened then, or -1) holds
 * the address space that said it: nothing is read from /proc here. Bind the
 * pid, then check it was that process and that address space: the pidfd's
 * process has not exited (so the pid named it throughout), and the witness
 * lives. Else the bond is undone: SVMBIND_ERR_NO_PROCESS (exited), ESTALE (the
 * address space was replaced: an exec since HELLO). The book keeps a copy of
 * the witness, as svmbind_bind_pidfd() keeps the one it opens: *@spare when
 * the caller has one (a copy the book gave back at an unbind; taken, whatever
 * the outcome), else a new one.
 */
int svmbind__bind_witnessed(struct svmbind_device *dev, pid_t pid, int pidfd, int witness,
			    int *spare, uint32_t *pasid)
{
	struct vfio_device_svm s = { .argsz = sizeof(s), .flags = VFIO_SVM_PID, .pid = (uint32_t)pid };
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int ret, w = WITNESS_NONE;

	ret = svmbind__check_owner(dev->ctx, "svmbind_bind_pidfd");
	if (ret)
		return ret;
	if (pid == dev->ctx->owner) {
		w = WITNESS_SELF;	/* as svmbind_bind_pidfd() books the caller's own */
	} else if (witness >= 0 && spare && *spare >= 0) {
		w = *spare;
		*spare = -1;
	} else if (witness >= 0) {
		w = fcntl(witness, F_DUPFD_CLOEXEC, 3);
		if (w < 0)
			return KFAIL(errno, errno);
	}
	ret = bind_locked(dev, &s, w, pid, true);
	if (ret)
		return ret;
	if (poll(&p, 1, 0) != 0) {	/* exited (readable), or cannot tell: never keep it */
		undo_bind(dev, s.pasid);
		pthread_mutex_unlock(&dev->lock);
		witness_close(w);
		return KFAIL(SVMBIND_ERR_NO_PROCESS, ESRCH);
	}
	if (witness >= 0 && !svmbind__witness_alive(witness)) {
		undo_bind(dev, s.pasid);
		pthread_mutex_unlock(&dev->lock);
		witness_close(w);
		return FAIL(ESTALE);
	}
	record_bond(dev, s.pasid, pid, w);
	pthread_mutex_unlock(&dev->lock);
	*pasid = s.pasid;
	return svmbind__ok(0);
}

/* dev->lock held. Returns 0, or a code with errno set. @live: the caller has
 * just seen the bond's address space live (its own witness of it). @keep: when
 * the entry goes, its witness is handed to the caller instead of closed. */
static int unbind_locked(struct svmbind_device *dev, struct bond *b, uint32_t flags, bool live,
			 int *keep)
{
	struct vfio_device_svm s = { .argsz = sizeof(s), .flags = flags, .pasid = b->pasid };
	int err;

	if (!live && !witness_alive(b->witness)) {
		/* Never ask the kernel: the PASID may already tag someone else's bond. */
		/* The normal end of a bond whose process ended first: the return code says it. */
		pr_debug("%s: PASID %u (pid %d): its address space is gone (the process exited or "
			 "exec'd); the kernel released the bond with it", dev->name, b->pasid, b->pid);
		svmbind__book_drop(&dev->book, b);
		return FAIL(SVMBIND_ERR_BOND_GONE);
	}
	err = -svm_ioctl(dev, VFIO_DEVICE_UNBIND_TASK, &s);
	if (!err) {
		if (--b->refs == 0) {
			if (keep && *keep < 0 && b->witness >= 0) {
				*keep = b->witness;
				b->witness = WITNESS_NONE;
			}
			svmbind__book_drop(&dev->book, b);
		}
		return 0;
	}
	if (err == ESRCH) {
		pr_debug("%s: PASID %u (pid %d): the kernel had already released it: the process "
			 "exited or exec'd", dev->name, b->pasid, b->pid);
		svmbind__book_drop(&dev->book, b);
		return KFAIL(SVMBIND_ERR_BOND_GONE, err);
	}
	pr_err("%s: VFIO_DEVICE_UNBIND_TASK of PASID %u (flags 0x%x): %s%s", dev->name, b->pasid,
	       flags, strerror(err), err == EINVAL ? ": use 0, VFIO_SVM_PASID_RELEASE_FLUSHED or "
	       "VFIO_SVM_PASID_RELEASE_CLEAN" : "");
	return KFAIL(err, err);
}

#define RELEASE_FLAGS (VFIO_SVM_PASID_RELEASE_FLUSHED | VFIO_SVM_PASID_RELEASE_CLEAN)

static int do_unbind(struct svmbind_device *dev, uint32_t pasid, uint32_t flags, bool live, int *keep)
{
	struct bond *b;
	int ret;

	if (!dev)
		return NULL_ARG();
	if ((flags & RELEASE_FLAGS) == RELEASE_FLAGS) {
		pr_err("%s: svm_unbind of PASID %u: flags 0x%x: pass at most one of "
		       "VFIO_SVM_PASID_RELEASE_FLUSHED and VFIO_SVM_PASID_RELEASE_CLEAN", dev->name,
		       pasid, flags);
		return FAIL(EINVAL);
	}
	ret = svmbind__check_owner(dev->ctx, "svm_unbind");
	if (ret)
		return ret;
	pthread_mutex_lock(&dev->lock);
	b = svmbind__book_find(&dev->book, pasid);
	if (!b) {
		pthread_mutex_unlock(&dev->lock);
		pr_err("%s: svm_unbind: this handle never bound PASID %u (or it is already unbound)",
		       dev->name, pasid);
		return FAIL(SVMBIND_ERR_UNKNOWN_PASID);
	}
	ret = unbind_locked(dev, b, flags, live, keep);
	pthread_mutex_unlock(&dev->lock);
	return ret ? ret : svmbind__ok(0);
}

int svm_unbind(struct svmbind_device *dev, uint32_t pasid, uint32_t flags)
{
	return do_unbind(dev, pasid, flags, false, NULL);
}

int svmbind__unbind_live(struct svmbind_device *dev, uint32_t pasid, uint32_t flags, int *keep)
{
	return do_unbind(dev, pasid, flags, true, keep);
}

/*
 * At close. Bonds whose address space is gone are only forgotten; live ones
 * are unbound with flags 0, and where the kernel refuses that (EINVAL: an
 * IOMMU that insists on a release mode) with RELEASE_FLUSHED.
 */
int svmbind__unbind_all(struct svmbind_device *dev)
{
	int first = 0;

	pthread_mutex_lock(&dev->lock);
	for (struct bond *b; (b = svmbind__book_last(&dev->book));) {
		int ret;

		if (!witness_alive(b->witness)) {
			svmbind__book_drop(&dev->book, b);
			continue;
		}
		ret = unbind_locked(dev, b, 0, false, NULL);
		if (ret == -EINVAL)
			ret = unbind_locked(dev, b, VFIO_SVM_PASID_RELEASE_FLUSHED, false, NULL);
		if (ret == -SVMBIND_ERR_BOND_GONE || !ret)
			continue;
		if (!first)
			first = ret;
		svmbind__book_drop(&dev->book, b);	/* closing the fd releases it in the kernel anyway */
	}
	pthread_mutex_unlock(&dev->lock);
	return first;
}

/*
 * A forked child adopts the handle: its own address space is new, so the
 * parent's self-bonds become foreign ones, watched through /proc/PARENT/mem
 * while the parent lives and forgotten once it is gone (its address space,
 * and the kernel's bond with it, went with it). dev->ctx already names the
 * new owner.
 */
void svmbind__adopt_bonds(struct svmbind_device *dev, pid_t old_owner)
{
	pthread_mutex_lock(&dev->lock);
	/* Dropping only marks an entry: the walk may go on over the array. */
	for (size_t i = 0; i < dev->book.used; i++) {
		struct bond *b = &dev->book.v[i];

		if (!b->refs || b->witness != WITNESS_SELF)
			continue;
		b->witness = b->pid == old_owner ? witness_open(dev, b->pid) : WITNESS_NONE;
		if (b->witness == WITNESS_NONE && kill(b->pid, 0) && errno == ESRCH)
			svmbind__book_drop(&dev->book, b);
	}
	pthread_mutex_unlock(&dev->lock);
}
