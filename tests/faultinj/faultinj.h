/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Control API of the fault injector (libsvmbind-faultinj.so, LD_PRELOADed).
 *
 * A pass-through interposer: every wrapped call reaches the kernel unchanged,
 * except the one armed fault, which fails without being performed. Only calls
 * made from inside libsvmbind.so are counted (the caller's return address is
 * checked against the library's executable segments), so the test's own
 * calls, Check's and libc's never shift the numbering.
 *
 * Wrapped: open open64 openat openat64 __open_2 __open64_2 __openat_2
 * __openat64_2 close read __read_chk pread pread64 __pread_chk __pread64_chk
 * write pwrite pwrite64 ioctl fcntl fcntl64 stat stat64 lstat lstat64 fstat
 * fstat64 mmap mmap64 munmap madvise readlink readlinkat __readlink_chk
 * fopen fopen64 opendir fdopendir closedir getrlimit getrlimit64 getrandom
 * prctl kill syscall. Not wrapped: readdir (it reaches the kernel only when
 * its buffer runs dry), calls made inside libc (fopen's own open), and the
 * broker's sockets, epoll, eventfd and timerfd. A failed close/closedir is the one exception to "not performed":
 * Linux releases the descriptor even when close reports an error, so the
 * wrapper closes, then fails.
 *
 * Tests find these with dlsym(RTLD_DEFAULT, ...) or weak references; without
 * the API, FAULTINJ_NTH=n FAULTINJ_ERRNO=e arm one fault at load, and
 * FAULTINJ_TRACE=1 prints every counted call to stderr.
 */
#ifndef SVMBIND_FAULTINJ_H
#define SVMBIND_FAULTINJ_H

#ifdef __cplusplus
extern "C" {
#endif

/* Fail the nth counted call from now (1-based) with errno @err; 0 disarms.
 * Resets the counter and forgets the last fired fault. Fires once. */
void faultinj_inject(unsigned long nth, int err);

/* Counted calls since the last faultinj_inject() (or since load). */
unsigned long faultinj_calls(void);

/* Name of the call the armed fault failed ("ioctl", ...), NULL if it has not fired. */
const char *faultinj_fired(void);

#ifdef __cplusplus
}
#endif

#endif
