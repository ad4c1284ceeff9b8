/*
 * netwrap.h - libnetwrap, error-checked socket wrappers.
 *
 * Every call returns -1 (or NULL) on failure, sets errno, and records a
 * one-line description of the failure for the calling thread (nw_errmsg).
 * Every descriptor the library creates is close-on-exec.  No call raises
 * SIGPIPE.  See netwrap(7) for the overview and each call's page for details.
 */
#ifndef NETWRAP_H
#define NETWRAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Errors */

/* This thread's last failure message; "" if none.  Never NULL. */
const char *nw_errmsg(void);

/* TCP */

/* Listening TCP socket; host NULL or "*" is every address (dual-stack). */
int nw_tcp_listen(const char *host, const char *service, int backlog);
/* Accept on any listening stream socket; retries EINTR and aborted peers. */
int nw_accept(int listen_fd, struct sockaddr_storage *peer, socklen_t *peerlen);
/* Connected TCP socket; races every address (Happy Eyeballs, RFC 8305). */
int nw_tcp_connect(const char *host, const char *service, int timeout_ms);

/* UDP */

/* Bound UDP socket; host NULL or "*" is every address (dual-stack). */
int nw_udp_bind(const char *host, const char *service);
/* Connected UDP socket, for send() and recv(). */
int nw_udp_connect(const char *host, const char *service);

/* Unix-domain stream sockets ("@name": Linux abstract namespace) */

/* Listening socket at path; replaces a stale socket file of a dead server. */
int nw_unix_listen(const char *path, int backlog);
/* Socket connected to the server at path. */
int nw_unix_connect(const char *path);
/* The same for SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM (bound, no listen). */
int nw_unix_listen_type(const char *path, int type, int backlog);
/* Connected socket of type; a SOCK_DGRAM one is autobound so it can be answered. */
int nw_unix_connect_type(const char *path, int type);

/* Dial and listen options (issue 13) */

/*
 * Options for the *_opts calls.  Zero-initialise it and set what you need:
 * an all-zero struct (or a NULL pointer) is the plain call's behaviour.
 * New fields are only ever added at the end: pass sizeof your struct.
 * Socket types other than the call's own are not here: see the _type calls.
 */
struct nw_sock_opts {
	const char *local_host;		/* source address of outgoing TCP/UDP (NULL: any) */
	const char *local_service;	/* source port (NULL: an ephemeral one) */
	const char *device;		/* SO_BINDTODEVICE: only this interface */
	uint32_t mark;			/* SO_MARK for routing and filtering; 0: none */
	int reuseport;			/* SO_REUSEPORT: sockets sharing one port */
	int v6only;			/* 1: IPv6 only; -1: dual-stack; 0: dual-stack wildcard */
	int nodelay;			/* TCP_NODELAY */
	int keepalive_idle_s;		/* keepalive: idle time, probe interval, probes */
	int keepalive_interval_s;	/*   (any > 0 turns keepalive on; 0: system default) */
	int keepalive_count;
	int user_timeout_ms;		/* TCP_USER_TIMEOUT: give up on unacknowledged data */
	int rcvbuf;			/* SO_RCVBUF, bytes */
	int sndbuf;			/* SO_SNDBUF, bytes */
	int fastopen_queue;		/* listeners: TCP_FASTOPEN queue length */
	int fastopen_connect;		/* connects: TCP_FASTOPEN_CONNECT */
	int mptcp;			/* Multipath TCP; plain TCP where the kernel refuses it */
	unsigned unix_mode;		/* Unix listeners: the socket file's permission bits */
	const char *unix_owner;		/* Unix listeners: its user, a name or a number */
	const char *unix_group;		/* Unix listeners: its group, a name or a number */
	/* Called after socket() and before bind()/connect(); -1 with errno fails the call. */
	int (*control)(int fd, int family, void *arg);
	void *control_arg;
};

