/*
 * sockopts.c - struct nw_sock_opts: checking it, and setting its options
 * on a new socket before bind() or connect().
 *
 * Many options only take effect before bind() or connect() (SO_REUSEPORT,
 * SO_BINDTODEVICE, the buffer sizes that fix the TCP window scale,
 * TCP_FASTOPEN), so they cannot be set on the plain calls' sockets later.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif

static const char *const kind_name[] = {
	[NWI_TCP_LISTEN] = "TCP listeners",
	[NWI_TCP_CONNECT] = "TCP connects",
	[NWI_UDP_BIND] = "UDP sockets",
	[NWI_UDP_CONNECT] = "UDP sockets",
	[NWI_UNIX_LISTEN] = "Unix-domain sockets",
};

static bool is_tcp(enum nwi_sock_kind kind)
{
	return kind == NWI_TCP_LISTEN || kind == NWI_TCP_CONNECT;
}

/* Record "CALL(ARGS): option NAME: REASON" and set errno; -1. */
static int opt_fail(const struct nwi_opts_ctx *ctx, int err, const char *opt, const char *why)
{
	char buf[128];
	const char *reason = why ? why : nwi_strerror(err, buf, sizeof buf);

	if (ctx->arg2 == NULL)
		return nwi_fail_text(err, reason, "%s(%s): option %s", ctx->call,
				     nwi_str(ctx->arg1), opt);
	return nwi_fail_text(err, reason, "%s(%s, %s): option %s", ctx->call,
			     ctx->arg1 ? ctx->arg1 : "*", ctx->arg2, opt);
}

/* Which fields make sense for which call: the rest must stay zero. */
static int check_applicable(const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *o)
{
	enum nwi_sock_kind k = ctx->kind;
	const char *bad = NULL;

	if ((o->local_host || o->local_service) && k != NWI_TCP_CONNECT && k != NWI_UDP_CONNECT)
		bad = o->local_host ? "local_host" : "local_service";
	else if (o->reuseport && k != NWI_TCP_LISTEN && k != NWI_UDP_BIND)
		bad = "reuseport";
	else if ((o->device || o->mark || o->v6only) && k == NWI_UNIX_LISTEN)
		bad = o->device ? "device" : o->mark ? "mark" : "v6only";
	else if (!is_tcp(k) && (o->nodelay || o->keepalive_idle_s || o->keepalive_interval_s ||
				o->keepalive_count || o->user_timeout_ms || o->mptcp))
		bad = o->nodelay ? "nodelay" : o->user_timeout_ms ? "user_timeout_ms" :
		      o->mptcp ? "mptcp" : "keepalive";
	else if (o->fastopen_queue && k != NWI_TCP_LISTEN)
		bad = "fastopen_queue";
	else if (o->fastopen_connect && k != NWI_TCP_CONNECT)
		bad = "fastopen_connect";
	else if ((o->unix_mode || o->unix_owner || o->unix_group) && k != NWI_UNIX_LISTEN)
		bad = o->unix_mode ? "unix_mode" : o->unix_owner ? "unix_owner" : "unix_group";
	if (bad == NULL)
		return 0;
	char why[64];

	/* A buffer on the stack will do: the message copies it at once. */
	strcpy(why, "not for ");
	strcat(why, kind_name[k]);
	return opt_fail(ctx, EINVAL, bad, why);
}

#define END(field) (offsetof(struct nw_sock_opts, field) + sizeof ((struct nw_sock_opts *)0)->field)

/*
 * Where a caller's struct may end: after a whole field, or where the next
 * one starts (an older struct's sizeof counts its trailing padding).  A
 * size that cuts a field (a pointer above all) in two is no version of it.
 */
static const size_t field_ends[] = {
	0, END(local_host), END(local_service), END(device), END(mark), END(reuseport),
	END(v6only), END(nodelay), END(keepalive_idle_s), END(keepalive_interval_s),
	END(keepalive_count), END(user_timeout_ms), END(rcvbuf), END(sndbuf),
	END(fastopen_queue), END(fastopen_connect), END(mptcp), END(unix_mode),
	offsetof(struct nw_sock_opts, unix_owner), END(unix_owner), END(unix_group),
	END(control), END(control_arg), sizeof(struct nw_sock_opts),
};

