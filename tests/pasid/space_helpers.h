/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Helpers of test_space (Check): A is the test process (the device owner,
 * through libsvmbind), B a client process that keeps a memfd-backed buffer
 * mapped at an address of its own and does what A asks.
 */
#ifndef SVMBIND_TESTS_PASID_SPACE_HELPERS_H
#define SVMBIND_TESTS_PASID_SPACE_HELPERS_H

#include <check.h>
#include <stdint.h>
#include <sys/types.h>

#include <svmbind/space.h>
#include <svmbind/svmbind.h>

#include "svmdma.h"

#define PG 4096u

/* The two svm-dma devices, bound to vfio-pci by main(): [0] PRI, [1] no PRI. */
extern struct svmdma sd_devs[2];

/* A's side: an iommufd context, the device open, BAR0 mapped, bus master on. */
struct owner {
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct svmdma sd;
};
void owner_open(struct owner *o, int which);
void owner_close(struct owner *o);

/* B: a child process with @pages pages of a memfd mapped MAP_SHARED at
 * @at (0: where the kernel likes), the memfd passed to A. */
enum { MFD_PLAIN = 0, MFD_NO_SEALING = 1 };
struct client {
	pid_t pid;
	int sock;
	int memfd;		/* A's copy, received over the socket */
	uint64_t addr;		/* the buffer, in B */
	uint64_t len;
	uint64_t other;		/* one anonymous page of B's, never shared */
};
void client_start(struct client *c, unsigned int pages, uint64_t at, int mode);
void client_stop(struct client *c);			/* B exits, A waits for it */
/* B fills [off, off + len) of its buffer (seed), or checks it: 1 equal, 0 not. */
void client_fill(struct client *c, uint64_t off, uint64_t len, int seed);
int client_check(struct client *c, uint64_t off, uint64_t len, int seed);
/* B: are its bytes at offsets @a and @b the same over @len? 1 or 0. */
int client_same(struct client *c, uint64_t a, uint64_t b, uint64_t len);
/* The first byte of B's never-shared page. */
int client_other_byte(struct client *c);
/* B: ftruncate(memfd, len) / fcntl(F_ADD_SEALS, seals): 0 or -errno. */
int client_truncate(struct client *c, uint64_t len);
int client_seal(struct client *c, int seals);

/* A's VmPin (kB), from /proc/self/status. */
long vm_pin_kb(void);

/* One copy by A's device with the space's PASID; page requests dispatched
 * with @fn while it waits when @space takes them. Returns the STATUS. */
int space_copy(struct owner *o, struct svmbind_space *space, uint32_t ctrl, uint64_t src,
	       uint64_t dst, uint32_t len, uint64_t *fault, svmbind_fault_fn fn, void *arg);

void add_space_tests(Suite *s);
void add_hostile_tests(Suite *s);

#endif
