/*
 * NAME
 *	log 3 - diagnostics and structured event log lines
 * SYNOPSIS
 *	#include <cm_log.h>
 *
 *	void	cm_log_init(const char *program);
 *	int	cm_log_setup(const struct cm_log_conf *conf, const char **why);
 *	int	cm_log_reopen(void);
 *	void	cm_log_reopen_signal(void);
 *	int	cm_log_reopen_pending(void);
 *	void	cm_log_set_stream(void *stdio_file);
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
 *	const char *cm_log_str(char *buf, size_t bufsize, const char *s,
 *		    size_t len, size_t max);
 *
 *	struct cm_event *cm_event_new(const char *event, const char *queue_id);
 *	void	cm_event_flags(struct cm_event *ev, int flags);
 *	void	cm_event_str(struct cm_event *ev, const char *key,
 *		    const char *val);
 *	void	cm_event_strn(struct cm_event *ev, const char *key,
 *		    const char *val, size_t len);
 *	void	cm_event_int(struct cm_event *ev, const char *key, long long);
 *	void	cm_event_bool(struct cm_event *ev, const char *key, int);
 *	void	cm_event_null(struct cm_event *ev, const char *key);
 *	void	cm_event_addr(struct cm_event *ev, const char *key,
 *		    const char *addr);
 *	void	cm_event_obj_begin(struct cm_event *ev, const char *key);
 *	void	cm_event_obj_end(struct cm_event *ev);
 *	void	cm_event_arr_begin(struct cm_event *ev, const char *key);
 *	void	cm_event_arr_end(struct cm_event *ev);
 *	int	cm_event_render(const struct cm_event *ev, int format,
 *		    uint64_t ts_ms, struct cm_buf *out);
 *	void	cm_event_emit(struct cm_event *ev, int level);
 *	void	cm_event_free(struct cm_event *ev);
 * DESCRIPTION
 *	See cm_log.h for the two kinds of output and the line shapes. This
 *	file keeps the logger's state (program, host, format, level, sink,
 *	address mode and hash key); cm_log_setup() runs at start-up before
 *	threads exist, after which the state is only read, except the sink,
 *	which a mutex guards (reopen, set_stream, and every write).
 *
 *	Every line reaches the sink in one write(2) (file, stderr) or one
 *	syslog(3) call, so lines of concurrent threads never interleave.
 *	A line is at most CM_LOG_LINE_MAX bytes before the sink's prefix.
 *
 *	Events are recorded, not rendered, as they are built: each field is
 *	an operation holding its key and its value already capped at
 *	CM_LOG_VALUE_MAX bytes (cut on a UTF-8 boundary; the rendering adds
 *	"..."), so a 1 MiB value costs 256 bytes. At most CM_EV_DEPTH_MAX
 *	containers nest; deeper ones and everything in them are dropped,
 *	and an end without a begin is ignored. Unclosed containers are closed
 *	by the rendering. A field that would push the line past
 *	CM_LOG_LINE_MAX is dropped with every field after it, the open
 *	containers are closed and "truncated" is added (JSON
 *	"truncated":true, text truncated=yes), so JSON output always parses.
 *
 *	Text rendering writes null fields not at all and booleans as
 *	yes/no. cm_event_addr() normalizes the address (cm_addr_norm());
 *	with log_addresses = domain it shows "@domain", and "?" for a bare
 *	local part or an address that does not parse; with hash it shows
 *	"h:" + 16 hex digits (HMAC of the normalized address) + "@domain"
 *	(no domain part for a bare local part; the HMAC of the raw bytes for
 *	an address that does not parse). The null sender is "" everywhere.
 * DIAGNOSTICS
 *	cm_log_setup() returns -1 with *why ("key: reason"; a static buffer,
 *	setup is single-threaded) for an unknown target or facility, a file
 *	that cannot be opened, or a bad hash key file. cm_fatal() exits
 *	with EX_CONFIG; cm_panic() aborts. A bad key name in an event is a
 *	bug and panics. When memory runs out, an event loses fields (its
 *	line shows "truncated") or, at cm_event_new(), the whole line: the
 *	event functions all accept a NULL event.
 * SEE ALSO
 *	cm_conf(3h), cm_addr(3h), syslog(3).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cm_addr.h"
#include "cm_buf.h"
#include "cm_conf.h"
#include "cm_log.h"

#define CM_EV_DEPTH_MAX 8 /* nesting of objects and arrays */
#define CM_EV_OPS_MAX 4096 /* fields per event */
#define CM_EV_KEY_MAX 64 /* bytes of a key name */
#define CM_LOG_FATAL (-1) /* internal levels, never filtered */
#define CM_LOG_PANIC (-2)
#define KEY_FILE_MAX 4096

