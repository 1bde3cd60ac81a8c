// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Devices: open by PCI address through a context, info, regions, BAR mmap. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "iommu/backend.h"

/*
 * Why @bdf cannot be opened, from sysfs alone. The success path reads only
 * the iommu_group link; these checks run once something failed, so that the
 * caller still learns the cause and the remedy. Returns the code to report,
 * or 0 when sysfs sees nothing wrong.
 */
int svmbind__explain_device(const char *bdf)
{
	char driver[64];
	int ret;

	if (!svmbind__device_exists(bdf)) {
		pr_err("%s: no such PCI device in /sys/bus/pci/devices; list them with 'lspci -D'", bdf);
		return FAIL(ENODEV);
	}
	ret = svmbind__device_driver(bdf, driver, sizeof(driver));
	if (ret < 0) {
		pr_err("%s: reading its driver link: %s", bdf, strerror(-ret));
		return KFAIL(-ret, -ret);
	}
	if (!svmbind__driver_is_vfio(driver)) {
		if (*driver)
			pr_err("%s is bound to %s, not to a VFIO driver; rebind it: echo %s > "
			       "/sys/bus/pci/devices/%s/driver/unbind; echo vfio-pci > "
			       "/sys/bus/pci/devices/%s/driver_override; echo %s > "
			       "/sys/bus/pci/drivers_probe", bdf, driver, bdf, bdf, bdf, bdf);
		else
			pr_err("%s is bound to no driver; bind it to vfio-pci: echo vfio-pci > "
			       "/sys/bus/pci/devices/%s/driver_override; echo %s > "
			       "/sys/bus/pci/drivers_probe", bdf, bdf, bdf);
		return FAIL(SVMBIND_ERR_NOT_VFIO_DRIVER);
	}
	return 0;
}

static int get_info(struct svmbind_device *dev)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };

	if (ioctl(dev->fd, VFIO_DEVICE_GET_INFO, &info)) {
		int err = errno;

		pr_err("%s: VFIO_DEVICE_GET_INFO: %s", dev->name, strerror(err));
		return KFAIL(err, err);
	}
	dev->flags = info.flags;
	dev->num_regions = info.num_regions;
	dev->num_irqs = info.num_irqs;
	return 0;
}

/* Open @name through @ctx; @fd >= 0 is a pre-opened group or cdev fd, ours now. */
static int device_open(struct svmbind_ctx *ctx, const char *name, int fd,
		       const struct svmbind_device_opts *opts, struct svmbind_device **out)
{
	struct svmbind_device *dev;
	const char *what = fd >= 0 ? "svmbind_device_open_fd" : "svmbind_device_open";
	int ret;

	ret = OPTS_VALID(opts, struct svmbind_device_opts) ? 0 : FAIL(EINVAL);
	if (!ret && OPTS_GET(opts, flags, 0)) {
		pr_err("svmbind_device_opts.flags 0x%x: no flags are defined; pass 0",
		       OPTS_GET(opts, flags, 0));
		ret = FAIL(EINVAL);
	}
	if (!ret && OPTS_GET(opts, reserved, 0)) {
		pr_err("svmbind_device_opts.reserved is 0x%x: it must be 0 (zero the whole struct, "
		       "then set sz)", OPTS_GET(opts, reserved, 0));
		ret = FAIL(EINVAL);
	}
	if (!ret)
		ret = svmbind__check_owner(ctx, what);
	dev = ret ? NULL : calloc(1, sizeof(*dev));
	if (!ret && !dev)
		ret = FAIL(ENOMEM);
	if (!ret && !name && fd >= 0)
		ret = svmbind__cdev_name(fd, dev->name);
	else if (!ret && !svmbind__parse_bdf(name, dev->name)) {
		pr_err("device name '%s' is not a PCI address (DDDD:BB:DD.F, as 'lspci -D' prints) "
		       "nor a sysfs path ending in one", name ? name : "(null)");
		ret = FAIL(EINVAL);
	}
	if (ret) {
		if (fd >= 0)
			close(fd);
		free(dev);
		return ret;
	}

	pthread_mutex_lock(&ctx->lock);
	/* Whether this process may open the cdev, asked before trying: the mode is
	 * the usual obstacle, and a refused open would log an error first. (Root
	 * passes any mode check: it skips the look-up, a cgroup refusal is caught below.) */
	if (ctx->auto_path && fd < 0 && geteuid() != 0) {
		char node[64];

		if (!svmbind__cdev_node(dev->name, node, sizeof(node)) &&
		    faccessat(AT_FDCWD, node, R_OK | W_OK, AT_EACCESS)) {
			char why[128];

			snprintf(why, sizeof(why), "its cdev %s is not open to this process", node);
			svmbind__auto_fallback(ctx, dev->name, why);
		}
	}
	ret = ctx->be->dev_attach(ctx, dev, fd);
	if ((ret == -EACCES || ret == -EPERM) && fd < 0 &&
	    svmbind__auto_fallback(ctx, dev->name, "its cdev cannot be opened"))
		ret = ctx->be->dev_attach(ctx, dev, fd);
	if (ret)
		goto unlock;
	ctx->auto_path = false;	/* settled with the first device */
	ret = get_info(dev);
	if (ret) {
		int err = errno;	/* detach may log; keep what we report */

		ctx->be->dev_detach(ctx, dev);
		errno = err;
		goto unlock;
	}
	pthread_mutex_init(&dev->lock, NULL);
	dev->dialect = INT_MIN;
	dev->ctx = ctx;
	dev->next = ctx->devices;
	ctx->devices = dev;
	pthread_mutex_unlock(&ctx->lock);
	pr_info("%s: open through the %s (%u regions, %u irqs)", dev->name, ctx->be->name,
		dev->num_regions, dev->num_irqs);
	*out = dev;
	return svmbind__ok(0);

unlock:
	pthread_mutex_unlock(&ctx->lock);
	free(dev);
	return ret;
}

