/* corr_redis.c - Redis correlation state (placeholder symbol set until the Lua port lands). */
#include <stdio.h>

#include "corr_int.h"

void *corr_redis_new(const hm_corr_opts *o, char *err, size_t errlen) {
    snprintf(err, errlen, "--state %s: the Redis backend is not built yet; use --state memory",
             o && o->state ? o->state : "redis");
    return NULL;
}

const corr_backend_ops corr_redis_ops = {.name = "redis"};
