/*
 * FUZZ-SOURCES: milter/mf_dns.c milter/mf_spf.c milter/mf_spfdns.c milter/mf_spflint.c milter/mf_dkim.c milter/mf_dkimsig.c milter/mf_dkimdns.c milter/mf_results.c
 * FUZZ-LIBS: -lopendkim -lspf2 -lunbound -lpthread
 *
 * NAME
 *	fuzz_mf_dkim - libFuzzer target: a whole message into mf_dkim
 * SYNOPSIS
 *	tests/fuzz/fuzz_mf_dkim [FILE|DIR ...]
 * DESCRIPTION
 *	The input is an RFC 5322 message (LF or CRLF): header fields are
 *	cut and unfolded the way the milter receives them, then the body
 *	follows in two chunks. Keys come from a key file (DKIM_QUERY_FILE)
 *	written at the first call with the RFC 8463 A.2 keys, so signatures
 *	of football.example.com really get verified and nothing touches the
 *	network. Every 16th input also goes through the SPF record checks.
 * DIAGNOSTICS
 *	A crash or a sanitizer report is the finding.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mf_checks.h"
#include "mf_spf_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct mf_dkim_lib *lib;

static const char keys[] =
    "brisbane._domainkey.football.example.com v=DKIM1; k=ed25519; "
    "p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
    "test._domainkey.football.example.com v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08"
    "a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+"
    "yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K"
    "4w3QIDAQAB\n";

/* fz_init - the library and its key file, once */
static int
fz_init(void)
{
	char path[] = "/tmp/fuzz_mf_dkim.XXXXXX";
	const char *why;
	int fd;

	if (lib != NULL)
		return 0;
	if ((fd = mkstemp(path)) < 0)
		return -1;
	if (write(fd, keys, sizeof keys - 1) != (ssize_t)(sizeof keys - 1)) {
		close(fd);
		return -1;
	}
	close(fd);
	if ((lib = mf_dkim_lib_new(NULL, 1024, 5, &why)) == NULL)
		return -1;
	return mf_dkim_lib_set_keyfile(lib, path);
}

/* fz_field - one unfolded field [p, q) as name and value */
static void
fz_field(struct mf_dkim_msg *m, const char *p, const char *q)
{
	const char *colon = memchr(p, ':', (size_t)(q - p));
	char *name, *value;

	if (colon == NULL)
		return;
	name = strndup(p, (size_t)(colon - p));
	value = strndup(colon + 1, (size_t)(q - colon - 1));
	if (name && value)
		(void)mf_dkim_header(m, name, value);
	free(name);
	free(value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *start, *e;
	struct mf_dkim_msg *m;
	struct mf_dkim_verdict v;
	const char *why;
	char out[512];
	size_t half;

	if (fz_init() != 0)
		return 0;
	if ((m = mf_dkim_msg_new(lib, &why)) == NULL)
		return 0;
	while (p < end && *p != '\n' && *p != '\r') {
		start = p;
		e = memchr(p, '\n', (size_t)(end - p));
		e = e ? e : end;
		while (e + 1 < end && (e[1] == ' ' || e[1] == '\t')) {
			const char *n = memchr(e + 1, '\n',
			    (size_t)(end - e - 1));
			e = n ? n : end;
		}
		p = e < end ? e + 1 : end;
		fz_field(m, start, e > start && e[-1] == '\r' ? e - 1 : e);
	}
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	(void)mf_dkim_eoh(m);
	half = (size_t)(end - p) / 2;
	(void)mf_dkim_body(m, (const unsigned char *)p, half);
	(void)mf_dkim_body(m, (const unsigned char *)p + half,
	    (size_t)(end - p) - half);
	(void)mf_dkim_eom(m, &v);
	mf_dkim_msg_free(m);
	if (size > 6 && size < 2048 && (data[0] & 15) == 0)
		(void)mf_spflint_record((const char *)data, size, data[1] & 1,
		    out, sizeof out);
	return 0;
}
