// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_broker's memory per bond (the broker's heap, mallinfo2) and the most
 * concurrent clients it holds.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_broker.h"

static void wait_bonds(size_t want, int ms)
{
	for (int t = 0; t < ms && svmbind_broker_nr_bonds(broker) != want; t += 10)
		usleep(10000);
}

/* Until the broker has freed the connections of the blocks before (it frees
 * one when it reads its end): frees in the measured interval would cancel
 * the allocations measured. */
static void wait_clients(size_t want, int ms)
{
	for (int t = 0; t < ms && svmbind_broker_nr_clients(broker) != want; t += 10)
		usleep(10000);
}

void memory_per_bond(int n)
{
	int p[2];
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	struct mallinfo2 a, b;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return;
	wait_clients(0, 60000);
	a = mallinfo2();
	for (int i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct svmbind_client *cl;
			uint32_t pasid;

			close(p[1]);
			if (svmbind_client_connect(broker_path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
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
void clients_held(int max)
{
	enum { P = 10 };
	int per = (max + P - 1) / P, p[2], q[2], held = 0;
	pid_t pids[P];
	char c;
	uint64_t t0 = now_ns();

	if (pipe2(p, O_CLOEXEC) || pipe2(q, O_CLOEXEC))
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
				if (svmbind_client_connect(broker_path, NULL, &cls[k]) ||
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

