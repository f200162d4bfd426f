/*
 * NAME
 *	cm_log 3h - diagnostics and structured event log lines
 * SYNOPSIS
 *	#include <cm_log.h>
 * DESCRIPTION
 *	Two kinds of output share one sink:
 *
 *	Diagnostics (Postfix msg(3), OpenSMTPD log.h): cm_log_error(),
 *	cm_log_warn() (appends strerror(errno)), cm_log_warnx(), cm_log_info(),
 *	cm_log_debug(); cm_fatal() exits with EX_CONFIG; cm_panic() aborts.
 *	Levels are filtered inside, never at call sites.
 *
 *	Events: one record per decision, rendered as a Postfix-style text line
 *	("QUEUEID: event key=value ...") or as one JSON object per line. A
 *	record is built with cm_event_new(), fields in order, then
 *	cm_event_emit(), which renders, writes and frees it. Every string
 *	value is treated as untrusted: it is escaped and capped at
 *	CM_LOG_VALUE_MAX bytes (a longer one ends in "..."); JSON output is
 *	valid JSON whatever bytes come in (invalid UTF-8 and control bytes are
 *	written as \u00XX of the byte value).
 *
 *	Text rendering: "QUEUEID: EVENT key=value key=value". A queue id of
 *	NULL renders as "NOQUEUE". Values made only of safe characters are
 *	written bare; others are written in double quotes with \" \\ and \xHH
 *	escapes. Fields inside an object are written "parent.key=value";
 *	array elements "parent.N.key=value" (N from 0). cm_event_flags() picks
 *	the formats the next fields go to, so a module can give a compact
 *	text summary (dkim=pass:example.org) and the full array to JSON only.
 *	cm_event_addr() writes addresses as key=<addr> in text. Null fields
 *	are left out of text; booleans are yes/no in text.
 *
 *	Array elements take a NULL key; every other key must match
 *	[a-z0-9_.]{1,64} (a bad key is a bug: cm_panic()). Nesting deeper
 *	than 8 is dropped with its content; an end closes the innermost open
 *	object or array, an end with nothing open is ignored, and rendering
 *	closes what is left open. A line that would pass CM_LOG_LINE_MAX
 *	stops before the first field that does not fit and ends with
 *	truncated=yes (text) or "truncated":true (JSON, still valid).
 *	Every cm_event_* function accepts a NULL event (cm_event_new() out
 *	of memory) and does nothing.
 *
 *	JSON rendering: {"ts":"2026-11-23T16:33:26.123Z","host":..,
 *	"program":..,"event":..,"queue_id":.., fields...}; queue_id is null
 *	when not known.
 *
 *	Sinks (log_target): syslog (facility log.facility), stderr, or
 *	file:/path, both in the shape of Postfix's maillog_file lines:
 *	"Nov 23 16:33:26 host program[pid]: message". A file is reopened by
 *	cm_log_reopen(); daemons call it from their loop after SIGHUP or
 *	SIGUSR1 (cm_log_reopen_signal() is async-signal-safe and sets a flag
 *	that cm_log_reopen_pending() reads).
 *
 *	Privacy: cm_event_addr() applies log_addresses: full, domain (only
 *	"@domain" is shown) or hash (HMAC-SHA256 under the key in
 *	log_hash_key_file: "h:" + 16 hex digits + "@domain").
 */
#ifndef CM_LOG_H
#define CM_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "cm_conf.h"

#define CM_LOG_VALUE_MAX 256 /* cap for one untrusted value, bytes */
#define CM_LOG_LINE_MAX 8192 /* cap for one rendered line, bytes */

enum cm_log_level { CM_LOG_ERROR, CM_LOG_WARNING, CM_LOG_INFO, CM_LOG_DEBUG };
enum cm_log_format { CM_LOG_TEXT, CM_LOG_JSON };
enum cm_log_addr_mode {
	CM_LOG_ADDR_FULL,
	CM_LOG_ADDR_HASH,
	CM_LOG_ADDR_DOMAIN
};

/* Filled from the config keys CM_LOG_CONF_DEFS (the same in both daemons). */
struct cm_log_conf {
	int format; /* log_format = text | json */
	char *target; /* log_target = syslog | stderr | file:/path */
	char *facility; /* syslog_facility = mail */
	int level; /* log_level = error | warning | info | debug */
	int addresses; /* log_addresses = full | hash | domain */
	char *hash_key_file; /* log_hash_key_file = (empty) */
};

