/*
 * peers.c - live connections counted per client IP address, for the
 * per-peer cap (nw_server_set_max_per_peer).  IPv4-mapped IPv6 addresses
 * count as the IPv4 address they carry, so a dual-stack listener cannot be
 * used to double a client's share.  Peers that are not IP (Unix-domain
 * sockets) are not counted.
 *
 * A chained hash table under one lock: an entry exists only while its
 * address has a live connection, so memory follows the connections.
 */
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

struct nwi_peer {
	struct nwi_peer *next;
	unsigned char ip[16];	/* IPv6, or IPv4-mapped */
	int count;
};

int nwi_peers_init(struct nwi_peers *p)
{
	p->buckets = calloc(BUCKETS, sizeof *p->buckets);
	if (p->buckets == NULL)
		return -1;
	errno = pthread_mutex_init(&p->lock, NULL);
	if (errno) {
		free(p->buckets);
		return -1;
	}
	return 0;
}

void nwi_peers_destroy(struct nwi_peers *p)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		while (p->buckets[i]) {
			struct nwi_peer *e = p->buckets[i];

			p->buckets[i] = e->next;
			free(e);
		}
	}
	free(p->buckets);
	pthread_mutex_destroy(&p->lock);
}

/* The peer's address as 16 bytes (IPv4 as ::ffff:a.b.c.d); false if not IP. */
static bool peer_key(const struct sockaddr *sa, socklen_t len, unsigned char key[16])
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		memset(key, 0, 10);
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &in->sin_addr, 4);
		return true;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static size_t bucket_of(const unsigned char key[16])
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 1099511628211ULL;
	return (size_t)(h % BUCKETS);
}

static struct nwi_peer **find(struct nwi_peers *p, const unsigned char key[16])
{
	struct nwi_peer **e = &p->buckets[bucket_of(key)];

	while (*e && memcmp((*e)->ip, key, 16) != 0)
		e = &(*e)->next;
	return e;
}

int nwi_peers_add(struct nwi_peers *p, const struct sockaddr *sa, socklen_t len, int max)
{
	unsigned char key[16];
	struct nwi_peer **e;
	int rc = 1;

	if (!peer_key(sa, len, key))
		return 1;
	pthread_mutex_lock(&p->lock);
	e = find(p, key);
	if (*e == NULL) {
		*e = calloc(1, sizeof **e);
		if (*e == NULL) {
			rc = -1;
			goto out;
		}
		memcpy((*e)->ip, key, 16);
	}
	if ((*e)->count >= max)
		rc = 0;
	else
		(*e)->count++;
out:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void nwi_peers_remove(struct nwi_peers *p, const struct sockaddr *sa, socklen_t len)
{
	unsigned char key[16];
	struct nwi_peer **e, *gone = NULL;

	if (!peer_key(sa, len, key))
		return;
	pthread_mutex_lock(&p->lock);
	e = find(p, key);
	if (*e && --(*e)->count <= 0) {
		gone = *e;
		*e = gone->next;
	}
	pthread_mutex_unlock(&p->lock);
	free(gone);
}
