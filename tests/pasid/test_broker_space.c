// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * test_broker_space: the seed's flow through the broker on a stock kernel, one
 * behaviour per test, in the SVA VM with STOCK vfio-pci on the svm-dma devices:
 *   tests/vm/vm.sh --kernel new --sva --driver vfio-pci -c BUILD/tests/pasid/test_broker_space
 * A (this process) owns the device and runs a broker in a thread; its request
 * handler drives the device with the requester's PASID at the requester's
 * addresses. B (a child, broker_client.c) shares memory with the client API
 * and binds: there is no seed bind in this kernel, so its bond is a PASID space
 * of what it shared. Exits 77 outside that VM. CK_RUN_CASE selects one.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <svmbind/broker.h>

#include "broker_client.h"
#include "space_helpers.h"
#include "wire.h"

#define SOCK "/run/svmbind-test-broker-space.sock"

static struct owner a;
static struct svmbind_broker *broker;
static pthread_t thr;
static uint32_t seen_pasid;	/* the PASID the last request came with */
static uint32_t seen_prqs;	/* the device's page requests during the last copy */

static int serve(void *arg)
{
	struct svmbind_space *s = arg;
	struct pollfd pf = { .fd = svmbind_space_fault_fd(s), .events = POLLIN };

	if (pf.fd < 0 || poll(&pf, 1, 10) <= 0)
		return 0;
	return svmbind_space_dispatch(s, NULL, NULL) < 0 ? -1 : 0;
}

/* The owner's handler, as ab_owner's: the device copies with B's PASID at B's pointers. */
static int on_request(void *arg, const struct svmbind_broker_req *req, void *reply, size_t *reply_len)
{
	struct svmbind_space *s = NULL;
	struct bc_done d = { 0 };
	struct bc_work w;
	uint32_t prqs;

	(void)arg;
	if (req->type != BC_COPY || req->len != sizeof(w) || *reply_len < sizeof(d))
		return -EINVAL;
	memcpy(&w, req->data, sizeof(w));
	seen_pasid = req->pasid;
	if (svmbind_broker_space(broker, req->pasid, &s))
		return -ENOENT;
	prqs = svmdma_rd(&a.sd, SD_PRQS);
	d.status = (uint32_t)svmdma_copy(&a.sd, req->pasid, a.sd.pri ? SD_CTRL_PRI : 0, w.src, w.dst,
					 w.len, NULL, serve, s);
	d.page_requests = seen_prqs = svmdma_rd(&a.sd, SD_PRQS) - prqs;
	memcpy(reply, &d, sizeof(d));
	*reply_len = sizeof(d);
	return 0;
}

static void *run(void *arg)
{
	(void)arg;
	svmbind_broker_run(broker);
	return NULL;
}

/* A: device @which ([0] PRI, [1] none), a broker with @flags and @limit, serving in a thread. */
static void start(int which, uint32_t flags, uint64_t limit)
{
	struct svmbind_broker_opts bo = {
		.sz = sizeof(bo), .path = SOCK, .flags = flags | SVMBIND_BROKER_NO_PROCEVENTS,
		.on_request = on_request, .max_shared_bytes = limit,
	};

	owner_open(&a, which);
	ck_assert_int_eq(svmbind_broker_new(a.dev, &bo, &broker), 0);
	ck_assert_int_eq(pthread_create(&thr, NULL, run, NULL), 0);
}

static void finish(void)
{
	svmbind_broker_stop(broker);
	pthread_join(thr, NULL);
	svmbind_broker_free(broker);
	owner_close(&a);
}

/* B connected and bound; its PASID. */
static uint32_t bound_client(struct bclient *b)
{
	int64_t pasid;

	bc_start(b, SOCK);
	ck_assert_int_eq(bc_op(b, BOP_CONNECT, 0, 0, 0), 0);
	pasid = bc_op(b, BOP_BIND, 0, 0, 0);
	ck_assert_int_gt(pasid, 0);
	return (uint32_t)pasid;
}

static uint64_t alloc(struct bclient *b, uint64_t len)
{
	int64_t addr = bc_op(b, BOP_ALLOC, len, 0, 0);

	ck_assert_int_gt(addr, 0);
	return (uint64_t)addr;
}

/* Wait for the broker thread to see the end of @n bonds. */
static void wait_bonds(size_t n)
{
	for (int i = 0; i < 500 && svmbind_broker_nr_bonds(broker) != n; i++)
		usleep(10000);
	ck_assert_uint_eq(svmbind_broker_nr_bonds(broker), n);
}

