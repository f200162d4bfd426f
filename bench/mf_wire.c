/*
 * NAME
 *	mf_wire - milter packet I/O for the milter_load benchmark client
 * SYNOPSIS
 *	#include "mf_wire.h"
 *
 *	int	mf_addr_parse(struct mf_addr *addr, const char *spec,
 *		    const char **why);
 *	int	mf_conn_open(struct mf_conn *c, const struct mf_addr *addr,
 *		    const char **why);
 *	void	mf_conn_close(struct mf_conn *c);
 *	void	mf_pkt_begin(struct mf_conn *c, int cmd);
 *	void	mf_pkt_add(struct mf_conn *c, const void *p, size_t len);
 *	void	mf_pkt_str(struct mf_conn *c, const char *s);
 *	void	mf_pkt_u32(struct mf_conn *c, uint32_t v);
 *	int	mf_pkt_end(struct mf_conn *c);
 *	int	mf_flush(struct mf_conn *c);
 *	int	mf_read_reply(struct mf_conn *c, int *cmd,
 *		    const unsigned char **data, size_t *len);
 * DESCRIPTION
 *	This module speaks the framing of the Sendmail milter protocol from
 *	the MTA side: a packet is a 32-bit big-endian length, a command
 *	byte and the command's data.
 *
 *	mf_addr_parse() parses "unix:/path", "local:/path", "inet:host:port"
 *	or "inet:port@host" (Postfix and libmilter spellings).
 *
 *	mf_conn_open() connects. Like Postfix it does NOT set TCP_NODELAY:
 *	Postfix's milter client leaves Nagle on and instead sizes its
 *	VSTREAM buffer to four times the TCP MSS (vstream_tweak_tcp()); on a
 *	unix socket the buffer is VSTREAM_BUFSIZE, 4096 bytes. The same
 *	buffer size decides here when buffered packets reach the socket.
 *
 *	mf_pkt_begin() ... mf_pkt_end() append one packet to the output
 *	buffer; mf_pkt_end() writes out every full buffer, as VSTREAM does.
 *	mf_flush() writes the rest. mf_read_reply() flushes, then returns
 *	the next packet; the data stays valid until the next read. The
 *	packets read are counted in c->nreplies.
 * DIAGNOSTICS
 *	Functions that can fail return -1 and set *why (or errno for the
 *	I/O ones). Allocation failure exits: this is a benchmark tool.
 * SECURITY
 *	Replies come from the milter under test: lengths are checked
 *	against MF_REPLY_MAX before anything is allocated.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mf_wire.h"

#define MF_VSTREAM_BUFSIZE 4096
#define MF_IO_TIMEOUT_S 60

/* mf_grow - make room for 'need' more bytes in a buffer */
static void
mf_grow(unsigned char **buf, size_t *cap, size_t used, size_t need)
{
	size_t ncap;
	unsigned char *p;

	if (used + need <= *cap)
		return;
	ncap = *cap ? *cap : 8192;
	while (ncap < used + need)
		ncap *= 2;
	if ((p = realloc(*buf, ncap)) == NULL) {
		perror("milter_load: realloc");
		exit(2);
	}
	*buf = p;
	*cap = ncap;
}

/* mf_addr_parse - parse a Postfix or libmilter socket specification */
int
mf_addr_parse(struct mf_addr *a, const char *spec, const char **why)
{
	const char *rest, *sep;
	char *end;
	unsigned long port;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
		rest = strchr(spec, ':') + 1;
		if (strlen(rest) == 0 || strlen(rest) >= sizeof(a->path)) {
			*why = "bad unix socket path";
			return -1;
		}
		memcpy(a->path, rest, strlen(rest) + 1);
		a->family = AF_UNIX;
		return 0;
	}
	if (strncmp(spec, "inet:", 5) != 0) {
		*why = "want unix:/path or inet:host:port";
		return -1;
	}
	rest = spec + 5;
	if ((sep = strchr(rest, '@')) != NULL) { /* inet:port@host */
		port = strtoul(rest, &end, 10);
		if (end != sep)
			port = 0;
		sep++;
		hlen = strlen(sep);
	} else if ((sep = strrchr(rest, ':')) != NULL) { /* inet:host:port */
		hlen = (size_t)(sep - rest);
		port = strtoul(sep + 1, &end, 10);
		if (*end != '\0')
			port = 0;
		sep = rest;
	} else {
		*why = "inet address without a port";
		return -1;
	}
	if (port == 0 || port > 65535 || hlen == 0 || hlen >= sizeof(a->host)) {
		*why = "bad inet host or port";
		return -1;
	}
	memcpy(a->host, sep, hlen);
	a->host[hlen] = '\0';
	a->port = (unsigned)port;
	a->family = AF_INET;
	return 0;
}

