/*
 * NAME
 *	pd_listen 3 - bind the listening sockets of mailtally-policyd
 * SYNOPSIS
 *	#include "pd_listen.h"
 *
 *	int	pd_listen_check(const struct cm_list *listen, char *err,
 *		    size_t errlen);
 *	int	pd_listen_open(struct pd_listen *socks,
 *		    const struct cm_list *listen, long long socket_mode,
 *		    char *err, size_t errlen);
 *	int	pd_listen_chown(const struct pd_listen *socks, uid_t uid,
 *		    gid_t gid, char *err, size_t errlen);
 *	void	pd_listen_close(struct pd_listen *socks, int unlink_paths);
 * DESCRIPTION
 *	Runs once at start-up, before privileges are dropped, so that a
 *	privileged port or a socket in a root-owned directory works.
 *	Entries are "inet:HOST:PORT" and "unix:/path" as in Postfix's
 *	check_policy_service. The host of an inet entry is split at the
 *	last ':' or taken from brackets ("inet:[::1]:10031"); it is
 *	resolved with getaddrinfo(AI_PASSIVE), so "*" or an empty host
 *	binds every address, and each address found gets its own socket.
 *	An IPv6 socket is IPV6_V6ONLY so that "::" and "0.0.0.0" can both
 *	be listed.
 *
 *	A unix path that already holds a socket is unlinked first (a
 *	stale one from a crash); any other file there is an error. The
 *	mode is applied with chmod(2) after bind(2).
 *
 *	pd_listen_check() checks the syntax only (for -n, and so that a
 *	typo is a configuration error, not a system one).
 * DIAGNOSTICS
 *	0, or -1 with "listen: ENTRY: why" in err. Nothing is logged.
 * SEE ALSO
 *	mailtally-policyd(8)
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_conf.h"
#include "cm_util.h"
#include "pd_listen.h"

#define PD_BACKLOG 1024

/* sock_prepare - non-blocking, close-on-exec */
static int
sock_prepare(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return -1;
	return 0;
}

/* add_sock - remember one bound socket */
static int
add_sock(struct pd_listen *socks, int fd, int family, const char *name,
    const char *path, char *err, size_t errlen)
{
	struct pd_listen_sock *s;

	if (socks->n == PD_LISTEN_MAX) {
		snprintf(err, errlen, "listen: %s: more than %d sockets", name,
		    PD_LISTEN_MAX);
		close(fd);
		return -1;
	}
	s = &socks->sock[socks->n++];
	s->fd = fd;
	s->family = family;
	s->name = cm_xstrdup(name);
	s->path = path != NULL ? cm_xstrdup(path) : NULL;
	return 0;
}

/* split_hostport - "HOST:PORT" or "[HOST]:PORT" into host and port */
static int
split_hostport(const char *hp, char *host, size_t hostsize, const char **port)
{
	const char *colon, *end;
	size_t n;

	if (hp[0] == '[') {
		if ((end = strchr(hp, ']')) == NULL || end[1] != ':')
			return -1;
		hp++;
		colon = end + 1;
		n = (size_t)(end - hp);
	} else {
		if ((colon = strrchr(hp, ':')) == NULL)
			return -1;
		n = (size_t)(colon - hp);
	}
	if (n >= hostsize || colon[1] == '\0')
		return -1;
	memcpy(host, hp, n);
	host[n] = '\0';
	*port = colon + 1;
	return 0;
}

/* open_inet - bind every address of one "inet:" entry */
static int
open_inet(struct pd_listen *socks, const char *entry, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char host[256];
	const char *port, *node;
	int fd, on = 1, rc;

	if (split_hostport(entry + 5, host, sizeof host, &port) == -1) {
		snprintf(err, errlen, "listen: %s: want inet:HOST:PORT", entry);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	node = host[0] == '\0' || strcmp(host, "*") == 0 ? NULL : host;
	if ((rc = getaddrinfo(node, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "listen: %s: %s", entry,
		    gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
			goto syserr;
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) ==
			-1 ||
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) ==
			-1 ||
		    (ai->ai_family == AF_INET6 &&
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
			    sizeof on) == -1) ||
		    bind(fd, ai->ai_addr, ai->ai_addrlen) == -1 ||
		    listen(fd, PD_BACKLOG) == -1 || sock_prepare(fd) == -1) {
			close(fd);
			goto syserr;
		}
		if (add_sock(socks, fd, ai->ai_family, entry, NULL, err,
			errlen) == -1) {
			freeaddrinfo(res);
			return -1;
		}
	}
	freeaddrinfo(res);
	return 0;
syserr:
	snprintf(err, errlen, "listen: %s: %s", entry, strerror(errno));
	freeaddrinfo(res);
	return -1;
}

