/*
 * faultinject.c - an LD_PRELOAD shim that makes libnetwrap's system calls
 * behave the way real ones may on a bad day: interrupted by signals,
 * transferring one byte at a time, out of descriptors, out of memory.
 * Test-only; `make check-faults` runs every Check suite under it.
 *
 * Only calls made directly from libnetwrap's own code are touched: each
 * wrapper looks at its return address and passes everything else through.
 * So Check's fork/pipe/temp-file machinery, the tests' own peer-side
 * reads and writes, and libc's internal calls (getaddrinfo's sockets) run
 * untouched, and a test that fails under the shim points at the library.
 * A tail call from the library into a wrapped function would hide the
 * library as caller; the library has none for the calls wrapped here.
 *
 * Wrapped: read, recv, recvfrom, recvmsg, recvmmsg, readv, write, send,
 * sendto, sendmsg, sendmmsg, writev, sendfile (and the _FORTIFY_SOURCE _chk
 * variants), accept, accept4, connect, socket, poll, epoll_wait,
 * getaddrinfo, pthread_create, pthread_cond_timedwait, malloc, calloc,
 * realloc.  pread
 * is left alone: the library uses it on regular files only.
 *
 * Faults are only ones the real call could produce:
 *  - EINTR only where the call would have slept (a blocking descriptor
 *    with nothing ready, a wait with a timeout and nothing ready), and
 *    without doing anything first.  A blocking
 *    TCP connect is the one call that does something before EINTR: the
 *    handshake goes on, as after a real signal, so that is what the shim
 *    does (it starts the connect non-blocking and reports EINTR if it is
 *    still in progress).
 *  - short transfers only on byte streams: stream sockets, and pipes
 *    except writes of at most PIPE_BUF bytes (atomic by POSIX).
 *    Datagram sockets only get EINTR: a short datagram read loses data.
 *  - partial batches: recvmmsg and sendmmsg moving fewer datagrams than
 *    asked (each one whole), as a full buffer or a signal makes them.
 *  - spurious wake-ups from pthread_cond_timedwait (0 at once, the mutex
 *    held), which POSIX allows at any time.
 *  - EMFILE from socket()/accept()/accept4(), ENOMEM from
 *    malloc/calloc/realloc and EAGAIN from pthread_create (out of threads:
 *    RLIMIT_NPROC, memory for a stack) only when armed (env or
 *    faultinject_arm()).
 *  - a hold on accept()/accept4() (faultinject_hold_accept()), for races
 *    that need a thread stopped just before it accepts.
 *  - a hold on getaddrinfo() (faultinject_hold_lookup()): a name lookup
 *    that takes as long as a test wants, as a slow name server's does.
 *
 * Environment:
 *   NW_FAULT_SEED    seed of the decisions (default 1)
 *   NW_FAULT_RATE    probability that an eligible call is disturbed (0.3)
 *   NW_FAULT_EMFILE  fail this many library socket()/accept4() calls
 *                    with EMFILE (-1: all of them)
 *   NW_FAULT_ENOMEM  fail this many library allocations with ENOMEM
 *   NW_FAULT_EAGAIN  fail this many library pthread_create calls with EAGAIN
 *   NW_FAULT_LOG     append the closing counts to this file, not stderr
 *
 * Decision i is a pure function of (seed, i), so a single-threaded run
 * repeats exactly; where threads or the kernel's timing change how many
 * calls are made, the same seed still gives the same mix of faults.
 * The counters live in a shared mapping, so Check's forked test
 * processes add to the total that the first process prints at exit:
 *   faultinject: seed S rate R: C calls, I interrupted (EINTR), H short
 *   transfers, M EMFILE, N ENOMEM, T EAGAIN (pthread_create), W spurious
 *   wake-ups
 */
#define _GNU_SOURCE
/* The fortified inline read() and friends would clash with the wrappers. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <netdb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* glibc's own allocator entry points: no dlsym, so no recursion at start-up. */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);

/* Arm the injector from a test: the next count library calls of kind what
 * ("enomem", "emfile-socket", "emfile-accept", "eagain-thread") fail; -1
 * all, 0 none.  Returns the previous count. */
long faultinject_arm(const char *what, long count);
/* Set the probability of random EINTR/short faults; returns the old one. */
double faultinject_rate(double rate);
/* While on, library accept()/accept4() calls wait before accepting, as a
 * thread descheduled there would; returns the previous setting. */
