// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The context: one VFIO container, the IOMMU groups attached to it, the IOMMU type. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

#define VFIO_CONTAINER "/dev/vfio/vfio"

int svmbind_ctx_new(const struct svmbind_ctx_opts *opts, struct svmbind_ctx **out)
{
	struct svmbind_ctx *ctx;
	uint32_t type, flags;
	int fd, ver, err;

	if (!out)
		return NULL_ARG();
	if (!OPTS_VALID(opts, struct svmbind_ctx_opts))
		return FAIL(EINVAL);
	type = OPTS_GET(opts, iommu_type, 0);
	flags = OPTS_GET(opts, flags, 0);
	if (flags) {
		pr_err("svmbind_ctx_opts.flags 0x%x: no flags are defined; pass 0", flags);
		return FAIL(EINVAL);
	}
	if (type && type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU && type != VFIO_NOIOMMU_IOMMU) {
		pr_err("svmbind_ctx_opts.iommu_type %u: use 0 (auto), VFIO_TYPE1v2_IOMMU, "
		       "VFIO_TYPE1_IOMMU or VFIO_NOIOMMU_IOMMU", type);
		return FAIL(EINVAL);
	}

	fd = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT) {
			pr_err("open %s: %s: VFIO is not loaded; run 'modprobe vfio-pci'",
			       VFIO_CONTAINER, strerror(err));
			return KFAIL(SVMBIND_ERR_NO_VFIO, err);
		}
		pr_err("open %s: %s: check the node's mode and, in a container, the device cgroup",
		       VFIO_CONTAINER, strerror(err));
		return KFAIL(err, err);
	}
	ver = ioctl(fd, VFIO_GET_API_VERSION);
	if (ver != VFIO_API_VERSION) {
		err = ver < 0 ? errno : 0;
		if (ver < 0)
			pr_err("%s: VFIO_GET_API_VERSION: %s", VFIO_CONTAINER, strerror(err));
		else
			pr_err("%s: VFIO API version %d, this library speaks %d",
			       VFIO_CONTAINER, ver, VFIO_API_VERSION);
		close(fd);
		return ver < 0 ? KFAIL(err, err) : FAIL(SVMBIND_ERR_NO_IOMMU_TYPE);
	}
	if (type) {
		int ret = ioctl(fd, VFIO_CHECK_EXTENSION, type);

		if (ret <= 0) {
			err = ret < 0 ? errno : 0;
			pr_err("%s: the kernel does not offer IOMMU type %u%s%s", VFIO_CONTAINER, type,
			       ret < 0 ? ": " : "", ret < 0 ? strerror(err) : "");
			close(fd);
			return ret < 0 ? KFAIL(err, err) : FAIL(SVMBIND_ERR_NO_IOMMU_TYPE);
		}
	}

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		close(fd);
		return FAIL(ENOMEM);
	}
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->token = svmbind__process_token();
	ctx->owner = getpid();
	ctx->fd = fd;
	ctx->want_type = type;
	*out = ctx;
	return svmbind__ok(0);
}

