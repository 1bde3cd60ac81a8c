// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * PASID address spaces on iommufd (include/svmbind/space.h): one IOAS, one
 * paging HWPT allocated with IOMMU_HWPT_ALLOC_PASID over it (with a fault
 * queue when page requests are wanted), and one PASID of the device attached
 * to that HWPT with VFIO_DEVICE_ATTACH_IOMMUFD_PT + VFIO_DEVICE_ATTACH_PASID.
 *
 * The kernel refuses a PASID attach while the device's RID sits on a domain
 * not allocated with IOMMU_HWPT_ALLOC_PASID (iommufd_hwpt_pasid_compat(), an
 * EINVAL): the automatic domain an IOAS attach makes is not. So the first
 * space of a device moves the RID to a PASID-capable HWPT over the context's
 * own IOAS (a replace: the RID's mappings, svmbind_dma_map()'s, stay).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "pasid.h"
#include "pasid_uapi.h"

int svmbind__iommufd_destroy(struct svmbind_ctx *ctx, uint32_t id)
{
	struct sb_iommu_destroy d = { .size = sizeof(d), .id = id };

	if (!id || !ioctl(ctx->fd, SB_IOMMU_DESTROY, &d))
		return 0;
	pr_warn("IOMMU_DESTROY of object %u: %s", id, strerror(errno));
	return -errno;
}

static int hwpt_alloc(struct svmbind_device *dev, uint32_t ioas, uint32_t fault_id, uint32_t *out)
{
	struct sb_iommu_hwpt_alloc h = {
		.size = sizeof(h), .flags = SB_IOMMU_HWPT_ALLOC_PASID, .dev_id = dev->devid,
		.pt_id = ioas, .fault_id = fault_id,
	};
	int err;

	if (fault_id)
		h.flags |= SB_IOMMU_HWPT_FAULT_ID_VALID;
	if (!ioctl(dev->ctx->fd, SB_IOMMU_HWPT_ALLOC, &h)) {
		*out = h.out_hwpt_id;
		return 0;
	}
	err = errno;
	if (err == EOPNOTSUPP) {
		pr_err("%s: IOMMU_HWPT_ALLOC with IOMMU_HWPT_ALLOC_PASID: %s: the device's IOMMU "
		       "offers no PASIDs (VT-d: boot with intel_iommu=on,sm_on; the kernel needs "
		       "6.15 or later)", dev->name, strerror(err));
		return KFAIL(SVMBIND_SPACE_ERR_IOMMU_NO_PASID, err);
	}
	pr_err("%s: IOMMU_HWPT_ALLOC (IOAS %u, PASID-capable%s): %s", dev->name, ioas,
	       fault_id ? ", with a fault queue" : "", strerror(err));
	return KFAIL(err, err);
}

static int attach_rid(struct svmbind_device *dev, uint32_t pt_id)
{
	struct sb_vfio_device_attach_iommufd_pt a = { .argsz = sizeof(a), .pt_id = pt_id };
	int err;

	if (!ioctl(dev->fd, SB_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a))
		return 0;
	err = errno;
	pr_err("%s: VFIO_DEVICE_ATTACH_IOMMUFD_PT of the RID to %u: %s", dev->name, pt_id,
	       strerror(err));
	return KFAIL(err, err);
}

/* The device's first space: its RID onto a PASID-capable HWPT of the context's IOAS. */
static int pasid_dev_init(struct svmbind_device *dev)
{
	struct svmbind__pasid_dev *pd;
	int ret;

	if (dev->pasid)
		return 0;
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return FAIL(ENOMEM);
	ret = hwpt_alloc(dev, dev->ctx->ioas_id, 0, &pd->rid_hwpt);
	if (!ret && (ret = attach_rid(dev, pd->rid_hwpt)))
		svmbind__iommufd_destroy(dev->ctx, pd->rid_hwpt);
	if (ret) {
		free(pd);
		return ret;
	}
	dev->pasid = pd;
	dev->ctx->nr_ranges = 0;	/* a new domain: the usable IOVAs may differ */
	return 0;
}

