/* pipeline.h - the engine: connector threads -> bounded batch queue -> worker threads
 * -> in-order writer.
 *
 * Backpressure: batches come from a fixed pool; when every batch is in flight, the
 * connectors block until the writer returns one. Nothing is dropped.
 * Ordering: batches carry a global sequence number assigned at enqueue; the writer
 * emits them strictly in that order, so output keeps input order per source.
 * Ownership: hm_engine owns its sources, sinks, batches and worker contexts. */
#ifndef HM_PIPELINE_H
#define HM_PIPELINE_H

#include <stdio.h>

#include "batch.h"
#include "decode.h"
#include "mapping.h"
#include "sigma.h"
#include "correlate.h"
#include "incident.h"
#include "syslog.h"
#include "timeutil.h"

typedef enum hm_emit {
    HM_EMIT_EVENTS = 1 << 0,
    HM_EMIT_ALERTS = 1 << 1,
    HM_EMIT_INCIDENTS = 1 << 2,
} hm_emit;

typedef struct hm_engine_cfg {
    const char **inputs;
    size_t n_inputs;
    const char **outputs;
    size_t n_outputs;
    const char *dead_letter; /* JSONL path or NULL */
    const char *mappings_dir;
    const char *tz_name; /* district time zone */
    int fixed_year;      /* 0 = infer */
    int workers;
    uint32_t batch_cap;
    unsigned emit; /* hm_emit bits */
    bool follow;
    bool stats;              /* print stats at exit */
    bool include_raw;        /* write `raw` in event output */
    int64_t exit_on_idle_ns; /* 0 = never */
    size_t max_record;
    size_t hard_cap;
    const hm_ruleset *rules;  /* compiled detection rules, or NULL; the engine takes
                               * ownership when hm_engine_new succeeds */
    const char **kafka_props; /* librdkafka "key=value" properties (-X) for kafka:// */
    size_t n_kafka_props;     /* inputs and outputs (borrowed) */
    hm_corr_opts corr;        /* correlation state backend, lateness */
    bool reference_matcher;   /* use the slow reference evaluator (benchmarks, checks) */
    const char **rule_paths;  /* for hot reload (SIGHUP, --watch); NULL = no reload */
    size_t n_rule_paths;
    hm_rules_opts rules_opts;
    bool watch_rules;
    hm_incident_opts incident; /* --emit incidents: inventory, suppressions, windows */
} hm_engine_cfg;

void hm_engine_cfg_defaults(hm_engine_cfg *cfg);

/* Totals folded by the writer; printed by --stats and on SIGUSR1. */
typedef struct hm_engine_stats {
    uint64_t records, bytes, decoded, dead, invalid_utf8, nul_bytes, oversize, ts_from_recv;
    uint64_t out_lines, batches, alerts, corr_alerts;
    uint64_t decode_ns, detect_ns; /* summed over workers */
    uint64_t per_decoder[64];
    uint64_t *per_source; /* [n_inputs] records */
    int64_t started_ns, finished_ns;
} hm_engine_stats;

typedef struct hm_engine hm_engine;

/* Builds the engine (opens inputs/outputs, loads mappings). Returns NULL with err. */
hm_engine *hm_engine_new(const hm_engine_cfg *cfg, char *err, size_t errlen);
/* Runs until inputs end (or stop is requested). Returns 0 or a negative hm_err. */
int hm_engine_run(hm_engine *e);
/* Async-signal-safe: request a clean stop / a stats dump. */
void hm_engine_request_stop(void);
void hm_engine_request_stats(void);
void hm_engine_request_reload(void);
const hm_engine_stats *hm_engine_get_stats(const hm_engine *e);
void hm_engine_print_stats(const hm_engine *e, FILE *f);
void hm_engine_free(hm_engine *e);
/* -X properties for kafka:// outputs opened afterwards (sinks/kafka.c; hm_engine_new calls it). */
void hm_kafka_sink_set_props(const char **props, size_t n);

/* Serializes one decoded event as a JSONL line (kind "event"). */
void hm_serialize_event(hm_buf *out, const hm_event *ev, const char *origin, bool include_raw);
/* Serializes one alert for a single-event rule match (kind "alert"). */
void hm_serialize_alert(hm_buf *out, const hm_rule_meta *rule, const hm_match *m,
                        const hm_event *ev, const char *origin);
/* Serializes a dead-letter line for record r. */
void hm_serialize_dead(hm_buf *out, const hm_record *r, const char *origin, const char *reason);

#endif
