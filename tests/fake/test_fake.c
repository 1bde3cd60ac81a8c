/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Proof of the fake kernel: raw syscalls (never libsvmbind) under
 * LD_PRELOAD=libsvmbind-fakekernel.so, checked against what Linux 6.1 does.
 * Exits 77 when the fake is not preloaded.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "fakek.h"
#include "lab.h"
#include <pthread.h>
#include "svmref_uapi.h"
#include <svmbind/vfio_svm.h>

static unsigned (*fk_version)(void);
static void (*fk_inject)(unsigned long, int);
static unsigned long (*fk_calls)(void);
static const char *(*fk_root)(void);
static int (*fk_set_driver)(const char *, const char *);
static int (*fk_reset)(void);

#define DEV_A "0000:01:01.0" /* group 4, with DEV_B and the bridge */
#define DEV_B "0000:01:02.0"
#define DEV_C "0000:00:03.0" /* alone in group 3 */
#define BRIDGE "0000:00:04.0"
#define NIC "0000:00:06.0" /* e1000e, group 6 */

/* ------------------------------------------------------------------ */

static void setup(void)
{
	ck_assert_int_eq(fk_reset(), 0);
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static int cont_open(void)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static int grp_open(int n)
{
	char p[32];
	snprintf(p, sizeof(p), "/dev/vfio/%d", n);
	return open(p, O_RDWR | O_CLOEXEC);
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

static void set_param(const char *name, long v)
{
	char p[128], b[32];
	snprintf(p, sizeof(p), SVMREF_PARAM_DIR "/%s", name);
	snprintf(b, sizeof(b), "%ld\n", v);
	int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, b, strlen(b)), (ssize_t)strlen(b));
	close(fd);
}

static long get_param(const char *name)
{
	char p[128], b[32] = { 0 };
	snprintf(p, sizeof(p), SVMREF_PARAM_DIR "/%s", name);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(read(fd, b, sizeof(b) - 1), 0);
	close(fd);
	return strtol(b, NULL, 0);
}

static void set_yama(int v)
{
	char b[8];
	int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	snprintf(b, sizeof(b), "%d\n", v);
	ck_assert_int_eq(write(fd, b, strlen(b)), (ssize_t)strlen(b));
	close(fd);
}

struct chain {
	int c, g, d;
};

/* container + group @n + TYPE1v2 + device @bdf */
static struct chain chain_open(int n, const char *bdf)
{
	struct chain ch;
	ch.c = cont_open();
	ch.g = grp_open(n);
	ck_assert_int_ge(ch.g, 0);
	ck_assert_int_eq(xioctl(ch.g, VFIO_GROUP_SET_CONTAINER, &ch.c), 0);
	ck_assert_int_eq(ioctl(ch.c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	ch.d = ioctl(ch.g, VFIO_GROUP_GET_DEVICE_FD, bdf);
	ck_assert_int_ge(ch.d, 0);
	return ch;
}

static void chain_close(struct chain *ch)
{
	ck_assert_int_eq(close(ch->d), 0);
	ck_assert_int_eq(close(ch->g), 0);
	ck_assert_int_eq(close(ch->c), 0);
}

static int bind_raw(int dfd, uint32_t argsz, uint32_t flags, uint32_t pid, uint32_t *pasid)
{
	struct vfio_device_svm s = { .argsz = argsz, .flags = flags, .pid = pid };
	int r = xioctl(dfd, VFIO_DEVICE_BIND_TASK, &s);
	if (!r && pasid)
		*pasid = s.pasid;
	return r;
}

static int unbind_raw(int dfd, uint32_t pasid, uint32_t flags)
{
	struct vfio_device_svm s = { .argsz = sizeof(s), .flags = flags, .pasid = pasid };
	return xioctl(dfd, VFIO_DEVICE_UNBIND_TASK, &s);
}

static int dma(int dfd, uint32_t pasid, void *va, void *buf, size_t len, int write)
{
	struct svmref_dma d = { .argsz = sizeof(d), .flags = write ? SVMREF_DMA_WRITE : 0, .pasid = pasid,
				.va = (uintptr_t)va, .len = len, .buf = (uintptr_t)buf };
	return xioctl(dfd, SVMREF_DEVICE_PASID_DMA, &d);
}

static void drop_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	ck_assert_int_eq(syscall(SYS_capget, &h, d), 0);
	d[cap / 32].effective &= ~(1u << (cap % 32));
	ck_assert_int_eq(syscall(SYS_capset, &h, d), 0);
}

static int wait_exit(pid_t p)
{
	int st;
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A child that sleeps until killed; its buffer @buf holds @fill. */
static pid_t spawn_sleeper(char *buf, size_t len, char fill)
{
	int p[2];
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		memset(buf, fill, len);
		char c = 1;
		if (write(p[1], &c, 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	char c;
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

/* ------------------------------------------------------------------ */
/* Container                                                           */

START_TEST(container_api_version_and_extensions)
{
	int c = cont_open();
	ck_assert_int_eq(ioctl(c, VFIO_GET_API_VERSION), VFIO_API_VERSION);
	ck_assert_int_eq(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1);
	ck_assert_int_eq(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
	ck_assert_int_eq(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 0);
	ck_assert_int_eq(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0);
	ck_assert_int_eq(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 0);
	close(c);
}
END_TEST

START_TEST(set_iommu_without_group_is_einval)
{
	int c = cont_open();
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), -1);
	ck_assert_int_eq(errno, EINVAL);
	close(c);
}
END_TEST

START_TEST(map_dma_before_set_iommu_is_einval)
{
	int c = cont_open(), g = grp_open(3);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	void *buf = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ,
					      .vaddr = (uintptr_t)buf, .iova = 0x100000, .size = 4096 };
	ck_assert_int_eq(xioctl(c, VFIO_IOMMU_MAP_DMA, &m), -EINVAL);
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	ck_assert_int_eq(xioctl(c, VFIO_IOMMU_GET_INFO, &info), -EINVAL);
	close(g);
	close(c);
}
END_TEST

START_TEST(set_iommu_unknown_twice_and_nesting)
{
	int c = cont_open(), g = grp_open(3);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU) < 0 ? errno : 0, ENODEV);
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, 42) < 0 ? errno : 0, ENODEV);
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_NESTING_IOMMU) < 0 ? errno : 0, EINVAL);
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 ? errno : 0, EINVAL);
	ck_assert_int_eq(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR), 1);
	ck_assert_int_eq(ioctl(c, 0x3b00 + 99) < 0 ? errno : 0, ENOTTY);
	close(g);
	close(c);
}
END_TEST

