// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Feature probing: what the machine and a device can do, and why not. */
#include <dirent.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"
#include "iommu/backend.h"
#include "pure.h"

#define PCI_CFG_SPACE_EXP_SIZE	4096

static pthread_mutex_t sys_lock = PTHREAD_MUTEX_INITIALIZER;
static struct svmbind_sys_probe sys_cache;
static bool sys_cached;

static void probe_vfio(struct svmbind_sys_probe *p)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	int ver;

	if (fd < 0) {
		int err = errno;

		p->vfio = err == ENOENT ? 0 : -err;
		p->vfio_api_version = p->type1 = p->type1v2 = p->noiommu_type =
			err == ENOENT ? -SVMBIND_ERR_NO_VFIO : -err;
		return;
	}
	p->vfio = 1;
	ver = ioctl(fd, VFIO_GET_API_VERSION);
	p->vfio_api_version = ver < 0 ? -errno : ver;
#define EXT(field, type) do { int r = ioctl(fd, VFIO_CHECK_EXTENSION, type); \
		p->field = r < 0 ? -errno : r > 0; } while (0)
	EXT(type1, VFIO_TYPE1_IOMMU);
	EXT(type1v2, VFIO_TYPE1v2_IOMMU);
	EXT(noiommu_type, VFIO_NOIOMMU_IOMMU);
#undef EXT
	close(fd);
}

static int any_entry(const char *path)
{
	struct dirent *de;
	DIR *dir = opendir(path);
	int found = 0;

	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.') {
			found = 1;
			break;
		}
	closedir(dir);
	return found;
}

/* Every VT-d unit's ECAP: a feature counts only if all units have it. */
static void probe_vtd(struct svmbind_sys_probe *p)
{
	struct svmbind__vtd vtd;
	struct dirent *de;
	DIR *dir = opendir("/sys/class/iommu");

	p->vtd = p->vtd_scalable = p->vtd_pasid = p->vtd_prs = 0;
	if (!dir) {
		if (errno != ENOENT)
			p->vtd = p->vtd_scalable = p->vtd_pasid = p->vtd_prs = -errno;
		return;
	}
	svmbind__vtd_init(&vtd);
	while ((de = readdir(dir))) {
		char path[300], buf[32];

		if (strncmp(de->d_name, "dmar", 4))
			continue;
		snprintf(path, sizeof(path), "/sys/class/iommu/%s/intel-iommu/ecap", de->d_name);
		if (svmbind__read_text(path, buf, sizeof(buf)) >= 0)
			(void)svmbind__vtd_add_unit(&vtd, buf);
	}
	closedir(dir);
	if (vtd.units) {
		p->vtd = 1;
		p->vtd_scalable = svmbind__vtd_feature(&vtd, SVMBIND__ECAP_SMTS);
		p->vtd_pasid = svmbind__vtd_feature(&vtd, SVMBIND__ECAP_PASID);
		p->vtd_prs = svmbind__vtd_feature(&vtd, SVMBIND__ECAP_PRS);
	}
}

static void probe_system(struct svmbind_sys_probe *p)
{
	char buf[8];
	struct rlimit rl;
	int ret;

	probe_vfio(p);
	p->iommu_groups = any_entry("/sys/kernel/iommu_groups");
	ret = svmbind__read_text("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", buf, sizeof(buf));
	p->noiommu_mode = ret < 0 ? (ret == -ENOENT ? 0 : ret) : (buf[0] == 'Y' || buf[0] == '1');
	p->ptrace_scope = svmbind__ptrace_scope();
	p->cap_sys_ptrace = svmbind__cap_effective(19 /* CAP_SYS_PTRACE */);
	p->cap_ipc_lock = svmbind__cap_effective(14 /* CAP_IPC_LOCK */);
	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
		p->memlock_cur = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
		p->memlock_max = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : rl.rlim_max;
	}
	probe_vtd(p);
	svmbind__probe_paths(p);
}

int svmbind_probe_system(struct svmbind_sys_probe *out, uint32_t flags)
{
	struct svmbind_sys_probe p = { 0 };

	if (!out)
		return NULL_ARG();
	if (!OPTS_VALID(out, struct svmbind_sys_probe))
		return FAIL(EINVAL);
	if (flags & ~SVMBIND_PROBE_NOCACHE) {
		pr_err("svmbind_probe_system: unknown flags 0x%x (SVMBIND_PROBE_NOCACHE)", flags);
		return FAIL(EINVAL);
	}
	pthread_mutex_lock(&sys_lock);
	if (!sys_cached || (flags & SVMBIND_PROBE_NOCACHE)) {
		probe_system(&sys_cache);
		sys_cached = true;
	}
	p = sys_cache;
	pthread_mutex_unlock(&sys_lock);
	p.sz = out->sz;
	memcpy(out, &p, out->sz < sizeof(p) ? out->sz : sizeof(p));
	return svmbind__ok(0);
}

