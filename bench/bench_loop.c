// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bench_loop: N bind+unbind pairs and nothing else, for counting the user-space
 * instructions of each way with callgrind (bench/callgrind.sh).
 *
 *   bench_loop raw-self|lib-self|raw-pid|lib-pid PCI-ADDRESS N
 *
 * "pid" binds a child process (VFIO_SVM_PID; through the library that is
 * svm_bind_pid, with its address-space witness). The device is opened
 * through the library in every mode, so the difference between two runs
 * with different N is the loop alone.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <svmbind/svmbind.h>

int main(int argc, char **argv)
{
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	bool raw, pid_mode;
	pid_t child = 0;
	long n;
	int fd, ret = 0;

	if (argc != 4 || (strcmp(argv[1], "raw-self") && strcmp(argv[1], "lib-self") &&
			  strcmp(argv[1], "raw-pid") && strcmp(argv[1], "lib-pid"))) {
		fprintf(stderr, "usage: %s raw-self|lib-self|raw-pid|lib-pid PCI-ADDRESS N\n", argv[0]);
		return 64;
	}
	raw = !strncmp(argv[1], "raw", 3);
	pid_mode = strstr(argv[1], "pid") != NULL;
	n = atol(argv[3]);
	if (svmbind_ctx_new(NULL, &ctx) || svmbind_device_open(ctx, argv[2], NULL, &dev))
		return 1;
	fd = svmbind_device_fd(dev);
	if (pid_mode) {
		child = fork();
		if (child == 0) {
			pause();
			_exit(0);
		}
	}
	for (long i = 0; i < n && !ret; i++) {
		uint32_t pasid;

		if (raw) {
			struct vfio_device_svm s = { .argsz = sizeof(s) };

			if (pid_mode) {
				s.flags = VFIO_SVM_PID;
				s.pid = (uint32_t)child;
			}
			ret = ioctl(fd, VFIO_DEVICE_BIND_TASK, &s);
			s.flags = 0;
			if (!ret)
				ret = ioctl(fd, VFIO_DEVICE_UNBIND_TASK, &s);
		} else {
			ret = pid_mode ? svm_bind_pid(dev, child, &pasid) : svm_bind_self(dev, &pasid);
			if (!ret)
				ret = svm_unbind(dev, pasid, 0);
		}
	}
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	svmbind_ctx_free(ctx);
	return ret ? 1 : 0;
}
