// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The error tables (lib/error.c), through the public API: no kernel involved. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <svmbind/svmbind.h>

#include "pure_tests.h"

START_TEST(every_library_code_has_its_own_text_and_errno)
{
	for (int c = SVMBIND_ERR_BASE; c < SVMBIND_ERR_END; c++) {
		const char *s = svmbind_strerror(c);

		ck_assert_ptr_eq(svmbind_strerror(-c), s);
		ck_assert_msg(!strstr(s, "unknown"), "code %d: %s", c, s);
		for (int d = SVMBIND_ERR_BASE; d < c; d++)
			ck_assert_str_ne(s, svmbind_strerror(d));
		ck_assert_int_gt(svmbind_error_errno(c), 0);
		ck_assert_int_lt(svmbind_error_errno(c), SVMBIND_ERR_BASE);
		ck_assert_int_eq(svmbind_error_errno(-c), svmbind_error_errno(c));
	}
}
END_TEST

START_TEST(library_codes_refine_the_errno_they_stand_for)
{
	ck_assert_int_eq(svmbind_error_errno(-SVMBIND_ERR_PTRACE_DENIED), EACCES);
	ck_assert_int_eq(svmbind_error_errno(SVMBIND_ERR_NO_SVM_BIND), ENOTTY);
	ck_assert_int_eq(svmbind_error_errno(SVMBIND_ERR_NO_PROCESS), ESRCH);
	ck_assert_int_eq(svmbind_error_errno(SVMBIND_ERR_GROUP_BUSY), EBUSY);
	ck_assert_int_eq(svmbind_error_errno(SVMBIND_ERR_MEMLOCK), ENOMEM);
	ck_assert_int_eq(svmbind_error_errno(SVMBIND_ERR_PASID_EXHAUSTED), ENOSPC);
}
END_TEST

START_TEST(errnos_decode_as_libc_does)
{
	ck_assert_str_eq(svmbind_strerror(-ENOTTY), strerror(ENOTTY));
	ck_assert_str_eq(svmbind_strerror(EBUSY), strerror(EBUSY));
	ck_assert_str_eq(svmbind_strerror(0), "success");
	ck_assert_int_eq(svmbind_error_errno(-EACCES), EACCES);
	ck_assert_int_eq(svmbind_error_errno(ENOENT), ENOENT);
}
END_TEST

START_TEST(unknown_codes_say_so_and_map_to_eio)
{
	const int unknown[] = { SVMBIND_ERR_END, SVMBIND_ERR_END + 7, -(SVMBIND_ERR_END + 7), 4099, 100000 };
	char want[48];

	for (unsigned int i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		int c = unknown[i] < 0 ? -unknown[i] : unknown[i];

		snprintf(want, sizeof(want), "unknown error %d", c);
		ck_assert_str_eq(svmbind_strerror(unknown[i]), want);
		ck_assert_int_eq(svmbind_error_errno(unknown[i]), EIO);
	}
	ck_assert_ptr_nonnull(strstr(svmbind_strerror(INT_MIN), "unknown"));
	ck_assert_int_eq(svmbind_error_errno(INT_MIN), EIO);
}
END_TEST

TCase *tcase_errors(void)
{
	TCase *tc = tcase_create("errors");

	tcase_add_test(tc, every_library_code_has_its_own_text_and_errno);
	tcase_add_test(tc, library_codes_refine_the_errno_they_stand_for);
	tcase_add_test(tc, errnos_decode_as_libc_does);
	tcase_add_test(tc, unknown_codes_say_so_and_map_to_eio);
	return tc;
}
