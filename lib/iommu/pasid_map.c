// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Regions of a PASID space: a file (memfd) range placed at a fixed IOVA of
 * the space's IOAS with IOMMU_IOAS_MAP_FILE (pinned by the kernel), now or
 * chunk by chunk as page requests arrive (pasid_fault.c).
 *
 * What the kernel would take but must be refused here: a file that can
 * shrink. memfd_pin_folios() pins pages, and a later ftruncate() drops them
 * from the file while the device still reaches them: the device and the
 * memfd's owner would stop seeing the same bytes, silently. So every file is
 * sealed F_SEAL_SHRINK before its first page is placed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pasid.h"
#include "pasid_uapi.h"

#define PROT_FLAGS (SVMBIND_DMA_READ | SVMBIND_DMA_WRITE)

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

struct sp_region *svmbind__space_region_at(struct svmbind_space *s, uint64_t addr)
{
	for (struct sp_region *r = s->regions; r; r = r->next)
		if (addr >= r->iova && addr - r->iova < r->length)
			return r;
	return NULL;
}

/* Map [off, off + len) of region @r (offsets in the region). */
int svmbind__space_place(struct svmbind_space *s, struct sp_region *r, uint64_t off, uint64_t len)
{
	struct sb_iommu_ioas_map_file m = {
		.size = sizeof(m), .flags = SB_IOMMU_IOAS_MAP_FIXED_IOVA, .ioas_id = s->ioas_id,
		.fd = r->fd, .start = r->offset + off, .length = len, .iova = r->iova + off,
	};
	int err;

	if (r->flags & SVMBIND_DMA_READ)
		m.flags |= SB_IOMMU_IOAS_MAP_READABLE;
	if (r->flags & SVMBIND_DMA_WRITE)
		m.flags |= SB_IOMMU_IOAS_MAP_WRITEABLE;
	if (!ioctl(s->dev->ctx->fd, SB_IOMMU_IOAS_MAP_FILE, &m)) {
		r->mapped_bytes += len;
		s->mapped_bytes += len;
		return 0;
	}
	err = errno;
	if (err == ENOMEM)
		return svmbind__dma_enomem(m.iova, len, "IOMMU_IOAS_MAP_FILE");
	if (err == ENOTTY) {
		pr_err("IOMMU_IOAS_MAP_FILE: %s: the kernel cannot map files into an IOAS "
		       "(Linux 6.13)", strerror(err));
		return KFAIL(SVMBIND_SPACE_ERR_NO_PASID_PATH, err);
	}
	if (err == EINVAL) {
		pr_err("IOMMU_IOAS_MAP_FILE of %llu bytes at offset %llu (iova 0x%llx): %s: the "
		       "range must lie inside the file, which must be a memfd", (unsigned long long)len,
		       (unsigned long long)m.start, (unsigned long long)m.iova, strerror(err));
		return KFAIL(SVMBIND_SPACE_ERR_BEYOND_FILE, err);
	}
	pr_err("IOMMU_IOAS_MAP_FILE of %llu bytes at iova 0x%llx (PASID %u): %s",
	       (unsigned long long)len, (unsigned long long)m.iova, s->pasid, strerror(err));
	return KFAIL(err, err);
}

void svmbind__space_drop_regions(struct svmbind_space *s)
{
	while (s->regions) {
		struct sp_region *r = s->regions;

		s->regions = r->next;
		close(r->fd);
		free(r->placed);
		free(r);
	}
	s->nr_regions = 0;
	s->mapped_bytes = 0;
}

static int check_iova(struct svmbind_space *s, uint64_t iova, uint64_t len)
{
	char list[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < s->nr_ranges; i++) {
		if (iova >= s->ranges[i].start && iova + len - 1 <= s->ranges[i].last)
			return 0;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s0x%llx-0x%llx",
						 i ? ", " : "", (unsigned long long)s->ranges[i].start,
						 (unsigned long long)s->ranges[i].last);
	}
	pr_err("svmbind_space_map: iova 0x%llx..0x%llx lies outside what the IOMMU can translate "
	       "for PASID %u: %s; place the memory at an address inside them",
	       (unsigned long long)iova, (unsigned long long)(iova + len - 1), s->pasid, list);
	return FAIL(SVMBIND_SPACE_ERR_IOVA_RANGE);
}

