#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "connector.h"
#include "sink.h"

static volatile sig_atomic_t g_stop = 0;
static volatile sig_atomic_t g_dump_stats = 0;
static volatile int g_stop_int = 0; /* mirror readable by connectors */

void hm_engine_request_stop(void) {
    g_stop++;
    g_stop_int = (int)g_stop;
}
void hm_engine_request_stats(void) {
    g_dump_stats = 1;
}

static volatile sig_atomic_t g_reload = 0;
void hm_engine_request_reload(void) {
    g_reload = 1;
}

void hm_engine_cfg_defaults(hm_engine_cfg *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->workers = n > 0 ? (int)n : 1;
    cfg->batch_cap = HM_BATCH_CAP_DEFAULT;
    cfg->emit = HM_EMIT_EVENTS;
    cfg->tz_name = "UTC";
    cfg->max_record = 64 * 1024;
    cfg->hard_cap = 16 * 1024 * 1024;
    cfg->include_raw = true;
}

/* A simple FIFO of batches guarded by one mutex: one lock per batch, not per event. */
typedef struct bqueue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    hm_batch *head, *tail;
    size_t n;
    size_t waiters; /* threads waiting in pool_get */
} bqueue;

static void bq_init(bqueue *q) {
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->head = q->tail = NULL;
    q->n = 0;
}
static void bq_destroy(bqueue *q) {
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
}

/* Events per decode/detect step: each worker decodes into its own array of this many events
 * (about 80 KB), matches them, and reuses it for the next chunk; nothing after the worker
 * reads the event structs (outputs, dead letters and correlation hits are copies). */
#define HM_DETECT_CHUNK 64

typedef struct worker {
    struct hm_engine *e;
    pthread_t th;
    int index;
    jsmntok_t *tok;
    hm_syslog_hdr hdr;
    hm_detector *det;
    const hm_ruleset *det_rules; /* the rule set det was built for */
    uint64_t det_gen;            /* generation of det_rules (read by the writer) */
    hm_match matches[64];
    hm_event *ev; /* [HM_DETECT_CHUNK]: the chunk being decoded and matched (hot in cache) */
    hm_record rec[HM_DETECT_CHUNK];      /* lines split from a batch's chunk */
    const char *reason[HM_DETECT_CHUNK]; /* their dead-letter reasons */
} worker;

typedef struct source_thread {
    struct hm_engine *e;
    hm_source src;
    pthread_t th;
    bool finished;
    int64_t last_data_ns;
} source_thread;

struct hm_engine {
    hm_engine_cfg cfg;
    hm_tz tz;
    hm_time_ctx tc;
    const hm_field_map **maps;
    source_thread *sources;
    size_t n_sources;
    hm_sink *sinks;
    size_t n_sinks;
    hm_sink dead_sink;
    bool has_dead_sink;
    worker *workers;

    /* batch pool (free list) and work queue */
    bqueue pool, work;
    hm_batch **all_batches;
    size_t n_batches;
    uint64_t next_seq;      /* under work.mu */
    size_t sources_running; /* under work.mu */

    /* reorder ring for the writer */
    pthread_mutex_t done_mu;
    pthread_cond_t done_cv;
    uint64_t writer_next; /* the batch the writer waits for (under done_mu) */
    hm_batch **ring;      /* [n_batches] indexed by seq % n_batches */
    bool workers_quit;

    hm_engine_stats stats;
    hm_correlator *corr;
    const hm_ruleset *corr_rules; /* the rule set the correlator is bound to */
    hm_buf corr_out, corr_dead;
    hm_incidents *inc; /* incident engine (--emit incidents|all), writer thread */
    hm_buf inc_out;
    /* hot reload: the published rule set and its generation (under work.mu), rule sets
     * replaced by a reload and freed once no worker or the correlator uses them */
    const hm_ruleset *rules_pub;
    uint64_t rules_gen;
    struct retired {
        hm_ruleset *rs;
        uint64_t gen;
    } * retired;
    size_t n_retired;
    uint64_t writer_gen;
    pthread_t reload_th;
    bool reload_started;
    pthread_cond_t reload_cv; /* wakes the reload thread at shutdown (with work.mu) */
    bool reload_quit;
    uint64_t reloads_ok, reloads_failed;
    bool warned_no_dead;
    int rc;
};

static void *source_main(void *arg);
static void *worker_main(void *arg);