static bool whole_fields(size_t size)
{
	for (size_t i = 0; i < sizeof field_ends / sizeof field_ends[0]; i++)
		if (size == field_ends[i])
			return true;
	return false;
}

int nwi_opts_load(const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *in,
		  size_t size, struct nw_sock_opts *out)
{
	memset(out, 0, sizeof *out);
	if (in == NULL)
		return 0;
	if (size < sizeof *out && !whole_fields(size))
		return opt_fail(ctx, EINVAL, "struct size", "cuts a field in two");
	/*
	 * A larger struct comes from a caller built against a newer library:
	 * fine as long as the fields this one does not know are all zero.
	 */
	if (size > sizeof *out) {
		for (size_t i = sizeof *out; i < size; i++)
			if (((const unsigned char *)in)[i] != 0)
				return opt_fail(ctx, EINVAL, "struct size",
						"fields this library does not know are set");
		size = sizeof *out;
	}
	memcpy(out, in, size);

	const struct nw_sock_opts *o = out;

	if (o->device && (o->device[0] == '\0' || strlen(o->device) >= IF_NAMESIZE))
		return opt_fail(ctx, EINVAL, "device", "not an interface name");
	if (o->v6only < -1 || o->v6only > 1)
		return opt_fail(ctx, EINVAL, "v6only", "must be 1, -1 or 0");
	if (o->keepalive_idle_s < 0 || o->keepalive_interval_s < 0 || o->keepalive_count < 0)
		return opt_fail(ctx, EINVAL, "keepalive", "negative");
	if (o->user_timeout_ms < 0)
		return opt_fail(ctx, EINVAL, "user_timeout_ms", "negative");
	if (o->rcvbuf < 0)
		return opt_fail(ctx, EINVAL, "rcvbuf", "negative");
	if (o->sndbuf < 0)
		return opt_fail(ctx, EINVAL, "sndbuf", "negative");
	if (o->fastopen_queue < 0)
		return opt_fail(ctx, EINVAL, "fastopen_queue", "negative");
	if (o->unix_mode & ~07777u)
		return opt_fail(ctx, EINVAL, "unix_mode", "not permission bits");
	if (o->local_service && o->local_service[0] == '\0')
		return opt_fail(ctx, EINVAL, "local_service", "empty");
	if (o->local_host && o->local_host[0] == '\0')
		return opt_fail(ctx, EINVAL, "local_host", "empty");
	return check_applicable(ctx, o);
}

int nwi_opts_socket(const struct nw_sock_opts *o, int family, int type)
{
	int fd;

	/*
	 * A kernel without MPTCP (or with net.mptcp.enabled=0) refuses the
	 * protocol in one of these words: plain TCP then, as Go does.
	 */
	if (o->mptcp && (family == AF_INET || family == AF_INET6) &&
	    (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) == SOCK_STREAM) {
		fd = socket(family, type | SOCK_CLOEXEC, IPPROTO_MPTCP);
		if (fd >= 0 || (errno != EPROTONOSUPPORT && errno != EINVAL &&
				errno != ENOPROTOOPT && errno != EAFNOSUPPORT))
			return fd;
	}
	return socket(family, type | SOCK_CLOEXEC, 0);
}

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof value);
}

