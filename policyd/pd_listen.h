/*
 * NAME
 *	pd_listen 3h - bind the listening sockets of mailtally-policyd
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
 *	pd_listen_check() checks the syntax of every entry and binds
 *	nothing.
 *
 *	pd_listen_open() binds and listens on every entry of "listen":
 *	"inet:HOST:PORT" (IPv4, IPv6 as "inet:[::1]:PORT", "*" or an empty
 *	host for every address; a name may give several sockets) and
 *	"unix:/path" (a stale socket at path is replaced; mode
 *	socket_mode). Sockets are non-blocking and close-on-exec; TCP ones
 *	have SO_REUSEADDR and TCP_NODELAY.
 *
 *	pd_listen_chown() gives the unix socket files to the unprivileged
 *	user, so the daemon can remove them at exit.
 *
 *	pd_listen_close() closes every socket and optionally unlinks the
 *	unix socket files.
 * DIAGNOSTICS
 *	0, or -1 with "listen: ENTRY: why" in err; on failure nothing stays
 *	open.
 */
#ifndef PD_LISTEN_H
#define PD_LISTEN_H

#include <sys/types.h>

#include <stddef.h>

#define PD_LISTEN_MAX 32

struct cm_list;

struct pd_listen_sock {
	int fd;
	int family; /* AF_INET, AF_INET6, AF_UNIX */
	char *name; /* "inet:127.0.0.1:10031", for logs */
	char *path; /* unix socket file, else NULL */
};

struct pd_listen {
	struct pd_listen_sock sock[PD_LISTEN_MAX];
	size_t n;
};

int pd_listen_check(const struct cm_list *, char *, size_t);
int pd_listen_open(struct pd_listen *, const struct cm_list *, long long,
    char *, size_t);
int pd_listen_chown(const struct pd_listen *, uid_t, gid_t, char *, size_t);
void pd_listen_close(struct pd_listen *, int);

#endif
