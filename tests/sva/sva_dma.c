// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * sva_dma: real Shared Virtual Memory, end to end, in the SVA VM
 * (tests/vm/vm.sh --kernel new --sva --driver svmref).
 *
 * A (this process) programs the svm-dma test device (QEMU patch
 * tests/vm/qemu/patches/0004-*, register map in tests/vm/qemu/README.md,
 * driver in examples/svmdma/) from user space through VFIO (BAR0 mmap via
 * libsvmbind) with B's PASID and B's virtual addresses. The device
 * translates every page with an ATS request carrying the PASID (the emulated
 * VT-d walks B's own page tables) and copies SRC to DST.
 * B is a child that runs commands A sends it (allocate, write, mprotect,
 * munmap, fork, exec, exit: sva_client.c). Nothing is mapped or pinned for B
 * by anyone.
 * A reads B's memory through /proc/B/mem to check the results.
 *
 *   sva_dma            the translation tests (exit 0 pass, 1 fail, 77 skip)
 *   sva_dma --bench    bytes per second through SVA vs through an IOVA
 *                      mapping of the same buffers, same device, same VM
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/vfio.h>

#include <svmbind/svmbind.h>
#include <svmbind/vfio_svm.h>

#include "sva_client.h"
#include "svmdma.h"

#define PG		4096u
#define DRIVER		"svmref-vfio-pci"

/* A device: the driver's state (svmdma.h) and the library's handle. */
struct sdev {
	struct svmdma sd;
	struct svmbind_device *dev;
};

static struct svmbind_ctx *ctx;
static struct sdev devs[2];	/* [0] with PRI, [1] without */
static struct svmdma found[2];	/* svmdma_find()'s */
static int failures, tests;

#define skip(...) do { printf("sva_dma: SKIP: " __VA_ARGS__); putchar('\n'); exit(77); } while (0)

static void result(bool ok, const char *name, const char *detail)
{
	tests++;
	if (!ok)
		failures++;
	printf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", tests, name, detail ? ": " : "", detail ? detail : "");
	fflush(stdout);
}

/* ---- the device --------------------------------------------------------- */

/* One copy; returns the device's final status, *fault the failing address. */
static uint32_t dev_copy(struct sdev *d, uint32_t pasid, uint32_t ctrl, uint64_t src,
			 uint64_t dst, uint32_t len, uint64_t *fault)
{
	int st = svmdma_copy(&d->sd, pasid, ctrl, src, dst, len, fault, NULL, NULL);

	if (st < 0)
		die("%s: copy still busy after 20 s (page request never answered?)", d->sd.bdf);
	return (uint32_t)st;
}

/* Finds the two svm-dma devices and binds them to the provider. */
static void find_devices(void)
{
	int ret;

	if (access("/sys/bus/pci/drivers/" DRIVER, F_OK))
		skip("no %s driver: load the provider (vm.sh --driver svmref)", DRIVER);
	ret = svmdma_find(found, DRIVER);
	if (ret == -ENODEV)
		skip("need two svm-dma devices (with and without PRI): not the SVA VM (vm.sh --sva)");
	if (ret)
		die("cannot bind the svm-dma devices to %s: %s", DRIVER, strerror(-ret));
}

static void open_device(struct sdev *d, const struct svmdma *f)
{
	void *bar;
	size_t len;
	int ret;

	d->sd = *f;
	ret = svmbind_device_open(ctx, d->sd.bdf, NULL, &d->dev);
	if (ret)
		die("open %s: %s", d->sd.bdf, svmbind_strerror(ret));
	ret = svmbind_device_map_region(d->dev, 0, PROT_READ | PROT_WRITE, &bar, &len);
	if (ret)
		die("mmap BAR0 of %s: %s", d->sd.bdf, svmbind_strerror(ret));
	/* B children must not inherit the mapping: it holds the device file */
	if (madvise(bar, len, MADV_DONTFORK))
		die("madvise(MADV_DONTFORK) on BAR0: %s", strerror(errno));
	ret = svmdma_attach(&d->sd, bar, len, svmbind_device_fd(d->dev));
	if (ret == -ENODEV)
		die("%s: BAR0 id 0x%08x, not svm-dma", d->sd.bdf, svmdma_rd(&d->sd, SD_ID));
	if (ret)
		die("%s: bus master on: %s", d->sd.bdf, strerror(-ret));
	if (d->sd.pri != f->pri)
		die("%s: CAPS 0x%x disagrees with its PRI capability", d->sd.bdf, svmdma_rd(&d->sd, SD_CAPS));
}

static void b_bind(struct sdev *d, struct proc *p)
{
	int ret = svm_bind_pid(d->dev, p->pid, &p->pasid);

	if (ret)
		die("bind pid %d on %s: %s (kernel errno %d)", p->pid, d->sd.bdf, svmbind_strerror(ret),
		    svmbind_kernel_errno());
	p->bound = true;
}

static char detail[256];
#define DETAIL(...) (snprintf(detail, sizeof(detail), __VA_ARGS__), detail)

/* The completion MSI, through VFIO_DEVICE_SET_IRQS and an eventfd. */
static void test_msi(struct sdev *d, uint32_t pasid)
{
	uint8_t *buf = aligned_alloc(PG, 2 * PG);
	struct pollfd pfd;
	uint64_t n = 0;
	uint32_t st;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), pr;

	if (efd < 0 || !buf)
		die("eventfd: %s", strerror(errno));
	pr = svmdma_set_msi(svmbind_device_fd(d->dev), efd);
	if (pr)
		die("%s: VFIO_DEVICE_SET_IRQS (MSI): %s", d->sd.bdf, strerror(-pr));
	fill(buf, PG, 0x5a);
	memset(buf + PG, 0, PG);
	st = dev_copy(d, pasid, SD_CTRL_IRQ, (uintptr_t)buf, (uintptr_t)buf + PG, PG, NULL);
	pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
	pr = poll(&pfd, 1, 5000);
	if (pr == 1 && read(efd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		n = 0;
	result(st == SD_ST_DONE && pr == 1 && n >= 1 && (svmdma_rd(&d->sd, SD_IRQ) & 1) && !memcmp(buf, buf + PG, PG),
	       "completion MSI delivered to an eventfd (VFIO_DEVICE_SET_IRQS)",
	       DETAIL("status 0x%x, poll %d, count %" PRIu64, st, pr, n));
	svmdma_wr(&d->sd, SD_IRQ, 1);
	result(!(svmdma_rd(&d->sd, SD_IRQ) & 1), "IRQ status is write-1-to-clear", NULL);
	svmdma_set_msi(svmbind_device_fd(d->dev), -1);
	close(efd);
	free(buf);
}

/* ---- the tests ------------------------------------------------------------ */

static void run_tests(void)
{
	struct sdev *pri = &devs[0], *nopri = &devs[1];
	const uint64_t len = 2 * PG + 512;	/* crosses pages, not page-aligned at the end */
	uint64_t src, dst, fault, shared;
	uint32_t st, pasid_a;
	struct proc b;
	int ret;
	/* A's own buffers; B, forked after, has its own copy at the same addresses */
	uint8_t *sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (sh == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(sh, 0, 2 * PG);
	b = spawn();
	shared = (uint64_t)(uintptr_t)sh;

	b_bind(nopri, &b);
	ret = svm_bind_self(nopri->dev, &pasid_a);
	if (ret)
		die("bind self on %s: %s", nopri->sd.bdf, svmbind_strerror(ret));
	printf("# A pid %d PASID %u, B pid %d PASID %u (devices %s with PRI, %s without)\n",
	       getpid(), pasid_a, b.pid, b.pasid, pri->sd.bdf, nopri->sd.bdf);
	result(pasid_a != b.pasid, "A and B have distinct PASIDs", DETAIL("%u, %u", pasid_a, b.pasid));

	/* 1. B's PASID: the device reads B's bytes and writes B's result */
	src = b_mmap(&b, len, true);
	dst = b_mmap(&b, len, true);
	cmd(&b, C_FILL, src, len, 0xB0);
	st = dev_copy(nopri, b.pasid, 0, src, dst, (uint32_t)len, &fault);
	result(st == SD_ST_DONE && same_as_fill(b.pid, dst, len, 0xB0),
	       "B's PASID + B's VAs: B's malloc'ed bytes read, B's result written", DETAIL("status 0x%x", st));

	/* 2. the same VAs under A's PASID reach A's memory, never B's. Each
	 * writes both pages first: after fork they are copy-on-write, and a
	 * device write needs a writable PTE (without PRI nothing faults it in). */
	fill(sh, PG, 0xA0);
	memset(sh + PG, 0, PG);
	cmd(&b, C_FILL, shared, PG, 0xB5);
	cmd(&b, C_FILL, shared + PG, PG, 0x77);
	st = dev_copy(nopri, pasid_a, 0, shared, shared + PG, PG, NULL);
	result(st == SD_ST_DONE && same_as_fill(getpid(), shared + PG, PG, 0xA0) && same_as_fill(b.pid, shared + PG, PG, 0x77),
	       "A's PASID, same VAs: A's memory written, B's untouched", DETAIL("status 0x%x", st));
	st = dev_copy(nopri, b.pasid, 0, shared, shared + PG, PG, NULL);
	result(st == SD_ST_DONE && same_as_fill(b.pid, shared + PG, PG, 0xB5) && same_as_fill(getpid(), shared + PG, PG, 0xA0),
	       "B's PASID, same VAs: B's memory written, A's untouched", DETAIL("status 0x%x", st));

	/* 3. a PASID nobody bound: translation fails, nothing written */
	{
		uint32_t stray = (b.pasid > pasid_a ? b.pasid : pasid_a) + 1000;

		cmd(&b, C_FILL, dst, len, 0xEE);
		st = dev_copy(nopri, stray, 0, src, dst, (uint32_t)len, &fault);
		result(st == SD_ST_ERR_SRC && same_as_fill(b.pid, dst, len, 0xEE),
		       "never-bound PASID: translation fails, nothing written",
		       DETAIL("PASID %u status 0x%x fault 0x%" PRIx64, stray, st, fault));
	}

	/* 4. read-only page: reading it works, writing it fails and writes nothing */
	cmd(&b, C_PROTECT, dst, len, PROT_READ);
	st = dev_copy(nopri, b.pasid, 0, src, dst, (uint32_t)len, &fault);
	result(st == SD_ST_ERR_DST && same_as_fill(b.pid, dst, len, 0xEE),
	       "read-only destination: write translation fails, nothing written", DETAIL("status 0x%x", st));
	{
		uint64_t out = b_mmap(&b, len, true);

		st = dev_copy(nopri, b.pasid, 0, dst, out, (uint32_t)len, NULL);
		result(st == SD_ST_DONE && same_as_fill(b.pid, out, len, 0xEE),
		       "read-only source: read translation succeeds", DETAIL("status 0x%x", st));
	}
	cmd(&b, C_PROTECT, dst, len, PROT_READ | PROT_WRITE);

	/* 5. a page B never touched */
	{
		uint64_t fresh = b_mmap(&b, 2 * PG, false);
		uint32_t prqs0 = svmdma_rd(&pri->sd, SD_PRQS);

		st = dev_copy(nopri, b.pasid, 0, src, fresh, PG, &fault);
		result(st == SD_ST_ERR_DST && fault == fresh,
		       "untouched page, device without PRI: no PTE, translation fails",
		       DETAIL("status 0x%x fault 0x%" PRIx64, st, fault));
		/* the PRI device shares B's PASID (x86: one PASID per mm) */
		b_bind(pri, &b);
		st = dev_copy(pri, b.pasid, SD_CTRL_PRI, src, fresh + PG, PG, &fault);
		result(st == SD_ST_DONE && same_as_fill(b.pid, fresh + PG, PG, 0xB0) && svmdma_rd(&pri->sd, SD_PRQS) > prqs0,
		       "untouched page, device with PRI: page request faults it in, copy succeeds",
		       DETAIL("status 0x%x, %u page request(s)", st, svmdma_rd(&pri->sd, SD_PRQS) - prqs0));
	}

	/* 6. fork: B's PASID reaches B's page, not the child's copy */
	{
		uint64_t p = b_mmap(&b, PG, true), q;
		uint8_t cbuf[PG];
		int64_t child;
		bool child_ok;

		cmd(&b, C_FILL, p, PG, 0x11);
		child = cmd(&b, C_FORK_COW, p, PG, 0xC1);	/* the child writes its copy */
		if (child < 0)
			die("B fork: %s", strerror((int)-child));
		q = b_mmap(&b, PG, true);	/* after the fork: B's own, writable */
		st = dev_copy(nopri, b.pasid, 0, p, q, PG, NULL);
		result(st == SD_ST_DONE && same_as_fill(b.pid, q, PG, 0x11),
		       "fork: B's PASID reads B's page, not the child's copy", DETAIL("status 0x%x", st));
		/* B's PTE stays write-protected after fork until B writes: no PRI, no write */
		cmd(&b, C_FILL, q, PG, 0x22);
		st = dev_copy(nopri, b.pasid, 0, q, p, PG, &fault);
		result(st == SD_ST_ERR_DST && same_as_fill(b.pid, p, PG, 0x11),
		       "fork: write to B's still-COW page without PRI fails (read-only PTE)", DETAIL("status 0x%x", st));
		st = dev_copy(pri, b.pasid, SD_CTRL_PRI, q, p, PG, NULL);
		child_ok = peek((pid_t)child, p, cbuf, PG);
		if (child_ok) {
			uint8_t want[PG];

			fill(want, PG, 0xC1);
			child_ok = !memcmp(cbuf, want, PG);
		}
		result(st == SD_ST_DONE && same_as_fill(b.pid, p, PG, 0x22) && child_ok,
		       "fork: with PRI the write breaks COW in B: B's page written, the child's copy intact",
		       DETAIL("status 0x%x", st));
		kill((pid_t)child, SIGKILL);
	}

	/* 7. munmap: the translation goes with the mapping */
	cmd(&b, C_FILL, dst, len, 0xEE);
	if (cmd(&b, C_UNMAP, src, len, 0))
		die("B munmap failed");
	st = dev_copy(nopri, b.pasid, 0, src, dst, (uint32_t)len, &fault);
	result(st == SD_ST_ERR_SRC && same_as_fill(b.pid, dst, len, 0xEE),
	       "after B munmaps the source: translation fails, nothing written", DETAIL("status 0x%x", st));
	src = b_mmap(&b, len, true);
	cmd(&b, C_FILL, src, len, 0xB0);

	/* 8. unbind: the PASID stops translating */
	ret = svm_unbind(nopri->dev, b.pasid, 0);
	if (ret)
		die("unbind: %s", svmbind_strerror(ret));
	ret = svm_unbind(pri->dev, b.pasid, 0);
	if (ret)
		die("unbind (PRI device): %s", svmbind_strerror(ret));
	st = dev_copy(nopri, b.pasid, 0, src, dst, (uint32_t)len, &fault);
	result(st == SD_ST_ERR_SRC && same_as_fill(b.pid, dst, len, 0xEE),
	       "after B is unbound: translation fails, nothing written", DETAIL("status 0x%x", st));
	b_kill(&b);

	/* 9. exit */
	b = spawn();
	src = b_mmap(&b, PG, true);
	dst = b_mmap(&b, PG, true);
	cmd(&b, C_FILL, src, PG, 0x33);
	b_bind(nopri, &b);
	st = dev_copy(nopri, b.pasid, 0, src, dst, PG, NULL);
	result(st == SD_ST_DONE && same_as_fill(b.pid, dst, PG, 0x33), "second B: bound, copy works", DETAIL("status 0x%x", st));
	cmd(&b, C_EXIT, 0, 0, 0);
	waitpid(b.pid, NULL, 0);
	st = dev_copy(nopri, b.pasid, 0, src, dst, PG, NULL);
	result(st == SD_ST_ERR_SRC, "after B exits: translation fails", DETAIL("status 0x%x", st));
	close(b.sock);
	svm_unbind(nopri->dev, b.pasid, 0);	/* BOND_GONE expected; either way it is gone */

	/* 10. exec */
	b = spawn();
	src = b_mmap(&b, PG, true);
	dst = b_mmap(&b, PG, true);
	cmd(&b, C_FILL, src, PG, 0x44);
	b_bind(nopri, &b);
	st = dev_copy(nopri, b.pasid, 0, src, dst, PG, NULL);
	result(st == SD_ST_DONE && same_as_fill(b.pid, dst, PG, 0x44), "third B: bound, copy works", DETAIL("status 0x%x", st));
	ret = (int)cmd(&b, C_EXEC, 0, 0, 0);	/* EOF: the old mm is gone */
	st = dev_copy(nopri, b.pasid, 0, src, dst, PG, NULL);
	result(ret == -EPIPE && st == SD_ST_ERR_SRC, "after B execs: the old PASID no longer translates",
	       DETAIL("status 0x%x", st));
	b_kill(&b);
	svm_unbind(nopri->dev, b.pasid, 0);

	/* 11. the last close of the device fd releases a bond the library does not
	 * know of (bound with the raw ioctl, so the library cannot unbind it) */
	{
		struct vfio_device_svm svm = { .argsz = sizeof(svm), .flags = VFIO_SVM_PID };

		b = spawn();
		src = b_mmap(&b, PG, true);
		dst = b_mmap(&b, PG, true);
		cmd(&b, C_FILL, src, PG, 0x55);
		svm.pid = (uint32_t)b.pid;
		if (ioctl(svmbind_device_fd(nopri->dev), VFIO_DEVICE_BIND_TASK, &svm))
			die("raw VFIO_DEVICE_BIND_TASK: %s", strerror(errno));
		st = dev_copy(nopri, svm.pasid, 0, src, dst, PG, NULL);
		result(st == SD_ST_DONE && same_as_fill(b.pid, dst, PG, 0x55), "fourth B (raw BIND_TASK): copy works",
		       DETAIL("status 0x%x", st));
		svm_unbind(nopri->dev, pasid_a, 0);
		/* the BAR mapping holds the file too: unmap it, or the close is not the last */
		ret = svmbind_device_unmap_region(nopri->dev, (void *)nopri->sd.bar, nopri->sd.bar_len);
		if (ret)
			die("unmap BAR0: %s", svmbind_strerror(ret));
		ret = svmbind_device_close(nopri->dev);	/* the last close: the provider releases B's bond */
		if (ret)
			die("close %s: %s", nopri->sd.bdf, svmbind_strerror(ret));
		open_device(nopri, &found[1]);
		ret = svm_bind_self(nopri->dev, &pasid_a);
		if (ret)
			die("bind self again: %s", svmbind_strerror(ret));
		cmd(&b, C_FILL, dst, PG, 0xEE);
		st = dev_copy(nopri, svm.pasid, 0, src, dst, PG, NULL);
		result(st == SD_ST_ERR_SRC && same_as_fill(b.pid, dst, PG, 0xEE),
		       "after the device fd's last close: B's PASID no longer translates, nothing written",
		       DETAIL("status 0x%x", st));
		b_kill(&b);
	}

	/* 12. the completion interrupt */
	test_msi(nopri, pasid_a);
	svm_unbind(nopri->dev, pasid_a, 0);
	munmap(sh, 2 * PG);
}

/* ---- bench: SVA vs IOVA on the same buffers ----------------------------- */

static double copy_rate(struct sdev *d, uint32_t pasid, uint32_t ctrl, uint64_t src, uint64_t dst,
			uint32_t len, int n)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		uint32_t st = dev_copy(d, pasid, ctrl, src, dst, len, NULL);

		if (st != SD_ST_DONE)
			die("bench copy: status 0x%x", st);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)len * n / ((double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

static void bench(void)
{
	struct sdev *d = &devs[1];
	const uint32_t len = 1u << 20;
	const uint64_t iova_src = 1ull << 30, iova_dst = 2ull << 30;
	uint8_t *src = aligned_alloc(PG, len), *dst = aligned_alloc(PG, len);
	double sva, iova;
	uint32_t pasid;
	int ret, n = 32;

	if (!src || !dst)
		die("out of memory");
	fill(src, len, 1);
	memset(dst, 0, len);
	ret = svm_bind_self(d->dev, &pasid);
	if (ret)
		die("bind self: %s", svmbind_strerror(ret));
	ret = svmbind_dma_map(ctx, src, iova_src, len, 0);
	if (!ret)
		ret = svmbind_dma_map(ctx, dst, iova_dst, len, 0);
	if (ret)
		die("dma_map: %s", svmbind_strerror(ret));
	copy_rate(d, pasid, 0, (uintptr_t)src, (uintptr_t)dst, len, 2);	/* warm up */
	sva = copy_rate(d, pasid, 0, (uintptr_t)src, (uintptr_t)dst, len, n);
	memset(dst, 0, len);
	copy_rate(d, 0, SD_CTRL_NOPASID, iova_src, iova_dst, len, 2);
	iova = copy_rate(d, 0, SD_CTRL_NOPASID, iova_src, iova_dst, len, n);
	if (memcmp(src, dst, len))
		die("bench: IOVA copy did not land in dst");
	printf("bench: %d copies of %u KiB on %s: SVA (PASID %u) %.1f MB/s, IOVA %.1f MB/s, SVA/IOVA %.2f (TCG: only the ratio means anything)\n",
	       n, len >> 10, d->sd.bdf, pasid, sva / 1e6, iova / 1e6, sva / iova);
	svmbind_dma_unmap(ctx, iova_src, len);
	svmbind_dma_unmap(ctx, iova_dst, len);
	svm_unbind(d->dev, pasid, 0);
}

int main(int argc, char **argv)
{
	bool do_bench = argc > 1 && !strcmp(argv[1], "--bench");
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getuid() != 0)
		skip("needs root (sysfs binding, /proc/PID/mem)");
	find_devices();
	svmbind_set_log(svmbind_log_stderr, NULL);
	ret = svmbind_ctx_new(NULL, &ctx);
	if (ret)
		die("context: %s", svmbind_strerror(ret));
	open_device(&devs[0], &found[0]);
	open_device(&devs[1], &found[1]);
	if (do_bench)
		bench();
	else
		run_tests();
	svmbind_ctx_free(ctx);
	if (do_bench)
		return 0;
	printf("1..%d\nsva_dma: %s (%d of %d failed)\n", tests, failures ? "FAIL" : "PASS", failures, tests);
	return failures ? 1 : 0;
}
