// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * svacheck: guest-side check of the SVA VM (tests/vm/vm.sh --sva).
 *
 * For each svm-dma device (1234:5356) it reads the PCI config space from
 * sysfs and reports whether the kernel enabled ATS, PASID and PRI on it,
 * and reads the device's IOMMU (dmarN) capability registers and applies
 * Linux's own rules for an SVA-capable VT-d unit (intel_svm_check(): PASID
 * in scalable mode, SMPWC, FL1GP when the CPU has 1 GiB pages, FL5LP with
 * LA57) and for PRI (PRS and PDS). Those rules are re-evaluated here from
 * the registers the kernel read; the kernel's own verdict is the bind
 * itself (tests/sva/sva_dma.c). Also checks the page request queue is
 * running (a "dmarN-prq" interrupt) and that the kernel log has no
 * "SVM disabled" line.
 *
 * Exit: 0 all good, 1 something is missing (printed), 77 no svm-dma
 * device (not the SVA VM).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <unistd.h>

#define SVM_DMA_ID "0x1234:0x5356"

static int bad;

static void check(bool ok, const char *what, const char *fix)
{
	printf("  %-48s %s\n", what, ok ? "yes" : "NO");
	if (!ok) {
		bad = 1;
		if (fix)
			printf("    -> %s\n", fix);
	}
}

static int read_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static bool file_has(const char *path, const char *word)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, word) != NULL;
	fclose(f);
	return found;
}

static uint32_t rd32(const uint8_t *cfg, unsigned off)
{
	return cfg[off] | cfg[off + 1] << 8 | cfg[off + 2] << 16 | (uint32_t)cfg[off + 3] << 24;
}

static unsigned find_ext_cap(const uint8_t *cfg, size_t len, unsigned id)
{
	unsigned off = 0x100, n = 0;

	while (off >= 0x100 && off + 4 <= len && n++ < 64) {
		uint32_t h = rd32(cfg, off);

		if (h == 0 || h == 0xffffffff)
			return 0;
		if ((h & 0xffff) == id)
			return off;
		off = (h >> 20) & 0xffc;
	}
	return 0;
}

static void check_iommu(const char *bdf)
{
	char path[512], dmar[256], buf[64];
	uint64_t cap, ecap;
	ssize_t n;
	bool pasid, smts, flts, smpwc, prs, pds, dt, fl1gp, fl5lp, gb, la57;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu", bdf);
	n = readlink(path, dmar, sizeof(dmar) - 1);
	if (n < 0) {
		check(false, "device has an IOMMU", "boot with intel_iommu=on (vm.sh --sva does)");
		return;
	}
	dmar[n] = 0;
	snprintf(path, sizeof(path), "/sys/class/iommu/%s/intel-iommu/ecap", strrchr(dmar, '/') + 1);
	if (read_str(path, buf, sizeof(buf))) {
		check(false, "VT-d ecap readable", path);
		return;
	}
	ecap = strtoull(buf, NULL, 16);
	snprintf(path, sizeof(path), "/sys/class/iommu/%s/intel-iommu/cap", strrchr(dmar, '/') + 1);
	if (read_str(path, buf, sizeof(buf))) {
		check(false, "VT-d cap readable", path);
		return;
	}
	cap = strtoull(buf, NULL, 16);
	printf("  IOMMU %s: cap 0x%016" PRIx64 " ecap 0x%016" PRIx64 "\n", strrchr(dmar, '/') + 1, cap, ecap);
	dt = ecap >> 2 & 1;
	prs = ecap >> 29 & 1;
	pasid = ecap >> 40 & 1;
	pds = ecap >> 42 & 1;
	smts = ecap >> 43 & 1;
	flts = ecap >> 47 & 1;
	smpwc = ecap >> 48 & 1;
	fl1gp = cap >> 56 & 1;
	fl5lp = cap >> 60 & 1;
	gb = file_has("/proc/cpuinfo", " pdpe1gb");
	la57 = file_has("/proc/cpuinfo", " la57");
	check(smts && pasid, "ECAP: scalable mode + PASID", "intel-iommu,x-scalable-mode=on,x-pasid-mode=on");
	check(flts, "ECAP: first-stage translation (FLTS)", "intel-iommu,x-flts=on");
	check(smpwc, "ECAP: page-walk coherency (SMPWC)", "our QEMU's 0003-intel-iommu-smpwc.patch");
	check(dt, "ECAP: device IOTLB (ATS)", "intel-iommu,device-iotlb=on");
	check(prs && pds, "ECAP: page requests (PRS, PDS)", "intel-iommu,x-prs=on (our 0002 patch)");
	check(!gb || fl1gp, "CAP: FL1GP (the CPU has 1 GiB pages)", "intel-iommu,fs1gp=on");
	check(!la57 || fl5lp, "no LA57 (VT-d has no FL5LP)", "-cpu max,la57=off");
	check(file_has("/proc/cmdline", "sm_on"), "kernel booted with intel_iommu=...,sm_on", "append intel_iommu=on,sm_on");
	if (prs)
		check(file_has("/proc/interrupts", "-prq"), "page request queue running (dmarN-prq)", NULL);
}

