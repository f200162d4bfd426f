/*
 * NAME
 *	pd_client 1 - a policy client for the hostile-client test
 * SYNOPSIS
 *	pd_client [-b RCVBUF] [-r REPLIES] [-t TIMEOUT_MS] ADDR send FILE
 *	pd_client [-t TIMEOUT_MS] ADDR hold N SECONDS [FILE]
 * DESCRIPTION
 *	-b sets the socket's receive buffer (SO_RCVBUF) before connecting,
 *	so that a client that does not read fills up quickly.
 *
 *	ADDR is HOST:PORT (IPv4 or [IPv6]) or an absolute unix socket
 *	path.
 *
 *	send: connect, write the bytes of FILE ("-": standard input) as
 *	they are, then copy what the server answers to standard output
 *	until REPLIES replies (each ends in an empty line) have come, the
 *	server closes ("[closed]" is printed on a line of its own) or
 *	TIMEOUT_MS passes ("[timeout]"). A server that closes while the
 *	request is still being written counts as closed.
 *
 *	hold: open N connections; with FILE, send it on each and wait for
 *	one reply per connection, so the server has really served them.
 *	Print "holding N" and keep them open for SECONDS, or until
 *	standard input reaches end of file.
 * DIAGNOSTICS
 *	Exit 0; 2 for bad usage, 1 when a connection or a reply failed.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int timeout_ms = 10000;
static int rcvbuf; /* -b: a small receive buffer, 0: the default */

/* dial - connect to HOST:PORT, [V6]:PORT or /path */
static int
dial(const char *addr)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	char host[128];
	const char *colon;
	socklen_t len;
	size_t n;
	int fd;

	memset(&ss, 0, sizeof ss);
	if (addr[0] == '/') {
		sun->sun_family = AF_UNIX;
		if (strlen(addr) >= sizeof sun->sun_path)
			return -1;
		memcpy(sun->sun_path, addr, strlen(addr) + 1);
		len = sizeof *sun;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL ||
		    (n = (size_t)(colon - addr)) >= sizeof host)
			return -1;
		memcpy(host, addr, n);
		host[n] = '\0';
		if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
			host[n - 1] = '\0';
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(
			    (unsigned short)atoi(colon + 1));
			if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) !=
			    1)
				return -1;
			len = sizeof *sin6;
		} else {
			sin->sin_family = AF_INET;
			sin->sin_port = htons((unsigned short)atoi(colon + 1));
			if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
				return -1;
			len = sizeof *sin;
		}
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	if (rcvbuf > 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		    sizeof rcvbuf);
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* slurp - a whole file into memory */
static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n;

	*len = 0;
	if (fp == NULL)
		return NULL;
	for (;;) {
		if (*len == cap) {
			cap = cap ? 2 * cap : 65536;
			if ((nb = realloc(buf, cap)) == NULL)
				break;
			buf = nb;
		}
		if ((n = fread(buf + *len, 1, cap - *len, fp)) == 0)
			break;
		*len += n;
	}
	if (fp != stdin)
		fclose(fp);
	return buf;
}

/* count_replies - empty-line-ended replies in buf */
static int
count_replies(const char *buf, size_t len)
{
	int n = 0;
	size_t i;

	for (i = 1; i < len; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\n')
			n++;
	return n;
}

/*
 * exchange - write data, then read until want replies, close or timeout;
 * the answer goes to out (NULL: discarded). Returns 0 when want replies
 * came, 1 on close, 2 on timeout.
 */
static int
exchange(int fd, const char *data, size_t len, int want, FILE *out)
{
	char buf[65536];
	size_t off = 0;
	ssize_t n;
	struct pollfd pfd;
	int replies = 0, rc;
	char prev = 0;

	while (off < len) {
		if ((n = write(fd, data + off, len - off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			break; /* the server closed: read what it said */
		}
		off += (size_t)n;
	}
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((rc = poll(&pfd, 1, timeout_ms)) == 0)
			return 2;
		if (rc == -1 && errno == EINTR)
			continue;
		if ((n = read(fd, buf, sizeof buf)) <= 0)
			return 1;
		if (out != NULL)
			fwrite(buf, 1, (size_t)n, out);
		if (prev == '\n' && buf[0] == '\n')
			replies++;
		replies += count_replies(buf, (size_t)n);
		prev = buf[n - 1];
		if (want > 0 && replies >= want)
			return 0;
	}
}

/* hold - N open connections */
static int
hold(const char *addr, int n, int secs, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int *fds, i, bad = 0;
	struct pollfd pfd;
	time_t end = time(NULL) + secs;

	if (path != NULL && (data = slurp(path, &len)) == NULL)
		return 2;
	if ((fds = calloc((size_t)n, sizeof *fds)) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if ((fds[i] = dial(addr)) == -1) {
			fprintf(stderr, "pd_client: connection %d: %s\n", i,
			    strerror(errno));
			return 1;
		}
		if (data != NULL && exchange(fds[i], data, len, 1, NULL) != 0)
			bad++;
	}
	printf("holding %d%s\n", n, bad ? " (some replies failed)" : "");
	fflush(stdout);
	while (time(NULL) < end) {
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) == 1) {
			char c;

			if (read(STDIN_FILENO, &c, 1) <= 0)
				break;
		}
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	free(data);
	return bad ? 1 : 0;
}

int
main(int argc, char **argv)
{
	int ch, want = 0, fd, rc;
	char *data;
	size_t len;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "b:r:t:")) != -1) {
		if (ch == 'b')
			rcvbuf = atoi(optarg);
		else if (ch == 'r')
			want = atoi(optarg);
		else if (ch == 't')
			timeout_ms = atoi(optarg);
		else
			return 2;
	}
	argc -= optind;
	argv += optind;
	if (argc >= 4 && strcmp(argv[1], "hold") == 0)
		return hold(argv[0], atoi(argv[2]), atoi(argv[3]),
		    argc > 4 ? argv[4] : NULL);
	if (argc != 3 || strcmp(argv[1], "send") != 0) {
		fprintf(stderr,
		    "usage: pd_client [-b N] [-r N] [-t MS] ADDR send FILE\n"
		    "       pd_client [-t MS] ADDR hold N SECONDS [FILE]\n");
		return 2;
	}
	if ((data = slurp(argv[2], &len)) == NULL && len != 0)
		return 2;
	if ((fd = dial(argv[0])) == -1) {
		fprintf(stderr, "pd_client: %s: %s\n", argv[0],
		    strerror(errno));
		free(data);
		return 1;
	}
	rc = exchange(fd, data != NULL ? data : "", len, want, stdout);
	if (rc == 1)
		printf("[closed]\n");
	else if (rc == 2)
		printf("[timeout]\n");
	close(fd);
	free(data);
	return 0;
}
