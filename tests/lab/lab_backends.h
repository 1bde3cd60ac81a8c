/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* The lab's real-kernel backend (lab_real.c), behind lab.c; same contracts as
 * lab.h. tests/vm/labcheck.c calls it directly, without lab.c. */
#ifndef SVMBIND_TEST_LAB_BACKENDS_H
#define SVMBIND_TEST_LAB_BACKENDS_H

int lab_real_open(void);
const char *lab_real_dev(unsigned int i);
int lab_real_reset(void);
int lab_real_set_param(const char *name, long value);
int lab_real_get_param(const char *name, long *value);
int lab_real_set_yama(int scope);
int lab_real_bind_driver(const char *bdf, const char *which);

#endif
