/*
 * NAME
 *	mailtally-policyd 8 - Postfix policy delegation daemon (main)
 * SYNOPSIS
 *	mailtally-policyd [-c FILE] [-f] [-n] [-V] [-h]
 * DESCRIPTION
 *	Reads the configuration, binds every listening socket while still
 *	privileged, detaches (unless -f), writes the pid file, drops to
 *	"user" and runs the event loop: pd_server(3) for the sockets,
 *	pd_engine(3) for the decisions.
 *
 *	Detaching forks twice; the first parent waits on a pipe until the
 *	daemon reports it is serving, so the exit status of the command
 *	tells whether the start worked.
 *
 *	Signals: SIGTERM and SIGINT stop the daemon cleanly; SIGHUP and
 *	SIGUSR1 reopen a log file (logrotate); SIGPIPE is ignored.
 *	While serving, log lines to a file or stderr are gathered and
 *	written once per loop iteration (cm_log_buffer()), whole lines only;
 *	they are flushed before a reopen and at the stop.
 * DIAGNOSTICS
 *	Exit status 0 after a clean stop or -n/-V/-h; 64 for bad usage;
 *	78 (EX_CONFIG) for a configuration error, printed as
 *	"file:line: key: why"; 71 (EX_OSERR) when a socket, the pid file,
 *	fork or the change of user fails at start-up. Once serving, the
 *	daemon never exits because of a peer.
 * SEE ALSO
 *	mailtally-policyd(8), mailtally-policyd.conf(5)
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>

#include "cm_log.h"
#include "cm_util.h"
#include "pd_config.h"
#include "pd_engine.h"
#include "pd_listen.h"
#include "pd_server.h"

#define PD_PROGRAM "mailtally-policyd"
#define PD_DEFAULT_CONF SYSCONFDIR "/mailtally/mailtally-policyd.conf"

static int ready_fd = -1; /* write end of the start-up pipe */

/* usage - print the synopsis */
static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: %s [-c FILE] [-f] [-n] [-V] [-h]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -f       stay in the foreground\n"
	    "  -n       check the configuration, print it and exit\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n",
	    PD_PROGRAM, PD_DEFAULT_CONF);
}

/*
 * daemonize - detach; the first process exits when the daemon is ready
 *
 * The first parent blocks on a pipe: one byte means the daemon serves
 * (exit 0); end of file without it means the start failed (exit 71,
 * the reason is in the log).
 */
static void
daemonize(void)
{
	int pfd[2], fd;
	pid_t pid;
	ssize_t n;
	char c = 0;

	if (pipe(pfd) == -1 || (pid = fork()) == -1) {
		cm_log_error("config: fork: %s", strerror(errno));
		exit(EX_OSERR);
	}
	if (pid > 0) {
		close(pfd[1]);
		while ((n = read(pfd[0], &c, 1)) == -1 && errno == EINTR)
			;
		(void)waitpid(pid, NULL, 0);
		_exit(n == 1 && c == 'r' ? 0 : EX_OSERR);
	}
	close(pfd[0]);
	if (setsid() == -1 || (pid = fork()) == -1)
		_exit(EX_OSERR);
	if (pid > 0)
		_exit(0);
	if (chdir("/") == -1)
		_exit(EX_OSERR);
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(fd, STDIN_FILENO);
		(void)dup2(fd, STDOUT_FILENO);
		(void)dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	ready_fd = pfd[1];
}

/* write_pid - the pid file, before privileges are dropped */
static void
write_pid(const char *path)
{
	char buf[32];
	int fd, n;

	n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) ==
		-1 ||
	    write(fd, buf, (size_t)n) != n) {
		cm_log_error("config: pid_file %s: %s", path, strerror(errno));
		exit(EX_OSERR);
	}
	close(fd);
}

/* drop_privileges - become "user", checking every call */
static void
drop_privileges(const char *user, const struct pd_listen *socks)
{
	struct passwd *pw;
	char err[512];

	if (user == NULL || user[0] == '\0')
		return;
	if ((pw = getpwnam(user)) == NULL) {
		cm_log_error("config: user: %s: no such user", user);
		exit(EX_CONFIG);
	}
	if (geteuid() != 0) {
		if (pw->pw_uid != geteuid())
			cm_log_warnx("config: user: not running as root: "
				     "staying uid %ld",
			    (long)geteuid());
		return;
	}
	if (pd_listen_chown(socks, pw->pw_uid, pw->pw_gid, err, sizeof err) ==
	    -1) {
		cm_log_error("config: %s", err);
		exit(EX_OSERR);
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		cm_log_error("config: user: cannot become %s: %s", user,
		    strerror(errno));
		exit(EX_OSERR);
	}
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != pw->pw_gid || getegid() != pw->pw_gid)
		cm_panic("config: user: still privileged after setresuid");
}

/* on_stop - SIGTERM, SIGINT: leave the loop */
static void
on_stop(evutil_socket_t sig, short what, void *arg)
{
	cm_log_info("config: signal %d: stopping", (int)sig);
	event_base_loopexit(arg, NULL);
}

/* on_reopen - SIGHUP, SIGUSR1: reopen the log file */
static void
on_reopen(evutil_socket_t sig, short what, void *arg)
{
	if (cm_log_reopen() == -1)
		cm_log_warnx("config: cannot reopen the log");
	else
		cm_log_info("config: signal %d: log reopened", (int)sig);
}

/* on_flush - the end of a loop iteration: write the gathered log lines */
static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	cm_log_flush();
}

/* log_batch - a log line started a batch: flush once this iteration's
 * callbacks have run (an active event runs after those already queued) */
static void
log_batch(void *arg)
{
	event_active(arg, EV_TIMEOUT, 0);
}

