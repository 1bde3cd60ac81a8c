// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Fault injection at every call the library makes to reach the kernel, on
 * the real kernel: faultinj fails the nth call without performing it and
 * lets every other call through. Whatever fails, the call reports it (code ==
 * errno, a message), nothing leaks, no container is left half-open, and the
 * same thing works again right after.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "unit.h"

struct run {
	int (*fn)(void *);
	void *arg;
	int ret, err;		/* fn's return value and errno */
	const char *fired;	/* the call that failed; NULL: none, the run was clean */
};

#define FIRED(r) ((r)->fired ? (r)->fired : "no fault")

/* Run once with the nth counted call failing with @err. The fault does not
 * fire only when the run makes fewer than n calls: that run was clean. */
static void run_with_fault(struct run *r, unsigned long n, int err)
{
	tu_clear_log();
	faultinj_inject(n, err);
	r->ret = r->fn(r->arg);
	r->err = errno;
	r->fired = faultinj_fired();
	faultinj_inject(0, 0);
	if (!r->fired)
		ck_assert_msg(r->ret == 0, "the clean run (%lu calls) failed: %d (%s); log: %s",
			      n - 1, r->ret, svmbind_strerror(r->ret), tu_last_log());
}

/* A failure is reported: the code is errno's, and the log says what happened. */
static void ck_reported(const struct run *r, unsigned long n)
{
	ck_assert_msg(r->err == -r->ret, "fault at call %lu (%s): returned %d, errno %d", n,
		      FIRED(r), r->ret, r->err);
	ck_assert_msg(tu_last_error()[0], "fault at call %lu (%s): no message", n, FIRED(r));
}

/* The kernel's own view: a container with no group attached has no IOMMU driver. */
static bool kernel_container_has_iommu(struct svmbind_ctx *ctx)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	return ioctl(svmbind_ctx_container_fd(ctx), VFIO_IOMMU_GET_INFO, &info) == 0;
}

START_TEST(injected_fault_hits_the_library_and_never_the_test)
{
	struct svmbind_ctx_opts o;
	struct svmbind_ctx *ctx = NULL;
	int fd;

	faultinj_inject(1, EIO);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);	/* the test's own call: not counted */
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_uint_eq(faultinj_calls(), 0);
	ck_assert_int_eq(tu_ctx_opts(&o), 0);	/* the path under test: its first call is an open */
	ck_assert_int_lt(svmbind_ctx_new(&o, &ctx), 0);	/* its first call fails */
	ck_assert_ptr_nonnull(faultinj_fired());
	ck_assert_msg(!strncmp(faultinj_fired(), "open", 4), "first call: %s", faultinj_fired());
	ck_assert_uint_eq(faultinj_calls(), 1);
	ck_assert_ptr_null(ctx);
	faultinj_inject(0, 0);
	ck_ok(svmbind_ctx_new(&o, &ctx));
	ck_assert_uint_gt(faultinj_calls(), 1);
	svmbind_ctx_free(ctx);
}
END_TEST

struct opener {
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	const char *name;
};

static int do_open(void *arg)
{
	struct opener *o = arg;

	o->dev = NULL;
	return svmbind_device_open(o->ctx, o->name, NULL, &o->dev);
}

/* After a failed open, a clean open must work and set up the container again. */
static void ck_clean_reopen(struct svmbind_ctx *ctx, const char *name)
{
	struct svmbind_device *dev = tu_open(ctx, name);

	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_TYPE1v2_IOMMU);
	ck_assert(kernel_container_has_iommu(ctx));
	ck_ok(svmbind_device_close(dev));
	ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), 0);
	ck_assert(!kernel_container_has_iommu(ctx));
}

