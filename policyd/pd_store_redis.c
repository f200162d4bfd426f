/*
 * NAME
 *	pd_store_redis 3 - the Redis counter store (hiredis async, libevent)
 * SYNOPSIS
 *	#include "pd_store.h"
 *
 *	struct pd_store *pd_store_redis_open(const struct pd_config *cfg,
 *		    struct event_base *base, const char **why);
 * DESCRIPTION
 *	One asynchronous connection per process; every decision is one
 *	EVALSHA of pd_redis_script (NOSCRIPT: the same call again as EVAL,
 *	which also loads the script), so the requests of all clients
 *	pipeline onto that connection and each costs one round trip.
 *
 *	Store URLs (pd_redis_url.c): redis://HOST[:PORT][/DB] and
 *	redis+unix:///PATH[?db=N]. On connect the store sends AUTH (the
 *	first line of store_password_file), SELECT and SCRIPT LOAD (so the
 *	first request does not pay NOSCRIPT and a compile), pipelined
 *	before any request.
 *
 *	hiredis 0.14 has no command timeout: each request arms its own
 *	libevent timer of store_timeout; when it fires first the request is
 *	answered PD_STORE_RETRY and its late reply, if any, only frees it.
 *	Several timeouts in a row with no reply for a while (a hung server)
 *	drop the connection. A lost connection answers every request in
 *	flight with PD_STORE_RETRY; the store reconnects after 100 ms,
 *	doubling up to store_reconnect_max. While it is down, requests are
 *	answered at once.
 * DIAGNOSTICS
 *	The store logs "store: redis unavailable: WHY" when it goes from
 *	working to failing and "store: redis available again (N requests
 *	failed)" once it has worked for a second without a failure: once
 *	per state change, never per request. The password is
 *	never logged. Nothing here exits.
 * SECURITY
 *	Replies are untrusted: type and element count are checked before
 *	use.
 * SEE ALSO
 *	pd_store(3h), pd_redis_script(3), mailtally-policyd.conf(5)
 */
#include "config.h"

#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <openssl/evp.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wunused-function"
#include <hiredis/adapters/libevent.h>
#pragma GCC diagnostic pop

#include "cm_log.h"
#include "cm_util.h"
#include "pd_config.h"
#include "pd_store.h"

#define BACKOFF_MIN_MS 100
#define PD_REDIS_BURST 4 /* see req_send() */
#define STUCK_TIMEOUTS 3
#define RECOVER_MS 1000
#define SPARE_MAX 256 /* freed requests kept for reuse */

struct rstore;

struct rreq {
	struct rstore *rs;
	struct pd_plan *plan; /* NULL once answered */
	pd_store_fn done;
	void *arg;
	uint64_t deadline_ms; /* answered PD_STORE_RETRY when passed */
	int eval; /* resent as EVAL after NOSCRIPT */
	struct rreq *prev, *next;
};

struct rstore {
	struct pd_store st;
	struct event_base *base;
	struct pd_redis_url url;
	char password[256];
	long long timeout_ms, reconnect_max_ms, backoff_ms;
	redisAsyncContext *ac;
	struct event *reconnect;
	char sha[41];
	uint64_t last_ok_ms; /* last reply or connect */
	int timeouts; /* in a row, since the last reply */
	int failing; /* logged as unavailable */
	unsigned long long nfailed; /* requests failed in this episode */
	uint64_t last_fail_ms;
	int closing;
	struct rreq *head, *tail; /* in flight, oldest first */
	struct rreq *spare; /* freed requests, for reuse */
	int nspare;
	struct event *timer; /* store_timeout of the oldest unanswered */
	int unflushed; /* commands queued since the last write */
	char cmd[PD_REDIS_CMD_MAX]; /* the command being queued */
};

static void r_connect(struct rstore *);

