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
#include <stdlib.h>
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

/* Port: 1 to 5 decimal digits, at most 65535. */
static int parse_port(const char *s, in_port_t *port)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n] >= '0' && s[n] <= '9'; n++)
		v = v * 10 + (unsigned long)(s[n] - '0');
	if (n == 0 || n > 5 || s[n] != '\0' || v > 65535)
		return -1;
	*port = htons((uint16_t)v);
	return 0;
}

/* "[addr]:port" or "[addr%zone]:port"; the zone an interface name or index. */
static int parse_inet6(const char *text, struct sockaddr_in6 *sin6)
{
	const char *close = strchr(text, ']');
	char ip[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	size_t len;
	char *zone;

	if (close == NULL || close[1] != ':' || (len = (size_t)(close - text - 1)) >= sizeof ip)
		return -1;
	memcpy(ip, text + 1, len);
	ip[len] = '\0';
	memset(sin6, 0, sizeof *sin6);
	sin6->sin6_family = AF_INET6;
	zone = strchr(ip, '%');
	if (zone != NULL) {
		char *end;
		unsigned long id;

		*zone++ = '\0';
		if (*zone == '\0')
			return -1;
		if (*zone >= '0' && *zone <= '9') {
			errno = 0;
			id = strtoul(zone, &end, 10);
			if (errno || *end || id == 0 || id > UINT32_MAX)
				return -1;
		} else if (strlen(zone) >= IF_NAMESIZE || (id = if_nametoindex(zone)) == 0) {
			return -1;
		}
		sin6->sin6_scope_id = (uint32_t)id;
	}
	if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) != 1)
		return -1;
	return parse_port(close + 2, &sin6->sin6_port);
}

static int parse_inet(const char *text, struct sockaddr_in *sin)
{
	const char *colon = strrchr(text, ':');
	char ip[INET_ADDRSTRLEN];
	size_t len;

	if (colon == NULL || (len = (size_t)(colon - text)) >= sizeof ip)
		return -1;
	memcpy(ip, text, len);
	ip[len] = '\0';
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &sin->sin_addr) != 1)
		return -1;
	return parse_port(colon + 1, &sin->sin_port);
}

/* "unix:PATH"; "unix:@name" is the abstract name (nw_addr_str's '@' for NUL). */
static int parse_unix(const char *path, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(path);

	if (n > sizeof sun->sun_path)
		return -1;
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, n);
	if (path[0] == '@')
		sun->sun_path[0] = '\0';
	/* A pathname's length counts its NUL where there is room for one. */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
			   (n > 0 && path[0] != '@' && n < sizeof sun->sun_path));
	return 0;
}

int nw_addr_parse(const char *text, struct sockaddr_storage *addr, socklen_t *addrlen)
{
	socklen_t len;
	int rc;

	if (text == NULL || addr == NULL || addrlen == NULL)
		return nwi_fail(EINVAL, "nw_addr_parse(%s)", nwi_str(text));
	if (strncmp(text, "unix:", 5) == 0) {
		rc = parse_unix(text + 5, (struct sockaddr_un *)addr, &len);
	} else if (text[0] == '[') {
		rc = parse_inet6(text, (struct sockaddr_in6 *)addr);
		len = sizeof(struct sockaddr_in6);
	} else {
		rc = parse_inet(text, (struct sockaddr_in *)addr);
		len = sizeof(struct sockaddr_in);
	}
	if (rc < 0)
		return nwi_fail_text(EINVAL, "not ADDR:PORT, [ADDR%ZONE]:PORT or unix:PATH",
				     "nw_addr_parse(%.200s)", text);
	*addrlen = len;
	return 0;
}

int nw_addr_unmap(struct sockaddr_storage *addr, socklen_t *addrlen)
{
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)addr;
	struct sockaddr_in sin;

	if (addr == NULL || addrlen == NULL)
		return nwi_fail(EINVAL, "nw_addr_unmap(NULL)");
	if (addr->ss_family != AF_INET6 || *addrlen < (socklen_t)sizeof *sin6 ||
	    !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return 0;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = sin6->sin6_port;
	memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], sizeof sin.sin_addr);
	memset(addr, 0, sizeof *addr);
	memcpy(addr, &sin, sizeof sin);
	*addrlen = sizeof sin;
	return 1;
}

/* The name's bytes, as format_unix reads them. */
static size_t unix_name(const struct sockaddr_un *sun, socklen_t len)
{
	size_t off = offsetof(struct sockaddr_un, sun_path);
	size_t n = len > off ? (size_t)len - off : 0;

	if (n > sizeof sun->sun_path)
		n = sizeof sun->sun_path;
	if (n > 0 && sun->sun_path[0] != '\0')
		n = strnlen(sun->sun_path, n);
	return n;
}

int nw_addr_equal(const struct sockaddr *a, socklen_t alen,
		  const struct sockaddr *b, socklen_t blen, int with_port)
{
	struct sockaddr_storage x, y;
	socklen_t xlen = alen, ylen = blen;

	if (a == NULL || b == NULL || alen < (socklen_t)sizeof a->sa_family ||
	    blen < (socklen_t)sizeof b->sa_family || alen > sizeof x || blen > sizeof y)
		return nwi_fail(EINVAL, "nw_addr_equal(len %u, len %u)", (unsigned)alen, (unsigned)blen);
	memset(&x, 0, sizeof x);
	memset(&y, 0, sizeof y);
	memcpy(&x, a, alen);
	memcpy(&y, b, blen);
	/* ::ffff:1.2.3.4 from a dual-stack socket is 1.2.3.4. */
	nw_addr_unmap(&x, &xlen);
	nw_addr_unmap(&y, &ylen);
	for (int i = 0; i < 2; i++) {
		const struct sockaddr_storage *s = i ? &y : &x;
		socklen_t l = i ? ylen : xlen;

		if ((s->ss_family == AF_INET && l < (socklen_t)sizeof(struct sockaddr_in)) ||
		    (s->ss_family == AF_INET6 && l < (socklen_t)sizeof(struct sockaddr_in6)))
			return nwi_fail(EINVAL, "nw_addr_equal(family %d, len %u)",
					s->ss_family, (unsigned)l);
		if (s->ss_family != AF_INET && s->ss_family != AF_INET6 && s->ss_family != AF_UNIX)
			return nwi_fail(EAFNOSUPPORT, "nw_addr_equal(family %d)", s->ss_family);
	}
	if (x.ss_family != y.ss_family)
		return 0;
	if (x.ss_family == AF_INET) {
		const struct sockaddr_in *p = (const struct sockaddr_in *)&x;
		const struct sockaddr_in *q = (const struct sockaddr_in *)&y;

		return p->sin_addr.s_addr == q->sin_addr.s_addr &&
		       (!with_port || p->sin_port == q->sin_port);
	}
	if (x.ss_family == AF_INET6) {
		const struct sockaddr_in6 *p = (const struct sockaddr_in6 *)&x;
		const struct sockaddr_in6 *q = (const struct sockaddr_in6 *)&y;

		return memcmp(&p->sin6_addr, &q->sin6_addr, sizeof p->sin6_addr) == 0 &&
		       p->sin6_scope_id == q->sin6_scope_id &&
		       (!with_port || p->sin6_port == q->sin6_port);
	}
	size_t m = unix_name((const struct sockaddr_un *)&x, xlen);
	size_t n = unix_name((const struct sockaddr_un *)&y, ylen);

	return m == n && memcmp(((const struct sockaddr_un *)&x)->sun_path,
				((const struct sockaddr_un *)&y)->sun_path, n) == 0;
}
