// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Reaching a process of the caller's pid namespace through /proc.
 *
 * Pids given to the library (svm_bind_pid()) and read from pidfds are the
 * caller's: the kernel's bind resolves them in the caller's pid namespace.
 * /proc shows the pid namespace it was mounted from, which need not be the
 * caller's: a process that entered a new pid namespace without remounting
 * /proc (a container that kept the host's) sees the parent namespace's
 * numbers there, and /proc/2 is then a different process than its pid 2.
 * So where /proc is not the caller's, a process is reached through a pidfd
 * (pidfd_open(2) resolves in the caller's namespace), and the fdinfo of that
 * pidfd, read through this /proc, gives the process's number as /proc counts.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

/* The numbers after "\n<key>" in @buf (up to @max); how many were found. */
static int fields(const char *buf, const char *key, long *out, int max)
{
	const char *p = strstr(buf, key);
	char *end;
	int n = 0;

	if (!p)
		return 0;
	p += strlen(key);
	while (n < max) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		out[n++] = v;
		p = end;
	}
	return n;
}

#define MAX_LEVELS 40	/* the kernel nests pid namespaces 32 deep at most */

/*
 * How many pid-namespace levels lie from /proc's namespace down to the
 * caller's, plus one: 1 when /proc is the caller's own; -errno when it cannot
 * tell (/proc missing, or a namespace where the caller is invisible: ENOENT).
 */
int svmbind__proc_levels(void)
{
	char buf[2048];
	long nspid[MAX_LEVELS];
	int ret, n;

	ret = svmbind__read_text("/proc/self/status", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	n = fields(buf, "\nNSpid:", nspid, MAX_LEVELS);
	if (n <= 0)
		return -ENOTSUP;	/* Linux < 4.1 has no NSpid: assume nothing */
	if (nspid[n - 1] != getpid())
		return -EXDEV;
	return n;
}

/* The pidfd's process as /proc numbers it (its "Pid:"), or -errno. */
static int proc_pid_of(int pidfd, long nspid[MAX_LEVELS], int *nr_nspid)
{
	char path[48], buf[512];
	long pid;
	int ret;

	if (pidfd < 0)
		return -EBADF;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	ret = svmbind__read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret == -ENOENT ? -EBADF : ret;
	if (fields(buf, "\nPid:", &pid, 1) != 1)
		return -EBADF;	/* not a pidfd */
	if (pid == -1)
		return -ESRCH;	/* exited and reaped */
	if (pid == 0)
		return -EXDEV;	/* not visible in /proc's pid namespace */
	if (nspid)
		*nr_nspid = fields(buf, "\nNSpid:", nspid, MAX_LEVELS);
	return pid > 0 && pid <= INT32_MAX ? (int)pid : -EBADF;
}

static int pidfd_open(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : fd;
}

/* True while the pidfd's process is not reaped (its pid cannot have been reused). */
bool svmbind__pidfd_alive(int pidfd)
{
	return !syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) || errno != ESRCH;
}

/* PIDFD_GET_INFO (Linux 6.13+), its first layout (64 bytes), declared here:
 * the build host's headers may predate it. */
struct pidfd_info_v0 {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid, spare;
};
_Static_assert(sizeof(struct pidfd_info_v0) == 64, "PIDFD_INFO_SIZE_VER0");
#define PIDFD_GET_INFO_V0 _IOWR(0xFF, 11, struct pidfd_info_v0)
#define PIDFD_INFO_PID (1ull << 0)
#define PIDFS_SUPER_MAGIC 0x50494446
static bool no_pidfd_info;	/* ENOTTY once: this kernel has pidfs but not the ioctl */

/*
 * The pid the kernel reads straight from the pidfd, in the caller's pid
 * namespace: no /proc, no text to parse. Asked only of a file of pidfs (6.9+),
 * so no other driver ever sees this ioctl from an fd a client handed us.
 * > 0, or 0 when it cannot say (not pidfs, no ioctl, reaped, another pid
 * namespace): then fdinfo tells, and tells which.
 */
static int pidfd_info_pid(int pidfd)
{
	struct pidfd_info_v0 info = { .mask = PIDFD_INFO_PID };
	struct statfs sf;

	if (__atomic_load_n(&no_pidfd_info, __ATOMIC_RELAXED) || fstatfs(pidfd, &sf) ||
	    sf.f_type != PIDFS_SUPER_MAGIC)
		return 0;
	if (ioctl(pidfd, PIDFD_GET_INFO_V0, &info)) {
		if (errno == ENOTTY)
			__atomic_store_n(&no_pidfd_info, true, __ATOMIC_RELAXED);
		return 0;
	}
	if (!(info.mask & PIDFD_INFO_PID) || !info.pid || info.pid > INT32_MAX)
		return 0;
	return (int)info.pid;
}

int svmbind__pidfd_pid(int pidfd)
{
	long nspid[MAX_LEVELS];
	int nr = 0, levels, pid, check, same;

	if (pidfd < 0)
		return -EBADF;
	pid = pidfd_info_pid(pidfd);
	if (pid > 0)
		return pid;
	pid = proc_pid_of(pidfd, nspid, &nr);
	if (pid < 0)
		return pid;
	levels = svmbind__proc_levels();
	if (levels == 1 || levels == -ENOTSUP)
		return pid;	/* /proc is the caller's namespace */
	if (levels < 0)
		return levels;
	/* NSpid runs from /proc's namespace down to the process's own: the
	 * caller's level is entry levels-1, if the process is that deep. */
	if (nr < levels)
		return -EXDEV;	/* lives above the caller's namespace */
	pid = (int)nspid[levels - 1];
	/* That number is the caller's namespace's only if the process lives in
	 * it or below; in a sibling namespace it names someone else: check it. */
	check = pidfd_open(pid);
	if (check < 0)
		return check == -ESRCH ? -EXDEV : check;
	same = proc_pid_of(check, NULL, NULL) == proc_pid_of(pidfd, NULL, NULL);
	close(check);
	return same ? pid : -EXDEV;
}

int svmbind__witness_open(pid_t pid)
{
	char path[32];
	int fd, pidfd, levels;
	long ppid;

	levels = svmbind__proc_levels();
	if (levels == 1 || levels == -ENOTSUP) {
		snprintf(path, sizeof(path), "/proc/%d/mem", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	if (levels < 0)
		return levels;
	/* /proc is another namespace's: find @pid's number there through a pidfd. */
	pidfd = pidfd_open(pid);
	if (pidfd < 0)
		return pidfd;
	ppid = proc_pid_of(pidfd, NULL, NULL);
	if (ppid < 0) {
		close(pidfd);
		return (int)ppid;
	}
	snprintf(path, sizeof(path), "/proc/%ld/mem", ppid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
	} else if (!svmbind__pidfd_alive(pidfd)) {
		/* Reaped before the open: the number may have named a newcomer. */
		close(fd);
		fd = -ESRCH;
	}
	close(pidfd);
	return fd;
}

int svmbind__witness_alive(int fd)
{
	char c;
	ssize_t n;

	do	/* 0 (end of file) once the mm is gone; page 0 is unmapped: EIO while it lives */
		n = pread(fd, &c, 1, 0);
	while (n < 0 && (errno == EINTR || errno == EAGAIN));
	return n != 0;
}
