// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The broker and client against a hostile or unlucky world: a uid that floods
 * silent connections, half a message held forever, a symlink swapped in at
 * start, running out of fds, a forked child and a pid namespace that silence
 * the process events, a broker that is not who it seems, a reply that comes
 * late or with a code that is none; the bond getter's size, NULL arguments,
 * the kernel's errno, an fd at HELLO that is not a pidfd.
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

static void log_start(void)
{
	pthread_mutex_lock(&log_lock);
	log_len = 0;
	log_buf[0] = '\0';
	pthread_mutex_unlock(&log_lock);
	svmbind_set_log_level(SVMBIND_LOG_DEBUG);
	svmbind_set_log(catch_log, NULL);
}

/* How many lines of the catch contain @s. */
static int log_count(const char *s)
{
	int n = 0;

	pthread_mutex_lock(&log_lock);
	for (const char *p = log_buf; (p = strstr(p, s)); p += strlen(s))
		n++;
	pthread_mutex_unlock(&log_lock);
	return n;
}

static void log_stop(void)
{
	svmbind_set_log(NULL, NULL);
}

static void yama(int scope)
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

/* ---- #16.4: a symlink swapped in at start never gets the socket's mode ---- */

struct swapper {
	char dir[64], path[96], link[96];
	const char *target;
};

/* Another user, in the socket's directory: woken by inotify when the socket file
 * is made, it renames a link it prepared over it (as the attacker did). */
static int swap_in_links(void *arg)
{
	struct swapper *s = arg;
	union {
		char b[4096];
		struct inotify_event align;
	} buf;
	int in;

	if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return 100;
	in = inotify_init1(IN_CLOEXEC);
	if (in < 0 || inotify_add_watch(in, s->dir, IN_CREATE) < 0)
		return 101;	/* without it, one CPU never lets the swap land in time */
	for (;;) {
		unlink(s->link);
		if (symlink(s->target, s->link))
			return 102;
		for (bool sock = false; !sock;) {
			ssize_t n = read(in, buf.b, sizeof(buf.b));

			if (n <= 0)
				return 103;
			for (char *p = buf.b; p < buf.b + n; p += sizeof(struct inotify_event) +
			     ((struct inotify_event *)p)->len)
				if (((struct inotify_event *)p)->len &&
				    !strcmp(((struct inotify_event *)p)->name, "bind.sock"))
					sock = true;
		}
		rename(s->link, s->path);
	}
	return 0;
}