int svmbind_device_open(struct svmbind_ctx *ctx, const char *name,
			const struct svmbind_device_opts *opts, struct svmbind_device **out)
{
	if (!ctx || !out)
		return NULL_ARG();
	return device_open(ctx, name, -1, opts, out);
}

int svmbind_device_open_fd(struct svmbind_ctx *ctx, int fd, const char *name,
			   const struct svmbind_device_opts *opts, struct svmbind_device **out)
{
	if (!ctx || !out) {
		if (fd >= 0)
			close(fd);
		return NULL_ARG();
	}
	if (fd < 0) {
		pr_err("svmbind_device_open_fd: fd %d: pass an open group fd (legacy context) or "
		       "VFIO device cdev fd (iommufd context)", fd);
		return FAIL(EBADF);
	}
	if (!name && ctx->be->id == SVMBIND_BACKEND_LEGACY) {
		pr_err("svmbind_device_open_fd: a group fd names no device: pass the device's PCI "
		       "address too");
		close(fd);
		return FAIL(EINVAL);
	}
	return device_open(ctx, name, fd, opts, out);
}

int svmbind_device_close(struct svmbind_device *dev)
{
	struct svmbind_ctx *ctx;
	struct svmbind_device **pp;
	int ret;

	if (!dev)
		return svmbind__ok(0);
	ctx = dev->ctx;
	if (svmbind__ctx_forked(ctx)) {
		/* The fds are copies of the parent's: close them, touch nothing behind them. */
		svmbind__forget_bonds(dev);
		ret = 0;
	} else {
		ret = svmbind__unbind_all(dev);
	}
	pthread_mutex_lock(&ctx->lock);
	for (pp = &ctx->devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	ctx->be->dev_detach(ctx, dev);
	pthread_mutex_unlock(&ctx->lock);
	pthread_mutex_destroy(&dev->lock);
	svmbind__book_free(&dev->book);
	free(dev);
	if (ret) {
		errno = -ret;	/* svmbind_kernel_errno() still holds the unbind's */
		return ret;
	}
	return svmbind__ok(0);
}

int svmbind_device_fd(const struct svmbind_device *dev)
{
	return dev->fd;
}

const char *svmbind_device_name(const struct svmbind_device *dev)
{
	return dev->name;
}

int svmbind_device_group(const struct svmbind_device *dev)
{
	return dev->group ? dev->group->num : -1;
}

struct svmbind_ctx *svmbind_device_ctx(const struct svmbind_device *dev)
{
	return dev->ctx;
}

uint32_t svmbind_device_flags(const struct svmbind_device *dev)
{
	return dev->flags;
}

uint32_t svmbind_device_num_regions(const struct svmbind_device *dev)
{
	return dev->num_regions;
}

uint32_t svmbind_device_num_irqs(const struct svmbind_device *dev)
{
	return dev->num_irqs;
}

static int region_info(struct svmbind_device *dev, uint32_t index, struct vfio_region_info *ri,
		       const char *what)
{
	int ret = svmbind__check_owner(dev->ctx, what);

	if (ret)
		return ret;
	if (index >= dev->num_regions) {
		pr_err("%s: region %u does not exist (the device has %u)", dev->name, index,
		       dev->num_regions);
		return FAIL(EINVAL);
	}
	*ri = (struct vfio_region_info){ .argsz = sizeof(*ri), .index = index };
	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, ri)) {
		int err = errno;

		pr_err("%s: VFIO_DEVICE_GET_REGION_INFO(%u): %s", dev->name, index, strerror(err));
		return KFAIL(err, err);
	}
	return 0;
}

int svmbind_device_region_info(struct svmbind_device *dev, uint32_t index,
			       struct svmbind_region_info *info)
{
	struct svmbind_region_info out = { 0 };
	struct vfio_region_info ri;
	int ret;

	if (!dev || !info)
		return NULL_ARG();
	if (!OPTS_VALID(info, struct svmbind_region_info))
		return FAIL(EINVAL);
	ret = region_info(dev, index, &ri, "svmbind_device_region_info");
	if (ret)
		return ret;
	out.sz = info->sz;
	out.index = ri.index;
	out.flags = ri.flags;
	out.size = ri.size;
	out.offset = ri.offset;
	memcpy(info, &out, info->sz < sizeof(out) ? info->sz : sizeof(out));
	return svmbind__ok(0);
}

