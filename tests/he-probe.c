/*
 * he-probe - the Happy Eyeballs promises of nw_tcp_connect, run inside a
 * network namespace made by tests/happy-eyeballs.sh, whose hosts file has:
 *
 *   he-test     2001:db8::2 (black hole), then 127.0.0.1 (listening)
 *   he-refused  ::1 and 127.0.0.1, both refusing
 *   he-slow     2001:db8::2 (black hole), then 127.0.0.1 (refusing)
 *
 * and whose resolv.conf names a black-holed name server (2001:db8::53), so a
 * name outside the hosts file is a lookup that hangs: nothing leaves the
 * namespace.  With --dns-refused, the name server is 127.0.0.1, where
 * nothing listens: a temporary resolver failure.
 *
 * Exit 0 when every promise holds; 1 with a message otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netwrap.h>

static int failures;

#define EXPECT(cond, ...) do { \
	if (!(cond)) { \
		failures++; \
		fprintf(stderr, "FAIL: " __VA_ARGS__); \
		fputc('\n', stderr); \
	} \
} while (0)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A dual-stack port that refuses: bound, never listening. */
static int refusing_port(char *port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	int zero = 0;
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof sin6) < 0)
		return -1;
	snprintf(port, 8, "%d", nw_local_port(fd));
	return fd;
}

/* With a name server that refuses (nothing on 127.0.0.1:53): EAGAIN. */
static int dns_refused(void)
{
	int fd = nw_tcp_connect("unlisted.test", "80", 5000);

	printf("unlisted.test with a refusing name server: %s\n", nw_errmsg());
	EXPECT(fd < 0 && errno == EAGAIN, "want EAGAIN for a temporary resolver failure: %s",
	       nw_errmsg());
	EXPECT(strstr(nw_errmsg(), "nw_tcp_connect(unlisted.test, 80): ") == nw_errmsg(),
	       "the message must name the call: %s", nw_errmsg());
	fd = nw_udp_connect("unlisted.test", "80");
	EXPECT(fd < 0 && errno == EAGAIN, "nw_udp_connect: want EAGAIN: %s", nw_errmsg());
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	char port[8], refused[8], addr[NW_ADDRSTRLEN];
	struct sockaddr_storage peer;
	socklen_t len = sizeof peer;
	long t0, ms;
	int lfd, fd, rfd;

	if (argc == 2 && strcmp(argv[1], "--dns-refused") == 0)
		return dns_refused();

	lfd = nw_tcp_listen("127.0.0.1", "0", 0);
	rfd = refusing_port(refused);
	if (lfd < 0 || rfd < 0) {
		fprintf(stderr, "he-probe: setup: %s\n", nw_errmsg());
		return 1;
	}
	snprintf(port, sizeof port, "%d", nw_local_port(lfd));

	/* Preconditions: IPv6 first in the resolver's order, and really a black hole. */
	if (getaddrinfo("he-test", port, &hints, &res) != 0 || res->ai_family != AF_INET6) {
		fprintf(stderr, "he-probe: he-test must resolve to IPv6 first\n");
		return 1;
	}
	freeaddrinfo(res);
	t0 = now_ms();
	fd = nw_tcp_connect("2001:db8::2", port, 600);
	EXPECT(fd < 0 && errno == ETIMEDOUT,
	       "the IPv6 address is not black-holed (%s): the race would prove nothing", nw_errmsg());

	/* The race: IPv4 starts 250 ms in and wins, long before the timeout. */
	t0 = now_ms();
	fd = nw_tcp_connect("he-test", port, 10000);
	ms = now_ms() - t0;
	EXPECT(fd >= 0, "connect he-test: %s", nw_errmsg());
	if (fd >= 0) {
		getpeername(fd, (struct sockaddr *)&peer, &len);
		nw_addr_str((struct sockaddr *)&peer, len, addr, sizeof addr);
		printf("he-test: connected to %s in %ld ms past a black-holed IPv6 address\n", addr, ms);
		EXPECT(peer.ss_family == AF_INET, "won by %s, not IPv4", addr);
		EXPECT(ms >= 200, "IPv4 won after %ld ms: the IPv6 attempt was not tried first", ms);
		EXPECT(ms < 2500, "IPv4 won only after %ld ms", ms);
		int s = nw_accept(lfd, NULL, NULL);

		EXPECT(s >= 0, "accept: %s", nw_errmsg());
		close(s);
		close(fd);
	}

	/* Every attempt refused: fail at once with ECONNREFUSED. */
	t0 = now_ms();
	fd = nw_tcp_connect("he-refused", refused, 10000);
	ms = now_ms() - t0;
	printf("he-refused: %s after %ld ms\n", nw_errmsg(), ms);
	EXPECT(fd < 0 && errno == ECONNREFUSED, "he-refused: want ECONNREFUSED: %s", nw_errmsg());
	EXPECT(ms < 1000, "he-refused took %ld ms: it waited instead of failing", ms);

	/* One attempt hangs, the other is refused: the timeout bounds the whole call. */
	t0 = now_ms();
	fd = nw_tcp_connect("he-slow", refused, 800);
	ms = now_ms() - t0;
	printf("he-slow: %s after %ld ms\n", nw_errmsg(), ms);
	EXPECT(fd < 0 && errno == ETIMEDOUT, "he-slow: want ETIMEDOUT: %s", nw_errmsg());
	EXPECT(ms >= 750 && ms < 3000, "he-slow: the 800 ms bound took %ld ms", ms);

	/* A name lookup that hangs: the timeout bounds it too. */
	t0 = now_ms();
	fd = nw_tcp_connect("unlisted.test", port, 800);
	ms = now_ms() - t0;
	printf("unlisted.test: %s after %ld ms\n", nw_errmsg(), ms);
	EXPECT(fd < 0 && errno == ETIMEDOUT, "unlisted.test: want ETIMEDOUT: %s", nw_errmsg());
	EXPECT(ms >= 750 && ms < 3000, "unlisted.test: the 800 ms bound took %ld ms", ms);

	close(lfd);
	close(rfd);
	return failures ? 1 : 0;
}