/* store_failed - note a failure; log it when the store was working */
static void
store_failed(struct rstore *rs, const char *why)
{
	char esc[256];

	/* why may quote a Redis reply: untrusted, escaped and capped. */
	if (!rs->failing)
		cm_log_warnx("store: redis unavailable: %s",
		    cm_log_str(esc, sizeof esc, why, strlen(why), 160));
	rs->failing = 1;
	rs->last_fail_ms = cm_mono_ms();
}

/*
 * store_ok - note a good reply. The store counts as working again, and
 * says so once, only after RECOVER_MS without a failure: a store that
 * flaps (timeouts under load) logs one line per episode, not two per
 * flap.
 */
static void
store_ok(struct rstore *rs)
{
	if (rs->failing && cm_mono_ms() - rs->last_fail_ms >= RECOVER_MS) {
		cm_log_info("store: redis available again (%llu requests "
			    "failed)",
		    rs->nfailed);
		rs->failing = 0;
		rs->nfailed = 0;
	}
	rs->timeouts = 0;
	rs->backoff_ms = BACKOFF_MIN_MS;
	rs->last_ok_ms = cm_mono_ms();
}

/* req_answer - answer a request once; later calls do nothing */
static void
req_answer(struct rreq *rq, int status, const char *err)
{
	if (rq->plan == NULL)
		return;
	rq->plan = NULL;
	if (status != PD_STORE_OK)
		rq->rs->nfailed++;
	rq->done(rq->arg, status, err);
}

/* req_free - unlink; keep for reuse or free (its hiredis callback has run) */
static void
req_free(struct rreq *rq)
{
	struct rstore *rs = rq->rs;

	if (rq->prev)
		rq->prev->next = rq->next;
	else
		rs->head = rq->next;
	if (rq->next)
		rq->next->prev = rq->prev;
	else
		rs->tail = rq->prev;
	if (rs->nspare < SPARE_MAX && !rs->closing) {
		rq->next = rs->spare;
		rs->spare = rq;
		rs->nspare++;
	} else
		free(rq);
}

/* schedule_reconnect - try again after the backoff, doubling it */
static void
schedule_reconnect(struct rstore *rs)
{
	struct timeval tv;

	if (rs->closing || evtimer_pending(rs->reconnect, NULL))
		return;
	tv.tv_sec = rs->backoff_ms / 1000;
	tv.tv_usec = (rs->backoff_ms % 1000) * 1000;
	evtimer_add(rs->reconnect, &tv);
	rs->backoff_ms *= 2;
	if (rs->backoff_ms > rs->reconnect_max_ms)
		rs->backoff_ms = rs->reconnect_max_ms;
}

/* on_connect - hiredis: connected, or failed (then it frees ac) */
static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct rstore *rs = ac->data;

	if (status == REDIS_OK) {
		rs->last_ok_ms = cm_mono_ms();
		return;
	}
	rs->ac = NULL;
	store_failed(rs, ac->errstr[0] ? ac->errstr : "connect failed");
	schedule_reconnect(rs);
}

/* on_disconnect - hiredis: the connection is gone (ac is being freed) */
static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct rstore *rs = ac->data;

	rs->ac = NULL;
	if (rs->closing)
		return;
	store_failed(rs,
	    status != REDIS_OK && ac->errstr[0] ? ac->errstr
						: "connection closed");
	schedule_reconnect(rs);
}

/* on_reconnect - the backoff timer */
static void
on_reconnect(evutil_socket_t fd, short what, void *arg)
{
	r_connect(arg);
}

/* on_setup_reply - AUTH or SELECT answered */
static void
on_setup_reply(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply *reply = r;
	struct rstore *rs = priv;
	char err[128];

	if (reply == NULL || reply->type != REDIS_REPLY_ERROR)
		return;
	/* Redis's error text never repeats the password. */
	snprintf(err, sizeof err, "setup command refused: %.100s",
	    reply->str ? reply->str : "");
	store_failed(rs, err);
	redisAsyncDisconnect(ac);
}

