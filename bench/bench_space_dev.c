// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_space: the device and the measurement both modes share. A copy that
 * waits for a page response ends with the completion MSI, and A sleeps in
 * poll() on it (and, for a space, on the fault fd, to serve the request
 * itself): the same wait in both modes, no polling interval in the figures.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench_space.h"

#define IOVA_BASE	(1ull << 30)	/* A's own 2 MiB for the IOVA copies */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void bs_dev_open(struct bs_dev *d, const struct svmdma *f, const struct svmbind_ctx_opts *co)
{
	size_t len;
	void *bar;
	int ret;

	memset(d, 0, sizeof(*d));
	d->sd = *f;
	ret = svmbind_ctx_new(co, &d->ctx);
	if (!ret)
		ret = svmbind_device_open(d->ctx, d->sd.bdf, NULL, &d->dev);
	if (ret)
		die("open %s: %s", d->sd.bdf, svmbind_strerror(ret));
	ret = svmbind_device_map_region(d->dev, 0, PROT_READ | PROT_WRITE, &bar, &len);
	if (ret)
		die("mmap BAR0 of %s: %s", d->sd.bdf, svmbind_strerror(ret));
	ret = svmdma_attach(&d->sd, bar, len, svmbind_device_fd(d->dev));
	if (ret)
		die("%s: not an svm-dma device, or bus master on failed: %s", d->sd.bdf, strerror(-ret));
	if (!d->sd.pri)
		die("%s: no PRI, and the benchmark needs page requests", d->sd.bdf);
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->efd < 0)
		die("eventfd: %s", strerror(errno));
	ret = svmdma_set_msi(svmbind_device_fd(d->dev), d->efd);
	if (ret)
		die("%s: VFIO_DEVICE_SET_IRQS (MSI): %s", d->sd.bdf, strerror(-ret));
}

void bs_dev_close(struct bs_dev *d)
{
	svmdma_set_msi(svmbind_device_fd(d->dev), -1);
	close(d->efd);
	svmbind_ctx_free(d->ctx);	/* frees the space, closes the device */
	d->ctx = NULL;
}

