// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The conformance suite's runner. The same binary runs on the fake kernel
 * (LD_PRELOADed by CTest) and on Debian's kernel in the VM (tests/vm/), and
 * must pass on both: a divergence is a failing test.
 *
 * Usage: conformance [CASE-NAME...]   (no names: every case the lab can run)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"

struct registry {
	Suite *suite;
	TCase *tcases[8];
	const char *names[8];
	unsigned int lab_has;
	int argc;
	char **argv;
	int added, skipped;
	const TTest *last[8];
	const char *last_tc[8];
	int nr_last;
};

static void setup(void)
{
	int ret = lab_reset();

	ck_assert_msg(ret == 0, "lab_reset: %s", strerror(-ret));
	tu_catch_log();
	tu_clear_log();
}

static TCase *tcase_for(struct registry *r, const char *name)
{
	unsigned int i;

	for (i = 0; i < 8 && r->names[i]; i++)
		if (!strcmp(r->names[i], name))
			return r->tcases[i];
	if (i >= 8)
		abort();	/* more test cases than slots: raise the array size */
	r->names[i] = name;
	r->tcases[i] = tcase_create(name);
	tcase_add_checked_fixture(r->tcases[i], setup, NULL);
	tcase_set_timeout(r->tcases[i], 60);
	suite_add_tcase(r->suite, r->tcases[i]);
	return r->tcases[i];
}

static bool wanted(struct registry *r, const char *name)
{
	if (r->argc <= 1)
		return true;
	for (int i = 1; i < r->argc; i++)
		if (!strcmp(r->argv[i], name))
			return true;
	return false;
}

void reg(struct registry *r, const char *tcase, const TTest *test, unsigned int needs)
{
	static const char *const why[] = { "cannot rebind drivers", "no svmref provider",
					   "no settable Yama", "not root" };
	unsigned int missing = needs & ~r->lab_has & ~NEED_LAST;

	if (!wanted(r, test->name))
		return;
	if (missing) {
		for (unsigned int b = 0; b < 4; b++)
			if (missing & (1u << b)) {
				printf("not run: %s: this lab (%s) %s\n", test->name, lab_kind_name(), why[b]);
				break;
			}
		r->skipped++;
		return;
	}
	if (needs & NEED_LAST) {	/* held back until every other case is in */
		r->last[r->nr_last] = test;
		r->last_tc[r->nr_last++] = tcase;
		return;
	}
	tcase_add_test(tcase_for(r, tcase), test);
	r->added++;
}

static unsigned int lab_capabilities(void)
{
	unsigned int has = 0;
	long v;

	if (lab_kind() == LAB_FAKE || getenv("SVMBIND_LAB_OTHER_DRIVER"))
		has |= NEED_DRIVERS;
	if (lab_get_param("dialect", &v) == 0)
		has |= NEED_PROVIDER;
	if (lab_set_yama(0) == 0)
		has |= NEED_YAMA;
	if (geteuid() == 0)
		has |= NEED_ROOT;
	return has;
}

int main(int argc, char **argv)
{
	struct registry r = { .argc = argc, .argv = argv };
	SRunner *sr;
	int ret, failed;

	ret = lab_open();
	if (ret) {
		printf("conformance: no lab (%s): run under the fake kernel (ctest) or in the VM "
		       "(tests/vm/vm.sh)\n", strerror(-ret));
		return 77;
	}
	ret = lab_reset();
	if (ret) {
		printf("conformance: lab_reset on the %s: %s\n", lab_kind_name(), strerror(-ret));
		return 1;
	}
	r.lab_has = lab_capabilities();
	r.suite = suite_create(lab_kind() == LAB_FAKE ? "conformance(fake)" : "conformance(real)");
	cases_device(&r);
	cases_svm(&r);
	cases_procs(&r);
	for (int i = 0; i < r.nr_last; i++) {
		tcase_add_test(tcase_for(&r, r.last_tc[i]), r.last[i]);
		r.added++;
	}
	printf("conformance on the %s: %d cases, %d not run here\n", lab_kind_name(), r.added, r.skipped);
	if (!r.added)
		return 77;
	sr = srunner_create(r.suite);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
