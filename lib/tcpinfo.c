/*
 * tcpinfo.c - a TCP connection's state and health, and half-close:
 * nw_tcp_info, nw_tcp_info_by_addr, nw_tcp_state_name, nw_shutdown_write.
 *
 * The kernel's own numbers and struct tcp_info never reach the caller:
 * they are translated into enum nw_tcp_state and struct nw_tcp_info, whose
 * layout this library owns and only ever grows at its end.
 */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>

/*
 * The kernel's state numbers (include/net/tcp_states.h), part of its ABI
 * through TCP_INFO and sock_diag.  NEW_SYN_RECV is a request socket waiting
 * for the handshake's last ACK; BOUND_INACTIVE (6.7+) a bound socket that
 * never connected, which RFC 9293 calls CLOSED.
 */
static const enum nw_tcp_state from_kernel[] = {
	[1] = NW_TCP_ESTABLISHED,
	[2] = NW_TCP_SYN_SENT,
	[3] = NW_TCP_SYN_RECEIVED,
	[4] = NW_TCP_FIN_WAIT_1,
	[5] = NW_TCP_FIN_WAIT_2,
	[6] = NW_TCP_TIME_WAIT,
	[7] = NW_TCP_CLOSED,
	[8] = NW_TCP_CLOSE_WAIT,
	[9] = NW_TCP_LAST_ACK,
	[10] = NW_TCP_LISTEN,
	[11] = NW_TCP_CLOSING,
	[12] = NW_TCP_SYN_RECEIVED,
	[13] = NW_TCP_CLOSED,
};

const char *nw_tcp_state_name(enum nw_tcp_state state)
{
	switch (state) {
	case NW_TCP_CLOSED:		return "CLOSED";
	case NW_TCP_LISTEN:		return "LISTEN";
	case NW_TCP_SYN_SENT:		return "SYN_SENT";
	case NW_TCP_SYN_RECEIVED:	return "SYN_RECEIVED";
	case NW_TCP_ESTABLISHED:	return "ESTABLISHED";
	case NW_TCP_FIN_WAIT_1:		return "FIN_WAIT_1";
	case NW_TCP_FIN_WAIT_2:		return "FIN_WAIT_2";
	case NW_TCP_CLOSE_WAIT:		return "CLOSE_WAIT";
	case NW_TCP_CLOSING:		return "CLOSING";
	case NW_TCP_LAST_ACK:		return "LAST_ACK";
	case NW_TCP_TIME_WAIT:		return "TIME_WAIT";
	case NW_TCP_UNKNOWN:		break;
	}
	return "UNKNOWN";
}

/*
 * Translate the kernel's report.  ti may be NULL (a TIME_WAIT socket has no
 * tcp_info), and an older kernel returns a shorter struct than our header
 * describes: a field it did not write stays 0.
 */
static void translate(struct nw_tcp_info *out, unsigned kstate,
		      const struct tcp_info *ti, size_t ti_len)
{
	memset(out, 0, sizeof *out);
	out->state = kstate < sizeof from_kernel / sizeof from_kernel[0]
		? from_kernel[kstate] : NW_TCP_UNKNOWN;
	if (ti == NULL)
		return;
#define HAVE(field) (ti_len >= offsetof(struct tcp_info, field) + sizeof ti->field)
	if (HAVE(tcpi_retransmits))
		out->retransmits = ti->tcpi_retransmits;
	if (HAVE(tcpi_rto))
		out->rto_us = ti->tcpi_rto;
	if (HAVE(tcpi_rcv_mss)) {
		out->snd_mss = ti->tcpi_snd_mss;
		out->rcv_mss = ti->tcpi_rcv_mss;
	}
	if (HAVE(tcpi_lost)) {
		out->unacked = ti->tcpi_unacked;
		out->lost = ti->tcpi_lost;
	}
	if (HAVE(tcpi_pmtu))
		out->pmtu = ti->tcpi_pmtu;
	if (HAVE(tcpi_snd_cwnd)) {
		out->rtt_us = ti->tcpi_rtt;
		out->rttvar_us = ti->tcpi_rttvar;
		out->snd_cwnd = ti->tcpi_snd_cwnd;
	}
	if (HAVE(tcpi_total_retrans))
		out->total_retrans = ti->tcpi_total_retrans;
	if (HAVE(tcpi_bytes_received)) {
		out->bytes_acked = ti->tcpi_bytes_acked;
		out->bytes_received = ti->tcpi_bytes_received;
	}
	if (HAVE(tcpi_min_rtt)) {
		out->notsent_bytes = ti->tcpi_notsent_bytes;
		out->min_rtt_us = ti->tcpi_min_rtt;
	}
#undef HAVE
}

