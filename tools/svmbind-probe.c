// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * svmbind-probe: what this machine (and a named device) can do for SVM
 * binding, and for every "no" what to do about it.
 *
 *   svmbind-probe [--json] [PCI-ADDRESS]
 *
 * Exit status: 0 everything needed is there (with a device: it can be
 * opened and its kernel binds other processes); 1 something is missing (the
 * report says what); 64 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <svmbind/svmbind.h>

struct out {
	bool json;
	bool first;
	bool missing;
};

static const char *tri(int v)
{
	return v > 0 ? "yes" : v == 0 ? "no" : "unknown";
}

/* JSON: strings are escaped; tri-states are true/false/null with a "_reason". */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void key(struct out *o, const char *k)
{
	printf("%s\n    ", o->first ? "" : ",");
	o->first = false;
	json_str(k);
	printf(": ");
}

static void j_tri(struct out *o, const char *k, int v)
{
	key(o, k);
	printf("%s", v > 0 ? "true" : v == 0 ? "false" : "null");
	if (v < 0) {
		char rk[64];

		snprintf(rk, sizeof(rk), "%s_reason", k);
		key(o, rk);
		json_str(svmbind_strerror(v));
	}
}

static void j_int(struct out *o, const char *k, long long v)
{
	key(o, k);
	printf("%lld", v);
}

/* A report line; a "no" that matters carries its remedy. */
static void line(struct out *o, const char *what, int v, const char *remedy)
{
	if (o->json)
		return;
	printf("  %-34s %s", what, tri(v));
	if (v < 0)
		printf(" (%s)", svmbind_strerror(v));
	printf("\n");
	if (v <= 0 && remedy)
		printf("  %-34s -> %s\n", "", remedy);
}

static void report_system(struct out *o, const struct svmbind_sys_probe *p)
{
	char scope[64];

	if (p->vfio <= 0 || (p->type1v2 <= 0 && p->type1 <= 0))
		o->missing = true;
	if (o->json) {
		printf("  \"system\": {");
		o->first = true;
		j_tri(o, "vfio", p->vfio);
		key(o, "vfio_api_version");
		p->vfio_api_version >= 0 ? printf("%d", p->vfio_api_version) : printf("null");
		if (p->vfio_api_version < 0) {
			key(o, "vfio_api_version_reason");
			json_str(svmbind_strerror(p->vfio_api_version));
		}
		j_tri(o, "type1", p->type1);
		j_tri(o, "type1v2", p->type1v2);
		j_tri(o, "noiommu_type", p->noiommu_type);
		j_tri(o, "iommu_groups", p->iommu_groups);
		j_tri(o, "noiommu_mode", p->noiommu_mode);
		key(o, "ptrace_scope");
		if (p->ptrace_scope >= 0) {
			printf("%d", p->ptrace_scope);
		} else {
			printf("null");
			key(o, "ptrace_scope_reason");
			json_str(svmbind_strerror(p->ptrace_scope));
		}
		j_tri(o, "cap_sys_ptrace", p->cap_sys_ptrace);
		j_tri(o, "cap_ipc_lock", p->cap_ipc_lock);
		key(o, "memlock_cur");
		p->memlock_cur == UINT64_MAX ? printf("null") : printf("%llu", (unsigned long long)p->memlock_cur);
		key(o, "memlock_max");
		p->memlock_max == UINT64_MAX ? printf("null") : printf("%llu", (unsigned long long)p->memlock_max);
		j_tri(o, "vtd", p->vtd);
		j_tri(o, "vtd_scalable", p->vtd_scalable);
		j_tri(o, "vtd_pasid", p->vtd_pasid);
		j_tri(o, "vtd_prs", p->vtd_prs);
		j_tri(o, "iommufd", p->iommufd);
		j_tri(o, "vfio_cdev", p->vfio_cdev);
		printf("\n  }");
		return;
	}
	printf("System\n");
	line(o, "VFIO (/dev/vfio/vfio)", p->vfio, "load it: modprobe vfio-pci");
	if (p->vfio > 0)
		printf("  %-34s %d\n", "VFIO API version", p->vfio_api_version);
	line(o, "IOMMU type TYPE1v2", p->type1v2, p->vfio > 0 ? "modprobe vfio_iommu_type1" : NULL);
	line(o, "IOMMU type TYPE1", p->type1, NULL);
	line(o, "IOMMU groups", p->iommu_groups,
	     "enable the IOMMU: boot with intel_iommu=on (or amd_iommu=on) and VT-d/AMD-Vi on in firmware");
	line(o, "no-IOMMU mode (unsafe)", p->noiommu_mode, NULL);
	line(o, "iommufd (/dev/iommu)", p->iommufd, NULL);
	line(o, "VFIO device cdevs", p->vfio_cdev, NULL);
	printf("  %-34s %s%s%s%s\n", "paths to a device", p->vfio > 0 ? "legacy container" : "",
	       p->vfio > 0 && p->iommufd > 0 && p->vfio_cdev > 0 ? ", " : "",
	       p->iommufd > 0 && p->vfio_cdev > 0 ? "cdev + iommufd" : "",
	       p->noiommu_mode > 0 ? " (no-IOMMU groups: legacy only)" : "");
	if (p->ptrace_scope >= 0)
		snprintf(scope, sizeof(scope), "%d%s", p->ptrace_scope,
			 p->ptrace_scope == 0 ? " (classic)" : p->ptrace_scope == 1 ? " (ancestors or PR_SET_PTRACER)" :
			 p->ptrace_scope == 2 ? " (CAP_SYS_PTRACE only)" : " (no binding of others)");
	else
		snprintf(scope, sizeof(scope), "no Yama (%s)", svmbind_strerror(p->ptrace_scope));
	printf("  %-34s %s\n", "Yama ptrace_scope", scope);
	if (p->ptrace_scope >= 1 && p->cap_sys_ptrace <= 0)
		printf("  %-34s -> binding non-children needs PR_SET_PTRACER from the target, "
		       "CAP_SYS_PTRACE, or sysctl kernel.yama.ptrace_scope=0\n", "");
	line(o, "CAP_SYS_PTRACE", p->cap_sys_ptrace, NULL);
	line(o, "CAP_IPC_LOCK", p->cap_ipc_lock, NULL);
	if (p->memlock_cur == UINT64_MAX)
		printf("  %-34s unlimited\n", "RLIMIT_MEMLOCK");
	else
		printf("  %-34s %llu bytes%s\n", "RLIMIT_MEMLOCK", (unsigned long long)p->memlock_cur,
		       p->cap_ipc_lock > 0 ? "" : " (DMA maps beyond it fail: raise 'ulimit -l')");
	line(o, "Intel VT-d", p->vtd, NULL);
	if (p->vtd > 0) {
		line(o, "VT-d scalable mode (SMTS)", p->vtd_scalable,
		     "SVA needs scalable mode: boot with intel_iommu=on,sm_on on hardware that has it");
		line(o, "VT-d PASID", p->vtd_pasid, NULL);
		line(o, "VT-d page requests (PRS)", p->vtd_prs, NULL);
	}
}

