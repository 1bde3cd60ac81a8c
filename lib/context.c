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
	ret = be->ctx_init(ctx, fd);
	if (ret) {
		free(ctx);
		return ret;
	}
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->token = svmbind__process_token();
	ctx->owner = svmbind__process_pid();
	*out = ctx;
	return svmbind__ok(0);
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

int svmbind_ctx_fd(const struct svmbind_ctx *ctx)
{
	return ctx->fd;
}

int svmbind_ctx_backend(const struct svmbind_ctx *ctx)
{
	return ctx->be->id;
}

int svmbind_ctx_container_fd(const struct svmbind_ctx *ctx)
{
	return ctx->be == &svmbind__legacy ? ctx->fd : -1;
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
