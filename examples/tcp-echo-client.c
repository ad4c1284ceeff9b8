/*
 * tcp-echo-client - send standard input line by line, check each echo.
 *
 *   tcp-echo-client HOST PORT
 *
 * Prints every echoed line on standard output; exits 1 with a message on
 * standard error if an echo differs or the server goes away.  Any input
 * works, binary or with overlong lines: each piece is checked byte for byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netwrap.h>

#define LINE_MAX_BYTES 65536

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "tcp-echo-client: %s: %s\n", what, why);
	return 1;
}

int main(int argc, char **argv)
{
	static char line[LINE_MAX_BYTES], echo[LINE_MAX_BYTES];
	nw_reader *in = NULL, *from_server = NULL;
	int status = 1;
	ssize_t n;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: tcp-echo-client HOST PORT\n");
		return 2;
	}
	fd = nw_tcp_connect(argv[1], argv[2], 10000);
	if (fd < 0)
		return fail("connect", nw_errmsg());
	nw_set_nodelay(fd, 1);	/* one small write per line: do not wait for more */
	nw_set_timeout(fd, 10000);	/* a server that hangs is a server gone */
	in = nw_reader_new(STDIN_FILENO, 0);
	from_server = nw_reader_new(fd, 0);
	if (in == NULL || from_server == NULL) {
		fail("reader", nw_errmsg());
		goto out;
	}

	while ((n = nw_readline(in, line, sizeof line)) > 0) {
		if (nw_writen(fd, line, (size_t)n) < 0) {
			fail("server went away", nw_errmsg());
			goto out;
		}
		ssize_t m = nw_reader_read(from_server, echo, (size_t)n);

		if (m < 0) {
			fail("server went away", nw_errmsg());
			goto out;
		}
		if (m < n) {
			fail("server went away", "connection closed before the echo was complete");
			goto out;
		}
		if (memcmp(line, echo, (size_t)n) != 0) {
			fail("echo differs", "the server sent back other bytes than it got");
			goto out;
		}
		/* Flushed per line, so an interactive pipeline sees each echo at once. */
		if (fwrite(echo, 1, (size_t)n, stdout) != (size_t)n || fflush(stdout) != 0) {
			fail("stdout", "write failed");
			goto out;
		}
	}
	if (n < 0) {
		fail("standard input", nw_errmsg());
		goto out;
	}
	/* Half-close: the server sees end of file and must send nothing more. */
	shutdown(fd, SHUT_WR);
	n = nw_reader_read(from_server, echo, 1);
	if (n != 0) {
		fail("server", n < 0 ? nw_errmsg() : "sent bytes nobody asked for");
		goto out;
	}
	status = 0;
out:
	nw_reader_free(in);
	nw_reader_free(from_server);
	close(fd);
	return status;
}
