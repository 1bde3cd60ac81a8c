// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Process A of the seed's flow: owns the device, binds clients' address
 * spaces on request (svmbind broker), and does "transactions" for them on
 * their own virtual addresses, tagged with their PASIDs.
 *
 *   ab_owner --device BDF (--socket PATH [--mode 0660] | --systemd)
 *            [--allow-uid UID]... [--any-uid] [--revoke-on-creds] [--verbose]
 *
 * The transaction (request type AB_WORK): B names two buffers of its own,
 * by virtual address; A's device reads the first through B's PASID,
 * upper-cases it, and writes the result into the second. The device here is
 * the reference provider's emulated PASID-tagged DMA (tests/lab/svmref_uapi.h,
 * test-only): on real hardware this is where the PASID goes into the
 * device's descriptor and the device's own DMA does the rest.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <svmbind/broker.h>
#include <svmbind/svmbind.h>

#include "ab_proto.h"
#include "svmref_uapi.h"

static struct svmbind_broker *broker;
static struct svmbind_device *dev;

static void on_signal(int sig)
{
	(void)sig;
	if (broker)
		svmbind_broker_stop(broker);	/* async-signal-safe */
}

/* The device's PASID-tagged access to @pasid's address space (test provider). */
static int device_dma(uint32_t pasid, uint64_t va, void *buf, size_t len, int write)
{
	struct svmref_dma d = {
		.argsz = sizeof(d), .flags = write ? SVMREF_DMA_WRITE : 0, .pasid = pasid,
		.va = va, .len = len, .buf = (uintptr_t)buf,
	};

	return ioctl(svmbind_device_fd(dev), SVMREF_DEVICE_PASID_DMA, &d) ? -errno : 0;
}

static void list_bonds(void)
{
	size_t n = svmbind_broker_nr_bonds(broker);

	printf("A: %zu bond(s):", n);
	for (size_t i = 0; i < n; i++) {
		struct svmbind_broker_bond bd = { .sz = sizeof(bd) };

		if (!svmbind_broker_bond(broker, i, &bd))
			printf(" [PASID %u pid %d uid %u]", bd.pasid, (int)bd.pid, (unsigned int)bd.uid);
	}
	printf("\n");
	fflush(stdout);
}

