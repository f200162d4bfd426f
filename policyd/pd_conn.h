/*
 * NAME
 *	pd_conn 3h - policy client connections: reads, requests, replies
 * SYNOPSIS
 *	#include "pd_conn.h"
 *
 *	void	pd_conns_init(struct pd_conns *set, struct event_base *base,
 *		    struct pd_engine *engine, long long idle_timeout_ms,
 *		    pd_conn_count_fn count, void *arg);
 *	int	pd_conn_new(struct pd_conns *set, int fd, const char *peer);
 *	void	pd_conns_free(struct pd_conns *set);
 * DESCRIPTION
 *	A struct pd_conns is the set of connections of one server,
 *	embedded in it (pd_server(3)): the open ones, the closed ones
 *	whose decision is still pending, and a pool of request buffers.
 *
 *	pd_conns_init() makes an empty set. After a connection opens or
 *	closes, "count" is called with "arg", the new number of open
 *	connections ("n") and +1 or -1, so that the owner can pause and
 *	resume accepting.
 *
 *	pd_conn_new() takes over a socket that was just accepted (and is
 *	non-blocking): it reads requests, hands each complete one to the
 *	engine and writes its reply, one request at a time, in order, until
 *	the client leaves, breaks a bound or stays idle too long. "peer"
 *	names the client in logs ("ADDR:PORT" or "unix", shorter than
 *	PD_PEER_MAX).
 *
 *	Setting "stopping" stops passing requests to the engine; replies
 *	that arrive later are dropped. pd_conns_free() closes every
 *	connection, pending or not (the engine must be gone), and frees
 *	the pool; the set itself belongs to the caller.
 * DIAGNOSTICS
 *	pd_conn_new() returns -1 when memory runs out; the socket is then
 *	still the caller's to close. Peer errors are logged and close one
 *	connection; nothing here exits.
 */
#ifndef PD_CONN_H
#define PD_CONN_H

#include <sys/queue.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <stddef.h>

#define PD_POOL_MAX 64
#define PD_PEER_MAX (INET6_ADDRSTRLEN + 8) /* "[v6]:port" */

struct event_base;
struct pd_conn;
struct pd_engine;
struct pd_request;

typedef void (*pd_conn_count_fn)(void *arg, size_t n, int delta);

TAILQ_HEAD(pd_conn_list, pd_conn);

struct pd_conns {
	struct event_base *base;
	struct pd_engine *engine;
	struct timeval idle; /* idle timeout of every connection */
	int stopping; /* no more decisions, no more accepting */
	struct pd_conn_list open; /* open connections */
	struct pd_conn_list zombies; /* closed, decision pending */
	size_t n; /* open connections */
	unsigned long long next_id;
	pd_conn_count_fn count;
	void *arg;
	struct pd_request *pool[PD_POOL_MAX];
	size_t npool;
};

void pd_conns_init(struct pd_conns *, struct event_base *, struct pd_engine *,
    long long, pd_conn_count_fn, void *);
int pd_conn_new(struct pd_conns *, int, const char *);
void pd_conns_free(struct pd_conns *);

#endif
