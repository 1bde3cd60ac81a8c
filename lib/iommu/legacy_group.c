// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The legacy backend's IOMMU groups: found from a device or a group fd,
 * opened (/dev/vfio/N, or noiommu-N), attached to the context's container
 * (the IOMMU type set with the first), shared by reference count.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "legacy.h"

/* After a failed attach: is it the API version? Then say so (once per failure). */
static void check_api_version(struct svmbind_ctx *ctx)
{
	int ver = ioctl(ctx->fd, VFIO_GET_API_VERSION);

	if (ver >= 0 && ver != VFIO_API_VERSION)
		pr_err("%s: VFIO API version %d, this library speaks %d", VFIO_CONTAINER, ver,
		       VFIO_API_VERSION);
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
	ctx->nr_ranges = 0;	/* the usable IOVAs widen: ask again */
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
	check_api_version(ctx);
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
		if (errno == ENOENT)	/* neither: report the usual node */
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

/*
 * Get group @num attached to the container, reusing one already held.
 * @given: a pre-opened fd of that group, or -1; it is the context's now, in
 * any case (closed at once when the group is held already, or on failure).
 * ctx->lock held.
 */
int svmbind__legacy_group_get(struct svmbind_ctx *ctx, int num, int given, struct svmbind_group **out)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct svmbind_group *g;
	bool noiommu = false;
	int fd, err, ret;

	for (g = ctx->groups; g; g = g->next) {
		if (g->num == num) {
			g->refs++;
			if (given >= 0)
				close(given);
			*out = g;
			return 0;
		}
	}

	if (given >= 0) {
		char link[64];

		fd = given;
		noiommu = svmbind__fd_path(fd, link, sizeof(link)) > 0 && strstr(link, "noiommu-");
	} else {
		fd = open_group_node(num, &noiommu);
		if (fd < 0)
			return fd;
	}
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
			pr_err("group %d: VFIO_GROUP_SET_CONTAINER: %s%s", num, strerror(err),
			       err == EBUSY && given >= 0 ? ": the group fd given is attached to a "
			       "container already; pass one that is not" : "");
			ret = KFAIL(err, err);
		}
		close(fd);
		free(g);
		return ret;
	}
	g->next = ctx->groups;
	ctx->groups = g;
	ctx->nr_ranges = 0;	/* the usable IOVAs narrow: ask again */
	if (!ctx->iommu_type) {
		ret = set_iommu(ctx, g, noiommu);
		if (ret) {
			group_free(ctx, g);
			errno = -ret;
			return ret;
		}
	}
	*out = g;
	return 0;
}

/* Drop a device's reference on its group. ctx->lock held. */
void svmbind__legacy_group_put(struct svmbind_ctx *ctx, struct svmbind_group *g)
{
	if (--g->refs == 0)
		group_free(ctx, g);
}

/* The device's IOMMU group number, or a failure that says why there is none. */
int svmbind__legacy_find_group(const char *bdf, int *group)
{
	int ret = svmbind__device_group(bdf);

	if (ret >= 0) {
		*group = ret;
		return 0;
	}
	if (ret == -ENOENT) {
		if (!svmbind__device_exists(bdf))
			return svmbind__explain_device(bdf);	/* says it is missing */
		pr_err("%s: no IOMMU group: the IOMMU is missing or off; boot with intel_iommu=on "
		       "(or amd_iommu=on), or enable vfio's unsafe no-IOMMU mode", bdf);
		return FAIL(SVMBIND_ERR_NO_IOMMU_GROUP);
	}
	pr_err("%s: reading its iommu_group link: %s", bdf, strerror(-ret));
	return KFAIL(-ret, -ret);
}

/* The group number a group fd was opened on (/dev/vfio/N or noiommu-N), or -EBADF. */
int svmbind__legacy_group_of_fd(int fd)
{
	char link[64], *p, *end;
	long n;

	if (svmbind__fd_path(fd, link, sizeof(link)) <= 0 || strncmp(link, "/dev/vfio/", 10))
		return -EBADF;
	p = link + 10;
	if (!strncmp(p, "noiommu-", 8))
		p += 8;
	n = strtol(p, &end, 10);
	if (end == p || *end || n < 0 || n > 0x7fffffff)
		return -EBADF;
	return (int)n;
}
