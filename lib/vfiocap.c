// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * VFIO info capability chains: pure logic on the bytes an info ioctl filled.
 *
 * VFIO_DEVICE_GET_REGION_INFO and VFIO_IOMMU_GET_INFO append capabilities
 * after their fixed struct, as a chain of {id, version, next} headers whose
 * offsets count from the start of the info struct. The chain is the kernel's,
 * but the library reads it defensively: every header and payload must lie in
 * the bytes filled, and each next must point forward (no loop can form).
 */
#include <errno.h>
#include <string.h>

#include <linux/vfio.h>

#include "pure.h"

const void *svmbind__vfio_cap(const void *info, size_t len, uint32_t first, uint16_t id,
			      size_t min_size)
{
	const unsigned char *base = info;
	uint32_t off = first;

	while (off && off >= sizeof(uint32_t) && (size_t)off + sizeof(struct vfio_info_cap_header) <= len) {
		struct vfio_info_cap_header h;

		memcpy(&h, base + off, sizeof(h));
		if (h.id == id)
			return (size_t)off + min_size <= len ? base + off : NULL;
		if (h.next <= off)
			return NULL;	/* a chain that does not move forward ends here */
		off = h.next;
	}
	return NULL;
}

int svmbind__vfio_sparse_areas(const void *info, size_t len, uint32_t first, uint64_t region_size,
			       struct svmbind__area *out, uint32_t max)
{
	const unsigned char *cap;
	struct vfio_region_info_cap_sparse_mmap hdr;
	uint32_t n;

	cap = svmbind__vfio_cap(info, len, first, VFIO_REGION_INFO_CAP_SPARSE_MMAP, sizeof(hdr));
	if (!cap)
		return -ENOENT;
	memcpy(&hdr, cap, sizeof(hdr));
	n = hdr.nr_areas;
	if ((size_t)(cap - (const unsigned char *)info) + sizeof(hdr) +
	    (size_t)n * sizeof(struct vfio_region_sparse_mmap_area) > len)
		return -EBADMSG;	/* areas past the bytes filled */
	if (n > max)
		return -E2BIG;
	for (uint32_t i = 0; i < n; i++) {
		struct vfio_region_sparse_mmap_area a;

		memcpy(&a, cap + sizeof(hdr) + i * sizeof(a), sizeof(a));
		if (a.size > region_size || a.offset > region_size - a.size)
			return -EBADMSG;	/* outside the region */
		out[i] = (struct svmbind__area){ a.offset, a.size };
	}
	return (int)n;
}

int svmbind__vfio_iova_ranges(const void *info, size_t len, uint32_t first,
			      struct svmbind__iova_range *out, uint32_t max)
{
	const unsigned char *cap;
	struct vfio_iommu_type1_info_cap_iova_range hdr;
	uint32_t n;

	cap = svmbind__vfio_cap(info, len, first, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, sizeof(hdr));
	if (!cap)
		return -ENOENT;
	memcpy(&hdr, cap, sizeof(hdr));
	n = hdr.nr_iovas;
	if ((size_t)(cap - (const unsigned char *)info) + sizeof(hdr) +
	    (size_t)n * sizeof(struct vfio_iova_range) > len)
		return -EBADMSG;
	if (n > max)
		return -E2BIG;
	for (uint32_t i = 0; i < n; i++) {
		struct vfio_iova_range r;

		memcpy(&r, cap + sizeof(hdr) + i * sizeof(r), sizeof(r));
		if (r.end < r.start)
			return -EBADMSG;
		out[i] = (struct svmbind__iova_range){ r.start, r.end };
	}
	return (int)n;
}
