/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
#ifndef BROKER_TESTS_H
#define BROKER_TESTS_H
#include <check.h>
void add_identity_tests(Suite *s);
void add_revoke_tests(Suite *s);
void add_policy_tests(Suite *s);
void add_protocol_tests(Suite *s);
void add_stress_tests(Suite *s);
void add_truth_tests(Suite *s);
void add_hardening_tests(Suite *s);
/* the exec successor: main() runs it when argv[1] is "--successor" */
int successor_main(int argc, char **argv);
/* test_truth.c's successors: argv[1] starts with "--truth-" */
int truth_successor_main(int argc, char **argv);
#endif
