// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * space_bench: figures of the PASID-space path on the SVA VM (stock vfio-pci):
 *  - a page request served in user space: one-page copies whose destination
 *    page is placed on demand, against the same copies to placed pages
 *  - 1 MiB copies through a placed memfd region under the PASID, against the
 *    same copies through a plain IOVA mapping (no PASID)
 * TCG: only ratios mean anything. Exit 77 outside the SVA VM. A Check case
 * because the helpers assert with Check.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "space_helpers.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

START_TEST(figures)
{
	enum { N = 128, BIG = 256 * PG, REPS = 32 };
	struct svmbind_space_opts so = { .sz = sizeof(so), .flags = SVMBIND_SPACE_PAGE_REQUESTS };
	struct svmbind_space *s;
	struct client b;
	struct owner a;
	double t0, placed, demand, pasid_bw, iova_bw;
	uint8_t *buf;
	client_start(&b, 2 * N + 2 * (BIG / PG), 0, MFD_PLAIN);
	owner_open(&a, 0);
	if (svmbind_space_new(a.dev, &so, &s))
		ck_abort();
	/* [0, N) placed; [N, 2N) on demand; then two BIG halves placed */
	if (svmbind_space_map(s, b.memfd, 0, N * PG, b.addr, 0) ||
	    svmbind_space_map(s, b.memfd, N * PG, N * PG, b.addr + N * PG, SVMBIND_SPACE_ON_DEMAND) ||
	    svmbind_space_map(s, b.memfd, 2 * N * PG, 2 * BIG, b.addr + 2 * N * PG, 0))
		ck_abort();
	t0 = now();
	for (int i = 0; i < N; i++)
		if (space_copy(&a, s, 0, b.addr, b.addr + (uint64_t)i * PG, PG, NULL, NULL, NULL) != SD_ST_DONE)
			ck_abort();
	placed = (now() - t0) / N;
	t0 = now();
	for (int i = 0; i < N; i++)
		if (space_copy(&a, s, SD_CTRL_PRI, b.addr, b.addr + (uint64_t)(N + i) * PG, PG, NULL,
			       NULL, NULL) != SD_ST_DONE)
			ck_abort();
	demand = (now() - t0) / N;
	printf("one-page copy: %.1f us placed, %.1f us with one page request served in user space: "
	       "round trip ~%.1f us (ratio %.2f)\n", placed * 1e6, demand * 1e6,
	       (demand - placed) * 1e6, demand / placed);
	t0 = now();
	for (int i = 0; i < REPS; i++)
		if (space_copy(&a, s, 0, b.addr + 2 * N * PG, b.addr + 2 * N * PG + BIG, BIG, NULL,
			       NULL, NULL) != SD_ST_DONE)
			ck_abort();
	pasid_bw = (double)BIG * REPS / (now() - t0);
	buf = mmap(NULL, 2 * BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED || svmbind_dma_map(a.ctx, buf, 0x10000000, 2 * BIG, 0))
		ck_abort();
	t0 = now();
	for (int i = 0; i < REPS; i++)
		if (svmdma_copy(&a.sd, 0, SD_CTRL_NOPASID, 0x10000000, 0x10000000 + BIG, BIG, NULL,
				NULL, NULL) != SD_ST_DONE)
			ck_abort();
	iova_bw = (double)BIG * REPS / (now() - t0);
	printf("1 MiB copies: PASID space %.2f GB/s, plain IOVA %.2f GB/s, ratio %.2f\n",
	       pasid_bw / 1e9, iova_bw / 1e9, pasid_bw / iova_bw);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("space_bench");
	TCase *tc = tcase_create("bench");
	SRunner *sr;
	int failed;

	if (svmdma_find(sd_devs, "vfio-pci")) {
		printf("space_bench: SKIP: not the SVA VM\n");
		return 77;
	}
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, figures);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
