/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/**
 * @file svmbind/vfio_svm.h
 * @brief The seed RFC's SVM bind UAPI for VFIO devices (never merged upstream).
 *
 * A system `<linux/vfio.h>` that already defines these names wins; a
 * compile-time check then makes sure its layout is the one this library
 * speaks. The numbers are reconstructed from the RFC and its later revision.
 */
#ifndef SVMBIND_VFIO_SVM_H
#define SVMBIND_VFIO_SVM_H

#include <linux/types.h>
#include <linux/vfio.h>

/**
 * @defgroup libsvmbind_uapi The seed's SVM bind UAPI
 * @brief VFIO_DEVICE_BIND_TASK and VFIO_DEVICE_UNBIND_TASK on a VFIO device fd,
 *        as the seed RFC proposed them (never merged upstream).
 *
 * BIND takes a struct vfio_device_svm: with flags 0 it binds the caller's
 * address space, with #VFIO_SVM_PID the one of process `pid` (the caller must
 * pass PTRACE_MODE_ATTACH_REALCREDS on it), and writes the PASID back. UNBIND
 * takes the PASID and at most one of the RELEASE flags. A stock kernel answers
 * both with ENOTTY. libsvmbind's svm_bind_self(), svm_bind_pid() and
 * svm_unbind() wrap them; use these definitions only to talk to the kernel
 * directly.
 * @{
 */
#ifndef VFIO_DEVICE_BIND_TASK
/**
 * @brief Argument of VFIO_DEVICE_BIND_TASK and VFIO_DEVICE_UNBIND_TASK.
 *
 * Every field is 32 bits. The caller sets @c argsz to the size it knows.
 */
struct vfio_device_svm {
	__u32 argsz;	/**< sizeof(struct vfio_device_svm) as the caller knows it */
	__u32 flags;	/**< VFIO_SVM_* flags */
	__u32 pasid;	/**< out on BIND, in on UNBIND */
	__u32 pid;	/**< in on BIND when @c flags has VFIO_SVM_PID */
};

/** On UNBIND: the PASID may be reused once the IOMMU has seen the device's invalidation. */
#define VFIO_SVM_PASID_RELEASE_FLUSHED	(1u << 0)
/** On UNBIND: the PASID may be reused at once. */
#define VFIO_SVM_PASID_RELEASE_CLEAN	(1u << 1)
/** On BIND: bind the address space of process @c pid instead of the caller's. */
#define VFIO_SVM_PID			(1u << 2)

/** Bind a process address space to the device; the PASID is written back. */
#define VFIO_DEVICE_BIND_TASK	_IO(VFIO_TYPE, VFIO_BASE + 22)
/** Remove the bond named by @c pasid. */
#define VFIO_DEVICE_UNBIND_TASK	_IO(VFIO_TYPE, VFIO_BASE + 23)
#endif /* VFIO_DEVICE_BIND_TASK */

#ifndef VFIO_SVM_PID
#error "<linux/vfio.h> defines VFIO_DEVICE_BIND_TASK without VFIO_SVM_PID: an older dialect this header cannot describe"
#endif

/** Smallest argsz the seed's BIND accepts: the end of @c pid. */
#define VFIO_DEVICE_SVM_MINSZ		16u
/** Smallest argsz before the seed added @c pid (the "bind self only" dialect). */
#define VFIO_DEVICE_SVM_MINSZ_NOPID	12u

/** @} */

#if defined(__cplusplus)
static_assert(sizeof(struct vfio_device_svm) == 16, "vfio_device_svm layout");
static_assert(VFIO_DEVICE_BIND_TASK == 0x3B7A && VFIO_DEVICE_UNBIND_TASK == 0x3B7B, "ioctl numbers");
#else
_Static_assert(sizeof(struct vfio_device_svm) == 16, "vfio_device_svm layout");
_Static_assert(__builtin_offsetof(struct vfio_device_svm, pid) == 12, "vfio_device_svm.pid offset");
_Static_assert(VFIO_DEVICE_BIND_TASK == 0x3B7A && VFIO_DEVICE_UNBIND_TASK == 0x3B7B,
	       "VFIO_DEVICE_BIND_TASK/UNBIND_TASK numbers");
#endif

#endif /* SVMBIND_VFIO_SVM_H */
