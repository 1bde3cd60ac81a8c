// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Every malformed message of a table: an ERROR with its code, the connection
 * closed, nothing leaked, and the broker still serving everyone else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "helpers.h"
#include "tests.h"

enum when { BEFORE_HELLO, AFTER_HELLO, AFTER_HELLO_V2 };
enum extra { NO_FD, ONE_FD, TWO_FDS };

struct bad {
	const char *name;
	enum when when;
	enum extra fds;
	int code;			/* the ERROR expected (0: none, just closed) */
	void (*make)(unsigned char *buf, size_t *len);
};

static void hdr(unsigned char *b, size_t *len, uint8_t type, uint32_t plen)
{
	uint32_t magic = SBW_MAGIC, seq = 5;

	memset(b, 0, 64);
	memcpy(b, &magic, 4);
	b[4] = SBW_FRAMING;
	b[5] = type;
	memcpy(b + 8, &seq, 4);
	memcpy(b + 12, &plen, 4);
	*len = SBW_HDR_LEN + plen;
}

static void m_bad_magic(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 8); b[0] ^= 0xff; }
static void m_bad_framing(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 8); b[4] = 2; }
static void m_flags(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 8); b[6] = 1; }
static void m_type0(unsigned char *b, size_t *l) { hdr(b, l, 0, 8); }
static void m_type200(unsigned char *b, size_t *l) { hdr(b, l, 200, 8); }
static void m_huge(unsigned char *b, size_t *l) { hdr(b, l, SBW_REQUEST, 0xffffffffu); *l = SBW_HDR_LEN; }
static void m_req_toolong(unsigned char *b, size_t *l) { hdr(b, l, SBW_REQUEST, 4 + SBW_MAX_DATA + 1); *l = SBW_HDR_LEN; }
static void m_hello_short(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 4); }
static void m_hello_long(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 12); b[16] = 1; b[18] = 1; }
static void m_hello_minmax(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 8); b[16] = 2; b[18] = 1; }
static void m_hello_zero(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 8); }
static void m_hello_flags(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 8); b[16] = 1; b[18] = 1; b[20] = 1; }
static void m_hello_v9(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 8); b[16] = 9; b[18] = 9; }
static void m_hello_ok(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO_OK, 16); }
static void m_bind(unsigned char *b, size_t *l) { hdr(b, l, SBW_BIND, 8); }
static void m_bind_flags(unsigned char *b, size_t *l) { hdr(b, l, SBW_BIND, 8); b[16] = 1; }
static void m_bind_short(unsigned char *b, size_t *l) { hdr(b, l, SBW_BIND, 4); }
static void m_unbind_long(unsigned char *b, size_t *l) { hdr(b, l, SBW_UNBIND, 8); }
static void m_request_short(unsigned char *b, size_t *l) { hdr(b, l, SBW_REQUEST, 2); }
static void m_reply(unsigned char *b, size_t *l) { hdr(b, l, SBW_REPLY, 8); }
static void m_revoked(unsigned char *b, size_t *l) { hdr(b, l, SBW_REVOKED, 8); }
static void m_error(unsigned char *b, size_t *l) { hdr(b, l, SBW_ERROR, 8); b[16] = 0xff; b[17] = 0xff; b[18] = 0xff; b[19] = 0xff; }
static void m_hello_valid(unsigned char *b, size_t *l) { hdr(b, l, SBW_HELLO, 8); b[16] = 1; b[18] = 1; }
static void m_share(unsigned char *b, size_t *l) { hdr(b, l, SBW_SHARE, 32); b[17] = 0x10; b[25] = 0x10; b[40] = 3; }
static void m_share_noflags(unsigned char *b, size_t *l) { m_share(b, l); b[40] = 0; }
static void m_share_reserved(unsigned char *b, size_t *l) { m_share(b, l); b[44] = 1; }
static void m_unshare(unsigned char *b, size_t *l) { hdr(b, l, SBW_UNSHARE, 16); }
static void m_unshare_short(unsigned char *b, size_t *l) { hdr(b, l, SBW_UNSHARE, 8); }

