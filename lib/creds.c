// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The caller's credentials and limits that decide binds and DMA maps. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

int svmbind__cap_effective(int cap)
{
	char buf[16384], *line;
	unsigned long long eff;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		int err = errno;

		close(fd);
		return -err;
	}
	close(fd);
	buf[n] = '\0';
	line = strstr(buf, "\nCapEff:");
	if (!line || sscanf(line + 8, "%llx", &eff) != 1)
		return -ENODATA;
	return (eff >> cap) & 1;
}

int svmbind__ptrace_scope(void)
{
	char buf[16];
	int ret = svmbind__read_text("/proc/sys/kernel/yama/ptrace_scope", buf, sizeof(buf));

	if (ret < 0)
		return ret;
	if (buf[0] < '0' || buf[0] > '3' || buf[1])
		return -EINVAL;
	return buf[0] - '0';
}

int svmbind__memlock_limited(void)
{
	struct rlimit rl;

	if (svmbind__cap_effective(14 /* CAP_IPC_LOCK */) == 1)
		return 0;
	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return -errno;
	return rl.rlim_cur != RLIM_INFINITY;
}

int svmbind__real_uid_of(pid_t pid)
{
	char path[32], buf[2048], *line;
	unsigned int uid;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	ret = svmbind__read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	line = strstr(buf, "\nUid:");
	if (!line || sscanf(line + 5, "%u", &uid) != 1)
		return -ENODATA;
	return (int)uid;
}
