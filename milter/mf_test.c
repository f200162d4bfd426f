/*
 * NAME
 *	mf_test 3 - offline verification of one message (--test)
 * SYNOPSIS
 *	#include "mf_test.h"
 *
 *	int	mf_test_run(const struct mf_env *env, const char *path,
 *		    const char *client_ip, const char *helo,
 *		    const char *mail_from);
 *	int	mf_test_message(struct mf_conn *conn, const char *msg,
 *		    size_t len, const char *client_ip, const char *helo,
 *		    const char *mail_from, struct cm_buf *out);
 *	char	*mf_test_read(const char *path, size_t *len);
 *	int	mf_test_parse(const char *msg, size_t len,
 *		    mf_test_header_fn fn, void *arg, size_t *body_off);
 * DESCRIPTION
 *	Like "opendkim -t": the message goes through mf_stage_connect() ...
 *	mf_stage_eom() with the same contexts as in the daemon, so what is
 *	printed is what the milter would do. Header fields are handed over
 *	as Postfix hands them with SMFIP_HDR_LEADSPC: the value keeps its
 *	leading white space, folded lines are joined with "\n" (CR
 *	dropped). The body goes to DKIM with CRLF line ends, whether the
 *	file has CRLF or LF.
 *
 *	Output: "Authentication-Results:" and the value, folded as it would
 *	be inserted; "Received-SPF:" when add_received_spf; a line
 *	"X-Mailtally-Delete: Authentication-Results N" per forged header;
 *	then the log line, in log_format.
 *
 *	A header section line without a colon ends the headers (the MTA
 *	would treat it as body, too).
 * SECURITY
 *	The file is untrusted: parsed with a pointer and a length, bounded
 *	by MF_TEST_FILE_MAX; NUL bytes end a field value as they would in
 *	libmilter.
 * DIAGNOSTICS
 *	See mf_test.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cm_buf.h"
#include "cm_log.h"
#include "cm_util.h"
#include "mf_stage.h"
#include "mf_test.h"

static struct cm_buf test_log;
static int test_format;

/* test_hook - render log lines into test_log, to print after the header */
static void
test_hook(struct cm_event *ev)
{
	struct cm_buf line;

	cm_buf_init(&line, CM_LOG_LINE_MAX);
	if (cm_event_render(ev, test_format, cm_wall_ms(), &line) == 0)
		cm_buf_printf(&test_log, "%s\n", cm_buf_str(&line));
	cm_buf_release(&line);
	cm_event_free(ev);
}

/* line_end - end of the line at p (after its LF), and its content length */
static const char *
line_end(const char *p, const char *end, size_t *n)
{
	const char *lf;

	if ((lf = memchr(p, '\n', (size_t)(end - p))) == NULL)
		lf = end;
	*n = (size_t)(lf - p);
	if (*n > 0 && p[*n - 1] == '\r')
		(*n)--;
	return lf < end ? lf + 1 : end;
}

/* mf_test_parse - split header fields and body */
int
mf_test_parse(const char *msg, size_t len, mf_test_header_fn fn, void *arg,
    size_t *body_off)
{
	const char *p = msg, *end = msg + len, *next, *colon;
	struct cm_buf name, value;
	size_t n;
	int rc = 0;

	cm_buf_init(&name, 1024);
	cm_buf_init(&value, (size_t)1024 * 1024);
	while (p < end && rc == 0) {
		next = line_end(p, end, &n);
		if (n == 0) { /* end of headers */
			p = next;
			break;
		}
		if ((colon = memchr(p, ':', n)) == NULL || colon == p ||
		    *p == ' ' || *p == '\t')
			break; /* not a field: body */
		cm_buf_reset(&name);
		cm_buf_reset(&value);
		cm_buf_append(&name, p, (size_t)(colon - p));
		while (name.len > 0 &&
		    (name.data[name.len - 1] == ' ' ||
			name.data[name.len - 1] == '\t'))
			name.data[--name.len] = '\0';
		cm_buf_append(&value, colon + 1, n - (size_t)(colon + 1 - p));
		for (p = next; p < end && (*p == ' ' || *p == '\t'); p = next) {
			next = line_end(p, end, &n);
			cm_buf_putc(&value, '\n');
			cm_buf_append(&value, p, n);
		}
		rc = fn(arg, cm_buf_str(&name), cm_buf_str(&value));
	}
	*body_off = (size_t)(p - msg);
	cm_buf_release(&name);
	cm_buf_release(&value);
	return rc;
}

/* feed_header - one field to the stage function */
static int
feed_header(void *arg, const char *name, const char *value)
{
	return mf_stage_header(arg, name, value) == MF_V_CONTINUE ? 0 : -1;
}