/* The file: a memfd (shmem or hugetlbfs), long enough, sealed against shrinking. */
static int check_file(int fd, uint64_t offset, uint64_t len, uint32_t flags)
{
	char path[128] = "?";
	struct stat st;
	int seals, err;

	svmbind__fd_path(fd, path, sizeof(path));
	if (fstat(fd, &st)) {
		err = errno;
		pr_err("svmbind_space_map: fd %d: %s", fd, strerror(err));
		return KFAIL(err, err);
	}
	seals = S_ISREG(st.st_mode) ? fcntl(fd, F_GET_SEALS) : -1;
	if (seals < 0) {
		pr_err("svmbind_space_map: fd %d (%s) is not a memfd: only memfd_create() memory "
		       "(or a shmem or hugetlbfs file) can be placed in a PASID space; allocate the "
		       "shared buffer from a memfd and mmap it MAP_SHARED", fd, path);
		return FAIL(SVMBIND_SPACE_ERR_NOT_MEMFD);
	}
	if (offset + len > (uint64_t)st.st_size) {
		pr_err("svmbind_space_map: offset %llu + length %llu lies past the end of %s (%lld "
		       "bytes)", (unsigned long long)offset, (unsigned long long)len, path,
		       (long long)st.st_size);
		return FAIL(SVMBIND_SPACE_ERR_BEYOND_FILE);
	}
	if ((flags & SVMBIND_DMA_WRITE) && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) {
		pr_err("svmbind_space_map: %s is sealed against writes: place it SVMBIND_DMA_READ "
		       "only", path);
		return FAIL(SVMBIND_SPACE_ERR_SEALS);
	}
	if (!(seals & F_SEAL_SHRINK) && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		err = errno;
		pr_err("svmbind_space_map: sealing %s against shrinking: %s: create the memfd with "
		       "MFD_ALLOW_SEALING (and open for writing), or seal it F_SEAL_SHRINK before "
		       "sharing; a file that can shrink would leave the device pages the file no "
		       "longer has", path, strerror(err));
		return KFAIL(SVMBIND_SPACE_ERR_SEALS, err);
	}
	return 0;
}

static int check_args(struct svmbind_space *s, int fd, uint64_t offset, uint64_t len,
		      uint64_t iova, uint32_t flags)
{
	uint64_t pg = page_size();

	if (fd < 0 || flags & ~(PROT_FLAGS | SVMBIND_SPACE_ON_DEMAND)) {
		pr_err("svmbind_space_map: fd %d, flags 0x%x: a file and SVMBIND_DMA_READ, "
		       "SVMBIND_DMA_WRITE, SVMBIND_SPACE_ON_DEMAND only", fd, flags);
		return FAIL(EINVAL);
	}
	if (!len || (iova | offset | len) % pg || iova + len - 1 < iova) {
		pr_err("svmbind_space_map: iova 0x%llx, offset %llu, length %llu: all must be "
		       "multiples of the page size (%llu), the length non-zero, and the range must "
		       "not wrap", (unsigned long long)iova, (unsigned long long)offset,
		       (unsigned long long)len, (unsigned long long)pg);
		return FAIL(EINVAL);
	}
	if ((flags & SVMBIND_SPACE_ON_DEMAND) && s->fault_fd < 0) {
		pr_err("svmbind_space_map: SVMBIND_SPACE_ON_DEMAND in a space without page "
		       "requests: make it with SVMBIND_SPACE_PAGE_REQUESTS");
		return FAIL(SVMBIND_SPACE_ERR_NO_PAGE_REQUESTS);
	}
	for (struct sp_region *r = s->regions; r; r = r->next) {
		if (iova <= r->iova + r->length - 1 && r->iova <= iova + len - 1) {
			pr_err("svmbind_space_map: 0x%llx..0x%llx overlaps the region at "
			       "0x%llx..0x%llx of PASID %u: unmap that first",
			       (unsigned long long)iova, (unsigned long long)(iova + len - 1),
			       (unsigned long long)r->iova,
			       (unsigned long long)(r->iova + r->length - 1), s->pasid);
			return FAIL(SVMBIND_SPACE_ERR_OVERLAP);
		}
	}
	return check_iova(s, iova, len);
}

