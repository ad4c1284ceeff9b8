/*
 * tcp-states - the TCP state diagram, live: one connection on loopback,
 * client and server in this process, each state read from the kernel as
 * it happens (nw_tcp_info on a descriptor, nw_tcp_info_by_addr once the
 * descriptor is gone) and printed with the time it was first seen.
 *
 *   tcp-states [--dot FILE] [HOST]   (HOST: a loopback address, default 127.0.0.1)
 *
 * --dot FILE writes RFC 9293's state diagram (section 3.3.2, Figure 5) in
 * Graphviz, with the transitions this run saw drawn bold and numbered in
 * order, blue for the client and red for the server; scripts/demo.sh
 * renders it (dot -Tsvg FILE).
 *
 * Nothing is simulated.  A state shows up only if it lasts longer than one
 * poll (a few microseconds); where loopback is too fast to see one, the
 * demo arranges the real reason a state lasts on a real network (a full
 * accept queue, a delayed ACK, a FIN queued behind unread data) and says
 * so, and what it still cannot catch it names at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <netwrap.h>

/* One end of the connection, watched through its descriptor or its addresses. */
struct end {
	const char *name;
	int fd;			/* -1 once closed: then looked up by address */
	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len;
	enum nw_tcp_state last;
	bool seen[NW_TCP_TIME_WAIT + 1];
	enum nw_tcp_state order[16];	/* the states seen, in order */
	double when[16];		/* and when, in ms */
	int nseen;
};

static struct timespec start;

static double elapsed_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start.tv_sec) * 1e3 + (double)(now.tv_nsec - start.tv_nsec) / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "tcp-states: %s: %s\n", what, nw_errmsg());
	exit(1);
}

/* A paragraph of explanation, indented under the timeline. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("    ", stdout);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void step(const char *title)
{
	printf("\n--- %s\n", title);
}

/* Remember an end's addresses, so it can still be found after close(). */
static void end_init(struct end *e, const char *name, int fd)
{
	memset(e, 0, sizeof *e);
	e->name = name;
	e->fd = fd;
	e->local_len = sizeof e->local;
	e->remote_len = sizeof e->remote;
	if (getsockname(fd, (struct sockaddr *)&e->local, &e->local_len) < 0 ||
	    getpeername(fd, (struct sockaddr *)&e->remote, &e->remote_len) < 0) {
		perror("tcp-states: getsockname/getpeername");
		exit(1);
	}
	e->last = NW_TCP_UNKNOWN;
}

/*
 * The connection's state as the kernel sees it.  A descriptor says CLOSED
 * once Linux has handed the connection's TIME_WAIT to a small timewait
 * socket of its own, so ask by address then too; *by_addr tells which.
 */
static enum nw_tcp_state end_state(const struct end *e, bool *by_addr)
{
	struct nw_tcp_info info;

	*by_addr = false;
	if (e->fd >= 0) {
		if (nw_tcp_info(e->fd, &info, sizeof info) < 0)
			die("nw_tcp_info");
		if (info.state != NW_TCP_CLOSED)
			return info.state;
	}
	*by_addr = true;
	if (nw_tcp_info_by_addr((const struct sockaddr *)&e->local, e->local_len,
				(const struct sockaddr *)&e->remote, e->remote_len,
				&info, sizeof info) < 0) {
		if (errno == ENOENT)
			return NW_TCP_CLOSED;	/* the kernel has forgotten it */
		die("nw_tcp_info_by_addr");
	}
	return info.state;
}

/* Print a transition the moment it is seen; true if the state changed. */
static bool end_poll(struct end *e)
{
	bool by_addr;
	enum nw_tcp_state s = end_state(e, &by_addr);

	if (s == e->last)
		return false;
	printf("[%8.3f ms] %s  %s%s%s%s\n", elapsed_ms(), e->name,
	       e->last == NW_TCP_UNKNOWN ? "" : nw_tcp_state_name(e->last),
	       e->last == NW_TCP_UNKNOWN ? "" : " -> ",
	       nw_tcp_state_name(s), by_addr ? "  (found by address)" : "");
	e->last = s;
	if (s <= NW_TCP_TIME_WAIT)
		e->seen[s] = true;
	if (e->nseen < (int)(sizeof e->order / sizeof e->order[0])) {
		e->when[e->nseen] = elapsed_ms();
		e->order[e->nseen++] = s;
	}
	return true;
}

