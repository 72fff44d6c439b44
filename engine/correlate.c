/* correlate.c - the correlator: late-hit filtering, watermarks, correlation levels
 * (inner correlations before the ones that reference them), alert output and chaining. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "corr_int.h"
#include "sigma_int.h"

/* An input stream (a file, a Kafka partition, a syslog sender): events are in time order
 * within one (up to the lateness), not across them. A backlog read from many partitions
 * at once is hours apart between partitions: one watermark for all would make most of it
 * late. */
typedef struct corr_stream {
    const void *key;
    int64_t hit_ms;    /* newest time of its events that feed correlations */
    int64_t hit_tmp;   /* the same within the push being applied */
    int64_t active_ns; /* monotonic time hit_ms last moved (or the stream was announced) */
    bool expected;     /* announced by its connector: holds the watermark until its first hit */
} corr_stream;

/* A stream whose events stop (a finished file, a quiet partition) stops holding the
 * watermark back after this long. */
#define STREAM_IDLE_NS   (5 * 1000000000LL)
#define STREAM_FORGET_NS (3600 * 1000000000LL)

struct hm_correlator {
    const hm_ruleset *rs;
    const hm_corr_set *set;
    const corr_backend_ops *ops;
    void *st;
    int64_t lateness_ms;
    int64_t max_ts_ms;    /* largest event time seen */
    int64_t local_wm_ms;  /* max_ts_ms - lateness: hits at or before it are late */
    int64_t evaluated_ms; /* every window ending at or before this was evaluated */
    hm_corr_stats stats;
    /* per push */
    hm_buf *out;
    uint64_t written;
    hm_corr_hit *chain; /* hits produced by firings, for the next level */
    size_t n_chain, cap_chain;
    hm_arena chain_arena;
    hm_corr_hit *ok, *lv; /* per-push buffers, kept between pushes */
    size_t cap_ok, cap_lv;
    char *state_path; /* --state-dir snapshot file (memory state), or NULL */
    corr_stream *streams;
    size_t n_streams, cap_streams;
};

/* CPU time of the calling thread: the correlator's cost, not time spent descheduled. */
static int64_t thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t ns_to_ms(int64_t ns) {
    return ns / 1000000 - (ns % 1000000 < 0);
}

/* ---- --state-dir (memory state) ---- */

static uint64_t hash_cstr(uint64_t h, const char *s) {
    return hm_hash64(s ? s : "", s ? strlen(s) + 1 : 1, h); /* the NUL separates fields */
}

static uint64_t hash_i64(uint64_t h, int64_t v) {
    return hm_hash64(&v, sizeof v, h);
}

/* Identifies the correlation definitions a snapshot was written for (state refers to
 * correlations by position, so the order counts too). */
static uint64_t rules_hash(const hm_ruleset *rs, const hm_corr_set *set) {
    uint64_t h = hash_i64(0x636f72726861736bULL, set ? (int64_t)set->n : -1);
    for (size_t i = 0; set && i < set->n; i++) {
        const hm_corr *a = &set->v[i];
        h = hash_cstr(h, hm_ruleset_rule(rs, a->rule)->id);
        int64_t nums[] = {a->type,       a->span_ns,
                          a->n_refs,     a->n_group,
                          a->n_cond,     a->n_value_fields,
                          a->close_eval, a->min_rules,
                          a->level,      (int64_t)(a->percentile * 1000)};
        for (size_t k = 0; k < HM_ARRAY_LEN(nums); k++) h = hash_i64(h, nums[k]);
        for (size_t r = 0; r < a->n_refs; r++)
            h = hash_cstr(h, hm_ruleset_rule(rs, a->refs[r])->id);
        for (size_t g = 0; g < a->n_group; g++) h = hash_cstr(h, a->group_by[g]);
        for (size_t g = 0; g < a->n_group * a->n_refs; g++) h = hash_cstr(h, a->group_fields[g]);
        for (int k = 0; k < a->n_cond; k++) {
            h = hash_i64(h, a->cond[k].op);
            h = hm_hash64(&a->cond[k].v, sizeof(double), h);
        }
        for (size_t v = 0; v < a->n_value_fields; v++) h = hash_cstr(h, a->value_fields[v]);
    }
    return h;
}