int faultinject_hold_accept(int on);
/* How many library accept calls are waiting on the hold now. */
int faultinject_held_accepts(void);
/* While on, library getaddrinfo() calls wait before looking up; returns
 * the previous setting. */
int faultinject_hold_lookup(int on);

struct counts {
	uint64_t draws;		/* decisions taken: the index into the sequence */
	uint64_t calls;		/* library calls seen */
	uint64_t eintr;
	uint64_t shorts;
	uint64_t emfile;
	uint64_t enomem;
	uint64_t eagain;	/* pthread_create */
	uint64_t wakeups;	/* spurious, from pthread_cond_timedwait */
};

static struct counts *counts;	/* shared with forked children */
static bool active;		/* libnetwrap is loaded in this process */
static pid_t owner;		/* the process that reports the counts */
static uint64_t seed = 1;
static double rate = 0.3;
static long armed_enomem, armed_emfile_socket, armed_emfile_accept, armed_eagain_thread;
static int hold_accept, held_accepts, hold_lookup;

/* libnetwrap's executable segments. */
#define MAX_RANGES 4
static uintptr_t range_lo[MAX_RANGES], range_hi[MAX_RANGES];
static int nranges;

#define COUNT(field) __atomic_fetch_add(&counts->field, 1, __ATOMIC_RELAXED)

static int find_library(struct dl_phdr_info *info, size_t size, void *unused)
{
	(void)size;
	(void)unused;
	if (info->dlpi_name == NULL || strstr(info->dlpi_name, "/libnetwrap.so") == NULL)
		return 0;
	for (int i = 0; i < info->dlpi_phnum && nranges < MAX_RANGES; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			range_lo[nranges] = info->dlpi_addr + ph->p_vaddr;
			range_hi[nranges] = range_lo[nranges] + ph->p_memsz;
			nranges++;
		}
	}
	return 1;
}

static bool from_library(const void *ret)
{
	uintptr_t a = (uintptr_t)ret;

	if (!active)
		return false;
	for (int i = 0; i < nranges; i++)
		if (a >= range_lo[i] && a < range_hi[i]) {
			COUNT(calls);
			return true;
		}
	return false;
}

/* Must be expanded in the exported wrapper itself, not in a helper. */
#define FROM_LIBRARY() from_library(__builtin_return_address(0))

static long env_long(const char *name, long fallback)
{
	const char *s = getenv(name);

	return s && *s ? strtol(s, NULL, 0) : fallback;
}

__attribute__((constructor)) static void faultinject_init(void)
{
	const char *r = getenv("NW_FAULT_RATE");

	dl_iterate_phdr(find_library, NULL);
	if (nranges == 0)
		return;		/* not a libnetwrap program (the libtool wrapper's shell) */
	counts = mmap(NULL, sizeof *counts, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED)
		return;
	seed = (uint64_t)env_long("NW_FAULT_SEED", 1);
	if (r && *r)
		rate = strtod(r, NULL);
	armed_enomem = env_long("NW_FAULT_ENOMEM", 0);
	armed_eagain_thread = env_long("NW_FAULT_EAGAIN", 0);
	armed_emfile_socket = armed_emfile_accept = env_long("NW_FAULT_EMFILE", 0);
	owner = getpid();
	active = true;
}

__attribute__((destructor)) static void faultinject_report(void)
{
	const char *log = getenv("NW_FAULT_LOG");
	char line[256];
	int fd = STDERR_FILENO, n;

	if (!active || getpid() != owner)
		return;
	n = snprintf(line, sizeof line,
		     "faultinject: seed %llu rate %g: %llu calls, %llu interrupted (EINTR), "
		     "%llu short transfers, %llu EMFILE, %llu ENOMEM, "
		     "%llu EAGAIN (pthread_create), %llu spurious wake-ups\n",
		     (unsigned long long)seed, rate,
		     (unsigned long long)counts->calls, (unsigned long long)counts->eintr,
		     (unsigned long long)counts->shorts, (unsigned long long)counts->emfile,
		     (unsigned long long)counts->enomem, (unsigned long long)counts->eagain,
		     (unsigned long long)counts->wakeups);
	if (log && *log)
		fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0 && n > 0) {
		/* One O_APPEND write: lines of concurrent suites never interleave. */
		if (write(fd, line, (size_t)n) < 0) {
			/* nowhere left to say so */
		}
		if (fd != STDERR_FILENO)
			close(fd);
	}
}

