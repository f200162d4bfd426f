/*
 * NAME
 *	pd_server 3h - policy connections on a libevent loop
 * SYNOPSIS
 *	#include "pd_server.h"
 *
 *	struct pd_server *pd_server_new(struct event_base *base,
 *		    struct pd_engine *engine, const struct pd_config *cfg,
 *		    const struct pd_listen *socks, const char **why);
 *	void	pd_server_stop(struct pd_server *srv);
 *	void	pd_server_free(struct pd_server *srv);
 *	size_t	pd_server_nconn(const struct pd_server *srv);
 * DESCRIPTION
 *	pd_server_new() accepts connections on every socket of "socks"
 *	(already bound and listening, see pd_listen(3)), reads requests,
 *	hands each complete one to the engine and writes its reply, one
 *	request at a time per connection, in order.
 *
 *	pd_server_stop() stops accepting and stops passing requests to the
 *	engine; replies that arrive later are dropped. Call it before
 *	pd_engine_free(), then pd_server_free(), which closes every
 *	connection. The sockets in "socks" stay owned by the caller.
 * DIAGNOSTICS
 *	pd_server_new() returns NULL with *why when libevent fails.
 *	Peer errors are logged and close one connection; nothing here
 *	exits.
 */
#ifndef PD_SERVER_H
#define PD_SERVER_H

#include <stddef.h>

struct event_base;
struct pd_config;
struct pd_engine;
struct pd_listen;
struct pd_server;

struct pd_server *pd_server_new(struct event_base *, struct pd_engine *,
    const struct pd_config *, const struct pd_listen *, const char **);
void pd_server_stop(struct pd_server *);
void pd_server_free(struct pd_server *);
size_t pd_server_nconn(const struct pd_server *);

#endif
