/*
 * NAME
 *	pd_server 3 - policy connections on a libevent loop
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
 *	The listener side: an evconnlistener per listening socket hands
 *	each accepted client to pd_conn(3), which reads its requests and
 *	writes the replies; the server holds that set of connections and
 *	counts them.
 *
 *	At max_connections the listeners are paused and new clients wait
 *	in the kernel's backlog until one closes; accept(2) failures such
 *	as EMFILE pause them for PD_ACCEPT_PAUSE_MS.
 * DIAGNOSTICS
 *	Warnings "connect: max_connections=N reached" (once a minute at
 *	most), "connect: accept: ...: pausing" and "connect: out of memory:
 *	closing a new client"; the connections log their own lines (see
 *	pd_conn(3)). Nothing here exits.
 * SEE ALSO
 *	pd_conn(3), pd_listen(3), pd_engine(3), mailtally-policyd(8)
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "cm_log.h"
#include "cm_util.h"
#include "pd_config.h"
#include "pd_conn.h"
#include "pd_listen.h"
#include "pd_server.h"

#define PD_ACCEPT_PAUSE_MS 100
#define PD_FULL_LOG_MS 60000

struct pd_server {
	struct pd_conns conns; /* open and zombie connections */
	struct evconnlistener *lev[PD_LISTEN_MAX];
	size_t nlev;
	struct event *resume; /* re-enable accepting */
	size_t max_conn;
	int paused;
	uint64_t full_logged_ms; /* last "max_connections reached" */
};

/* listeners_enable - pause or resume accepting */
static void
listeners_enable(struct pd_server *srv, int on)
{
	size_t i;

	for (i = 0; i < srv->nlev; i++) {
		if (on)
			evconnlistener_enable(srv->lev[i]);
		else
			evconnlistener_disable(srv->lev[i]);
	}
	srv->paused = !on;
}

/*
 * conn_count - pause accepting when a connection opens at
 * max_connections, resume when one closes below it
 */
static void
conn_count(void *arg, size_t n, int delta)
{
	struct pd_server *srv = arg;

	if (delta < 0) {
		if (srv->paused && !srv->conns.stopping && n < srv->max_conn &&
		    !evtimer_pending(srv->resume, NULL))
			listeners_enable(srv, 1);
		return;
	}
	if (n < srv->max_conn)
		return;
	/* Once a minute at most: under overload this is every accept. */
	if (srv->full_logged_ms == 0 ||
	    cm_mono_ms() - srv->full_logged_ms >= PD_FULL_LOG_MS) {
		cm_log_warnx("connect: max_connections=%zu reached: "
			     "new clients wait until one closes",
		    srv->max_conn);
		srv->full_logged_ms = cm_mono_ms();
	}
	listeners_enable(srv, 0);
}

/* peer_name - "ADDR:PORT" or "unix" */
static void
peer_name(const struct sockaddr *sa, char *buf, size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned port = 0;
	const void *a = NULL;

	if (sa->sa_family == AF_INET) {
		a = &((const struct sockaddr_in *)sa)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	if (a == NULL || inet_ntop(sa->sa_family, a, ip, sizeof ip) == NULL)
		snprintf(buf, size, "unix");
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, size, "[%s]:%u", ip, port);
	else
		snprintf(buf, size, "%s:%u", ip, port);
}

/* accept_cb - a new client */
static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct pd_server *srv = arg;
	char peer[PD_PEER_MAX];
	int on = 1;

	if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	peer_name(sa, peer, sizeof peer);
	if (pd_conn_new(&srv->conns, fd, peer) == -1) {
		cm_log_warnx("connect: out of memory: closing a new client");
		close(fd);
	}
}
/* resume_cb - accepting was paused after an accept(2) error */
static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd_server *srv = arg;

	if (!srv->conns.stopping && srv->conns.n < srv->max_conn)
		listeners_enable(srv, 1);
}

/* accept_error_cb - EMFILE and friends: pause instead of spinning */
static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct pd_server *srv = arg;
	struct timeval tv = { 0, PD_ACCEPT_PAUSE_MS * 1000 };

	cm_log_warnx("connect: accept: %s: pausing for %d ms",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()),
	    PD_ACCEPT_PAUSE_MS);
	listeners_enable(srv, 0);
	evtimer_add(srv->resume, &tv);
}

/* pd_server_new - start accepting on every listening socket */
struct pd_server *
pd_server_new(struct event_base *base, struct pd_engine *engine,
    const struct pd_config *cfg, const struct pd_listen *socks,
    const char **why)
{
	struct pd_server *srv;
	size_t i;

	if ((srv = calloc(1, sizeof *srv)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	pd_conns_init(&srv->conns, base, engine, cfg->idle_timeout_ms,
	    conn_count, srv);
	srv->max_conn = cfg->max_connections > 0 ? (size_t)cfg->max_connections
						 : 1;
	if ((srv->resume = evtimer_new(base, resume_cb, srv)) == NULL)
		goto fail;
	for (i = 0; i < socks->n; i++) {
		srv->lev[i] = evconnlistener_new(base, accept_cb, srv,
		    LEV_OPT_CLOSE_ON_EXEC, 0, socks->sock[i].fd);
		if (srv->lev[i] == NULL)
			goto fail;
		srv->nlev++;
		evconnlistener_set_error_cb(srv->lev[i], accept_error_cb);
	}
	return srv;
fail:
	*why = "libevent: cannot create a listener";
	pd_server_free(srv);
	return NULL;
}

/* pd_server_stop - stop accepting and deciding */
void
pd_server_stop(struct pd_server *srv)
{
	if (srv == NULL)
		return;
	srv->conns.stopping = 1;
	listeners_enable(srv, 0);
}

/* pd_server_free - close every connection and free everything */
void
pd_server_free(struct pd_server *srv)
{
	size_t i;

	if (srv == NULL)
		return;
	pd_conns_free(&srv->conns);
	for (i = 0; i < srv->nlev; i++)
		evconnlistener_free(srv->lev[i]);
	if (srv->resume != NULL)
		event_free(srv->resume);
	free(srv);
}

/* pd_server_nconn - open connections */
size_t
pd_server_nconn(const struct pd_server *srv)
{
	return srv->conns.n;
}