/* Poll both ends until each has reached its target state or ms have passed. */
static void watch(struct end *a, enum nw_tcp_state a_target,
		  struct end *b, enum nw_tcp_state b_target, int ms)
{
	const struct timespec pause = { 0, 20000 };	/* 20 us between polls */
	double until = elapsed_ms() + ms;

	do {
		end_poll(a);
		if (b != NULL)
			end_poll(b);
		if (a->last == a_target && (b == NULL || b->last == b_target))
			return;
		nanosleep(&pause, NULL);
	} while (elapsed_ms() < until);
}

static void print_rtt(const struct end *e)
{
	struct nw_tcp_info info;

	if (nw_tcp_info(e->fd, &info, sizeof info) < 0)
		die("nw_tcp_info");
	say("%s: rtt %u us (+- %u), rto %u ms, mss %u, segments sent again: %u",
	    e->name, info.rtt_us, info.rttvar_us, info.rto_us / 1000, info.snd_mss,
	    info.total_retrans);
}

/*
 * Start a connection without waiting for it, the plain socket way: the
 * library's nw_tcp_connect waits for the handshake, and here the waiting
 * is what we want to watch.
 */
static int start_connect(const struct sockaddr_storage *to, socklen_t len)
{
	int fd = socket(to->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || (connect(fd, (const struct sockaddr *)to, len) < 0 && errno != EINPROGRESS)) {
		perror("tcp-states: connect");
		exit(1);
	}
	return fd;
}

static enum nw_tcp_state fd_state(int fd)
{
	struct nw_tcp_info info;

	if (nw_tcp_info(fd, &info, sizeof info) < 0)
		die("nw_tcp_info");
	return info.state;
}

static int local_port(const struct sockaddr_storage *ss)
{
	char buf[NW_ADDRSTRLEN];
	const char *colon;

	if (nw_addr_str((const struct sockaddr *)ss, sizeof *ss, buf, sizeof buf) == NULL)
		die("nw_addr_str");
	colon = strrchr(buf, ':');
	return colon != NULL ? atoi(colon + 1) : -1;
}

/*
 * Open the connection we watch while the listener's accept queue is full.
 * Loopback finishes a handshake before connect() returns, so SYN_SENT is
 * normally invisible; with the queue full, Linux drops the SYN and the
 * client waits in SYN_SENT for its retransmission timer (1 s, RFC 6298).
 * Connections that complete at once are fillers, left unaccepted.
 */
static int connect_into_full_queue(const struct sockaddr_storage *to, socklen_t len,
				   int *fillers, int *nfillers, int max)
{
	while (*nfillers < max) {
		int fd = start_connect(to, len);

		if (fd_state(fd) != NW_TCP_ESTABLISHED)
			return fd;
		fillers[(*nfillers)++] = fd;
	}
	/* The queue never filled: watch the last one, already established. */
	return fillers[--*nfillers];
}

/* Accept connections until ours comes out; close the others. */
static int accept_ours(int listen_fd, const struct end *client)
{
	for (;;) {
		struct sockaddr_storage peer;
		socklen_t len = sizeof peer;
		int fd = nw_accept(listen_fd, &peer, &len);

		if (fd < 0)
			die("nw_accept");
		if (local_port(&peer) == local_port(&client->local))
			return fd;
		close(fd);
	}
}

/* Fill the client's receive window and the server's send buffer. */
static long long send_until_full(int fd)
{
	char chunk[16384];
	long long total = 0;

	memset(chunk, 'x', sizeof chunk);
	if (nw_set_nonblock(fd, 1) < 0)
		die("nw_set_nonblock");
	for (;;) {
		ssize_t n = send(fd, chunk, sizeof chunk, MSG_NOSIGNAL);

		if (n > 0) {
			total += n;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return total;
		} else if (errno != EINTR) {
			perror("tcp-states: send");
			exit(1);
		}
	}
}

static void print_seen(const struct end *e)
{
	printf("%s:", e->name);
	for (int i = 0; i < e->nseen; i++)
		printf(" %s", nw_tcp_state_name(e->order[i]));
	putchar('\n');
}

