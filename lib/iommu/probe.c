// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* What the probes learn about the paths to the IOMMU, and from iommufd about the IOMMU. */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "backend.h"
#include "iommufd_uapi.h"
#include "pasid.h"

void svmbind__probe_paths(struct svmbind_sys_probe *p)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		p->iommufd = 1;
		close(fd);
	} else {
		p->iommufd = errno == ENOENT ? 0 : -errno;
	}
	p->vfio_cdev = access("/sys/class/vfio-dev", F_OK) == 0 ? 1 : errno == ENOENT ? 0 : -errno;
}

/* IOMMU_GET_HW_INFO reports the PASID width from Linux 6.15 on; before, the
 * field is left 0, which would read as "no PASID". */
static bool kernel_reports_pasid_width(void)
{
	struct utsname u;
	unsigned int major, minor;

	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 15);
}

/* The iommufd PASID path (space.h), from what the probe knows: PASID attach
 * needs 6.15, PASIDs from the IOMMU, the device's PASID capability; page
 * requests also PRI and, on VT-d, ECAP.PRS (bit 29). svmbind_space_new()
 * remains the last word. */
static void probe_pasid_space(struct svmbind_dev_probe *p)
{
	if (p->iommu_pasid_log2 == -EOPNOTSUPP)
		p->pasid_space = -SVMBIND_SPACE_ERR_NO_PASID_PATH;
	else if (p->iommu_pasid_log2 == 0)
		p->pasid_space = -SVMBIND_SPACE_ERR_IOMMU_NO_PASID;
	else if (p->pasid == 0)
		p->pasid_space = -SVMBIND_SPACE_ERR_DEVICE_NO_PASID;
	else
		p->pasid_space = p->pasid < 0 ? p->pasid : 1;
	if (p->pasid_space != 1)
		p->pasid_page_requests = p->pasid_space;
	else if (p->pri <= 0 || (p->vtd_ecap && !(p->vtd_ecap >> 29 & 1)))
		p->pasid_page_requests = p->pri < 0 ? p->pri : -SVMBIND_SPACE_ERR_NO_PAGE_REQUESTS;
	else
		p->pasid_page_requests = 1;
}

void svmbind__probe_iommu_hw(struct svmbind_device *dev, struct svmbind_dev_probe *p)
{
	struct sb_iommu_hw_info_vtd vtd = { 0 };
	struct sb_iommu_hw_info hw = {
		.size = sizeof(hw), .data_len = sizeof(vtd), .data_uptr = (uintptr_t)&vtd,
	};
	char path[96];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", p->name);
	p->cdev = access(path, F_OK) == 0 ? 1 : errno == ENOENT ? 0 : -errno;
	p->iommu_pasid_log2 = p->pasid_space = p->pasid_page_requests = -EBADF;
	if (dev && dev->ctx->be != &svmbind__iommufd)
		p->pasid_space = p->pasid_page_requests = -SVMBIND_SPACE_ERR_NO_PASID_PATH;
	if (!dev || dev->ctx->be != &svmbind__iommufd)
		return;
	hw.dev_id = dev->devid;
	if (ioctl(dev->ctx->fd, SB_IOMMU_GET_HW_INFO, &hw)) {
		p->iommu_pasid_log2 = p->pasid_space = p->pasid_page_requests = -errno;
		return;
	}
	p->iommu_pasid_log2 = kernel_reports_pasid_width() ? hw.out_max_pasid_log2 : -EOPNOTSUPP;
	p->iommu_caps = hw.out_capabilities;
	if (hw.out_data_type == SB_IOMMU_HW_INFO_TYPE_INTEL_VTD)
		p->vtd_ecap = vtd.ecap_reg;
	probe_pasid_space(p);
}