START_TEST(device_copies_shared_bytes_at_clients_addresses_with_its_pasid)
{
	struct bclient b;
	uint32_t pasid;
	uint64_t p;

	start(1, 0, 0);
	pasid = bound_client(&b);
	p = alloc(&b, 2 * PG);
	bc_op(&b, BOP_FILL, p, PG, 3);
	ck_assert_int_eq(bc_op(&b, BOP_SAME, p, p + PG, PG), 0);
	ck_assert_int_eq(bc_op(&b, BOP_COPY, p, p + PG, PG), SD_ST_DONE);
	ck_assert_int_eq(bc_op(&b, BOP_SAME, p, p + PG, PG), 1);	/* in B's own view */
	ck_assert_uint_eq(seen_pasid, pasid);				/* the handler got B's PASID */
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(memory_shared_before_bind_is_placed_at_bind)
{
	struct bclient b;
	uint64_t p;

	start(1, 0, 0);
	bc_start(&b, SOCK);
	ck_assert_int_eq(bc_op(&b, BOP_CONNECT, 0, 0, 0), 0);
	p = alloc(&b, 2 * PG);
	bc_op(&b, BOP_FILL, p, PG, 9);
	ck_assert_int_gt(bc_op(&b, BOP_BIND, 0, 0, 0), 0);
	ck_assert_int_eq(bc_op(&b, BOP_COPY, p, p + PG, PG), SD_ST_DONE);
	ck_assert_int_eq(bc_op(&b, BOP_SAME, p, p + PG, PG), 1);
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(address_outside_shared_regions_fails_and_nothing_is_written)
{
	struct bclient b;
	uint64_t p, anon;

	start(1, 0, 0);
	bound_client(&b);
	p = alloc(&b, PG);
	anon = (uint64_t)bc_op(&b, BOP_ANON, PG, 0, 0);
	ck_assert_int_eq(bc_op(&b, BOP_COPY, p, anon, 64), SD_ST_ERR_DST);
	ck_assert_int_eq(bc_op(&b, BOP_BYTE, anon, 0, 0), 0x5a);
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(page_request_outside_shared_regions_is_answered_invalid)
{
	struct bclient b;
	uint64_t p, anon;

	start(0, SVMBIND_BROKER_SPACE_ON_DEMAND, 0);
	bound_client(&b);
	p = alloc(&b, PG);
	anon = (uint64_t)bc_op(&b, BOP_ANON, PG, 0, 0);
	ck_assert_int_eq(bc_op(&b, BOP_COPY, p, anon, 64), SD_ST_ERR_PRI);
	ck_assert_int_eq(bc_op(&b, BOP_BYTE, anon, 0, 0), 0x5a);
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(on_demand_page_is_served_by_the_owners_fault_handler)
{
	struct bclient b;
	uint64_t p;

	start(0, SVMBIND_BROKER_SPACE_ON_DEMAND, 0);
	bound_client(&b);
	p = alloc(&b, 4 * PG);
	bc_op(&b, BOP_FILL, p, PG, 5);
	ck_assert_int_eq(bc_op(&b, BOP_COPY, p, p + 3 * PG, PG), SD_ST_DONE);
	ck_assert_int_eq(bc_op(&b, BOP_SAME, p, p + 3 * PG, PG), 1);
	ck_assert_uint_eq(seen_prqs, 2);	/* the source page and the destination page, by request */
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(another_clients_memory_is_out_of_reach)
{
	struct bclient b1, b2;
	uint64_t p1, p2;

	start(1, 0, 0);
	bound_client(&b1);
	bound_client(&b2);
	p1 = alloc(&b1, 2 * PG);
	bc_op(&b2, BOP_ANON, 3 * PG, 0, 0);	/* so that B2's region lies elsewhere */
	p2 = alloc(&b2, 2 * PG);
	ck_assert(p1 >= p2 + 2 * PG || p2 >= p1 + 2 * PG);
	bc_op(&b1, BOP_FILL, p1, PG, 1);	/* B1's two pages alike */
	bc_op(&b1, BOP_FILL, p1 + PG, PG, 1);
	bc_op(&b2, BOP_FILL, p2, PG, 2);
	ck_assert_int_eq(bc_op(&b2, BOP_COPY, p2, p1, PG), SD_ST_ERR_DST);	/* B1's address, B2's PASID */
	ck_assert_int_eq(bc_op(&b2, BOP_COPY, p2, p2 + PG, PG), SD_ST_DONE);
	ck_assert_int_eq(bc_op(&b2, BOP_SAME, p2, p2 + PG, PG), 1);
	bc_stop(&b2);
	ck_assert_int_eq(bc_op(&b1, BOP_SAME, p1, p1 + PG, PG), 1);	/* still alike: nothing written */
	bc_stop(&b1);
	finish();
}
END_TEST

START_TEST(client_exit_releases_every_pin)
{
	struct bclient b;
	long before;

	start(1, 0, 0);
	before = vm_pin_kb();
	bound_client(&b);
	alloc(&b, 16 * PG);
	ck_assert_int_ge(vm_pin_kb(), before + 16 * PG / 1024);
	bc_stop(&b);
	wait_bonds(0);
	ck_assert_int_eq(vm_pin_kb(), before);
	finish();
}
END_TEST

START_TEST(unbound_pasid_translates_nothing)
{
	struct bclient b;
	uint32_t pasid;
	uint64_t p, fault = 0;
	long before;

	start(1, 0, 0);
	before = vm_pin_kb();
	pasid = bound_client(&b);
	p = alloc(&b, 2 * PG);
	ck_assert_int_eq(bc_op(&b, BOP_UNBIND, 0, 0, 0), 0);
	ck_assert_int_eq(vm_pin_kb(), before);
	bc_op(&b, BOP_FILL, p, PG, 4);
	ck_assert_int_ne(svmdma_copy(&a.sd, pasid, 0, p, p + PG, PG, &fault, NULL, NULL), SD_ST_DONE);
	ck_assert_int_eq(bc_op(&b, BOP_SAME, p, p + PG, PG), 0);
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(owner_revoke_frees_the_space_and_tells_the_client)
{
	struct bclient b;
	uint32_t pasid;
	long before;

	start(1, 0, 0);
	before = vm_pin_kb();
	pasid = bound_client(&b);
	alloc(&b, 4 * PG);
	ck_assert_int_eq(svmbind_broker_revoke(broker, pasid), 0);
	ck_assert_int_eq(bc_op(&b, BOP_REVOKED, 0, 0, 0), SVMBIND_REVOKED_OWNER);
	ck_assert_int_eq(vm_pin_kb(), before);
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(shared_bytes_beyond_the_limit_are_refused)
{
	struct bclient b;

	start(1, 0, 4 * PG);
	bound_client(&b);
	alloc(&b, 3 * PG);
	ck_assert_int_eq(bc_op(&b, BOP_ALLOC, 2 * PG, 0, 0), -SVMBIND_BROKER_ERR_SHARE_LIMIT);
	alloc(&b, PG);	/* up to the limit is fine */
	bc_stop(&b);
	finish();
}
END_TEST

/* Before BIND: the broker's own check at SHARE, not the space's at placing. */
START_TEST(fd_that_is_not_a_memfd_is_refused)
{
	struct bclient b;
	uint64_t anon;

	start(1, 0, 0);
	bc_start(&b, SOCK);
	ck_assert_int_eq(bc_op(&b, BOP_CONNECT, 0, 0, 0), 0);
	anon = (uint64_t)bc_op(&b, BOP_ANON, PG, 0, 0);
	ck_assert_int_eq(bc_op(&b, BOP_SHARE_PIPE, anon, PG, 0), -SVMBIND_SPACE_ERR_NOT_MEMFD);
	ck_assert_int_gt(bc_op(&b, BOP_BIND, 0, 0, 0), 0);	/* and the bind holds nothing of it */
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(overlapping_region_is_refused)
{
	struct bclient b;
	uint64_t p;

	start(1, 0, 0);
	bound_client(&b);
	p = alloc(&b, 2 * PG);
	ck_assert_int_eq(bc_op(&b, BOP_SHARE_MEMFD, PG, MFD_ALLOW_SEALING, p + PG),
			 -SVMBIND_SPACE_ERR_OVERLAP);
	ck_assert_int_gt(bc_op(&b, BOP_SHARE_MEMFD, PG, MFD_ALLOW_SEALING, 0), 0);	/* elsewhere: fine */
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(memfd_that_cannot_be_sealed_is_refused)
{
	struct bclient b;

	start(1, 0, 0);
	bound_client(&b);
	ck_assert_int_eq(bc_op(&b, BOP_SHARE_MEMFD, PG, 0, 0), -SVMBIND_SPACE_ERR_SEALS);
	bc_stop(&b);
	finish();
}
END_TEST

START_TEST(shared_memfd_cannot_shrink_under_the_device)
{
	struct bclient b;

	start(1, 0, 0);
	bound_client(&b);
	ck_assert_int_gt(bc_op(&b, BOP_SHARE_MEMFD, 2 * PG, MFD_ALLOW_SEALING, 0), 0);
	ck_assert_int_eq(bc_op(&b, BOP_TRUNCATE, PG, 0, 0), -EPERM);	/* sealed F_SEAL_SHRINK at SHARE */
	ck_assert_int_eq(bc_op(&b, BOP_TRUNCATE, 4 * PG, 0, 0), 0);	/* growing is harmless */
	bc_stop(&b);
	finish();
}
END_TEST

/* One message on a raw connection, with @fd attached (-1: none). */
static void raw_send(int sock, const struct sbw_msg *m, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr a;
	} cb = { 0 };
	unsigned char buf[SBW_MAX_MSG];
	struct iovec iov = { buf, 0 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int len = sbw_encode(m, buf, sizeof(buf));

	ck_assert_int_gt(len, 0);
	iov.iov_len = (size_t)len;
	if (fd >= 0) {
		mh.msg_control = cb.b;
		mh.msg_controllen = sizeof(cb.b);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &fd, sizeof(int));
	}
	ck_assert_int_eq(sendmsg(sock, &mh, 0), len);
}

static void raw_recv(int sock, struct sbw_msg *m, unsigned char *buf)
{
	size_t have = 0, need = SBW_HDR_LEN;
	int ret;

	while ((ret = sbw_parse(buf, have, m, &need)) == 0) {
		ssize_t n = recv(sock, buf + have, need - have, 0);

		ck_assert_int_gt(n, 0);
		have += (size_t)n;
	}
	ck_assert_int_gt(ret, 0);
}

/* A client of protocol version 1 cannot share: it is not given an empty space. */
START_TEST(version_1_client_hears_no_svm_bind)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = SOCK };
	struct sbw_msg m = { .type = SBW_HELLO, .seq = 1 };
	unsigned char buf[SBW_MAX_MSG];
	int sock, pidfd;

	start(1, 0, 0);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(connect(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	m.u.hello.min_version = m.u.hello.max_version = 1;
	raw_send(sock, &m, pidfd);
	close(pidfd);
	raw_recv(sock, &m, buf);
	ck_assert_int_eq(m.type, SBW_HELLO_OK);
	ck_assert_uint_eq(m.u.hello_ok.version, 1);
	ck_assert_uint_eq(m.u.hello_ok.features & SBW_F_SPACES, 0);
	m = (struct sbw_msg){ .type = SBW_BIND, .seq = 2 };
	raw_send(sock, &m, -1);
	raw_recv(sock, &m, buf);
	ck_assert_int_eq(m.type, SBW_ERROR);
	ck_assert_int_eq(m.u.error.code, -SVMBIND_ERR_NO_SVM_BIND);
	ck_assert_uint_eq(svmbind_broker_nr_bonds(broker), 0);
	close(sock);
	finish();
}
END_TEST

int main(void)
{
	Suite *su = suite_create("broker_space");
	TCase *tc = tcase_create("broker_space");
	SRunner *sr;
	int failed, ret;

	ret = svmdma_find(sd_devs, "vfio-pci");
	if (ret == -ENODEV) {
		printf("test_broker_space: SKIP: no svm-dma devices (not the SVA VM: vm.sh --kernel new --sva)\n");
		return 77;
	}
	if (ret) {
		printf("test_broker_space: binding the svm-dma devices to vfio-pci: %s\n", strerror(-ret));
		return 1;
	}
	if (access("/dev/iommu", F_OK)) {
		printf("test_broker_space: SKIP: no /dev/iommu\n");
		return 77;
	}
	if (getenv("SVMBIND_TEST_LOG"))
		svmbind_set_log(svmbind_log_stderr, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, device_copies_shared_bytes_at_clients_addresses_with_its_pasid);
	tcase_add_test(tc, memory_shared_before_bind_is_placed_at_bind);
	tcase_add_test(tc, address_outside_shared_regions_fails_and_nothing_is_written);
	tcase_add_test(tc, page_request_outside_shared_regions_is_answered_invalid);
	tcase_add_test(tc, on_demand_page_is_served_by_the_owners_fault_handler);
	tcase_add_test(tc, another_clients_memory_is_out_of_reach);
	tcase_add_test(tc, client_exit_releases_every_pin);
	tcase_add_test(tc, unbound_pasid_translates_nothing);
	tcase_add_test(tc, owner_revoke_frees_the_space_and_tells_the_client);
	tcase_add_test(tc, shared_bytes_beyond_the_limit_are_refused);
	tcase_add_test(tc, fd_that_is_not_a_memfd_is_refused);
	tcase_add_test(tc, overlapping_region_is_refused);
	tcase_add_test(tc, memfd_that_cannot_be_sealed_is_refused);
	tcase_add_test(tc, shared_memfd_cannot_shrink_under_the_device);
	tcase_add_test(tc, version_1_client_hears_no_svm_bind);
	suite_add_tcase(su, tc);
	sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
