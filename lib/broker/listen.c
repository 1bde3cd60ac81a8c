// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The broker's listening socket: a path it creates, an inherited fd, or systemd's. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef SVMBIND_HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "broker_internal.h"

#define BACKLOG 4096

static int fill_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path))
		return -ENAMETOOLONG;
	strcpy(a->sun_path, path);
	return 0;
}

/* A socket file nobody listens on is stale: a broker that died. */
static int remove_stale(const char *path, const struct sockaddr_un *a)
{
	struct stat st;
	int fd, ret;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : sb_syserr();
	if (!S_ISSOCK(st.st_mode)) {
		pr_err("broker: %s exists and is not a socket: remove it or choose another path", path);
		return -EADDRINUSE;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sb_syserr();
	ret = connect(fd, (const struct sockaddr *)a, sizeof(*a));
	close(fd);
	if (ret == 0) {
		pr_err("broker: a broker already listens on %s: stop it first", path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED)
		return sb_syserr();
	if (unlink(path) && errno != ENOENT)
		return sb_syserr();
	pr_info("broker: removed the stale socket %s (no one listened on it)", path);
	return 0;
}

/*
 * The file bind() just made, looked at without following a link: it must be
 * a socket of our user, or someone swapped the name (its directory is
 * writable by others). The mode came with the socket (fchmod before bind);
 * where the umask took bits, they are put back through an O_PATH fd of that
 * very file, never by name.
 */
static int own_file(const char *path, unsigned int mode, struct stat *st)
{
	char proc[40];
	int pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC), ret = 0;

	if (pfd < 0)
		return sb_syserr();
	if (fstat(pfd, st)) {
		ret = sb_syserr();
		goto out;
	}
	if (!S_ISSOCK(st->st_mode) || st->st_uid != geteuid()) {
		pr_err("broker: %s was replaced by another file right after bind() (now %s, owner uid %u): "
		       "others can write its directory; put the socket in a directory only the broker's "
		       "user can write", path, S_ISLNK(st->st_mode) ? "a symbolic link" :
		       S_ISSOCK(st->st_mode) ? "another user's socket" : "not a socket",
		       (unsigned int)st->st_uid);
		ret = -EEXIST;
		goto out;
	}
	if ((st->st_mode & 07777) != mode) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
		if (chmod(proc, mode) || fstat(pfd, st)) {
			ret = sb_syserr();
			pr_err("broker: setting mode %04o on %s through %s: %s", mode, path, proc,
			       strerror(-ret));
		}
	}
out:
	close(pfd);
	return ret;
}

int sb_listen_path(const char *path, unsigned int mode, dev_t *dev, ino_t *ino)
{
	struct sockaddr_un a;
	struct stat st;
	int fd, ret;

	ret = fill_addr(&a, path);
	if (ret) {
		pr_err("broker: socket path '%s' is longer than %zu bytes: choose a shorter one",
		       path, sizeof(a.sun_path) - 1);
		return ret;
	}
	ret = remove_stale(path, &a);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sb_syserr();
	/* The socket's own inode carries the mode into bind(): the file is born
	 * with it (less the umask). Nothing is changed by name afterwards. */
	if (fchmod(fd, mode)) {
		ret = sb_syserr();
		pr_err("broker: fchmod of the socket: %s", strerror(-ret));
		goto fail;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		ret = sb_syserr();
		pr_err("broker: bind %s: %s (is the directory writable by this user?)", path, strerror(-ret));
		goto fail;
	}
	/* Nobody can connect before listen(): the mode is in force first. */
	ret = own_file(path, mode, &st);
	if (ret)
		goto fail;	/* what is at path now is not ours: left alone */
	if (listen(fd, BACKLOG)) {
		ret = sb_syserr();
		sb_unlink_ours(path, st.st_dev, st.st_ino);
		goto fail;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return fd;
fail:
	close(fd);
	return ret;
}

void sb_unlink_ours(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	if (!lstat(path, &st) && S_ISSOCK(st.st_mode) && st.st_dev == dev && st.st_ino == ino)
		unlink(path);
}

int sb_listen_inherited(int fd)
{
	int v = 0, fl;
	socklen_t len = sizeof(v);

	if (fcntl(fd, F_GETFD) < 0) {
		pr_err("broker: inherited fd %d is not open", fd);
		return -SVMBIND_BROKER_ERR_NO_LISTEN_FD;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) || v != AF_UNIX ||
	    (len = sizeof(v), getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len)) || v != SOCK_STREAM ||
	    (len = sizeof(v), getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len)) || !v) {
		pr_err("broker: inherited fd %d is not a listening AF_UNIX stream socket "
		       "(systemd: ListenStream=/path in the .socket unit, Accept=no)", fd);
		return -SVMBIND_BROKER_ERR_NO_LISTEN_FD;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) || fcntl(fd, F_SETFD, FD_CLOEXEC))
		return sb_syserr();
	return fd;
}

/* A failed start closes the inherited socket it was given, if it is one (else it is not ours). */
void sb_listen_drop(int listen_fd)
{
	int v = 0, fd = listen_fd;
	socklen_t len = sizeof(v);

	if (fd == SVMBIND_BROKER_LISTEN_SYSTEMD) {
		const char *pid = getenv("LISTEN_PID");

		if (!pid || strtol(pid, NULL, 10) != getpid())
			return;
		fd = 3;	/* SD_LISTEN_FDS_START */
	}
	if (fd < 0)
		return;
	if (!getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) && v &&
	    (len = sizeof(v), !getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len)) && v == AF_UNIX)
		close(fd);
}

int sb_listen_systemd(void)
{
	int n;

#ifdef SVMBIND_HAVE_LIBSYSTEMD
	n = sd_listen_fds(0);
	if (n < 0) {
		pr_err("broker: sd_listen_fds: %s", strerror(-n));
		return -SVMBIND_BROKER_ERR_NO_LISTEN_FD;
	}
#else
	/* The same protocol sd_listen_fds(3) reads: LISTEN_PID is ours, LISTEN_FDS
	 * fds from 3 on. getenv() only: the environment is not changed. */
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	char *end;
	long v;

	n = 0;
	if (pid && fds) {
		v = strtol(pid, &end, 10);
		if (*pid && !*end && v == getpid()) {
			v = strtol(fds, &end, 10);
			if (*fds && !*end && v > 0 && v < 1024)
				n = (int)v;
		}
	}
#endif
	if (n < 1) {
		pr_err("broker: no socket from systemd (LISTEN_FDS unset or not for pid %d): "
		       "start the service through its .socket unit", (int)getpid());
		return -SVMBIND_BROKER_ERR_NO_LISTEN_FD;
	}
	if (n > 1)
		pr_warn("broker: systemd passed %d sockets; using the first (fd 3)", n);
	return sb_listen_inherited(3 /* SD_LISTEN_FDS_START */);
}
