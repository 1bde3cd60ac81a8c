// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Process B of the seed's flow: asks A (the broker) to bind our address
 * space, then asks A's device to copy between our own malloc'ed buffers by
 * virtual address, and prints what the device wrote there. Twice: into a
 * buffer we wrote before (its pages are mapped), then into a page of a
 * malloc'ed buffer we never touched (mincore(2) says it is not resident):
 * the device's page request must fault it in.
 *
 * Where A's kernel has no seed bind (mainline Linux) and its device is on
 * stock vfio-pci through iommufd, our bond is a PASID space that holds only
 * the memory we share: the buffers then come from svmbind_client_share_alloc()
 * (a memfd mapped here, passed to A), and the "never touched" page is one of
 * that memory that A places when the device asks for it.
 *
 *   ab_client --socket PATH [--text STRING] [--no-ptracer] [--verbose]
 *
 * Exit: 0 done; 2 the kernel has no SVM bind (or binds only its caller);
 * 3 the bind was refused (ptrace check, Yama, policy); 4 the device could
 * not reach the page we never touched; 1 anything else.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <svmbind/broker.h>
#include <svmbind/svmbind.h>

#include "ab_proto.h"

enum { AB_MAX_TEXT = 256, FRESH_LEN = 1 << 20 };

static int explain(const char *what, int ret)
{
	fprintf(stderr, "B: %s: %s\n", what, svmbind_strerror(ret));
	switch (-ret) {
	case SVMBIND_ERR_NO_SVM_BIND:
		fprintf(stderr, "B: the broker's kernel has no SVM bind: VFIO_DEVICE_BIND_TASK is the seed's\n"
				"   proposal and is not in mainline Linux, so no process can be bound there.\n"
				"   It needs a kernel with the seed patch, or a provider driver.\n");
		return 2;
	case SVMBIND_ERR_NO_PID_BIND:
		fprintf(stderr, "B: that kernel binds only its caller: open the device and bind yourself.\n");
		return 2;
	case SVMBIND_ERR_PTRACE_DENIED:
		fprintf(stderr, "B: the kernel's ptrace check refused to let the broker at us: it must share\n"
				"   our real uid and gid, or hold CAP_SYS_PTRACE (under Yama 1 the client named it\n"
				"   our tracer for the bind; under Yama 2 only CAP_SYS_PTRACE will do).\n");
		return 3;
	case SVMBIND_BROKER_ERR_YAMA:
	case SVMBIND_BROKER_ERR_UID_DENIED:
	case SVMBIND_BROKER_ERR_GID_DENIED:
	case SVMBIND_BROKER_ERR_POLICY_DENIED:
		return 3;
	default:
		return 1;
	}
}

static const char *engine_name(uint32_t e)
{
	return e == AB_ENGINE_SVM_DMA ? "the svm-dma device (real PASID-tagged DMA, IOMMU-translated)" :
	       e == AB_ENGINE_PROVIDER ? "the provider's emulated device" : "an unknown device";
}

/* 1 when the page at @p is in memory, 0 when not, -1 when mincore fails. */
static int resident(const void *p)
{
	long pg = sysconf(_SC_PAGESIZE);
	unsigned char v = 0;

	if (mincore((void *)((uintptr_t)p & ~(uintptr_t)(pg - 1)), (size_t)pg, &v))
		return -1;
	return v & 1;
}

/* @len bytes of memory shared with A (a memfd mapped here): its PASID space holds them. */
static int share(struct svmbind_client *cl, size_t len, char **p)
{
	void *addr;
	int ret = svmbind_client_share_alloc(cl, len, &addr);

	if (ret)
		return explain("sharing memory with A", ret);
	*p = addr;
	return 0;
}