static int attach_pasid(struct svmbind_space *s)
{
	struct svmbind_device *dev = s->dev;
	struct sb_vfio_device_attach_pasid a = {
		.argsz = sizeof(a), .flags = SB_VFIO_DEVICE_ATTACH_PASID, .pt_id = s->hwpt_id,
		.pasid = s->pasid,
	};
	int err;

	if (!ioctl(dev->fd, SB_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a))
		return 0;
	err = errno;
	switch (err) {
	case EOPNOTSUPP:
		pr_err("%s: VFIO_DEVICE_ATTACH_PASID: %s: its VFIO driver attaches no PASIDs "
		       "(vfio-pci does from Linux 6.15), or the IOMMU cannot", dev->name,
		       strerror(err));
		return KFAIL(SVMBIND_SPACE_ERR_NO_PASID_PATH, err);
	case ENODEV:
		pr_err("%s: VFIO_DEVICE_ATTACH_PASID: %s: the device cannot take page requests "
		       "(no PRI capability, PRI not enabled, or the IOMMU has no page request "
		       "support, VT-d ECAP.PRS); make the space without SVMBIND_SPACE_PAGE_REQUESTS",
		       dev->name, strerror(err));
		return KFAIL(SVMBIND_SPACE_ERR_NO_PAGE_REQUESTS, err);
	case EBUSY:
	case EEXIST:
		pr_err("%s: VFIO_DEVICE_ATTACH_PASID of PASID %u: %s: that PASID is in use on the "
		       "device", dev->name, s->pasid, strerror(err));
		return KFAIL(SVMBIND_SPACE_ERR_PASID_BUSY, err);
	case EINVAL:
		pr_err("%s: VFIO_DEVICE_ATTACH_PASID of PASID %u: %s: a PASID beyond the device's "
		       "width, or a device without PASID support", dev->name, s->pasid,
		       strerror(err));
		return KFAIL(SVMBIND_SPACE_ERR_DEVICE_NO_PASID, err);
	}
	pr_err("%s: VFIO_DEVICE_ATTACH_PASID of PASID %u: %s", dev->name, s->pasid, strerror(err));
	return KFAIL(err, err);
}

static int ioas_ranges(struct svmbind_space *s)
{
	struct sb_iommu_ioas_iova_ranges q = { .size = sizeof(q), .ioas_id = s->ioas_id };
	struct sb_iommu_iova_range *r = NULL;
	int err;

	for (;;) {
		q.allowed_iovas = (uintptr_t)r;
		if (!ioctl(s->dev->ctx->fd, SB_IOMMU_IOAS_IOVA_RANGES, &q))
			break;
		err = errno;
		free(r);
		if (err != EMSGSIZE) {
			pr_err("IOMMU_IOAS_IOVA_RANGES of IOAS %u: %s", s->ioas_id, strerror(err));
			return KFAIL(err, err);
		}
		r = calloc(q.num_iovas, sizeof(*r));
		if (!r)
			return FAIL(ENOMEM);
	}
	s->ranges = calloc(q.num_iovas ? q.num_iovas : 1, sizeof(*s->ranges));
	if (!s->ranges) {
		free(r);
		return FAIL(ENOMEM);
	}
	for (uint32_t i = 0; i < q.num_iovas; i++)
		s->ranges[i] = (struct svmbind__iova_range){ r[i].start, r[i].last };
	s->nr_ranges = q.num_iovas;
	free(r);
	return 0;
}

static bool pasid_in_use(struct svmbind_device *dev, uint32_t pasid)
{
	for (struct svmbind_space *s = dev->pasid->spaces; s; s = s->next)
		if (s->pasid == pasid)
			return true;
	return false;
}

