/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Shared by the broker tests: a broker in a thread of the test process, raw
 * protocol clients, child processes, the provider's bond count. */
#ifndef BROKER_TEST_HELPERS_H
#define BROKER_TEST_HELPERS_H

#include <check.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <svmbind/broker.h>
#include <svmbind/svmbind.h>

#include "wire.h"

struct fx {
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct svmbind_broker *b;
	pthread_t thread;
	bool running;
	char path[108];
	int ret;		/* svmbind_broker_run()'s */
};

#define ck_code(expr, want) do {						\
	int r_ = (expr);							\
	ck_assert_msg(r_ == (want), "%s = %d (%s), want %d (%s)", #expr, r_,	\
		      svmbind_strerror(r_), (int)(want), svmbind_strerror(want));	\
} while (0)

/* The lab device alone in its group (SVMBIND_LAB_DEVS's last); NULL outside the VM. */
const char *bt_device(void);
/* Skip (exit 77) unless in the VM on the provider, as root. */
void bt_require_provider(void);
long bt_provider_bonds(void);
/* Wait until fn(arg) is true, up to ms; returns its last value. */
bool bt_wait(bool (*fn)(void *), void *arg, int ms);
bool bt_wait_provider_bonds(long want, int ms);
bool bt_wait_broker_bonds(struct fx *f, size_t want, int ms);
bool bt_wait_clients(struct fx *f, size_t want, int ms);

/* The broker's list, the library's book and the kernel agree: each PASID the
 * broker lists is in the library's book with one reference per broker entry,
 * the book holds nothing else, and the provider counts as many bonds. NULL, or
 * what disagrees (a static string). */
const char *bt_books_disagree(struct fx *f);
/* Wait up to ms for agreement (a quiet point); fail the test with the reason if none. */
void bt_assert_books(struct fx *f, int ms);

/* Open the device, create a broker at a fresh path with @o (NULL: defaults;
 * path filled in), run it in a thread. */
void fx_start(struct fx *f, struct svmbind_broker_opts *o);
/* Stop the thread (the broker stays). */
void fx_pause(struct fx *f);
void fx_resume(struct fx *f);
/* Stop, free the broker, close the device. */
void fx_stop(struct fx *f);

/* A raw connection: connect to path; fd or -errno. */
int raw_connect(const char *path);
/* Send bytes, with up to two fds attached (-1: none). */
int raw_send(int fd, const void *buf, size_t len, int fd1, int fd2);
int raw_send_msg(int fd, const struct sbw_msg *m, int fd1);
/* HELLO with our own pidfd; expects HELLO_OK. 0 or the ERROR code. */
int raw_hello(int fd);
/* HELLO offering versions 1..@max. */
int raw_hello_version(int fd, uint16_t max);
/* Read one message within ms: > 0 its type (m filled), 0 end of file, < 0 error/timeout. */
int raw_recv(int fd, struct sbw_msg *m, unsigned char *buf, size_t cap, int ms);
/* Expect an ERROR with @code, then end of file. */
int raw_expect_error_eof(int fd, int code, int ms);

/* fork() with Check's signal handlers reset in the child */
pid_t bt_fork(void);
/* fork(): run fn(arg) in a child, exit with its value. */
pid_t bt_spawn(int (*fn)(void *), void *arg);
/* waitpid: exit code, 128+signal, or -1. */
int bt_wait_child(pid_t pid);
int bt_count_fds(void);
/* In a child forked from the process that runs the broker: drop its copies of the broker's fds. */
void bt_close_fds_except(int keep);

#endif