START_TEST(iommu_get_info_flags_pgsizes_and_caps)
{
	struct chain ch = chain_open(3, DEV_C);
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_GET_INFO, &info), 0);
	ck_assert_uint_eq(info.flags, 0x3);
	ck_assert_uint_eq(info.iova_pgsizes, 0x40201000ull);
	ck_assert_uint_gt(info.argsz, sizeof(info)); /* caps do not fit: the size needed */
	ck_assert_uint_eq(info.cap_offset, 0);
	uint8_t *big = calloc(1, info.argsz);
	memcpy(big, &(uint32_t){ info.argsz }, 4);
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_GET_INFO, big), 0);
	struct vfio_iommu_type1_info *bi = (void *)big;
	ck_assert_uint_eq(bi->cap_offset, sizeof(info));
	int found_iova = 0;
	for (uint32_t off = bi->cap_offset; off; ) {
		struct vfio_info_cap_header *h = (void *)(big + off);
		if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE)
			found_iova = 1;
		off = h->next;
	}
	ck_assert(found_iova);
	free(big);
	struct { uint32_t argsz, flags; } tiny = { 8, 0 };
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_GET_INFO, &tiny), -EINVAL);
	chain_close(&ch);
}
END_TEST

START_TEST(map_dma_checks_like_type1)
{
	struct chain ch = chain_open(3, DEV_C);
	uint8_t *buf = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
					      .vaddr = (uintptr_t)buf, .iova = 0x100000, .size = 2 * 4096 };
	struct vfio_iommu_type1_dma_map bad = m;
	bad.argsz = 16;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL);
	bad = m;
	bad.flags = 0;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL);
	bad = m;
	bad.flags |= 1u << 7;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL);
	bad = m;
	bad.iova += 512;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL);
	bad = m;
	bad.size = 0;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL);
	bad = m;
	bad.iova = 0xfee00000; /* the MSI window is not in the IOVA ranges */
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &bad), -EINVAL);
	bad = m;
	bad.vaddr = 4096; /* not mapped */
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &bad), -EFAULT);
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &m), 0);
	bad = m;
	bad.iova += 4096;
	bad.vaddr += 2 * 4096;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &bad), -EEXIST);
	chain_close(&ch);
}
END_TEST

START_TEST(unmap_dma_v2_rejects_bisection_and_reports_size)
{
	struct chain ch = chain_open(3, DEV_C);
	uint8_t *buf = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ,
					      .vaddr = (uintptr_t)buf, .iova = 0x200000, .size = 2 * 4096 };
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &m), 0);
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = 0x200000, .size = 4096 };
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL);
	u.iova = 0x200000 + 4096;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL);
	u.iova = 0x400000;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_UNMAP_DMA, &u), 0);
	ck_assert_uint_eq(u.size, 0);
	u.iova = 0x100000;
	u.size = 0x200000;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_UNMAP_DMA, &u), 0);
	ck_assert_uint_eq(u.size, 2 * 4096);
	u.iova = 0; u.size = 0; u.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_UNMAP_DMA, &u), 0);
	u.iova = 4096;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL);
	chain_close(&ch);
}
END_TEST

START_TEST(memlock_limit_enomem_without_cap_ipc_lock)
{
	struct chain ch = chain_open(3, DEV_C);
	size_t len = 64 * 4096;
	uint8_t *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m), .flags = VFIO_DMA_MAP_FLAG_READ,
					      .vaddr = (uintptr_t)buf, .iova = 0x100000, .size = len };
	struct rlimit rl = { 32 * 4096, 32 * 4096 };
	ck_assert_int_eq(setrlimit(RLIMIT_MEMLOCK, &rl), 0);
	/* root: CAP_IPC_LOCK, no limit */
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &m), 0);
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .flags = VFIO_DMA_UNMAP_FLAG_ALL };
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_UNMAP_DMA, &u), 0);
	drop_cap(CAP_IPC_LOCK);
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &m), -ENOMEM);
	m.size = 32 * 4096;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &m), 0);
	m.iova += m.size;
	m.vaddr += m.size;
	m.size = 4096;
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_MAP_DMA, &m), -ENOMEM);
	chain_close(&ch);
}
END_TEST

START_TEST(last_group_leaving_forgets_iommu_type)
{
	int c = cont_open(), g = grp_open(3);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_UNSET_CONTAINER, NULL), 0);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_UNSET_CONTAINER, NULL), -EINVAL);
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	ck_assert_int_eq(xioctl(c, VFIO_IOMMU_GET_INFO, &info), -EINVAL);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	/* and closing the group does the same */
	close(g);
	ck_assert_int_eq(xioctl(c, VFIO_IOMMU_GET_INFO, &info), -EINVAL);
	g = grp_open(3);
	ck_assert_int_ge(g, 0);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	close(g);
	close(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Group                                                               */

START_TEST(group_second_open_is_ebusy)
{
	int g = grp_open(4);
	ck_assert_int_ge(g, 0);
	ck_assert_int_eq(grp_open(4), -1);
	ck_assert_int_eq(errno, EBUSY);
	close(g);
	g = grp_open(4);
	ck_assert_int_ge(g, 0);
	close(g);
}
END_TEST

START_TEST(group_open_is_ebusy_across_processes)
{
	int g = grp_open(3);
	ck_assert_int_ge(g, 0);
	pid_t p = fork();
	if (!p) {
		close(g); /* the child's copy of the open file: the parent still holds it */
		int r = grp_open(3);
		_exit(r < 0 && errno == EBUSY ? 0 : 1);
	}
	ck_assert_int_eq(wait_exit(p), 0);
	close(g);
	p = fork();
	if (!p) {
		int r = grp_open(3);
		_exit(r >= 0 ? 0 : 1);
	}
	ck_assert_int_eq(wait_exit(p), 0);
}
END_TEST

START_TEST(group_missing_node_is_enoent)
{
	ck_assert_int_eq(grp_open(6), -1); /* e1000e: no VFIO driver, no node */
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(group_status_viable_then_container_set)
{
	int c = cont_open(), g = grp_open(4);
	struct vfio_group_status st = { .argsz = sizeof(st) };
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_STATUS, &st), 0);
	ck_assert_uint_eq(st.flags, VFIO_GROUP_FLAGS_VIABLE);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_STATUS, &st), 0);
	ck_assert_uint_eq(st.flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
	st.argsz = 4;
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_STATUS, &st), -EINVAL);
	ck_assert_int_eq(xioctl(g, 0x3b00 + 99, NULL), -ENOTTY);
	close(g);
	close(c);
}
END_TEST

