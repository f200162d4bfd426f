/*
 * NAME
 *	milter_load - replay a signed corpus into a milter as Postfix would
 * SYNOPSIS
 *	milter_load -s SOCKET -m MANIFEST [-n CONNS] [-d SECONDS | -c COUNT]
 *	    [-w WARMUP] [-k MSGS_PER_CONN] [-a AUTHSERV_ID] [-S SLOW_MS] [-v]
 *
 *	Long forms: --socket, --manifest, --conns, --duration, --count,
 *	--warmup, --messages-per-conn, --authserv-id, --slow, --verbose.
 * DESCRIPTION
 *	milter_load opens CONNS concurrent milter connections to SOCKET
 *	(unix:/path, inet:host:port or inet:port@host), each in its own
 *	thread, and replays the messages named in MANIFEST (written by
 *	bench/make_corpus.py) round-robin, speaking milter protocol 6 the
 *	way Postfix 3.7 does (see mf_session.c). Like Postfix, it opens one
 *	milter connection per SMTP session and does not set TCP_NODELAY on
 *	it, so a milter that leaves Nagle on and answers late pays for it
 *	here as it would under Postfix. A session carries MSGS_PER_CONN
 *	messages (default 1, Postfix with one message per SMTP session).
 *
 *	Every verdict is checked: good messages must get an accepting final
 *	reply and an Authentication-Results field (with AUTHSERV_ID, if
 *	given) saying dkim=pass, tampered ones dkim=fail.
 *
 *	The run lasts SECONDS (default 10) or COUNT messages; messages that
 *	end in the first WARMUP seconds (default 1) are excluded from the
 *	rate and the latencies. A message's latency runs from its first
 *	packet (the connection's OPTNEG for a session's first message) to
 *	the final end-of-message reply. With -S, every message slower than
 *	SLOW_MS is named on stderr.
 * OUTPUT
 *	One line of key=value pairs on stdout: conns, msgs (measured),
 *	total (all completed, for CPU per message), secs, rate (msgs/s),
 *	p50_ms, p99_ms, max_ms, verdict_errors, io_errors, replies_per_msg
 *	(reply packets read per message: the round trips the milter asked
 *	for), proto and actions (the SMFIP_ and SMFIF_ masks the milter
 *	negotiated). The first errors are described on stderr (all of them
 *	with -v).
 * DIAGNOSTICS
 *	Exit status 0 when every verdict was right, 1 when some were wrong
 *	or connections failed, 2 on a usage or setup error.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mf_corpus.h"
#include "mf_session.h"
#include "mf_wire.h"

#define ML_MAX_CONNS 1024
#define ML_ERRORS_SHOWN 10

struct ml_opts {
	struct mf_addr addr;
	const char *socket_spec;
	const char *manifest;
	const char *authserv_id;
	unsigned conns;
	double duration_s, warmup_s;
	unsigned long count; /* 0: run for duration_s */
	unsigned per_conn;
	double slow_ms; /* report messages slower than this (0: none) */
	int verbose;
};

struct ml_worker {
	pthread_t tid;
	unsigned id;
	uint32_t *lat_us; /* latencies of measured messages */
	size_t nlat, caplat;
	unsigned long total;
	unsigned long verdict_errors, io_errors;
	unsigned long replies; /* reply packets read, all sessions */
};

static struct ml_opts opts;
static struct mf_corpus corpus;
static double t_start, t_warm, t_end;
static atomic_ulong next_msg;
static atomic_uint next_client;
static atomic_int stop_all;
static atomic_uint errors_shown;
static atomic_ulong all_errors, all_done;
static atomic_int proto_seen;
static uint32_t proto_flags, proto_actions; /* first session's OPTNEG */

/* ml_now - monotonic seconds */
static double
ml_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * ml_report_error - describe one of the first errors on stderr: a
 * message's wrong verdict (with its AR value), or, without a message, a
 * session that could not start (with the errno text).
 */
