/*
 * fuzz_addr_parse.c - libFuzzer target: nw_addr_parse is the inverse of
 * nw_addr_str.
 *
 * Input: one mode byte, then the rest.
 *  - even mode: the rest is text.  Whatever nw_addr_parse accepts must
 *    format with nw_addr_str, and that text must parse back to an equal
 *    address (nw_addr_equal, port included) that formats to the same text.
 *  - odd mode: the rest is a socket address of exactly its own length.
 *    Whatever nw_addr_str formats must parse back, and format again to the
 *    same text.
 * Anything nw_addr_parse refuses must be EINVAL; it must never read past
 * the text's NUL (the text is copied into a block of exactly its size).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "netwrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* text parses, formats back to itself, and to an address equal to sa. */
static void check_round_trip(const char *text, const struct sockaddr *sa, socklen_t salen)
{
	struct sockaddr_storage back;
	socklen_t backlen;
	char again[NW_ADDRSTRLEN];

	if (nw_addr_parse(text, &back, &backlen) != 0)
		abort();
	if (nw_addr_str((struct sockaddr *)&back, backlen, again, sizeof again) == NULL)
		abort();
	if (strcmp(again, text) != 0)
		abort();
	if (sa == NULL)
		return;
	if (sa->sa_family != AF_UNIX) {
		if (nw_addr_equal(sa, salen, (struct sockaddr *)&back, backlen, 1) != 1)
			abort();
		return;
	}
	/*
	 * An abstract name shows every NUL as '@' and parses only the first
	 * back, so its bytes may differ: but it must stay abstract, and a
	 * pathname a pathname, except one that starts with '@', which reads
	 * as an abstract name here as everywhere in the library.
	 */
	size_t off = offsetof(struct sockaddr_un, sun_path);
	bool named = salen > off, back_named = backlen > off;

	if (named != back_named)
		abort();
	if (named && ((const struct sockaddr_un *)sa)->sun_path[0] == '@')
		return;
	if (named && (((const struct sockaddr_un *)sa)->sun_path[0] == '\0') !=
		     (((const struct sockaddr_un *)&back)->sun_path[0] == '\0'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[NW_ADDRSTRLEN];

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		char *in = malloc(size);
		struct sockaddr_storage ss;
		socklen_t len;

		if (in == NULL)
			abort();
		memcpy(in, data + 1, size - 1);
		in[size - 1] = '\0';
		errno = 0;
		if (nw_addr_parse(in, &ss, &len) == 0) {
			if (len > sizeof ss)
				abort();
			if (nw_addr_str((struct sockaddr *)&ss, len, text, sizeof text) == NULL)
				abort();
			check_round_trip(text, (struct sockaddr *)&ss, len);
		} else if (errno != EINVAL) {
			abort();
		}
		free(in);
		return 0;
	}

	struct sockaddr *sa;

	size--;
	data++;
	if (size > sizeof(struct sockaddr_storage))
		return 0;
	sa = malloc(size ? size : 1);
	if (sa == NULL)
		abort();
	memcpy(sa, data, size);
	if (nw_addr_str(sa, (socklen_t)size, text, sizeof text) != NULL)
		check_round_trip(text, sa, (socklen_t)size);
	free(sa);
	return 0;
}
