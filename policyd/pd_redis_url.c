/*
 * NAME
 *	pd_redis_url 3 - Redis store settings: URL and password file
 * SYNOPSIS
 *	#include "pd_store.h"
 *
 *	int	pd_redis_url_parse(const char *url, struct pd_redis_url *u,
 *		    const char **why);
 *	int	pd_redis_read_password(const char *file, char *buf,
 *		    size_t len, const char **why);
 * DESCRIPTION
 *	pd_redis_url_parse() reads redis://HOST[:PORT][/DB] (port 6379 and
 *	database 0 by default; HOST a name or an IPv4 address) and
 *	redis+unix:///PATH[?db=N] (PATH absolute). Used by the store, the
 *	configuration checks and mailtally-ctl.
 *
 *	pd_redis_read_password() reads the first line of a file, without
 *	its line end.
 * DIAGNOSTICS
 *	Both return 0, or -1 with *why (a static string that never holds
 *	the password).
 * SEE ALSO
 *	pd_store_redis(3), mailtally-policyd.conf(5)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "pd_store.h"

/* parse_int - digits only, in [min, max] */
static int
parse_int(const char *p, size_t len, long min, long max, int *out)
{
	long v = 0;
	size_t i;

	if (len == 0 || len > 6)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	if (v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* url_unix - redis+unix:///PATH[?db=N] */
static int
url_unix(const char *s, struct pd_redis_url *u)
{
	const char *q = strchr(s, '?');
	size_t plen = q ? (size_t)(q - s) : strlen(s);

	if (plen == 0 || s[0] != '/' || plen >= sizeof u->path)
		return -1;
	memcpy(u->path, s, plen);
	u->path[plen] = 0;
	if (q == NULL)
		return 0;
	if (strncmp(q, "?db=", 4) != 0)
		return -1;
	return parse_int(q + 4, strlen(q + 4), 0, 9999, &u->db);
}

/* url_tcp - redis://HOST[:PORT][/DB] */
static int
url_tcp(const char *s, struct pd_redis_url *u)
{
	const char *slash = strchr(s, '/'), *colon;
	size_t hlen;

	if (slash != NULL &&
	    parse_int(slash + 1, strlen(slash + 1), 0, 9999, &u->db) == -1)
		return -1;
	if (slash == NULL)
		slash = s + strlen(s);
	colon = memchr(s, ':', (size_t)(slash - s));
	hlen = (size_t)((colon ? colon : slash) - s);
	if (hlen == 0 || hlen >= sizeof u->host ||
	    strspn(s,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"0123456789.-_") < hlen)
		return -1;
	memcpy(u->host, s, hlen);
	u->host[hlen] = 0;
	u->port = 6379;
	if (colon != NULL &&
	    parse_int(colon + 1, (size_t)(slash - colon - 1), 1, 65535,
		&u->port) == -1)
		return -1;
	return 0;
}

/* pd_redis_url_parse - the store URL (see above) */
int
pd_redis_url_parse(const char *url, struct pd_redis_url *u, const char **why)
{
	int r = -1;

	memset(u, 0, sizeof *u);
	if (strncmp(url, "redis+unix://", 13) == 0)
		r = url_unix(url + 13, u);
	else if (strncmp(url, "redis://", 8) == 0)
		r = url_tcp(url + 8, u);
	if (r == -1)
		*why = "want redis://HOST[:PORT][/DB], "
		       "redis+unix:///PATH[?db=N] or memory";
	return r;
}

/* pd_redis_read_password - the first line of a file, without its EOL */
int
pd_redis_read_password(const char *file, char *buf, size_t len,
    const char **why)
{
	FILE *fp;
	size_t n;

	if ((fp = fopen(file, "r")) == NULL) {
		*why = "cannot open store_password_file";
		return -1;
	}
	if (fgets(buf, (int)len, fp) == NULL) {
		fclose(fp);
		*why = "store_password_file is empty";
		return -1;
	}
	fclose(fp);
	n = strcspn(buf, "\r\n");
	if (n == len - 1) {
		memset(buf, 0, len);
		*why = "password too long";
		return -1;
	}
	buf[n] = 0;
	if (n == 0) {
		*why = "store_password_file is empty";
		return -1;
	}
	return 0;
}