START_TEST(group_not_viable_set_container_eperm)
{
	ck_assert_int_eq(fk_set_driver(DEV_B, "e1000e"), 0);
	int c = cont_open(), g = grp_open(4);
	ck_assert_int_ge(g, 0); /* DEV_A still on VFIO: the node stays */
	struct vfio_group_status st = { .argsz = sizeof(st) };
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_STATUS, &st), 0);
	ck_assert_uint_eq(st.flags, 0);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), -EPERM);
	close(g);
	ck_assert_int_eq(fk_set_driver(DEV_B, NULL), 0); /* unbound: viable again */
	g = grp_open(4);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_STATUS, &st), 0);
	ck_assert_uint_eq(st.flags, VFIO_GROUP_FLAGS_VIABLE);
	close(g);
	close(c);
}
END_TEST

START_TEST(set_container_bad_fd_not_container_and_already_set)
{
	int c = cont_open(), g = grp_open(3), bogus = 987;
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &bogus), -EBADF);
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &devnull), -EINVAL);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, NULL), -EFAULT);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), -EINVAL);
	close(devnull);
	close(g);
	close(c);
}
END_TEST

START_TEST(get_device_fd_errnos)
{
	int c = cont_open(), g = grp_open(4);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_DEVICE_FD, (void *)"0000:09:09.0"), -ENODEV);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_DEVICE_FD, (void *)DEV_A), -EINVAL); /* no container */
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_SET_CONTAINER, &c), 0);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_DEVICE_FD, (void *)DEV_A), -EINVAL); /* no IOMMU */
	ck_assert_int_eq(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), 0);
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_DEVICE_FD, (void *)BRIDGE), -ENODEV); /* not on VFIO */
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_DEVICE_FD, (void *)DEV_C), -ENODEV); /* other group */
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_DEVICE_FD, (void *)8), -EFAULT);
	int d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, DEV_A);
	ck_assert_int_ge(d, 0);
	ck_assert_int_eq(fcntl(d, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(d);
	close(g);
	close(c);
}
END_TEST

START_TEST(device_fd_keeps_group_attached)
{
	struct chain ch = chain_open(4, DEV_A);
	ck_assert_int_eq(xioctl(ch.g, VFIO_GROUP_UNSET_CONTAINER, NULL), -EBUSY);
	close(ch.g);
	ck_assert_int_eq(grp_open(4), -1); /* the device still holds the group file */
	ck_assert_int_eq(errno, EBUSY);
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_GET_INFO, &info), 0); /* still attached */
	close(ch.d);
	ck_assert_int_eq(xioctl(ch.c, VFIO_IOMMU_GET_INFO, &info), -EINVAL); /* last group left */
	int g = grp_open(4);
	ck_assert_int_ge(g, 0);
	close(g);
	close(ch.c);
}
END_TEST

START_TEST(driver_unbind_removes_group_node)
{
	ck_assert_int_eq(fk_set_driver(DEV_C, NULL), 0);
	ck_assert_int_eq(grp_open(3), -1);
	ck_assert_int_eq(errno, ENOENT);
	char l[256];
	ck_assert_int_eq(readlink("/sys/bus/pci/devices/" DEV_C "/driver", l, sizeof(l)), -1);
	ck_assert_int_eq(fk_set_driver(DEV_C, "vfio-pci"), 0);
	ssize_t k = readlink("/sys/bus/pci/devices/" DEV_C "/driver", l, sizeof(l) - 1);
	ck_assert_int_gt(k, 0);
	l[k] = 0;
	ck_assert_str_eq(strrchr(l, '/') + 1, "vfio-pci");
	int g = grp_open(3);
	ck_assert_int_ge(g, 0);
	close(g);
	ck_assert_int_eq(fk_set_driver(BRIDGE, "vfio-pci"), -EINVAL);
	ck_assert_int_eq(fk_set_driver("0000:0a:00.0", NULL), -ENODEV);
}
END_TEST

START_TEST(kernel_driver_cannot_probe_into_claimed_group)
{
	struct chain ch = chain_open(4, DEV_A);
	ck_assert_int_eq(fk_set_driver(DEV_B, "e1000e"), -EBUSY);
	ck_assert_int_eq(fk_set_driver(DEV_A, NULL), -EBUSY); /* its device fd is open */
	chain_close(&ch);
	ck_assert_int_eq(fk_set_driver(DEV_B, "e1000e"), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Device                                                              */

START_TEST(device_info_regions_irqs_like_edu)
{
	struct chain ch = chain_open(3, DEV_C);
	struct vfio_device_info di = { .argsz = sizeof(di) };
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_GET_INFO, &di), 0);
	ck_assert_uint_eq(di.flags, VFIO_DEVICE_FLAGS_PCI);
	ck_assert_uint_eq(di.num_regions, 9);
	ck_assert_uint_eq(di.num_irqs, 5);
	struct vfio_region_info ri = { .argsz = sizeof(ri), .index = 0 };
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	ck_assert_uint_eq(ri.size, 1 << 20);
	ck_assert_uint_eq(ri.offset, 0);
	ck_assert_uint_eq(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE | VFIO_REGION_INFO_FLAG_MMAP);
	ri.index = 1;
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	ck_assert_uint_eq(ri.size, 0);
	ck_assert_uint_eq(ri.offset, 1ull << 40);
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	ck_assert_uint_eq(ri.offset, 7ull << 40);
	ck_assert_uint_eq(ri.size, 256); /* conventional PCI: pdev->cfg_size */
	ri.index = VFIO_PCI_VGA_REGION_INDEX;
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_GET_REGION_INFO, &ri), -EINVAL);
	struct vfio_irq_info ii = { .argsz = sizeof(ii), .index = VFIO_PCI_INTX_IRQ_INDEX };
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_GET_IRQ_INFO, &ii), 0);
	ck_assert_uint_eq(ii.count, 1);
	ii.index = VFIO_PCI_MSIX_IRQ_INDEX;
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_GET_IRQ_INFO, &ii), 0);
	ck_assert_uint_eq(ii.count, 0);
	ii.index = VFIO_PCI_ERR_IRQ_INDEX;
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_GET_IRQ_INFO, &ii), -EINVAL);
	ii.index = 5;
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_GET_IRQ_INFO, &ii), -EINVAL);
	uint16_t vid = 0;
	ck_assert_int_eq(pread(ch.d, &vid, 2, 7ll << 40), 2);
	ck_assert_uint_eq(vid, 0x1234);
	chain_close(&ch);
}
END_TEST