static bool state_dir_open(hm_correlator *c, const char *dir, char *err, size_t errlen) {
    struct stat sb;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "--state-dir %s: %s", dir, strerror(errno));
        return false;
    }
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "--state-dir %s: not a writable directory", dir);
        return false;
    }
    size_t n = strlen(dir) + 32;
    c->state_path = hm_xmalloc(n);
    snprintf(c->state_path, n, "%s/correlation.state", dir);
    return true;
}

static void state_load(hm_correlator *c) {
    char err[512] = "";
    corr_marks mk;
    size_t ng = 0;
    int rc = corr_mem_load(c->st, c->set, c->state_path, rules_hash(c->rs, c->set), &mk, &ng, err,
                           sizeof err);
    if (rc == HM_EOF) {
        hm_info("correlate", "no correlation state saved in %s yet: starting empty", c->state_path);
        return;
    }
    if (rc != HM_OK) {
        hm_warn("correlate",
                "not restoring correlation state: %s; starting with empty state (the file is "
                "replaced at the next clean shutdown)",
                err);
        return;
    }
    c->max_ts_ms = mk.max_ts_ms;
    c->local_wm_ms = mk.local_wm_ms;
    c->evaluated_ms = mk.evaluated_ms;
    hm_buf t = {0};
    if (mk.local_wm_ms != INT64_MIN) hm_buf_put_time(&t, mk.local_wm_ms * 1000000);
    hm_buf_putc(&t, 0);
    hm_info("correlate",
            "restored correlation state from %s: %zu groups; events at or before %s are late",
            c->state_path, ng, mk.local_wm_ms != INT64_MIN ? t.p : "(none yet)");
    hm_buf_free(&t);
}

/* Clean shutdown with --state-dir: the windows stay open and go to disk instead of being
 * closed, so the next run continues them. */
static void state_save(hm_correlator *c) {
    char err[512] = "";
    corr_marks mk = {c->max_ts_ms, c->local_wm_ms, c->evaluated_ms};
    hm_corr_stats s = {0};
    c->ops->stats(c->st, &s);
    if (corr_mem_save(c->st, c->state_path, rules_hash(c->rs, c->set), &mk, err, sizeof err) ==
        HM_OK)
        hm_info("correlate", "correlation state saved to %s: %llu groups (windows stay open)",
                c->state_path, (unsigned long long)s.groups);
    else
        hm_error("correlate", "could not save the correlation state: %s", err);
}

hm_correlator *hm_correlator_new(const hm_ruleset *rs, const hm_corr_opts *o, char *err,
                                 size_t errlen) {
    hm_correlator *c = hm_xcalloc(1, sizeof(*c));
    c->rs = rs;
    c->set = hm_ruleset_correlations(rs);
    int64_t lateness_ns = o && (o->lateness_set || o->lateness_ns) ? o->lateness_ns : 60000000000LL;
    c->lateness_ms = lateness_ns / 1000000;
    c->max_ts_ms = INT64_MIN;
    c->local_wm_ms = INT64_MIN;
    c->evaluated_ms = INT64_MIN;
    hm_arena_init(&c->chain_arena, 64 * 1024);
    const char *state = o && o->state ? o->state : "memory";
    if (o && o->state_dir && o->state_dir[0] && strcmp(state, "memory")) {
        snprintf(err, errlen,
                 "--state-dir keeps memory state; Redis state (--state redis://) persists in "
                 "Redis itself");
        hm_arena_free(&c->chain_arena);
        free(c);
        return NULL;
    }
    if (!strcmp(state, "memory")) {
        c->ops = &corr_mem_ops;
        c->st = corr_mem_new(o, err, errlen);
    } else if (!strncmp(state, "redis://", 8)) {
        c->ops = &corr_redis_ops;
        corr_redis_set_ruleset(rs);
        c->st = corr_redis_new(o, err, errlen);
    } else {
        snprintf(err, errlen, "--state %s: expected memory or redis://[user:pass@]host:port/db",
                 state);
    }
    if (c->st && o && o->state_dir && o->state_dir[0] &&
        !state_dir_open(c, o->state_dir, err, errlen)) {
        c->ops->destroy(c->st);
        c->st = NULL;
    }
    if (!c->st) {
        hm_arena_free(&c->chain_arena);
        free(c->state_path);
        free(c);
        return NULL;
    }
    if (c->ops == &corr_mem_ops) corr_mem_bind(c->st, rs);
    if (c->state_path) state_load(c);
    return c;
}