/* feed_body - the body with CRLF line ends, in chunks, until skipped */
static void
feed_body(struct mf_conn *conn, const char *p, size_t len)
{
	struct cm_buf chunk;
	size_t i;
	int v = MF_V_CONTINUE;

	cm_buf_init(&chunk, 0);
	for (i = 0; i < len && v != MF_V_SKIP; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			cm_buf_putc(&chunk, '\r');
		cm_buf_putc(&chunk, p[i]);
		if (chunk.len >= 65536) {
			v = mf_stage_body(conn,
			    (const unsigned char *)chunk.data, chunk.len);
			cm_buf_reset(&chunk);
		}
	}
	if (chunk.len > 0 && v != MF_V_SKIP)
		mf_stage_body(conn, (const unsigned char *)chunk.data,
		    chunk.len);
	cm_buf_release(&chunk);
}

/* mf_test_read - the whole file, bounded by MF_TEST_FILE_MAX */
char *
mf_test_read(const char *path, size_t *len)
{
	FILE *fp;
	char *buf;
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if ((buf = malloc(MF_TEST_FILE_MAX + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	n = fread(buf, 1, MF_TEST_FILE_MAX, fp);
	if (ferror(fp)) {
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* put_edits - what the milter would do to the header, as text */
static void
put_edits(struct cm_buf *out, const struct mf_edits *e, int v,
    const struct mf_reply *r)
{
	size_t i;

	for (i = e->ndel; i > 0; i--)
		cm_buf_printf(out,
		    "X-Mailtally-Delete: Authentication-Results %zu\n",
		    e->del[i - 1]);
	if (v == MF_V_REJECT || v == MF_V_TEMPFAIL) {
		cm_buf_printf(out, "X-Mailtally-Reply: %s %s %s\n", r->rcode,
		    r->xcode, r->text);
		return;
	}
	if (e->received_spf.len > 0)
		cm_buf_printf(out, "Received-SPF:%s\n", e->received_spf.data);
	if (e->ar.len > 0)
		cm_buf_printf(out, "Authentication-Results:%s\n", e->ar.data);
}

/* mf_test_message - the stages, in the daemon's order, edits into out */
int
mf_test_message(struct mf_conn *conn, const char *msg, size_t len,
    const char *ip, const char *helo, const char *from, struct cm_buf *out)
{
	struct mf_macros m = { "TEST", NULL, NULL, NULL, NULL };
	struct mf_edits e;
	struct mf_reply r;
	size_t body;
	int v;

	memset(&r, 0, sizeof(r));
	conn->leadspc = 1;
	mf_stage_connect(conn, ip != NULL ? "unknown" : "localhost",
	    ip != NULL ? ip : "");
	if (helo != NULL)
		mf_stage_helo(conn, helo);
	v = mf_stage_envfrom(conn, from != NULL ? from : "", &m, &r);
	if (v == MF_V_REJECT || v == MF_V_TEMPFAIL) {
		cm_buf_printf(out, "X-Mailtally-Reply: %s %s %s\n", r.rcode,
		    r.xcode, r.text);
		mf_stage_close(conn);
		return 0;
	}
	mf_stage_data(conn, "TEST");
	if (mf_test_parse(msg, len, feed_header, conn, &body) < 0) {
		mf_stage_close(conn);
		return -1;
	}
	mf_stage_eoh(conn);
	feed_body(conn, msg + body, len - body);
	v = mf_stage_eom(conn, "TEST", &e, &r);
	put_edits(out, &e, v, &r);
	mf_edits_release(&e);
	mf_stage_close(conn);
	return out->overflow ? -1 : 0;
}

/* mf_test_run - verify one file and print the result */
int
mf_test_run(const struct mf_env *env, const char *path, const char *ip,
    const char *helo, const char *from)
{
	struct mf_conn *conn;
	struct cm_buf out;
	char *msg;
	size_t len;
	int rc;

	if ((msg = mf_test_read(path, &len)) == NULL) {
		fprintf(stderr, "mailtally-milter: %s: cannot read\n", path);
		return EX_NOINPUT;
	}
	if ((conn = mf_conn_new(env)) == NULL) {
		free(msg);
		return EX_SOFTWARE;
	}
	test_format = env->conf->log.format;
	cm_buf_init(&test_log, 0);
	cm_buf_init(&out, 0);
	mf_authlog_hook = test_hook;
	rc = mf_test_message(conn, msg, len, ip, helo, from, &out);
	mf_conn_free(conn);
	fputs(cm_buf_str(&out), stdout);
	fputs(cm_buf_str(&test_log), stdout);
	cm_buf_release(&out);
	cm_buf_release(&test_log);
	mf_authlog_hook = NULL;
	free(msg);
	return rc < 0 ? EX_SOFTWARE : 0;
}
