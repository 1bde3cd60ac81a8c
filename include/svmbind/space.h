/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/**
 * @file space.h
 * @brief PASID address spaces on stock kernels: a PASID of a device attached,
 *        through iommufd, to an address space that holds exactly the
 *        file-backed regions placed in it (Linux 6.15+).
 *
 * @defgroup libsvmbind_space PASID address spaces (iommufd)
 * @{
 * The seed's bind gives a device a whole process address space; no mainline
 * kernel has it. This is the path mainline offers instead: the device owner
 * (A) makes a space for a client (B) with svmbind_space_new(), which attaches
 * a fresh PASID of the device to a new I/O page table; B's shared memory (a
 * memfd B passed to A) is placed at B's own virtual addresses with
 * svmbind_space_map(); A's device then works on B's pointers with that PASID.
 * Pages can also be placed on demand: with #SVMBIND_SPACE_PAGE_REQUESTS the
 * device's page requests (PCIe PRI) reach svmbind_space_fault_fd() and
 * svmbind_space_dispatch() serves them from the regions mapped with
 * #SVMBIND_SPACE_ON_DEMAND.
 *
 * Unlike the seed's bind: only what was placed in the space is reachable
 * (an access anywhere else fails, or its page request is answered invalid);
 * every mapped page is pinned (and counted against RLIMIT_MEMLOCK of the
 * caller, unless it has CAP_IPC_LOCK) until unmapped or the space is freed;
 * the memory must be a memfd (or another shmem or hugetlbfs file), never
 * anonymous memory; and B's later changes to its own mappings (munmap,
 * mprotect, fork) change nothing the device sees.
 *
 * Needs the iommufd backend (SVMBIND_BACKEND_IOMMUFD, or AUTO where
 * /dev/iommu exists), a device with the PASID capability, and an IOMMU with
 * PASID support (VT-d scalable mode: intel_iommu=on,sm_on). Page requests
 * also need PRI on the device and page-request support in the IOMMU.
 */
#ifndef SVMBIND_SPACE_H
#define SVMBIND_SPACE_H

#include <stddef.h>
#include <stdint.h>

#include <svmbind/svmbind.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Codes of the PASID-space calls, for svmbind_strerror(). @since 1.2 */
enum svmbind_space_error {
	SVMBIND_SPACE_ERR_BASE = 4200,		/**< first code of this range */
	/** the kernel lacks the iommufd PASID path (PASID attach 6.15, MAP_FILE 6.13), or the context is not on iommufd */
	SVMBIND_SPACE_ERR_NO_PASID_PATH = SVMBIND_SPACE_ERR_BASE,
	/** the device has no usable PASID capability */
	SVMBIND_SPACE_ERR_DEVICE_NO_PASID,
	/** the device's IOMMU offers no PASIDs (VT-d: boot with intel_iommu=on,sm_on) */
	SVMBIND_SPACE_ERR_IOMMU_NO_PASID,
	/** page requests were asked for, but the device has no PRI or the IOMMU takes no page requests */
	SVMBIND_SPACE_ERR_NO_PAGE_REQUESTS,
	/** the IOVA range lies outside the ranges the IOMMU reports for the space */
	SVMBIND_SPACE_ERR_IOVA_RANGE,
	/** the fd is not a memfd (nor a shmem or hugetlbfs file): its pages cannot be mapped */
	SVMBIND_SPACE_ERR_NOT_MEMFD,
	/** the range overlaps a region already in the space */
	SVMBIND_SPACE_ERR_OVERLAP,
	/** offset + length lies past the end of the file */
	SVMBIND_SPACE_ERR_BEYOND_FILE,
	/** the memfd's seals forbid it: it can shrink and cannot be sealed (no MFD_ALLOW_SEALING), or it is write-sealed */
	SVMBIND_SPACE_ERR_SEALS,
	/** no region starts at that IOVA with that length */
	SVMBIND_SPACE_ERR_NO_REGION,
	/** no PASID left on the device */
	SVMBIND_SPACE_ERR_PASID_BUSY,
	SVMBIND_SPACE_ERR_END			/**< one past the last code */
};

/** @brief An address space under one PASID of one device (opaque). @since 1.2 */
struct svmbind_space;

