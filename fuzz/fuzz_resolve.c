/*
 * fuzz_resolve.c - libFuzzer target: the service (port) and host (address)
 * parsing of nwi_resolve, the code behind every call that takes a host
 * and a service.
 *
 * resolve.c and lookup.c (getaddrinfo with a deadline) are compiled into
 * this file with getaddrinfo renamed to a guard, so no input can cause a
 * DNS query (the fuzzer must never send traffic): a host that reaches the resolver is looked up with
 * AI_NUMERICHOST added, which fails for a name exactly as an unknown name
 * does, without asking anyone.  A service name is looked up with no host,
 * which reads only the local services database.  The fuzzer calls
 * nwi_resolve without a deadline, so no lookup thread is ever started and
 * no clock read: the guards for pthread_create and nwi_now_ms (io.c's,
 * not linked here) abort should that change.
 * Nothing public is added to the library for this.
 *
 * Input: one byte of mode bits (host NULL, service NULL, datagram,
 * passive), then host '\0' service.
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int guarded_getaddrinfo(const char *node, const char *service,
			       const struct addrinfo *hints, struct addrinfo **res)
{
	struct addrinfo h = { 0 };

	if (hints)
		h = *hints;
	if (node != NULL)
		h.ai_flags |= AI_NUMERICHOST;
	return getaddrinfo(node, service, &h, res);
}

static int refused_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
				  void *(*run)(void *), void *arg)
{
	(void)thread;
	(void)attr;
	(void)run;
	(void)arg;
	abort();
}

#define getaddrinfo guarded_getaddrinfo
#define pthread_create refused_pthread_create
#include "lookup.c"
#include "resolve.c"
#undef getaddrinfo
#undef pthread_create

int64_t nwi_now_ms(void)
{
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The promise: digits alone are a port, 0 to 65535; digits with a sign are
 * a bad port; anything else is a service name ("3com-tsmux" included).
 */
enum port_kind { PORT_NUMBER, PORT_BAD_NUMBER, PORT_NAME };

static enum port_kind reference_port(const char *s, long *port)
{
	bool sign = *s == '+' || *s == '-';
	const char *digits = s + sign;
	size_t n = strspn(digits, "0123456789");
	long v = 0;

	if (n == 0 || digits[n] != '\0')
		return PORT_NAME;
	if (sign)
		return PORT_BAD_NUMBER;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (digits[i] - '0');
		if (v > 65535)
			return PORT_BAD_NUMBER;
	}
	*port = v;
	return PORT_NUMBER;
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nwi_addrlist list;
	const uint8_t *sep;
	char *host = NULL, *service = NULL;
	uint8_t mode;
	long port = -1;
	enum port_kind kind = PORT_NAME;
	int rc;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	sep = memchr(data, '\0', size);
	if (!(mode & 1))
		host = dup_bytes(data, sep ? (size_t)(sep - data) : size);
	if (!(mode & 2)) {
		service = sep ? dup_bytes(sep + 1, size - (size_t)(sep + 1 - data)) : dup_bytes(data, 0);
		kind = reference_port(service, &port);
	}

	errno = 0;
	rc = nwi_resolve("fuzz", host, service, mode & 4 ? SOCK_DGRAM : SOCK_STREAM,
			 mode & 8 ? NWI_PASSIVE : 0, &list);
	if (rc == 0) {
		if (service == NULL || *service == '\0' || kind == PORT_BAD_NUMBER)
			abort();	/* must have been EINVAL */
		if (list.count == 0 || list.addrs == NULL)
			abort();
		for (size_t i = 0; i < list.count; i++) {
			const struct nwi_addr *a = &list.addrs[i];
			uint16_t got;

			if (a->family != a->ss.ss_family)
				abort();
			if (a->family == AF_INET && a->len == sizeof(struct sockaddr_in))
				got = ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
			else if (a->family == AF_INET6 && a->len == sizeof(struct sockaddr_in6))
				got = ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
			else
				abort();
			if (kind == PORT_NUMBER && got != port)
				abort();
		}
		nwi_addrlist_free(&list);
	} else {
		if (rc != -1 || errno == 0 || list.count != 0)
			abort();
		if (strncmp(nw_errmsg(), "fuzz(", 5) != 0)
			abort();
		if (kind == PORT_BAD_NUMBER && errno != EINVAL)
			abort();
	}
	free(host);
	free(service);
	return 0;
}
