/*
 * NAME
 *	policy_load 1 - load generator for Postfix policy servers
 * SYNOPSIS
 *	policy_load [-H HOST] [-p PORT | -u PATH] [-c CONNS] [-k SENDERS]
 *	    [-d SECONDS] [-n REQUESTS] [-t] [-r PID]
 *	policy_load [-H HOST] -p PORT -o N [-r PID] [-s SECONDS]
 * DESCRIPTION
 *	Drives a policy server the way a busy Postfix does: CONNS
 *	persistent connections, one request at a time on each, every
 *	message a RCPT request then an END-OF-MESSAGE request, each with
 *	the ~30 attributes Postfix 3.7 sends, senders taken in turn from
 *	SENDERS distinct addresses. It runs for SECONDS (default 10) or
 *	until REQUESTS replies came, checks that every reply is one
 *	"action=..." line and an empty line, and prints requests per
 *	second and the p50, p99 and max latency in microseconds, then one
 *	line "RESULT conns=.. requests=.. errors=.. rps=.. p50_us=.. p90_us=..
 *	p99_us=.. p999_us=.. max_us=.. cpu_us=..".
 *
 *	-t (trivial) first forks a built-in server on HOST:PORT that
 *	answers "action=DUNNO" to every request without looking at it:
 *	the ceiling of this generator on this machine.
 *
 *	With -r PID, the CPU time that process used during the run is
 *	reported too, per request (from /proc/PID/stat): a figure that
 *	other load on the machine disturbs less than requests per second.
 *
 *	-o N opens N connections, sends one request on each and waits for
 *	its reply, then reports the resident memory of process PID (-r)
 *	from /proc, keeps them open for SECONDS (-s, default 0) and exits.
 *
 *	One thread and epoll: the generator costs one core at most.
 * DIAGNOSTICS
 *	Exit 0; 1 when a connection failed or any reply was malformed.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX 4096
#define REPLY_MAX 1024

struct conn {
	int fd;
	char out[REQ_MAX];
	size_t outlen, outoff;
	char in[REPLY_MAX];
	size_t inlen;
	uint64_t sent_us;
	unsigned long msg; /* message number on this connection */
	int phase; /* 0: RCPT, 1: END-OF-MESSAGE */
	int id;
};

static const char *host = "127.0.0.1";
static const char *upath;
static int port = 10031;
static int nconn = 10, nsenders = 1000, seconds = 10;
static unsigned long max_requests;
static uint32_t *lat;
static size_t nlat, caplat;
static unsigned long errors;

/* now_us - monotonic microseconds */
static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* dial - a blocking connect, then non-blocking with TCP_NODELAY */
static int
dial(void)
{
	struct sockaddr_in sin;
	struct sockaddr_un sun;
	int fd, on = 1;

	if (upath != NULL) {
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		snprintf(sun.sun_path, sizeof sun.sun_path, "%s", upath);
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1)
			goto fail;
	} else {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)port);
		if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
		    (fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1)
			goto fail;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
fail:
	perror("policy_load: connect");
	return -1;
}

/*
 * build - the next request of a connection: the attribute set of
 * Postfix 3.7 at RCPT or END-OF-MESSAGE time.
 */
static void
build(struct conn *c)
{
	unsigned long m = c->msg * (unsigned long)nconn + (unsigned long)c->id;
	unsigned long s = m % (unsigned long)nsenders;
	int eom = c->phase == 1, n;
	char qid[16] = "";

	/* smtpd_delay_open_until_valid_rcpt: no queue id at the first RCPT. */
	if (eom)
		snprintf(qid, sizeof qid, "4X%08lX", m);
	n = snprintf(c->out, sizeof c->out,
	    "request=smtpd_access_policy\n"
	    "protocol_state=%s\n"
	    "protocol_name=ESMTP\n"
	    "client_address=192.0.2.%lu\n"
	    "client_name=host%lu.example.net\n"
	    "client_port=%lu\n"
	    "reverse_client_name=host%lu.example.net\n"
	    "server_address=192.0.2.1\n"
	    "server_port=587\n"
	    "helo_name=host%lu.example.net\n"
	    "sender=user%lu@example.org\n"
	    "recipient=%s\n"
	    "recipient_count=%d\n"
	    "queue_id=%s\n"
	    "instance=%lx.%x.%lx.0\n"
	    "size=%lu\n"
	    "etrn_domain=\n"
	    "stress=\n"
	    "sasl_method=plain\n"
	    "sasl_username=user%lu@example.org\n"
	    "sasl_sender=\n"
	    "ccert_subject=\n"
	    "ccert_issuer=\n"
	    "ccert_fingerprint=\n"
	    "ccert_pubkey_fingerprint=\n"
	    "encryption_protocol=TLSv1.3\n"
	    "encryption_cipher=TLS_AES_256_GCM_SHA384\n"
	    "encryption_keysize=256\n"
	    "policy_context=\n"
	    "compatibility_level=3.6\n"
	    "mail_version=3.7.11\n"
	    "\n",
	    eom ? "END-OF-MESSAGE" : "RCPT", s % 250 + 2, s % 250,
	    1024 + m % 60000, s % 250, s % 250, s,
	    eom ? "" : "rcpt@example.com", eom ? 1 : 0, qid, m, (unsigned)c->id,
	    c->msg, 1000 + m % 50000, s);
	c->outlen = n > 0 && (size_t)n < sizeof c->out ? (size_t)n : 0;
	c->outoff = 0;
}