START_TEST(bar0_mmap_shared_only)
{
	struct chain ch = chain_open(3, DEV_C);
	volatile uint32_t *bar = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, ch.d, 0);
	ck_assert_ptr_ne((void *)bar, MAP_FAILED);
	ck_assert_uint_eq(bar[0], 0x010000ed);
	munmap((void *)bar, 1 << 20);
	ck_assert_ptr_eq(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, ch.d, 0), MAP_FAILED);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_eq(mmap(NULL, 2 << 20, PROT_READ, MAP_SHARED, ch.d, 0), MAP_FAILED);
	ck_assert_ptr_eq(mmap(NULL, 4096, PROT_READ, MAP_SHARED, ch.d, 7ll << 40), MAP_FAILED);
	chain_close(&ch);
}
END_TEST

START_TEST(fd_count_unchanged_after_close)
{
	int before = count_fds();
	struct chain ch = chain_open(4, DEV_A);
	int d2 = ioctl(ch.g, VFIO_GROUP_GET_DEVICE_FD, DEV_B);
	ck_assert_int_ge(d2, 0);
	ck_assert_int_eq(count_fds(), before + 4);
	uint32_t pasid;
	ck_assert_int_eq(bind_raw(ch.d, 16, 0, 0, &pasid), 0);
	close(d2);
	chain_close(&ch);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Fault injection                                                     */

START_TEST(inject_hits_exactly_the_nth_call)
{
	int c = cont_open();
	fk_inject(3, EIO);
	ck_assert_int_eq(ioctl(c, VFIO_GET_API_VERSION), 0);			 /* 1 */
	ck_assert_int_eq(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1); /* 2 */
	ck_assert_int_eq(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), -1); /* 3 */
	ck_assert_int_eq(errno, EIO);
	ck_assert_int_eq(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1); /* 4: disarmed */
	ck_assert_uint_eq(fk_calls(), 4);
	fk_inject(0, 0);
	ck_assert_uint_eq(fk_calls(), 0);
	close(c);
}
END_TEST

START_TEST(inject_on_open_has_no_side_effect)
{
	int before = count_fds();
	fk_inject(1, ENOMEM);
	ck_assert_int_eq(open("/dev/vfio/3", O_RDWR | O_CLOEXEC), -1);
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_int_eq(count_fds(), before);
	int g = grp_open(3); /* not left busy */
	ck_assert_int_ge(g, 0);
	close(g);
}
END_TEST

START_TEST(inject_on_close_closes_then_fails)
{
	int g = grp_open(3);
	fk_inject(1, EINTR);
	ck_assert_int_eq(close(g), -1);
	ck_assert_int_eq(errno, EINTR);
	ck_assert_int_eq(fcntl(g, F_GETFD), -1); /* really closed */
	g = grp_open(3); /* and the group released */
	ck_assert_int_ge(g, 0);
	close(g);
}
END_TEST

START_TEST(inject_covers_every_interposed_entry)
{
	char b[16];
	struct rlimit rl;
	fk_inject(1, EACCES);
	ck_assert_int_eq(readlink("/sys/bus/pci/devices/" DEV_C "/iommu_group", b, sizeof(b)), -1);
	ck_assert_int_eq(errno, EACCES);
	fk_inject(1, EACCES);
	ck_assert_ptr_null(opendir("/sys/bus/pci/devices"));
	fk_inject(1, EACCES);
	ck_assert_int_eq(getrlimit(RLIMIT_MEMLOCK, &rl), -1);
	fk_inject(1, EACCES);
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE), -1);
	fk_inject(1, EACCES);
	ck_assert_int_eq(syscall(SYS_getpid), -1);
	fk_inject(1, EACCES);
	ck_assert_ptr_eq(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), MAP_FAILED);
	fk_inject(2, EACCES);
	int fd = open("/sys/module/svmref/parameters/dialect", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, b, sizeof(b)), -1);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_int_eq(read(fd, b, sizeof(b)), 2);
	close(fd);
	ck_assert_uint_eq(fk_calls(), 4);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Sysfs                                                               */

START_TEST(sysfs_tree_looks_like_the_lab)
{
	char l[256];
	ssize_t k = readlink("/sys/bus/pci/devices/" DEV_A "/iommu_group", l, sizeof(l) - 1);
	ck_assert_int_gt(k, 0);
	l[k] = 0;
	ck_assert_str_eq(strrchr(l, '/') + 1, "4");
	ck_assert_int_eq(readlink("/sys/bus/pci/devices/0000:00:05.0/iommu_group", l, sizeof(l)), -1);
	ck_assert_int_eq(errno, ENOENT);
	DIR *d = opendir("/sys/kernel/iommu_groups/4/devices");
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	ck_assert_int_eq(n, 3);
	uint8_t cfg[4096];
	int fd = open("/sys/bus/pci/devices/" NIC "/config", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, cfg, sizeof(cfg), 0), 4096);
	close(fd);
	int pasid_found = 0;
	for (unsigned pos = 0x100; pos; ) {
		uint32_t h;
		memcpy(&h, cfg + pos, 4);
		if ((h & 0xffff) == 0x1b) {
			uint16_t cap;
			memcpy(&cap, cfg + pos + 4, 2);
			ck_assert_uint_eq(cap & 0x6, 0x6);
			ck_assert_uint_eq((cap >> 8) & 0x1f, 20);
			pasid_found = 1;
		}
		pos = h >> 20;
	}
	ck_assert(pasid_found);
	ck_assert_int_eq(get_param("dialect"), 2);
	ck_assert_int_eq(get_param("pasid_min"), 1);
	ck_assert_int_eq(get_param("pasid_max"), 1023);
	ck_assert_int_eq(get_param("bonds"), 0);
}
END_TEST

