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
