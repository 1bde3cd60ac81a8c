// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The conformance suite's runner: on Debian's kernel in the VM (tests/vm/),
 * with stock vfio-pci and with the svmref provider.
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
	TCase *tcases[16];
	const char *names[16];
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

	for (i = 0; i < 16 && r->names[i]; i++)
		if (!strcmp(r->names[i], name))
			return r->tcases[i];
	if (i >= 16)
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
					   "no settable Yama", "not root", "no iommufd",
					   "has iommufd", "is not stock vfio-pci",
					   "runs on iommufd, not the legacy container",
					   "is not in no-IOMMU mode", "has no IOMMU (no-IOMMU mode)" };
	unsigned int missing = needs & ~r->lab_has & ~NEED_LAST;

	if (!wanted(r, test->name))
		return;
	if (missing) {
		for (unsigned int b = 0; b < sizeof(why) / sizeof(why[0]); b++)
			if (missing & (1u << b)) {
				printf("not run: %s: this lab %s\n", test->name, why[b]);
				break;
			}
		r->skipped++;
		return;
	}
	if ((needs & NEED_LAST) && getenv("SVMBIND_TEST_NO_LAST")) {
		printf("not run: %s: it changes the lab for good; it runs in the boot's last "
		       "conformance command\n", test->name);
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

static bool lab_noiommu_mode(void)
{
	char c = 0;
	FILE *f = fopen("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "re");

	if (f) {
		c = (char)fgetc(f);
		fclose(f);
	}
	return c == 'Y' || c == '1';
}

static unsigned int lab_capabilities(void)
{
	unsigned int has = 0;
	long v;

	if (getenv("SVMBIND_LAB_OTHER_DRIVER"))
		has |= NEED_DRIVERS;
	if (lab_get_param("dialect", &v) == 0)
		has |= NEED_PROVIDER;
	if (lab_set_yama(0) == 0)
		has |= NEED_YAMA;
	if (geteuid() == 0)
		has |= NEED_ROOT;
	if (access("/dev/iommu", F_OK) == 0 && access("/sys/class/vfio-dev", F_OK) == 0) {
		if (!lab_noiommu_mode())	/* no-IOMMU devices have no cdev */
			has |= NEED_IOMMUFD;
	} else {
		has |= NEED_NO_IOMMUFD;
	}
	if (getenv("SVMBIND_LAB_DRIVER") && !strcmp(getenv("SVMBIND_LAB_DRIVER"), "vfio-pci"))
		has |= NEED_STOCK;
	has |= lab_noiommu_mode() ? NEED_NOIOMMU : NEED_IOMMU;
	{	/* the path tu_ctx() takes */
		struct svmbind_ctx_opts o;
		struct svmbind_ctx *ctx = NULL;

		if (!tu_ctx_opts(&o) && !svmbind_ctx_new(&o, &ctx) &&
		    svmbind_ctx_backend(ctx) == SVMBIND_BACKEND_LEGACY)
			has |= NEED_LEGACY;
		svmbind_ctx_free(ctx);
	}
	return has;
}

int main(int argc, char **argv)
{
	struct registry r = { .argc = argc, .argv = argv };
	SRunner *sr;
	int ret, failed;

	ret = lab_open();
	if (ret) {
		printf("conformance: no lab (%s): run it in the VM (tests/vm/vm.sh)\n", strerror(-ret));
		return 77;
	}
	ret = lab_reset();
	if (ret) {
		printf("conformance: lab_reset: %s\n", strerror(-ret));
		return 1;
	}
	r.lab_has = lab_capabilities();
	r.suite = suite_create("conformance");
	cases_device(&r);
	cases_svm(&r);
	cases_procs(&r);
	cases_bonds(&r);
	cases_paths(&r);
	cases_handles(&r);
	cases_quiet(&r);
	for (int i = 0; i < r.nr_last; i++) {
		/* a test case of their own, made last: Check runs test cases in order */
		tcase_add_test(tcase_for(&r, "last"), r.last[i]);
		r.added++;
	}
	printf("conformance on %s: %d cases, %d not run here\n", getenv("SVMBIND_LAB_DRIVER"), r.added, r.skipped);
	if (!r.added)
		return 77;
	sr = srunner_create(r.suite);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