void svmbind_ctx_free(struct svmbind_ctx *ctx)
{
	if (!ctx)
		return;
	while (ctx->devices)
		svmbind_device_close(ctx->devices);
	close(ctx->fd);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

int svmbind_ctx_container_fd(const struct svmbind_ctx *ctx)
{
	return ctx->fd;
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

/* Detach and close a group; the kernel forgets the IOMMU type with the last one. */
static void group_free(struct svmbind_ctx *ctx, struct svmbind_group *g)
{
	struct svmbind_group **pp;

	for (pp = &ctx->groups; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	}
	/* The last close of a group fd detaches it from the container: no
	 * VFIO_GROUP_UNSET_CONTAINER, which through a forked child's copy of
	 * the fd would detach the parent's group. */
	close(g->fd);
	if (!ctx->groups)
		ctx->iommu_type = 0;
	free(g);
}

static int set_iommu(struct svmbind_ctx *ctx, struct svmbind_group *g, bool noiommu)
{
	static const uint32_t auto_types[] = { VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU };
	int err = 0;

	if (ctx->want_type || noiommu) {
		uint32_t type = noiommu ? VFIO_NOIOMMU_IOMMU : ctx->want_type;

		if (!ioctl(ctx->fd, VFIO_SET_IOMMU, type)) {
			ctx->iommu_type = (int)type;
			return 0;
		}
		err = errno;
		pr_err("group %d: VFIO_SET_IOMMU(%u): %s", g->num, type, strerror(err));
		return KFAIL(err, err);
	}
	for (size_t i = 0; i < sizeof(auto_types) / sizeof(auto_types[0]); i++) {
		/* Set first, ask later: the check is needed only to explain a refusal. */
		if (!ioctl(ctx->fd, VFIO_SET_IOMMU, auto_types[i])) {
			ctx->iommu_type = (int)auto_types[i];
			pr_info("group %d: IOMMU type %u set on the container", g->num, auto_types[i]);
			return 0;
		}
		int e = errno;

		if (ioctl(ctx->fd, VFIO_CHECK_EXTENSION, auto_types[i]) <= 0) {
			pr_debug("group %d: IOMMU type %u is not offered", g->num, auto_types[i]);
			continue;
		}
		err = e;
		pr_warn("group %d: VFIO_SET_IOMMU(%u): %s; trying the next type",
			g->num, auto_types[i], strerror(err));
	}
	pr_err("group %d: the kernel accepted none of the IOMMU types TYPE1v2, TYPE1%s%s",
	       g->num, err ? ": last error: " : "", err ? strerror(err) : "");
	return KFAIL(SVMBIND_ERR_NO_IOMMU_TYPE, err);
}

static int open_group_node(int num, bool *noiommu)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", num);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", num);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			*noiommu = true;
			return fd;
		}
		errno = ENOENT;
		snprintf(path, sizeof(path), "/dev/vfio/%d", num);
	}
	if (fd >= 0)
		return fd;

	int err = errno;

	if (err == EBUSY) {
		pr_err("open %s: %s: group %d is held by another process or context; "
		       "find it with 'fuser %s' and close it", path, strerror(err), num, path);
		return KFAIL(SVMBIND_ERR_GROUP_BUSY, err);
	}
	if (err == EACCES || err == EPERM)
		pr_err("open %s: %s: give this user access to the node (chown/udev rule), "
		       "and in a container allow the device in its cgroup", path, strerror(err));
	else if (err == ENOENT)
		pr_err("open %s: %s: the group has no VFIO node; is every device of group %d on "
		       "vfio-pci, and is devtmpfs/udev running?", path, strerror(err), num);
	else
		pr_err("open %s: %s", path, strerror(err));
	return KFAIL(err, err);
}

/* Get group @num attached to the container, reusing one already held. ctx->lock held. */
int svmbind__group_get(struct svmbind_ctx *ctx, int num, struct svmbind_group **out)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct svmbind_group *g;
	bool noiommu = false;
	int fd, err, ret;

	for (g = ctx->groups; g; g = g->next) {
		if (g->num == num) {
			g->refs++;
			*out = g;
			return 0;
		}
	}

	fd = open_group_node(num, &noiommu);
	if (fd < 0)
		return fd;
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st)) {
		err = errno;
		pr_err("group %d: VFIO_GROUP_GET_STATUS: %s", num, strerror(err));
		close(fd);
		return KFAIL(err, err);
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		char who[256];
		int n = svmbind__group_offenders(num, who, sizeof(who));

		if (n > 0)
			pr_err("group %d is not viable: %s %s on a kernel driver; bind %s to vfio-pci "
			       "or unbind %s", num, who, n > 1 ? "are" : "is", n > 1 ? "them" : "it",
			       n > 1 ? "them" : "it");
		else
			pr_err("group %d is not viable: a member device uses the kernel DMA API; "
			       "see /sys/kernel/iommu_groups/%d/devices", num, num);
		close(fd);
		return FAIL(SVMBIND_ERR_GROUP_NOT_VIABLE);
	}

	g = calloc(1, sizeof(*g));
	if (!g) {
		close(fd);
		return FAIL(ENOMEM);
	}
	g->num = num;
	g->fd = fd;
	g->refs = 1;

	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &ctx->fd)) {
		err = errno;
		if (err == EPERM && noiommu) {
			pr_err("group %d: VFIO_GROUP_SET_CONTAINER: %s: a no-IOMMU group needs "
			       "CAP_SYS_RAWIO, and cannot share a container with IOMMU groups",
			       num, strerror(err));
			ret = KFAIL(err, err);
		} else if (err == EPERM) {
			pr_err("group %d: VFIO_GROUP_SET_CONTAINER: %s: the group stopped being viable "
			       "(a member was bound to a kernel driver)", num, strerror(err));
			ret = KFAIL(SVMBIND_ERR_GROUP_NOT_VIABLE, err);
		} else {
			pr_err("group %d: VFIO_GROUP_SET_CONTAINER: %s", num, strerror(err));
			ret = KFAIL(err, err);
		}
		close(fd);
		free(g);
		return ret;
	}
	g->next = ctx->groups;
	ctx->groups = g;
	if (!ctx->iommu_type) {
		ret = set_iommu(ctx, g, noiommu);
		if (ret) {
			group_free(ctx, g);
			return ret;
		}
	}
	*out = g;
	return 0;
}

/* Drop a device's reference on its group. ctx->lock held. */
void svmbind__group_put(struct svmbind_ctx *ctx, struct svmbind_group *g)
{
	if (--g->refs == 0)
		group_free(ctx, g);
}