long faultinject_arm(const char *what, long count)
{
	long *slot = strcmp(what, "enomem") == 0 ? &armed_enomem :
		     strcmp(what, "emfile-socket") == 0 ? &armed_emfile_socket :
		     strcmp(what, "emfile-accept") == 0 ? &armed_emfile_accept :
		     strcmp(what, "eagain-thread") == 0 ? &armed_eagain_thread : NULL;

	if (slot == NULL)
		abort();	/* a typo in a test must not pass as "nothing injected" */
	return __atomic_exchange_n(slot, count, __ATOMIC_SEQ_CST);
}

double faultinject_rate(double new_rate)
{
	double old = rate;

	rate = new_rate;
	return old;
}

int faultinject_hold_accept(int on)
{
	return __atomic_exchange_n(&hold_accept, on, __ATOMIC_SEQ_CST);
}

int faultinject_hold_lookup(int on)
{
	return __atomic_exchange_n(&hold_lookup, on, __ATOMIC_SEQ_CST);
}

int faultinject_held_accepts(void)
{
	return __atomic_load_n(&held_accepts, __ATOMIC_SEQ_CST);
}

/* Take one armed failure, if any. */
static bool take(long *armed)
{
	long v = __atomic_load_n(armed, __ATOMIC_RELAXED);

	while (v != 0) {
		if (v < 0)
			return true;
		if (__atomic_compare_exchange_n(armed, &v, v - 1, false,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

/* splitmix64 of the decision index: reproducible, and fork-safe. */
static uint64_t draw(void)
{
	uint64_t z = seed + (__atomic_fetch_add(&counts->draws, 1, __ATOMIC_RELAXED) + 1) *
		     0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool chance(void)
{
	return (double)(draw() >> 11) * 0x1.0p-53 < rate;
}

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (real_##name == NULL) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

enum fd_kind { FD_OTHER, FD_STREAM, FD_DGRAM, FD_PIPE };

static enum fd_kind kind_of(int fd)
{
	struct stat st;
	int type = 0;
	socklen_t len = sizeof type;

	if (fstat(fd, &st) < 0)
		return FD_OTHER;
	if (S_ISFIFO(st.st_mode))
		return FD_PIPE;
	if (!S_ISSOCK(st.st_mode) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return FD_OTHER;
	return type == SOCK_STREAM ? FD_STREAM : FD_DGRAM;
}

/* Would a call on fd with these flags sleep waiting for events? */
static bool would_sleep(int fd, int msg_flags, short events)
{
	int fl = fcntl(fd, F_GETFL);
	struct pollfd p = { .fd = fd, .events = events };

	REAL(poll);
	if (fl < 0 || (fl & O_NONBLOCK) || (msg_flags & MSG_DONTWAIT))
		return false;
	return real_poll(&p, 1, 0) == 0;
}

/*
 * The fate of one transfer of n bytes on fd: 0 untouched, -1 fail with
 * EINTR now, k > 0 transfer at most k bytes.  Keeps errno.
 */
static ssize_t plan(int fd, size_t n, int msg_flags, bool writing)
{
	int saved = errno;
	ssize_t verdict = 0;

	if (chance()) {
		enum fd_kind kind = kind_of(fd);
		bool can_short = n > 1 && (kind == FD_STREAM ||
					   (kind == FD_PIPE && !(writing && n <= PIPE_BUF)));
		bool can_eintr = kind != FD_OTHER &&
				 would_sleep(fd, msg_flags, writing ? POLLOUT : POLLIN);
		uint64_t d = draw();

		if (can_eintr && (!can_short || (d & 1))) {
			verdict = -1;
		} else if (can_short) {
			/* A quarter of the short transfers move a single byte. */
			d >>= 1;
			verdict = (d & 3) == 0 ? 1 : 1 + (ssize_t)((d >> 2) % (n - 1));
		}
	}
	if (verdict < 0)
		COUNT(eintr);
	else if (verdict > 0)
		COUNT(shorts);
	errno = saved;
	return verdict;
}

static ssize_t interrupted(void)
{
	errno = EINTR;
	return -1;
}

static size_t iov_total(const struct iovec *iov, size_t cnt)
{
	size_t total = 0;

	for (size_t i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	return total;
}

/* Copy iov into out cut to limit bytes; the number of entries used. */
static size_t iov_clip(const struct iovec *iov, size_t cnt, size_t limit, struct iovec *out)
{
	size_t i;

	for (i = 0; i < cnt && limit > 0; i++) {
		out[i] = iov[i];
		if (out[i].iov_len > limit)
			out[i].iov_len = limit;
		limit -= out[i].iov_len;
	}
	return i;
}

/* Every vector a library call may pass (IOV_MAX), so long ones are cut too. */
#define MAX_CLIP_IOV IOV_MAX

/*
 * Disturb a transfer of n bytes on fd, in the exported wrapper itself:
 * return EINTR at once, or cut n down before the real call.
 */
#define DISTURB(fd, n, msg_flags, writing) do { \
	if (FROM_LIBRARY()) { \
		ssize_t k_ = plan(fd, n, msg_flags, writing); \
		if (k_ < 0) \
			return interrupted(); \
		if (k_ > 0) \
			n = (size_t)k_; \
	} \
} while (0)

/* The same for a vector: run the real call on a copy cut down to k bytes. */
#define DISTURB_IOV(fd, iov, cnt, msg_flags, writing, clipped, call_clipped) do { \
	if (FROM_LIBRARY() && (cnt) > 0 && (size_t)(cnt) <= MAX_CLIP_IOV) { \
		ssize_t k_ = plan(fd, iov_total(iov, (size_t)(cnt)), msg_flags, writing); \
		if (k_ < 0) \
			return interrupted(); \
		if (k_ > 0) { \
			size_t nclipped = iov_clip(iov, (size_t)(cnt), (size_t)k_, clipped); \
			return call_clipped; \
		} \
	} \
} while (0)

/* ---- reads ---------------------------------------------------------- */

ssize_t read(int fd, void *buf, size_t n)
{
	REAL(read);
	DISTURB(fd, n, 0, false);
	return real_read(fd, buf, n);
}

ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	REAL(__read_chk);
	if (n <= buflen)
		DISTURB(fd, n, 0, false);
	return real___read_chk(fd, buf, n, buflen);
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	REAL(recv);
	DISTURB(fd, n, flags, false);
	return real_recv(fd, buf, n, flags);
}

ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	REAL(__recv_chk);
	if (n <= buflen)
		DISTURB(fd, n, flags, false);
	return real___recv_chk(fd, buf, n, buflen, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
		 socklen_t *addrlen)
{
	REAL(recvfrom);
	DISTURB(fd, n, flags, false);
	return real_recvfrom(fd, buf, n, flags, addr, addrlen);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *addrlen);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *addrlen)
{
	REAL(__recvfrom_chk);
	if (n <= buflen)
		DISTURB(fd, n, flags, false);
	return real___recvfrom_chk(fd, buf, n, buflen, flags, addr, addrlen);
}

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct iovec clipped[MAX_CLIP_IOV];

	REAL(readv);
	DISTURB_IOV(fd, iov, cnt, 0, false, clipped,
		    real_readv(fd, clipped, (int)nclipped));
	return real_readv(fd, iov, cnt);
}

/* recvmsg fills msg: cut its vector down in place and put it back. */
static ssize_t recvmsg_clipped(ssize_t (*real)(int, struct msghdr *, int), int fd,
			       struct msghdr *msg, int flags, struct iovec *clipped,
			       size_t nclipped)
{
	struct iovec *orig = msg->msg_iov;
	size_t origlen = msg->msg_iovlen;
	ssize_t r;

	msg->msg_iov = clipped;
	msg->msg_iovlen = nclipped;
	r = real(fd, msg, flags);
	msg->msg_iov = orig;
	msg->msg_iovlen = origlen;
	return r;
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct iovec clipped[MAX_CLIP_IOV];

	REAL(recvmsg);
	DISTURB_IOV(fd, msg->msg_iov, msg->msg_iovlen, flags, false, clipped,
		    recvmsg_clipped(real_recvmsg, fd, msg, flags, clipped, nclipped));
	return real_recvmsg(fd, msg, flags);
}

/* ---- writes --------------------------------------------------------- */

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);
	DISTURB(fd, n, 0, true);
	return real_write(fd, buf, n);
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	REAL(send);
	DISTURB(fd, n, flags, true);
	return real_send(fd, buf, n, flags);
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
	       socklen_t addrlen)
{
	REAL(sendto);
	DISTURB(fd, n, flags, true);
	return real_sendto(fd, buf, n, flags, addr, addrlen);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct iovec clipped[MAX_CLIP_IOV];

	REAL(writev);
	DISTURB_IOV(fd, iov, cnt, 0, true, clipped,
		    real_writev(fd, clipped, (int)nclipped));
	return real_writev(fd, iov, cnt);
}

static ssize_t sendmsg_clipped(ssize_t (*real)(int, const struct msghdr *, int), int fd,
			       const struct msghdr *msg, int flags, struct iovec *clipped,
			       size_t nclipped)
{
	struct msghdr m = *msg;

	m.msg_iov = clipped;
	m.msg_iovlen = nclipped;
	return real(fd, &m, flags);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct iovec clipped[MAX_CLIP_IOV];

	REAL(sendmsg);
	DISTURB_IOV(fd, msg->msg_iov, msg->msg_iovlen, flags, true, clipped,
		    sendmsg_clipped(real_sendmsg, fd, msg, flags, clipped, nclipped));
	return real_sendmsg(fd, msg, flags);
}

/* ---- batches of datagrams ------------------------------------------ */

/*
 * The fate of a batch of vlen datagrams: 0 untouched, -1 EINTR (only where
 * the call would sleep before the first datagram), k > 0 move only k.
 */
static int plan_batch(int fd, unsigned vlen, int msg_flags, bool writing)
{
	int saved = errno, verdict = 0;

	if (chance()) {
		bool can_eintr = kind_of(fd) != FD_OTHER &&
				 would_sleep(fd, msg_flags & ~MSG_WAITFORONE, writing ? POLLOUT : POLLIN);
		uint64_t d = draw();

		if (can_eintr && (vlen < 2 || (d & 1)))
			verdict = -1;
		else if (vlen > 1)
			verdict = 1 + (int)((d >> 1) % (vlen - 1));
	}
	if (verdict < 0)
		COUNT(eintr);
	else if (verdict > 0)
		COUNT(shorts);
	errno = saved;
	return verdict;
}

int sendmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags)
{
	REAL(sendmmsg);
	if (FROM_LIBRARY()) {
		int k = plan_batch(fd, vlen, flags, true);

		if (k < 0)
			return (int)interrupted();
		if (k > 0)
			vlen = (unsigned)k;
	}
	return real_sendmmsg(fd, vec, vlen, flags);
}