hm_engine *hm_engine_new(const hm_engine_cfg *cfg, char *err, size_t errlen) {
    hm_engine *e = hm_xcalloc(1, sizeof(*e));
    e->cfg = *cfg;
    if (e->cfg.workers < 1) e->cfg.workers = 1;
    if (e->cfg.workers > 256) e->cfg.workers = 256;
    if (e->cfg.batch_cap < 1) e->cfg.batch_cap = HM_BATCH_CAP_DEFAULT;
    /* the whole range: replayed logs may be from any year */
    if (hm_tz_load(&e->tz, cfg->tz_name, 1970, 2100) != HM_OK) {
        snprintf(err, errlen,
                 "--tz %s: unknown time zone (expected Area/City, e.g. America/Chicago)",
                 cfg->tz_name);
        free(e);
        return NULL;
    }
    e->tc.tz = &e->tz;
    e->tc.fixed_year = cfg->fixed_year;
    e->tc.ref_ns = 0;
    e->maps = hm_xcalloc(hm_decoders_count, sizeof(*e->maps));
    if (hm_field_maps_load_dir(cfg->mappings_dir, e->maps, err, errlen) != HM_OK) goto fail;

    e->n_sources = cfg->n_inputs;
    e->sources = hm_xcalloc(cfg->n_inputs ? cfg->n_inputs : 1, sizeof(*e->sources));
    e->stats.per_source = hm_xcalloc(cfg->n_inputs ? cfg->n_inputs : 1, sizeof(uint64_t));
    hm_conn_opts copts = {.follow = cfg->follow,
                          .max_record = cfg->max_record,
                          .hard_cap = cfg->hard_cap,
                          .stop = &g_stop_int,
                          .kafka_props = cfg->kafka_props,
                          .n_kafka_props = cfg->n_kafka_props};
    for (size_t i = 0; i < cfg->n_inputs; i++) {
        source_thread *st = &e->sources[i];
        st->e = e;
        const hm_connector_ops *ops = hm_connector_for_uri(cfg->inputs[i]);
        if (!ops) {
            snprintf(err, errlen, "--input %s: unknown input scheme (see hallmonitor run --help)",
                     cfg->inputs[i]);
            goto fail;
        }
        st->src.ops = ops;
        st->src.uri = hm_xstrdup(cfg->inputs[i]);
        st->src.index = (uint32_t)i;
        st->src.opts = copts;
        if (ops->open(&st->src, cfg->inputs[i], &copts, err, errlen) != HM_OK) {
            st->src.ops = NULL;
            goto fail;
        }
    }
    e->n_sinks = cfg->n_outputs;
    e->sinks = hm_xcalloc(cfg->n_outputs ? cfg->n_outputs : 1, sizeof(*e->sinks));
    hm_kafka_sink_set_props(cfg->kafka_props, cfg->n_kafka_props);
    for (size_t i = 0; i < cfg->n_outputs; i++)
        if (hm_sink_open(&e->sinks[i], cfg->outputs[i], err, errlen) != HM_OK) goto fail;
    e->rules_pub = cfg->rules;
    e->corr_rules = cfg->rules;
    if (cfg->rules && (hm_ruleset_correlations(cfg->rules) || cfg->rule_paths)) {
        /* with hot reload a correlator exists even before the first correlation rule */
        e->corr = hm_correlator_new(cfg->rules, &cfg->corr, err, errlen);
        if (!e->corr) goto fail;
    }
    if (cfg->emit & HM_EMIT_INCIDENTS) {
        hm_incident_opts io = cfg->incident;
        if (!io.tz_name) io.tz_name = cfg->tz_name;
        if (!io.lateness_ns) io.lateness_ns = cfg->corr.lateness_ns;
        e->inc = hm_incidents_new(&io, &e->corr_rules, err, errlen);
        if (!e->inc) goto fail;
    }
    if (cfg->dead_letter) {
        char uri[4096];
        snprintf(uri, sizeof uri, "jsonl:%s", cfg->dead_letter);
        if (hm_sink_open(&e->dead_sink, uri, err, errlen) != HM_OK) goto fail;
        e->has_dead_sink = true;
    }
    return e;
fail:
    e->rules_pub = NULL; /* on failure the caller keeps its rule set */
    hm_engine_free(e);
    return NULL;
}

/* A connector waiting for a free batch (backpressure) is woken when POOL_REFILL are free,
 * not for each one: it then fills them back to back (one wake-up, not one per batch). */
#define POOL_REFILL 2

static hm_batch *pool_get(hm_engine *e) {
    pthread_mutex_lock(&e->pool.mu);
    if (!e->pool.head) {
        e->pool.waiters++;
        size_t want = e->n_batches > 2 * POOL_REFILL ? POOL_REFILL : 1;
        while (e->pool.n < want) pthread_cond_wait(&e->pool.cv, &e->pool.mu);
        e->pool.waiters--;
    }
    hm_batch *b = e->pool.head;
    e->pool.head = b->next;
    e->pool.n--;
    pthread_mutex_unlock(&e->pool.mu);
    hm_batch_reset(b);
    return b;
}

static void pool_put(hm_engine *e, hm_batch *b) {
    pthread_mutex_lock(&e->pool.mu);
    b->next = e->pool.head;
    e->pool.head = b;
    e->pool.n++;
    if (e->pool.waiters && (e->pool.n >= POOL_REFILL || e->n_batches <= 2 * POOL_REFILL))
        pthread_cond_broadcast(&e->pool.cv);
    pthread_mutex_unlock(&e->pool.mu);
}

static void work_push(hm_engine *e, hm_batch *b) {
    pthread_mutex_lock(&e->work.mu);
    b->seq = e->next_seq++;
    b->next = NULL;
    if (e->work.tail)
        e->work.tail->next = b;
    else
        e->work.head = b;
    e->work.tail = b;
    e->work.n++;
    pthread_cond_signal(&e->work.cv);
    pthread_mutex_unlock(&e->work.mu);
}

static void source_done(hm_engine *e) {
    pthread_mutex_lock(&e->work.mu);
    e->sources_running--;
    pthread_cond_broadcast(&e->work.cv);
    pthread_mutex_unlock(&e->work.mu);
    pthread_mutex_lock(&e->done_mu);
    pthread_cond_broadcast(&e->done_cv);
    pthread_mutex_unlock(&e->done_mu);
}

