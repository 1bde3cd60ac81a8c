// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The pure tier's runner: plain host tests, run by CTest (and under valgrind by run.sh). */
#include "pure_tests.h"

int main(void)
{
	Suite *s = suite_create("pure");
	SRunner *sr;
	int failed;

	suite_add_tcase(s, tcase_pci());
	suite_add_tcase(s, tcase_vtd());
	suite_add_tcase(s, tcase_errors());
	suite_add_tcase(s, tcase_vfiocap());
	suite_add_tcase(s, tcase_ownership());
	suite_add_tcase(s, tcase_bondbook());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
