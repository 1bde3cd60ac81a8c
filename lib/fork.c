// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Which process a handle belongs to, without a system call per check.
 *
 * After fork() a child holds copies of the parent's fds: an unbind or a
 * VFIO_GROUP_UNSET_CONTAINER made through them acts on the parent's bonds
 * and container. So every context records a token of the process that made
 * it, and a handle whose token is not the running process's is "forked".
 *
 * The token lives in a page marked MADV_WIPEONFORK: a child sees 0 there,
 * whatever way it was forked (fork(), clone() without CLONE_VM), with no
 * atfork handler. A process arms its page with a value no handle it can hold
 * has: tokens only grow, and a child inherits the counter its parent had.
 * Where the page cannot be had, the token is the pid (one getpid() a check).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;
/* [0] the token, [1] the pid that armed it: both wiped in a child. Set once;
 * NULL: fall back to getpid(). */
static _Atomic uint64_t *token_page;
static uint64_t last_token;		/* under token_lock; inherited by children */
static bool token_tried;		/* under token_lock */

static void map_page_locked(void)
{
	void *p;

	token_tried = true;
	p = mmap(NULL, (size_t)sysconf(_SC_PAGESIZE), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		pr_debug("fork guard: mmap: %s; checking the pid instead", strerror(errno));
		return;
	}
	if (madvise(p, (size_t)sysconf(_SC_PAGESIZE), MADV_WIPEONFORK)) {
		pr_debug("fork guard: MADV_WIPEONFORK: %s (Linux < 4.14); checking the pid instead",
			 strerror(errno));
		munmap(p, (size_t)sysconf(_SC_PAGESIZE));
		return;
	}
	atomic_store(&token_page, p);
}

uint64_t svmbind__process_token(void)
{
	_Atomic uint64_t *page = atomic_load(&token_page);
	uint64_t t;

	if (page && (t = atomic_load_explicit(page, memory_order_acquire)))
		return t;	/* the common case: armed in this process */

	pthread_mutex_lock(&token_lock);
	if (!token_tried)
		map_page_locked();
	page = atomic_load(&token_page);
	if (!page) {
		pthread_mutex_unlock(&token_lock);
		return (uint64_t)getpid() | (1ull << 63);
	}
	t = atomic_load(page);
	if (!t) {	/* first use, or the first since a fork wiped it */
		t = ++last_token;
		atomic_store(&page[1], (uint64_t)getpid());
		atomic_store_explicit(page, t, memory_order_release);
	}
	pthread_mutex_unlock(&token_lock);
	return t;
}

pid_t svmbind__process_pid(void)
{
	_Atomic uint64_t *page;

	svmbind__process_token();	/* arms the page if this process has not yet */
	page = atomic_load(&token_page);
	return page ? (pid_t)atomic_load(&page[1]) : getpid();
}

bool svmbind__ctx_forked(const struct svmbind_ctx *ctx)
{
	_Atomic uint64_t *page = atomic_load(&token_page);

	if (page)	/* no lock, no syscall: a wiped page reads 0, never a token */
		return atomic_load_explicit(page, memory_order_acquire) != ctx->token;
	return svmbind__process_token() != ctx->token;
}

int svmbind__check_owner(const struct svmbind_ctx *ctx, const char *what)
{
	if (!svmbind__ctx_forked(ctx))
		return 0;
	pr_err("%s: this handle was made by process %d and inherited through fork(): its fds and "
	       "bonds are the parent's; the child may only free it (open the device anew once the "
	       "parent has closed it, or ask the parent)", what, ctx->owner);
	return FAIL(SVMBIND_ERR_FORKED);
}

int svmbind_ctx_adopt(struct svmbind_ctx *ctx)
{
	pid_t old;

	if (!ctx)
		return NULL_ARG();
	if (!svmbind__ctx_forked(ctx))
		return svmbind__ok(0);
	pthread_mutex_lock(&ctx->lock);
	old = ctx->owner;
	ctx->token = svmbind__process_token();
	ctx->owner = svmbind__process_pid();
	for (struct svmbind_device *dev = ctx->devices; dev; dev = dev->next)
		svmbind__adopt_bonds(dev, old);
	pthread_mutex_unlock(&ctx->lock);
	pr_info("process %d adopted the context of process %d", ctx->owner, old);
	return svmbind__ok(0);
}