START_TEST(socket_mode_never_follows_a_swapped_link)
{
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct swapper s = { .dir = "/tmp/bt-race-XXXXXX" };
	char target[64];
	struct stat st;
	int starts = 0, refused = 0, hits = 0, fd;
	bool no_inotify;
	mode_t old_umask = umask(022);	/* 0666 then needs more than bind() gives */
	pid_t child;

	ck_code(svmbind_ctx_new(NULL, &ctx), 0);
	ck_code(svmbind_device_open(ctx, bt_device(), NULL, &dev), 0);
	ck_assert_ptr_nonnull(mkdtemp(s.dir));
	ck_assert_int_eq(chmod(s.dir, 0777), 0);	/* others may write it, no sticky bit */
	snprintf(s.path, sizeof(s.path), "%s/bind.sock", s.dir);
	snprintf(s.link, sizeof(s.link), "%s/.link", s.dir);
	snprintf(target, sizeof(target), "/tmp/bt-race-target-%d", (int)getpid());
	fd = open(target, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(chmod(target, 0600), 0);
	s.target = target;
	child = bt_spawn(swap_in_links, &s);
	for (int i = 0; i < 60; i++) {
		struct svmbind_broker_opts o = { .sz = sizeof(o), .path = s.path, .mode = 0666,
						 .flags = SVMBIND_BROKER_NO_PROCEVENTS };
		struct svmbind_broker *b;

		unlink(s.path);
		if (svmbind_broker_new(dev, &o, &b))
			refused++;
		else
			svmbind_broker_free(b);
		starts++;
		ck_assert_int_eq(stat(target, &st), 0);
		if ((st.st_mode & 07777) != 0600) {
			hits++;
			chmod(target, 0600);
		}
		ck_assert_int_eq(lstat(target, &st), 0);	/* the target itself is never removed */
	}
	kill(child, SIGKILL);
	no_inotify = bt_wait_child(child) == 101;
	fprintf(stderr, "symlink race: %d starts, %d refused (a link was there), %d changed the target's mode%s\n",
		starts, refused, hits, no_inotify ? "; NOT RUN: this kernel has no inotify (CONFIG_INOTIFY_USER)" : "");
	unlink(s.path);
	unlink(s.link);
	rmdir(s.dir);
	unlink(target);
	umask(old_umask);
	svmbind_ctx_free(ctx);
	ck_assert_msg(hits == 0, "%d of %d broker starts set mode 0666 on a root file through a symlink", hits, starts);
	ck_assert_msg(refused > 0 || no_inotify, "the swapper never got in: the race was not run");
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

/* ---- #18.6: process events are real or reported missing ---- */

struct sleeper {
	const char *path;
	int p[2];
};

static int sleep_holding(void *arg)
{
	struct sleeper *sl = arg;
	struct svmbind_client *cl;
	uint32_t pasid;
	int fd;

	if (svmbind_client_connect(sl->path, NULL, &cl) || svmbind_client_bind(cl, &pasid))
		return 1;
	(void)!write(sl->p[1], "b", 1);
	fd = svmbind_client_fd(cl);
	fcntl(fd, F_SETFD, 0);	/* the socket outlives the exec: only the exec event tells */
	execl("/bin/sleep", "sleep", "10", (char *)NULL);
	return 2;
}

START_TEST(forked_child_free_keeps_parent_events)
{
	struct fx f;
	struct sleeper sl;
	pid_t child, sleeper;
	char c;

	fx_start(&f, NULL);
	ck_assert_msg(svmbind_broker_procevents(f.b) == 1, "no process-events connector: %s",
		      svmbind_strerror(svmbind_broker_procevents(f.b)));
	fx_pause(&f);
	child = bt_fork();
	if (child == 0) {
		svmbind_broker_free(f.b);	/* the child's copy: must leave the parent's subscription */
		_exit(0);
	}
	ck_assert_int_eq(bt_wait_child(child), 0);
	fx_resume(&f);
	ck_assert_int_eq(pipe(sl.p), 0);
	sl.path = f.path;
	sleeper = bt_spawn(sleep_holding, &sl);
	ck_assert_int_eq(read(sl.p[0], &c, 1), 1);	/* bound; exec follows */
	ck_assert_msg(bt_wait_broker_bonds(&f, 0, 3000) && svmbind_broker_nr_clients(f.b) == 1,
		      "the exec was not seen as it happened (%zu bonds): the child's free silenced the events",
		      svmbind_broker_nr_bonds(f.b));
	kill(sleeper, SIGKILL);
	bt_wait_child(sleeper);
	close(sl.p[0]);
	close(sl.p[1]);
	fx_stop(&f);
}
END_TEST

/* In a new pid namespace (pid 1 there): a broker's procevents() answer. */
static int procevents_in_pidns(void *arg)
{
	struct svmbind_broker_opts o = { .sz = sizeof(o), .path = arg };
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct svmbind_broker *b;
	int ret;

	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, bt_device(), NULL, &dev) ||
	    svmbind_broker_new(dev, &o, &b))
		return 100;
	ret = svmbind_broker_procevents(b);
	fprintf(stderr, "procevents in a child pid namespace: %d (%s)\n", ret, svmbind_strerror(ret));
	svmbind_broker_free(b);
	svmbind_ctx_free(ctx);
	return ret == 1 ? 1 : ret == -ENOTCONN ? 0 : 2;
}

static int unshare_then(void *arg)
{
	pid_t pid;

	if (unshare(CLONE_NEWPID))
		return 101;
	pid = bt_spawn(procevents_in_pidns, arg);
	return bt_wait_child(pid);
}

START_TEST(events_reported_missing_outside_initial_pidns)
{
	char path[64];

	snprintf(path, sizeof(path), "/tmp/bt-pidns-%d.sock", (int)getpid());
	ck_assert_int_eq(bt_wait_child(bt_spawn(unshare_then, path)), 0);
}
END_TEST

/* ---- #18.7: a client facing a broker that is not what it seems ---- */

enum fake_mode { FAKE_OTHER_UID, FAKE_LATE, FAKE_INT_MIN };

struct fake {
	char path[64];
	enum fake_mode mode;
	int ready_w;
};

