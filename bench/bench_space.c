// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_space: what a page request and a copy cost through the PASID-space
 * path (svmbind/space.h, stock vfio-pci) against real SVA (the provider
 * svmref, the kernel serving the device's page requests) and against a
 * plain IOVA mapping, on the SVA VM's svm-dma device with PRI.
 *
 *   bench_space sva   [ROUNDS [PAGES [MIB_COPIES]]]   device on svmref
 *   bench_space space [ROUNDS [PAGES [MIB_COPIES]]]   device on vfio-pci
 *
 * Prints key=value lines, then one line in words; bench/space.sh runs both
 * modes in one boot and prints the ratios. Exit 77 outside the SVA VM, 1 on
 * any failure. Under TCG only ratios mean anything.
 * This file: main and B, the child whose memory the device works on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_space.h"

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("bench_space: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void skip(const char *fmt, ...)
{
	va_list ap;

	printf("bench_space: SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(77);
}

/* ---- B ------------------------------------------------------------------ */

static void b_main(int sock, uint64_t len, uint64_t touched, bool memfd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	uint64_t addr;
	struct iovec iov = { &addr, sizeof(addr) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fd = -1, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	uint8_t *p;
	char c;

	if (memfd) {
		fd = memfd_create("bench_space", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0 || ftruncate(fd, (off_t)len))
			_exit(2);
		flags = MAP_SHARED;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED)
		_exit(3);
	/* a fault brings in one page, as in the space (one page per request);
	 * EINVAL: a kernel without transparent huge pages, one page anyway */
	if (!memfd && madvise(p, len, MADV_NOHUGEPAGE) && errno != EINVAL)
		_exit(4);
	for (uint64_t i = 0, x = 1; i < touched; i++) {	/* no two pages alike */
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(x >> 56);
	}
	addr = (uintptr_t)p;
	if (memfd) {
		struct cmsghdr *cm;

		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	if (sendmsg(sock, &m, 0) != (ssize_t)sizeof(addr))
		_exit(5);
	while (read(sock, &c, 1) > 0)	/* until A closes the socket */
		;
	_exit(0);
}

void bs_client_start(struct bs_client *b, const struct bs_opts *o, bool memfd)
{
	uint64_t pages = WARM + (uint64_t)o->rounds * (uint64_t)o->pages;
	char ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &b->addr, sizeof(b->addr) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	int sv[2];

	memset(b, 0, sizeof(*b));
	b->memfd = -1;
	b->near = PG + 2 * MIB;
	b->far = b->near + pages * PG;
	b->len = b->far + pages * PG;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair: %s", strerror(errno));
	b->pid = fork();
	if (b->pid < 0)
		die("fork: %s", strerror(errno));
	if (b->pid == 0) {
		for (int fd = 3; fd < 1024; fd++)	/* B holds none of A's files */
			if (fd != sv[1])
				close(fd);
		b_main(sv[1], b->len, b->far, memfd);
	}
	close(sv[1]);
	b->sock = sv[0];
	if (recvmsg(b->sock, &m, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(b->addr)) {
		int st = 0;

		waitpid(b->pid, &st, 0);
		die("B (pid %d) did not set up its memory (exit %d)", (int)b->pid,
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	cm = CMSG_FIRSTHDR(&m);
	if (memfd && !cm)
		die("B sent no memfd");
	if (memfd)
		memcpy(&b->memfd, CMSG_DATA(cm), sizeof(int));
}

void bs_client_stop(struct bs_client *b)
{
	if (b->pid <= 0)
		return;
	close(b->sock);
	waitpid(b->pid, NULL, 0);
	if (b->memfd >= 0)
		close(b->memfd);
	b->pid = 0;
}

static int arg(int argc, char **argv, int i, int def)
{
	char *end;
	long v;

	if (argc <= i)
		return def;
	v = strtol(argv[i], &end, 10);
	if (*end || v < 1 || v > 4096)
		die("'%s': a count from 1 to 4096", argv[i]);
	return (int)v;
}

int main(int argc, char **argv)
{
	struct bs_opts o;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || argc > 5 || (strcmp(argv[1], "sva") && strcmp(argv[1], "space"))) {
		fprintf(stderr, "usage: bench_space sva|space [ROUNDS [PAGES [MIB_COPIES]]]\n");
		return 2;
	}
	o.rounds = arg(argc, argv, 2, 9);
	o.pages = arg(argc, argv, 3, 64);
	o.mib_copies = arg(argc, argv, 4, 32);
	if (getuid() != 0)
		skip("needs root (sysfs binding, /proc/PID/mem)");
	svmbind_set_log(svmbind_log_stderr, NULL);
	return strcmp(argv[1], "sva") ? bench_pasid(&o) : bench_sva(&o);
}