static void *source_main(void *arg) {
    source_thread *st = arg;
    hm_engine *e = st->e;
    hm_batch *b = NULL;
    st->last_data_ns = hm_mono_ns();
    while (!g_stop) {
        if (!b) b = pool_get(e);
        int rc = st->src.ops->read_batch(&st->src, b);
        if (rc > 0) {
            work_push(e, b);
            b = NULL;
            st->last_data_ns = hm_mono_ns();
            continue;
        }
        if (rc == 0) {
            if (e->cfg.exit_on_idle_ns && hm_mono_ns() - st->last_data_ns > e->cfg.exit_on_idle_ns)
                break;
            struct timespec ts = {0, 50 * 1000000L}; /* idle input: poll again shortly */
            nanosleep(&ts, NULL);
            continue;
        }
        if (rc != HM_EOF) {
            hm_error("input", "%s: stopped after an error", st->src.uri);
            e->rc = HM_EIO;
        }
        break;
    }
    if (b) {
        if (b->n || b->chunk)
            work_push(e, b);
        else
            pool_put(e, b);
    }
    st->finished = true;
    source_done(e);
    return NULL;
}

static void decode_range(hm_engine *e, worker *w, hm_batch *b, const hm_record *rec,
                         const char **reason, uint32_t n, hm_decode_ctx *dctx);
static void detect_range(hm_engine *e, worker *w, hm_batch *b, const hm_record *rec,
                         const char *const *reason, uint32_t n);

/* Decode then detect up to HM_DETECT_CHUNK events: the detector reads the events while
 * they are still in cache (a whole batch of events is larger than L2). Timed per chunk,
 * not per event. */
static void process_chunk(hm_engine *e, worker *w, hm_batch *b, const hm_record *rec,
                          const char **reason, uint32_t n, hm_decode_ctx *ctx, bool detect) {
    hm_batch_stats *s = &b->stats;
    int64_t t0 = hm_mono_ns();
    decode_range(e, w, b, rec, reason, n, ctx);
    int64_t t1 = hm_mono_ns();
    s->decode_ns += (uint64_t)(t1 - t0);
    if (!detect) return;
    detect_range(e, w, b, rec, reason, n);
    s->detect_ns += (uint64_t)(hm_mono_ns() - t1);
}

static void process_batch(hm_engine *e, worker *w, hm_batch *b) {
    hm_decode_ctx ctx = {.arena = &b->arena, .tc = &e->tc, .tok = w->tok};
    bool detect = b->rules && (w->det || e->cfg.reference_matcher);
    if (b->chunk) {
        /* A chunk of whole lines: split 64 at a time into this worker's records, so the
         * lines are split on the core that decodes them, while they are in its cache. */
        const char *p = b->chunk, *end = b->chunk + b->chunk_len;
        while (p < end) {
            uint32_t n =
                hm_split_lines(&p, end, b->chunk, b->chunk_pos, b->chunk_recv_ns, e->cfg.max_record,
                               e->cfg.hard_cap, w->rec, HM_DETECT_CHUNK);
            process_chunk(e, w, b, w->rec, w->reason, n, &ctx, detect);
        }
        return;
    }
    for (uint32_t c0 = 0; c0 < b->n; c0 += HM_DETECT_CHUNK) {
        uint32_t n = b->n - c0 < HM_DETECT_CHUNK ? b->n - c0 : HM_DETECT_CHUNK;
        process_chunk(e, w, b, b->rec + c0, b->reason + c0, n, &ctx, detect);
    }
}

/* phase 1 of a chunk: decode records rec[0, n) into w->ev; reason[i] says why rec[i] was
 * dead-lettered (NULL = decoded) */
static void decode_range(hm_engine *e, worker *w, hm_batch *b, const hm_record *rec,
                         const char **reason, uint32_t n, hm_decode_ctx *dctx) {
    hm_decode_ctx ctx = *dctx;
    bool emit_events = e->cfg.emit & HM_EMIT_EVENTS;
    hm_batch_stats *s = &b->stats;
    for (uint32_t i = 0; i < n; i++) {
        const hm_record *r = &rec[i];
        hm_event *ev = &w->ev[i];
        s->records++;
        s->bytes += r->orig_len ? r->orig_len : r->len;
        reason[i] = NULL;
        if (HM_UNLIKELY(r->flags & HM_REC_OVERSIZE)) {
            s->oversize++;
            reason[i] = (r->flags & HM_REC_TRUNCATED) ? "record exceeds the size limit (truncated)"
                                                      : "record exceeds --max-record";
        } else if (hm_decode_record(&ctx, e->maps, r, &w->hdr, ev) != HM_OK) {
            reason[i] = ctx.reason;
        }
        if (reason[i]) {
            s->dead++;
            if (!b->first_dead_reason) {
                b->first_dead_reason = reason[i];
                b->first_dead_pos = r->pos;
            }
            hm_serialize_dead(&b->dead, r, r->origin ? r->origin : b->origin, reason[i]);
            continue;
        }
        s->decoded++;
        if (ev->decoder < 64) s->per_decoder[ev->decoder]++;
        if (ev->flags & HM_EV_INVALID_UTF8) s->invalid_utf8++;
        if (ev->flags & HM_EV_HAS_NUL) s->nul_bytes++;
        if (ev->flags & HM_EV_TS_FROM_RECV) s->ts_from_recv++;
        if (emit_events) {
            hm_serialize_event(&b->out, ev, r->origin ? r->origin : b->origin, e->cfg.include_raw);
            s->out_lines++;
        }
    }
    *dctx = ctx;
}