void hm_correlator_free(hm_correlator *c) {
    if (!c) return;
    c->ops->destroy(c->st);
    free(c->state_path);
    free(c->ok);
    free(c->lv);
    free(c->streams);
    free(c->chain);
    hm_arena_free(&c->chain_arena);
    free(c);
}

void hm_correlator_stats(const hm_correlator *c, hm_corr_stats *s) {
    *s = c->stats;
    c->ops->stats(c->st, s);
}

static void put_json_str(hm_buf *b, hm_str s) {
    hm_buf_put_json_str(b, s);
}

/* Alert id: stable over replays and instances (correlation, group, window). */
static uint64_t alert_hash(const hm_rule_meta *m, const corr_fire *f) {
    uint64_t h = hm_hash64(m->id, strlen(m->id), 1);
    h = hm_hash64(f->group.p ? f->group.p : "", f->group.len, h);
    if (f->n_ev) {
        h = hm_hash64(f->ev_id[0].p, f->ev_id[0].len, h);
        h = hm_hash64(f->ev_id[f->n_ev - 1].p, f->ev_id[f->n_ev - 1].len, h);
    }
    h = hm_hash64(&f->ts_ms, sizeof f->ts_ms, h);
    return h;
}

static void on_fire(void *ud, const corr_fire *f) {
    hm_correlator *c = ud;
    const hm_corr *corr = &c->set->v[f->corr];
    const hm_rule_meta *m = hm_ruleset_rule(c->rs, corr->rule);
    c->stats.fired++;
    char aid[40];
    snprintf(aid, sizeof aid, "corr-%016llx", (unsigned long long)alert_hash(m, f));
    /* chaining: this firing is one hit for every correlation that references it */
    const hm_corr_set *set = c->set;
    for (uint32_t k = 0; corr->rule < set->n_rules && k < set->n_by_rule[corr->rule]; k++) {
        uint32_t oi = set->by_rule[corr->rule][k];
        const hm_corr *outer = &set->v[oi];
        for (size_t r = 0; r < outer->n_refs; r++) {
            if (outer->refs[r] != corr->rule) continue;
            /* outer group values come from our group-by fields of the same name */
            hm_buf g = {0};
            bool ok = true;
            for (size_t q = 0; q < outer->n_group && ok; q++) {
                const char *want = outer->group_fields[q * outer->n_refs + r];
                const char *p = f->group.p;
                size_t left = f->group.len;
                ok = false;
                for (size_t gi = 0; gi < corr->n_group; gi++) {
                    const char *sep = memchr(p, 0x1f, left);
                    size_t l = sep ? (size_t)(sep - p) : left;
                    if (!strcmp(corr->group_by[gi], want)) {
                        if (q) hm_buf_putc(&g, 0x1f);
                        hm_buf_put(&g, p, l);
                        ok = true;
                        break;
                    }
                    p += l + 1;
                    left = left > l ? left - l - 1 : 0;
                }
            }
            if (ok) {
                if (c->n_chain == c->cap_chain) {
                    c->cap_chain = c->cap_chain ? c->cap_chain * 2 : 64;
                    c->chain = hm_xrealloc(c->chain, c->cap_chain * sizeof(hm_corr_hit));
                }
                hm_corr_hit *h = &c->chain[c->n_chain++];
                h->corr = oi;
                h->ref = (uint32_t)r;
                h->ts_ns = f->ts_ms * 1000000;
                h->event_id = hm_arena_strdup(&c->chain_arena, aid, strlen(aid));
                h->group = hm_arena_strdup(&c->chain_arena, g.p ? g.p : "", g.len);
                h->has_value = false;
                h->value = (hm_str){"", 0};
            }
            hm_buf_free(&g);
        }
    }
    if (!m->generate || !c->out) return;
    hm_buf *b = c->out;
    hm_buf_puts(b, "{\"kind\":\"alert\",\"alert_id\":\"");
    hm_buf_puts(b, aid);
    hm_buf_puts(b, "\",\"rule\":{\"id\":");
    put_json_str(b, hm_str_c(m->id));
    hm_buf_puts(b, ",\"title\":");
    put_json_str(b, hm_str_c(m->title));
    hm_buf_puts(b, ",\"level\":\"");
    hm_buf_puts(b, hm_level_names[m->level]);
    hm_buf_puts(b, "\",\"tags\":[");
    for (size_t i = 0; i < m->n_tags; i++) {
        if (i) hm_buf_putc(b, ',');
        put_json_str(b, hm_str_c(m->tags[i]));
    }
    hm_buf_puts(b, "],\"correlation\":\"");
    hm_buf_puts(b, hm_corr_type_names[corr->type]);
    hm_buf_puts(b, "\"},\"time\":\"");
    hm_buf_put_time(b, f->ts_ms * 1000000);
    hm_buf_puts(b, "\",\"event_ids\":[");
    for (size_t i = 0; i < f->n_ev; i++) {
        if (i) hm_buf_putc(b, ',');
        put_json_str(b, f->ev_id[i]);
    }
    hm_buf_puts(b, "],\"group\":{");
    const char *p = f->group.p ? f->group.p : "";
    size_t left = f->group.len;
    for (size_t gi = 0; gi < corr->n_group; gi++) {
        const char *sep = memchr(p, 0x1f, left);
        size_t l = sep ? (size_t)(sep - p) : left;
        if (gi) hm_buf_putc(b, ',');
        put_json_str(b, hm_str_c(corr->group_by[gi]));
        hm_buf_putc(b, ':');
        put_json_str(b, (hm_str){p, (uint32_t)l});
        p += l + (sep ? 1 : 0);
        left = left > l ? left - l - (sep ? 1 : 0) : 0;
    }
    hm_buf_puts(b, "},\"fields\":null,\"evidence\":{\"type\":\"");
    hm_buf_puts(b, hm_corr_type_names[corr->type]);
    hm_buf_printf(b, "\",\"timespan_s\":%lld,\"value\":%.10g,\"event_count\":%zu",
                  (long long)(corr->span_ns / 1000000000), f->value, f->n_ev);
    if (f->n_ev) {
        hm_buf_puts(b, ",\"window_start\":\"");
        hm_buf_put_time(b, f->ev_ts[0] * 1000000);
        hm_buf_puts(b, "\",\"window_end\":\"");
        hm_buf_put_time(b, f->ev_ts[f->n_ev - 1] * 1000000);
        hm_buf_putc(b, '"');
    }
    if (f->n_distinct) {
        hm_buf_puts(b, ",\"distinct_values\":[");
        for (size_t i = 0; i < f->n_distinct && i < 200; i++) {
            if (i) hm_buf_putc(b, ',');
            put_json_str(b, f->distinct[i]);
        }
        hm_buf_putc(b, ']');
    }
    hm_buf_puts(b, ",\"events\":[");
    size_t shown = f->n_ev < 200 ? f->n_ev : 200;
    for (size_t i = 0; i < shown; i++) {
        if (i) hm_buf_putc(b, ',');
        hm_buf_puts(b, "{\"id\":");
        put_json_str(b, f->ev_id[i]);
        hm_buf_puts(b, ",\"time\":\"");
        hm_buf_put_time(b, f->ev_ts[i] * 1000000);
        hm_buf_puts(b, "\",\"rule\":");
        const hm_rule_meta *rm =
            hm_ruleset_rule(c->rs, corr->refs[f->ev_ref[i] < corr->n_refs ? f->ev_ref[i] : 0]);
        put_json_str(b, hm_str_c(rm->id));
        hm_buf_putc(b, '}');
    }
    hm_buf_puts(b, "]}}\n");
    c->written++;
}

