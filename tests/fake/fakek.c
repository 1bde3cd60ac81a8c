/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The fake kernel: an LD_PRELOAD interposer that emulates Linux 6.1 VFIO
 * (container, group, vfio-pci device, type1 IOMMU) plus the seed RFC's SVM
 * bind on devices bound to "svmref-vfio-pci", over a sysfs-like file tree.
 *
 * Reference: drivers/vfio/{container.c,vfio_main.c,vfio_iommu_type1.c} and
 * drivers/vfio/pci/vfio_pci_core.c of Linux 6.1; comments name the function
 * each errno comes from. Divergences are listed in README.md.
 */
/* This file defines libc's own entry points: no fortify inlines, no 64-bit redirects. */
#undef _FORTIFY_SOURCE
#undef _FILE_OFFSET_BITS
#undef _TIME_BITS
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/vfio.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fakek.h"
#include "svmref_uapi.h"
#include <svmbind/vfio_svm.h>

#define EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ */
/* Real libc functions                                                 */

static int (*r_open)(const char *, int, ...);
static int (*r_openat)(int, const char *, int, ...);
static int (*r_close)(int);
static ssize_t (*r_read)(int, void *, size_t);
static ssize_t (*r_write)(int, const void *, size_t);
static ssize_t (*r_pread)(int, void *, size_t, off_t);
static ssize_t (*r_pwrite)(int, const void *, size_t, off_t);
static int (*r_ioctl)(int, unsigned long, ...);
static void *(*r_mmap)(void *, size_t, int, int, int, off_t);
static int (*r_munmap)(void *, size_t);
static ssize_t (*r_readlink)(const char *, char *, size_t);
static DIR *(*r_opendir)(const char *);
static struct dirent *(*r_readdir)(DIR *);
static struct dirent64 *(*r_readdir64)(DIR *);
static int (*r_closedir)(DIR *);
static int (*r_getrlimit)(int, struct rlimit *);
static int (*r_prctl)(int, ...);
static long (*r_syscall)(long, ...);

static void fk_resolve(void)
{
	if (r_syscall)
		return;
#define R(v, n) v = (__typeof__(v))dlsym(RTLD_NEXT, n)
	R(r_open, "open");
	R(r_openat, "openat");
	R(r_close, "close");
	R(r_read, "read");
	R(r_write, "write");
	R(r_pread, "pread");
	R(r_pwrite, "pwrite");
	R(r_ioctl, "ioctl");
	R(r_mmap, "mmap");
	R(r_munmap, "munmap");
	R(r_readlink, "readlink");
	R(r_opendir, "opendir");
	R(r_readdir, "readdir");
	R(r_readdir64, "readdir64");
	R(r_closedir, "closedir");
	R(r_getrlimit, "getrlimit");
	R(r_prctl, "prctl");
	R(r_syscall, "syscall");
#undef R
}

/* ------------------------------------------------------------------ */
/* Global state                                                        */

static pthread_mutex_t g_lock;
static char g_root[PATH_MAX];
static bool g_have_root;
static pid_t g_creator;

static unsigned long g_calls;
static unsigned long g_inject_nth;
static int g_inject_err;

