/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Private to libsvmbind: object layouts, the logging and error helpers. */
#ifndef SVMBIND_INTERNAL_H
#define SVMBIND_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <svmbind/svmbind.h>

#include "pure.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- objects ---- */

struct svmbind_group {
	int num;			/* IOMMU group number */
	int fd;				/* /dev/vfio/N */
	unsigned int refs;		/* devices open through it */
	struct svmbind_group *next;
};

struct svmbind__backend;

struct svmbind_ctx {
	pthread_mutex_t lock;		/* everything below but token, owner, be, fd */
	uint64_t token;			/* the process that made it (fork.c) */
	pid_t owner;			/* its pid, for self binds */
	const struct svmbind__backend *be;	/* under lock while auto_path */
	int fd;				/* /dev/vfio/vfio (legacy) or /dev/iommu (iommufd) */
	bool auto_path;			/* SVMBIND_BACKEND_AUTO chose iommufd, no device yet:
					 * the first open may still fall back (context.c) */
	/* legacy */
	uint32_t want_type;		/* from the options; 0 = auto */
	int iommu_type;			/* in force; 0 while no group is attached */
	struct svmbind_group *groups;
	/* iommufd */
	uint32_t ioas_id;
	struct svmbind__iova_range *ranges;	/* the IOAS's usable IOVAs, after the last attach */
	size_t nr_ranges;
	uint64_t iova_align;
	struct svmbind_device *devices;
};

/*
 * One bond as the kernel counts it: a (device, address space) pair and its
 * references. The witness tells whether that address space still exists:
 * WITNESS_SELF, the caller's own; an fd of /proc/PID/mem opened before the
 * bind, which holds the mm it was opened on (reads return 0 once that mm is
 * gone: exit or exec); or WITNESS_NONE when that file could not be opened.
 */
#define WITNESS_SELF (-1)
#define WITNESS_NONE (-2)
struct bond {
	uint32_t pasid;
	uint32_t refs;
	pid_t pid;
	int witness;
};

/* The bonds of a device handle (bondbook.c): in the order made, indexed by PASID. */
struct svmbind__book {
	struct bond *v;		/* refs 0: dropped, until the next reservation compacts */
	size_t used, live, cap;	/* entries in v, of them live, v's room */
	uint32_t *ix;		/* open addressing by PASID: v's slot + 1; 0 = empty */
	size_t ix_cap;		/* 2 * cap, a power of two */
};
HIDDEN struct bond *svmbind__book_find(struct svmbind__book *k, uint32_t pasid);
HIDDEN int svmbind__book_reserve(struct svmbind__book *k);
HIDDEN struct bond *svmbind__book_add(struct svmbind__book *k, struct bond b);
HIDDEN void svmbind__book_drop(struct svmbind__book *k, struct bond *b);
HIDDEN struct bond *svmbind__book_at(struct svmbind__book *k, size_t i);
HIDDEN struct bond *svmbind__book_last(struct svmbind__book *k);
HIDDEN void svmbind__book_free(struct svmbind__book *k);

struct svmbind_device {
	struct svmbind_ctx *ctx;
	struct svmbind_group *group;	/* legacy; NULL on iommufd */
	uint32_t devid;			/* iommufd's id of the bound device */
	struct svmbind_device *next;	/* in ctx->devices, under ctx->lock */
	int fd;
	char name[16];
	uint32_t flags, num_regions, num_irqs;
	pthread_mutex_t lock;		/* bonds, dialect */
	struct svmbind__book book;
	int dialect;			/* cached; INT_MIN = not probed yet */
	bool unwatched_said;		/* svm.c: "cannot watch" logged once (atomic) */
	struct svmbind__pasid_dev *pasid;	/* PASID spaces (iommu/pasid.h); NULL until the first */
};

/* ---- logging (log.c) ---- */

HIDDEN void svmbind__log(enum svmbind_log_level level, const char *fmt, ...) PRINTF(2, 3);
#define pr_err(...)	svmbind__log(SVMBIND_LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)	svmbind__log(SVMBIND_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	svmbind__log(SVMBIND_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	svmbind__log(SVMBIND_LOG_DEBUG, __VA_ARGS__)

