/*
 * NAME
 *	log_int 3h - private interface between the logging modules
 * SYNOPSIS
 *	#include "log_int.h"
 * DESCRIPTION
 *	log.c (diagnostics, levels, set-up from struct cm_log_conf),
 *	log_sink.c (syslog, stderr and file sinks), log_fmt.c (escaping
 *	and the JSON line head), event.c (building event records) and
 *	event_render.c (rendering them as text or JSON) share these
 *	declarations. Nothing outside common/log*.c and common/event*.c
 *	includes this file; the public interface is cm_log.h.
 *
 *	struct cm_log_state is the logger's state apart from the sink:
 *	cm_log_setup() writes it at start-up before threads exist, after
 *	which it is only read (the level also by cm_log_set_level()). The
 *	sink's state is private to log_sink.c, under its mutex.
 *
 *	An event is a list of operations (struct cm_ev_op); strings live in
 *	its "arena" and are referred to by offset, since the arena moves as
 *	it grows.
 * DIAGNOSTICS
 *	See the files that define each function.
 */
#ifndef LOG_INT_H
#define LOG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cm_buf.h"
#include "cm_log.h"

/*
 * CM_BYTE_TABLE(P) - the initializer of a table of 256 entries, entry c
 * being P(c), an integer constant expression of c: a byte class stated
 * as its rule rather than as 256 literals.
 */
#define CM_BT4(P, c) P(c), P((c) + 1), P((c) + 2), P((c) + 3)
#define CM_BT16(P, c)                                                          \
	CM_BT4(P, c), CM_BT4(P, (c) + 4), CM_BT4(P, (c) + 8),                  \
	    CM_BT4(P, (c) + 12)
#define CM_BT64(P, c)                                                          \
	CM_BT16(P, c), CM_BT16(P, (c) + 16), CM_BT16(P, (c) + 32),             \
	    CM_BT16(P, (c) + 48)
#define CM_BYTE_TABLE(P)                                                       \
	{                                                                      \
		CM_BT64(P, 0), CM_BT64(P, 64), CM_BT64(P, 128),                \
		    CM_BT64(P, 192)                                            \
	}
#define CM_PRINTABLE(c) ((c) >= 0x20 && (c) <= 0x7e)
#define CM_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define CM_LOWER(c) ((c) >= 'a' && (c) <= 'z')
#define CM_UPPER(c) ((c) >= 'A' && (c) <= 'Z')

#define CM_EV_DEPTH_MAX 8 /* nesting of objects and arrays */
#define CM_EV_OPS_MAX 4096 /* fields per event */
#define CM_EV_KEY_MAX 64 /* bytes of a key name */
#define CM_LOG_FATAL (-1) /* internal levels, never filtered */
#define CM_LOG_PANIC (-2)

/* log.c: the logger's state, apart from the sink */
struct cm_log_state {
	char program[64];
	char host[256];
	int format;
	volatile int level;
	int addresses;
	unsigned char *key;
	size_t keylen;
};

extern struct cm_log_state cm_log_state;

uint64_t cm_log_now_ms(void);

/* log_sink.c: where rendered lines go */
struct cm_log_sink_conf {
	int sink; /* log_sink.c's kinds of sink */
	int facility;
	const char *path; /* into the target string */
};

int cm_log_sink_parse(const char *target, const char *facility,
    struct cm_log_sink_conf *, const char **why);
int cm_log_sink_open(const struct cm_log_sink_conf *, const char **why);
void cm_log_sink_write(int level, const char *line, size_t len);
void cm_log_sink_close(void);

/* log_fmt.c: escaping shared by diagnostics and events */
int cm_log_json_escape(struct cm_buf *, const char *, size_t, size_t limit);
void cm_log_json_str(struct cm_buf *, const char *, size_t, int capped);
void cm_log_text_escape(struct cm_buf *, const char *, size_t, const char *esc);
void cm_log_text_quoted(struct cm_buf *, int open, const char *, size_t,
    int capped, int close);
void cm_log_text_val(struct cm_buf *, const char *, size_t, int capped);
void cm_log_json_head(struct cm_buf *, uint64_t ts_ms);

/* event.c records, event_render.c reads */
enum {
	CM_EV_OP_STR,
	CM_EV_OP_ADDR,
	CM_EV_OP_INT,
	CM_EV_OP_BOOL,
	CM_EV_OP_NULL,
	CM_EV_OP_OBJ,
	CM_EV_OP_ARR,
	CM_EV_OP_END
};
#define CM_EV_NO_KEY ((size_t)-1)

struct cm_ev_op {
	unsigned char type;
	unsigned char flags;
	unsigned char capped;
	unsigned char klen; /* key length, at most CM_EV_KEY_MAX */
	size_t key; /* arena offset, CM_EV_NO_KEY in arrays */
	size_t val; /* arena offset of a string value */
	size_t vlen;
	long long num;
};

struct cm_event {
	struct cm_ev_op *ops;
	size_t nops;
	size_t cap;
	struct cm_buf arena;
	size_t qid; /* arena offset, CM_EV_NO_KEY: NOQUEUE */
	size_t qidlen;
	int qid_capped;
	char name[CM_EV_KEY_MAX + 1];
	int flags;
	int depth; /* open containers recorded */
	int skip; /* open containers dropped (too deep) */
	int lost; /* fields dropped: no memory or too many */
	unsigned char kind[CM_EV_DEPTH_MAX + 1];
};

#endif
