/*
 * mcast.c - broadcast permission and multicast groups.
 *
 * Memberships use the protocol-independent MCAST_JOIN_GROUP (RFC 3678),
 * which names the interface by index for IPv4 as well as IPv6.  An IPv6
 * socket may carry IPv4 traffic (IPv4-mapped addresses), and Linux keeps
 * separate IPv4 settings for it, so the sending options below set both
 * families' options on an IPv6 socket.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#define IFFMT(i) ((i) ? (i) : "*")

int nw_set_broadcast(int fd, int on)
{
	int v = on != 0;

	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &v, sizeof v) < 0)
		return nwi_fail(errno, "nw_set_broadcast(%d, %d)", fd, on);
	return 0;
}

/* The socket's address family; 0 with errno set when fd is not a socket. */
static int socket_family(int fd)
{
	int family = 0;
	socklen_t len = sizeof family;

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
		return 0;
	if (family != AF_INET && family != AF_INET6) {
		errno = EAFNOSUPPORT;
		return 0;
	}
	return family;
}

/*
 * ifname is an interface name, or its index in decimal; NULL lets the
 * kernel choose (index 0).  A name is tried first: Linux allows an
 * interface to be called "2".
 */
static int interface_index(const char *ifname, unsigned *index)
{
	char name[IF_NAMESIZE];
	const char *p;
	uint64_t v = 0;

	*index = 0;
	if (ifname == NULL)
		return 0;
	if (*ifname == '\0') {
		errno = EINVAL;
		return -1;
	}
	if (strlen(ifname) < IF_NAMESIZE && (*index = if_nametoindex(ifname)) != 0)
		return 0;
	for (p = ifname; *p >= '0' && *p <= '9' && v <= UINT32_MAX; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (*p == '\0' && v > 0 && v <= UINT32_MAX && if_indextoname((unsigned)v, name)) {
		*index = (unsigned)v;
		return 0;
	}
	errno = ENODEV;
	return -1;
}

/* A numeric multicast group (no resolver: a group is never a host name). */
static int parse_group(const char *group, struct sockaddr_storage *ss)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (group && inet_pton(AF_INET, group, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return IN_MULTICAST(ntohl(sin->sin_addr.s_addr)) ? 0 : -1;
	}
	if (group && inet_pton(AF_INET6, group, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return IN6_IS_ADDR_MULTICAST(&sin6->sin6_addr) ? 0 : -1;
	}
	return -1;
}

static int membership(const char *call, int optname, int fd, const char *group,
		      const char *ifname)
{
	struct group_req req;
	unsigned index;
	int family = socket_family(fd);

	/* The padding after gr_interface goes to the kernel too: no stack garbage. */
	memset(&req, 0, sizeof req);
	if (family == 0)
		return nwi_fail(errno, "%s(%d, %s, %s)", call, fd, nwi_str(group), IFFMT(ifname));
	if (parse_group(group, &req.gr_group) < 0)
		return nwi_fail_text(EINVAL, "not a numeric IPv4 or IPv6 multicast address",
				     "%s(%d, %s, %s)", call, fd, nwi_str(group), IFFMT(ifname));
	if (req.gr_group.ss_family == AF_INET6 && family == AF_INET)
		return nwi_fail_text(EAFNOSUPPORT, "IPv6 group on an IPv4 socket",
				     "%s(%d, %s, %s)", call, fd, group, IFFMT(ifname));
	if (interface_index(ifname, &index) < 0)
		return nwi_fail(errno, "%s(%d, %s, %s)", call, fd, group, IFFMT(ifname));
	req.gr_interface = index;
	if (setsockopt(fd, req.gr_group.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       optname, &req, sizeof req) < 0)
		return nwi_fail(errno, "%s(%d, %s, %s)", call, fd, group, IFFMT(ifname));
	return 0;
}

int nw_mcast_join(int fd, const char *group, const char *ifname)
{
	return membership("nw_mcast_join", MCAST_JOIN_GROUP, fd, group, ifname);
}

int nw_mcast_leave(int fd, const char *group, const char *ifname)
{
	return membership("nw_mcast_leave", MCAST_LEAVE_GROUP, fd, group, ifname);
}

/*
 * Set an IPv4 sending option, and on an IPv6 socket its IPv6 twin as well
 * (v6name < 0: none).  The IPv4 one governs IPv4-mapped destinations there.
 */
static int set_sending_option(int fd, int family, int v4name, const void *v4val,
			      socklen_t v4len, int v6name, const void *v6val, socklen_t v6len)
{
	if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, v6name, v6val, v6len) < 0)
		return -1;
	return setsockopt(fd, IPPROTO_IP, v4name, v4val, v4len);
}

int nw_mcast_set_if(int fd, const char *ifname)
{
	int family = socket_family(fd);
	unsigned index;
	struct ip_mreqn mreqn;
	int index6;

	if (family == 0 || interface_index(ifname, &index) < 0)
		return nwi_fail(errno, "nw_mcast_set_if(%d, %s)", fd, IFFMT(ifname));
	memset(&mreqn, 0, sizeof mreqn);
	mreqn.imr_ifindex = (int)index;
	index6 = (int)index;
	if (set_sending_option(fd, family, IP_MULTICAST_IF, &mreqn, sizeof mreqn,
			       IPV6_MULTICAST_IF, &index6, sizeof index6) < 0)
		return nwi_fail(errno, "nw_mcast_set_if(%d, %s)", fd, IFFMT(ifname));
	return 0;
}

int nw_mcast_set_ttl(int fd, int ttl)
{
	int family;

	if (ttl < 0 || ttl > 255)
		return nwi_fail_text(EINVAL, "TTL must be from 0 to 255",
				     "nw_mcast_set_ttl(%d, %d)", fd, ttl);
	family = socket_family(fd);
	if (family == 0 || set_sending_option(fd, family, IP_MULTICAST_TTL, &ttl, sizeof ttl,
					      IPV6_MULTICAST_HOPS, &ttl, sizeof ttl) < 0)
		return nwi_fail(errno, "nw_mcast_set_ttl(%d, %d)", fd, ttl);
	return 0;
}

int nw_mcast_set_loop(int fd, int on)
{
	int family = socket_family(fd);
	int v4 = on != 0;
	unsigned v6 = on != 0;

	if (family == 0 || set_sending_option(fd, family, IP_MULTICAST_LOOP, &v4, sizeof v4,
					      IPV6_MULTICAST_LOOP, &v6, sizeof v6) < 0)
		return nwi_fail(errno, "nw_mcast_set_loop(%d, %d)", fd, on);
	return 0;
}
