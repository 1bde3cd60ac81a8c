// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The context: one way to the IOMMU (a backend, iommu/), the devices opened through it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "iommu/backend.h"

#define CTX_FLAGS SVMBIND_CTX_ADOPT_FD

/* Which backend a pre-opened fd belongs to, from the path it was opened on. */
static const struct svmbind__backend *backend_of_fd(int fd)
{
	char path[64];

	if (svmbind__fd_path(fd, path, sizeof(path)) <= 0)
		return NULL;
	if (!strcmp(path, "/dev/iommu"))
		return &svmbind__iommufd;
	if (!strcmp(path, "/dev/vfio/vfio"))
		return &svmbind__legacy;
	return NULL;
}

static int choose_backend(uint32_t want, uint32_t type, int fd, const struct svmbind__backend **be)
{
	switch (want) {
	case SVMBIND_BACKEND_AUTO:
		if (fd >= 0) {
			*be = backend_of_fd(fd);
			if (!*be) {
				pr_err("svmbind_ctx_opts.fd %d is neither /dev/vfio/vfio nor /dev/iommu: "
				       "pass one of them, or name the backend", fd);
				return FAIL(EBADF);
			}
		} else {
			/* An explicit VFIO IOMMU type only means something to a container. */
			*be = !type && svmbind__iommufd_available() ? &svmbind__iommufd : &svmbind__legacy;
		}
		return 0;
	case SVMBIND_BACKEND_LEGACY:
		*be = &svmbind__legacy;
		return 0;
	case SVMBIND_BACKEND_IOMMUFD:
		if (type) {
			pr_err("svmbind_ctx_opts.iommu_type %u is a legacy container's: pass 0 with "
			       "SVMBIND_BACKEND_IOMMUFD", type);
			return FAIL(EINVAL);
		}
		*be = &svmbind__iommufd;
		return 0;
	}
	pr_err("svmbind_ctx_opts.backend %u: use SVMBIND_BACKEND_AUTO, _LEGACY or _IOMMUFD", want);
	return FAIL(EINVAL);
}

/* The fd an options struct hands over (SVMBIND_CTX_ADOPT_FD), or -1. Read
 * before any check: the context owns it from the call on, even a failed one. */
static int adopted_fd(const struct svmbind_ctx_opts *opts)
{
	if (!opts || opts->sz < sizeof(size_t) || !(OPTS_GET(opts, flags, 0) & SVMBIND_CTX_ADOPT_FD))
		return -1;
	return OPTS_GET(opts, fd, -1);
}

static int check_opts(const struct svmbind_ctx_opts *opts, uint32_t type, uint32_t flags, int fd)
{
	if (flags & ~CTX_FLAGS) {
		pr_err("svmbind_ctx_opts.flags 0x%x: unknown flags 0x%x; the only one is "
		       "SVMBIND_CTX_ADOPT_FD", flags, flags & ~CTX_FLAGS);
		return FAIL(EINVAL);
	}
	if ((flags & SVMBIND_CTX_ADOPT_FD) && fd < 0) {
		pr_err("svmbind_ctx_opts: SVMBIND_CTX_ADOPT_FD with fd %d: pass the open fd", fd);
		return FAIL(EBADF);
	}
	if (!(flags & SVMBIND_CTX_ADOPT_FD) && OPTS_GET(opts, fd, 0)) {
		pr_err("svmbind_ctx_opts.fd is %d without SVMBIND_CTX_ADOPT_FD: set the flag, or "
		       "leave fd 0", OPTS_GET(opts, fd, 0));
		return FAIL(EINVAL);
	}
	if (type && type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU && type != VFIO_NOIOMMU_IOMMU) {
		pr_err("svmbind_ctx_opts.iommu_type %u: use 0 (auto), VFIO_TYPE1v2_IOMMU, "
		       "VFIO_TYPE1_IOMMU or VFIO_NOIOMMU_IOMMU", type);
		return FAIL(EINVAL);
	}
	return 0;
}

