/* ak_err.h — asakai's error codes.
 *
 * Fallible functions return int: AK_OK (0) or a negative AK_E* code. The values are stable and
 * never renumbered. Functions that can say more also take a `struct ak_buf *err` and append one
 * complete sentence to it on failure (left untouched on success).
 */
#ifndef AK_ERR_H
#define AK_ERR_H

enum {
    AK_OK = 0,
    AK_EINVAL = -1,       /* malformed input: bad JSON, bad field, bad argument     -> 400 / exit 2 */
    AK_ENOTFOUND = -2,    /* no such object                                          -> 404 */
    AK_ETOOBIG = -3,      /* input over a configured cap                             -> 413 */
    AK_ESIG = -4,         /* signature or authentication check failed                -> 403/401 */
    AK_EBUSY = -5,        /* resource busy, retry later (SQLITE_BUSY, queue full)    -> 503 */
    AK_EIO = -6,          /* I/O or network failure                                  -> 502/500 */
    AK_EFORBIDDEN = -7,   /* refused by policy (topic not allowed, URL not allowed)  -> 403 */
    AK_ETIMEDOUT = -8,    /* a deadline passed                                       -> 504 */
    AK_EUNSUPPORTED = -9, /* valid input of a shape or version we do not handle      -> 422 */
    AK_ECORRUPT = -10,    /* stored data is damaged                                  -> 500 */
    AK_EEXIST = -11,      /* already exists (duplicate)                              -> 409 */
    AK_ECONFIG = -12,     /* configuration error                                     -> exit 2 */
    AK_EINTERNAL = -13,   /* a bug or an unexpected library failure                  -> 500 */
};

/* A short lowercase description of code r ("signature check failed"); never NULL. */
const char *ak_strerror(int r);

/* The HTTP status a handler answers for code r (AK_OK -> 200). */
int ak_err_http_status(int r);

#endif
