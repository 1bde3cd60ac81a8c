/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* The conformance suite: cases that do not know which kernel they run on. */
#ifndef SVMBIND_CONFORMANCE_CASES_H
#define SVMBIND_CONFORMANCE_CASES_H

#include "lab.h"
#include "testutil.h"

/* What a case needs from the lab beyond devices on a VFIO driver. A case whose
 * needs the lab cannot meet is not run, and main() says so; it never passes. */
enum need {
	NEED_DRIVERS = 1 << 0,	/* rebinding lab devices to other drivers */
	NEED_PROVIDER = 1 << 1,	/* the svmref provider (dialect parameter) */
	NEED_YAMA = 1 << 2,	/* Yama's ptrace_scope can be set */
	NEED_ROOT = 1 << 3,	/* euid 0: to drop to other uids */
	NEED_IOMMUFD = 1 << 4,	/* the kernel has /dev/iommu and VFIO cdevs */
	NEED_NO_IOMMUFD = 1 << 5,	/* the kernel has no /dev/iommu */
	NEED_STOCK = 1 << 6,	/* the lab devices are on stock vfio-pci */
	NEED_LEGACY = 1 << 7,	/* the suite runs on the legacy container (see tu_ctx()) */
	NEED_NOIOMMU = 1 << 8,	/* vfio's unsafe no-IOMMU mode is on (the VM's --noiommu boot) */
	NEED_IOMMU = 1 << 9,	/* devices sit behind an IOMMU (not the --noiommu boot) */
	NEED_LAST = 1 << 15,	/* changes the lab for good (Yama 3): runs last */
};

struct registry;
void reg(struct registry *r, const char *tcase, const TTest *test, unsigned int needs);

void cases_device(struct registry *r);
void cases_svm(struct registry *r);
void cases_procs(struct registry *r);
void cases_bonds(struct registry *r);
void cases_paths(struct registry *r);
void cases_handles(struct registry *r);
void cases_quiet(struct registry *r);

#endif