/** @brief svmbind_space_new() flags. */
enum svmbind_space_flags {
	/** take the device's page requests for this space (a fault queue: svmbind_space_fault_fd()) */
	SVMBIND_SPACE_PAGE_REQUESTS = 1u << 0,
};

/** @brief Options of svmbind_space_new(); NULL for the defaults. @since 1.2 */
struct svmbind_space_opts {
	size_t sz;		/**< sizeof(struct svmbind_space_opts) */
	uint32_t flags;		/**< enum svmbind_space_flags */
	uint32_t pasid;		/**< the PASID to use; 0: the lowest one free on this handle */
	/** bytes placed per served page request: a power of two, at least a page;
	 *  0: one page. Bigger chunks answer fewer requests and pin more. */
	uint64_t fault_chunk;
};

/**
 * @brief Attach a PASID of @p dev to a new, empty address space.
 *
 * The first space of a device moves the device's own (untagged) DMA to a
 * PASID-capable I/O page table over the context's IOAS: svmbind_dma_map()
 * keeps working unchanged.
 * @param dev  an open device on an iommufd context.
 * @param opts  NULL or options.
 * @param[out] space  the new space.
 * @return 0, or -EINVAL (bad arguments or options), -ENOMEM,
 *   -SVMBIND_ERR_FORKED, -SVMBIND_SPACE_ERR_NO_PASID_PATH (legacy container,
 *   or a kernel before 6.15), -SVMBIND_SPACE_ERR_IOMMU_NO_PASID,
 *   -SVMBIND_SPACE_ERR_DEVICE_NO_PASID, -SVMBIND_SPACE_ERR_NO_PAGE_REQUESTS,
 *   -SVMBIND_SPACE_ERR_PASID_BUSY (the PASID asked for is in use), or the
 *   kernel's -errno. Each failure is explained through the logging callback.
 */
SVMBIND_API int svmbind_space_new(struct svmbind_device *dev, const struct svmbind_space_opts *opts,
				  struct svmbind_space **space);

/**
 * @brief Detach the PASID and free the space: every region is unmapped, every
 *        pin released, every pending page request answered invalid.
 *
 * svmbind_device_close() (and so svmbind_ctx_free()) frees the device's spaces.
 * @param space  the space, or NULL.
 * @return 0; -SVMBIND_ERR_FORKED in a forked child (nothing is undone then);
 *         NULL is fine.
 */
SVMBIND_API int svmbind_space_free(struct svmbind_space *space);

/**
 * @brief The PASID the device tags this space's requests with.
 * @param space  the space.
 * @return the PASID; 0 for NULL.
 */
SVMBIND_API uint32_t svmbind_space_pasid(const struct svmbind_space *space);

/** @brief svmbind_space_map() flags, with SVMBIND_DMA_READ and SVMBIND_DMA_WRITE. */
enum svmbind_space_map_flags {
	/** map nothing now: pages are placed when the device asks (page requests) */
	SVMBIND_SPACE_ON_DEMAND = 1u << 8,
};

/**
 * @brief Place @p length bytes of the file @p fd, from @p offset, at @p iova
 *        in the space (e.g. at the address where the memfd's owner mapped it).
 *
 * The library keeps its own duplicate of @p fd while the region exists, and
 * seals the file against shrinking (F_SEAL_SHRINK) so that no page the device
 * can reach is cut off from it. Without #SVMBIND_SPACE_ON_DEMAND every page
 * is pinned now.
 * @param space  the space.
 * @param fd  the file (a memfd, e.g. one received over a Unix socket).
 * @param offset  where in the file the region starts.
 * @param length  bytes.
 * @param iova  where the device sees it (e.g. its address in the memfd owner's process).
 * @param flags  SVMBIND_DMA_READ and/or SVMBIND_DMA_WRITE (what the device
 *   may do), optionally #SVMBIND_SPACE_ON_DEMAND (needs page requests).
 * @return 0, or -EINVAL (bad arguments; iova, offset and length must be
 *   page-aligned), -SVMBIND_SPACE_ERR_IOVA_RANGE, -SVMBIND_SPACE_ERR_OVERLAP,
 *   -SVMBIND_SPACE_ERR_NOT_MEMFD, -SVMBIND_SPACE_ERR_BEYOND_FILE,
 *   -SVMBIND_SPACE_ERR_SEALS, -SVMBIND_SPACE_ERR_NO_PAGE_REQUESTS (on demand
 *   in a space without page requests), -SVMBIND_ERR_MEMLOCK, -SVMBIND_ERR_FORKED,
 *   or the kernel's -errno.
 */
