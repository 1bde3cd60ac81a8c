// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The public types, as a caller compiles them in: one exported object of
 * every struct, enum and typedef that svmbind.h and vfio_svm.h define, so
 * that abidw records their layout and every enumerator value. Many of them
 * (the error codes, the dialects, the flags) never appear in a function's
 * signature, so the library's own ABI dump would not see them change.
 * abi/check.sh builds this into a throw-away shared object; it fails if a
 * struct or enum of svmbind.h is missing here.
 */
#include <svmbind/svmbind.h>

#define SURFACE __attribute__((visibility("default"), used))

SURFACE enum svmbind_error svmbind_abi_error;
SURFACE enum svmbind_log_level svmbind_abi_log_level;
SURFACE enum svmbind_dma_flags svmbind_abi_dma_flags;
SURFACE enum svmbind_dialect svmbind_abi_dialect;
SURFACE enum svmbind_probe_flags svmbind_abi_probe_flags;
SURFACE enum svmbind_backend svmbind_abi_backend;
SURFACE enum svmbind_ctx_flags svmbind_abi_ctx_flags;
SURFACE svmbind_log_fn svmbind_abi_log_fn;
SURFACE struct svmbind_ctx_opts svmbind_abi_ctx_opts;
SURFACE struct svmbind_device_opts svmbind_abi_device_opts;
SURFACE struct svmbind_region_info svmbind_abi_region_info;
SURFACE struct svmbind_bond svmbind_abi_bond;
SURFACE struct svmbind_sys_probe svmbind_abi_sys_probe;
SURFACE struct svmbind_dev_probe svmbind_abi_dev_probe;
SURFACE struct vfio_device_svm svmbind_abi_vfio_device_svm;