int svmbind_space_map(struct svmbind_space *s, int fd, uint64_t offset, uint64_t len,
		      uint64_t iova, uint32_t flags)
{
	struct svmbind_ctx *ctx;
	struct sp_region *r;
	int ret;

	if (!s)
		return NULL_ARG();
	ctx = s->dev->ctx;
	if ((ret = svmbind__check_owner(ctx, "svmbind_space_map")))
		return ret;
	if (!(flags & PROT_FLAGS))
		flags |= PROT_FLAGS;
	pthread_mutex_lock(&ctx->lock);
	ret = check_args(s, fd, offset, len, iova, flags);
	if (!ret)
		ret = check_file(fd, offset, len, flags);
	r = ret ? NULL : calloc(1, sizeof(*r));
	if (!ret && !r)
		ret = FAIL(ENOMEM);
	if (ret)
		goto out;
	*r = (struct sp_region){ .iova = iova, .length = len, .offset = offset, .flags = flags,
				 .chunk = s->chunk };
	r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (r->fd < 0) {
		ret = KFAIL(errno, errno);
		pr_err("svmbind_space_map: duplicating fd %d: %s", fd, strerror(errno));
		free(r);
		goto out;
	}
	if (flags & SVMBIND_SPACE_ON_DEMAND) {
		r->placed = calloc((len / r->chunk + 2) / 8 + 1, 1);
		ret = r->placed ? 0 : FAIL(ENOMEM);
	} else {
		ret = svmbind__space_place(s, r, 0, len);
	}
	if (ret) {
		close(r->fd);
		free(r->placed);
		free(r);
		goto out;
	}
	r->next = s->regions;
	s->regions = r;
	s->nr_regions++;
	pr_debug("PASID %u: %llu bytes of %d at iova 0x%llx%s", s->pasid, (unsigned long long)len,
		 fd, (unsigned long long)iova, flags & SVMBIND_SPACE_ON_DEMAND ? ", on demand" : "");
out:
	pthread_mutex_unlock(&ctx->lock);
	return ret ? ret : svmbind__ok(0);
}

int svmbind_space_unmap(struct svmbind_space *s, uint64_t iova, uint64_t len)
{
	struct sb_iommu_ioas_unmap u = { .size = sizeof(u), .iova = iova, .length = len };
	struct sp_region **pp, *r = NULL;
	struct svmbind_ctx *ctx;
	int ret = 0, err;

	if (!s)
		return NULL_ARG();
	ctx = s->dev->ctx;
	if ((ret = svmbind__check_owner(ctx, "svmbind_space_unmap")))
		return ret;
	pthread_mutex_lock(&ctx->lock);
	for (pp = &s->regions; *pp; pp = &(*pp)->next) {
		if ((*pp)->iova == iova && (*pp)->length == len) {
			r = *pp;
			break;
		}
	}
	if (!r) {
		pr_err("svmbind_space_unmap: PASID %u has no region of %llu bytes at 0x%llx",
		       s->pasid, (unsigned long long)len, (unsigned long long)iova);
		ret = FAIL(SVMBIND_SPACE_ERR_NO_REGION);
		goto out;
	}
	u.ioas_id = s->ioas_id;
	if (r->mapped_bytes && ioctl(ctx->fd, SB_IOMMU_IOAS_UNMAP, &u)) {
		err = errno;
		pr_err("IOMMU_IOAS_UNMAP of PASID %u's region at 0x%llx: %s", s->pasid,
		       (unsigned long long)iova, strerror(err));
		ret = KFAIL(err, err);
		goto out;
	}
	*pp = r->next;
	s->nr_regions--;
	s->mapped_bytes -= r->mapped_bytes;
	close(r->fd);
	free(r->placed);
	free(r);
out:
	pthread_mutex_unlock(&ctx->lock);
	return ret ? ret : svmbind__ok(0);
}
