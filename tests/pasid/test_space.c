// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * test_space: the seed's flow on a stock kernel through iommufd PASID attach
 * (include/svmbind/space.h), one behaviour per test, in the SVA VM with STOCK
 * vfio-pci on the svm-dma devices:
 *   tests/vm/vm.sh --kernel new --sva --driver vfio-pci -- BUILD/tests/pasid/test_space
 * A (this process) owns the device; B (a child) shares a memfd mapped at its
 * own address; the device copies with B's PASID at B's addresses, and B looks
 * at its own mapping. Exits 77 outside that VM. CK_RUN_CASE selects one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "space_helpers.h"

#define FIXED_AT 0x7e0000000000ull	/* where both clients of the isolation test map */

static struct svmbind_space *new_space(struct owner *o, uint32_t flags)
{
	struct svmbind_space_opts so = { .sz = sizeof(so), .flags = flags };
	struct svmbind_space *s = NULL;

	ck_assert_int_eq(svmbind_space_new(o->dev, &so, &s), 0);
	ck_assert_uint_ne(svmbind_space_pasid(s), 0);
	return s;
}

START_TEST(device_reads_and_writes_shared_bytes_at_clients_addresses)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 4, 0, MFD_PLAIN);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), 0);
	client_fill(&b, 0, 2 * PG, 3);
	ck_assert_int_eq(client_same(&b, 0, 2 * PG, 2 * PG), 0);
	ck_assert_int_eq(space_copy(&a, s, 0, b.addr, b.addr + 2 * PG, 2 * PG, NULL, NULL, NULL),
			 SD_ST_DONE);
	ck_assert_int_eq(client_same(&b, 0, 2 * PG, 2 * PG), 1);	/* in B's own view */
	ck_assert_int_eq(client_check(&b, 0, 2 * PG, 3), 1);		/* source intact */
	ck_assert_int_eq(svmbind_space_free(s), 0);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(copy_moves_clients_bytes_exactly)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	uint8_t *mine;

	client_start(&b, 4, 0, MFD_PLAIN);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), 0);
	client_fill(&b, 0, PG, 5);
	ck_assert_int_eq(space_copy(&a, s, 0, b.addr, b.addr + 3 * PG, PG, NULL, NULL, NULL),
			 SD_ST_DONE);
	/* A's own view of the memfd: page 3 now holds page 0's bytes */
	mine = mmap(NULL, b.len, PROT_READ, MAP_SHARED, b.memfd, 0);
	ck_assert_ptr_ne(mine, MAP_FAILED);
	ck_assert_int_eq(memcmp(mine, mine + 3 * PG, PG), 0);
	ck_assert_int_eq(client_check(&b, 0, PG, 5), 1);
	munmap(mine, b.len);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(address_outside_regions_does_not_translate)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	uint64_t fault = 0;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), 0);
	ck_assert_int_eq(space_copy(&a, s, 0, b.addr, b.other, 64, &fault, NULL, NULL),
			 SD_ST_ERR_DST);
	ck_assert_uint_eq(fault, b.other);
	ck_assert_int_eq(client_other_byte(&b), 0x5a);		/* nothing written */
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(read_only_region_is_not_written)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, PG, b.addr, SVMBIND_DMA_READ), 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, PG, PG, b.addr + PG, SVMBIND_DMA_READ), 0);
	client_fill(&b, PG, PG, 4);
	ck_assert_int_eq(space_copy(&a, s, 0, b.addr, b.addr + PG, 64, NULL, NULL, NULL),
			 SD_ST_ERR_DST);
	ck_assert_int_eq(client_check(&b, PG, PG, 4), 1);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