/* phase 2 of a chunk: detect, collect correlation hits, write single-event alerts */
static void detect_range(hm_engine *e, worker *w, hm_batch *b, const hm_record *rec,
                         const char *const *reason, uint32_t n) {
    bool emit_alerts =
        e->cfg.emit & (HM_EMIT_ALERTS | HM_EMIT_INCIDENTS); /* alerts feed incidents */
    hm_batch_stats *s = &b->stats;
    for (uint32_t i = 0; i < n; i++) {
        if (reason[i]) continue;
        const hm_record *r = &rec[i];
        hm_event *ev = &w->ev[i];
        size_t nm = e->cfg.reference_matcher
                        ? hm_detect_reference(b->rules, ev, w->matches, HM_ARRAY_LEN(w->matches))
                        : hm_detect(w->det, ev, w->matches, HM_ARRAY_LEN(w->matches));
        if (nm > HM_ARRAY_LEN(w->matches)) nm = HM_ARRAY_LEN(w->matches);
        for (size_t k = 0; k < nm; k++) {
            const hm_rule_meta *rm = hm_ruleset_rule(b->rules, w->matches[k].rule);
            if (e->corr) {
                if (b->n_hits + 16 > b->cap_hits) {
                    b->cap_hits = b->cap_hits ? b->cap_hits * 2 : 256;
                    b->hits = hm_xrealloc(b->hits, b->cap_hits * sizeof(hm_corr_hit));
                }
                b->n_hits += hm_corr_extract(b->rules, w->matches[k].rule, ev,
                                             r->origin ? r->origin : b->origin, &b->arena,
                                             b->hits + b->n_hits, 16);
            }
            if (!rm->generate) continue;
            s->alerts++;
            if (emit_alerts) {
                hm_serialize_alert(&b->out, rm, &w->matches[k], ev,
                                   r->origin ? r->origin : b->origin);
                s->out_lines++;
            }
        }
    }
}

static void *worker_main(void *arg) {
    worker *w = arg;
    hm_engine *e = w->e;
    for (;;) {
        pthread_mutex_lock(&e->work.mu);
        while (!e->work.head && e->sources_running > 0) pthread_cond_wait(&e->work.cv, &e->work.mu);
        hm_batch *b = e->work.head;
        if (b) {
            e->work.head = b->next;
            if (!e->work.head) e->work.tail = NULL;
            e->work.n--;
            /* read under the queue lock: rule generations never go backwards in seq order */
            b->rules = e->rules_pub;
            b->rules_gen = e->rules_gen;
        }
        pthread_mutex_unlock(&e->work.mu);
        if (!b) break;                  /* no more input */
        if (b->rules != w->det_rules) { /* a reload happened: rebuild this worker's matcher */
            hm_detector_free(w->det);
            w->det = b->rules ? hm_detector_new(b->rules) : NULL;
            __atomic_store_n(&w->det_rules, b->rules, __ATOMIC_RELEASE);
            __atomic_store_n(&w->det_gen, b->rules_gen, __ATOMIC_RELEASE);
        }
        process_batch(e, w, b);
        pthread_mutex_lock(&e->done_mu);
        e->ring[b->seq % e->n_batches] = b;
        /* only the batch the writer waits for wakes it (the others it finds in the ring) */
        if (b->seq == e->writer_next) pthread_cond_broadcast(&e->done_cv);
        pthread_mutex_unlock(&e->done_mu);
    }
    return NULL;
}

static void fold_stats(hm_engine *e, const hm_batch *b) {
    hm_engine_stats *t = &e->stats;
    const hm_batch_stats *s = &b->stats;
    t->records += s->records;
    t->bytes += s->bytes;
    t->decoded += s->decoded;
    t->dead += s->dead;
    t->invalid_utf8 += s->invalid_utf8;
    t->nul_bytes += s->nul_bytes;
    t->oversize += s->oversize;
    t->ts_from_recv += s->ts_from_recv;
    t->out_lines += s->out_lines;
    t->alerts += s->alerts;
    t->decode_ns += s->decode_ns;
    t->detect_ns += s->detect_ns;
    t->batches++;
    for (size_t i = 0; i < hm_decoders_count && i < 64; i++) t->per_decoder[i] += s->per_decoder[i];
    if (b->source_index < e->n_sources) t->per_source[b->source_index] += s->records;
}

/* Correlation runs here, in batch order, so results do not depend on worker count. A
 * backend that is down (Redis) holds the writer - and so all input - until it returns. */
static void correlate_batch(hm_engine *e, const hm_corr_hit *hits, size_t n, bool finish) {
    int64_t backoff_ms = 100;
    for (int attempt = 0;; attempt++) {
        e->corr_out.len = 0;
        e->corr_dead.len = 0;
        uint64_t written = 0;
        int rc = finish
                     ? hm_correlator_finish(e->corr, &e->corr_out, &written)
                     : hm_correlator_push(e->corr, hits, n, &e->corr_out, &e->corr_dead, &written);
        if (rc == HM_OK) {
            e->stats.corr_alerts += written;
            const char *cp = e->corr_out.p;
            size_t cl = e->corr_out.len;
            if (e->inc) hm_incidents_feed(e->inc, &cp, &cl, &written, e->cfg.emit & HM_EMIT_ALERTS);
            for (size_t i = 0; i < e->n_sinks && cl; i++)
                if (hm_sink_write(&e->sinks[i], cp, cl, written, &g_stop_int) != HM_OK) {
                    hm_error("output", "%s: giving up; stopping intake", e->sinks[i].uri);
                    e->rc = HM_EIO;
                    hm_engine_request_stop();
                }
            if (e->corr_dead.len && e->has_dead_sink)
                hm_sink_write(&e->dead_sink, e->corr_dead.p, e->corr_dead.len, 0, &g_stop_int);
            /* alerts are out: now the state may move (a crash before this re-fires them) */
            while (hm_correlator_commit(e->corr) != HM_OK && g_stop <= 1) {
                struct timespec ts = {0, 200 * 1000000L};
                nanosleep(&ts, NULL);
            }
            if (attempt) hm_info("correlate", "state backend is back after %d retries", attempt);
            return;
        }
        if (g_stop > 1) {
            hm_error("correlate",
                     "state backend unavailable; stopping without applying the last batch");
            e->rc = HM_EIO;
            return;
        }
        if (attempt == 0 || attempt % 20 == 0)
            hm_warn("correlate",
                    "state backend unavailable; input is paused, retrying (attempt %d)",
                    attempt + 1);
        struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        backoff_ms = backoff_ms * 2 > 5000 ? 5000 : backoff_ms * 2;
    }
}

