// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The logging callback: replaceable, level-filtered, errno-preserving. */
#include <string.h>

#include "unit.h"

static int calls;
static enum svmbind_log_level seen_level;

static void counting(enum svmbind_log_level level, const char *msg, void *arg)
{
	(void)msg;
	calls++;
	seen_level = level;
	*(int *)arg = 1;
	errno = 9999;	/* a careless callback */
}

START_TEST(set_log_returns_the_previous_callback)
{
	int flag = 0;

	svmbind_set_log(NULL, NULL);
	ck_assert_ptr_null(svmbind_set_log(counting, &flag));
	ck_assert_ptr_eq(svmbind_set_log(NULL, NULL), counting);
}
END_TEST

START_TEST(errors_reach_the_callback_and_errno_survives_it)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = NULL;
	int flag = 0;

	svmbind_set_log(counting, &flag);
	svmbind_set_log_level(SVMBIND_LOG_ERROR);
	calls = 0;
	ck_assert_int_eq(svmbind_device_open(ctx, "nope", NULL, &dev), -EINVAL);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(flag, 1);
	ck_assert_int_eq(seen_level, SVMBIND_LOG_ERROR);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(messages_above_the_level_are_not_delivered)
{
	struct svmbind_ctx *ctx = tu_ctx();
	int flag = 0;

	svmbind_set_log(counting, &flag);
	ck_assert_int_eq(svmbind_set_log_level(SVMBIND_LOG_ERROR), SVMBIND_LOG_DEBUG);
	calls = 0;
	svmbind_device_close(tu_open(ctx, lab_dev(2)));	/* INFO messages only */
	ck_assert_int_eq(calls, 0);
	svmbind_set_log_level(SVMBIND_LOG_INFO);
	svmbind_device_close(tu_open(ctx, lab_dev(2)));
	ck_assert_int_gt(calls, 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(version_matches_the_headers)
{
	ck_assert_uint_eq(svmbind_version(), SVMBIND_VERSION);
	ck_assert_ptr_nonnull(strchr(svmbind_version_string(), '.'));
}
END_TEST

TCase *tcase_log(void)
{
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, unit_setup, NULL);
	unit_add(tc, set_log_returns_the_previous_callback, 0);
	unit_add(tc, errors_reach_the_callback_and_errno_survives_it, 0);
	unit_add(tc, messages_above_the_level_are_not_delivered, 0);
	unit_add(tc, version_matches_the_headers, 0);
	return tc;
}
