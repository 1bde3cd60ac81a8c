// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The broker's side of shared memory (SHARE, UNSHARE) and of BIND on a kernel
 * without the seed's bind: the client's memfd regions, and the PASID space
 * (svmbind/space.h) that holds them at the client's own virtual addresses.
 * broker.c calls in from its request switch, its BIND, its revocation and its
 * close; nothing here touches a connection or the epoll set.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <svmbind/space.h>

#include "broker_internal.h"

#define MAX_REGIONS	256u	/* a connection's regions: its memory here is bounded */

struct sb_region {
	uint64_t addr, len, offset;
	uint32_t prot;		/* SVMBIND_DMA_READ | SVMBIND_DMA_WRITE */
	int fd;			/* our copy of the client's memfd */
};

struct sb_share {
	struct sb_region *regions;
	uint32_t nr, cap;
	uint64_t bytes;
	bool on_demand;
	pid_t pid;		/* for the log */
	struct svmbind_space *space;	/* NULL until BIND */
};

/*
 * PASID spaces where the kernel has no seed bind, the device is on iommufd,
 * and the probe does not rule them out: an IOMMU without PASIDs, a device
 * without the capability. Unknown (config space needs CAP_SYS_ADMIN) is tried
 * at BIND; svmbind_space_new() has the last word.
 */
bool sb_share_spaces(struct svmbind_device *dev)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	if (svmbind_device_dialect(dev) != SVMBIND_DIALECT_NONE ||
	    svmbind_ctx_backend(svmbind_device_ctx(dev)) != SVMBIND_BACKEND_IOMMUFD ||
	    svmbind_probe_device(svmbind_device_name(dev), dev, &p, 0))
		return false;
	if (p.pasid_space == 1 || (p.iommu_pasid_log2 > 0 && p.pasid < 0))
		return true;
	pr_info("broker: %s: no seed bind in this kernel, and no PASID spaces either (%s): every "
		"BIND will be refused", svmbind_device_name(dev), svmbind_strerror(p.pasid_space));
	return false;
}

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

/* The file must be one the space can take: a memfd (shmem, hugetlbfs), long
 * enough, sealable against shrinking. Checked at SHARE, so that a region the
 * broker accepts can be placed at BIND. */
static int check_fd(pid_t pid, int fd, const struct sbw_msg *m)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st))
		return -errno;
	seals = S_ISREG(st.st_mode) ? fcntl(fd, F_GET_SEALS) : -1;
	if (seals < 0) {
		pr_info("broker: pid %d shared an fd that is not a memfd: refused (share memory from "
			"memfd_create(MFD_ALLOW_SEALING), e.g. svmbind_client_share_alloc())", (int)pid);
		return -SVMBIND_SPACE_ERR_NOT_MEMFD;
	}
	if (m->u.share.offset + m->u.share.len > (uint64_t)st.st_size) {
		pr_info("broker: pid %d shared %llu bytes from offset %llu of a memfd of %lld: "
			"refused (the region lies past its end)", (int)pid,
			(unsigned long long)m->u.share.len, (unsigned long long)m->u.share.offset,
			(long long)st.st_size);
		return -SVMBIND_SPACE_ERR_BEYOND_FILE;
	}
	if ((m->u.share.flags & SBW_SHARE_WRITE) && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))) {
		pr_info("broker: pid %d shared a write-sealed memfd for writing: refused", (int)pid);
		return -SVMBIND_SPACE_ERR_SEALS;
	}
	if (!(seals & F_SEAL_SHRINK) && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		pr_info("broker: pid %d shared a memfd that cannot be sealed against shrinking (%s): "
			"refused (create it with MFD_ALLOW_SEALING)", (int)pid, strerror(errno));
		return -SVMBIND_SPACE_ERR_SEALS;
	}
	return 0;
}

static int share_alloc(struct sb_share **sh, pid_t pid)
{
	if (*sh)
		return 0;
	*sh = calloc(1, sizeof(**sh));
	if (!*sh)
		return -ENOMEM;
	(*sh)->pid = pid;
	return 0;
}

