// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_space space: the PASID-space path on stock vfio-pci (iommufd). B's
 * memfd placed at B's addresses in a space with page requests: near pages
 * placed (pinned) up front, far pages (never touched by B) in an on-demand
 * region, placed by A when the device's page request comes
 * (svmbind_space_dispatch(), in A's process). 1 MiB copies through the
 * space against the same copies through an IOVA mapping.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bench_space.h"

int bench_pasid(const struct bs_opts *o)
{
	struct svmbind_ctx_opts co = { .sz = sizeof(co), .backend = SVMBIND_BACKEND_IOMMUFD };
	struct svmbind_space_opts so = { .sz = sizeof(so), .flags = SVMBIND_SPACE_PAGE_REQUESTS };
	struct svmdma found[2];
	struct bs_client b;
	struct bs_figs f;
	struct bs_dev d;
	int ret;

	ret = svmdma_find(found, "vfio-pci");
	if (ret == -ENODEV)
		skip("no svm-dma devices: not the SVA VM (vm.sh --kernel new --sva)");
	if (ret)
		die("binding the svm-dma devices to vfio-pci: %s", strerror(-ret));
	bs_client_start(&b, o, true);
	bs_dev_open(&d, &found[0], &co);
	ret = svmbind_space_new(d.dev, &so, &d.space);
	if (!ret)	/* [0, far): placed now; [far, len): on demand */
		ret = svmbind_space_map(d.space, b.memfd, 0, b.far, b.addr, 0);
	if (!ret)
		ret = svmbind_space_map(d.space, b.memfd, b.far, b.len - b.far, b.addr + b.far,
					SVMBIND_SPACE_ON_DEMAND);
	if (ret)
		die("the PASID space on %s: %s", d.sd.bdf, svmbind_strerror(ret));
	bs_measure(&d, &b, svmbind_space_pasid(d.space), o, &f);
	bs_print_keys(&d, o, &f, "space", "placed", "ondemand", "pagereq");
	printf("bench_space space on %s: one-page copy %.1f us to a placed page, %.1f us to a page "
	       "placed on the device's request (served in user space: +%.1f us); 1 MiB copies: "
	       "PASID space %.0f MiB/s, IOVA %.0f MiB/s (space/IOVA %.2f); medians of %d rounds "
	       "(TCG: only ratios mean anything)\n", d.sd.bdf, f.near_us, f.far_us,
	       f.far_minus_near_us, f.pasid_mibps, f.iova_mibps, f.pasid_over_iova, o->rounds);
	bs_dev_close(&d);
	bs_client_stop(&b);
	return 0;
}