static void
ml_report_error(const struct mf_msg *m, const char *why, const char *ar)
{
	char line[MF_AR_MAX], *p;

	if (!opts.verbose &&
	    atomic_fetch_add(&errors_shown, 1) >= ML_ERRORS_SHOWN)
		return;
	if (m == NULL) {
		fprintf(stderr, "milter_load: session: %s: %s\n", why, ar);
		return;
	}
	/* one line per error: the AR value unfolded */
	snprintf(line, sizeof(line), "%s", ar ? ar : "");
	for (p = line; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	fprintf(stderr, "milter_load: %s: %s%s%s\n", m->path, why,
	    *line ? ": AR=" : "", line);
}

/* ml_record - keep one measured latency */
static void
ml_record(struct ml_worker *w, double secs)
{
	uint32_t *p;

	if (w->nlat == w->caplat) {
		w->caplat = w->caplat ? w->caplat * 2 : 4096;
		if ((p = realloc(w->lat_us, w->caplat * sizeof(*p))) == NULL) {
			perror("milter_load: realloc");
			exit(2);
		}
		w->lat_us = p;
	}
	w->lat_us[w->nlat++] = (uint32_t)(secs * 1e6);
}

/* ml_take - claim the next message index, or -1 when the run is over */
static long
ml_take(void)
{
	unsigned long i;

	if (atomic_load(&stop_all))
		return -1;
	if (opts.count == 0 && ml_now() >= t_end)
		return -1;
	i = atomic_fetch_add(&next_msg, 1);
	if (opts.count != 0 && i >= opts.count)
		return -1;
	return (long)(i % corpus.nmsg);
}

/* ml_one - one message on an open session; -1 if the session broke */
static int
ml_one(struct ml_worker *w, struct mf_session *s, long idx, double t0)
{
	const struct mf_msg *m = &corpus.msg[idx];
	struct mf_verdict v;
	const char *why;
	char qid[32];
	double t1;

	snprintf(qid, sizeof(qid), "%X%06lX", w->id + 1,
	    (unsigned long)w->total & 0xffffff);
	if (mf_session_message(s, m, qid, opts.authserv_id, &v) < 0) {
		w->io_errors++;
		atomic_fetch_add(&all_errors, 1);
		ml_report_error(m, "I/O or protocol error in the transaction",
		    NULL);
		return -1;
	}
	t1 = ml_now();
	w->total++;
	atomic_fetch_add(&all_done, 1);
	if (mf_verdict_check(&v, m, &why) < 0) {
		w->verdict_errors++;
		ml_report_error(m, why, v.ar);
	}
	if (t1 >= t_warm)
		ml_record(w, t1 - t0);
	if (opts.slow_ms > 0 && (t1 - t0) * 1e3 > opts.slow_ms)
		fprintf(stderr, "milter_load: %s: slow: %.1f ms (%zu bytes)\n",
		    m->path, (t1 - t0) * 1e3, m->size);
	return 0;
}

/* ml_worker_main - sessions of per_conn messages until the run ends */
static void *
ml_worker_main(void *arg)
{
	struct ml_worker *w = arg;
	struct mf_session s;
	const char *why;
	unsigned k;
	long idx;
	double t0;

	while ((idx = ml_take()) >= 0) {
		t0 = ml_now();
		if (mf_session_open(&s, &opts.addr,
			atomic_fetch_add(&next_client, 1), &why) < 0) {
			w->io_errors++;
			ml_report_error(NULL, why, strerror(errno));
			if (atomic_fetch_add(&all_errors, 1) > 50 &&
			    atomic_load(&all_errors) > atomic_load(&all_done))
				atomic_store(&stop_all, 1);
			usleep(10000);
			continue;
		}
		for (k = 0; idx >= 0; k++) {
			if (ml_one(w, &s, idx, t0) < 0)
				break;
			if (k + 1 >= opts.per_conn)
				break;
			idx = ml_take();
			t0 = ml_now();
		}
		w->replies += s.conn.nreplies;
		if (atomic_exchange(&proto_seen, 1) == 0) {
			proto_flags = s.pflags;
			proto_actions = s.actions;
		}
		mf_session_close(&s);
	}
	return NULL;
}

/* ml_cmp - qsort order for latencies */
static int
ml_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* ml_pct - a percentile of sorted latencies, in ms */
static double
ml_pct(const uint32_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i] / 1000.0;
}

