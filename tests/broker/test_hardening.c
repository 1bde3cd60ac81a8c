// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The broker against a hostile or unlucky world: a uid that floods silent
 * connections, half a message held forever, a symlink swapped in at start,
 * running out of fds, a forked child and a pid namespace that silence the
 * process events (test_hardening_start.c, with the socket's start); the bond
 * getter's size, an fd at HELLO that is not a pidfd. The client's side:
 * test_hardening_client.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hardening.h"
#include "helpers.h"
#include "tests.h"

/* ---- a log catcher: every message, from any thread ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[64 * 1024];
static size_t log_len;

static void catch_log(enum svmbind_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)arg;
	pthread_mutex_lock(&log_lock);
	log_len += (size_t)snprintf(log_buf + log_len, sizeof(log_buf) - log_len, "%s\n", msg);
	if (log_len >= sizeof(log_buf))
		log_len = sizeof(log_buf) - 1;
	pthread_mutex_unlock(&log_lock);
}

void log_start(void)
{
	pthread_mutex_lock(&log_lock);
	log_len = 0;
	log_buf[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	svmbind_set_log_level(SVMBIND_LOG_DEBUG);
	svmbind_set_log(catch_log, NULL);
}

/* How many lines of the catch contain @s. */
int log_count(const char *s)
{
	int n = 0;

	pthread_mutex_lock(&log_lock);
	for (const char *p = log_buf; (p = strstr(p, s)); p += strlen(s))
		n++;
	pthread_mutex_unlock(&log_lock);
	return n;
}

void log_stop(void)
{
	svmbind_set_log(NULL, NULL);
}

void yama(int scope)
{
	FILE *y = fopen("/proc/sys/kernel/yama/ptrace_scope", "w");

	ck_assert_ptr_nonnull(y);
	fprintf(y, "%d", scope);
	ck_assert_int_eq(fclose(y), 0);
}

static void set_nofile(rlim_t soft)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = soft;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

static void nofile_to_max(void)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- #16.3: a uid's slots are counted from accept ---- */

struct flood {
	const char *path;
	int n, pipe_w;
};

/* As uid 65534 (which the policy refuses): open n silent connections and hold them. */
static int flood_silent(void *arg)
{
	struct flood *fl = arg;
	char c = 'f';

	nofile_to_max();
	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return 100;
	for (int i = 0; i < fl->n; i++)
		(void)raw_connect(fl->path);	/* refused ones are closed by the broker: fine */
	(void)!write(fl->pipe_w, &c, 1);
	pause();
	return 0;
}

START_TEST(silent_uid_flood_leaves_slots_for_others)
{
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .mode = 0666, .max_clients = 32,
					 .max_clients_per_uid = 8, .hello_timeout_ms = 60000 };
	struct svmbind_client *cl[4];
	int p[2];
	char c;
	struct flood fl = { .n = 60 };
	pid_t child;

	ck_assert_int_eq(pipe(p), 0);
	fx_start(&f, &o);
	fl.path = f.path;
	fl.pipe_w = p[1];
	child = bt_spawn(flood_silent, &fl);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	usleep(300000);
	ck_assert_msg(svmbind_broker_nr_clients(f.b) <= 8, "a uid that said nothing holds %zu slots (its share: 8)",
		      svmbind_broker_nr_clients(f.b));
	for (int i = 0; i < 4; i++)	/* the broker's own uid, allowed: served every time */
		ck_code(svmbind_client_connect(f.path, NULL, &cl[i]), 0);
	for (int i = 0; i < 4; i++)
		svmbind_client_close(cl[i]);
	kill(child, SIGKILL);
	bt_wait_child(child);
	ck_assert(bt_wait_clients(&f, 0, 5000));
	fx_stop(&f);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- #16: half a message after HELLO has a deadline ---- */

START_TEST(half_message_after_hello_is_dropped)
{
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .hello_timeout_ms = 400 };
	struct sbw_msg m = { .type = SBW_REQUEST, .seq = 2 };
	unsigned char buf[SBW_MAX_MSG];
	int fd, len;

	fx_start(&f, &o);
	fd = raw_connect(f.path);
	ck_assert_int_ge(fd, 0);
	ck_code(raw_hello(fd), 0);
	m.data = "0123456789";
	m.data_len = 10;
	len = sbw_encode(&m, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(raw_send(fd, buf, (size_t)len - 3, -1, -1), 0);	/* all but 3 bytes */
	ck_code(raw_expect_error_eof(fd, -SVMBIND_BROKER_ERR_TIMEOUT, 4000), 0);
	ck_assert(bt_wait_clients(&f, 0, 2000));
	close(fd);
	fx_stop(&f);
}
END_TEST

/* ---- #18.5: out of fds, the dispatcher does not spin, and serves again after ---- */

struct holder {
	const char *path;
	int n, pipe_w;
};

static int hold_connections(void *arg)
{
	struct holder *h = arg;
	char c = 'h';

	nofile_to_max();
	for (int i = 0; i < h->n; i++)
		(void)raw_connect(h->path);
	(void)!write(h->pipe_w, &c, 1);
	pause();
	return 0;
}

/* Busy dispatches (some event handled) during @ms, the broker driven from this thread. */
static int busy_dispatches(struct svmbind_broker *b, int ms)
{
	struct timespec t0, t;
	int busy = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int ret = svmbind_broker_dispatch(b, 50);

		if (ret > 0)
			busy++;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			return busy;
	}
}

