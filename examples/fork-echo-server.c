/*
 * fork-echo-server - the classic concurrent server, a process per client,
 * written directly on nw_tcp_listen and nw_accept.  nw_server(3) does all
 * of this for you; this program shows what it takes, for teaching.
 *
 *   fork-echo-server [--idle-timeout MS] [--max-per-peer N] PORT [HOST]
 *
 * The pitfalls every first version falls into, and the answer to each:
 *  - zombies: a SIGCHLD handler reaps every finished child with
 *    waitpid(-1, WNOHANG) in a loop (signals do not queue: one SIGCHLD may
 *    stand for several children);
 *  - accept failing with EINTR when SIGCHLD interrupts it: nw_accept retries;
 *  - descriptors: the parent closes its copy of the client socket, the
 *    child closes the listening socket;
 *  - stopping: SIGINT/SIGTERM are blocked except inside ppoll, so a signal
 *    can never slip in between checking the flag and going to sleep;
 *  - a reply destroyed by a reset: a child that closes its socket with
 *    unread input makes the kernel reset the connection, and the client
 *    loses what it has not read yet; nw_close_graceful drains first;
 *  - strangers: a client that connects and sends nothing holds a process
 *    for ever (--idle-timeout bounds every read and write of the child),
 *    and one address may open thousands of connections (--max-per-peer:
 *    the parent counts live children per address and closes the extra).
 * On a stop the parent closes the listener and exits 0; children finish
 * serving their clients on their own (init reaps them).
 */
#define _GNU_SOURCE	/* ppoll */
#include <netwrap.h>

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Live children and their client's address, for --max-per-peer. */
#define MAX_CHILDREN 1024
struct child {
	volatile sig_atomic_t pid;	/* 0: a free slot; the SIGCHLD handler frees it */
	struct sockaddr_storage peer;
};
static struct child children[MAX_CHILDREN];

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_child(int sig)
{
	int saved = errno;	/* waitpid must not clobber the interrupted code's errno */

	pid_t pid;

	(void)sig;
	while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
		for (int i = 0; i < MAX_CHILDREN; i++)
			if (children[i].pid == pid)
				children[i].pid = 0;
	errno = saved;
}

/* Same client address (nw_server also counts IPv4-mapped IPv6 as IPv4). */
static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr, sizeof(struct in_addr)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return false;
}

/* A free slot for a child of peer, or -1 when peer has max live children (max 0: no cap). */
static int take_slot(const struct sockaddr_storage *peer, int max)
{
	sigset_t chld, old;
	int live = 0, slot = -1;

	/* The handler frees slots; hold it off while counting. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	for (int i = 0; i < MAX_CHILDREN; i++) {
		if (children[i].pid == 0) {
			if (slot < 0)
				slot = i;
		} else if (same_host(&children[i].peer, peer)) {
			live++;
		}
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return max > 0 && live >= max ? -1 : slot;
}

static void echo(int fd)
{
	char buf[16384];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || nw_writen(fd, buf, (size_t)n) < 0)
			break;
	}
}

static int parse_ms(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end || v < 0 || v > 1000000) {
		fprintf(stderr, "fork-echo-server: bad number: %s\n", s);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "max-per-peer", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int idle_ms = 0, max_per_peer = 0, opt, slot;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char addr[NW_ADDRSTRLEN];
	struct sigaction sa;
	sigset_t stop_set, during_wait, chld_set;
	int lfd, fd;
	pid_t pid;

	while ((opt = getopt_long(argc, argv, "i:p:", options, NULL)) != -1) {
		if (opt == 'i')
			idle_ms = parse_ms(optarg);
		else if (opt == 'p')
			max_per_peer = parse_ms(optarg);
		else
			argc = 0;
	}
	if (argc - optind < 1 || argc - optind > 2) {
		fprintf(stderr, "usage: fork-echo-server [--idle-timeout MS] [--max-per-peer N]"
				" PORT [HOST]\n");
		return 2;
	}
	lfd = nw_tcp_listen(argc - optind == 2 ? argv[optind + 1] : NULL, argv[optind], 0);
	/* Non-blocking: a client that gives up between ppoll and accept must not hang us. */
	if (lfd < 0 || nw_set_nonblock(lfd, 1) < 0) {
		fprintf(stderr, "fork-echo-server: %s\n", nw_errmsg());
		return 1;
	}

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = on_stop;
	sa.sa_flags = 0;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	sigemptyset(&chld_set);
	sigaddset(&chld_set, SIGCHLD);
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_set, &during_wait);
	sigdelset(&during_wait, SIGINT);
	sigdelset(&during_wait, SIGTERM);

	peerlen = sizeof peer;
	getsockname(lfd, (struct sockaddr *)&peer, &peerlen);
	printf("listening on %s\n", nw_addr_str((struct sockaddr *)&peer, peerlen, addr, sizeof addr));
	fflush(stdout);

	while (!stop_requested) {
		struct pollfd p = { .fd = lfd, .events = POLLIN };

		/* The stop signals can arrive only while ppoll waits. */
		if (ppoll(&p, 1, NULL, &during_wait) < 0)
			continue;	/* EINTR: look at the flag again */
		fd = nw_accept(lfd, &peer, &peerlen);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EMFILE || errno == ENFILE) {
				/* Nothing there, or out of descriptors: wait rather than spin. */
				if (errno != EAGAIN)
					sleep(1);
				continue;
			}
			fprintf(stderr, "fork-echo-server: %s\n", nw_errmsg());
			return 1;
		}
		slot = take_slot(&peer, max_per_peer);
		if (slot < 0) {
			close(fd);	/* over its cap, or no slot: refused at once, never queued */
			continue;
		}
		printf("client %s\n", nw_addr_str((struct sockaddr *)&peer, peerlen, addr, sizeof addr));
		fflush(stdout);	/* or the child would inherit, and print, the buffer again */

		/* SIGCHLD held until the slot has the pid, so even a child that ends at once frees it. */
		children[slot].peer = peer;
		children[slot].pid = -1;
		sigprocmask(SIG_BLOCK, &chld_set, NULL);
		switch ((pid = fork())) {
		case -1:
			perror("fork-echo-server: fork");
			children[slot].pid = 0;
			close(fd);	/* this client is refused; the next may be luckier */
			break;
		case 0:
			close(lfd);
			sigprocmask(SIG_SETMASK, &during_wait, NULL);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			/* Each read and write waits at most idle_ms: an idle client ends the child. */
			if (idle_ms > 0)
				nw_set_timeout(fd, idle_ms);
			echo(fd);
			nw_close_graceful(fd, 2000);
			_exit(0);
		default:
			children[slot].pid = pid;
			close(fd);
		}
		sigprocmask(SIG_UNBLOCK, &chld_set, NULL);
	}
	close(lfd);
	return 0;
}
