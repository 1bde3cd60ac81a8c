// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab.h"
#include "testutil.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_log[1024], last_error[1024];

static void catcher(enum svmbind_log_level level, const char *msg, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&log_lock);
	snprintf(last_log, sizeof(last_log), "%s", msg);
	if (level == SVMBIND_LOG_ERROR)
		snprintf(last_error, sizeof(last_error), "%s", msg);
	pthread_mutex_unlock(&log_lock);
	if (getenv("TU_VERBOSE"))
		fprintf(stderr, "  log[%d]: %s\n", level, msg);
}

void tu_catch_log(void)
{
	svmbind_set_log(catcher, NULL);
	svmbind_set_log_level(SVMBIND_LOG_DEBUG);
}

const char *tu_last_log(void) { return last_log; }
const char *tu_last_error(void) { return last_error; }
void tu_clear_log(void) { last_log[0] = last_error[0] = '\0'; }

long tu_param(const char *name)
{
	long v = -1;

	ck_assert_int_eq(lab_get_param(name, &v), 0);
	return v;
}

int tu_ctx_opts(struct svmbind_ctx_opts *o)
{
	const char *want = getenv("SVMBIND_TEST_BACKEND");

	*o = (struct svmbind_ctx_opts){ .sz = sizeof(*o) };
	if (!want || !*want)
		return 0;
	if (!strcmp(want, "legacy"))
		o->backend = SVMBIND_BACKEND_LEGACY;
	else if (!strcmp(want, "iommufd"))
		o->backend = SVMBIND_BACKEND_IOMMUFD;
	else
		return -EINVAL;
	return 0;
}

struct svmbind_ctx *tu_ctx(void)
{
	struct svmbind_ctx_opts o;
	struct svmbind_ctx *ctx = NULL;

	ck_assert_msg(!tu_ctx_opts(&o), "SVMBIND_TEST_BACKEND=%s: use legacy or iommufd",
		      getenv("SVMBIND_TEST_BACKEND"));
	ck_ok(svmbind_ctx_new(&o, &ctx));
	return ctx;
}

struct svmbind_device *tu_open(struct svmbind_ctx *ctx, const char *name)
{
	struct svmbind_device *dev = NULL;

	ck_assert_msg(name, "lab device missing");
	ck_ok(svmbind_device_open(ctx, name, NULL, &dev));
	return dev;
}

int tu_fds(void)
{
	return lab_count_fds();
}

static void drop_to(int uid)
{
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		_exit(120);
}

static void xwrite(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		_exit(121);
}

static void xread(int fd, void *p, size_t n)
{
	ssize_t r = read(fd, p, n);

	ck_assert_msg(r == (ssize_t)n, "target pipe: read %zd of %zu", r, n);
}

void tu_target_start(struct tu_target *t, const char *text, int uid)
{
	int cmd[2], reply[2];

	t->buf = calloc(1, TU_BUF_LEN);
	ck_assert(t->buf);
	snprintf(t->buf, TU_BUF_LEN, "%s", text);
	ck_assert(!pipe(cmd) && !pipe(reply));
	t->pid = fork();
	ck_assert(t->pid >= 0);
	if (t->pid == 0) {
		char c;

		close(cmd[1]);
		close(reply[0]);
		if (uid >= 0) {
			drop_to(uid);
			prctl(PR_SET_DUMPABLE, 1);
		}
		xwrite(reply[1], "r", 1);
		while (read(cmd[0], &c, 1) == 1) {
			if (c == 'r') {
				xwrite(reply[1], t->buf, TU_BUF_LEN);
			} else if (c == 'p') {
				pid_t tracer;

				if (read(cmd[0], &tracer, sizeof(tracer)) != sizeof(tracer))
					_exit(122);
				prctl(PR_SET_PTRACER, (unsigned long)tracer);
				xwrite(reply[1], "p", 1);
			} else if (c == 'e') {
				dup2(reply[1], 1);
				execl("/bin/sh", "sh", "-c", "echo e; exec sleep 60", (char *)NULL);
				_exit(123);
			}
		}
		_exit(0);
	}
	close(cmd[0]);
	close(reply[1]);
	t->cmd = cmd[1];
	t->reply = reply[0];
	char c;

	xread(t->reply, &c, 1);
	ck_assert(c == 'r');
}

void tu_target_read(struct tu_target *t, char out[TU_BUF_LEN])
{
	ck_assert(write(t->cmd, "r", 1) == 1);
	xread(t->reply, out, TU_BUF_LEN);
}

void tu_target_set_ptracer(struct tu_target *t, pid_t tracer)
{
	char c;

	ck_assert(write(t->cmd, "p", 1) == 1);
	ck_assert(write(t->cmd, &tracer, sizeof(tracer)) == sizeof(tracer));
	xread(t->reply, &c, 1);
}

void tu_target_exec(struct tu_target *t)
{
	char line[2];

	ck_assert(write(t->cmd, "e", 1) == 1);
	xread(t->reply, line, 2);	/* "e\n" from the new program */
}

void tu_target_stop(struct tu_target *t)
{
	int status;

	if (t->pid <= 0)
		return;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &status, 0);
	close(t->cmd);
	close(t->reply);
	free(t->buf);
	t->pid = 0;
}

int tu_run_as(int uid, int (*fn)(void *), void *arg)
{
	int status;
	pid_t pid = fork();

	ck_assert(pid >= 0);
	if (pid == 0) {
		if (uid >= 0)
			drop_to(uid);
		_exit(fn(arg));
	}
	ck_assert(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * LeakSanitizer (ASan builds) stops the world with ptrace at exit, and Yama's
 * ptrace_scope 3 forbids ptrace to everyone: the check would die with a
 * "fatal error" instead of running. It is turned off for processes that exit
 * after the last conformance case set 3 (sticky until reboot); every other
 * process is checked. Plain builds never call this.
 */
__attribute__((visibility("default"))) int __lsan_is_turned_off(void);
__attribute__((visibility("default"))) int __lsan_is_turned_off(void)
{
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
	int scope = -1;

	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = -1;
		fclose(f);
	}
	return scope == 3;
}
