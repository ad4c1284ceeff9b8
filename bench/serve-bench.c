/*
 * serve-bench - 64-byte echo round trips per second through nw_server's
 * three models, against an event-driven echo server on libevent, measured
 * in the same run and printed as ratios to libevent.
 *
 *   serve-bench [-s SECONDS] [-r ROUNDS] [-w POOL_WORKERS] [-c N,N,...]
 *
 * Each server runs in a child process on its own listener; this process is
 * the client: N connections driven by one epoll loop, each sending 64 bytes
 * and waiting for them to come back, again and again.  After a warm-up
 * (every connection the server can take has had an answer), round trips
 * are counted for SECONDS (default 1).  The servers take turns, ROUNDS times
 * (default 3), and the median counts, so a noisy neighbour on a shared
 * machine hits every server alike.  A benchmark, not a test: it checks
 * nothing but that the servers answer.
 */
#include <netwrap.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MESSAGE 64
#define MAX_ROUNDS 15
#define MAX_COUNTS 8

/* EVENT: one loop per CPU (the default); EVENT1: one loop, like the libevent server. */
enum kind { LIBEVENT, PROCESS, THREAD, POOL, EVENT, EVENT1, KINDS };

static const char *const kind_names[KINDS] = { "libevent", "process", "thread", "pool",
					       "event", "event1" };

static int pool_workers = 64;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "serve-bench: %s\n", what);
	exit(1);
}

/* ---- the servers (each in a child process) ---- */

static nw_server *nw_bench_server;

static void stop_nw_server(int sig)
{
	(void)sig;
	nw_server_stop(nw_bench_server);
}

static void echo_handler(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	char buf[4096];
	ssize_t n;

	(void)peer;
	(void)peerlen;
	(void)arg;
	nw_set_nodelay(fd, 1);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || nw_writen(fd, buf, (size_t)n) < 0)
			break;
	}
}

static void event_open(nw_conn *c)
{
	nw_set_nodelay(nw_conn_fd(c), 1);
}

static size_t event_echo(nw_conn *c, const char *data, size_t len)
{
	if (nw_conn_send(c, data, len) < 0)
		nw_conn_close(c);
	return len;
}

static _Noreturn void run_nw_server(int lfd, enum kind kind)
{
	static const struct nw_conn_ops ops = { .on_open = event_open, .on_data = event_echo };
	static const enum nw_server_model models[KINDS] = {
		[PROCESS] = NW_SERVER_PROCESS, [THREAD] = NW_SERVER_THREAD, [POOL] = NW_SERVER_POOL,
		[EVENT] = NW_SERVER_EVENT, [EVENT1] = NW_SERVER_EVENT,
	};
	struct sigaction sa;

	bool event = kind == EVENT || kind == EVENT1;

	nw_bench_server = event ? nw_server_new_events(lfd, &ops, sizeof ops, NULL)
				: nw_server_new(lfd, echo_handler, NULL);
	if (nw_bench_server == NULL ||
	    nw_server_set_model(nw_bench_server, models[kind],
				kind == EVENT ? 0 : kind == EVENT1 ? 1 : pool_workers) < 0 ||
	    nw_server_set_max_conns(nw_bench_server, 4096) < 0 ||
	    nw_server_set_grace(nw_bench_server, 1000) < 0)
		die(nw_errmsg());
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = stop_nw_server;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	if (nw_server_run(nw_bench_server) < 0)
		die(nw_errmsg());
	_exit(0);
}