/* The transitions of RFC 9293's Figure 5: event / action. */
static const struct rfc_edge {
	enum nw_tcp_state from, to;
	const char *why;
} rfc_edges[] = {
	{ NW_TCP_CLOSED, NW_TCP_LISTEN, "passive OPEN" },
	{ NW_TCP_CLOSED, NW_TCP_SYN_SENT, "active OPEN / snd SYN" },
	{ NW_TCP_LISTEN, NW_TCP_SYN_RECEIVED, "rcv SYN / snd SYN,ACK" },
	{ NW_TCP_LISTEN, NW_TCP_SYN_SENT, "SEND / snd SYN" },
	{ NW_TCP_LISTEN, NW_TCP_CLOSED, "CLOSE" },
	{ NW_TCP_SYN_SENT, NW_TCP_SYN_RECEIVED, "rcv SYN / snd ACK" },
	{ NW_TCP_SYN_SENT, NW_TCP_ESTABLISHED, "rcv SYN,ACK / snd ACK" },
	{ NW_TCP_SYN_SENT, NW_TCP_CLOSED, "CLOSE" },
	{ NW_TCP_SYN_RECEIVED, NW_TCP_ESTABLISHED, "rcv ACK of SYN" },
	{ NW_TCP_SYN_RECEIVED, NW_TCP_FIN_WAIT_1, "CLOSE / snd FIN" },
	{ NW_TCP_ESTABLISHED, NW_TCP_FIN_WAIT_1, "CLOSE / snd FIN" },
	{ NW_TCP_ESTABLISHED, NW_TCP_CLOSE_WAIT, "rcv FIN / snd ACK" },
	{ NW_TCP_FIN_WAIT_1, NW_TCP_FIN_WAIT_2, "rcv ACK of FIN" },
	{ NW_TCP_FIN_WAIT_1, NW_TCP_CLOSING, "rcv FIN / snd ACK" },
	{ NW_TCP_FIN_WAIT_2, NW_TCP_TIME_WAIT, "rcv FIN / snd ACK" },
	{ NW_TCP_CLOSING, NW_TCP_TIME_WAIT, "rcv ACK of FIN" },
	{ NW_TCP_CLOSE_WAIT, NW_TCP_LAST_ACK, "CLOSE / snd FIN" },
	{ NW_TCP_LAST_ACK, NW_TCP_CLOSED, "rcv ACK of FIN" },
	{ NW_TCP_TIME_WAIT, NW_TCP_CLOSED, "timeout = 2 MSL" },
};
#define N_RFC_EDGES (sizeof rfc_edges / sizeof rfc_edges[0])

/*
 * The diagram's node for a state.  As in the RFC's figure, CLOSED is drawn
 * twice: where a connection begins, and where it ends.
 */
static const char *dot_node(enum nw_tcp_state from, enum nw_tcp_state to)
{
	if (to == NW_TCP_CLOSED && from != NW_TCP_LISTEN && from != NW_TCP_SYN_SENT)
		return "CLOSED_end";
	return nw_tcp_state_name(to);
}

static const struct rfc_edge *rfc_edge(enum nw_tcp_state from, enum nw_tcp_state to)
{
	for (size_t i = 0; i < N_RFC_EDGES; i++)
		if (rfc_edges[i].from == from && rfc_edges[i].to == to)
			return &rfc_edges[i];
	return NULL;
}

/* Does one end's walk (with its starting state) take this edge? */
/* Edges back up to the top CLOSED must not pull it down the page. */
static const char *dot_layout(enum nw_tcp_state from, enum nw_tcp_state to)
{
	return to == NW_TCP_CLOSED && (from == NW_TCP_LISTEN || from == NW_TCP_SYN_SENT) ?
		", constraint=false" : "";
}

/*
 * A state between two that the RFC's edges pass through, if any: the first
 * in the table, its usual path (LISTEN to ESTABLISHED is a passive open,
 * through SYN_RECEIVED, not a SEND through SYN_SENT).
 */
static const char *between(enum nw_tcp_state from, enum nw_tcp_state to)
{
	for (size_t i = 0; i < N_RFC_EDGES; i++)
		if (rfc_edges[i].from == from && rfc_edge(rfc_edges[i].to, to) != NULL)
			return nw_tcp_state_name(rfc_edges[i].to);
	return NULL;
}

static bool walk_takes(enum nw_tcp_state first, const struct end *e, const struct rfc_edge *edge)
{
	enum nw_tcp_state prev = first;

	for (int i = 0; i < e->nseen; i++) {
		if (prev == edge->from && e->order[i] == edge->to)
			return true;
		prev = e->order[i];
	}
	return false;
}