/*
 * The log keys' table; a program lists it as one section of its config,
 * with a struct cm_log_conf as base (see cm_conf.h).
 */
extern const struct cm_conf_def cm_log_conf_defs[];

/* Early start-up: stderr only, level info, text. */
void cm_log_init(const char *program);
/* Apply a config: open the sink, load the hash key. 0 or -1 with *why. */
int cm_log_setup(const struct cm_log_conf *, const char **why);
int cm_log_reopen(void);
void cm_log_reopen_signal(void); /* async-signal-safe */
int cm_log_reopen_pending(void);
/*
 * Tests and the offline mode: write bare lines (no "Mon DD ... prog[pid]: "
 * prefix) to this stream instead of the sink; NULL goes back to the sink.
 */
void cm_log_set_stream(void *stdio_file);
/*
 * Single-threaded event loops: gather file and stderr lines whole and
 * write them in one write(2) at cm_log_flush(); first(arg) is called
 * (and must not log) when a line starts a new batch. Off (the default):
 * one write(2) per line. 0, or -1 when out of memory (then unbuffered).
 */
int cm_log_buffer(int on, void (*first)(void *), void *arg);
void cm_log_flush(void);
/* "%lld" of v into dst (CM_LOG_NUM_MAX bytes, no NUL); its length. */
#define CM_LOG_NUM_MAX 24
size_t cm_log_num(char *dst, long long v);
void cm_log_set_level(int level);
int cm_log_get_level(void);
void cm_log_close(void);

void cm_log_error(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void cm_log_warn(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void cm_log_warnx(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void cm_log_info(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void cm_log_debug(const char *, ...) __attribute__((__format__(printf, 1, 2)));
void cm_fatal(const char *, ...)
    __attribute__((__noreturn__, __format__(printf, 1, 2)));
void cm_panic(const char *, ...)
    __attribute__((__noreturn__, __format__(printf, 1, 2)));

/*
 * cm_log_str - escape and cap an untrusted string for a diagnostic line.
 * Writes at most bufsize-1 bytes plus NUL and returns buf. Control bytes,
 * non-ASCII bytes, '"' and '\' become \xHH (\x22, \x5c), never \" or
 * \\, so the result may be put inside "..." on a log line and a reader
 * unescapes one form only; "..." is appended when capped at max input
 * bytes or by bufsize.
 */
const char *cm_log_str(char *buf, size_t bufsize, const char *s, size_t len,
    size_t max);

/* Event records. */
#define CM_EV_TEXT 1
#define CM_EV_JSON 2
#define CM_EV_BOTH 3

struct cm_event;
struct cm_event *cm_event_new(const char *event, const char *queue_id);
void cm_event_flags(struct cm_event *, int flags);
void cm_event_str(struct cm_event *, const char *key, const char *val);
void cm_event_strn(struct cm_event *, const char *key, const char *val, size_t);
void cm_event_int(struct cm_event *, const char *key, long long);
void cm_event_bool(struct cm_event *, const char *key, int);
void cm_event_null(struct cm_event *, const char *key);
void cm_event_addr(struct cm_event *, const char *key, const char *addr);
void cm_event_obj_begin(struct cm_event *, const char *key);
void cm_event_obj_end(struct cm_event *);
void cm_event_arr_begin(struct cm_event *, const char *key);
void cm_event_arr_end(struct cm_event *);
/*
 * Render (format, wall-clock ms) into out, which is reset first: no
 * trailing newline. 0, or -1 when out's bound or memory failed.
 */
struct cm_buf;
int cm_event_render(const struct cm_event *, int format, uint64_t ts_ms,
    struct cm_buf *out);
/* Render with the configured format, write at level, free. */
void cm_event_emit(struct cm_event *, int level);
/*
 * The format cm_event_emit() renders in (CM_LOG_TEXT or CM_LOG_JSON): an
 * event that is emitted at once may leave out the fields flagged for the
 * other format only, which would not be shown.
 */
int cm_event_format(void);
void cm_event_free(struct cm_event *);

#endif
