/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * bench_space: the PASID-space path against real SVA and a plain IOVA mapping,
 * on the SVA VM's svm-dma device with PRI (bench/README.md). Shared parts:
 * B (a child whose memory the device works on), the device, the copies and
 * the measurement both modes run the same way.
 */
#ifndef SVMBIND_BENCH_SPACE_H
#define SVMBIND_BENCH_SPACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <svmbind/space.h>
#include <svmbind/svmbind.h>

#include "svmdma.h"

#define PG	4096u
#define MIB	(1u << 20)

/* How much to measure: bench_space MODE [ROUNDS [PAGES [MIB_COPIES]]]. */
struct bs_opts {
	int rounds;		/* the figures are medians over these */
	int pages;		/* one-page copies per kind per round */
	int mib_copies;		/* 1 MiB copies per kind per round */
};

__attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void skip(const char *fmt, ...);

/*
 * B's memory, one mapping at an address of B's own, laid out as:
 *   [0, PG)                the source page of the one-page copies (written)
 *   [PG, PG + 2 MiB)       source and destination of the 1 MiB copies (written)
 *   then near pages        destinations B wrote (touched; placed in a space)
 *   then far pages         destinations B never touched (SVA: faulted in by
 *                          the kernel; a space: placed on the page request)
 * Near and far have WARM + rounds * pages pages each (the first WARM: warm-up).
 */
#define WARM	8	/* warm-up copies of each kind: also past the kernel's burst of
			 * ratelimited DMAR fault messages, which would slow the first faults */
struct bs_client {
	pid_t pid;
	int sock;
	int memfd;		/* memfd mode: A's copy of B's memfd; else -1 */
	uint64_t addr, len;	/* B's mapping */
	uint64_t near, far;	/* offsets of the near and far pages */
};
/* Start B with the layout for @o; @memfd: a memfd mapped MAP_SHARED (sent to
 * A), else anonymous memory (no transparent huge pages: one page per fault). */
void bs_client_start(struct bs_client *b, const struct bs_opts *o, bool memfd);
void bs_client_stop(struct bs_client *b);

/* A's device: a context, the svm-dma device with PRI, its BAR, the completion MSI. */
struct bs_dev {
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct svmdma sd;
	int efd;			/* the completion MSI's eventfd */
	struct svmbind_space *space;	/* set: its page requests are served while waiting */
	unsigned long stalls;		/* waits of 1 s that saw nothing (should stay 0) */
};
/* Open @f (with PRI) in a new context (@co: NULL for the default backend). */
void bs_dev_open(struct bs_dev *d, const struct svmdma *f, const struct svmbind_ctx_opts *co);
void bs_dev_close(struct bs_dev *d);

/* What one mode measures: near (touched or placed) against far (a page
 * request each) one-page copies, and 1 MiB copies with @pasid against the
 * same copies through an IOVA mapping of A's own memory. Medians over the
 * rounds; far_minus_near_us and pasid_over_iova are medians of per-round
 * differences and ratios (each round measures both, back to back). */
struct bs_figs {
	double near_us, far_us, far_minus_near_us;
	double fmn_min_us, fmn_max_us;	/* far_minus_near_us: the spread over the rounds */
	double near_prqs, far_prqs;	/* the device's page requests per copy */
	double pasid_mibps, iova_mibps, pasid_over_iova;
};
void bs_measure(struct bs_dev *d, const struct bs_client *b, uint32_t pasid, const struct bs_opts *o,
		struct bs_figs *f);

/* The key=value lines bench/space.sh reads: PFX_onepage_NEAR_us, PFX_onepage_FAR_us,
 * PFX_RT_us and its range, PFX_NEAR/FAR_prqs_per_copy, PFX_mibps, iova_mibps,
 * PFX_over_iova, stalls. */
void bs_print_keys(const struct bs_dev *d, const struct bs_opts *o, const struct bs_figs *f,
		   const char *pfx, const char *near, const char *far, const char *rt);
int bench_sva(const struct bs_opts *o);		/* bench_space_sva.c */
int bench_pasid(const struct bs_opts *o);	/* bench_space_pasid.c */

#endif
