/*
 * mf_corpus.h - the signed message corpus replayed by milter_load
 */
#ifndef MF_CORPUS_H
#define MF_CORPUS_H

#include <stddef.h>

/*
 * One header field as Postfix hands it to a milter: the name, then the
 * value after the colon with folded lines joined by a bare "\n" (Postfix
 * and Sendmail keep header lines without their CRLF). 'wire' holds
 * "name\0value\0"; the value starts at wire + name_len + 1, still with
 * its leading space (eaten unless the milter asked for SMFIP_HDR_LEADSPC).
 */
struct mf_hdr {
	char *wire;
	size_t name_len;
	size_t val_len;
};

struct mf_msg {
	char *path;
	int expect_pass; /* 1: dkim=pass expected, 0: dkim=fail */
	char *mail_from;
	char *rcpt_to;
	struct mf_hdr *hdr;
	size_t nhdr;
	unsigned char *body; /* CRLF lines */
	size_t body_len;
	size_t size; /* message bytes, for the SIZE= parameter */
};

struct mf_corpus {
	struct mf_msg *msg;
	size_t nmsg;
	size_t npass, nfail;
	size_t bytes;
};

int mf_corpus_load(struct mf_corpus *, const char *, const char **);
void mf_corpus_free(struct mf_corpus *);

#endif