START_TEST(device_open_survives_a_fault_at_every_call)
{
	struct opener o = { .ctx = tu_ctx(), .name = lab_dev(2) };
	struct run r = { .fn = do_open, .arg = &o };
	unsigned long i;

	for (i = 1;; i++) {
		int fds = tu_fds();

		run_with_fault(&r, i, EIO);
		if (r.ret == 0) {
			/* the clean run, or a call whose failure the library may shrug off */
			ck_ok(svmbind_device_close(o.dev));
		} else {
			ck_assert_ptr_null(o.dev);
			ck_reported(&r, i);
		}
		ck_fds_same(fds);
		ck_assert_int_eq(svmbind_ctx_iommu_type(o.ctx), 0);
		ck_assert_msg(!kernel_container_has_iommu(o.ctx), "fault at call %lu (%s): the "
			      "kernel's container still has an IOMMU", i, FIRED(&r));
		if (!r.fired)
			break;
		ck_clean_reopen(o.ctx, o.name);
	}
	ck_assert_uint_gt(i, 5);	/* group, status, container, IOMMU, device fd, info... */
	svmbind_ctx_free(o.ctx);
}
END_TEST

START_TEST(device_open_in_a_shared_group_survives_every_fault)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *a = tu_open(ctx, lab_dev(0));
	struct opener o = { .ctx = ctx, .name = lab_dev(1) };
	struct run r = { .fn = do_open, .arg = &o };
	unsigned long i;

	for (i = 1;; i++) {
		int fds = tu_fds();

		run_with_fault(&r, i, ENOMEM);
		if (r.ret == 0)
			ck_ok(svmbind_device_close(o.dev));
		else
			ck_reported(&r, i);
		ck_fds_same(fds);
		/* the group a holds stays attached whatever failed */
		ck_assert_int_eq(svmbind_ctx_iommu_type(ctx), VFIO_TYPE1v2_IOMMU);
		ck_assert(kernel_container_has_iommu(ctx));
		if (!r.fired)
			break;
		ck_ok(svmbind_device_close(tu_open(ctx, lab_dev(1))));	/* and again, cleanly */
	}
	ck_assert_uint_gt(i, 2);
	ck_ok(svmbind_device_close(a));
	svmbind_ctx_free(ctx);
}
END_TEST

/* In a fresh child, so that what a process sets up once is cold: exit codes
 * 0 faulted and fine, 1 the clean run, 10+ a failed check (named below). */
static int ctx_under_fault(void *arg)
{
	unsigned long n = *(unsigned long *)arg;
	struct svmbind_ctx *ctx = NULL;
	int fds = tu_fds(), ret, err;

	tu_clear_log();
	faultinj_inject(n, EIO);
	ret = svmbind_ctx_new(NULL, &ctx);
	err = errno;
	if (!faultinj_fired())
		return ret == 0 ? 1 : 10;
	faultinj_inject(0, 0);
	if (ret == 0) {
		svmbind_ctx_free(ctx);
	} else {
		if (ctx)
			return 11;
		if (err != -ret)
			return 12;
		if (!tu_last_error()[0])
			return 13;
	}
	if (tu_fds() != fds)
		return 14;
	/* and again, cleanly, as far as a device */
	if (svmbind_ctx_new(NULL, &ctx))
		return 15;
	ret = svmbind_device_open(ctx, lab_dev(2), NULL, &(struct svmbind_device *){ NULL });
	svmbind_ctx_free(ctx);
	return ret ? 16 : 0;
}

START_TEST(context_creation_survives_a_fault_at_every_call)
{
	unsigned long i;
	int ret;

	for (i = 1;; i++) {
		ret = tu_run_as(-1, ctx_under_fault, &i);
		if (ret == 1)
			break;
		ck_assert_msg(ret == 0, "fault at call %lu: check %d failed (10 clean run, 11 handle, "
			      "12 errno, 13 message, 14 fd leak, 15-16 clean reopen)", i, ret);
	}
	ck_assert_uint_gt(i, 2);	/* container, API version */
}
END_TEST

static int do_map(void *arg)
{
	struct opener *o = arg;
	void *p;
	size_t len;
	int ret = svmbind_device_map_region(o->dev, 0, PROT_READ | PROT_WRITE, &p, &len);

	return ret ? ret : svmbind_device_unmap_region(o->dev, p, len);
}