/* ---- errors (error.c) ---- */

/* Every public function returns through one of these: they set errno and the
 * thread's kernel errno, so nothing the kernel said is lost. */
HIDDEN int svmbind__fail(int code, int kernel_errno);	/* returns -code */
HIDDEN int svmbind__ok(int ret);			/* clears the kernel errno */
#define FAIL(code)		svmbind__fail((code), 0)
/* A NULL handle or pointer argument: says which function, fails with EINVAL. */
HIDDEN int svmbind__null_arg(const char *fn);
#define NULL_ARG()		svmbind__null_arg(__func__)
#define KFAIL(code, kerr)	svmbind__fail((code), (kerr))

/* Broker codes live in [SVMBIND_BROKER_ERR_FIRST, SVMBIND_BROKER_ERR_LAST] (broker/errors.c):
 * their text, and the classic errno they refine in *errnum; NULL for an unknown code. */
#define SVMBIND_BROKER_ERR_FIRST 4100
#define SVMBIND_BROKER_ERR_LAST 4199
HIDDEN const char *svmbind__broker_strerror(int code, int *errnum);

/* ---- options (opts.c) ---- */

/* sz must cover at least the first member; unknown trailing bytes must be 0. */
HIDDEN bool svmbind__opts_valid(const void *opts, size_t user_sz, size_t lib_sz, const char *what);
#define OPTS_VALID(o, type) (!(o) || svmbind__opts_valid((o), (o)->sz, sizeof(type), #type))
/*
 * Copy a struct the library fills out to the caller's (whose sz was checked
 * with OPTS_VALID): never more than the caller's sz, and the caller's sz then
 * says how many bytes were filled. Returns that count.
 */
HIDDEN size_t svmbind__copy_out(void *dst, const void *src, size_t lib_sz);
#define OPTS_GET(o, field, def) \
	(((o) && offsetof(__typeof__(*(o)), field) + sizeof((o)->field) <= (o)->sz) ? (o)->field : (def))

/* ---- sysfs and small file helpers (sysfs.c) ---- */

/* Canonical "DDDD:BB:DD.F" from a PCI address or a sysfs path; false if not one. */
HIDDEN bool svmbind__parse_bdf(const char *name, char out[16]);
/* Read a small text file, strip the trailing newline. Returns length or -errno. */
HIDDEN int svmbind__read_text(const char *path, char *buf, size_t len);
HIDDEN int svmbind__device_group(const char *bdf);	/* group number or -errno */
HIDDEN int svmbind__device_driver(const char *bdf, char *buf, size_t len); /* 0 ("" = unbound) or -errno */
HIDDEN bool svmbind__driver_is_vfio(const char *driver);
/* Members of group @num whose driver uses the kernel DMA API, as
 * "BDF (driver), ..." in @buf. Returns how many, or -errno. */
HIDDEN int svmbind__group_offenders(int num, char *buf, size_t len);
HIDDEN bool svmbind__device_exists(const char *bdf);

/* ---- fork guard (fork.c) ---- */

/* A token of the running process, never 0; the same until it forks. */
HIDDEN uint64_t svmbind__process_token(void);
/* getpid(), cached with the token (no system call once armed). */
HIDDEN pid_t svmbind__process_pid(void);
/* True when @ctx was made by another process (this one is a forked child). */
HIDDEN bool svmbind__ctx_forked(const struct svmbind_ctx *ctx);
/* Fails with SVMBIND_ERR_FORKED (and says so) when the handle is inherited. */
HIDDEN int svmbind__check_owner(const struct svmbind_ctx *ctx, const char *what);

/* ---- what an fd is (fdpath.c) ---- */

/* The path @fd was opened on, from /proc/self/fd: length, or -errno. */
HIDDEN int svmbind__fd_path(int fd, char *buf, size_t len);
/* The PCI address of the device whose VFIO cdev @fd is: 0, or a failure (logged). */
HIDDEN int svmbind__cdev_name(int fd, char out[16]);

