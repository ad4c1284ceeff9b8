/*
 * burst-client - send bursts of datagrams to an echo server and expect
 * every one back (tests/batch-demo.sh).  A server that echoes one datagram
 * per turn, or loses the rest of a batch, fails it.
 *
 *   burst-client HOST PORT BURSTS BURST_SIZE
 *
 * Exit 0 when every echo came back byte for byte, 1 otherwise.
 */
#include <netwrap.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BURST 64
#define LEN 100

int main(int argc, char **argv)
{
	struct nw_dgram out[MAX_BURST], in[MAX_BURST];
	char obuf[MAX_BURST][LEN], ibuf[MAX_BURST][LEN + 1];
	long bursts, size;
	int fd;

	if (argc != 5 || (bursts = strtol(argv[3], NULL, 10)) < 1 ||
	    (size = strtol(argv[4], NULL, 10)) < 1 || size > MAX_BURST) {
		fprintf(stderr, "usage: burst-client HOST PORT BURSTS BURST_SIZE (<= %d)\n", MAX_BURST);
		return 2;
	}
	fd = nw_udp_connect(argv[1], argv[2]);
	if (fd < 0 || nw_set_timeout(fd, 3000) < 0) {
		fprintf(stderr, "burst-client: %s\n", nw_errmsg());
		return 1;
	}
	memset(out, 0, sizeof out);
	for (long b = 0; b < bursts; b++) {
		long got = 0;

		for (long k = 0; k < size; k++) {
			memset(obuf[k], 'a' + (int)(k % 26), LEN);
			snprintf(obuf[k], LEN, "%ld/%ld", b, k);
			out[k].buf = obuf[k];
			out[k].len = LEN;
		}
		if (nw_send_batch(fd, out, (size_t)size, sizeof out[0]) != size) {
			fprintf(stderr, "burst-client: %s\n", nw_errmsg());
			return 1;
		}
		while (got < size) {
			ssize_t n;

			for (long k = 0; k < size - got; k++) {
				in[k].buf = ibuf[got + k];
				in[k].size = sizeof ibuf[0];
			}
			n = nw_recv_batch(fd, in, (size_t)(size - got), sizeof in[0]);
			if (n < 0) {
				fprintf(stderr, "burst-client: burst %ld: %ld of %ld echoes: %s\n", b,
					got, size, nw_errmsg());
				return 1;
			}
			for (ssize_t k = 0; k < n; k++)
				if (in[k].len != LEN || memcmp(ibuf[got + k], obuf[got + k], LEN) != 0) {
					fprintf(stderr, "burst-client: burst %ld: echo %ld differs\n", b,
						got + (long)k);
					return 1;
				}
			got += n;
		}
	}
	close(fd);
	return 0;
}