/* r_connect - start a connection: AUTH, SELECT, SCRIPT LOAD go first */
static void
r_connect(struct rstore *rs)
{
	const char *argv[2];
	size_t len[2];
	char db[16];
	redisAsyncContext *ac;

	if (rs->url.path[0])
		ac = redisAsyncConnectUnix(rs->url.path);
	else
		ac = redisAsyncConnect(rs->url.host, rs->url.port);
	if (ac == NULL || ac->err) {
		store_failed(rs, ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		schedule_reconnect(rs);
		return;
	}
	ac->data = rs;
	if (redisLibeventAttach(ac, rs->base) != REDIS_OK) {
		store_failed(rs, "cannot attach to the event loop");
		redisAsyncFree(ac);
		schedule_reconnect(rs);
		return;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	rs->ac = ac;
	if (rs->password[0]) {
		argv[0] = "AUTH";
		argv[1] = rs->password;
		len[0] = 4;
		len[1] = strlen(rs->password);
		redisAsyncCommandArgv(ac, on_setup_reply, rs, 2, argv, len);
	}
	if (rs->url.db != 0) {
		snprintf(db, sizeof db, "%d", rs->url.db);
		argv[0] = "SELECT";
		argv[1] = db;
		len[0] = 6;
		len[1] = strlen(db);
		redisAsyncCommandArgv(ac, on_setup_reply, rs, 2, argv, len);
	}
	/* Compile now, not on the first request; an error is NOSCRIPT later. */
	redisAsyncCommand(ac, NULL, NULL, "SCRIPT LOAD %s", pd_redis_script);
}

/* parse_reply - {dup, over, used, max, ...} into the plan; 0 or -1 */
static int
parse_reply(const redisReply *r, struct pd_plan *p)
{
	size_t i;

	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 + 2 * p->n)
		return -1;
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_INTEGER)
			return -1;
	if (r->element[1]->integer < 0 ||
	    r->element[1]->integer > (long long)p->n)
		return -1;
	p->dup = r->element[0]->integer == 1;
	p->over = (int)r->element[1]->integer - 1;
	for (i = 0; i < p->n; i++) {
		p->item[i].used = r->element[2 + 2 * i]->integer;
		p->item[i].eff_max = r->element[3 + 2 * i]->integer;
	}
	p->committed = p->commit && !p->dup && p->over == -1;
	return 0;
}

static int req_send(struct rreq *);

/* on_reply - the script's reply, an error, or NULL (connection gone) */
static void
on_reply(redisAsyncContext *ac, void *r, void *priv)
{
	redisReply *reply = r;
	struct rreq *rq = priv;
	struct rstore *rs = rq->rs;
	char err[128];

	if (reply != NULL) {
		rs->last_ok_ms = cm_mono_ms();
		rs->timeouts = 0;
	}
	if (reply == NULL) {
		req_answer(rq, PD_STORE_RETRY, "connection lost");
	} else if (reply->type == REDIS_REPLY_ERROR && !rq->eval &&
	    reply->str && strncmp(reply->str, "NOSCRIPT", 8) == 0) {
		/* Script cache flushed or a new server: EVAL loads it. */
		rq->eval = 1;
		if (rq->plan != NULL && req_send(rq) == 0)
			return; /* the EVAL's reply frees rq */
		req_answer(rq, PD_STORE_RETRY, "cannot send EVAL");
	} else if (rq->plan == NULL) {
		/* Answered already (timeout): a late reply only frees. */
	} else if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(err, sizeof err, "%.120s",
		    reply->str ? reply->str : "error");
		store_failed(rs, err);
		req_answer(rq, PD_STORE_RETRY, err);
	} else if (parse_reply(reply, rq->plan) == 0) {
		store_ok(rs);
		req_answer(rq, PD_STORE_OK, NULL);
	} else {
		store_failed(rs, "unexpected script reply");
		req_answer(rq, PD_STORE_RETRY, "unexpected script reply");
	}
	req_free(rq);
}

