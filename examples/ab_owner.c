// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Process A of the seed's flow: owns the device, binds clients' address
 * spaces on request (svmbind broker), and does transactions for them on
 * their own virtual addresses, tagged with their PASIDs.
 *
 *   ab_owner --device BDF (--socket PATH [--mode 0660] | --systemd)
 *            [--allow-uid UID]... [--any-uid] [--revoke-on-creds] [--verbose]
 *
 * The transaction (request type AB_COPY): B names two buffers of its own by
 * virtual address, and A's device copies the first into the second through
 * B's PASID. Which device does it:
 *   - the svm-dma device (our QEMU's PASID device, svmdma/): A programs it
 *     itself through the BAR the library mapped, with B's PASID and B's
 *     addresses; the IOMMU translates them through B's page tables, and a
 *     page B never touched is faulted in by the device's page request (PRI);
 *   - any other device on the reference provider (edu, Debian 6.1): the
 *     provider's emulated PASID-tagged DMA (tests/lab/svmref_uapi.h,
 *     test-only).
 * The PASID is always the verified bond's, never a number from B's message.
 *
 * On a kernel without the seed's bind (every mainline kernel) with the device
 * on stock vfio-pci through iommufd, B's bond is a PASID space that holds only
 * the memory B shared (svmbind_client_share_alloc()), at B's own addresses;
 * with PRI its pages are placed on demand, as the device asks for them, by
 * this program's fault handler (svmbind_space_dispatch() while it waits).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <poll.h>
#include <linux/vfio.h>

#include <svmbind/broker.h>
#include <svmbind/space.h>
#include <svmbind/svmbind.h>

#include "ab_proto.h"
#include "svmdma.h"
#include "svmref_uapi.h"

static struct svmbind_broker *broker;
static struct svmbind_device *dev;
static struct svmdma sd;	/* bar NULL: the provider's emulated DMA */

static void on_signal(int sig)
{
	(void)sig;
	if (broker)
		svmbind_broker_stop(broker);	/* async-signal-safe */
}

/* The provider's emulated PASID-tagged access to @pasid's address space. */
static int provider_dma(uint32_t pasid, uint64_t va, void *buf, size_t len, int write)
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

/* The emulated device: read B's bytes into A, write them back at dst. */
static int provider_copy(const struct svmbind_broker_req *req, const struct ab_work *w, struct ab_done *done)
{
	char buf[AB_MAX_LEN];
	int ret;

	ret = provider_dma(req->pasid, w->src, buf, w->len, 0);
	if (!ret)
		ret = provider_dma(req->pasid, w->dst, buf, w->len, 1);
	if (ret) {
		printf("A: provider DMA through PASID %u failed: %s\n", req->pasid, strerror(-ret));
		return ret;
	}
	done->engine = AB_ENGINE_PROVIDER;
	done->pri = 1;	/* the provider faults pages in as a PRI device would */
	printf("A: the provider's emulated DMA copied %u bytes through PASID %u\n", w->len, req->pasid);
	return 0;
}

/* While the device waits: answer the page requests of B's PASID space. */
static int serve_faults(void *arg)
{
	struct svmbind_space *space = arg;
	struct pollfd p = { .fd = svmbind_space_fault_fd(space), .events = POLLIN };

	if (p.fd >= 0 && poll(&p, 1, 1) > 0)
		svmbind_space_dispatch(space, NULL, NULL);	/* B's regions only; the rest refused */
	return 0;
}

/* The real device: A's own doorbell, B's PASID, B's virtual addresses. */
static int svm_dma_work(const struct svmbind_broker_req *req, const struct ab_work *w, struct ab_done *done)
{
	uint32_t xlates = svmdma_rd(&sd, SD_XLATES), prqs = svmdma_rd(&sd, SD_PRQS), st;
	struct svmbind_space *space = NULL;
	uint64_t fault = 0;
	int ret;

	if (svmbind_broker_space(broker, req->pasid, &space))
		space = NULL;	/* the seed's bind: the kernel serves the page requests */
	ret = svmdma_copy(&sd, req->pasid, sd.pri ? SD_CTRL_PRI : 0, w->src, w->dst, w->len, &fault,
			  space ? serve_faults : NULL, space);
	done->engine = AB_ENGINE_SVM_DMA;
	done->pri = sd.pri;
	done->translations = svmdma_rd(&sd, SD_XLATES) - xlates;
	done->page_requests = svmdma_rd(&sd, SD_PRQS) - prqs;
	if (ret != SD_ST_DONE) {
		st = svmdma_rd(&sd, SD_STATUS);
		printf("A: svm-dma through PASID %u: status 0x%x, %s (at %#llx; %u page request(s))\n",
		       req->pasid, st, svmdma_status_str(st), (unsigned long long)fault,
		       done->page_requests);
		if (ret < 0)
			return ret;	/* still busy */
		return st == SD_ST_ERR_SRC || st == SD_ST_ERR_DST || st == SD_ST_ERR_PRI ? -EFAULT : -EIO;
	}
	printf("A: svm-dma copied %u bytes through PASID %u: %u ATS translation(s), %u page request(s)%s\n",
	       w->len, req->pasid, done->translations, done->page_requests,
	       space && done->page_requests ? ", served by A's fault handler from B's shared memory" : "");
	return 0;
}

