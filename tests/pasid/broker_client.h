/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * B of test_broker_space: a child process that connects to the broker with
 * the client API (svmbind/broker.h) and does one step per bc_op(), so the
 * test (A, the device owner) sees every step's result.
 */
#ifndef SVMBIND_TESTS_PASID_BROKER_CLIENT_H
#define SVMBIND_TESTS_PASID_BROKER_CLIENT_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/types.h>

#include <svmbind/broker.h>

/* The request A serves: its device copies len bytes from src to dst, B's addresses. */
enum { BC_COPY = 1 };
struct bc_work {
	uint64_t src, dst;
	uint32_t len, reserved;
};
struct bc_done {
	uint32_t status;	/* the device's STATUS (SD_ST_*) */
	uint32_t page_requests;	/* the device's page requests for this copy */
};

/* B's steps: each answers an int64 (a value, or a negative code). */
enum {
	BOP_CONNECT = 1,	/* svmbind_client_connect(path): 0 or code */
	BOP_BIND,		/* svmbind_client_bind(): the PASID or code */
	BOP_UNBIND,		/* svmbind_client_unbind(): 0 or code */
	BOP_ALLOC,		/* a: bytes; svmbind_client_share_alloc(): the address or code */
	BOP_ANON,		/* a: bytes of anonymous memory, never shared, all 0x5a: the address */
	BOP_FILL,		/* a: address, b: bytes, c: seed */
	BOP_SAME,		/* a, b: addresses, c: bytes: 1 when equal */
	BOP_BYTE,		/* a: address: the byte there */
	BOP_COPY,		/* a: src, b: dst, c: bytes: A's device STATUS, or code */
	BOP_SHARE_PIPE,		/* svmbind_client_share() of a pipe at a, b bytes: 0 or code */
	BOP_SHARE_MEMFD,	/* a memfd of a bytes made with memfd_create() flags b, mapped,
				 * svmbind_client_share()d as at c (0: where mapped): the address or code */
	BOP_TRUNCATE,		/* ftruncate() of the last BOP_SHARE_MEMFD memfd to a bytes: 0 or -errno */
	BOP_REVOKED,		/* svmbind_client_check(5 s): the revoke reason, or code */
	BOP_EXIT,
};

struct bclient {
	pid_t pid;
	int sock;
};

void bc_start(struct bclient *c, const char *path);
int64_t bc_op(struct bclient *c, int op, uint64_t a, uint64_t b, uint64_t cc);
void bc_stop(struct bclient *c);	/* B exits (its connection with it), A waits for it */

#endif