START_TEST(config_past_64_bytes_needs_cap_sys_admin)
{
	drop_cap(CAP_SYS_ADMIN);
	uint8_t cfg[256];
	int fd = open("/sys/bus/pci/devices/" DEV_C "/config", O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, cfg, sizeof(cfg)), 64);
	ck_assert_int_eq(pread(fd, cfg, sizeof(cfg), 64), 0);
	close(fd);
}
END_TEST

static int write_attr(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t k = write(fd, v, strlen(v));
	int e = errno;
	close(fd);
	return k < 0 ? -e : 0;
}

START_TEST(attribute_writes_validated_like_the_kernel)
{
	ck_assert_int_eq(write_attr(SVMREF_PARAM_DIR "/bonds", "3\n"), -EACCES);
	ck_assert_int_eq(write_attr(SVMREF_PARAM_DIR "/dialect", "two\n"), -EINVAL);
	ck_assert_int_eq(get_param("dialect"), 2); /* untouched, O_TRUNC ignored */
	ck_assert_int_eq(write_attr(SVMREF_PARAM_DIR "/pasid_max", "77"), 0);
	ck_assert_int_eq(get_param("pasid_max"), 77);
	ck_assert_int_eq(write_attr("/proc/sys/kernel/yama/ptrace_scope", "4\n"), -EINVAL);
	ck_assert_int_eq(write_attr("/proc/sys/kernel/yama/ptrace_scope", "3\n"), 0);
	ck_assert_int_eq(write_attr("/proc/sys/kernel/yama/ptrace_scope", "1\n"), -EINVAL); /* sticky */
	ck_assert_int_eq(fk_reset(), 0);
	drop_cap(CAP_SYS_PTRACE);
	ck_assert_int_eq(write_attr("/proc/sys/kernel/yama/ptrace_scope", "1\n"), -EPERM);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The seed's SVM bind                                                 */

START_TEST(dialect_none_answers_enotty)
{
	set_param("dialect", 0);
	struct chain ch = chain_open(3, DEV_C);
	ck_assert_int_eq(bind_raw(ch.d, 16, 0, 0, NULL), -ENOTTY);
	ck_assert_int_eq(unbind_raw(ch.d, 1, 0), -ENOTTY);
	chain_close(&ch);
}
END_TEST

START_TEST(dialect_self_minsz12_rejects_flags)
{
	set_param("dialect", 1);
	struct chain ch = chain_open(3, DEV_C);
	ck_assert_int_eq(bind_raw(ch.d, 11, 0, 0, NULL), -EINVAL);
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)getpid(), NULL), -EINVAL);
	uint32_t pasid = 0;
	ck_assert_int_eq(bind_raw(ch.d, 12, 0, 0, &pasid), 0);
	ck_assert_uint_eq(pasid, 1);
	ck_assert_int_eq(unbind_raw(ch.d, pasid, 0), 0);
	chain_close(&ch);
}
END_TEST

START_TEST(dialect_pid_minsz16_and_unknown_flags)
{
	struct chain ch = chain_open(3, DEV_C);
	ck_assert_int_eq(bind_raw(ch.d, 12, 0, 0, NULL), -EINVAL);
	ck_assert_int_eq(bind_raw(ch.d, 16, 1u << 5, 0, NULL), -EINVAL);
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PASID_RELEASE_CLEAN, 0, NULL), -EINVAL);
	ck_assert_int_eq(xioctl(ch.d, VFIO_DEVICE_BIND_TASK, (void *)8), -EFAULT);
	uint32_t pasid;
	ck_assert_int_eq(bind_raw(ch.d, 16, 0, 0, &pasid), 0);
	ck_assert_int_eq(unbind_raw(ch.d, pasid, 1u << 4), -EINVAL);
	ck_assert_int_eq(unbind_raw(ch.d, pasid, VFIO_SVM_PASID_RELEASE_FLUSHED), 0);
	chain_close(&ch);
}
END_TEST

START_TEST(stock_vfio_pci_has_no_bind)
{
	ck_assert_int_eq(fk_set_driver(DEV_C, "vfio-pci"), 0);
	struct chain ch = chain_open(3, DEV_C);
	ck_assert_int_eq(bind_raw(ch.d, 16, 0, 0, NULL), -ENOTTY);
	chain_close(&ch);
}
END_TEST

START_TEST(self_bind_same_pasid_refcounted)
{
	struct chain ch = chain_open(3, DEV_C);
	uint32_t p1, p2;
	ck_assert_int_eq(bind_raw(ch.d, 16, 0, 0, &p1), 0);
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)getpid(), &p2), 0);
	ck_assert_uint_eq(p1, p2);
	ck_assert_int_eq(get_param("bonds"), 1);
	ck_assert_int_eq(unbind_raw(ch.d, p1, 0), 0);
	ck_assert_int_eq(get_param("bonds"), 1);
	ck_assert_int_eq(unbind_raw(ch.d, p1, 0), 0);
	ck_assert_int_eq(get_param("bonds"), 0);
	ck_assert_int_eq(unbind_raw(ch.d, p1, 0), -ESRCH);
	chain_close(&ch);
}
END_TEST

START_TEST(self_bind_dma_reads_and_writes_own_memory)
{
	struct chain ch = chain_open(3, DEV_C);
	uint32_t pasid;
	char mem[64] = "hello from the cpu", out[64] = { 0 };
	ck_assert_int_eq(bind_raw(ch.d, 16, 0, 0, &pasid), 0);
	ck_assert_int_eq(dma(ch.d, pasid, mem, out, sizeof(mem), 0), 0);
	ck_assert_str_eq(out, "hello from the cpu");
	ck_assert_int_eq(dma(ch.d, pasid, mem, "device!", 8, 1), 0);
	ck_assert_str_eq(mem, "device!");
	ck_assert_int_eq(dma(ch.d, pasid + 1, mem, out, 8, 0), -ESRCH);
	ck_assert_int_eq(dma(ch.d, pasid, (void *)8, out, 8, 0), -EFAULT);
	ck_assert_int_eq(dma(ch.d, pasid, mem, (void *)8, 8, 0), -EFAULT);
	ck_assert_int_eq(dma(ch.d, pasid, mem, out, SVMREF_DMA_MAX + 1, 0), -EINVAL);
	struct svmref_dma d = { .argsz = sizeof(d), .flags = 2, .pasid = pasid, .va = (uintptr_t)mem, .len = 1, .buf = (uintptr_t)out };
	ck_assert_int_eq(xioctl(ch.d, SVMREF_DEVICE_PASID_DMA, &d), -EINVAL);
	chain_close(&ch);
}
END_TEST