#define MAX_SPARSE_AREAS 16

/* The region's sparse mmap areas, if its info carries them: how many, 0 for
 * none (map the whole region), or a failure (logged). */
static int sparse_areas(struct svmbind_device *dev, const struct vfio_region_info *ri,
			struct svmbind__area *areas)
{
	struct vfio_region_info *full;
	int n, err;

	if (!(ri->flags & VFIO_REGION_INFO_FLAG_CAPS) || ri->argsz <= sizeof(*ri))
		return 0;
	full = calloc(1, ri->argsz);
	if (!full)
		return FAIL(ENOMEM);
	*full = (struct vfio_region_info){ .argsz = ri->argsz, .index = ri->index };
	if (ioctl(dev->fd, VFIO_DEVICE_GET_REGION_INFO, full)) {
		err = errno;
		free(full);
		pr_err("%s: VFIO_DEVICE_GET_REGION_INFO(%u) with its capabilities: %s", dev->name,
		       ri->index, strerror(err));
		return KFAIL(err, err);
	}
	n = svmbind__vfio_sparse_areas(full, full->argsz < ri->argsz ? full->argsz : ri->argsz,
				       full->cap_offset, ri->size, areas, MAX_SPARSE_AREAS);
	free(full);
	if (n == -ENOENT)
		return 0;
	if (n < 0) {
		pr_err("%s: region %u: its sparse mmap capability %s", dev->name, ri->index,
		       n == -E2BIG ? "lists more areas than this library maps (16)" :
		       "is malformed (areas past the region or the info)");
		return FAIL(n == -E2BIG ? EOPNOTSUPP : EPROTO);
	}
	return n;
}

/* mmap @len bytes of the device fd at @off, at @at when not NULL. */
static void *map_part(struct svmbind_device *dev, void *at, size_t len, int prot, off_t off)
{
	return mmap(at, len, prot, MAP_SHARED | (at ? MAP_FIXED : 0), dev->fd, off);
}

int svmbind_device_map_region(struct svmbind_device *dev, uint32_t index, int prot,
			      void **addr, size_t *len)
{
	struct svmbind__area areas[MAX_SPARSE_AREAS];
	struct vfio_region_info ri;
	void *p;
	int ret, n, err;

	if (!dev || !addr || !len)
		return NULL_ARG();
	ret = region_info(dev, index, &ri, "svmbind_device_map_region");
	if (ret)
		return ret;
	if (!ri.size) {
		pr_err("%s: region %u is empty (no such BAR)", dev->name, index);
		return FAIL(EINVAL);
	}
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP)) {
		pr_err("%s: region %u cannot be mmapped; use pread/pwrite on the device fd at "
		       "offset 0x%llx", dev->name, index, (unsigned long long)ri.offset);
		return FAIL(EOPNOTSUPP);
	}
	_Static_assert(sizeof(off_t) == 8, "build with _FILE_OFFSET_BITS=64: region offsets are 64-bit");
	if (ri.size > SIZE_MAX) {
		pr_err("%s: region %u is %llu bytes: larger than this process can map", dev->name,
		       index, (unsigned long long)ri.size);
		return FAIL(EOVERFLOW);
	}
	n = sparse_areas(dev, &ri, areas);
	if (n < 0)
		return n;
	if (n == 0) {
		p = map_part(dev, NULL, (size_t)ri.size, prot, (off_t)ri.offset);
	} else {
		/* Only the areas may be mapped (the rest, e.g. an MSI-X table, must not be):
		 * reserve the whole region inaccessible, then map each area over it. */
		p = mmap(NULL, (size_t)ri.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (int i = 0; p != MAP_FAILED && i < n; i++) {
			if (!areas[i].size)
				continue;
			if (map_part(dev, (char *)p + areas[i].offset, (size_t)areas[i].size, prot,
				     (off_t)(ri.offset + areas[i].offset)) == MAP_FAILED) {
				err = errno;
				munmap(p, (size_t)ri.size);
				errno = err;
				p = MAP_FAILED;
			}
		}
		if (p != MAP_FAILED)
			pr_info("%s: region %u: mapped its %d mmap-able area(s) only; the rest of "
				"the %llu bytes is inaccessible (use pread/pwrite there)", dev->name,
				index, n, (unsigned long long)ri.size);
	}
	if (p == MAP_FAILED) {
		err = errno;
		pr_err("%s: mmap of region %u (%llu bytes%s): %s", dev->name, index,
		       (unsigned long long)ri.size, n ? ", sparse" : "", strerror(err));
		return KFAIL(err, err);
	}
	*addr = p;
	*len = (size_t)ri.size;
	return svmbind__ok(0);
}

int svmbind_device_unmap_region(struct svmbind_device *dev, void *addr, size_t len)
{
	if (munmap(addr, len)) {
		int err = errno;

		pr_err("%s: munmap: %s", dev ? dev->name : "?", strerror(err));
		return KFAIL(err, err);
	}
	return svmbind__ok(0);
}