static const struct bad table[] = {
	{ "bad magic", BEFORE_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_bad_magic },
	{ "bad framing", BEFORE_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_bad_framing },
	{ "header flags set", BEFORE_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_flags },
	{ "type 0", BEFORE_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_type0 },
	{ "type 200", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_type200 },
	{ "length 4 GiB", BEFORE_HELLO, NO_FD, -SVMBIND_BROKER_ERR_TOO_BIG, m_huge },
	{ "REQUEST one byte too long", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_req_toolong },
	{ "HELLO truncated payload length", BEFORE_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_hello_short },
	{ "HELLO too long", BEFORE_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_hello_long },
	{ "HELLO min > max", BEFORE_HELLO, ONE_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_hello_minmax },
	{ "HELLO versions 0", BEFORE_HELLO, ONE_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_hello_zero },
	{ "HELLO flags", BEFORE_HELLO, ONE_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_hello_flags },
	{ "HELLO version 9 only", BEFORE_HELLO, ONE_FD, -SVMBIND_BROKER_ERR_VERSION, m_hello_v9 },
	{ "HELLO without a pidfd", BEFORE_HELLO, NO_FD, -SVMBIND_BROKER_ERR_IDENTITY, m_hello_valid },
	{ "HELLO with two fds", BEFORE_HELLO, TWO_FDS, -SVMBIND_BROKER_ERR_PROTOCOL, m_hello_valid },
	{ "second HELLO", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_UNEXPECTED, m_hello_valid },
	{ "HELLO_OK from a client", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_UNEXPECTED, m_hello_ok },
	{ "REPLY from a client", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_UNEXPECTED, m_reply },
	{ "REVOKED from a client", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_UNEXPECTED, m_revoked },
	{ "ERROR from a client", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_UNEXPECTED, m_error },
	{ "BIND before HELLO", BEFORE_HELLO, NO_FD, -SVMBIND_BROKER_ERR_UNEXPECTED, m_bind },
	{ "BIND with flags", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_bind_flags },
	{ "BIND short", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_bind_short },
	{ "BIND with an fd", AFTER_HELLO, ONE_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_bind },
	{ "UNBIND long", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_unbind_long },
	{ "REQUEST shorter than its type", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_request_short },
	{ "SHARE on a version-1 connection", AFTER_HELLO, ONE_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_share },
	{ "UNSHARE on a version-1 connection", AFTER_HELLO, NO_FD, -SVMBIND_BROKER_ERR_UNEXPECTED, m_unshare },
	{ "SHARE without its fd", AFTER_HELLO_V2, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_share },
	{ "SHARE with two fds", AFTER_HELLO_V2, TWO_FDS, -SVMBIND_BROKER_ERR_PROTOCOL, m_share },
	{ "SHARE with no access flags", AFTER_HELLO_V2, ONE_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_share_noflags },
	{ "SHARE with its reserved field set", AFTER_HELLO_V2, ONE_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_share_reserved },
	{ "BIND with an fd, version 2", AFTER_HELLO_V2, ONE_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_bind },
	{ "UNSHARE short", AFTER_HELLO_V2, NO_FD, -SVMBIND_BROKER_ERR_PROTOCOL, m_unshare_short },
};

START_TEST(malformed_table)
{
	struct fx f;
	struct svmbind_client *good;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .hello_timeout_ms = 2000 };
	uint32_t pasid;
	int fds_before, fds_mid;

	fds_before = bt_count_fds();
	fx_start(&f, &o);
	/* a well-behaved client, bound, throughout */
	ck_code(svmbind_client_connect(f.path, NULL, &good), 0);
	ck_code(svmbind_client_bind(good, &pasid), 0);
	ck_assert(bt_wait_clients(&f, 1, 5000));
	fds_mid = bt_count_fds();
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct bad *t = &table[i];
		unsigned char buf[128];
		size_t len;
		int fd = raw_connect(f.path), p1 = -1, p2 = -1, ret;

		ck_assert_int_ge(fd, 0);
		if (t->when != BEFORE_HELLO)
			ck_assert_msg(raw_hello_version(fd, t->when == AFTER_HELLO_V2 ? 2 : 1) == 0,
				      "%s: HELLO refused", t->name);
		t->make(buf, &len);
		if (t->fds != NO_FD)
			p1 = (int)syscall(SYS_pidfd_open, getpid(), 0);
		if (t->fds == TWO_FDS)
			p2 = dup(p1);
		ret = raw_send(fd, buf, len, p1, p2);
		ck_assert_msg(ret == 0, "%s: send: %s", t->name, strerror(-ret));
		if (p1 >= 0)
			close(p1);
		if (p2 >= 0)
			close(p2);
		ret = raw_expect_error_eof(fd, t->code, 5000);
		ck_assert_msg(ret == 0, "%s: want ERROR %d (%s) then EOF, got %d (%s)", t->name,
			      t->code, svmbind_strerror(t->code), ret, svmbind_strerror(ret));
		close(fd);
		ck_assert_msg(bt_wait_clients(&f, 1, 5000), "%s: connection not dropped", t->name);
		/* everyone else still served */
		ck_assert_int_eq(svmbind_broker_nr_bonds(f.b), 1);
	}
	/* nothing leaked in the broker: same fds as before the table (ours and its) */
	ck_assert_int_eq(bt_count_fds(), fds_mid);
	ck_code(svmbind_client_unbind(good), 0);
	ck_code(svmbind_client_bind(good, &pasid), 0);
	svmbind_client_close(good);
	fx_stop(&f);
	ck_assert_int_eq(bt_count_fds(), fds_before);
	ck_assert(bt_wait_provider_bonds(0, 5000));
}
END_TEST

