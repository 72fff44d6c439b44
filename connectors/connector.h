/* connector.h - input connectors: a static ops struct per scheme, registered in
 * connectors/connector_list.h; each configured input is an hm_source instance.
 *
 * Threading: each source is driven by its own connector thread; read_batch is only
 * ever called from that thread. open/close run on the main thread. */
#ifndef HM_CONNECTOR_H
#define HM_CONNECTOR_H

#include "arena.h"
#include "batch.h"

#define HM_CONNECTOR_ABI 1

typedef struct hm_conn_opts {
    bool follow;                    /* --follow: keep reading growing files (tail -F) */
    size_t max_record;              /* longer records are dead-lettered as oversize */
    size_t hard_cap;                /* longer records are truncated to this many bytes */
    volatile int *stop;             /* set when the engine shuts down */
    const char *const *kafka_props; /* librdkafka "key=value" properties (-X), borrowed */
    size_t n_kafka_props;
} hm_conn_opts;

typedef struct hm_source hm_source;

typedef struct hm_connector_ops {
    int abi;
    const char *scheme; /* URI scheme: "file", "stdin", ... */
    const char *description;
    /* Create the source for `uri`. Returns 0 or HM_EUSAGE with err filled. */
    int (*open)(hm_source *src, const char *uri, const hm_conn_opts *opts, char *err,
                size_t errlen);
    /* Append up to b->cap records to b (b->origin set). Returns records added (>0),
     * 0 when nothing is available now (idle; caller waits), HM_EOF when finished,
     * or another negative hm_err on failure. */
    int (*read_batch)(hm_source *src, hm_batch *b);
    /* Optional. Called by the writer thread, in batch order, once every output line and
     * dead letter of batch b is written: the source may commit b's positions (Kafka
     * offsets). Not called for batches lost to a crash, so they are read again. The
     * writer thread is not the connector thread: implementations hand positions over
     * (e.g. a locked queue) and commit from their own thread. */
    void (*ack)(hm_source *src, const hm_batch *b);
    /* Optional: append connector counters as JSON members ("\"k\":v,...", no braces) for
     * --stats (per-sender counts, kernel drops, lag). Called from the writer thread while
     * the connector runs: read counters the connector updates atomically. */
    void (*stats_json)(hm_source *src, hm_buf *out);
    void (*close)(hm_source *src);
} hm_connector_ops;

struct hm_source {
    const hm_connector_ops *ops;
    void *state;
    char *uri;
    uint32_t index;
    hm_conn_opts opts;
};

/* Finds the connector for a URI ("-" is stdin, a bare path is a file). */
const hm_connector_ops *hm_connector_for_uri(const char *uri);
extern const hm_connector_ops *const hm_connectors[];
extern const size_t hm_connectors_count;

#endif
