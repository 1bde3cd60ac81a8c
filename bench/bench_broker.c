// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_broker: the brokered bind+unbind against its floor, in one run.
 *
 *   bench_broker PCI-ADDRESS [MAX_HELD (10000)]
 *
 * A brokered bind+unbind is two requests (BIND, UNBIND), each a round trip.
 * The floor is what a hand-made broker could not avoid: two Unix-socket round
 * trips between two processes (the wire's sizes: 24 bytes each way, then 20)
 * plus the raw ioctl pair VFIO_DEVICE_BIND_TASK(VFIO_SVM_PID) +
 * VFIO_DEVICE_UNBIND_TASK on another process, measured here, now (and each
 * part alone). Then, with 1, 10, 100 and 1000 concurrent client processes
 * each looping svmbind_client_bind() + svmbind_client_unbind() against a
 * broker thread: p50, p99 of one bind+unbind and the throughput (from the
 * start gate to the last client's last unbind), each as a ratio to the floor
 * measured in blocks interleaved with the clients' blocks.
 * System calls per brokered bind+unbind and per request, client and broker
 * apart, are counted with strace (this program again, under strace -f, in its
 * --syscalls mode), against the floor's. Then the broker's heap per held bond
 * (mallinfo2, 1000 client processes holding one bond each), and the most
 * concurrent clients held (connected; one bound per process: one bond per
 * address space), up to MAX_HELD.
 * Needs the provider (SVMBIND_LAB_DRIVER=svmref-vfio-pci) and root; nothing
 * here asserts a number.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <svmbind/broker.h>
#include <svmbind/svmbind.h>

static char path[64], raw_path[64];
static struct svmbind_broker *broker;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t pct(uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

static void *run(void *arg)
{
	(void)arg;
	svmbind_broker_run(broker);
	return NULL;
}

/* ---- the floor ---- */

struct floor {
	uint64_t p50, p99;
	double ops;	/* per second, one at a time */
};

enum { BIND_LEN = 24, UNBIND_LEN = 20 };	/* the wire's BIND/BIND_OK, UNBIND/UNBIND_OK */
enum { WARM = 5 };	/* iterations of the floor not counted: clients warm up with one bind+unbind */

static void summarize(uint64_t *t, int iters, uint64_t wall, struct floor *out)
{
	out->ops = (double)iters * 1e9 / (double)wall;
	qsort(t, (size_t)iters, sizeof(*t), cmp_u64);
	out->p50 = pct(t, (size_t)iters, 0.50);
	out->p99 = pct(t, (size_t)iters, 0.99);
}

/* Samples (ns) and the wall time of a series of blocks. */
struct series {
	uint64_t *v, wall;
	size_t n, cap;
};

static void series_add(struct series *s, const uint64_t *v, size_t n, uint64_t wall)
{
	if (s->n + n > s->cap) {
		size_t cap = (s->n + n) * 2;
		uint64_t *p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			return;
		s->v = p;
		s->cap = cap;
	}
	memcpy(s->v + s->n, v, n * sizeof(*v));
	s->n += n;
	s->wall += wall;
}

static void series_sum(struct series *s, struct floor *out)
{
	out->p50 = out->p99 = 0;
	out->ops = 0;
	if (s->n && s->wall)
		summarize(s->v, (int)s->n, s->wall, out);
	free(s->v);
	*s = (struct series){ 0 };
}

/* @rt round trips and/or the ioctl pair, @iters times; the echo answers each message. */
static void measure_into(struct svmbind_device *dev, int iters, bool rt, bool ioctls, struct series *out)
{
	uint64_t *t = calloc((size_t)iters, sizeof(*t)), t0;
	int done = 0;
	int sv[2], fd = svmbind_device_fd(dev);
	char msg[BIND_LEN] = { 0 };
	pid_t echo, target;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	echo = fork();
	if (echo == 0) {
		close(sv[0]);
		for (;;) {
			ssize_t n = read(sv[1], msg, sizeof(msg));

			if (n <= 0 || write(sv[1], msg, (size_t)n) != n)
				break;
		}
		_exit(0);
	}
	target = fork();
	if (target == 0) {
		pause();
		_exit(0);
	}
	close(sv[1]);
	t0 = now_ns();
	for (int i = -WARM; i < iters; i++) {	/* the first WARM are not counted */
		struct vfio_device_svm s = { .argsz = sizeof(s), .flags = VFIO_SVM_PID, .pid = (uint32_t)target };
		uint64_t a = now_ns();

		if (rt && (write(sv[0], msg, BIND_LEN) != BIND_LEN || read(sv[0], msg, BIND_LEN) != BIND_LEN))
			break;
		if (ioctls && ioctl(fd, VFIO_DEVICE_BIND_TASK, &s))
			break;
		if (rt && (write(sv[0], msg, UNBIND_LEN) != UNBIND_LEN ||
			   read(sv[0], msg, UNBIND_LEN) != UNBIND_LEN))
			break;
		s.flags = 0;
		if (ioctls)
			ioctl(fd, VFIO_DEVICE_UNBIND_TASK, &s);
		if (i < 0) {
			t0 = now_ns();
			continue;
		}
		t[i] = now_ns() - a;
		done++;
	}
	series_add(out, t, (size_t)done, now_ns() - t0);
	close(sv[0]);
	kill(target, SIGKILL);
	waitpid(echo, NULL, 0);
	waitpid(target, NULL, 0);
	free(t);
}

static void measure(struct svmbind_device *dev, int iters, bool rt, bool ioctls, struct floor *out)
{
	struct series s = { 0 };

	measure_into(dev, iters, rt, ioctls, &s);
	series_sum(&s, out);
}

/*
 * The kernel's side of a bind is not O(1) everywhere: the provider walks its
 * device's list of bonds at each bind and unbind. With N clients about N/2
 * bonds are held at any time, so the ioctl pair is timed again with @k bonds
 * held by other processes: the floor's part that grows with the clients.
 */
static void ioctls_with_bonds(struct svmbind_device *dev, int k, const struct floor *alone)
{
	pid_t *kids = calloc((size_t)k, sizeof(*kids));
	uint32_t *pasids = calloc((size_t)k, sizeof(*pasids));
	int fd = svmbind_device_fd(dev), held = 0;
	struct floor io;

	for (int i = 0; i < k; i++) {
		struct vfio_device_svm s = { .argsz = sizeof(s), .flags = VFIO_SVM_PID };

		kids[i] = fork();
		if (kids[i] == 0) {
			pause();
			_exit(0);
		}
		s.pid = (uint32_t)kids[i];
		if (!ioctl(fd, VFIO_DEVICE_BIND_TASK, &s))
			pasids[held++] = s.pasid;
	}
	measure(dev, 500, false, true, &io);
	printf("the ioctl pair alone with %d other bonds held: p50 %.1f us (%.2fx the ioctl pair alone): the "
	       "provider walks its bonds at each bind and unbind\n", held, io.p50 / 1e3,
	       (double)io.p50 / (double)alone->p50);
	for (int i = 0; i < held; i++) {
		struct vfio_device_svm s = { .argsz = sizeof(s), .pasid = pasids[i] };

		ioctl(fd, VFIO_DEVICE_UNBIND_TASK, &s);
	}
	for (int i = 0; i < k; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	free(kids);
	free(pasids);
	fflush(stdout);
}

/* ---- brokered, N clients ---- */

struct shared {
	volatile int ready, failed;
	uint64_t done;		/* the last client's last unbind, ns */
	uint64_t samples[];
};

static int gate[2];	/* clients block reading it; closing the write end starts them all */

/* A bind+unbind against the hand-made server: two round trips, nothing else. */
static int raw_pair(int fd)
{
	char msg[BIND_LEN] = { 0 };

	return write(fd, msg, BIND_LEN) != BIND_LEN || read(fd, msg, BIND_LEN) != BIND_LEN ||
	       write(fd, msg, UNBIND_LEN) != UNBIND_LEN || read(fd, msg, UNBIND_LEN) != UNBIND_LEN;
}

static int raw_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(a.sun_path, raw_path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* @raw: against the hand-made server (raw_server()) instead of the broker. */
static int client_loop(struct shared *sh, int idx, int iters, bool raw)
{
	struct svmbind_client_opts co = { .sz = sizeof(co), .timeout_ms = 300000 };
	struct svmbind_client *cl = NULL;
	uint32_t pasid;
	int fd = raw ? raw_connect() : -1;

	if (raw ? fd < 0 || raw_pair(fd) :
	    svmbind_client_connect(path, &co, &cl) ||
	    svmbind_client_bind(cl, &pasid) || svmbind_client_unbind(cl)) {	/* warm, as the floor */
		__atomic_fetch_add(&sh->failed, 1, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&sh->ready, 1, __ATOMIC_SEQ_CST);
		return 1;
	}
	__atomic_fetch_add(&sh->ready, 1, __ATOMIC_SEQ_CST);
	{
		char c;

		close(gate[1]);
		(void)!read(gate[0], &c, 1);	/* no busy wait: 1000 pollers would starve one vCPU */
	}
	for (int i = 0; i < iters; i++) {
		uint64_t a = now_ns();

		if (raw ? raw_pair(fd) : svmbind_client_bind(cl, &pasid) || svmbind_client_unbind(cl)) {
			__atomic_fetch_add(&sh->failed, 1, __ATOMIC_SEQ_CST);
			return 1;
		}
		sh->samples[(size_t)idx * (size_t)iters + (size_t)i] = now_ns() - a;
	}
	{	/* the run ends at the last unbind, not at the clients' exits */
		uint64_t end = now_ns(), cur = __atomic_load_n(&sh->done, __ATOMIC_SEQ_CST);

		while (cur < end && !__atomic_compare_exchange_n(&sh->done, &cur, end, false,
								  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			;
	}
	svmbind_client_close(cl);
	if (fd >= 0)
		close(fd);
	return 0;
}

/*
 * The floor of a broker with N clients: a hand-made server with no identity
 * check at all, one epoll loop, each client's pid from SO_PEERCRED at accept,
 * a BIND-sized message answered after the raw BIND ioctl of that pid, an
 * UNBIND-sized one after the raw UNBIND. What the broker adds to it is its
 * guarantees (and its library).
 */
struct raw_conn {
	int fd;
	pid_t pid;
	uint32_t pasid;
};

static int raw_listen(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(raw_path, sizeof(raw_path), "/tmp/bench-raw-%d.sock", (int)getpid());
	strcpy(a.sun_path, raw_path);
	unlink(raw_path);
	if (lfd >= 0 && (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4096))) {
		close(lfd);
		return -1;
	}
	return lfd;
}

struct raw_args {
	int dfd, lfd;
};

static void *raw_server(void *arg)
{
	struct raw_args *ra = arg;
	int dfd = ra->dfd, lfd = ra->lfd, ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[64];

	if (lfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
		return NULL;
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			struct raw_conn *c = evs[i].data.ptr;
			char msg[BIND_LEN];
			ssize_t len;

			if (!c) {	/* the listener */
				struct ucred uc;
				socklen_t ul = sizeof(uc);
				int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

				if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) ||
				    !(c = calloc(1, sizeof(*c)))) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				*c = (struct raw_conn){ fd, uc.pid, 0 };
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			len = read(c->fd, msg, sizeof(msg));
			if (len <= 0) {	/* out of epoll first: forked clients hold copies of the socket */
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				free(c);
				continue;
			}
			if (len == BIND_LEN) {
				struct vfio_device_svm s = { .argsz = sizeof(s), .flags = VFIO_SVM_PID,
							     .pid = (uint32_t)c->pid };

				if (!ioctl(dfd, VFIO_DEVICE_BIND_TASK, &s))
					c->pasid = s.pasid;
			} else {
				struct vfio_device_svm s = { .argsz = sizeof(s), .pasid = c->pasid };

				ioctl(dfd, VFIO_DEVICE_UNBIND_TASK, &s);
			}
			(void)!write(c->fd, msg, (size_t)len);
		}
	}
	return NULL;
}

/* One run of @n clients, @iters bind+unbind each: samples and wall time into @s. */
static void brokered_block(int n, int iters, bool raw, struct series *s, int *failed)
{
	size_t total = (size_t)n * (size_t)iters, sz = sizeof(struct shared) + total * sizeof(uint64_t);
	struct shared *sh = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	uint64_t t0, *v;
	size_t got = 0;

	if (sh == MAP_FAILED || pipe2(gate, O_CLOEXEC))
		return;
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(client_loop(sh, i, iters, raw));
	}
	close(gate[0]);
	while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < n)
		usleep(20000);
	t0 = now_ns();
	close(gate[1]);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	v = malloc(total * sizeof(*v));
	for (size_t i = 0; i < total; i++)
		if (sh->samples[i])
			v[got++] = sh->samples[i];
	series_add(s, v, got, (sh->done > t0 ? sh->done : now_ns()) - t0);
	*failed += sh->failed;
	munmap(sh, sz);
	free(pids);
	free(v);
}

/*
 * @n clients, @iters bind+unbind each, in @blocks blocks, each right after a
 * block of the floor: the host drifts (another VM, another build), and both
 * series see the same drift. p50, p99 over all samples of each series;
 * throughput over the sum of the blocks' times (a block ends at its last
 * unbind, not at its clients' exits).
 */
static void brokered(struct svmbind_device *dev, int n, int iters, int blocks)
{
	struct series fs = { 0 }, rs = { 0 }, bs = { 0 };
	struct floor fl, rw, br;
	int failed = 0, rfailed = 0;

	for (int b = 0; b < blocks; b++) {
		measure_into(dev, 1000 / blocks, true, true, &fs);
		brokered_block(n, iters / blocks, true, &rs, &rfailed);
		brokered_block(n, iters / blocks, false, &bs, &failed);
	}
	series_sum(&fs, &fl);
	series_sum(&rs, &rw);
	series_sum(&bs, &br);
	if (br.p50)
		printf("clients %5d: %6d bind+unbind  p50 %8.1f us (%5.2fx floor)  p99 %9.1f us (%6.2fx floor)  "
		       "%8.0f/s (%5.2fx floor)%s  [floor, interleaved: p50 %.1f us, %.0f/s; a hand-made epoll "
		       "server, no checks, %d clients: p50 %.1f us, %.0f/s: the broker does %.2fx its "
		       "throughput%s]\n", n, n * (iters / blocks) * blocks, br.p50 / 1e3,
		       (double)br.p50 / (double)fl.p50, br.p99 / 1e3, (double)br.p99 / (double)fl.p99, br.ops,
		       br.ops / fl.ops, failed ? "  (some clients failed)" : "", fl.p50 / 1e3, fl.ops, n,
		       rw.p50 / 1e3, rw.ops, rw.ops ? br.ops / rw.ops : 0, rfailed ? ", some failed" : "");
	else
		printf("clients %5d: no sample (%d failed)\n", n, failed);
	fflush(stdout);
}

/* ---- system calls, counted by strace ---- */

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
static int syscalls_mode(const char *bdf, int n)
{
	struct svmbind_broker_opts o = { .sz = sizeof(o), .hello_timeout_ms = 600000,
					 .flags = SVMBIND_BROKER_NO_PROCEVENTS };
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	pthread_t th;
	pid_t pid;

	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, bdf, NULL, &dev))
		return 77;
	snprintf(path, sizeof(path), "/tmp/bench-broker-sys-%d.sock", (int)getpid());
	o.path = path;
	if (svmbind_broker_new(dev, &o, &broker))
		return 1;
	pthread_create(&th, NULL, run_marked, NULL);
	pid = fork();
	if (pid == 0) {
		struct svmbind_client *cl;
		uint32_t pasid;

		if (svmbind_client_connect(path, NULL, &cl))
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
	unlink(raw_path);
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
static void count_syscalls(const char *bdf)
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

/* ---- memory per bond, clients held ---- */

static void wait_bonds(size_t want, int ms)
{
	for (int t = 0; t < ms && svmbind_broker_nr_bonds(broker) != want; t += 10)
		usleep(10000);
}

static void memory_per_bond(int n)
{
	int p[2];
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	struct mallinfo2 a, b;
	char c;

	if (pipe(p))
		return;
	a = mallinfo2();
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct svmbind_client *cl;
			uint32_t pasid;

			close(p[1]);
			if (svmbind_client_connect(path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
				_exit(1);
			(void)!read(p[0], &c, 1);	/* until the parent closes the pipe */
			_exit(0);
		}
	}
	close(p[0]);
	wait_bonds((size_t)n, 120000);
	b = mallinfo2();
	printf("memory: %zu bonds held by %d processes: broker heap %+zd bytes, %.0f bytes per bond "
	       "(connection, bond record, library bond entry; every thread's heap, one arena)\n", svmbind_broker_nr_bonds(broker), n,
	       (ssize_t)(b.uordblks - a.uordblks),
	       (double)(ssize_t)(b.uordblks - a.uordblks) / (double)svmbind_broker_nr_bonds(broker));
	close(p[1]);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	wait_bonds(0, 60000);
	free(pids);
}

/* P processes, each holding up to max/P connections, each bound. */
static void clients_held(int max)
{
	enum { P = 10 };
	int per = (max + P - 1) / P, p[2], q[2], held = 0;
	pid_t pids[P];
	char c;
	uint64_t t0 = now_ns();

	if (pipe(p) || pipe(q))
		return;
	for (int i = 0; i < P; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct svmbind_client **cls = calloc((size_t)per, sizeof(*cls));
			int k = 0;
			uint32_t pasid;

			close(p[1]);
			/* one bond per address space: the first connection binds, the rest hold */
			for (; k < per; k++)
				if (svmbind_client_connect(path, NULL, &cls[k]) ||
				    (!k && svmbind_client_bind(cls[k], &pasid)))
					break;
			(void)!write(q[1], &k, sizeof(k));
			(void)!read(p[0], &c, 1);
			_exit(0);
		}
	}
	close(p[0]);
	for (int i = 0; i < P; i++) {
		int k = 0;

		if (read(q[0], &k, sizeof(k)) == (ssize_t)sizeof(k))
			held += k;
	}
	printf("held: %d of %d concurrent clients connected, one bound in each of %d processes (one bond per "
	       "address space; broker: %zu clients, %zu bonds) in %.1f s\n", held, max, P,
	       svmbind_broker_nr_clients(broker), svmbind_broker_nr_bonds(broker), (double)(now_ns() - t0) / 1e9);
	close(p[1]);
	for (int i = 0; i < P; i++)
		waitpid(pids[i], NULL, 0);
	wait_bonds(0, 120000);
}

int main(int argc, char **argv)
{
	struct svmbind_broker_opts o = { .sz = sizeof(o), .max_clients = 20000, .hello_timeout_ms = 600000,
					 .flags = SVMBIND_BROKER_NO_PROCEVENTS };
	struct rlimit rl = { 1 << 16, 1 << 16 };
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct floor fl, rt, io;
	struct raw_args ra;
	pthread_t th, rth;
	int max_held = argc > 2 ? atoi(argv[2]) : 10000;

	if (argc > 3 && !strcmp(argv[1], "--syscalls"))
		return syscalls_mode(argv[2], atoi(argv[3]));
	if (argc < 2) {
		fprintf(stderr, "usage: bench_broker PCI-ADDRESS [MAX_HELD]\n");
		return 64;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("setrlimit NOFILE");
	/* One arena for every thread: mallinfo2() reports the main arena only, and
	 * the broker thread's allocations would otherwise land in one of its own. */
	mallopt(M_ARENA_MAX, 1);
	signal(SIGPIPE, SIG_IGN);
	count_syscalls(argv[1]);	/* first: it opens the device itself */
	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, argv[1], NULL, &dev) ||
	    svmbind_device_dialect(dev) != SVMBIND_DIALECT_PID) {
		fprintf(stderr, "bench_broker: %s: no device with the seed's PID bind (the provider)\n", argv[1]);
		return 77;
	}
	snprintf(path, sizeof(path), "/tmp/bench-broker-%d.sock", (int)getpid());
	o.path = path;
	if (svmbind_broker_new(dev, &o, &broker))
		return 1;
	pthread_create(&th, NULL, run, NULL);
	ra.dfd = svmbind_device_fd(dev);
	ra.lfd = raw_listen();
	pthread_create(&rth, NULL, raw_server, &ra);	/* never joined: it ends with the process */

	measure(dev, 2000, true, true, &fl);
	measure(dev, 1000, true, false, &rt);
	measure(dev, 1000, false, true, &io);
	printf("floor: 2 Unix-socket round trips + raw BIND(PID)/UNBIND ioctls: p50 %.1f us, p99 %.1f us, "
	       "%.0f/s (the round trips alone: p50 %.1f us; the ioctl pair alone: p50 %.1f us)\n",
	       fl.p50 / 1e3, fl.p99 / 1e3, fl.ops, rt.p50 / 1e3, io.p50 / 1e3);
	ioctls_with_bonds(dev, 500, &io);
	brokered(dev, 1, 2000, 10);
	brokered(dev, 10, 200, 10);
	brokered(dev, 100, 20, 4);
	brokered(dev, 1000, 2, 2);
	memory_per_bond(1000);
	clients_held(max_held);

	unlink(raw_path);
	svmbind_broker_stop(broker);
	pthread_join(th, NULL);
	svmbind_broker_free(broker);
	svmbind_ctx_free(ctx);
	return 0;
}