enum { SINK_STDERR, SINK_SYSLOG, SINK_FILE };

static struct {
	pthread_mutex_t lock;
	char program[64];
	char host[256];
	int format;
	volatile int level;
	int addresses;
	unsigned char *key;
	size_t keylen;
	int sink;
	int facility;
	int fd; /* file sink */
	char *path; /* file sink */
	FILE *stream; /* cm_log_set_stream() */
} L = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.program = "mailtally",
	.host = "localhost",
	.format = CM_LOG_TEXT,
	.level = CM_LOG_INFO,
	.sink = SINK_STDERR,
	.fd = -1,
};

static volatile sig_atomic_t reopen_flag;
static void sink_close(void);
static char why_buf[512];

static const char *const format_names[] = { "text", "json", NULL };
static const char *const level_names[] = { "error", "warning", "info", "debug",
	NULL };
static const char *const addr_names[] = { "full", "hash", "domain", NULL };

#define LOG_DEF(n, t, d, f, c)                                                 \
	{                                                                      \
		n, t, d, 0, 0, offsetof(struct cm_log_conf, f), c, NULL, NULL, \
		    NULL, 0                                                    \
	}
const struct cm_conf_def cm_log_conf_defs[] = {
	LOG_DEF("log_format", CM_CONF_ENUM, "text", format, format_names),
	LOG_DEF("log_target", CM_CONF_STR, "syslog", target, NULL),
	LOG_DEF("syslog_facility", CM_CONF_STR, "mail", facility, NULL),
	LOG_DEF("log_level", CM_CONF_ENUM, "info", level, level_names),
	LOG_DEF("log_addresses", CM_CONF_ENUM, "full", addresses, addr_names),
	LOG_DEF("log_hash_key_file", CM_CONF_STR, NULL, hash_key_file, NULL),
	{ NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL, 0 },
};

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

/*
 * utf8_len - length of the valid UTF-8 sequence at s (n bytes left), or
 * 0: no overlong forms, surrogates or code points above U+10FFFF.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t need, i;
	unsigned int cp, min;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < need)
		return 0;
	for (i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/*
 * json_escape - append s[0..n) as the inside of a JSON string, stopping
 * before the buffer would pass limit bytes. Returns 1 when all of s was
 * written, 0 when it stopped early or the buffer failed.
 */
static int
json_escape(struct cm_buf *b, const char *s, size_t n, size_t limit)
{
	const unsigned char *p = (const unsigned char *)s;
	char tmp[8];
	size_t i, k, tl;
	const char *piece;

	for (i = 0; i < n; i += k) {
		piece = tmp;
		k = 1;
		if (p[i] == '"' || p[i] == '\\') {
			tmp[0] = '\\', tmp[1] = (char)p[i], tl = 2;
		} else if (p[i] == '\n') {
			piece = "\\n", tl = 2;
		} else if (p[i] == '\t') {
			piece = "\\t", tl = 2;
		} else if (p[i] >= 0x20 && p[i] < 0x7f) {
			piece = s + i, tl = 1;
		} else if (p[i] >= 0x80 && (k = utf8_len(p + i, n - i)) > 0) {
			piece = s + i, tl = k;
		} else {
			k = 1;
			tl = (size_t)snprintf(tmp, sizeof tmp, "\\u%04x", p[i]);
		}
		if (b->len + tl > limit || cm_buf_append(b, piece, tl) == -1)
			return 0;
	}
	return 1;
}

/* json_str - append a JSON string; "..." marks a capped value */
static void
json_str(struct cm_buf *b, const char *s, size_t n, int capped)
{
	cm_buf_putc(b, '"');
	json_escape(b, s, n, SIZE_MAX);
	if (capped)
		cm_buf_append(b, "...", 3);
	cm_buf_putc(b, '"');
}

/*
 * text_escape - append s[0..n) with \xHH for bytes outside printable
 * ASCII and for the bytes in "esc"; a backslash is always escaped.
 */
static void
text_escape(struct cm_buf *b, const char *s, size_t n, const char *esc)
{
	unsigned char c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '"' && strchr(esc, '"'))
			cm_buf_append(b, "\\\"", 2);
		else if (c == '\\' && strchr(esc, '\\'))
			cm_buf_append(b, "\\\\", 2);
		else if (c < 0x20 || c >= 0x7f || c == '\\' ||
		    (c != '\0' && strchr(esc, c)))
			cm_buf_printf(b, "\\x%02x", c);
		else
			cm_buf_putc(b, c);
	}
}