static void dead_late(hm_buf *dead, const hm_correlator *c, const hm_corr_hit *h) {
    if (!dead) return;
    const hm_rule_meta *m = hm_ruleset_rule(c->rs, c->set->v[h->corr].rule);
    hm_buf_puts(dead, "{\"kind\":\"dead_letter\",\"id\":");
    hm_buf_put_json_str(dead, h->event_id);
    hm_buf_puts(dead,
                ",\"reason\":\"late event: older than the correlation watermark (--lateness)\","
                "\"correlation\":");
    hm_buf_put_json_str(dead, hm_str_c(m->id));
    hm_buf_puts(dead, ",\"time\":\"");
    hm_buf_put_time(dead, h->ts_ns);
    hm_buf_puts(dead, "\"}\n");
}

static hm_corr_hit *reserve_hits(hm_corr_hit **p, size_t *cap, size_t n) {
    if (n > *cap) {
        *cap = n > *cap * 2 ? n : *cap * 2;
        *p = hm_xrealloc(*p, *cap * sizeof(hm_corr_hit));
    }
    return *p;
}

/* Applies hits level by level at watermark wm; chained hits feed the next level. */
static int run_levels(hm_correlator *c, const hm_corr_hit *hits, size_t n, int64_t wm) {
    uint32_t levels = c->set->max_level + 1;
    c->n_chain = 0;
    int rc;
    if (levels == 1) { /* no chaining: the hits go as they are */
        rc = c->ops->apply(c->st, c->set, 0, hits, n, wm, on_fire, c);
    } else {
        rc = c->ops->prepare ? c->ops->prepare(c->st, c->set, hits, n, wm) : HM_OK;
        for (uint32_t L = 0; L < levels && rc == HM_OK; L++) {
            /* this level's hits, then chained hits from lower levels (this call's firings) */
            hm_corr_hit *lv = reserve_hits(&c->lv, &c->cap_lv, n + c->n_chain + 1);
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (c->set->v[hits[i].corr].level == L) lv[k++] = hits[i];
            for (size_t i = 0; i < c->n_chain; i++)
                if (c->set->v[c->chain[i].corr].level == L) lv[k++] = c->chain[i];
            rc = c->ops->apply(c->st, c->set, L, lv, k, wm, on_fire, c);
        }
    }
    hm_arena_reset(&c->chain_arena);
    c->n_chain = 0;
    return rc;
}

