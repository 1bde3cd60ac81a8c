// SPDX-License-Identifier: GPL-2.0-only
/*
 * Raw-ioctl self-test of svmref.ko (no libsvmbind), run as root in the VM:
 *
 *   selftest [BDF [BDF2]]      default: the 3rd and 1st of $SVMBIND_LAB_DEVS
 *   selftest stress [BDF]      concurrent BIND/UNBIND/DMA/exit
 *
 * The devices must be bound to svmref-vfio-pci with the module's defaults.
 * Prints one line per check and "N passed, M failed"; exits 0 only if all
 * passed, 77 if it cannot run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <svmbind/vfio_svm.h>
#include "svmref_uapi.h"

static int passed, failed;

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

static void skip(const char *why)
{
	printf("SKIP: %s\n", why);
	exit(77);
}

/* ---------------------------------------------------------------- params */

static long get_param(const char *name)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", SVMREF_PARAM_DIR, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1000000 - errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -2000000;
	buf[n] = 0;
	return strtol(buf, NULL, 0);
}

static int set_param(const char *name, long v)
{
	char path[256], buf[64];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", SVMREF_PARAM_DIR, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld", v);
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

static int set_yama(int scope)
{
	int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_WRONLY);
	char c = '0' + scope;
	int ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, &c, 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* ------------------------------------------------------------------ vfio */

static int container = -1;