SVMBIND_API int svmbind_space_map(struct svmbind_space *space, int fd, uint64_t offset,
				  uint64_t length, uint64_t iova, uint32_t flags);

/**
 * @brief Remove the region placed at @p iova with @p length: unmapped, unpinned.
 * @param space  the space.
 * @param iova  the region's IOVA, as given to svmbind_space_map().
 * @param length  its length, as given.
 * @return 0, -SVMBIND_SPACE_ERR_NO_REGION, -SVMBIND_ERR_FORKED, or the kernel's -errno.
 */
SVMBIND_API int svmbind_space_unmap(struct svmbind_space *space, uint64_t iova, uint64_t length);

/** @brief Page request permissions (svmbind_fault::perm). */
enum svmbind_fault_perm {
	SVMBIND_FAULT_READ = 1u << 0,
	SVMBIND_FAULT_WRITE = 1u << 1,
	SVMBIND_FAULT_EXEC = 1u << 2,
	SVMBIND_FAULT_PRIV = 1u << 3,
};

/** @brief One page request of the device, as the dispatch callback sees it. */
struct svmbind_fault {
	uint64_t addr;		/**< the address the device asked for (in the space) */
	uint32_t pasid;		/**< the space's PASID */
	uint32_t perm;		/**< enum svmbind_fault_perm */
};

/** @brief What the dispatch callback decides. */
enum svmbind_fault_verdict {
	/** place the page from the region that covers it (refused if none does) */
	SVMBIND_FAULT_SERVE = 0,
	/** answer the request as invalid: the device's access fails */
	SVMBIND_FAULT_REFUSE = 1,
	/** the callback placed the page itself (svmbind_space_map()): answer success */
	SVMBIND_FAULT_HANDLED = 2,
};

/** @brief Decides one page request; returns an enum svmbind_fault_verdict (negative: refuse). */
typedef int (*svmbind_fault_fn)(struct svmbind_space *space, const struct svmbind_fault *fault,
				void *arg);

/**
 * @brief The fd that becomes readable (poll) when page requests wait; never
 *        read it yourself: call svmbind_space_dispatch().
 * @param space  the space.
 * @return the fd, or -EOPNOTSUPP for a space without page requests, -EINVAL for NULL.
 */
SVMBIND_API int svmbind_space_fault_fd(const struct svmbind_space *space);

/**
 * @brief Answer the page requests that wait (never blocks): each one is
 *        passed to @p fn (NULL: #SVMBIND_FAULT_SERVE for all), then answered.
 *
 * A request inside a region the device may access that way is served by
 * placing the chunk (svmbind_space_opts::fault_chunk) that holds it; any
 * other request is answered invalid, and the device's access fails.
 * At most 256 requests are answered per call: poll again for the rest.
 * @param space  the space.
 * @param fn  the decision, or NULL.
 * @param arg  passed to @p fn.
 * @return how many requests were answered (0: none waited), or -EINVAL,
 *   -EOPNOTSUPP (no page requests), -SVMBIND_ERR_FORKED, or the kernel's -errno.
 */
SVMBIND_API int svmbind_space_dispatch(struct svmbind_space *space, svmbind_fault_fn fn, void *arg);

/** @brief Counters of a space (svmbind_space_stats()). */
struct svmbind_space_stats {
	size_t sz;		/**< in: sizeof(struct svmbind_space_stats) */
	uint64_t requests;	/**< page requests read */
	uint64_t served;	/**< answered success */
	uint64_t refused;	/**< answered invalid */
	uint64_t mapped_bytes;	/**< bytes mapped (pinned) now */
	uint32_t regions;	/**< regions in the space */
	uint32_t reserved;	/**< out: 0 */
};

/**
 * @brief Fill @p out with the space's counters.
 * @param space  the space.
 * @param[in,out] out  `sz` set by the caller.
 * @return 0 or -EINVAL.
 */
SVMBIND_API int svmbind_space_stats(struct svmbind_space *space, struct svmbind_space_stats *out);

/** @} */

#ifdef __cplusplus
}
#endif

#endif /* SVMBIND_SPACE_H */
