// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * A program that uses libsvmbind the way a user does: installed headers,
 * installed library, found with pkg-config or find_package(svmbind).
 * Prints the library version and the system probe; exits 0 when both work
 * and the run-time version matches the headers it was compiled against.
 */
#include <stdio.h>
#include <string.h>

#include <svmbind/svmbind.h>

int main(void)
{
	struct svmbind_sys_probe p = { .sz = sizeof(p) };
	int ret;

	printf("libsvmbind %s (headers %d.%d.%d)\n", svmbind_version_string(),
	       SVMBIND_VERSION_MAJOR, SVMBIND_VERSION_MINOR, SVMBIND_VERSION_PATCH);
	if (svmbind_version() != SVMBIND_VERSION) {
		fprintf(stderr, "consumer: run-time version 0x%06x, headers 0x%06x\n",
			(unsigned int)svmbind_version(), (unsigned int)SVMBIND_VERSION);
		return 1;
	}
	ret = svmbind_probe_system(&p, 0);
	if (ret) {
		fprintf(stderr, "consumer: svmbind_probe_system: %s\n", svmbind_strerror(ret));
		return 1;
	}
	printf("vfio %d, type1v2 %d, iommu_groups %d, ptrace_scope %d, vtd %d\n",
	       p.vfio, p.type1v2, p.iommu_groups, p.ptrace_scope, p.vtd);
	if (strcmp(svmbind_strerror(-SVMBIND_ERR_NO_SVM_BIND), svmbind_strerror(SVMBIND_ERR_NO_SVM_BIND))) {
		fprintf(stderr, "consumer: svmbind_strerror is not sign-blind\n");
		return 1;
	}
	return 0;
}