START_TEST(out_of_fds_no_spin_then_serves)
{
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .max_clients = 1000, .hello_timeout_ms = 60000 };
	struct holder h = { .n = 150 };
	struct svmbind_client *cl;
	uint32_t pasid;
	int p[2], busy;
	char c;
	pid_t child;

	ck_assert_int_eq(pipe(p), 0);
	fx_start(&f, &o);
	fx_pause(&f);
	h.path = f.path;
	h.pipe_w = p[1];
	set_nofile((rlim_t)bt_count_fds() + 24);	/* room for ~20 connections, not 150 */
	child = bt_spawn(hold_connections, &h);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	busy_dispatches(f.b, 1000);		/* accept what fits, refuse the rest */
	busy = busy_dispatches(f.b, 1000);	/* then: quiet */
	fprintf(stderr, "out of fds: %d busy dispatches in the second second\n", busy);
	ck_assert_msg(busy < 20, "the dispatcher spun: %d busy dispatches in one second", busy);
	kill(child, SIGKILL);
	bt_wait_child(child);
	fx_resume(&f);
	ck_assert(bt_wait_clients(&f, 0, 5000));
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	svmbind_client_close(cl);
	fx_stop(&f);
	close(p[0]);
	close(p[1]);
}
END_TEST

struct clients_until {
	const char *path;
	int pipe_w;
};

/* Connect clients until one is refused; report how many, and the code. */
static int connect_until_refused(void *arg)
{
	struct clients_until *cu = arg;
	struct svmbind_client_opts co = { .sz = sizeof(co), .timeout_ms = 3000 };
	struct svmbind_client *cl;
	int res[2] = { 0, 0 };

	nofile_to_max();
	for (res[0] = 0; res[0] < 400; res[0]++) {
		res[1] = svmbind_client_connect(cu->path, &co, &cl);
		if (res[1])
			break;
	}
	(void)!write(cu->pipe_w, res, sizeof(res));
	pause();
	return 0;
}

