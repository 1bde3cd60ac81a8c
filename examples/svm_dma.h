/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The svm-dma test device (our QEMU's PASID device, tests/vm/qemu/README.md),
 * driven from user space through a libsvmbind device handle: BAR0 mapped with
 * svmbind_device_map_region(), bus mastering turned on through VFIO's config
 * region, one copy per doorbell, completion read from the device's STATUS.
 * Not part of the library: an example of what a device owner does.
 */
#ifndef SVM_DMA_H
#define SVM_DMA_H

#include <stdbool.h>
#include <stdint.h>

#include <svmbind/svmbind.h>

struct svm_dma;

/* What one copy did, read from the device's own registers. */
struct svm_dma_result {
	uint32_t status;		/* SVM_DMA_DONE, or the device's error code */
	uint64_t fault;			/* first address that did not translate (0 when done) */
	uint32_t translations;		/* ATS translation requests sent for this copy */
	uint32_t page_requests;		/* PRI page requests sent for this copy */
};

enum { SVM_DMA_DONE = 0x02 };
enum { SVM_DMA_MAX_LEN = 1u << 20 };

/*
 * Map @dev's BAR0 and check it is an svm-dma device (its ID register).
 * Returns 0, -ENODEV when it is another device, or the library's code.
 */
int svm_dma_open(struct svmbind_device *dev, struct svm_dma **out);
void svm_dma_close(struct svm_dma *d);

/* True when the device can send page requests (its CAPS register). */
bool svm_dma_has_pri(const struct svm_dma *d);

/*
 * Copy @len bytes from @src to @dst, both virtual addresses of the address
 * space bound as @pasid. With @pri (and a device that has PRI) a page that
 * does not translate is asked for with a page request, and the copy waits for
 * the answer. Returns 0 when the device reports done; -EFAULT when a page
 * did not translate (@res says which), -EIO for another device error,
 * -ETIMEDOUT when the device stays busy, -EINVAL for a bad @len.
 */
int svm_dma_copy(struct svm_dma *d, uint32_t pasid, uint64_t src, uint64_t dst, uint32_t len,
		 bool pri, struct svm_dma_result *res);

/*
 * svm_dma_copy(), calling @wait(@arg) while the device is busy: the owner of a
 * PASID space serves the device's page requests there (svmbind_space_dispatch()).
 */
int svm_dma_copy_wait(struct svm_dma *d, uint32_t pasid, uint64_t src, uint64_t dst, uint32_t len,
		      bool pri, void (*wait)(void *arg), void *arg, struct svm_dma_result *res);

/* The device's status code in words. */
const char *svm_dma_status_str(uint32_t status);

#endif
