/*
 * NAME
 *	pd_engine_drive - drive pd_engine against a real store, for tests
 * SYNOPSIS
 *	pd_engine_drive -c FILE [-t EPOCH] < COMMANDS
 * DESCRIPTION
 *	Links the policy library and runs pd_engine with a libevent loop,
 *	as the daemon does, without the transport. Reads one command per
 *	line from stdin and prints one result line per command:
 *
 *	eom ID COUNT CONC	COUNT END-OF-MESSAGE requests of sender ID,
 *				each with a new instance, CONC in flight;
 *				prints "dunno=N defer=N reject=N storeerr=N"
 *	eomi ID INSTANCE	one END-OF-MESSAGE request with that
 *				instance; prints the reply
 *	rcpt ID			one RCPT request; prints the reply
 *	until_ok ID		END-OF-MESSAGE requests 50 ms apart until
 *				one is counted (at most 200); prints
 *				"ok after N" or "gave up"
 *	clock SECONDS		move the injected clock (-t) forward
 *	quit
 *
 *	A store error is told apart from a quota deferral by its status
 *	code 4.3.0 (configure on_store_error = defer).
 * DIAGNOSTICS
 *	Exit 0 after quit or end of input; 2 on a bad config or command.
 *	A request unanswered for 10 s is a failure (exit 3): the engine must
 *	always answer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "cm_log.h"
#include "pd_config.h"
#include "pd_engine.h"
#include "pd_request.h"

#define LINE_MAX_BYTES 1024
#define WATCHDOG_S 10

static struct event_base *base;
static struct pd_engine *eng;
static long long clock_now; /* 0: real time */
static unsigned long instance_seq;

struct batch {
	const char *id;
	long total, sent, answered, conc;
	long dunno, defer, reject, storeerr;
	char last[1024];
};

static void send_one(struct batch *, const char *);

/* drive_clock - the injected clock, or the real one */
static long long
drive_clock(void *arg)
{
	return clock_now ? clock_now : (long long)time(NULL);
}

/* fill - build a request from name=value pairs */
static void
fill(struct pd_request *req, const char *const *kv, size_t n)
{
	size_t i, o = 0, len;

	memset(req, 0, sizeof *req);
	for (i = 0; i + 1 < n; i += 2) {
		req->attr[req->nattr].name = req->buf + o;
		len = strlen(kv[i]) + 1;
		memcpy(req->buf + o, kv[i], len);
		o += len;
		req->attr[req->nattr++].value = req->buf + o;
		len = strlen(kv[i + 1]) + 1;
		memcpy(req->buf + o, kv[i + 1], len);
		o += len;
	}
	req->used = o;
}

/* on_reply - count a reply; send the next request of the batch */
static void
on_reply(void *arg, const char *reply)
{
	struct batch *b = arg;

	b->answered++;
	snprintf(b->last, sizeof b->last, "%s", reply);
	if (strcmp(reply, "action=DUNNO") == 0)
		b->dunno++;
	else if (strstr(reply, " 4.3.0 ") != NULL)
		b->storeerr++;
	else if (strncmp(reply, "action=REJECT", 13) == 0)
		b->reject++;
	else
		b->defer++;
	/* The loop in run_batch sends the next one (no recursion when the
	 * store answers before pd_engine_decide() returns). */
	event_base_loopbreak(base);
}

/* send_one - one END-OF-MESSAGE (or RCPT when inst is "-") request */
static void
send_one(struct batch *b, const char *inst)
{
	static struct pd_request req;
	char ibuf[64];
	const char *kv[] = { "protocol_state", "END-OF-MESSAGE", "sender",
		b->id, "recipient_count", "1", "instance", ibuf, "queue_id",
		"DRIVE" };

	if (inst != NULL && strcmp(inst, "-") == 0)
		kv[1] = "RCPT";
	if (inst != NULL)
		snprintf(ibuf, sizeof ibuf, "%s", inst);
	else
		snprintf(ibuf, sizeof ibuf, "%lx.%lu", (unsigned long)getpid(),
		    ++instance_seq);
	fill(&req, kv, sizeof kv / sizeof kv[0]);
	b->sent++;
	pd_engine_decide(eng, &req, on_reply, b);
}