/*
 * drop_connection - free a connection that does not answer. Not
 * redisAsyncDisconnect(), which waits for the pending replies of a server
 * that may never send them. The requests in flight get their NULL reply
 * (and free themselves) inside redisAsyncFree().
 */
static void
drop_connection(struct rstore *rs)
{
	redisAsyncContext *ac = rs->ac;

	rs->ac = NULL;
	redisAsyncFree(ac);
	schedule_reconnect(rs);
}

/* oldest_open - the oldest request not answered yet, or NULL */
static struct rreq *
oldest_open(struct rstore *rs)
{
	struct rreq *rq;

	for (rq = rs->head; rq != NULL && rq->plan == NULL; rq = rq->next)
		;
	return rq;
}

/* arm_timer - run on_timer when the oldest unanswered request is due */
static void
arm_timer(struct rstore *rs, uint64_t now)
{
	struct timeval tv;
	struct rreq *rq;
	uint64_t wait;

	if (evtimer_pending(rs->timer, NULL) || (rq = oldest_open(rs)) == NULL)
		return;
	wait = rq->deadline_ms > now ? rq->deadline_ms - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	evtimer_add(rs->timer, &tv);
}

/*
 * on_timer - answer the requests whose store_timeout passed before
 * their reply. Every request waits the same store_timeout and joins the
 * list at its tail, so deadlines grow along the list and one timer, for
 * the oldest unanswered request, serves them all (not one libevent
 * timer per request). Answering runs the engine's callback, which may
 * send or drop anything, so the scan starts again from the head.
 */
static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct rstore *rs = arg;
	uint64_t now = cm_mono_ms(), quiet;
	long long stuck = rs->timeout_ms * 10 > 1000 ? rs->timeout_ms * 10
						     : 1000;
	struct rreq *rq;

	(void)fd;
	(void)what;
again:
	if ((rq = oldest_open(rs)) == NULL || rq->deadline_ms > now) {
		arm_timer(rs, now);
		return;
	}
	store_failed(rs, "timeout");
	req_answer(rq, PD_STORE_RETRY, "timeout");
	/* A hung server: drop it; in-flight requests get their NULL reply. */
	quiet = cm_mono_ms() - rs->last_ok_ms;
	if (++rs->timeouts >= STUCK_TIMEOUTS && quiet >= (uint64_t)stuck &&
	    rs->ac != NULL) {
		cm_log_warnx("store: redis silent for %llu ms, reconnecting",
		    (unsigned long long)quiet);
		drop_connection(rs);
	}
	goto again;
}

/*
 * req_send - queue the command on the connection; 0 or -1. The first
 * PD_REDIS_BURST commands queued since the output buffer was last empty
 * wait for the end of the loop iteration (hiredis's write event), so
 * the requests of many clients share one write(2); every PD_REDIS_BURST
 * more are written at once, so Redis starts on them while the daemon
 * is still reading the rest of the batch (the two overlap on two
 * cores instead of taking turns: bench/RESULTS.md).
 */
static int
req_send(struct rreq *rq)
{
	struct rstore *rs = rq->rs;
	size_t len;

	if (rs->ac == NULL)
		return -1;
	len = pd_redis_cmd(rs->cmd, sizeof rs->cmd, rq->plan,
	    rq->eval ? NULL : rs->sha);
	if (len == 0)
		return -1;
	if (sdslen(rs->ac->c.obuf) == 0)
		rs->unflushed = 0;
	if (redisAsyncFormattedCommand(rs->ac, on_reply, rq, rs->cmd, len) !=
	    REDIS_OK)
		return -1;
	if (++rs->unflushed >= PD_REDIS_BURST) {
		rs->unflushed = 0;
		redisAsyncHandleWrite(rs->ac);
	}
	return 0;
}