/* ml_summary - merge the workers' numbers and print the result line */
static int
ml_summary(struct ml_worker *w, double t_last)
{
	unsigned long total = 0, verr = 0, ioerr = 0, replies = 0;
	uint32_t *all;
	size_t n = 0, i;
	double secs = t_last - t_warm;

	for (i = 0; i < opts.conns; i++)
		n += w[i].nlat;
	if ((all = malloc((n ? n : 1) * sizeof(*all))) == NULL)
		exit(2);
	for (n = 0, i = 0; i < opts.conns; i++) {
		memcpy(all + n, w[i].lat_us, w[i].nlat * sizeof(*all));
		n += w[i].nlat;
		total += w[i].total;
		verr += w[i].verdict_errors;
		ioerr += w[i].io_errors;
		replies += w[i].replies;
	}
	qsort(all, n, sizeof(*all), ml_cmp);
	printf("target=%s conns=%u per_conn=%u msgs=%zu total=%lu secs=%.2f "
	       "rate=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f "
	       "verdict_errors=%lu io_errors=%lu replies_per_msg=%.1f "
	       "proto=%#x actions=%#x\n",
	    opts.socket_spec, opts.conns, opts.per_conn, n, total,
	    secs > 0 ? secs : 0, secs > 0 ? (double)n / secs : 0,
	    ml_pct(all, n, 0.50), ml_pct(all, n, 0.99),
	    n ? all[n - 1] / 1000.0 : 0, verr, ioerr,
	    total ? (double)replies / (double)total : 0, proto_flags,
	    proto_actions);
	free(all);
	return verr == 0 && ioerr == 0 && n > 0 ? 0 : 1;
}

/* ml_usage - explain the options and exit */
static void
ml_usage(void)
{
	fprintf(stderr,
	    "usage: milter_load -s unix:/path|inet:host:port -m MANIFEST\n"
	    "    [-n conns] [-d seconds | -c count] [-w warmup_s]\n"
	    "    [-k msgs_per_conn] [-a authserv_id] [-S slow_ms] [-v]\n");
	exit(2);
}

/* ml_getopts - parse the command line into opts */
static void
ml_getopts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "authserv-id", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "messages-per-conn", required_argument, NULL, 'k' },
		{ "manifest", required_argument, NULL, 'm' },
		{ "conns", required_argument, NULL, 'n' },
		{ "slow", required_argument, NULL, 'S' },
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "warmup", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	int ch;

	opts.conns = 1;
	opts.duration_s = 10;
	opts.warmup_s = 1;
	opts.per_conn = 1;
	while ((ch = getopt_long(argc, argv, "a:c:d:k:m:n:S:s:vw:", longopts,
		    NULL)) != -1) {
		switch (ch) {
		case 'a':
			opts.authserv_id = optarg;
			break;
		case 'c':
			opts.count = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			opts.duration_s = strtod(optarg, NULL);
			break;
		case 'k':
			opts.per_conn = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			opts.manifest = optarg;
			break;
		case 'n':
			opts.conns = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			opts.slow_ms = strtod(optarg, NULL);
			break;
		case 's':
			opts.socket_spec = optarg;
			break;
		case 'v':
			opts.verbose = 1;
			break;
		case 'w':
			opts.warmup_s = strtod(optarg, NULL);
			break;
		default:
			ml_usage();
		}
	}
	if (optind != argc || opts.socket_spec == NULL ||
	    opts.manifest == NULL || opts.conns < 1 ||
	    opts.conns > ML_MAX_CONNS || opts.per_conn < 1 ||
	    (opts.count == 0 && opts.duration_s <= 0) || opts.warmup_s < 0)
		ml_usage();
	if (mf_addr_parse(&opts.addr, opts.socket_spec, &why) < 0) {
		fprintf(stderr, "milter_load: %s: %s\n", opts.socket_spec, why);
		exit(2);
	}
}

int
main(int argc, char **argv)
{
	struct ml_worker *w;
	const char *why;
	unsigned i;
	int err;

	ml_getopts(argc, argv);
	if (mf_corpus_load(&corpus, opts.manifest, &why) < 0) {
		fprintf(stderr, "milter_load: %s: %s\n", opts.manifest, why);
		return 2;
	}
	if ((w = calloc(opts.conns, sizeof(*w))) == NULL)
		return 2;
	t_start = ml_now();
	t_warm = t_start + (opts.count ? 0 : opts.warmup_s);
	t_end = t_warm + opts.duration_s;
	for (i = 0; i < opts.conns; i++) {
		w[i].id = i;
		if ((err = pthread_create(&w[i].tid, NULL, ml_worker_main,
			 &w[i])) != 0) {
			fprintf(stderr, "milter_load: pthread_create: %s\n",
			    strerror(err));
			return 2;
		}
	}
	for (i = 0; i < opts.conns; i++)
		pthread_join(w[i].tid, NULL);
	err = ml_summary(w, ml_now());
	for (i = 0; i < opts.conns; i++)
		free(w[i].lat_us);
	free(w);
	mf_corpus_free(&corpus);
	return err;
}
