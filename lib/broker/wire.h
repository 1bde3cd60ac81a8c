/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The broker's wire protocol (docs/broker-protocol.md): framing, encoding and
 * the parser. Pure: no I/O, no allocation, no library state, so the fuzz
 * target (tests/fuzz/) and the benchmark compile wire.c on its own.
 */
#ifndef SVMBIND_BROKER_WIRE_H
#define SVMBIND_BROKER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SBW_MAGIC		0x424d5653u	/* "SVMB" in little-endian memory */
#define SBW_FRAMING		1		/* header.framing */
#define SBW_VERSION_MIN		1		/* protocol versions this code speaks */
#define SBW_VERSION_MAX		2		/* 2: SHARE, UNSHARE (PASID spaces) */
#define SBW_HDR_LEN		16u
#define SBW_MAX_DATA		4096u		/* SVMBIND_BROKER_MAX_DATA */
#define SBW_MAX_PAYLOAD		(8u + SBW_MAX_DATA)
#define SBW_VERSION_SHARE	2		/* the first version with SHARE and UNSHARE */
#define SBW_MAX_MSG		(SBW_HDR_LEN + SBW_MAX_PAYLOAD)

enum sbw_type {
	SBW_HELLO = 1,		/* c->b */
	SBW_HELLO_OK = 2,	/* b->c */
	SBW_BIND = 3,		/* c->b */
	SBW_BIND_OK = 4,	/* b->c */
	SBW_UNBIND = 5,		/* c->b */
	SBW_UNBIND_OK = 6,	/* b->c */
	SBW_REQUEST = 7,	/* c->b */
	SBW_REPLY = 8,		/* b->c */
	SBW_REVOKED = 9,	/* b->c, unsolicited, seq 0 */
	SBW_ERROR = 10,		/* b->c */
	SBW_SHARE = 11,		/* c->b, version 2, one fd (a memfd) */
	SBW_SHARE_OK = 12,	/* b->c */
	SBW_UNSHARE = 13,	/* c->b, version 2 */
	SBW_UNSHARE_OK = 14,	/* b->c */
	SBW_TYPE_END
};

/* HELLO_OK feature bits */
#define SBW_F_PROCEVENTS	(1u << 0)	/* exec/creds revoked as they happen */
#define SBW_F_CAP_SYS_PTRACE	(1u << 1)	/* the broker holds CAP_SYS_PTRACE */
#define SBW_F_PEERPIDFD		(1u << 2)	/* identity from SO_PEERPIDFD */
#define SBW_F_SPACES		(1u << 3)	/* BIND makes a PASID space of the shared regions */

/* SHARE flags: what the device may do with the region */
#define SBW_SHARE_READ		(1u << 0)
#define SBW_SHARE_WRITE		(1u << 1)

struct sbw_hdr {
	uint32_t magic;
	uint8_t framing;
	uint8_t type;
	uint16_t flags;		/* 0 */
	uint32_t seq;
	uint32_t len;		/* payload bytes after the header */
};
_Static_assert(sizeof(struct sbw_hdr) == SBW_HDR_LEN, "header layout");

/* A decoded message. data points into the parsed buffer. */
struct sbw_msg {
	uint8_t type;
	uint32_t seq;
	union {
		struct { uint16_t min_version, max_version; uint32_t flags; } hello;
		struct { uint16_t version; uint32_t features, max_data; } hello_ok;
		struct { uint32_t flags, pid; } bind;		/* pid: advisory, never used */
		struct { uint32_t pasid, pid; } bind_ok;
		struct { uint32_t pasid; } unbind, unbind_ok;
		struct { uint32_t app_type; } request;
		struct { int32_t status; uint32_t app_type; } reply;
		struct { uint32_t pasid, reason; } revoked;
		struct { int32_t code; uint32_t fatal; } error;
		struct { uint64_t addr, len, offset; uint32_t flags; } share;
		struct { uint64_t addr, len; } share_ok, unshare, unshare_ok;
	} u;
	const void *data;	/* REQUEST, REPLY */
	uint32_t data_len;
};

/* Parse one message from buf[0..len). Returns the bytes it takes (> 0),
 * 0 if more bytes are needed (*need, if not NULL, tells how many in all),
 * or a negative code: -SVMBIND_BROKER_ERR_PROTOCOL (magic, framing, flags,
 * unknown type, a length that type never has, reserved fields not 0) or
 * -SVMBIND_BROKER_ERR_TOO_BIG (a length past SBW_MAX_PAYLOAD, known from the
 * header alone). */
int sbw_parse(const void *buf, size_t len, struct sbw_msg *msg, size_t *need);

/* The header alone (len >= SBW_HDR_LEN): the message's total length, or the
 * same negative codes as sbw_parse(). */
long sbw_frame_len(const void *buf, size_t len);

/* Encode @msg into out[0..cap). Returns the length, or -EMSGSIZE / -EINVAL. */
int sbw_encode(const struct sbw_msg *msg, void *out, size_t cap);

/* Whether a client may send @type (HELLO, BIND, UNBIND, REQUEST, SHARE, UNSHARE). */
static inline int sbw_from_client(unsigned int type)
{
	return type == SBW_HELLO || type == SBW_BIND || type == SBW_UNBIND || type == SBW_REQUEST ||
	       type == SBW_SHARE || type == SBW_UNSHARE;
}

const char *sbw_type_name(unsigned int type);

#endif