static int open_dev(const char *bdf)
{
	char path[256], link[256], *g;
	struct vfio_group_status st = { .argsz = sizeof(st) };
	static int groups[8], ngroups;
	static char gnames[8][32];
	int group = -1, dev, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	g = strrchr(link, '/') + 1;
	for (i = 0; i < ngroups; i++)
		if (!strcmp(gnames[i], g))
			group = groups[i];
	if (container < 0) {
		container = open("/dev/vfio/vfio", O_RDWR);
		if (container < 0)
			return -errno;
	}
	if (group < 0) {
		snprintf(path, sizeof(path), "/dev/vfio/%s", g);
		group = open(path, O_RDWR);
		if (group < 0)
			return -errno;
		if (ioctl(group, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
			return -EPERM;
		if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
			return -errno;
		if (ngroups == 0 && ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
			return -errno;
		groups[ngroups] = group;
		snprintf(gnames[ngroups++], sizeof(gnames[0]), "%s", g);
	}
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	return dev < 0 ? -errno : dev;
}

/* --------------------------------------------------------------- ioctls */

static int bind_raw(int fd, uint32_t argsz, uint32_t flags, uint32_t pid, uint32_t *pasid)
{
	struct vfio_device_svm s = { .argsz = argsz, .flags = flags, .pid = pid, .pasid = 0xdeadbeef };

	if (ioctl(fd, VFIO_DEVICE_BIND_TASK, &s))
		return -errno;
	if (pasid)
		*pasid = s.pasid;
	return 0;
}

/* PASID or -errno */
static long bind_self(int fd)
{
	uint32_t p = 0;
	int r = bind_raw(fd, sizeof(struct vfio_device_svm), 0, 0, &p);

	return r ? r : (long)p;
}

static long bind_pid(int fd, pid_t pid)
{
	uint32_t p = 0;
	int r = bind_raw(fd, sizeof(struct vfio_device_svm), VFIO_SVM_PID, pid, &p);

	return r ? r : (long)p;
}

static int unbind_raw(int fd, uint32_t argsz, uint32_t flags, uint32_t pasid)
{
	struct vfio_device_svm s = { .argsz = argsz, .flags = flags, .pasid = pasid };

	return ioctl(fd, VFIO_DEVICE_UNBIND_TASK, &s) ? -errno : 0;
}

static int unbind(int fd, uint32_t pasid)
{
	return unbind_raw(fd, sizeof(struct vfio_device_svm), 0, pasid);
}

static int dma_raw(int fd, uint32_t argsz, uint32_t flags, uint32_t pasid,
		   const void *va, void *buf, uint64_t len)
{
	struct svmref_dma d = {
		.argsz = argsz, .flags = flags, .pasid = pasid,
		.va = (uintptr_t)va, .len = len, .buf = (uintptr_t)buf,
	};

	return ioctl(fd, SVMREF_DEVICE_PASID_DMA, &d) ? -errno : 0;
}

static int dma(int fd, uint32_t pasid, const void *va, void *buf, uint64_t len, bool write)
{
	return dma_raw(fd, sizeof(struct svmref_dma), write ? SVMREF_DMA_WRITE : 0,
		       pasid, va, buf, len);
}

/* ----------------------------------------------------------------- agents */
/*
 * An agent is a forked process serving commands over a pipe: the target
 * (or the caller) of a BIND in another process.
 */
enum { OP_BIND_PID = 1, OP_BIND_SELF, OP_UNBIND, OP_SET_PTRACER, OP_CHECK,
       OP_EXEC, OP_EXIT, OP_PEEK_COW };

struct cmd {
	int op;
	int arg;
	uint32_t pasid;
	size_t off, len;
	char pat;
};

struct agent {
	pid_t pid;
	int wr, rd;	/* command pipe (write end), reply pipe (read end) */
};

#define BUF_SZ (4 * 4096)
static char target[BUF_SZ] __attribute__((aligned(4096)));
static char cow[4096] __attribute__((aligned(4096))) = "parent-cow";
static int agent_devfd = -1;

static long agent_serve(int rd, int wr)
{
	struct cmd c;
	long r;
	size_t i;

	for (;;) {
		if (read(rd, &c, sizeof(c)) != sizeof(c))
			_exit(0);
		switch (c.op) {
		case OP_BIND_PID:
			r = bind_pid(agent_devfd, c.arg);
			break;
		case OP_BIND_SELF:
			r = bind_self(agent_devfd);
			break;
		case OP_UNBIND:
			r = unbind(agent_devfd, c.pasid);
			break;
		case OP_SET_PTRACER:
			r = prctl(PR_SET_PTRACER, (unsigned long)(long)c.arg, 0, 0, 0) ? -errno : 0;
			break;
		case OP_CHECK:	/* target[off..off+len) == pat, everything else 'C' */
			r = 0;
			for (i = 0; i < BUF_SZ; i++) {
				char want = (i >= c.off && i < c.off + c.len) ? c.pat : 'C';

				if (target[i] != want) {
					r = -(long)i - 1;
					break;
				}
			}
			break;
		case OP_PEEK_COW:
			r = (unsigned char)cow[0];
			break;
		case OP_EXEC:
			execl("/bin/sleep", "sleep", "30", (char *)NULL);
			r = -errno;
			break;
		case OP_EXIT:
		default:
			_exit(c.arg);
		}
		if (write(wr, &r, sizeof(r)) != sizeof(r))
			_exit(1);
	}
}

/* uid: -1 stays root. Keeps only its pipes and agent_devfd. */
static struct agent agent_start(int devfd, int uid)
{
	int cp[2], rp[2];
	struct agent a = { -1, -1, -1 };

	if (pipe2(cp, O_CLOEXEC) || pipe2(rp, O_CLOEXEC))
		return a;
	a.pid = fork();
	if (a.pid == 0) {
		int keep[] = { cp[0], rp[1], devfd };

		for (int fd = 3; fd < 256; fd++) {
			bool k = false;

			for (unsigned int j = 0; j < 3; j++)
				k |= fd == keep[j];
			if (!k)
				close(fd);
		}
		agent_devfd = devfd;
		memset(target, 'C', BUF_SZ);
		if (uid >= 0) {
			if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
				_exit(3);
			/* setresuid made us non-dumpable; a same-uid tracer must be able to attach. */
			prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		}
		{
			long ready = 0;	/* fds closed, creds final */

			if (write(rp[1], &ready, sizeof(ready)) != sizeof(ready))
				_exit(1);
		}
		agent_serve(cp[0], rp[1]);
		_exit(0);
	}
	close(cp[0]);
	close(rp[1]);
	a.wr = cp[1];
	a.rd = rp[0];
	{
		long ready = -1;

		if (read(a.rd, &ready, sizeof(ready)) != sizeof(ready) || ready != 0)
			printf("# agent %d did not start\n", a.pid);
	}
	return a;
}

/* Reply, or LONG_MIN on EOF/error. */
static long agent_call(struct agent *a, struct cmd c)
{
	long r;

	if (write(a->wr, &c, sizeof(c)) != sizeof(c))
		return LONG_MIN;
	if (read(a->rd, &r, sizeof(r)) != sizeof(r))
		return LONG_MIN;
	return r;
}

static int agent_stop(struct agent *a)
{
	struct cmd c = { .op = OP_EXIT };
	int st = -1;

	if (a->pid <= 0)
		return -1;
	if (write(a->wr, &c, sizeof(c)) < 0)
		kill(a->pid, SIGKILL);
	close(a->wr);
	close(a->rd);
	waitpid(a->pid, &st, 0);
	a->pid = -1;
	return st;
}

/* ------------------------------------------------------------------ tests */

static void test_params(void)
{
	check(get_param("dialect") == 2, "dialect defaults to 2 (%ld)", get_param("dialect"));
	check(get_param("pasid_min") == 1, "pasid_min defaults to 1 (%ld)", get_param("pasid_min"));
	check(get_param("pasid_max") == 1023, "pasid_max defaults to 1023 (%ld)", get_param("pasid_max"));
	check(get_param("bonds") == 0, "bonds starts at 0 (%ld)", get_param("bonds"));
	check(set_param("bonds", 5) < 0, "bonds is read-only");
	check(set_param("dialect", 3) == -EINVAL, "dialect=3 rejected");
}

static void test_errors(int fd)
{
	uint32_t p = 0;
	int r;
	struct vfio_device_svm s = { .argsz = 16 };
	void *ro;

	check(bind_raw(fd, 15, 0, 0, &p) == -EINVAL, "BIND argsz 15: EINVAL (d2)");
	check(bind_raw(fd, 12, 0, 0, &p) == -EINVAL, "BIND argsz 12: EINVAL (d2)");
	check(bind_raw(fd, 0, 0, 0, &p) == -EINVAL, "BIND argsz 0: EINVAL");
	check(bind_raw(fd, 16, VFIO_SVM_PASID_RELEASE_FLUSHED, 0, &p) == -EINVAL, "BIND flags RELEASE_FLUSHED: EINVAL");
	check(bind_raw(fd, 16, 1u << 3, 0, &p) == -EINVAL, "BIND flags 1<<3: EINVAL");
	check(bind_raw(fd, 16, VFIO_SVM_PID | (1u << 31), getpid(), &p) == -EINVAL, "BIND flags PID|1<<31: EINVAL");
	check(ioctl(fd, VFIO_DEVICE_BIND_TASK, (void *)8) == -1 && errno == EFAULT, "BIND bad pointer: EFAULT");
	p = 0;
	r = bind_raw(fd, 64, 0, 0, &p);
	check(r == 0 && p == 1, "BIND argsz 64 (bigger struct) ok, PASID 1 (%u)", p);
	check(unbind(fd, 1) == 0, "UNBIND it");
	check(unbind_raw(fd, 11, 0, 1) == -EINVAL, "UNBIND argsz 11: EINVAL");
	check(bind_self(fd) == 1, "bind again");
	check(unbind_raw(fd, 12, 0, 1) == -EINVAL, "UNBIND argsz 12: EINVAL (d2, minsz 16 as BIND)");
	check(unbind_raw(fd, 16, 0, 1) == 0, "UNBIND argsz 16 ok");
	check(unbind_raw(fd, 16, 1u << 2, 1) == -EINVAL, "UNBIND flags PID: EINVAL");
	check(unbind_raw(fd, 16, 0, 1) == -ESRCH, "UNBIND unknown PASID: ESRCH");
	check(unbind_raw(fd, 16, VFIO_SVM_PASID_RELEASE_FLUSHED | VFIO_SVM_PASID_RELEASE_CLEAN, 77) == -ESRCH,
	      "UNBIND FLUSHED|CLEAN accepted (then ESRCH)");
	check(bind_pid(fd, 0) == -ESRCH, "BIND pid 0: ESRCH");
	check(bind_pid(fd, 0x7ffffff0) == -ESRCH, "BIND pid 0x7ffffff0: ESRCH");
	check(bind_pid(fd, -5) == -ESRCH, "BIND pid (u32)-5: ESRCH");
	check(bind_pid(fd, 2) == -ESRCH, "BIND kthreadd (pid 2, no mm): ESRCH");
	{
		pid_t z = fork();

		if (z == 0)
			_exit(0);
		siginfo_t si;

		/* Wait for it to be a zombie without reaping it. */
		waitid(P_PID, z, &si, WEXITED | WNOWAIT);
		check(bind_pid(fd, z) == -ESRCH, "BIND zombie: ESRCH");
		waitpid(z, NULL, 0);
		check(bind_pid(fd, z) == -ESRCH, "BIND reaped pid: ESRCH");
	}
	/* copy_to_user of pasid fails after the bond was made: undone */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(ro, &s, sizeof(s));
	mprotect(ro, 4096, PROT_READ);
	check(ioctl(fd, VFIO_DEVICE_BIND_TASK, ro) == -1 && errno == EFAULT, "BIND into read-only struct: EFAULT");
	check(get_param("bonds") == 0, "... and the bond was undone (bonds %ld)", get_param("bonds"));
	check(bind_self(fd) == 1, "... PASID 1 still free");
	check(unbind(fd, 1) == 0 && unbind(fd, 1) == -ESRCH, "UNBIND once ok, twice ESRCH");
	munmap(ro, 4096);
	check(get_param("bonds") == 0, "bonds back to 0");
}

static void *tid_thread(void *arg)
{
	*(pid_t *)arg = syscall(SYS_gettid);
	sleep(2);
	return NULL;
}

static void test_self(int fd, int fd2)
{
	long p1, p2, p3;
	pthread_t th;
	volatile pid_t tid = 0;

	p1 = bind_self(fd);
	check(p1 == 1, "bind self: PASID %ld", p1);
	check(get_param("bonds") == 1, "bonds 1");
	p2 = bind_self(fd);
	check(p2 == p1, "bind self again: same PASID %ld", p2);
	p3 = bind_pid(fd, getpid());
	check(p3 == p1, "bind own pid: same PASID %ld", p3);
	pthread_create(&th, NULL, tid_thread, (void *)&tid);
	while (!tid)
		usleep(1000);
	p3 = bind_pid(fd, tid);
	check(p3 == p1, "bind own thread's tid %d: same PASID %ld", tid, p3);
	pthread_join(th, NULL);
	check(get_param("bonds") == 1, "still one bond (refcounted)");
	if (fd2 >= 0) {
		long q = bind_self(fd2);

		check(q == 1, "other device: own PASID space, PASID %ld", q);
		check(get_param("bonds") == 2, "bonds 2 across devices");
		check(unbind(fd2, q) == 0, "unbind on other device");
		check(unbind(fd2, q) == -ESRCH, "... then ESRCH there");
	}
	check(unbind(fd, p1) == 0 && unbind(fd, p1) == 0 && unbind(fd, p1) == 0, "three unbinds ok");
	check(get_param("bonds") == 1, "bond alive until the last unbind");
	check(unbind(fd, p1) == 0, "fourth unbind ok");
	check(unbind(fd, p1) == -ESRCH, "fifth: ESRCH");
	check(get_param("bonds") == 0, "bonds 0");
}

static void test_dma(int fd)
{
	static char buf[BUF_SZ], exp[BUF_SZ];
	struct agent a;
	long pc, ps, r;
	void *ro, *gone;
	struct cmd c;

	memset(target, 'P', BUF_SZ);
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, 4096);

	a = agent_start(fd, -1);
	c = (struct cmd){ .op = OP_CHECK, .off = 0, .len = 0 };
	check(agent_call(&a, c) == 0, "child filled its buffer with 'C'");

	ps = bind_self(fd);
	pc = bind_pid(fd, a.pid);
	check(ps == 1 && pc == 2, "bind self %ld, bind child by pid %ld", ps, pc);

	memset(buf, 0, sizeof(buf));
	r = dma(fd, pc, target + 100, buf, 3 * 4096, false);
	memset(exp, 'C', sizeof(exp));
	check(r == 0 && !memcmp(buf, exp, 3 * 4096), "DMA read through child's PASID sees child's memory (r=%ld, buf[0]=%c)", r, buf[0]);
	r = dma(fd, ps, target + 100, buf, 3 * 4096, false);
	memset(exp, 'P', sizeof(exp));
	check(r == 0 && !memcmp(buf, exp, 3 * 4096), "DMA read through own PASID sees own memory (buf[0]=%c)", buf[0]);

	memset(buf, 'W', sizeof(buf));
	r = dma(fd, pc, target + 50, buf, 5000, true);
	check(r == 0, "DMA write 5000 bytes at +50 into child (%ld)", r);
	c = (struct cmd){ .op = OP_CHECK, .off = 50, .len = 5000, .pat = 'W' };
	r = agent_call(&a, c);
	check(r == 0, "child sees exactly those bytes changed (%ld)", r);
	memset(exp, 'P', sizeof(exp));
	check(!memcmp(target, exp, BUF_SZ), "parent's memory untouched");

	/* COW: the page is shared with the parent after fork; a device write
	 * through the child's PASID breaks COW in the child only. */
	r = dma(fd, pc, cow, "child-cow", 10, true);
	check(r == 0 && agent_call(&a, (struct cmd){ .op = OP_PEEK_COW }) == 'c' && cow[0] == 'p',
	      "COW page: child sees the write, parent does not (r=%ld parent '%c')", r, cow[0]);

	check(dma(fd, pc, ro, buf, 16, false) == 0, "DMA read of a read-only page ok");
	check(dma(fd, pc, ro, buf, 16, true) == -EFAULT, "DMA write to a read-only page: EFAULT");
	check(dma(fd, pc, gone, buf, 16, false) == -EFAULT, "DMA read of an unmapped page: EFAULT");
	check(dma(fd, pc, (void *)-4096L, buf, 16, false) == -EFAULT, "DMA at a kernel address: EFAULT");
	check(dma(fd, pc, target, (void *)8, 16, false) == -EFAULT, "DMA read into a bad buf: EFAULT");
	check(dma(fd, pc, target, (void *)8, 16, true) == -EFAULT, "DMA write from a bad buf: EFAULT");
	check(dma(fd, pc, target, buf, 0, false) == 0, "DMA len 0: ok");
	check(dma(fd, 999, target, buf, 16, false) == -ESRCH, "DMA unknown PASID: ESRCH");
	check(dma_raw(fd, 39, 0, pc, target, buf, 16) == -EINVAL, "DMA argsz 39: EINVAL");
	check(dma_raw(fd, 40, 2, pc, target, buf, 16) == -EINVAL, "DMA flags 2: EINVAL");
	check(dma(fd, pc, target, buf, SVMREF_DMA_MAX + 1, false) == -EINVAL, "DMA len > MAX: EINVAL");
	{
		size_t big = SVMREF_DMA_MAX;
		char *m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *mb = malloc(big);

		memset(m, 'x', big);
		r = dma(fd, ps, m, mb, big, false);
		check(r == 0 && mb[0] == 'x' && mb[big - 1] == 'x', "DMA read of SVMREF_DMA_MAX bytes (%ld)", r);
		munmap(m, big);
		free(mb);
	}

	/* The child dies: its bond dies with it, the PASID is reusable. */
	check(get_param("bonds") == 2, "bonds 2 (%ld)", get_param("bonds"));
	agent_stop(&a);
	check(get_param("bonds") == 1, "child exited: bonds 1 (%ld)", get_param("bonds"));
	check(dma(fd, pc, target, buf, 16, false) == -ESRCH, "DMA through the dead PASID: ESRCH");
	check(unbind(fd, pc) == -ESRCH, "UNBIND of the dead PASID: ESRCH");
	a = agent_start(fd, -1);
	r = bind_pid(fd, a.pid);
	check(r == pc, "a new child gets the freed PASID %ld back (%ld)", pc, r);

	/* exec replaces the mm: the bond on the old mm dies. */
	c = (struct cmd){ .op = OP_EXEC };
	check(agent_call(&a, c) == LONG_MIN, "child exec'd (its CLOEXEC reply pipe closed)");
	check(get_param("bonds") == 1, "after exec: bonds 1 (%ld)", get_param("bonds"));
	check(dma(fd, r, target, buf, 16, false) == -ESRCH, "DMA through the pre-exec PASID: ESRCH");
	check(bind_pid(fd, a.pid) == r, "bind the exec'd process: a new bond (PASID %ld)", r);
	{
		int e = dma(fd, r, target, buf, 16, false);

		check(e == 0 || e == -EFAULT, "... it reaches the new mm (%d: %s)", e,
		      e ? "our va is not mapped in sleep" : "mapped");
	}
	kill(a.pid, SIGKILL);
	agent_stop(&a);
	check(get_param("bonds") == 1, "killed: bonds 1");

	check(unbind(fd, ps) == 0, "unbind self");
	check(get_param("bonds") == 0, "bonds 0");
	munmap(ro, 4096);
}

static void test_perm(int fd)
{
	struct agent x, y, z;
	long r;

	if (set_yama(0)) {
		printf("# no Yama: skipping its checks\n");
	}
	x = agent_start(fd, 65534);	/* the caller, unprivileged */
	y = agent_start(fd, 65534);	/* its sibling, same uid */
	z = agent_start(fd, 65533);	/* another uid */

	r = agent_call(&x, (struct cmd){ .op = OP_BIND_PID, .arg = 1 });
	check(r == -EACCES, "uid 65534 binds pid 1 (root): EACCES (%ld)", r);
	r = agent_call(&x, (struct cmd){ .op = OP_BIND_PID, .arg = z.pid });
	check(r == -EACCES, "uid 65534 binds a uid 65533 process: EACCES (%ld)", r);
	r = agent_call(&x, (struct cmd){ .op = OP_BIND_PID, .arg = y.pid });
	check(r > 0, "yama 0: uid 65534 binds its same-uid sibling: PASID %ld", r);
	check(agent_call(&x, (struct cmd){ .op = OP_UNBIND, .pasid = r }) == 0, "... and unbinds it");
	r = agent_call(&x, (struct cmd){ .op = OP_BIND_SELF });
	check(r > 0, "unprivileged bind self ok (%ld)", r);
	agent_call(&x, (struct cmd){ .op = OP_UNBIND, .pasid = r });

	if (!set_yama(1)) {
		r = agent_call(&x, (struct cmd){ .op = OP_BIND_PID, .arg = y.pid });
		check(r == -EACCES, "yama 1: sibling: EACCES (%ld)", r);
		r = bind_pid(fd, y.pid);
		check(r > 0, "yama 1: root (CAP_SYS_PTRACE) still binds it (%ld)", r);
		unbind(fd, r);
		r = agent_call(&y, (struct cmd){ .op = OP_SET_PTRACER, .arg = x.pid });
		check(r == 0, "sibling names the caller with PR_SET_PTRACER");
		r = agent_call(&x, (struct cmd){ .op = OP_BIND_PID, .arg = y.pid });
		check(r > 0, "yama 1 + PR_SET_PTRACER: bind ok (%ld)", r);
		agent_call(&x, (struct cmd){ .op = OP_UNBIND, .pasid = r });
		set_yama(2);
		r = agent_call(&x, (struct cmd){ .op = OP_BIND_PID, .arg = y.pid });
		check(r == -EACCES, "yama 2: EACCES even with PR_SET_PTRACER (%ld)", r);
		r = agent_call(&x, (struct cmd){ .op = OP_BIND_SELF });
		check(r > 0, "yama 2: bind self still ok (%ld)", r);
		agent_call(&x, (struct cmd){ .op = OP_UNBIND, .pasid = r });
		r = bind_pid(fd, y.pid);
		check(r > 0, "yama 2: root binds (%ld)", r);
		unbind(fd, r);
		set_yama(0);
	}
	agent_stop(&x);
	agent_stop(&y);
	agent_stop(&z);
	check(get_param("bonds") == 0, "bonds 0 after the permission checks (%ld)", get_param("bonds"));
}

/* A pid in BIND is looked up in the caller's pid namespace. */
static int ns_grandchild(int fd)
{
	static volatile uint64_t marker;
	pid_t h;
	int hp[2];
	long p;
	uint64_t got = 0;
	char c;

	marker = 0x5eed0000u + getpid();	/* getpid() == 1 here */
	if (getpid() != 1)
		return 10;
	if (pipe(hp))
		return 11;
	h = fork();
	if (h == 0) {
		marker = 0xabcdef12;	/* H's own copy */
		c = 1;
		if (write(hp[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	if (read(hp[0], &c, 1) != 1)
		return 12;
	p = bind_pid(fd, h);	/* h == 2 here; 2 is kthreadd in the root ns */
	if (p < 0)
		return 13;
	if (dma(fd, p, (void *)&marker, &got, sizeof(got), false))
		return 14;
	if (got != 0xabcdef12)
		return 15;
	if (bind_pid(fd, 1) < 0)	/* ourselves, not the root ns's init */
		return 16;
	if (dma(fd, bind_pid(fd, 1), (void *)&marker, &got, sizeof(got), false) || got != 0x5eed0001u)
		return 17;
	if (bind_pid(fd, 4242) != -ESRCH)	/* not in this namespace */
		return 18;
	kill(h, SIGKILL);
	waitpid(h, NULL, 0);
	return 0;
}

static void test_pidns(int fd)
{
	pid_t c = fork(), g;
	int st = -1;

	if (c == 0) {
		if (unshare(CLONE_NEWPID))
			_exit(20);
		g = fork();
		if (g == 0)
			_exit(ns_grandchild(fd));
		waitpid(g, &st, 0);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 30);
	}
	waitpid(c, &st, 0);
	check(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	      "pid namespace: pid 2 / pid 1 / 4242 resolved in the caller's namespace (code %d)",
	      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	check(get_param("bonds") == 0, "namespace bonds gone with their processes (%ld)", get_param("bonds"));
}

static void test_dialects(int fd)
{
	uint32_t p = 0;
	int r;

	check(set_param("dialect", 1) == 0, "dialect=1");
	r = bind_raw(fd, 12, 0, 0, &p);
	check(r == 0 && p == 1, "d1: BIND argsz 12 ok (PASID %u)", p);
	check(unbind_raw(fd, 11, 0, p) == -EINVAL, "d1: UNBIND argsz 11: EINVAL");
	check(unbind_raw(fd, 12, 0, p) == 0, "d1: UNBIND argsz 12 ok");
	check(bind_raw(fd, 11, 0, 0, &p) == -EINVAL, "d1: BIND argsz 11: EINVAL");
	check(bind_raw(fd, 16, VFIO_SVM_PID, getpid(), &p) == -EINVAL, "d1: BIND with PID flag: EINVAL");
	check(bind_raw(fd, 16, VFIO_SVM_PASID_RELEASE_CLEAN, 0, &p) == -EINVAL, "d1: any BIND flag: EINVAL");
	check(set_param("dialect", 0) == 0, "dialect=0");
	check(bind_raw(fd, 16, 0, 0, &p) == -ENOTTY, "d0: BIND: ENOTTY");
	check(bind_raw(fd, 0, 0, 0, &p) == -ENOTTY, "d0: BIND argsz 0: ENOTTY");
	check(unbind_raw(fd, 16, 0, 1) == -ENOTTY, "d0: UNBIND: ENOTTY");
	{
		struct vfio_device_info info = { .argsz = sizeof(info) };

		r = ioctl(fd, VFIO_DEVICE_GET_INFO, &info);
		check(r == 0 && (info.flags & VFIO_DEVICE_FLAGS_PCI) &&
		      info.num_regions >= 7, "other ioctls go to vfio-pci-core (flags %#x, %u regions)",
		      info.flags, info.num_regions);
	}
	check(set_param("dialect", 2) == 0, "dialect=2");
	check(bind_raw(fd, 12, 0, 0, &p) == -EINVAL, "d2: argsz 12: EINVAL");
}

static void test_range(int fd)
{
	struct agent a, b;
	long r;

	set_param("pasid_min", 5);
	set_param("pasid_max", 6);
	a = agent_start(fd, -1);
	b = agent_start(fd, -1);
	check(bind_self(fd) == 5, "pasid_min 5: first PASID 5");
	check(bind_pid(fd, a.pid) == 6, "second PASID 6");
	r = bind_pid(fd, b.pid);
	check(r == -ENOSPC, "range 5..6 full: ENOSPC (%ld)", r);
	check(bind_self(fd) == 5, "re-binding a bound mm still works when full");
	agent_stop(&a);
	r = bind_pid(fd, b.pid);
	check(r == 6, "a dead bond's PASID is reused (%ld)", r);
	check(unbind(fd, 5) == 0 && unbind(fd, 5) == 0 && unbind(fd, 6) == 0, "unbinds");
	set_param("pasid_min", 7);
	set_param("pasid_max", 3);
	check(bind_self(fd) == -ENOSPC, "pasid_min > pasid_max: ENOSPC");
	set_param("pasid_min", 1);
	set_param("pasid_max", 1023);
	agent_stop(&b);
	check(get_param("bonds") == 0, "bonds 0 (%ld)", get_param("bonds"));
}

static void test_close(const char *bdf, int *fdp)
{
	struct agent a;
	int fd = *fdp;

	a = agent_start(fd, -1);
	check(bind_self(fd) == 1 && bind_pid(fd, a.pid) == 2, "two bonds");
	check(get_param("bonds") == 2, "bonds 2");
	/* The agent holds the fd too: close both copies. */
	agent_stop(&a);
	check(get_param("bonds") == 1, "agent gone: bonds 1");
	a = agent_start(-1, -1);	/* a live process that does not hold the fd */
	/* Once it answers, it has closed the copy of the fd that fork gave it. */
	check(agent_call(&a, (struct cmd){ .op = OP_CHECK, .len = 0 }) == 0, "child without the device fd ready");
	check(bind_pid(fd, a.pid) == 2, "bind a live child that has no device fd");
	check(get_param("bonds") == 2, "bonds 2");
	close(fd);
	check(get_param("bonds") == 0, "device fd closed with 2 live bonds: bonds 0 (%ld)", get_param("bonds"));
	check(agent_call(&a, (struct cmd){ .op = OP_CHECK, .len = 0 }) == 0, "the child lives on unharmed");
	agent_stop(&a);
	*fdp = fd = open_dev(bdf);
	check(fd >= 0, "device reopened");
	check(bind_self(fd) == 1, "PASID 1 free again after close");
	check(unbind(fd, 1) == 0, "unbind");
}

/* ------------------------------------------------------------------ stress */

static int sfd;
static volatile int stop;
static long sthreads_err, n_bind, n_dma, n_child;

static void s_err(const char *what, long r)
{
	if (__atomic_add_fetch(&sthreads_err, 1, __ATOMIC_RELAXED) <= 10)
		printf("# stress: unexpected %s: %ld (%s)\n", what, r, r < 0 ? strerror(-r) : "-");
}

static void *s_bind(void *arg)
{
	long n = 0;

	(void)arg;
	while (!stop) {
		long p = bind_self(sfd), r;

		if (p < 0) {
			s_err("bind self", p);
			continue;
		}
		__atomic_add_fetch(&n_bind, 1, __ATOMIC_RELAXED);
		if (n++ % 3 == 0) {
			r = dma(sfd, p, &n, &n, sizeof(n), false);
			if (r)
				s_err("dma self", r);
		}
		/* Each thread drops the reference it took: never ESRCH. */
		r = unbind(sfd, p);
		if (r)
			s_err("unbind self", r);
	}
	return NULL;
}

static void *s_dma(void *arg)
{
	unsigned int seed = 7;
	char b[64];

	(void)arg;
	while (!stop) {
		uint32_t p = 1 + rand_r(&seed) % 8;
		int r = dma(sfd, p, target, b, sizeof(b), rand_r(&seed) & 1);

		__atomic_add_fetch(&n_dma, 1, __ATOMIC_RELAXED);

		if (r && r != -ESRCH && r != -EFAULT)
			s_err("dma", r);
	}
	return NULL;
}

static void *s_fork(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	while (!stop) {
		/* The child of a threaded process may only use async-signal-safe calls. */
		struct timespec ts = { 0, (rand_r(&seed) % 3000) * 1000L };
		int pp[2], gp[2];
		char c = 0;
		long p;
		pid_t k;

		if (pipe(pp))
			break;
		if (pipe(gp)) {
			close(pp[0]);
			close(pp[1]);
			break;
		}
		k = fork();
		if (k == 0) {
			if (write(pp[1], &c, 1) < 0)
				_exit(1);
			/* Stay alive until told, so our PASID cannot be reused under the parent. */
			if (read(gp[0], &c, 1) < 0)
				_exit(1);
			nanosleep(&ts, NULL);
			_exit(0);
		}
		if (read(pp[0], &c, 1) < 0)
			break;
		p = bind_pid(sfd, k);
		__atomic_add_fetch(&n_child, 1, __ATOMIC_RELAXED);
		if (p < 0)
			s_err("bind child", p);
		else if (rand_r(&seed) & 1 && (p = unbind(sfd, p)))
			s_err("unbind live child", p);
		/* Otherwise the child's exit kills the bond. */
		if (write(gp[1], &c, 1) < 0)
			break;
		waitpid(k, NULL, 0);
		close(pp[0]);
		close(pp[1]);
		close(gp[0]);
		close(gp[1]);
	}
	return NULL;
}

/*
 * Device close racing the bound processes' exit (and UNBIND racing exit):
 * children that do not hold the fd are bound, told to exit after a random
 * delay, and the fd is closed at once.
 */
static void stress_close(const char *bdf)
{
	unsigned int seed = 42;
	long errs = 0, binds = 0;
	int it, i, n = getenv("STRESS_CLOSE") ? atoi(getenv("STRESS_CLOSE")) : 300;

	for (it = 0; it < n; it++) {
		pid_t k[3];
		int gp[3][2], rp[2];
		char c = 0;
		int fd = open_dev(bdf);

		if (fd < 0 || pipe(rp)) {
			errs++;
			break;
		}
		for (i = 0; i < 3; i++) {
			struct timespec ts = { 0, (rand_r(&seed) % 2000) * 1000L };

			if (pipe(gp[i]))
				_exit(2);
			k[i] = fork();
			if (k[i] == 0) {
				close(fd);
				if (write(rp[1], &c, 1) < 0 || read(gp[i][0], &c, 1) < 0)
					_exit(1);
				nanosleep(&ts, NULL);
				_exit(0);
			}
			if (read(rp[0], &c, 1) != 1)
				errs++;
			binds++;
			if (bind_pid(fd, k[i]) != i + 1)
				errs++;
		}
		for (i = 0; i < 3; i++)
			if (write(gp[i][1], &c, 1) < 0)
				errs++;
		if (rand_r(&seed) & 1) {
			int r = unbind(fd, 1 + rand_r(&seed) % 3);

			if (r && r != -ESRCH)
				errs++;
		}
		if (rand_r(&seed) & 1)
			usleep(rand_r(&seed) % 1500);
		close(fd);
		if (get_param("bonds") != 0)
			errs++;
		for (i = 0; i < 3; i++) {
			waitpid(k[i], NULL, 0);
			close(gp[i][0]);
			close(gp[i][1]);
		}
		close(rp[0]);
		close(rp[1]);
	}
	printf("# stress: %d open/bind x3/close cycles racing exits, %ld binds\n", it, binds);
	check(errs == 0 && get_param("bonds") == 0, "stress: close vs exit races (%ld errors, bonds %ld)",
	      errs, get_param("bonds"));
}

static int stress(const char *bdf)
{
	pthread_t t[6];
	int secs = getenv("STRESS_SECS") ? atoi(getenv("STRESS_SECS")) : 20;
	int i;

	sfd = open_dev(bdf);
	if (sfd < 0)
		skip("cannot open the device");
	memset(target, 'S', sizeof(target));
	for (i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, s_bind, NULL);
	pthread_create(&t[3], NULL, s_dma, NULL);
	pthread_create(&t[4], NULL, s_fork, (void *)1);
	pthread_create(&t[5], NULL, s_fork, (void *)2);
	for (i = 0; i < secs; i++) {
		sleep(1);
		printf("# t=%ds bonds=%ld\n", i + 1, get_param("bonds"));
		fflush(stdout);
	}
	stop = 1;
	for (i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	printf("# stress: %ld self bind/unbind pairs, %ld random-PASID DMAs, %ld child binds\n",
	       n_bind, n_dma, n_child);
	check(sthreads_err == 0, "stress: no unexpected error (%ld)", sthreads_err);
	/* Leave bonds open on purpose: close must release them. */
	bind_self(sfd);
	bind_self(sfd);
	check(get_param("bonds") == 1, "stress: only our own bond left (%ld)", get_param("bonds"));
	close(sfd);
	check(get_param("bonds") == 0, "stress: close released it (%ld)", get_param("bonds"));
	stress_close(bdf);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

/* -------------------------------------------------------------------- main */

int main(int argc, char **argv)
{
	char devs[256] = "", *d[3] = { NULL, NULL, NULL };
	const char *bdf, *bdf2;
	int fd, fd2, i = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (getenv("SVMBIND_LAB_DEVS")) {
		snprintf(devs, sizeof(devs), "%s", getenv("SVMBIND_LAB_DEVS"));
		for (char *s = strtok(devs, ","); s && i < 3; s = strtok(NULL, ","))
			d[i++] = s;
	}
	if (argc > 1 && !strcmp(argv[1], "stress"))
		return stress(argc > 2 ? argv[2] : d[2] ? d[2] : "");
	bdf = argc > 1 ? argv[1] : d[2];
	bdf2 = argc > 2 ? argv[2] : d[0];
	if (!bdf || access(SVMREF_PARAM_DIR, F_OK))
		skip("no svmref device (SVMBIND_LAB_DEVS) or module");
	fd = open_dev(bdf);
	if (fd < 0) {
		printf("cannot open %s: %s\n", bdf, strerror(-fd));
		return 1;
	}
	fd2 = bdf2 ? open_dev(bdf2) : -1;
	printf("# devices %s (fd %d) and %s (fd %d)\n", bdf, fd, bdf2 ? bdf2 : "-", fd2);

	test_params();
	test_errors(fd);
	test_self(fd, fd2);
	test_dma(fd);
	test_perm(fd);
	test_pidns(fd);
	test_dialects(fd);
	test_range(fd);
	test_close(bdf, &fd);
	if (fd2 >= 0)
		close(fd2);
	close(fd);
	check(get_param("bonds") == 0, "end: bonds 0");
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
