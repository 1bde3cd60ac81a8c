// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_bind: cost of the library against the raw kernel call, in one run.
 *
 *   bench_bind PCI-ADDRESS [ITERATIONS]
 *
 * Prints, as ratios library/raw measured back to back on the same device fd:
 *   - bind+unbind of the caller's address space (svm_bind_self + svm_unbind
 *     vs two ioctls);
 *   - device open+close through a fresh context vs the minimal raw sequence;
 *   - heap bytes the library holds per open device and per bond (mallinfo2).
 * Timings are the median of 5 rounds; nothing here asserts a number.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <svmbind/svmbind.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median5(double v[5])
{
	qsort(v, 5, sizeof(v[0]), cmp_double);
	return v[2];
}

static int raw_bind_unbind(int fd)
{
	struct vfio_device_svm s = { .argsz = sizeof(s) };

	if (ioctl(fd, VFIO_DEVICE_BIND_TASK, &s))
		return -1;
	s.flags = 0;
	return ioctl(fd, VFIO_DEVICE_UNBIND_TASK, &s);
}

static int lib_bind_unbind(struct svmbind_device *dev)
{
	uint32_t pasid;

	if (svm_bind_self(dev, &pasid))
		return -1;
	return svm_unbind(dev, pasid, 0);
}

/* The least a program must do to get a device fd: 7 calls, then 3 closes. */
static int raw_open_close(const char *bdf, int group)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char path[64];
	int c, g, d;

	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	g = open(path, O_RDWR | O_CLOEXEC);
	if (c < 0 || g < 0 || ioctl(g, VFIO_GROUP_GET_STATUS, &st) ||
	    ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) || ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -1;
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (d < 0 || ioctl(d, VFIO_DEVICE_GET_INFO, &info))
		return -1;
	close(d);
	close(g);
	close(c);
	return 0;
}

static int lib_open_close(const char *bdf)
{
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;

	if (svmbind_ctx_new(NULL, &ctx))
		return -1;
	if (svmbind_device_open(ctx, bdf, NULL, &dev)) {
		svmbind_ctx_free(ctx);
		return -1;
	}
	svmbind_ctx_free(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	double raw[5], lib[5], t;
	long iters = argc > 2 ? atol(argv[2]) : 2000;
	size_t h0, h_ctx, h_dev, h_bond;
	uint32_t pasid;
	char bdf[16];
	int fd, group, bind_ok;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PCI-ADDRESS [ITERATIONS]\n", argv[0]);
		return 64;
	}
	svmbind_set_log(svmbind_log_stderr, NULL);
	svmbind_set_log_level(SVMBIND_LOG_ERROR);

	/* Memory: what the library holds, from the allocator's own count. */
	h0 = mallinfo2().uordblks;
	if (svmbind_ctx_new(NULL, &ctx))
		return 1;
	h_ctx = mallinfo2().uordblks;
	if (svmbind_device_open(ctx, argv[1], NULL, &dev))
		return 1;
	h_dev = mallinfo2().uordblks;
	bind_ok = svm_bind_self(dev, &pasid) == 0;
	h_bond = mallinfo2().uordblks;
	if (bind_ok)
		svm_unbind(dev, pasid, 0);
	fd = svmbind_device_fd(dev);
	snprintf(bdf, sizeof(bdf), "%s", svmbind_device_name(dev));
	group = svmbind_device_group(dev);

	printf("bench_bind on %s (libsvmbind %s), %ld iterations x 5 rounds, median\n", bdf,
	       svmbind_version_string(), iters);
	printf("memory: context %zu B, device %zu B, first bond %zu B (heap, mallinfo2)\n",
	       h_ctx - h0, h_dev - h_ctx, bind_ok ? h_bond - h_dev : 0);

	if (bind_ok) {
		for (int r = 0; r < 5; r++) {
			t = now_ns();
			for (long i = 0; i < iters; i++)
				if (raw_bind_unbind(fd))
					return 1;
			raw[r] = (now_ns() - t) / iters;
			t = now_ns();
			for (long i = 0; i < iters; i++)
				if (lib_bind_unbind(dev))
					return 1;
			lib[r] = (now_ns() - t) / iters;
		}
		double rm = median5(raw), lm = median5(lib);
		printf("bind+unbind: raw %.0f ns, library %.0f ns, ratio %.3f\n", rm, lm, lm / rm);
	} else {
		printf("bind+unbind: not measured: the kernel has no SVM bind here\n");
	}
	svmbind_ctx_free(ctx);

	long open_iters = iters / 10 ? iters / 10 : 1;
	for (int r = 0; r < 5; r++) {
		t = now_ns();
		for (long i = 0; i < open_iters; i++)
			if (raw_open_close(bdf, group))
				return 1;
		raw[r] = (now_ns() - t) / open_iters;
		t = now_ns();
		for (long i = 0; i < open_iters; i++)
			if (lib_open_close(bdf))
				return 1;
		lib[r] = (now_ns() - t) / open_iters;
	}
	double rm = median5(raw), lm = median5(lib);
	printf("open+close: raw %.0f ns, library %.0f ns, ratio %.3f\n", rm, lm, lm / rm);
	return 0;
}