START_TEST(silent_client_times_out)
{
	struct fx f;
	struct svmbind_broker_opts o = { .sz = sizeof(o), .hello_timeout_ms = 300 };
	int fd;

	fx_start(&f, &o);
	fd = raw_connect(f.path);
	ck_assert_int_ge(fd, 0);
	ck_code(raw_expect_error_eof(fd, -SVMBIND_BROKER_ERR_TIMEOUT, 5000), 0);
	close(fd);
	ck_assert(bt_wait_clients(&f, 0, 5000));
	fx_stop(&f);
}
END_TEST

/* A client that sends and never reads: dropped once its answers pile up; others unaffected. */
START_TEST(reader_that_never_reads_is_dropped)
{
	struct fx f;
	struct svmbind_client *good;
	static unsigned char buf[100 * 64];
	struct sbw_msg m = { .type = SBW_UNBIND, .seq = 1 };
	int fd, len, sent = 0;
	uint32_t pasid;

	fx_start(&f, NULL);
	ck_code(svmbind_client_connect(f.path, NULL, &good), 0);
	fd = raw_connect(f.path);
	ck_code(raw_hello(fd), 0);
	len = sbw_encode(&m, buf, sizeof(buf));	/* each answered by ERROR NOT_BOUND */
	for (int i = 1; i < 100; i++)			/* 100 per send */
		memcpy(buf + i * len, buf, (size_t)len);
	for (int i = 0; i < 20000; i++) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n = send(fd, buf, (size_t)len * 100, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, 200) <= 0 && svmbind_broker_nr_clients(f.b) == 1)
				break;
			continue;
		}
		if (n < 0)
			break;		/* dropped: EPIPE, ECONNRESET */
		sent += (int)(n / len);
	}
	ck_assert_msg(bt_wait_clients(&f, 1, 20000), "a client that reads nothing was kept (%d sent)", sent);
	ck_code(svmbind_client_bind(good, &pasid), 0);
	svmbind_client_close(good);
	close(fd);
	fx_stop(&f);
}
END_TEST

/* A broker that makes the seed's bind takes no memory: its clients bind whole address spaces. */
START_TEST(seed_broker_refuses_shared_memory)
{
	struct fx f;
	struct svmbind_client *cl;
	void *p = NULL;

	fx_start(&f, NULL);
	ck_code(svmbind_client_connect(f.path, NULL, &cl), 0);
	ck_assert_int_eq(svmbind_client_bind_kind(cl), SVMBIND_BIND_SEED);
	ck_code(svmbind_client_share_alloc(cl, 4096, &p), -EOPNOTSUPP);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(svmbind_broker_nr_clients(f.b), 1);	/* refused, not dropped */
	svmbind_client_close(cl);
	fx_stop(&f);
}
END_TEST

void add_protocol_tests(Suite *s)
{
	TCase *tc = tcase_create("protocol");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, malformed_table);
	tcase_add_test(tc, silent_client_times_out);
	tcase_add_test(tc, reader_that_never_reads_is_dropped);
	tcase_add_test(tc, seed_broker_refuses_shared_memory);
	suite_add_tcase(s, tc);
}