/* Every interposed call passes here: counts it, and says whether to fail it. */
static int fk_gate(void)
{
	unsigned long n = __atomic_add_fetch(&g_calls, 1, __ATOMIC_SEQ_CST);
	unsigned long nth = __atomic_load_n(&g_inject_nth, __ATOMIC_SEQ_CST);

	if (nth && n == nth &&
	    __atomic_compare_exchange_n(&g_inject_nth, &nth, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return __atomic_load_n(&g_inject_err, __ATOMIC_SEQ_CST);
	return 0;
}

static void lock(void) { pthread_mutex_lock(&g_lock); }
static void unlock(void) { pthread_mutex_unlock(&g_lock); }

/* ------------------------------------------------------------------ */
/* Small file helpers (all on real paths, never through the wrappers)  */

static int rpath(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rpath(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int k = snprintf(buf, n, "%s", g_root);

	va_start(ap, fmt);
	k += vsnprintf(buf + k, n - (size_t)k, fmt, ap);
	va_end(ap);
	return k < (int)n ? 0 : -ENAMETOOLONG;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = r_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return -errno;
	ssize_t k = r_write(fd, data, len);
	int e = errno;
	r_close(fd);
	return k == (ssize_t)len ? 0 : -(k < 0 ? e : EIO);
}

static int write_str(const char *path, const char *s)
{
	return write_file(path, s, strlen(s), 0644);
}

static ssize_t read_small(const char *path, char *buf, size_t n)
{
	int fd = r_open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	ssize_t k = r_read(fd, buf, n - 1);
	int e = errno;
	r_close(fd);
	if (k < 0)
		return -e;
	buf[k] = 0;
	return k;
}

static long read_long_at(const char *path, long dflt)
{
	char b[64];

	if (read_small(path, b, sizeof(b)) <= 0)
		return dflt;
	return strtol(b, NULL, 0);
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb; (void)flag; (void)f;
	remove(p);
	return 0;
}

static void rm_rf(const char *path)
{
	nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Capabilities of the calling thread, from capget (raw, never interposed). */
static bool cap_effective(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (r_syscall(SYS_capget, &h, d))
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

/* ------------------------------------------------------------------ */
/* Topology                                                            */

enum devkind { DK_EDU, DK_BRIDGE, DK_E1000E };

struct devdef {
	const char *bdf;
	const char *parent; /* upstream bridge directory, or NULL */
	int group;	    /* -1: no iommu_group link */
	const char *driver; /* default driver, NULL = unbound */
	enum devkind kind;
};

static const struct devdef g_defs[] = {
	{ "0000:00:03.0", NULL, 3, SVMREF_DRIVER_NAME, DK_EDU },
	{ "0000:00:04.0", NULL, 4, NULL, DK_BRIDGE },
	{ "0000:00:05.0", NULL, -1, NULL, DK_EDU },
	{ "0000:00:06.0", NULL, 6, "e1000e", DK_E1000E },
	{ "0000:01:01.0", "0000:00:04.0", 4, SVMREF_DRIVER_NAME, DK_EDU },
	{ "0000:01:02.0", "0000:00:04.0", 4, SVMREF_DRIVER_NAME, DK_EDU },
};
#define NDEFS (sizeof(g_defs) / sizeof(g_defs[0]))

static const char *const g_drivers[] = { SVMREF_DRIVER_NAME, "vfio-pci", "e1000e", "pci-stub", "pcieport" };

static const struct devdef *def_by_bdf(const char *bdf)
{
	for (size_t i = 0; i < NDEFS; i++)
		if (!strcmp(g_defs[i].bdf, bdf))
			return &g_defs[i];
	return NULL;
}

static bool is_vfio_driver(const char *drv)
{
	return drv && strstr(drv, "vfio");
}

/* Drivers with driver_managed_dma (6.1): they do not claim the group's DMA. */
static bool driver_manages_dma(const char *drv)
{
	return is_vfio_driver(drv) || !strcmp(drv, "pci-stub") || !strcmp(drv, "pcieport");
}

/* Real directory of a device below /sys (without the root). */
static void dev_sysdir(const struct devdef *d, char *buf, size_t n)
{
	if (d->parent)
		snprintf(buf, n, "/sys/devices/pci0000:00/%s/%s", d->parent, d->bdf);
	else
		snprintf(buf, n, "/sys/devices/pci0000:00/%s", d->bdf);
}

/* "../" repeated to climb from the device directory back to /sys. */
static const char *dev_up(const struct devdef *d)
{
	return d->parent ? "../../../../" : "../../../";
}

static size_t cfg_size(enum devkind k)
{
	/* pci_cfg_space_size(): 4096 only for PCIe (edu and the bridge are conventional PCI). */
	return k == DK_E1000E ? 4096 : 256;
}

static void put16(uint8_t *c, unsigned o, uint16_t v) { c[o] = v & 0xff; c[o + 1] = v >> 8; }
static void put32(uint8_t *c, unsigned o, uint32_t v) { put16(c, o, v & 0xffff); put16(c, o + 2, v >> 16); }

static void build_config(enum devkind k, uint8_t *c)
{
	memset(c, 0, 4096);
	switch (k) {
	case DK_EDU: /* QEMU hw/misc/edu.c */
		put16(c, 0x00, 0x1234);
		put16(c, 0x02, 0x11e8);
		put16(c, 0x06, 0x0010);		/* status: capability list */
		c[0x08] = 0x10;			/* revision */
		put16(c, 0x0a, 0x00ff);		/* class 00ff, prog-if 00 */
		put32(c, 0x10, 0xfea00000);	/* BAR0: 1 MiB memory */
		put16(c, 0x2c, 0x1af4);
		put16(c, 0x2e, 0x1100);
		c[0x34] = 0x40;
		c[0x3d] = 0x01;			/* INTA */
		c[0x40] = 0x05;			/* MSI, 64-bit, 1 vector */
		put16(c, 0x42, 0x0080);
		break;
	case DK_BRIDGE: /* QEMU pci-bridge */
		put16(c, 0x00, 0x1b36);
		put16(c, 0x02, 0x0001);
		put16(c, 0x06, 0x0010);
		put16(c, 0x0a, 0x0604);
		c[0x0e] = 0x01;			/* header type 1 */
		c[0x18] = 0x00; c[0x19] = 0x01; c[0x1a] = 0x01;
		c[0x34] = 0x4c;
		c[0x3d] = 0x01;
		c[0x4c] = 0x05; c[0x4d] = 0x48;	/* MSI -> SHPC */
		c[0x48] = 0x0c; c[0x49] = 0x00;
		break;
	case DK_E1000E: /* QEMU e1000e (82574L), PCIe, with ATS/PRI/PASID added */
		put16(c, 0x00, 0x8086);
		put16(c, 0x02, 0x10d3);
		put16(c, 0x06, 0x0010);
		put16(c, 0x0a, 0x0200);
		put32(c, 0x10, 0xfebc0000);
		put16(c, 0x2c, 0x8086);
		put16(c, 0x2e, 0x0000);
		c[0x34] = 0xc8;
		c[0x3d] = 0x01;
		c[0xc8] = 0x01; c[0xc9] = 0xd0;	/* PM */
		put16(c, 0xca, 0x0023);
		c[0xd0] = 0x05; c[0xd1] = 0xe0;	/* MSI */
		put16(c, 0xd2, 0x0080);
		c[0xe0] = 0x10; c[0xe1] = 0xa0;	/* PCI Express v2, endpoint */
		put16(c, 0xe2, 0x0002);
		put32(c, 0xe4, 0x10008000);	/* DevCap: FLR */
		c[0xa0] = 0x11; c[0xa1] = 0x00;	/* MSI-X, 5 vectors */
		put16(c, 0xa2, 0x0004);
		put32(c, 0x100, 0x000fu | 1u << 16 | 0x110u << 20);	/* ATS */
		put32(c, 0x110, 0x0013u | 1u << 16 | 0x120u << 20);	/* PRI */
		put32(c, 0x118, 0x20);				/* outstanding capacity */
		put32(c, 0x120, 0x001bu | 1u << 16 | 0u << 20);	/* PASID */
		put16(c, 0x124, 0x0006 | 20u << 8);		/* EXEC|PRIV, width 20 */
		break;
	}
}

static int topo_set_driver_links(const struct devdef *d, const char *drv);
static int group_node_update(int group);

static int build_topology_locked(void);

/* Modes as the real files have them, whatever the caller's umask. */
static int build_topology(void)
{
	mode_t old = umask(022);
	int r = build_topology_locked();
	umask(old);
	return r;
}

static int build_topology_locked(void)
{
	char p[PATH_MAX], q[PATH_MAX], dir[256];
	uint8_t cfg[4096];
	int r;

	static const char *const subs[] = { "sys", "dev", "proc", ".fakek" };
	for (size_t i = 0; i < 4; i++) {
		rpath(p, sizeof(p), "/%s", subs[i]);
		rm_rf(p);
	}

#define MK(...) do { rpath(p, sizeof(p), __VA_ARGS__); if ((r = mkdir_p(p))) return r; } while (0)
#define WR(s, ...) do { rpath(p, sizeof(p), __VA_ARGS__); if ((r = write_str(p, s))) return r; } while (0)
	MK("/dev/vfio");
	MK("/sys/bus/pci/devices");
	MK("/sys/kernel/iommu_groups");
	MK("/sys/module/vfio/parameters");
	MK("/sys/module/svmref/parameters");
	MK("/sys/class/iommu/dmar0/intel-iommu");
	MK("/proc/sys/kernel/yama");
	MK("/.fakek/ptracer");
	MK("/.fakek/claims");
	/* any uid declares its ptracer and claims its groups here (sticky, like /tmp) */
	rpath(p, sizeof(p), "/.fakek/ptracer");
	chmod(p, 01777);
	rpath(p, sizeof(p), "/.fakek/claims");
	chmod(p, 01777);
	rpath(p, sizeof(p), "/dev/vfio/vfio");
	if ((r = write_file(p, "", 0, 0666)))
		return r;
	WR("N\n", "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
	WR("2\n", "/sys/module/svmref/parameters/dialect");
	WR("1\n", "/sys/module/svmref/parameters/pasid_min");
	WR("1023\n", "/sys/module/svmref/parameters/pasid_max");
	WR("0\n", "/sys/module/svmref/parameters/bonds");
	/* refreshed by whichever process opens it; writes through open() stay -EACCES */
	rpath(p, sizeof(p), "/sys/module/svmref/parameters/bonds");
	chmod(p, 0666);
	/* QEMU 7.2 intel-iommu, intremap=on (TCG: no EIM), pt, legacy mode: QI IR PT IRO MHMV, no PASID/SMTS */
	WR("f00f4a\n", "/sys/class/iommu/dmar0/intel-iommu/ecap");
	WR("12008c22260286\n", "/sys/class/iommu/dmar0/intel-iommu/cap");
	WR("0\n", "/proc/sys/kernel/yama/ptrace_scope");
	for (size_t i = 0; i < sizeof(g_drivers) / sizeof(g_drivers[0]); i++)
		MK("/sys/bus/pci/drivers/%s", g_drivers[i]);

	for (size_t i = 0; i < NDEFS; i++) {
		const struct devdef *d = &g_defs[i];
		static const char *const vend[] = { "0x1234\n", "0x1b36\n", "0x8086\n" };
		static const char *const devi[] = { "0x11e8\n", "0x0001\n", "0x10d3\n" };
		static const char *const cls[] = { "0x00ff00\n", "0x060400\n", "0x020000\n" };

		dev_sysdir(d, dir, sizeof(dir));
		MK("%s", dir);
		WR(vend[d->kind], "%s/vendor", dir);
		WR(devi[d->kind], "%s/device", dir);
		WR(cls[d->kind], "%s/class", dir);
		WR("(null)\n", "%s/driver_override", dir);
		build_config(d->kind, cfg);
		rpath(p, sizeof(p), "%s/config", dir);
		if ((r = write_file(p, cfg, cfg_size(d->kind), 0644)))
			return r;
		rpath(p, sizeof(p), "/sys/bus/pci/devices/%s", d->bdf);
		snprintf(q, sizeof(q), "../../..%s", dir + 4);
		if (symlink(q, p))
			return -errno;
		if (d->group >= 0) {
			MK("/sys/kernel/iommu_groups/%d/devices", d->group);
			WR("DMA\n", "/sys/kernel/iommu_groups/%d/type", d->group);
			rpath(p, sizeof(p), "%s/iommu_group", dir);
			snprintf(q, sizeof(q), "%skernel/iommu_groups/%d", dev_up(d), d->group);
			if (symlink(q, p))
				return -errno;
			rpath(p, sizeof(p), "/sys/kernel/iommu_groups/%d/devices/%s", d->group, d->bdf);
			snprintf(q, sizeof(q), "../../../..%s", dir + 4);
			if (symlink(q, p))
				return -errno;
		}
		if ((r = topo_set_driver_links(d, d->driver)))
			return r;
	}
	for (size_t i = 0; i < NDEFS; i++)
		if (g_defs[i].group >= 0 && (r = group_node_update(g_defs[i].group)))
			return r;
#undef MK
#undef WR
	return 0;
}

/* Driver bound to @bdf now ("" if none), read from the tree. */
static void dev_driver(const char *bdf, char *out, size_t n)
{
	char p[PATH_MAX], l[PATH_MAX];

	out[0] = 0;
	rpath(p, sizeof(p), "/sys/bus/pci/devices/%s/driver", bdf);
	ssize_t k = r_readlink(p, l, sizeof(l) - 1);
	if (k <= 0)
		return;
	l[k] = 0;
	const char *b = strrchr(l, '/');
	b = b ? b + 1 : l;
	size_t len = strlen(b);
	if (len >= n)
		len = n - 1;
	memcpy(out, b, len);
	out[len] = 0;
}

static int topo_set_driver_links(const struct devdef *d, const char *drv)
{
	char p[PATH_MAX], q[PATH_MAX], dir[256], old[64];

	dev_sysdir(d, dir, sizeof(dir));
	dev_driver(d->bdf, old, sizeof(old));
	if (old[0]) {
		rpath(p, sizeof(p), "/sys/bus/pci/drivers/%s/%s", old, d->bdf);
		unlink(p);
	}
	rpath(p, sizeof(p), "%s/driver", dir);
	unlink(p);
	if (!drv)
		return 0;
	rpath(q, sizeof(q), "/sys/bus/pci/drivers/%s", drv);
	mkdir_p(q);
	snprintf(q, sizeof(q), "%sbus/pci/drivers/%s", dev_up(d), drv);
	if (symlink(q, p))
		return -errno;
	rpath(p, sizeof(p), "/sys/bus/pci/drivers/%s/%s", drv, d->bdf);
	snprintf(q, sizeof(q), "../../../..%s", dir + 4);
	if (symlink(q, p) && errno != EEXIST)
		return -errno;
	return 0;
}

/* /dev/vfio/N exists while at least one device of group N is on a VFIO driver. */
static int group_node_update(int group)
{
	char p[PATH_MAX], drv[64];
	bool any = false;

	for (size_t i = 0; i < NDEFS; i++) {
		if (g_defs[i].group != group)
			continue;
		dev_driver(g_defs[i].bdf, drv, sizeof(drv));
		if (is_vfio_driver(drv))
			any = true;
	}
	rpath(p, sizeof(p), "/dev/vfio/%d", group);
	if (!any) {
		unlink(p);
		return 0;
	}
	if (access(p, F_OK) == 0)
		return 0;
	return write_file(p, "", 0, 0600);
}

/* iommu_group_dma_owner_claimed() by a kernel driver: a member on a driver without driver_managed_dma. */
static bool group_kernel_owned(int group)
{
	char drv[64];

	for (size_t i = 0; i < NDEFS; i++) {
		if (g_defs[i].group != group)
			continue;
		dev_driver(g_defs[i].bdf, drv, sizeof(drv));
		if (drv[0] && !driver_manages_dma(drv))
			return true;
	}
	return false;
}

/* A VFIO container claims the group's DMA ownership (recorded in the root for all processes). */
static void claim_set(int group, bool on)
{
	char p[PATH_MAX], b[32];

	rpath(p, sizeof(p), "/.fakek/claims/%d", group);
	if (on) {
		snprintf(b, sizeof(b), "%d\n", (int)getpid());
		write_str(p, b);
	} else {
		unlink(p);
	}
}

static bool claim_held(int group)
{
	char p[PATH_MAX];
	long pid;

	rpath(p, sizeof(p), "/.fakek/claims/%d", group);
	pid = read_long_at(p, 0);
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* ------------------------------------------------------------------ */
/* Root setup                                                          */

static void fk_setup_root(void)
{
	const char *env = getenv("SVMBIND_FAKE_ROOT");
	char p[PATH_MAX], tmpb[32];

	if (env && *env) {
		snprintf(g_root, sizeof(g_root), "%s", env);
		g_have_root = true;
		rpath(p, sizeof(p), "/sys/bus/pci/devices");
		if (access(p, F_OK)) {
			mkdir_p(g_root);
			build_topology();
		}
		/* the creator exec'd: it still owns the root and removes it at exit */
		rpath(p, sizeof(p), "/.creator");
		if (read_long_at(p, 0) == (long)getpid())
			g_creator = getpid();
		return;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(g_root, sizeof(g_root), "%s/svmbind-fake.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(g_root)) {
		snprintf(g_root, sizeof(g_root), "/tmp/svmbind-fake.XXXXXX");
		if (!mkdtemp(g_root))
			return;
	}
	g_have_root = true;
	g_creator = getpid();
	chmod(g_root, 0755); /* sysfs is world-readable: processes that dropped to another uid read it too */
	build_topology();
	rpath(p, sizeof(p), "/.creator");
	snprintf(tmpb, sizeof(tmpb), "%d\n", (int)g_creator);
	write_str(p, tmpb);
	setenv("SVMBIND_FAKE_ROOT", g_root, 1);
}

/* Paths under /sys/, /dev/vfio/ and /proc/sys/kernel/yama/ go into the root. */
static const char *fk_map(const char *path, char *buf, size_t n)
{
	static const char *const pfx[] = { "/sys/", "/dev/vfio/", "/proc/sys/kernel/yama/" };
	static const char *const exact[] = { "/sys", "/dev/vfio", "/proc/sys/kernel/yama" };

	if (!g_have_root || !path || path[0] != '/')
		return path;
	for (size_t i = 0; i < 3; i++) {
		if (!strncmp(path, pfx[i], strlen(pfx[i])) || !strcmp(path, exact[i])) {
			if ((size_t)snprintf(buf, n, "%s%s", g_root, path) >= n)
				return path;
			return buf;
		}
	}
	return path;
}

/* ------------------------------------------------------------------ */
/* User memory access that fails with EFAULT instead of crashing        */

static int cin(void *dst, uint64_t src, size_t n)
{
	struct iovec l = { dst, n }, r = { (void *)(uintptr_t)src, n };

	if (!n)
		return 0;
	return process_vm_readv(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}

static int cout(uint64_t dst, const void *src, size_t n)
{
	struct iovec l = { (void *)src, n }, r = { (void *)(uintptr_t)dst, n };

	if (!n)
		return 0;
	return process_vm_writev(getpid(), &l, 1, &r, 1, 0) == (ssize_t)n ? 0 : -EFAULT;
}

/* strndup_user(arg, PAGE_SIZE) */
static int cin_str(char *dst, uint64_t src, size_t max)
{
	size_t got = 0;

	while (got < max) {
		size_t chunk = 4096 - ((src + got) & 4095);
		if (chunk > max - got)
			chunk = max - got;
		if (cin(dst + got, src + got, chunk)) {
			/* the string may end before the fault: retry byte by byte */
			for (size_t i = 0; i < chunk; i++) {
				if (cin(dst + got + i, src + got + i, 1))
					return -EFAULT;
				if (!dst[got + i])
					return 0;
			}
		}
		if (memchr(dst + got, 0, chunk))
			return 0;
		got += chunk;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* VFIO objects                                                        */

#define PGSHIFT 12
#define PGSIZE 4096ull
#define PGSIZES 0x40201000ull
#define DMA_ENTRY_LIMIT 65535u
#define IDX_SHIFT 40
#define IDX_OFF(i) ((uint64_t)(i) << IDX_SHIFT)

struct dma {
	uint64_t iova, size, vaddr;
	long locked; /* pages accounted to locked_vm */
	struct dma *next;
};

struct container {
	int refs; /* the fd, plus one per attached group */
	int type; /* 0 = no IOMMU driver, else VFIO_TYPE1_IOMMU / VFIO_TYPE1v2_IOMMU */
	int ngroups;
	struct dma *dmas;
	unsigned dma_avail;
};

struct group {
	int n;
	int refs; /* the fd, plus one per device fd */
	struct container *c;
};

struct bond {
	uint32_t pasid;
	int refs;
	pid_t tgid;
	int memfd;
	uint64_t probe;
	struct bond *next;
};

struct device {
	const struct devdef *def;
	struct group *g;
	bool svmref;
	int fd;
	struct bond *bonds;
	struct device *next;
};

enum fkind { FK_CONTAINER = 1, FK_GROUP, FK_DEVICE, FK_CONFIG, FK_ATTR };
enum attr { ATTR_INT, ATTR_YAMA, ATTR_BOOL };

struct fobj {
	enum fkind kind;
	struct container *c;
	struct group *g;
	struct device *d;
	size_t cfg_limit;
	enum attr attr;
	char path[PATH_MAX]; /* FK_ATTR: the real file a write() replaces */
};

#define FD_MAX 65536
static struct fobj *g_fd[FD_MAX];
static struct device *g_devices;
static long g_locked_vm; /* pages, as mm->locked_vm for our pins */

static struct fobj *fobj_get(int fd)
{
	return fd >= 0 && fd < FD_MAX ? g_fd[fd] : NULL;
}

static void container_put(struct container *c)
{
	if (--c->refs)
		return;
	while (c->dmas) {
		struct dma *d = c->dmas;
		c->dmas = d->next;
		g_locked_vm -= d->locked;
		free(d);
	}
	free(c);
}

static void iommu_release(struct container *c)
{
	while (c->dmas) {
		struct dma *d = c->dmas;
		c->dmas = d->next;
		g_locked_vm -= d->locked;
		free(d);
	}
	c->type = 0;
	c->dma_avail = DMA_ENTRY_LIMIT;
}

/* vfio_group_detach_container() */
static void group_detach(struct group *g)
{
	struct container *c = g->c;

	claim_set(g->n, false);
	g->c = NULL;
	if (--c->ngroups == 0 && c->type)
		iommu_release(c); /* "Detaching the last group deprivileges a container" */
	container_put(c);
}

static void group_put(struct group *g)
{
	if (--g->refs)
		return;
	/* vfio_group_fops_release() */
	if (g->c)
		group_detach(g);
	free(g);
}

static void bond_free(struct bond *b)
{
	r_close(b->memfd);
	free(b);
}

static void device_release(struct device *d)
{
	while (d->bonds) {
		struct bond *b = d->bonds;
		d->bonds = b->next;
		bond_free(b);
	}
	for (struct device **pp = &g_devices; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	group_put(d->g);
	free(d);
}

/* Drop whatever the fake tracked for @fd (the real fd is closed by the caller). */
static void fobj_release(int fd)
{
	struct fobj *o = fobj_get(fd);

	if (!o)
		return;
	g_fd[fd] = NULL;
	switch (o->kind) {
	case FK_CONTAINER:
		container_put(o->c);
		break;
	case FK_GROUP:
		group_put(o->g);
		break;
	case FK_DEVICE:
		device_release(o->d);
		break;
	case FK_CONFIG:
	case FK_ATTR:
		break;
	}
	free(o);
}

static int fobj_install(int fd, struct fobj *o)
{
	if (fd < 0 || fd >= FD_MAX)
		return -EMFILE;
	fobj_release(fd); /* stale entry: the fd was closed behind our back */
	g_fd[fd] = o;
	return 0;
}

/* ------------------------------------------------------------------ */
/* svmref parameters and bonds                                         */

static long param(const char *name, long dflt)
{
	char p[PATH_MAX];

	rpath(p, sizeof(p), "/sys/module/svmref/parameters/%s", name);
	return read_long_at(p, dflt);
}

static bool bond_alive(struct bond *b)
{
	char c;

	return r_pread(b->memfd, &c, 1, (off_t)b->probe) == 1;
}

/* Dead bonds (their mm exited or was replaced by exec) free their PASIDs. */
static void bonds_sweep(void)
{
	for (struct device *d = g_devices; d; d = d->next) {
		for (struct bond **pp = &d->bonds; *pp;) {
			struct bond *b = *pp;
			if (bond_alive(b)) {
				pp = &b->next;
				continue;
			}
			*pp = b->next;
			bond_free(b);
		}
	}
}

static long bonds_count(void)
{
	long n = 0;

	for (struct device *d = g_devices; d; d = d->next)
		for (struct bond *b = d->bonds; b; b = b->next)
			n++;
	return n;
}

static void bonds_publish(void)
{
	char p[PATH_MAX], b[32];

	bonds_sweep();
	rpath(p, sizeof(p), "/sys/module/svmref/parameters/bonds");
	snprintf(b, sizeof(b), "%ld\n", bonds_count());
	write_str(p, b);
}

static bool pasid_used(uint32_t pasid)
{
	for (struct device *d = g_devices; d; d = d->next)
		for (struct bond *b = d->bonds; b; b = b->next)
			if (b->pasid == pasid)
				return true;
	return false;
}

/* ida_alloc_range(pasid_min, pasid_max): lowest free, -ENOSPC when full. */
static int pasid_alloc(uint32_t *out)
{
	long lo = param("pasid_min", 1), hi = param("pasid_max", 1023);

	if (lo < 0 || hi < lo)
		return -ENOSPC;
	for (long p = lo; p <= hi; p++) {
		if (!pasid_used((uint32_t)p)) {
			*out = (uint32_t)p;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Fields of /proc/<pid>/stat after the command name. field 3 is state. */
static int proc_stat_field(pid_t pid, int field, unsigned long long *out)
{
	char p[64], b[2048];

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	if (read_small(p, b, sizeof(b)) <= 0)
		return -ESRCH;
	char *s = strrchr(b, ')');
	if (!s)
		return -EIO;
	s += 2;
	for (int f = 3; f < field; f++) {
		s = strchr(s, ' ');
		if (!s)
			return -EIO;
		s++;
	}
	*out = strtoull(s, NULL, 10);
	return 0;
}

static pid_t proc_tgid(pid_t pid)
{
	char p[64], b[4096];

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	if (read_small(p, b, sizeof(b)) <= 0)
		return -1;
	char *t = strstr(b, "\nTgid:");
	return t ? (pid_t)strtol(t + 6, NULL, 10) : -1;
}

static pid_t proc_ppid(pid_t pid)
{
	unsigned long long v;

	return proc_stat_field(pid, 4, &v) ? -1 : (pid_t)v;
}

/* Yama's task_is_descendant(parent, child), at thread-group level. */
static bool is_descendant(pid_t parent_tgid, pid_t child_tgid)
{
	for (pid_t w = child_tgid; w > 0; w = proc_ppid(w))
		if (w == parent_tgid)
			return true;
	return false;
}

/* ptracer_exception_found(): the target named the caller (or an ancestor of it), or ANY. */
static bool ptracer_exception(pid_t caller, pid_t target)
{
	char p[PATH_MAX], b[128];
	unsigned long long st = 0;
	long tracer;
	unsigned long long start;

	rpath(p, sizeof(p), "/.fakek/ptracer/%d", (int)target);
	if (read_small(p, b, sizeof(b)) <= 0)
		return false;
	if (sscanf(b, "%ld %llu", &tracer, &start) != 2)
		return false;
	if (proc_stat_field(target, 22, &st) || st != start)
		return false; /* a stale declaration of a previous process with this pid */
	if (tracer == -1)
		return true;
	return is_descendant((pid_t)tracer, caller);
}

/* Yama (security/yama/yama_lsm.c) for PTRACE_MODE_ATTACH, layered on the host's own check. */
static int yama_check(pid_t target_tgid)
{
	char p[PATH_MAX];
	pid_t me = getpid();

	rpath(p, sizeof(p), "/proc/sys/kernel/yama/ptrace_scope");
	switch (read_long_at(p, 0)) {
	case 0:
		return 0;
	case 1:
		if (is_descendant(me, target_tgid) || ptracer_exception(me, target_tgid) ||
		    cap_effective(CAP_SYS_PTRACE))
			return 0;
		return -EACCES;
	case 2:
		return cap_effective(CAP_SYS_PTRACE) ? 0 : -EACCES;
	default:
		return -EACCES;
	}
}

/*
 * The kernel's own mm_access(PTRACE_MODE_ATTACH_REALCREDS) on @pid, via
 * process_vm_readv of one byte at address 0: EFAULT means access granted.
 */
static int mm_access_check(pid_t pid)
{
	char c;
	struct iovec l = { &c, 1 }, r = { NULL, 1 };

	if (pid <= 0)
		return -ESRCH;
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) >= 0)
		return 0;
	switch (errno) {
	case EFAULT:
		return 0;
	case EPERM:
		return -EACCES;
	case ESRCH:
		return -ESRCH;
	default:
		return -errno;
	}
}

/*
 * open("/proc/pid/mem") checks PTRACE_MODE_ATTACH_FSCREDS (caller's effective
 * capabilities), stricter than the REALCREDS check BIND makes (permitted set),
 * which already passed: lend CAP_SYS_PTRACE from the permitted set for the open.
 */
static int open_mem_realcreds(const char *path)
{
	int fd = r_open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0 || (errno != EACCES && errno != EPERM))
		return fd;
	int e = errno;
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2], raised[2];
	memset(d, 0, sizeof(d));
	if (r_syscall(SYS_capget, &h, d))
		goto out;
	unsigned w = CAP_SYS_PTRACE / 32, bit = 1u << (CAP_SYS_PTRACE % 32);
	if (!(d[w].permitted & bit) || (d[w].effective & bit))
		goto out;
	memcpy(raised, d, sizeof(d));
	raised[w].effective |= bit;
	if (r_syscall(SYS_capset, &h, raised))
		goto out;
	fd = r_open(path, O_RDWR | O_CLOEXEC);
	e = errno;
	r_syscall(SYS_capset, &h, d);
out:
	errno = e;
	return fd;
}

static int svm_bind(struct device *d, uint64_t arg, long dialect)
{
	struct vfio_device_svm svm;
	size_t minsz = dialect == SVMREF_DIALECT_SELF ? VFIO_DEVICE_SVM_MINSZ_NOPID : VFIO_DEVICE_SVM_MINSZ;
	pid_t pid = getpid();
	int r;

	memset(&svm, 0, sizeof(svm));
	if (cin(&svm, arg, minsz))
		return -EFAULT;
	if (svm.argsz < minsz)
		return -EINVAL;
	if (dialect == SVMREF_DIALECT_SELF ? svm.flags != 0 : (svm.flags & ~VFIO_SVM_PID) != 0)
		return -EINVAL;
	if (svm.flags & VFIO_SVM_PID) {
		pid = (pid_t)svm.pid;
		if ((r = mm_access_check(pid)))
			return r;
	}
	pid_t tgid = proc_tgid(pid);
	if (tgid <= 0)
		return -ESRCH;
	if (tgid != getpid() && (r = yama_check(tgid)))
		return r;

	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/mem", (int)pid);
	int memfd = open_mem_realcreds(p);
	if (memfd < 0)
		return errno == EACCES || errno == EPERM ? -EACCES : errno == ENOENT ? -ESRCH : -errno;
	/* keep it out of the low fd numbers the caller's next open() would get */
	int hi = fcntl(memfd, F_DUPFD_CLOEXEC, 900);
	if (hi >= 0) {
		r_close(memfd);
		memfd = hi;
	}
	unsigned long long probe = 0;
	if (proc_stat_field(pid, 28, &probe) || !probe) {
		char m[64], b[256];
		snprintf(m, sizeof(m), "/proc/%d/maps", (int)pid);
		if (read_small(m, b, sizeof(b)) > 0)
			probe = strtoull(b, NULL, 16);
	}
	struct bond tmp = { .memfd = memfd, .probe = probe };
	if (!probe || !bond_alive(&tmp)) {
		r_close(memfd);
		return -ESRCH; /* no mm (zombie, kernel thread) */
	}

	bonds_sweep();
	for (struct bond *b = d->bonds; b; b = b->next) {
		if (b->tgid == tgid) { /* alive after the sweep: the same mm */
			r_close(memfd);
			if (cout(arg + offsetof(struct vfio_device_svm, pasid), &b->pasid, 4))
				return -EFAULT;
			b->refs++;
			bonds_publish();
			return 0;
		}
	}
	uint32_t pasid;
	if ((r = pasid_alloc(&pasid))) {
		r_close(memfd);
		return r;
	}
	if (cout(arg + offsetof(struct vfio_device_svm, pasid), &pasid, 4)) {
		r_close(memfd);
		return -EFAULT;
	}
	struct bond *b = calloc(1, sizeof(*b));
	if (!b) {
		r_close(memfd);
		return -ENOMEM;
	}
	*b = (struct bond){ .pasid = pasid, .refs = 1, .tgid = tgid, .memfd = memfd, .probe = probe, .next = d->bonds };
	d->bonds = b;
	bonds_publish();
	return 0;
}

static int svm_unbind(struct device *d, uint64_t arg, long dialect)
{
	struct vfio_device_svm svm;
	size_t minsz = dialect == SVMREF_DIALECT_SELF ? VFIO_DEVICE_SVM_MINSZ_NOPID : VFIO_DEVICE_SVM_MINSZ;

	memset(&svm, 0, sizeof(svm));
	if (cin(&svm, arg, minsz))
		return -EFAULT;
	if (svm.argsz < minsz)
		return -EINVAL;
	if (svm.flags & ~(VFIO_SVM_PASID_RELEASE_FLUSHED | VFIO_SVM_PASID_RELEASE_CLEAN))
		return -EINVAL;
	bonds_sweep();
	for (struct bond **pp = &d->bonds; *pp; pp = &(*pp)->next) {
		struct bond *b = *pp;
		if (b->pasid != svm.pasid)
			continue;
		if (--b->refs == 0) {
			*pp = b->next;
			bond_free(b);
		}
		bonds_publish();
		return 0;
	}
	bonds_publish();
	return -ESRCH;
}

static bool vaddr_ok(pid_t pid, uint64_t va, uint64_t len, bool write);

static int svm_dma(struct device *d, uint64_t arg)
{
	struct svmref_dma m;

	if (cin(&m, arg, sizeof(m)))
		return -EFAULT;
	if (m.argsz < sizeof(m) || (m.flags & ~SVMREF_DMA_WRITE) || m.len > SVMREF_DMA_MAX)
		return -EINVAL;
	bonds_sweep();
	struct bond *b = d->bonds;
	while (b && b->pasid != m.pasid)
		b = b->next;
	if (!b) {
		bonds_publish();
		return -ESRCH;
	}
	if (!m.len)
		return 0;
	void *buf = malloc(m.len);
	if (!buf)
		return -ENOMEM;
	int r = 0;
	if (m.flags & SVMREF_DMA_WRITE) {
		if (cin(buf, m.buf, m.len) || !vaddr_ok(b->tgid, m.va, m.len, true))
			r = -EFAULT;
		else if (r_pwrite(b->memfd, buf, m.len, (off_t)m.va) != (ssize_t)m.len)
			r = -EFAULT;
	} else {
		if (r_pread(b->memfd, buf, m.len, (off_t)m.va) != (ssize_t)m.len)
			r = -EFAULT;
		else if (cout(m.buf, buf, m.len))
			r = -EFAULT;
	}
	free(buf);
	if (r && !bond_alive(b)) {
		bonds_publish();
		return -ESRCH;
	}
	return r;
}

/* ------------------------------------------------------------------ */
/* Container: container.c + vfio_iommu_type1.c                         */

static long type1_check_extension(struct container *c, unsigned long arg)
{
	switch (arg) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_TYPE1_NESTING_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_UPDATE_VADDR:
		return c && c->type;
	case VFIO_DMA_CC_IOMMU:
		return 0; /* QEMU's VT-d has no snoop control */
	default:
		return 0;
	}
}

static int type1_get_info(struct container *c, uint64_t arg)
{
	struct vfio_iommu_type1_info info;
	size_t minsz = offsetof(struct vfio_iommu_type1_info, iova_pgsizes) + 8;
	size_t capsz = offsetof(struct vfio_iommu_type1_info, cap_offset) + 4;
	uint8_t caps[128];
	size_t ncaps = 0;

	memset(&info, 0, sizeof(info));
	if (cin(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	if (info.argsz >= capsz) {
		minsz = capsz;
		info.cap_offset = 0;
	}
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = PGSIZES;

	/* migration, dma_avail, iova ranges: vfio_info_cap_add() packs them unaligned in 6.1 */
	struct vfio_iommu_type1_info_cap_migration mig = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION, .version = 1 },
		.flags = 0, .pgsize_bitmap = PGSIZE, .max_dirty_bitmap_size = 0x10000000ull,
	};
	struct vfio_iommu_type1_info_dma_avail av = {
		.header = { .id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, .version = 1 },
		.avail = c->dma_avail,
	};
	struct {
		struct vfio_iommu_type1_info_cap_iova_range h;
		struct vfio_iova_range r[2];
	} iova = {
		.h = { .header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, .version = 1 }, .nr_iovas = 2 },
		.r = { { 0, 0xfedfffffull }, { 0xfef00000ull, 0x7fffffffffull } },
	};
	size_t off_mig = sizeof(info), off_av = off_mig + sizeof(mig), off_iova = off_av + sizeof(av);
	mig.header.next = (uint32_t)off_av;
	av.header.next = (uint32_t)off_iova;
	iova.h.header.next = 0;
	memcpy(caps, &mig, sizeof(mig));
	memcpy(caps + sizeof(mig), &av, sizeof(av));
	memcpy(caps + sizeof(mig) + sizeof(av), &iova, sizeof(iova));
	ncaps = sizeof(mig) + sizeof(av) + sizeof(iova);

	info.flags |= VFIO_IOMMU_INFO_CAPS;
	if (info.argsz < sizeof(info) + ncaps) {
		info.argsz = (uint32_t)(sizeof(info) + ncaps);
	} else {
		if (cout(arg + sizeof(info), caps, ncaps))
			return -EFAULT;
		info.cap_offset = sizeof(info);
	}
	return cout(arg, &info, minsz);
}

static struct dma *dma_find(struct container *c, uint64_t start, uint64_t size)
{
	for (struct dma *d = c->dmas; d; d = d->next)
		if (start < d->iova + d->size && start + size > d->iova)
			return d;
	return NULL;
}

/* Every page of [va, va+len) of process @pid (0: this one) mapped, and
 * writable if @write: where pin_user_pages_remote, or a device honouring
 * page permissions, would fault. */
static bool vaddr_ok(pid_t pid, uint64_t va, uint64_t len, bool write)
{
	char path[64], line[512];
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	f = fopen(path, "re");
	uint64_t want = va, end = va + len;

	if (!f)
		return false;
	while (want < end && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s", &s, &e, perms) != 3)
			continue;
		if (e <= want)
			continue;
		if (s > want)
			break;
		if (perms[0] != 'r' && perms[1] != 'w')
			break;
		if (write && perms[1] != 'w')
			break;
		want = e;
	}
	fclose(f);
	return want >= end;
}

static int type1_map(struct container *c, uint64_t arg)
{
	struct vfio_iommu_type1_dma_map map;
	size_t minsz = offsetof(struct vfio_iommu_type1_dma_map, size) + 8;
	uint32_t mask = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE | VFIO_DMA_MAP_FLAG_VADDR;

	if (cin(&map, arg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || (map.flags & ~mask))
		return -EINVAL;
	/* vfio_dma_do_map() */
	bool set_vaddr = map.flags & VFIO_DMA_MAP_FLAG_VADDR;
	bool prot = map.flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	if ((prot && set_vaddr) || (!prot && !set_vaddr))
		return -EINVAL;
	if (!map.size || ((map.size | map.iova | map.vaddr) & (PGSIZE - 1)))
		return -EINVAL;
	if (map.iova + map.size - 1 < map.iova || map.vaddr + map.size - 1 < map.vaddr)
		return -EINVAL;
	struct dma *hit = dma_find(c, map.iova, map.size);
	if (set_vaddr)
		return hit ? -EINVAL : -ENOENT; /* no mapping here has an invalidated vaddr */
	if (hit)
		return -EEXIST;
	if (!c->dma_avail)
		return -ENOSPC;
	uint64_t last = map.iova + map.size - 1;
	if (!(last <= 0xfedfffffull || (map.iova >= 0xfef00000ull && last <= 0x7fffffffffull)))
		return -EINVAL; /* vfio_iommu_iova_dma_valid() */
	/* vfio_pin_pages_remote() */
	if (!vaddr_ok(0, map.vaddr, map.size, map.flags & VFIO_DMA_MAP_FLAG_WRITE))
		return -EFAULT;
	long npages = (long)(map.size >> PGSHIFT);
	if (!cap_effective(CAP_IPC_LOCK)) {
		struct rlimit rl;
		r_getrlimit(RLIMIT_MEMLOCK, &rl);
		if (rl.rlim_cur != RLIM_INFINITY && g_locked_vm + npages > (long)(rl.rlim_cur >> PGSHIFT))
			return -ENOMEM;
	}
	struct dma *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	*d = (struct dma){ .iova = map.iova, .size = map.size, .vaddr = map.vaddr, .locked = npages, .next = c->dmas };
	c->dmas = d;
	c->dma_avail--;
	g_locked_vm += npages;
	return 0;
}

static int type1_unmap(struct container *c, uint64_t arg)
{
	struct vfio_iommu_type1_dma_unmap un;
	size_t minsz = offsetof(struct vfio_iommu_type1_dma_unmap, size) + 8;
	uint32_t mask = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP | VFIO_DMA_UNMAP_FLAG_VADDR | VFIO_DMA_UNMAP_FLAG_ALL;

	if (cin(&un, arg, minsz))
		return -EFAULT;
	if (un.argsz < minsz || (un.flags & ~mask))
		return -EINVAL;
	if ((un.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) &&
	    (un.flags & (VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR)))
		return -EINVAL;
	if (un.flags & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP)
		return -EINVAL; /* dirty tracking is never started in the fake */
	/* vfio_dma_do_unmap() */
	bool all = un.flags & VFIO_DMA_UNMAP_FLAG_ALL;
	uint64_t iova = un.iova, size = un.size;
	if (iova & (PGSIZE - 1))
		return -EINVAL;
	if (all) {
		if (iova || size)
			return -EINVAL;
		size = UINT64_MAX;
	} else if (!size || (size & (PGSIZE - 1)) || iova + size - 1 < iova) {
		return -EINVAL;
	}
	bool v2 = c->type == VFIO_TYPE1v2_IOMMU;
	if (v2 && !all) {
		struct dma *d = dma_find(c, iova, 1);
		if (d && d->iova != iova)
			return -EINVAL;
		d = dma_find(c, iova + size - 1, 1);
		if (d && d->iova + d->size != iova + size)
			return -EINVAL;
	}
	if (un.flags & VFIO_DMA_UNMAP_FLAG_VADDR) {
		/* vaddr invalidation: not emulated beyond the size it reports */
		uint64_t n = 0;
		for (struct dma *d = c->dmas; d; d = d->next)
			if (d->iova >= iova && d->iova + d->size - 1 <= iova + (size - 1))
				n += d->size;
		un.size = n;
		return cout(arg, &un, minsz);
	}
	uint64_t unmapped = 0;
	if (!v2) {
		/* v1: the first mapping in range starts before @iova: "success with zero sized unmap" */
		struct dma *first = NULL;
		for (struct dma *d = c->dmas; d; d = d->next)
			if (iova <= d->iova + d->size - 1 && d->iova <= iova + (size - 1) && (!first || d->iova < first->iova))
				first = d;
		if (first && first->iova < iova) {
			un.size = 0;
			return cout(arg, &un, minsz);
		}
	}
	for (struct dma **pp = &c->dmas; *pp;) {
		struct dma *d = *pp;
		/* every mapping that starts inside the range goes, whole (v1 and v2 alike) */
		bool take = d->iova >= iova && d->iova <= iova + (size - 1);
		if (!take) {
			pp = &d->next;
			continue;
		}
		*pp = d->next;
		unmapped += d->size;
		g_locked_vm -= d->locked;
		c->dma_avail++;
		free(d);
	}
	un.size = unmapped;
	return cout(arg, &un, minsz);
}

static long container_ioctl(struct container *c, unsigned long cmd, uint64_t arg)
{
	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return type1_check_extension(c->type ? c : NULL, arg);
	case VFIO_SET_IOMMU:
		/* vfio_ioctl_set_iommu() */
		if (!c->ngroups || c->type)
			return -EINVAL;
		if (type1_check_extension(NULL, arg) <= 0)
			return -ENODEV; /* no registered IOMMU driver reports the extension */
		if (arg == VFIO_UNMAP_ALL)
			return -EINVAL; /* vfio_iommu_type1_open(): not an IOMMU type */
		if (arg == VFIO_TYPE1_NESTING_IOMMU)
			return -EINVAL; /* iommu_enable_nesting(): intel-iommu 6.1 has no enable_nesting */
		c->type = (int)arg;
		c->dma_avail = DMA_ENTRY_LIMIT;
		return 0;
	}
	if (!c->type)
		return -EINVAL; /* no driver: vfio_fops_unl_ioctl() answers -EINVAL */
	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return type1_get_info(c, arg);
	case VFIO_IOMMU_MAP_DMA:
		return type1_map(c, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return type1_unmap(c, arg);
	case VFIO_IOMMU_DIRTY_PAGES: {
		struct vfio_iommu_type1_dirty_bitmap db;
		if (cin(&db, arg, sizeof(db.argsz) + sizeof(db.flags)))
			return -EFAULT;
		return -EINVAL; /* not emulated */
	}
	default:
		return -ENOTTY;
	}
}

/* ------------------------------------------------------------------ */
/* Group: vfio_main.c                                                  */

static long group_get_device_fd(struct group *g, uint64_t arg)
{
	char name[4096];
	char drv[64];
	int r;

	if ((r = cin_str(name, arg, sizeof(name))))
		return r;
	/* vfio_device_get_from_name(): devices of this group registered with VFIO */
	const struct devdef *def = def_by_bdf(name);
	if (!def || def->group != g->n)
		return -ENODEV;
	dev_driver(def->bdf, drv, sizeof(drv));
	if (!is_vfio_driver(drv))
		return -ENODEV;
	/* vfio_device_assign_container() */
	if (!g->c || !g->c->type)
		return -EINVAL;
	struct device *d = calloc(1, sizeof(*d));
	struct fobj *o = calloc(1, sizeof(*o));
	if (!d || !o) {
		free(d);
		free(o);
		return -ENOMEM;
	}
	int fd = memfd_create("vfio-device", MFD_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(d);
		free(o);
		return r;
	}
	size_t bar0 = def->kind == DK_E1000E ? 128 * 1024 : 1024 * 1024;
	if (ftruncate(fd, (off_t)bar0)) {
		r = -errno;
		r_close(fd);
		free(d);
		free(o);
		return r;
	}
	if (def->kind == DK_EDU) {
		uint32_t id = 0x010000edu; /* edu identification register */
		r_pwrite(fd, &id, 4, 0);
	}
	d->def = def;
	d->g = g;
	d->svmref = !strcmp(drv, SVMREF_DRIVER_NAME);
	d->fd = fd;
	d->next = g_devices;
	g_devices = d;
	g->refs++;
	o->kind = FK_DEVICE;
	o->d = d;
	if ((r = fobj_install(fd, o))) {
		device_release(d);
		r_close(fd);
		free(o);
		return r;
	}
	return fd;
}

static long group_ioctl(struct group *g, unsigned long cmd, uint64_t arg)
{
	switch (cmd) {
	case VFIO_GROUP_GET_STATUS: {
		struct vfio_group_status st;
		size_t minsz = offsetof(struct vfio_group_status, flags) + 4;
		if (cin(&st, arg, minsz))
			return -EFAULT;
		if (st.argsz < minsz)
			return -EINVAL;
		st.flags = 0;
		if (g->c)
			st.flags = VFIO_GROUP_FLAGS_CONTAINER_SET | VFIO_GROUP_FLAGS_VIABLE;
		else if (!group_kernel_owned(g->n))
			st.flags = VFIO_GROUP_FLAGS_VIABLE;
		return cout(arg, &st, minsz);
	}
	case VFIO_GROUP_SET_CONTAINER: {
		int cfd;
		if (cin(&cfd, arg, sizeof(cfd)))
			return -EFAULT;
		if (fcntl(cfd, F_GETFD) < 0)
			return -EBADF;
		if (g->c)
			return -EINVAL;
		struct fobj *o = fobj_get(cfd);
		if (!o || o->kind != FK_CONTAINER)
			return -EINVAL;
		/* vfio_container_attach_group(): iommu_group_claim_dma_owner() */
		if (group_kernel_owned(g->n))
			return -EPERM;
		g->c = o->c;
		o->c->refs++;
		o->c->ngroups++;
		claim_set(g->n, true);
		return 0;
	}
	case VFIO_GROUP_UNSET_CONTAINER:
		if (!g->c)
			return -EINVAL;
		if (g->refs != 1)
			return -EBUSY; /* container_users != 1: a device fd is open */
		group_detach(g);
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD:
		return group_get_device_fd(g, arg);
	default:
		return -ENOTTY;
	}
}

/* ------------------------------------------------------------------ */
/* Device: vfio_pci_core.c                                             */

static unsigned irq_count(const struct devdef *def, unsigned idx)
{
	bool pcie = def->kind == DK_E1000E;

	switch (idx) {
	case VFIO_PCI_INTX_IRQ_INDEX: return 1;
	case VFIO_PCI_MSI_IRQ_INDEX: return 1;
	case VFIO_PCI_MSIX_IRQ_INDEX: return pcie ? 5 : 0;
	case VFIO_PCI_ERR_IRQ_INDEX: return pcie ? 1 : 0;
	case VFIO_PCI_REQ_IRQ_INDEX: return 1;
	}
	return 0;
}

static uint64_t bar_size(const struct devdef *def, unsigned idx)
{
	if (idx != 0)
		return 0;
	return def->kind == DK_E1000E ? 128 * 1024 : 1024 * 1024;
}

static long device_ioctl(struct device *d, unsigned long cmd, uint64_t arg)
{
	const struct devdef *def = d->def;

	if (d->svmref) {
		long dialect = param("dialect", 2);
		if (cmd == SVMREF_DEVICE_PASID_DMA)
			return svm_dma(d, arg);
		if ((cmd == VFIO_DEVICE_BIND_TASK || cmd == VFIO_DEVICE_UNBIND_TASK) &&
		    (dialect == SVMREF_DIALECT_SELF || dialect == SVMREF_DIALECT_PID))
			return cmd == VFIO_DEVICE_BIND_TASK ? svm_bind(d, arg, dialect) : svm_unbind(d, arg, dialect);
	}
	switch (cmd) {
	case VFIO_DEVICE_GET_INFO: {
		struct vfio_device_info info;
		size_t minsz = offsetof(struct vfio_device_info, num_irqs) + 4;
		size_t capsz = offsetof(struct vfio_iommu_type1_info, cap_offset) + 4;
		memset(&info, 0, sizeof(info));
		if (cin(&info, arg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		if (info.argsz >= capsz) {
			minsz = capsz;
			info.cap_offset = 0;
		}
		info.flags = VFIO_DEVICE_FLAGS_PCI | (def->kind == DK_E1000E ? VFIO_DEVICE_FLAGS_RESET : 0);
		info.num_regions = VFIO_PCI_NUM_REGIONS;
		info.num_irqs = VFIO_PCI_NUM_IRQS;
		return cout(arg, &info, minsz);
	}
	case VFIO_DEVICE_GET_REGION_INFO: {
		struct vfio_region_info info;
		size_t minsz = offsetof(struct vfio_region_info, offset) + 8;
		if (cin(&info, arg, minsz))
			return -EFAULT;
		if (info.argsz < minsz)
			return -EINVAL;
		switch (info.index) {
		case VFIO_PCI_CONFIG_REGION_INDEX:
			info.offset = IDX_OFF(info.index);
			info.size = cfg_size(def->kind);
			info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
			break;
		case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
			info.offset = IDX_OFF(info.index);
			info.size = bar_size(def, info.index);
			info.flags = info.size ? VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
						 VFIO_REGION_INFO_FLAG_MMAP : 0;
			break;
		case VFIO_PCI_ROM_REGION_INDEX:
			info.offset = IDX_OFF(info.index);
			info.size = 0;
			info.flags = 0;
			break;
		case VFIO_PCI_VGA_REGION_INDEX: /* !vdev->has_vga */
		default:
			return -EINVAL;
		}
		return cout(arg, &info, minsz);
	}
	case VFIO_DEVICE_GET_IRQ_INFO: {
		struct vfio_irq_info info;
		size_t minsz = offsetof(struct vfio_irq_info, count) + 4;
		if (cin(&info, arg, minsz))
			return -EFAULT;
		if (info.argsz < minsz || info.index >= VFIO_PCI_NUM_IRQS)
			return -EINVAL;
		if (info.index == VFIO_PCI_ERR_IRQ_INDEX && def->kind != DK_E1000E)
			return -EINVAL; /* not PCIe */
		info.flags = VFIO_IRQ_INFO_EVENTFD;
		info.count = irq_count(def, info.index);
		if (info.index == VFIO_PCI_INTX_IRQ_INDEX)
			info.flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
		else
			info.flags |= VFIO_IRQ_INFO_NORESIZE;
		return cout(arg, &info, minsz);
	}
	case VFIO_DEVICE_RESET:
		return def->kind == DK_E1000E ? 0 : -EINVAL; /* !vdev->reset_works */
	default:
		return -ENOTTY;
	}
}

/* Config space as vfio-pci shows it: the PASID/PRI extended capabilities hidden. */
static void device_vconfig(struct device *d, uint8_t *cfg)
{
	char p[PATH_MAX], dir[256];

	memset(cfg, 0, 4096);
	dev_sysdir(d->def, dir, sizeof(dir));
	rpath(p, sizeof(p), "%s/config", dir);
	int fd = r_open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (r_pread(fd, cfg, 4096, 0) < 0)
			build_config(d->def->kind, cfg);
		r_close(fd);
	}
	if (cfg_size(d->def->kind) > 256) {
		/* vfio_ecap_init(): capabilities of length 0 (PASID) are dropped from the chain */
		unsigned prev = 0, pos = 0x100;
		for (int guard = 0; pos >= 0x100 && pos < 4096 && guard < 64; guard++) {
			uint32_t h;
			memcpy(&h, cfg + pos, 4);
			unsigned next = h >> 20;
			if ((h & 0xffff) == 0x001b) {
				if (prev) {
					uint32_t ph;
					memcpy(&ph, cfg + prev, 4);
					ph = (ph & 0x000fffffu) | (uint32_t)next << 20;
					memcpy(cfg + prev, &ph, 4);
				}
				memset(cfg + pos, 0, 8);
			} else {
				prev = pos;
			}
			if (!next)
				break;
			pos = next;
		}
	}
}

/* vfio_pci_rw() on the device fd */
static ssize_t device_rw(struct device *d, void *buf, size_t count, uint64_t pos, bool write)
{
	unsigned idx = (unsigned)(pos >> IDX_SHIFT);
	uint64_t off = pos & (IDX_OFF(1) - 1);

	if (idx >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	if (idx == VFIO_PCI_CONFIG_REGION_INDEX) {
		size_t sz = cfg_size(d->def->kind);
		if (off >= sz)
			return 0;
		if (count > sz - off)
			count = sz - off;
		if (write)
			return (ssize_t)count; /* writes to virtualized config are absorbed */
		uint8_t cfg[4096];
		device_vconfig(d, cfg);
		memcpy(buf, cfg + off, count);
		return (ssize_t)count;
	}
	if (idx <= VFIO_PCI_BAR5_REGION_INDEX) {
		uint64_t sz = bar_size(d->def, idx);
		if (idx != 0 || off >= sz)
			return -EINVAL;
		if (count > sz - off)
			count = sz - off;
		ssize_t k = write ? r_pwrite(d->fd, buf, count, (off_t)off) : r_pread(d->fd, buf, count, (off_t)off);
		return k < 0 ? -errno : k;
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Opening the fake's special files                                    */

#define YAMA_PATH "/proc/sys/kernel/yama/ptrace_scope"

/* Attribute files whose write() the fake validates like the kernel's store handler. */
static bool attr_writable(const char *p, int flags)
{
	if ((flags & O_ACCMODE) == O_RDONLY)
		return false;
	return !strcmp(p, YAMA_PATH) || !strcmp(p, SVMREF_PARAM_DIR "/dialect") ||
	       !strcmp(p, SVMREF_PARAM_DIR "/pasid_min") || !strcmp(p, SVMREF_PARAM_DIR "/pasid_max") ||
	       !strcmp(p, "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
}

/* param_set_int() / yama_dointvec_minmax() / param_set_bool(): validate, then replace the value. */
static ssize_t attr_write(struct fobj *o, const char *ubuf, size_t n)
{
	char b[64], *end;

	if (n >= sizeof(b))
		return -EINVAL;
	if (cin(b, (uintptr_t)ubuf, n))
		return -EFAULT;
	b[n] = 0;
	if (o->attr == ATTR_BOOL) {
		if (!strchr("yYnN01", b[0]) || (b[1] && b[1] != '\n'))
			return -EINVAL;
		return write_str(o->path, strchr("yY1", b[0]) ? "Y\n" : "N\n") ?: (ssize_t)n;
	}
	errno = 0;
	long v = strtol(b, &end, 0);
	if (end == b || errno || (*end && strcmp(end, "\n")) || v < INT_MIN || v > INT_MAX)
		return -EINVAL;
	if (o->attr == ATTR_YAMA) {
		if (!cap_effective(CAP_SYS_PTRACE))
			return -EPERM;
		long cur = read_long_at(o->path, 0);
		if (v < (cur == 3 ? 3 : 0) || v > 3)
			return -EINVAL; /* 3 ("no attach") is sticky */
	}
	snprintf(b, sizeof(b), "%ld\n", v);
	int r = write_str(o->path, b);
	return r ? r : (ssize_t)n;
}

/* A group object of this process still alive (its fd, or a device fd holding it). */
static bool group_live(int n)
{
	for (int fd = 0; fd < FD_MAX; fd++) {
		struct fobj *o = g_fd[fd];
		if (!o)
			continue;
		if (o->kind == FK_GROUP && o->g->n == n)
			return true;
		if (o->kind == FK_DEVICE && o->d->g->n == n)
			return true;
	}
	return false;
}

static int after_open(int fd, const char *mapped, const char *orig, int flags)
{
	if (fd < 0 || mapped == orig)
		return fd;
	size_t rl = strlen(g_root);
	const char *p = mapped + rl;
	struct fobj *o = NULL;

	if (!strcmp(p, "/dev/vfio/vfio")) {
		struct container *c = calloc(1, sizeof(*c));
		o = calloc(1, sizeof(*o));
		if (!c || !o) {
			free(c);
			free(o);
			r_close(fd);
			errno = ENOMEM;
			return -1;
		}
		c->refs = 1;
		c->dma_avail = DMA_ENTRY_LIMIT;
		o->kind = FK_CONTAINER;
		o->c = c;
	} else if (!strncmp(p, "/dev/vfio/", 10) && p[10] >= '0' && p[10] <= '9') {
		/* vfio_group_fops_open(): one open file per group (group->opened_file), across processes */
		if (group_live(atoi(p + 10)) || flock(fd, LOCK_EX | LOCK_NB)) {
			r_close(fd);
			errno = EBUSY;
			return -1;
		}
		struct group *g = calloc(1, sizeof(*g));
		o = calloc(1, sizeof(*o));
		if (!g || !o) {
			free(g);
			free(o);
			r_close(fd);
			errno = ENOMEM;
			return -1;
		}
		g->n = atoi(p + 10);
		g->refs = 1;
		o->kind = FK_GROUP;
		o->g = g;
	} else if (attr_writable(p, flags)) {
		o = calloc(1, sizeof(*o));
		if (!o)
			return fd;
		o->kind = FK_ATTR;
		o->attr = !strcmp(p, YAMA_PATH) ? ATTR_YAMA : !strncmp(p, "/sys/module/vfio/", 17) ? ATTR_BOOL : ATTR_INT;
		snprintf(o->path, sizeof(o->path), "%s", mapped);
	} else if (!strncmp(p, "/sys/", 5) && strlen(p) > 7 && !strcmp(p + strlen(p) - 7, "/config")) {
		/* pci config_read(): past 64 bytes only for CAP_SYS_ADMIN (checked at open) */
		o = calloc(1, sizeof(*o));
		if (!o)
			return fd;
		o->kind = FK_CONFIG;
		o->cfg_limit = cap_effective(CAP_SYS_ADMIN) ? 4096 : 64;
	} else {
		return fd;
	}
	if (fobj_install(fd, o)) {
		fobj_release(fd);
		free(o);
	}
	return fd;
}

static void before_open(const char *mapped, const char *orig)
{
	if (mapped == orig)
		return;
	if (!strcmp(mapped + strlen(g_root), "/sys/module/svmref/parameters/bonds"))
		bonds_publish();
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode, bool at)
{
	char buf[PATH_MAX];
	int e = fk_gate();

	if (e) {
		errno = e;
		return -1;
	}
	lock();
	const char *m = fk_map(path, buf, sizeof(buf));
	before_open(m, path);
	if (m != path && attr_writable(m + strlen(g_root), flags))
		flags &= ~O_TRUNC; /* sysfs and procfs attributes ignore O_TRUNC: write() replaces */
	if (m != path && (flags & O_ACCMODE) != O_RDONLY &&
	    !strcmp(m + strlen(g_root), SVMREF_PARAM_DIR "/bonds")) {
		unlock();
		errno = EACCES; /* a read-only module parameter: kernfs has no write op */
		return -1;
	}
	int fd = at ? r_openat(dirfd, m, flags, mode) : r_open(m, flags, mode);
	if (fd >= 0)
		fobj_release(fd); /* a stale entry: that fd was closed behind our back */
	fd = after_open(fd, m, path, flags);
	e = errno;
	unlock();
	errno = e;
	return fd;
}

/* ------------------------------------------------------------------ */
/* Interposed libc entry points                                        */

/* _FORTIFY_SOURCE entry points: the headers declare them only under fortification. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t bl);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t bl);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t bl);
ssize_t __readlink_chk(const char *path, char *buf, size_t n, size_t bl);

#define OPEN_MODE(flags, mode)                                             \
	do {                                                               \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {                  \
			va_list ap;                                        \
			va_start(ap, flags);                               \
			mode = va_arg(ap, mode_t);                         \
			va_end(ap);                                        \
		}                                                          \
	} while (0)

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	fk_resolve();
	return do_open(AT_FDCWD, path, flags, mode, false);
}

EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	fk_resolve();
	return do_open(AT_FDCWD, path, flags, mode, false);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	fk_resolve();
	return do_open(dirfd, path, flags, mode, true);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	OPEN_MODE(flags, mode);
	fk_resolve();
	return do_open(dirfd, path, flags, mode, true);
}

EXPORT int __open_2(const char *path, int flags)
{
	fk_resolve();
	return do_open(AT_FDCWD, path, flags, 0, false);
}

EXPORT int __open64_2(const char *path, int flags)
{
	fk_resolve();
	return do_open(AT_FDCWD, path, flags, 0, false);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	fk_resolve();
	return do_open(dirfd, path, flags, 0, true);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	fk_resolve();
	return do_open(dirfd, path, flags, 0, true);
}

EXPORT int close(int fd)
{
	fk_resolve();
	int e = fk_gate();
	lock();
	fobj_release(fd);
	int r = r_close(fd);
	int e2 = errno;
	unlock();
	if (e) {
		errno = e;
		return -1;
	}
	errno = e2;
	return r;
}

/* read/pread on tracked fds; -2 = not ours */
static ssize_t fk_rw(int fd, void *buf, size_t n, int64_t pos, bool write)
{
	struct fobj *o = fobj_get(fd);

	if (!o)
		return -2;
	switch (o->kind) {
	case FK_CONTAINER:
	case FK_GROUP:
		errno = EINVAL; /* no .read/.write in vfio_fops / vfio_group_fops */
		return -1;
	case FK_DEVICE: {
		bool cur = pos < 0;
		uint64_t p = cur ? (uint64_t)lseek(fd, 0, SEEK_CUR) : (uint64_t)pos;
		void *tmp = malloc(n ? n : 1);
		if (!tmp) {
			errno = ENOMEM;
			return -1;
		}
		ssize_t k;
		if (write) {
			k = cin(tmp, (uintptr_t)buf, n) ? -EFAULT : device_rw(o->d, tmp, n, p, true);
		} else {
			k = device_rw(o->d, tmp, n, p, false);
			if (k > 0 && cout((uintptr_t)buf, tmp, (size_t)k))
				k = -EFAULT;
		}
		free(tmp);
		if (k < 0) {
			errno = (int)-k;
			return -1;
		}
		if (cur)
			lseek(fd, (off_t)(p + (uint64_t)k), SEEK_SET);
		return k;
	}
	case FK_ATTR: {
		if (!write)
			return -2;
		ssize_t k = attr_write(o, buf, n);
		if (k < 0) {
			errno = (int)-k;
			return -1;
		}
		return k;
	}
	case FK_CONFIG: {
		if (write)
			return -2;
		off_t p = pos < 0 ? lseek(fd, 0, SEEK_CUR) : (off_t)pos;
		if (p >= (off_t)o->cfg_limit)
			return 0;
		if ((size_t)p + n > o->cfg_limit)
			n = o->cfg_limit - (size_t)p;
		ssize_t k = r_pread(fd, buf, n, p);
		if (k > 0 && pos < 0)
			lseek(fd, p + k, SEEK_SET);
		return k;
	}
	}
	return -2;
}

static ssize_t do_read(int fd, void *buf, size_t n, int64_t pos)
{
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return -1;
	}
	lock();
	ssize_t k = fk_rw(fd, buf, n, pos, false);
	if (k == -2)
		k = pos < 0 ? r_read(fd, buf, n) : r_pread(fd, buf, n, (off_t)pos);
	e = errno;
	unlock();
	errno = e;
	return k;
}

static ssize_t do_write(int fd, const void *buf, size_t n, int64_t pos)
{
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return -1;
	}
	lock();
	ssize_t k = fk_rw(fd, (void *)buf, n, pos, true);
	if (k == -2)
		k = pos < 0 ? r_write(fd, buf, n) : r_pwrite(fd, buf, n, (off_t)pos);
	e = errno;
	unlock();
	errno = e;
	return k;
}

EXPORT ssize_t read(int fd, void *buf, size_t n) { return do_read(fd, buf, n, -1); }
EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t bl) { (void)bl; return do_read(fd, buf, n, -1); }
EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	if (off < 0) {
		fk_resolve();
		int e = fk_gate();
		errno = e ? e : EINVAL;
		return -1;
	}
	return do_read(fd, buf, n, off);
}
EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off) { return pread(fd, buf, n, off); }
EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t bl) { (void)bl; return pread(fd, buf, n, off); }
EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t bl) { (void)bl; return pread(fd, buf, n, off); }
EXPORT ssize_t write(int fd, const void *buf, size_t n) { return do_write(fd, buf, n, -1); }
EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (off < 0) {
		fk_resolve();
		int e = fk_gate();
		errno = e ? e : EINVAL;
		return -1;
	}
	return do_write(fd, buf, n, off);
}
EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) { return pwrite(fd, buf, n, off); }

EXPORT int ioctl(int fd, unsigned long cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);

	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return -1;
	}
	lock();
	struct fobj *o = fobj_get(fd);
	long r;
	if (!o || o->kind == FK_CONFIG || o->kind == FK_ATTR) {
		unlock();
		return r_ioctl(fd, cmd, arg);
	}
	/* the kernel decodes the command as unsigned int */
	unsigned int c = (unsigned int)cmd;
	switch (o->kind) {
	case FK_CONTAINER: r = container_ioctl(o->c, c, arg); break;
	case FK_GROUP: r = group_ioctl(o->g, c, arg); break;
	case FK_DEVICE: r = device_ioctl(o->d, c, arg); break;
	default: r = -ENOTTY; break;
	}
	unlock();
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return (int)r;
}

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return MAP_FAILED;
	}
	lock();
	struct fobj *o = (flags & MAP_ANONYMOUS) ? NULL : fobj_get(fd);
	if (o && (o->kind == FK_CONTAINER || o->kind == FK_GROUP)) {
		unlock();
		errno = ENODEV; /* no .mmap in vfio_fops / vfio_group_fops */
		return MAP_FAILED;
	}
	if (o && o->kind == FK_DEVICE) {
		/* vfio_pci_core_mmap() */
		uint64_t uoff = (uint64_t)off;
		unsigned idx = (unsigned)(uoff >> IDX_SHIFT);
		uint64_t start = uoff & (IDX_OFF(1) - 1);
		int err = 0;
		if (!len)
			err = EINVAL;
		else if (uoff & (PGSIZE - 1))
			err = EINVAL;
		else if (idx >= VFIO_PCI_NUM_REGIONS)
			err = EINVAL;
		else if (!(flags & MAP_SHARED))
			err = EINVAL;
		else if (idx >= VFIO_PCI_ROM_REGION_INDEX)
			err = EINVAL;
		else if (!bar_size(o->d->def, idx) || idx != 0)
			err = EINVAL;
		else if (start + ((len + PGSIZE - 1) & ~(PGSIZE - 1)) > ((bar_size(o->d->def, idx) + PGSIZE - 1) & ~(PGSIZE - 1)))
			err = EINVAL;
		if (err) {
			unlock();
			errno = err;
			return MAP_FAILED;
		}
		void *p = r_mmap(addr, len, prot, flags, fd, (off_t)start);
		e = errno;
		unlock();
		errno = e;
		return p;
	}
	unlock();
	return r_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	return do_mmap(addr, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return -1;
	}
	return r_munmap(addr, len);
}

EXPORT ssize_t readlink(const char *path, char *buf, size_t n)
{
	char b[PATH_MAX];
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return -1;
	}
	return r_readlink(fk_map(path, b, sizeof(b)), buf, n);
}

EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t n, size_t bl)
{
	(void)bl;
	return readlink(path, buf, n);
}

EXPORT DIR *opendir(const char *path)
{
	char b[PATH_MAX];
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return NULL;
	}
	return r_opendir(fk_map(path, b, sizeof(b)));
}

EXPORT struct dirent *readdir(DIR *d)
{
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return NULL;
	}
	return r_readdir(d);
}

EXPORT struct dirent64 *readdir64(DIR *d)
{
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return NULL;
	}
	return r_readdir64(d);
}

EXPORT int closedir(DIR *d)
{
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return -1;
	}
	return r_closedir(d);
}

EXPORT int getrlimit(__rlimit_resource_t res, struct rlimit *rl)
{
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return -1;
	}
	return r_getrlimit(res, rl);
}

/* Yama's PR_SET_PTRACER, recorded in the root (the host has no Yama to ask). */
static int set_ptracer(unsigned long arg)
{
	char p[PATH_MAX], b[64];
	pid_t me = getpid();
	unsigned long long start = 0;

	rpath(p, sizeof(p), "/.fakek/ptracer/%d", (int)me);
	if (arg == 0) {
		unlink(p);
		return 0;
	}
	long tracer = -1;
	if (arg != PR_SET_PTRACER_ANY) {
		pid_t t = (pid_t)arg;
		if ((long)arg <= 0 || (kill(t, 0) && errno != EPERM))
			return -EINVAL;
		tracer = proc_tgid(t);
		if (tracer <= 0)
			return -EINVAL;
	}
	proc_stat_field(me, 22, &start);
	snprintf(b, sizeof(b), "%ld %llu\n", tracer, start);
	return write_str(p, b);
}

