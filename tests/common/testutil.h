/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Helpers shared by the Check test programs: assertions on codes, a log
 * catcher, target processes for foreign binds. */
#ifndef SVMBIND_TESTUTIL_H
#define SVMBIND_TESTUTIL_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <svmbind/svmbind.h>

#define ck_ok(expr) do {							\
	int r_ = (expr);							\
	ck_assert_msg(r_ == 0, "%s = %d (%s); log: %s", #expr, r_,		\
		      svmbind_strerror(r_), tu_last_log());			\
} while (0)

/* A call fails with exactly @code (a positive errno or SVMBIND_ERR_*), and sets errno to it. */
#define ck_fails(expr, code) do {						\
	int r_ = (expr), e_ = errno;						\
	ck_assert_msg(r_ == -(code), "%s = %d (%s), want -%s; log: %s", #expr,	\
		      r_, svmbind_strerror(r_), #code, tu_last_log());		\
	ck_assert_msg(e_ == (code), "%s: errno %d, want %d", #expr, e_, (code));	\
} while (0)

/* Log catcher: every message at any level; tu_last_error() is the last ERROR. */
void tu_catch_log(void);
const char *tu_last_log(void);
const char *tu_last_error(void);
void tu_clear_log(void);

/* A provider parameter (svmref_uapi.h) read through the lab; ck_assert on failure. */
long tu_param(const char *name);

/* Options for the path the suite runs on: SVMBIND_TEST_BACKEND=legacy|iommufd,
 * unset: the library's choice. 0, or -EINVAL for another value. */
int tu_ctx_opts(struct svmbind_ctx_opts *o);

/* Open a context (on that path) and a lab device; ck_assert on failure. */
struct svmbind_ctx *tu_ctx(void);
struct svmbind_device *tu_open(struct svmbind_ctx *ctx, const char *name);

/* A target process for foreign binds: a child of the caller, stopped on a pipe. */
struct tu_target {
	pid_t pid;
	int cmd;		/* write end: commands to the target */
	int reply;		/* read end: its replies */
	char *buf;		/* a 64-byte buffer at the same address in the target */
};
enum { TU_BUF_LEN = 64 };
/* Fork a target whose buffer holds @text. uid < 0: keep ours; else switch the
 * target to that uid/gid and keep it dumpable. */
void tu_target_start(struct tu_target *t, const char *text, int uid);
/* The target's buffer as it sees it now. */
void tu_target_read(struct tu_target *t, char out[TU_BUF_LEN]);
/* Target calls prctl(PR_SET_PTRACER, tracer). */
void tu_target_set_ptracer(struct tu_target *t, pid_t tracer);
/* Target execs /bin/sh (its address space is replaced); returns once it has. */
void tu_target_exec(struct tu_target *t);
/* Target exits and is reaped. */
void tu_target_stop(struct tu_target *t);

/* Run @fn in a forked child that first drops to @uid (and its gid, no groups,
 * no capabilities); returns fn's return value (0..255) or -1 if it died. */
int tu_run_as(int uid, int (*fn)(void *), void *arg);

/* Count fds now; the Check test fails if they changed at tu_fds_same(). */
int tu_fds(void);
#define ck_fds_same(before) do {						\
	int now_ = tu_fds();							\
	ck_assert_msg(now_ == (before), "fds: %d before, %d after (leak)", (before), now_); \
} while (0)

#endif
