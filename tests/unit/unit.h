/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Unit tier, on the real kernel in the VM: fault injection at every call the
 * library makes to reach the kernel (faultinj, preloaded), error codes and
 * their messages, probes, logging. */
#ifndef SVMBIND_UNIT_H
#define SVMBIND_UNIT_H

#include "faultinj.h"

/* The injector is LD_PRELOADed, not linked: its control API resolves at run time. */
#pragma weak faultinj_inject
#pragma weak faultinj_calls
#pragma weak faultinj_fired
#include "lab.h"
#include "testutil.h"

/* What a case needs beyond lab devices on a VFIO driver. A case the lab cannot
 * serve is not run, and main() says so; it never passes. */
enum unit_need {
	NEED_PROVIDER = 1 << 0,	/* the svmref provider: SVM bind and its parameters */
	NEED_DRIVERS = 1 << 1,	/* rebinding lab devices to a non-VFIO driver */
};
void unit_add(TCase *tc, const TTest *test, unsigned int needs);

TCase *tcase_faults(void);
TCase *tcase_errors(void);
TCase *tcase_probe(void);
TCase *tcase_log(void);

void unit_setup(void);

#endif
