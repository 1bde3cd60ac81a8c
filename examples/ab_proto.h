/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* The application request A and B agree on (libsvmbind carries it, never reads it). */
#ifndef AB_PROTO_H
#define AB_PROTO_H

#include <stdint.h>

enum { AB_WORK = 1 };		/* request type */
enum { AB_MAX_TEXT = 256 };

/* "Read len bytes at src in my address space, upper-case them, write them at dst." */
struct ab_work {
	uint64_t src;		/* B's virtual addresses */
	uint64_t dst;
	uint32_t len;
	uint32_t reserved;
};

#endif
