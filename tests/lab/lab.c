// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The lab's entry points (lab.h): a real kernel, set up by the environment (lab_real.c). */
#include <dirent.h>

#include "lab.h"
#include "lab_backends.h"

int lab_open(void) { return lab_real_open(); }
const char *lab_dev(unsigned int i) { return lab_real_dev(i); }
int lab_reset(void) { return lab_real_reset(); }
int lab_set_param(const char *name, long value) { return lab_real_set_param(name, value); }
int lab_get_param(const char *name, long *value) { return lab_real_get_param(name, value); }
int lab_set_yama(int scope) { return lab_real_set_yama(scope); }
int lab_bind_driver(const char *bdf, const char *which) { return lab_real_bind_driver(bdf, which); }

int lab_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int lab_count_fds(void)
{
	int n = lab_count_entries("/proc/self/fd");

	return n < 0 ? n : n - 1;	/* the DIR's own fd */
}