/* listen_names - "a, b" for the start-up line */
static void
listen_names(const struct pd_listen *socks, char *buf, size_t size)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < socks->n && off < size; i++) {
		if (i > 0 &&
		    strcmp(socks->sock[i].name, socks->sock[i - 1].name) == 0)
			continue;
		n = snprintf(buf + off, size - off, "%s%s", off ? "," : "",
		    socks->sock[i].name);
		if (n < 0 || (size_t)n >= size - off)
			break;
		off += (size_t)n;
	}
}

/* store_kind - the scheme of the store URL, never its credentials */
static void
store_kind(const char *store, char *buf, size_t size)
{
	size_t n = store != NULL ? strcspn(store, ":") : 0;

	if (n >= size)
		n = size - 1;
	memcpy(buf, store != NULL ? store : "", n);
	buf[n] = '\0';
}

/*
 * serve - the daemon proper, once the sockets are bound
 */
/*
 * new_base - the event loop. With epoll, interest changes are gathered
 * and applied once per loop turn (the changelist): hiredis adds and
 * removes its write event around every write to Redis, which otherwise
 * cost one epoll_ctl(2) each (0.57 per request at 50 connections).
 */
static struct event_base *
new_base(void)
{
	struct event_config *ec;
	struct event_base *base;

	if ((ec = event_config_new()) == NULL)
		return NULL;
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(ec);
	event_config_free(ec);
	return base;
}

static int
serve(struct pd_config *cfg, struct pd_listen *socks)
{
	struct event_base *base;
	struct event *sig[4], *flush;
	struct pd_engine *engine;
	struct pd_server *srv;
	static const int signo[4] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
	const char *why = NULL;
	char names[1024], kind[32];
	size_t i;

	if ((base = new_base()) == NULL)
		cm_fatal("libevent: cannot create the event loop");
	if ((engine = pd_engine_new(cfg, base, &why)) == NULL) {
		cm_log_error("config: store: %s", why ? why : "cannot start");
		exit(EX_CONFIG);
	}
	if ((srv = pd_server_new(base, engine, cfg, socks, &why)) == NULL) {
		cm_log_error("config: %s", why);
		exit(EX_OSERR);
	}
	for (i = 0; i < countof(sig); i++) {
		sig[i] = evsignal_new(base, signo[i],
		    i < 2 ? on_stop : on_reopen, base);
		if (sig[i] == NULL || evsignal_add(sig[i], NULL) == -1)
			cm_fatal("libevent: cannot catch signal %d", signo[i]);
	}
	listen_names(socks, names, sizeof names);
	store_kind(cfg->store, kind, sizeof kind);
	cm_log_info("config: starting %s version=%s listen=%s store=%s "
		    "max_connections=%lld idle_timeout=%lldms",
	    PD_PROGRAM, PACKAGE_VERSION, names, kind, cfg->max_connections,
	    cfg->idle_timeout_ms);
	if (ready_fd != -1) {
		if (write(ready_fd, "r", 1) != 1)
			cm_log_warn("config: start-up pipe");
		close(ready_fd);
		ready_fd = -1;
	}
	/* Quota lines of one loop iteration go out in one write(2). */
	if ((flush = event_new(base, -1, 0, on_flush, NULL)) == NULL ||
	    cm_log_buffer(1, log_batch, flush) == -1)
		cm_log_warnx("config: log lines are not coalesced");
	event_base_dispatch(base);
	cm_log_buffer(0, NULL, NULL);
	if (flush != NULL)
		event_free(flush);
	pd_server_stop(srv);
	pd_engine_free(engine);
	pd_server_free(srv);
	for (i = 0; i < countof(sig); i++)
		event_free(sig[i]);
	event_base_free(base);
	cm_log_info("config: stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	struct pd_config cfg;
	struct pd_listen socks;
	const char *path = PD_DEFAULT_CONF, *why = NULL;
	char err[1024];
	int ch, foreground = 0, check = 0, rc;

	cm_log_init(PD_PROGRAM);
	while ((ch = getopt(argc, argv, "c:fnVh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("%s %s\n", PD_PROGRAM, PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}
	memset(&cfg, 0, sizeof cfg);
	if (pd_config_load(&cfg, path, err, sizeof err) == -1) {
		fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	if (pd_listen_check(&cfg.listen, err, sizeof err) == -1) {
		fprintf(stderr, "%s: %s\n", path, err);
		pd_config_free(&cfg);
		return EX_CONFIG;
	}
	if (check) {
		pd_config_print(&cfg, stdout);
		pd_config_free(&cfg);
		return fflush(stdout) == 0 ? 0 : EX_OSERR;
	}
	signal(SIGPIPE, SIG_IGN);
	if (cm_log_setup(&cfg.log, &why) == -1) {
		fprintf(stderr, "%s: log: %s\n", path, why ? why : "failed");
		pd_config_free(&cfg);
		return EX_CONFIG;
	}
	if (pd_listen_open(&socks, &cfg.listen, cfg.socket_mode, err,
		sizeof err) == -1) {
		cm_log_error("config: %s", err);
		pd_config_free(&cfg);
		cm_log_close();
		return EX_OSERR;
	}
	if (!foreground)
		daemonize();
	if (cfg.pid_file != NULL && cfg.pid_file[0] != '\0')
		write_pid(cfg.pid_file);
	drop_privileges(cfg.user, &socks);
	rc = serve(&cfg, &socks);
	pd_listen_close(&socks, 1);
	if (cfg.pid_file != NULL && cfg.pid_file[0] != '\0')
		(void)unlink(cfg.pid_file);
	pd_config_free(&cfg);
	cm_log_close();
	return rc;
}
