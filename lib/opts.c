// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Size-prefixed options: older callers pass less, newer ones may pass more if it is zero. */
#include "internal.h"

bool svmbind__opts_valid(const void *opts, size_t user_sz, size_t lib_sz, const char *what)
{
	const unsigned char *p = opts;
	const char *name = !strncmp(what, "struct ", 7) ? what + 7 : what;

	if (user_sz < sizeof(size_t)) {
		pr_err("%s.sz is %zu: set it to sizeof(struct %s)", name, user_sz, name);
		return false;
	}
	for (size_t i = lib_sz; i < user_sz; i++) {
		if (p[i]) {
			pr_err("struct %s has non-zero bytes past the %zu this library knows (byte %zu): "
			       "the caller was built against a newer libsvmbind", name, lib_sz, i);
			return false;
		}
	}
	return true;
}

size_t svmbind__copy_out(void *dst, const void *src, size_t lib_sz)
{
	size_t n;

	memcpy(&n, dst, sizeof(n));	/* the caller's sz, already validated */
	if (n > lib_sz)
		n = lib_sz;
	memcpy(dst, src, n);
	memcpy(dst, &n, sizeof(n));
	return n;
}
