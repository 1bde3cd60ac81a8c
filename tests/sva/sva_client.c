// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* sva_dma's B: a child that runs A's commands, and A's view of its memory (sva_client.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sva_client.h"

struct cmd {
	int op;
	int arg;
	uint64_t addr, len;
};

struct reply {
	int64_t ret;
};

void fill(void *p, size_t len, int seed)
{
	for (size_t i = 0; i < len; i++)
		((uint8_t *)p)[i] = (uint8_t)(seed + i * 7 + (i >> 12));
}

static void b_loop(int sock)
{
	struct cmd c;
	struct reply r;

	while (read(sock, &c, sizeof(c)) == (ssize_t)sizeof(c)) {
		void *p;

		r.ret = 0;
		switch (c.op) {
		case C_MMAP:		/* anonymous, touched */
		case C_TOUCHLESS:	/* anonymous, never touched */
			p = mmap(NULL, c.len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			r.ret = p == MAP_FAILED ? -errno : (int64_t)(uintptr_t)p;
			if (p != MAP_FAILED && c.op == C_MMAP)
				memset(p, 0, c.len);
			break;
		case C_FILL:
			fill((void *)(uintptr_t)c.addr, c.len, c.arg);
			break;
		case C_PROTECT:
			r.ret = mprotect((void *)(uintptr_t)c.addr, c.len, c.arg) ? -errno : 0;
			break;
		case C_UNMAP:
			r.ret = munmap((void *)(uintptr_t)c.addr, c.len) ? -errno : 0;
			break;
		case C_FORK_COW: {	/* a child that writes its copy of the page, then waits */
			int p2[2];
			char ch;
			pid_t pid;

			if (pipe2(p2, O_CLOEXEC)) {
				r.ret = -errno;
				break;
			}
			pid = fork();
			if (pid == 0) {
				fill((void *)(uintptr_t)c.addr, c.len, c.arg);
				if (write(p2[1], "w", 1) != 1)
					_exit(1);
				pause();
				_exit(0);
			}
			r.ret = pid < 0 ? -errno : pid;
			if (pid > 0 && read(p2[0], &ch, 1) != 1)
				r.ret = -EIO;
			close(p2[0]);
			close(p2[1]);
			break;
		}
		case C_EXEC:	/* the socket is O_CLOEXEC: A sees EOF once the old mm is gone */
			execl("/bin/sleep", "sleep", "60", (char *)NULL);
			r.ret = -errno;
			break;
		case C_EXIT:
			_exit(0);
		}
		if (write(sock, &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(1);
	}
	_exit(0);
}

struct proc spawn(void)
{
	struct proc p = { 0 };
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair: %s", strerror(errno));
	p.pid = fork();
	if (p.pid < 0)
		die("fork: %s", strerror(errno));
	if (p.pid == 0) {
		/* B holds none of A's files (A's device fd among them) */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != sv[1])
				close(fd);
		b_loop(sv[1]);
	}
	close(sv[1]);
	p.sock = sv[0];
	return p;
}

int64_t cmd(struct proc *p, int op, uint64_t addr, uint64_t len, int arg)
{
	struct cmd c = { .op = op, .arg = arg, .addr = addr, .len = len };
	struct reply r;

	if (write(p->sock, &c, sizeof(c)) != (ssize_t)sizeof(c))
		die("command to %d: %s", p->pid, strerror(errno));
	if (read(p->sock, &r, sizeof(r)) != (ssize_t)sizeof(r))
		return -EPIPE;	/* exec'd or gone */
	return r.ret;
}

uint64_t b_mmap(struct proc *p, uint64_t len, bool touch)
{
	int64_t r = cmd(p, touch ? C_MMAP : C_TOUCHLESS, 0, len, 0);

	if (r < 0)
		die("B mmap: %s", strerror((int)-r));
	return (uint64_t)r;
}

void b_kill(struct proc *p)
{
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
	close(p->sock);
}

/* B's memory, as B sees it (/proc/PID/mem: process_vm_readv needs
 * CONFIG_CROSS_MEMORY_ATTACH, which the tier's small kernel lacks) */
bool peek(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	return n == (ssize_t)len;
}

bool same_as_fill(pid_t pid, uint64_t addr, size_t len, int seed)
{
	uint8_t *got = malloc(len), *want = malloc(len);
	bool ok = got && want && peek(pid, addr, got, len);

	if (ok) {
		fill(want, len, seed);
		ok = !memcmp(got, want, len);
	}
	free(got);
	free(want);
	return ok;
}