/*
 * Hand the caller as much of full as its struct holds.  A caller built
 * against a newer, larger struct nw_tcp_info gets zeros where this library
 * has nothing to say; one built against an older, smaller one gets its
 * prefix, so the struct can grow without breaking either.
 */
static void deliver(struct nw_tcp_info *info, size_t size, const struct nw_tcp_info *full)
{
	memset(info, 0, size);
	memcpy(info, full, size < sizeof *full ? size : sizeof *full);
}

static bool size_ok(const struct nw_tcp_info *info, size_t size)
{
	return info != NULL && size >= sizeof info->state;
}

int nw_tcp_info(int fd, struct nw_tcp_info *info, size_t size)
{
	struct tcp_info ti;
	struct nw_tcp_info full;
	socklen_t len = sizeof ti;

	if (!size_ok(info, size))
		return nwi_fail(EINVAL, "nw_tcp_info(%d, %zu)", fd, size);
	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) {
		/* Other protocols refuse the option in one of two words. */
		if (errno == ENOPROTOOPT || errno == EOPNOTSUPP)
			return nwi_fail_text(EOPNOTSUPP, "not a TCP socket", "nw_tcp_info(%d)", fd);
		return nwi_fail(errno, "nw_tcp_info(%d)", fd);
	}
	if (len < offsetof(struct tcp_info, tcpi_ca_state))
		return nwi_fail_text(EPROTO, "short TCP_INFO from the kernel",
				     "nw_tcp_info(%d)", fd);
	translate(&full, ti.tcpi_state, &ti, len);
	deliver(info, size, &full);
	return 0;
}

/* One sock_diag request for an exact match, in netlink framing (RFC 3549). */
struct diag_request {
	struct nlmsghdr nlh;
	struct inet_diag_req_v2 req;
};

/* Fill id (network byte order, as sock_diag wants) from one address. */
static int diag_endpoint(const struct sockaddr *sa, socklen_t len, int family,
			 __be16 *port, __be32 addr[4])
{
	if (sa == NULL || sa->sa_family != family)
		return -1;
	if (family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		*port = sin->sin_port;
		memcpy(addr, &sin->sin_addr, sizeof sin->sin_addr);
		return 0;
	}
	if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		*port = sin6->sin6_port;
		memcpy(addr, &sin6->sin6_addr, sizeof sin6->sin6_addr);
		return 0;
	}
	return -1;
}

/*
 * Ask the kernel about the connection req names.  0 and *reply pointing
 * into buf, or -1 with errno (ENOENT: no such connection).
 */
static int diag_query(struct diag_request *rq, void *buf, size_t size,
		      const struct nlmsghdr **reply)
{
	const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	ssize_t n;

	if (fd < 0)
		return -1;
	while (sendto(fd, rq, sizeof *rq, 0, (const struct sockaddr *)&kernel, sizeof kernel) < 0)
		if (errno != EINTR)
			goto fail;
	while ((n = recv(fd, buf, size, 0)) < 0)
		if (errno != EINTR)
			goto fail;
	close(fd);
	for (const struct nlmsghdr *h = buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_seq != rq->nlh.nlmsg_seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e) || e->error == 0)
				break;
			errno = -e->error;
			return -1;
		}
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
		    h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct inet_diag_msg))) {
			*reply = h;
			return 0;
		}
	}
	errno = EPROTO;
	return -1;
fail:
	nwi_close_keep_errno(fd);
	return -1;
}

