#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sink.h"

#define HM_SINK(name) extern const hm_sink_ops hm_sink_##name;
#include "sink_list.h"
#undef HM_SINK

const hm_sink_ops *const hm_sinks[] = {
#define HM_SINK(name) &hm_sink_##name,
#include "sink_list.h"
#undef HM_SINK
};
const size_t hm_sinks_count = HM_ARRAY_LEN(hm_sinks);

int hm_sink_open(hm_sink *s, const char *uri, char *err, size_t errlen) {
    memset(s, 0, sizeof(*s));
    const char *colon = strchr(uri, ':'), *slash = strchr(uri, '/');
    const hm_sink_ops *ops = NULL;
    if (!strcmp(uri, "-") || !colon || (slash && slash < colon)) {
        ops = &hm_sink_jsonl;
    } else {
        size_t sl = (size_t)(colon - uri);
        for (size_t i = 0; i < hm_sinks_count; i++)
            if (strlen(hm_sinks[i]->scheme) == sl && !memcmp(hm_sinks[i]->scheme, uri, sl))
                ops = hm_sinks[i];
    }
    if (!ops) {
        snprintf(err, errlen, "--output %s: unknown output scheme", uri);
        return HM_EUSAGE;
    }
    s->ops = ops;
    s->uri = hm_xstrdup(uri);
    int rc = ops->open(uri, &s->state, err, errlen);
    if (rc != HM_OK) {
        free(s->uri);
        s->uri = NULL;
    }
    return rc;
}

int hm_sink_write(hm_sink *s, const char *data, size_t len, uint64_t lines,
                  volatile int *stop_flag) {
    int64_t backoff_ms = 100;
    for (;;) {
        int rc = s->ops->write(s->state, data, len);
        if (rc == HM_OK) {
            s->lines += lines;
            s->bytes += len;
            return HM_OK;
        }
        if (rc != HM_ERETRY) {
            s->errors++;
            return rc;
        }
        s->retries++;
        if (s->retries == 1 || s->retries % 50 == 0)
            hm_warn("output", "%s: write failed, retrying (attempt %llu); input is held", s->uri,
                    (unsigned long long)s->retries);
        if (stop_flag && *stop_flag > 1) return HM_EIO; /* second signal: give up */
        struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
    }
}

void hm_sink_close(hm_sink *s) {
    if (s->ops && s->state) {
        if (s->ops->flush) s->ops->flush(s->state);
        s->ops->close(s->state);
    }
    free(s->uri);
    s->uri = NULL;
    s->state = NULL;
}
