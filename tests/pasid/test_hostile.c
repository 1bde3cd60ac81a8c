// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* test_space: what a PASID space refuses, and floods it survives (space_helpers.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "space_helpers.h"

static struct svmbind_space *new_space(struct owner *o, uint32_t flags)
{
	struct svmbind_space_opts so = { .sz = sizeof(so), .flags = flags };
	struct svmbind_space *s = NULL;

	ck_assert_int_eq(svmbind_space_new(o->dev, &so, &s), 0);
	return s;
}

START_TEST(fd_that_is_not_a_memfd_is_refused)
{
	struct owner a;
	struct svmbind_space *s;
	int p[2], f;

	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	ck_assert_int_eq(svmbind_space_map(s, p[0], 0, PG, 0x100000000ull, 0),
			 -SVMBIND_SPACE_ERR_NOT_MEMFD);
	f = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);	/* a regular file, not shmem */
	ck_assert_int_ge(f, 0);
	ck_assert_int_eq(svmbind_space_map(s, f, 0, PG, 0x100000000ull, SVMBIND_DMA_READ),
			 -SVMBIND_SPACE_ERR_NOT_MEMFD);
	svmbind_space_free(s);
	owner_close(&a);
}
END_TEST

START_TEST(memfd_that_cannot_be_sealed_is_refused)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 2, 0, MFD_NO_SEALING);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), -SVMBIND_SPACE_ERR_SEALS);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(shared_memfd_cannot_shrink)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 4, 0, MFD_PLAIN);
	ck_assert_int_eq(client_truncate(&b, 4 * PG), 0);	/* allowed before sharing */
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), 0);
	ck_assert_int_eq(client_truncate(&b, PG), -EPERM);
	client_fill(&b, 0, PG, 21);
	ck_assert_int_eq(space_copy(&a, s, 0, b.addr, b.addr + 3 * PG, PG, NULL, NULL, NULL),
			 SD_ST_DONE);
	ck_assert_int_eq(client_same(&b, 0, 3 * PG, PG), 1);	/* device and B still agree */
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(write_sealed_memfd_is_placed_read_only_only)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 2, 0, MFD_PLAIN);
	ck_assert_int_eq(client_seal(&b, F_SEAL_FUTURE_WRITE), 0);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), -SVMBIND_SPACE_ERR_SEALS);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, SVMBIND_DMA_READ), 0);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(overlapping_regions_are_refused)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 4, 0, MFD_PLAIN);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, 2 * PG, b.addr, 0), 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, PG, 2 * PG, b.addr + PG, 0),
			 -SVMBIND_SPACE_ERR_OVERLAP);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 2 * PG, 2 * PG, b.addr + 2 * PG, 0), 0);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(range_past_the_end_of_the_file_is_refused)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, PG, 2 * PG, b.addr, 0),
			 -SVMBIND_SPACE_ERR_BEYOND_FILE);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(iova_outside_the_reported_ranges_is_refused)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, PG, 1ull << 60, 0),
			 -SVMBIND_SPACE_ERR_IOVA_RANGE);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, PG, b.addr + 1, 0), -EINVAL);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

static void drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	ck_assert_int_eq(syscall(SYS_capget, &h, d), 0);
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	d[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	ck_assert_int_eq(syscall(SYS_capset, &h, d), 0);
}

START_TEST(region_beyond_the_memlock_limit_is_refused)
{
	struct rlimit rl = { 256 * 1024, 256 * 1024 };
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 256, 0, MFD_PLAIN);	/* 1 MiB */
	drop_cap_ipc_lock();
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), -SVMBIND_ERR_MEMLOCK);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOMEM);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, 16 * PG, b.addr, 0), 0);	/* under it */
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(flood_of_page_requests_is_answered_and_bounded)
{
	struct svmbind_space_stats st = { .sz = sizeof(st) };
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	uint32_t prqs;
	int i, n = 200;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 0);
	s = new_space(&a, SVMBIND_SPACE_PAGE_REQUESTS);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, SVMBIND_SPACE_ON_DEMAND), 0);
	prqs = svmdma_rd(&a.sd, SD_PRQS);
	for (i = 0; i < n; i++)		/* each doorbell asks for a page nobody shared */
		ck_assert_int_eq(space_copy(&a, s, SD_CTRL_PRI, b.addr, b.other + 0, 64, NULL, NULL,
					    NULL), SD_ST_ERR_PRI);
	ck_assert_int_eq(svmbind_space_stats(s, &st), 0);
	printf("flood: %d doorbells, device PRQS +%u, %llu requests read, %llu refused, %llu served\n",
	       n, svmdma_rd(&a.sd, SD_PRQS) - prqs, (unsigned long long)st.requests,
	       (unsigned long long)st.refused, (unsigned long long)st.served);
	ck_assert_uint_eq(st.requests, svmdma_rd(&a.sd, SD_PRQS) - prqs);
	ck_assert_uint_eq(st.refused, (uint64_t)n);	/* every destination request */
	ck_assert_uint_eq(st.served, 1);		/* the source page, placed once */
	ck_assert_uint_eq(st.requests, (uint64_t)n + 1);
	ck_assert_uint_eq(st.mapped_bytes, PG);
	ck_assert_int_eq(client_other_byte(&b), 0x5a);
	/* and the space still serves a real request afterwards */
	client_fill(&b, 0, PG, 22);
	ck_assert_int_eq(space_copy(&a, s, SD_CTRL_PRI, b.addr, b.addr + PG, PG, NULL, NULL, NULL),
			 SD_ST_DONE);
	ck_assert_int_eq(client_same(&b, 0, PG, PG), 1);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(page_requests_on_a_device_without_pri_are_refused)
{
	struct svmbind_space_opts so = { .sz = sizeof(so), .flags = SVMBIND_SPACE_PAGE_REQUESTS };
	struct owner a;
	struct svmbind_space *s = NULL;

	owner_open(&a, 1);
	ck_assert_int_eq(svmbind_space_new(a.dev, &so, &s), -SVMBIND_SPACE_ERR_NO_PAGE_REQUESTS);
	ck_assert_ptr_null(s);
	s = new_space(&a, 0);		/* without page requests it works */
	svmbind_space_free(s);
	owner_close(&a);
}
END_TEST