/* Two clients with their buffers at the same virtual address: each PASID reaches its own. */
START_TEST(two_clients_at_the_same_address_are_isolated)
{
	struct client b1, b2;
	struct owner a;
	struct svmbind_space *s1, *s2;

	client_start(&b1, 2, FIXED_AT, MFD_PLAIN);
	client_start(&b2, 2, FIXED_AT, MFD_PLAIN);
	ck_assert_uint_eq(b1.addr, b2.addr);
	owner_open(&a, 1);
	s1 = new_space(&a, 0);
	s2 = new_space(&a, 0);
	ck_assert_uint_ne(svmbind_space_pasid(s1), svmbind_space_pasid(s2));
	ck_assert_int_eq(svmbind_space_map(s1, b1.memfd, 0, b1.len, b1.addr, 0), 0);
	ck_assert_int_eq(svmbind_space_map(s2, b2.memfd, 0, b2.len, b2.addr, 0), 0);
	client_fill(&b1, 0, 2 * PG, 1);
	client_fill(&b2, 0, 2 * PG, 2);
	client_fill(&b1, 0, PG, 11);
	ck_assert_int_eq(space_copy(&a, s1, 0, b1.addr, b1.addr + PG, PG, NULL, NULL, NULL),
			 SD_ST_DONE);
	ck_assert_int_eq(client_check(&b2, 0, 2 * PG, 2), 1);	/* B2 untouched */
	ck_assert_int_eq(client_same(&b1, 0, PG, PG), 1);
	ck_assert_int_eq(client_same(&b2, 0, PG, PG), 0);
	svmbind_space_free(s1);
	svmbind_space_free(s2);
	owner_close(&a);
	client_stop(&b1);
	client_stop(&b2);
}
END_TEST

START_TEST(freed_space_pasid_translates_nothing)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	uint32_t pasid;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	pasid = svmbind_space_pasid(s);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), 0);
	client_fill(&b, 0, 2 * PG, 6);
	ck_assert_int_eq(svmbind_space_free(s), 0);
	ck_assert_int_ne(svmdma_copy(&a.sd, pasid, 0, b.addr, b.addr + PG, 64, NULL, NULL, NULL),
			 SD_ST_DONE);
	ck_assert_int_eq(client_check(&b, PG, PG, 6), 1);	/* nothing written */
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(unmapped_region_translates_nothing)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), 0);
	ck_assert_int_eq(svmbind_space_unmap(s, b.addr, b.len), 0);
	client_fill(&b, 0, 2 * PG, 8);
	ck_assert_int_ne(space_copy(&a, s, 0, b.addr, b.addr + PG, 64, NULL, NULL, NULL), SD_ST_DONE);
	ck_assert_int_eq(client_check(&b, PG, PG, 8), 1);
	ck_assert_int_eq(svmbind_space_unmap(s, b.addr, b.len), -SVMBIND_SPACE_ERR_NO_REGION);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(on_demand_page_is_served_by_the_fault_handler)
{
	struct svmbind_space_stats st = { .sz = sizeof(st) };
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	uint32_t prqs;

	client_start(&b, 8, 0, MFD_PLAIN);
	owner_open(&a, 0);
	s = new_space(&a, SVMBIND_SPACE_PAGE_REQUESTS);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, SVMBIND_SPACE_ON_DEMAND), 0);
	ck_assert_int_eq(svmbind_space_stats(s, &st), 0);
	ck_assert_uint_eq(st.mapped_bytes, 0);
	client_fill(&b, 0, 2 * PG, 12);
	prqs = svmdma_rd(&a.sd, SD_PRQS);
	ck_assert_int_eq(space_copy(&a, s, SD_CTRL_PRI, b.addr, b.addr + 4 * PG, 2 * PG, NULL,
				    NULL, NULL), SD_ST_DONE);
	ck_assert_int_eq(svmbind_space_stats(s, &st), 0);
	printf("on demand: %llu page requests, %llu served, device PRQS +%u, %llu bytes placed\n",
	       (unsigned long long)st.requests, (unsigned long long)st.served,
	       svmdma_rd(&a.sd, SD_PRQS) - prqs, (unsigned long long)st.mapped_bytes);
	ck_assert_uint_eq(st.requests, 4);		/* 2 source pages, 2 destination pages */
	ck_assert_uint_eq(st.served, 4);
	ck_assert_uint_eq(st.refused, 0);
	ck_assert_uint_eq(svmdma_rd(&a.sd, SD_PRQS) - prqs, 4);
	ck_assert_uint_eq(st.mapped_bytes, 4 * PG);
	/* B's bytes 0..2 pages now at 4..6 pages, in B's own view */
	ck_assert_int_eq(client_same(&b, 0, 4 * PG, 2 * PG), 1);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(on_demand_copy_delivers_the_bytes)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	uint8_t *mine;

	client_start(&b, 4, 0, MFD_PLAIN);
	owner_open(&a, 0);
	s = new_space(&a, SVMBIND_SPACE_PAGE_REQUESTS);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, SVMBIND_SPACE_ON_DEMAND), 0);
	client_fill(&b, 0, PG, 13);
	ck_assert_int_eq(space_copy(&a, s, SD_CTRL_PRI, b.addr, b.addr + 2 * PG, PG, NULL, NULL,
				    NULL), SD_ST_DONE);
	mine = mmap(NULL, b.len, PROT_READ, MAP_SHARED, b.memfd, 0);
	ck_assert_ptr_ne(mine, MAP_FAILED);
	ck_assert_int_eq(memcmp(mine, mine + 2 * PG, PG), 0);
	ck_assert_int_eq(mine[2 * PG + 1], (uint8_t)(13 + 7));
	munmap(mine, b.len);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(page_request_outside_regions_is_answered_invalid)
{
	struct svmbind_space_stats st = { .sz = sizeof(st) };
	struct client b;
	struct owner a;
	struct svmbind_space *s;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 0);
	s = new_space(&a, SVMBIND_SPACE_PAGE_REQUESTS);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, SVMBIND_SPACE_ON_DEMAND), 0);
	ck_assert_int_eq(space_copy(&a, s, SD_CTRL_PRI, b.addr, b.other, 64, NULL, NULL, NULL),
			 SD_ST_ERR_PRI);
	ck_assert_int_eq(client_other_byte(&b), 0x5a);
	ck_assert_int_eq(svmbind_space_stats(s, &st), 0);
	ck_assert_uint_ge(st.refused, 1);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

