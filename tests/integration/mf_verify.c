/*
 * NAME
 *	mf_verify 1 - the milter's --test run from many threads at once
 * SYNOPSIS
 *	mf_verify -c CONF [--client-ip IP] [--helo NAME] [--mail-from ADDR]
 *	    [--threads N --repeat M] MESSAGE
 * DESCRIPTION
 *	A test driver for what "mailtally-milter --test" cannot show: the
 *	shared resolver, SPF server and DKIM library under concurrency, as
 *	in the daemon (one libmilter thread per connection). It sets up the
 *	milter's environment from CONF (mf_env_open) and verifies MESSAGE
 *	with mf_test_message(), the code path of --test and of the daemon's
 *	stage functions, printing the header edits once. With --threads,
 *	N threads, each on its own connection, then verify it M times each
 *	and every answer must equal the first; the last line is
 *	"threads: N x M, mismatches: K". Log lines are discarded.
 * DIAGNOSTICS
 *	Exit 0 when every run verified and matched, 1 otherwise, 2 on usage,
 *	78 (EX_CONFIG) on a configuration error.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cm_buf.h"
#include "cm_log.h"
#include "mf_conf.h"
#include "mf_ctx.h"
#include "mf_stage.h"
#include "mf_test.h"

#define MV_THREADS_MAX 64

struct mv_opts {
	const char *conf, *ip, *helo, *from, *file;
	int threads, repeat;
};

/* What every verification shares. */
struct mv_run {
	const struct mv_opts *o;
	const struct mf_env *env;
	const char *msg;
	size_t len;
	struct cm_buf first; /* the first answer; the others must match */
	pthread_mutex_t lock;
	int mismatches;
};

/* mv_discard - the log lines are not what is compared */
static void
mv_discard(struct cm_event *ev)
{
	cm_event_free(ev);
}

/* mv_once - one verification on conn; its edits into out; 0 or -1 */
static int
mv_once(struct mv_run *run, struct mf_conn *conn, struct cm_buf *out)
{
	const struct mv_opts *o = run->o;

	cm_buf_reset(out);
	return mf_test_message(conn, run->msg, run->len, o->ip, o->helo,
	    o->from, out);
}

/* mv_thread - --threads: repeat and compare with the first answer */
static void *
mv_thread(void *arg)
{
	struct mv_run *run = arg;
	struct mf_conn *conn;
	struct cm_buf out;
	int i, bad = 0;

	cm_buf_init(&out, 0);
	if ((conn = mf_conn_new(run->env)) == NULL)
		bad = run->o->repeat;
	for (i = 0; conn != NULL && i < run->o->repeat; i++)
		if (mv_once(run, conn, &out) < 0 ||
		    strcmp(cm_buf_str(&out), cm_buf_str(&run->first)) != 0)
			bad++;
	mf_conn_free(conn);
	cm_buf_release(&out);
	pthread_mutex_lock(&run->lock);
	run->mismatches += bad;
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

/* mv_threads - N threads sharing the environment */
static int
mv_threads(struct mv_run *run)
{
	pthread_t tid[MV_THREADS_MAX];
	int i, n = run->o->threads;

	for (i = 0; i < n; i++)
		if (pthread_create(&tid[i], NULL, mv_thread, run) != 0)
			break;
	n = i;
	for (i = 0; i < n; i++)
		pthread_join(tid[i], NULL);
	printf("threads: %d x %d, mismatches: %d\n", n, run->o->repeat,
	    run->mismatches);
	return run->mismatches == 0 && n == run->o->threads ? 0 : 1;
}

/* mv_args - parse the command line; -1 on usage error */
static int
mv_args(int argc, char **argv, struct mv_opts *o)
{
	const char *a, *v;
	int i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (a[0] != '-' && o->file == NULL) {
			o->file = a;
			continue;
		}
		if ((v = i + 1 < argc ? argv[++i] : NULL) == NULL)
			return -1;
		if (strcmp(a, "-c") == 0)
			o->conf = v;
		else if (strcmp(a, "--client-ip") == 0)
			o->ip = v;
		else if (strcmp(a, "--helo") == 0)
			o->helo = v;
		else if (strcmp(a, "--mail-from") == 0)
			o->from = v;
		else if (strcmp(a, "--threads") == 0)
			o->threads = atoi(v);
		else if (strcmp(a, "--repeat") == 0)
			o->repeat = atoi(v);
		else
			return -1;
	}
	if (o->threads < 0 || o->threads > MV_THREADS_MAX || o->repeat < 1)
		return -1;
	return o->file != NULL && o->conf != NULL ? 0 : -1;
}

/* mv_first - the single-threaded answer, printed; then the threads */
static int
mv_first(struct mv_run *run)
{
	struct mf_conn *conn;
	int r;

	if ((conn = mf_conn_new(run->env)) == NULL)
		return 1;
	r = mv_once(run, conn, &run->first) < 0;
	mf_conn_free(conn);
	fputs(cm_buf_str(&run->first), stdout);
	if (run->o->threads > 0)
		r |= mv_threads(run);
	return r;
}

int
main(int argc, char **argv)
{
	struct mv_opts o = { .repeat = 1 };
	struct mv_run run = { .o = &o };
	struct mf_conf conf;
	struct mf_env env;
	char err[512], *msg;
	int r;

	cm_log_init("mf_verify");
	if (mv_args(argc, argv, &o) != 0) {
		fprintf(stderr,
		    "usage: mf_verify -c CONF [--client-ip IP] [--helo H] "
		    "[--mail-from A] [--threads N --repeat M] MESSAGE\n");
		return 2;
	}
	if (mf_conf_load(&conf, o.conf, err, sizeof(err)) < 0 ||
	    mf_env_open(&conf, &env, err, sizeof(err)) < 0) {
		fprintf(stderr, "mf_verify: %s\n", err);
		mf_conf_free(&conf);
		return EX_CONFIG;
	}
	if ((msg = mf_test_read(o.file, &run.len)) == NULL) {
		perror(o.file);
		r = 1;
		goto out;
	}
	run.msg = msg;
	run.env = &env;
	mf_authlog_hook = mv_discard;
	cm_buf_init(&run.first, 0);
	pthread_mutex_init(&run.lock, NULL);
	r = mv_first(&run);
	pthread_mutex_destroy(&run.lock);
	cm_buf_release(&run.first);
	free(msg);
out:
	mf_env_close(&env);
	mf_conf_free(&conf);
	return r;
}