START_TEST(pid_bind_forked_child_and_dma_into_it)
{
	static char buf[4096];
	struct chain ch = chain_open(3, DEV_C);
	pid_t kid = spawn_sleeper(buf, sizeof(buf), 'k');
	memset(buf, 'p', sizeof(buf)); /* the parent's copy differs */
	uint32_t pk, pp;
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)kid, &pk), 0);
	ck_assert_int_eq(bind_raw(ch.d, 16, 0, 0, &pp), 0);
	ck_assert_uint_ne(pk, pp);
	char out[16] = { 0 };
	ck_assert_int_eq(dma(ch.d, pk, buf, out, 8, 0), 0);
	ck_assert_int_eq(memcmp(out, "kkkkkkkk", 8), 0);
	ck_assert_int_eq(dma(ch.d, pp, buf, out, 8, 0), 0);
	ck_assert_int_eq(memcmp(out, "pppppppp", 8), 0);
	ck_assert_int_eq(dma(ch.d, pk, buf, "written", 8, 1), 0);
	ck_assert_int_eq(dma(ch.d, pk, buf, out, 8, 0), 0);
	ck_assert_str_eq(out, "written");
	ck_assert_int_eq(buf[0], 'p');
	ck_assert_int_eq(get_param("bonds"), 2);
	kill(kid, SIGKILL);
	wait_exit(kid);
	chain_close(&ch);
}
END_TEST

START_TEST(bond_dies_when_child_exits)
{
	static char buf[64];
	struct chain ch = chain_open(3, DEV_C);
	pid_t kid = spawn_sleeper(buf, sizeof(buf), 'x');
	uint32_t pk;
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)kid, &pk), 0);
	ck_assert_int_eq(get_param("bonds"), 1);
	kill(kid, SIGKILL);
	wait_exit(kid);
	char out[8];
	ck_assert_int_eq(dma(ch.d, pk, buf, out, 8, 0), -ESRCH);
	ck_assert_int_eq(get_param("bonds"), 0);
	ck_assert_int_eq(unbind_raw(ch.d, pk, 0), -ESRCH);
	chain_close(&ch);
}
END_TEST

START_TEST(bond_dies_when_child_execs)
{
	static char buf[64];
	struct chain ch = chain_open(3, DEV_C);
	int go[2], done[2];
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe2(done, O_CLOEXEC), 0);
	pid_t kid = fork();
	if (!kid) {
		close(go[1]);
		memset(buf, 'e', sizeof(buf));
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(3);
	}
	close(go[0]);
	close(done[1]);
	uint32_t pk;
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)kid, &pk), 0);
	char out[8];
	ck_assert_int_eq(dma(ch.d, pk, buf, out, 1, 0), 0);
	ck_assert_int_eq(write(go[1], "x", 1), 1);
	char c;
	ck_assert_int_eq(read(done[0], &c, 1), 0); /* EOF: the O_CLOEXEC end went with exec */
	ck_assert_int_eq(dma(ch.d, pk, buf, out, 1, 0), -ESRCH);
	ck_assert_int_eq(get_param("bonds"), 0);
	uint32_t again;
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)kid, &again), 0); /* the new mm */
	ck_assert_int_eq(get_param("bonds"), 1);
	kill(kid, SIGKILL);
	wait_exit(kid);
	close(go[1]);
	close(done[0]);
	chain_close(&ch);
}
END_TEST

START_TEST(pid_bind_nonexistent_pid_esrch)
{
	struct chain ch = chain_open(3, DEV_C);
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, 0x3ffffff0, NULL), -ESRCH);
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, 0, NULL), -ESRCH);
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, 2, NULL), -ESRCH); /* kthreadd: no mm */
	chain_close(&ch);
}
END_TEST

START_TEST(pid_bind_zombie_esrch)
{
	struct chain ch = chain_open(3, DEV_C);
	pid_t kid = fork();
	if (!kid)
		_exit(0);
	siginfo_t si;
	ck_assert_int_eq(waitid(P_PID, kid, &si, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)kid, NULL), -ESRCH);
	wait_exit(kid);
	chain_close(&ch);
}
END_TEST

/* Child that drops CAP_SYS_PTRACE and binds @target through the inherited device fd. */
static int bind_from_uncapable_child(int dfd, pid_t target)
{
	pid_t p = fork();
	if (!p) {
		drop_cap(CAP_SYS_PTRACE);
		int r = bind_raw(dfd, 16, VFIO_SVM_PID, (uint32_t)target, NULL);
		_exit(r == 0 ? 0 : r == -EACCES ? 13 : r == -ESRCH ? 3 : 99);
	}
	return wait_exit(p);
}

START_TEST(yama2_eacces_after_dropping_cap_sys_ptrace)
{
	static char buf[16];
	struct chain ch = chain_open(3, DEV_C);
	pid_t kid = spawn_sleeper(buf, sizeof(buf), 's');
	set_yama(2);
	ck_assert_int_eq(bind_from_uncapable_child(ch.d, kid), 13);
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)kid, NULL), 0); /* with the cap */
	set_yama(0);
	ck_assert_int_eq(bind_from_uncapable_child(ch.d, kid), 0);
	set_yama(3);
	ck_assert_int_eq(bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)kid, NULL), -EACCES);
	ck_assert_int_eq(bind_raw(ch.d, 16, 0, 0, NULL), 0); /* self is never Yama's business */
	kill(kid, SIGKILL);
	wait_exit(kid);
	chain_close(&ch);
}
END_TEST

