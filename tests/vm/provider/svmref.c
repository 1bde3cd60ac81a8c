// SPDX-License-Identifier: GPL-2.0-only
/*
 * svmref: the reference SVM provider for libsvmbind's VM tests.
 *
 * A vfio-pci variant driver ("svmref-vfio-pci") that answers the seed RFC's
 * VFIO_DEVICE_BIND_TASK / VFIO_DEVICE_UNBIND_TASK on the device fd, plus the
 * test-only SVMREF_DEVICE_PASID_DMA that emulates a PASID-tagged device DMA
 * (QEMU has no device with a PASID capability). The contract is
 * include/svmbind/vfio_svm.h and tests/lab/svmref_uapi.h; both are included
 * here so the module and the library cannot drift apart.
 *
 * TEST-ONLY. This module is not a driver for real hardware: no IOMMU PASID
 * table is programmed. A bond pins the struct mm_struct (mm_count, never
 * mm_users), and an mmu_notifier tells us when the address space dies.
 *
 * Locking:
 *   svmref_device.lock (mutex) protects the bond list, each bond's refs and
 *   the PASID IDA; BIND, UNBIND, the DMA lookup, the reaper and close_device
 *   take it. Order: svmref_device.lock -> mmap_lock (mmu_notifier_register).
 *   The mmu_notifier .release callback takes no lock of ours: it only sets
 *   the bond's DEAD bit (test_and_set_bit, so the live-bond count drops
 *   exactly once) and queues the reaper. It may run from exit_mmap() or from
 *   inside mmu_notifier_unregister(), hence the rule.
 *   mmu_notifier_unregister() (synchronize_srcu) and mmput() are always
 *   called with no lock of ours held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/cpufeature.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vfio.h>
#include <linux/vfio_pci_core.h>
#include <linux/workqueue.h>

#include <svmbind/vfio_svm.h>	/* include/ of the library: the seed UAPI */
#include "svmref_uapi.h"	/* tests/lab/: parameters and the DMA ioctl */
#include "svmref_sva.c"		/* real SVA bonds for the svm-dma device */

/*
 * Kernel API differences between Debian's 6.1 and newer kernels (7.3 here).
 * The vfio_device_ops members are detected by Kbuild (it greps the kernel's
 * include/linux/vfio.h), because distributions backport them; the rest goes
 * by version.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define svmref_gup_remote(mm, addr, flags, page) \
	get_user_pages_remote(mm, addr, 1, flags, page, NULL)
#else
#define svmref_gup_remote(mm, addr, flags, page) \
	get_user_pages_remote(mm, addr, 1, flags, page, NULL, NULL)
#endif

/* ---------------------------------------------------------------------- */
/* Module parameters                                                       */

static int dialect = SVMREF_DIALECT_PID;
static unsigned int pasid_min = 1;
static unsigned int pasid_max = 1023;
static atomic_t svmref_live_bonds = ATOMIC_INIT(0);

static int dialect_set(const char *val, const struct kernel_param *kp)
{
	int v, ret;

	ret = kstrtoint(val, 0, &v);
	if (ret)
		return ret;
	if (v < SVMREF_DIALECT_NONE || v > SVMREF_DIALECT_PID)
		return -EINVAL;
	WRITE_ONCE(*(int *)kp->arg, v);
	return 0;
}

static const struct kernel_param_ops dialect_ops = {
	.set = dialect_set,
	.get = param_get_int,
};
module_param_cb(dialect, &dialect_ops, &dialect, 0644);
MODULE_PARM_DESC(dialect,
		 "0: no SVM bind (-ENOTTY, as stock vfio-pci); 1: bind self only (minsz 12, no flags); 2: the seed (minsz 16, VFIO_SVM_PID) [2]");

module_param(pasid_min, uint, 0644);
MODULE_PARM_DESC(pasid_min, "First PASID handed out on each device [1]");
module_param(pasid_max, uint, 0644);
MODULE_PARM_DESC(pasid_max, "Last PASID handed out on each device; a full range is -ENOSPC [1023]");