static void libevent_echo(struct bufferevent *bev, void *ctx)
{
	(void)ctx;
	evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void libevent_event(struct bufferevent *bev, short events, void *ctx)
{
	(void)ctx;
	if (events & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void libevent_accept(struct evconnlistener *listener, evutil_socket_t fd,
			    struct sockaddr *sa, int salen, void *ctx)
{
	struct event_base *base = evconnlistener_get_base(listener);
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);

	(void)sa;
	(void)salen;
	(void)ctx;
	nw_set_nodelay(fd, 1);
	bufferevent_setcb(bev, libevent_echo, NULL, libevent_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void libevent_stop(evutil_socket_t sig, short events, void *base)
{
	(void)sig;
	(void)events;
	event_base_loopbreak(base);
}

static _Noreturn void run_libevent_server(int lfd)
{
	struct event_base *base = event_base_new();
	struct evconnlistener *listener;
	struct event *term;

	/* libevent writes with writev, which raises SIGPIPE on a closed connection. */
	signal(SIGPIPE, SIG_IGN);
	if (base == NULL || evutil_make_socket_nonblocking(lfd) < 0)
		die("libevent setup failed");
	/* backlog 0: the socket already listens. */
	listener = evconnlistener_new(base, libevent_accept, NULL, LEV_OPT_CLOSE_ON_FREE, 0, lfd);
	term = evsignal_new(base, SIGTERM, libevent_stop, base);
	if (listener == NULL || term == NULL || event_add(term, NULL) < 0)
		die("libevent setup failed");
	event_base_dispatch(base);
	_exit(0);
}

/* ---- the client ---- */

struct client {
	int fd;
	unsigned got;		/* bytes of the current answer */
	bool answered;		/* at least one round trip done */
};

static void send_request(const struct client *c)
{
	static const char request[MESSAGE] = "0123456789abcdef0123456789abcdef"
					     "0123456789abcdef0123456789abcde";

	/* 64 bytes always fit in an idle socket's buffer. */
	if (send(c->fd, request, MESSAGE, MSG_NOSIGNAL) != MESSAGE)
		die("send failed: the server went away");
}

/* Handle what epoll reported; the number of round trips completed. */
static long pump(int epfd, struct client *clients, int timeout_ms, int *answered)
{
	struct epoll_event events[256];
	char buf[MESSAGE];
	long trips = 0;
	int n = epoll_wait(epfd, events, 256, timeout_ms);

	for (int i = 0; i < n; i++) {
		struct client *c = &clients[events[i].data.u32];
		ssize_t r = read(c->fd, buf, MESSAGE - c->got);

		if (r < 0 && errno == EAGAIN)
			continue;
		if (r <= 0)
			die("a connection failed: the server went away");
		c->got += (unsigned)r;
		if (c->got < MESSAGE)
			continue;
		c->got = 0;
		trips++;
		if (!c->answered) {
			c->answered = true;
			(*answered)++;
		}
		send_request(c);
	}
	return trips;
}

/* Round trips per second through the server on port, with conns clients. */
static double measure(const char *port, int conns, int servable, double seconds)
{
	struct client *clients = calloc((size_t)conns, sizeof *clients);
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int answered = 0;
	double start, deadline;
	long trips = 0;

	if (clients == NULL || epfd < 0)
		die("out of memory or descriptors");
	for (int i = 0; i < conns; i++) {
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

		clients[i].fd = nw_tcp_connect("127.0.0.1", port, 10000);
		if (clients[i].fd < 0 || nw_set_nodelay(clients[i].fd, 1) < 0 ||
		    nw_set_nonblock(clients[i].fd, 1) < 0 ||
		    epoll_ctl(epfd, EPOLL_CTL_ADD, clients[i].fd, &ev) < 0)
			die(nw_errmsg());
		send_request(&clients[i]);
	}
	/* Warm up: every connection the server takes at once has its first answer. */
	deadline = now_s() + 30;
	while (answered < servable && now_s() < deadline)
		pump(epfd, clients, 100, &answered);
	if (answered < servable)
		die("the server did not answer every connection within 30 s");
	start = now_s();
	while (now_s() - start < seconds)
		trips += pump(epfd, clients, 100, &answered);
	seconds = now_s() - start;
	for (int i = 0; i < conns; i++)
		close(clients[i].fd);
	close(epfd);
	free(clients);
	return (double)trips / seconds;
}

/* Start the server in a child, measure, stop it. */
static double bench_one(enum kind kind, int conns, double seconds)
{
	char port[8];
	int lfd = nw_tcp_listen("127.0.0.1", "0", 0), status;
	int servable = kind == POOL && pool_workers < conns ? pool_workers : conns;
	pid_t pid;
	double rate;

	if (lfd < 0)
		die(nw_errmsg());
	snprintf(port, sizeof port, "%d", nw_local_port(lfd));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork failed");
	if (pid == 0) {
		if (kind == LIBEVENT)
			run_libevent_server(lfd);
		run_nw_server(lfd, kind);
	}
	close(lfd);
	rate = measure(port, conns, servable, seconds);
	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("a server did not stop cleanly");
	return rate;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, compare_doubles);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void)
{
	fprintf(stderr, "usage: serve-bench [-s SECONDS] [-r ROUNDS] [-w POOL_WORKERS]"
			" [-c N,N,...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int counts[MAX_COUNTS] = { 10, 100, 1000 }, ncounts = 3, rounds = 3, opt;
	double seconds = 1.0;
	struct rlimit rl;

	while ((opt = getopt(argc, argv, "s:r:w:c:")) != -1) {
		switch (opt) {
		case 's':
			seconds = atof(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'w':
			pool_workers = atoi(optarg);
			break;
		case 'c':
			ncounts = 0;
			for (char *tok = strtok(optarg, ","); tok && ncounts < MAX_COUNTS;
			     tok = strtok(NULL, ","))
				counts[ncounts++] = atoi(tok);
			break;
		default:
			usage();
		}
	}
	if (seconds <= 0 || rounds < 1 || rounds > MAX_ROUNDS || pool_workers < 1 || ncounts < 1)
		usage();
	for (int i = 0; i < ncounts; i++)
		if (counts[i] < 1 || counts[i] > 4000)
			usage();
	/* Clients and servers each hold a descriptor per connection. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	printf("64-byte echo round trips per second, median of %d runs of %g s;\n"
	       "in brackets the ratio to the libevent server measured in the same run.\n"
	       "pool: %d workers (clients beyond that wait in the accept queue).\n"
	       "event: one loop per CPU (the default); event1: one loop, as the libevent server.\n\n",
	       rounds, seconds, pool_workers);
	printf("%8s", "clients");
	for (int k = 0; k < KINDS; k++)
		printf(" %20s", kind_names[k]);
	printf("\n");
	for (int i = 0; i < ncounts; i++) {
		double rates[KINDS][MAX_ROUNDS], med[KINDS];

		for (int r = 0; r < rounds; r++)
			for (int k = 0; k < KINDS; k++)
				rates[k][r] = bench_one((enum kind)k, counts[i], seconds);
		printf("%8d", counts[i]);
		for (int k = 0; k < KINDS; k++) {
			med[k] = median(rates[k], rounds);
			printf(" %12.0f (%5.2f)", med[k], med[k] / med[LIBEVENT]);
		}
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