int nw_tcp_info_by_addr(const struct sockaddr *local, socklen_t local_len,
			const struct sockaddr *remote, socklen_t remote_len,
			struct nw_tcp_info *info, size_t size)
{
	/* One socket's reply: the header, inet_diag_msg and a few attributes. */
	long buf[8192 / sizeof(long)];
	struct diag_request rq;
	const struct nlmsghdr *h;
	const struct inet_diag_msg *m;
	struct tcp_info ti;
	size_t ti_len = 0;
	struct nw_tcp_info full;
	char lbuf[NW_ADDRSTRLEN], rbuf[NW_ADDRSTRLEN];
	int family = local != NULL ? local->sa_family : AF_UNSPEC;

	if (!size_ok(info, size) || local == NULL || remote == NULL)
		return nwi_fail(EINVAL, "nw_tcp_info_by_addr(%zu)", size);
	if (nw_addr_str(local, local_len, lbuf, sizeof lbuf) == NULL)
		lbuf[0] = '\0';
	if (nw_addr_str(remote, remote_len, rbuf, sizeof rbuf) == NULL)
		rbuf[0] = '\0';
	if (family != AF_INET && family != AF_INET6)
		return nwi_fail(EAFNOSUPPORT, "nw_tcp_info_by_addr(%s, %s)", lbuf, rbuf);

	memset(&rq, 0, sizeof rq);
	rq.nlh.nlmsg_len = sizeof rq;
	rq.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	rq.nlh.nlmsg_flags = NLM_F_REQUEST;
	rq.nlh.nlmsg_seq = 1;
	rq.req.sdiag_family = (__u8)family;
	rq.req.sdiag_protocol = IPPROTO_TCP;
	rq.req.idiag_ext = 1 << (INET_DIAG_INFO - 1);
	rq.req.idiag_states = ~0U;
	rq.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	rq.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (diag_endpoint(local, local_len, family, &rq.req.id.idiag_sport,
			  rq.req.id.idiag_src) < 0 ||
	    diag_endpoint(remote, remote_len, family, &rq.req.id.idiag_dport,
			  rq.req.id.idiag_dst) < 0 ||
	    rq.req.id.idiag_sport == 0 || rq.req.id.idiag_dport == 0)
		return nwi_fail(EINVAL, "nw_tcp_info_by_addr(%s, %s)", lbuf, rbuf);
	if (family == AF_INET6)
		rq.req.id.idiag_if = ((const struct sockaddr_in6 *)local)->sin6_scope_id;

	if (diag_query(&rq, buf, sizeof buf, &h) < 0)
		return nwi_fail(errno, "nw_tcp_info_by_addr(%s, %s)", lbuf, rbuf);
	m = NLMSG_DATA(h);
	/*
	 * An exact lookup with no connection behind it can land on the
	 * listener that owns the local port; a listener has no remote port.
	 */
	if (m->id.idiag_sport != rq.req.id.idiag_sport ||
	    m->id.idiag_dport != rq.req.id.idiag_dport)
		return nwi_fail(ENOENT, "nw_tcp_info_by_addr(%s, %s)", lbuf, rbuf);

	int attrs_len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));

	memset(&ti, 0, sizeof ti);
	for (const struct rtattr *a = (const struct rtattr *)(m + 1); RTA_OK(a, attrs_len);
	     a = RTA_NEXT(a, attrs_len)) {
		/* Attributes are only 4-byte aligned; tcp_info holds 64-bit fields. */
		if (a->rta_type == INET_DIAG_INFO) {
			ti_len = RTA_PAYLOAD(a) < sizeof ti ? RTA_PAYLOAD(a) : sizeof ti;
			memcpy(&ti, RTA_DATA(a), ti_len);
		}
	}
	translate(&full, m->idiag_state, ti_len > 0 ? &ti : NULL, ti_len);
	deliver(info, size, &full);
	return 0;
}

int nw_shutdown_write(int fd)
{
	if (shutdown(fd, SHUT_WR) < 0)
		return nwi_fail(errno, "nw_shutdown_write(%d)", fd);
	return 0;
}