/* Test-only: UNBIND refusals a real IOMMU or device may answer. */
static unsigned int unbind_refuse;
module_param(unbind_refuse, uint, 0644);
MODULE_PARM_DESC(unbind_refuse,
		 "0: UNBIND as usual; 1: UNBIND without a release flag is -EINVAL (an IOMMU that insists on one); 2: every UNBIND is -EBUSY [0]");

static int bonds_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&svmref_live_bonds));
}

static int bonds_set(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static const struct kernel_param_ops bonds_ops = {
	.set = bonds_set,
	.get = bonds_get,
};
module_param_cb(bonds, &bonds_ops, NULL, 0444);
MODULE_PARM_DESC(bonds, "Live bonds across all devices (read-only)");

/* ---------------------------------------------------------------------- */
/* ptrace_may_access(), resolved at load (it is not exported)               */

typedef bool (*svmref_ptrace_may_access_t)(struct task_struct *task,
					   unsigned int mode);
static svmref_ptrace_may_access_t svmref_ptrace_may_access;

#define SVMREF_ENDBR64		0xfa1e0ff3U	/* f3 0f 1e fa, read as a LE u32 */
/*
 * What objtool-sealed ENDBRs become at boot (arch/x86 alternative.c,
 * gen_endbr_poison()): a 4-byte NOP, "nopl -42(%rax)" on recent kernels,
 * "osp nop3" on the first IBT kernels.
 */
#define SVMREF_ENDBR_POISON	0xd6401f0fU	/* 0f 1f 40 d6 */
#define SVMREF_ENDBR_POISON_OLD	0x001f0f66U	/* 66 0f 1f 00 */

static bool svmref_is_sealed_endbr(u32 insn)
{
	return insn == SVMREF_ENDBR_POISON || insn == SVMREF_ENDBR_POISON_OLD;
}

/* The first 4 bytes at @addr as a little-endian u32; false if unreadable. */
static bool svmref_text_u32(const void *addr, u32 *val)
{
	return !copy_from_kernel_nofault(val, addr, sizeof(*val));
}

/* Test hook: decide as if the CPU enforced IBT (TCG has no IBT to enforce). */
static bool ibt_assume_enforced;
module_param(ibt_assume_enforced, bool, 0444);
MODULE_PARM_DESC(ibt_assume_enforced,
		 "Test only: take the load-time IBT decision as if the CPU enforced IBT [N]");

/* Whether the CPU enforces IBT for the kernel now (no CPU that TCG emulates does). */
static bool svmref_ibt_enforced(void)
{
	if (ibt_assume_enforced)
		return true;
#if defined(CONFIG_X86) && defined(X86_FEATURE_IBT)
	return cpu_feature_enabled(X86_FEATURE_IBT);
#else
	return false;
#endif
}

/*
 * Load-time decision: is an indirect call to @fn safe on this kernel and CPU?
 * - kCFI (CONFIG_CFI_CLANG, CONFIG_CFI): the call site checks a type hash
 *   before the target that an unexported, never-indirectly-called function
 *   need not have: refuse.
 * - IBT built in and enforced by the CPU: the target must start with a real
 *   ENDBR64. objtool "seals" functions that are never called indirectly (the
 *   ENDBR becomes a NOP at boot), and an indirect call to one traps (#CP).
 * - IBT not built in, or not enforced (no CPU support, ibt=off, TCG): safe;
 *   a sealed ENDBR is a plain NOP then.
 */
static int svmref_check_indirect_call(const void *fn)
{
	bool ibt_built = IS_ENABLED(CONFIG_X86_KERNEL_IBT);
	bool ibt_on = ibt_built && svmref_ibt_enforced();
	u32 insn = 0;
	bool readable = svmref_text_u32(fn, &insn);

	if (IS_ENABLED(CONFIG_CFI_CLANG) || IS_ENABLED(CONFIG_CFI)) {
		pr_err("this kernel has kCFI: an indirect call to ptrace_may_access() (%pS) would trap; svmref cannot load here\n",
		       fn);
		return -EOPNOTSUPP;
	}
	if (ibt_on && (!readable || insn != SVMREF_ENDBR64)) {
		pr_err("IBT is enforced%s and ptrace_may_access() (%pS) does not start with ENDBR64 (first bytes %08x%s): an indirect call would trap (#CP); boot with ibt=off to use svmref\n",
		       ibt_assume_enforced ? " (ibt_assume_enforced=1)" : "",
		       fn, insn, readable ? "" : ", unreadable");
		return -EOPNOTSUPP;
	}
	pr_info("ptrace_may_access at %pS: IBT %s%s, entry %s: indirect call is safe\n",
		fn, ibt_built ? "built in" : "not built in",
		ibt_built ? (ibt_on ? " and enforced" : " but not enforced by this CPU") : "",
		!readable ? "unreadable" :
		insn == SVMREF_ENDBR64 ? "ENDBR64" :
		svmref_is_sealed_endbr(insn) ? "sealed (ENDBR turned NOP)" : "plain");
	return 0;
}

static int svmref_resolve_ptrace_may_access(void)
{
	struct kprobe kp = { .symbol_name = "ptrace_may_access" };
	const u8 *addr;
	u32 before;
	int ret;

	ret = register_kprobe(&kp);
	if (ret) {
		pr_err("cannot resolve ptrace_may_access through a kprobe: %d (needs CONFIG_KPROBES and kallsyms)\n",
		       ret);
		return ret;
	}
	addr = (const u8 *)kp.addr;
	unregister_kprobe(&kp);
	if (!addr)
		return -ENOENT;
	/*
	 * On x86 with IBT the kprobe sits after the function's ENDBR64 (or its
	 * sealed NOP): arch_adjust_kprobe_addr() moves it 4 bytes in. The
	 * function itself starts there.
	 */
	if (IS_ENABLED(CONFIG_X86_KERNEL_IBT) && svmref_text_u32(addr - 4, &before) &&
	    (before == SVMREF_ENDBR64 || svmref_is_sealed_endbr(before)))
		addr -= 4;
	ret = svmref_check_indirect_call(addr);
	if (ret)
		return ret;
	svmref_ptrace_may_access = (svmref_ptrace_may_access_t)addr;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Devices and bonds                                                       */

struct svmref_device {
	struct vfio_pci_core_device core_device;	/* first: vfio_alloc_device */
	struct mutex lock;		/* bonds, bond->refs, pasids */
	struct list_head bonds;
	struct ida pasids;
	struct work_struct reap_work;	/* frees bonds whose mm died */
};

#define SVMREF_BOND_DEAD	0

struct svmref_bond {
	struct list_head node;		/* sdev->bonds, or a local graveyard */
	struct mmu_notifier mn;
	struct svmref_device *sdev;
	struct mm_struct *mm;		/* mmgrab()ed: the struct, not the space */
	unsigned long flags;		/* SVMREF_BOND_DEAD */
	unsigned int refs;		/* BINDs not yet UNBound; sdev->lock */
	u32 pasid;
	void *sva;			/* real SVA bond (svmref_sva.c) or NULL */
};

static struct svmref_device *to_svmref(struct vfio_device *vdev)
{
	return container_of(vdev, struct svmref_device, core_device.vdev);
}

/* Marks the bond dead; true for the one caller that did it. Any context. */
static bool svmref_bond_kill(struct svmref_bond *bond)
{
	if (test_and_set_bit(SVMREF_BOND_DEAD, &bond->flags))
		return false;
	atomic_dec(&svmref_live_bonds);
	return true;
}

static bool svmref_bond_live(struct svmref_bond *bond)
{
	return !test_bit(SVMREF_BOND_DEAD, &bond->flags);
}

/*
 * The mm is being torn down (exit, or exec replacing it), or we unregister.
 * Runs under SRCU, possibly inside mmu_notifier_unregister() called by us:
 * take no lock of ours here.
 */
static void svmref_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct svmref_bond *bond = container_of(mn, struct svmref_bond, mn);

	if (svmref_bond_kill(bond))
		schedule_work(&bond->sdev->reap_work);
}

static const struct mmu_notifier_ops svmref_mn_ops = {
	.release = svmref_mn_release,
};

/* Takes the bond off the device (PASID reusable at once). sdev->lock held. */
static void svmref_bond_detach(struct svmref_device *sdev,
			       struct svmref_bond *bond,
			       struct list_head *graveyard)
{
	lockdep_assert_held(&sdev->lock);
	list_move_tail(&bond->node, graveyard);
	ida_free(&sdev->pasids, bond->pasid);
	svmref_bond_kill(bond);
}

/* Detaches every dead bond of the device. sdev->lock held. */
static void svmref_reap_locked(struct svmref_device *sdev,
			       struct list_head *graveyard)
{
	struct svmref_bond *bond, *tmp;

	list_for_each_entry_safe(bond, tmp, &sdev->bonds, node)
		if (!svmref_bond_live(bond))
			svmref_bond_detach(sdev, bond, graveyard);
}

/* Frees detached bonds. No lock of ours held: unregister sleeps in SRCU. */
static void svmref_bonds_free(struct list_head *graveyard)
{
	struct svmref_bond *bond, *tmp;

	list_for_each_entry_safe(bond, tmp, graveyard, node) {
		list_del(&bond->node);
		mmu_notifier_unregister(&bond->mn, bond->mm);
		svmref_sva_unbind(bond->sva);
		mmdrop(bond->mm);
		kfree(bond);
	}
}

static void svmref_reap_work(struct work_struct *work)
{
	struct svmref_device *sdev =
		container_of(work, struct svmref_device, reap_work);
	LIST_HEAD(graveyard);

	mutex_lock(&sdev->lock);
	svmref_reap_locked(sdev, &graveyard);
	mutex_unlock(&sdev->lock);
	svmref_bonds_free(&graveyard);
}

static struct svmref_bond *svmref_find_pasid(struct svmref_device *sdev,
					     u32 pasid)
{
	struct svmref_bond *bond;

	lockdep_assert_held(&sdev->lock);
	list_for_each_entry(bond, &sdev->bonds, node)
		if (bond->pasid == pasid && svmref_bond_live(bond))
			return bond;
	return NULL;
}

/*
 * Binds @mm (the caller holds an mm_users reference, so it cannot be torn
 * down meanwhile) and returns its PASID, or a negative errno.
 */
static int svmref_bond_get(struct svmref_device *sdev, struct mm_struct *mm)
{
	struct svmref_bond *bond;
	LIST_HEAD(graveyard);
	unsigned int min, max;
	int ret;

	mutex_lock(&sdev->lock);
	svmref_reap_locked(sdev, &graveyard);

	list_for_each_entry(bond, &sdev->bonds, node) {
		if (bond->mm == mm && svmref_bond_live(bond)) {
			if (bond->refs == UINT_MAX) {
				ret = -EOVERFLOW;
			} else {
				bond->refs++;
				ret = bond->pasid;
			}
			goto out_unlock;
		}
	}

	min = READ_ONCE(pasid_min);
	max = min_t(unsigned int, READ_ONCE(pasid_max), INT_MAX);
	if (min > max) {
		ret = -ENOSPC;
		goto out_unlock;
	}

	bond = kzalloc(sizeof(*bond), GFP_KERNEL);
	if (!bond) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	ret = svmref_sva_bind(sdev->core_device.pdev, mm, &bond->sva, &min, &max);
	if (ret)
		goto out_free;

	ret = ida_alloc_range(&sdev->pasids, min, max, GFP_KERNEL);
	if (ret < 0)
		goto out_free;	/* -ENOSPC when the range is full, or -ENOMEM */

	bond->pasid = ret;
	bond->sdev = sdev;
	bond->refs = 1;
	bond->mm = mm;
	mmgrab(mm);
	bond->mn.ops = &svmref_mn_ops;

	/*
	 * Count it live before it can die: .release may fire as soon as our
	 * caller drops its mm_users reference.
	 */
	atomic_inc(&svmref_live_bonds);
	ret = mmu_notifier_register(&bond->mn, mm);
	if (ret) {
		atomic_dec(&svmref_live_bonds);
		ida_free(&sdev->pasids, bond->pasid);
		mmdrop(mm);
		goto out_free;
	}
	list_add_tail(&bond->node, &sdev->bonds);
	ret = bond->pasid;
	goto out_unlock;

out_free:
	svmref_sva_unbind(bond->sva);
	kfree(bond);
out_unlock:
	mutex_unlock(&sdev->lock);
	svmref_bonds_free(&graveyard);
	return ret;
}

/*
 * Drops one reference on the live bond named by @pasid; if @mm is not NULL,
 * only if the bond is on that mm. 0 or -ESRCH.
 */
static int svmref_bond_put(struct svmref_device *sdev, u32 pasid,
			   struct mm_struct *mm)
{
	struct svmref_bond *bond;
	LIST_HEAD(graveyard);
	int ret = 0;

	mutex_lock(&sdev->lock);
	svmref_reap_locked(sdev, &graveyard);
	bond = svmref_find_pasid(sdev, pasid);
	if (!bond || (mm && bond->mm != mm))
		ret = -ESRCH;
	else if (!--bond->refs)
		svmref_bond_detach(sdev, bond, &graveyard);
	mutex_unlock(&sdev->lock);
	svmref_bonds_free(&graveyard);
	return ret;
}

/* Releases every bond of the device (close of the last device fd). */
static void svmref_release_all(struct svmref_device *sdev)
{
	struct svmref_bond *bond, *tmp;
	LIST_HEAD(graveyard);

	mutex_lock(&sdev->lock);
	list_for_each_entry_safe(bond, tmp, &sdev->bonds, node)
		svmref_bond_detach(sdev, bond, &graveyard);
	mutex_unlock(&sdev->lock);
	/* After this no .release of ours runs, so nothing queues the reaper. */
	svmref_bonds_free(&graveyard);
	cancel_work_sync(&sdev->reap_work);
}

/* ---------------------------------------------------------------------- */
/* VFIO_DEVICE_BIND_TASK / VFIO_DEVICE_UNBIND_TASK                          */

/*
 * The mm of the task @nr in the caller's pid namespace, as mm_access() does
 * it: under the target's exec_update_lock, so the mm we pin is the one the
 * permission check was made on.
 */
static struct mm_struct *svmref_pid_mm(u32 nr)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;
	int ret;

	if (nr == 0 || nr > INT_MAX)
		return ERR_PTR(-ESRCH);
	pid = find_get_pid(nr);		/* task_active_pid_ns(current) */
	if (!pid)
		return ERR_PTR(-ESRCH);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return ERR_PTR(-ESRCH);

	ret = down_read_killable(&task->signal->exec_update_lock);
	if (ret) {
		mm = ERR_PTR(ret);
		goto out_task;
	}
	mm = get_task_mm(task);		/* NULL: kernel thread or exited */
	if (!mm) {
		mm = ERR_PTR(-ESRCH);
	} else if (mm != current->mm &&
		   !svmref_ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS)) {
		mmput(mm);
		mm = ERR_PTR(-EACCES);
	}
	up_read(&task->signal->exec_update_lock);
