// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Process B of the seed's flow: asks A (the broker) to bind our address
 * space, then asks for work on our own malloc'ed buffers by virtual address,
 * and prints what A's device wrote there.
 *
 *   ab_client --socket PATH [--text STRING] [--no-ptracer] [--verbose]
 *
 * Exit: 0 done; 2 the kernel has no SVM bind (or binds only its caller);
 * 3 the bind was refused (ptrace check, Yama, policy); 1 anything else.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <svmbind/broker.h>
#include <svmbind/svmbind.h>

#include "ab_proto.h"

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

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' }, { "text", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' }, { "no-ptracer", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' }, { 0 } };
	struct svmbind_client_opts co = { .sz = sizeof(co) };
	const char *path = getenv("AB_SOCKET"), *text = "hello from B, through my own address space";
	struct svmbind_client *cl;
	struct ab_work w = { 0 };
	char *src, *dst, reply[256];
	size_t rlen = sizeof(reply) - 1;
	int32_t status = 0;
	uint32_t pasid;
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

	src = malloc(AB_MAX_TEXT);
	dst = calloc(1, AB_MAX_TEXT);
	if (!src || !dst)
		return 1;
	strcpy(src, text);
	w.src = (uintptr_t)src;
	w.dst = (uintptr_t)dst;
	w.len = (uint32_t)strlen(text) + 1;
	printf("B: asking A to work on my buffers at %p -> %p\n", (void *)src, (void *)dst);
	ret = svmbind_client_request(cl, AB_WORK, &w, sizeof(w), reply, &rlen, &status);
	if (ret) {
		ret = explain("the request failed", ret);
		goto out;
	}
	reply[rlen < sizeof(reply) ? rlen : sizeof(reply) - 1] = '\0';
	if (status) {
		fprintf(stderr, "B: A could not do the work: %s\n", svmbind_strerror(status));
		ret = 1;
		goto out;
	}
	printf("B: A says: %s\n", reply);
	printf("B: my buffer now reads: \"%s\"\n", dst);
	ret = strlen(dst) == strlen(src) ? 0 : 1;
	if (svmbind_client_unbind(cl) == 0)
		printf("B: unbound PASID %u\n", pasid);
out:
	free(src);
	free(dst);
	svmbind_client_close(cl);
	return ret;
}
