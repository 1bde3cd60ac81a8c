// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * bind_self: open a device, bind this process's address space, show the PASID,
 * unbind. On a kernel without SVM bind it says so and exits 2.
 *
 *   bind_self 0000:00:03.0
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <svmbind/svmbind.h>

int main(int argc, char **argv)
{
	struct svmbind_ctx *ctx;
	struct svmbind_device *dev;
	uint32_t pasid;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PCI-ADDRESS (e.g. 0000:00:03.0, as 'lspci -D' prints)\n", argv[0]);
		return 64;
	}
	svmbind_set_log(svmbind_log_stderr, NULL);
	svmbind_set_log_level(SVMBIND_LOG_WARN);

	ret = svmbind_ctx_new(NULL, &ctx);
	if (ret) {
		fprintf(stderr, "bind_self: %s\n", svmbind_strerror(ret));
		return 1;
	}
	ret = svmbind_device_open(ctx, argv[1], NULL, &dev);
	if (ret) {
		fprintf(stderr, "bind_self: %s: %s\n", argv[1], svmbind_strerror(ret));
		svmbind_ctx_free(ctx);
		return 1;
	}
	ret = svm_bind_self(dev, &pasid);
	if (ret == -SVMBIND_ERR_NO_SVM_BIND) {
		printf("%s: this kernel cannot bind address spaces to the device: %s\n",
		       svmbind_device_name(dev), svmbind_strerror(ret));
		svmbind_ctx_free(ctx);
		return 2;
	}
	if (ret) {
		fprintf(stderr, "bind_self: %s\n", svmbind_strerror(ret));
		svmbind_ctx_free(ctx);
		return 1;
	}
	printf("%s: pid %d bound as PASID %u\n", svmbind_device_name(dev), (int)getpid(), pasid);
	ret = svm_unbind(dev, pasid, 0);
	if (ret)
		fprintf(stderr, "bind_self: unbind: %s\n", svmbind_strerror(ret));
	else
		printf("%s: PASID %u unbound\n", svmbind_device_name(dev), pasid);
	svmbind_ctx_free(ctx);
	return ret ? 1 : 0;
}