START_TEST(bar_map_and_unmap_survive_a_fault_at_every_call)
{
	struct opener o = { .ctx = tu_ctx(), .name = lab_dev(2) };
	struct run r = { .fn = do_map, .arg = &o };
	unsigned long i;

	ck_ok(do_open(&o));
	for (i = 1;; i++) {
		int fds = tu_fds();

		run_with_fault(&r, i, ENOMEM);
		if (!r.fired)
			break;
		ck_assert_int_ne(r.ret, 0);
		ck_reported(&r, i);
		ck_fds_same(fds);
		ck_ok(do_map(&o));
	}
	ck_assert_uint_gt(i, 3);	/* region info, mmap, munmap */
	svmbind_ctx_free(o.ctx);
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

static void bind_unbind_under_every_fault(pid_t pid)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct binder b = { .dev = tu_open(ctx, lab_dev(2)), .pid = pid };
	struct run r = { .fn = do_bind_unbind, .arg = &b };
	unsigned long i;

	ck_assert_int_eq(svmbind_device_dialect(b.dev), SVMBIND_DIALECT_PID);	/* probed: cached */
	for (i = 1;; i++) {
		run_with_fault(&r, i, EIO);
		if (r.ret)
			ck_reported(&r, i);
		/* The handle's book and the kernel's agree. */
		ck_assert_msg((long)svmbind_device_nr_bonds(b.dev) == tu_param("bonds"),
			      "fault at call %lu (%s): the handle lists %zu bonds, the kernel has %ld",
			      i, FIRED(&r), svmbind_device_nr_bonds(b.dev), tu_param("bonds"));
		if (svmbind_device_nr_bonds(b.dev))
			ck_ok(svm_unbind(b.dev, b.pasid, 0));
		ck_assert_int_eq(tu_param("bonds"), 0);
		if (!r.fired)
			break;
		ck_ok(do_bind_unbind(&b));
	}
	ck_assert_uint_gt(i, 2);	/* bind, unbind */
	svmbind_ctx_free(ctx);
}

START_TEST(bind_self_and_unbind_survive_a_fault_at_every_call)
{
	bind_unbind_under_every_fault(0);
}
END_TEST

START_TEST(bind_pid_and_unbind_survive_a_fault_at_every_call)
{
	bind_unbind_under_every_fault(getppid());
}
END_TEST

START_TEST(close_with_bonds_survives_a_fault_at_every_call)
{
	int fds = tu_fds();
	struct opener o = { .name = lab_dev(2) };
	struct run r = { 0 };
	unsigned long i;
	uint32_t pasid;

	for (i = 1;; i++) {
		o.ctx = tu_ctx();
		ck_ok(do_open(&o));
		ck_ok(svm_bind_self(o.dev, &pasid));
		tu_clear_log();
		faultinj_inject(i, EIO);
		r.ret = svmbind_device_close(o.dev);
		r.err = errno;
		r.fired = faultinj_fired();
		faultinj_inject(0, 0);
		if (r.ret)
			ck_reported(&r, i);
		/* whatever failed, the handle is gone and so is the bond: closing the fd released it */
		svmbind_ctx_free(o.ctx);
		ck_fds_same(fds);
		ck_assert_int_eq(tu_param("bonds"), 0);
		if (!r.fired) {
			ck_ok(r.ret);
			break;
		}
	}
	ck_assert_uint_gt(i, 2);	/* unbind, close */
}
END_TEST

TCase *tcase_faults(void)
{
	TCase *tc = tcase_create("faults");

	tcase_add_checked_fixture(tc, unit_setup, NULL);
	tcase_set_timeout(tc, 120);
	unit_add(tc, injected_fault_hits_the_library_and_never_the_test, 0);
	unit_add(tc, device_open_survives_a_fault_at_every_call, 0);
	unit_add(tc, device_open_in_a_shared_group_survives_every_fault, 0);
	unit_add(tc, context_creation_survives_a_fault_at_every_call, 0);
	unit_add(tc, bar_map_and_unmap_survive_a_fault_at_every_call, 0);
	unit_add(tc, bind_self_and_unbind_survive_a_fault_at_every_call, NEED_PROVIDER);
	unit_add(tc, bind_pid_and_unbind_survive_a_fault_at_every_call, NEED_PROVIDER);
	unit_add(tc, close_with_bonds_survives_a_fault_at_every_call, NEED_PROVIDER);
	return tc;
}
