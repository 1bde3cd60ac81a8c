// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* PASID-space codes (SVMBIND_SPACE_ERR_*, include/svmbind/space.h): text and classic errno. */
#include "pasid.h"

static const struct {
	const char *text;
	int errnum;
} space_errors[SVMBIND_SPACE_ERR_END - SVMBIND_SPACE_ERR_BASE] = {
#define E(code, err, text) [SVMBIND_SPACE_ERR_##code - SVMBIND_SPACE_ERR_BASE] = { text, err }
	E(NO_PASID_PATH, EOPNOTSUPP, "no iommufd PASID path: needs the iommufd backend and Linux 6.15 (PASID attach) or later"),
	E(DEVICE_NO_PASID, EINVAL, "the device has no usable PASID capability"),
	E(IOMMU_NO_PASID, EOPNOTSUPP, "the device's IOMMU offers no PASIDs (VT-d: intel_iommu=on,sm_on)"),
	E(NO_PAGE_REQUESTS, ENODEV, "page requests unavailable: the device has no PRI, or the IOMMU takes no page requests"),
	E(IOVA_RANGE, ERANGE, "the address lies outside the IOVA ranges the IOMMU reports for the PASID space"),
	E(NOT_MEMFD, EBADF, "the fd is not a memfd (or shmem/hugetlbfs file): its pages cannot be placed in a PASID space"),
	E(OVERLAP, EEXIST, "the range overlaps a region already in the PASID space"),
	E(BEYOND_FILE, EINVAL, "the range lies past the end of the file"),
	E(SEALS, EPERM, "the memfd's seals forbid it (it can shrink and cannot be sealed, or it is write-sealed)"),
	E(NO_REGION, ENOENT, "no such region in the PASID space"),
	E(PASID_BUSY, EBUSY, "that PASID is already in use on the device"),
#undef E
};

const char *svmbind__space_strerror(int code, int *errnum)
{
	if (code < 0)
		code = -code;
	if (code < SVMBIND_SPACE_ERR_BASE || code >= SVMBIND_SPACE_ERR_END)
		return NULL;
	if (errnum)
		*errnum = space_errors[code - SVMBIND_SPACE_ERR_BASE].errnum;
	return space_errors[code - SVMBIND_SPACE_ERR_BASE].text;
}
