/*
 * lookup.c - getaddrinfo with a deadline.
 *
 * A lookup that a deadline can cut short.  getaddrinfo() cannot be
 * interrupted, so with a deadline it runs in a thread of the library's own
 * and the caller waits for it only until the deadline; a caller that gives
 * up walks away at once, and the thread frees what it found when it
 * finishes.  The same code runs on every C library (glibc's getaddrinfo_a,
 * used before, is missing from musl).
 *
 * The thread never takes a signal the caller meant for its own threads: it
 * is created with every signal blocked, and a process-directed signal goes
 * only to a thread that has it unblocked.  (getaddrinfo_a notified through
 * a thread with an empty mask, so a SIGUSR1 blocked in every thread of the
 * program could land there and end the process.)
 *
 * The record is shared by two parties, the caller and the thread, each
 * holding one reference; the last to let go frees it, result and all.
 */
#include "internal.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct lookup {
	pthread_mutex_t lock;
	pthread_cond_t finished;
	/* Under lock: done says rc, sys_errno and res are the thread's answer. */
	bool done;
	int rc;
	int sys_errno;
	struct addrinfo *res;
	atomic_int refs;
	struct addrinfo hints;
	const char *node;	/* into text, or NULL */
	const char *service;	/* into text, or NULL */
	char text[];
};

/*
 * Memory ordering.  The answer is handed over under the mutex: the thread
 * writes rc, res (and, inside getaddrinfo, the whole list res points to)
 * before it unlocks; the caller reads them only after a lock that saw
 * done set, so the unlock/lock pair orders every one of those writes
 * before its reads, on any CPU.  A caller that gave up reads nothing.
 *
 * Freeing needs its own ordering, because whoever drops the last reference
 * may free a list the other party wrote (the thread's answer, when the
 * caller gave up just as it arrived).  Each decrement is a release, so
 * everything the party did to the record comes before it; the decrement
 * that reaches zero is also an acquire, so the one that frees sees all of
 * it: hence acq_rel, where a relaxed decrement could let the free overtake
 * the other thread's last writes.
 */
static void lookup_release(struct lookup *job)
{
	if (atomic_fetch_sub_explicit(&job->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (job->res != NULL)
		freeaddrinfo(job->res);
	pthread_cond_destroy(&job->finished);
	pthread_mutex_destroy(&job->lock);
	free(job);
}

static void *lookup_run(void *arg)
{
	struct lookup *job = arg;
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(job->node, job->service, &job->hints, &res);
	int err = errno;

	pthread_mutex_lock(&job->lock);
	job->rc = rc;
	job->sys_errno = err;
	job->res = res;
	job->done = true;
	pthread_cond_signal(&job->finished);
	pthread_mutex_unlock(&job->lock);
	lookup_release(job);
	return NULL;
}

/* Copy node and service into job->text; both may be NULL. */
static struct lookup *lookup_new(const char *node, const char *service,
				 const struct addrinfo *hints)
{
	size_t nlen = node ? strlen(node) + 1 : 0;
	size_t slen = service ? strlen(service) + 1 : 0;
	struct lookup *job = calloc(1, sizeof *job + nlen + slen);
	pthread_condattr_t attr;

	if (job == NULL)
		return NULL;
	if (pthread_condattr_init(&attr) != 0)
		goto fail_attr;
	/* The deadline is on the monotonic clock, like nwi_now_ms(). */
	if (pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&job->finished, &attr) != 0)
		goto fail_cond;
	if (pthread_mutex_init(&job->lock, NULL) != 0)
		goto fail_mutex;
	pthread_condattr_destroy(&attr);
	if (node != NULL)
		job->node = memcpy(job->text, node, nlen);
	if (service != NULL)
		job->service = memcpy(job->text + nlen, service, slen);
	job->hints = *hints;
	atomic_init(&job->refs, 2);
	return job;

fail_mutex:
	pthread_cond_destroy(&job->finished);
fail_cond:
	pthread_condattr_destroy(&attr);
fail_attr:
	free(job);
	return NULL;
}

/* Start the thread with every signal blocked; 0 or an errno value. */
static int lookup_start(struct lookup *job)
{
	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	int rc = pthread_attr_init(&attr);

	if (rc != 0)
		return rc;
	rc = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (rc == 0) {
		/*
		 * A new thread inherits its creator's mask: block everything
		 * for the moment of pthread_create, in this thread only.  A
		 * signal arriving meanwhile stays pending and is taken when
		 * the old mask comes back.  (glibc and musl leave their own
		 * internal signals, for cancellation and setxid, unblocked.)
		 */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&thread, &attr, lookup_run, job);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&attr);
	return rc;
}

int nwi_getaddrinfo_until(const char *node, const char *service,
			  const struct addrinfo *hints, int64_t deadline,
			  struct addrinfo **res)
{
	struct lookup *job;
	struct timespec until;
	int rc, err = 0;

	if (deadline < 0)
		return getaddrinfo(node, service, hints, res);
	if (deadline <= nwi_now_ms())
		return NWI_EAI_TIMEOUT;
	job = lookup_new(node, service, hints);
	if (job == NULL)
		return EAI_MEMORY;
	rc = lookup_start(job);
	if (rc != 0) {
		lookup_release(job);
		lookup_release(job);
		errno = rc;
		return EAI_SYSTEM;
	}
	until.tv_sec = deadline / 1000;
	until.tv_nsec = (deadline % 1000) * 1000000;
	pthread_mutex_lock(&job->lock);
	while (!job->done) {
		/*
		 * Woken early (spuriously): wait again for the rest.  The
		 * clock is read too, since a wake-up may be spurious even
		 * after the deadline, when only the clock can end the wait.
		 */
		int waited = pthread_cond_timedwait(&job->finished, &job->lock, &until);

		if ((waited != 0 && waited != EINTR) || nwi_now_ms() >= deadline)
			break;	/* ETIMEDOUT */
	}
	if (job->done) {
		rc = job->rc;
		err = job->sys_errno;
		*res = job->res;
		job->res = NULL;
	} else {
		rc = NWI_EAI_TIMEOUT;
	}
	pthread_mutex_unlock(&job->lock);
	lookup_release(job);
	errno = err;
	return rc;
}