out_task:
	put_task_struct(task);
	return mm;
}

static long svmref_ioctl_bind(struct svmref_device *sdev,
			      struct vfio_device_svm __user *uarg, int dia)
{
	size_t minsz = dia == SVMREF_DIALECT_SELF ? VFIO_DEVICE_SVM_MINSZ_NOPID
						 : VFIO_DEVICE_SVM_MINSZ;
	u32 allowed = dia == SVMREF_DIALECT_SELF ? 0 : VFIO_SVM_PID;
	struct vfio_device_svm svm;
	struct mm_struct *mm;
	u32 pasid;
	int ret;

	if (copy_from_user(&svm, uarg, minsz))
		return -EFAULT;
	if (svm.argsz < minsz)
		return -EINVAL;
	if (svm.flags & ~allowed)
		return -EINVAL;

	if (svm.flags & VFIO_SVM_PID) {
		mm = svmref_pid_mm(svm.pid);
		if (IS_ERR(mm))
			return PTR_ERR(mm);
	} else {
		mm = get_task_mm(current);
		if (!mm)
			return -ESRCH;
	}

	ret = svmref_bond_get(sdev, mm);
	if (ret >= 0) {
		pasid = ret;
		ret = 0;
		if (copy_to_user(&uarg->pasid, &pasid, sizeof(pasid))) {
			/* mm_users still held: the bond cannot have died of exit. */
			svmref_bond_put(sdev, pasid, mm);
			ret = -EFAULT;
		}
	}
	/* May be the last user: .release then runs here, with no lock held. */
	mmput(mm);
	return ret;
}