START_TEST(yama1_descendants_and_declared_tracers_only)
{
	static char buf[16];
	struct chain ch = chain_open(3, DEV_C);
	set_yama(1);
	/* sibling: the sleeper is not a descendant of the uncapable binder */
	int cmd[2];
	ck_assert_int_eq(pipe(cmd), 0);
	int ack[2];
	ck_assert_int_eq(pipe(ack), 0);
	pid_t sib = fork();
	if (!sib) {
		close(cmd[1]);
		close(ack[0]);
		pid_t tracer;
		while (read(cmd[0], &tracer, sizeof(tracer)) == sizeof(tracer)) {
			int r = prctl(PR_SET_PTRACER, tracer == -1 ? PR_SET_PTRACER_ANY : (unsigned long)tracer, 0, 0, 0);
			if (write(ack[1], &r, sizeof(r)) != sizeof(r))
				_exit(1);
		}
		_exit(0);
	}
	close(cmd[0]);
	close(ack[1]);
	(void)buf;
	/* the parent is an ancestor of the sibling: allowed, even without the cap */
	pid_t p = fork();
	if (!p) {
		/* a grandchild binding its uncle: not a descendant */
		drop_cap(CAP_SYS_PTRACE);
		int r = bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)sib, NULL);
		_exit(r == -EACCES ? 0 : 1);
	}
	ck_assert_int_eq(wait_exit(p), 0);
	/* the sibling names this process (an ancestor of the next child) as its tracer */
	pid_t me = getpid();
	int r;
	ck_assert_int_eq(write(cmd[1], &me, sizeof(me)), sizeof(me));
	ck_assert_int_eq(read(ack[0], &r, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(bind_from_uncapable_child(ch.d, sib), 0);
	/* PR_SET_PTRACER_ANY */
	pid_t any = -1;
	ck_assert_int_eq(write(cmd[1], &any, sizeof(any)), sizeof(any));
	ck_assert_int_eq(read(ack[0], &r, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(bind_from_uncapable_child(ch.d, sib), 0);
	/* a tracer that does not exist: -EINVAL */
	pid_t none = 0x3ffffff0;
	ck_assert_int_eq(write(cmd[1], &none, sizeof(none)), sizeof(none));
	ck_assert_int_eq(read(ack[0], &r, sizeof(r)), sizeof(r));
	ck_assert_int_eq(r, -1);
	close(cmd[1]);
	ck_assert_int_eq(wait_exit(sib), 0);
	close(ack[0]);
	chain_close(&ch);
}
END_TEST

START_TEST(yama1_uncapable_parent_binds_own_child)
{
	static char buf[16];
	struct chain ch = chain_open(3, DEV_C);
	set_yama(1);
	pid_t p = fork();
	if (!p) {
		drop_cap(CAP_SYS_PTRACE);
		pid_t kid = spawn_sleeper(buf, sizeof(buf), 'q');
		int r = bind_raw(ch.d, 16, VFIO_SVM_PID, (uint32_t)kid, NULL);
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
		_exit(r == 0 ? 0 : 1);
	}
	ck_assert_int_eq(wait_exit(p), 0);
	chain_close(&ch);
}
END_TEST

static void become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		_exit(120);
}

/* Caller and target dropped to the same ordinary uid: Yama 1 still says no to a sibling. */
static int nobody_binds_nobody_sibling(int dfd)
{
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	pid_t sib = fork();
	if (!sib) {
		become_nobody();
		prctl(PR_SET_DUMPABLE, 1);
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	pid_t p = fork();
	if (!p) {
		become_nobody();
		int r = bind_raw(dfd, 16, VFIO_SVM_PID, (uint32_t)sib, NULL);
		_exit(r == 0 ? 0 : r == -EACCES ? 13 : r == -ESRCH ? 3 : 99);
	}
	int r = wait_exit(p);
	kill(sib, SIGKILL);
	wait_exit(sib);
	return r;
}

START_TEST(yama_applies_to_callers_of_another_uid)
{
	struct chain ch = chain_open(3, DEV_C);
	ck_assert_int_eq(nobody_binds_nobody_sibling(ch.d), 0);
	set_yama(1);
	ck_assert_int_eq(nobody_binds_nobody_sibling(ch.d), 13);
	chain_close(&ch);
}
END_TEST

START_TEST(pasid_range_full_is_enospc)
{
	set_param("pasid_min", 5);
	set_param("pasid_max", 5);
	struct chain a = chain_open(3, DEV_C);
	struct chain b = chain_open(4, DEV_A);
	uint32_t pa;
	ck_assert_int_eq(bind_raw(a.d, 16, 0, 0, &pa), 0);
	ck_assert_uint_eq(pa, 5);
	ck_assert_int_eq(bind_raw(b.d, 16, 0, 0, NULL), -ENOSPC);
	set_param("pasid_max", 6); /* read at each call */
	ck_assert_int_eq(bind_raw(b.d, 16, 0, 0, &pa), 0);
	ck_assert_uint_eq(pa, 6);
	chain_close(&b);
	chain_close(&a);
}
END_TEST

START_TEST(closing_device_fd_releases_bonds)
{
	struct chain ch = chain_open(3, DEV_C);
	uint32_t pa;
	ck_assert_int_eq(bind_raw(ch.d, 16, 0, 0, &pa), 0);
	ck_assert_int_eq(get_param("bonds"), 1);
	close(ch.d);
	ck_assert_int_eq(get_param("bonds"), 0);
	ch.d = ioctl(ch.g, VFIO_GROUP_GET_DEVICE_FD, DEV_C);
	ck_assert_int_ge(ch.d, 0);
	ck_assert_int_eq(unbind_raw(ch.d, pa, 0), -ESRCH);
	chain_close(&ch);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The lab backend and concurrency                                     */

#include "lab_backends.h"

START_TEST(lab_fake_backend_drives_the_fake)
{
	long v;
	ck_assert_int_eq(lab_fake_open(), 0);
	ck_assert_str_eq(lab_fake_dev(0), DEV_A);
	ck_assert_str_eq(lab_fake_dev(1), DEV_B);
	ck_assert_str_eq(lab_fake_dev(2), DEV_C);
	ck_assert_ptr_null(lab_fake_dev(3));
	ck_assert_int_eq(lab_fake_set_param("dialect", 1), 0);
	ck_assert_int_eq(lab_fake_get_param("dialect", &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(lab_fake_set_param("bonds", 1), -EACCES);
	ck_assert_int_eq(lab_fake_set_param("nope", 1), -ENOENT);
	ck_assert_int_eq(lab_fake_get_param("bonds", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(lab_fake_set_yama(3), 0);
	ck_assert_int_eq(lab_fake_set_yama(0), -EOPNOTSUPP);
	ck_assert_int_eq(lab_fake_bind_driver(DEV_B, "other"), 0);
	int g = grp_open(4);
	struct vfio_group_status st = { .argsz = sizeof(st) };
	ck_assert_int_eq(xioctl(g, VFIO_GROUP_GET_STATUS, &st), 0);
	ck_assert_uint_eq(st.flags, 0);
	close(g);
	ck_assert_int_eq(lab_fake_bind_driver(DEV_C, "none"), 0);
	ck_assert_int_eq(grp_open(3), -1);
	ck_assert_int_eq(lab_fake_bind_driver(DEV_C, "bogus"), -EINVAL);
	ck_assert_int_eq(lab_fake_reset(), 0);
	ck_assert_int_eq(lab_fake_get_param("dialect", &v), 0);
	ck_assert_int_eq(v, 2);
	ck_assert_int_eq(lab_fake_set_yama(1), 0);
	g = grp_open(3);
	ck_assert_int_ge(g, 0);
	close(g);
}
END_TEST

static void *hammer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 300; i++) {
		int c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		if (c < 0 || ioctl(c, VFIO_GET_API_VERSION) != 0)
			return (void *)1;
		int g = grp_open(4);
		if (g >= 0) {
			if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) || ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
				return (void *)2;
			int d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, DEV_A);
			if (d < 0)
				return (void *)3;
			close(d);
			close(g);
		} else if (errno != EBUSY) {
			return (void *)4;
		}
		close(c);
	}
	return NULL;
}

START_TEST(threads_share_one_consistent_kernel)
{
	int before = count_fds();
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		ck_assert_ptr_null(r);
	}
	ck_assert_int_eq(count_fds(), before);
	int g = grp_open(4);
	ck_assert_int_ge(g, 0);
	close(g);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *suite(void)
{
	Suite *s = suite_create("fakekernel");
	TCase *t;

	t = tcase_create("container");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, container_api_version_and_extensions);
	tcase_add_test(t, set_iommu_without_group_is_einval);
	tcase_add_test(t, map_dma_before_set_iommu_is_einval);
	tcase_add_test(t, set_iommu_unknown_twice_and_nesting);
	tcase_add_test(t, iommu_get_info_flags_pgsizes_and_caps);
	tcase_add_test(t, map_dma_checks_like_type1);
	tcase_add_test(t, unmap_dma_v2_rejects_bisection_and_reports_size);
	tcase_add_test(t, memlock_limit_enomem_without_cap_ipc_lock);
	tcase_add_test(t, last_group_leaving_forgets_iommu_type);
	suite_add_tcase(s, t);

	t = tcase_create("group");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, group_second_open_is_ebusy);
	tcase_add_test(t, group_open_is_ebusy_across_processes);
	tcase_add_test(t, group_missing_node_is_enoent);
	tcase_add_test(t, group_status_viable_then_container_set);
	tcase_add_test(t, group_not_viable_set_container_eperm);
	tcase_add_test(t, set_container_bad_fd_not_container_and_already_set);
	tcase_add_test(t, get_device_fd_errnos);
	tcase_add_test(t, device_fd_keeps_group_attached);
	tcase_add_test(t, driver_unbind_removes_group_node);
	tcase_add_test(t, kernel_driver_cannot_probe_into_claimed_group);
	suite_add_tcase(s, t);

	t = tcase_create("device");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, device_info_regions_irqs_like_edu);
	tcase_add_test(t, bar0_mmap_shared_only);
	tcase_add_test(t, fd_count_unchanged_after_close);
	suite_add_tcase(s, t);

	t = tcase_create("inject");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, inject_hits_exactly_the_nth_call);
	tcase_add_test(t, inject_on_open_has_no_side_effect);
	tcase_add_test(t, inject_on_close_closes_then_fails);
	tcase_add_test(t, inject_covers_every_interposed_entry);
	suite_add_tcase(s, t);

	t = tcase_create("sysfs");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, sysfs_tree_looks_like_the_lab);
	tcase_add_test(t, config_past_64_bytes_needs_cap_sys_admin);
	tcase_add_test(t, attribute_writes_validated_like_the_kernel);
	suite_add_tcase(s, t);

	t = tcase_create("svm");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_set_timeout(t, 30);
	tcase_add_test(t, dialect_none_answers_enotty);
	tcase_add_test(t, dialect_self_minsz12_rejects_flags);
	tcase_add_test(t, dialect_pid_minsz16_and_unknown_flags);
	tcase_add_test(t, stock_vfio_pci_has_no_bind);
	tcase_add_test(t, self_bind_same_pasid_refcounted);
	tcase_add_test(t, self_bind_dma_reads_and_writes_own_memory);
	tcase_add_test(t, pid_bind_forked_child_and_dma_into_it);
	tcase_add_test(t, bond_dies_when_child_exits);
	tcase_add_test(t, bond_dies_when_child_execs);
	tcase_add_test(t, pid_bind_nonexistent_pid_esrch);
	tcase_add_test(t, pid_bind_zombie_esrch);
	tcase_add_test(t, yama2_eacces_after_dropping_cap_sys_ptrace);
	tcase_add_test(t, yama1_descendants_and_declared_tracers_only);
	tcase_add_test(t, yama1_uncapable_parent_binds_own_child);
	tcase_add_test(t, yama_applies_to_callers_of_another_uid);
	tcase_add_test(t, pasid_range_full_is_enospc);
	tcase_add_test(t, closing_device_fd_releases_bonds);
	suite_add_tcase(s, t);

	t = tcase_create("lab");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, lab_fake_backend_drives_the_fake);
	tcase_add_test(t, threads_share_one_consistent_kernel);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	fk_version = (unsigned (*)(void))dlsym(RTLD_DEFAULT, "fakek_version");
	if (!fk_version) {
		fprintf(stderr, "test_fake: libsvmbind-fakekernel.so is not preloaded; skipping\n");
		return 77;
	}
	fk_inject = (void (*)(unsigned long, int))dlsym(RTLD_DEFAULT, "fakek_inject");
	fk_calls = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "fakek_calls");
	fk_root = (const char *(*)(void))dlsym(RTLD_DEFAULT, "fakek_root");
	fk_set_driver = (int (*)(const char *, const char *))dlsym(RTLD_DEFAULT, "fakek_set_driver");
	fk_reset = (int (*)(void))dlsym(RTLD_DEFAULT, "fakek_reset");
	if (fk_version() != FAKEK_VERSION || !fk_root()) {
		fprintf(stderr, "test_fake: fake kernel version %u, root %s\n", fk_version(), fk_root() ? fk_root() : "(none)");
		return 1;
	}
	SRunner *sr = srunner_create(suite());
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