static int refuse_all(struct svmbind_space *s, const struct svmbind_fault *f, void *arg)
{
	(void)s;
	(void)f;
	++*(int *)arg;
	return SVMBIND_FAULT_REFUSE;
}

START_TEST(callback_refusal_is_answered_invalid)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	int calls = 0;

	client_start(&b, 2, 0, MFD_PLAIN);
	owner_open(&a, 0);
	s = new_space(&a, SVMBIND_SPACE_PAGE_REQUESTS);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, SVMBIND_SPACE_ON_DEMAND), 0);
	client_fill(&b, PG, PG, 14);
	ck_assert_int_eq(space_copy(&a, s, SD_CTRL_PRI, b.addr, b.addr + PG, 64, NULL, refuse_all,
				    &calls), SD_ST_ERR_PRI);
	ck_assert_int_ge(calls, 1);
	ck_assert_int_eq(client_check(&b, PG, PG, 14), 1);
	svmbind_space_free(s);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(free_releases_every_pin)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	long before, mapped;

	client_start(&b, 64, 0, MFD_PLAIN);
	owner_open(&a, 1);
	before = vm_pin_kb();
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), 0);
	mapped = vm_pin_kb();
	ck_assert_int_eq(svmbind_space_free(s), 0);
	printf("VmPin: %ld kB before, %ld kB with 256 KiB placed, %ld kB after free\n", before,
	       mapped, vm_pin_kb());
	ck_assert_int_eq(mapped - before, 256);
	ck_assert_int_eq(vm_pin_kb(), before);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(client_exit_then_free_releases_every_pin)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	long before;

	client_start(&b, 16, 0, MFD_PLAIN);
	owner_open(&a, 1);
	before = vm_pin_kb();
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), 0);
	close(b.memfd);		/* only the library's duplicate holds the file now */
	client_stop(&b);
	ck_assert_int_eq(vm_pin_kb() - before, 64);	/* pinned until revoked */
	ck_assert_int_eq(svmbind_space_free(s), 0);
	ck_assert_int_eq(vm_pin_kb(), before);
	owner_close(&a);
}
END_TEST

START_TEST(device_close_releases_every_pin)
{
	struct client b;
	struct owner a;
	struct svmbind_space *s;
	long before;

	client_start(&b, 16, 0, MFD_PLAIN);
	before = vm_pin_kb();
	owner_open(&a, 1);
	s = new_space(&a, 0);
	ck_assert_int_eq(svmbind_space_map(s, b.memfd, 0, b.len, b.addr, 0), 0);
	ck_assert_int_gt(vm_pin_kb(), before);
	ck_assert_int_eq(svmbind_device_close(a.dev), 0);
	ck_assert_int_eq(vm_pin_kb(), before);
	owner_close(&a);
	client_stop(&b);
}
END_TEST

