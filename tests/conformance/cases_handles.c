// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Conformance: what a handle hands back, and to whom. A getter says how many
 * bytes it filled (a member added inside an older struct's padding must not
 * read as a value), and a handle inherited through fork() asks the kernel
 * nothing through the parent's fds: regions, the dialect and the probes too.
 */
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cases.h"

/* The version of svmbind_device_bond() that programs built before 1.2 call. */
int bond_v1_0(struct svmbind_device *dev, size_t i, struct svmbind_bond *bond);
__asm__(".symver bond_v1_0, svmbind_device_bond@LIBSVMBIND_1.0");

START_TEST(the_bond_getter_says_how_many_bytes_it_filled)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct {
		struct svmbind_bond b;
		uint64_t newer;		/* a member a newer caller knows, this library does not */
	} big = { .b.sz = sizeof(big) };
	struct svmbind_bond small;
	uint32_t pasid;

	ck_ok(svm_bind_self(dev, &pasid));
	ck_ok(svmbind_device_bond(dev, 0, &big.b));
	ck_assert_uint_eq(big.b.sz, sizeof(struct svmbind_bond));
	ck_assert_int_eq(big.b.alive, 1);
	ck_assert_uint_eq(big.newer, 0);

	/* a 1.0-sized caller that stops before alive: alive is neither written nor counted */
	memset(&small, 0x5a, sizeof(small));
	small.sz = offsetof(struct svmbind_bond, alive);
	ck_ok(svmbind_device_bond(dev, 0, &small));
	ck_assert_uint_eq(small.sz, offsetof(struct svmbind_bond, alive));
	ck_assert_uint_eq(small.pasid, pasid);
	ck_assert_int_eq(small.alive, 0x5a5a5a5a);
	ck_ok(svm_unbind(dev, pasid, 0));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(the_bond_getter_programs_built_before_1_2_call_leaves_sz_alone)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct {
		struct svmbind_bond b;
		uint64_t newer;
	} big = { .b.sz = sizeof(big) };
	uint32_t pasid;

	ck_ok(svm_bind_self(dev, &pasid));
	ck_ok(bond_v1_0(dev, 0, &big.b));
	ck_assert_uint_eq(big.b.sz, sizeof(big));
	ck_assert_uint_eq(big.b.pasid, pasid);
	ck_assert_int_eq(big.b.alive, 1);
	ck_ok(svm_unbind(dev, pasid, 0));
	svmbind_ctx_free(ctx);
}
END_TEST

enum { CHILD_OK = 0, CHILD_WRONG = 1 };

START_TEST(a_forked_child_is_refused_regions_the_dialect_and_device_probes)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	int status;
	pid_t child;

	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct svmbind_region_info ri = { .sz = sizeof(ri) };
		struct svmbind_dev_probe p = { .sz = sizeof(p) };
		void *addr = NULL;
		size_t len = 0;
		int bad = 0;

		bad |= svmbind_device_region_info(dev, 0, &ri) != -SVMBIND_ERR_FORKED;
		bad |= svmbind_device_map_region(dev, 0, PROT_READ, &addr, &len) != -SVMBIND_ERR_FORKED;
		bad |= svmbind_device_dialect(dev) != -SVMBIND_ERR_FORKED;
		bad |= svmbind_probe_device(lab_dev(2), dev, &p, SVMBIND_PROBE_NOCACHE) != 0;
		bad |= p.dialect != -SVMBIND_ERR_FORKED;
		bad |= p.iommu_pasid_log2 != -SVMBIND_ERR_FORKED;
		svmbind_ctx_free(ctx);
		_exit(bad ? CHILD_WRONG : CHILD_OK);
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), CHILD_OK);
	ck_assert_int_ge(svmbind_device_dialect(dev), 0);	/* the parent's handle still works */
	svmbind_ctx_free(ctx);
}
END_TEST

void cases_handles(struct registry *r)
{
	reg(r, "handles", the_bond_getter_says_how_many_bytes_it_filled, NEED_PROVIDER);
	reg(r, "handles", the_bond_getter_programs_built_before_1_2_call_leaves_sz_alone,
	    NEED_PROVIDER);
	reg(r, "handles", a_forked_child_is_refused_regions_the_dialect_and_device_probes, 0);
}
