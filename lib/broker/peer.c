// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Identity from the kernel: pidfds, the connector's pidfd, /proc status, the address-space witness. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broker_internal.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#define PIDFS_SUPER_MAGIC 0x50494446	/* "PIDF": pidfds on 6.9+, one inode per process */

int sb_pidfd_open(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;	/* pidfds are always O_CLOEXEC */
}

int sb_peer_pidfd(int sock)
{
	int fd = -1;
	socklen_t len = sizeof(fd);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len))
		return -errno;
	return fd;
}

int sb_connector_pidfd(int sock, bool peerpidfd)
{
	struct ucred pc;
	socklen_t len = sizeof(pc);

	if (peerpidfd)
		return sb_peer_pidfd(sock);
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &pc, &len))
		return -errno;
	return sb_pidfd_open(pc.pid);
}

/*
 * On pidfs (6.9+) a process has one inode for its whole life and inode numbers
 * are never reused: equal inodes are one process. Older kernels give every
 * pidfd the same anonymous inode; there the numbers decide, read in this order:
 * @hello's at t1, then @conn's at t2. @conn's process existed before @hello's
 * message was sent (it connected), so if it still holds the number at t2 it
 * held it at t1, when @hello's process held it too: one process.
 */
bool sb_same_process(int conn, int hello)
{
	struct statfs fa, fb;
	struct stat sa, sb;
	int ph, pc;

	if (!fstatfs(conn, &fa) && !fstatfs(hello, &fb) && fa.f_type == PIDFS_SUPER_MAGIC &&
	    fb.f_type == PIDFS_SUPER_MAGIC && !fstat(conn, &sa) && !fstat(hello, &sb))
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	ph = svmbind__pidfd_pid(hello);
	pc = svmbind__pidfd_pid(conn);
	return ph > 0 && ph == pc;
}

/*
 * The witness holds the address space it was opened on and says when that
 * address space is torn down (exit, or exec replacing it). /proc/PID/mem
 * (lib/svm.c) answers for as long as the fd is open, but is mode 0600 and
 * needs the ptrace attach check; /proc/PID/maps is 0444 and needs only the
 * ptrace read check (the broker's uid, or CAP_SYS_PTRACE, which a broker that
 * binds other users has anyway; Yama does not judge reads), but once the
 * process is reaped its reads fail with ESRCH whatever became of the address
 * space. mem first, maps where mem is refused.
 */
int sb_witness_open(pid_t pid, bool *maps)
{
	char path[32];
	int fd = svmbind__witness_open(pid);

	*maps = false;
	if (fd >= 0 || fd == -ENOENT || fd == -ESRCH)
		return fd;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*maps = true;
	return fd;
}

int sb_witness_state(int fd, bool maps)
{
	char c;
	ssize_t n;

	if (fd < 0)
		return -1;
	if (!maps)
		return svmbind__witness_alive(fd) ? 1 : 0;
	do
		n = pread(fd, &c, 1, 0);
	while (n < 0 && (errno == EINTR || errno == EAGAIN));
	if (n > 0)
		return 1;
	return n == 0 ? 0 : -1;	/* ESRCH: reaped, the address space unknown */
}

static pthread_once_t peerpidfd_once = PTHREAD_ONCE_INIT;
static bool peerpidfd;

static void probe_peerpidfd(void)
{
	int sv[2], fd;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return;
	fd = sb_peer_pidfd(sv[0]);
	if (fd >= 0) {
		peerpidfd = svmbind__pidfd_pid(fd) == getpid();
		close(fd);
	}
	close(sv[0]);
	close(sv[1]);
}

bool sb_have_peer_pidfd(void)
{
	pthread_once(&peerpidfd_once, probe_peerpidfd);
	return peerpidfd;
}

static int parse_ids(const char *buf, const char *key, unsigned int out[4])
{
	const char *p = strstr(buf, key);

	if (!p || sscanf(p + strlen(key), "%u %u %u %u", &out[0], &out[1], &out[2], &out[3]) != 4)
		return -ENODATA;
	return 0;
}

int sb_proc_status(pid_t pid, struct sb_status *st)
{
	char path[64], buf[4096], *p, *end;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	ret = svmbind__read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret == -ENOENT ? -ESRCH : ret;
	memset(st, 0, sizeof(*st));
	if (parse_ids(buf, "\nUid:", st->uid) || parse_ids(buf, "\nGid:", st->gid))
		return -ENODATA;
	p = strstr(buf, "\nGroups:");
	if (p) {
		p += 8;
		while (st->nr_groups < SB_MAX_GROUPS) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			st->groups[st->nr_groups++] = (gid_t)g;
			p = end;
		}
	}
	return 0;
}

bool sb_creds_ptraceable(const struct sb_status *st)
{
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (svmbind__cap_effective(19 /* CAP_SYS_PTRACE */) == 1)
		return true;
	return st->uid[0] == uid && st->uid[1] == uid && st->uid[2] == uid &&
	       st->gid[0] == gid && st->gid[1] == gid && st->gid[2] == gid;
}