/* A broker by hand: answers HELLO, then BIND as @mode says. Exit 0 when it saw what it should. */
static int fake_broker(void *arg)
{
	struct fake *fk = arg;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	unsigned char buf[SBW_MAX_MSG];
	struct sbw_msg m, r = { 0 };
	int l, fd, ret;
	char c = 'r';

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", fk->path);
	unlink(fk->path);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || chmod(fk->path, 0666))
		return 100;
	/* the file is root's; whoever listens now is another user */
	if (fk->mode == FAKE_OTHER_UID && setresuid(65534, 65534, 0))
		return 101;
	if (listen(l, 4))
		return 102;
	(void)!write(fk->ready_w, &c, 1);
	fd = accept(l, NULL, NULL);
	if (fd < 0 || raw_recv(fd, &m, buf, sizeof(buf), 5000) != SBW_HELLO)
		return 103;
	r.type = SBW_HELLO_OK;
	r.seq = m.seq;
	r.u.hello_ok.version = 1;
	r.u.hello_ok.max_data = SBW_MAX_DATA;
	if (raw_send_msg(fd, &r, -1))
		return 104;
	ret = raw_recv(fd, &m, buf, sizeof(buf), 5000);
	if (fk->mode == FAKE_OTHER_UID)	/* the client must not have asked (nor named us) */
		return ret == 0 ? 0 : 1;
	if (ret != SBW_BIND)
		return 105;
	memset(&r, 0, sizeof(r));
	r.seq = m.seq;
	if (fk->mode == FAKE_INT_MIN) {
		r.type = SBW_ERROR;
		r.u.error.code = INT_MIN;
		return raw_send_msg(fd, &r, -1) ? 106 : (pause(), 0);
	}
	usleep(1200000);		/* FAKE_LATE: past the client's timeout */
	r.type = SBW_BIND_OK;
	r.u.bind_ok.pasid = 7;
	(void)raw_send_msg(fd, &r, -1);
	/* the client must have given the connection up: end of file */
	ret = raw_recv(fd, &m, buf, sizeof(buf), 1500);
	return ret == 0 || ret == -ECONNRESET ? 0 : 2;
}

static pid_t fake_start(struct fake *fk, enum fake_mode mode)
{
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	snprintf(fk->path, sizeof(fk->path), "/tmp/bt-fake-%d-%d.sock", (int)getpid(), (int)mode);
	fk->mode = mode;
	fk->ready_w = p[1];
	pid = bt_spawn(fake_broker, fk);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	close(p[1]);
	return pid;
}

START_TEST(client_names_no_tracer_that_is_not_the_listener)
{
	struct fake fk;
	struct svmbind_client *cl;
	uint32_t pasid;
	pid_t pid = fake_start(&fk, FAKE_OTHER_UID);
	int ret;

	yama(1);
	ck_code(svmbind_client_connect(fk.path, NULL, &cl), 0);
	ret = svmbind_client_bind(cl, &pasid);
	svmbind_client_close(cl);
	yama(0);
	ck_code(ret, -SVMBIND_BROKER_ERR_IDENTITY);
	ck_assert_int_eq(bt_wait_child(pid), 0);
	unlink(fk.path);
}
END_TEST

START_TEST(client_late_reply_closes_connection)
{
	struct fake fk;
	struct svmbind_client_opts co = { .sz = sizeof(co), .timeout_ms = 400 };
	struct svmbind_client *cl;
	uint32_t pasid;
	pid_t pid = fake_start(&fk, FAKE_LATE);
	int32_t status;

	ck_code(svmbind_client_connect(fk.path, &co, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), -SVMBIND_BROKER_ERR_TIMEOUT);
	usleep(1000000);	/* the late BIND_OK would be here now */
	ck_code(svmbind_client_request(cl, 1, NULL, 0, NULL, NULL, &status), -SVMBIND_BROKER_ERR_DISCONNECTED);
	ck_assert_msg(bt_wait_child(pid) == 0, "the connection stayed open after the timeout");
	svmbind_client_close(cl);
	unlink(fk.path);
}
END_TEST