static int on_request(void *arg, const struct svmbind_broker_req *req, void *reply, size_t *reply_len)
{
	struct ab_done done = { 0 };
	struct ab_work w;
	int ret;

	(void)arg;
	if (req->type != AB_COPY || req->len != sizeof(w))
		return -EINVAL;
	memcpy(&w, req->data, sizeof(w));
	if (!w.len || w.len > AB_MAX_LEN || *reply_len < sizeof(done))
		return -EINVAL;
	printf("A: pid %d (uid %u) asks for a copy on PASID %u: %u bytes at %#llx -> %#llx\n",
	       (int)req->pid, (unsigned int)req->uid, req->pasid, w.len,
	       (unsigned long long)w.src, (unsigned long long)w.dst);
	ret = sd.bar ? svm_dma_work(req, &w, &done) : provider_copy(req, &w, &done);
	memcpy(reply, &done, sizeof(done));
	*reply_len = sizeof(done);
	if (!ret)
		list_bonds();
	return ret;
}

/* Is @dev an svm-dma device? Then its BAR0, mapped by the library, is A's
 * to drive (0); -ENODEV when it is another device. */
static int svm_dma_open(void)
{
	size_t len;
	void *bar;
	int ret;

	ret = svmbind_device_map_region(dev, VFIO_PCI_BAR0_REGION_INDEX, PROT_READ | PROT_WRITE, &bar, &len);
	if (ret)
		return ret;
	ret = svmdma_attach(&sd, bar, len, svmbind_device_fd(dev));
	if (ret) {
		svmbind_device_unmap_region(dev, bar, len);
		sd.bar = NULL;
	}
	return ret;
}

static void svm_dma_close(void)
{
	if (sd.bar)
		svmbind_device_unmap_region(dev, (void *)sd.bar, sd.bar_len);
	sd.bar = NULL;
}

/* Will the broker make PASID spaces (its own test: the probe does not rule them out)? */
static bool pasid_spaces(const char *bdf)
{
	struct svmbind_dev_probe p = { .sz = sizeof(p) };

	if (svmbind_ctx_backend(svmbind_device_ctx(dev)) != SVMBIND_BACKEND_IOMMUFD ||
	    svmbind_probe_device(bdf, dev, &p, 0))
		return false;
	return p.pasid_space == 1 || (p.iommu_pasid_log2 > 0 && p.pasid < 0);
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
	ret = svm_dma_open();
	if (ret && ret != -ENODEV)
		fprintf(stderr, "A: %s: cannot map BAR0: %s; using the provider's emulated DMA\n", bdf,
			svmbind_strerror(ret));
	if (sd.bar)
		printf("A: %s is an svm-dma device (PASID, ATS%s): A drives its DMA itself\n", bdf,
		       sd.pri ? ", PRI" : ", no PRI");
	if (sd.bar && sd.pri)
		bo.flags |= SVMBIND_BROKER_SPACE_ON_DEMAND;	/* PASID spaces: pages placed as the device asks */
	if (dialect == SVMBIND_DIALECT_NONE && pasid_spaces(bdf))
		printf("A: %s: this kernel has no SVM bind (VFIO_DEVICE_BIND_TASK answers ENOTTY). A client's\n"
		       "   bond is a PASID space instead: only the memory it shares, at its own addresses%s.\n",
		       bdf, bo.flags & SVMBIND_BROKER_SPACE_ON_DEMAND ? ", placed on demand" : ", pinned");
	else if (dialect == SVMBIND_DIALECT_NONE)
		printf("A: %s: this kernel has no SVM bind (VFIO_DEVICE_BIND_TASK answers ENOTTY: the seed's\n"
		       "   UAPI never reached mainline Linux). I serve anyway, so that clients hear it too:\n"
		       "   every bind will be refused with that reason.\n", bdf);
	else if (dialect == SVMBIND_DIALECT_SELF)
		printf("A: %s: this kernel binds only its caller's own address space (no VFIO_SVM_PID):\n"
		       "   a broker cannot bind clients; each process must open the device itself.\n", bdf);
	ret = svmbind_broker_new(dev, &bo, &broker);
	if (ret) {
		fprintf(stderr, "A: cannot start the broker: %s\n", svmbind_strerror(ret));
		svm_dma_close();
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
	svm_dma_close();
	svmbind_ctx_free(ctx);
	return ret ? 1 : 0;
}
