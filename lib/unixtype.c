/*
 * unixtype.c - Unix-domain message sockets: nw_unix_listen_type,
 * nw_unix_connect_type.
 *
 * SOCK_SEQPACKET is a stream that keeps message boundaries (each send is
 * read by one recv, whole, in order, reliably); SOCK_DGRAM is the same
 * without a connection.  Both share unix.c's rules for paths, abstract
 * names ("@name") and stale socket files; the stale-file probe connects
 * with the socket's own type, so a live server of another type is never
 * taken for a dead one.
 */
#include "internal.h"

#include <errno.h>
#include <sys/socket.h>

static bool known_type(int type)
{
	return type == SOCK_STREAM || type == SOCK_SEQPACKET || type == SOCK_DGRAM;
}

int nw_unix_listen_type(const char *path, int type, int backlog)
{
	if (!known_type(type))
		return nwi_fail_text(EINVAL, "type must be SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM",
				     "nw_unix_listen_type(%s, %d)", nwi_str(path), type);
	return nwi_unix_listen("nw_unix_listen_type", path, type, backlog);
}

int nw_unix_connect_type(const char *path, int type)
{
	if (!known_type(type))
		return nwi_fail_text(EINVAL, "type must be SOCK_STREAM, SOCK_SEQPACKET or SOCK_DGRAM",
				     "nw_unix_connect_type(%s, %d)", nwi_str(path), type);
	return nwi_unix_connect("nw_unix_connect_type", path, type);
}
