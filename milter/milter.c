/*
 * NAME
 *	mailtally-milter 8 - SPF and DKIM milter: main program
 * SYNOPSIS
 *	mailtally-milter [-fnV] [-c FILE]
 *	mailtally-milter [-c FILE] --test MESSAGE [--client-ip IP]
 *	    [--helo NAME] [--mail-from ADDR]
 * DESCRIPTION
 *	Reads the configuration, sets up logging, the resolver and the SPF
 *	and DKIM handles, opens the milter socket (unix sockets get
 *	socket_mode and the owner "user"; TCP listening sockets get
 *	TCP_NODELAY, see below), becomes a daemon unless -f, writes
 *	pid_file, drops privileges to "user" and runs libmilter's loop.
 *
 *	TCP_NODELAY: libmilter does not expose its listening socket, so
 *	after smfi_opensocket() the descriptors are scanned for the one
 *	with SO_ACCEPTCONN set; accepted sockets inherit the option. Without
 *	it every message costs tens of milliseconds in Nagle and delayed ACK
 *	waits.
 *
 *	Signals: SIGUSR1 reopens a log file (logrotate). SIGHUP, SIGTERM
 *	and SIGINT belong to libmilter's signal thread, which stops the
 *	milter (it takes about 5 s to exit).
 *
 *	--test runs the offline mode (mf_test.c) and exits.
 * DIAGNOSTICS
 *	Configuration and start-up errors go to stderr (and the log) and
 *	exit with EX_CONFIG or EX_OSERR; -n exits 0 after printing the
 *	effective configuration, EX_CONFIG on an error.
 * SEE ALSO
 *	mailtally-milter(8), mailtally-milter.conf(5), mf_cb(3), mf_test(3)
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "cm_log.h"
#include "cm_util.h"
#include "mf_cb.h"
#include "mf_conf.h"
#include "mf_ctx.h"
#include "mf_test.h"

#define FD_SCAN_MAX 1024
#define MF_MILTER_DATA_MAX (256 * 1024 - 1) /* libmilter's MILTER_MDS_256K */

struct opts {
	const char *conf_path;
	int foreground;
	int check;
	const char *test_file;
	const char *client_ip;
	const char *helo;
	const char *mail_from;
};

/* usage - print the synopsis and exit */
static void
usage(void)
{
	fprintf(stderr,
	    "usage: mailtally-milter [-fnV] [-c FILE]\n"
	    "       mailtally-milter [-c FILE] --test MESSAGE "
	    "[--client-ip IP] [--helo NAME] [--mail-from ADDR]\n");
	exit(EX_USAGE);
}

/* parse_opts - the command line */
static void
parse_opts(int argc, char **argv, struct opts *o)
{
	/* clang-format off */
	static const struct option lo[] = {
		{ "test", required_argument, NULL, 't' },
		{ "client-ip", required_argument, NULL, 'i' },
		{ "helo", required_argument, NULL, 'h' },
		{ "mail-from", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	/* clang-format on */
	unsigned int maj, min, pl;
	int c;

	memset(o, 0, sizeof(*o));
	o->conf_path = MF_CONF_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "c:fnV", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->conf_path = optarg;
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'n':
			o->check = 1;
			break;
		case 't':
			o->test_file = optarg;
			break;
		case 'i':
			o->client_ip = optarg;
			break;
		case 'h':
			o->helo = optarg;
			break;
		case 'm':
			o->mail_from = optarg;
			break;
		case 'V':
			smfi_version(&maj, &min, &pl);
			printf("mailtally-milter %s (libmilter %u.%u.%u)\n",
			    PACKAGE_VERSION, maj, min, pl);
			exit(0);
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (o->test_file == NULL &&
	    (o->client_ip != NULL || o->helo != NULL || o->mail_from != NULL))
		usage();
}

/* conn_spec - libmilter's spelling of the listen address */
static int
conn_spec(const char *listen, char *out, size_t len)
{
	const char *colon, *host;
	size_t hlen;
	int n, v6;

	v6 = strncmp(listen, "inet6:", 6) == 0;
	if (!v6 && strncmp(listen, "inet:", 5) != 0)
		return cm_strlcpy(out, listen, len);
	host = listen + (v6 ? 6 : 5);
	if (strchr(host, '@') != NULL) /* already port@host */
		return cm_strlcpy(out, listen, len);
	if ((colon = strrchr(host, ':')) == NULL)
		return -1;
	hlen = (size_t)(colon - host);
	if (v6 && hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	n = snprintf(out, len, "%s:%s@%.*s", v6 ? "inet6" : "inet", colon + 1,
	    (int)hlen, host);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* set_nodelay - TCP_NODELAY on libmilter's listening socket */
static void
set_nodelay(void)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, on, one = 1;

	for (fd = 0; fd < FD_SCAN_MAX; fd++) {
		on = 0;
		sl = sizeof(on);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &sl) < 0 ||
		    !on)
			continue;
		memset(&ss, 0, sizeof(ss));
		sl = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
			continue;
		if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			sizeof(one)) < 0)
			cm_log_warn("setsockopt TCP_NODELAY");
	}
}

