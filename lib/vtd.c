// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Intel VT-d: what the units' ECAP registers say, a feature counting only if all have it. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "pure.h"

void svmbind__vtd_init(struct svmbind__vtd *v)
{
	v->units = 0;
	v->common = ~(uint64_t)0;
}

int svmbind__vtd_add_unit(struct svmbind__vtd *v, const char *text)
{
	unsigned long long ecap;
	char *end;

	while (*text == ' ')
		text++;
	if (!isxdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	ecap = strtoull(text, &end, 16);
	if (errno)
		return -EINVAL;
	while (*end == '\n' || *end == ' ')
		end++;
	if (*end)
		return -EINVAL;
	v->units++;
	v->common &= ecap;
	return 0;
}

int svmbind__vtd_feature(const struct svmbind__vtd *v, unsigned int bit)
{
	return v->units > 0 && bit < 64 && ((v->common >> bit) & 1);
}