/* One end's walk as bold numbered edges; first is where it starts. */
static void dot_walk(FILE *f, const struct end *e, enum nw_tcp_state first,
		     const char *color)
{
	enum nw_tcp_state prev = first;
	int n = 0;

	for (int i = 0; i < e->nseen; i++) {
		enum nw_tcp_state s = e->order[i];
		const struct rfc_edge *edge;
		const char *via;

		if (s == prev)
			continue;
		edge = rfc_edge(prev, s);
		via = edge == NULL ? between(prev, s) : NULL;
		fprintf(f, "\t\"%s\" -> \"%s\" [color=\"%s\", fontcolor=\"%s\", penwidth=3.5, "
			"fontname=\"Helvetica-Bold\", label=\"%s %d (%.1f ms)\\n%s%s%s\"%s%s];\n",
			prev == NW_TCP_CLOSED ? "CLOSED" : nw_tcp_state_name(prev), dot_node(prev, s),
			color, color, e->name, ++n, e->when[i],
			edge != NULL ? edge->why : "through ", edge != NULL ? "" : via != NULL ? via : "states",
			edge != NULL ? "" : ", too quick to see",
			edge != NULL ? "" : ", style=dashed", dot_layout(prev, s));
		prev = s;
	}
}

/*
 * RFC 9293's state diagram with this run's walk on it.  The client starts
 * CLOSED (a new socket); the server's connection starts in the listener's
 * LISTEN, which this run saw, and passes SYN_RECEIVED too quickly to see.
 */
