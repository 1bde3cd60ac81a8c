// SPDX-License-Identifier: GPL-2.0-only
/*
 * svmref_sva.c: real SVA bonds for the svm-dma test device (our QEMU,
 * tests/vm/qemu/, PCI id 1234:5356). #included by svmref.c, so the module
 * stays one object and one Kbuild line.
 *
 * For that device, a NEW bond (svmref_bond_get) first binds the target's mm
 * with iommu_sva_bind_device(): from then on the IOMMU translates the
 * device's PASID-tagged requests through that mm's own page tables. The
 * bond then takes exactly the IOMMU's PASID (iommu_sva_get_pasid(); on x86
 * it is the mm's one PASID, the same on every device) instead of one from
 * the device's IDA range. The last reference of the bond, its mm's death
 * (exit, exec: reaped by the existing work item) and the last close of the
 * device fd all end in svmref_bonds_free(), which unbinds it.
 *
 * Every other device (edu), and kernels where the IOMMU core still wants
 * iommu_dev_enable_feature(SVA) first or binds with a drvdata argument
 * (before 6.2: Debian 12's 6.1), keep the emulated bond. Only Linux 7.3 is
 * tested.
 */
#include <linux/iommu.h>

#define SVMREF_SVA_VENDOR	0x1234
#define SVMREF_SVA_DEVICE	0x5356

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0) && !defined(SVMREF_HAVE_DEV_FEATURE)
#define SVMREF_REAL_SVA 1
#endif

/* True for a device whose bonds are real SVA bonds. */
static bool svmref_sva_device(struct pci_dev *pdev)
{
	return IS_ENABLED(SVMREF_REAL_SVA) && IS_ENABLED(CONFIG_IOMMU_SVA) &&
	       pdev->vendor == SVMREF_SVA_VENDOR && pdev->device == SVMREF_SVA_DEVICE;
}

/*
 * Before a new bond on @mm (the caller holds mm_users): on an SVA device,
 * bind @mm for real and narrow [*min, *max] to the IOMMU's PASID. Returns 0
 * (*handle stays NULL when the device is not an SVA device) or the IOMMU's
 * negative errno (-ENODEV: the IOMMU is not SVA-capable; -EINVAL: PASID or
 * ATS not enabled on the device; -ENOSPC, -ENOMEM, ...).
 */
static int svmref_sva_bind(struct pci_dev *pdev, struct mm_struct *mm,
			   void **handle, unsigned int *min, unsigned int *max)
{
	*handle = NULL;
	if (!svmref_sva_device(pdev))
		return 0;
#ifdef SVMREF_REAL_SVA
	{
		struct iommu_sva *sva = iommu_sva_bind_device(&pdev->dev, mm);
		u32 pasid;

		if (IS_ERR(sva)) {
			pci_info_ratelimited(pdev, "svmref: iommu_sva_bind_device: %ld\n",
					     PTR_ERR(sva));
			return PTR_ERR(sva);
		}
		pasid = iommu_sva_get_pasid(sva);
		if (pasid == IOMMU_PASID_INVALID || pasid > INT_MAX) {
			iommu_sva_unbind_device(sva);
			return -ENOSPC;
		}
		*handle = sva;
		*min = *max = pasid;
	}
#endif
	return 0;
}

/* Undoes svmref_sva_bind(); NULL is nothing. Sleeps: no lock of ours held. */
static void svmref_sva_unbind(void *handle)
{
#ifdef SVMREF_REAL_SVA
	if (handle)
		iommu_sva_unbind_device(handle);
#endif
}