/* mf_connect_fd - open the socket and connect it */
static int
mf_connect_fd(const struct mf_addr *a, const char **why)
{
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	struct timeval tv = { MF_IO_TIMEOUT_S, 0 };
	int fd;

	if ((fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		*why = "socket";
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (a->family == AF_UNIX) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, a->path, sizeof(a->path));
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
	} else {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)a->port);
		if (inet_pton(AF_INET, a->host, &sin.sin_addr) != 1) {
			close(fd);
			*why = "inet host must be an IPv4 address";
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
			return fd;
	}
	close(fd);
	*why = "connect";
	return -1;
}

/* mf_conn_open - connect and size the output buffer as Postfix does */
int
mf_conn_open(struct mf_conn *c, const struct mf_addr *a, const char **why)
{
	int mss = 0;
	socklen_t len = sizeof(mss);

	memset(c, 0, sizeof(*c));
	if ((c->fd = mf_connect_fd(a, why)) < 0)
		return -1;
	c->bufsize = MF_VSTREAM_BUFSIZE;
	/* vstream_tweak_tcp(): buffer of 4 x MSS when the MSS is large. */
	if (a->family == AF_INET &&
	    getsockopt(c->fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len) == 0 &&
	    mss > MF_VSTREAM_BUFSIZE / 4)
		c->bufsize = (size_t)mss * 4;
	return 0;
}

/* mf_conn_close - close the socket and free the buffers */
void
mf_conn_close(struct mf_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	free(c->in);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* mf_pkt_begin - open a packet: a length word to patch, then the command */
void
mf_pkt_begin(struct mf_conn *c, int cmd)
{
	unsigned char hdr[5] = { 0, 0, 0, 0, (unsigned char)cmd };

	c->pkt_start = c->out_len;
	mf_pkt_add(c, hdr, sizeof(hdr));
}

/* mf_pkt_add - append raw bytes to the open packet */
void
mf_pkt_add(struct mf_conn *c, const void *p, size_t n)
{
	mf_grow(&c->out, &c->out_cap, c->out_len, n);
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

/* mf_pkt_str - append a NUL-terminated string, terminator included */
void
mf_pkt_str(struct mf_conn *c, const char *s)
{
	mf_pkt_add(c, s, strlen(s) + 1);
}

/* mf_pkt_u32 - append a 32-bit integer in network order */
void
mf_pkt_u32(struct mf_conn *c, uint32_t v)
{
	uint32_t n = htonl(v);

	mf_pkt_add(c, &n, sizeof(n));
}

/* mf_write_some - write 'n' buffered bytes from the front of the buffer */
static int
mf_write_some(struct mf_conn *c, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(c->fd, c->out + c->out_off, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c->out_off += (size_t)w;
		n -= (size_t)w;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	return 0;
}

/* mf_pkt_end - close the packet; write out full buffers as VSTREAM does */
int
mf_pkt_end(struct mf_conn *c)
{
	uint32_t n = htonl((uint32_t)(c->out_len - c->pkt_start - 4));

	memcpy(c->out + c->pkt_start, &n, sizeof(n));
	while (c->out_len - c->out_off >= c->bufsize)
		if (mf_write_some(c, c->bufsize) < 0)
			return -1;
	return 0;
}

/* mf_flush - write everything that is buffered */
int
mf_flush(struct mf_conn *c)
{
	return mf_write_some(c, c->out_len - c->out_off);
}

/* mf_fill - make 'need' unread input bytes available */
static int
mf_fill(struct mf_conn *c, size_t need)
{
	ssize_t r;

	if (c->in_len - c->in_off >= need)
		return 0;
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	mf_grow(&c->in, &c->in_cap, c->in_len, need + 4096);
	while (c->in_len < need) {
		r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		c->in_len += (size_t)r;
	}
	return 0;
}

/* mf_read_reply - flush, then read one reply packet */
int
mf_read_reply(struct mf_conn *c, int *cmd, const unsigned char **data,
    size_t *len)
{
	uint32_t n;

	if (mf_flush(c) < 0 || mf_fill(c, 4) < 0)
		return -1;
	memcpy(&n, c->in + c->in_off, 4);
	n = ntohl(n);
	if (n < 1 || n > MF_REPLY_MAX) {
		errno = EPROTO;
		return -1;
	}
	if (mf_fill(c, 4 + (size_t)n) < 0)
		return -1;
	*cmd = c->in[c->in_off + 4];
	*data = c->in + c->in_off + 5;
	*len = n - 1;
	c->in_off += 4 + (size_t)n;
	c->nreplies++;
	return 0;
}
