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
 *   Each function lists every code it can return; "any other errno of X"
 *   means the kernel's (or libc's) answer to X, passed on unchanged.
 * - When a library code replaces a kernel errno, svmbind_kernel_errno() still
 *   tells what the kernel said.
 * - Every failure is also described, with the device, the step, the errno and
 *   the remedy, through the logging callback (svmbind_set_log()); the library
 *   never prints unless asked and never exits.
 * - Options structs start with `size_t sz` = sizeof as the caller knows it;
 *   a NULL options pointer means defaults. Unknown non-zero trailing bytes
 *   (a newer caller on an older library) are rejected with -EINVAL. The same
 *   rule holds for the structs the library fills in (svmbind_region_info,
 *   svmbind_bond, svmbind_sys_probe, svmbind_dev_probe): set `sz`, zero the
 *   rest; the library writes at most `sz` bytes. A getter that grew a member
 *   inside an older version's padding also writes back in `sz` the bytes it
 *   filled (svmbind_device_bond() since 1.2).
 * - Every file descriptor the library opens is O_CLOEXEC.
 * - Handles are thread-safe: a context and its devices may be used from
 *   several threads at once. A handle passed to a function that "cannot
 *   fail" must be valid (not NULL): those functions do not check it.
 * - Handles belong to the process that made them. After fork() the child's
 *   copies of the fds act on the parent's container and bonds, so in the
 *   child every call that would reach the kernel through an inherited handle
 *   fails with -SVMBIND_ERR_FORKED, and svmbind_ctx_free() /
 *   svmbind_device_close() only close the child's copies (nothing is
 *   unbound or detached). The getters still answer.
 *
 * The three functions svm_bind_self(), svm_bind_pid() and svm_unbind() keep
 * the names of the seed's proposal; every other public name starts with
 * `svmbind_` (or `SVMBIND_`), which does not clash with LIBSVM's `svm_*`.
 *
 * The guide (docs/guide.md) shows the calls in order; its error table maps
 * every kernel errno to the code a caller sees and the remedy.
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
/** @defgroup libsvmbind_version Version
 *  @brief Run-time version of the library; svmbind/version.h has the compile-time one.
 *  @note `#include <svmbind/svmbind.h>`; link with `-lsvmbind` (`pkg-config --libs libsvmbind`).
 *  @{ */

/**
 * @brief The version of the library running, as SVMBIND_VERSION_CODE(major, minor, patch).
 *
 * Compare with #SVMBIND_VERSION (the headers compiled against) to detect an
 * older library at run time.
 * @return the packed version. Cannot fail.
 */
SVMBIND_API uint32_t svmbind_version(void);

/**
 * @brief The running library's version as "major.minor.patch".
 * @return a string in static storage. Cannot fail.
 */
