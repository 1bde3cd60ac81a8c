// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "helpers.h"

const char *bt_device(void)
{
	const char *devs = getenv("SVMBIND_LAB_DEVS"), *c;

	if (!devs || !*devs)
		return NULL;
	c = strrchr(devs, ',');
	return c ? c + 1 : devs;
}

void bt_require_provider(void)
{
	const char *drv = getenv("SVMBIND_LAB_DRIVER");

	if (!bt_device() || !drv || strcmp(drv, "svmref-vfio-pci") || geteuid() != 0) {
		fprintf(stderr, "broker tests: need the VM on the svmref provider as root (tests/vm/vm.sh --driver svmref)\n");
		exit(77);
	}
}

long bt_provider_bonds(void)
{
	FILE *f = fopen("/sys/module/svmref/parameters/bonds", "re");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

bool bt_wait(bool (*fn)(void *), void *arg, int ms)
{
	for (int t = 0;; t += 10) {
		if (fn(arg))
			return true;
		if (t >= ms)
			return false;
		usleep(10000);
	}
}

static long want_l;
static bool provider_is(void *arg) { (void)arg; return bt_provider_bonds() == want_l; }

bool bt_wait_provider_bonds(long want, int ms)
{
	want_l = want;
	return bt_wait(provider_is, NULL, ms);
}

static size_t want_z;
static bool bonds_is(void *arg) { return svmbind_broker_nr_bonds(((struct fx *)arg)->b) == want_z; }
static bool clients_is(void *arg) { return svmbind_broker_nr_clients(((struct fx *)arg)->b) == want_z; }

bool bt_wait_broker_bonds(struct fx *f, size_t want, int ms)
{
	want_z = want;
	return bt_wait(bonds_is, f, ms);
}

bool bt_wait_clients(struct fx *f, size_t want, int ms)
{
	want_z = want;
	return bt_wait(clients_is, f, ms);
}

static void *run(void *arg)
{
	struct fx *f = arg;

	f->ret = svmbind_broker_run(f->b);
	return NULL;
}

void fx_resume(struct fx *f)
{
	ck_assert(!f->running);
	ck_assert_int_eq(pthread_create(&f->thread, NULL, run, f), 0);
	f->running = true;
}

void fx_pause(struct fx *f)
{
	if (!f->running)
		return;
	svmbind_broker_stop(f->b);
	pthread_join(f->thread, NULL);
	f->running = false;
	ck_assert_msg(f->ret == 0, "broker run: %s", svmbind_strerror(f->ret));
}

void fx_start(struct fx *f, struct svmbind_broker_opts *o)
{
	struct svmbind_broker_opts d = { .sz = sizeof(d) };
	static int n;
	int ret;

	memset(f, 0, sizeof(*f));
	if (!o)
		o = &d;
	snprintf(f->path, sizeof(f->path), "/tmp/bt-%d-%d.sock", (int)getpid(), n++);
	if (!o->listen_fd)
		o->path = f->path;
	ret = svmbind_ctx_new(NULL, &f->ctx);
	ck_assert_msg(!ret, "ctx: %s", svmbind_strerror(ret));
	ret = svmbind_device_open(f->ctx, bt_device(), NULL, &f->dev);
	ck_assert_msg(!ret, "open %s: %s", bt_device(), svmbind_strerror(ret));
	ret = svmbind_broker_new(f->dev, o, &f->b);
	ck_assert_msg(!ret, "broker: %s", svmbind_strerror(ret));
	fx_resume(f);
}

#define CHANGED_WHILE_READ "the broker's list changed while read"

const char *bt_books_disagree(struct fx *f)
{
	static char why[256];
	size_t nb = svmbind_broker_nr_bonds(f->b), nl = svmbind_device_nr_bonds(f->dev), distinct = 0;
	long nk = bt_provider_bonds();

	for (size_t i = 0; i < nb; i++) {
		struct svmbind_broker_bond bb = { .sz = sizeof(bb) };
		struct svmbind_bond lb = { .sz = sizeof(lb) };
		uint32_t same = 0;
		bool first = true, found = false;

		if (svmbind_broker_bond(f->b, i, &bb))
			return CHANGED_WHILE_READ;
		for (size_t j = 0; j < nb; j++) {
			struct svmbind_broker_bond o = { .sz = sizeof(o) };

			if (!svmbind_broker_bond(f->b, j, &o) && o.pasid == bb.pasid) {
				same++;
				if (j < i)
					first = false;
			}
		}
		distinct += first;
		for (size_t j = 0; j < nl && !found; j++)
			if (!svmbind_device_bond(f->dev, j, &lb) && lb.pasid == bb.pasid)
				found = true;
		if (!found) {
			snprintf(why, sizeof(why), "the broker lists PASID %u (pid %d), the library's book "
				 "does not", bb.pasid, (int)bb.pid);
			return why;
		}
		if (lb.refs != same) {
			snprintf(why, sizeof(why), "PASID %u: the broker lists it %u times, the library "
				 "counts %u references", bb.pasid, same, lb.refs);
			return why;
		}
	}
	if (distinct != nl || (long)nl != nk) {
		snprintf(why, sizeof(why), "the broker lists %zu bonds (%zu PASIDs), the library's book "
			 "%zu, the kernel %ld", nb, distinct, nl, nk);
		return why;
	}
	return NULL;
}

static bool books_agree(void *arg) { return !bt_books_disagree(arg); }

void bt_assert_books(struct fx *f, int ms)
{
	const char *why;

	/* The dispatcher runs meanwhile: a list that changed while read (a bond
	 * revoked between agreeing reads) is a moment, not a disagreement: read again. */
	for (int tries = 0; tries < 50; tries++) {
		bt_wait(books_agree, f, ms);
		why = bt_books_disagree(f);
		if (!why || strcmp(why, CHANGED_WHILE_READ))
			break;
	}
	ck_assert_msg(!why, "books disagree: %s", why);
}

void fx_stop(struct fx *f)
{
	/* After every test: at a quiet point, the three books agree. */
	if (f->b)
		bt_assert_books(f, 20000);
	fx_pause(f);
	svmbind_broker_free(f->b);
	f->b = NULL;
	svmbind_ctx_free(f->ctx);
	f->ctx = NULL;
}

int raw_connect(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int raw_send(int fd, const void *buf, size_t len, int fd1, int fd2)
{
	union {
		char b[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr a;
	} cb;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int fds[2] = { fd1, fd2 }, n = (fd1 >= 0) + (fd2 >= 0);

	if (n) {
		struct cmsghdr *cm;

		memset(&cb, 0, sizeof(cb));
		mh.msg_control = cb.b;
		mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(n * sizeof(int));
		memcpy(CMSG_DATA(cm), fds[0] >= 0 ? fds : fds + 1, n * sizeof(int));
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

int raw_send_msg(int fd, const struct sbw_msg *m, int fd1)
{
	unsigned char buf[SBW_MAX_MSG];
	int len = sbw_encode(m, buf, sizeof(buf));

	return len < 0 ? len : raw_send(fd, buf, (size_t)len, fd1, -1);
}

int raw_recv(int fd, struct sbw_msg *m, unsigned char *buf, size_t cap, int ms)
{
	size_t have = 0, need = SBW_HDR_LEN;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ret = sbw_parse(buf, have, m, &need);
		ssize_t n;

		if (ret > 0)
			return m->type;
		if (ret < 0)
			return ret;
		if (need > cap)
			return -EMSGSIZE;
		if (poll(&p, 1, ms) <= 0)
			return -ETIMEDOUT;
		n = recv(fd, buf + have, need - have, 0);
		if (n == 0)
			return 0;
		if (n < 0)
			return -errno;
		have += (size_t)n;
	}
}

int raw_hello(int fd)
{
	return raw_hello_version(fd, 1);
}

int raw_hello_version(int fd, uint16_t max)
{
	struct sbw_msg m = { .type = SBW_HELLO, .seq = 1 };
	unsigned char buf[SBW_MAX_MSG];
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0), ret;

	m.u.hello.min_version = 1;
	m.u.hello.max_version = max;
	ret = raw_send_msg(fd, &m, pidfd);
	close(pidfd);
	if (ret)
		return ret;
	ret = raw_recv(fd, &m, buf, sizeof(buf), 5000);
	if (ret == SBW_HELLO_OK)
		return 0;
	if (ret == SBW_ERROR)
		return m.u.error.code;
	return ret ? ret : -ECONNRESET;
}

int raw_expect_error_eof(int fd, int code, int ms)
{
	unsigned char buf[SBW_MAX_MSG];
	struct sbw_msg m;
	int ret = raw_recv(fd, &m, buf, sizeof(buf), ms);

	if (ret != SBW_ERROR)
		return ret == 0 ? -ECONNRESET : ret > 0 ? -EPROTO : ret;
	if (m.u.error.code != code)
		return m.u.error.code;
	if (!m.u.error.fatal)
		return -EBADMSG;
	ret = raw_recv(fd, &m, buf, sizeof(buf), ms);
	return ret == 0 || ret == -ECONNRESET ? 0 : -ENOTCONN;	/* closed */
}

pid_t bt_fork(void)
{
	sigset_t block, old;
	pid_t pid;

	/* Not Check's handlers in the child: its SIGTERM handler kills the whole
	 * process group, the test included. Blocked across fork() so that a
	 * SIGTERM sent before the child resets them waits for the defaults. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return pid;
}

pid_t bt_spawn(int (*fn)(void *), void *arg)
{
	pid_t pid = bt_fork();

	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

int bt_wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

int bt_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

void bt_close_fds_except(int keep)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fds[1024], n = 0;

	if (!d)
		return;
	while ((e = readdir(d)) && n < 1024) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd > 2 && fd != keep && fd != dirfd(d))
			fds[n++] = fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}
