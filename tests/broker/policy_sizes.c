// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The policy's list sizes where size_t is 32 bits (#18.11): lib/broker/policy.c
 * compiled into this program, no kernel, no library. Counts whose byte size
 * does not fit a size_t are refused before any allocation or copy; before, the
 * multiplication wrapped, a few bytes were allocated and the count kept.
 * Meaningful only in a 32-bit build (exits 77 elsewhere):
 *   cc -m32 -D_GNU_SOURCE -Iinclude -IBUILD_M32/include -Ilib/broker \
 *      tests/broker/policy_sizes.c lib/broker/policy.c -o policy_sizes && ./policy_sizes
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "broker_internal.h"

void svmbind__log(enum svmbind_log_level level, const char *fmt, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int main(void)
{
	uid_t one_uid = 1000;
	gid_t one_gid = 1000;
	struct svmbind_broker_opts o = { .sz = sizeof(o) };
	struct sb_policy p;
	int ret, failed = 0;

	if (SIZE_MAX / sizeof(uid_t) >= UINT32_MAX) {
		fprintf(stderr, "policy_sizes: size_t holds any count here: only a 32-bit build can wrap\n");
		return 77;
	}
	/* 0x40000001 * 4 wraps to 4 in 32 bits */
	o.allow_uids = &one_uid;
	o.nr_allow_uids = 0x40000001u;
	ret = sb_policy_init(&p, &o);
	if (ret != -EOVERFLOW) {
		fprintf(stderr, "FAIL: nr_allow_uids 0x40000001: %d, want -EOVERFLOW (kept %u uids)\n", ret,
			ret ? 0 : p.nr_uids);
		failed++;
	}
	o.nr_allow_uids = 0;
	o.allow_gids = &one_gid;
	o.nr_allow_gids = 0x40000002u;
	ret = sb_policy_init(&p, &o);
	if (ret != -EOVERFLOW) {
		fprintf(stderr, "FAIL: nr_allow_gids 0x40000002: %d, want -EOVERFLOW\n", ret);
		failed++;
	}
	o.nr_allow_gids = 1;	/* an ordinary list still works */
	ret = sb_policy_init(&p, &o);
	if (ret || p.nr_gids != 1 || p.gids[0] != one_gid) {
		fprintf(stderr, "FAIL: one gid: %d\n", ret);
		failed++;
	} else {
		sb_policy_fini(&p);
	}
	printf("policy_sizes: %s\n", failed ? "FAIL" : "PASS");
	return failed ? 1 : 0;
}
