/*
 * NAME
 *	log 3 - diagnostics, levels and the logger's set-up
 * SYNOPSIS
 *	#include <cm_log.h>
 *
 *	extern const struct cm_conf_def cm_log_conf_defs[];
 *
 *	void	cm_log_init(const char *program);
 *	int	cm_log_setup(const struct cm_log_conf *conf, const char **why);
 *	void	cm_log_set_level(int level);
 *	int	cm_log_get_level(void);
 *	void	cm_log_close(void);
 *
 *	void	cm_log_error(const char *fmt, ...);
 *	void	cm_log_warn(const char *fmt, ...);
 *	void	cm_log_warnx(const char *fmt, ...);
 *	void	cm_log_info(const char *fmt, ...);
 *	void	cm_log_debug(const char *fmt, ...);
 *	void	cm_fatal(const char *fmt, ...);
 *	void	cm_panic(const char *fmt, ...);
 *
 *	#include "log_int.h"
 *
 *	extern struct cm_log_state cm_log_state;
 *	uint64_t cm_log_now_ms(void);
 * DESCRIPTION
 *	See cm_log.h for the two kinds of output and the line shapes. This
 *	file keeps the logger's state apart from the sink (program, host,
 *	format, level, address mode and hash key; log_sink.c keeps the
 *	sink), the log_* keys' table, and the diagnostics.
 *
 *	cm_log_setup() runs at start-up before threads exist: it checks
 *	every key, loads the hash key for log_addresses = hash, opens the
 *	sink (log_sink.c), and only then changes format, level and address
 *	mode. After that the state is only read, except the level.
 *
 *	A diagnostic is one line: in text "warning: msg" (no prefix at
 *	info), control bytes written as \xHH in case a caller forgot
 *	cm_log_str(); in JSON {"ts","host","program","level","msg"}. Lines
 *	above the level are dropped here, never at call sites. A message is
 *	capped at CM_LOG_LINE_MAX bytes and then ends in "...".
 * DIAGNOSTICS
 *	cm_log_setup() returns -1 with *why ("key: reason"; a static buffer,
 *	setup is single-threaded) for a bad value, a bad hash key file, or
 *	a sink that cannot be opened. cm_fatal() exits with EX_CONFIG;
 *	cm_panic() aborts (a panic inside a panic aborts at once).
 * SEE ALSO
 *	cm_log(3h), cm_conf(3h), log_sink(3), log_fmt(3), event(3).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cm_buf.h"
#include "cm_conf.h"
#include "cm_log.h"
#include "log_int.h"

#define KEY_FILE_MAX 4096

struct cm_log_state cm_log_state = {
	.program = "mailtally",
	.host = "localhost",
	.format = CM_LOG_TEXT,
	.level = CM_LOG_INFO,
};

static char why_buf[512];

static const char *const format_names[] = { "text", "json", NULL };
static const char *const level_names[] = { "error", "warning", "info", "debug",
	NULL };
static const char *const addr_names[] = { "full", "hash", "domain", NULL };

#define LOG_OFF(f) offsetof(struct cm_log_conf, f)
const struct cm_conf_def cm_log_conf_defs[] = {
	{ .name = "log_format",
	    .type = CM_CONF_ENUM,
	    .def = "text",
	    .off = LOG_OFF(format),
	    .choices = format_names },
	{ .name = "log_target",
	    .type = CM_CONF_STR,
	    .def = "syslog",
	    .off = LOG_OFF(target) },
	{ .name = "syslog_facility",
	    .type = CM_CONF_STR,
	    .def = "mail",
	    .off = LOG_OFF(facility) },
	{ .name = "log_level",
	    .type = CM_CONF_ENUM,
	    .def = "info",
	    .off = LOG_OFF(level),
	    .choices = level_names },
	{ .name = "log_addresses",
	    .type = CM_CONF_ENUM,
	    .def = "full",
	    .off = LOG_OFF(addresses),
	    .choices = addr_names },
	{ .name = "log_hash_key_file",
	    .type = CM_CONF_STR,
	    .def = NULL,
	    .off = LOG_OFF(hash_key_file) },
	{ .name = NULL },
};

/* cm_log_now_ms - wall clock in ms; never panics (cm_panic() calls it) */
uint64_t
cm_log_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * load_key - read the hash key file: it must be a regular file, not
 * readable by others, and not empty (trailing CR/LF are not part of
 * the key, so "echo secret > file" works).
 */
