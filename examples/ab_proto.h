/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* The application request A and B agree on (libsvmbind carries it, never reads it). */
#ifndef AB_PROTO_H
#define AB_PROTO_H

#include <stdint.h>

enum { AB_COPY = 1 };		/* request type */
enum { AB_MAX_LEN = 4096 };

/* "Copy len bytes from src to dst, both in my address space, with your device." */
struct ab_work {
	uint64_t src;		/* B's virtual addresses */
	uint64_t dst;
	uint32_t len;
	uint32_t reserved;
};

/* Which device did the work. */
enum ab_engine {
	AB_ENGINE_PROVIDER = 1,	/* the reference provider's emulated PASID DMA (test-only ioctl) */
	AB_ENGINE_SVM_DMA = 2,	/* the svm-dma device: its own ATS-translated, PASID-tagged DMA */
};

/* The reply to AB_COPY: how the bytes moved, counted by the device itself. */
struct ab_done {
	uint32_t engine;	/* enum ab_engine */
	uint32_t pri;		/* 1: the device may fault pages in with page requests */
	uint32_t translations;	/* svm-dma: ATS translation requests for this copy */
	uint32_t page_requests;	/* svm-dma: PRI page requests for this copy */
};

#endif