/* open_socket - bind the milter socket with its mode and owner */
static void
open_socket(const struct mf_conf *conf, const struct passwd *pw)
{
	char spec[1024];
	const char *path = NULL;
	mode_t old;

	if (conn_spec(conf->listen, spec, sizeof(spec)) < 0)
		cm_fatal("listen: cannot use %s", conf->listen);
	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	if (smfi_setconn(spec) != MI_SUCCESS)
		cm_fatal("smfi_setconn %s failed", spec);
	old = umask(
	    path != NULL ? (mode_t)(~conf->socket_mode & 0777) : (mode_t)022);
	if (smfi_opensocket(true) != MI_SUCCESS)
		cm_fatal("cannot open milter socket %s", spec);
	umask(old);
	if (path == NULL) {
		set_nodelay();
		return;
	}
	if (chmod(path, (mode_t)conf->socket_mode) < 0)
		cm_fatal("chmod %s: %s", path, strerror(errno));
	if (pw != NULL && chown(path, pw->pw_uid, pw->pw_gid) < 0)
		cm_fatal("chown %s: %s", path, strerror(errno));
}

/* drop_privileges - become "user" for good */
static void
drop_privileges(const struct passwd *pw)
{
	uid_t r, e, s;

	if (pw == NULL)
		return;
	if (getuid() != 0 && geteuid() != 0) {
		if (getuid() != pw->pw_uid)
			cm_log_warnx("not root: cannot become user %s",
			    pw->pw_name);
		return;
	}
	if (setgroups(1, &pw->pw_gid) < 0)
		cm_fatal("setgroups: %s", strerror(errno));
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
		cm_fatal("setresgid: %s", strerror(errno));
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		cm_fatal("setresuid: %s", strerror(errno));
	if (getresuid(&r, &e, &s) < 0 || r != pw->pw_uid || e != pw->pw_uid ||
	    s != pw->pw_uid)
		cm_fatal("privileges were not dropped");
}

/* daemonize - detach from the terminal */
static void
daemonize(void)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) < 0)
		cm_fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		cm_fatal("setsid: %s", strerror(errno));
	if ((pid = fork()) < 0)
		cm_fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (chdir("/") < 0)
		cm_fatal("chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* write_pid - the pid file, when configured */
static void
write_pid(const char *path)
{
	FILE *fp;

	if (path == NULL)
		return;
	if ((fp = fopen(path, "w")) == NULL)
		cm_fatal("%s: %s", path, strerror(errno));
	fprintf(fp, "%ld\n", (long)getpid());
	if (fclose(fp) != 0)
		cm_fatal("%s: %s", path, strerror(errno));
}

/* signal_thread - SIGUSR1 reopens the log */
static void *
signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig == SIGUSR1 && cm_log_reopen() < 0)
			cm_log_warnx("log reopen failed");
	}
	return NULL;
}

/*
 * start_signals - block SIGUSR1 everywhere, one thread takes it. SIGHUP,
 * SIGTERM and SIGINT are blocked here too, before any thread exists:
 * libmilter's signal thread sigwait()s for them, and a thread that left
 * them unblocked would be killed by the default action instead.
 */
static void
start_signals(void)
{
	static sigset_t usr1;
	sigset_t all;
	pthread_t t;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	all = usr1;
	sigaddset(&all, SIGHUP);
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &all, NULL) != 0 ||
	    pthread_create(&t, NULL, signal_thread, &usr1) != 0)
		cm_fatal("cannot start the signal thread");
	pthread_detach(t);
}

/* env_open - resolver, SPF and DKIM handles, or exit */
static void
env_open(const struct mf_conf *conf, struct mf_env *env)
{
	char err[512];

	if (mf_env_open(conf, env, err, sizeof(err)) < 0)
		cm_fatal("%s", err);
}

/*
 * offline - -n (the resolver and libraries check what the parser
 * cannot, then the settings are printed) or --test
 */
static int
offline(struct mf_conf *conf, const struct opts *o)
{
	struct mf_env env;
	int rc = 0;

	env_open(conf, &env);
	if (o->test_file != NULL)
		rc = mf_test_run(&env, o->test_file, o->client_ip, o->helo,
		    o->mail_from);
	else
		mf_conf_print(conf, stdout);
	mf_env_close(&env);
	mf_conf_free(conf);
	return rc;
}

/* main - see the synopsis */
int
main(int argc, char **argv)
{
	struct mf_conf conf;
	struct mf_env env;
	struct opts o;
	struct passwd *pw = NULL;
	char err[512];
	const char *why;
	int rc;

	cm_log_init("mailtally-milter");
	parse_opts(argc, argv, &o);
	if (mf_conf_load(&conf, o.conf_path, err, sizeof(err)) < 0) {
		fprintf(stderr, "mailtally-milter: %s\n", err);
		mf_conf_free(&conf);
		return EX_CONFIG;
	}
	if (o.check || o.test_file != NULL)
		return offline(&conf, &o);
	if (cm_log_setup(&conf.log, &why) < 0)
		cm_fatal("log: %s", why);
	if (conf.user != NULL && (pw = getpwnam(conf.user)) == NULL)
		cm_fatal("user: no such user: %s", conf.user);
	env_open(&conf, &env);
	if (mf_cb_register(&env) < 0)
		cm_fatal("smfi_register failed");
	/*
	 * libmilter drops a session whose packet exceeds 64 KiB, and
	 * Postfix sends a header field of up to header_size_limit (100 KiB)
	 * in one packet: allow 256 KiB so that such mail is not tempfailed.
	 */
	(void)smfi_setmaxdatasize(MF_MILTER_DATA_MAX);
	open_socket(&conf, pw);
	if (!o.foreground)
		daemonize();
	write_pid(conf.pid_file);
	drop_privileges(pw);
	start_signals();
	cm_log_info("starting: listen=%s authserv_id=%s", conf.listen,
	    conf.authserv_id);
	rc = smfi_main();
	cm_log_info("stopping");
	mf_env_close(&env);
	if (conf.pid_file != NULL)
		(void)unlink(conf.pid_file);
	mf_conf_free(&conf);
	cm_log_close();
	return rc == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