int svmbind_ctx_new(const struct svmbind_ctx_opts *opts, struct svmbind_ctx **out)
{
	const struct svmbind__backend *be = &svmbind__legacy;
	struct svmbind_ctx *ctx;
	uint32_t type, flags, want;
	int fd = adopted_fd(opts), ret;

	if (!out)
		ret = NULL_ARG();
	else if (!OPTS_VALID(opts, struct svmbind_ctx_opts))
		ret = FAIL(EINVAL);
	else
		ret = 0;
	type = OPTS_GET(opts, iommu_type, 0);
	flags = OPTS_GET(opts, flags, 0);
	want = OPTS_GET(opts, backend, SVMBIND_BACKEND_AUTO);
	if (!ret)
		ret = check_opts(opts, type, flags, fd);
	if (!ret)
		ret = choose_backend(want, type, fd, &be);
	if (ret) {
		if (fd >= 0)
			close(fd);	/* the context's in every case, as documented */
		return ret;
	}

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		if (fd >= 0)
			close(fd);
		return FAIL(ENOMEM);
	}
	ctx->be = be;
	ctx->want_type = type;
	ctx->auto_path = want == SVMBIND_BACKEND_AUTO && fd < 0 && be == &svmbind__iommufd;
	ret = be->ctx_init(ctx, fd);
	if (ret && ctx->auto_path && (ret == -EACCES || ret == -EPERM)) {
		/* The documented unprivileged owner holds a group node, not /dev/iommu. */
		pr_info("backend: /dev/iommu cannot be opened by this process (%s): using the "
			"legacy container", strerror(-ret));
		ctx->auto_path = false;
		ctx->be = &svmbind__legacy;
		ret = ctx->be->ctx_init(ctx, -1);
	}
	if (ret) {
		free(ctx);
		return ret;
	}
	pr_debug("backend: the %s%s", ctx->be->name, ctx->auto_path ? " (automatic: /dev/iommu "
		 "opens; the first device may still move the context to the container)" : "");
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->token = svmbind__process_token();
	ctx->owner = svmbind__process_pid();
	*out = ctx;
	return svmbind__ok(0);
}

bool svmbind__auto_fallback(struct svmbind_ctx *ctx, const char *bdf, const char *why)
{
	struct svmbind_ctx legacy = { .want_type = ctx->want_type };
	char node[48];
	int group;

	if (!ctx->auto_path || ctx->devices)
		return false;
	group = svmbind__device_group(bdf);
	if (group < 0)
		return false;
	snprintf(node, sizeof(node), "/dev/vfio/%d", group);
	if (faccessat(AT_FDCWD, node, R_OK | W_OK, AT_EACCESS))
		return false;	/* neither path is open to this process: report the first */
	if (svmbind__legacy.ctx_init(&legacy, -1))
		return false;
	pr_info("%s: %s, but %s can be: the context moves from iommufd to the legacy container",
		bdf, why, node);
	ctx->be->ctx_fini(ctx);
	ctx->ranges = NULL;
	ctx->nr_ranges = 0;
	ctx->ioas_id = 0;
	ctx->fd = legacy.fd;
	ctx->be = &svmbind__legacy;
	ctx->auto_path = false;
	return true;
}

void svmbind_ctx_free(struct svmbind_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->devices)
		svmbind_device_close(ctx->devices);
	ctx->be->ctx_fini(ctx);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

/* The backend and its fd change only while auto_path (the first device open): read under the lock. */
int svmbind_ctx_fd(const struct svmbind_ctx *ctx)
{
	struct svmbind_ctx *c = (struct svmbind_ctx *)ctx;
	int fd;

	pthread_mutex_lock(&c->lock);
	fd = c->fd;
	pthread_mutex_unlock(&c->lock);
	return fd;
}

int svmbind_ctx_backend(const struct svmbind_ctx *ctx)
{
	struct svmbind_ctx *c = (struct svmbind_ctx *)ctx;
	int id;

	pthread_mutex_lock(&c->lock);
	id = c->be->id;
	pthread_mutex_unlock(&c->lock);
	return id;
}

int svmbind_ctx_container_fd(const struct svmbind_ctx *ctx)
{
	struct svmbind_ctx *c = (struct svmbind_ctx *)ctx;
	int fd;

	pthread_mutex_lock(&c->lock);
	fd = c->be == &svmbind__legacy ? c->fd : -1;
	pthread_mutex_unlock(&c->lock);
	return fd;
}

int svmbind_ctx_iommu_type(const struct svmbind_ctx *ctx)
{
	struct svmbind_ctx *c = (struct svmbind_ctx *)ctx;
	int type;

	pthread_mutex_lock(&c->lock);
	type = c->iommu_type;
	pthread_mutex_unlock(&c->lock);
	return type;
}
