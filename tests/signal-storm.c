/*
 * signal-storm - the check_resolve signal storm for builds without Check
 * (scripts/musl.sh runs it against the musl library).
 *
 * SIGUSR1 is blocked in every thread; a thread sends it to the process
 * every 50 us while the main thread makes bounded connects to "localhost"
 * (from /etc/hosts: no query leaves the machine) for 2 seconds.  A thread
 * of the library's that took the signal would end the process with it.
 * Exits 0 when the process survived and the signal is still pending.
 */
#include <netwrap.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static atomic_bool stop;

static void *storm(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		kill(getpid(), SIGUSR1);
		usleep(50);
	}
	return NULL;
}

static int die(const char *what)
{
	fprintf(stderr, "signal-storm: %s: %s\n", what, nw_errmsg());
	return 1;
}

int main(void)
{
	sigset_t usr1, pending;
	pthread_t sender;
	char port[8];
	time_t end = time(NULL) + 2;
	int lfd, n = 0;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	lfd = nw_tcp_listen(NULL, "0", 0);
	if (lfd < 0)
		return die("nw_tcp_listen");
	snprintf(port, sizeof port, "%d", nw_local_port(lfd));
	if (pthread_create(&sender, NULL, storm, NULL) != 0)
		return 1;
	while (time(NULL) < end) {
		int c = nw_tcp_connect("localhost", port, 5000);
		int s = c < 0 ? -1 : nw_accept(lfd, NULL, NULL);

		if (c < 0 || s < 0)
			return die("connect or accept");
		close(c);
		close(s);
		n++;
	}
	atomic_store(&stop, true);
	pthread_join(sender, NULL);
	sigpending(&pending);
	if (!sigismember(&pending, SIGUSR1)) {
		fprintf(stderr, "signal-storm: SIGUSR1 was never pending\n");
		return 1;
	}
	printf("signal-storm: %d bounded connects to localhost under SIGUSR1, survived\n", n);
	return 0;
}
