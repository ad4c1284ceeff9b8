/*
 * resolve.c - host and service names to socket addresses.
 *
 * Numeric addresses and ports are parsed here, never handed to getaddrinfo:
 * glibc's getaddrinfo may read gai.conf and query the kernel for the
 * configured address families even for "127.0.0.1", which costs more than
 * the connect it precedes.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define HOSTFMT(h) ((h) ? (h) : "*")

bool nwi_host_is_wildcard(const char *host)
{
	return host == NULL || strcmp(host, "*") == 0;
}

void nwi_addrlist_free(struct nwi_addrlist *list)
{
	if (list->addrs != list->inline_addrs)
		free(list->addrs);
	list->addrs = NULL;
	list->count = 0;
}

static int gai_errno(int rc)
{
	switch (rc) {
	case EAI_AGAIN:
		return EAGAIN;
	case EAI_MEMORY:
		return ENOMEM;
	case EAI_SYSTEM:
		return errno ? errno : EIO;
	case EAI_FAMILY:
	case EAI_SOCKTYPE:
	case EAI_BADFLAGS:
		return EINVAL;
	default:
		/* EAI_NONAME, EAI_SERVICE, EAI_FAIL, EAI_NODATA, EAI_ADDRFAMILY */
		return EADDRNOTAVAIL;
	}
}

static int gai_fail(int rc, const char *call, const char *host, const char *service)
{
	int err = gai_errno(rc);

	if (rc == EAI_SYSTEM)
		return nwi_fail(err, "%s(%s, %s)", call, HOSTFMT(host), service);
	/* gai_strerror returns constant strings in glibc and musl: thread-safe. */
	return nwi_fail_text(err, gai_strerror(rc), "%s(%s, %s)", call, HOSTFMT(host), service);
}

/*
 * A service of digits alone is a port number, and so is one with a sign
 * ("-1", "+80"), which is then out of range.  Anything else is a service
 * name: /etc/services has names that start with a digit ("3com-tsmux").
 */
static int parse_service(const char *call, const char *host, const char *service,
			 int socktype, int64_t deadline, uint16_t *port)
{
	const char *p = service;
	unsigned long value = 0;

	if (service == NULL || *service == '\0')
		return nwi_fail_text(EINVAL, "empty service", "%s(%s, %s)",
				     call, HOSTFMT(host), nwi_str(service));
	if (*p == '-' || *p == '+')
		p++;
	p += strspn(p, "0123456789");
	if (*p == '\0' && p > service + (*service == '-' || *service == '+')) {
		for (p = service; *p >= '0' && *p <= '9' && value <= 65535; p++)
			value = value * 10 + (unsigned long)(*p - '0');
		if (*p != '\0' || value > 65535)
			return nwi_fail_text(EINVAL, "port must be a number from 0 to 65535",
					     "%s(%s, %s)", call, HOSTFMT(host), service);
		*port = (uint16_t)value;
		return 0;
	}

	struct addrinfo hints = { .ai_flags = AI_PASSIVE, .ai_socktype = socktype };
	struct addrinfo *res = NULL;
	/* Services can come from NIS or SSSD: the deadline bounds them too. */
	int rc = nwi_getaddrinfo_until(NULL, service, &hints, deadline, &res);

	if (rc == NWI_EAI_TIMEOUT)
		return nwi_fail_text(ETIMEDOUT, "service lookup timed out", "%s(%s, %s)",
				     call, HOSTFMT(host), service);
	if (rc != 0)
		return gai_fail(rc, call, host, service);
	if (res->ai_family == AF_INET6)
		*port = ntohs(((struct sockaddr_in6 *)res->ai_addr)->sin6_port);
	else
		*port = ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port);
	freeaddrinfo(res);
	return 0;
}

static void set_v4(struct nwi_addr *a, const struct in_addr *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&a->ss;

	memset(a, 0, sizeof *a);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr = *ip;
	a->family = AF_INET;
	a->len = sizeof *sin;
}

static void set_v6(struct nwi_addr *a, const struct in6_addr *ip, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof *a);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = *ip;
	a->family = AF_INET6;
	a->len = sizeof *sin6;
}