/* One AB_COPY; 0 when A's device reports done, else what to exit with. */
static int copy(struct svmbind_client *cl, const char *src, char *dst, uint32_t len, struct ab_done *done)
{
	struct ab_work w = { .src = (uintptr_t)src, .dst = (uintptr_t)dst, .len = len };
	size_t rlen = sizeof(*done);
	int32_t status = 0;
	int ret;

	memset(done, 0, sizeof(*done));
	ret = svmbind_client_request(cl, AB_COPY, &w, sizeof(w), done, &rlen, &status);
	if (ret)
		return explain("the request failed", ret);
	if (status) {
		fprintf(stderr, "B: A's device could not do the copy: %s\n", svmbind_strerror(status));
		return status == -EFAULT ? 4 : 1;
	}
	if (rlen != sizeof(*done)) {
		fprintf(stderr, "B: A's reply has %zu bytes, want %zu\n", rlen, sizeof(*done));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' }, { "text", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' }, { "no-ptracer", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct svmbind_client_opts co = { .sz = sizeof(co) };
	const char *path = getenv("AB_SOCKET"), *text = "hello from B, through my own address space";
	struct svmbind_client *cl;
	char *src = NULL, *dst = NULL, *big = NULL, *fresh;
	struct ab_done done;
	uint32_t pasid, len;
	bool space = false;
	int opt, ret;

	while ((opt = getopt_long(argc, argv, "s:t:vnh", lo, NULL)) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 't': text = optarg; break;
		case 'v': svmbind_set_log_level(SVMBIND_LOG_DEBUG); break;
		case 'n': co.flags |= SVMBIND_CLIENT_NO_PTRACER; break;	/* to show what Yama does */
		case 'h': printf("usage: ab_client --socket PATH [--text STRING] [--no-ptracer] [--verbose]\n"); return 0;
		default: return 64;
		}
	}
	if (!path || strlen(text) >= AB_MAX_TEXT) {
		fprintf(stderr, "usage: ab_client --socket PATH [--text STRING (< %d bytes)]\n", AB_MAX_TEXT);
		return 64;
	}
	svmbind_set_log(svmbind_log_stderr, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = svmbind_client_connect(path, &co, &cl);
	if (ret)
		return explain("cannot talk to the broker", ret);
	printf("B: pid %d uid %u connected to A (pid %d)\n", (int)getpid(), (unsigned int)getuid(),
	       (int)svmbind_client_broker_pid(cl));
	ret = svmbind_client_bind(cl, &pasid);
	if (ret) {
		ret = explain("A could not bind my address space", ret);
		svmbind_client_close(cl);
		return ret;
	}
	printf("B: my address space is PASID %u on A's device\n", pasid);

	/* 1. two buffers B wrote (malloc'ed, mapped; or shared with A for a PASID space) */
	space = svmbind_client_bind_kind(cl) == SVMBIND_BIND_SPACE;
	if (space) {
		printf("B: A's kernel has no seed bind: my PASID reaches only the memory I share with A,\n"
		       "   at my own addresses; my buffers come from svmbind_client_share_alloc()\n");
		if ((ret = share(cl, AB_MAX_TEXT, &src)) || (ret = share(cl, AB_MAX_TEXT, &dst)) ||
		    (ret = share(cl, FRESH_LEN, &big)))
			goto out;
	} else {
		src = malloc(AB_MAX_TEXT);
		dst = calloc(1, AB_MAX_TEXT);
		big = malloc(FRESH_LEN);	/* above the mmap threshold: its pages come on first touch */
	}
	if (!src || !dst || !big) {
		ret = 1;
		goto out;
	}
	strcpy(src, text);
	len = (uint32_t)strlen(text) + 1;
	printf("B: asking A to copy %u bytes of mine: %p -> %p\n", len, (void *)src, (void *)dst);
	ret = copy(cl, src, dst, len, &done);
	if (ret)
		goto out;
	printf("B: done by %s\n", engine_name(done.engine));
	printf("B: my buffer now reads: \"%s\"\n", dst);
	if (memcmp(src, dst, len)) {
		fprintf(stderr, "B: FAILED: the buffer does not hold what the device was to copy\n");
		ret = 1;
		goto out;
	}

	/* 2. a page of a malloc'ed buffer B never touched */
	fresh = (char *)(((uintptr_t)big + FRESH_LEN / 2) & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1));
	if (resident(fresh) != 0) {
		fprintf(stderr, "B: FAILED: the page at %p is already in memory (mincore): cannot show a "
				"fault-in\n", (void *)fresh);
		ret = 1;
		goto out;
	}
	printf("B: asking A to copy into %p, a page of my %s buffer that I never touched "
	       "(not in memory)\n", (void *)fresh, space ? "shared" : "malloc'ed");
	ret = copy(cl, src, fresh, len, &done);
	if (ret == 4)
		fprintf(stderr, "B: %s%s\n", engine_name(done.engine), done.engine == AB_ENGINE_SVM_DMA &&
			!done.pri ? " has no PRI: it cannot ask for a page that is not there" : "");
	if (ret)
		goto out;
	if (done.engine == AB_ENGINE_SVM_DMA && space)
		printf("B: done by the svm-dma device after %u page request(s): A's fault handler placed my "
		       "page in my PASID space\n", done.page_requests);
	else if (done.engine == AB_ENGINE_SVM_DMA)
		printf("B: done by the svm-dma device after %u page request(s): the IOMMU faulted my page in\n",
		       done.page_requests);
	else
		printf("B: done by %s, which faulted my page in\n", engine_name(done.engine));
	printf("B: that page now reads: \"%s\" (in memory: %s)\n", fresh, resident(fresh) == 1 ? "yes" : "no");
	if (memcmp(src, fresh, len) || resident(fresh) != 1 ||
	    (done.engine == AB_ENGINE_SVM_DMA && !done.page_requests)) {
		fprintf(stderr, "B: FAILED: the untouched page was not faulted in and written as asked\n");
		ret = 1;
		goto out;
	}
	ret = 0;
	if (svmbind_client_unbind(cl) == 0)
		printf("B: unbound PASID %u\n", pasid);
out:
	if (space) {	/* A unmaps them from my space and releases its pins */
		if (src)
			svmbind_client_share_free(cl, src, AB_MAX_TEXT);
		if (dst)
			svmbind_client_share_free(cl, dst, AB_MAX_TEXT);
		if (big)
			svmbind_client_share_free(cl, big, FRESH_LEN);
	} else {
		free(src);
		free(dst);
		free(big);
	}
	svmbind_client_close(cl);
	return ret;
}
