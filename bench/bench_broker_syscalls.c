// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_broker's system calls: this program again under strace -f, in its
 * --syscalls mode, each request between markers; the calls counted per
 * request, client and broker apart, by name.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_broker.h"

/* A line strace shows and nothing else makes: write(-1, "sbb-...") fails with EBADF. */
static void mark(const char *what)
{
	(void)!syscall(SYS_write, -1, what, strlen(what));
}

static void *run_marked(void *arg)
{
	(void)arg;
	mark("sbb-broker");
	svmbind_broker_run(broker);
	return NULL;
}

/* --syscalls PCI N: one client, N bind+unbind after a warm-up, each request
 * between markers; run under strace -f by count_syscalls(). */
int syscalls_mode(const char *bdf, int n)
{
	struct svmbind_broker_opts o = { .sz = sizeof(o), .hello_timeout_ms = 600000,
					 .flags = SVMBIND_BROKER_NO_PROCEVENTS };
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	pthread_t th;
	pid_t pid;

	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, bdf, NULL, &dev))
		return 77;
	if (broker_start(dev, &o, "-sys", run_marked, &th))
		return 1;
	pid = fork();
	if (pid == 0) {
		struct svmbind_client *cl;
		uint32_t pasid;

		if (svmbind_client_connect(broker_path, NULL, &cl))
			_exit(1);
		for (int i = 0; i < 5; i++)	/* warm: first allocations, first faults */
			if (svmbind_client_bind(cl, &pasid) || svmbind_client_unbind(cl))
				_exit(1);
		for (int i = 0; i < n; i++) {
			mark("sbb-bind");
			if (svmbind_client_bind(cl, &pasid))
				_exit(1);
			mark("sbb-unbind");
			if (svmbind_client_unbind(cl))
				_exit(1);
		}
		mark("sbb-end");
		svmbind_client_close(cl);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	svmbind_broker_stop(broker);
	pthread_join(th, NULL);
	svmbind_broker_free(broker);
	svmbind_ctx_free(ctx);
	return 0;
}

enum { SEG_BIND, SEG_UNBIND, NR_SEG };
enum { NAMES = 48 };

struct tally {
	unsigned long n[NR_SEG][2];		/* [request][client, broker] */
	char name[NAMES][24];
	unsigned long by_name[NAMES][NR_SEG][2];
	int nr_names;
};

static void tally_name(struct tally *t, const char *call, int seg, int side)
{
	char name[24];
	size_t len = strcspn(call, "( ");
	int i;

	if (len >= sizeof(name))
		len = sizeof(name) - 1;
	memcpy(name, call, len);
	name[len] = 0;
	for (i = 0; i < t->nr_names && strcmp(t->name[i], name); i++)
		;
	if (i == t->nr_names) {
		if (i == NAMES)
			return;
		strcpy(t->name[t->nr_names++], name);
	}
	t->by_name[i][seg][side]++;
}

static void print_side(const struct tally *t, int seg, int side, int n)
{
	for (int i = 0; i < t->nr_names; i++)
		if (t->by_name[i][seg][side])
			printf(" %s %.2g", t->name[i], (double)t->by_name[i][seg][side] / n);
}

/* Count what one brokered bind+unbind costs in system calls, client and broker
 * apart (each call counted once it completes). The floor's are known: each
 * round trip is a write and a read on each side, plus the two ioctls. */
void count_syscalls(const char *bdf)
{
	char self[4096], log[64], nbuf[16], line[8192];
	struct tally t = { 0 };
	int n = 50, status, seg = -1, iters = 0;
	long client = -1, brk = -1, pending = -1;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;
	FILE *f;

	if (len <= 0)
		return;
	self[len] = 0;
	snprintf(log, sizeof(log), "/tmp/bench-broker-strace-%d", (int)getpid());
	snprintf(nbuf, sizeof(nbuf), "%d", n);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		dup2(null, 1);
		dup2(null, 2);
		execlp("strace", "strace", "-f", "-qq", "-o", log, self, "--syscalls", bdf, nbuf, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("syscalls: not counted (strace missing, or the run under it failed: status 0x%x)\n", status);
		unlink(log);
		return;
	}
	f = fopen(log, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p;
		long tid = strtol(line, &p, 10);

		while (*p == ' ')
			p++;
		if (!strncmp(p, "+++", 3) || !strncmp(p, "---", 3))
			continue;
		if (!strncmp(p, "write(-1, \"sbb-", 15)) {	/* a marker: not counted */
			const char *m = p + 15;

			if (strstr(p, "<unfinished ...>"))
				pending = tid;	/* its "resumed" line is not counted either */
			if (!strncmp(m, "broker", 6)) {
				brk = tid;
			} else {
				client = tid;
				seg = !strncmp(m, "bind\"", 5) ? SEG_BIND : !strncmp(m, "unbind", 6) ? SEG_UNBIND : -1;
				iters += seg == SEG_BIND;
			}
			continue;
		}
		if (!strncmp(p, "<... ", 5)) {	/* "<... NAME resumed>": it completes now */
			p += 5;
			if (tid == pending && !strncmp(p, "write resumed", 13)) {
				pending = -1;
				continue;
			}
		} else if (strstr(p, "<unfinished ...>")) {
			continue;	/* counted when it completes */
		}
		if (seg < 0 || (tid != client && tid != brk))
			continue;
		t.n[seg][tid == brk]++;
		tally_name(&t, p, seg, tid == brk);
	}
	fclose(f);
	unlink(log);
	if (iters != n || brk < 0) {
		printf("syscalls: not counted (%d of %d iterations seen, broker thread %sseen)\n", iters, n,
		       brk < 0 ? "not " : "");
		return;
	}
	{
		double cb = (double)t.n[SEG_BIND][0] / n, bb = (double)t.n[SEG_BIND][1] / n;
		double cu = (double)t.n[SEG_UNBIND][0] / n, bu = (double)t.n[SEG_UNBIND][1] / n;

		printf("syscalls per brokered bind+unbind: %.1f (client %.1f, broker %.1f); floor 10 (2 round "
		       "trips: a write and a read on each side, 8; the ioctl pair, 2): %.2fx\n",
		       cb + bb + cu + bu, cb + cu, bb + bu, (cb + bb + cu + bu) / 10);
		printf("syscalls per request: BIND %.1f (client %.1f, broker %.1f), UNBIND %.1f (client %.1f, "
		       "broker %.1f); floor 5 (a round trip, 4; one ioctl)\n", cb + bb, cb, bb, cu + bu, cu, bu);
		for (int s = 0; s < NR_SEG; s++)
			for (int side = 0; side < 2; side++) {
				printf("  %s %s:", s == SEG_BIND ? "BIND  " : "UNBIND", side ? "broker" : "client");
				print_side(&t, s, side, n);
				printf("\n");
			}
	}
	fflush(stdout);
}

