/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * bench_broker (bench/README.md), its parts: bench_broker.c (main, the broker
 * thread), bench_broker_floor.c (the floor and the hand-made epoll server),
 * bench_broker_clients.c (N clients), bench_broker_syscalls.c (strace's
 * count), bench_broker_memory.c (memory per bond, clients held).
 */
#ifndef SVMBIND_BENCH_BROKER_H
#define SVMBIND_BENCH_BROKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <svmbind/broker.h>
#include <svmbind/svmbind.h>

/* The broker's socket, the hand-made server's (raw_listen()), the broker. */
extern char broker_path[64], raw_path[64];
extern struct svmbind_broker *broker;

/* The broker on @dev at /tmp/bench-broker@tag-PID.sock (broker_path), run by
 * @fn (NULL: svmbind_broker_run()) in *@th. 0, or the code, said on stderr. */
int broker_start(struct svmbind_device *dev, struct svmbind_broker_opts *o, const char *tag,
		 void *(*fn)(void *), pthread_t *th);

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the floor (bench_broker_floor.c) ---- */

struct floor {
	uint64_t p50, p99;
	double ops;	/* per second, one at a time */
};

enum { BIND_LEN = 24, UNBIND_LEN = 20 };	/* the wire's BIND/BIND_OK, UNBIND/UNBIND_OK */

/* Samples (ns) and the wall time of a series of blocks. */
struct series {
	uint64_t *v, wall;
	size_t n, cap;
};

void series_add(struct series *s, const uint64_t *v, size_t n, uint64_t wall);
/* p50, p99, throughput of @s into @out; @s emptied. */
void series_sum(struct series *s, struct floor *out);
/* @rt round trips and/or the ioctl pair, @iters times: samples added to a
 * series (measure_into), or summed at once (measure). */
void measure_into(struct svmbind_device *dev, int iters, bool rt, bool ioctls, struct series *out);
void measure(struct svmbind_device *dev, int iters, bool rt, bool ioctls, struct floor *out);
/* The ioctl pair again with @k bonds held by other processes (printed). */
void ioctls_with_bonds(struct svmbind_device *dev, int k, const struct floor *alone);

/* The hand-made epoll server: its socket (raw_path), its thread, a client's side. */
struct raw_args {
	int dfd, lfd;
};
int raw_listen(void);
void *raw_server(void *arg);
int raw_connect(void);
int raw_pair(int fd);

/* ---- N clients (bench_broker_clients.c) ---- */

/* @n clients, @iters bind+unbind each, in @blocks blocks interleaved with the floor's (printed). */
void brokered(struct svmbind_device *dev, int n, int iters, int blocks);

/* ---- system calls (bench_broker_syscalls.c) ---- */

/* --syscalls PCI N: the run strace watches. */
int syscalls_mode(const char *bdf, int n);
/* This program again under strace -f, its calls counted (printed). */
void count_syscalls(const char *bdf);

/* ---- memory per bond, clients held (bench_broker_memory.c) ---- */

void memory_per_bond(int n);
void clients_held(int max);

#endif
