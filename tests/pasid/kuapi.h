/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The mainline UAPI the PASID tests drive by hand (rawcheck) or inspect,
 * declared here from Linux 7.3's include/uapi/linux/iommufd.h and vfio.h:
 * the build host's headers (Debian 12, Linux 6.1) have none of it. Only
 * layouts and numbers; the names carry a k_ prefix so they never clash.
 * Arrival: IOMMU_FAULT_QUEUE_ALLOC and FAULT_ID_VALID 6.11; IOMMU_IOAS_MAP_FILE
 * 6.13; IOMMU_HWPT_ALLOC_PASID, VFIO_DEVICE_ATTACH_PASID and
 * out_max_pasid_log2 in IOMMU_GET_HW_INFO 6.15.
 */
#ifndef SVMBIND_TESTS_PASID_KUAPI_H
#define SVMBIND_TESTS_PASID_KUAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define K_T ';'
/* VFIO (VFIO_TYPE ';', VFIO_BASE 100) */
#define K_VFIO_DEVICE_GET_REGION_INFO	_IO(K_T, 100 + 8)
#define K_VFIO_DEVICE_BIND_IOMMUFD	_IO(K_T, 100 + 18)
#define K_VFIO_DEVICE_ATTACH_PT		_IO(K_T, 100 + 19)
#define K_VFIO_DEVICE_DETACH_PT		_IO(K_T, 100 + 20)
#define K_VFIO_DEVICE_ATTACH_PASID	(1u << 0)
#define K_VFIO_DEVICE_DETACH_PASID	(1u << 0)

struct k_bind_iommufd { __u32 argsz, flags; __s32 iommufd; __u32 out_devid; };
struct k_attach_pt { __u32 argsz, flags, pt_id, pasid; };
struct k_detach_pt { __u32 argsz, flags, pasid; };
struct k_region_info {
	__u32 argsz, flags, index, cap_offset;
	__u64 size, offset;
};

/* iommufd */
#define K_IOMMU_DESTROY			_IO(K_T, 0x80)
#define K_IOMMU_IOAS_ALLOC		_IO(K_T, 0x81)
#define K_IOMMU_IOAS_IOVA_RANGES	_IO(K_T, 0x84)
#define K_IOMMU_IOAS_MAP		_IO(K_T, 0x85)
#define K_IOMMU_IOAS_UNMAP		_IO(K_T, 0x86)
#define K_IOMMU_HWPT_ALLOC		_IO(K_T, 0x89)
#define K_IOMMU_GET_HW_INFO		_IO(K_T, 0x8a)
#define K_IOMMU_FAULT_QUEUE_ALLOC	_IO(K_T, 0x8e)
#define K_IOMMU_IOAS_MAP_FILE		_IO(K_T, 0x8f)

#define K_MAP_FIXED_IOVA	(1u << 0)
#define K_MAP_WRITEABLE		(1u << 1)
#define K_MAP_READABLE		(1u << 2)
#define K_HWPT_FAULT_ID_VALID	(1u << 2)
#define K_HWPT_ALLOC_PASID	(1u << 3)
#define K_PGFAULT_PASID_VALID	(1u << 0)
#define K_PGFAULT_LAST_PAGE	(1u << 1)
#define K_PGFAULT_PERM_READ	(1u << 0)
#define K_PGFAULT_PERM_WRITE	(1u << 1)
#define K_PAGE_RESP_SUCCESS	0u
#define K_PAGE_RESP_INVALID	1u

struct k_destroy { __u32 size, id; };
struct k_ioas_alloc { __u32 size, flags, out_ioas_id; };
struct k_iova_range { __u64 start, last; };
struct k_iova_ranges {
	__u32 size, ioas_id, num_iovas, reserved;
	__u64 allowed_iovas, out_iova_alignment;
};
struct k_ioas_map { __u32 size, flags, ioas_id, reserved; __u64 user_va, length, iova; };
struct k_ioas_unmap { __u32 size, ioas_id; __u64 iova, length; };
struct k_ioas_map_file { __u32 size, flags, ioas_id; __s32 fd; __u64 start, length, iova; };
struct k_hwpt_alloc {
	__u32 size, flags, dev_id, pt_id, out_hwpt_id, reserved;
	__u32 data_type, data_len;
	__u64 data_uptr;
	__u32 fault_id, reserved2;
};
struct k_hw_info {
	__u32 size, flags, dev_id, data_len;
	__u64 data_uptr;
	__u32 out_data_type;
	__u8 out_max_pasid_log2, reserved[3];
	__u64 out_capabilities;
};
struct k_fault_alloc { __u32 size, flags, out_fault_id, out_fault_fd; };
struct k_pgfault {
	__u32 flags, dev_id, pasid, grpid, perm, reserved;
	__u64 addr;
	__u32 length, cookie;
};
struct k_page_response { __u32 cookie, code; };

_Static_assert(sizeof(struct k_pgfault) == 40, "struct iommu_hwpt_pgfault");
_Static_assert(sizeof(struct k_hwpt_alloc) == 48, "struct iommu_hwpt_alloc");
_Static_assert(sizeof(struct k_ioas_map_file) == 40, "struct iommu_ioas_map_file");

#endif
