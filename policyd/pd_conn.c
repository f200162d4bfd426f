/*
 * NAME
 *	pd_conn 3 - policy client connections: reads, requests, replies
 * SYNOPSIS
 *	#include "pd_conn.h"
 *
 *	void	pd_conns_init(struct pd_conns *set, struct event_base *base,
 *		    struct pd_engine *engine, long long idle_timeout_ms,
 *		    pd_conn_count_fn count, void *arg);
 *	int	pd_conn_new(struct pd_conns *set, int fd, const char *peer);
 *	void	pd_conns_free(struct pd_conns *set);
 * DESCRIPTION
 *	Each connection is a socket with a read and a write event and two
 *	evbuffers, read(2) into a scratch buffer (a bufferevent would ask
 *	the kernel for the readable size first: one ioctl per request).
 *	Bytes that arrive are fed to the incremental parser (pd_proto(3));
 *	a complete request goes to pd_engine_decide() and reading stops
 *	being parsed until its reply is written, so a client that
 *	pipelines gets its replies in order and has at most one decision
 *	pending. Unparsed bytes wait in the input buffer; reading stops
 *	while it holds PD_INPUT_MAX bytes, and parsing stops while more
 *	than PD_OUTPUT_MAX reply bytes are waiting for a client that does
 *	not read.
 *
 *	A reply is written straight to the socket when nothing is queued
 *	before it (nearly always); only what the kernel does not take goes
 *	through the output buffer and the write event.
 *
 *	A request buffer (17 KiB) is taken from a small pool only while a
 *	request is being received, so an idle connection costs a few
 *	hundred bytes: 1,000 idle smtpd connections stay cheap.
 *
 *	Every connection has an idle timeout (idle_timeout_ms) for reads
 *	and writes.
 *
 *	A connection that closes while its decision is pending is kept as
 *	a zombie (no socket) until the engine's reply callback frees it,
 *	as pd_engine(3) requires.
 * SECURITY
 *	Reads untrusted bytes; bounds are those of pd_proto(3) plus the
 *	buffer caps above. A bad request is logged with an escaped sample
 *	of at most 100 bytes and closes only its own connection.
 * DIAGNOSTICS
 *	Log lines "ID: connect client=ADDR ..." with ID a hex connection
 *	id: debug on connect and disconnect, warning for a protocol error,
 *	a timeout mid-request or a client gone mid-request, info for an
 *	idle timeout between requests. Nothing here exits.
 * SEE ALSO
 *	pd_server(3), pd_proto(3), pd_engine(3), mailtally-policyd(8)
 */
#include "config.h"

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "cm_log.h"
#include "pd_conn.h"
#include "pd_engine.h"
#include "pd_proto.h"
#include "pd_request.h"

#define PD_INPUT_MAX (2 * PD_REQUEST_MAX)
#define PD_OUTPUT_MAX 65536
#define PD_SAMPLE_MAX 100
#define PD_REPLY_MAX 4096
#define PD_READ_MAX 16384

struct pd_conn {
	struct pd_conns *set;
	int fd; /* -1 once closed */
	struct event *rev, *wev;
	struct evbuffer *in, *out;
	struct pd_parser parser;
	char id[20];
	char peer[PD_PEER_MAX];
	unsigned long long nreq;
	int pending; /* a decision is out */
	int processing; /* inside conn_process() */
	int eof; /* peer closed its side */
	int reading; /* rev is added */
	TAILQ_ENTRY(pd_conn) entry;
};

static void conn_process(struct pd_conn *);

/* pool_get - a request buffer for a connection that starts a request */
static struct pd_request *
pool_get(struct pd_conns *set)
{
	if (set->npool > 0)
		return set->pool[--set->npool];
	return malloc(sizeof(struct pd_request));
}

