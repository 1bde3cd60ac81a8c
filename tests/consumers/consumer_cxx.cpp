// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
// The same from C++: the header's extern "C" must make the names link.
#include <cstdio>

#include <svmbind/svmbind.h>

int main()
{
	struct svmbind_sys_probe p = {};

	p.sz = sizeof(p);
	std::printf("libsvmbind %s from C++\n", svmbind_version_string());
	if (svmbind_version() != SVMBIND_VERSION)
		return 1;
	return svmbind_probe_system(&p, 0) == 0 ? 0 : 1;
}
