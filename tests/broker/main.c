// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The broker's tests (include/svmbind/broker.h), one behaviour each, on the
 * real kernel in the VM with the svmref provider, as root:
 *   tests/vm/vm.sh --driver svmref -- BUILD/tests/broker/test_broker
 * Outside that lab the program exits 77 (skipped). CK_RUN_CASE/CK_RUN_SUITE
 * select; BROKER_TEST_CLIENTS sizes the stress case (1000).
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "tests.h"

int main(int argc, char **argv)
{
	Suite *s;
	SRunner *sr;
	int failed;

	if (argc > 1 && !strcmp(argv[1], "--successor"))
		return successor_main(argc, argv);
	if (argc > 1 && !strncmp(argv[1], "--truth-", 8))
		return truth_successor_main(argc, argv);
	bt_require_provider();
	s = suite_create("broker");
	add_identity_tests(s);
	add_revoke_tests(s);
	add_policy_tests(s);
	add_protocol_tests(s);
	add_stress_tests(s);
	add_truth_tests(s);
	add_hardening_tests(s);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
