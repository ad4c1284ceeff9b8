/*
 * fork-echo-server - the classic concurrent server, a process per client,
 * written directly on nw_tcp_listen and nw_accept.  nw_server(3) does all
 * of this for you; this program shows what it takes, for teaching.
 *
 *   fork-echo-server PORT [HOST]
 *
 * The pitfalls every first version falls into, and the answer to each:
 *  - zombies: a SIGCHLD handler reaps every finished child with
 *    waitpid(-1, WNOHANG) in a loop (signals do not queue: one SIGCHLD may
 *    stand for several children);
 *  - accept failing with EINTR when SIGCHLD interrupts it: nw_accept retries;
 *  - descriptors: the parent closes its copy of the client socket, the
 *    child closes the listening socket;
 *  - stopping: SIGINT/SIGTERM are blocked except inside ppoll, so a signal
 *    can never slip in between checking the flag and going to sleep.
 * On a stop the parent closes the listener and exits 0; children finish
 * serving their clients on their own (init reaps them).
 */
#define _GNU_SOURCE	/* ppoll */
#include <netwrap.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_child(int sig)
{
	int saved = errno;	/* waitpid must not clobber the interrupted code's errno */

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
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

int main(int argc, char **argv)
{
	struct sockaddr_storage peer;
	socklen_t peerlen;
	char addr[NW_ADDRSTRLEN];
	struct sigaction sa;
	sigset_t stop_set, during_wait;
	int lfd, fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: fork-echo-server PORT [HOST]\n");
		return 2;
	}
	lfd = nw_tcp_listen(argc == 3 ? argv[2] : NULL, argv[1], 0);
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
		printf("client %s\n", nw_addr_str((struct sockaddr *)&peer, peerlen, addr, sizeof addr));
		fflush(stdout);	/* or the child would inherit, and print, the buffer again */

		switch (fork()) {
		case -1:
			perror("fork-echo-server: fork");
			close(fd);	/* this client is refused; the next may be luckier */
			break;
		case 0:
			close(lfd);
			sigprocmask(SIG_SETMASK, &during_wait, NULL);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			echo(fd);
			close(fd);
			_exit(0);
		default:
			close(fd);
		}
	}
	close(lfd);
	return 0;
}
