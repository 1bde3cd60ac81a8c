/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Private to libsvmbind: the pure logic, no system calls, no global state.
 * pci.c, vtd.c and vfiocap.c include nothing else of the library, so tests/pure/ compiles
 * them straight into a host test run on fixture bytes, without a kernel.
 * (svmbind__parse_bdf and svmbind__driver_is_vfio are also declared in
 * internal.h, identically.)
 */
#ifndef SVMBIND_PURE_H
#define SVMBIND_PURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- PCI addresses and drivers (pci.c) ---- */

/* Canonical "DDDD:BB:DD.F" from a PCI address or a sysfs path; false if not one. */
bool svmbind__parse_bdf(const char *name, char out[16]);
/* An IOMMU group number from the basename of an iommu_group link, or -EINVAL. */
int svmbind__parse_group(const char *text);
/* vfio-pci and its variants (mlx5-vfio-pci, ...) all say so in their name. */
bool svmbind__driver_is_vfio(const char *driver);
/* A group member on @driver ("" = none) keeps the group viable: no driver, a
 * VFIO driver, or one that leaves DMA to its user (driver_managed_dma). */
bool svmbind__driver_keeps_viable(const char *driver);
/* Append "BDF (driver)" to the list in @buf (", " between entries); *used
 * counts what the whole list needs. A list that does not fit ends in "...". */
void svmbind__offender_add(char *buf, size_t len, size_t *used, const char *bdf, const char *driver);

/* ---- PCI config space (pci.c) ---- */

struct svmbind__pci_caps {
	int ats, pri, pasid;	/* 1 found, 0 not */
	int pasid_width;	/* PASID capability: max PASID width in bits */
};
/* Walk the PCIe extended capabilities of @len bytes of config space read from
 * sysfs. 0, or -EPERM when @len is what an unprivileged reader gets (64). */
int svmbind__pci_ext_caps(const uint8_t *cfg, size_t len, struct svmbind__pci_caps *out);

/* ---- VFIO info capability chains (vfiocap.c) ---- */

struct svmbind__iova_range {
	uint64_t start, last;	/* inclusive */
};
struct svmbind__area {
	uint64_t offset, size;	/* within a region */
};
/* The capability @id in the chain that starts at offset @first of the @len
 * bytes of @info, with at least @min_size bytes in @len; NULL when absent,
 * truncated, or the chain is malformed (a next that does not move forward). */
const void *svmbind__vfio_cap(const void *info, size_t len, uint32_t first, uint16_t id,
			      size_t min_size);
/* A region's sparse mmap areas (VFIO_REGION_INFO_CAP_SPARSE_MMAP) into @out:
 * how many, or -ENOENT (no such capability), -EBADMSG (areas past @len or
 * outside @region_size), -E2BIG (more than @max). */
int svmbind__vfio_sparse_areas(const void *info, size_t len, uint32_t first, uint64_t region_size,
			       struct svmbind__area *out, uint32_t max);
/* A type1 container's usable IOVA ranges (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
 * into @out: how many, or -ENOENT, -EBADMSG (past @len, or end < start), -E2BIG. */
int svmbind__vfio_iova_ranges(const void *info, size_t len, uint32_t first,
			      struct svmbind__iova_range *out, uint32_t max);

/* ---- Intel VT-d (vtd.c) ---- */

/* ECAP bits (VT-d spec, Extended Capability Register). */
#define SVMBIND__ECAP_PRS	29	/* page requests */
#define SVMBIND__ECAP_PASID	40
#define SVMBIND__ECAP_SMTS	43	/* scalable mode */

struct svmbind__vtd {
	int units;		/* units whose ECAP parsed */
	uint64_t common;	/* ECAP bits every one of them has */
};
void svmbind__vtd_init(struct svmbind__vtd *v);
/* Fold one unit's ECAP as sysfs shows it (hex, trailing newline allowed);
 * -EINVAL, and the unit is not counted, if it is not that. */
int svmbind__vtd_add_unit(struct svmbind__vtd *v, const char *ecap_text);
/* 1 if every unit has ECAP bit @bit, 0 if one lacks it or there is no unit. */
int svmbind__vtd_feature(const struct svmbind__vtd *v, unsigned int bit);

#endif