/* Frees replaced rule sets nobody uses any more (writer thread). */
static void free_retired(hm_engine *e) {
    pthread_mutex_lock(&e->done_mu); /* the reload thread appends under this lock */
    size_t keep = 0;
    for (size_t i = 0; i < e->n_retired; i++) {
        bool busy = e->writer_gen <= e->retired[i].gen;
        for (int w = 0; w < e->cfg.workers && !busy; w++)
            if (__atomic_load_n(&e->workers[w].det_gen, __ATOMIC_ACQUIRE) <= e->retired[i].gen &&
                __atomic_load_n(&e->workers[w].det_rules, __ATOMIC_ACQUIRE))
                busy = true;
        if (busy)
            e->retired[keep++] = e->retired[i];
        else
            hm_ruleset_free(e->retired[i].rs);
    }
    e->n_retired = keep;
    pthread_mutex_unlock(&e->done_mu);
}

/* Incident lines changed since the last call, right after the alerts that changed them. */
static void write_incidents(hm_engine *e, bool finish) {
    e->inc_out.len = 0;
    size_t n =
        finish ? hm_incidents_finish(e->inc, &e->inc_out) : hm_incidents_flush(e->inc, &e->inc_out);
    e->stats.out_lines += n;
    for (size_t i = 0; i < e->n_sinks && n; i++)
        if (hm_sink_write(&e->sinks[i], e->inc_out.p, e->inc_out.len, n, &g_stop_int) != HM_OK) {
            hm_error("output", "%s: giving up; stopping intake", e->sinks[i].uri);
            e->rc = HM_EIO;
            hm_engine_request_stop();
        }
}

static void write_batch(hm_engine *e, hm_batch *b) {
    if (b->rules && b->rules != e->corr_rules) {
        /* first batch detected with reloaded rules: move correlation state over */
        if (e->corr) hm_correlator_rebind(e->corr, b->rules);
        e->corr_rules = b->rules;
        e->writer_gen = b->rules_gen;
    }
    if (__atomic_load_n(&e->n_retired, __ATOMIC_RELAXED)) free_retired(e);
    const char *op = b->out.p; /* with incidents: alerts tagged with their incident id */
    size_t ol = b->out.len;
    if (e->inc)
        hm_incidents_feed(e->inc, &op, &ol, &b->stats.out_lines, e->cfg.emit & HM_EMIT_ALERTS);
    for (size_t i = 0; i < e->n_sinks; i++)
        if (ol && hm_sink_write(&e->sinks[i], op, ol, b->stats.out_lines, &g_stop_int) != HM_OK) {
            hm_error("output", "%s: giving up; stopping intake", e->sinks[i].uri);
            e->rc = HM_EIO;
            hm_engine_request_stop();
        }
    /* correlation alerts after the batch's own alerts: the events that completed a
     * correlation come first (and the incident engine sees them before it) */
    if (e->corr) {
        for (uint32_t i = 0; i < b->n_new_streams; i++)
            hm_correlator_expect(e->corr, b->new_streams[i]);
        correlate_batch(e, b->hits, b->n_hits, false);
    }
    if (e->inc) write_incidents(e, false);
    if (b->dead.len) {
        if (e->has_dead_sink) {
            if (hm_sink_write(&e->dead_sink, b->dead.p, b->dead.len, b->stats.dead, &g_stop_int) !=
                HM_OK) {
                hm_error("dead-letter", "%s: write failed; stopping intake", e->cfg.dead_letter);
                e->rc = HM_EIO;
                hm_engine_request_stop();
            }
        } else if (!e->warned_no_dead) {
            e->warned_no_dead = true;
            hm_warn("dead-letter",
                    "records could not be decoded and no --dead-letter PATH is set; they are "
                    "counted in --stats (first: %s, at %s:%llu)",
                    b->first_dead_reason ? b->first_dead_reason : "?", b->origin,
                    (unsigned long long)b->first_dead_pos);
        }
    }
    fold_stats(e, b);
    /* everything the batch produced is written: the source may now commit its position */
    if (b->source_index < e->n_sources) {
        hm_source *src = &e->sources[b->source_index].src;
        if (src->ops->ack) src->ops->ack(src, b);
    }
}

