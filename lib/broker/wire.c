// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The broker's wire protocol: framing, encoding, the parser. Pure (see wire.h). */
#include <errno.h>
#include <string.h>

#include <svmbind/broker.h>

#include "wire.h"

_Static_assert(SBW_MAX_DATA == SVMBIND_BROKER_MAX_DATA, "one limit");

/* Payload length each type has: exact, or a minimum for the two with data. */
static const struct {
	const char *name;
	uint32_t len;
	uint8_t has_data;
} types[SBW_TYPE_END] = {
	[SBW_HELLO] = { "HELLO", 8, 0 },
	[SBW_HELLO_OK] = { "HELLO_OK", 16, 0 },
	[SBW_BIND] = { "BIND", 8, 0 },
	[SBW_BIND_OK] = { "BIND_OK", 8, 0 },
	[SBW_UNBIND] = { "UNBIND", 4, 0 },
	[SBW_UNBIND_OK] = { "UNBIND_OK", 4, 0 },
	[SBW_REQUEST] = { "REQUEST", 4, 1 },
	[SBW_REPLY] = { "REPLY", 8, 1 },
	[SBW_REVOKED] = { "REVOKED", 8, 0 },
	[SBW_ERROR] = { "ERROR", 8, 0 },
	[SBW_SHARE] = { "SHARE", 32, 0 },
	[SBW_SHARE_OK] = { "SHARE_OK", 16, 0 },
	[SBW_UNSHARE] = { "UNSHARE", 16, 0 },
	[SBW_UNSHARE_OK] = { "UNSHARE_OK", 16, 0 },
};

const char *sbw_type_name(unsigned int type)
{
	return type && type < SBW_TYPE_END ? types[type].name : "unknown";
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t get16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }

long sbw_frame_len(const void *buf, size_t len)
{
	struct sbw_hdr h;

	if (len < SBW_HDR_LEN)
		return -EINVAL;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != SBW_MAGIC || h.framing != SBW_FRAMING || h.flags)
		return -SVMBIND_BROKER_ERR_PROTOCOL;
	if (h.len > SBW_MAX_PAYLOAD)
		return -SVMBIND_BROKER_ERR_TOO_BIG;
	if (!h.type || h.type >= SBW_TYPE_END)
		return -SVMBIND_BROKER_ERR_PROTOCOL;
	if (types[h.type].has_data ? h.len < types[h.type].len ||
				     h.len > types[h.type].len + SBW_MAX_DATA
				   : h.len != types[h.type].len)
		return -SVMBIND_BROKER_ERR_PROTOCOL;
	return (long)SBW_HDR_LEN + h.len;
}

int sbw_parse(const void *buf, size_t len, struct sbw_msg *msg, size_t *need)
{
	const unsigned char *p = buf, *pl;
	long total;

	if (len < SBW_HDR_LEN) {
		if (need)
			*need = SBW_HDR_LEN;
		return 0;
	}
	total = sbw_frame_len(buf, len);
	if (total < 0)
		return (int)total;
	if (need)
		*need = (size_t)total;
	if (len < (size_t)total)
		return 0;

	memset(msg, 0, sizeof(*msg));
	msg->type = p[5];
	msg->seq = get32(p + 8);
	pl = p + SBW_HDR_LEN;
	switch (msg->type) {
	case SBW_HELLO:
		msg->u.hello.min_version = get16(pl);
		msg->u.hello.max_version = get16(pl + 2);
		msg->u.hello.flags = get32(pl + 4);
		if (msg->u.hello.flags || !msg->u.hello.min_version ||
		    msg->u.hello.min_version > msg->u.hello.max_version)
			return -SVMBIND_BROKER_ERR_PROTOCOL;
		break;
	case SBW_HELLO_OK:
		msg->u.hello_ok.version = get16(pl);
		msg->u.hello_ok.features = get32(pl + 4);
		msg->u.hello_ok.max_data = get32(pl + 8);
		if (get16(pl + 2) || get32(pl + 12))
			return -SVMBIND_BROKER_ERR_PROTOCOL;
		break;
	case SBW_BIND:
		msg->u.bind.flags = get32(pl);
		msg->u.bind.pid = get32(pl + 4);
		if (msg->u.bind.flags)
			return -SVMBIND_BROKER_ERR_PROTOCOL;
		break;
	case SBW_BIND_OK:
		msg->u.bind_ok.pasid = get32(pl);
		msg->u.bind_ok.pid = get32(pl + 4);
		break;
	case SBW_UNBIND:
	case SBW_UNBIND_OK:
		msg->u.unbind.pasid = get32(pl);
		break;
	case SBW_REQUEST:
		msg->u.request.app_type = get32(pl);
		msg->data = pl + 4;
		msg->data_len = (uint32_t)(total - SBW_HDR_LEN - 4);
		break;
	case SBW_REPLY:
		msg->u.reply.status = (int32_t)get32(pl);
		msg->u.reply.app_type = get32(pl + 4);
		msg->data = pl + 8;
		msg->data_len = (uint32_t)(total - SBW_HDR_LEN - 8);
		break;
	case SBW_REVOKED:
		msg->u.revoked.pasid = get32(pl);
		msg->u.revoked.reason = get32(pl + 4);
		break;
	case SBW_ERROR:
		msg->u.error.code = (int32_t)get32(pl);
		msg->u.error.fatal = get32(pl + 4);
		if (msg->u.error.code >= 0 || msg->u.error.fatal > 1)
			return -SVMBIND_BROKER_ERR_PROTOCOL;
		break;
	case SBW_SHARE:
		msg->u.share.addr = get64(pl);
		msg->u.share.len = get64(pl + 8);
		msg->u.share.offset = get64(pl + 16);
		msg->u.share.flags = get32(pl + 24);
		if (!msg->u.share.flags || msg->u.share.flags & ~(SBW_SHARE_READ | SBW_SHARE_WRITE) ||
		    get32(pl + 28))
			return -SVMBIND_BROKER_ERR_PROTOCOL;
		break;
	case SBW_SHARE_OK:
	case SBW_UNSHARE:
	case SBW_UNSHARE_OK:
		msg->u.unshare.addr = get64(pl);
		msg->u.unshare.len = get64(pl + 8);
		break;
	}
	return (int)total;
}

