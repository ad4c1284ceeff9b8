/*
 * peers.c - live connections per client address, for the per-peer cap
 * (nginx's limit_conn): a small chained hash table under one lock, holding
 * only addresses with a connection open, so it never grows past the number
 * of connections.
 */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

struct peer {
	struct peer *next;
	unsigned char addr[16];		/* IPv6, or IPv4 as IPv4-mapped IPv6 */
	int count;
};

struct nwi_peers {
	pthread_mutex_t lock;
	struct peer *bucket[BUCKETS];
};

struct nwi_peers *nwi_peers_new(void)
{
	struct nwi_peers *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	errno = pthread_mutex_init(&p->lock, NULL);
	if (errno) {
		free(p);
		return NULL;
	}
	return p;
}

void nwi_peers_free(struct nwi_peers *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		while (p->bucket[i]) {
			struct peer *next = p->bucket[i]->next;

			free(p->bucket[i]);
			p->bucket[i] = next;
		}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* The address as 16 bytes; false for what is not IP. */
static bool peer_key(const struct sockaddr *sa, unsigned char key[16])
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static struct peer **find(struct nwi_peers *p, const unsigned char key[16])
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	struct peer **pp;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	for (pp = &p->bucket[h % BUCKETS]; *pp; pp = &(*pp)->next)
		if (memcmp((*pp)->addr, key, 16) == 0)
			break;
	return pp;
}

int nwi_peers_take(struct nwi_peers *p, const struct sockaddr *peer, int max)
{
	unsigned char key[16];
	struct peer **pp;
	int rc = 1;

	if (!peer_key(peer, key))
		return 0;
	pthread_mutex_lock(&p->lock);
	pp = find(p, key);
	if (*pp == NULL) {
		/* No memory to count it: serve it uncounted rather than refuse it. */
		*pp = calloc(1, sizeof **pp);
		if (*pp)
			memcpy((*pp)->addr, key, 16);
		else
			rc = 0;
	}
	if (*pp && (*pp)->count >= max)
		rc = -1;
	else if (*pp)
		(*pp)->count++;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void nwi_peers_put(struct nwi_peers *p, const struct sockaddr *peer)
{
	unsigned char key[16];
	struct peer **pp;

	if (!peer_key(peer, key))
		return;
	pthread_mutex_lock(&p->lock);
	pp = find(p, key);
	if (*pp && --(*pp)->count == 0) {
		struct peer *gone = *pp;

		*pp = gone->next;
		free(gone);
	}
	pthread_mutex_unlock(&p->lock);
}
