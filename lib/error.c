// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Error codes: library codes above the errno range, one strerror for both. */
#include <limits.h>
#include <stdio.h>

#include "internal.h"
#include "iommu/pasid.h"

static __thread int last_kernel_errno;

static const struct {
	const char *text;
	int errnum;	/* the classic errno it refines */
} lib_errors[SVMBIND_ERR_END - SVMBIND_ERR_BASE] = {
#define E(code, err, text) [SVMBIND_ERR_##code - SVMBIND_ERR_BASE] = { text, err }
	E(NO_SVM_BIND, ENOTTY, "the kernel has no SVM bind for this device (VFIO_DEVICE_BIND_TASK unsupported)"),
	E(NO_PID_BIND, EINVAL, "the kernel binds only the caller's own address space (no VFIO_SVM_PID)"),
	E(PTRACE_DENIED, EACCES, "binding that process was refused by the ptrace access check (credentials or Yama)"),
	E(NO_PROCESS, ESRCH, "no such process in this pid namespace, or it has no address space"),
	E(GROUP_NOT_VIABLE, EPERM, "IOMMU group not viable: a member device is on a kernel driver"),
	E(GROUP_BUSY, EBUSY, "IOMMU group is already open elsewhere"),
	E(NOT_VFIO_DRIVER, ENODEV, "device is not bound to a VFIO driver (vfio-pci)"),
	E(NO_IOMMU_GROUP, ENODEV, "device has no IOMMU group (IOMMU missing or disabled)"),
	E(MEMLOCK, ENOMEM, "locked-memory limit (RLIMIT_MEMLOCK) reached while pinning DMA memory"),
	E(PASID_EXHAUSTED, ENOSPC, "no PASID left on this device"),
	E(UNKNOWN_PASID, ENOENT, "this device handle holds no bond with that PASID"),
	E(BOND_GONE, ESRCH, "the kernel already released the bond: its process exited or exec'd"),
	E(NO_VFIO, ENODEV, "VFIO is not available (/dev/vfio/vfio missing)"),
	E(NO_IOMMU_TYPE, EINVAL, "the kernel supports no VFIO API version or IOMMU type this library speaks"),
	E(NO_IOMMUFD, ENODEV, "the kernel has no iommufd (/dev/iommu): CONFIG_IOMMUFD"),
	E(NO_VFIO_CDEV, ENODEV, "the device has no VFIO cdev (/dev/vfio/devices): CONFIG_VFIO_DEVICE_CDEV"),
	E(FORKED, EBADF, "the handle belongs to the parent process (inherited through fork); the child may only free it"),
#undef E
};

static bool is_lib_code(int err)
{
	return err >= SVMBIND_ERR_BASE && err < SVMBIND_ERR_END;
}

const char *svmbind_strerror(int err)
{
	static __thread char unknown[48];
	const char *s;

	if (err == INT_MIN)
		err = 0x7fffffff;	/* -INT_MIN does not exist; no such code either */
	if (err < 0)
		err = -err;
	if (is_lib_code(err))
		return lib_errors[err - SVMBIND_ERR_BASE].text;
	if (err >= SVMBIND_BROKER_ERR_FIRST && err <= SVMBIND_BROKER_ERR_LAST &&
	    (s = svmbind__broker_strerror(err, NULL)))
		return s;
	if ((s = svmbind__space_strerror(err, NULL)))
		return s;
	if (err == 0)
		return "success";
	s = strerrordesc_np(err);
	if (s)
		return s;
	snprintf(unknown, sizeof(unknown), "unknown error %d", err);
	return unknown;
}

int svmbind_error_errno(int err)
{
	if (err == INT_MIN)
		return EIO;
	if (err < 0)
		err = -err;
	if (is_lib_code(err))
		return lib_errors[err - SVMBIND_ERR_BASE].errnum;
	if (err >= SVMBIND_BROKER_ERR_FIRST && err <= SVMBIND_BROKER_ERR_LAST) {
		int errnum = EIO;

		if (svmbind__broker_strerror(err, &errnum))
			return errnum;
	}
	if (err >= SVMBIND_SPACE_ERR_BASE && err < SVMBIND_SPACE_ERR_END) {
		int errnum = EIO;

		svmbind__space_strerror(err, &errnum);
		return errnum;
	}
	if (err > 0 && strerrordesc_np(err))
		return err;
	return EIO;
}

int svmbind_kernel_errno(void)
{
	return last_kernel_errno;
}

int svmbind__fail(int code, int kernel_errno)
{
	if (code < 0)
		code = -code;
	last_kernel_errno = kernel_errno;
	errno = code;
	return -code;
}

int svmbind__ok(int ret)
{
	last_kernel_errno = 0;
	return ret;
}

int svmbind__null_arg(const char *fn)
{
	pr_err("%s: a handle or pointer argument is NULL; pass the object the call works on", fn);
	return FAIL(EINVAL);
}