/* text_val - a text value: bare when every byte is safe, else quoted */
static void
text_val(struct cm_buf *b, const char *s, size_t n, int capped)
{
	static const char safe[] = "._-:/@+,=[]()";
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || strchr(safe, c)) ||
		    c == '\0')
			break;
	}
	if (n > 0 && i == n) {
		cm_buf_append(b, s, n);
		if (capped)
			cm_buf_append(b, "...", 3);
		return;
	}
	cm_buf_putc(b, '"');
	text_escape(b, s, n, "\"\\");
	if (capped)
		cm_buf_append(b, "...", 3);
	cm_buf_putc(b, '"');
}

/* cm_log_str - escape and cap an untrusted string for a diagnostic */
const char *
cm_log_str(char *buf, size_t bufsize, const char *s, size_t len, size_t max)
{
	size_t i, o = 0, need = 0, lim, n;
	unsigned char c;
	int capped;

	if (bufsize == 0)
		return buf;
	if (s == NULL)
		s = "(null)", len = 6;
	n = len > max ? max : len;
	capped = len > max;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		need += (c < 0x20 || c >= 0x7f || c == '\\') ? 4 : 1;
	}
	if (need > bufsize - 1)
		capped = 1;
	lim = capped && bufsize - 1 >= 3 ? bufsize - 1 - 3 : bufsize - 1;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			if (o + 4 > lim)
				break;
			snprintf(buf + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			if (o + 1 > lim)
				break;
			buf[o++] = (char)c;
		}
	}
	if (capped && bufsize - 1 >= 3) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* now_ms - wall clock in ms; never panics (cm_panic() calls it) */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* json_head - {"ts":..,"host":..,"program":.. without the closing brace */
static void
json_head(struct cm_buf *b, uint64_t ts_ms)
{
	struct tm tm;
	time_t t = (time_t)(ts_ms / 1000);

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	cm_buf_printf(b, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03uZ\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (unsigned)(ts_ms % 1000));
	cm_buf_append(b, ",\"host\":", 8);
	json_str(b, L.host, strlen(L.host), 0);
	cm_buf_append(b, ",\"program\":", 11);
	json_str(b, L.program, strlen(L.program), 0);
}

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
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, L.host, L.program,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof out)
		n = 0;
	if (len > sizeof out - (size_t)n - 1)
		len = sizeof out - (size_t)n - 1;
	memcpy(out + n, line, len);
	out[(size_t)n + len] = '\n';
	write_all(fd, out, (size_t)n + len + 1);
}

/* sink_write - hand one rendered line to the sink */
static void
sink_write(int level, const char *line, size_t len)
{
	pthread_mutex_lock(&L.lock);
	if (L.stream != NULL) {
		fwrite(line, 1, len, L.stream);
		fputc('\n', L.stream);
		fflush(L.stream);
	} else if (L.sink == SINK_SYSLOG) {
		syslog(sink_prio(level), "%.*s", (int)len, line);
		if (level < 0 && isatty(STDERR_FILENO))
			sink_fd_line(STDERR_FILENO, line, len);
	} else {
		sink_fd_line(L.sink == SINK_FILE ? L.fd : STDERR_FILENO, line,
		    len);
	}
	pthread_mutex_unlock(&L.lock);
}

/* open_log_file - open a log file for appending */
static int
open_log_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0640);
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
	free(L.key);
	if ((L.key = malloc((size_t)n)) == NULL) {
		*why = "log_hash_key_file: out of memory";
		return -1;
	}
	memcpy(L.key, buf, (size_t)n);
	L.keylen = (size_t)n;
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
		snprintf(L.program, sizeof L.program, "%s", program);
	}
	if (gethostname(L.host, sizeof L.host) == -1)
		snprintf(L.host, sizeof L.host, "localhost");
	L.host[sizeof L.host - 1] = '\0';
	L.format = CM_LOG_TEXT;
	L.level = CM_LOG_INFO;
	L.addresses = CM_LOG_ADDR_FULL;
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

