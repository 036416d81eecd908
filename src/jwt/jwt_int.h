/* jwt_int.h — src/jwt private: the key set's layout, shared by jwks.c (parse) and jwt.c (verify).
 */
#ifndef AK_JWT_INT_H
#define AK_JWT_INT_H

#include <stddef.h>

#include "asakai/ak_crypto.h"

struct ak_jwk {
    char *kid;             /* NULL when absent */
    enum ak_jws_alg alg;   /* the key's own "alg"; 0 when absent */
    struct ak_pkey *key;
};

struct ak_jwks {
    struct ak_jwk *keys;
    size_t n;
};

#endif
