/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The lab: what a test may ask of "the world" around the library (devices,
 * drivers, Yama, provider parameters), whichever VFIO driver the lab is on.
 *
 * The lab is a real kernel (lab_real.c): the QEMU guest of tests/vm/, or any
 * machine that sets the same environment:
 *   SVMBIND_LAB_DEVS         "A,B,C": A and B share an IOMMU group,
 *                            C is alone in its group
 *   SVMBIND_LAB_DRIVER       the VFIO driver the devices are on
 *                            ("svmref-vfio-pci" or "vfio-pci")
 *   SVMBIND_LAB_OTHER_DRIVER a non-VFIO driver that can take a
 *                            lab device (makes its group not viable)
 * Without them, lab_open() returns -ENODEV and the program exits 77 (skipped).
 *
 * Every function returns 0 or a negative errno; -EOPNOTSUPP means "this lab
 * cannot do that" and the case is skipped, never passed.
 */
#ifndef SVMBIND_TEST_LAB_H
#define SVMBIND_TEST_LAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <errno.h>
#include "svmref_uapi.h"

int lab_open(void);

/* i = 0, 1: two devices sharing one IOMMU group; i = 2: a device alone. NULL if absent. */
const char *lab_dev(unsigned int i);

/* Put the world back: lab devices on the lab's VFIO driver, dialect 2, default
 * PASID range, Yama 0 where it exists. Call at the start of every case. */
int lab_reset(void);

/* svmref module parameters (see svmref_uapi.h): dialect, pasid_min, pasid_max, bonds. */
int lab_set_param(const char *name, long value);
int lab_get_param(const char *name, long *value);

/* /proc/sys/kernel/yama/ptrace_scope. -EOPNOTSUPP without Yama (or scope 3 already set). */
int lab_set_yama(int scope);

/* Rebind a lab device: "vfio" (the lab's VFIO driver), "other" (a non-VFIO
 * driver; the group stops being viable) or "none" (unbound). */
int lab_bind_driver(const char *bdf, const char *which);

/* The provider's emulated PASID-tagged DMA (svmref_uapi.h). */
static inline int lab_pasid_dma(int devfd, uint32_t pasid, void *va, void *buf, size_t len, bool write)
{
	struct svmref_dma d = {
		.argsz = sizeof(d), .flags = write ? SVMREF_DMA_WRITE : 0, .pasid = pasid,
		.va = (uintptr_t)va, .len = len, .buf = (uintptr_t)buf,
	};
	return ioctl(devfd, SVMREF_DEVICE_PASID_DMA, &d) ? -errno : 0;
}

/* Open fds of this process (counts /proc/self/fd). */
int lab_count_fds(void);

/* Entries of a directory, "." and ".." and dotfiles aside, or -errno. */
int lab_count_entries(const char *dir);

#endif
