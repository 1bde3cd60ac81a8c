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
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include <svmbind/svmbind.h>

#define R_ID		0x00
#define R_PASID		0x08
#define R_CTRL		0x0c
#define R_SRC_LO	0x10
#define R_SRC_HI	0x14
#define R_DST_LO	0x18
#define R_DST_HI	0x1c
#define R_LEN		0x20
#define R_DOORBELL	0x24
#define R_STATUS	0x28
#define SVM_DMA_MAGIC	0x53564d44u
#define ST_BUSY		0x01
#define ST_DONE		0x02
#define LINE		96

/* Hands the device to the provider (driver_override), if it is not there yet. */
static void bind_to_provider(const char *bdf)
{
	char path[128], link[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.40s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = 0;
		if (!strcmp(strrchr(link, '/') + 1, "svmref-vfio-pci"))
			return;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.40s/driver/unbind", bdf);
		if ((fd = open(path, O_WRONLY)) >= 0) {
			if (write(fd, bdf, strlen(bdf)) < 0)
				perror(path);
			close(fd);
		}
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%.40s/driver_override", bdf);
	if ((fd = open(path, O_WRONLY)) >= 0) {
		if (write(fd, "svmref-vfio-pci", 15) < 0)
			perror(path);
		close(fd);
	}
	if ((fd = open("/sys/bus/pci/drivers_probe", O_WRONLY)) >= 0) {
		if (write(fd, bdf, strlen(bdf)) < 0)
			perror("drivers_probe (is svmref.ko loaded? vm.sh --driver svmref)");
		close(fd);
	}
}

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
	struct svmbind_region_info cfg = { .sz = sizeof(cfg) };
	struct svmbind_device *dev;
	struct svmbind_ctx *ctx;
	volatile uint32_t *bar;
	uint64_t addr[2];
	uint32_t pasid, st;
	size_t bar_len;
	uint16_t cmd;
	int sv[2], ret, status, fd;
	void *p;
	pid_t b;

	if (argc != 2) {
		fprintf(stderr, "usage: sva_demo BDF (an svm-dma device, 1234:5356, bound to svmref-vfio-pci)\n");
		return 2;
	}
	svmbind_set_log(svmbind_log_stderr, NULL);
	bind_to_provider(argv[1]);
	ret = svmbind_ctx_new(NULL, &ctx);
	if (!ret)
		ret = svmbind_device_open(ctx, argv[1], NULL, &dev);
	if (ret) {
		fprintf(stderr, "sva_demo: %s: %s\n", argv[1], svmbind_strerror(ret));
		return 77;
	}
	ret = svmbind_device_map_region(dev, 0, PROT_READ | PROT_WRITE, &p, &bar_len);
	bar = p;
	if (ret || bar[R_ID / 4] != SVM_DMA_MAGIC) {
		fprintf(stderr, "sva_demo: %s is not an svm-dma device\n", argv[1]);
		return 77;
	}
	/* bus mastering on (vfio-pci hands the device over with it off) */
	fd = svmbind_device_fd(dev);
	if (svmbind_device_region_info(dev, 7 /* config */, &cfg) ||
	    pread(fd, &cmd, 2, (off_t)cfg.offset + PCI_COMMAND) != 2)
		return 1;
	cmd |= PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY;
	if (pwrite(fd, &cmd, 2, (off_t)cfg.offset + PCI_COMMAND) != 2)
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
	bar[R_PASID / 4] = pasid;
	bar[R_CTRL / 4] = 0;
	bar[R_SRC_LO / 4] = (uint32_t)addr[0];
	bar[R_SRC_HI / 4] = (uint32_t)(addr[0] >> 32);
	bar[R_DST_LO / 4] = (uint32_t)addr[1];
	bar[R_DST_HI / 4] = (uint32_t)(addr[1] >> 32);
	bar[R_LEN / 4] = LINE;
	bar[R_DOORBELL / 4] = 1;
	while ((st = bar[R_STATUS / 4]) == ST_BUSY)
		usleep(100);
	printf("A: device status 0x%x (%s)\n", st, st == ST_DONE ? "done" : "error");
	fflush(stdout);
	/* the device is done with B: unbind while B's address space still lives */
	ret = svm_unbind(dev, pasid, 0);
	if (write(sv[0], "g", 1) != 1)
		return 1;
	waitpid(b, &status, 0);
	svmbind_ctx_free(ctx);
	if (ret)
		return 1;
	return st == ST_DONE && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