static void write_dot(const char *path, const char *host,
		      const struct end *client, const struct end *server)
{
	FILE *f = fopen(path, "we");

	if (f == NULL) {
		fprintf(stderr, "tcp-states: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fprintf(f, "// TCP states (RFC 9293, Figure 5) and one run of examples/tcp-states %s.\n"
		"digraph tcp_states {\n"
		"\tgraph [fontname=\"Helvetica\", labelloc=t, fontsize=18, nodesep=0.5, ranksep=0.45,\n"
		"\t       label=\"TCP connection states (RFC 9293, Figure 5): one connection on %s\"];\n"
		"\tnode [shape=box, style=\"rounded,filled\", fillcolor=\"#f4f4f4\", fontname=\"Helvetica\"];\n"
		"\tedge [color=\"#a0a0a0\", fontcolor=\"#808080\", fontname=\"Helvetica\", fontsize=10];\n"
		"\tCLOSED_end [label=\"CLOSED\"];\n"
		"\t{ rank=min; CLOSED; }\n"
		"\t{ rank=same; SYN_SENT; SYN_RECEIVED; }\n"
		"\t{ rank=same; FIN_WAIT_1; CLOSE_WAIT; }\n"
		"\t{ rank=same; FIN_WAIT_2; CLOSING; LAST_ACK; }\n",
		host, host);
	/* A state this run saw gets the color of the end that was in it. */
	for (enum nw_tcp_state s = NW_TCP_CLOSED; s <= NW_TCP_TIME_WAIT; s++) {
		bool c = client->seen[s], sv = server->seen[s] || s == NW_TCP_LISTEN;

		if (s != NW_TCP_CLOSED && (c || sv))
			fprintf(f, "\t%s [penwidth=2, fillcolor=\"%s\"];\n", nw_tcp_state_name(s),
				c && sv ? "#e6dcf5" : c ? "#dce8fb" : "#fbdcdc");
	}
	for (size_t i = 0; i < N_RFC_EDGES; i++) {
		const struct rfc_edge *edge = &rfc_edges[i];

		if (walk_takes(NW_TCP_CLOSED, client, edge) ||
		    walk_takes(NW_TCP_LISTEN, server, edge))
			continue;	/* drawn bold below */
		fprintf(f, "\t\"%s\" -> \"%s\" [label=\"%s\"%s];\n", nw_tcp_state_name(edge->from),
			dot_node(edge->from, edge->to), edge->why, dot_layout(edge->from, edge->to));
	}
	dot_walk(f, client, NW_TCP_CLOSED, "#1f5fbf");
	dot_walk(f, server, NW_TCP_LISTEN, "#c0392b");
	fprintf(f, "\tlegend [shape=plaintext, style=\"\", fontsize=11, label=\"bold: the transitions this run "
		"saw, numbered in order (blue: client, red: server; ms since start)\\ndashed: through "
		"states too quick to see; grey: the RFC's other transitions\"];\n"
		"\tCLOSED_end -> legend [style=invis];\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "tcp-states: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *dot_path = NULL;
	const char *host;
	struct end client, server;
	struct sockaddr_storage listen_addr;
	socklen_t listen_len = sizeof listen_addr;
	char addr[NW_ADDRSTRLEN], buf[65536];
	int fillers[16], nfillers = 0;
	int listen_fd, client_fd, server_fd;
	long long queued, got = 0;
	ssize_t n;

	if (argc > 2 && strcmp(argv[1], "--dot") == 0) {
		dot_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: tcp-states [--dot FILE] [HOST]\n");
		return 2;
	}
	host = argc > 1 ? argv[1] : "127.0.0.1";
	clock_gettime(CLOCK_MONOTONIC, &start);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("One TCP connection on loopback; each state is read from the kernel as it\n"
	       "happens and printed with the time it was first seen.\n");

	listen_fd = nw_tcp_listen(host, "0", 1);
	if (listen_fd < 0)
		die("nw_tcp_listen");
	if (getsockname(listen_fd, (struct sockaddr *)&listen_addr, &listen_len) < 0) {
		perror("tcp-states: getsockname");
		return 1;
	}
	printf("[%8.3f ms] server  %s on %s\n", elapsed_ms(),
	       nw_tcp_state_name(fd_state(listen_fd)),
	       nw_addr_str((struct sockaddr *)&listen_addr, listen_len, addr, sizeof addr));

	step("1. Opening: SYN_SENT, then ESTABLISHED");
	client_fd = connect_into_full_queue(&listen_addr, listen_len, fillers, &nfillers,
					    (int)(sizeof fillers / sizeof fillers[0]));
	memset(&client, 0, sizeof client);
	client.name = "client";
	client.fd = client_fd;
	client.local_len = sizeof client.local;
	getsockname(client_fd, (struct sockaddr *)&client.local, &client.local_len);
	client.remote = listen_addr;
	client.remote_len = listen_len;
	end_poll(&client);
	if (client.last == NW_TCP_SYN_SENT) {
		say("%d finished connections wait in the listener's accept queue, and", nfillers);
		say("nobody has accepted them: the queue is full, so the server's kernel");
		say("drops our SYN.  The client waits in SYN_SENT and sends its SYN again");
		say("when its retransmission timer (1 s to begin with) expires.");
	} else {
		say("The accept queue never filled, so the handshake was over before");
		say("connect() returned: SYN_SENT was not seen.");
	}
	for (int i = 0; i < 2 && nfillers > 0; i++) {
		int fd = nw_accept(listen_fd, NULL, NULL);	/* make room */

		if (fd < 0)
			die("nw_accept");
		close(fd);
	}
	say("The server accepts queued connections, making room...");
	watch(&client, NW_TCP_ESTABLISHED, NULL, NW_TCP_UNKNOWN, 5000);
	if (client.last != NW_TCP_ESTABLISHED) {
		fprintf(stderr, "tcp-states: the connection did not open\n");
		return 1;
	}
	server_fd = accept_ours(listen_fd, &client);
	while (nfillers > 0)
		close(fillers[--nfillers]);
	if (nw_set_nonblock(client_fd, 0) < 0)
		die("nw_set_nonblock");
	end_init(&server, "server", server_fd);
	end_poll(&server);
	say("The retransmitted SYN found room: SYN, SYN-ACK, ACK, and both ends are");
	say("ESTABLISHED.  The server's half-open SYN_RECEIVED lasted microseconds.");
	print_rtt(&client);
	print_rtt(&server);

	step("2. The client half-closes: nw_shutdown_write()");
	if (nw_writen(client_fd, "request\n", 8) < 0)
		die("nw_writen");
	if (nw_shutdown_write(client_fd) < 0)
		die("nw_shutdown_write");
	say("The client sent its request and has nothing more to say: shutdown(SHUT_WR)");
	say("sends a FIN after the data, and the client can still read the answer.");
	watch(&client, NW_TCP_FIN_WAIT_2, &server, NW_TCP_CLOSE_WAIT, 2000);
	if (client.seen[NW_TCP_FIN_WAIT_1]) {
		say("FIN_WAIT_1: the FIN is out, not yet acknowledged.  The server's kernel");
		say("delays that ACK a little, hoping its application answers at once so the");
		say("ACK can ride along with the data.");
	} else {
		say("FIN_WAIT_1 (FIN out, not yet acknowledged) was over before our first look.");
	}
	say("FIN_WAIT_2: the FIN is acknowledged; the client waits for the server's FIN.");
	say("CLOSE_WAIT: the server got the FIN.  It stays here until its application");
	say("closes; a server that forgets to close piles up CLOSE_WAIT connections.");

	step("3. The server reads end of file, and still answers");
	while ((n = read(server_fd, buf, sizeof buf)) > 0)
		;
	if (n < 0) {
		perror("tcp-states: read");
		return 1;
	}
	say("read() returned 0: end of file.  The connection is half-closed, not closed:");
	queued = send_until_full(server_fd);
	say("the server sends an answer of %lld bytes, more than the client's receive", queued);
	say("window and the server's send buffer hold, so the tail waits in the server.");

	step("4. The server closes: LAST_ACK");
	close(server_fd);
	server.fd = -1;
	watch(&server, NW_TCP_LAST_ACK, NULL, NW_TCP_UNKNOWN, 1000);
	watch(&server, NW_TCP_UNKNOWN, &client, NW_TCP_UNKNOWN, 300);	/* hold still */
	if (server.last == NW_TCP_LAST_ACK) {
		struct nw_tcp_info info;

		if (nw_tcp_info_by_addr((struct sockaddr *)&server.local, server.local_len,
					(struct sockaddr *)&server.remote, server.remote_len,
					&info, sizeof info) == 0)
			say("Still LAST_ACK 300 ms later, %u bytes not yet sent.", info.notsent_bytes);
		say("close() queued the server's FIN behind the unsent answer, and the");
		say("connection lives on without a descriptor: Linux enters LAST_ACK when");
		say("the FIN is queued and leaves it when the FIN is acknowledged.  Until the");
		say("client reads, its window is shut and neither the data nor the FIN moves.");
		say("(With nothing queued, loopback acknowledges the FIN within microseconds.)");
	}

	step("5. The client reads the rest: TIME_WAIT");
	for (;;) {
		n = read(client_fd, buf, sizeof buf);
		if (n <= 0)
			break;
		got += n;
		end_poll(&server);
		end_poll(&client);
	}
	if (n < 0) {
		perror("tcp-states: read");
		return 1;
	}
	watch(&client, NW_TCP_TIME_WAIT, &server, NW_TCP_CLOSED, 2000);
	say("The client read %lld bytes and then end of file.  The server's FIN was", got);
	say("acknowledged at once: its end went CLOSED and the kernel forgot it.");
	if (client.last != NW_TCP_TIME_WAIT) {
		/* Linux keeps at most net.ipv4.tcp_max_tw_buckets of them per namespace. */
		say("The client closed first, yet no TIME_WAIT: this network namespace");
		say("already holds its maximum of TIME_WAIT connections");
		say("(net.ipv4.tcp_max_tw_buckets), so Linux closed this one at once.");
		say("/proc/net/netstat counts such cases as TCPTimeWaitOverflow.");
		close(client_fd);
	} else {
		say("The client, which closed first, is in TIME_WAIT.  Its descriptor already");
		say("says CLOSED (Linux hands TIME_WAIT to a small socket of its own), so the");
		say("state is found by address, as ss(8) does.");
		close(client_fd);
		client.fd = -1;
		watch(&client, NW_TCP_UNKNOWN, NULL, NW_TCP_UNKNOWN, 100);	/* outlives close() */
		say("After close() it is still TIME_WAIT, for 60 s on Linux (2 MSL), so that a");
		say("delayed segment of this connection cannot pass for one of a new connection");
		say("between the same addresses, and a lost last ACK can be sent again.");
	}

	step("Not seen here");
	say("SYN_RECEIVED: the server's side between its SYN-ACK and the client's ACK;");
	say("on loopback that is microseconds, and it is a request, not yet a socket.");
	say("CLOSING: both ends close at the same moment and their FINs cross in flight.");
	if (!client.seen[NW_TCP_FIN_WAIT_1])
		say("FIN_WAIT_1, this time: the FIN was acknowledged before our first look.");
	say("On a real network each transient state lasts about one round trip.");
	printf("\nStates seen, in order:\n");
	print_seen(&client);
	print_seen(&server);
	close(listen_fd);
	if (dot_path != NULL) {
		write_dot(dot_path, host, &client, &server);
		printf("\nThe state diagram with this walk on it: %s (Graphviz)\n", dot_path);
	}
	return 0;
}
