/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Shared by test_hardening.c and test_hardening_client.c. */
#ifndef BROKER_HARDENING_H
#define BROKER_HARDENING_H
#include <check.h>

/* Catch every library log message (any thread) from now on, at debug level. */
void log_start(void);
/* Occurrences of @s in what was caught. */
int log_count(const char *s);
void log_stop(void);
/* Write Yama's ptrace_scope. */
void yama(int scope);
void add_hardening_client_tests(Suite *s);
void add_hardening_start_tests(Suite *s);
#endif
