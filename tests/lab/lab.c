// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The lab dispatcher: the fake kernel if it is in the process, else a real one. */
#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>

#include "lab.h"
#include "lab_backends.h"

static enum lab_kind kind;

int lab_open(void)
{
	int ret;

	if (kind)
		return 0;
	if (dlsym(RTLD_DEFAULT, "fakek_version")) {
		ret = lab_fake_open();
		if (!ret)
			kind = LAB_FAKE;
		return ret;
	}
	if (getenv("SVMBIND_LAB_DEVS")) {
		ret = lab_real_open();
		if (!ret)
			kind = LAB_REAL;
		return ret;
	}
	return -ENODEV;
}

enum lab_kind lab_kind(void)
{
	return kind;
}

const char *lab_kind_name(void)
{
	return kind == LAB_FAKE ? "fake kernel" : kind == LAB_REAL ? "real kernel" : "no lab";
}

#define DISPATCH(fn, ...) (kind == LAB_FAKE ? lab_fake_##fn(__VA_ARGS__) : \
			   kind == LAB_REAL ? lab_real_##fn(__VA_ARGS__) : -ENODEV)

const char *lab_dev(unsigned int i)
{
	return kind == LAB_FAKE ? lab_fake_dev(i) : kind == LAB_REAL ? lab_real_dev(i) : NULL;
}

int lab_reset(void) { return DISPATCH(reset); }
int lab_set_param(const char *name, long value) { return DISPATCH(set_param, name, value); }
int lab_get_param(const char *name, long *value) { return DISPATCH(get_param, name, value); }
int lab_set_yama(int scope) { return DISPATCH(set_yama, scope); }
int lab_bind_driver(const char *bdf, const char *which) { return DISPATCH(bind_driver, bdf, which); }

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
