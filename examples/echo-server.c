/*
 * echo-server - a concurrent TCP echo server on nw_server.
 *
 *   echo-server [--model process|thread|pool|event] [--workers N] [--max-conns N]
 *               [--grace MS] [--idle-timeout MS] [--max-per-peer N] PORT [HOST]
 *   echo-server [options] --inherit     (socket activation: no PORT)
 *
 * PORT 0 picks an ephemeral port; the first line on standard output is
 * "listening on ADDR".  With --inherit it serves the first listener
 * systemd (or another supervisor) passed it, as nw_listen_fds(3) finds it.
 * SIGINT or SIGTERM stops the server cleanly: it stops
 * accepting, gives running connections the grace period, and exits 0.
 * Facing strangers, give it an idle timeout and a cap per client address:
 * without them, a few idle connections hold every thread, process or worker.
 */
#include <netwrap.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static nw_server *server;

static void on_signal(int sig)
{
	(void)sig;
	nw_server_stop(server);	/* async-signal-safe */
}

static void echo(int fd, const struct sockaddr *peer, socklen_t peerlen, void *arg)
{
	char buf[16384];
	ssize_t n;

	(void)peer;
	(void)peerlen;
	(void)arg;
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || nw_writen(fd, buf, (size_t)n) < 0)
			break;
	}
}

/* The event model: echo what came, all of it; a failed send ends the connection. */
static size_t echo_data(nw_conn *c, const char *data, size_t len)
{
	if (nw_conn_send(c, data, len) < 0)
		nw_conn_close(c);
	return len;
}

static int parse_int(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < -1 || v > 1000000) {
		fprintf(stderr, "echo-server: bad %s: %s\n", what, s);
		exit(2);
	}
	return (int)v;
}

static void usage(void)
{
	fprintf(stderr, "usage: echo-server [--model process|thread|pool|event] [--workers N]"
			" [--max-conns N] [--grace MS] [--idle-timeout MS] [--max-per-peer N]"
			" {PORT [HOST] | --inherit}\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "max-conns", required_argument, NULL, 'c' },
		{ "grace", required_argument, NULL, 'g' },
		{ "inherit", no_argument, NULL, 'I' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "max-per-peer", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	enum nw_server_model model = NW_SERVER_THREAD;
	int workers = 16, max_conns = 1024, grace_ms = 2000, idle_ms = 0, max_per_peer = 0;
	struct rlimit rl;
	char addr[NW_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	struct sigaction sa;
	int opt, lfd, rc, inherit = 0;
	bool workers_set = false;

	while ((opt = getopt_long(argc, argv, "m:w:c:g:i:p:", options, NULL)) != -1) {
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
			workers_set = true;
			break;
		case 'c':
			max_conns = parse_int(optarg, "connection limit");
			break;
		case 'g':
			grace_ms = parse_int(optarg, "grace period");
			break;
		case 'i':
			idle_ms = parse_int(optarg, "idle timeout");
			break;
		case 'p':
			max_per_peer = parse_int(optarg, "per-peer limit");
			break;
		case 'I':
			inherit = 1;
			break;
		default:
			usage();
		}
	}
	if (inherit ? argc != optind : argc - optind < 1 || argc - optind > 2)
		usage();

	/* The process model holds two descriptors per connection: room for the cap. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (inherit) {
		int *fds, n = nw_listen_fds(&fds, NULL);

		lfd = n > 0 ? fds[0] : -1;
		if (n == 0)
			fprintf(stderr, "echo-server: --inherit: no listener was passed\n");
		for (int i = 1; i < n; i++)
			close(fds[i]);
		if (n > 0)
			free(fds);
		if (n == 0)
			return 1;
	} else {
		lfd = nw_tcp_listen(argc - optind == 2 ? argv[optind + 1] : NULL, argv[optind], 0);
	}
	if (lfd < 0) {
		fprintf(stderr, "echo-server: %s\n", nw_errmsg());
		return 1;
	}
	if (model == NW_SERVER_EVENT) {
		static const struct nw_conn_ops ops = { .on_data = echo_data };

		/* --workers: the number of loops; 0 (the default here) one per CPU. */
		if (!workers_set)
			workers = 0;
		server = nw_server_new_events(lfd, &ops, sizeof ops, NULL);
	} else {
		server = nw_server_new(lfd, echo, NULL);
	}
	if (server == NULL || nw_server_set_model(server, model, workers) < 0 ||
	    nw_server_set_max_conns(server, max_conns) < 0 ||
	    nw_server_set_grace(server, grace_ms) < 0 ||
	    nw_server_set_idle_timeout(server, idle_ms) < 0 ||
	    nw_server_set_max_per_peer(server, max_per_peer) < 0) {
		fprintf(stderr, "echo-server: %s\n", nw_errmsg());
		return 1;
	}

	/* No SA_RESTART needed: nw_server_run copes with interrupted calls. */
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
		fprintf(stderr, "echo-server: %s\n", nw_errmsg());
	/* A late signal must not reach nw_server_stop on a freed server. */
	sigset_t stop_signals;

	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);
	nw_server_free(server);
	close(lfd);
	return rc < 0 ? 1 : 0;
}