static bool same_event(const hm_corr_hit *a, const hm_corr_hit *b) {
    return a->ts_ns == b->ts_ns && a->event_id.len == b->event_id.len &&
           (a->event_id.p == b->event_id.p ||
            !memcmp(a->event_id.p, b->event_id.p, a->event_id.len));
}

/* Index of the stream `key` in c->streams, added when new (the array may move). */
static size_t stream_index(hm_correlator *c, const void *key) {
    for (size_t i = 0; i < c->n_streams; i++)
        if (c->streams[i].key == key) return i;
    if (c->n_streams == c->cap_streams) {
        c->cap_streams = c->cap_streams ? c->cap_streams * 2 : 16;
        c->streams = hm_xrealloc(c->streams, c->cap_streams * sizeof(corr_stream));
    }
    c->streams[c->n_streams] = (corr_stream){.key = key, INT64_MIN, INT64_MIN, hm_mono_ns(), false};
    return c->n_streams++;
}

void hm_correlator_expect(hm_correlator *c, const void *stream) {
    if (!c->set) return;
    size_t i = stream_index(c, stream); /* first: it may move c->streams */
    corr_stream *s = &c->streams[i];
    if (s->hit_ms == INT64_MIN) {
        s->expected = true;
        s->active_ns = hm_mono_ns();
    }
}

/* This instance's watermark: the oldest of the streams still moving (every stream when
 * none is), newest event time minus the lateness. */
static int64_t local_watermark(const hm_correlator *c, int64_t now) {
    int64_t wm_active = INT64_MAX, wm_all = INT64_MAX;
    for (size_t i = 0; i < c->n_streams; i++) {
        const corr_stream *s = &c->streams[i];
        if (s->hit_tmp == INT64_MIN) { /* an announced stream not heard from yet */
            if (s->expected && now - s->active_ns < STREAM_IDLE_NS) wm_active = INT64_MIN;
            continue;
        }
        int64_t w = s->hit_tmp - c->lateness_ms;
        if (w < wm_all) wm_all = w;
        bool active = s->hit_tmp > s->hit_ms || now - s->active_ns < STREAM_IDLE_NS;
        if (active && w < wm_active) wm_active = w;
    }
    if (wm_active == INT64_MIN) return INT64_MIN;
    int64_t wm = wm_active != INT64_MAX ? wm_active : wm_all;
    return wm == INT64_MAX ? INT64_MIN : wm;
}

