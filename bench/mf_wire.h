/*
 * mf_wire.h - milter packet I/O for the milter_load benchmark client
 */
#ifndef MF_WIRE_H
#define MF_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* Commands from the MTA to the filter. */
#define MF_C_ABORT 'A'
#define MF_C_BODY 'B'
#define MF_C_CONNECT 'C'
#define MF_C_MACRO 'D'
#define MF_C_BODYEOB 'E'
#define MF_C_HELO 'H'
#define MF_C_HEADER 'L'
#define MF_C_MAIL 'M'
#define MF_C_EOH 'N'
#define MF_C_OPTNEG 'O'
#define MF_C_QUIT 'Q'
#define MF_C_RCPT 'R'
#define MF_C_DATA 'T'

/* Replies from the filter to the MTA. */
#define MF_R_ADDRCPT '+'
#define MF_R_DELRCPT '-'
#define MF_R_ADDRCPT_PAR '2'
#define MF_R_SHUTDOWN '4'
#define MF_R_ACCEPT 'a'
#define MF_R_REPLBODY 'b'
#define MF_R_CONTINUE 'c'
#define MF_R_DISCARD 'd'
#define MF_R_CHGFROM 'e'
#define MF_R_CONN_FAIL 'f'
#define MF_R_ADDHEADER 'h'
#define MF_R_INSHEADER 'i'
#define MF_R_SETSYMLIST 'l'
#define MF_R_CHGHEADER 'm'
#define MF_R_PROGRESS 'p'
#define MF_R_QUARANTINE 'q'
#define MF_R_REJECT 'r'
#define MF_R_SKIP 's'
#define MF_R_TEMPFAIL 't'
#define MF_R_REPLYCODE 'y'

/* Largest reply packet we accept (a replaced body chunk is the largest). */
#define MF_REPLY_MAX (1024 * 1024)

/* Where the milter listens: unix:/path, inet:host:port or inet:port@host. */
struct mf_addr {
	int family; /* AF_UNIX or AF_INET */
	char path[108];
	char host[64];
	unsigned port;
};

/*
 * One MTA-to-milter connection. Output is buffered the way Postfix's
 * VSTREAM buffers it: packets accumulate until a reply is awaited, the
 * buffer fills (then exactly one buffer's worth is written), or the caller
 * flushes explicitly (Postfix's smtpd-to-cleanup hand-off).
 */
struct mf_conn {
	int fd;
	size_t bufsize; /* write granularity, as VSTREAM's */
	unsigned char *out;
	size_t out_off, out_len, out_cap;
	size_t pkt_start; /* offset of the open packet's length word */
	unsigned char *in;
	size_t in_off, in_len, in_cap;
	unsigned long nreplies; /* packets read: MTA-milter round trips */
};

int mf_addr_parse(struct mf_addr *, const char *, const char **);
int mf_conn_open(struct mf_conn *, const struct mf_addr *, const char **);
void mf_conn_close(struct mf_conn *);
void mf_pkt_begin(struct mf_conn *, int);
void mf_pkt_add(struct mf_conn *, const void *, size_t);
void mf_pkt_str(struct mf_conn *, const char *);
void mf_pkt_u32(struct mf_conn *, uint32_t);
int mf_pkt_end(struct mf_conn *);
int mf_flush(struct mf_conn *);
int mf_read_reply(struct mf_conn *, int *, const unsigned char **, size_t *);

#endif
