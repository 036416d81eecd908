/* err.c — error code names and their HTTP statuses. */
#include "asakai/ak_err.h"

#include "ak_banned.h"

const char *ak_strerror(int r)
{
    switch (r) {
    case AK_OK: return "ok";
    case AK_EINVAL: return "invalid input";
    case AK_ENOTFOUND: return "not found";
    case AK_ETOOBIG: return "too large";
    case AK_ESIG: return "signature check failed";
    case AK_EBUSY: return "busy, try again";
    case AK_EIO: return "input/output error";
    case AK_EFORBIDDEN: return "forbidden";
    case AK_ETIMEDOUT: return "timed out";
    case AK_EUNSUPPORTED: return "unsupported";
    case AK_ECORRUPT: return "data corrupt";
    case AK_EEXIST: return "already exists";
    case AK_ECONFIG: return "configuration error";
    case AK_EINTERNAL: return "internal error";
    }
    return "unknown error";
}

int ak_err_http_status(int r)
{
    switch (r) {
    case AK_OK: return 200;
    case AK_EINVAL: return 400;
    case AK_ENOTFOUND: return 404;
    case AK_ETOOBIG: return 413;
    case AK_ESIG: return 403;
    case AK_EBUSY: return 503;
    case AK_EIO: return 502;
    case AK_EFORBIDDEN: return 403;
    case AK_ETIMEDOUT: return 504;
    case AK_EUNSUPPORTED: return 422;
    case AK_EEXIST: return 409;
    case AK_ECONFIG: return 500;
    }
    return 500;
}