int nwi_opts_apply(const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *o,
		   int fd, int family)
{
	const char *opt = NULL;
	bool inet = family == AF_INET || family == AF_INET6;

	if (o->device && inet &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->device, (socklen_t)strlen(o->device)) < 0) {
		/* Name the device: "No such device" alone does not say which. */
		char what[IF_NAMESIZE + 16];

		strcpy(what, "device ");
		strcat(what, o->device);
		return opt_fail(ctx, errno, what, NULL);
	}
	if (o->mark && set_int(fd, SOL_SOCKET, SO_MARK, (int)o->mark) < 0)
		opt = "mark";
	else if (o->reuseport && set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
		opt = "reuseport";
	else if (o->v6only && family == AF_INET6 &&
		 set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, o->v6only > 0) < 0)
		opt = "v6only";
	else if (o->rcvbuf && set_int(fd, SOL_SOCKET, SO_RCVBUF, o->rcvbuf) < 0)
		opt = "rcvbuf";
	else if (o->sndbuf && set_int(fd, SOL_SOCKET, SO_SNDBUF, o->sndbuf) < 0)
		opt = "sndbuf";
	else if (o->nodelay && set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1) < 0)
		opt = "nodelay";
	else if (o->user_timeout_ms && set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, o->user_timeout_ms) < 0)
		opt = "user_timeout_ms";
	else if (o->fastopen_queue && set_int(fd, IPPROTO_TCP, TCP_FASTOPEN, o->fastopen_queue) < 0)
		opt = "fastopen_queue";
	else if (o->fastopen_connect && set_int(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1) < 0)
		opt = "fastopen_connect";
	if (opt == NULL && (o->keepalive_idle_s || o->keepalive_interval_s || o->keepalive_count)) {
		opt = "keepalive";
		/* 0 leaves the system's default (net.ipv4.tcp_keepalive_*) in force. */
		if (set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1) == 0 &&
		    (!o->keepalive_idle_s ||
		     set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, o->keepalive_idle_s) == 0) &&
		    (!o->keepalive_interval_s ||
		     set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, o->keepalive_interval_s) == 0) &&
		    (!o->keepalive_count ||
		     set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, o->keepalive_count) == 0))
			opt = NULL;
	}
	if (opt != NULL)
		return opt_fail(ctx, errno, opt, NULL);
	if (o->control) {
		errno = 0;
		if (o->control(fd, family, o->control_arg) != 0)
			return opt_fail(ctx, errno ? errno : ECANCELED, "control", NULL);
	}
	return 0;
}

int nw_tcp_set_user_timeout(int fd, int timeout_ms)
{
	if (timeout_ms < 0)
		return nwi_fail(EINVAL, "nw_tcp_set_user_timeout(%d, %d)", fd, timeout_ms);
	if (set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, timeout_ms) < 0)
		return nwi_fail(errno, "nw_tcp_set_user_timeout(%d, %d)", fd, timeout_ms);
	return 0;
}

int nwi_source_resolve(const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *o,
		       int socktype, int64_t deadline, struct nwi_source *src)
{
	memset(src, 0, sizeof *src);
	src->list.addrs = src->list.inline_addrs;
	if (o == NULL || (o->local_host == NULL && o->local_service == NULL))
		return 0;
	/*
	 * NULL host: the wildcard of each family, with the port.  Only the
	 * address fixed: the port is chosen at connect() time, by the whole
	 * four-tuple (IP_BIND_ADDRESS_NO_PORT), not at bind() time, when the
	 * kernel must pick a port no other socket on this address holds and
	 * so runs out after one range's worth of connections, whatever their
	 * destinations.
	 */
	if (nwi_resolve_until(ctx->call, o->local_host,
			      o->local_service ? o->local_service : "0", socktype, NWI_PASSIVE,
			      deadline, &src->list) < 0)
		return -1;
	src->set = true;
	src->no_port = o->local_service == NULL;
	return 0;
}

bool nwi_source_has(const struct nwi_source *src, int family)
{
	if (!src->set)
		return true;
	for (size_t i = 0; i < src->list.count; i++)
		if (src->list.addrs[i].family == family)
			return true;
	return false;
}

int nwi_source_bind(const struct nwi_opts_ctx *ctx, const struct nw_sock_opts *o,
		    const struct nwi_source *src, int fd, int family)
{
	const struct nwi_addr *a = NULL;

	if (!src->set)
		return 0;
	for (size_t i = 0; i < src->list.count && a == NULL; i++)
		if (src->list.addrs[i].family == family)
			a = &src->list.addrs[i];
	if (a == NULL)
		return opt_fail(ctx, EAFNOSUPPORT, "local_host", "no address of this family");
	if (src->no_port && set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1) < 0)
		return opt_fail(ctx, errno, "local_host", NULL);
	/* A fixed port is shared by racing attempts and by reconnects in TIME_WAIT. */
	if (!src->no_port && set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
		return opt_fail(ctx, errno, "local_service", NULL);
	/* A port in use is the port's fault; anything else the address's. */
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0)
		return opt_fail(ctx, errno, o->local_service && (errno == EADDRINUSE ||
				!o->local_host) ? "local_service" : "local_host", NULL);
	return 0;
}

void nwi_source_free(struct nwi_source *src)
{
	nwi_addrlist_free(&src->list);
}
