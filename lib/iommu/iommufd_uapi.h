/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The iommufd and VFIO cdev ioctls this library uses (Linux 6.6+), declared
 * here because the build host's kernel headers may predate them (Debian 12
 * ships 6.1's). Layouts and numbers are the kernel's UAPI; names carry our
 * prefix so they never clash with <linux/iommufd.h> where it exists.
 * Every struct is size-prefixed: the kernel accepts the sizes below on
 * every kernel that has the ioctl.
 */
#ifndef SVMBIND_IOMMUFD_UAPI_H
#define SVMBIND_IOMMUFD_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>

#define SVMBIND_IOMMUFD_TYPE ';'

/* /dev/iommu */
struct sb_iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define SB_IOMMU_IOAS_ALLOC _IO(SVMBIND_IOMMUFD_TYPE, 0x81)

struct sb_iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

struct sb_iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 reserved;
	__aligned_u64 allowed_iovas;	/* user pointer to sb_iommu_iova_range[num_iovas] */
	__aligned_u64 out_iova_alignment;
};
#define SB_IOMMU_IOAS_IOVA_RANGES _IO(SVMBIND_IOMMUFD_TYPE, 0x84)

#define SB_IOMMU_IOAS_MAP_FIXED_IOVA	(1u << 0)
#define SB_IOMMU_IOAS_MAP_WRITEABLE	(1u << 1)
#define SB_IOMMU_IOAS_MAP_READABLE	(1u << 2)
struct sb_iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define SB_IOMMU_IOAS_MAP _IO(SVMBIND_IOMMUFD_TYPE, 0x85)

struct sb_iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;		/* in: bytes; out: bytes unmapped */
};
#define SB_IOMMU_IOAS_UNMAP _IO(SVMBIND_IOMMUFD_TYPE, 0x86)

/* Linux 6.15 added out_max_pasid_log2 and out_capabilities at the end. */
struct sb_iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 out_data_type;
	__u8 out_max_pasid_log2;
	__u8 reserved[3];
	__aligned_u64 out_capabilities;
};
#define SB_IOMMU_GET_HW_INFO _IO(SVMBIND_IOMMUFD_TYPE, 0x8a)
#define SB_IOMMU_HW_INFO_TYPE_INTEL_VTD	1
#define SB_IOMMU_HW_CAP_DIRTY_TRACKING	(1ull << 0)
#define SB_IOMMU_HW_CAP_PCI_PASID_EXEC	(1ull << 1)
#define SB_IOMMU_HW_CAP_PCI_PASID_PRIV	(1ull << 2)

struct sb_iommu_hw_info_vtd {
	__u32 flags;
	__u32 reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

/* The VFIO device cdev (/dev/vfio/devices/vfioN) */
struct sb_vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define SB_VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)

struct sb_vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define SB_VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)

#endif
