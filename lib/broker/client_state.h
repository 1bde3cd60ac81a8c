/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Private to the broker's client: its state (client.c), and its message I/O (client_io.c). */
#ifndef SVMBIND_CLIENT_STATE_H
#define SVMBIND_CLIENT_STATE_H

#include <pthread.h>
#include <stdint.h>

#include "broker_internal.h"

struct svmbind_client {
	pthread_mutex_t lock;
	int fd;
	pid_t owner;			/* the process that connected */
	uint64_t token;			/* its fork token (fork.c): a child sees another */
	int yama;			/* Yama's ptrace_scope at connect, or -errno */
	pid_t broker_pid;
	uid_t broker_uid;		/* SO_PEERCRED: who listens */
	uid_t file_uid;			/* who owns the socket file we connected to */
	int broker_pidfd;		/* the broker's process, or -1 */
	uint32_t flags, features, seq;
	uint16_t version;		/* agreed at HELLO */
	int timeout_ms;
	int64_t rcvtimeo_ms;		/* the socket's SO_RCVTIMEO (client_io.c); 0: none */
	bool bound, revoked_pending;
	bool broken;			/* a reply did not come in time, or did not parse: closed */
	uint32_t pasid, revoke_reason;
	uint32_t in_len;
	unsigned char in[SBW_MAX_MSG];
};

HIDDEN int64_t sb_client_now_ms(void);	/* CLOCK_MONOTONIC */
/* Send @m (numbered here), with @pidfd attached when >= 0: 0 or a code. */
HIDDEN int sb_client_send(struct svmbind_client *cl, struct sbw_msg *m, int pidfd);
/* Read one message into *m, waiting until @deadline (ms, -1: forever): its
 * length (consume it with sb_client_consume()), or a code. */
HIDDEN int sb_client_recv(struct svmbind_client *cl, struct sbw_msg *m, int64_t deadline);
HIDDEN void sb_client_consume(struct svmbind_client *cl, int len);
HIDDEN void sb_client_note_revoked(struct svmbind_client *cl, const struct sbw_msg *m);
/* A code a broker sends is negative: an errno, a library, a broker or a PASID-space code. */
HIDDEN bool sb_client_code_valid(int32_t code);
/* Wait for the answer to @seq: @want, or ERROR (its code). Notices on the way are noted. */
HIDDEN int sb_client_wait_reply(struct svmbind_client *cl, uint32_t seq, uint8_t want, struct sbw_msg *m,
				void *data, size_t *data_len);

#endif