static int push(hm_correlator *c, const hm_corr_hit *hits, size_t n, hm_buf *out, hm_buf *dead,
                uint64_t *alerts_written) {
    hm_corr_hit *ok = reserve_hits(&c->ok, &c->cap_ok, n + 1);
    size_t k = 0;
    int64_t now = hm_mono_ns();
    for (size_t i = 0; i < c->n_streams; i++) c->streams[i].hit_tmp = c->streams[i].hit_ms;
    /* Late: at or before the watermark of the hit's own stream, the newest hit time seen
     * there *before this event*, minus the lateness: input order decides, not where batches
     * begin (the hits of one event are adjacent and share its time and id, so the running
     * maximum moves between events). Windows already decided (evaluated_ms: the oldest
     * stream's watermark, with Redis the oldest over instances) cannot take a hit either. */
    /* indexes, not pointers: a stream seen for the first time may move the array */
    size_t si = SIZE_MAX, pend = SIZE_MAX;
    int64_t pend_ts = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        int64_t ts = ns_to_ms(hits[i].ts_ns);
        if (i && !same_event(&hits[i - 1], &hits[i]) && pend != SIZE_MAX) {
            if (pend_ts > c->streams[pend].hit_tmp) c->streams[pend].hit_tmp = pend_ts;
            pend = SIZE_MAX;
            pend_ts = INT64_MIN;
        }
        if (si == SIZE_MAX || c->streams[si].key != hits[i].stream)
            si = stream_index(c, hits[i].stream);
        const corr_stream *s = &c->streams[si];
        int64_t late_at = s->hit_tmp == INT64_MIN ? INT64_MIN : s->hit_tmp - c->lateness_ms;
        if (c->evaluated_ms > late_at) late_at = c->evaluated_ms;
        if (late_at != INT64_MIN && ts <= late_at) {
            c->stats.late++;
            dead_late(dead, c, &hits[i]);
            continue;
        }
        ok[k++] = hits[i];
        pend = si;
        if (ts > pend_ts) pend_ts = ts;
    }
    if (pend != SIZE_MAX && pend_ts > c->streams[pend].hit_tmp) c->streams[pend].hit_tmp = pend_ts;
    int64_t max_ts = c->max_ts_ms;
    for (size_t i = 0; i < c->n_streams; i++)
        if (c->streams[i].hit_tmp > max_ts) max_ts = c->streams[i].hit_tmp;
    int64_t local = local_watermark(c, now);
    int64_t wm = local;
    if (c->ops->watermark) {
        int64_t g;
        int rc = c->ops->watermark(c->st, wm, false, &g);
        if (rc != HM_OK) return rc;
        wm = g;
    }
    if (wm < c->evaluated_ms) wm = c->evaluated_ms;
    c->out = out;
    c->written = 0;
    int rc = run_levels(c, ok, k, wm);
    c->out = NULL;
    if (rc != HM_OK) return rc; /* nothing applied for certain: the caller retries */
    c->stats.hits += n;
    c->stats.applied += k;
    size_t keep = 0;
    for (size_t i = 0; i < c->n_streams; i++) { /* commit; forget streams long gone */
        corr_stream x = c->streams[i];
        if (x.hit_tmp > x.hit_ms) x.active_ns = now;
        x.hit_ms = x.hit_tmp;
        if (now - x.active_ns < STREAM_FORGET_NS) c->streams[keep++] = x;
    }
    c->n_streams = keep;
    c->max_ts_ms = max_ts;
    if (local > c->local_wm_ms) c->local_wm_ms = local;
    c->evaluated_ms = wm;
    if (alerts_written) *alerts_written = c->written;
    return HM_OK;
}

int hm_correlator_push(hm_correlator *c, const hm_corr_hit *hits, size_t n, hm_buf *out,
                       hm_buf *dead, uint64_t *alerts_written) {
    if (!c->set) return HM_OK;
    int64_t t0 = thread_cpu_ns();
    int rc = push(c, hits, n, out, dead, alerts_written);
    c->stats.busy_ns += (uint64_t)(thread_cpu_ns() - t0);
    return rc;
}