static long svmref_ioctl_unbind(struct svmref_device *sdev,
				struct vfio_device_svm __user *uarg, int dia)
{
	/* The same struct and minsz as BIND (the later revision: same parameters). */
	size_t minsz = dia == SVMREF_DIALECT_SELF ? VFIO_DEVICE_SVM_MINSZ_NOPID
						 : VFIO_DEVICE_SVM_MINSZ;
	struct vfio_device_svm svm;

	if (copy_from_user(&svm, uarg, minsz))
		return -EFAULT;
	if (svm.argsz < minsz)
		return -EINVAL;
	if (svm.flags & ~(VFIO_SVM_PASID_RELEASE_FLUSHED |
			  VFIO_SVM_PASID_RELEASE_CLEAN))
		return -EINVAL;
	if (READ_ONCE(unbind_refuse) == 1 && !svm.flags)
		return -EINVAL;
	if (READ_ONCE(unbind_refuse) >= 2)
		return -EBUSY;
	return svmref_bond_put(sdev, svm.pasid, NULL);
}

/* ---------------------------------------------------------------------- */
/* SVMREF_DEVICE_PASID_DMA (test-only): a device access tagged with a PASID */

/* Copies @len bytes between the user buffer @ubuf of current and @va of @mm. */
static int svmref_access_mm(struct mm_struct *mm, u64 va, u64 ubuf, u64 len,
			    bool write)
{
	unsigned int gup_flags = write ? FOLL_WRITE : 0;
	void *bounce;
	int ret = 0;

	if (!len)
		return 0;
	if (va + len < va || va + len > TASK_SIZE_MAX)
		return -EFAULT;

	bounce = (void *)__get_free_page(GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	while (len) {
		unsigned long off = va & ~PAGE_MASK;
		size_t n = min_t(u64, len, PAGE_SIZE - off);
		void __user *up = u64_to_user_ptr(ubuf);
		struct page *page;
		void *kaddr;
		long got;

		if (write && copy_from_user(bounce, up, n)) {
			ret = -EFAULT;
			break;
		}

		if (mmap_read_lock_killable(mm)) {
			ret = -EINTR;
			break;
		}
		/* No FOLL_FORCE: a device write respects the mapping's protection. */
		got = svmref_gup_remote(mm, va & PAGE_MASK, gup_flags, &page);
		mmap_read_unlock(mm);
		if (got != 1) {
			if (got == -ENOMEM || got == -EINTR || got == -ERESTARTSYS)
				ret = got;
			else
				ret = -EFAULT;
			break;
		}

		kaddr = kmap_local_page(page);
		if (write) {
			memcpy(kaddr + off, bounce, n);
			flush_dcache_page(page);
		} else {
			memcpy(bounce, kaddr + off, n);
		}
		kunmap_local(kaddr);
		if (write)
			set_page_dirty_lock(page);
		put_page(page);

		if (!write && copy_to_user(up, bounce, n)) {
			ret = -EFAULT;
			break;
		}

		va += n;
		ubuf += n;
		len -= n;
		cond_resched();
	}

	free_page((unsigned long)bounce);
	return ret;
}

static long svmref_ioctl_dma(struct svmref_device *sdev,
			     struct svmref_dma __user *uarg)
{
	size_t minsz = offsetofend(struct svmref_dma, buf);
	struct svmref_bond *bond;
	struct mm_struct *mm = NULL;
	struct svmref_dma d;
	int ret;

	if (copy_from_user(&d, uarg, minsz))
		return -EFAULT;
	if (d.argsz < minsz)
		return -EINVAL;
	if (d.flags & ~SVMREF_DMA_WRITE)
		return -EINVAL;
	if (d.len > SVMREF_DMA_MAX)
		return -EINVAL;

	mutex_lock(&sdev->lock);
	bond = svmref_find_pasid(sdev, d.pasid);
	/* Fails once the bound mm is being torn down (exit, exec). */
	if (bond && mmget_not_zero(bond->mm))
		mm = bond->mm;
	mutex_unlock(&sdev->lock);
	if (!mm)
		return -ESRCH;

	ret = svmref_access_mm(mm, d.va, d.buf, d.len,
			       d.flags & SVMREF_DMA_WRITE);
	mmput(mm);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* vfio_device_ops                                                          */

static long svmref_ioctl(struct vfio_device *vdev, unsigned int cmd,
			 unsigned long arg)
{
	struct svmref_device *sdev = to_svmref(vdev);
	void __user *uarg = (void __user *)arg;
	int dia = READ_ONCE(dialect);

	switch (cmd) {
	case VFIO_DEVICE_BIND_TASK:
		if (dia == SVMREF_DIALECT_NONE)
			break;		/* vfio_pci_core_ioctl: -ENOTTY */
		return svmref_ioctl_bind(sdev, uarg, dia);
	case VFIO_DEVICE_UNBIND_TASK:
		if (dia == SVMREF_DIALECT_NONE)
			break;
		return svmref_ioctl_unbind(sdev, uarg, dia);
	case SVMREF_DEVICE_PASID_DMA:
		return svmref_ioctl_dma(sdev, uarg);
	}
	return vfio_pci_core_ioctl(vdev, cmd, arg);
}

static int svmref_init_dev(struct vfio_device *vdev)
{
	struct svmref_device *sdev = to_svmref(vdev);

	mutex_init(&sdev->lock);
	INIT_LIST_HEAD(&sdev->bonds);
	ida_init(&sdev->pasids);
	INIT_WORK(&sdev->reap_work, svmref_reap_work);
	return vfio_pci_core_init_dev(vdev);
}

static void svmref_release_dev(struct vfio_device *vdev)
{
	struct svmref_device *sdev = to_svmref(vdev);

	WARN_ON(!list_empty(&sdev->bonds));
	ida_destroy(&sdev->pasids);
	mutex_destroy(&sdev->lock);
	vfio_pci_core_release_dev(vdev);
}

static int svmref_open_device(struct vfio_device *vdev)
{
	struct vfio_pci_core_device *cdev =
		container_of(vdev, struct vfio_pci_core_device, vdev);
	int ret;

	ret = vfio_pci_core_enable(cdev);
	if (ret)
		return ret;
	vfio_pci_core_finish_enable(cdev);
	return 0;
}

static void svmref_close_device(struct vfio_device *vdev)
{
	svmref_release_all(to_svmref(vdev));
	vfio_pci_core_close_device(vdev);
}

static const struct vfio_device_ops svmref_ops = {
	.name		= SVMREF_DRIVER_NAME,
	.init		= svmref_init_dev,
	.release	= svmref_release_dev,
	.open_device	= svmref_open_device,
	.close_device	= svmref_close_device,
	.ioctl		= svmref_ioctl,
	.device_feature	= vfio_pci_core_ioctl_feature,
	.read		= vfio_pci_core_read,
	.write		= vfio_pci_core_write,
	.mmap		= vfio_pci_core_mmap,
	.request	= vfio_pci_core_request,
	.match		= vfio_pci_core_match,
#ifdef SVMREF_HAVE_REGION_INFO_CAPS	/* GET_REGION_INFO moved out of .ioctl */
	.get_region_info_caps = vfio_pci_ioctl_get_region_info,
#endif
#ifdef SVMREF_HAVE_MATCH_TOKEN_UUID	/* VFIO_DEVICE_BIND_IOMMUFD's token */
	.match_token_uuid = vfio_pci_core_match_token_uuid,
#endif
#ifdef SVMREF_HAVE_BIND_IOMMUFD	/* the cdev path: /dev/vfio/devices/vfioN + /dev/iommu */
	/* NULL stubs when the kernel has no CONFIG_IOMMUFD */
	.bind_iommufd	= vfio_iommufd_physical_bind,
	.unbind_iommufd	= vfio_iommufd_physical_unbind,
	.attach_ioas	= vfio_iommufd_physical_attach_ioas,
	.detach_ioas	= vfio_iommufd_physical_detach_ioas,
#endif
#ifdef SVMREF_HAVE_PASID_ATTACH_IOAS	/* VFIO_DEVICE_ATTACH_IOMMUFD_PT with a PASID */
	.pasid_attach_ioas = vfio_iommufd_physical_pasid_attach_ioas,
	.pasid_detach_ioas = vfio_iommufd_physical_pasid_detach_ioas,
#endif
};

/* ---------------------------------------------------------------------- */
/* PCI driver: bound only through driver_override (no id_table)            */

static int svmref_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct svmref_device *sdev;
	int ret;

	sdev = vfio_alloc_device(svmref_device, core_device.vdev, &pdev->dev,
				 &svmref_ops);
	if (IS_ERR(sdev))
		return PTR_ERR(sdev);

	dev_set_drvdata(&pdev->dev, &sdev->core_device);
	ret = vfio_pci_core_register_device(&sdev->core_device);
	if (ret)
		goto out_put;
	return 0;

out_put:
	vfio_put_device(&sdev->core_device.vdev);
	return ret;
}

static void svmref_remove(struct pci_dev *pdev)
{
	struct vfio_pci_core_device *cdev = dev_get_drvdata(&pdev->dev);

	vfio_pci_core_unregister_device(cdev);
	vfio_put_device(&cdev->vdev);
}

static struct pci_driver svmref_pci_driver = {
	.name			= SVMREF_DRIVER_NAME,
	.id_table		= NULL,	/* driver_override + drivers_probe only */
	.probe			= svmref_probe,
	.remove			= svmref_remove,
	.err_handler		= &vfio_pci_core_err_handlers,
	.driver_managed_dma	= true,
};

static int __init svmref_init(void)
{
	int ret;

	ret = svmref_resolve_ptrace_may_access();
	if (ret)
		return ret;
	return pci_register_driver(&svmref_pci_driver);
}

static void __exit svmref_exit(void)
{
	pci_unregister_driver(&svmref_pci_driver);
	WARN_ON(atomic_read(&svmref_live_bonds));
}

module_init(svmref_init);
module_exit(svmref_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("svmref: test-only reference SVM bind provider (vfio-pci variant driver) for libsvmbind");