/* open_unix - bind one "unix:" entry, replacing a stale socket */
static int
open_unix(struct pd_listen *socks, const char *entry, long long mode, char *err,
    size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	const char *path = entry + 5;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' ||
	    cm_strlcpy(sun.sun_path, path, sizeof sun.sun_path) == -1) {
		snprintf(err, errlen,
		    "listen: %s: want unix:/absolute/path "
		    "shorter than %zu bytes",
		    entry, sizeof sun.sun_path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen,
			    "listen: %s: exists and is not "
			    "a socket",
			    entry);
			return -1;
		}
		if (unlink(path) == -1)
			goto syserr;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		goto syserr;
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		goto syserr;
	}
	if (chmod(path, (mode_t)mode) == -1 || listen(fd, PD_BACKLOG) == -1 ||
	    sock_prepare(fd) == -1) {
		close(fd);
		unlink(path);
		goto syserr;
	}
	return add_sock(socks, fd, AF_UNIX, entry, path, err, errlen);
syserr:
	snprintf(err, errlen, "listen: %s: %s", entry, strerror(errno));
	return -1;
}

/* check_entry - the syntax of one entry, nothing bound */
static int
check_entry(const char *e, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	char host[256], *end;
	const char *port;
	unsigned long n;

	if (strncmp(e, "inet:", 5) == 0) {
		if (split_hostport(e + 5, host, sizeof host, &port) == -1)
			goto bad;
		errno = 0;
		n = strtoul(port, &end, 10);
		if (errno != 0 || *end != '\0' || n == 0 || n > 65535 ||
		    port[0] < '0' || port[0] > '9') {
			snprintf(err, errlen, "listen: %s: bad port", e);
			return -1;
		}
		return 0;
	}
	if (strncmp(e, "unix:", 5) == 0) {
		if (e[5] != '/' || strlen(e + 5) >= sizeof sun.sun_path) {
			snprintf(err, errlen,
			    "listen: %s: want unix:/absolute/"
			    "path shorter than %zu bytes",
			    e, sizeof sun.sun_path);
			return -1;
		}
		return 0;
	}
bad:
	snprintf(err, errlen, "listen: %s: want inet:HOST:PORT or unix:/path",
	    e);
	return -1;
}

/* pd_listen_check - the syntax of every entry, for -n and before binding */
int
pd_listen_check(const struct cm_list *listen, char *err, size_t errlen)
{
	size_t i;

	if (listen->n == 0) {
		snprintf(err, errlen, "listen: no address to listen on");
		return -1;
	}
	if (listen->n > PD_LISTEN_MAX) {
		snprintf(err, errlen, "listen: more than %d entries",
		    PD_LISTEN_MAX);
		return -1;
	}
	for (i = 0; i < listen->n; i++)
		if (check_entry(listen->v[i], err, errlen) == -1)
			return -1;
	return 0;
}

/* pd_listen_open - bind and listen on every entry */
int
pd_listen_open(struct pd_listen *socks, const struct cm_list *listen,
    long long socket_mode, char *err, size_t errlen)
{
	size_t i;
	int rc;

	socks->n = 0;
	if (pd_listen_check(listen, err, errlen) == -1)
		return -1;
	for (i = 0; i < listen->n; i++) {
		const char *e = listen->v[i];

		if (strncmp(e, "inet:", 5) == 0)
			rc = open_inet(socks, e, err, errlen);
		else if (strncmp(e, "unix:", 5) == 0)
			rc = open_unix(socks, e, socket_mode, err, errlen);
		else {
			snprintf(err, errlen,
			    "listen: %s: want inet:HOST:PORT "
			    "or unix:/path",
			    e);
			rc = -1;
		}
		if (rc == -1) {
			pd_listen_close(socks, 1);
			return -1;
		}
	}
	return 0;
}

/* pd_listen_chown - hand the unix socket files to uid:gid */
int
pd_listen_chown(const struct pd_listen *socks, uid_t uid, gid_t gid, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < socks->n; i++) {
		const struct pd_listen_sock *s = &socks->sock[i];

		if (s->path != NULL && chown(s->path, uid, gid) == -1) {
			snprintf(err, errlen, "listen: %s: chown: %s", s->name,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* pd_listen_close - close every socket, unlink unix paths if asked */
void
pd_listen_close(struct pd_listen *socks, int unlink_paths)
{
	size_t i;

	for (i = 0; i < socks->n; i++) {
		struct pd_listen_sock *s = &socks->sock[i];

		if (s->fd != -1)
			close(s->fd);
		if (s->path != NULL && unlink_paths)
			unlink(s->path);
		free(s->name);
		free(s->path);
	}
	socks->n = 0;
}
