# examples

# The TCP state diagram, live (run by tests/tcp-states.sh).
noinst_PROGRAMS += examples/tcp-states
examples_tcp_states_LDADD = lib/libnetwrap.la
EXTRA_DIST += scripts/demo-tcp-states.sh
