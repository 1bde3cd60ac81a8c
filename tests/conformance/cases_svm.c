// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Conformance: the seed's SVM bind/unbind on the caller's own address space,
 * dialect probing, bond bookkeeping, concurrency. */
#include <pthread.h>
#include <sys/mman.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"

START_TEST(dialect_is_probed_in_each_of_the_three)
{
	static const int dialects[] = { SVMBIND_DIALECT_NONE, SVMBIND_DIALECT_SELF, SVMBIND_DIALECT_PID };
	struct svmbind_ctx *ctx = tu_ctx();

	for (unsigned int i = 0; i < 3; i++) {
		ck_assert_int_eq(lab_set_param("dialect", dialects[i]), 0);
		struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
		ck_assert_int_eq(svmbind_device_dialect(dev), dialects[i]);
		ck_assert_int_eq(tu_param("bonds"), 0);	/* a probe leaves no bond */
		ck_ok(svmbind_device_close(dev));
	}
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(probe_device_reports_driver_group_and_dialect)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(0));
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	ck_ok(svmbind_probe_device(lab_dev(0), NULL, &p, 0));
	ck_assert_int_eq(p.vfio_driver, 1);
	if (svmbind_ctx_backend(ctx) == SVMBIND_BACKEND_LEGACY)
		ck_assert_int_eq(p.iommu_group, svmbind_device_group(dev));
	else	/* opened through its cdev, not its group */
		ck_assert_int_eq(svmbind_device_group(dev), -1);
	ck_assert_int_ge(p.iommu_group, 0);
	ck_assert_int_eq(p.group_viable, 1);
	ck_assert_int_eq(p.dialect, -EBADF);	/* no handle: unknown, and says why */
	ck_ok(svmbind_probe_device(lab_dev(0), dev, &p, 0));
	ck_assert_int_eq(p.dialect, SVMBIND_DIALECT_PID);
	ck_assert_str_eq(p.name, lab_dev(0));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(bind_self_without_svm_bind_says_so)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev;
	uint32_t pasid = 12345;

	ck_assert_int_eq(lab_set_param("dialect", SVMBIND_DIALECT_NONE), 0);
	dev = tu_open(ctx, lab_dev(2));
	ck_fails(svm_bind_self(dev, &pasid), SVMBIND_ERR_NO_SVM_BIND);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOTTY);
	ck_assert_uint_eq(pasid, 12345);
	ck_assert_uint_eq(svmbind_device_nr_bonds(dev), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(bind_unbind_bind)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct svmbind_bond b = { .sz = sizeof(b) };
	uint32_t p1, p2;

	ck_ok(svm_bind_self(dev, &p1));
	ck_assert_int_eq(tu_param("bonds"), 1);
	ck_assert_uint_eq(svmbind_device_nr_bonds(dev), 1);
	ck_ok(svmbind_device_bond(dev, 0, &b));
	ck_assert_uint_eq(b.pasid, p1);
	ck_assert_int_eq(b.pid, getpid());
	ck_assert_uint_eq(b.refs, 1);
	ck_ok(svm_unbind(dev, p1, 0));
	ck_assert_int_eq(tu_param("bonds"), 0);
	ck_assert_uint_eq(svmbind_device_nr_bonds(dev), 0);
	ck_fails(svmbind_device_bond(dev, 0, &b), ENOENT);
	ck_ok(svm_bind_self(dev, &p2));
	ck_ok(svm_unbind(dev, p2, VFIO_SVM_PASID_RELEASE_CLEAN));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(binding_the_same_address_space_twice_shares_the_pasid)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct svmbind_bond b = { .sz = sizeof(b) };
	uint32_t p1, p2;

	ck_ok(svm_bind_self(dev, &p1));
	ck_ok(svm_bind_pid(dev, getpid(), &p2));
	ck_assert_uint_eq(p1, p2);
	ck_ok(svmbind_device_bond(dev, 0, &b));
	ck_assert_uint_eq(b.refs, 2);
	ck_ok(svm_unbind(dev, p1, VFIO_SVM_PASID_RELEASE_FLUSHED));
	ck_assert_int_eq(tu_param("bonds"), 1);
	ck_ok(svm_unbind(dev, p1, 0));
	ck_assert_int_eq(tu_param("bonds"), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(unbind_of_a_pasid_never_bound_is_refused_without_asking)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	uint32_t pasid;

	ck_fails(svm_unbind(dev, 77, 0), SVMBIND_ERR_UNKNOWN_PASID);
	ck_assert_int_eq(svmbind_kernel_errno(), 0);
	ck_ok(svm_bind_self(dev, &pasid));
	ck_fails(svm_unbind(dev, pasid + 1, 0), SVMBIND_ERR_UNKNOWN_PASID);
	ck_ok(svm_unbind(dev, pasid, 0));
	ck_fails(svm_unbind(dev, pasid, 0), SVMBIND_ERR_UNKNOWN_PASID);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(unbind_with_unknown_flags_keeps_the_bond)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	uint32_t pasid;

	ck_ok(svm_bind_self(dev, &pasid));
	ck_fails(svm_unbind(dev, pasid, 0x80), EINVAL);
	ck_assert_int_eq(svmbind_kernel_errno(), EINVAL);
	ck_assert_uint_eq(svmbind_device_nr_bonds(dev), 1);
	ck_assert_int_eq(tu_param("bonds"), 1);
	ck_ok(svm_unbind(dev, pasid, 0));
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(closing_the_device_releases_its_bonds)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *a = tu_open(ctx, lab_dev(0)), *c = tu_open(ctx, lab_dev(2));
	uint32_t pasid;

	ck_ok(svm_bind_self(a, &pasid));
	ck_ok(svm_bind_self(c, &pasid));
	ck_ok(svm_bind_self(c, &pasid));
	ck_assert_int_eq(tu_param("bonds"), 2);
	ck_ok(svmbind_device_close(c));
	ck_assert_int_eq(tu_param("bonds"), 1);
	svmbind_ctx_free(ctx);
	ck_assert_int_eq(tu_param("bonds"), 0);
}
END_TEST

START_TEST(dma_tagged_with_own_pasid_reaches_own_memory)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	char mine[32] = "before", buf[32] = "written by the device";
	uint32_t pasid;

	ck_ok(svm_bind_self(dev, &pasid));
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, mine, buf, sizeof(buf), true), 0);
	ck_assert_str_eq(mine, "written by the device");
	ck_ok(svm_unbind(dev, pasid, 0));
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, mine, buf, sizeof(buf), false), -ESRCH);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(dma_write_to_a_read_only_page_faults_and_changes_nothing)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	char *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char buf[16] = "device data", back[16];
	uint32_t pasid;

	strcpy(ro, "kept");
	ck_assert_int_eq(mprotect(ro, 4096, PROT_READ), 0);
	ck_ok(svm_bind_self(dev, &pasid));
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, ro, buf, sizeof(buf), true), -EFAULT);
	ck_assert_str_eq(ro, "kept");
	ck_assert_int_eq(lab_pasid_dma(svmbind_device_fd(dev), pasid, ro, back, sizeof(back), false), 0);
	ck_assert_str_eq(back, "kept");		/* reading it is fine */
	ck_ok(svm_unbind(dev, pasid, 0));
	munmap(ro, 4096);
	svmbind_ctx_free(ctx);
}
END_TEST

