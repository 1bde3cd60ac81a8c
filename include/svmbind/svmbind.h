/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/**
 * @file svmbind/svmbind.h
 * @brief libsvmbind: bind process address spaces to VFIO devices (Shared Virtual Memory).
 *
 * Conventions, for every function here unless its documentation says otherwise:
 * - A function that can fail returns 0 (or a non-negative value) on success
 *   and a negative code on failure: either `-errno` exactly as the kernel (or
 *   libc) said it, or `-SVMBIND_ERR_*` where the errno alone would be ambiguous.
 *   It also sets `errno` to the positive code. svmbind_strerror() decodes both.
 * - When a library code replaces a kernel errno, svmbind_kernel_errno() still
 *   tells what the kernel said.
 * - Every failure is also described, with the device, the step, the errno and
 *   the remedy, through the logging callback (svmbind_set_log()); the library
 *   never prints unless asked and never exits.
 * - Options structs start with `size_t sz` = sizeof as the caller knows it;
 *   a NULL options pointer means defaults. Unknown non-zero trailing bytes
 *   (a newer caller on an older library) are rejected with -EINVAL.
 * - Every file descriptor the library opens is O_CLOEXEC.
 * - Handles are thread-safe: a context and its devices may be used from
 *   several threads at once.
 *
 * The three functions svm_bind_self(), svm_bind_pid() and svm_unbind() keep
 * the names of the seed's proposal; every other public name starts with
 * `svmbind_` (or `SVMBIND_`), which does not clash with LIBSVM's `svm_*`.
 */
#ifndef SVMBIND_SVMBIND_H
#define SVMBIND_SVMBIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <svmbind/version.h>
#include <svmbind/vfio_svm.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marks a symbol exported from libsvmbind.so (the library builds with hidden visibility). */
#ifndef SVMBIND_API
#define SVMBIND_API __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ */
/** @defgroup version Version
 *  @{ */

/**
 * @brief The version of the library running, as SVMBIND_VERSION_CODE(major, minor, patch).
 *
 * Compare with #SVMBIND_VERSION (the headers compiled against) to detect an
 * older library at run time. Cannot fail.
 */
SVMBIND_API uint32_t svmbind_version(void);