int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
	     struct timespec *timeout)
{
	REAL(recvmmsg);
	if (FROM_LIBRARY()) {
		int k = plan_batch(fd, vlen, flags, false);

		if (k < 0)
			return (int)interrupted();
		if (k > 0)
			vlen = (unsigned)k;
	}
	return real_recvmmsg(fd, vec, vlen, flags, timeout);
}

ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	REAL(sendfile);
	DISTURB(out_fd, count, 0, true);
	return real_sendfile(out_fd, in_fd, offset, count);
}

/* ---- descriptors ---------------------------------------------------- */

int socket(int domain, int type, int protocol)
{
	REAL(socket);
	if (FROM_LIBRARY() && take(&armed_emfile_socket)) {
		COUNT(emfile);
		errno = EMFILE;
		return -1;
	}
	return real_socket(domain, type, protocol);
}

/* accept and accept4 share their faults; a pending connection stays queued. */
static int accept_fault(int fd)
{
	if (__atomic_load_n(&hold_accept, __ATOMIC_SEQ_CST)) {
		__atomic_fetch_add(&held_accepts, 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&hold_accept, __ATOMIC_SEQ_CST))
			nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
		__atomic_fetch_sub(&held_accepts, 1, __ATOMIC_SEQ_CST);
	}
	if (take(&armed_emfile_accept)) {
		COUNT(emfile);
		errno = EMFILE;
		return -1;
	}
	if (chance() && would_sleep(fd, 0, POLLIN)) {
		COUNT(eintr);
		errno = EINTR;
		return -1;
	}
	return 0;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	REAL(accept);
	if (FROM_LIBRARY() && accept_fault(fd) < 0)
		return -1;
	return real_accept(fd, addr, len);
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	REAL(accept4);
	if (FROM_LIBRARY() && accept_fault(fd) < 0)
		return -1;
	return real_accept4(fd, addr, len, flags);
}