START_TEST(on_demand_region_needs_page_requests)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 0);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, SVMBIND_SPACE_ON_DEMAND),
			 -SVMBIND_SPACE_ERR_NO_PAGE_REQUESTS);
	ck_assert_int_eq(svmbind_space_fault_fd(s), -EOPNOTSUPP);
	ck_assert_int_eq(svmbind_space_dispatch(s, NULL, NULL), -EOPNOTSUPP);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(pasid_in_use_is_refused)
{
	struct svmbind_space_opts so = { .sz = sizeof(so), .pasid = 42 };
	struct owner a;
	struct svmbind_space *s1 = NULL, *s2 = NULL;

	owner_open(&a, 1);
	ck_assert_int_eq(svmbind_space_new(a.dev, &so, &s1), 0);
	ck_assert_uint_eq(svmbind_space_pasid(s1), 42);
	ck_assert_int_eq(svmbind_space_new(a.dev, &so, &s2), -SVMBIND_SPACE_ERR_PASID_BUSY);
	svmbind_space_free(s1);
	ck_assert_int_eq(svmbind_space_new(a.dev, &so, &s2), 0);	/* free again */
	svmbind_space_free(s2);
	owner_close(&a);
}
END_TEST

START_TEST(legacy_container_has_no_pasid_path)
{
	struct svmbind_ctx_opts co = { .sz = sizeof(co), .backend = SVMBIND_BACKEND_LEGACY };
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	struct svmbind_space *s = NULL;

	ck_assert_int_eq(svmbind_ctx_new(&co, &ctx), 0);
	ck_assert_int_eq(svmbind_device_open(ctx, sd_devs[1].bdf, NULL, &dev), 0);
	ck_assert_int_eq(svmbind_space_new(dev, NULL, &s), -SVMBIND_SPACE_ERR_NO_PASID_PATH);
	ck_assert_int_eq(svmbind_error_errno(-SVMBIND_SPACE_ERR_NO_PASID_PATH), EOPNOTSUPP);
	{
		struct svmbind_dev_probe p = { .sz = sizeof(p) };

		ck_assert_int_eq(svmbind_probe_device(sd_devs[1].bdf, dev, &p, 0), 0);
		ck_assert_int_eq(p.pasid_space, -SVMBIND_SPACE_ERR_NO_PASID_PATH);
	}
	svmbind_ctx_free(ctx);
}
END_TEST

void add_hostile_tests(Suite *su)
{
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, fd_that_is_not_a_memfd_is_refused);
	tcase_add_test(tc, memfd_that_cannot_be_sealed_is_refused);
	tcase_add_test(tc, shared_memfd_cannot_shrink);
	tcase_add_test(tc, write_sealed_memfd_is_placed_read_only_only);
	tcase_add_test(tc, overlapping_regions_are_refused);
	tcase_add_test(tc, range_past_the_end_of_the_file_is_refused);
	tcase_add_test(tc, iova_outside_the_reported_ranges_is_refused);
	tcase_add_test(tc, region_beyond_the_memlock_limit_is_refused);
	tcase_add_test(tc, flood_of_page_requests_is_answered_and_bounded);
	tcase_add_test(tc, page_requests_on_a_device_without_pri_are_refused);
	tcase_add_test(tc, on_demand_region_needs_page_requests);
	tcase_add_test(tc, pasid_in_use_is_refused);
	tcase_add_test(tc, legacy_container_has_no_pasid_path);
	suite_add_tcase(su, tc);
}
