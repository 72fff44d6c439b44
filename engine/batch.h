/* batch.h - the unit of work that moves through the pipeline.
 *
 * A connector fills a batch with raw records (slices into batch->buf); one worker
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
    hm_record *rec;      /* [cap] */
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

#endif