/* nw_tcp_listen with options. */
int nw_tcp_listen_opts(const char *host, const char *service, int backlog,
		       const struct nw_sock_opts *opts, size_t opts_size);
/* nw_tcp_connect with options; a source address races only its own family. */
int nw_tcp_connect_opts(const char *host, const char *service, int timeout_ms,
			const struct nw_sock_opts *opts, size_t opts_size);
/* nw_udp_bind with options. */
int nw_udp_bind_opts(const char *host, const char *service,
		     const struct nw_sock_opts *opts, size_t opts_size);
/* nw_udp_connect with options. */
int nw_udp_connect_opts(const char *host, const char *service,
			const struct nw_sock_opts *opts, size_t opts_size);
/* nw_unix_listen with options: the file's mode and owner, set before anyone can connect. */
int nw_unix_listen_opts(const char *path, int backlog,
			const struct nw_sock_opts *opts, size_t opts_size);
/* Fail a connection whose data stays unacknowledged for timeout_ms; 0: system default. */
int nw_tcp_set_user_timeout(int fd, int timeout_ms);

/* Socket activation (systemd's LISTEN_FDS protocol, no libsystemd) */

/* Descriptors passed to us (from 3): count, *fds and *names (NULL: skip) malloc'd. */
int nw_listen_fds(int **fds, char ***names);

/* Whole reads and writes */

/* Read exactly n bytes: n, fewer only at end of file, or -1. */
ssize_t nw_readn(int fd, void *buf, size_t n);
/* Write exactly n bytes: n or -1; never raises SIGPIPE. */
ssize_t nw_writen(int fd, const void *buf, size_t n);
/* Write every byte of every buffer: the total or -1; iov is never modified. */
ssize_t nw_writev(int fd, const struct iovec *iov, int iovcnt);
/* Fill every buffer: the total, fewer only at end of file, or -1. */
ssize_t nw_readv(int fd, const struct iovec *iov, int iovcnt);

/* Buffered reader */

typedef struct nw_reader nw_reader;

/* Reader over fd; bufsize 0 picks the default.  Never closes fd. */
nw_reader *nw_reader_new(int fd, size_t bufsize);
/* Free the reader (fd stays open); NULL is a no-op. */
void nw_reader_free(nw_reader *r);
/* Read a line like fgets: bytes stored (with '\n'), 0 at end of file, -1. */
ssize_t nw_readline(nw_reader *r, char *line, size_t size);
/* Read exactly n bytes through the reader's buffer, like nw_readn. */
ssize_t nw_reader_read(nw_reader *r, void *buf, size_t n);
/* Next line in place: *line points into the reader (valid until its next call), length or 0/-1. */
ssize_t nw_reader_line(nw_reader *r, const char **line);
/* Longest line nw_reader_line returns ('\n' included) before EMSGSIZE: 0 or -1. */
int nw_reader_set_max_line(nw_reader *r, size_t max);

/* Addresses */

/* Fits "[v6%scope]:65535" and "unix:" followed by a full sun_path. */
#define NW_ADDRSTRLEN 128

/* Format "1.2.3.4:80", "[::1]:80" or "unix:/path" into buf; returns buf. */
const char *nw_addr_str(const struct sockaddr *sa, socklen_t len,
                        char *buf, size_t size);
/* Parse "1.2.3.4:80", "[v6%zone]:80" or "unix:/path" (nw_addr_str's forms). */
int nw_addr_parse(const char *text, struct sockaddr_storage *addr, socklen_t *addrlen);
/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) rewritten as plain IPv4, in place. */
int nw_addr_unmap(struct sockaddr_storage *addr, socklen_t *addrlen);
/* 1 if a and b are the same address (and port, if with_port), 0 if not, -1. */
int nw_addr_equal(const struct sockaddr *a, socklen_t alen,
		  const struct sockaddr *b, socklen_t blen, int with_port);
/* Port the socket is bound to (host byte order). */
int nw_local_port(int fd);

/* Socket options */