/*
 * A signal during a blocking stream connect: the attempt goes on in the
 * background (TCP) or has not started (a Unix-domain listener's full
 * backlog).  Start it non-blocking; if it could not finish at once,
 * report EINTR as the interrupted blocking call would have.
 */
int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	REAL(connect);
	if (FROM_LIBRARY() && chance() && kind_of(fd) == FD_STREAM) {
		int fl = fcntl(fd, F_GETFL);
		int rc, err;

		if (fl >= 0 && !(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0) {
			rc = real_connect(fd, addr, len);
			err = errno;
			fcntl(fd, F_SETFL, fl);
			if (rc < 0 && (err == EINPROGRESS || err == EAGAIN)) {
				COUNT(eintr);
				err = EINTR;
			}
			errno = err;
			return rc;
		}
	}
	return real_connect(fd, addr, len);
}

/*
 * A wait that would sleep may be cut short by a signal; a ready one is
 * not.  Look without waiting (zero_call) first: ready, or an error, is
 * what the real call returns at once; nothing ready becomes EINTR.
 */
#define INTERRUPT_WAIT(timeout, zero_call) do { \
	if (FROM_LIBRARY() && (timeout) != 0 && chance()) { \
		int rc_ = (zero_call); \
		if (rc_ != 0) \
			return rc_; \
		COUNT(eintr); \
		return (int)interrupted(); \
	} \
} while (0)

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	REAL(poll);
	INTERRUPT_WAIT(timeout, real_poll(fds, n, 0));
	return real_poll(fds, n, timeout);
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	REAL(__poll_chk);
	INTERRUPT_WAIT(timeout, real___poll_chk(fds, n, 0, fdslen));
	return real___poll_chk(fds, n, timeout, fdslen);
}

