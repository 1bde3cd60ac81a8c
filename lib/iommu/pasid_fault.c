// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Page requests of a PASID space: the kernel's iommufd fault queue
 * (IOMMU_FAULT_QUEUE_ALLOC) delivers each PCIe page request group as
 * struct iommu_hwpt_pgfault records on a read(), whole groups only, the
 * group's cookie in every record; one struct iommu_hwpt_page_response per
 * group, written back, answers it. read() never blocks: 0 bytes when
 * nothing waits. Requests still unanswered when the space is freed are
 * answered invalid by the kernel.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pasid.h"
#include "pasid_uapi.h"

#define BATCH 32	/* records per read; a read returns whole groups that fit */
#define READS 8		/* reads per call at most: a flood cannot hold the caller */

/* Place the chunk holding @addr for an access with @perm: 0, or a reason to refuse. */
static int serve(struct svmbind_space *s, uint64_t addr, uint32_t perm)
{
	struct sp_region *r = svmbind__space_region_at(s, addr);
	uint64_t idx, off, len;
	int ret;

	if (!r) {
		pr_debug("PASID %u: page request at 0x%llx lies in no region: refused", s->pasid,
			 (unsigned long long)addr);
		return -EFAULT;
	}
	if (((perm & SVMBIND_FAULT_WRITE) && !(r->flags & SVMBIND_DMA_WRITE)) ||
	    ((perm & SVMBIND_FAULT_READ) && !(r->flags & SVMBIND_DMA_READ))) {
		pr_debug("PASID %u: page request at 0x%llx asks for %s the region does not allow",
			 s->pasid, (unsigned long long)addr,
			 perm & SVMBIND_FAULT_WRITE ? "writing" : "reading");
		return -EACCES;
	}
	if (!r->placed)		/* placed whole at map time: the device may just retry */
		return 0;
	idx = (addr - r->iova) / r->chunk;
	if (r->placed[idx / 8] & (1u << (idx % 8)))
		return 0;
	off = idx * r->chunk;
	len = r->length - off < r->chunk ? r->length - off : r->chunk;
	ret = svmbind__space_place(s, r, off, len);
	if (ret)
		return ret;
	r->placed[idx / 8] |= (uint8_t)(1u << (idx % 8));
	return 0;
}

static int respond(struct svmbind_space *s, uint32_t cookie, bool ok)
{
	struct sb_iommu_hwpt_page_response resp = {
		.cookie = cookie, .code = ok ? SB_PAGE_RESP_SUCCESS : SB_PAGE_RESP_INVALID,
	};
	int err;

	if (write(s->fault_fd, &resp, sizeof(resp)) == (ssize_t)sizeof(resp)) {
		if (ok)
			s->served++;
		else
			s->refused++;
		return 0;
	}
	err = errno;
	pr_err("PASID %u: page response (cookie %u): %s", s->pasid, cookie, strerror(err));
	return KFAIL(err, err);
}

static int decide(struct svmbind_space *s, const struct sb_iommu_hwpt_pgfault *rec,
		  svmbind_fault_fn fn, void *arg)
{
	struct svmbind_fault f = { .addr = rec->addr, .pasid = s->pasid, .perm = rec->perm };
	struct svmbind_ctx *ctx = s->dev->ctx;
	int verdict = SVMBIND_FAULT_SERVE, ret;

	if (fn)
		verdict = fn(s, &f, arg);	/* without the lock: it may map */
	if (verdict == SVMBIND_FAULT_HANDLED)
		return 0;
	if (verdict != SVMBIND_FAULT_SERVE)
		return -EPERM;
	pthread_mutex_lock(&ctx->lock);
	ret = serve(s, rec->addr & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1), rec->perm);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

int svmbind_space_dispatch(struct svmbind_space *s, svmbind_fault_fn fn, void *arg)
{
	struct sb_iommu_hwpt_pgfault rec[BATCH];
	int answered = 0, ret, err;
	bool group_ok = true;
	ssize_t got;

	if (!s)
		return NULL_ARG();
	if ((ret = svmbind__check_owner(s->dev->ctx, "svmbind_space_dispatch")))
		return ret;
	if (s->fault_fd < 0) {
		pr_err("svmbind_space_dispatch: PASID %u takes no page requests (make the space "
		       "with SVMBIND_SPACE_PAGE_REQUESTS)", s->pasid);
		return FAIL(EOPNOTSUPP);
	}
	for (int reads = 0; reads < READS; reads++) {
		got = read(s->fault_fd, rec, sizeof(rec));
		if (got < 0) {
			err = errno;
			if (err == EINTR)
				continue;	/* counts as one read */
			pr_err("PASID %u: reading page requests: %s", s->pasid, strerror(err));
			return answered ? svmbind__ok(answered) : KFAIL(err, err);
		}
		if (got == 0)
			break;
		for (size_t i = 0; i < (size_t)got / sizeof(rec[0]); i++) {
			s->requests++;
			if (decide(s, &rec[i], fn, arg))
				group_ok = false;
			if (!(rec[i].flags & SB_PGFAULT_FLAGS_LAST_PAGE))
				continue;
			ret = respond(s, rec[i].cookie, group_ok);
			if (ret)
				return answered ? svmbind__ok(answered) : ret;
			answered++;
			group_ok = true;
		}
		if ((size_t)got < sizeof(rec))
			break;
	}
	return svmbind__ok(answered);
}
