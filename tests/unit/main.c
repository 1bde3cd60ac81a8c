// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The unit tier's runner, for the real kernel in the VM (tests/vm/vm.sh).
 * It needs the fault injector in the process: when it is not, it re-executes
 * itself with SVMBIND_FAULTINJ_SO (the build's libsvmbind-faultinj.so) in
 * LD_PRELOAD, so "vm.sh -- build/tests/unit" is all it takes.
 *
 * Usage: unit [CASE-NAME...]   (no names: every case the lab can run)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

static unsigned int lab_has;
static int added, skipped, argc_;
static char **argv_;

void unit_setup(void)
{
	int ret = lab_reset();

	ck_assert_msg(ret == 0, "lab_reset: %s", strerror(-ret));
	tu_catch_log();
	tu_clear_log();
}

void unit_add(TCase *tc, const TTest *test, unsigned int needs)
{
	unsigned int missing = needs & ~lab_has;
	bool wanted = argc_ <= 1;

	for (int i = 1; i < argc_; i++)
		wanted |= !strcmp(argv_[i], test->name);
	if (!wanted)
		return;
	if (missing) {
		printf("not run: %s: this lab has %s\n", test->name,
		       missing & NEED_PROVIDER ? "no svmref provider" : "no non-VFIO driver to rebind to");
		skipped++;
		return;
	}
	tcase_add_test(tc, test);
	added++;
}

/* Exec ourselves again with the injector preloaded (ASan must then not insist on coming first). */
static void preload_faultinj(char **argv)
{
	const char *pre = getenv("LD_PRELOAD"), *asan = getenv("ASAN_OPTIONS");
	char *val;

	if (faultinj_inject || getenv("SVMBIND_UNIT_REEXEC"))
		return;
	if (asprintf(&val, "%s%s%s", SVMBIND_FAULTINJ_SO, pre && *pre ? ":" : "", pre ? pre : "") < 0)
		abort();
	setenv("LD_PRELOAD", val, 1);
	free(val);
	if (asprintf(&val, "%s%sverify_asan_link_order=0", asan ? asan : "", asan && *asan ? ":" : "") < 0)
		abort();
	setenv("ASAN_OPTIONS", val, 1);
	free(val);
	setenv("SVMBIND_UNIT_REEXEC", "1", 1);
	execv("/proc/self/exe", argv);
	perror("unit: exec /proc/self/exe");
	exit(1);
}

int main(int argc, char **argv)
{
	Suite *s = suite_create("unit");
	SRunner *sr;
	long v;
	int ret, failed;

	argc_ = argc;
	argv_ = argv;
	ret = lab_open();
	if (ret) {
		printf("unit: no lab (%s): run it in the VM (tests/vm/vm.sh)\n", strerror(-ret));
		return 77;
	}
	preload_faultinj(argv);
	if (!faultinj_inject) {
		printf("unit: the fault injector %s is not in the process\n", SVMBIND_FAULTINJ_SO);
		return 1;
	}
	ret = lab_reset();
	if (ret) {
		printf("unit: lab_reset: %s\n", strerror(-ret));
		return 1;
	}
	if (lab_get_param("dialect", &v) == 0)
		lab_has |= NEED_PROVIDER;
	if (getenv("SVMBIND_LAB_OTHER_DRIVER") && *getenv("SVMBIND_LAB_OTHER_DRIVER"))
		lab_has |= NEED_DRIVERS;
	suite_add_tcase(s, tcase_faults());
	suite_add_tcase(s, tcase_errors());
	suite_add_tcase(s, tcase_probe());
	suite_add_tcase(s, tcase_log());
	printf("unit on %s: %d cases, %d not run here\n", getenv("SVMBIND_LAB_DRIVER"), added, skipped);
	if (!added)
		return 77;
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