/* on_watchdog - a request was never answered */
static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	printf("FAIL: no answer within %d s\n", WATCHDOG_S);
	fflush(stdout);
	exit(3);
}

/*
 * run_batch - keep conc requests in flight until every reply is in. The
 * watchdog restarts with every reply: no request may wait WATCHDOG_S.
 */
static void
run_batch(struct batch *b, const char *inst)
{
	struct timeval tv = { WATCHDOG_S, 0 };
	struct event *wd = evtimer_new(base, on_watchdog, NULL);
	long seen = -1;

	while (b->answered < b->total) {
		if (b->answered != seen) {
			seen = b->answered;
			evtimer_add(wd, &tv);
		}
		if (b->sent < b->total && b->sent - b->answered < b->conc)
			send_one(b, inst);
		else
			event_base_loop(base, EVLOOP_ONCE);
	}
	event_free(wd);
}

/* pause_ms - let the loop run (reconnect timers) for a while */
static void
pause_ms(long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* command - run one line; 0, or -1 for a bad command */
static int
command(char *line)
{
	char *w[4] = { 0 }, *save = NULL;
	struct batch b;
	int n = 0;

	for (char *p = strtok_r(line, " \t\n", &save); p && n < 4;
	     p = strtok_r(NULL, " \t\n", &save))
		w[n++] = p;
	if (n == 0)
		return 0;
	memset(&b, 0, sizeof b);
	b.id = w[1];
	if (strcmp(w[0], "eom") == 0 && n == 4) {
		b.total = atol(w[2]);
		b.conc = atol(w[3]);
		run_batch(&b, NULL);
		printf("dunno=%ld defer=%ld reject=%ld storeerr=%ld\n", b.dunno,
		    b.defer, b.reject, b.storeerr);
	} else if ((strcmp(w[0], "eomi") == 0 && n == 3) ||
	    (strcmp(w[0], "rcpt") == 0 && n == 2)) {
		b.total = b.conc = 1;
		run_batch(&b, n == 3 ? w[2] : "-");
		printf("%s\n", b.last);
	} else if (strcmp(w[0], "until_ok") == 0 && n == 2) {
		for (n = 1; n <= 200; n++) {
			b.total++;
			b.conc = 1;
			run_batch(&b, NULL);
			if (b.dunno)
				break;
			pause_ms(50);
		}
		if (b.dunno)
			printf("ok after %d\n", n);
		else
			printf("gave up\n");
	} else if (strcmp(w[0], "clock") == 0 && n == 2) {
		clock_now += atoll(w[1]);
		printf("clock %lld\n", clock_now);
	} else if (strcmp(w[0], "pause") == 0 && n == 2) {
		pause_ms(atol(w[1]));
		printf("paused\n");
	} else
		return -1;
	fflush(stdout);
	return 0;
}

int
main(int argc, char **argv)
{
	struct pd_config cfg;
	char err[512], line[LINE_MAX_BYTES];
	const char *conf = NULL, *why = "";
	int c;

	cm_log_init("pd_engine_drive");
	while ((c = getopt(argc, argv, "c:t:")) != -1) {
		if (c == 'c')
			conf = optarg;
		else if (c == 't')
			clock_now = atoll(optarg);
		else
			return 2;
	}
	if (conf == NULL || pd_config_load(&cfg, conf, err, sizeof err) == -1) {
		fprintf(stderr, "pd_engine_drive: %s\n", conf ? err : "no -c");
		return 2;
	}
	if (cm_log_setup(&cfg.log, &why) == -1) {
		fprintf(stderr, "pd_engine_drive: log: %s\n", why);
		return 2;
	}
	if ((base = event_base_new()) == NULL ||
	    (eng = pd_engine_new(&cfg, base, &why)) == NULL) {
		fprintf(stderr, "pd_engine_drive: %s\n", why);
		return 2;
	}
	pd_engine_set_clock(eng, drive_clock, NULL);
	pause_ms(20); /* let the connection come up */
	while (fgets(line, sizeof line, stdin) != NULL) {
		if (strncmp(line, "quit", 4) == 0)
			break;
		if (command(line) == -1) {
			printf("bad command\n");
			fflush(stdout);
		}
	}
	pd_engine_free(eng);
	event_base_free(base);
	pd_config_free(&cfg);
	return 0;
}
