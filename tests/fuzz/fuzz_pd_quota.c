/*
 * FUZZ-SOURCES: policyd/pd_config.c policyd/pd_engine.c policyd/pd_limits.c policyd/pd_quota.c policyd/pd_quotalog.c policyd/pd_redis_cmd.c policyd/pd_redis_script.c policyd/pd_redis_url.c policyd/pd_store_mem.c policyd/pd_store_radmin.c policyd/pd_store_redis.c policyd/pd_window.c policyd/pd_proto.c
 * FUZZ-LIBS: -lhiredis -levent -lcrypto
 * NAME
 *	fuzz_pd_quota - libFuzzer target of the quota decisions
 * SYNOPSIS
 *	tests/fuzz/fuzz_pd_quota [FILE|DIR ...]
 * DESCRIPTION
 *	Input: "name=value" lines, as the transport's parser hands them over
 *	(any bytes but NUL and newline in names and values). Each input is
 *	one request to pd_engine on the memory store, with limits of every
 *	kind, exemptions and a reply template that expands the identity.
 *	The reply must be one line of printable ASCII starting "action=".
 *	The engine is rebuilt every 4096 inputs so the store stays small.
 * DIAGNOSTICS
 *	A broken invariant aborts: the crash is the failure that libFuzzer
 *	and the replay driver (replay.c, TAP) report; exit status 0 otherwise.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_log.h"
#include "pd_config.h"
#include "pd_engine.h"
#include "pd_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char conf[] =
    "store = memory\n"
    "log_target = stderr\n"
    "identity = sasl_username, sender, client_address\n"
    "exempt_clients = 192.0.2.0/24, 2001:db8::/32\n"
    "exempt_identities = boss@example.org, @trusted.example\n"
    "limit burst = 1m 3 messages\n"
    "limit hourly = 1h 10 recipients reply=\"4.7.1 %{identity} "
    "%{used}/%{max} %{window} %{limit} %{x}\"\n"
    "limit daily = day 100k bytes reject\n"
    "limit dom = week 5 messages key=sender_domain\n"
    "limit ip = month 7 recipients key=client_address\n"
    "override alice@example.org daily = 1\n";

static struct pd_config cfg;
static struct pd_engine *eng;
static unsigned long ninputs;
static int nreplies;

/* on_reply - check the reply line */
static void
on_reply(void *arg, const char *reply)
{
	const char *p;

	nreplies++;
	if (strncmp(reply, "action=", 7) != 0)
		abort();
	for (p = reply; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			abort();
}

/* setup - the config once, the engine every 4096 inputs */
static void
setup(void)
{
	char err[512];
	const char *why;
	FILE *null;

	if (eng == NULL && ninputs == 0) {
		cm_log_init("fuzz_pd_quota");
		if ((null = fopen("/dev/null", "w")) != NULL)
			cm_log_set_stream(null);
		if (pd_config_load_buf(&cfg, "fuzz.conf", conf, strlen(conf),
			err, sizeof err) == -1) {
			fprintf(stderr, "fuzz_pd_quota: %s\n", err);
			abort();
		}
	}
	if (eng != NULL && ninputs % 4096 == 0) {
		pd_engine_free(eng);
		eng = NULL;
	}
	if (eng == NULL && (eng = pd_engine_new(&cfg, NULL, &why)) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pd_request req;
	char *p, *end, *nl, *eq;

	setup();
	ninputs++;
	if (size >= sizeof req.buf || memchr(data, 0, size) != NULL)
		return 0;
	memset(&req, 0, sizeof req);
	memcpy(req.buf, data, size);
	req.used = size;
	for (p = req.buf, end = req.buf + size; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		*nl = 0;
		if ((eq = strchr(p, '=')) == NULL || req.nattr == PD_ATTRS_MAX)
			continue;
		*eq = 0;
		req.attr[req.nattr].name = p;
		req.attr[req.nattr++].value = eq + 1;
	}
	nreplies = 0;
	pd_engine_decide(eng, &req, on_reply, NULL);
	if (nreplies != 1) /* the memory store answers at once, once */
		abort();
	return 0;
}
