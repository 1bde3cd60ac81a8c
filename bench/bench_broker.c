// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_broker: the brokered bind+unbind against its floor, in one run.
 *
 *   bench_broker PCI-ADDRESS [MAX_HELD (10000)]
 *
 * The floor is what a hand-made broker could not avoid: one Unix-socket round
 * trip (24 bytes each way, between two processes) plus the raw ioctl pair
 * VFIO_DEVICE_BIND_TASK(VFIO_SVM_PID) + VFIO_DEVICE_UNBIND_TASK on another
 * process, measured here, now. Then, with 1, 10, 100 and 1000 concurrent
 * client processes each looping svmbind_client_bind() + svmbind_client_unbind()
 * against a broker thread: p50, p99 of one bind+unbind and the throughput,
 * each as a ratio to the floor. Then the broker's heap per held bond
 * (mallinfo2, 1000 client processes holding one bond each), and the most
 * concurrent clients held (connected and bound), up to MAX_HELD.
 * Needs the provider (SVMBIND_LAB_DRIVER=svmref-vfio-pci) and root; nothing
 * here asserts a number.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <svmbind/broker.h>
#include <svmbind/svmbind.h>

static char path[64];
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

static void measure_floor(struct svmbind_device *dev, int iters, struct floor *out)
{
	uint64_t *t = calloc((size_t)iters, sizeof(*t)), t0;
	int sv[2], fd = svmbind_device_fd(dev);
	char msg[24] = { 0 };
	pid_t echo, target;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	echo = fork();
	if (echo == 0) {
		close(sv[0]);
		while (read(sv[1], msg, sizeof(msg)) == (ssize_t)sizeof(msg))
			if (write(sv[1], msg, sizeof(msg)) != (ssize_t)sizeof(msg))
				break;
		_exit(0);
	}
	target = fork();
	if (target == 0) {
		pause();
		_exit(0);
	}
	close(sv[1]);
	t0 = now_ns();
	for (int i = 0; i < iters; i++) {
		struct vfio_device_svm s = { .argsz = sizeof(s), .flags = VFIO_SVM_PID, .pid = (uint32_t)target };
		uint64_t a = now_ns();

		if (write(sv[0], msg, sizeof(msg)) != (ssize_t)sizeof(msg) ||
		    read(sv[0], msg, sizeof(msg)) != (ssize_t)sizeof(msg))
			break;
		if (ioctl(fd, VFIO_DEVICE_BIND_TASK, &s))
			break;
		s.flags = 0;
		ioctl(fd, VFIO_DEVICE_UNBIND_TASK, &s);
		t[i] = now_ns() - a;
	}
	out->ops = (double)iters * 1e9 / (double)(now_ns() - t0);
	qsort(t, (size_t)iters, sizeof(*t), cmp_u64);
	out->p50 = pct(t, (size_t)iters, 0.50);
	out->p99 = pct(t, (size_t)iters, 0.99);
	close(sv[0]);
	kill(target, SIGKILL);
	waitpid(echo, NULL, 0);
	waitpid(target, NULL, 0);
	free(t);
}

/* ---- brokered, N clients ---- */

struct shared {
	volatile int ready, failed;
	uint64_t samples[];
};

static int gate[2];	/* clients block reading it; closing the write end starts them all */

static int client_loop(struct shared *sh, int idx, int iters)
{
	struct svmbind_client_opts co = { .sz = sizeof(co), .timeout_ms = 300000 };
	struct svmbind_client *cl;
	uint32_t pasid;

	if (svmbind_client_connect(path, &co, &cl)) {
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

		if (svmbind_client_bind(cl, &pasid) || svmbind_client_unbind(cl)) {
			__atomic_fetch_add(&sh->failed, 1, __ATOMIC_SEQ_CST);
			return 1;
		}
		sh->samples[(size_t)idx * (size_t)iters + (size_t)i] = now_ns() - a;
	}
	svmbind_client_close(cl);
	return 0;
}

static void brokered(int n, int iters, const struct floor *fl)
{
	size_t total = (size_t)n * (size_t)iters, sz = sizeof(struct shared) + total * sizeof(uint64_t);
	struct shared *sh = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	uint64_t t0, wall, *v;
	size_t got = 0;

	if (pipe2(gate, O_CLOEXEC))
		return;
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(client_loop(sh, i, iters));
	}
	close(gate[0]);
	while (__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) < n)
		usleep(20000);
	t0 = now_ns();
	close(gate[1]);
	for (int i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	wall = now_ns() - t0;
	v = malloc(total * sizeof(*v));
	for (size_t i = 0; i < total; i++)
		if (sh->samples[i])
			v[got++] = sh->samples[i];
	qsort(v, got, sizeof(*v), cmp_u64);
	if (got) {
		uint64_t p50 = pct(v, got, 0.5), p99 = pct(v, got, 0.99);
		double ops = (double)got * 1e9 / (double)wall;

		printf("clients %5d: %6zu bind+unbind  p50 %8.1f us (%5.2fx floor)  p99 %9.1f us (%6.2fx floor)  "
		       "%8.0f/s (%5.2fx floor)%s\n", n, got, p50 / 1e3, (double)p50 / (double)fl->p50,
		       p99 / 1e3, (double)p99 / (double)fl->p99, ops, ops / fl->ops,
		       sh->failed ? "  (some clients failed)" : "");
	} else {
		printf("clients %5d: no sample (%d failed)\n", n, sh->failed);
	}
	fflush(stdout);
	munmap(sh, sz);
	free(pids);
	free(v);
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
	       "(connection, bond record, library bond entry)\n", svmbind_broker_nr_bonds(broker), n,
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
			for (; k < per; k++)
				if (svmbind_client_connect(path, NULL, &cls[k]) ||
				    svmbind_client_bind(cls[k], &pasid))
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
	printf("held: %d of %d concurrent clients connected and bound (broker: %zu clients, %zu bonds) "
	       "in %.1f s\n", held, max, svmbind_broker_nr_clients(broker), svmbind_broker_nr_bonds(broker),
	       (double)(now_ns() - t0) / 1e9);
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
	struct floor fl;
	pthread_t th;
	int max_held = argc > 2 ? atoi(argv[2]) : 10000;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_broker PCI-ADDRESS [MAX_HELD]\n");
		return 64;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("setrlimit NOFILE");
	signal(SIGPIPE, SIG_IGN);
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

	measure_floor(dev, 2000, &fl);
	printf("floor: Unix-socket round trip + raw BIND(PID)/UNBIND ioctls: p50 %.1f us, p99 %.1f us, %.0f/s\n",
	       fl.p50 / 1e3, fl.p99 / 1e3, fl.ops);
	brokered(1, 2000, &fl);
	brokered(10, 200, &fl);
	brokered(100, 20, &fl);
	brokered(1000, 2, &fl);
	memory_per_bond(1000);
	clients_held(max_held);

	svmbind_broker_stop(broker);
	pthread_join(th, NULL);
	svmbind_broker_free(broker);
	svmbind_ctx_free(ctx);
	return 0;
}