/* ---- process credentials (creds.c) ---- */

HIDDEN int svmbind__cap_effective(int cap);		/* 1, 0, or -errno */
HIDDEN int svmbind__ptrace_scope(void);		/* 0..3 or -errno */
HIDDEN int svmbind__real_uid_of(pid_t pid);		/* the real uid of @pid, or -errno */
HIDDEN int svmbind__memlock_limited(void);		/* 1 when MAP_DMA is bound by RLIMIT_MEMLOCK */

/* ---- internal entry points ---- */

/* Why @bdf cannot be opened, from sysfs alone (device.c): the code to report, or 0. */
HIDDEN int svmbind__explain_device(const char *bdf);
HIDDEN int svmbind__probe_dialect(struct svmbind_device *dev);	/* cached; call without dev->lock */
HIDDEN int svmbind__unbind_all(struct svmbind_device *dev);		/* at close */
HIDDEN void svmbind__forget_bonds(struct svmbind_device *dev);	/* at close, in a forked child */
/* The broker knows that @pid's address space, bound under @pasid, has ended:
 * drop the book's entry if it is still that one and nothing says it lives
 * (never an ioctl: the PASID may name someone else's bond by now). */
HIDDEN void svmbind__forget_bond(struct svmbind_device *dev, uint32_t pasid, pid_t pid);
/* The broker's bind of a client verified at HELLO: @pid read from @pidfd then,
 * @witness (or -1) its /proc/PID/mem witness opened then. Checked after the
 * bind (pidfd not exited, witness alive), else undone: 0, or
 * -SVMBIND_ERR_NO_PROCESS, -ESTALE (address space replaced), or the bind's code.
 * The book's copy of the witness: *@spare if >= 0 (taken), else a new one. */
HIDDEN int svmbind__bind_witnessed(struct svmbind_device *dev, pid_t pid, int pidfd, int witness,
				   int *spare, uint32_t *pasid);
/* svm_unbind() when the caller has just seen that address space live through
 * its own witness of it: the book's witness is not read again; when the entry
 * goes, its witness (of that same address space) goes to *@keep if < 0 (and
 * @keep not NULL), for the next svmbind__bind_witnessed(), instead of closed. */
HIDDEN int svmbind__unbind_live(struct svmbind_device *dev, uint32_t pasid, uint32_t flags, int *keep);

/* ---- processes of the caller's pid namespace through /proc (witness.c) ---- */

/* Levels from /proc's pid namespace down to the caller's, plus one: 1 when
 * /proc is the caller's namespace; -ENOTSUP (no NSpid: Linux < 4.1), -errno. */
HIDDEN int svmbind__proc_levels(void);
/* The pid a pidfd names in the caller's pid namespace (whatever namespace
 * /proc shows): > 0, or -EBADF (no pidfd), -ESRCH (exited and reaped),
 * -EXDEV (not in this pid namespace), -errno. */
HIDDEN int svmbind__pidfd_pid(int pidfd);
/* True while the pidfd's process is not reaped (its pid cannot have been reused). */
HIDDEN bool svmbind__pidfd_alive(int pidfd);

/*
 * A witness of @pid's address space (@pid in the caller's pid namespace; when
 * /proc shows another namespace, reached through a pidfd, never a namesake:
 * -EXDEV when it is not visible there, -ENOSYS without pidfd_open(2)):
 * /proc/PID/mem holds the mm it was
 * opened on. Opening it takes the same ptrace attach check as a bind, plus
 * the file's owner check (the target's uid, or CAP_DAC_OVERRIDE). Open: fd
 * or -errno. Alive: 1 while that address space exists, 0 once it is gone.
 */
HIDDEN int svmbind__witness_open(pid_t pid);
HIDDEN int svmbind__witness_alive(int fd);
HIDDEN void svmbind__adopt_bonds(struct svmbind_device *dev, pid_t old_owner);

#endif
