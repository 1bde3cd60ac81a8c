// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libsvmbind-faultinj.so: fail the nth call libsvmbind makes to reach the
 * kernel, without performing it; pass every other call through untouched.
 * Control API and the list of wrapped calls: faultinj.h.
 *
 * Counting only the library's own calls: each wrapper takes its return
 * address and counts the call only if it lies in an executable segment of
 * libsvmbind.so (found once with dl_iterate_phdr). A wrapped call reached by
 * a tail call (jmp to the PLT) carries the return address of the function's
 * caller: still the library for internal functions, the application for an
 * exported one, which would escape; no_tail_calls.sh (CTest) checks there is
 * none of those.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <signal.h>
#include <unistd.h>

#include "faultinj.h"

#define EXPORT __attribute__((visibility("default")))
#define LIBNAME "libsvmbind.so"

static atomic_ulong armed_nth, counted;
static atomic_int armed_err;
static _Atomic(const char *) fired;
static atomic_uintptr_t lib_lo, lib_hi;	/* hi == 0: not found yet */
static bool trace;

static int find_lib(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *base = strrchr(info->dlpi_name, '/');
	uintptr_t lo = UINTPTR_MAX, hi = 0;

	(void)size;
	(void)data;
	base = base ? base + 1 : info->dlpi_name;
	if (strncmp(base, LIBNAME, strlen(LIBNAME)))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (start < lo)
			lo = start;
		if (start + ph->p_memsz > hi)
			hi = start + ph->p_memsz;
	}
	if (!hi)
		return 0;
	atomic_store(&lib_lo, lo);
	atomic_store(&lib_hi, hi);
	return 1;
}

static bool from_lib(const void *ret)
{
	uintptr_t a = (uintptr_t)ret;

	if (!atomic_load(&lib_hi))
		dl_iterate_phdr(find_lib, NULL);
	return a >= atomic_load(&lib_lo) && a < atomic_load(&lib_hi);
}

/* 0: let the call through; else the errno to fail it with. */
static int gate(const char *name, const void *ret)
{
	unsigned long n, nth;

	if (!from_lib(ret))
		return 0;
	n = atomic_fetch_add(&counted, 1) + 1;
	nth = atomic_load(&armed_nth);
	if (trace)
		fprintf(stderr, "faultinj: #%lu %s%s\n", n, name, nth == n ? " FAILED" : "");
	if (nth != n || !atomic_compare_exchange_strong(&armed_nth, &nth, 0))
		return 0;
	atomic_store(&fired, name);
	return atomic_load(&armed_err);
}

EXPORT void faultinj_inject(unsigned long nth, int err)
{
	atomic_store(&armed_nth, 0);
	atomic_store(&counted, 0);
	atomic_store(&fired, NULL);
	atomic_store(&armed_err, err);
	atomic_store(&armed_nth, nth);
}

EXPORT unsigned long faultinj_calls(void)
{
	return atomic_load(&counted);
}

EXPORT const char *faultinj_fired(void)
{
	return atomic_load(&fired);
}

__attribute__((constructor))
static void faultinj_init(void)
{
	const char *nth = getenv("FAULTINJ_NTH"), *err = getenv("FAULTINJ_ERRNO");

	trace = getenv("FAULTINJ_TRACE") && *getenv("FAULTINJ_TRACE") == '1';
	if (nth)
		faultinj_inject(strtoul(nth, NULL, 0), err ? atoi(err) : EIO);
}

/* The next definition of @name (libc's, or a sanitizer's interceptor);
 * atomic, as two threads may look it up at once. */
#define REAL(name)								\
	static _Atomic(__typeof__(&name)) real_;				\
	if (!real_)								\
		real_ = (__typeof__(&name))dlsym(RTLD_NEXT, #name);		\
	if (!real_) {								\
		errno = ENOSYS;							\
		return FAILED_;							\
	}

/* Fail here, not performed, when this is the armed call. */
#define GATE(name)								\
	do {									\
		int e_ = gate(name, __builtin_return_address(0));		\
		if (e_) {							\
			errno = e_;						\
			return FAILED_;						\
		}							\
	} while (0)

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

#define FAILED_ -1

#define WRAP_OPEN(name)								\
EXPORT int name(const char *path, int flags, ...)				\
{										\
	va_list ap;								\
	mode_t mode;								\
	REAL(name);								\
	GATE(#name);								\
	va_start(ap, flags);							\
	mode = mode_arg(flags, ap);						\
	va_end(ap);								\
	return real_(path, flags, mode);					\
}
WRAP_OPEN(open)
WRAP_OPEN(open64)

#define WRAP_OPENAT(name)							\
EXPORT int name(int dirfd, const char *path, int flags, ...)			\
{										\
	va_list ap;								\
	mode_t mode;								\
	REAL(name);								\
	GATE(#name);								\
	va_start(ap, flags);							\
	mode = mode_arg(flags, ap);						\
	va_end(ap);								\
	return real_(dirfd, path, flags, mode);					\
}
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)

/* _FORTIFY_SOURCE entry points. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
ssize_t __readlink_chk(const char *path, char *buf, size_t n, size_t buflen);

EXPORT int __open_2(const char *path, int flags)
{
	REAL(__open_2);
	GATE("__open_2");
	return real_(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
	REAL(__open64_2);
	GATE("__open64_2");
	return real_(path, flags);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	REAL(__openat_2);
	GATE("__openat_2");
	return real_(dirfd, path, flags);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	REAL(__openat64_2);
	GATE("__openat64_2");
	return real_(dirfd, path, flags);
}

/* Performed, then failed: Linux frees the descriptor whatever close reports. */
EXPORT int close(int fd)
{
	int e, ret;

	REAL(close);
	e = gate("close", __builtin_return_address(0));
	ret = real_(fd);
	if (e) {
		errno = e;
		return -1;
	}
	return ret;
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	REAL(read);
	GATE("read");
	return real_(fd, buf, n);
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	REAL(__read_chk);
	GATE("__read_chk");
	return real_(fd, buf, n, buflen);
}

EXPORT ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	REAL(pread);
	GATE("pread");
	return real_(fd, buf, n, off);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t n, off64_t off)
{
	REAL(pread64);
	GATE("pread64");
	return real_(fd, buf, n, off);
}

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	REAL(__pread_chk);
	GATE("__pread_chk");
	return real_(fd, buf, n, off, buflen);
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen)
{
	REAL(__pread64_chk);
	GATE("__pread64_chk");
	return real_(fd, buf, n, off, buflen);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);
	GATE("write");
	return real_(fd, buf, n);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(pwrite);
	GATE("pwrite");
	return real_(fd, buf, n, off);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	REAL(pwrite64);
	GATE("pwrite64");
	return real_(fd, buf, n, off);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	REAL(ioctl);
	GATE("ioctl");
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	return real_(fd, req, arg);
}

