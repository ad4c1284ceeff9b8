/*
 * http-hello - a small, correct HTTP/1.1 server answering every request
 * with 200 OK and the body "hello\n", in any nw_server model.
 *
 *   http-hello PORT [HOST] [--model process|thread|pool|event] [--workers N]
 *              [--idle-timeout MS]
 *
 * Keep-alive by default (HTTP/1.1), "Connection: close" honoured, HTTP/1.0
 * closes unless it asks for keep-alive, pipelined requests answered in
 * order, request bodies with Content-Length read and discarded.  Answered
 * and then closed: Transfer-Encoding 501, a malformed request 400, headers
 * over 8 KiB 431.  PORT 0 picks an ephemeral port; the first line on
 * standard output is "listening on ADDR".  SIGINT or SIGTERM stops it.
 *
 * The parser is shared by both kinds of server: the event model hands it
 * what arrived and takes back how much it used; the blocking models read
 * into a buffer and call it the same way.
 */
#include <netwrap.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_HEADERS 8192

static const char ok_keep[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
static const char ok_keep10[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
	"Connection: keep-alive\r\n\r\nhello\n";
static const char ok_close[] =
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
	"Connection: close\r\n\r\nhello\n";
static const char bad_request[] =
	"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
static const char too_large[] =
	"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
	"Connection: close\r\n\r\n";
static const char not_implemented[] =
	"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

struct request {
	size_t header_len;	/* bytes up to and including the blank line */
	uint64_t body_len;	/* Content-Length: bytes to discard after it */
	const char *reply;	/* what to send */
	bool close;		/* close after the reply */
};

static bool is_tchar(int ch)
{
	return isalnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Does the comma-separated list in [v, end) hold token? */
static bool has_token(const char *v, const char *end, const char *token)
{
	size_t n = strlen(token);

	while (v < end) {
		while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
			v++;
		const char *t = v;

		while (v < end && *v != ',')
			v++;
		const char *e = v;

		while (e > t && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - t) == n && strncasecmp(t, token, n) == 0)
			return true;
	}
	return false;
}

/* Mark r as an error reply that closes the connection; returns 1. */
static int fail(struct request *r, const char *reply)
{
	r->reply = reply;
	r->close = true;
	return 1;
}

/*
 * Parse the request at the start of buf: 0 when more is needed, 1 with r
 * filled (an error reply included).
 */
static int parse(const char *buf, size_t len, struct request *r)
{
	const char *end = NULL, *p, *line_end;
	bool http10, keep_alive = false, conn_close = false, have_length = false;

	memset(r, 0, sizeof *r);
	for (size_t i = 3; i < len && i < MAX_HEADERS; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
			end = buf + i + 1;
			break;
		}
	if (end == NULL)
		return len >= MAX_HEADERS ? fail(r, too_large) : 0;
	r->header_len = (size_t)(end - buf);

	/* Request line: METHOD SP TARGET SP HTTP/1.x CRLF */
	line_end = memchr(buf, '\r', (size_t)(end - buf));
	if (line_end[1] != '\n')
		return fail(r, bad_request);
	for (p = buf; p < line_end && is_tchar((unsigned char)*p); p++)
		;
	if (p == buf || p >= line_end || *p != ' ')
		return fail(r, bad_request);
	const char *target = ++p;

	while (p < line_end && *p != ' ' && (unsigned char)*p > ' ' && *p != 0x7f)
		p++;
	if (p == target || p >= line_end || *p != ' ')
		return fail(r, bad_request);
	p++;
	if (line_end - p != 8 || strncmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
		return fail(r, bad_request);
	http10 = p[7] == '0';

	/* Header fields: NAME ":" OWS VALUE OWS CRLF, up to the blank line. */
	for (p = line_end + 2; p < end - 2; p = line_end + 2) {
		const char *name = p, *colon, *v, *ve;

		line_end = memchr(p, '\r', (size_t)(end - p));
		if (line_end == NULL || line_end[1] != '\n')
			return fail(r, bad_request);
		while (p < line_end && is_tchar((unsigned char)*p))
			p++;
		colon = p;
		if (colon == name || colon >= line_end || *colon != ':')
			return fail(r, bad_request);
		for (v = colon + 1; v < line_end && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = line_end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		size_t nlen = (size_t)(colon - name);

		if (nlen == 17 && strncasecmp(name, "Transfer-Encoding", 17) == 0)
			return fail(r, not_implemented);
		if (nlen == 14 && strncasecmp(name, "Content-Length", 14) == 0) {
			uint64_t n = 0;

			if (v == ve)
				return fail(r, bad_request);
			for (const char *d = v; d < ve; d++) {
				if (!isdigit((unsigned char)*d) || n > UINT64_MAX / 10 - 10)
					return fail(r, bad_request);
				n = n * 10 + (uint64_t)(*d - '0');
			}
			if (have_length && n != r->body_len)
				return fail(r, bad_request);
			have_length = true;
			r->body_len = n;
		}
		if (nlen == 10 && strncasecmp(name, "Connection", 10) == 0) {
			conn_close |= has_token(v, ve, "close");
			keep_alive |= has_token(v, ve, "keep-alive");
		}
	}
	r->close = conn_close || (http10 && !keep_alive);
	r->reply = r->close ? ok_close : http10 ? ok_keep10 : ok_keep;
	return 1;
}

/* ---- the event model: callbacks ---- */

/* The only state a connection needs: body bytes still to discard, in its user pointer. */
static size_t on_data(nw_conn *c, const char *data, size_t len)
{
	uintptr_t skip = (uintptr_t)nw_conn_data(c);
	struct request r;

	if (skip > 0) {
		size_t n = len < skip ? len : skip;

		nw_conn_set_data(c, (void *)(skip - n));
		return n;
	}
	if (parse(data, len, &r) == 0)
		return 0;
	if (nw_conn_send(c, r.reply, strlen(r.reply)) < 0 || r.close) {
		nw_conn_close(c);
		return len;
	}
	if (r.body_len > UINTPTR_MAX) {
		nw_conn_close(c);
		return len;
	}
	nw_conn_set_data(c, (void *)(uintptr_t)r.body_len);
	return r.header_len;
}

/* ---- the blocking models: a handler per connection ---- */

static void handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	char buf[MAX_HEADERS + 4096];
	size_t have = 0;
	uint64_t skip = 0;

	(void)peer;
	(void)peerlen;
	(void)arg;
	for (;;) {
		struct request r;

		if (skip > 0 && have > 0) {
			size_t n = have < skip ? have : (size_t)skip;

			memmove(buf, buf + n, have - n);
			have -= n;
			skip -= n;
		}
		if (skip == 0 && have > 0 && parse(buf, have, &r)) {
			if (nw_writen(fd, r.reply, strlen(r.reply)) < 0 || r.close)
				return;
			memmove(buf, buf + r.header_len, have - r.header_len);
			have -= r.header_len;
			skip = r.body_len;
			continue;
		}
		ssize_t n = read(fd, buf + have, sizeof buf - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* end of file, an error, or the idle timeout */
		have += (size_t)n;
	}
}

/* ---- main ---- */

static nw_server *server;

static void on_signal(int sig)
{
	(void)sig;
	nw_server_stop(server);
}

static int parse_int(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 1000000) {
		fprintf(stderr, "http-hello: bad %s: %s\n", what, s);
		exit(2);
	}
	return (int)v;
}

static _Noreturn void usage(void)
{
	fprintf(stderr, "usage: http-hello PORT [HOST] [--model process|thread|pool|event]"
			" [--workers N] [--idle-timeout MS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct nw_conn_ops ops = { .on_data = on_data };
	enum nw_server_model model = NW_SERVER_EVENT;
	int workers = -1, idle_ms = 0, opt, lfd, rc;
	char addr[NW_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	struct sigaction sa;
	sigset_t stop_signals;

	while ((opt = getopt_long(argc, argv, "m:w:i:", options, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (strcmp(optarg, "process") == 0)
				model = NW_SERVER_PROCESS;
			else if (strcmp(optarg, "thread") == 0)
				model = NW_SERVER_THREAD;
			else if (strcmp(optarg, "pool") == 0)
				model = NW_SERVER_POOL;
			else if (strcmp(optarg, "event") == 0)
				model = NW_SERVER_EVENT;
			else
				usage();
			break;
		case 'w':
			workers = parse_int(optarg, "worker count");
			break;
		case 'i':
			idle_ms = parse_int(optarg, "idle timeout");
			break;
		default:
			usage();
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		usage();
	/* Defaults: one loop per CPU for the event model, 64 threads for the pool. */
	if (workers < 0)
		workers = model == NW_SERVER_EVENT ? 0 : 64;

	lfd = nw_tcp_listen(argc - optind == 2 ? argv[optind + 1] : NULL, argv[optind], 0);
	if (lfd < 0) {
		fprintf(stderr, "http-hello: %s\n", nw_errmsg());
		return 1;
	}
	server = model == NW_SERVER_EVENT ? nw_server_new_events(lfd, &ops, sizeof ops, NULL)
					  : nw_server_new(lfd, handler, NULL);
	if (server == NULL || nw_server_set_model(server, model, workers) < 0 ||
	    nw_server_set_max_conns(server, 4096) < 0 ||
	    nw_server_set_idle_timeout(server, idle_ms) < 0 ||
	    nw_server_set_grace(server, 1000) < 0) {
		fprintf(stderr, "http-hello: %s\n", nw_errmsg());
		return 1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	getsockname(lfd, (struct sockaddr *)&ss, &sslen);
	printf("listening on %s\n", nw_addr_str((struct sockaddr *)&ss, sslen, addr, sizeof addr));
	fflush(stdout);

	rc = nw_server_run(server);
	if (rc < 0)
		fprintf(stderr, "http-hello: %s\n", nw_errmsg());
	/* A late signal must not reach nw_server_stop on a freed server. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);
	nw_server_free(server);
	close(lfd);
	return rc < 0 ? 1 : 0;
}
