# examples

# Unconnected datagrams and multicast; scripts/demo-dgram.sh runs them.
EXTRA_DIST += scripts/demo-dgram.sh
noinst_PROGRAMS += examples/udp-time-server examples/udp-time-client \
	examples/mcast-send examples/mcast-recv
examples_udp_time_server_LDADD = lib/libnetwrap.la
examples_udp_time_client_LDADD = lib/libnetwrap.la
examples_mcast_send_LDADD = lib/libnetwrap.la
examples_mcast_recv_LDADD = lib/libnetwrap.la
