// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Many clients, half of them killed at random moments: nothing left, the broker still serving. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "tests.h"

static int one_client(void *arg)
{
	struct fx *f = arg;
	struct svmbind_client_opts co = { .sz = sizeof(co), .timeout_ms = 120000 };
	struct svmbind_client *cl;
	uint32_t pasid;
	int ret;

	bt_close_fds_except(-1);	/* the broker's fds, copied from our parent */
	srand((unsigned int)getpid());
	ret = svmbind_client_connect(f->path, &co, &cl);
	if (!ret)
		ret = svmbind_client_bind(cl, &pasid);
	if (ret) {
		fprintf(stderr, "client %d: %s\n", (int)getpid(), svmbind_strerror(ret));
		return 1;
	}
	usleep((useconds_t)(rand() % 200000));
	if (rand() % 2 && (ret = svmbind_client_unbind(cl))) {
		fprintf(stderr, "client %d: unbind: %s\n", (int)getpid(), svmbind_strerror(ret));
		return 2;
	}
	pause();	/* until told to go */
	return 0;
}

START_TEST(many_clients_half_killed)
{
	const char *env = getenv("BROKER_TEST_CLIENTS");
	int n = env ? atoi(env) : 1000, killed = 0, failed = 0;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .max_clients = 20000, .hello_timeout_ms = 60000 };
	struct rlimit rl = { 65536, 65536 };
	struct svmbind_client *cl;
	struct fx f;
	pid_t *pids = calloc((size_t)n, sizeof(*pids));
	unsigned char *dead = calloc((size_t)n, 1);
	uint32_t pasid;

	setrlimit(RLIMIT_NOFILE, &rl);
	srand((unsigned int)time(NULL));
	fx_start(&f, &o);
	for (int i = 0; i < n; i++) {
		pids[i] = bt_spawn(one_client, &f);
		ck_assert_int_gt(pids[i], 0);
		/* kill a random earlier one at a random moment of its life */
		if (i > 0 && rand() % 2) {
			int k = rand() % (i + 1);

			if (!dead[k]) {
				kill(pids[k], SIGKILL);
				dead[k] = 1;
				killed++;
			}
		}
	}
	while (killed < n / 2) {
		int k = rand() % n;

		if (!dead[k]) {
			usleep((useconds_t)(rand() % 2000));
			kill(pids[k], SIGKILL);
			dead[k] = 1;
			killed++;
		}
	}
	/* the others go in their own time */
	for (int i = 0; i < n; i++)
		if (!dead[i])
			kill(pids[i], SIGTERM);
	for (int i = 0; i < n; i++) {
		int st = bt_wait_child(pids[i]);

		if (!dead[i] && st != 128 + SIGTERM)
			failed++;	/* a survivor that could not connect or bind */
	}
	ck_assert_msg(failed == 0, "%d of %d surviving clients failed to connect or bind", failed, n - killed);
	ck_assert_msg(bt_wait_broker_bonds(&f, 0, 30000), "%zu bonds left in the broker",
		      svmbind_broker_nr_bonds(f.b));
	ck_assert_msg(bt_wait_clients(&f, 0, 30000), "%zu clients left", svmbind_broker_nr_clients(f.b));
	ck_assert_msg(bt_wait_provider_bonds(0, 30000), "%ld bonds left in the provider", bt_provider_bonds());
	ck_assert_uint_eq(svmbind_device_nr_bonds(f.dev), 0);
	/* still serving */
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_code(svmbind_client_bind(cl, &pasid), 0);
	ck_code(svmbind_client_unbind(cl), 0);
	svmbind_client_close(cl);
	fx_stop(&f);
	free(pids);
	free(dead);
}
END_TEST

void add_stress_tests(Suite *s)
{
	TCase *tc = tcase_create("stress");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, many_clients_half_killed);
	suite_add_tcase(s, tc);
}
