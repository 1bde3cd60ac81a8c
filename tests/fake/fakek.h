/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Control API of the fake kernel (libsvmbind-fakekernel.so, LD_PRELOADed).
 *
 * Tests find these with dlsym(RTLD_DEFAULT, "fakek_version"): when that is
 * NULL the fake is not in the process. Nothing here is libsvmbind API.
 *
 * Every "interposed call" is a call that reached one of the fake's libc
 * wrappers through the PLT: open, open64, openat, openat64 (and their
 * _FORTIFY_SOURCE __*_2 variants), close, read, pread, pread64, pwrite,
 * pwrite64, write, ioctl, mmap, mmap64, munmap, readlink, opendir, readdir,
 * readdir64, closedir, getrlimit, prctl, syscall. Calls from any code in the
 * process count (the library, the test, Check); libc-internal calls that do
 * not go through the PLT (fopen, printf, ...) never do.
 */
#ifndef SVMBIND_FAKEK_H
#define SVMBIND_FAKEK_H

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this control API (bumped when it changes). */
#define FAKEK_VERSION 1u
unsigned fakek_version(void);

/*
 * Fail the nth interposed call from now (1-based) with errno @err, without
 * any side effect; close() is the exception: it closes (and releases the
 * fake object) and then fails, as Linux close() does. nth == 0 disarms.
 * Resets the call counter. Only one fault is armed at a time; it fires once.
 */
void fakek_inject(unsigned long nth, int err);

/* Interposed calls since the last fakek_inject() (or since load). */
unsigned long fakek_calls(void);

/* The fake root directory (SVMBIND_FAKE_ROOT); NULL if the fake is not set up. */
const char *fakek_root(void);

/*
 * Bind @bdf to @driver (NULL = unbind), updating the sysfs links and the
 * /dev/vfio/N group node as the real kernel would. Returns 0 or -errno:
 * -ENODEV unknown device; -EINVAL a VFIO driver for a bridge (vfio-pci
 * refuses non-normal headers); -EBUSY a device fd of it is open in this
 * process (the real kernel would block in remove), or a non-VFIO driver
 * for a device whose group is claimed by a VFIO container (the real probe
 * fails with -EBUSY).
 */
int fakek_set_driver(const char *bdf, const char *driver);

/* Rebuild the default topology, module parameters, Yama 0, no ptracers. */
int fakek_reset(void);

#ifdef __cplusplus
}
#endif

#endif /* SVMBIND_FAKEK_H */