static int finish(hm_correlator *c, hm_buf *out, uint64_t *alerts_written) {
    if (c->state_path) {
        state_save(c);
        if (alerts_written) *alerts_written = 0;
        return HM_OK;
    }
    int64_t wm = INT64_MAX;
    if (c->ops->watermark) {
        /* wait for peer instances to pass our pending windows (bounded) */
        for (int tries = 0;; tries++) {
            int64_t g;
            int rc = c->ops->watermark(c->st, INT64_MAX, true, &g);
            if (rc != HM_OK) return rc;
            wm = g;
            if (g == INT64_MAX) break;
            /* polled every 50 ms: the discovery period of a short run ends between polls */
            if (tries == 2400) {
                hm_warn("correlate", "other instances did not finish within 120 s; windows after "
                                     "the shared watermark stay undecided");
                break;
            }
            if (tries == 60)
                hm_info("correlate", "waiting for other instances to reach the end of their input");
            int64_t t0 = hm_mono_ns();
            usleep(50000);
            c->stats.peer_wait_ns += (uint64_t)(hm_mono_ns() - t0);
        }
        if (wm < c->evaluated_ms) wm = c->evaluated_ms;
    }
    c->out = out;
    c->written = 0;
    int rc = run_levels(c, NULL, 0, wm);
    c->out = NULL;
    if (rc != HM_OK) return rc;
    c->evaluated_ms = wm;
    if (alerts_written) *alerts_written = c->written;
    return HM_OK;
}

int hm_correlator_finish(hm_correlator *c, hm_buf *out, uint64_t *alerts_written) {
    if (!c->set) return HM_OK;
    int64_t t0 = thread_cpu_ns();
    int rc = finish(c, out, alerts_written);
    c->stats.busy_ns += (uint64_t)(thread_cpu_ns() - t0);
    return rc;
}

int hm_correlator_commit(hm_correlator *c) {
    if (!c->set || !c->ops->commit) return HM_OK;
    int64_t t0 = thread_cpu_ns();
    int rc = c->ops->commit(c->st);
    c->stats.busy_ns += (uint64_t)(thread_cpu_ns() - t0);
    return rc;
}

/* Same definition? (then its state carries over a rule reload) */
static bool corr_same(const hm_ruleset *ra, const hm_corr *a, const hm_ruleset *rb,
                      const hm_corr *b) {
    if (strcmp(hm_ruleset_rule(ra, a->rule)->id, hm_ruleset_rule(rb, b->rule)->id)) return false;
    if (a->type != b->type || a->span_ns != b->span_ns || a->n_refs != b->n_refs ||
        a->n_group != b->n_group || a->n_cond != b->n_cond ||
        a->n_value_fields != b->n_value_fields || a->close_eval != b->close_eval ||
        a->min_rules != b->min_rules || a->percentile != b->percentile)
        return false;
    for (size_t i = 0; i < a->n_refs; i++)
        if (strcmp(hm_ruleset_rule(ra, a->refs[i])->id, hm_ruleset_rule(rb, b->refs[i])->id))
            return false;
    for (size_t i = 0; i < a->n_group * a->n_refs; i++)
        if (strcmp(a->group_fields[i], b->group_fields[i])) return false;
    for (int i = 0; i < a->n_cond; i++)
        if (a->cond[i].op != b->cond[i].op || a->cond[i].v != b->cond[i].v) return false;
    for (size_t i = 0; i < a->n_value_fields; i++)
        if (strcmp(a->value_fields[i], b->value_fields[i])) return false;
    return true;
}

int hm_correlator_rebind(hm_correlator *c, const hm_ruleset *rs) {
    const hm_corr_set *ns = hm_ruleset_correlations(rs);
    size_t n_old = c->set ? c->set->n : 0;
    int32_t *map = hm_xcalloc(n_old + 1, sizeof(int32_t));
    size_t kept = 0;
    for (size_t i = 0; i < n_old; i++) {
        map[i] = -1;
        for (size_t j = 0; ns && j < ns->n; j++)
            if (corr_same(c->rs, &c->set->v[i], rs, &ns->v[j])) {
                map[i] = (int32_t)j;
                kept++;
                break;
            }
    }
    if (c->ops->remap) c->ops->remap(c->st, ns, map, n_old);
    free(map);
    hm_info("correlate", "rules reloaded: state of %zu of %zu correlations kept", kept, n_old);
    c->rs = rs;
    c->set = ns;
    if (c->ops == &corr_redis_ops) corr_redis_set_ruleset(rs);
    if (c->ops == &corr_mem_ops) corr_mem_bind(c->st, rs);
    return HM_OK;
}
