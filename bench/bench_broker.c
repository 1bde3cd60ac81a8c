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
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_broker.h"

char broker_path[64], raw_path[64];
struct svmbind_broker *broker;

static void *run(void *arg)
{
	(void)arg;
	svmbind_broker_run(broker);
	return NULL;
}

int broker_start(struct svmbind_device *dev, struct svmbind_broker_opts *o, const char *tag,
		 void *(*fn)(void *), pthread_t *th)
{
	int ret;

	snprintf(broker_path, sizeof(broker_path), "/tmp/bench-broker%s-%d.sock", tag, (int)getpid());
	o->path = broker_path;
	ret = svmbind_broker_new(dev, o, &broker);
	if (ret) {
		fprintf(stderr, "bench_broker: svmbind_broker_new(%s): %s\n", broker_path,
			svmbind_strerror(ret));
		return ret;
	}
	pthread_create(th, NULL, fn ? fn : run, NULL);
	return 0;
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
	if (broker_start(dev, &o, "", NULL, &th))
		return 1;
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
