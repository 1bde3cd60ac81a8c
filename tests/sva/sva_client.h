/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * sva_dma's B: a child process that runs the commands A sends it (allocate,
 * write, mprotect, munmap, fork, exec, exit) over a socket, and A's reading
 * of B's memory through /proc/B/mem.
 */
#ifndef SVMBIND_TESTS_SVA_CLIENT_H
#define SVMBIND_TESTS_SVA_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

/* A harness failure: the test cannot go on. */
#define die(...) do { fprintf(stderr, "sva_dma: " __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)

enum { C_MMAP, C_TOUCHLESS, C_FILL, C_PROTECT, C_UNMAP, C_FORK_COW, C_EXEC, C_EXIT };

struct proc {
	pid_t pid;
	int sock;
	uint32_t pasid;
	bool bound;
};

/* A new B, holding none of A's files. */
struct proc spawn(void);
/* Send B a command (C_*); B's answer, or -EPIPE once B exec'd or is gone. */
int64_t cmd(struct proc *p, int op, uint64_t addr, uint64_t len, int arg);
/* An anonymous mapping in B, touched (zeroed) or never touched; its address. */
uint64_t b_mmap(struct proc *p, uint64_t len, bool touch);
void b_kill(struct proc *p);

/* The test pattern of @seed. */
void fill(void *p, size_t len, int seed);
bool peek(pid_t pid, uint64_t addr, void *buf, size_t len);
/* Does process @pid hold fill(@seed) at @addr? */
bool same_as_fill(pid_t pid, uint64_t addr, size_t len, int seed);

#endif