START_TEST(untagged_dma_keeps_working_beside_spaces)
{
	struct owner a;
	struct svmbind_space *s;
	uint8_t *buf = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(buf, MAP_FAILED);
	memset(buf, 0x33, PG);
	memset(buf + PG, 0, PG);
	owner_open(&a, 1);
	s = new_space(&a, 0);	/* moves the RID to a PASID-capable HWPT */
	ck_assert_int_eq(svmbind_dma_map(a.ctx, buf, 0x100000, 2 * PG, 0), 0);
	ck_assert_int_eq(svmdma_copy(&a.sd, 0, SD_CTRL_NOPASID, 0x100000, 0x100000 + PG, PG, NULL,
				     NULL, NULL), SD_ST_DONE);
	ck_assert_int_eq(buf[PG + 100], 0x33);
	svmbind_space_free(s);
	owner_close(&a);
}
END_TEST

START_TEST(probe_reports_the_path_and_page_requests)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };
	struct owner a, b;

	owner_open(&a, 0);
	owner_open(&b, 1);
	ck_assert_int_eq(svmbind_probe_device(a.sd.bdf, a.dev, &p, 0), 0);
	ck_assert_int_eq(p.pasid_space, 1);
	ck_assert_int_eq(p.pasid_page_requests, 1);
	ck_assert_int_eq(svmbind_probe_device(b.sd.bdf, b.dev, &p, 0), 0);
	ck_assert_int_eq(p.pasid_space, 1);
	ck_assert_int_eq(p.pasid_page_requests, -SVMBIND_SPACE_ERR_NO_PAGE_REQUESTS);
	ck_assert_int_eq(svmbind_probe_device(b.sd.bdf, NULL, &p, 0), 0);
	ck_assert_int_eq(p.pasid_space, -EBADF);
	owner_close(&a);
	owner_close(&b);
}
END_TEST

void add_space_tests(Suite *su)
{
	TCase *tc = tcase_create("space");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, device_reads_and_writes_shared_bytes_at_clients_addresses);
	tcase_add_test(tc, copy_moves_clients_bytes_exactly);
	tcase_add_test(tc, address_outside_regions_does_not_translate);
	tcase_add_test(tc, read_only_region_is_not_written);
	tcase_add_test(tc, two_clients_at_the_same_address_are_isolated);
	tcase_add_test(tc, freed_space_pasid_translates_nothing);
	tcase_add_test(tc, unmapped_region_translates_nothing);
	tcase_add_test(tc, on_demand_page_is_served_by_the_fault_handler);
	tcase_add_test(tc, on_demand_copy_delivers_the_bytes);
	tcase_add_test(tc, page_request_outside_regions_is_answered_invalid);
	tcase_add_test(tc, callback_refusal_is_answered_invalid);
	tcase_add_test(tc, free_releases_every_pin);
	tcase_add_test(tc, client_exit_then_free_releases_every_pin);
	tcase_add_test(tc, device_close_releases_every_pin);
	tcase_add_test(tc, untagged_dma_keeps_working_beside_spaces);
	tcase_add_test(tc, probe_reports_the_path_and_page_requests);
	suite_add_tcase(su, tc);
}

int main(void)
{
	Suite *su;
	SRunner *sr;
	int failed, ret;

	ret = svmdma_find(sd_devs, "vfio-pci");
	if (ret == -ENODEV) {
		printf("test_space: SKIP: no svm-dma devices (not the SVA VM: vm.sh --kernel new --sva)\n");
		return 77;
	}
	if (ret) {
		printf("test_space: binding the svm-dma devices to vfio-pci: %s\n", strerror(-ret));
		return 1;
	}
	if (access("/dev/iommu", F_OK)) {
		printf("test_space: SKIP: no /dev/iommu\n");
		return 77;
	}
	if (getenv("SVMBIND_TEST_LOG"))
		svmbind_set_log(svmbind_log_stderr, NULL);
	su = suite_create("space");
	add_space_tests(su);
	add_hostile_tests(su);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