/* redis_run - check or commit one plan */
static void
redis_run(struct pd_store *st, struct pd_plan *plan, pd_store_fn done,
    void *arg)
{
	struct rstore *rs = (struct rstore *)st;
	struct rreq *rq;
	uint64_t now;

	plan->over = -1;
	plan->dup = plan->committed = 0;
	if (rs->ac == NULL) {
		rs->nfailed++;
		done(arg, PD_STORE_RETRY, "not connected");
		return;
	}
	if ((rq = rs->spare) != NULL) {
		rs->spare = rq->next;
		rs->nspare--;
		memset(rq, 0, sizeof *rq);
	} else if ((rq = calloc(1, sizeof *rq)) == NULL) {
		rs->nfailed++;
		done(arg, PD_STORE_RETRY, "out of memory");
		return;
	}
	rq->rs = rs;
	rq->plan = plan;
	rq->done = done;
	rq->arg = arg;
	now = cm_mono_ms();
	rq->deadline_ms = now + (uint64_t)rs->timeout_ms;
	if (req_send(rq) == -1) {
		free(rq);
		store_failed(rs, "cannot send (connection closing)");
		rs->nfailed++;
		done(arg, PD_STORE_RETRY, "cannot send");
		return;
	}
	if ((rq->prev = rs->tail) != NULL)
		rq->prev->next = rq;
	else
		rs->head = rq;
	rs->tail = rq;
	arm_timer(rs, now);
}

/* redis_close - answer what is in flight, free everything */
static void
redis_close(struct pd_store *st)
{
	struct rstore *rs = (struct rstore *)st;
	struct rreq *rq;

	rs->closing = 1;
	if (rs->ac != NULL)
		redisAsyncFree(rs->ac); /* NULL replies free the requests */
	rs->ac = NULL;
	while ((rq = rs->spare) != NULL) {
		rs->spare = rq->next;
		free(rq);
	}
	event_free(rs->timer);
	event_free(rs->reconnect);
	memset(rs->password, 0, sizeof rs->password);
	free(rs);
}

static const struct pd_store_ops redis_ops = {
	.name = "redis",
	.run = redis_run,
	.close = redis_close,
};

/* script_sha - SHA-1 of the script, as EVALSHA wants it */
static int
script_sha(char out[41])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	if (EVP_Digest(pd_redis_script, strlen(pd_redis_script), md, &n,
		EVP_sha1(), NULL) != 1 ||
	    n != 20)
		return -1;
	for (i = 0; i < 20; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[40] = 0;
	return 0;
}

/* pd_store_redis_open - parse the URL, read the password, connect */
struct pd_store *
pd_store_redis_open(const struct pd_config *cfg, struct event_base *base,
    const char **why)
{
	struct rstore *rs;

	if (base == NULL) {
		*why = "the Redis store needs an event loop";
		return NULL;
	}
	if ((rs = calloc(1, sizeof *rs)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	if (pd_redis_url_parse(cfg->store, &rs->url, why) == -1 ||
	    (cfg->store_password_file != NULL &&
		pd_redis_read_password(cfg->store_password_file, rs->password,
		    sizeof rs->password, why) == -1))
		goto fail;
	if (script_sha(rs->sha) == -1 ||
	    (rs->reconnect = evtimer_new(base, on_reconnect, rs)) == NULL ||
	    (rs->timer = evtimer_new(base, on_timer, rs)) == NULL) {
		*why = "out of memory";
		goto fail;
	}
	rs->st.ops = &redis_ops;
	rs->st.impl = rs;
	rs->base = base;
	rs->timeout_ms = cfg->store_timeout_ms > 0 ? cfg->store_timeout_ms : 50;
	rs->reconnect_max_ms = cfg->store_reconnect_max_ms > BACKOFF_MIN_MS
	    ? cfg->store_reconnect_max_ms
	    : BACKOFF_MIN_MS;
	rs->backoff_ms = BACKOFF_MIN_MS;
	rs->last_ok_ms = cm_mono_ms();
	r_connect(rs);
	return &rs->st;
fail:
	if (rs->reconnect != NULL)
		event_free(rs->reconnect);
	memset(rs->password, 0, sizeof rs->password);
	free(rs);
	return NULL;
}