/* PCIe extended capabilities, from config space read through sysfs. */
static void probe_caps(const char *bdf, struct svmbind_dev_probe *p)
{
	unsigned char cfg[PCI_CFG_SPACE_EXP_SIZE];
	struct svmbind__pci_caps caps;
	char path[128];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		goto unknown;
	}
	n = pread(fd, cfg, sizeof(cfg), 0);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (n < 0)
		goto unknown;
	err = svmbind__pci_ext_caps(cfg, (size_t)n, &caps);
	if (err)
		goto unknown;	/* -EPERM: 64 bytes, config space past it needs CAP_SYS_ADMIN */
	p->ats = caps.ats;
	p->pri = caps.pri;
	p->pasid = caps.pasid;
	p->pasid_width = caps.pasid_width;
	return;
unknown:
	p->ats = p->pri = p->pasid = p->pasid_width = err;
}

int svmbind_probe_device(const char *name, struct svmbind_device *dev,
			 struct svmbind_dev_probe *out, uint32_t flags)
{
	struct svmbind_dev_probe p = { 0 };
	int ret;

	if (!out)
		return NULL_ARG();
	if (!OPTS_VALID(out, struct svmbind_dev_probe))
		return FAIL(EINVAL);
	if (flags & ~SVMBIND_PROBE_NOCACHE) {
		pr_err("svmbind_probe_device: unknown flags 0x%x (SVMBIND_PROBE_NOCACHE)", flags);
		return FAIL(EINVAL);
	}
	if (!svmbind__parse_bdf(name, p.name)) {
		pr_err("device name '%s' is not a PCI address (DDDD:BB:DD.F)", name ? name : "(null)");
		return FAIL(EINVAL);
	}
	if (dev && strcmp(dev->name, p.name)) {
		pr_err("svmbind_probe_device: handle is %s, name is %s", dev->name, p.name);
		return FAIL(EINVAL);
	}
	if (!svmbind__device_exists(p.name)) {
		pr_err("%s: no such PCI device in /sys/bus/pci/devices", p.name);
		return FAIL(ENODEV);
	}
	ret = svmbind__device_driver(p.name, p.driver, sizeof(p.driver));
	p.vfio_driver = ret < 0 ? ret : svmbind__driver_is_vfio(p.driver);
	p.iommu_group = svmbind__device_group(p.name);
	if (p.iommu_group == -ENOENT)
		p.iommu_group = -SVMBIND_ERR_NO_IOMMU_GROUP;
	if (p.iommu_group >= 0) {
		ret = svmbind__group_offenders(p.iommu_group, p.offenders, sizeof(p.offenders));
		p.group_viable = ret < 0 ? ret : ret == 0;
		p.nr_offenders = ret > 0 ? (unsigned int)ret : 0;
	} else {
		p.group_viable = p.iommu_group;
	}
	probe_caps(p.name, &p);
	if (dev && svmbind__ctx_forked(dev->ctx)) {
		/* Its fds are the parent's: ask the kernel nothing through them. */
		pr_info("%s: svmbind_probe_device: the handle was inherited through fork(): its "
			"dialect and IOMMU are not probed", p.name);
		p.dialect = -SVMBIND_ERR_FORKED;
		svmbind__probe_iommu_hw(NULL, &p);
		p.iommu_pasid_log2 = -SVMBIND_ERR_FORKED;
	} else if (dev) {
		if (flags & SVMBIND_PROBE_NOCACHE) {
			pthread_mutex_lock(&dev->lock);
			dev->dialect = INT_MIN;
			pthread_mutex_unlock(&dev->lock);
		}
		p.dialect = svmbind__probe_dialect(dev);
		svmbind__probe_iommu_hw(dev, &p);
	} else {
		p.dialect = -EBADF;
		svmbind__probe_iommu_hw(NULL, &p);
	}
	p.sz = out->sz;
	memcpy(out, &p, out->sz < sizeof(p) ? out->sz : sizeof(p));
	return svmbind__ok(0);
}
