// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * sva_demo: the seed's flow, for real, in the SVA VM
 * (tests/vm/vm.sh --kernel new --sva --driver svmref -c 'sva_demo BDF').
 *
 * B (a child) mallocs two buffers, writes a line into the first and sends
 * both addresses to A. A binds B's address space to the svm-dma device
 * (svm_bind_pid: B's PASID), maps BAR0 and programs the device with B's
 * PASID and B's virtual addresses. The device translates them through B's
 * page tables (ATS with the PASID, the emulated VT-d walks them) and copies
 * the line into B's second buffer, which nobody mapped or pinned. B prints it.
 * Exit 0 when B read back its line, 1 otherwise, 77 outside that VM.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <svmbind/svmbind.h>

#include "svmdma.h"

#define LINE		96
#define DRIVER		"svmref-vfio-pci"

static void b_main(int sock)
{
	char *msg = malloc(LINE), *out = malloc(LINE);
	uint64_t addr[2] = { (uintptr_t)msg, (uintptr_t)out };
	char go;

	if (!msg || !out)
		_exit(1);
	snprintf(msg, LINE, "written by B (pid %d) into its own malloc'ed buffer", (int)getpid());
	memset(out, 0, LINE);
	if (write(sock, addr, sizeof(addr)) != (ssize_t)sizeof(addr) || read(sock, &go, 1) != 1)
		_exit(1);
	printf("B: my second buffer at %p now reads: \"%s\"\n", (void *)out, out);
	_exit(strcmp(msg, out) ? 1 : 0);
}

int main(int argc, char **argv)
{
	struct svmbind_device *dev;
	struct svmbind_ctx *ctx;
	struct svmdma sd = { 0 };
	uint64_t addr[2];
	uint32_t pasid;
	size_t bar_len;
	int sv[2], ret, status, st;
	void *p;
	pid_t b;

	if (argc != 2) {
		fprintf(stderr, "usage: sva_demo BDF (an svm-dma device, 1234:5356, bound to svmref-vfio-pci)\n");
		return 2;
	}
	svmbind_set_log(svmbind_log_stderr, NULL);
	ret = svmdma_bind(argv[1], DRIVER);	/* the provider takes the device over */
	if (ret)
		fprintf(stderr, "sva_demo: %s to %s: %s (is svmref.ko loaded? vm.sh --driver svmref)\n",
			argv[1], DRIVER, strerror(-ret));
	ret = svmbind_ctx_new(NULL, &ctx);
	if (!ret)
		ret = svmbind_device_open(ctx, argv[1], NULL, &dev);
	if (ret) {
		fprintf(stderr, "sva_demo: %s: %s\n", argv[1], svmbind_strerror(ret));
		return 77;
	}
	ret = svmbind_device_map_region(dev, 0, PROT_READ | PROT_WRITE, &p, &bar_len);
	if (ret || (ret = svmdma_attach(&sd, p, bar_len, svmbind_device_fd(dev))) == -ENODEV) {
		fprintf(stderr, "sva_demo: %s is not an svm-dma device\n", argv[1]);
		return 77;
	}
	if (ret)	/* bus mastering stayed off */
		return 1;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 1;
	b = fork();
	if (b == 0) {
		close(sv[0]);
		b_main(sv[1]);
	}
	close(sv[1]);
	if (read(sv[0], addr, sizeof(addr)) != (ssize_t)sizeof(addr))
		return 1;
	ret = svm_bind_pid(dev, b, &pasid);
	if (ret) {
		fprintf(stderr, "sva_demo: bind pid %d: %s\n", (int)b, svmbind_strerror(ret));
		kill(b, SIGKILL);
		return 1;
	}
	printf("A: B (pid %d) is PASID %u; device: copy B:0x%" PRIx64 " -> B:0x%" PRIx64 "\n",
	       (int)b, pasid, addr[0], addr[1]);
	st = svmdma_copy(&sd, pasid, 0, addr[0], addr[1], LINE, NULL, NULL, NULL);
	printf("A: device status 0x%x (%s)\n", svmdma_rd(&sd, SD_STATUS),
	       st == SD_ST_DONE ? "done" : "error");
	fflush(stdout);
	/* the device is done with B: unbind while B's address space still lives */
	ret = svm_unbind(dev, pasid, 0);
	if (write(sv[0], "g", 1) != 1)
		return 1;
	waitpid(b, &status, 0);
	svmbind_ctx_free(ctx);
	if (ret)
		return 1;
	return st == SD_ST_DONE && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