/* Turn O_NONBLOCK on or off. */
int nw_set_nonblock(int fd, int on);
/* Turn TCP_NODELAY (no Nagle delay) on or off. */
int nw_set_nodelay(int fd, int on);
/* Bound each wait of later reads and writes; <= 0 removes the bound. */
int nw_set_timeout(int fd, int timeout_ms);
/* Enable TCP keepalive; 0 keeps a system default, idle_s < 0 disables. */
int nw_set_keepalive(int fd, int idle_s, int interval_s, int count);

/* Datagrams (unconnected UDP: one socket, many peers) */

/* The first address host and service resolve to; numeric hosts skip DNS. */
int nw_resolve(const char *host, const char *service, int socktype,
               struct sockaddr_storage *addr, socklen_t *addrlen);
/* Unbound, unconnected UDP socket of family (AF_INET or AF_INET6). */
int nw_udp_socket(int family);
/* Send one datagram to `to` (NULL: the connected peer); waits, retries EINTR. */
ssize_t nw_sendto(int fd, const void *buf, size_t len,
                  const struct sockaddr *to, socklen_t tolen);
/* Receive one datagram and its sender; one longer than size is -1 / EMSGSIZE. */
ssize_t nw_recvfrom(int fd, void *buf, size_t size,
                    struct sockaddr_storage *from, socklen_t *fromlen);

/* Datagrams with their local address (IP_PKTINFO, IPV6_RECVPKTINFO) */

/* Report each datagram's destination address (needed by nw_recvfrom_to). */
int nw_set_pktinfo(int fd, int on);
/* nw_recvfrom, plus the local address it was sent to and its interface. */
ssize_t nw_recvfrom_to(int fd, void *buf, size_t size,
                       struct sockaddr_storage *from, socklen_t *fromlen,
                       struct sockaddr_storage *to, socklen_t *tolen, int *ifindex);
/* nw_sendto from a chosen local address (NULL: any) and interface (0: any). */
ssize_t nw_sendto_from(int fd, const void *buf, size_t len,
                       const struct sockaddr *to, socklen_t tolen,
                       const struct sockaddr *from, socklen_t fromlen, int ifindex);

/* Batches of datagrams (recvmmsg, sendmmsg) */

#define NW_DGRAM_TRUNC 0x1	/* received cut to size: the datagram was longer */
#define NW_DGRAM_SENT 0x2	/* nw_send_batch sent this one */

/* One datagram of a batch.  Pass sizeof(struct nw_dgram): fields are only added at the end. */
struct nw_dgram {
	void *buf;		/* its bytes */
	size_t size;		/* room in buf (receiving) */
	size_t len;		/* bytes received, or to send */
	struct sockaddr_storage peer;	/* sender, or destination */
	socklen_t peerlen;	/* sending: 0 is the connected peer */
	int flags;		/* NW_DGRAM_* */
};

/* Wait for one datagram, take up to count queued: how many, or -1. */
ssize_t nw_recv_batch(int fd, struct nw_dgram *dgrams, size_t count, size_t size);
/* Send all count datagrams: count, or -1 (those sent carry NW_DGRAM_SENT). */
ssize_t nw_send_batch(int fd, struct nw_dgram *dgrams, size_t count, size_t size);

/* Broadcast and multicast (ifname: a name, a decimal index, or NULL for any) */

/* Allow (or forbid) sending to broadcast addresses (SO_BROADCAST). */
int nw_set_broadcast(int fd, int on);
/* Join an IPv4 or IPv6 multicast group on an interface. */
int nw_mcast_join(int fd, const char *group, const char *ifname);
/* Leave a group joined with nw_mcast_join. */
int nw_mcast_leave(int fd, const char *group, const char *ifname);
/* Interface that outgoing multicast leaves by; NULL lets routing choose. */
int nw_mcast_set_if(int fd, const char *ifname);
/* Hop limit of outgoing multicast, 0 to 255 (1: this link only). */
int nw_mcast_set_ttl(int fd, int ttl);
/* Deliver (or not) our own multicast to this host's members. */
int nw_mcast_set_loop(int fd, int on);