int sbw_encode(const struct sbw_msg *msg, void *out, size_t cap)
{
	unsigned char *p = out, *pl;
	uint32_t plen;

	if (!msg->type || msg->type >= SBW_TYPE_END)
		return -EINVAL;
	if (types[msg->type].has_data && msg->data_len > SBW_MAX_DATA)
		return -EMSGSIZE;
	plen = types[msg->type].len + (types[msg->type].has_data ? msg->data_len : 0);
	if (cap < SBW_HDR_LEN + plen)
		return -EMSGSIZE;
	memset(p, 0, SBW_HDR_LEN + types[msg->type].len);
	put32(p, SBW_MAGIC);
	p[4] = SBW_FRAMING;
	p[5] = msg->type;
	put32(p + 8, msg->seq);
	put32(p + 12, plen);
	pl = p + SBW_HDR_LEN;
	switch (msg->type) {
	case SBW_HELLO:
		put16(pl, msg->u.hello.min_version);
		put16(pl + 2, msg->u.hello.max_version);
		put32(pl + 4, msg->u.hello.flags);
		break;
	case SBW_HELLO_OK:
		put16(pl, msg->u.hello_ok.version);
		put32(pl + 4, msg->u.hello_ok.features);
		put32(pl + 8, msg->u.hello_ok.max_data);
		break;
	case SBW_BIND:
		put32(pl, msg->u.bind.flags);
		put32(pl + 4, msg->u.bind.pid);
		break;
	case SBW_BIND_OK:
		put32(pl, msg->u.bind_ok.pasid);
		put32(pl + 4, msg->u.bind_ok.pid);
		break;
	case SBW_UNBIND:
	case SBW_UNBIND_OK:
		put32(pl, msg->u.unbind.pasid);
		break;
	case SBW_REQUEST:
		put32(pl, msg->u.request.app_type);
		if (msg->data_len)
			memcpy(pl + 4, msg->data, msg->data_len);
		break;
	case SBW_REPLY:
		put32(pl, (uint32_t)msg->u.reply.status);
		put32(pl + 4, msg->u.reply.app_type);
		if (msg->data_len)
			memcpy(pl + 8, msg->data, msg->data_len);
		break;
	case SBW_REVOKED:
		put32(pl, msg->u.revoked.pasid);
		put32(pl + 4, msg->u.revoked.reason);
		break;
	case SBW_ERROR:
		put32(pl, (uint32_t)msg->u.error.code);
		put32(pl + 4, msg->u.error.fatal);
		break;
	case SBW_SHARE:
		put64(pl, msg->u.share.addr);
		put64(pl + 8, msg->u.share.len);
		put64(pl + 16, msg->u.share.offset);
		put32(pl + 24, msg->u.share.flags);
		break;
	case SBW_SHARE_OK:
	case SBW_UNSHARE:
	case SBW_UNSHARE_OK:
		put64(pl, msg->u.unshare.addr);
		put64(pl + 8, msg->u.unshare.len);
		break;
	}
	return (int)(SBW_HDR_LEN + plen);
}