static int on_request(void *arg, const struct svmbind_broker_req *req, void *reply, size_t *reply_len)
{
	struct ab_work w;
	char buf[AB_MAX_TEXT];
	int ret;

	(void)arg;
	if (req->type != AB_WORK || req->len != sizeof(w))
		return -EINVAL;
	memcpy(&w, req->data, sizeof(w));
	if (!w.len || w.len > sizeof(buf))
		return -EINVAL;
	printf("A: work for pid %d (uid %u) on PASID %u: read %u bytes at %#llx, write to %#llx\n",
	       (int)req->pid, (unsigned int)req->uid, req->pasid, w.len,
	       (unsigned long long)w.src, (unsigned long long)w.dst);
	/* The PASID is the verified bond's, never a number from B's message. */
	ret = device_dma(req->pasid, w.src, buf, w.len, 0);
	if (ret) {
		printf("A: device read through PASID %u failed: %s\n", req->pasid, strerror(-ret));
		return ret;
	}
	for (uint32_t i = 0; i < w.len; i++)
		buf[i] = (char)toupper((unsigned char)buf[i]);
	ret = device_dma(req->pasid, w.dst, buf, w.len, 1);
	if (ret) {
		printf("A: device write through PASID %u failed: %s\n", req->pasid, strerror(-ret));
		return ret;
	}
	*reply_len = (size_t)snprintf(reply, *reply_len, "%u bytes done by the device through PASID %u",
				      w.len, req->pasid);
	list_bonds();
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ab_owner --device BDF (--socket PATH [--mode OCTAL] | --systemd)\n"
		   "                [--allow-uid UID]... [--any-uid] [--revoke-on-creds] [--verbose]\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "device", required_argument, NULL, 'd' }, { "socket", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' }, { "systemd", no_argument, NULL, 'S' },
		{ "allow-uid", required_argument, NULL, 'u' }, { "any-uid", no_argument, NULL, 'A' },
		{ "revoke-on-creds", no_argument, NULL, 'R' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct svmbind_broker_opts bo = { .sz = sizeof(bo) };
	struct svmbind_ctx *ctx = NULL;
	const char *bdf = getenv("AB_DEVICE");
	uid_t uids[16];
	int opt, ret, dialect, pe;

	while ((opt = getopt_long(argc, argv, "d:s:m:Su:ARvh", lo, NULL)) != -1) {
		switch (opt) {
		case 'd': bdf = optarg; break;
		case 's': bo.path = optarg; break;
		case 'm': bo.mode = (uint32_t)strtoul(optarg, NULL, 8); break;
		case 'S': bo.listen_fd = SVMBIND_BROKER_LISTEN_SYSTEMD; break;
		case 'u':
			if (bo.nr_allow_uids < 16)
				uids[bo.nr_allow_uids++] = (uid_t)strtoul(optarg, NULL, 10);
			break;
		case 'A': bo.flags |= SVMBIND_BROKER_ANY_UID; break;
		case 'R': bo.flags |= SVMBIND_BROKER_REVOKE_ON_CREDS; break;
		case 'v': svmbind_set_log_level(SVMBIND_LOG_DEBUG); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (!bdf || (!bo.path && !bo.listen_fd)) {
		usage(stderr);
		return 64;
	}
	bo.allow_uids = uids;
	bo.on_request = on_request;
	svmbind_set_log(svmbind_log_stderr, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = svmbind_ctx_new(NULL, &ctx);
	if (!ret)
		ret = svmbind_device_open(ctx, bdf, NULL, &dev);
	if (ret) {
		fprintf(stderr, "A: cannot open %s: %s (the log above says why and what to do)\n",
			bdf, svmbind_strerror(ret));
		svmbind_ctx_free(ctx);
		return 1;
	}
	dialect = svmbind_device_dialect(dev);
	if (dialect == SVMBIND_DIALECT_NONE)
		printf("A: %s: this kernel has no SVM bind (VFIO_DEVICE_BIND_TASK answers ENOTTY: the seed's\n"
		       "   UAPI never reached mainline Linux). I serve anyway, so that clients hear it too:\n"
		       "   every bind will be refused with that reason.\n", bdf);
	else if (dialect == SVMBIND_DIALECT_SELF)
		printf("A: %s: this kernel binds only its caller's own address space (no VFIO_SVM_PID):\n"
		       "   a broker cannot bind clients; each process must open the device itself.\n", bdf);
	ret = svmbind_broker_new(dev, &bo, &broker);
	if (ret) {
		fprintf(stderr, "A: cannot start the broker: %s\n", svmbind_strerror(ret));
		svmbind_ctx_free(ctx);
		return 1;
	}
	pe = svmbind_broker_procevents(broker);
	printf("A: pid %d uid %u owns %s (dialect %d), serving on %s\n", (int)getpid(),
	       (unsigned int)getuid(), bdf, dialect, bo.path ? bo.path : "the socket systemd passed");
	if (pe == 1)
		printf("A: exec and credential changes are revoked as they happen (process-events connector)\n");
	else
		printf("A: no process-events connector (%s): exec and credential changes are revoked at the\n"
		       "   client's next request; exit and disconnect always at once\n", strerror(-pe));
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	ret = svmbind_broker_run(broker);
	printf("A: stopping (%s); revoking %zu bond(s)\n", ret ? svmbind_strerror(ret) : "asked to",
	       svmbind_broker_nr_bonds(broker));
	svmbind_broker_free(broker);
	svmbind_ctx_free(ctx);
	return ret ? 1 : 0;
}