/* Undo everything a (partly made) space holds, in the kernel's order. */
static void space_teardown(struct svmbind_space *s, bool attached)
{
	struct svmbind_ctx *ctx = s->dev->ctx;

	if (attached) {
		struct sb_vfio_device_detach_pasid d = {
			.argsz = sizeof(d), .flags = SB_VFIO_DEVICE_DETACH_PASID, .pasid = s->pasid,
		};

		if (ioctl(s->dev->fd, SB_VFIO_DEVICE_DETACH_IOMMUFD_PT, &d))
			pr_warn("%s: VFIO_DEVICE_DETACH_PASID of PASID %u: %s", s->dev->name,
				s->pasid, strerror(errno));
	}
	svmbind__space_drop_regions(s);
	svmbind__iommufd_destroy(ctx, s->hwpt_id);
	svmbind__iommufd_destroy(ctx, s->ioas_id);	/* unpins what is left */
	if (s->fault_fd >= 0)
		close(s->fault_fd);
	svmbind__iommufd_destroy(ctx, s->fault_id);	/* answers pending requests invalid */
	free(s->ranges);
	free(s);
}

static int space_make(struct svmbind_space *s)
{
	struct svmbind_ctx *ctx = s->dev->ctx;
	struct sb_iommu_ioas_alloc ia = { .size = sizeof(ia) };
	int ret, err;

	if (s->flags & SVMBIND_SPACE_PAGE_REQUESTS) {
		struct sb_iommu_fault_alloc fa = { .size = sizeof(fa) };

		if (ioctl(ctx->fd, SB_IOMMU_FAULT_QUEUE_ALLOC, &fa)) {
			err = errno;
			pr_err("IOMMU_FAULT_QUEUE_ALLOC: %s%s", strerror(err), err == ENOTTY ?
			       ": the kernel has no iommufd fault queues (Linux 6.11)" : "");
			return KFAIL(err == ENOTTY ? SVMBIND_SPACE_ERR_NO_PASID_PATH : err, err);
		}
		s->fault_id = fa.out_fault_id;
		s->fault_fd = (int)fa.out_fault_fd;
	}
	if (ioctl(ctx->fd, SB_IOMMU_IOAS_ALLOC, &ia)) {
		err = errno;
		pr_err("IOMMU_IOAS_ALLOC: %s", strerror(err));
		return KFAIL(err, err);
	}
	s->ioas_id = ia.out_ioas_id;
	ret = hwpt_alloc(s->dev, s->ioas_id, s->fault_id, &s->hwpt_id);
	if (!ret)
		ret = ioas_ranges(s);
	return ret;
}

int svmbind_space_new(struct svmbind_device *dev, const struct svmbind_space_opts *opts,
		      struct svmbind_space **out)
{
	struct svmbind_space *s;
	struct svmbind_ctx *ctx;
	uint64_t chunk;
	uint32_t want;
	int ret;