/* pool_put - give a request buffer back (NULL is fine) */
static void
pool_put(struct pd_conns *set, struct pd_request *req)
{
	if (req == NULL)
		return;
	if (set->npool < PD_POOL_MAX)
		set->pool[set->npool++] = req;
	else
		free(req);
}
/* conn_free - release a connection that has no decision pending */
static void
conn_free(struct pd_conn *c)
{
	pool_put(c->set, c->parser.req);
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	if (c->in != NULL)
		evbuffer_free(c->in);
	if (c->out != NULL)
		evbuffer_free(c->out);
	free(c);
}

/* conn_reading - watch the socket for input, or stop */
static void
conn_reading(struct pd_conn *c, int on)
{
	if (on == c->reading)
		return;
	if (on)
		event_add(c->rev, &c->set->idle);
	else
		event_del(c->rev);
	c->reading = on;
}

/*
 * conn_close - close the socket; free now, or at the pending reply
 */
static void
conn_close(struct pd_conn *c)
{
	struct pd_conns *set = c->set;

	if (c->fd == -1)
		return;
	event_del(c->rev);
	event_del(c->wev);
	close(c->fd);
	c->fd = -1;
	TAILQ_REMOVE(&set->open, c, entry);
	set->n--;
	set->count(set->arg, set->n, -1);
	if (c->pending)
		TAILQ_INSERT_TAIL(&set->zombies, c, entry);
	else if (!c->processing)
		conn_free(c);
}

/*
 * log_sample - a protocol error, with an escaped sample of the line
 *
 * cm_log_str() writes control and non-ASCII bytes, '"' and '\\' as \xHH,
 * so a client cannot end the quoted sample and forge key=value pairs on
 * the line.
 */
static void
log_sample(struct pd_conn *c, const char *why)
{
	char esc[4 * PD_SAMPLE_MAX + 8];
	const struct pd_parser *p = &c->parser;

	cm_log_str(esc, sizeof esc, p->sample != NULL ? p->sample : "",
	    p->sample_len, PD_SAMPLE_MAX);
	cm_log_warnx("%s: connect client=%s action=close reason=\"%s\" "
		     "attributes=%zu bytes=%zu sample=\"%s\"",
	    c->id, c->peer, why, p->req->nattr, p->req->used, esc);
}

/*
 * reply_write - send a reply, straight to the socket when nothing is
 * queued before it
 *
 * Going through the bufferevent costs an epoll_ctl() to watch for
 * writability, a loop turn and another epoll_ctl() to stop, for a reply
 * that nearly always fits in the socket buffer at once; only what the
 * kernel does not take is queued. Returns -1 (logged) when the client
 * is gone.
 */
static int
reply_write(struct pd_conn *c, const char *buf, size_t len)
{
	struct evbuffer *out = c->out;
	ssize_t n = 0;

	if (evbuffer_get_length(out) == 0) {
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			cm_log_warnx("%s: connect client=%s action=close "
				     "reason=\"%s\" requests=%llu",
			    c->id, c->peer, strerror(errno), c->nreq);
			return -1;
		}
		if (n == -1)
			n = 0;
	}
	if ((size_t)n == len)
		return 0;
	if (evbuffer_add(out, buf + n, len - (size_t)n) == -1) {
		cm_log_warnx("%s: connect client=%s action=close "
			     "reason=\"out of memory\"",
		    c->id, c->peer);
		return -1;
	}
	event_add(c->wev, &c->set->idle);
	return 0;
}

/*
 * on_reply - the engine's answer to this connection's pending request
 *
 * May run inside pd_engine_decide() (conn_process() goes on with the
 * next request) or later from the loop (start processing again here).
 */
static void
on_reply(void *arg, const char *reply)
{
	struct pd_conn *c = arg;
	struct pd_conns *set = c->set;
	char buf[PD_REPLY_MAX];
	size_t len;

	c->pending = 0;
	if (c->fd == -1) {
		TAILQ_REMOVE(&set->zombies, c, entry);
		if (!c->processing)
			conn_free(c);
		return;
	}
	if (set->stopping)
		return;
	if (pd_reply_format(buf, sizeof buf, reply, &len) == -1) {
		cm_log_error("%s: connect client=%s bad reply from the "
			     "engine: answering DUNNO",
		    c->id, c->peer);
		pd_reply_format(buf, sizeof buf, "action=DUNNO", &len);
	}
	if (reply_write(c, buf, len) == -1) {
		conn_close(c);
		return;
	}
	if (!c->processing)
		conn_process(c);
}

