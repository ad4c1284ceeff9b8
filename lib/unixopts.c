/*
 * unixopts.c - nw_unix_listen_opts: a Unix-domain listener whose socket
 * file has the mode and owner the caller asked for.
 *
 * Nobody can connect to a Unix stream socket before listen(): a connect()
 * to a socket that is only bound is refused.  So the file's owner, group
 * and mode are all set between bind() and listen(), and no other user ever
 * gets in through a mode the caller did not ask for.  The mode is also set
 * on the socket before bind() (fchmod on the socket itself: Linux creates
 * the file with the socket inode's mode, less the umask), so even the
 * file's first moment never shows more than was asked.  The umask is never
 * touched: it belongs to the whole process, and other threads create files.
 */
#include "internal.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A decimal id, or -1 when text is not all digits (or too large). */
static long parse_id(const char *text)
{
	char *end;
	unsigned long v;

	if (text[0] < '0' || text[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || v >= (unsigned long)(uid_t)-1)
		return -1;
	return (long)v;
}

/*
 * The user or group id text names: a number, or a name looked up with the
 * reentrant getpwnam_r/getgrnam_r.  0, or -1 with errno (ENOENT: no such).
 */
static int lookup_id(const char *text, bool group, unsigned *id)
{
	long n = parse_id(text);
	long size = sysconf(group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char *buf = NULL;
	int rc;

	if (n >= 0) {
		*id = (unsigned)n;
		return 0;
	}
	if (size < 1024)
		size = 1024;
	for (;;) {
		char *bigger = realloc(buf, (size_t)size);

		if (bigger == NULL) {
			free(buf);
			errno = ENOMEM;
			return -1;
		}
		buf = bigger;
		if (group) {
			rc = getgrnam_r(text, &gr, buf, (size_t)size, &grp);
			if (rc == 0 && grp)
				*id = grp->gr_gid;
		} else {
			rc = getpwnam_r(text, &pw, buf, (size_t)size, &pwp);
			if (rc == 0 && pwp)
				*id = pwp->pw_uid;
		}
		if (rc != ERANGE || size > 1024 * 1024)
			break;
		size *= 2;
	}
	free(buf);
	if (rc == 0 && (group ? grp == NULL : pwp == NULL))
		rc = ENOENT;
	errno = rc;
	return rc ? -1 : 0;
}

int nw_unix_listen_opts(const char *path, int backlog,
			const struct nw_sock_opts *opts, size_t opts_size)
{
	const struct nwi_opts_ctx ctx = { "nw_unix_listen_opts", path, NULL, NWI_UNIX_LISTEN };
	struct nw_sock_opts o;
	struct sockaddr_un sun;
	socklen_t len;
	unsigned uid = (unsigned)-1, gid = (unsigned)-1;
	bool bound = false;
	const char *what = NULL;
	int fd;

	if (nwi_opts_load(&ctx, opts, opts_size, &o) < 0)
		return -1;
	if (nwi_unix_addr(path, &sun, &len) < 0)
		return nwi_fail(errno, "nw_unix_listen_opts(%s)", nwi_str(path));
	if (path[0] == '@' && (o.unix_mode || o.unix_owner || o.unix_group))
		return nwi_fail_text(EINVAL, "an abstract name has no file",
				     "nw_unix_listen_opts(%s): option %s", path,
				     o.unix_mode ? "unix_mode" : o.unix_owner ? "unix_owner" : "unix_group");
	if (o.unix_owner && lookup_id(o.unix_owner, false, &uid) < 0)
		return nwi_fail(errno == ENOENT ? EINVAL : errno,
				"nw_unix_listen_opts(%s): option unix_owner %s", path, o.unix_owner);
	if (o.unix_group && lookup_id(o.unix_group, true, &gid) < 0)
		return nwi_fail(errno == ENOENT ? EINVAL : errno,
				"nw_unix_listen_opts(%s): option unix_group %s", path, o.unix_group);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return nwi_fail(errno, "nw_unix_listen_opts(%s)", path);
	if (nwi_opts_apply(&ctx, &o, fd, AF_UNIX) < 0) {
		nwi_close_keep_errno(fd);
		return -1;
	}
	if (o.unix_mode && fchmod(fd, o.unix_mode) < 0) {
		what = "unix_mode";
		goto fail;
	}
	if (bind(fd, (const struct sockaddr *)&sun, len) < 0) {
		int err = errno;

		if (err != EADDRINUSE || path[0] == '@' ||
		    !nwi_unix_remove_if_stale(path, &sun, len)) {
			errno = err;
			goto fail;
		}
		if (bind(fd, (const struct sockaddr *)&sun, len) < 0)
			goto fail;
	}
	bound = path[0] != '@';
	/* Owner first: chown may clear mode bits, and the exact mode comes last. */
	if ((o.unix_owner || o.unix_group) && lchown(path, uid, gid) < 0) {
		what = o.unix_owner ? "unix_owner" : "unix_group";
		goto fail;
	}
	/* The umask took its bits off at bind(); the caller asked for these. */
	if (o.unix_mode && chmod(path, o.unix_mode) < 0) {
		what = "unix_mode";
		goto fail;
	}
	if (listen(fd, nwi_backlog(backlog)) < 0)
		goto fail;
	return fd;
fail:;
	int err = errno;

	if (bound)
		unlink(path);
	close(fd);
	if (what)
		return nwi_fail(err, "nw_unix_listen_opts(%s): option %s", path, what);
	return nwi_fail(err, "nw_unix_listen_opts(%s)", path);
}
