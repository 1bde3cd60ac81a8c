/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Test-only interface of the reference SVM provider ("svmref").
 *
 * Spoken by the kernel module in tests/vm/provider/ (a vfio-pci variant
 * driver on Debian's 6.1 kernel). Nothing here is part of libsvmbind's API.
 *
 * Module parameters, /sys/module/svmref/parameters/:
 *   dialect    rw  0 = no SVM bind (BIND/UNBIND answer -ENOTTY, as stock vfio-pci)
 *                  1 = bind self only: minsz 12, any flag on BIND is -EINVAL
 *                  2 = the seed: minsz 16, VFIO_SVM_PID binds another process
 *   pasid_min  rw  first PASID handed out (default 1)
 *   pasid_max  rw  last PASID handed out (default 1023); a full range is -ENOSPC
 *   bonds      ro  bonds alive now, across all devices
 *   unbind_refuse rw  0 = UNBIND as usual; 1 = UNBIND with flags 0 is -EINVAL
 *                  (an IOMMU that insists on a release flag); 2 = every UNBIND
 *                  is -EBUSY (the bond stays)
 *
 * Bond rules: a bond holds the target's mm. Binding an
 * mm that is already bound on the same device returns the same PASID and
 * takes another reference; UNBIND drops one. A bond dies when its mm dies
 * (task exit, or exec replacing the mm) and when the device fd is closed.
 * UNBIND takes the same minsz as BIND in its dialect (16, or 12 in dialect 1).
 * UNBIND of a PASID with no live bond is -ESRCH; unknown UNBIND flags
 * (outside RELEASE_FLUSHED|RELEASE_CLEAN) are -EINVAL.
 * The ptrace check is skipped when the target's mm is the caller's own, as
 * mm_access() does.
 */
#ifndef SVMREF_UAPI_H
#define SVMREF_UAPI_H

#include <linux/types.h>
#include <linux/vfio.h>

#define SVMREF_DRIVER_NAME	"svmref-vfio-pci"
#define SVMREF_PARAM_DIR	"/sys/module/svmref/parameters"

enum svmref_dialect {
	SVMREF_DIALECT_NONE = 0,
	SVMREF_DIALECT_SELF = 1,
	SVMREF_DIALECT_PID = 2,
};

/*
 * The device side, emulated: a "DMA" tagged with @pasid at virtual address
 * @va of the bound mm, @len bytes from or to the caller's buffer @buf.
 * QEMU has no device with a PASID capability, so the provider performs the
 * access from the kernel on the bond's mm (and only that mm).
 *
 * Returns 0 when all @len bytes moved (@len 0: 0 once the bond is found);
 * -ESRCH when no live bond has @pasid (never bound, unbound, or its mm died);
 * -EFAULT when @va..@va+@len is not mapped in the bound mm, or a write meets a
 * page mapped without write permission (a device honours page permissions),
 * or @buf is bad; -EINVAL for argsz < minsz, unknown flags or
 * @len > SVMREF_DMA_MAX; -ENOMEM; -EINTR on a fatal signal. On an error the
 * bytes before the failing page may have moved. Answers in every dialect;
 * @pad is ignored.
 */
struct svmref_dma {
	__u32 argsz;
	__u32 flags;
#define SVMREF_DMA_WRITE	(1u << 0)	/* device writes @buf into the mm */
	__u32 pasid;
	__u32 pad;
	__u64 va;
	__u64 len;
	__u64 buf;
};
#define SVMREF_DMA_MAX		(1u << 20)
#define SVMREF_DEVICE_PASID_DMA	_IO(VFIO_TYPE, VFIO_BASE + 60)

#endif /* SVMREF_UAPI_H */