START_TEST(pasid_space_exhausted_is_named)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev = tu_open(ctx, lab_dev(2));
	struct tu_target t;
	uint32_t p1, p2;

	ck_assert_int_eq(lab_set_param("pasid_min", 5), 0);
	ck_assert_int_eq(lab_set_param("pasid_max", 5), 0);
	ck_ok(svm_bind_self(dev, &p1));
	ck_assert_uint_eq(p1, 5);
	tu_target_start(&t, "t", -1);
	ck_fails(svm_bind_pid(dev, t.pid, &p2), SVMBIND_ERR_PASID_EXHAUSTED);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOSPC);
	ck_ok(svm_unbind(dev, p1, 0));
	ck_ok(svm_bind_pid(dev, t.pid, &p2));	/* reusable once released */
	ck_assert_uint_eq(p2, 5);
	tu_target_stop(&t);
	svmbind_ctx_free(ctx);
}
END_TEST

struct hammer {
	struct svmbind_device *dev;
	int failures;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;

	for (int i = 0; i < 200; i++) {
		uint32_t pasid;

		if (svm_bind_self(h->dev, &pasid) || svm_unbind(h->dev, pasid, 0))
			__atomic_add_fetch(&h->failures, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

START_TEST(concurrent_bind_and_unbind_from_threads_balance)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct hammer h = { .dev = tu_open(ctx, lab_dev(2)) };
	pthread_t th[4];

	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, hammer_thread, &h), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(h.failures, 0);
	ck_assert_uint_eq(svmbind_device_nr_bonds(h.dev), 0);
	ck_assert_int_eq(tu_param("bonds"), 0);
	svmbind_ctx_free(ctx);
}
END_TEST

/* Stock vfio-pci; on the provider, dialect 0 is the same by its contract. */
START_TEST(stock_vfio_pci_has_no_svm_bind_and_says_so)
{
	struct svmbind_ctx *ctx = tu_ctx();
	struct svmbind_device *dev;
	long v;

	if (lab_get_param("dialect", &v) == 0)
		ck_assert_int_eq(lab_set_param("dialect", SVMBIND_DIALECT_NONE), 0);
	dev = tu_open(ctx, lab_dev(2));
	struct svmbind_dev_probe p = { .sz = sizeof(p) };
	uint32_t pasid;

	ck_assert_int_eq(svmbind_device_dialect(dev), SVMBIND_DIALECT_NONE);
	ck_ok(svmbind_probe_device(lab_dev(2), dev, &p, 0));
	ck_assert_int_eq(p.dialect, SVMBIND_DIALECT_NONE);
	ck_fails(svm_bind_self(dev, &pasid), SVMBIND_ERR_NO_SVM_BIND);
	ck_assert_int_eq(svmbind_kernel_errno(), ENOTTY);
	ck_assert_ptr_nonnull(strstr(tu_last_error(), "no SVM bind"));
	ck_fails(svm_bind_pid(dev, getppid(), &pasid), SVMBIND_ERR_NO_SVM_BIND);
	ck_fails(svm_unbind(dev, 1, 0), SVMBIND_ERR_UNKNOWN_PASID);
	svmbind_ctx_free(ctx);
}
END_TEST

void cases_svm(struct registry *r)
{
	reg(r, "svm", stock_vfio_pci_has_no_svm_bind_and_says_so, 0);
	reg(r, "svm", dialect_is_probed_in_each_of_the_three, NEED_PROVIDER);
	reg(r, "svm", probe_device_reports_driver_group_and_dialect, NEED_PROVIDER);
	reg(r, "svm", bind_self_without_svm_bind_says_so, NEED_PROVIDER);
	reg(r, "svm", bind_unbind_bind, NEED_PROVIDER);
	reg(r, "svm", binding_the_same_address_space_twice_shares_the_pasid, NEED_PROVIDER);
	reg(r, "svm", unbind_of_a_pasid_never_bound_is_refused_without_asking, NEED_PROVIDER);
	reg(r, "svm", unbind_with_unknown_flags_keeps_the_bond, NEED_PROVIDER);
	reg(r, "svm", closing_the_device_releases_its_bonds, NEED_PROVIDER);
	reg(r, "svm", dma_tagged_with_own_pasid_reaches_own_memory, NEED_PROVIDER);
	reg(r, "svm", dma_write_to_a_read_only_page_faults_and_changes_nothing, NEED_PROVIDER);
	reg(r, "svm", pasid_space_exhausted_is_named, NEED_PROVIDER);
	reg(r, "svm", concurrent_bind_and_unbind_from_threads_balance, NEED_PROVIDER);
}
