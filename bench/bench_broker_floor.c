// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_broker's floor: what a hand-made broker could not avoid, two
 * Unix-socket round trips and the raw ioctl pair, measured here and now; and
 * a hand-made epoll server with no checks, the floor of N clients.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_broker.h"

/* ---- the floor ---- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static uint64_t pct(uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

enum { WARM = 5 };	/* iterations of the floor not counted: clients warm up with one bind+unbind */

static void summarize(uint64_t *t, int iters, uint64_t wall, struct floor *out)
{
	out->ops = (double)iters * 1e9 / (double)wall;
	qsort(t, (size_t)iters, sizeof(*t), cmp_u64);
	out->p50 = pct(t, (size_t)iters, 0.50);
	out->p99 = pct(t, (size_t)iters, 0.99);
}

void series_add(struct series *s, const uint64_t *v, size_t n, uint64_t wall)
{
	if (s->n + n > s->cap) {
		size_t cap = (s->n + n) * 2;
		uint64_t *p = realloc(s->v, cap * sizeof(*p));

		if (!p)
			return;
		s->v = p;
		s->cap = cap;
	}
	memcpy(s->v + s->n, v, n * sizeof(*v));
	s->n += n;
	s->wall += wall;
}

void series_sum(struct series *s, struct floor *out)
{
	out->p50 = out->p99 = 0;
	out->ops = 0;
	if (s->n && s->wall)
		summarize(s->v, (int)s->n, s->wall, out);
	free(s->v);
	*s = (struct series){ 0 };
}

/* @rt round trips and/or the ioctl pair, @iters times; the echo answers each message. */
void measure_into(struct svmbind_device *dev, int iters, bool rt, bool ioctls, struct series *out)
{
	uint64_t *t = calloc((size_t)iters, sizeof(*t)), t0;
	int done = 0;
	int sv[2], fd = svmbind_device_fd(dev);
	char msg[BIND_LEN] = { 0 };
	pid_t echo, target;

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	echo = fork();
	if (echo == 0) {
		close(sv[0]);
		for (;;) {
			ssize_t n = read(sv[1], msg, sizeof(msg));

			if (n <= 0 || write(sv[1], msg, (size_t)n) != n)
				break;
		}
		_exit(0);
	}
	target = fork();
	if (target == 0) {
		pause();
		_exit(0);
	}
	close(sv[1]);
	t0 = now_ns();
	for (int i = -WARM; i < iters; i++) {	/* the first WARM are not counted */
		struct vfio_device_svm s = { .argsz = sizeof(s), .flags = VFIO_SVM_PID, .pid = (uint32_t)target };
		uint64_t a = now_ns();

		if (rt && (write(sv[0], msg, BIND_LEN) != BIND_LEN || read(sv[0], msg, BIND_LEN) != BIND_LEN))
			break;
		if (ioctls && ioctl(fd, VFIO_DEVICE_BIND_TASK, &s))
			break;
		if (rt && (write(sv[0], msg, UNBIND_LEN) != UNBIND_LEN ||
			   read(sv[0], msg, UNBIND_LEN) != UNBIND_LEN))
			break;
		s.flags = 0;
		if (ioctls)
			ioctl(fd, VFIO_DEVICE_UNBIND_TASK, &s);
		if (i < 0) {
			t0 = now_ns();
			continue;
		}
		t[i] = now_ns() - a;
		done++;
	}
	series_add(out, t, (size_t)done, now_ns() - t0);
	close(sv[0]);
	kill(target, SIGKILL);
	waitpid(echo, NULL, 0);
	waitpid(target, NULL, 0);
	free(t);
}

void measure(struct svmbind_device *dev, int iters, bool rt, bool ioctls, struct floor *out)
{
	struct series s = { 0 };

	measure_into(dev, iters, rt, ioctls, &s);
	series_sum(&s, out);
}

/*
 * The kernel's side of a bind is not O(1) everywhere: the provider walks its
 * device's list of bonds at each bind and unbind. With N clients about N/2
 * bonds are held at any time, so the ioctl pair is timed again with @k bonds
 * held by other processes: the floor's part that grows with the clients.
 */
