/*
 * addr.c - socket addresses as text, and the port a socket is bound to.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

/* "unix:" and a sun_path without a terminating NUL, plus ours. */
_Static_assert(NW_ADDRSTRLEN >= sizeof "unix:" + sizeof(((struct sockaddr_un *)0)->sun_path),
	       "NW_ADDRSTRLEN too small for a Unix-domain path");
/* "[" address "%" interface or scope number "]:65535" */
_Static_assert(NW_ADDRSTRLEN >= INET6_ADDRSTRLEN + IF_NAMESIZE + sizeof "[%]:65535",
	       "NW_ADDRSTRLEN too small for a scoped IPv6 address");

static const char *format_unix(const struct sockaddr_un *sun, socklen_t len,
			       char *buf, size_t size)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t n = len > off ? (size_t)len - off : 0;
	const char *path = sun->sun_path;

	if (n > sizeof sun->sun_path)
		n = sizeof sun->sun_path;
	/* A pathname's length may count its NUL (or more); the name ends there. */
	if (n > 0 && path[0] != '\0')
		n = strnlen(path, n);
	if (size < sizeof "unix:" + n) {
		errno = ENOSPC;
		return NULL;
	}
	memcpy(buf, "unix:", 5);
	memcpy(buf + 5, path, n);
	/* An abstract name starts with NUL and may hold more: show them as '@'. */
	for (size_t i = 0; i < n; i++)
		if (buf[5 + i] == '\0')
			buf[5 + i] = '@';
	buf[5 + n] = '\0';
	return buf;
}

static const char *format_inet6(const struct sockaddr_in6 *sin6, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	char scope[IF_NAMESIZE + 12] = "";
	int n;

	inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
	if (sin6->sin6_scope_id != 0) {
		char ifname[IF_NAMESIZE];

		if (if_indextoname(sin6->sin6_scope_id, ifname) != NULL)
			snprintf(scope, sizeof scope, "%%%s", ifname);
		else
			snprintf(scope, sizeof scope, "%%%u", sin6->sin6_scope_id);
	}
	n = snprintf(buf, size, "[%s%s]:%u", ip, scope, ntohs(sin6->sin6_port));
	if (n < 0 || (size_t)n >= size) {
		errno = ENOSPC;
		return NULL;
	}
	return buf;
}

static const char *format_inet(const struct sockaddr_in *sin, char *buf, size_t size)
{
	char ip[INET_ADDRSTRLEN];
	int n;

	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
	n = snprintf(buf, size, "%s:%u", ip, ntohs(sin->sin_port));
	if (n < 0 || (size_t)n >= size) {
		errno = ENOSPC;
		return NULL;
	}
	return buf;
}

const char *nw_addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t size)
{
	const char *s;

	if (sa == NULL || buf == NULL || size == 0 || len < (socklen_t)sizeof sa->sa_family) {
		nwi_fail(EINVAL, "nw_addr_str(len %u, size %zu)", (unsigned)len, size);
		return NULL;
	}
	switch (sa->sa_family) {
	case AF_INET:
		if (len < (socklen_t)sizeof(struct sockaddr_in))
			goto short_len;
		s = format_inet((const struct sockaddr_in *)sa, buf, size);
		break;
	case AF_INET6:
		if (len < (socklen_t)sizeof(struct sockaddr_in6))
			goto short_len;
		s = format_inet6((const struct sockaddr_in6 *)sa, buf, size);
		break;
	case AF_UNIX:
		s = format_unix((const struct sockaddr_un *)sa, len, buf, size);
		break;
	default:
		nwi_fail(EAFNOSUPPORT, "nw_addr_str(family %d)", sa->sa_family);
		return NULL;
	}
	if (s == NULL)
		nwi_fail(errno, "nw_addr_str(len %u, size %zu)", (unsigned)len, size);
	return s;
short_len:
	nwi_fail(EINVAL, "nw_addr_str(family %d, len %u)", sa->sa_family, (unsigned)len);
	return NULL;
}

int nw_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return nwi_fail(errno, "nw_local_port(%d)", fd);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return nwi_fail(EAFNOSUPPORT, "nw_local_port(%d)", fd);
}
