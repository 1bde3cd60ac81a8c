/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The iommufd and VFIO cdev UAPI of the PASID path (lib/iommu/pasid*.c),
 * from Linux 7.3's include/uapi/linux/iommufd.h and vfio.h, declared here as
 * iommufd_uapi.h does (the build host's headers may predate them). Arrival:
 * fault queues and IOMMU_HWPT_FAULT_ID_VALID 6.11; IOMMU_IOAS_MAP_FILE 6.13;
 * IOMMU_HWPT_ALLOC_PASID and VFIO_DEVICE_ATTACH_PASID 6.15.
 */
#ifndef SVMBIND_PASID_UAPI_H
#define SVMBIND_PASID_UAPI_H

#include "iommufd_uapi.h"

struct sb_iommu_destroy {
	__u32 size;
	__u32 id;
};
#define SB_IOMMU_DESTROY _IO(SVMBIND_IOMMUFD_TYPE, 0x80)

#define SB_IOMMU_HWPT_FAULT_ID_VALID	(1u << 2)
#define SB_IOMMU_HWPT_ALLOC_PASID	(1u << 3)
struct sb_iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 reserved2;
};
#define SB_IOMMU_HWPT_ALLOC _IO(SVMBIND_IOMMUFD_TYPE, 0x89)

struct sb_iommu_fault_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__u32 out_fault_fd;
};
#define SB_IOMMU_FAULT_QUEUE_ALLOC _IO(SVMBIND_IOMMUFD_TYPE, 0x8e)

struct sb_iommu_ioas_map_file {
	__u32 size;
	__u32 flags;		/* SB_IOMMU_IOAS_MAP_* */
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define SB_IOMMU_IOAS_MAP_FILE _IO(SVMBIND_IOMMUFD_TYPE, 0x8f)

#define SB_PGFAULT_FLAGS_PASID_VALID	(1u << 0)
#define SB_PGFAULT_FLAGS_LAST_PAGE	(1u << 1)
struct sb_iommu_hwpt_pgfault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;		/* READ 1, WRITE 2, EXEC 4, PRIV 8: as enum svmbind_fault_perm */
	__u32 reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};

#define SB_PAGE_RESP_SUCCESS	0u
#define SB_PAGE_RESP_INVALID	1u
struct sb_iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code;
};

/* VFIO_DEVICE_ATTACH_IOMMUFD_PT / DETACH with a PASID (the struct grew a field in 6.15) */
#define SB_VFIO_DEVICE_ATTACH_PASID	(1u << 0)
struct sb_vfio_device_attach_pasid {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
	__u32 pasid;
};
#define SB_VFIO_DEVICE_DETACH_PASID	(1u << 0)
struct sb_vfio_device_detach_pasid {
	__u32 argsz;
	__u32 flags;
	__u32 pasid;
};
#define SB_VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)

_Static_assert(sizeof(struct sb_iommu_hwpt_pgfault) == 40, "struct iommu_hwpt_pgfault");
_Static_assert(sizeof(struct sb_iommu_hwpt_alloc) == 48, "struct iommu_hwpt_alloc");
_Static_assert(sizeof(struct sb_iommu_ioas_map_file) == 40, "struct iommu_ioas_map_file");

#endif