void ioctls_with_bonds(struct svmbind_device *dev, int k, const struct floor *alone)
{
	pid_t *kids = calloc((size_t)k, sizeof(*kids));
	uint32_t *pasids = calloc((size_t)k, sizeof(*pasids));
	int fd = svmbind_device_fd(dev), held = 0;
	struct floor io;

	for (int i = 0; i < k; i++) {
		struct vfio_device_svm s = { .argsz = sizeof(s), .flags = VFIO_SVM_PID };

		kids[i] = fork();
		if (kids[i] == 0) {
			pause();
			_exit(0);
		}
		s.pid = (uint32_t)kids[i];
		if (!ioctl(fd, VFIO_DEVICE_BIND_TASK, &s))
			pasids[held++] = s.pasid;
	}
	measure(dev, 500, false, true, &io);
	printf("the ioctl pair alone with %d other bonds held: p50 %.1f us (%.2fx the ioctl pair alone): the "
	       "provider walks its bonds at each bind and unbind\n", held, io.p50 / 1e3,
	       (double)io.p50 / (double)alone->p50);
	for (int i = 0; i < held; i++) {
		struct vfio_device_svm s = { .argsz = sizeof(s), .pasid = pasids[i] };

		ioctl(fd, VFIO_DEVICE_UNBIND_TASK, &s);
	}
	for (int i = 0; i < k; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	free(kids);
	free(pasids);
	fflush(stdout);
}

/* ---- the hand-made epoll server ---- */

/*
 * The floor of a broker with N clients: a hand-made server with no identity
 * check at all, one epoll loop, each client's pid from SO_PEERCRED at accept,
 * a BIND-sized message answered after the raw BIND ioctl of that pid, an
 * UNBIND-sized one after the raw UNBIND. What the broker adds to it is its
 * guarantees (and its library).
 */
struct raw_conn {
	int fd;
	pid_t pid;
	uint32_t pasid;
};

int raw_listen(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(raw_path, sizeof(raw_path), "/tmp/bench-raw-%d.sock", (int)getpid());
	strcpy(a.sun_path, raw_path);
	unlink(raw_path);
	if (lfd >= 0 && (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 4096))) {
		close(lfd);
		return -1;
	}
	return lfd;
}

void *raw_server(void *arg)
{
	struct raw_args *ra = arg;
	int dfd = ra->dfd, lfd = ra->lfd, ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[64];

	if (lfd < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev))
		return NULL;
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);

		for (int i = 0; i < n; i++) {
			struct raw_conn *c = evs[i].data.ptr;
			char msg[BIND_LEN];
			ssize_t len;

			if (!c) {	/* the listener */
				struct ucred uc;
				socklen_t ul = sizeof(uc);
				int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

				if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) ||
				    !(c = calloc(1, sizeof(*c)))) {
					if (fd >= 0)
						close(fd);
					continue;
				}
				*c = (struct raw_conn){ fd, uc.pid, 0 };
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				continue;
			}
			len = read(c->fd, msg, sizeof(msg));
			if (len <= 0) {	/* out of epoll first: forked clients hold copies of the socket */
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				free(c);
				continue;
			}
			if (len == BIND_LEN) {
				struct vfio_device_svm s = { .argsz = sizeof(s), .flags = VFIO_SVM_PID,
							     .pid = (uint32_t)c->pid };

				if (!ioctl(dfd, VFIO_DEVICE_BIND_TASK, &s))
					c->pasid = s.pasid;
			} else {
				struct vfio_device_svm s = { .argsz = sizeof(s), .pasid = c->pasid };

				ioctl(dfd, VFIO_DEVICE_UNBIND_TASK, &s);
			}
			(void)!write(c->fd, msg, (size_t)len);
		}
	}
	return NULL;
}

/* A bind+unbind against the hand-made server: two round trips, nothing else. */
int raw_pair(int fd)
{
	char msg[BIND_LEN] = { 0 };

	return write(fd, msg, BIND_LEN) != BIND_LEN || read(fd, msg, BIND_LEN) != BIND_LEN ||
	       write(fd, msg, UNBIND_LEN) != UNBIND_LEN || read(fd, msg, UNBIND_LEN) != UNBIND_LEN;
}

int raw_connect(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(a.sun_path, raw_path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}
