/* aws_int.h — private to src/aws: the SigV4 canonicalisation shared by the signer (sign.c) and
 * the verifier (verify.c), so that both build byte-identical canonical requests. */
#ifndef AK_AWS_INT_H
#define AK_AWS_INT_H

#include <stddef.h>

#include "asakai/ak_buf.h"

#define AK__AWS_MAX_HEADERS 64

/* One header to sign: name lowercased, value trimmed with runs of spaces collapsed. */
struct ak__aws_hdr {
    char *name;
    char *value;
    size_t idx; /* input order, for a stable sort */
};

/* Appends name[0..nlen): value to hs[*n] (hs holds at least AK__AWS_MAX_HEADERS + 3 slots).
 * AK_EINVAL when *n is already AK__AWS_MAX_HEADERS or value has a line break. */
int ak__aws_hdr_add(struct ak__aws_hdr *hs, size_t *n, const char *name, size_t nlen,
                    const char *value, struct ak_buf *err);
void ak__aws_hdrs_free(struct ak__aws_hdr *hs, size_t n);

/* Sorts hs[0..nh) and appends the canonical request to creq ("METHOD\nURI\nQUERY\nHEADERS\n\n
 * SIGNED\nPAYLOAD-HASH") and the ';'-joined signed header names to signed_names. path and query
 * are the raw bytes of the request target (query without '?'). AK_EINVAL for a query that is not
 * valid percent-encoding or has too many parameters. */
int ak__aws_canonical_request(const char *method, const char *path, size_t pathlen,
                              const char *query, size_t qlen, struct ak__aws_hdr *hs, size_t nh,
                              const void *body, size_t body_len, struct ak_buf *creq,
                              struct ak_buf *signed_names, struct ak_buf *err);

/* The hex signature of sts with the key derived from secret for date8/region/service. */
void ak__aws_signature(const char *secret, const char *date8, const char *region,
                       const char *service, const char *sts, char out[65]);

#endif