static const char *dialect_text(int d)
{
	switch (d) {
	case SVMBIND_DIALECT_NONE: return "none: no SVM bind (stock kernel)";
	case SVMBIND_DIALECT_SELF: return "self: binds only the caller";
	case SVMBIND_DIALECT_PID: return "pid: binds other processes (VFIO_SVM_PID)";
	}
	return "unknown";
}

static void report_device(struct out *o, const struct svmbind_dev_probe *p, int open_err,
			  const char *path)
{
	if (p->vfio_driver <= 0 || p->iommu_group < 0 || p->group_viable <= 0 || open_err ||
	    p->dialect != SVMBIND_DIALECT_PID)
		o->missing = true;
	if (o->json) {
		printf(",\n  \"device\": {");
		o->first = true;
		key(o, "name");
		json_str(p->name);
		key(o, "driver");
		json_str(p->driver);
		j_tri(o, "vfio_driver", p->vfio_driver);
		key(o, "iommu_group");
		p->iommu_group >= 0 ? printf("%d", p->iommu_group) : printf("null");
		if (p->iommu_group < 0) {
			key(o, "iommu_group_reason");
			json_str(svmbind_strerror(p->iommu_group));
		}
		j_tri(o, "group_viable", p->group_viable);
		j_int(o, "nr_offenders", p->nr_offenders);
		key(o, "offenders");
		json_str(p->offenders);
		j_tri(o, "ats", p->ats);
		j_tri(o, "pri", p->pri);
		j_tri(o, "pasid", p->pasid);
		if (p->pasid > 0)
			j_int(o, "pasid_width", p->pasid_width);
		j_tri(o, "cdev", p->cdev);
		key(o, "open");
		json_str(open_err ? svmbind_strerror(open_err) : "ok");
		key(o, "path");
		open_err ? printf("null") : json_str(path);
		key(o, "iommu_pasid_log2");
		p->iommu_pasid_log2 >= 0 ? printf("%d", p->iommu_pasid_log2) : printf("null");
		if (p->iommu_pasid_log2 < 0) {
			key(o, "iommu_pasid_log2_reason");
			json_str(svmbind_strerror(p->iommu_pasid_log2));
		}
		key(o, "iommu_caps");
		printf("%llu", (unsigned long long)p->iommu_caps);
		key(o, "vtd_ecap");
		printf("%llu", (unsigned long long)p->vtd_ecap);
		j_tri(o, "pasid_space", p->pasid_space);
		j_tri(o, "pasid_page_requests", p->pasid_page_requests);
		key(o, "dialect");
		static const char *const names[] = { "\"none\"", "\"self\"", "\"pid\"" };
		printf("%s", p->dialect >= 0 && p->dialect <= 2 ? names[p->dialect] : "null");
		if (p->dialect < 0) {
			key(o, "dialect_reason");
			json_str(svmbind_strerror(p->dialect));
		}
		printf("\n  }");
		return;
	}
	printf("Device %s\n", p->name);
	printf("  %-34s %s\n", "driver", *p->driver ? p->driver : "(none)");
	if (p->vfio_driver <= 0)
		printf("  %-34s -> echo vfio-pci > /sys/bus/pci/devices/%s/driver_override; "
		       "echo %s > /sys/bus/pci/drivers_probe (after unbinding it)\n", "", p->name, p->name);
	if (p->iommu_group >= 0)
		printf("  %-34s %d\n", "IOMMU group", p->iommu_group);
	else
		line(o, "IOMMU group", p->iommu_group, "boot with intel_iommu=on (or amd_iommu=on)");
	line(o, "group viable", p->group_viable, NULL);
	if (p->nr_offenders)
		printf("  %-34s -> bind to vfio-pci or unbind: %s\n", "", p->offenders);
	line(o, "ATS capability", p->ats, NULL);
	line(o, "PRI capability", p->pri, NULL);
	line(o, "PASID capability", p->pasid, p->pasid == -EPERM ? "run as root to read config space" : NULL);
	if (p->pasid > 0)
		printf("  %-34s %d bits\n", "PASID width", p->pasid_width);
	line(o, "VFIO device cdev", p->cdev, NULL);
	printf("  %-34s %s%s%s\n", "open through VFIO", open_err ? svmbind_strerror(open_err) : "ok",
	       open_err ? "" : ", by the ", open_err ? "" : path);
	if (p->iommu_pasid_log2 >= 0)
		printf("  %-34s %d bits (IOMMU_GET_HW_INFO; caps 0x%llx, VT-d ecap 0x%llx)\n",
		       "IOMMU PASID width", p->iommu_pasid_log2, (unsigned long long)p->iommu_caps,
		       (unsigned long long)p->vtd_ecap);
	line(o, "PASID space (iommufd, space.h)", p->pasid_space,
	     "on kernels without the seed's bind: Linux 6.15+, the iommufd backend, a PASID-capable "
	     "device and IOMMU (VT-d: intel_iommu=on,sm_on)");
	line(o, "  with page requests (PRI)", p->pasid_page_requests, NULL);
	printf("  %-34s %s", "SVM bind dialect", dialect_text(p->dialect));
	if (p->dialect < 0)
		printf(" (%s)", svmbind_strerror(p->dialect));
	printf("\n");
	if (p->dialect == SVMBIND_DIALECT_NONE)
		printf("  %-34s -> this kernel lacks VFIO_DEVICE_BIND_TASK (no mainline kernel has it): "
		       "it needs the SVM bind patch or a provider driver\n", "");
	else if (p->dialect == SVMBIND_DIALECT_SELF)
		printf("  %-34s -> only svm_bind_self() works here; binding other processes needs the "
		       "seed's VFIO_SVM_PID\n", "");
}