/* feed - give buffered input to the parser; 1: request done, 0, -1 */
static int
feed(struct pd_conn *c, struct evbuffer *in)
{
	struct evbuffer_iovec v;
	enum pd_parse r;
	size_t used;

	if (c->parser.req == NULL) {
		if ((c->parser.req = pool_get(c->set)) == NULL) {
			cm_log_warnx("%s: connect client=%s action=close "
				     "reason=\"out of memory\"",
			    c->id, c->peer);
			return -1;
		}
		pd_parser_init(&c->parser, c->parser.req);
	}
	while (evbuffer_peek(in, -1, NULL, &v, 1) > 0 && v.iov_len > 0) {
		r = pd_parser_feed(&c->parser, v.iov_base, v.iov_len, &used);
		evbuffer_drain(in, used);
		if (r == PD_PARSE_DONE)
			return 1;
		if (r == PD_PARSE_ERROR) {
			log_sample(c, c->parser.why);
			return -1;
		}
	}
	return 0;
}

/*
 * conn_process - handle complete requests, one at a time, in order
 */
static void
conn_process(struct pd_conn *c)
{
	struct pd_conns *set = c->set;
	int r;

	c->processing = 1;
	while (c->fd != -1 && !c->pending && !set->stopping) {
		if (evbuffer_get_length(c->out) > PD_OUTPUT_MAX ||
		    evbuffer_get_length(c->in) == 0)
			break;
		if ((r = feed(c, c->in)) == -1) {
			conn_close(c);
			break;
		}
		if (r == 0)
			break;
		c->nreq++;
		c->pending = 1;
		pd_engine_decide(set->engine, c->parser.req, on_reply, c);
		pool_put(set, c->parser.req);
		c->parser.req = NULL;
	}
	c->processing = 0;
	if (c->fd == -1) {
		if (!c->pending)
			conn_free(c);
		return;
	}
	if (c->eof && !c->pending && evbuffer_get_length(c->out) == 0)
		conn_close(c);
	else if (!c->eof && evbuffer_get_length(c->in) < PD_INPUT_MAX)
		conn_reading(c, 1);
}

/* conn_event - end of file, error or timeout on a connection */
static void
conn_event(struct pd_conn *c, int what, int err)
{
	int mid = pd_parser_started(&c->parser);
	size_t got = mid ? c->parser.req->used : 0;

	if (what == EV_TIMEOUT) {
		if (mid || c->pending)
			cm_log_warnx(
			    "%s: connect client=%s action=close "
			    "reason=\"idle timeout mid-request\" bytes=%zu",
			    c->id, c->peer, got);
		else
			cm_log_info("%s: connect client=%s action=close "
				    "reason=\"idle timeout\" requests=%llu",
			    c->id, c->peer, c->nreq);
		conn_close(c);
	} else if (err != 0) {
		cm_log_warnx("%s: connect client=%s action=close "
			     "reason=\"%s\" requests=%llu",
		    c->id, c->peer, strerror(err), c->nreq);
		conn_close(c);
	} else {
		if (mid)
			cm_log_warnx(
			    "%s: connect client=%s action=close "
			    "reason=\"client closed mid-request\" bytes=%zu",
			    c->id, c->peer, got);
		else
			cm_log_debug("%s: connect client=%s action=disconnect "
				     "requests=%llu",
			    c->id, c->peer, c->nreq);
		c->eof = 1;
		conn_reading(c, 0);
		if (!c->pending && evbuffer_get_length(c->out) == 0)
			conn_close(c);
	}
}