static int resolve_name(const char *call, const char *host, const char *name,
			const char *service, uint16_t port, int socktype, int flags,
			int64_t deadline, struct nwi_addrlist *out)
{
	struct addrinfo hints = { .ai_socktype = socktype };
	struct addrinfo *res = NULL, *ai;
	size_t n = 0;
	int rc;

	if (flags & NWI_PASSIVE)
		hints.ai_flags |= AI_PASSIVE;
	/* Anything with a colon is an IPv6 literal (with a scope): never ask DNS. */
	if (strchr(name, ':') != NULL)
		hints.ai_flags |= AI_NUMERICHOST;
	rc = nwi_getaddrinfo_until(name, NULL, &hints, deadline, &res);
	if (rc == NWI_EAI_TIMEOUT)
		return nwi_fail_text(ETIMEDOUT, "name lookup timed out", "%s(%s, %s)",
				     call, host, service);
	if (rc != 0)
		return gai_fail(rc, call, host, service);
	for (ai = res; ai; ai = ai->ai_next)
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			n++;
	if (n == 0) {
		freeaddrinfo(res);
		return nwi_fail_text(EADDRNOTAVAIL, "no IPv4 or IPv6 address",
				     "%s(%s, %s)", call, host, service);
	}
	out->addrs = n <= 2 ? out->inline_addrs : calloc(n, sizeof *out->addrs);
	if (out->addrs == NULL) {
		freeaddrinfo(res);
		return nwi_fail(ENOMEM, "%s(%s, %s)", call, host, service);
	}
	out->count = 0;
	for (ai = res; ai; ai = ai->ai_next) {
		struct nwi_addr *a = &out->addrs[out->count];

		if (ai->ai_family == AF_INET) {
			set_v4(a, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, port);
		} else if (ai->ai_family == AF_INET6) {
			set_v6(a, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, port);
			((struct sockaddr_in6 *)&a->ss)->sin6_scope_id =
				((struct sockaddr_in6 *)ai->ai_addr)->sin6_scope_id;
		} else {
			continue;
		}
		out->count++;
	}
	freeaddrinfo(res);
	return 0;
}

int nwi_resolve(const char *call, const char *host, const char *service,
		int socktype, int flags, struct nwi_addrlist *out)
{
	return nwi_resolve_until(call, host, service, socktype, flags, -1, out);
}

int nwi_resolve_until(const char *call, const char *host, const char *service,
		      int socktype, int flags, int64_t deadline, struct nwi_addrlist *out)
{
	char name[256];
	const char *h = host;
	struct in_addr ip4;
	struct in6_addr ip6;
	uint16_t port = 0;

	out->count = 0;
	out->addrs = out->inline_addrs;
	if (host != NULL && *host == '\0')
		return nwi_fail_text(EINVAL, "empty host", "%s(, %s)", call, nwi_str(service));
	if (host == NULL && !(flags & NWI_PASSIVE))
		return nwi_fail_text(EINVAL, "no host", "%s((null), %s)", call, nwi_str(service));
	if (parse_service(call, host, service, socktype, deadline, &port) < 0)
		return -1;

	if ((flags & NWI_PASSIVE) && nwi_host_is_wildcard(host)) {
		/* One dual-stack IPv6 socket first; IPv4 only where IPv6 is missing. */
		set_v6(&out->inline_addrs[0], &in6addr_any, port);
		ip4.s_addr = htonl(INADDR_ANY);
		set_v4(&out->inline_addrs[1], &ip4, port);
		out->count = 2;
		return 0;
	}

	/* Accept "[::1]" as well as "::1", as URLs write it. */
	if (host[0] == '[') {
		size_t len = strlen(host);

		if (len < 3 || host[len - 1] != ']' || len - 2 >= sizeof name)
			return nwi_fail_text(EADDRNOTAVAIL, "malformed bracketed address",
					     "%s(%s, %s)", call, host, service);
		memcpy(name, host + 1, len - 2);
		name[len - 2] = '\0';
		h = name;
		/* RFC 3986: brackets hold an IPv6 literal, never a name to look up. */
		if (strchr(name, ':') == NULL)
			return nwi_fail_text(EADDRNOTAVAIL, "brackets hold only an IPv6 address",
					     "%s(%s, %s)", call, host, service);
	}
	if (inet_pton(AF_INET, h, &ip4) == 1) {
		set_v4(&out->inline_addrs[0], &ip4, port);
		out->count = 1;
		return 0;
	}
	if (inet_pton(AF_INET6, h, &ip6) == 1) {
		set_v6(&out->inline_addrs[0], &ip6, port);
		out->count = 1;
		return 0;
	}
	return resolve_name(call, host, h, service, port, socktype, flags, deadline, out);
}