/* flush - write what is left of the request */
static int
flush(struct conn *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->outoff += (size_t)n;
	}
	return 0;
}

/* record - one latency sample */
static void
record(uint64_t us)
{
	uint32_t *nl;

	if (nlat == caplat) {
		caplat = caplat ? 2 * caplat : 65536;
		if ((nl = realloc(lat, caplat * sizeof *lat)) == NULL) {
			perror("policy_load");
			exit(1);
		}
		lat = nl;
	}
	lat[nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

/*
 * reply_ok - one "action=..." line then an empty line, nothing else
 */
static int
reply_ok(const char *r, size_t len)
{
	const char *nl;

	if (len < 9 || memcmp(r, "action=", 7) != 0)
		return 0;
	nl = memchr(r, '\n', len);
	return nl != NULL && (size_t)(nl - r) == len - 2 && r[len - 1] == '\n';
}

/* on_read - bytes of a reply; 1 when a reply completed, -1 on error */
static int
on_read(struct conn *c)
{
	ssize_t n;
	char *end;

	n = read(c->fd, c->in + c->inlen, sizeof c->in - c->inlen);
	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	c->inlen += (size_t)n;
	if ((end = memmem(c->in, c->inlen, "\n\n", 2)) == NULL)
		return c->inlen == sizeof c->in ? -1 : 0;
	if ((size_t)(end + 2 - c->in) != c->inlen ||
	    !reply_ok(c->in, c->inlen)) {
		fprintf(stderr, "policy_load: bad reply: %.*s\n", (int)c->inlen,
		    c->in);
		errors++;
	}
	c->inlen = 0;
	return 1;
}

/* cpu_us - user+system CPU time of a process in microseconds, or 0 */
static uint64_t
cpu_us(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *fp;
	size_t n;
	int i;

	if (pid <= 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* Fields after the command name, which may hold spaces. */
	if ((p = strrchr(buf, ')')) == NULL)
		return 0;
	for (i = 0; i < 12 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return 0;
	ut = strtoull(p + 1, &p, 10);
	st = strtoull(p, NULL, 10);
	return (ut + st) * 1000000ULL /
	    (unsigned long long)sysconf(_SC_CLK_TCK);
}

/* cmp_u32 - for qsort */
static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* report - throughput and latency */
static void
report(uint64_t elapsed_us, uint64_t cpu)
{
	double rps = elapsed_us ? (double)nlat * 1e6 / (double)elapsed_us : 0;
	uint32_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;

	if (nlat > 0) {
		qsort(lat, nlat, sizeof *lat, cmp_u32);
		p50 = lat[nlat / 2];
		p90 = lat[(nlat * 9) / 10];
		p99 = lat[(nlat * 99) / 100];
		p999 = lat[(nlat * 999) / 1000];
		max = lat[nlat - 1];
	}
	printf("connections %d, senders %d, %zu requests in %.2f s, "
	       "%lu errors\n",
	    nconn, nsenders, nlat, (double)elapsed_us / 1e6, errors);
	printf("%.0f requests/s; latency p50 %u us, p99 %u us, max %u us\n",
	    rps, p50, p99, max);
	if (cpu > 0 && nlat > 0)
		printf("server CPU %.1f us per request\n", (double)cpu / nlat);
	printf("RESULT conns=%d requests=%zu errors=%lu rps=%.0f p50_us=%u "
	       "p90_us=%u p99_us=%u p999_us=%u max_us=%u cpu_us=%.1f\n",
	    nconn, nlat, errors, rps, p50, p90, p99, p999, max,
	    nlat > 0 ? (double)cpu / nlat : 0.0);
}

/* run - the load loop */
static int
run(pid_t pid)
{
	struct conn *conns;
	struct epoll_event ev, evs[256];
	uint64_t start, end, t, cpu0;
	int ep, i, n, r, stop = 0, live = nconn;

	if ((conns = calloc((size_t)nconn, sizeof *conns)) == NULL ||
	    (ep = epoll_create1(0)) == -1)
		return 1;
	for (i = 0; i < nconn; i++) {
		struct conn *c = &conns[i];

		c->id = i;
		if ((c->fd = dial()) == -1)
			return 1;
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	cpu0 = cpu_us(pid);
	start = now_us();
	end = start + (uint64_t)seconds * 1000000;
	for (i = 0; i < nconn; i++) {
		build(&conns[i]);
		conns[i].sent_us = now_us();
		if (flush(&conns[i]) == -1)
			return 1;
	}
	while (live > 0) {
		n = epoll_wait(ep, evs, 256, 1000);
		t = now_us();
		if (t >= end || (max_requests && nlat >= max_requests))
			stop = 1;
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if ((r = on_read(c)) == 0)
				continue;
			if (r == -1) {
				fprintf(stderr,
				    "policy_load: connection %d "
				    "closed by the server\n",
				    c->id);
				errors++;
			} else
				record(t - c->sent_us);
			if (r == -1 || stop) {
				close(c->fd);
				c->fd = -1;
				live--;
				continue;
			}
			c->phase ^= 1;
			if (c->phase == 0)
				c->msg++;
			build(c);
			c->sent_us = now_us();
			if (flush(c) == -1) {
				errors++;
				close(c->fd);
				live--;
			}
		}
		if (stop && n == 0)
			break;
	}
	report(now_us() - start, pid > 0 ? cpu_us(pid) - cpu0 : 0);
	free(conns);
	close(ep);
	return errors ? 1 : 0;
}

/* trivial - a policy server that answers DUNNO to everything */
static void
trivial(int lfd)
{
	struct epoll_event ev, evs[256];
	char buf[65536], last[1024];
	int ep, i, n, fd, k;
	ssize_t r;

	memset(last, 0, sizeof last);
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 256, -1);
		for (i = 0; i < n; i++) {
			if ((fd = evs[i].data.fd) == lfd) {
				int on = 1;

				if ((fd = accept(lfd, NULL, NULL)) == -1 ||
				    fd >= (int)sizeof last) {
					if (fd != -1)
						close(fd);
					continue;
				}
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on,
				    sizeof on);
				ev.events = EPOLLIN;
				ev.data.fd = fd;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				last[fd] = 0;
				continue;
			}
			if ((r = read(fd, buf, sizeof buf)) <= 0) {
				close(fd);
				continue;
			}
			for (k = 0; k < r; k++) {
				if (buf[k] == '\n' && last[fd] == '\n' &&
				    write(fd, "action=DUNNO\n\n", 14) != 14)
					break;
				last[fd] = buf[k] == '\n' && last[fd] == '\n'
				    ? 0
				    : buf[k];
			}
		}
	}
}

/* start_trivial - fork the trivial server on host:port */
static pid_t
start_trivial(void)
{
	struct sockaddr_in sin;
	int fd, on = 1;
	pid_t pid;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    (fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fd, 1024) == -1) {
		perror("policy_load: trivial server");
		exit(1);
	}
	if ((pid = fork()) == 0)
		trivial(fd);
	close(fd);
	return pid;
}

