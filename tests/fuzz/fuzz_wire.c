// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libFuzzer target for the broker's message parser (lib/broker/wire.c):
 * any bytes, parsed as a stream of messages the way the broker and the
 * client read them; every message that parses must encode back to the same
 * bytes, and nothing may read or write out of bounds (ASan, UBSan).
 *   clang -fsanitize=fuzzer,address,undefined ... ; ./fuzz_wire -max_total_time=60 corpus/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char out[SBW_MAX_MSG];
	size_t off = 0;

	while (off < size) {
		struct sbw_msg m;
		size_t need = 0;
		int len = sbw_parse(data + off, size - off, &m, &need);

		if (len <= 0) {
			if (len == 0 && (need < SBW_HDR_LEN || need > SBW_MAX_MSG))
				abort();	/* "need more" must name a sane total */
			break;
		}
		if ((size_t)len > size - off || (size_t)len > SBW_MAX_MSG)
			abort();
		if (sbw_frame_len(data + off, (size_t)len) != len)
			abort();
		/* what parses, encodes back byte for byte */
		int elen = sbw_encode(&m, out, sizeof(out));

		if (elen != len || memcmp(out, data + off, (size_t)len))
			abort();
		(void)sbw_from_client(m.type);
		(void)sbw_type_name(m.type);
		off += (size_t)len;
	}
	return 0;
}