int sb_share_add(struct sb_share **shp, int fd, const struct sbw_msg *m, uint64_t limit, pid_t pid)
{
	uint64_t addr = m->u.share.addr, len = m->u.share.len, pg = page_size();
	struct sb_share *sh;
	struct sb_region *r;
	int ret = share_alloc(shp, pid);

	if (ret)
		goto fail;
	sh = *shp;
	if (!len || (addr | len | m->u.share.offset) % pg || addr + len < addr) {
		pr_info("broker: pid %d shared %llu bytes at %#llx (offset %llu): refused (page-aligned, "
			"not empty)", (int)pid, (unsigned long long)len, (unsigned long long)addr,
			(unsigned long long)m->u.share.offset);
		ret = -EINVAL;
		goto fail;
	}
	if (sh->nr >= MAX_REGIONS || (limit && (len > limit || sh->bytes > limit - len))) {
		pr_info("broker: pid %d would share %llu bytes in %u regions: refused (the limit is %llu "
			"bytes, %u regions)", (int)pid, (unsigned long long)(sh->bytes + len), sh->nr + 1,
			(unsigned long long)limit, MAX_REGIONS);
		ret = -SVMBIND_BROKER_ERR_SHARE_LIMIT;
		goto fail;
	}
	for (uint32_t i = 0; i < sh->nr; i++) {
		if (addr < sh->regions[i].addr + sh->regions[i].len && sh->regions[i].addr < addr + len) {
			pr_info("broker: pid %d shared %#llx..%#llx, which overlaps a region it shared "
				"before: refused", (int)pid, (unsigned long long)addr,
				(unsigned long long)(addr + len - 1));
			ret = -SVMBIND_SPACE_ERR_OVERLAP;
			goto fail;
		}
	}
	ret = check_fd(pid, fd, m);
	if (ret)
		goto fail;
	if (sh->nr == sh->cap) {
		uint32_t cap = sh->cap ? sh->cap * 2 : 4;

		r = realloc(sh->regions, cap * sizeof(*r));
		if (!r) {
			ret = -ENOMEM;
			goto fail;
		}
		sh->regions = r;
		sh->cap = cap;
	}
	r = &sh->regions[sh->nr];
	*r = (struct sb_region){ .addr = addr, .len = len, .offset = m->u.share.offset, .fd = fd,
				 .prot = (m->u.share.flags & SBW_SHARE_READ ? SVMBIND_DMA_READ : 0) |
					 (m->u.share.flags & SBW_SHARE_WRITE ? SVMBIND_DMA_WRITE : 0) };
	if (sh->space) {	/* bound already: placed now */
		ret = svmbind_space_map(sh->space, fd, r->offset, len, addr,
					r->prot | (sh->on_demand ? SVMBIND_SPACE_ON_DEMAND : 0));
		if (ret)
			goto fail;
	}
	sh->nr++;
	sh->bytes += len;
	pr_debug("broker: pid %d shares %#llx..%#llx (%llu bytes in all)", (int)pid,
		 (unsigned long long)addr, (unsigned long long)(addr + len - 1),
		 (unsigned long long)sh->bytes);
	return 0;
fail:
	close(fd);
	return ret;
}

int sb_share_remove(struct sb_share *sh, uint64_t addr, uint64_t len)
{
	uint32_t i;
	int ret;

	for (i = 0; sh && i < sh->nr; i++)
		if (sh->regions[i].addr == addr && sh->regions[i].len == len)
			break;
	if (!sh || i == sh->nr)
		return -SVMBIND_SPACE_ERR_NO_REGION;
	if (sh->space) {
		ret = svmbind_space_unmap(sh->space, addr, len);
		if (ret)
			return ret;
	}
	close(sh->regions[i].fd);
	sh->bytes -= len;
	sh->regions[i] = sh->regions[--sh->nr];
	return 0;
}

/* The space path cannot serve this device: the client hears what the seed's
 * bind would have said (no SVM bind), the owner's log hears why. */
static bool path_missing(int code)
{
	return code == -SVMBIND_SPACE_ERR_NO_PASID_PATH || code == -SVMBIND_SPACE_ERR_DEVICE_NO_PASID ||
	       code == -SVMBIND_SPACE_ERR_IOMMU_NO_PASID;
}

int sb_share_bind(struct sb_share **shp, struct svmbind_device *dev, bool on_demand, pid_t pid,
		  uint32_t *pasid)
{
	struct svmbind_space_opts so = { .sz = sizeof(so) };
	struct sb_share *sh;
	int ret = share_alloc(shp, pid);

	if (ret)
		return ret;
	sh = *shp;
	so.flags = on_demand ? SVMBIND_SPACE_PAGE_REQUESTS : 0;
	ret = svmbind_space_new(dev, &so, &sh->space);
	if (ret) {
		pr_info("broker: this kernel has no seed bind, and no PASID space can be made for pid "
			"%d either: %s", (int)pid, svmbind_strerror(ret));
		return path_missing(ret) ? -SVMBIND_ERR_NO_SVM_BIND : ret;
	}
	sh->on_demand = on_demand;
	for (uint32_t i = 0; i < sh->nr; i++) {
		const struct sb_region *r = &sh->regions[i];

		ret = svmbind_space_map(sh->space, r->fd, r->offset, r->len, r->addr,
					r->prot | (on_demand ? SVMBIND_SPACE_ON_DEMAND : 0));
		if (ret) {
			pr_info("broker: placing pid %d's region %#llx..%#llx in its PASID space: %s",
				(int)pid, (unsigned long long)r->addr,
				(unsigned long long)(r->addr + r->len - 1), svmbind_strerror(ret));
			sb_share_unbind(sh);
			return ret;
		}
	}
	*pasid = svmbind_space_pasid(sh->space);
	pr_debug("broker: pid %d: PASID %u holds its %u shared region(s), %llu bytes%s", (int)pid,
		 *pasid, sh->nr, (unsigned long long)sh->bytes, on_demand ? ", placed on demand" : "");
	return 0;
}

struct svmbind_space *sb_share_space(const struct sb_share *sh)
{
	return sh ? sh->space : NULL;
}

int sb_share_fault_fd(const struct sb_share *sh)
{
	int fd = sh && sh->space ? svmbind_space_fault_fd(sh->space) : -1;

	return fd < 0 ? -1 : fd;
}

void sb_share_dispatch(struct sb_share *sh)
{
	int ret;

	if (!sh || !sh->space)
		return;
	ret = svmbind_space_dispatch(sh->space, NULL, NULL);	/* regions only; the rest refused */
	if (ret < 0)
		pr_warn("broker: serving pid %d's page requests: %s", (int)sh->pid, svmbind_strerror(ret));
}

void sb_share_unbind(struct sb_share *sh)
{
	if (!sh || !sh->space)
		return;
	svmbind_space_free(sh->space);
	sh->space = NULL;
}

void sb_share_free(struct sb_share *sh)
{
	if (!sh)
		return;
	sb_share_unbind(sh);
	for (uint32_t i = 0; i < sh->nr; i++)
		close(sh->regions[i].fd);
	free(sh->regions);
	free(sh);
}