/* cm_log_setup - apply a configuration: sink, format, level, privacy */
int
cm_log_setup(const struct cm_log_conf *conf, const char **why)
{
	const char *path = NULL, *fac;
	int sink, facility = -1, fd = -1;
	size_t i;
	char *pathcopy = NULL;

	fac = conf->facility ? conf->facility : "mail";
	for (i = 0; i < sizeof facilities / sizeof facilities[0]; i++)
		if (strcmp(fac, facilities[i].name) == 0)
			facility = facilities[i].value;
	if (facility == -1)
		return (*why = "syslog_facility: want mail, daemon, user or "
			       "local0-local7"),
		       -1;
	if (parse_target(conf->target, &sink, &path, why) == -1)
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
	if (sink == SINK_FILE) {
		if ((fd = open_log_file(path)) == -1) {
			snprintf(why_buf, sizeof why_buf, "log_target: %s: %s",
			    path, strerror(errno));
			return (*why = why_buf), -1;
		}
		if ((pathcopy = strdup(path)) == NULL) {
			close(fd);
			return (*why = "log_target: out of memory"), -1;
		}
	}
	sink_close();
	pthread_mutex_lock(&L.lock);
	L.sink = sink;
	L.fd = fd;
	L.path = pathcopy;
	L.facility = facility;
	if (sink == SINK_SYSLOG)
		openlog(L.program, LOG_PID | LOG_NDELAY, facility);
	pthread_mutex_unlock(&L.lock);
	L.format = conf->format;
	L.level = conf->level;
	L.addresses = conf->addresses;
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
	pthread_mutex_lock(&L.lock);
	if (L.sink == SINK_FILE) {
		if ((fd = open_log_file(L.path)) == -1) {
			err = errno;
		} else {
			close(L.fd);
			L.fd = fd;
		}
	}
	pthread_mutex_unlock(&L.lock);
	if (err) {
		errno = err;
		cm_log_warn("cannot reopen log file %s", L.path);
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
	pthread_mutex_lock(&L.lock);
	L.stream = stdio_file;
	pthread_mutex_unlock(&L.lock);
}

/* cm_log_set_level - filter out lines above level */
void
cm_log_set_level(int level)
{
	if (level >= CM_LOG_ERROR && level <= CM_LOG_DEBUG)
		L.level = level;
}

/* cm_log_get_level - the current level */
int
cm_log_get_level(void)
{
	return L.level;
}

/* sink_close - close the sink; back to stderr */
static void
sink_close(void)
{
	pthread_mutex_lock(&L.lock);
	if (L.sink == SINK_SYSLOG)
		closelog();
	if (L.fd != -1)
		close(L.fd);
	L.fd = -1;
	free(L.path);
	L.path = NULL;
	L.sink = SINK_STDERR;
	pthread_mutex_unlock(&L.lock);
}

/* cm_log_close - close the sink and forget the key; back to stderr */
void
cm_log_close(void)
{
	sink_close();
	if (L.key != NULL)
		explicit_bzero(L.key, L.keylen);
	free(L.key);
	L.key = NULL;
	L.keylen = 0;
}

/*
 * vlog - format and write one diagnostic. Text: "warning: msg" with
 * control bytes as \xHH (a caller may have forgotten cm_log_str());
 * JSON: {"ts","host","program","level","msg"}. "err" is an errno to
 * append, or 0.
 */
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

	if (level > L.level)
		return;
	r = vsnprintf(msg, sizeof msg, fmt, ap);
	n = r < 0 ? 0 : (size_t)r >= sizeof msg ? sizeof msg - 1 : (size_t)r;
	if (err != 0)
		r = snprintf(msg + n, sizeof msg - n, ": %s",
		    strerror_r(err, ebuf, sizeof ebuf));
	n = strnlen(msg, sizeof msg);
	cm_buf_init(&b, 0);
	if (L.format == CM_LOG_JSON) {
		json_head(&b, now_ms());
		cm_buf_printf(&b, ",\"level\":\"%s\",\"msg\":\"", name);
		if (!json_escape(&b, msg, n, CM_LOG_LINE_MAX - 6))
			cm_buf_append(&b, "...", 3);
		cm_buf_append(&b, "\"}", 2);
	} else {
		if (level != CM_LOG_INFO)
			cm_buf_printf(&b, "%s: ", name);
		text_escape(&b, msg, n, "");
		if (b.len > CM_LOG_LINE_MAX) {
			b.len = CM_LOG_LINE_MAX - 3;
			cm_buf_append(&b, "...", 3);
		}
	}
	if (!b.overflow)
		sink_write(level, cm_buf_str(&b), b.len);
	else
		sink_write(level, msg, n);
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

/*
 * Events. An event is a list of operations; strings live in "arena"
 * and are referred to by offset, since the arena moves as it grows.
 */
enum { OP_STR, OP_ADDR, OP_INT, OP_BOOL, OP_NULL, OP_OBJ, OP_ARR, OP_END };
#define NO_KEY ((size_t)-1)

struct ev_op {
	unsigned char type;
	unsigned char flags;
	unsigned char capped;
	size_t key; /* arena offset, NO_KEY in arrays */
	size_t val; /* arena offset of a string value */
	size_t vlen;
	long long num;
};

struct cm_event {
	struct ev_op *ops;
	size_t nops;
	size_t cap;
	struct cm_buf arena;
	size_t qid; /* arena offset, NO_KEY: NOQUEUE */
	size_t qidlen;
	int qid_capped;
	char name[CM_EV_KEY_MAX + 1];
	int flags;
	int depth; /* open containers recorded */
	int skip; /* open containers dropped (too deep) */
	int lost; /* fields dropped: no memory or too many */
	unsigned char kind[CM_EV_DEPTH_MAX + 1];
};

/* check_name - key names are code constants: [a-z0-9_.]{1,64} */
static void
check_name(const char *key)
{
	size_t n;

	if (key == NULL)
		cm_panic("cm_event: missing key");
	n = strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_.");
	if (n == 0 || key[n] != '\0' || n > CM_EV_KEY_MAX)
		cm_panic("cm_event: bad key name");
}

/* cap_len - cap an untrusted value, cutting on a UTF-8 boundary */
static size_t
cap_len(const char *s, size_t n, int *capped)
{
	size_t cut = CM_LOG_VALUE_MAX;

	*capped = n > CM_LOG_VALUE_MAX;
	if (!*capped)
		return n;
	while (cut > CM_LOG_VALUE_MAX - 3 &&
	    ((unsigned char)s[cut] & 0xc0) == 0x80)
		cut--;
	return cut;
}

/* cm_event_new - start an event record; NULL when memory ran out */
struct cm_event *
cm_event_new(const char *event, const char *queue_id)
{
	struct cm_event *ev;
	size_t n;

	check_name(event);
	if ((ev = calloc(1, sizeof *ev)) == NULL)
		return NULL;
	cm_buf_init(&ev->arena, 0);
	snprintf(ev->name, sizeof ev->name, "%s", event);
	ev->flags = CM_EV_BOTH;
	ev->qid = NO_KEY;
	if (queue_id != NULL) {
		n = cap_len(queue_id, strnlen(queue_id, CM_LOG_VALUE_MAX + 1),
		    &ev->qid_capped);
		ev->qid = 0;
		ev->qidlen = n;
		if (cm_buf_append(&ev->arena, queue_id, n) == -1 ||
		    cm_buf_putc(&ev->arena, '\0') == -1) {
			cm_event_free(ev);
			return NULL;
		}
	}
	return ev;
}

/* cm_event_flags - formats (CM_EV_TEXT, CM_EV_JSON) of the next fields */
void
cm_event_flags(struct cm_event *ev, int flags)
{
	if (ev != NULL)
		ev->flags = flags & CM_EV_BOTH;
}

/*
 * ev_add - record one operation. Containers beyond CM_EV_DEPTH_MAX and
 * everything inside them are dropped; so is an end without a begin.
 * Room for the ends of the open containers is always kept, so the
 * record stays well nested even when memory runs out.
 */
static void
ev_add(struct cm_event *ev, int type, const char *key, const char *val,
    size_t vlen, long long num)
{
	struct ev_op *op, *ops;
	int begin = type == OP_OBJ || type == OP_ARR, capped = 0;
	size_t koff = NO_KEY, voff = 0, cap;

	if (ev == NULL)
		return;
	if (key != NULL ||
	    (ev->skip == 0 && type != OP_END && ev->kind[ev->depth] != OP_ARR))
		check_name(key);
	if (type == OP_END) {
		if (ev->skip > 0)
			ev->skip--;
		else if (ev->depth > 0) {
			ev->depth--;
			op = &ev->ops[ev->nops++];
			memset(op, 0, sizeof *op);
			op->type = OP_END;
		}
		return;
	}
	if (ev->skip > 0 || (begin && ev->depth == CM_EV_DEPTH_MAX)) {
		ev->skip += begin;
		return;
	}
	if (ev->nops + 1 + CM_EV_DEPTH_MAX > ev->cap) {
		cap = ev->cap ? ev->cap * 2 : 32;
		if (ev->nops >= CM_EV_OPS_MAX ||
		    (ops = reallocarray(ev->ops, cap, sizeof *ops)) == NULL) {
			ev->lost = 1;
			ev->skip += begin;
			return;
		}
		ev->ops = ops;
		ev->cap = cap;
	}
	if (key != NULL && ev->kind[ev->depth] != OP_ARR) {
		koff = ev->arena.len;
		if (cm_buf_append(&ev->arena, key, strlen(key) + 1) == -1)
			goto lost;
	}
	if (type == OP_STR || type == OP_ADDR) {
		vlen = cap_len(val, vlen, &capped);
		voff = ev->arena.len;
		if (cm_buf_append(&ev->arena, val, vlen) == -1)
			goto lost;
	}
	op = &ev->ops[ev->nops++];
	op->type = (unsigned char)type;
	op->flags = (unsigned char)ev->flags;
	op->capped = (unsigned char)capped;
	op->key = koff;
	op->val = voff;
	op->vlen = vlen;
	op->num = num;
	if (begin)
		ev->kind[++ev->depth] = (unsigned char)type;
	return;
lost:
	ev->lost = 1;
	ev->skip += begin;
}

/* cm_event_str - a string field (NULL: a null field) */
void
cm_event_str(struct cm_event *ev, const char *key, const char *val)
{
	if (val == NULL)
		ev_add(ev, OP_NULL, key, NULL, 0, 0);
	else
		ev_add(ev, OP_STR, key, val, strnlen(val, CM_LOG_VALUE_MAX + 1),
		    0);
}

/* cm_event_strn - a string field of len bytes, which may hold NUL */
void
cm_event_strn(struct cm_event *ev, const char *key, const char *val, size_t len)
{
	if (val == NULL)
		ev_add(ev, OP_NULL, key, NULL, 0, 0);
	else
		ev_add(ev, OP_STR, key, val, len, 0);
}

/* cm_event_int - an integer field */
void
cm_event_int(struct cm_event *ev, const char *key, long long v)
{
	ev_add(ev, OP_INT, key, NULL, 0, v);
}

/* cm_event_bool - a boolean field */
void
cm_event_bool(struct cm_event *ev, const char *key, int v)
{
	ev_add(ev, OP_BOOL, key, NULL, 0, v != 0);
}

/* cm_event_null - a field whose value is not known */
void
cm_event_null(struct cm_event *ev, const char *key)
{
	ev_add(ev, OP_NULL, key, NULL, 0, 0);
}

/* cm_event_obj_begin - open an object */
void
cm_event_obj_begin(struct cm_event *ev, const char *key)
{
	ev_add(ev, OP_OBJ, key, NULL, 0, 0);
}

/* cm_event_obj_end - close the innermost object or array */
void
cm_event_obj_end(struct cm_event *ev)
{
	ev_add(ev, OP_END, NULL, NULL, 0, 0);
}

/* cm_event_arr_begin - open an array */
void
cm_event_arr_begin(struct cm_event *ev, const char *key)
{
	ev_add(ev, OP_ARR, key, NULL, 0, 0);
}

/* cm_event_arr_end - close the innermost object or array */
void
cm_event_arr_end(struct cm_event *ev)
{
	ev_add(ev, OP_END, NULL, NULL, 0, 0);
}

/*
 * cm_event_addr - an address field, shown as log_addresses says. The
 * address is normalized first, so "<A@Example.ORG>" logs as
 * "A@example.org" in every mode.
 */
void
cm_event_addr(struct cm_event *ev, const char *key, const char *addr)
{
	char norm[CM_ADDR_MAX + 1], hash[CM_ADDR_HASH_LEN + 1];
	char shown[CM_ADDR_MAX + 8];
	const char *why, *dom, *src;
	size_t len;
	int ok;

	if (ev == NULL)
		return;
	if (addr == NULL) {
		ev_add(ev, OP_NULL, key, NULL, 0, 0);
		return;
	}
	len = strnlen(addr, CM_ADDR_MAX * 4);
	ok = cm_addr_norm(addr, len, norm, &why) == 0;
	src = ok ? norm : addr;
	dom = ok ? cm_addr_domain(norm) : NULL;
	if ((ok && norm[0] == '\0') || L.addresses == CM_LOG_ADDR_FULL) {
		ev_add(ev, OP_ADDR, key, src, ok ? strlen(norm) : len, 0);
		return;
	}
	if (L.addresses == CM_LOG_ADDR_DOMAIN) {
		snprintf(shown, sizeof shown, "%s%s", dom ? "@" : "?",
		    dom ? dom : "");
	} else {
		if (!ok) {
			memcpy(norm, addr,
			    len > CM_ADDR_MAX ? CM_ADDR_MAX : len);
			norm[len > CM_ADDR_MAX ? CM_ADDR_MAX : len] = '\0';
		}
		if (cm_addr_hash(L.key, L.keylen, norm, hash) == -1)
			snprintf(hash, sizeof hash, "?");
		snprintf(shown, sizeof shown, "h:%s%s%s", hash, dom ? "@" : "",
		    dom ? dom : "");
	}
	ev_add(ev, OP_ADDR, key, shown, strlen(shown), 0);
}

/* cm_event_free - free an event record */
void
cm_event_free(struct cm_event *ev)
{
	if (ev == NULL)
		return;
	cm_buf_release(&ev->arena);
	free(ev->ops);
	free(ev);
}

/* Rendering state: one entry per open container, [0] the line itself. */
struct rlevel {
	int kind; /* OP_OBJ or OP_ARR */
	int hidden; /* not shown in this format */
	size_t n; /* elements shown so far */
	size_t plen; /* text: path length inside this container */
};

struct render {
	const struct cm_event *ev;
	struct cm_buf *out;
	struct cm_buf piece;
	int json;
	int depth;
	int full; /* a field did not fit: stop adding */
	struct rlevel st[CM_EV_DEPTH_MAX + 1];
	char path[(CM_EV_KEY_MAX + 2) * (CM_EV_DEPTH_MAX + 1) + 32];
};

#define JSON_TRUNC ",\"truncated\":true"
#define TEXT_TRUNC " truncated=yes"

/* fits - does a piece fit, keeping room to close and mark truncation? */
static int
fits(const struct render *r, size_t len, int extra_depth)
{
	size_t reserve;

	reserve = r->json
	    ? (size_t)(r->depth + extra_depth) + 1 + sizeof JSON_TRUNC
	    : sizeof TEXT_TRUNC;
	return r->out->len + len + reserve <= CM_LOG_LINE_MAX;
}

/*
 * piece_name - start a piece: the separator and the name of an element
 * ("key": in JSON objects; " path.key=" or " path.N=" in text).
 */
static void
piece_name(struct render *r, const struct ev_op *op, int leaf)
{
	struct rlevel *l = &r->st[r->depth];
	const char *key = op->key == NO_KEY ? "" : r->ev->arena.data + op->key;

	if (r->json) {
		if (l->n > 0)
			cm_buf_putc(&r->piece, ',');
		if (l->kind == OP_OBJ)
			cm_buf_printf(&r->piece, "\"%s\":", key);
		return;
	}
	if (!leaf)
		return;
	cm_buf_printf(&r->piece, " %.*s", (int)l->plen, r->path);
	if (l->kind == OP_OBJ)
		cm_buf_printf(&r->piece, "%s=", key);
	else
		cm_buf_printf(&r->piece, "%zu=", l->n);
}

/* render_leaf - one scalar field into r->piece; 0 when not shown */
static int
render_leaf(struct render *r, const struct ev_op *op)
{
	struct cm_buf *b = &r->piece;
	const char *v = "";

	if (op->type == OP_STR || op->type == OP_ADDR)
		v = r->ev->arena.data + op->val;

	if (!r->json && op->type == OP_NULL)
		return 0;
	piece_name(r, op, 1);
	switch (op->type) {
	case OP_STR:
		if (r->json)
			json_str(b, v, op->vlen, op->capped);
		else
			text_val(b, v, op->vlen, op->capped);
		break;
	case OP_ADDR:
		if (r->json) {
			json_str(b, v, op->vlen, op->capped);
			break;
		}
		cm_buf_putc(b, '<');
		text_escape(b, v, op->vlen, "<>");
		if (op->capped)
			cm_buf_append(b, "...", 3);
		cm_buf_putc(b, '>');
		break;
	case OP_INT:
		cm_buf_printf(b, "%lld", op->num);
		break;
	case OP_BOOL:
		if (r->json)
			cm_buf_printf(b, "%s", op->num ? "true" : "false");
		else
			cm_buf_printf(b, "%s", op->num ? "yes" : "no");
		break;
	default:
		cm_buf_printf(b, "null");
		break;
	}
	return 1;
}

/* render_begin - open a container, or push a hidden one */
static void
render_begin(struct render *r, const struct ev_op *op, int shown)
{
	struct rlevel *l = &r->st[r->depth], *in = &r->st[r->depth + 1];
	const char *key = op->key == NO_KEY ? "" : r->ev->arena.data + op->key;
	int w;

	in->kind = op->type;
	in->hidden = 1;
	in->n = 0;
	in->plen = l->plen;
	if (shown) {
		piece_name(r, op, 0);
		if (r->json)
			cm_buf_putc(&r->piece, op->type == OP_OBJ ? '{' : '[');
		if (!r->piece.overflow && fits(r, r->piece.len, 1)) {
			cm_buf_append(r->out, r->piece.data, r->piece.len);
			in->hidden = 0;
			l->n++;
		} else {
			r->full = 1;
		}
	}
	if (!r->json && !in->hidden) {
		if (l->kind == OP_OBJ)
			w = snprintf(r->path + l->plen,
			    sizeof r->path - l->plen, "%s.", key);
		else
			w = snprintf(r->path + l->plen,
			    sizeof r->path - l->plen, "%zu.", l->n - 1);
		if (w > 0 && (size_t)w < sizeof r->path - l->plen)
			in->plen = l->plen + (size_t)w;
	}
	r->depth++;
}

/* render_end - close the innermost container */
static void
render_end(struct render *r)
{
	struct rlevel *l = &r->st[r->depth];

	if (r->depth == 0)
		return;
	if (r->json && !l->hidden)
		cm_buf_putc(r->out, l->kind == OP_OBJ ? '}' : ']');
	r->depth--;
}

/* render_head - the fixed start of a line */
static void
render_head(struct render *r, uint64_t ts_ms)
{
	const struct cm_event *ev = r->ev;
	const char *qid = ev->qid == NO_KEY ? "" : ev->arena.data + ev->qid;

	if (r->json) {
		json_head(r->out, ts_ms);
		cm_buf_printf(r->out,
		    ",\"event\":\"%s\",\"queue_id\":", ev->name);
		if (ev->qid == NO_KEY)
			cm_buf_append(r->out, "null", 4);
		else
			json_str(r->out, qid, ev->qidlen, ev->qid_capped);
		r->st[0].n = 5;
	} else {
		if (ev->qid == NO_KEY)
			cm_buf_append(r->out, "NOQUEUE", 7);
		else
			text_val(r->out, qid, ev->qidlen, ev->qid_capped);
		cm_buf_printf(r->out, ": %s", ev->name);
	}
}

/*
 * cm_event_render - render an event into out (reset first) in format
 * (CM_LOG_TEXT or CM_LOG_JSON) with time stamp ts_ms. Returns 0, or -1
 * when out failed (its bound or memory); out then holds "".
 */
int
cm_event_render(const struct cm_event *ev, int format, uint64_t ts_ms,
    struct cm_buf *out)
{
	struct render r;
	const struct ev_op *op;
	size_t i;
	int mask, hidden;

	cm_buf_reset(out);
	if (ev == NULL)
		return -1;
	memset(&r, 0, sizeof r);
	r.ev = ev;
	r.out = out;
	r.json = format == CM_LOG_JSON;
	r.st[0].kind = OP_OBJ;
	mask = r.json ? CM_EV_JSON : CM_EV_TEXT;
	cm_buf_init(&r.piece, CM_LOG_LINE_MAX);
	render_head(&r, ts_ms);
	for (i = 0; i < ev->nops; i++) {
		op = &ev->ops[i];
		hidden = r.full || r.st[r.depth].hidden || !(op->flags & mask);
		if (op->type == OP_END) {
			render_end(&r);
			continue;
		}
		cm_buf_reset(&r.piece);
		if (op->type == OP_OBJ || op->type == OP_ARR) {
			render_begin(&r, op, !hidden);
			continue;
		}
		if (hidden || !render_leaf(&r, op))
			continue;
		if (!r.piece.overflow && fits(&r, r.piece.len, 0)) {
			cm_buf_append(out, r.piece.data, r.piece.len);
			r.st[r.depth].n++;
		} else {
			r.full = 1;
		}
	}
	while (r.depth > 0)
		render_end(&r);
	if (r.full || ev->lost)
		cm_buf_printf(out, "%s", r.json ? JSON_TRUNC : TEXT_TRUNC);
	if (r.json)
		cm_buf_putc(out, '}');
	cm_buf_release(&r.piece);
	if (out->overflow) {
		cm_buf_reset(out);
		return -1;
	}
	return 0;
}

/* cm_event_emit - render in the configured format, write, free */
void
cm_event_emit(struct cm_event *ev, int level)
{
	struct cm_buf b;

	if (ev == NULL)
		return;
	if (level <= L.level) {
		cm_buf_init(&b, 0);
		if (cm_event_render(ev, L.format, now_ms(), &b) == 0)
			sink_write(level, cm_buf_str(&b), b.len);
		cm_buf_release(&b);
	}
	cm_event_free(ev);
}