static void usage(FILE *f, const char *argv0)
{
	fprintf(f, "usage: %s [--json] [PCI-ADDRESS]\n"
		"  Reports what this machine, and the device if one is named, can do for\n"
		"  binding process address spaces to a VFIO device, with remedies.\n"
		"  Exit 0: all there; 1: something missing; 64: usage.\n", argv0);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { 0 } };
	struct out o = { 0 };
	struct svmbind_sys_probe sys = { .sz = sizeof(sys) };
	int c;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c == 'j') {
			o.json = true;
		} else if (c == 'h') {
			usage(stdout, argv[0]);
			return 0;
		} else {
			usage(stderr, argv[0]);
			return 64;
		}
	}
	if (argc - optind > 1) {
		usage(stderr, argv[0]);
		return 64;
	}
	if (getenv("SVMBIND_LOG") == NULL)
		svmbind_set_log(NULL, NULL);
	svmbind_probe_system(&sys, 0);
	if (o.json)
		printf("{\n  \"schema\": 1,\n  \"version\": \"%s\",\n", svmbind_version_string());
	report_system(&o, &sys);

	if (optind < argc) {
		struct svmbind_dev_probe dp = { .sz = sizeof(dp) };
		struct svmbind_ctx *ctx = NULL;
		struct svmbind_device *dev = NULL;
		int ret = svmbind_probe_device(argv[optind], NULL, &dp, 0), open_err = 0;

		if (ret) {
			if (o.json) {
				printf(",\n  \"device\": null,\n  \"device_error\": ");
				json_str(svmbind_strerror(ret));
				printf("\n}\n");
			} else
				printf("Device %s: %s\n", argv[optind], svmbind_strerror(ret));
			return ret == -EINVAL ? 64 : 1;
		}
		open_err = svmbind_ctx_new(NULL, &ctx);
		if (!open_err)
			open_err = svmbind_device_open(ctx, argv[optind], NULL, &dev);
		if (dev)
			svmbind_probe_device(argv[optind], dev, &dp, 0);
		else
			dp.dialect = open_err;
		if (!o.json)
			printf("\n");
		report_device(&o, &dp, open_err, ctx && svmbind_ctx_backend(ctx) == SVMBIND_BACKEND_IOMMUFD ?
			      "cdev + iommufd" : "legacy container");
		svmbind_ctx_free(ctx);
	}
	if (o.json)
		printf("\n}\n");
	else
		printf("\n%s\n", o.missing ? "Result: something is missing (see the -> lines)." :
		       "Result: ready.");
	return o.missing ? 1 : 0;
}