static int
load_key(const char *path, const char **why)
{
	unsigned char buf[KEY_FILE_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	*why = why_buf;
	if (path == NULL || *path == '\0') {
		*why = "log_hash_key_file: required with log_addresses = hash";
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		snprintf(why_buf, sizeof why_buf, "log_hash_key_file: %s: %s",
		    path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & S_IROTH)) {
		snprintf(why_buf, sizeof why_buf, "log_hash_key_file: %s: %s",
		    path, "not a regular file, or readable by others");
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n <= 0) {
		snprintf(why_buf, sizeof why_buf, "log_hash_key_file: %s: %s",
		    path, "empty or unreadable");
		return -1;
	}
	free(cm_log_state.key);
	if ((cm_log_state.key = malloc((size_t)n)) == NULL) {
		*why = "log_hash_key_file: out of memory";
		return -1;
	}
	memcpy(cm_log_state.key, buf, (size_t)n);
	cm_log_state.keylen = (size_t)n;
	explicit_bzero(buf, sizeof buf);
	return 0;
}

/* cm_log_init - early start-up: stderr, info, text */
void
cm_log_init(const char *program)
{
	const char *slash;

	if (program != NULL) {
		if ((slash = strrchr(program, '/')) != NULL)
			program = slash + 1;
		snprintf(cm_log_state.program, sizeof cm_log_state.program,
		    "%s", program);
	}
	if (gethostname(cm_log_state.host, sizeof cm_log_state.host) == -1)
		snprintf(cm_log_state.host, sizeof cm_log_state.host,
		    "localhost");
	cm_log_state.host[sizeof cm_log_state.host - 1] = '\0';
	cm_log_state.format = CM_LOG_TEXT;
	cm_log_state.level = CM_LOG_INFO;
	cm_log_state.addresses = CM_LOG_ADDR_FULL;
}

/* cm_log_setup - apply a configuration: sink, format, level, privacy */
int
cm_log_setup(const struct cm_log_conf *conf, const char **why)
{
	struct cm_log_sink_conf sc;

	if (cm_log_sink_parse(conf->target, conf->facility, &sc, why) == -1)
		return -1;
	if (conf->format != CM_LOG_TEXT && conf->format != CM_LOG_JSON)
		return (*why = "log_format: want text or json"), -1;
	if (conf->level < CM_LOG_ERROR || conf->level > CM_LOG_DEBUG)
		return (*why = "log_level: want error, warning, info or debug"),
		       -1;
	if (conf->addresses < CM_LOG_ADDR_FULL ||
	    conf->addresses > CM_LOG_ADDR_DOMAIN)
		return (*why = "log_addresses: want full, hash or domain"), -1;
	if (conf->addresses == CM_LOG_ADDR_HASH &&
	    load_key(conf->hash_key_file, why) == -1)
		return -1;
	if (cm_log_sink_open(&sc, why) == -1)
		return -1;
	cm_log_state.format = conf->format;
	cm_log_state.level = conf->level;
	cm_log_state.addresses = conf->addresses;
	return 0;
}

/* cm_log_set_level - filter out lines above level */
void
cm_log_set_level(int level)
{
	if (level >= CM_LOG_ERROR && level <= CM_LOG_DEBUG)
		cm_log_state.level = level;
}

/* cm_log_get_level - the current level */
int
cm_log_get_level(void)
{
	return cm_log_state.level;
}

/* cm_log_close - close the sink and forget the key; back to stderr */
void
cm_log_close(void)
{
	cm_log_sink_close();
	if (cm_log_state.key != NULL)
		explicit_bzero(cm_log_state.key, cm_log_state.keylen);
	free(cm_log_state.key);
	cm_log_state.key = NULL;
	cm_log_state.keylen = 0;
}

/*
 * vlog - format and write one diagnostic. Text: "warning: msg" with
 * control bytes as \xHH (a caller may have forgotten cm_log_str());
 * JSON: {"ts","host","program","level","msg"}. "err" is an errno to
 * append, or 0. The format attribute lets the compiler check fmt at
 * each cm_log_*() call site instead of here.
 */
static void vlog(int, int, const char *, va_list)
    __attribute__((__format__(printf, 3, 0)));

static void
vlog(int level, int err, const char *fmt, va_list ap)
{
	static const char *const names[] = { "panic", "fatal", "error",
		"warning", "info", "debug" };
	char msg[CM_LOG_LINE_MAX], ebuf[128];
	const char *name = names[level + 2];
	struct cm_buf b;
	size_t n;
	int r;

	if (level > cm_log_state.level)
		return;
	if ((r = vsnprintf(msg, sizeof msg, fmt, ap)) < 0)
		msg[0] = '\0';
	n = strnlen(msg, sizeof msg);
	if (err != 0)
		snprintf(msg + n, sizeof msg - n, ": %s",
		    strerror_r(err, ebuf, sizeof ebuf));
	n = strnlen(msg, sizeof msg);
	cm_buf_init(&b, 0);
	if (cm_log_state.format == CM_LOG_JSON) {
		cm_log_json_head(&b, cm_log_now_ms());
		cm_buf_printf(&b, ",\"level\":\"%s\",\"msg\":\"", name);
		if (!cm_log_json_escape(&b, msg, n, CM_LOG_LINE_MAX - 6))
			cm_buf_append(&b, "...", 3);
		cm_buf_append(&b, "\"}", 2);
	} else {
		if (level != CM_LOG_INFO)
			cm_buf_printf(&b, "%s: ", name);
		cm_log_text_escape(&b, msg, n, "");
		if (b.len > CM_LOG_LINE_MAX) {
			b.len = CM_LOG_LINE_MAX - 3;
			cm_buf_append(&b, "...", 3);
		}
	}
	if (!b.overflow)
		cm_log_sink_write(level, cm_buf_str(&b), b.len);
	else
		cm_log_sink_write(level, msg, n);
	cm_buf_release(&b);
}

#define VLOG(level, err)                                                       \
	do {                                                                   \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog((level), (err), fmt, ap);                                 \
		va_end(ap);                                                    \
	} while (0)

/* cm_log_error - an error that the program survives */
void
cm_log_error(const char *fmt, ...)
{
	VLOG(CM_LOG_ERROR, 0);
}

/* cm_log_warn - a warning with strerror(errno) appended */
void
cm_log_warn(const char *fmt, ...)
{
	int err = errno;

	VLOG(CM_LOG_WARNING, err);
}

/* cm_log_warnx - a warning */
void
cm_log_warnx(const char *fmt, ...)
{
	VLOG(CM_LOG_WARNING, 0);
}

/* cm_log_info - information */
void
cm_log_info(const char *fmt, ...)
{
	VLOG(CM_LOG_INFO, 0);
}

/* cm_log_debug - detail */
void
cm_log_debug(const char *fmt, ...)
{
	VLOG(CM_LOG_DEBUG, 0);
}

/* cm_fatal - a start-up or configuration problem: log, exit EX_CONFIG */
void
cm_fatal(const char *fmt, ...)
{
	VLOG(CM_LOG_FATAL, 0);
	exit(EX_CONFIG);
}

/* cm_panic - a bug: log and abort for a core dump */
void
cm_panic(const char *fmt, ...)
{
	static volatile sig_atomic_t panicking;

	if (!panicking) {
		panicking = 1;
		VLOG(CM_LOG_PANIC, 0);
	}
	abort();
}
