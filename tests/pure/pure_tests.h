/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Host tests of the library's pure logic (lib/pure.h), on fixture bytes: no kernel. */
#ifndef SVMBIND_TEST_PURE_TESTS_H
#define SVMBIND_TEST_PURE_TESTS_H

#include <check.h>

TCase *tcase_pci(void);
TCase *tcase_vtd(void);
TCase *tcase_errors(void);
TCase *tcase_vfiocap(void);
TCase *tcase_ownership(void);
TCase *tcase_bondbook(void);

#endif