	if (!dev || !out)
		return NULL_ARG();
	*out = NULL;
	ctx = dev->ctx;
	if ((ret = svmbind__check_owner(ctx, "svmbind_space_new")))
		return ret;
	if (!OPTS_VALID(opts, struct svmbind_space_opts))
		return FAIL(EINVAL);
	chunk = OPTS_GET(opts, fault_chunk, 0);
	want = OPTS_GET(opts, pasid, 0);
	if (OPTS_GET(opts, flags, 0) & ~SVMBIND_SPACE_PAGE_REQUESTS) {
		pr_err("svmbind_space_new: unknown flags 0x%x", OPTS_GET(opts, flags, 0));
		return FAIL(EINVAL);
	}
	if (!chunk)
		chunk = (uint64_t)sysconf(_SC_PAGESIZE);
	if (chunk & (chunk - 1) || chunk < (uint64_t)sysconf(_SC_PAGESIZE)) {
		pr_err("svmbind_space_new: fault_chunk %llu must be a power of two, at least a page",
		       (unsigned long long)chunk);
		return FAIL(EINVAL);
	}
	if (ctx->be != &svmbind__iommufd) {
		pr_err("%s: PASID spaces need the iommufd backend (this context uses the %s one): "
		       "make the context with SVMBIND_BACKEND_IOMMUFD on a kernel with /dev/iommu "
		       "and VFIO cdevs (CONFIG_IOMMUFD, CONFIG_VFIO_DEVICE_CDEV)", dev->name,
		       ctx->be->name);
		return FAIL(SVMBIND_SPACE_ERR_NO_PASID_PATH);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return FAIL(ENOMEM);
	s->dev = dev;
	s->fault_fd = -1;
	s->flags = OPTS_GET(opts, flags, 0);
	s->chunk = chunk;
	pthread_mutex_lock(&ctx->lock);
	ret = pasid_dev_init(dev);
	if (!ret)
		ret = space_make(s);
	if (!ret) {
		s->pasid = want ? want : 1;
		while (!want && pasid_in_use(dev, s->pasid))
			s->pasid++;
		ret = want && pasid_in_use(dev, want) ? FAIL(SVMBIND_SPACE_ERR_PASID_BUSY) : 0;
		if (ret)
			pr_err("%s: PASID %u already holds a space of this handle", dev->name, want);
		else
			ret = attach_pasid(s);
	}
	if (ret) {
		space_teardown(s, false);
		pthread_mutex_unlock(&ctx->lock);
		return ret;
	}
	s->next = dev->pasid->spaces;
	dev->pasid->spaces = s;
	pthread_mutex_unlock(&ctx->lock);
	pr_debug("%s: PASID %u: a new address space (IOAS %u, HWPT %u%s)", dev->name, s->pasid,
		 s->ioas_id, s->hwpt_id, s->fault_fd >= 0 ? ", page requests" : "");
	*out = s;
	return svmbind__ok(0);
}

static void unlink_space(struct svmbind_space *s)
{
	for (struct svmbind_space **pp = &s->dev->pasid->spaces; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

int svmbind_space_free(struct svmbind_space *s)
{
	struct svmbind_ctx *ctx;
	int ret;

	if (!s)
		return svmbind__ok(0);
	ctx = s->dev->ctx;
	if ((ret = svmbind__check_owner(ctx, "svmbind_space_free")))
		return ret;
	pthread_mutex_lock(&ctx->lock);
	unlink_space(s);
	space_teardown(s, true);
	pthread_mutex_unlock(&ctx->lock);
	return svmbind__ok(0);
}

uint32_t svmbind_space_pasid(const struct svmbind_space *s)
{
	return s ? s->pasid : 0;
}

int svmbind_space_fault_fd(const struct svmbind_space *s)
{
	if (!s)
		return NULL_ARG();
	if (s->fault_fd < 0)
		return FAIL(EOPNOTSUPP);
	return s->fault_fd;
}

int svmbind_space_stats(struct svmbind_space *s, struct svmbind_space_stats *out)
{
	struct svmbind_space_stats st = { .sz = sizeof(st) };

	if (!s || !out)
		return NULL_ARG();
	if (out->sz < sizeof(size_t) || !svmbind__opts_valid(out, out->sz, sizeof(st),
							    "struct svmbind_space_stats"))
		return FAIL(EINVAL);
	pthread_mutex_lock(&s->dev->ctx->lock);
	st.requests = s->requests;
	st.served = s->served;
	st.refused = s->refused;
	st.mapped_bytes = s->mapped_bytes;
	st.regions = s->nr_regions;
	pthread_mutex_unlock(&s->dev->ctx->lock);
	st.sz = out->sz < sizeof(st) ? out->sz : sizeof(st);
	memcpy(out, &st, st.sz);
	return svmbind__ok(0);
}

/* At device close (iommufd_dev_detach, ctx->lock held): every space, then the
 * RID back to the IOAS and its HWPT destroyed. In a forked child only memory
 * and fds are let go: the kernel objects are the parent's. */
void svmbind__pasid_dev_fini(struct svmbind_ctx *ctx, struct svmbind_device *dev)
{
	struct svmbind__pasid_dev *pd = dev->pasid;
	bool forked = svmbind__ctx_forked(ctx);

	if (!pd)
		return;
	while (pd->spaces) {
		struct svmbind_space *s = pd->spaces;

		pd->spaces = s->next;
		if (forked) {
			svmbind__space_drop_regions(s);	/* memory and fds only */
			if (s->fault_fd >= 0)
				close(s->fault_fd);
			free(s->ranges);
			free(s);
			continue;
		}
		space_teardown(s, true);
	}
	if (!forked && !attach_rid(dev, ctx->ioas_id))
		svmbind__iommufd_destroy(ctx, pd->rid_hwpt);
	free(pd);
	dev->pasid = NULL;
}
