# The library.
#
# -version-info current:revision:age.  Before a release:
#  - code changed, interface unchanged: revision++;
#  - calls added: current++, revision = 0, age++;
#  - calls removed or changed: current++, revision = 0, age = 0.
# The soname is libnetwrap.so.(current - age).
# History: 0.1.0 1:0:1; 0.2.0 2:0:2 (calls added in NETWRAP_0.2, none
# removed or changed, so still libnetwrap.so.0).
NW_VERSION_INFO = 2:0:2

lib_LTLIBRARIES = lib/libnetwrap.la
include_HEADERS = include/netwrap.h
lib_libnetwrap_la_SOURCES = \
	lib/internal.h \
	lib/error.c \
	lib/resolve.c \
	lib/lookup.c \
	lib/socket.c \
	lib/tcp.c \
	lib/connect.c \
	lib/udp.c \
	lib/unix.c \
	lib/io.c \
	lib/reader.c \
	lib/addr.c \
	lib/opt.c \
	lib/dgram.c \
	lib/mcast.c \
	lib/tcpinfo.c \
	lib/sockopts.c \
	lib/unixopts.c \
	lib/activate.c \
	lib/fdpass.c \
	lib/sendfile.c \
	lib/serve.c \
	lib/serve_thread.c \
	lib/serve_process.c \
	lib/serve_conn.c \
	lib/linger.c \
	lib/peers.c \
	lib/idle.c \
	lib/serve_event.c \
	lib/serve_event_accept.c \
	lib/evloop.c \
	lib/conn.c \
	lib/conn_io.c
lib_libnetwrap_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
lib_libnetwrap_la_LDFLAGS = $(AM_LDFLAGS) -version-info $(NW_VERSION_INFO) \
	-Wl,--version-script=$(top_srcdir)/lib/libnetwrap.map $(NO_UNDEFINED_LDFLAGS) -Wl,-z,relro -Wl,-z,now
lib_libnetwrap_la_LIBADD = -lpthread
EXTRA_lib_libnetwrap_la_DEPENDENCIES = lib/libnetwrap.map
EXTRA_DIST += lib/libnetwrap.map

# Datagrams and vectored I/O (issue 14): local addresses, batches, writev,
# Unix-domain message sockets.
lib_libnetwrap_la_SOURCES += lib/pktinfo.c lib/batch.c lib/iov.c lib/unixtype.c
