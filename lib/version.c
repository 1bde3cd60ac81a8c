// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Run-time version of the library (the headers carry the compile-time one). */
#include "internal.h"

#define STR_(x) #x
#define STR(x) STR_(x)

uint32_t svmbind_version(void)
{
	return SVMBIND_VERSION;
}

const char *svmbind_version_string(void)
{
	return STR(SVMBIND_VERSION_MAJOR) "." STR(SVMBIND_VERSION_MINOR) "." STR(SVMBIND_VERSION_PATCH);
}
