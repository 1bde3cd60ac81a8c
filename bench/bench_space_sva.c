// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_space sva: real SVA on the provider (svmref). B's anonymous memory
 * bound whole with svm_bind_pid(): near pages are pages B wrote, far pages
 * pages B never touched, which the kernel faults in when the device's page
 * request comes (IOPF, handle_mm_fault on B's mm). 1 MiB copies in B's
 * address space against the same copies through an IOVA mapping.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench_space.h"

#define DRIVER "svmref-vfio-pci"

int bench_sva(const struct bs_opts *o)
{
	struct svmdma found[2];
	struct bs_client b;
	struct bs_figs f;
	struct bs_dev d;
	uint32_t pasid;
	int ret;

	if (access("/sys/bus/pci/drivers/" DRIVER, F_OK))
		skip("no %s driver: load the provider (vm.sh --driver svmref)", DRIVER);
	ret = svmdma_find(found, DRIVER);
	if (ret == -ENODEV)
		skip("no svm-dma devices: not the SVA VM (vm.sh --kernel new --sva)");
	if (ret)
		die("binding the svm-dma devices to %s: %s", DRIVER, strerror(-ret));
	bs_client_start(&b, o, false);	/* before the device is open: B inherits none of it */
	bs_dev_open(&d, &found[0], NULL);
	ret = svm_bind_pid(d.dev, b.pid, &pasid);
	if (ret)
		die("svm_bind_pid(%d) on %s: %s (kernel errno %d)", (int)b.pid, d.sd.bdf,
		    svmbind_strerror(ret), svmbind_kernel_errno());
	bs_measure(&d, &b, pasid, o, &f);
	ret = svm_unbind(d.dev, pasid, 0);
	if (ret)
		die("svm_unbind: %s", svmbind_strerror(ret));
	bs_print_keys(&d, o, &f, "sva", "touched", "faultin", "faultin");
	printf("bench_space sva on %s: one-page copy %.1f us to a page B touched, %.1f us to a page "
	       "B never touched (the kernel's fault-in through PRI: +%.1f us); 1 MiB copies: SVA "
	       "%.0f MiB/s, IOVA %.0f MiB/s (SVA/IOVA %.2f); medians of %d rounds (TCG: only "
	       "ratios mean anything)\n", d.sd.bdf, f.near_us, f.far_us, f.far_minus_near_us,
	       f.pasid_mibps, f.iova_mibps, f.pasid_over_iova, o->rounds);
	bs_dev_close(&d);
	bs_client_stop(&b);
	return 0;
}