EXPORT ssize_t readlink(const char *path, char *buf, size_t n)
{
	REAL(readlink);
	GATE("readlink");
	return real_(path, buf, n);
}

EXPORT ssize_t __readlink_chk(const char *path, char *buf, size_t n, size_t buflen)
{
	REAL(__readlink_chk);
	GATE("__readlink_chk");
	return real_(path, buf, n, buflen);
}

EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
	REAL(readlinkat);
	GATE("readlinkat");
	return real_(dirfd, path, buf, n);
}

EXPORT int munmap(void *addr, size_t len)
{
	REAL(munmap);
	GATE("munmap");
	return real_(addr, len);
}

EXPORT int madvise(void *addr, size_t len, int advice)
{
	REAL(madvise);
	GATE("madvise");
	return real_(addr, len, advice);
}

EXPORT int getrlimit(__rlimit_resource_t res, struct rlimit *rl)
{
	REAL(getrlimit);
	GATE("getrlimit");
	return real_(res, rl);
}

EXPORT int getrlimit64(__rlimit_resource_t res, struct rlimit64 *rl)
{
	REAL(getrlimit64);
	GATE("getrlimit64");
	return real_(res, rl);
}

EXPORT ssize_t getrandom(void *buf, size_t n, unsigned int flags)
{
	REAL(getrandom);
	GATE("getrandom");
	return real_(buf, n, flags);
}

EXPORT long syscall(long nr, ...)
{
	va_list ap;
	long a[6];

	REAL(syscall);
	GATE("syscall");
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	return real_(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	REAL(fcntl);
	GATE("fcntl");
	va_start(ap, cmd);
	arg = va_arg(ap, void *);	/* int or pointer: the same register either way */
	va_end(ap);
	return real_(fd, cmd, arg);
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	REAL(fcntl64);
	GATE("fcntl64");
	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return real_(fd, cmd, arg);
}

#define WRAP_STAT(name, first, st)						\
EXPORT int name(first, struct st *buf)						\
{										\
	REAL(name);								\
	GATE(#name);								\
	return real_(arg, buf);							\
}
WRAP_STAT(stat, const char *arg, stat)
WRAP_STAT(stat64, const char *arg, stat64)
WRAP_STAT(lstat, const char *arg, stat)
WRAP_STAT(lstat64, const char *arg, stat64)
WRAP_STAT(fstat, int arg, stat)
WRAP_STAT(fstat64, int arg, stat64)

EXPORT int prctl(int option, ...)
{
	va_list ap;
	unsigned long a[4];

	REAL(prctl);
	GATE("prctl");
	va_start(ap, option);
	for (int i = 0; i < 4; i++)
		a[i] = va_arg(ap, unsigned long);
	va_end(ap);
	return real_(option, a[0], a[1], a[2], a[3]);
}

EXPORT int kill(pid_t pid, int sig)
{
	REAL(kill);
	GATE("kill");
	return real_(pid, sig);
}

#undef FAILED_
#define FAILED_ MAP_FAILED

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	REAL(mmap);
	GATE("mmap");
	return real_(addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	REAL(mmap64);
	GATE("mmap64");
	return real_(addr, len, prot, flags, fd, off);
}

#undef FAILED_
#define FAILED_ NULL

EXPORT FILE *fopen(const char *path, const char *mode)
{
	REAL(fopen);
	GATE("fopen");
	return real_(path, mode);
}

EXPORT FILE *fopen64(const char *path, const char *mode)
{
	REAL(fopen64);
	GATE("fopen64");
	return real_(path, mode);
}

EXPORT DIR *opendir(const char *path)
{
	REAL(opendir);
	GATE("opendir");
	return real_(path);
}

EXPORT DIR *fdopendir(int fd)
{
	REAL(fdopendir);
	GATE("fdopendir");
	return real_(fd);
}

#undef FAILED_
#define FAILED_ -1

/* As close: performed, then failed. */
EXPORT int closedir(DIR *dir)
{
	int e, ret;

	REAL(closedir);
	e = gate("closedir", __builtin_return_address(0));
	ret = real_(dir);
	if (e) {
		errno = e;
		return -1;
	}
	return ret;
}
