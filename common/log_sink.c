/*
 * NAME
 *	log_sink 3 - where log lines go: syslog, stderr or a file
 * SYNOPSIS
 *	#include <cm_log.h>
 *
 *	int	cm_log_reopen(void);
 *	void	cm_log_reopen_signal(void);
 *	int	cm_log_reopen_pending(void);
 *	void	cm_log_set_stream(void *stdio_file);
 *
 *	#include "log_int.h"
 *
 *	int	cm_log_sink_parse(const char *target, const char *facility,
 *		    struct cm_log_sink_conf *sc, const char **why);
 *	int	cm_log_sink_open(const struct cm_log_sink_conf *sc,
 *		    const char **why);
 *	void	cm_log_sink_write(int level, const char *line, size_t len);
 *	void	cm_log_sink_close(void);
 * DESCRIPTION
 *	The sink takes rendered lines (at most CM_LOG_LINE_MAX bytes, no
 *	newline) from log.c and event.c. Its state (kind, syslog facility,
 *	file descriptor and path, test stream) is private to this file and
 *	guarded by a mutex: reopen, set_stream and every write take it.
 *
 *	cm_log_sink_parse() checks syslog_facility and log_target ("syslog",
 *	"stderr" or "file:/absolute/path") without opening anything;
 *	cm_log_sink_open() then opens the file, closes the old sink and
 *	installs the new one, so a failed open leaves the old sink in use.
 *
 *	Every line reaches the sink in one write(2) (file, stderr) or one
 *	syslog(3) call, so lines of concurrent threads never interleave.
 *	File and stderr lines get the prefix of Postfix's maillog_file:
 *	"Mon DD HH:MM:SS host program[pid]: " (local time). With syslog, a
 *	fatal or panic line is also copied to stderr when that is a
 *	terminal. A stream set by cm_log_set_stream() gets bare lines.
 *
 *	cm_log_reopen() reopens the file after logrotate moved it; the old
 *	file stays in use when the new one cannot be opened.
 *	cm_log_reopen_signal() only sets a flag, so a signal handler may
 *	call it; the daemon's loop reads it with cm_log_reopen_pending().
 * DIAGNOSTICS
 *	cm_log_sink_parse() and cm_log_sink_open() return -1 with *why
 *	("key: reason"; a static buffer, set-up is single-threaded) for an
 *	unknown facility or target, or a file that cannot be opened.
 *	cm_log_reopen() returns -1 and logs a warning when the file cannot
 *	be opened. Write errors are ignored: there is nowhere to report
 *	them.
 * SEE ALSO
 *	cm_log(3h), log_int(3h), syslog(3).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cm_log.h"
#include "log_int.h"

enum { SINK_STDERR, SINK_SYSLOG, SINK_FILE };

static struct {
	pthread_mutex_t lock;
	int sink;
	int facility;
	int fd; /* file sink */
	char *path; /* file sink */
	FILE *stream; /* cm_log_set_stream() */
} S = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.sink = SINK_STDERR,
	.fd = -1,
};

static volatile sig_atomic_t reopen_flag;
static char why_buf[512];

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{ "mail", LOG_MAIL },
	{ "daemon", LOG_DAEMON },
	{ "user", LOG_USER },
	{ "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

/* write_all - one write(2) per line; retry only what a signal cut */
static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

/* sink_prio - syslog priority of a level */
static int
sink_prio(int level)
{
	switch (level) {
	case CM_LOG_ERROR:
		return LOG_ERR;
	case CM_LOG_WARNING:
		return LOG_WARNING;
	case CM_LOG_INFO:
		return LOG_INFO;
	case CM_LOG_DEBUG:
		return LOG_DEBUG;
	default:
		return LOG_CRIT;
	}
}

/*
 * sink_fd_line - write "Mon DD HH:MM:SS host program[pid]: line\n" to
 * fd in one write(2), as Postfix's maillog_file does.
 */
static void
sink_fd_line(int fd, const char *line, size_t len)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char out[CM_LOG_LINE_MAX + 512];
	struct tm tm;
	time_t t = time(NULL);
	int n;

	if (localtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	n = snprintf(out, sizeof out,
	    "%s %2d %02d:%02d:%02d %s %s[%ld]: ", months[tm.tm_mon % 12],
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, cm_log_state.host,
	    cm_log_state.program, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof out)
		n = 0;
	if (len > sizeof out - (size_t)n - 1)
		len = sizeof out - (size_t)n - 1;
	memcpy(out + n, line, len);
	out[(size_t)n + len] = '\n';
	write_all(fd, out, (size_t)n + len + 1);
}

/* cm_log_sink_write - hand one rendered line to the sink */
void
cm_log_sink_write(int level, const char *line, size_t len)
{
	pthread_mutex_lock(&S.lock);
	if (S.stream != NULL) {
		fwrite(line, 1, len, S.stream);
		fputc('\n', S.stream);
		fflush(S.stream);
	} else if (S.sink == SINK_SYSLOG) {
		syslog(sink_prio(level), "%.*s", (int)len, line);
		if (level < 0 && isatty(STDERR_FILENO))
			sink_fd_line(STDERR_FILENO, line, len);
	} else {
		sink_fd_line(S.sink == SINK_FILE ? S.fd : STDERR_FILENO, line,
		    len);
	}
	pthread_mutex_unlock(&S.lock);
}

/* open_log_file - open a log file for appending */
static int
open_log_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
}

