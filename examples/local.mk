# Example programs: built by `make`, run by tests/demos.sh in `make check`.
EXAMPLE_LIBS = lib/libnetwrap.la

noinst_PROGRAMS += \
	examples/tcp-echo-server \
	examples/tcp-echo-client \
	examples/udp-echo-server \
	examples/udp-echo-client

examples_tcp_echo_server_LDADD = $(EXAMPLE_LIBS)
examples_tcp_echo_client_LDADD = $(EXAMPLE_LIBS)
examples_udp_echo_server_LDADD = $(EXAMPLE_LIBS)
examples_udp_echo_client_LDADD = $(EXAMPLE_LIBS)


# Unconnected datagrams and multicast; scripts/demo-dgram.sh runs them.
EXTRA_DIST += scripts/demo-dgram.sh
noinst_PROGRAMS += examples/udp-time-server examples/udp-time-client \
	examples/mcast-send examples/mcast-recv
examples_udp_time_server_LDADD = lib/libnetwrap.la
examples_udp_time_client_LDADD = lib/libnetwrap.la
examples_mcast_send_LDADD = lib/libnetwrap.la
examples_mcast_recv_LDADD = lib/libnetwrap.la

# The TCP state diagram, live (run by tests/tcp-states.sh).
noinst_PROGRAMS += examples/tcp-states
examples_tcp_states_LDADD = lib/libnetwrap.la
EXTRA_DIST += scripts/demo-tcp-states.sh

# Concurrent servers (nw_server) and the load client that checks them.
noinst_PROGRAMS += examples/echo-server examples/echo-load \
	examples/fork-echo-server examples/udp-echo-concurrent
examples_echo_server_LDADD = lib/libnetwrap.la
examples_echo_load_LDADD = lib/libnetwrap.la
examples_fork_echo_server_LDADD = lib/libnetwrap.la
examples_udp_echo_concurrent_LDADD = lib/libnetwrap.la -lpthread

# Batches of datagrams (issue 14); tests/batch-demo.sh runs it.
noinst_PROGRAMS += examples/udp-echo-batch
examples_udp_echo_batch_LDADD = lib/libnetwrap.la
# A small HTTP/1.1 server in every model (tests/http-hello.sh, make bench-http).
noinst_PROGRAMS += examples/http-hello
examples_http_hello_LDADD = lib/libnetwrap.la