/* read_cb - bytes arrived, end of file, an error or the idle timeout */
static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd_conn *c = arg;
	char buf[PD_READ_MAX];
	size_t room = PD_INPUT_MAX - evbuffer_get_length(c->in);
	ssize_t n;

	if (what & EV_TIMEOUT) {
		conn_event(c, EV_TIMEOUT, 0);
		return;
	}
	n = read(fd, buf, room < sizeof buf ? room : sizeof buf);
	if (n == -1 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_event(c, EV_READ, n == 0 ? 0 : errno);
		return;
	}
	if (evbuffer_add(c->in, buf, (size_t)n) == -1) {
		cm_log_warnx("%s: connect client=%s action=close "
			     "reason=\"out of memory\"",
		    c->id, c->peer);
		conn_close(c);
		return;
	}
	if (evbuffer_get_length(c->in) >= PD_INPUT_MAX)
		conn_reading(c, 0);
	conn_process(c);
}

/* write_cb - the socket takes queued reply bytes again, or timeout */
static void
write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pd_conn *c = arg;

	if (what & EV_TIMEOUT) {
		conn_event(c, EV_TIMEOUT, 0);
		return;
	}
	if (evbuffer_write(c->out, fd) == -1 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != EINTR) {
		conn_event(c, EV_WRITE, errno);
		return;
	}
	if (evbuffer_get_length(c->out) > 0)
		return;
	event_del(c->wev);
	conn_process(c);
}

/* conn_init - events and buffers of a new connection; -1: no memory */
static int
conn_init(struct pd_conn *c, struct pd_conns *set, int fd)
{
	c->set = set;
	c->fd = fd;
	c->rev = event_new(set->base, fd, EV_READ | EV_PERSIST, read_cb, c);
	c->wev = event_new(set->base, fd, EV_WRITE | EV_PERSIST, write_cb, c);
	c->in = evbuffer_new();
	c->out = evbuffer_new();
	if (c->rev == NULL || c->wev == NULL || c->in == NULL || c->out == NULL)
		return -1;
	return 0;
}

/* pd_conns_init - an empty set of connections */
void
pd_conns_init(struct pd_conns *set, struct event_base *base,
    struct pd_engine *engine, long long idle_timeout_ms, pd_conn_count_fn count,
    void *arg)
{
	memset(set, 0, sizeof *set);
	set->base = base;
	set->engine = engine;
	TAILQ_INIT(&set->open);
	TAILQ_INIT(&set->zombies);
	set->idle.tv_sec = idle_timeout_ms / 1000;
	set->idle.tv_usec = (idle_timeout_ms % 1000) * 1000;
	set->next_id = ((unsigned long long)time(NULL) & 0xffffff) << 16;
	set->count = count;
	set->arg = arg;
}

/* pd_conn_new - serve a new client; -1: no memory, fd not closed */
int
pd_conn_new(struct pd_conns *set, int fd, const char *peer)
{
	struct pd_conn *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return -1;
	if (conn_init(c, set, fd) == -1) {
		conn_free(c);
		return -1;
	}
	snprintf(c->id, sizeof c->id, "%010llX", set->next_id++);
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	conn_reading(c, 1);
	TAILQ_INSERT_TAIL(&set->open, c, entry);
	set->count(set->arg, ++set->n, 1);
	cm_log_debug("%s: connect client=%s", c->id, c->peer);
	return 0;
}

/* pd_conns_free - close every connection and free the pool */
void
pd_conns_free(struct pd_conns *set)
{
	struct pd_conn *c;

	set->stopping = 1;
	while ((c = TAILQ_FIRST(&set->open)) != NULL) {
		c->pending = 0;
		conn_close(c);
	}
	while ((c = TAILQ_FIRST(&set->zombies)) != NULL) {
		TAILQ_REMOVE(&set->zombies, c, entry);
		conn_free(c);
	}
	while (set->npool > 0)
		free(set->pool[--set->npool]);
}