/* TCP connection state and half-close */

/* The states of the TCP state diagram (RFC 9293, section 3.3.2). */
enum nw_tcp_state {
	NW_TCP_UNKNOWN = 0,	/* a state this library does not know */
	NW_TCP_CLOSED,
	NW_TCP_LISTEN,
	NW_TCP_SYN_SENT,
	NW_TCP_SYN_RECEIVED,
	NW_TCP_ESTABLISHED,
	NW_TCP_FIN_WAIT_1,
	NW_TCP_FIN_WAIT_2,
	NW_TCP_CLOSE_WAIT,
	NW_TCP_CLOSING,
	NW_TCP_LAST_ACK,
	NW_TCP_TIME_WAIT
};

/*
 * A snapshot of one connection.  New fields are only ever added at the end:
 * pass sizeof your struct, and what the library or kernel cannot report is 0.
 */
struct nw_tcp_info {
	enum nw_tcp_state state;
	uint32_t rtt_us;	/* smoothed round-trip time */
	uint32_t rttvar_us;	/* its mean deviation */
	uint32_t min_rtt_us;	/* smallest round-trip time seen */
	uint32_t rto_us;	/* retransmission timeout */
	uint32_t retransmits;	/* unanswered retransmissions of the oldest segment */
	uint32_t total_retrans;	/* segments retransmitted over the connection's life */
	uint32_t lost;		/* segments presumed lost */
	uint32_t unacked;	/* segments in flight */
	uint32_t snd_cwnd;	/* congestion window, in segments */
	uint32_t snd_mss;	/* largest segment sent */
	uint32_t rcv_mss;	/* largest segment the peer seems to send */
	uint32_t pmtu;		/* path MTU */
	uint32_t notsent_bytes;	/* written, not yet sent */
	uint64_t bytes_acked;	/* sent and acknowledged */
	uint64_t bytes_received;	/* received in order */
};

/* State, round-trip time and retransmits of a TCP socket (TCP_INFO). */
int nw_tcp_info(int fd, struct nw_tcp_info *info, size_t size);
/* The same for a connection found by its addresses, with or without a descriptor. */
int nw_tcp_info_by_addr(const struct sockaddr *local, socklen_t local_len,
			const struct sockaddr *remote, socklen_t remote_len,
			struct nw_tcp_info *info, size_t size);
/* "ESTABLISHED", "TIME_WAIT", ...; "UNKNOWN" for anything else.  Never NULL. */
const char *nw_tcp_state_name(enum nw_tcp_state state);
/* Half-close: send FIN after the data written so far, keep reading. */
int nw_shutdown_write(int fd);
/* Half-close, discard input until the peer's EOF (at most timeout_ms), close; no RST. */
int nw_close_graceful(int fd, int timeout_ms);

/* Descriptor passing and credentials (Unix-domain sockets) */

/* Send an open descriptor (SCM_RIGHTS) with one data byte; fd stays open here. */
int nw_send_fd(int sock, int fd);
/* Receive one descriptor sent by nw_send_fd, close-on-exec; the new fd or -1. */
int nw_recv_fd(int sock);
/* The peer's process, user and group at connect time (SO_PEERCRED); NULLs skip. */
int nw_peer_cred(int sock, pid_t *pid, uid_t *uid, gid_t *gid);

/* Sending files */

/* Send count bytes of file_fd from offset (-1: its position) to sock; bytes sent or -1. */
ssize_t nw_sendfile(int sock, int file_fd, int64_t offset, size_t count);

/* Concurrent servers */

typedef struct nw_server nw_server;

/* Serves one connection; the server closes fd after it returns. */
typedef void (*nw_handler)(int fd, const struct sockaddr *peer, socklen_t peerlen,
                           void *arg);

