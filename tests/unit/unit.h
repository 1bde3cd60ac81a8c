/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Unit tier: behaviours only the fake kernel can stage (fault injection at
 * every kernel call, devices without IOMMU groups, memlock limits...). */
#ifndef SVMBIND_UNIT_H
#define SVMBIND_UNIT_H

#include "fakek.h"

/* The fake is LD_PRELOADed, not linked: its control API resolves at run time. */
#pragma weak fakek_inject
#pragma weak fakek_calls
#pragma weak fakek_root
#include "lab.h"
#include "testutil.h"

TCase *tcase_faults(void);
TCase *tcase_errors(void);
TCase *tcase_probe(void);
TCase *tcase_log(void);

/* The fake's extra devices (tests/fake/): no IOMMU group; on e1000e with ATS/PRI/PASID. */
#define DEV_NO_GROUP	"0000:00:05.0"
#define DEV_E1000E	"0000:00:06.0"

void unit_setup(void);

#endif