static void check_klog(void)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf;

	if (len <= 0)
		return;
	buf = malloc((size_t)len + 1);
	if (!buf)
		return;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len >= 0) {
		buf[len] = 0;
		check(!strstr(buf, "SVM disabled"), "kernel log has no \"SVM disabled\"", NULL);
		check(!strstr(buf, "Scalable Mode not enabled"), "kernel log has no \"Scalable Mode not enabled\"", NULL);
	}
	free(buf);
}

int main(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int found = 0, iommu_done = 0;

	if (!d) {
		perror("/sys/bus/pci/devices");
		return 1;
	}
	while ((e = readdir(d))) {
		char path[512], v[16], dv[16], id[40], drv[256] = "(none)";
		uint8_t cfg[4096];
		unsigned ats, pasid, pri;
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", e->d_name);
		if (read_str(path, v, sizeof(v)))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", e->d_name);
		if (read_str(path, dv, sizeof(dv)))
			continue;
		snprintf(id, sizeof(id), "%s:%s", v, dv);
		if (strcmp(id, SVM_DMA_ID))
			continue;
		found++;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", e->d_name);
		n = readlink(path, drv, sizeof(drv) - 1);
		if (n > 0)
			drv[n] = 0;
		printf("svm-dma %s (driver %s)\n", e->d_name, n > 0 ? strrchr(drv, '/') + 1 : "none");
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", e->d_name);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : pread(fd, cfg, sizeof(cfg), 0);
		if (fd >= 0)
			close(fd);
		if (n < 0x200) {
			check(false, "extended config space readable", "run as root");
			continue;
		}
		ats = find_ext_cap(cfg, (size_t)n, 0x0f);
		pasid = find_ext_cap(cfg, (size_t)n, 0x1b);
		pri = find_ext_cap(cfg, (size_t)n, 0x13);
		check(ats, "ATS capability", NULL);
		check(pasid, "PASID capability", NULL);
		if (ats)
			check(cfg[ats + 7] & 0x80, "ATS enabled by the kernel", "the IOMMU needs device-iotlb=on and scalable mode");
		if (pasid) {
			printf("  PASID width %u\n", (cfg[pasid + 5] >> 0) & 0x1f);
			check(cfg[pasid + 6] & 1, "PASID enabled by the kernel", "scalable mode with x-pasid-mode=on");
		}
		if (pri)
			printf("  %-48s %s\n", "PRI capability",
			       (cfg[pri + 4] & 1) ? "yes, enabled by the kernel" : "yes, not enabled (yet)");
		else
			printf("  %-48s no\n", "PRI capability");
		if (!iommu_done++)
			check_iommu(e->d_name);
	}
	closedir(d);
	if (!found) {
		printf("svacheck: no svm-dma device (%s): not the SVA VM (vm.sh --sva)\n", SVM_DMA_ID);
		return 77;
	}
	check_klog();
	printf("svacheck: %s\n", bad ? "FAIL" : "PASS: the IOMMU meets Linux's SVA rules; ATS and PASID are on");
	return bad;
}