START_TEST(default_max_clients_fits_fd_limit)
{
	struct fx f;
	struct clients_until cu;
	int p[2], res[2];
	pid_t child;

	ck_assert_int_eq(pipe(p), 0);
	set_nofile((rlim_t)bt_count_fds() + 100);
	log_start();
	fx_start(&f, NULL);
	cu.path = f.path;
	cu.pipe_w = p[1];
	child = bt_spawn(connect_until_refused, &cu);
	ck_assert_int_eq(read(p[0], res, sizeof(res)), (ssize_t)sizeof(res));
	kill(child, SIGKILL);
	bt_wait_child(child);
	fprintf(stderr, "fd limit %d over use: %d clients served, then %s\n", 100, res[0], svmbind_strerror(res[1]));
	ck_assert_msg(res[1] == -SVMBIND_BROKER_ERR_TOO_MANY_CLIENTS,
		      "client %d: %s, want the clear refusal (too many clients)", res[0], svmbind_strerror(res[1]));
	ck_assert_int_eq(log_count("accept: Too many open files"), 0);
	ck_assert_int_eq(log_count("leaves room for"), 1);
	ck_assert(bt_wait_clients(&f, 0, 5000));
	fx_stop(&f);
	log_stop();
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- #18.8: the bond getter writes no more than the caller's sz ---- */

/* What a caller built against an older, smaller struct svmbind_broker_bond holds. */
struct small_bond {
	size_t sz;
	uint32_t pasid;
};

START_TEST(bond_getter_keeps_caller_size)
{
	struct fx f;
	struct svmbind_client *cl;
	uint32_t pasid;
	struct small_bond *bd = malloc(sizeof(*bd));	/* exactly its bytes: ASan sees any more */

	fx_start(&f, NULL);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	bd->sz = sizeof(*bd);
	ck_code(svmbind_broker_bond(f.b, 0, (struct svmbind_broker_bond *)bd), 0);
	ck_assert_uint_eq(bd->sz, sizeof(*bd));	/* filled: that many, no more */
	ck_assert_uint_eq(bd->pasid, pasid);
	ck_code(svmbind_broker_bond(f.b, 0, (struct svmbind_broker_bond *)bd), 0);	/* reused as is */
	ck_assert_uint_eq(bd->sz, sizeof(*bd));
	free(bd);
	svmbind_client_close(cl);
	fx_stop(&f);
}
END_TEST

/* ---- #13.4: an fd that is not a pidfd is named for what it is ---- */

static void hello_with_fd(const char *path, int passed)
{
	struct sbw_msg m = { .type = SBW_HELLO, .seq = 1 };
	int fd = raw_connect(path);

	ck_assert_int_ge(fd, 0);
	m.u.hello.min_version = 1;
	m.u.hello.max_version = 1;
	ck_assert_int_eq(raw_send_msg(fd, &m, passed), 0);
	ck_code(raw_expect_error_eof(fd, -SVMBIND_BROKER_ERR_IDENTITY, 5000), 0);
	close(fd);
}

START_TEST(non_pidfd_at_hello_named)
{
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .flags = SVMBIND_BROKER_NO_PEERPIDFD };
	char file[64];
	int efd = eventfd(0, EFD_CLOEXEC), rfd;

	snprintf(file, sizeof(file), "/tmp/bt-notapidfd-%d", (int)getpid());
	rfd = open(file, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(rfd, 0);
	log_start();
	fx_start(&f, &o);
	hello_with_fd(f.path, efd);
	hello_with_fd(f.path, rfd);
	fx_stop(&f);
	log_stop();
	ck_assert_int_eq(log_count("is not a pidfd (anon_inode:[eventfd])"), 1);
	ck_assert_int_eq(log_count(file), 1);
	ck_assert_int_eq(log_count("that names -"), 0);
	close(efd);
	close(rfd);
	unlink(file);
}
END_TEST

void add_hardening_tests(Suite *s)
{
	TCase *tc = tcase_create("hardening");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, silent_uid_flood_leaves_slots_for_others);
	tcase_add_test(tc, half_message_after_hello_is_dropped);
	tcase_add_test(tc, out_of_fds_no_spin_then_serves);
	tcase_add_test(tc, default_max_clients_fits_fd_limit);
	tcase_add_test(tc, bond_getter_keeps_caller_size);
	tcase_add_test(tc, non_pidfd_at_hello_named);
	suite_add_tcase(s, tc);
	add_hardening_client_tests(s);
	add_hardening_start_tests(s);
}
