/* batch.h - the unit of work that moves through the pipeline.
 *
 * A connector fills a batch with raw records (slices into batch->buf), or hands over a
 * chunk of whole lines that the worker splits itself (mapped files: line splitting then
 * runs on every worker instead of the one reader thread); one worker
 * decodes, detects and serializes the whole batch (the decoded events live in the
 * worker, 64 at a time, not in the batch); the writer emits it in sequence
 * order and returns it to the pool. A batch belongs to exactly one thread at a time,
 * so nothing inside it is locked. Its arena and buffers are reused across trips:
 * steady state allocates nothing per event. */
#ifndef HM_BATCH_H
#define HM_BATCH_H

#include "arena.h"
#include "event.h"

#define HM_BATCH_CAP_DEFAULT 1024

/* Counters a worker fills for one batch; the writer folds them into the totals. */
typedef struct hm_batch_stats {
    uint64_t records, bytes, decoded, dead, invalid_utf8, nul_bytes, oversize, ts_from_recv;
    uint64_t out_lines, alerts;
    uint64_t decode_ns, detect_ns; /* worker time in each phase */
    uint64_t per_decoder[64];
} hm_batch_stats;

typedef struct hm_batch {
    uint64_t seq;          /* global emit order, assigned when queued */
    const char *origin;    /* source name used in event ids ("file:/x.log"); engine lifetime */
    uint32_t source_index; /* index of the configured input */
    uint32_t n, cap;
    hm_record *rec; /* [cap] */
    /* Whole '\n'-terminated lines (the last may lack the '\n' at end of input) not split
     * into records: a file connector's mapped chunk, borrowed from the connector until its
     * ack. n is 0 then; the worker splits chunk 64 lines at a time (hm_split_lines). */
    const char *chunk;
    size_t chunk_len;
    uint64_t chunk_pos;    /* source position (byte offset) of chunk[0] */
    int64_t chunk_recv_ns; /* when the connector took the chunk */
    /* Input streams (origins) the connector started since its previous batch, e.g. the
     * Kafka partitions of a new assignment: the correlator waits for each (up to a few
     * seconds) before deciding windows, so a partition whose first fetch comes late is not
     * behind them. Origins live as long as the engine. */
    const char **new_streams;
    uint32_t n_new_streams, cap_new_streams;
    /* The first dead-lettered record, for the writer's one-time "no --dead-letter" warning. */
    const char *first_dead_reason;
    uint64_t first_dead_pos;
    const char **reason; /* [cap] NULL = decoded, else why it was dead-lettered */
    char *buf;           /* raw bytes the records point into */
    size_t buf_len, buf_cap;
    hm_arena arena;
    hm_buf out;  /* serialized JSONL for the outputs */
    hm_buf dead; /* serialized dead-letter JSONL */
    hm_batch_stats stats;
    const struct hm_ruleset *rules; /* rule set this batch is detected with (hot reload) */
    uint64_t rules_gen;
    struct hm_corr_hit *hits; /* correlation hits found by the worker (correlate.h) */
    size_t n_hits, cap_hits;
    struct hm_batch *next; /* queue / free-list link */
} hm_batch;

hm_batch *hm_batch_new(uint32_t cap, size_t buf_cap);
void hm_batch_reset(hm_batch *b);
void hm_batch_free(hm_batch *b);
/* Make room for `need` more raw bytes (keeps record slices valid by rebasing them). */
void hm_batch_reserve_buf(hm_batch *b, size_t need);
/* Records that input stream `origin` starts with this batch (b->new_streams). */
void hm_batch_add_stream(hm_batch *b, const char *origin);

/* Split lines from *p (up to end) into at most max_out records, as a line-framed file
 * connector would: '\n' ends a line and a '\r' before it is dropped; a line longer than
 * max_record is flagged HM_REC_OVERSIZE; one longer than hard_cap keeps a hard_cap prefix
 * (HM_REC_TRUNCATED, orig_len = its full length). Positions are pos0 + offset from base.
 * Advances *p past the lines taken; returns how many. */
uint32_t hm_split_lines(const char **p, const char *end, const char *base, uint64_t pos0,
                        int64_t recv_ns, size_t max_record, size_t hard_cap, hm_record *out,
                        uint32_t max_out);

#endif
