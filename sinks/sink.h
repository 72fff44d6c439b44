/* sink.h - outputs: a static ops struct per URI scheme, registered in sinks/sink_list.h.
 *
 * The pipeline hands a sink whole batches of serialized JSONL lines, in order, from the
 * single writer thread: sinks need no locking of their own. write returns HM_OK,
 * HM_ERETRY (transient: the writer backs off and retries the same bytes, holding input)
 * or another negative code (fatal). */
#ifndef HM_SINK_H
#define HM_SINK_H

#include "hm.h"

#define HM_SINK_ABI 1

typedef struct hm_sink_ops {
    int abi;
    const char *scheme; /* "jsonl", "stdout", ... */
    const char *description;
    int (*open)(const char *uri, void **state, char *err, size_t errlen);
    int (*write)(void *state, const char *data, size_t len);
    int (*flush)(void *state);
    void (*close)(void *state);
} hm_sink_ops;

typedef struct hm_sink {
    const hm_sink_ops *ops;
    void *state;
    char *uri;
    uint64_t lines, bytes, retries, errors;
} hm_sink;

/* Opens the sink for a URI ("-" is stdout, a bare path is a JSONL file). */
int hm_sink_open(hm_sink *s, const char *uri, char *err, size_t errlen);
/* Writes with retry and exponential backoff (capped at 5 s) while HM_ERETRY;
 * stop_flag (may be NULL) ends retrying at shutdown. */
int hm_sink_write(hm_sink *s, const char *data, size_t len, uint64_t lines,
                  volatile int *stop_flag);
void hm_sink_close(hm_sink *s);
extern const hm_sink_ops *const hm_sinks[];
extern const size_t hm_sinks_count;

#endif