/* parse_target - "syslog", "stderr" or "file:/path" */
static int
parse_target(const char *target, int *sink, const char **path, const char **why)
{
	if (target == NULL || strcmp(target, "syslog") == 0)
		*sink = SINK_SYSLOG;
	else if (strcmp(target, "stderr") == 0)
		*sink = SINK_STDERR;
	else if (strncmp(target, "file:", 5) == 0 && target[5] == '/')
		*sink = SINK_FILE, *path = target + 5;
	else
		return (*why = "log_target: want syslog, stderr or "
			       "file:/absolute/path"),
		       -1;
	return 0;
}

/*
 * cm_log_sink_parse - check syslog_facility and log_target into sc;
 * nothing is opened yet.
 */
int
cm_log_sink_parse(const char *target, const char *facility,
    struct cm_log_sink_conf *sc, const char **why)
{
	const char *fac = facility ? facility : "mail";
	size_t i;

	sc->facility = -1;
	sc->path = NULL;
	for (i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
		if (strcmp(fac, facilities[i].name) == 0)
			sc->facility = facilities[i].value;
	if (sc->facility == -1)
		return (*why = "syslog_facility: want mail, daemon, user or "
			       "local0-local7"),
		       -1;
	return parse_target(target, &sc->sink, &sc->path, why);
}

/*
 * cm_log_sink_open - open what sc names, then close the old sink and
 * install the new one. On failure the old sink stays.
 */
int
cm_log_sink_open(const struct cm_log_sink_conf *sc, const char **why)
{
	char *pathcopy = NULL;
	int fd = -1;

	if (sc->sink == SINK_FILE) {
		if ((fd = open_log_file(sc->path)) == -1) {
			snprintf(why_buf, sizeof why_buf, "log_target: %s: %s",
			    sc->path, strerror(errno));
			return (*why = why_buf), -1;
		}
		if ((pathcopy = strdup(sc->path)) == NULL) {
			close(fd);
			return (*why = "log_target: out of memory"), -1;
		}
	}
	cm_log_sink_close();
	pthread_mutex_lock(&S.lock);
	S.sink = sc->sink;
	S.fd = fd;
	S.path = pathcopy;
	S.facility = sc->facility;
	if (sc->sink == SINK_SYSLOG)
		openlog(cm_log_state.program, LOG_PID | LOG_NDELAY,
		    sc->facility);
	pthread_mutex_unlock(&S.lock);
	return 0;
}

/*
 * cm_log_reopen - reopen the log file (after logrotate moved it). The
 * old file stays in use when the new one cannot be opened.
 */
int
cm_log_reopen(void)
{
	int fd, err = 0;

	reopen_flag = 0;
	pthread_mutex_lock(&S.lock);
	if (S.sink == SINK_FILE) {
		if ((fd = open_log_file(S.path)) == -1) {
			err = errno;
		} else {
			close(S.fd);
			S.fd = fd;
		}
	}
	pthread_mutex_unlock(&S.lock);
	if (err) {
		errno = err;
		cm_log_warn("cannot reopen log file %s", S.path);
		return -1;
	}
	return 0;
}

/* cm_log_reopen_signal - from a signal handler: ask for a reopen */
void
cm_log_reopen_signal(void)
{
	reopen_flag = 1;
}

/* cm_log_reopen_pending - did a signal ask for a reopen? */
int
cm_log_reopen_pending(void)
{
	return reopen_flag != 0;
}

/* cm_log_set_stream - send bare lines to a stdio stream (NULL: stop) */
void
cm_log_set_stream(void *stdio_file)
{
	pthread_mutex_lock(&S.lock);
	S.stream = stdio_file;
	pthread_mutex_unlock(&S.lock);
}

/* cm_log_sink_close - close the sink; back to stderr */
void
cm_log_sink_close(void)
{
	pthread_mutex_lock(&S.lock);
	if (S.sink == SINK_SYSLOG)
		closelog();
	if (S.fd != -1)
		close(S.fd);
	S.fd = -1;
	free(S.path);
	S.path = NULL;
	S.sink = SINK_STDERR;
	pthread_mutex_unlock(&S.lock);
}