/* Signature of the rule files (names, sizes, mtimes) for --watch. */
static uint64_t rules_signature(const char *path, uint64_t h, int depth) {
    struct stat sb;
    if (depth > 8 || stat(path, &sb) != 0) return h;
    h = hm_hash64(path, strlen(path), h);
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (!d) return h;
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            char sub[4096];
            snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            h ^= rules_signature(sub, 0x9e37, depth + 1); /* order-independent */
        }
        closedir(d);
        return h;
    }
    /* only rule content counts (a log file kept beside the rules must not trigger reloads) */
    size_t l = strlen(path);
    bool rule_file = (l > 4 && (!strcmp(path + l - 4, ".yml") || !strcmp(path + l - 4, ".yar"))) ||
                     (l > 5 && (!strcmp(path + l - 5, ".yaml") || !strcmp(path + l - 5, ".yara")));
    if (!rule_file) return h;
    int64_t meta[2] = {(int64_t)sb.st_size,
                       (int64_t)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec};
    return hm_hash64(meta, sizeof meta, h);
}

static uint64_t all_rules_signature(const hm_engine *e) {
    uint64_t h = 0;
    for (size_t i = 0; i < e->cfg.n_rule_paths; i++)
        h ^= rules_signature(e->cfg.rule_paths[i], i + 1, 0);
    return h;
}

/* Compiles a new rule set off the hot path; publishes it only when it has no errors. */
static void *reload_main(void *arg) {
    hm_engine *e = arg;
    uint64_t sig = e->cfg.watch_rules ? all_rules_signature(e) : 0;
    int ticks = 0;
    while (!g_stop) {
        /* a timed wait, not a sleep: shutdown wakes it at once instead of adding up to
         * 200 ms to every run that loads rules */
        pthread_mutex_lock(&e->work.mu);
        if (!e->reload_quit) {
            struct timespec ts = hm_deadline_ms(200);
            pthread_cond_timedwait(&e->reload_cv, &e->work.mu, &ts);
        }
        bool running = e->sources_running > 0 && !e->reload_quit;
        pthread_mutex_unlock(&e->work.mu);
        if (!running) break;
        bool want = g_reload;
        if (e->cfg.watch_rules && ++ticks % 5 == 0) {
            uint64_t ns = all_rules_signature(e);
            if (ns != sig) {
                sig = ns;
                want = true;
                hm_info("rules", "rule files changed: reloading");
            }
        }
        if (!want) continue;
        g_reload = 0;
        hm_diags d = {0};
        int64_t t0 = hm_mono_ns();
        hm_rules_opts o = e->cfg.rules_opts;
        o.skip_bad_rules = false; /* a broken set is rejected whole */
        hm_ruleset *rs = hm_ruleset_load(e->cfg.rule_paths, e->cfg.n_rule_paths, &o, &d);
        if (!rs) {
            hm_diags_print_text(&d, stderr);
            hm_error("rules",
                     "reload rejected: %zu error(s) above; the running rules stay in force",
                     d.errors);
            e->reloads_failed++;
            hm_diags_free(&d);
            continue;
        }
        hm_diags_free(&d);
        pthread_mutex_lock(&e->work.mu);
        const hm_ruleset *old = e->rules_pub;
        e->rules_pub = rs;
        e->rules_gen++;
        uint64_t gen = e->rules_gen;
        pthread_mutex_unlock(&e->work.mu);
        /* the old set is retired; the writer frees it once nothing uses it */
        pthread_mutex_lock(&e->done_mu);
        e->retired = hm_xrealloc(e->retired, (e->n_retired + 1) * sizeof(*e->retired));
        e->retired[e->n_retired].rs = (hm_ruleset *)old;
        e->retired[e->n_retired].gen = gen - 1;
        e->n_retired++;
        pthread_mutex_unlock(&e->done_mu);
        e->reloads_ok++;
        hm_info("rules", "reloaded %zu rules in %.2f s (generation %llu)", hm_ruleset_count(rs),
                (double)(hm_mono_ns() - t0) / 1e9, (unsigned long long)gen);
    }
    return NULL;
}

/* Many late hits mostly mean inputs that disagree on event time, most often zone-less
 * syslog stamps read in the wrong zone (--tz defaults to UTC): say so once, at the end. */
static void warn_many_late(hm_engine *e) {
    hm_corr_stats cs;
    hm_correlator_stats(e->corr, &cs);
    if (cs.late < 100 || cs.late * 100 < cs.hits) return;
    hm_warn("correlate",
            "%llu of %llu correlation hits were late (older than their input's newest event by "
            "more than --lateness) and were not counted; zone-less syslog times are read in "
            "--tz %s: if the district is not in that zone, or sources disagree, set --tz "
            "(or raise --lateness for inputs that are out of order)",
            (unsigned long long)cs.late, (unsigned long long)cs.hits, e->cfg.tz_name);
}