/* While the device waits: sleep until the MSI or (a space) a page request. */
static int wait_fn(void *arg)
{
	struct bs_dev *d = arg;
	struct pollfd pf[2] = {
		{ .fd = d->efd, .events = POLLIN },
		{ .fd = d->space ? svmbind_space_fault_fd(d->space) : -1, .events = POLLIN },
	};
	uint64_t n;
	int r = poll(pf, 2, 1000);

	if (r < 0)
		return errno == EINTR ? 0 : -1;
	if (r == 0)
		d->stalls++;
	if ((pf[0].revents & POLLIN) && read(d->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -1;
	if ((pf[1].revents & POLLIN) && svmbind_space_dispatch(d->space, NULL, NULL) < 0)
		return -1;
	return 0;
}

static void copy(struct bs_dev *d, uint32_t pasid, uint32_t ctrl, uint64_t src, uint64_t dst, uint32_t len)
{
	int st = svmdma_copy(&d->sd, pasid, ctrl, src, dst, len, NULL, wait_fn, d);
	uint64_t n;

	if (st != SD_ST_DONE)
		die("copy 0x%llx -> 0x%llx (%u bytes, PASID %u, ctrl 0x%x): %s",
		    (unsigned long long)src, (unsigned long long)dst, len, pasid, ctrl,
		    st < 0 ? strerror(-st) : svmdma_status_str((uint32_t)st));
	if (read(d->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)	/* this copy's MSI, if not read yet */
		die("eventfd: %s", strerror(errno));
}

/* B's bytes at @addr: /proc/B/mem reads them through B's own page tables. */
static void peek(const struct bs_client *b, uint64_t addr, void *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)b->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	n = pread(fd, buf, len, (off_t)addr);
	close(fd);
	if (n != (ssize_t)len)
		die("%s: read of B's 0x%llx: %s", path, (unsigned long long)addr,
		    n < 0 ? strerror(errno) : "short");
}

/* Did each of B's @n pages at @dst get B's source page? */
static void check_pages(const struct bs_client *b, uint64_t dst, int n)
{
	uint8_t *got = malloc((size_t)n * PG), src[PG];

	if (!got)
		die("out of memory");
	peek(b, b->addr, src, PG);
	peek(b, dst, got, (size_t)n * PG);
	for (int i = 0; i < n; i++)
		if (memcmp(got + (size_t)i * PG, src, PG))
			die("one-page copy: B's page 0x%llx does not hold the copy",
			    (unsigned long long)(dst + (uint64_t)i * PG));
	free(got);
}

/* @n one-page copies to the pages from @dst on: seconds per copy; page requests added to *prqs. */
static double pages(struct bs_dev *d, const struct bs_client *b, uint32_t pasid, uint64_t dst, int n,
		    double *prqs)
{
	uint32_t p0 = svmdma_rd(&d->sd, SD_PRQS);
	double t0 = now(), t;

	for (int i = 0; i < n; i++)
		copy(d, pasid, SD_CTRL_PRI | SD_CTRL_IRQ, b->addr, dst + (uint64_t)i * PG, PG);
	t = (now() - t0) / n;
	*prqs += svmdma_rd(&d->sd, SD_PRQS) - p0;
	check_pages(b, dst, n);
	return t;
}

/* @n 1 MiB copies: MiB/s. */
static double mibs(struct bs_dev *d, uint32_t pasid, uint32_t ctrl, uint64_t src, uint64_t dst, int n)
{
	double t0 = now();

	for (int i = 0; i < n; i++)
		copy(d, pasid, ctrl, src, dst, MIB);
	return n / (now() - t0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bs_measure(struct bs_dev *d, const struct bs_client *b, uint32_t pasid, const struct bs_opts *o,
		struct bs_figs *f)
{
	int r, R = o->rounds, N = o->pages, M = o->mib_copies;
	double *v = calloc((size_t)R * 6, sizeof(double)), warm = 0;
	double *near = v, *far = v + R, *diff = v + 2 * R, *pm = v + 3 * R, *im = v + 4 * R, *q = v + 5 * R;
	uint64_t src = b->addr + PG, dst = src + MIB;
	uint8_t *buf, *got;
	int ret;

	buf = mmap(NULL, 2 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	got = malloc(2 * MIB);
	if (!v || !got || buf == MAP_FAILED)
		die("out of memory");
	for (size_t i = 0; i < MIB; i++)
		buf[i] = (uint8_t)(i * 13 + 5);
	ret = svmbind_dma_map(d->ctx, buf, IOVA_BASE, 2 * MIB, 0);
	if (ret)
		die("svmbind_dma_map: %s", svmbind_strerror(ret));
	memset(f, 0, sizeof(*f));

	/* warm-up, not counted: WARM copies of each kind (the first near and far pages) */
	pages(d, b, pasid, b->addr + b->near, WARM, &warm);
	pages(d, b, pasid, b->addr + b->far, WARM, &warm);
	mibs(d, pasid, 0, src, dst, 1);
	mibs(d, 0, SD_CTRL_NOPASID, IOVA_BASE, IOVA_BASE + MIB, 1);
	/* each round both kinds, back to back, in turns first: a drifting host drifts for both */
	for (r = 0; r < R; r++) {
		uint64_t off = (WARM + (uint64_t)r * N) * PG;

		if (r % 2) {
			far[r] = pages(d, b, pasid, b->addr + b->far + off, N, &f->far_prqs);
			near[r] = pages(d, b, pasid, b->addr + b->near + off, N, &f->near_prqs);
			im[r] = mibs(d, 0, SD_CTRL_NOPASID, IOVA_BASE, IOVA_BASE + MIB, M);
			pm[r] = mibs(d, pasid, 0, src, dst, M);
		} else {
			near[r] = pages(d, b, pasid, b->addr + b->near + off, N, &f->near_prqs);
			far[r] = pages(d, b, pasid, b->addr + b->far + off, N, &f->far_prqs);
			pm[r] = mibs(d, pasid, 0, src, dst, M);
			im[r] = mibs(d, 0, SD_CTRL_NOPASID, IOVA_BASE, IOVA_BASE + MIB, M);
		}
		diff[r] = far[r] - near[r];
		q[r] = pm[r] / im[r];
	}
	/* the last 1 MiB copies landed: B's destination holds B's source, A's A's */
	peek(b, src, got, 2 * MIB);
	if (memcmp(got, got + MIB, MIB))
		die("1 MiB copy with PASID %u: B's destination does not hold the copy", pasid);
	if (memcmp(buf, buf + MIB, MIB))
		die("1 MiB copy through the IOVA mapping: the destination does not hold the copy");
	f->near_us = median(near, R) * 1e6;
	f->far_us = median(far, R) * 1e6;
	f->far_minus_near_us = median(diff, R) * 1e6;	/* sorts diff */
	f->fmn_min_us = diff[0] * 1e6;
	f->fmn_max_us = diff[R - 1] * 1e6;
	f->near_prqs /= (double)R * N;
	f->far_prqs /= (double)R * N;
	f->pasid_mibps = median(pm, R);
	f->iova_mibps = median(im, R);
	f->pasid_over_iova = median(q, R);
	svmbind_dma_unmap(d->ctx, IOVA_BASE, 2 * MIB);
	munmap(buf, 2 * MIB);
	free(got);
	free(v);
}

void bs_print_keys(const struct bs_dev *d, const struct bs_opts *o, const struct bs_figs *f,
		   const char *pfx, const char *near, const char *far, const char *rt)
{
	printf("mode=%s\ndevice=%s\nrounds=%d\npages_per_round=%d\nmib_copies_per_round=%d\n",
	       pfx, d->sd.bdf, o->rounds, o->pages, o->mib_copies);
	printf("%s_onepage_%s_us=%.1f\n%s_onepage_%s_us=%.1f\n%s_%s_us=%.1f\n%s_%s_us_range=%.1f..%.1f\n",
	       pfx, near, f->near_us, pfx, far, f->far_us, pfx, rt, f->far_minus_near_us, pfx, rt,
	       f->fmn_min_us, f->fmn_max_us);
	printf("%s_%s_prqs_per_copy=%.2f\n%s_%s_prqs_per_copy=%.2f\n", pfx, near, f->near_prqs, pfx,
	       far, f->far_prqs);
	printf("%s_mibps=%.0f\niova_mibps=%.0f\n%s_over_iova=%.3f\nstalls=%lu\n", pfx,
	       f->pasid_mibps, f->iova_mibps, pfx, f->pasid_over_iova, d->stalls);
}
