/*
 * NAME
 *	pd_engine 3h - from a parsed policy request to a reply
 * SYNOPSIS
 *	#include "pd_engine.h"
 * DESCRIPTION
 *	The boundary between the transport (pd_server.c: sockets, framing,
 *	timeouts) and the policy (identity, limits, store, quota log line).
 *
 *	pd_engine_decide() takes a complete request and calls reply exactly
 *	once with the reply attribute line ("action=DUNNO", no newline):
 *	before it returns (memory store, or a state that needs no store) or
 *	later from the event loop (Redis). The engine copies what it needs
 *	from the request, so the caller may reuse the request at once; the
 *	caller must keep "arg" valid until reply has been called (a
 *	connection that closes meanwhile is freed in the callback).
 *	The engine writes the one quota log line per decision.
 * DIAGNOSTICS
 *	pd_engine_new() returns NULL with *why on a bad store URL etc.
 *	Store failures never reach the caller: they become the
 *	on_store_error answer.
 */
#ifndef PD_ENGINE_H
#define PD_ENGINE_H

struct event_base;
struct pd_config;
struct pd_request;
struct pd_engine;

typedef void (*pd_reply_fn)(void *arg, const char *reply);

struct pd_engine *pd_engine_new(const struct pd_config *, struct event_base *,
    const char **why);
/* client_ip: the peer of the policy connection, for debug logs only. */
void pd_engine_decide(struct pd_engine *, const struct pd_request *,
    pd_reply_fn reply, void *arg);
void pd_engine_free(struct pd_engine *);

/*
 * Added by the policy half: an injected clock (seconds since the epoch)
 * for tests; NULL restores time(). The store, for tests and admin.
 */
typedef long long (*pd_clock_fn)(void *arg);
void pd_engine_set_clock(struct pd_engine *, pd_clock_fn, void *arg);
struct pd_store *pd_engine_store(struct pd_engine *);

#endif