int hm_engine_run(hm_engine *e) {
    size_t nw = (size_t)e->cfg.workers;
    /* enough batches for every stage to hold a couple: bounded memory, no drops */
    e->n_batches = nw * 2 + e->n_sources * 2 + 2;
    e->all_batches = hm_xcalloc(e->n_batches, sizeof(hm_batch *));
    e->ring = hm_xcalloc(e->n_batches, sizeof(hm_batch *));
    bq_init(&e->pool);
    bq_init(&e->work);
    pthread_mutex_init(&e->done_mu, NULL);
    pthread_cond_init(&e->done_cv, NULL);
    pthread_cond_init(&e->reload_cv, NULL);
    for (size_t i = 0; i < e->n_batches; i++) {
        e->all_batches[i] = hm_batch_new(e->cfg.batch_cap, 512 * 1024);
        pool_put(e, e->all_batches[i]);
    }
    e->stats.started_ns = hm_mono_ns();
    e->sources_running = e->n_sources;
    e->workers = hm_xcalloc(nw, sizeof(worker));
    for (size_t i = 0; i < nw; i++) {
        e->workers[i].e = e;
        e->workers[i].index = (int)i;
        e->workers[i].tok = hm_xmalloc(HM_JSON_MAX_TOKENS * sizeof(jsmntok_t));
        e->workers[i].ev = hm_xcalloc(HM_DETECT_CHUNK, sizeof(hm_event));
        if (e->cfg.rules) {
            e->workers[i].det = hm_detector_new(e->cfg.rules);
            if (!e->workers[i].det) {
                hm_error("detect", "cannot allocate matcher scratch for worker %zu", i);
                return HM_ENOMEM;
            }
        }
        pthread_create(&e->workers[i].th, NULL, worker_main, &e->workers[i]);
    }
    for (size_t i = 0; i < e->n_sources; i++)
        pthread_create(&e->sources[i].th, NULL, source_main, &e->sources[i]);
    if (e->cfg.rule_paths && e->cfg.rules)
        e->reload_started = pthread_create(&e->reload_th, NULL, reload_main, e) == 0;

    /* the calling thread is the writer: emit batches strictly in sequence order */
    uint64_t next = 0;
    for (;;) {
        pthread_mutex_lock(&e->done_mu);
        e->writer_next = next;
        hm_batch *b;
        for (;;) {
            b = e->ring[next % e->n_batches];
            if (b && b->seq == next) break;
            b = NULL;
            pthread_mutex_lock(&e->work.mu);
            bool finished = e->sources_running == 0 && next >= e->next_seq;
            pthread_mutex_unlock(&e->work.mu);
            if (finished || g_dump_stats) break;
            struct timespec ts = hm_deadline_ms(200);
            pthread_cond_timedwait(&e->done_cv, &e->done_mu, &ts);
        }
        if (b) e->ring[next % e->n_batches] = NULL;
        pthread_mutex_unlock(&e->done_mu);
        if (g_dump_stats) {
            g_dump_stats = 0;
            hm_engine_print_stats(e, stderr);
        }
        if (!b) {
            pthread_mutex_lock(&e->work.mu);
            bool finished = e->sources_running == 0 && next >= e->next_seq;
            pthread_mutex_unlock(&e->work.mu);
            if (finished) break;
            continue;
        }
        write_batch(e, b);
        next++;
        pool_put(e, b);
    }
    for (size_t i = 0; i < e->n_sources; i++) pthread_join(e->sources[i].th, NULL);
    for (size_t i = 0; i < nw; i++) pthread_join(e->workers[i].th, NULL);
    if (e->reload_started) {
        pthread_mutex_lock(&e->work.mu);
        e->reload_quit = true;
        pthread_cond_signal(&e->reload_cv);
        pthread_mutex_unlock(&e->work.mu);
        pthread_join(e->reload_th, NULL);
    }
    if (e->corr) {
        correlate_batch(e, NULL, 0, true); /* end of input: close every window */
        warn_many_late(e);
    }
    if (e->inc) write_incidents(e, true);
    e->stats.finished_ns = hm_mono_ns();
    for (size_t i = 0; i < e->n_sinks; i++)
        if (e->sinks[i].ops->flush) e->sinks[i].ops->flush(e->sinks[i].state);
    if (e->cfg.stats) hm_engine_print_stats(e, stderr);
    return e->rc;
}

/* Peak resident memory of this process. /proc's VmHWM, unlike getrusage's ru_maxrss,
 * does not include what the parent held before exec. */
static long peak_rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    long kb = -1;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "VmHWM:", 6)) kb = atol(line + 6);
        fclose(f);
    }
    if (kb < 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        kb = ru.ru_maxrss;
    }
    return kb;
}

const hm_engine_stats *hm_engine_get_stats(const hm_engine *e) {
    return &e->stats;
}

static void print_stats_to(const hm_engine *e, FILE *f);

/* Builds the whole line first, then writes it at once: other threads' log lines cannot
 * land in the middle of it. */
void hm_engine_print_stats(const hm_engine *e, FILE *out) {
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m) {
        print_stats_to(e, out);
        return;
    }
    print_stats_to(e, m);
    fclose(m);
    fwrite(buf, 1, len, out);
    fflush(out);
    free(buf);
}