START_TEST(client_refuses_int_min_code)
{
	struct fake fk;
	struct svmbind_client *cl;
	uint32_t pasid;
	pid_t pid = fake_start(&fk, FAKE_INT_MIN);

	ck_code(svmbind_client_connect(fk.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), -SVMBIND_BROKER_ERR_PROTOCOL);
	svmbind_client_close(cl);
	kill(pid, SIGKILL);
	bt_wait_child(pid);
	unlink(fk.path);
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

/* ---- #18.11: a failed start closes the listening socket it was given ---- */

START_TEST(failed_start_closes_inherited_socket)
{
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct svmbind_broker *b;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct svmbind_broker_opts o = { .sz = sizeof(o), .listen_fd = l, .nr_allow_uids = 1 };

	snprintf(a.sun_path, sizeof(a.sun_path), "/tmp/bt-inh-%d.sock", (int)getpid());
	unlink(a.sun_path);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_code(svmbind_ctx_new(NULL, &ctx), 0);
	ck_code(svmbind_device_open(ctx, bt_device(), NULL, &dev), 0);
	ck_code(svmbind_broker_new(dev, &o, &b), -EINVAL);	/* allow_uids NULL with a count */
	errno = 0;
	ck_assert_msg(fcntl(l, F_GETFD) < 0 && errno == EBADF, "the inherited listening socket is still open");
	unlink(a.sun_path);
	svmbind_ctx_free(ctx);
}
END_TEST

/* ---- #18.12: NULL arguments are logged; the kernel's errno is kept ---- */

START_TEST(null_arguments_logged)
{
	struct svmbind_broker_opts o = { .sz = sizeof(o), .path = "/tmp/x" };
	struct svmbind_broker *b;
	struct svmbind_client *cl;
	struct svmbind_broker_bond bd = { .sz = sizeof(bd) };
	uint32_t pasid, reason;
	int32_t status;

	log_start();
	ck_code(svmbind_broker_new(NULL, &o, &b), -EINVAL);
	ck_code(svmbind_broker_dispatch(NULL, 0), -EINVAL);
	ck_code(svmbind_broker_bond(NULL, 0, &bd), -EINVAL);
	ck_code(svmbind_broker_revoke(NULL, 1), -EINVAL);
	ck_code(svmbind_client_connect(NULL, NULL, &cl), -EINVAL);
	ck_code(svmbind_client_bind(NULL, &pasid), -EINVAL);
	ck_code(svmbind_client_unbind(NULL), -EINVAL);
	ck_code(svmbind_client_request(NULL, 1, NULL, 0, NULL, NULL, &status), -EINVAL);
	ck_code(svmbind_client_check(NULL, 0, &reason), -EINVAL);
	log_stop();
	ck_assert_int_eq(log_count("svmbind_broker_new: a handle or pointer argument is NULL"), 1);
	ck_assert_int_eq(log_count("svmbind_broker_dispatch: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_broker_bond: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_broker_revoke: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_connect: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_bind: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_unbind: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_request: a handle"), 1);
	ck_assert_int_eq(log_count("svmbind_client_check: a handle"), 1);
}
END_TEST

START_TEST(kernel_errno_kept)
{
	struct svmbind_client *cl;
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .mode = 0666 };

	ck_code(svmbind_client_connect("/tmp/bt-nobody-listens-here.sock", NULL, &cl), -ENOENT);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOENT);	/* connect(2) said so */
	fx_start(&f, &o);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_unbind(cl), -SVMBIND_BROKER_ERR_NOT_BOUND);
	ck_assert_int_eq(svmbind_kernel_errno(), 0);
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
	tcase_add_test(tc, socket_mode_never_follows_a_swapped_link);
	tcase_add_test(tc, out_of_fds_no_spin_then_serves);
	tcase_add_test(tc, default_max_clients_fits_fd_limit);
	tcase_add_test(tc, client_names_no_tracer_that_is_not_the_listener);
	tcase_add_test(tc, client_late_reply_closes_connection);
	tcase_add_test(tc, client_refuses_int_min_code);
	tcase_add_test(tc, bond_getter_keeps_caller_size);
	tcase_add_test(tc, failed_start_closes_inherited_socket);
	tcase_add_test(tc, null_arguments_logged);
	tcase_add_test(tc, kernel_errno_kept);
	tcase_add_test(tc, non_pidfd_at_hello_named);
	suite_add_tcase(s, tc);
	/* Its own case, so it can run alone: on 6.1 the kernel counts listeners
	 * globally, and a listener another test left behind would hide a lost one. */
	tc = tcase_create("hardening_events");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, forked_child_free_keeps_parent_events);
	tcase_add_test(tc, events_reported_missing_outside_initial_pidns);
	suite_add_tcase(s, tc);
}
