// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The client's shared memory (process B): a memfd mapped at an address B
 * keeps, passed to the broker with SCM_RIGHTS (SHARE), so that a PASID space
 * made for B holds it at that very address. Protocol version 2.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <svmbind/space.h>

#include "broker_internal.h"

static uint64_t page_size(void)
{
	return (uint64_t)sysconf(_SC_PAGESIZE);
}

int svmbind_client_bind_kind(const struct svmbind_client *cl)
{
	return sb_client_features(cl) & SBW_F_SPACES ? SVMBIND_BIND_SPACE : SVMBIND_BIND_SEED;
}

static int share(struct svmbind_client *cl, int fd, uint64_t offset, void *addr, size_t len,
		 uint32_t flags)
{
	struct sbw_msg m = { .type = SBW_SHARE };
	uint64_t pg = page_size();

	if (fd < 0 || !addr || !len || ((uintptr_t)addr | len | offset) % pg ||
	    flags & ~(uint32_t)(SVMBIND_DMA_READ | SVMBIND_DMA_WRITE)) {
		pr_err("broker client: sharing %zu bytes at %p (fd %d, offset %llu, flags 0x%x): a "
		       "file, page-aligned address, offset and length, SVMBIND_DMA_READ/WRITE only",
		       len, addr, fd, (unsigned long long)offset, flags);
		return -EINVAL;
	}
	if (!flags)
		flags = SVMBIND_DMA_READ | SVMBIND_DMA_WRITE;
	m.u.share.addr = (uintptr_t)addr;
	m.u.share.len = len;
	m.u.share.offset = offset;
	m.u.share.flags = (flags & SVMBIND_DMA_READ ? SBW_SHARE_READ : 0) |
			  (flags & SVMBIND_DMA_WRITE ? SBW_SHARE_WRITE : 0);
	return sb_client_call(cl, &m, fd, SBW_SHARE_OK);
}

int svmbind_client_share(struct svmbind_client *cl, int fd, uint64_t offset, void *addr, size_t len,
			 uint32_t flags)
{
	if (!cl)
		return NULL_ARG();
	sb_begin();
	return sb_done(share(cl, fd, offset, addr, len, flags));
}

int svmbind_client_share_alloc(struct svmbind_client *cl, size_t len, void **addr)
{
	uint64_t pg = page_size();
	void *p;
	int fd, ret;

	if (!cl || !addr)
		return NULL_ARG();
	if (!len || len > SIZE_MAX - pg)
		return FAIL(EINVAL);
	sb_begin();
	len = (len + pg - 1) / pg * pg;
	fd = memfd_create("svmbind-share", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return sb_done(sb_syserr());
	if (ftruncate(fd, (off_t)len)) {
		ret = sb_syserr();
		close(fd);
		return sb_done(ret);
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = sb_syserr();
		close(fd);
		return sb_done(ret);
	}
	ret = share(cl, fd, 0, p, len, 0);
	close(fd);	/* the mapping keeps the memory; the broker has its own copy */
	if (ret) {
		munmap(p, len);
		return sb_done(ret);
	}
	*addr = p;
	return sb_done(0);
}

static int share_drop(struct svmbind_client *cl, void *addr, size_t len)
{
	struct sbw_msg m = { .type = SBW_UNSHARE };

	m.u.unshare.addr = (uintptr_t)addr;
	m.u.unshare.len = len;
	return sb_client_call(cl, &m, -1, SBW_UNSHARE_OK);
}

int svmbind_client_unshare(struct svmbind_client *cl, void *addr, size_t len)
{
	if (!cl || !addr)
		return NULL_ARG();
	sb_begin();
	return sb_done(share_drop(cl, addr, len));
}

int svmbind_client_share_free(struct svmbind_client *cl, void *addr, size_t len)
{
	uint64_t pg = page_size();
	int ret;

	if (!cl || !addr)
		return NULL_ARG();
	sb_begin();
	len = (size_t)((len + pg - 1) / pg * pg);
	ret = share_drop(cl, addr, len);
	if (!ret)
		munmap(addr, len);
	return sb_done(ret);
}
