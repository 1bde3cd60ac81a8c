// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Fault injection at every kernel call the library makes: whatever fails,
 * the call reports it, nothing leaks, nothing is left half-open. */
#include <unistd.h>

#include "unit.h"

/* How many interposed calls a clean run of @fn makes. */
static unsigned long calls_of(int (*fn)(void *), void *arg)
{
	fakek_inject(0, 0);
	ck_assert_int_eq(fn(arg), 0);
	return fakek_calls();
}

struct opener {
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	const char *name;
};

static int do_open(void *arg)
{
	struct opener *o = arg;

	return svmbind_device_open(o->ctx, o->name, NULL, &o->dev);
}

/* After a failed open, a clean open must work and leave the container usable. */
static void assert_clean_reopen(struct svmbind_ctx *ctx, const char *name)
{
	struct svmbind_device *dev = tu_open(ctx, name);

	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_TYPE1v2_IOMMU);
	ck_ok(svmbind_device_close(dev));
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), 0);
}

static void open_under_every_fault(const char *name, int err)
{
	struct opener o = { .ctx = tu_ctx(), .name = name };
	unsigned long n = calls_of(do_open, &o);

	ck_ok(svmbind_device_close(o.dev));
	ck_assert_uint_gt(n, 5);
	for (unsigned long i = 1; i <= n; i++) {
		int fds = tu_fds(), ret;

		o.dev = NULL;
		fakek_inject(i, err);
		ret = do_open(&o);
		fakek_inject(0, 0);
		if (ret == 0) {
			/* Only a call whose failure the library may shrug off, and says so. */
			ck_ok(svmbind_device_close(o.dev));
		} else {
			ck_assert_ptr_null(o.dev);
			ck_assert_int_eq(errno, -ret);
			ck_assert_msg(tu_last_error()[0], "fault at call %lu: no message", i);
		}
		ck_fds_same(fds);
		ck_assert_int_eq(svmbind_ctx_iommu_type(o.ctx), 0);
		assert_clean_reopen(o.ctx, name);
	}
	svmbind_ctx_free(o.ctx);
}

START_TEST(device_open_survives_a_fault_at_every_call)
{
	open_under_every_fault(lab_dev(2), EIO);
}
END_TEST

START_TEST(device_open_in_a_shared_group_survives_every_fault)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *a = tu_open(ctx, lab_dev(0));
	struct opener o = { .ctx = ctx, .name = lab_dev(1) };
	unsigned long n = calls_of(do_open, &o);

	ck_ok(svmbind_device_close(o.dev));
	for (unsigned long i = 1; i <= n; i++) {
		int fds = tu_fds(), ret;

		o.dev = NULL;
		fakek_inject(i, ENOMEM);
		ret = do_open(&o);
		fakek_inject(0, 0);
		if (ret == 0)
			ck_ok(svmbind_device_close(o.dev));
		ck_fds_same(fds);
		/* the group a holds stays attached whatever failed */
		ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_TYPE1v2_IOMMU);
	}
	ck_ok(svmbind_device_close(a));
	svmbind_ctx_free(ctx);
}
END_TEST

static int do_ctx(void *arg)
{
	struct svmbind_ctx **ctx = arg;

	return svmbind_ctx_new(NULL, ctx);
}

START_TEST(context_creation_survives_a_fault_at_every_call)
{
	struct svmbind_ctx *ctx = NULL;
	unsigned long n = calls_of(do_ctx, &ctx);

	svmbind_ctx_free(ctx);
	for (unsigned long i = 1; i <= n; i++) {
		int fds = tu_fds(), ret;

		ctx = NULL;
		fakek_inject(i, EIO);
		ret = do_ctx(&ctx);
		fakek_inject(0, 0);
		if (ret == 0)
			svmbind_ctx_free(ctx);
		else
			ck_assert_ptr_null(ctx);
		ck_fds_same(fds);
	}
}
END_TEST

struct binder {
	struct svmbind_device *dev;
	pid_t pid;
	uint32_t pasid;
};

static int do_bind_unbind(void *arg)
{
	struct binder *b = arg;
	int ret = b->pid ? svm_bind_pid(b->dev, b->pid, &b->pasid) : svm_bind_self(b->dev, &b->pasid);

	return ret ? ret : svm_unbind(b->dev, b->pasid, 0);
}

START_TEST(bind_and_unbind_survive_a_fault_at_every_call)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct binder b = { .dev = tu_open(ctx, lab_dev(2)), .pid = getppid() };
	unsigned long n = calls_of(do_bind_unbind, &b);

	for (unsigned long i = 1; i <= n; i++) {
		int ret;

		fakek_inject(i, EIO);
		ret = do_bind_unbind(&b);
		fakek_inject(0, 0);
		ck_assert_int_ne(ret, 0);
		/* The handle's book and the kernel's agree. */
		ck_assert_int_eq((long)svmbind_device_nr_bonds(b.dev), tu_param("bonds"));
		if (svmbind_device_nr_bonds(b.dev))
			ck_ok(svm_unbind(b.dev, b.pasid, 0));
		ck_assert_int_eq(tu_param("bonds"), 0);
	}
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(close_with_bonds_survives_a_fault_at_every_call)
{
	int fds = tu_fds();

	for (unsigned long i = 1; i <= 4; i++) {
		struct svmbind_ctx *ctx = tu_ctx();
		struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
		uint32_t pasid;

		ck_ok(svm_bind_self(dev, &pasid));
		fakek_inject(i, EIO);
		svmbind_device_close(dev);
		fakek_inject(0, 0);
		svmbind_ctx_free(ctx);
		ck_fds_same(fds);
		ck_assert_int_eq(tu_param("bonds"), 0);	/* closing the fd released it */
	}
}
END_TEST

TCase *tcase_faults(void)
{
	TCase *tc = tcase_create("faults");

	tcase_add_checked_fixture(tc, unit_setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, device_open_survives_a_fault_at_every_call);
	tcase_add_test(tc, device_open_in_a_shared_group_survives_every_fault);
	tcase_add_test(tc, context_creation_survives_a_fault_at_every_call);
	tcase_add_test(tc, bind_and_unbind_survive_a_fault_at_every_call);
	tcase_add_test(tc, close_with_bonds_survives_a_fault_at_every_call);
	return tc;
}
