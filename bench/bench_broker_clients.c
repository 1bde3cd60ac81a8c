// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_broker's N clients: 1, 10, 100, 1000 client processes looping
 * bind+unbind against the broker, and against the hand-made server, in blocks
 * interleaved with the floor's: p50, p99 and throughput as ratios to it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_broker.h"

struct shared {
	volatile int ready, failed;
	uint64_t done;		/* the last client's last unbind, ns */
	uint64_t samples[];
};

static int gate[2];	/* clients block reading it; closing the write end starts them all */

/* @raw: against the hand-made server (raw_server()) instead of the broker. */
static int client_loop(struct shared *sh, int idx, int iters, bool raw)
{
	struct svmbind_client_opts co = { .sz = sizeof(co), .timeout_ms = 300000 };
	struct svmbind_client *cl = NULL;
	uint32_t pasid;
	int fd = raw ? raw_connect() : -1;

	if (raw ? fd < 0 || raw_pair(fd) :
	    svmbind_client_connect(broker_path, &co, &cl) ||
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
void brokered(struct svmbind_device *dev, int n, int iters, int blocks)
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