static void print_stats_to(const hm_engine *e, FILE *f) {
    const hm_engine_stats *s = &e->stats;
    int64_t end = s->finished_ns ? s->finished_ns : hm_mono_ns();
    double secs = (double)(end - s->started_ns) / 1e9;
    fprintf(f,
            "{\"kind\":\"stats\",\"elapsed_s\":%.3f,\"records\":%llu,\"bytes\":%llu,"
            "\"decoded\":%llu,\"dead_letter\":%llu,\"oversize\":%llu,\"invalid_utf8\":%llu,"
            "\"nul_bytes\":%llu,\"time_from_receive\":%llu,\"alerts\":%llu,\"output_lines\":%llu,"
            "\"events_per_s\":%.0f,\"decode_s\":%.3f,\"detect_s\":%.3f,\"decoders\":{",
            secs, (unsigned long long)s->records, (unsigned long long)s->bytes,
            (unsigned long long)s->decoded, (unsigned long long)s->dead,
            (unsigned long long)s->oversize, (unsigned long long)s->invalid_utf8,
            (unsigned long long)s->nul_bytes, (unsigned long long)s->ts_from_recv,
            (unsigned long long)s->alerts, (unsigned long long)s->out_lines,
            secs > 0 ? (double)s->records / secs : 0.0, (double)s->decode_ns / 1e9,
            (double)s->detect_ns / 1e9);
    bool first = true;
    for (size_t i = 0; i < hm_decoders_count && i < 64; i++) {
        if (!s->per_decoder[i]) continue;
        fprintf(f, "%s\"%s\":%llu", first ? "" : ",", hm_decoders[i]->name,
                (unsigned long long)s->per_decoder[i]);
        first = false;
    }
    fprintf(f, "},\"inputs\":{");
    for (size_t i = 0; i < e->n_sources; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "",
                e->sources[i].src.uri ? e->sources[i].src.uri : "",
                (unsigned long long)s->per_source[i]);
    fprintf(f, "},\"rule_reloads\":{\"ok\":%llu,\"rejected\":%llu",
            (unsigned long long)e->reloads_ok, (unsigned long long)e->reloads_failed);
    fprintf(f, "},\"correlation\":{");
    if (e->corr) {
        /* correlate_s: writer-thread time in the correlator (state, windows, alert JSON) */
        hm_corr_stats cs;
        hm_correlator_stats(e->corr, &cs);
        fprintf(f,
                "\"alerts\":%llu,\"hits\":%llu,\"late\":%llu,\"fired\":%llu,\"groups\":%llu,"
                "\"groups_expired\":%llu,\"groups_refused\":%llu,\"groups_peak\":%llu,"
                "\"state_bytes\":%zu,\"state_bytes_peak\":%zu,\"correlate_s\":%.3f,"
                "\"round_trips\":%llu,\"backend_errors\":%llu,\"peer_wait_s\":%.3f",
                (unsigned long long)s->corr_alerts, (unsigned long long)cs.hits,
                (unsigned long long)cs.late, (unsigned long long)cs.fired,
                (unsigned long long)cs.groups, (unsigned long long)cs.groups_expired,
                (unsigned long long)cs.groups_refused, (unsigned long long)cs.groups_peak,
                cs.memory_bytes, cs.memory_peak, (double)cs.busy_ns / 1e9,
                (unsigned long long)cs.backend_round_trips, (unsigned long long)cs.backend_errors,
                (double)cs.peer_wait_ns / 1e9);
    }
    fprintf(f, "},");
    if (e->inc) {
        hm_incidents_stats_json(e->inc, f);
        fprintf(f, ",");
    }
    fprintf(f, "\"input_details\":{");
    bool firstd = true;
    for (size_t i = 0; i < e->n_sources; i++) {
        const hm_source *src = &e->sources[i].src;
        if (!src->ops || !src->ops->stats_json) continue;
        hm_buf b = {0};
        src->ops->stats_json((hm_source *)src, &b);
        fprintf(f, "%s\"%s\":{%.*s}", firstd ? "" : ",", src->uri, (int)b.len, b.p ? b.p : "");
        firstd = false;
        hm_buf_free(&b);
    }
    fprintf(f, "},\"outputs\":{");
    for (size_t i = 0; i < e->n_sinks; i++)
        fprintf(f, "%s\"%s\":{\"lines\":%llu,\"retries\":%llu}", i ? "," : "", e->sinks[i].uri,
                (unsigned long long)e->sinks[i].lines, (unsigned long long)e->sinks[i].retries);
    fprintf(f, "},\"max_rss_kb\":%ld}\n", peak_rss_kb());
    fflush(f);
}

void hm_engine_free(hm_engine *e) {
    if (!e) return;
    for (size_t i = 0; i < e->n_sources; i++) {
        if (e->sources[i].src.ops) e->sources[i].src.ops->close(&e->sources[i].src);
        free(e->sources[i].src.uri);
    }
    free(e->sources);
    for (size_t i = 0; i < e->n_sinks; i++)
        if (e->sinks[i].ops) hm_sink_close(&e->sinks[i]);
    free(e->sinks);
    if (e->has_dead_sink) hm_sink_close(&e->dead_sink);
    if (e->workers) {
        for (int i = 0; i < e->cfg.workers; i++) {
            free(e->workers[i].tok);
            free(e->workers[i].ev);
            hm_detector_free(e->workers[i].det);
        }
        free(e->workers);
    }
    if (e->all_batches) {
        for (size_t i = 0; i < e->n_batches; i++) hm_batch_free(e->all_batches[i]);
        free(e->all_batches);
        free(e->ring);
        bq_destroy(&e->pool);
        bq_destroy(&e->work);
        pthread_mutex_destroy(&e->done_mu);
        pthread_cond_destroy(&e->done_cv);
        pthread_cond_destroy(&e->reload_cv);
    }
    if (e->maps) {
        hm_field_maps_free(e->maps);
        free(e->maps);
    }
    free(e->stats.per_source);
    hm_correlator_free(e->corr);
    hm_incidents_free(e->inc);
    hm_buf_free(&e->inc_out);
    for (size_t i = 0; i < e->n_retired; i++) hm_ruleset_free(e->retired[i].rs);
    free(e->retired);
    hm_ruleset_free((hm_ruleset *)e->rules_pub); /* the engine owns its rule sets */
    hm_buf_free(&e->corr_out);
    hm_buf_free(&e->corr_dead);
    hm_tz_free(&e->tz);
    free(e);
}