SVMBIND_API const char *svmbind_version_string(void);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup libsvmbind_errors Errors
 *  @brief Library error codes, one strerror for them and errno, and the kernel's own errno.
 *  @note `#include <svmbind/svmbind.h>`; link with `-lsvmbind` (`pkg-config --libs libsvmbind`).
 *  @{ */

/**
 * @brief Library error codes, above the errno range; returned negated.
 *
 * Each names a condition that a bare errno would leave ambiguous.
 * svmbind_error_errno() gives the classic errno each one refines (in parentheses below).
 */
enum svmbind_error {
	SVMBIND_ERR_BASE = 4000,		/**< first library code */
	/** The kernel has no SVM bind ioctl on this device (VFIO_DEVICE_BIND_TASK answered ENOTTY). (ENOTTY) */
	SVMBIND_ERR_NO_SVM_BIND = SVMBIND_ERR_BASE,
	/** The kernel binds only the caller's own address space: it rejects VFIO_SVM_PID. (EINVAL) */
	SVMBIND_ERR_NO_PID_BIND,
	/** Binding another process was refused by the ptrace access check (credentials, Yama, LSM). (EACCES) */
	SVMBIND_ERR_PTRACE_DENIED,
	/** No such process in the caller's pid namespace, or it has no address space (zombie, kernel thread). (ESRCH) */
	SVMBIND_ERR_NO_PROCESS,
	/** The IOMMU group is not viable: a member device is on a driver that uses the kernel DMA API. (EPERM) */
	SVMBIND_ERR_GROUP_NOT_VIABLE,
	/** The IOMMU group is open elsewhere (another process or context holds /dev/vfio/N). (EBUSY) */
	SVMBIND_ERR_GROUP_BUSY,
	/** The device is not bound to a VFIO driver (vfio-pci or a variant). (ENODEV) */
	SVMBIND_ERR_NOT_VFIO_DRIVER,
	/** The device has no IOMMU group: no IOMMU, IOMMU disabled, or no-IOMMU mode off. (ENODEV) */
	SVMBIND_ERR_NO_IOMMU_GROUP,
	/** Locked-memory limit (RLIMIT_MEMLOCK) reached while pinning DMA memory. (ENOMEM) */
	SVMBIND_ERR_MEMLOCK,
	/** The device's PASID space is exhausted. (ENOSPC) */
	SVMBIND_ERR_PASID_EXHAUSTED,
	/** svm_unbind() of a PASID this device handle never bound (no kernel call was made). (ENOENT) */
	SVMBIND_ERR_UNKNOWN_PASID,
	/** The kernel had already released the bond: its address space exited or exec'd (ESRCH on unbind). (ESRCH) */
	SVMBIND_ERR_BOND_GONE,
	/** VFIO is not available: /dev/vfio/vfio is missing (vfio modules not loaded). (ENODEV) */
	SVMBIND_ERR_NO_VFIO,
	/** The VFIO API version or every IOMMU type the library speaks is unsupported by the kernel. (EINVAL) */
	SVMBIND_ERR_NO_IOMMU_TYPE,
	/** The handle was inherited through fork(): its fds and bonds belong to the parent,
	 *  so the child may only free it (which closes its copies and unbinds nothing). (EBADF) */
	SVMBIND_ERR_FORKED,
	/** The iommufd path was asked for, and the kernel has no /dev/iommu (CONFIG_IOMMUFD). (ENODEV) */
	SVMBIND_ERR_NO_IOMMUFD,
	/** The iommufd path was asked for, and the device has no VFIO cdev (CONFIG_VFIO_DEVICE_CDEV). (ENODEV) */
	SVMBIND_ERR_NO_VFIO_CDEV,
	SVMBIND_ERR_END			/**< one past the last library code */
};

/**
 * @brief Describe an error code: a library code or an errno, positive or negated.
 *
 * @param err  a library code (SVMBIND_ERR_*), an errno, or 0; the sign is ignored.
 * @return a string, never NULL: static storage for the codes it knows
 *         ("success" for 0), else "unknown error N" in a thread-local buffer
 *         that the thread's next such call overwrites. Cannot fail.
 */
SVMBIND_API const char *svmbind_strerror(int err);

/**
 * @brief The errno closest in meaning to @p err (a library code maps to its
 *        classic errno, e.g. SVMBIND_ERR_PTRACE_DENIED to EACCES; an errno to itself).
 * @param err  a library code or an errno; the sign is ignored.
 * @return a positive errno; EIO for 0 and for a code it does not know. Cannot fail.
 */
SVMBIND_API int svmbind_error_errno(int err);

/**
 * @brief What the kernel said in this thread's last failed library call.
 *
 * @return the positive errno of the kernel (or libc) call that made the last
 *         libsvmbind call in this thread fail; 0 if that failure was the
 *         library's own decision (bad argument, unknown PASID, a sysfs check),
 *         if the last call that can fail succeeded (success clears it), or if
 *         nothing failed yet. Functions documented as "cannot fail" leave it
 *         alone. Cannot fail.
 */
SVMBIND_API int svmbind_kernel_errno(void);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup libsvmbind_logging Logging
 *  @brief Where the library's messages go: nowhere, unless asked.
 *  @note `#include <svmbind/svmbind.h>`; link with `-lsvmbind` (`pkg-config --libs libsvmbind`).
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
 * Called from the thread that made the library call, with no lock of the
 * logging machinery held, but possibly while that call holds a lock of the
 * context or device it works on: so a callback must not call libsvmbind
 * functions on that context or its devices (it would deadlock). It may call
 * svmbind_strerror(), svmbind_error_errno(), svmbind_kernel_errno(),
 * svmbind_set_log_level() and svmbind_set_log() (which then does not wait,
 * see there). Messages that library calls made by the callback itself would
 * log are dropped. errno is preserved around the call.
 * @param level  the message's severity.
 * @param msg    the message; valid only during the call.
 * @param arg    the argument given to svmbind_set_log().
 */
typedef void (*svmbind_log_fn)(enum svmbind_log_level level, const char *msg, void *arg);

/**
 * @brief Set the process-wide logging callback and its argument.
 *
 * The default is silent, unless the environment variable SVMBIND_LOG is
 * "error", "warn", "info" or "debug" (any case) at the first log message and
 * no callback was set before: then messages up to that level go to stderr
 * through svmbind_log_stderr(). Calling this function, even with NULL, turns
 * the environment variable off for good.
 *
 * Returns only once every call of the previous callback that was already
 * running (in any thread) has returned, so the caller may then free the old
 * @p arg. Called from inside a callback it does not wait (it cannot wait for
 * itself): the old callback may then still be running in other threads.
 * @param fn   the callback, or NULL to silence the library.
 * @param arg  passed to every call of @p fn.
 * @return the previous callback (NULL if there was none). Cannot fail.
 */
SVMBIND_API svmbind_log_fn svmbind_set_log(svmbind_log_fn fn, void *arg);

/**
 * @brief Set the most verbose level passed to the callback.
 *
 * The default is #SVMBIND_LOG_INFO (SVMBIND_LOG overrides it when it turns
 * stderr logging on).
 * @param level  the most verbose level to pass on.
 * @return the previous level. Cannot fail.
 */
SVMBIND_API enum svmbind_log_level svmbind_set_log_level(enum svmbind_log_level level);

/**
 * @brief A ready callback that writes "libsvmbind: LEVEL: MESSAGE" and a newline to stderr.
 * @param level  the message's severity.
 * @param msg    the message.
 * @param arg    unused.
 */
SVMBIND_API void svmbind_log_stderr(enum svmbind_log_level level, const char *msg, void *arg);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup libsvmbind_context Context: one VFIO container
 *  @brief A VFIO container, its IOMMU groups, and IOVA mappings for DMA without a PASID.
 *  @note `#include <svmbind/svmbind.h>`; link with `-lsvmbind` (`pkg-config --libs libsvmbind`).
 *  @{ */

/** @brief A VFIO container and the IOMMU groups attached to it. Opaque. */
struct svmbind_ctx;

/** @brief How a context reaches the IOMMU. @since 1.1 */
enum svmbind_backend {
	/** iommufd where the kernel has it (/dev/iommu) and this process may use it,
	 *  else the legacy container (see svmbind_ctx_new()). */
	SVMBIND_BACKEND_AUTO = 0,
	/** The legacy VFIO container (/dev/vfio/vfio) and group nodes (/dev/vfio/N):
	 *  every kernel with VFIO_CONTAINER, and the only path for no-IOMMU groups. */
	SVMBIND_BACKEND_LEGACY = 1,
	/** iommufd (/dev/iommu) and VFIO device cdevs (/dev/vfio/devices/vfioN):
	 *  Linux 6.6+ with CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV. */
	SVMBIND_BACKEND_IOMMUFD = 2,
};

/** @brief Flags for svmbind_ctx_opts. */
enum svmbind_ctx_flags {
	/** Take over svmbind_ctx_opts::fd instead of opening the backend's node. @since 1.1 */
	SVMBIND_CTX_ADOPT_FD = 1u << 0,
};

/** @brief Options for svmbind_ctx_new(). */
struct svmbind_ctx_opts {
	size_t sz;		/**< sizeof(struct svmbind_ctx_opts) */
	/** VFIO IOMMU type (VFIO_TYPE1v2_IOMMU, VFIO_TYPE1_IOMMU, VFIO_NOIOMMU_IOMMU),
	 *  or 0: the best the kernel offers, TYPE1v2 then TYPE1 (NOIOMMU for no-IOMMU groups).
	 *  Legacy container only: a non-zero type makes SVMBIND_BACKEND_AUTO choose it. */
	uint32_t iommu_type;
	uint32_t flags;		/**< 0, or #SVMBIND_CTX_ADOPT_FD */
	/** enum svmbind_backend; 0 is #SVMBIND_BACKEND_AUTO. @since 1.1 */
	uint32_t backend;
	/** With #SVMBIND_CTX_ADOPT_FD: an open /dev/vfio/vfio (legacy) or /dev/iommu
	 *  (iommufd) fd, e.g. passed by a privileged launcher. The context owns it from
	 *  the call on, even if the call fails. Without the flag it must be 0. @since 1.1 */
	int fd;
};

/**
 * @brief Open a VFIO container.
 *
 * With #SVMBIND_BACKEND_AUTO, the context uses iommufd when /dev/iommu
 * exists and opens (and no `iommu_type` is asked for), else the legacy
 * container. An unprivileged owner is usually given a group node only
 * (/dev/iommu is mode 0660 root, a cdev 0600 root): so when /dev/iommu
 * cannot be opened (EACCES, EPERM), or the first device's cdev cannot be
 * (its mode, or EACCES/EPERM at open) while its group node /dev/vfio/N can,
 * the context moves to the legacy container, and says so at
 * #SVMBIND_LOG_INFO. svmbind_ctx_backend() tells the path taken; it is
 * settled once the first device is open.
 * @param opts  NULL for defaults.
 * @param[out] ctx  the new context; untouched on failure.
 * @return 0, or
 *   - -EINVAL: @p ctx is NULL; @p opts has a bad `sz`, non-zero unknown bytes,
 *     unknown `flags` or `backend`, an `iommu_type` other than 0 and the three
 *     above, an `iommu_type` with #SVMBIND_BACKEND_IOMMUFD, or a non-zero `fd`
 *     without #SVMBIND_CTX_ADOPT_FD;
 *   - -EBADF: #SVMBIND_CTX_ADOPT_FD with a negative `fd`, or with
 *     #SVMBIND_BACKEND_AUTO an `fd` that is neither /dev/vfio/vfio nor /dev/iommu;
 *   - legacy: -SVMBIND_ERR_NO_VFIO: /dev/vfio/vfio is missing (modprobe vfio-pci);
 *   - iommufd: -SVMBIND_ERR_NO_IOMMUFD: /dev/iommu is missing, or the fd given
 *     answers no iommufd ioctl;
 *   - -EACCES, -EPERM: the node cannot be opened (mode, device cgroup);
 *   - any other errno of open(2) on the node (-ENODEV, -EMFILE, -ENFILE, ...);
 *   - legacy: -SVMBIND_ERR_NO_IOMMU_TYPE: the kernel's VFIO API version is not
 *     VFIO_API_VERSION, or it does not offer the requested `iommu_type`
 *     (VFIO_CHECK_EXTENSION answered 0); these are asked here only for an
 *     adopted fd or an explicit `iommu_type` (else when the IOMMU type is set);
 *   - any errno of VFIO_GET_API_VERSION or VFIO_CHECK_EXTENSION that failed;
 *   - iommufd: any errno of IOMMU_IOAS_ALLOC;
 *   - -ENOMEM.
 *
 * Legacy: the IOMMU type is set only when the first device is opened (the
 * kernel needs a group attached first). iommufd: one IOAS is allocated here
 * and every device of the context is attached to it.
 */
SVMBIND_API int svmbind_ctx_new(const struct svmbind_ctx_opts *opts, struct svmbind_ctx **ctx);

/**
 * @brief Close every device still open through @p ctx (unbinding their bonds),
 *        detach the groups and close the container.
 *
 * Errors met on the way are logged, not returned: everything is released.
 * In a forked child (the context was made by its parent) it only closes the
 * child's copies of the fds and frees the memory: the parent's bonds and
 * container are left as they are.
 * @param ctx  the context, or NULL (nothing happens).
 */
SVMBIND_API void svmbind_ctx_free(struct svmbind_ctx *ctx);

/**
 * @brief Make a context inherited through fork() this process's own.
 *
 * After fork() a context and its devices belong to the parent: in the child
 * they fail with -SVMBIND_ERR_FORKED (see the conventions). A child that
 * takes over from its parent, as after daemon(3) or a fork that drops
 * privileges, adopts the context: from then on it binds, unbinds and closes
 * through it, and the parent must no longer use its copy (both copies act on
 * the same kernel objects). The parent's own bonds (svm_bind_self()) become
 * bonds of another process: kept while the parent lives, forgotten once it
 * has exited (the kernel's bond went with its address space).
 * @since 1.1
 * @param ctx  the context.
 * @return 0 (also when @p ctx was this process's already), or -EINVAL: @p ctx is NULL.
 */
SVMBIND_API int svmbind_ctx_adopt(struct svmbind_ctx *ctx);

/**
 * @brief The container fd, owned by the context (do not close it).
 * @param ctx  the context.
 * @return the fd (>= 0); -1 on an iommufd context, which has no container.
 *         Cannot fail.
 */
SVMBIND_API int svmbind_ctx_container_fd(const struct svmbind_ctx *ctx);

/**
 * @brief The context's own fd: the container (legacy) or /dev/iommu (iommufd).
 *
 * Ask after the first device is open: an automatic context may move to the
 * container then (see svmbind_ctx_new()).
 * @since 1.1
 * @param ctx  the context.
 * @return the fd (>= 0), owned by the context. Cannot fail.
 */
SVMBIND_API int svmbind_ctx_fd(const struct svmbind_ctx *ctx);

/**
 * @brief Which path the context took to the IOMMU.
 *
 * With #SVMBIND_BACKEND_AUTO it may change from iommufd to legacy at the
 * first svmbind_device_open() (see svmbind_ctx_new()), never after.
 * @since 1.1
 * @param ctx  the context.
 * @return #SVMBIND_BACKEND_LEGACY or #SVMBIND_BACKEND_IOMMUFD. Cannot fail.
 */
SVMBIND_API int svmbind_ctx_backend(const struct svmbind_ctx *ctx);

/**
 * @brief The IOMMU type in force on the container.
 * @param ctx  the context.
 * @return a VFIO_*_IOMMU value, or 0 while no group is attached (the kernel
 *         forgets the type when the last group leaves; the library sets it
 *         again on the next open); always 0 on an iommufd context, which has
 *         no VFIO IOMMU type. Cannot fail.
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
 * Needs at least one open device (the container has no IOMMU type before,
 * the IOAS no device to narrow its ranges). Addresses and size must be
 * multiples of the IOMMU page size; on iommufd the range must also lie in
 * the IOVA ranges the IOAS (iommufd) or the container (legacy, Linux 5.4+)
 * reports (the library checks, and lists them in the log when it does not). The memory is
 * pinned and counts against RLIMIT_MEMLOCK unless the caller has CAP_IPC_LOCK.
 * @param ctx    the context.
 * @param vaddr  start of the memory in this process.
 * @param iova   the address the device will use.
 * @param size   bytes to map.
 * @param flags  SVMBIND_DMA_READ and/or SVMBIND_DMA_WRITE; 0 means both.
 * @return 0, or
 *   - -EINVAL: @p ctx is NULL, unknown @p flags, or no device open yet (library);
 *     from the kernel: misaligned or zero @p size, an IOVA range that wraps
 *     or lies outside the IOMMU's usable ranges;
 *   - -SVMBIND_ERR_MEMLOCK: the kernel said ENOMEM while RLIMIT_MEMLOCK is finite
 *     and the caller lacks CAP_IPC_LOCK (raise `ulimit -l`); the kernel errno stays ENOMEM;
 *   - -ENOMEM: the kernel said ENOMEM with no memlock limit in force;
 *   - -EEXIST: the IOVA range overlaps a mapping;
 *   - -ENOSPC: the container holds vfio_iommu_type1's dma_entry_limit mappings already;
 *   - -EFAULT: @p vaddr is not mapped in this process;
 *   - -EOPNOTSUPP: a no-IOMMU container (VFIO_NOIOMMU_IOMMU): the device
 *     reaches physical addresses, nothing is translated (library);
 *   - -SVMBIND_ERR_FORKED: @p ctx was inherited through fork();
 *   - -EPROTO: legacy: the container's IOVA range capability is malformed;
 *   - any other errno of VFIO_IOMMU_MAP_DMA or VFIO_IOMMU_GET_INFO, or on
 *     iommufd of IOMMU_IOAS_MAP.
 */
SVMBIND_API int svmbind_dma_map(struct svmbind_ctx *ctx, void *vaddr, uint64_t iova,
				uint64_t size, uint32_t flags);

/**
 * @brief Unmap the IOVA range mapped by svmbind_dma_map().
 * @param ctx   the context.
 * @param iova  start of the range.
 * @param size  bytes; the range must cover whole mappings.
 * @return 0, or
 *   - -EINVAL: @p ctx is NULL or no device open yet (library); from the
 *     kernel: misaligned, or the range splits a mapping;
 *   - -ENOENT: the kernel unmapped nothing (no mapping in the range);
 *   - -EOPNOTSUPP: a no-IOMMU container (library);
 *   - -SVMBIND_ERR_FORKED: @p ctx was inherited through fork();
 *   - any other errno of VFIO_IOMMU_UNMAP_DMA, or on iommufd of IOMMU_IOAS_UNMAP.
 */
SVMBIND_API int svmbind_dma_unmap(struct svmbind_ctx *ctx, uint64_t iova, uint64_t size);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup libsvmbind_device Devices
 *  @brief One VFIO device: open by PCI address, info, regions, BAR mmap.
 *  @note `#include <svmbind/svmbind.h>`; link with `-lsvmbind` (`pkg-config --libs libsvmbind`).
 *  @{ */

/** @brief One VFIO device opened through a context. Opaque. */
struct svmbind_device;

/** @brief Options for svmbind_device_open(). */
struct svmbind_device_opts {
	size_t sz;		/**< sizeof(struct svmbind_device_opts) */
	uint32_t flags;		/**< reserved, must be 0 */
	uint32_t reserved;	/**< explicit padding, must be 0 (a future field may use it) */
};

/**
 * @brief Open a PCI device through @p ctx.
 *
 * Legacy: finds the device's IOMMU group in sysfs, opens it (or reuses it if
 * the context holds it already), checks that it is viable, attaches it to the
 * container, sets the IOMMU type if the container has none, and gets the
 * device fd. iommufd: finds the device's cdev in sysfs (vfio-dev/), opens it,
 * binds it to the iommufd and attaches it to the context's IOAS. Then the
 * device's info. Every step is undone on failure; sysfs is read for the
 * diagnosis only when a step failed.
 *
 * @param ctx   the context.
 * @param name  "0000:00:02.0", "00:02.0", or a sysfs path ending in the address.
 * @param opts  NULL for defaults.
 * @param[out] dev  the new device; untouched on failure.
 * @return 0, or
 *   - -EINVAL: @p ctx or @p dev is NULL; @p name is not a PCI address; bad
 *     options (`sz`, unknown bytes, non-zero `flags` or `reserved`);
 *   - -SVMBIND_ERR_FORKED: @p ctx was inherited through fork();
 *   - -ENODEV: no such PCI device in sysfs;
 *   - -SVMBIND_ERR_NO_IOMMU_GROUP: no iommu_group link (boot with intel_iommu=on);
 *   - -SVMBIND_ERR_NOT_VFIO_DRIVER: the sysfs driver is not vfio-pci or a variant
 *     (any driver whose name contains "vfio"), or VFIO_GROUP_GET_DEVICE_FD
 *     answered ENODEV (kernel errno ENODEV);
 *   - -ENOENT: neither /dev/vfio/N nor /dev/vfio/noiommu-N exists (no devtmpfs
 *     or udev; in a container, the node was not passed in);
 *   - -SVMBIND_ERR_GROUP_BUSY: the group is open elsewhere (kernel errno EBUSY);
 *   - -EACCES, -EPERM: the group node cannot be opened (mode, device cgroup);
 *   - -SVMBIND_ERR_GROUP_NOT_VIABLE: VFIO_GROUP_GET_STATUS says not viable (another
 *     member is on a kernel driver: the log names it), or VFIO_GROUP_SET_CONTAINER
 *     answered EPERM for an IOMMU group (kernel errno EPERM);
 *   - -EPERM: VFIO_GROUP_SET_CONTAINER refused a no-IOMMU group (no CAP_SYS_RAWIO,
 *     or the context already holds IOMMU groups);
 *   - -SVMBIND_ERR_NO_IOMMU_TYPE: with `iommu_type` 0 on a group with an IOMMU,
 *     the kernel refused both TYPE1v2 and TYPE1 (the kernel errno is the last
 *     VFIO_SET_IOMMU's, or 0 if neither was offered);
 *   - with an explicit `iommu_type`, or for a no-IOMMU group: the errno of
 *     VFIO_SET_IOMMU itself (e.g. -EINVAL, -ENODEV, -EBUSY);
 *   - -ENAMETOOLONG, -EINVAL (library): a sysfs link whose target cannot be parsed;
 *   - iommufd: -SVMBIND_ERR_NO_VFIO_CDEV: the device, on a VFIO driver, has no
 *     cdev (a kernel without CONFIG_VFIO_DEVICE_CDEV, or a no-IOMMU device);
 *     -SVMBIND_ERR_GROUP_BUSY: the device is open already through another fd
 *     (VFIO_DEVICE_BIND_IOMMUFD said EINVAL or EBUSY), or its group has another
 *     DMA owner (EPERM, no member on a kernel driver);
 *     -SVMBIND_ERR_GROUP_NOT_VIABLE: EPERM and a member of the group is on a
 *     kernel driver (the log names it); -EPERM: open(2) of a no-IOMMU device's
 *     cdev without CAP_SYS_RAWIO; any errno of open(2) on the cdev, of
 *     VFIO_DEVICE_BIND_IOMMUFD or VFIO_DEVICE_ATTACH_IOMMUFD_PT;
 *   - -ENOMEM; any other errno of readlink(2) on sysfs, of open(2) on the group
 *     node, or of VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER,
 *     VFIO_GROUP_GET_DEVICE_FD and VFIO_DEVICE_GET_INFO.
 */
SVMBIND_API int svmbind_device_open(struct svmbind_ctx *ctx, const char *name,
				    const struct svmbind_device_opts *opts,
				    struct svmbind_device **dev);

/**
 * @brief Open a device from a file descriptor opened elsewhere.
 *
 * For a process that may not open VFIO nodes itself: a privileged launcher
 * opens them and passes the fds (SCM_RIGHTS, or inheritance). On an iommufd
 * context @p fd is the device's VFIO cdev (/dev/vfio/devices/vfioN), and
 * @p name may be NULL (the device is found from the fd; a name given must
 * match it). On a legacy context @p fd is the device's IOMMU group node
 * (/dev/vfio/N), not attached to a container yet, and @p name is required.
 * The library owns @p fd from the call on, even if the call fails.
 * Everything else is as svmbind_device_open().
 * @since 1.1
 * @param ctx   the context.
 * @param fd    the cdev or group fd.
 * @param name  the device's PCI address, or NULL on an iommufd context.
 * @param opts  NULL for defaults.
 * @param[out] dev  the new device; untouched on failure.
 * @return 0, or what svmbind_device_open() returns, and
 *   - -EBADF: @p fd is negative, not a VFIO cdev (iommufd), or not a VFIO
 *     group node (legacy);
 *   - -EINVAL: on a legacy context @p name is NULL; on an iommufd context
 *     @p name is not the device of @p fd.
 */
SVMBIND_API int svmbind_device_open_fd(struct svmbind_ctx *ctx, int fd, const char *name,
				       const struct svmbind_device_opts *opts,
				       struct svmbind_device **dev);

/**
 * @brief Unbind what is left bound, close the device fd, and release the
 *        group (detached from the container when its last device closes).
 *
 * The device is closed whatever happens (the last close of the fd releases
 * any bond the kernel still holds for it). Leftover bonds whose address space
 * is known to be gone are forgotten; the others are unbound with flags 0 and,
 * where the kernel refuses that with EINVAL (an IOMMU that insists on a
 * release mode), once more with VFIO_SVM_PASID_RELEASE_FLUSHED. In a forked
 * child nothing is unbound (see the conventions above).
 * @param dev  the device, or NULL (returns 0).
 * @return 0, or the first error met while unbinding leftovers: any errno of
 *         VFIO_DEVICE_UNBIND_TASK but ESRCH (a bond the kernel had already
 *         released does not count); e.g. -EINVAL when the kernel refused both
 *         flags 0 and RELEASE_FLUSHED: svm_unbind() each bond first to choose
 *         the flags.
 */
SVMBIND_API int svmbind_device_close(struct svmbind_device *dev);

/**
 * @brief The raw VFIO device fd, owned by the handle (do not close it).
 * @param dev  the device.
 * @return the fd. Cannot fail.
 */
SVMBIND_API int svmbind_device_fd(const struct svmbind_device *dev);
/**
 * @brief The canonical PCI address, e.g. "0000:00:02.0".
 * @param dev  the device.
 * @return a string owned by the handle. Cannot fail.
 */
SVMBIND_API const char *svmbind_device_name(const struct svmbind_device *dev);
/**
 * @brief The IOMMU group number the device was opened through.
 * @param dev  the device.
 * @return the group number (>= 0); -1 on an iommufd context, where a device is
 *         opened through its cdev, not its group. Cannot fail.
 */
SVMBIND_API int svmbind_device_group(const struct svmbind_device *dev);
/**
 * @brief The context the device was opened through.
 * @param dev  the device.
 * @return the context. Cannot fail.
 */
SVMBIND_API struct svmbind_ctx *svmbind_device_ctx(const struct svmbind_device *dev);
/**
 * @brief VFIO_DEVICE_FLAGS_* from VFIO_DEVICE_GET_INFO.
 * @param dev  the device.
 * @return the flags. Cannot fail.
 */
SVMBIND_API uint32_t svmbind_device_flags(const struct svmbind_device *dev);
/**
 * @brief Number of regions from VFIO_DEVICE_GET_INFO.
 * @param dev  the device.
 * @return the number of regions. Cannot fail.
 */
SVMBIND_API uint32_t svmbind_device_num_regions(const struct svmbind_device *dev);
/**
 * @brief Number of IRQ index types from VFIO_DEVICE_GET_INFO.
 * @param dev  the device.
 * @return the number of IRQ indexes. Cannot fail.
 */
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
 * @param dev    the device.
 * @param index  region index, below svmbind_device_num_regions().
 * @param[in,out] info  `sz` set by the caller; the rest is filled in.
 * @return 0, or
 *   - -EINVAL: @p dev or @p info is NULL, a bad `info->sz` (or non-zero bytes
 *     past the struct this library knows), or @p index out of range;
 *   - -SVMBIND_ERR_FORKED: @p dev was inherited through fork();
 *   - any errno of VFIO_DEVICE_GET_REGION_INFO.
 */
SVMBIND_API int svmbind_device_region_info(struct svmbind_device *dev, uint32_t index,
					   struct svmbind_region_info *info);

/**
 * @brief mmap the whole of region @p index (a BAR) with protection @p prot.
 *
 * A region whose info carries a sparse mmap capability (only some areas may
 * be mapped, e.g. not a BAR's MSI-X table) is mapped area by area over a
 * reservation of the whole region: the mapping still spans the region, and
 * the bytes outside the areas are inaccessible (PROT_NONE; use pread/pwrite
 * on the device fd there). svmbind_device_unmap_region() undoes it all.
 * @param dev    the device.
 * @param index  region index.
 * @param prot   PROT_READ and/or PROT_WRITE, as for mmap(2); the mapping is MAP_SHARED.
 * @param[out] addr  the mapping.
 * @param[out] len  its length (the region size).
 * @return 0, or
 *   - -EINVAL: @p dev, @p addr or @p len is NULL, @p index out of range, or
 *     an empty region (no such BAR);
 *   - -EOPNOTSUPP: the region cannot be mmapped (use pread/pwrite on the device fd),
 *     or its sparse mmap capability lists more than 16 areas;
 *   - -EOVERFLOW: the region is larger than this process can map (a 32-bit process);
 *   - -EPROTO: the region's sparse mmap capability is malformed (areas past the
 *     region or the bytes the kernel filled);
 *   - -SVMBIND_ERR_FORKED: @p dev was inherited through fork();
 *   - -ENOMEM (library);
 *   - any errno of VFIO_DEVICE_GET_REGION_INFO or of mmap(2).
 */
SVMBIND_API int svmbind_device_map_region(struct svmbind_device *dev, uint32_t index, int prot,
					  void **addr, size_t *len);

/**
 * @brief Undo svmbind_device_map_region().
 * @param dev   the device (only used to name it in the log; may be NULL).
 * @param addr  the mapping.
 * @param len   its length.
 * @return 0, or any errno of munmap(2) (-EINVAL).
 */
SVMBIND_API int svmbind_device_unmap_region(struct svmbind_device *dev, void *addr, size_t len);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup libsvmbind_svm Shared Virtual Memory bonds
 *  @brief Bind an address space to a device, get its PASID, unbind.
 *  @note `#include <svmbind/svmbind.h>`; link with `-lsvmbind` (`pkg-config --libs libsvmbind`).
 *  @{ */

/**
 * @brief Bind the caller's own address space to @p dev.
 *
 * Binding an address space that is already bound returns its PASID again
 * when the kernel does (the handle then counts one more reference; unbind
 * once per bind). A bind the kernel interrupts (EINTR, a signal arrived while
 * it waited; it leaves nothing behind) is retried.
 * @param dev  the device.
 * @param[out] pasid  the PASID that tags the device's transactions for this
 *                    address space.
 * @return 0, or
 *   - -EINVAL: @p dev or @p pasid is NULL (library); or the kernel's EINVAL:
 *     the IOMMU refused;
 *   - -SVMBIND_ERR_FORKED: @p dev was inherited through fork();
 *   - -SVMBIND_ERR_NO_SVM_BIND: the kernel has no SVM bind (stock kernels: ENOTTY);
 *   - -SVMBIND_ERR_PASID_EXHAUSTED: no PASID left (ENOSPC);
 *   - -ENODEV: the device or its IOMMU cannot do SVM (VT-d: boot with intel_iommu=on,sm_on);
 *   - -ENOMEM: the library could not grow its bond table (no kernel call was
 *     made), or the kernel said ENOMEM;
 *   - -EFAULT, or any other errno of VFIO_DEVICE_BIND_TASK.
 */
SVMBIND_API int svm_bind_self(struct svmbind_device *dev, uint32_t *pasid);

/**
 * @brief Bind the address space of process @p pid (in the caller's pid namespace).
 *
 * The caller must pass the kernel's PTRACE_MODE_ATTACH_REALCREDS check on
 * @p pid: same real uid and gid, or CAP_SYS_PTRACE; and Yama's ptrace_scope
 * (1: only an ancestor, or the tracer @p pid named with prctl(PR_SET_PTRACER)).
 * A bond belongs to the target's address space, not to the pid: it dies when
 * the target exits or execs.
 *
 * The handle keeps the kernel's count: a thread id, a CLONE_VM child or the
 * same process again gets the same PASID and one more reference, in the
 * kernel and in the handle. To tell when a bonded address space is gone, the
 * library opens /proc/PID/mem before the bind (one fd per bonded address
 * space; it pins no memory, only the kernel's small mm struct): reads from it
 * end once that address space exits or is replaced by exec. Then
 * svm_unbind() answers -SVMBIND_ERR_BOND_GONE without asking the kernel, and
 * a later bind that gets the same PASID (handed out anew) replaces the entry.
 * Where that file cannot be opened (the target runs as another uid and the
 * caller lacks CAP_DAC_OVERRIDE, though CAP_SYS_PTRACE lets the bind pass),
 * the library cannot see an exec or exit: it says so once per device handle
 * (at info level), and errs on the side of
 * never unbinding another address space's bond: a second bind that gets the
 * same PASID replaces the entry instead of counting a reference (the extra
 * kernel reference then lasts until the device is closed).
 * A bind the kernel interrupts (EINTR) is retried; a target that replaced its
 * address space during the bind is bound again (at most three times).
 * @param dev  the device.
 * When /proc is not the caller's pid namespace's (the caller entered a new
 * pid namespace and kept its parent's /proc), the library reaches @p pid
 * through pidfd_open(2) and finds it in /proc from there: never the
 * namesake /proc/PID shows. Without pidfd_open (Linux < 5.3) it cannot
 * watch the bond then, and says so.
 * @param pid  the process to bind.
 * @param[out] pasid  its PASID.
 * @return 0, or
 *   - -EINVAL: @p dev or @p pasid is NULL, or @p pid is not positive (library);
 *     or the kernel's EINVAL on a kernel that knows VFIO_SVM_PID: the IOMMU refused;
 *   - -SVMBIND_ERR_NO_SVM_BIND: the kernel has no SVM bind (ENOTTY);
 *   - -SVMBIND_ERR_NO_PID_BIND: the kernel binds only the caller's own address space
 *     (it said EINVAL and the dialect probe found the "self" dialect);
 *   - -SVMBIND_ERR_NO_PROCESS: no such process here, or it has no address space (ESRCH);
 *   - -SVMBIND_ERR_PTRACE_DENIED: the ptrace check refused, EACCES or EPERM
 *     (the log names Yama's scope and the remedy);
 *   - -SVMBIND_ERR_PASID_EXHAUSTED: no PASID left (ENOSPC);
 *   - -ENODEV: the device or its IOMMU cannot do SVM;
 *   - -SVMBIND_ERR_FORKED: @p dev was inherited through fork();
 *   - -EAGAIN: the target replaced its address space (exec) during each of three binds;
 *   - -ENOMEM: the library's bond table or the kernel;
 *   - -EFAULT, or any other errno of VFIO_DEVICE_BIND_TASK.
 */
SVMBIND_API int svm_bind_pid(struct svmbind_device *dev, pid_t pid, uint32_t *pasid);

/**
 * @brief Bind the address space of the process @p pidfd names, race-free.
 *
 * A pid can be recycled between the moment a caller learns it and the bind;
 * a pidfd (pidfd_open(2), or one received from the process itself) cannot.
 * The library reads the pid from the pidfd, binds it as svm_bind_pid() does,
 * and then checks that the pidfd still names a process holding that pid. A
 * pid number is not reused while its process exists (even as a zombie), so
 * when the check passes the bond is the named process's. When the process
 * was reaped in between, the bond (made on whatever held the pid then) is
 * undone and the call fails with -SVMBIND_ERR_NO_PROCESS: never a bond on a
 * stranger. @p pidfd stays the caller's.
 * @since 1.1
 * @param dev    the device.
 * @param pidfd  a pidfd of the process to bind (a thread-group leader).
 * @param[out] pasid  its PASID.
 * @return 0, or what svm_bind_pid() returns, and
 *   - -EBADF: @p pidfd is not an open pidfd (library);
 *   - -SVMBIND_ERR_NO_PROCESS: the process has exited and been reaped (before
 *     the bind, or during it: then the bond made meanwhile was undone), or it
 *     lives in a pid namespace the caller cannot see.
 */
SVMBIND_API int svmbind_bind_pidfd(struct svmbind_device *dev, int pidfd, uint32_t *pasid);

/**
 * @brief Drop one reference on the bond named by @p pasid.
 *
 * @param dev    the device the bond was made on.
 * @param pasid  the PASID svm_bind_self() or svm_bind_pid() returned.
 * @param flags  0, VFIO_SVM_PASID_RELEASE_FLUSHED or VFIO_SVM_PASID_RELEASE_CLEAN
 *               (some IOMMUs require one; other bits are passed to the kernel).
 * @return 0, or
 *   - -EINVAL: @p dev is NULL, or @p flags has both RELEASE flags (library;
 *     nothing asked of the kernel); or the kernel's EINVAL: @p flags unknown
 *     or not accepted (the bond is kept);
 *   - -SVMBIND_ERR_UNKNOWN_PASID: this handle holds no bond with @p pasid (nothing was asked of the kernel);
 *   - -SVMBIND_ERR_BOND_GONE: the bond's address space is gone (the process exited or
 *     exec'd) and so is the bond; the handle forgets it, whatever its count.
 *     Either the library knew it (svmbind_kernel_errno() 0: nothing was asked of the
 *     kernel, whose PASID may by now tag another address space), or the kernel
 *     said ESRCH;
 *   - -SVMBIND_ERR_FORKED: @p dev was inherited through fork();
 *   - any other errno of VFIO_DEVICE_UNBIND_TASK (the bond is then kept).
 */
SVMBIND_API int svm_unbind(struct svmbind_device *dev, uint32_t pasid, uint32_t flags);

/** @brief One bond held by a device handle. */
struct svmbind_bond {
	/** in: sizeof(struct svmbind_bond); out (since 1.2): the bytes the library
	 *  filled, at most what was passed in */
	size_t sz;
	uint32_t pasid;		/**< out: the PASID */
	uint32_t refs;		/**< out: binds not yet unbound */
	pid_t pid;		/**< out: the process bound (the caller's pid for svm_bind_self()) */
	/** out: 1 while the bonded address space exists, 0 once it is gone (the process
	 *  exited or exec'd: svm_unbind() would say -SVMBIND_ERR_BOND_GONE), -1 when the
	 *  library cannot watch it (see svm_bind_pid()). Filled by libraries 1.1 and
	 *  later; it sits where 1.0's struct had padding, so only `sz` written back
	 *  (1.2 and later: `sz` >= offsetof(alive) + 4) tells it was filled. @since 1.1 */
	int32_t alive;
};

/**
 * @brief Number of bonds the handle holds.
 * @param dev  the device.
 * @return a count. Cannot fail.
 */
SVMBIND_API size_t svmbind_device_nr_bonds(struct svmbind_device *dev);

/**
 * @brief The @p i-th bond, in the order they were made.
 * @param dev  the device.
 * @param i    index, from 0.
 * Fills at most `bond->sz` bytes and writes back in `bond->sz` how many it
 * filled (the smaller of the caller's size and the library's): a member that
 * ends past that was not filled. A program built against 1.2 or later
 * needs a 1.2 library (symbol version LIBSVMBIND_1.2): programs built
 * before call the 1.0 version, which leaves `sz` as the caller set it.
 * @param[in,out] bond  `sz` set by the caller (the rest zeroed); filled in,
 *                      and `sz` set to the bytes filled.
 * @return 0, or
 *   - -ENOENT: @p i is past the last bond;
 *   - -EINVAL: @p dev or @p bond is NULL, or a bad `bond->sz` (or non-zero
 *     bytes past the struct this library knows).
 */
SVMBIND_API int svmbind_device_bond(struct svmbind_device *dev, size_t i, struct svmbind_bond *bond);

/** @} */

/* ------------------------------------------------------------------------ */
/** @defgroup libsvmbind_probe Feature probing
 *  @brief What the machine and a device can do, and why not.
 *  @note `#include <svmbind/svmbind.h>`; link with `-lsvmbind` (`pkg-config --libs libsvmbind`).
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
 *
 * First a BIND with argsz 0 (below every minsz): ENOTTY means
 * #SVMBIND_DIALECT_NONE, EINVAL means a BIND exists. Then a PID bind of a pid
 * no kernel hands out (INT_MAX): ESRCH means #SVMBIND_DIALECT_PID, EINVAL
 * (flag unknown) #SVMBIND_DIALECT_SELF. Answers are cached; failures are not.
 * @param dev  the device.
 * @return an enum svmbind_dialect (>= 0), or
 *   - -EINVAL: @p dev is NULL;
 *   - -SVMBIND_ERR_FORKED: @p dev was inherited through fork() (even when
 *     the answer is cached);
 *   - -EPROTO: the kernel accepted a probe it should have rejected (the
 *     library unbinds the bond at once and logs it);
 *   - the negated errno of any other answer to a probe that fits no dialect
 *     (e.g. -EACCES, -EFAULT); svmbind_kernel_errno() is then that errno.
 */
SVMBIND_API int svmbind_device_dialect(struct svmbind_device *dev);

/** @brief Probe flags. */
enum svmbind_probe_flags {
	SVMBIND_PROBE_NOCACHE = 1u << 0,	/**< look again instead of answering from the cache */
};

/** @brief What this machine can do. Tri-state fields: 1, 0, or a negative reason. */
struct svmbind_sys_probe {
	size_t sz;			/**< in: sizeof(struct svmbind_sys_probe) */
	int vfio;			/**< /dev/vfio/vfio opens (0 when missing; -EACCES, ... when it cannot be opened) */
	int vfio_api_version;		/**< VFIO_GET_API_VERSION, or the negative reason (-SVMBIND_ERR_NO_VFIO when missing) */
	int type1;			/**< VFIO_TYPE1_IOMMU offered */
	int type1v2;			/**< VFIO_TYPE1v2_IOMMU offered */
	int noiommu_type;		/**< VFIO_NOIOMMU_IOMMU offered */
	int iommu_groups;		/**< at least one IOMMU group exists */
	int noiommu_mode;		/**< vfio's enable_unsafe_noiommu_mode is on (0 when vfio is not loaded) */
	int ptrace_scope;		/**< Yama's ptrace_scope 0..3, or negative (-ENOENT: no Yama) */
	int cap_sys_ptrace;		/**< CAP_SYS_PTRACE is effective */
	int cap_ipc_lock;		/**< CAP_IPC_LOCK is effective (no memlock limit on DMA) */
	uint64_t memlock_cur;		/**< RLIMIT_MEMLOCK soft limit, UINT64_MAX for unlimited */
	uint64_t memlock_max;		/**< RLIMIT_MEMLOCK hard limit, UINT64_MAX for unlimited */
	int vtd;			/**< an Intel VT-d unit is visible in sysfs */
	int vtd_scalable;		/**< every VT-d unit can do scalable mode (ECAP.SMTS) */
	int vtd_pasid;			/**< every VT-d unit supports PASID (ECAP.PASID) */
	int vtd_prs;			/**< every VT-d unit supports page requests (ECAP.PRS) */
	int iommufd;			/**< /dev/iommu opens (0 when missing: no CONFIG_IOMMUFD) @since 1.1 */
	int vfio_cdev;			/**< the kernel makes VFIO device cdevs (/sys/class/vfio-dev exists) @since 1.1 */
};

/**
 * @brief Probe the machine; the answer is cached for the process.
 *
 * Needs no privilege; opens /dev/vfio/vfio for a moment if it can.
 * @param[in,out] out  `sz` set by the caller; the rest is filled in.
 * @param flags  0 or #SVMBIND_PROBE_NOCACHE.
 * @return 0, or -EINVAL: @p out is NULL, a bad `out->sz` (or non-zero bytes
 *         past the struct this library knows), or unknown @p flags. What
 *         could not be found out is in the fields, not in the return value.
 */
SVMBIND_API int svmbind_probe_system(struct svmbind_sys_probe *out, uint32_t flags);

/** @brief What a device can do. Tri-state fields: 1, 0, or a negative reason. */
struct svmbind_dev_probe {
	size_t sz;			/**< in: sizeof(struct svmbind_dev_probe) */
	char name[16];			/**< canonical PCI address */
	char driver[64];		/**< bound driver, "" when unbound */
	int vfio_driver;		/**< the driver is a VFIO driver (its name contains "vfio") */
	int iommu_group;		/**< group number, or the negative reason (-SVMBIND_ERR_NO_IOMMU_GROUP) */
	int group_viable;		/**< no member is on a kernel-DMA driver (from sysfs; the reason of iommu_group when that is negative) */
	unsigned int nr_offenders;	/**< members that make the group not viable */
	char offenders[256];		/**< as in "0000:03:00.1 (e1000e), ..." (truncated with "...") */
	int ats;			/**< ATS extended capability present */
	int pri;			/**< PRI extended capability present */
	int pasid;			/**< PASID extended capability present */
	int pasid_width;		/**< max PASID width in bits, 0 without the capability, or the negative reason */
	int dialect;			/**< enum svmbind_dialect, or the negative reason (-EBADF: no open device given; -SVMBIND_ERR_FORKED: a handle inherited through fork()) */
	uint32_t reserved;		/**< out: 0 (explicit padding) */
	int cdev;			/**< the device has a VFIO cdev (vfio-dev/vfioN in sysfs) @since 1.1 */
	/** PASID width in bits the IOMMU offers this device, from IOMMU_GET_HW_INFO
	 *  (Linux 6.15+); only with an open handle on an iommufd context, else the
	 *  negative reason (-EBADF: no such handle; -EOPNOTSUPP: the kernel is older). @since 1.1 */
	int iommu_pasid_log2;
	uint64_t iommu_caps;		/**< IOMMU_HW_CAP_* bits from IOMMU_GET_HW_INFO; 0 when unknown @since 1.1 */
	uint64_t vtd_ecap;		/**< the VT-d ECAP register of the device's IOMMU, from IOMMU_GET_HW_INFO; 0 when unknown @since 1.1 */
	/** PASID address spaces (svmbind/space.h) can be made for this device: 1, or
	 *  the negative reason (-EBADF: no open handle given; -SVMBIND_SPACE_ERR_*) @since 1.2 */
	int pasid_space;
	/** ...and can take the device's page requests (PRI): 1, or the negative reason @since 1.2 */
	int pasid_page_requests;
};

/**
 * @brief Probe a device by name; with @p dev (an open handle for the same
 *        device, or NULL) the dialect is probed too, else it is -EBADF
 *        ("open the device to know").
 *
 * Capabilities come from sysfs config space, readable past 64 bytes only with
 * CAP_SYS_ADMIN (else -EPERM in those fields); vfio-pci's own config region
 * hides PASID, so sysfs is the source. Sysfs is read afresh on every call; the
 * dialect is cached in @p dev (see svmbind_device_dialect()).
 * @param name  the PCI address, as for svmbind_device_open().
 * @param dev   an open handle of the same device, or NULL.
 * @param[in,out] out  `sz` set by the caller; the rest is filled in.
 * @param flags  0 or #SVMBIND_PROBE_NOCACHE (probe the dialect again).
 * @return 0, or
 *   - -EINVAL: @p out is NULL, a bad `out->sz` (or non-zero bytes past the
 *     struct this library knows), unknown @p flags, @p name not a PCI
 *     address, or @p dev is a different device;
 *   - -ENODEV: no such PCI device in sysfs.
 *   What could not be found out is in the fields, not in the return value.
 */
SVMBIND_API int svmbind_probe_device(const char *name, struct svmbind_device *dev,
				     struct svmbind_dev_probe *out, uint32_t flags);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SVMBIND_SVMBIND_H */
