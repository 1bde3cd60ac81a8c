// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * An fd handed to svmbind_ctx_new() with SVMBIND_CTX_ADOPT_FD is the
 * context's from the call on, even when the call fails: every refusal of the
 * options closes it. Through the API, no kernel needed (the options are
 * refused before any VFIO node is touched).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <svmbind/svmbind.h>

#include "pure_tests.h"

static int adoptable(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static void ck_closed(int fd)
{
	ck_assert_msg(fcntl(fd, F_GETFD) == -1 && errno == EBADF, "fd %d was left open", fd);
}

START_TEST(an_adopted_fd_is_closed_whatever_the_options_refusal)
{
	struct {
		struct svmbind_ctx_opts o;
		uint64_t newer;		/* unknown to this library, non-zero */
	} big;
	struct svmbind_ctx_opts o;
	struct svmbind_ctx *ctx = NULL;
	int fd;

	svmbind_set_log(NULL, NULL);
	/* unknown non-zero trailing bytes */
	fd = adoptable();
	big = (__typeof__(big)){ .o = { .sz = sizeof(big), .flags = SVMBIND_CTX_ADOPT_FD, .fd = fd },
				 .newer = 1 };
	ck_assert_int_eq(svmbind_ctx_new(&big.o, &ctx), -EINVAL);
	ck_closed(fd);
	/* an unknown flag next to ADOPT_FD */
	fd = adoptable();
	o = (struct svmbind_ctx_opts){ .sz = sizeof(o), .flags = SVMBIND_CTX_ADOPT_FD | 0x80, .fd = fd };
	ck_assert_int_eq(svmbind_ctx_new(&o, &ctx), -EINVAL);
	ck_closed(fd);
	/* an IOMMU type the library does not know */
	fd = adoptable();
	o = (struct svmbind_ctx_opts){ .sz = sizeof(o), .flags = SVMBIND_CTX_ADOPT_FD, .fd = fd,
				       .iommu_type = 99 };
	ck_assert_int_eq(svmbind_ctx_new(&o, &ctx), -EINVAL);
	ck_closed(fd);
	/* no place to put the context */
	fd = adoptable();
	o = (struct svmbind_ctx_opts){ .sz = sizeof(o), .flags = SVMBIND_CTX_ADOPT_FD, .fd = fd };
	ck_assert_int_eq(svmbind_ctx_new(&o, NULL), -EINVAL);
	ck_closed(fd);
	/* an fd that is neither node (AUTO cannot tell the backend) */
	fd = adoptable();
	ck_assert_int_eq(svmbind_ctx_new(&o, &ctx), -EBADF);
	ck_closed(fd);
	ck_assert_ptr_null(ctx);
}
END_TEST

TCase *tcase_ownership(void)
{
	TCase *tc = tcase_create("ownership");

	tcase_add_test(tc, an_adopted_fd_is_closed_whatever_the_options_refusal);
	return tc;
}