/* rss_kb - VmRSS of a process, or -1 */
static long
rss_kb(pid_t pid)
{
	char path[64], line[256];
	FILE *fp;
	long kb = -1;

	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof line, fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kb;
}

/* hold - N connections served once, then held open */
static int
hold(int n, pid_t pid, int secs)
{
	struct conn c;
	long before = pid > 0 ? rss_kb(pid) : -1;
	int *fds, i, r;

	if ((fds = calloc((size_t)n, sizeof *fds)) == NULL)
		return 1;
	memset(&c, 0, sizeof c);
	for (i = 0; i < n; i++) {
		if ((fds[i] = dial()) == -1)
			return 1;
		c.fd = fds[i];
		c.id = i;
		build(&c);
		if (flush(&c) == -1)
			return 1;
		while ((r = on_read(&c)) == 0)
			usleep(100);
		if (r == -1)
			return 1;
	}
	printf("holding %d connections", n);
	if (pid > 0)
		printf("; server RSS %ld kB before, %ld kB now", before,
		    rss_kb(pid));
	printf("\nRESULT hold=%d rss_before_kb=%ld rss_kb=%ld\n", n, before,
	    pid > 0 ? rss_kb(pid) : -1L);
	fflush(stdout);
	sleep((unsigned)secs);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return errors ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: policy_load [-H HOST] [-p PORT | -u PATH] "
	    "[-c CONNS] [-k SENDERS] [-d SECONDS] [-n REQUESTS] [-t]\n"
	    "       policy_load [-H HOST] [-p PORT | -u PATH] -o N "
	    "[-r PID] [-s SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	pid_t triv = -1, rpid = -1;
	int ch, rc, do_trivial = 0, nhold = 0, hold_s = 0;

	signal(SIGPIPE, SIG_IGN);
	while ((ch = getopt(argc, argv, "H:p:u:c:k:d:n:to:r:s:")) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'u':
			upath = optarg;
			break;
		case 'c':
			nconn = atoi(optarg);
			break;
		case 'k':
			nsenders = atoi(optarg);
			break;
		case 'd':
			seconds = atoi(optarg);
			break;
		case 'n':
			max_requests = strtoul(optarg, NULL, 10);
			break;
		case 't':
			do_trivial = 1;
			break;
		case 'o':
			nhold = atoi(optarg);
			break;
		case 'r':
			rpid = (pid_t)atol(optarg);
			break;
		case 's':
			hold_s = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (nconn < 1 || nsenders < 1 || seconds < 1 || optind != argc)
		usage();
	if (do_trivial) {
		triv = start_trivial();
		if (rpid == -1)
			rpid = triv;
	}
	rc = nhold > 0 ? hold(nhold, rpid, hold_s) : run(rpid);
	if (triv > 0) {
		kill(triv, SIGTERM);
		waitpid(triv, NULL, 0);
	}
	free(lat);
	return rc;
}
