// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Identity from the kernel: pidfds, the peer's pidfd, /proc status, the address-space witness. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "broker_internal.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

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