/** @brief The running library's version as "major.minor.patch". Cannot fail; static storage. */
SVMBIND_API const char *svmbind_version_string(void);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup errors Errors
 *  @{ */

/**
 * @brief Library error codes, above the errno range; returned negated.
 *
 * Each names a condition that a bare errno would leave ambiguous.
 */
enum svmbind_error {
	SVMBIND_ERR_BASE = 4000,		/**< first library code */
	/** The kernel has no SVM bind ioctl on this device (VFIO_DEVICE_BIND_TASK answered ENOTTY). */
	SVMBIND_ERR_NO_SVM_BIND = SVMBIND_ERR_BASE,
	/** The kernel binds only the caller's own address space: it rejects VFIO_SVM_PID. */
	SVMBIND_ERR_NO_PID_BIND,
	/** Binding another process was refused by the ptrace access check (credentials, Yama, LSM): EACCES. */
	SVMBIND_ERR_PTRACE_DENIED,
	/** No such process in the caller's pid namespace, or it has no address space (zombie, kernel thread): ESRCH. */
	SVMBIND_ERR_NO_PROCESS,
	/** The IOMMU group is not viable: a member device is on a driver that uses the kernel DMA API. */
	SVMBIND_ERR_GROUP_NOT_VIABLE,
	/** The IOMMU group is open elsewhere (another process or context holds /dev/vfio/N): EBUSY. */
	SVMBIND_ERR_GROUP_BUSY,
	/** The device is not bound to a VFIO driver (vfio-pci or a variant). */
	SVMBIND_ERR_NOT_VFIO_DRIVER,
	/** The device has no IOMMU group: no IOMMU, IOMMU disabled, or no-IOMMU mode off. */
	SVMBIND_ERR_NO_IOMMU_GROUP,
	/** Locked-memory limit (RLIMIT_MEMLOCK) reached while pinning DMA memory: ENOMEM. */
	SVMBIND_ERR_MEMLOCK,
	/** The device's PASID space is exhausted: ENOSPC. */
	SVMBIND_ERR_PASID_EXHAUSTED,
	/** svm_unbind() of a PASID this device handle never bound (no kernel call was made). */
	SVMBIND_ERR_UNKNOWN_PASID,
	/** The kernel had already released the bond: its address space exited or exec'd (ESRCH on unbind). */
	SVMBIND_ERR_BOND_GONE,
	/** VFIO is not available: /dev/vfio/vfio is missing (vfio modules not loaded). */
	SVMBIND_ERR_NO_VFIO,
	/** The VFIO API version or every IOMMU type the library speaks is unsupported by the kernel. */
	SVMBIND_ERR_NO_IOMMU_TYPE,
	SVMBIND_ERR_END			/**< one past the last library code */
};

/**
 * @brief Describe an error code: a library code or an errno, positive or negated.
 *
 * @return a static, thread-safe string; never NULL ("unknown error N" for
 *         codes it does not know, in a thread-local buffer).
 */
SVMBIND_API const char *svmbind_strerror(int err);

/**
 * @brief The errno closest in meaning to @p err (a library code maps to its
 *        classic errno, e.g. SVMBIND_ERR_PTRACE_DENIED to EACCES; an errno to itself).
 * @return a positive errno; EIO for a code it does not know. Sign of @p err is ignored.
 */
SVMBIND_API int svmbind_error_errno(int err);

/**
 * @brief What the kernel said in this thread's last failed library call.
 *
 * @return the positive errno of the kernel call that made the last failing
 *         libsvmbind call in this thread fail, or 0 if that failure was the
 *         library's own (bad argument, unknown PASID) or nothing failed yet.
 */
SVMBIND_API int svmbind_kernel_errno(void);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup logging Logging
 *  @{ */

/** @brief Message severity. */
enum svmbind_log_level {
	SVMBIND_LOG_ERROR = 0,	/**< a call failed; the message says why and what to do */
	SVMBIND_LOG_WARN = 1,	/**< something works, but not as asked */
	SVMBIND_LOG_INFO = 2,	/**< a step of note (IOMMU type chosen, dialect found) */
	SVMBIND_LOG_DEBUG = 3,	/**< every kernel call */
};

/**
 * @brief Logging callback: one complete message, without trailing newline.
 *
 * Called from the thread that made the call; must not call back into the
 * library. errno is preserved around the call.
 */
typedef void (*svmbind_log_fn)(enum svmbind_log_level level, const char *msg, void *arg);

/**
 * @brief Set the process-wide logging callback and its argument.
 *
 * The default is silent, unless the environment variable SVMBIND_LOG is
 * "error", "warn", "info" or "debug" at the first log message: then messages
 * up to that level go to stderr. Pass NULL to silence.
 * @return the previous callback. Cannot fail.
 */
SVMBIND_API svmbind_log_fn svmbind_set_log(svmbind_log_fn fn, void *arg);

/**
 * @brief Set the most verbose level passed to the callback.
 * @return the previous level. Cannot fail.
 */
SVMBIND_API enum svmbind_log_level svmbind_set_log_level(enum svmbind_log_level level);

/** @brief A ready callback that writes "libsvmbind: <level>: <msg>\n" to stderr. */
SVMBIND_API void svmbind_log_stderr(enum svmbind_log_level level, const char *msg, void *arg);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup context Context: one VFIO container
 *  @{ */

/** @brief A VFIO container and the IOMMU groups attached to it. Opaque. */
struct svmbind_ctx;

/** @brief Options for svmbind_ctx_new(). */
struct svmbind_ctx_opts {
	size_t sz;		/**< sizeof(struct svmbind_ctx_opts) */
	/** VFIO IOMMU type (VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU, VFIO_NOIOMMU_IOMMU),
	 *  or 0: the best the kernel offers, TYPE1v2 then TYPE1 (NOIOMMU for no-IOMMU groups). */
	uint32_t iommu_type;
	uint32_t flags;		/**< reserved, must be 0 */
};

/**
 * @brief Open a VFIO container.
 *
 * @param opts  NULL for defaults.
 * @param[out] ctx  the new context; untouched on failure.
 * @return 0, or
 *   - -SVMBIND_ERR_NO_VFIO: /dev/vfio/vfio is missing (modprobe vfio-pci);
 *   - -SVMBIND_ERR_NO_IOMMU_TYPE: the kernel's VFIO API version is not VFIO_API_VERSION,
 *     or the requested IOMMU type is not supported;
 *   - -EACCES, -EPERM: /dev/vfio/vfio cannot be opened (mode, device cgroup);
 *   - -EINVAL: bad arguments or options; -ENOMEM; any errno of open(2) or ioctl(2).
 */
SVMBIND_API int svmbind_ctx_new(const struct svmbind_ctx_opts *opts, struct svmbind_ctx **ctx);

/**
 * @brief Close every device still open through @p ctx (unbinding their bonds),
 *        detach the groups and close the container. NULL is allowed.
 */
SVMBIND_API void svmbind_ctx_free(struct svmbind_ctx *ctx);

/** @brief The container fd, owned by the context. @return the fd (>= 0). */
SVMBIND_API int svmbind_ctx_container_fd(const struct svmbind_ctx *ctx);

/**
 * @brief The IOMMU type in force on the container.
 * @return a VFIO_*_IOMMU value, or 0 while no group is attached (the kernel
 *         forgets the type when the last group leaves; the library sets it
 *         again on the next open).
 */
SVMBIND_API int svmbind_ctx_iommu_type(const struct svmbind_ctx *ctx);

/** @brief Direction flags for svmbind_dma_map(). 0 means both. */
enum svmbind_dma_flags {
	SVMBIND_DMA_READ = 1u << 0,	/**< the device may read the memory */
	SVMBIND_DMA_WRITE = 1u << 1,	/**< the device may write the memory */
};

/**
 * @brief Map @p size bytes at @p vaddr to IOVA @p iova for non-PASID DMA.
 *
 * Needs at least one open device (the container has no IOMMU type before).
 * Addresses and size must be multiples of the IOMMU page size.
 * @return 0, or
 *   - -SVMBIND_ERR_MEMLOCK: pinning passed RLIMIT_MEMLOCK (raise `ulimit -l`);
 *   - -EINVAL: no device open yet, misaligned, or bad flags;
 *   - -EEXIST: the IOVA range overlaps a mapping;
 *   - -ENOMEM, -EFAULT, or any errno of VFIO_IOMMU_MAP_DMA.
 */
SVMBIND_API int svmbind_dma_map(struct svmbind_ctx *ctx, void *vaddr, uint64_t iova,
				uint64_t size, uint32_t flags);

/**
 * @brief Unmap the IOVA range mapped by svmbind_dma_map().
 * @return 0, or -EINVAL (no device open, misaligned), -ENOENT (nothing was
 *         unmapped), or any errno of VFIO_IOMMU_UNMAP_DMA.
 */
SVMBIND_API int svmbind_dma_unmap(struct svmbind_ctx *ctx, uint64_t iova, uint64_t size);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup device Devices
 *  @{ */

/** @brief One VFIO device opened through a context. Opaque. */
struct svmbind_device;

/** @brief Options for svmbind_device_open(). */
struct svmbind_device_opts {
	size_t sz;		/**< sizeof(struct svmbind_device_opts) */
	uint32_t flags;		/**< reserved, must be 0 */
};

/**
 * @brief Open a PCI device through @p ctx.
 *
 * Finds the device's IOMMU group in sysfs, opens it (or reuses it if the
 * context holds it already), checks that it is viable, attaches it to the
 * container, sets the IOMMU type if the container has none, and gets the
 * device fd and its info. Every step is undone on failure.
 *
 * @param name  "0000:00:02.0", "00:02.0", or a sysfs path ending in the address.
 * @param opts  NULL for defaults.
 * @param[out] dev  the new device; untouched on failure.
 * @return 0, or
 *   - -EINVAL: @p name is not a PCI address; bad options;
 *   - -ENODEV: no such PCI device in sysfs;
 *   - -SVMBIND_ERR_NO_IOMMU_GROUP: no iommu_group link (boot with intel_iommu=on);
 *   - -SVMBIND_ERR_NOT_VFIO_DRIVER: the device is not on vfio-pci or a variant;
 *   - -SVMBIND_ERR_GROUP_BUSY: the group is open elsewhere;
 *   - -SVMBIND_ERR_GROUP_NOT_VIABLE: another member is on a kernel driver (the log names it);
 *   - -SVMBIND_ERR_NO_IOMMU_TYPE: the kernel refuses every IOMMU type tried;
 *   - -EACCES, -EPERM: the group node cannot be opened (mode, device cgroup);
 *   - -ENOMEM, or any errno of open(2), readlink(2) or the VFIO ioctls.
 */
SVMBIND_API int svmbind_device_open(struct svmbind_ctx *ctx, const char *name,
				    const struct svmbind_device_opts *opts,
				    struct svmbind_device **dev);

/**
 * @brief Unbind what is left bound, close the device fd, and release the
 *        group (detached from the container when its last device closes).
 *
 * The device is closed whatever happens. NULL is allowed.
 * @return 0, or the first error met while unbinding leftovers (a bond the
 *         kernel had already released does not count).
 */
SVMBIND_API int svmbind_device_close(struct svmbind_device *dev);

/** @brief The raw VFIO device fd, owned by the handle. @return the fd. */
SVMBIND_API int svmbind_device_fd(const struct svmbind_device *dev);
/** @brief The canonical PCI address, e.g. "0000:00:02.0". @return a string owned by the handle. */
SVMBIND_API const char *svmbind_device_name(const struct svmbind_device *dev);
/** @brief The IOMMU group number. @return the group number (>= 0). */
SVMBIND_API int svmbind_device_group(const struct svmbind_device *dev);
/** @brief The context the device was opened through. */
SVMBIND_API struct svmbind_ctx *svmbind_device_ctx(const struct svmbind_device *dev);
/** @brief VFIO_DEVICE_FLAGS_* from VFIO_DEVICE_GET_INFO. */
SVMBIND_API uint32_t svmbind_device_flags(const struct svmbind_device *dev);
/** @brief Number of regions from VFIO_DEVICE_GET_INFO. */
SVMBIND_API uint32_t svmbind_device_num_regions(const struct svmbind_device *dev);
/** @brief Number of IRQ index types from VFIO_DEVICE_GET_INFO. */
SVMBIND_API uint32_t svmbind_device_num_irqs(const struct svmbind_device *dev);

/** @brief One device region, from VFIO_DEVICE_GET_REGION_INFO. */
struct svmbind_region_info {
	size_t sz;		/**< in: sizeof(struct svmbind_region_info) */
	uint32_t index;		/**< out: region index (VFIO_PCI_BAR0_REGION_INDEX, ...) */
	uint32_t flags;		/**< out: VFIO_REGION_INFO_FLAG_* */
	uint64_t size;		/**< out: bytes; 0 for an absent BAR */
	uint64_t offset;	/**< out: offset into the device fd for pread/pwrite/mmap */
};

/**
 * @brief Describe region @p index.
 * @return 0, or -EINVAL (index out of range, bad @p info->sz), or any errno of the ioctl.
 */
SVMBIND_API int svmbind_device_region_info(struct svmbind_device *dev, uint32_t index,
					   struct svmbind_region_info *info);

/**
 * @brief mmap the whole of region @p index (a BAR) with protection @p prot.
 * @param[out] addr  the mapping. @param[out] len  its length (the region size).
 * @return 0, or -EINVAL (index out of range, empty region),
 *         -EOPNOTSUPP (the region cannot be mmapped), or any errno of mmap(2).
 */
SVMBIND_API int svmbind_device_map_region(struct svmbind_device *dev, uint32_t index, int prot,
					  void **addr, size_t *len);

/** @brief Undo svmbind_device_map_region(). @return 0, or -errno of munmap(2). */
SVMBIND_API int svmbind_device_unmap_region(struct svmbind_device *dev, void *addr, size_t len);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup svm Shared Virtual Memory bonds
 *  @{ */

/**
 * @brief Bind the caller's own address space to @p dev.
 *
 * @param[out] pasid  the PASID that tags the device's transactions for this
 *                    address space.
 * @return 0, or
 *   - -SVMBIND_ERR_NO_SVM_BIND: the kernel has no SVM bind (stock kernels: ENOTTY);
 *   - -SVMBIND_ERR_PASID_EXHAUSTED: no PASID left (ENOSPC);
 *   - -ENODEV, -EINVAL: the device or its IOMMU cannot do SVM;
 *   - -ENOMEM, -EFAULT, or another errno of VFIO_DEVICE_BIND_TASK.
 * Binding an address space that is already bound returns its PASID again
 * (one more reference; unbind once per bind).
 */
SVMBIND_API int svm_bind_self(struct svmbind_device *dev, uint32_t *pasid);

/**
 * @brief Bind the address space of process @p pid (in the caller's pid namespace).
 *
 * The caller must pass the kernel's PTRACE_MODE_ATTACH_REALCREDS check on
 * @p pid: same real uid and gid, or CAP_SYS_PTRACE; and Yama's ptrace_scope.
 * @return 0, or
 *   - -EINVAL: @p pid is not positive;
 *   - -SVMBIND_ERR_NO_SVM_BIND: the kernel has no SVM bind;
 *   - -SVMBIND_ERR_NO_PID_BIND: the kernel binds only the caller's own address space;
 *   - -SVMBIND_ERR_NO_PROCESS: no such process here, or it has no address space;
 *   - -SVMBIND_ERR_PTRACE_DENIED: the ptrace check refused (the log names Yama's scope and the remedy);
 *   - -SVMBIND_ERR_PASID_EXHAUSTED, -EINTR, -ENOMEM, -EFAULT, or another errno of the ioctl.
 */
SVMBIND_API int svm_bind_pid(struct svmbind_device *dev, pid_t pid, uint32_t *pasid);

/**
 * @brief Drop one reference on the bond named by @p pasid.
 *
 * @param flags  0, VFIO_SVM_PASID_RELEASE_FLUSHED or VFIO_SVM_PASID_RELEASE_CLEAN.
 * @return 0, or
 *   - -SVMBIND_ERR_UNKNOWN_PASID: this handle holds no bond with @p pasid (nothing was asked of the kernel);
 *   - -SVMBIND_ERR_BOND_GONE: the kernel had already released it (the process exited or exec'd);
 *     the handle forgets it too;
 *   - -EINVAL: @p flags unknown to the kernel; or another errno of VFIO_DEVICE_UNBIND_TASK
 *     (the bond is then kept).
 */
SVMBIND_API int svm_unbind(struct svmbind_device *dev, uint32_t pasid, uint32_t flags);

/** @brief One bond held by a device handle. */
struct svmbind_bond {
	size_t sz;		/**< in: sizeof(struct svmbind_bond) */
	uint32_t pasid;		/**< out: the PASID */
	uint32_t refs;		/**< out: binds not yet unbound */
	pid_t pid;		/**< out: the process bound (the caller's pid for svm_bind_self()) */
};

/** @brief Number of bonds the handle holds. @return a count (>= 0). */
SVMBIND_API size_t svmbind_device_nr_bonds(struct svmbind_device *dev);

/**
 * @brief The @p i-th bond, in the order they were made.
 * @return 0, -ENOENT past the last bond, -EINVAL for a bad @p bond->sz.
 */
SVMBIND_API int svmbind_device_bond(struct svmbind_device *dev, size_t i, struct svmbind_bond *bond);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup probe Feature probing
 *
 * Every tri-state field is 1 (yes), 0 (no) or negative: unknown, and the
 * value is the reason (-errno or -SVMBIND_ERR_*, for svmbind_strerror()).
 * Probes never leave anything behind: no bond, no open fd.
 *  @{ */

/** @brief The SVM bind UAPI a device speaks. */
enum svmbind_dialect {
	SVMBIND_DIALECT_NONE = 0,	/**< no SVM bind (every mainline kernel) */
	SVMBIND_DIALECT_SELF = 1,	/**< VFIO_DEVICE_BIND_TASK without VFIO_SVM_PID */
	SVMBIND_DIALECT_PID = 2,	/**< the seed: VFIO_SVM_PID binds another process */
};

/**
 * @brief Which dialect the kernel speaks for this device, found with calls the
 *        kernel rejects before acting, and cached in the handle.
 * @return an enum svmbind_dialect, or a negative reason when the answers fit no dialect.
 */
SVMBIND_API int svmbind_device_dialect(struct svmbind_device *dev);

/** @brief Probe flags. */
enum svmbind_probe_flags {
	SVMBIND_PROBE_NOCACHE = 1u << 0,	/**< look again instead of answering from the cache */
};

/** @brief What this machine can do. */
struct svmbind_sys_probe {
	size_t sz;			/**< in: sizeof(struct svmbind_sys_probe) */
	int vfio;			/**< /dev/vfio/vfio opens */
	int vfio_api_version;		/**< VFIO_GET_API_VERSION, or the negative reason */
	int type1;			/**< VFIO_TYPE1_IOMMU offered */
	int type1v2;			/**< VFIO_TYPE1v2_IOMMU offered */
	int noiommu_type;		/**< VFIO_NOIOMMU_IOMMU offered */
	int iommu_groups;		/**< at least one IOMMU group exists */
	int noiommu_mode;		/**< vfio's enable_unsafe_noiommu_mode is on */
	int ptrace_scope;		/**< Yama's ptrace_scope 0..3, or negative (-ENOENT: no Yama) */
	int cap_sys_ptrace;		/**< CAP_SYS_PTRACE is effective */
	int cap_ipc_lock;		/**< CAP_IPC_LOCK is effective (no memlock limit on DMA) */
	uint64_t memlock_cur;		/**< RLIMIT_MEMLOCK soft limit, UINT64_MAX for unlimited */
	uint64_t memlock_max;		/**< RLIMIT_MEMLOCK hard limit, UINT64_MAX for unlimited */
	int vtd;			/**< an Intel VT-d unit is visible in sysfs */
	int vtd_scalable;		/**< every VT-d unit can do scalable mode (ECAP.SMTS) */
	int vtd_pasid;			/**< every VT-d unit supports PASID (ECAP.PASID) */
	int vtd_prs;			/**< every VT-d unit supports page requests (ECAP.PRS) */
};

/**
 * @brief Probe the machine; the answer is cached for the process.
 * @return 0, or -EINVAL for a bad @p out->sz or flags.
 */
SVMBIND_API int svmbind_probe_system(struct svmbind_sys_probe *out, uint32_t flags);

/** @brief What a device can do. */
struct svmbind_dev_probe {
	size_t sz;			/**< in: sizeof(struct svmbind_dev_probe) */
	char name[16];			/**< canonical PCI address */
	char driver[64];		/**< bound driver, "" when unbound */
	int vfio_driver;		/**< the driver is a VFIO driver */
	int iommu_group;		/**< group number, or the negative reason */
	int group_viable;		/**< no member is on a kernel-DMA driver */
	unsigned int nr_offenders;	/**< members that make the group not viable */
	char offenders[256];		/**< "0000:03:00.1 (e1000e), ..." (truncated with "...") */
	int ats;			/**< ATS extended capability present */
	int pri;			/**< PRI extended capability present */
	int pasid;			/**< PASID extended capability present */
	int pasid_width;		/**< max PASID width in bits, or the negative reason */
	int dialect;			/**< enum svmbind_dialect, or the negative reason (needs an open device) */
};

/**
 * @brief Probe a device by name; with @p dev (an open handle for the same
 *        device, or NULL) the dialect is probed too, else it is -EBADF
 *        ("open the device to know").
 *
 * Capabilities come from sysfs config space, readable past 64 bytes only with
 * CAP_SYS_ADMIN (else -EPERM in those fields); vfio-pci's own config region
 * hides PASID, so sysfs is the source.
 * @return 0, or -EINVAL (bad name or @p out->sz), -ENODEV (no such device).
 */
SVMBIND_API int svmbind_probe_device(const char *name, struct svmbind_device *dev,
				     struct svmbind_dev_probe *out, uint32_t flags);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SVMBIND_SVMBIND_H */