int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
	REAL(epoll_wait);
	INTERRUPT_WAIT(timeout, real_epoll_wait(epfd, events, max, 0));
	return real_epoll_wait(epfd, events, max, timeout);
}

/* ---- threads ------------------------------------------------------- */

/* A slow lookup, while held; the lookup itself is the real one. */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	REAL(getaddrinfo);
	if (FROM_LIBRARY())
		while (__atomic_load_n(&hold_lookup, __ATOMIC_SEQ_CST))
			nanosleep(&(struct timespec){ 0, 1000000L }, NULL);
	return real_getaddrinfo(node, service, hints, res);
}

/* Out of threads, when armed: what RLIMIT_NPROC or a stack's memory gives. */
int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
		   void *(*run)(void *), void *arg)
{
	REAL(pthread_create);
	if (FROM_LIBRARY() && take(&armed_eagain_thread)) {
		COUNT(eagain);
		return EAGAIN;
	}
	return real_pthread_create(thread, attr, run, arg);
}

/*
 * A timed wait that comes back early for nothing, as a spurious wake-up
 * may: the caller must look at its condition (and the clock) again.  Like
 * a real wait it lets go of the mutex while it sleeps (0.1 ms), so the
 * thread that would signal can take it.
 * glibc keeps an old pthread_cond_* ABI beside the current one, and a
 * plain dlsym may find the old one: ask for the current version by name.
 */
int pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
			   const struct timespec *abstime)
{
	static __typeof__(pthread_cond_timedwait) *real;

	if (real == NULL) {
#ifdef __GLIBC__
		real = (__typeof__(pthread_cond_timedwait) *)
			dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2");
#endif
		if (real == NULL)
			real = (__typeof__(pthread_cond_timedwait) *)
				dlsym(RTLD_NEXT, "pthread_cond_timedwait");
	}
	if (FROM_LIBRARY() && chance()) {
		COUNT(wakeups);
		pthread_mutex_unlock(mutex);
		nanosleep(&(struct timespec){ 0, 100000L }, NULL);
		pthread_mutex_lock(mutex);
		return 0;
	}
	return real(cond, mutex, abstime);
}

/* ---- memory --------------------------------------------------------- */

static bool out_of_memory(void)
{
	if (!take(&armed_enomem))
		return false;
	COUNT(enomem);
	errno = ENOMEM;
	return true;
}

void *malloc(size_t n)
{
	if (FROM_LIBRARY() && out_of_memory())
		return NULL;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (FROM_LIBRARY() && out_of_memory())
		return NULL;
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (FROM_LIBRARY() && out_of_memory())
		return NULL;
	return __libc_realloc(p, n);
}
