// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The unit tier's runner; needs the fake kernel (CTest preloads it). */
#include <stdio.h>
#include <string.h>

#include "unit.h"

void unit_setup(void)
{
	int ret = lab_reset();

	ck_assert_msg(ret == 0, "lab_reset: %s", strerror(-ret));
	tu_catch_log();
	tu_clear_log();
}

int main(void)
{
	Suite *s = suite_create("unit(fake)");
	SRunner *sr;
	int failed;

	if (lab_open() || lab_kind() != LAB_FAKE) {
		printf("unit: needs the fake kernel: run it through ctest\n");
		return 77;
	}
	suite_add_tcase(s, tcase_faults());
	suite_add_tcase(s, tcase_errors());
	suite_add_tcase(s, tcase_probe());
	suite_add_tcase(s, tcase_log());
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