EXPORT int prctl(int option, ...)
{
	va_list ap;
	unsigned long a[4];

	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return -1;
	}
	if (option == PR_SET_PTRACER && g_have_root) {
		lock();
		int r = set_ptracer(a[0]);
		unlock();
		if (r) {
			errno = -r;
			return -1;
		}
		return 0;
	}
	return r_prctl(option, a[0], a[1], a[2], a[3]);
}

EXPORT long syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	fk_resolve();
	int e = fk_gate();
	if (e) {
		errno = e;
		return -1;
	}
	return r_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ------------------------------------------------------------------ */
/* Control API                                                         */

EXPORT unsigned fakek_version(void)
{
	return FAKEK_VERSION;
}

EXPORT void fakek_inject(unsigned long nth, int err)
{
	__atomic_store_n(&g_inject_nth, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&g_inject_err, err, __ATOMIC_SEQ_CST);
	__atomic_store_n(&g_calls, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&g_inject_nth, nth, __ATOMIC_SEQ_CST);
}

EXPORT unsigned long fakek_calls(void)
{
	return __atomic_load_n(&g_calls, __ATOMIC_SEQ_CST);
}

EXPORT const char *fakek_root(void)
{
	return g_have_root ? g_root : NULL;
}

EXPORT int fakek_set_driver(const char *bdf, const char *driver)
{
	char cur[64];
	int r;

	fk_resolve();
	if (!g_have_root || !bdf)
		return -ENODEV;
	const struct devdef *def = def_by_bdf(bdf);
	if (!def)
		return -ENODEV;
	if (driver && !*driver)
		driver = NULL;
	lock();
	dev_driver(bdf, cur, sizeof(cur));
	if (driver && !strcmp(cur, driver)) {
		unlock();
		return 0;
	}
	if (driver && is_vfio_driver(driver) && def->kind == DK_BRIDGE) {
		unlock();
		return -EINVAL; /* vfio_pci_probe(): only normal headers */
	}
	for (struct device *d = g_devices; d; d = d->next) {
		if (d->def == def) {
			unlock();
			return -EBUSY;
		}
	}
	/* iommu_device_use_default_domain(): a DMA-owning driver cannot probe into a claimed group */
	if (driver && !driver_manages_dma(driver) && def->group >= 0 && claim_held(def->group)) {
		unlock();
		return -EBUSY;
	}
	r = topo_set_driver_links(def, driver);
	if (!r && def->group >= 0)
		r = group_node_update(def->group);
	unlock();
	return r;
}

EXPORT int fakek_reset(void)
{
	fk_resolve();
	if (!g_have_root)
		return -ENODEV;
	lock();
	int r = build_topology();
	if (!r)
		bonds_publish();
	unlock();
	return r;
}

/* ------------------------------------------------------------------ */
/* Load and unload                                                     */

static void atfork_prepare(void) { pthread_mutex_lock(&g_lock); }
static void atfork_parent(void) { pthread_mutex_unlock(&g_lock); }

static void lock_init(void)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&g_lock, &a);
	pthread_mutexattr_destroy(&a);
}

/* The child's only thread has a new TID: the recursive mutex cannot be unlocked, start afresh. */
static void atfork_child(void) { lock_init(); }

__attribute__((constructor)) static void fk_init(void)
{
	lock_init();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	fk_resolve();
	fk_setup_root();
}

__attribute__((destructor)) static void fk_fini(void)
{
	if (g_have_root && g_creator && g_creator == getpid())
		rm_rf(g_root);
}