enum nw_server_model {
	NW_SERVER_PROCESS = 1,	/* a child process per connection */
	NW_SERVER_THREAD,	/* a detached thread per connection (the default) */
	NW_SERVER_POOL,		/* a fixed pool of threads taking turns to accept */
	NW_SERVER_EVENT		/* epoll loops owning their connections (nw_server_new_events) */
};

/* Server running handler(fd, peer, peerlen, arg) for each connection. */
nw_server *nw_server_new(int listen_fd, nw_handler handler, void *arg);
/* Choose the model; workers is the pool's size, ignored by the others. */
int nw_server_set_model(nw_server *s, enum nw_server_model model, int workers);
/* Serve at most max connections at once; the next wait in the kernel's queue. */
int nw_server_set_max_conns(nw_server *s, int max);
/* How long a stop lets running handlers finish, in ms; < 0 waits for ever. */
int nw_server_set_grace(nw_server *s, int grace_ms);
/* End a connection whose handler is idle this long, in ms (0, the default: never). */
int nw_server_set_idle_timeout(nw_server *s, int idle_ms);
/* Close at once a connection from an address that has max live ones (0: no cap). */
int nw_server_set_max_per_peer(nw_server *s, int max);
/* Accept and serve until nw_server_stop: 0 then, -1 on failure. */
int nw_server_run(nw_server *s);
/* Make nw_server_run stop; async-signal-safe and thread-safe. */
int nw_server_stop(nw_server *s);
/* Free the server (listen_fd stays open); NULL is a no-op. */
void nw_server_free(nw_server *s);

/* Event-driven servers (NW_SERVER_EVENT): callbacks on connections, never blocking */

typedef struct nw_conn nw_conn;

/*
 * What the server calls, always on the loop thread that owns the connection.
 * New members are only ever added at the end: pass sizeof your struct.
 */
struct nw_conn_ops {
	/* A new connection; may send, close, or set the user pointer.  Optional. */
	void (*on_open)(nw_conn *c);
	/* Input: return how many bytes were used; the rest comes back with more. */
	size_t (*on_data)(nw_conn *c, const char *data, size_t len);
	/* Output sent, the queue at the low-water mark: send more.  Optional. */
	void (*on_drain)(nw_conn *c);
	/* The connection is over (0: a clean end, else why); last call on c.  Optional. */
	void (*on_close)(nw_conn *c, int err);
};

/* Event server on listen_fd calling ops; arg is for the callbacks (nw_conn_arg). */
nw_server *nw_server_new_events(int listen_fd, const struct nw_conn_ops *ops,
				size_t ops_size, void *arg);
/* Stop reading a connection past high bytes of queued output, resume at low. */
int nw_server_set_watermarks(nw_server *s, size_t low, size_t high);
/* From any thread: queue data on connection id (nw_conn_id); NW_POST_CLOSE closes after. */
int nw_server_post(nw_server *s, uint64_t id, const void *data, size_t len, int flags);
#define NW_POST_CLOSE 1

/* Queue len bytes (copied) for sending; never blocks.  len, or -1. */
ssize_t nw_conn_send(nw_conn *c, const void *data, size_t len);
/* Close after the queued output, lingering so that the peer gets all of it. */
int nw_conn_close(nw_conn *c);
/* The peer's address; *len gets its length when len is not NULL. */
const struct sockaddr *nw_conn_peer(nw_conn *c, socklen_t *len);
/* The connection's socket, for options and nw_tcp_info; never read, write or close it. */
int nw_conn_fd(nw_conn *c);
/* A handle for nw_server_post from other threads; it goes stale, never dangles. */
uint64_t nw_conn_id(nw_conn *c);
/* The connection's user pointer (NULL until set). */
void *nw_conn_data(nw_conn *c);
void nw_conn_set_data(nw_conn *c, void *data);
/* The arg given to nw_server_new_events, and the server (for nw_server_stop). */
void *nw_conn_arg(nw_conn *c);
nw_server *nw_conn_server(nw_conn *c);

#ifdef __cplusplus
}
#endif

#endif /* NETWRAP_H */
