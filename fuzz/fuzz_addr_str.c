/*
 * fuzz_addr_str.c - libFuzzer target: nw_addr_str on arbitrary sockaddr
 * bytes and lengths, into output buffers of every size.
 *
 * The address is copied into a block of exactly its claimed length, so
 * any read past len is an ASan report.  Each input is formatted twice, into
 * the caller's size and into NW_ADDRSTRLEN bytes: the two must agree, the
 * result must fit NW_ADDRSTRLEN (the header's promise), and an IPv4/IPv6
 * result must read back as the same address and port.
 *
 * Input: two bytes of output size (0..511), then the sockaddr bytes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netwrap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_inet(const struct sockaddr *sa, const char *s)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	char ip[INET_ADDRSTRLEN];
	struct in_addr back;
	unsigned port;
	int end = 0;

	if (sscanf(s, "%15[0-9.]:%u%n", ip, &port, &end) != 2 || s[end] != '\0')
		abort();
	if (inet_pton(AF_INET, ip, &back) != 1 || back.s_addr != sin->sin_addr.s_addr ||
	    port != ntohs(sin->sin_port))
		abort();
}

static void check_inet6(const struct sockaddr *sa, const char *s)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const char *close = strrchr(s, ']');
	char ip[INET6_ADDRSTRLEN + 1];
	struct in6_addr back;
	size_t iplen;

	if (s[0] != '[' || close == NULL || close[1] != ':')
		abort();
	iplen = strcspn(s + 1, "%]");
	if (iplen >= sizeof ip)
		abort();
	memcpy(ip, s + 1, iplen);
	ip[iplen] = '\0';
	if (inet_pton(AF_INET6, ip, &back) != 1 ||
	    memcmp(&back, &sin6->sin6_addr, sizeof back) != 0)
		abort();
	if ((s[1 + iplen] == '%') != (sin6->sin6_scope_id != 0))
		abort();
	if (strtoul(close + 2, NULL, 10) != ntohs(sin6->sin6_port))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char full[NW_ADDRSTRLEN];
	struct sockaddr *sa;
	const char *ref, *s;
	size_t bufsize;
	char *buf;
	int ref_err;

	if (size < 2)
		return 0;
	bufsize = data[0] | (size_t)(data[1] & 1) << 8;
	data += 2;
	size -= 2;
	sa = malloc(size ? size : 1);
	buf = malloc(bufsize ? bufsize : 1);
	if (sa == NULL || buf == NULL)
		abort();
	memcpy(sa, data, size);

	errno = 0;
	ref = nw_addr_str(sa, (socklen_t)size, full, sizeof full);
	ref_err = errno;
	if (ref != NULL) {
		if (ref != full || strlen(ref) >= sizeof full)
			abort();
		if (sa->sa_family == AF_INET)
			check_inet(sa, ref);
		else if (sa->sa_family == AF_INET6)
			check_inet6(sa, ref);
		else if (sa->sa_family != AF_UNIX || strncmp(ref, "unix:", 5) != 0)
			abort();
	} else if (ref_err != EINVAL && ref_err != EAFNOSUPPORT) {
		abort();	/* NW_ADDRSTRLEN must always be enough */
	}

	errno = 0;
	s = nw_addr_str(sa, (socklen_t)size, buf, bufsize);
	if (s != NULL) {
		if (s != buf || ref == NULL || strcmp(s, ref) != 0)
			abort();
	} else if (ref != NULL) {
		if (errno != ENOSPC && !(errno == EINVAL && bufsize == 0))
			abort();
		if (errno == ENOSPC && strlen(ref) < bufsize)
			abort();
	} else if (errno != ref_err && !(errno == EINVAL && bufsize == 0)) {
		abort();
	}
	free(sa);
	free(buf);
	return 0;
}
