/* kafka.c - Kafka input: kafka://BROKER[,BROKER...]/TOPIC[,TOPIC...]?group=GROUP
 * (+ librdkafka properties from -X key=value and from further ?key=value parameters).
 *
 * At least once, without counting twice (docs/kafka.md has the whole design):
 *  - A poller thread owns the rd_kafka_t: it polls continuously (so max.poll.interval.ms
 *    is never exceeded, even while the pipeline is stalled), serves rebalances, and moves
 *    messages into a local queue that read_batch drains on the connector thread.
 *  - enable.auto.offset.store=false. Every assignment of a partition is an "epoch" with
 *    an in-flight list: one entry per dispatched batch (first..last offset). ack() (the
 *    engine's writer thread, after the batch's outputs are written) marks the entry done;
 *    the contiguous done prefix gives the watermark W; the poller stores W+1 with
 *    rd_kafka_offsets_store and librdkafka auto-commits stored offsets every second.
 *  - Revoke: stop dispatching the revoked partitions, drop their queued messages, wait
 *    (bounded) until their in-flight batches are acked, store and commit synchronously,
 *    then incremental_unassign (cooperative) or assign(NULL) (eager). Lost assignments
 *    are not committed.
 *  - Backpressure: when the local queue passes its high mark (queued.min.messages
 *    messages or queued.max.messages.kbytes, the bounds librdkafka uses for its own
 *    prefetch; at least two batches), the engine is not taking batches: every assigned
 *    partition is paused (polling goes on) and resumed at a quarter of the mark.
 *  - Shutdown: the engine drains and acks everything, then close() stores the final
 *    watermarks, commits, rd_kafka_consumer_close (final revoke) and destroys.
 *
 * Records: data and key are copied into the batch buffer and the message is destroyed at
 * once. origin = "kafka:TOPIC/PARTITION" (one string per assignment epoch, alive until
 * close), pos = offset, so event ids are kafka:TOPIC/PARTITION:OFFSET and a redelivered
 * record keeps its id. A `recv_time` header (RFC 3339, as written by `forward`) is used as
 * the receive time. One trailing newline of a message is not part of the record. */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "connector.h"
#include "hm_kafka.h"
#include "timeutil.h"

#define REVOKE_WAIT_MS 10000 /* bound for in-flight batches of revoked partitions */
#define WARMUP_MAX_MS  60000 /* longest wait for the first assignment before "idle" */
#define STALL_MS       1000  /* queue full and no batch taken for this long: pause */
#define THROTTLE_MS    200   /* queue full: poll this often */
#define POLL_BATCH     1024  /* messages moved to the local queue per lock */
#define HANDOFF_MS     250   /* read_batch not called for this long: the poller polls */

enum { EP_ACTIVE, EP_REVOKING, EP_GONE };

typedef struct inflight {
    int64_t first, last;
    uint32_t n;
    bool done;
} inflight;

/* One assignment of one partition. Never freed before close: records point at origin. */
typedef struct kepoch {
    struct kepoch *next_all;
    char *topic;
    const char *topic_ptr; /* last rd_kafka_topic_name() seen equal to topic */
    int32_t partition;
    int state;
    bool eof;       /* reached the end of the partition since this assignment */
    int64_t wm;     /* highest offset with every dispatched record up to it acked; -1 */
    int64_t stored; /* last offset handed to rd_kafka_offsets_store (wm+1); -1 */
    int64_t start;  /* offset of the first message seen in this assignment (or EOF's); -1 */
    inflight *fl;   /* in-flight entries [fl_head, fl_len) in dispatch order */
    size_t fl_head, fl_len, fl_cap;
    uint64_t inflight_msgs;
    uint64_t mark; /* scratch for ack/registration (under mu) */
    int64_t mark_first;
    char origin[]; /* "kafka:TOPIC/PARTITION" */
} kepoch;

#define EPOCH_OF(origin_ptr) ((kepoch *)(void *)((char *)(origin_ptr)-offsetof(kepoch, origin)))

typedef struct qent {
    rd_kafka_message_t *m;
    kepoch *ep;
} qent;

typedef struct kstate {
    hm_source *src;
    char *uri, *brokers, *group, *batch_origin;
    rd_kafka_t *rk;
    pthread_t th;
    bool th_started;
    volatile int quit;

    pthread_mutex_t mu;
    pthread_cond_t cv_data;  /* local queue non-empty, ready, quit */
    pthread_cond_t cv_ack;   /* an ack arrived */
    pthread_cond_t cv_space; /* read_batch took messages */

    /* local queue (ring), under mu */
    qent *q;
    size_t q_head, q_n, q_cap, q_bytes;
    size_t high, low;             /* pause at high messages, resume at low (queued.min.messages) */
    size_t high_bytes, low_bytes; /* same in bytes (queued.max.messages.kbytes) */
    int64_t last_take_ns;         /* when read_batch last took messages */
    int64_t first_dispatch_ns, last_ack_ns; /* for "active_s" in the stats */

    /* epochs, under mu */
    kepoch *all;
    kepoch **cur; /* current assignment (ACTIVE or REVOKING) */
    size_t n_cur, cap_cur;
    kepoch *last_hit;
    kepoch *announced; /* st->all's head when read_batch last told the engine of new epochs */
    kepoch **scratch;  /* ack's list of epochs in one batch */
    size_t cap_scratch;
    uint64_t mark_seq;
    bool store_dirty;

    /* poller-only */
    bool paused;
    qent *take; /* read_batch's messages */
    rd_kafka_message_t **pollbuf;
    size_t cap_take;
    pthread_mutex_t poll_mu; /* who calls rd_kafka_consumer_poll: read_batch or the poller */
    int64_t last_call_ns;    /* when read_batch was last called */

    /* readiness: the first assignment caught up (or the brokers are down) */
    bool assigned_once, ready;
    int64_t warm_deadline_ns;
    int64_t last_assign_ns, empty_grace_ns;

    /* errors */
    volatile int fatal;
    bool down;
    int64_t last_err_log_ns;

    /* counters (under mu) */
    uint64_t consumed, dispatched, acked, dropped_revoked, dropped_unowned, pauses, rebalances,
        commits, commit_errors, msg_errors, broker_errors, revoke_timeouts;
} kstate;

/* ---- epochs ---- */

static kepoch *epoch_new(kstate *st, const char *topic, int32_t partition) {
    char origin[512];
    int ol = snprintf(origin, sizeof origin, "kafka:%s/%d", topic, (int)partition);
    if (ol < 0 || (size_t)ol >= sizeof origin) ol = (int)sizeof origin - 1;
    kepoch *ep = hm_xcalloc(1, sizeof(*ep) + (size_t)ol + 1);
    memcpy(ep->origin, origin, (size_t)ol + 1);
    ep->topic = hm_xstrdup(topic);
    ep->partition = partition;
    ep->state = EP_ACTIVE;
    ep->wm = -1;
    ep->stored = -1;
    ep->start = -1;
    ep->next_all = st->all;
    st->all = ep;
    return ep;
}

static kepoch *cur_find(kstate *st, const char *topic, int32_t partition) {
    kepoch *h = st->last_hit;
    if (h && h->partition == partition && h->state != EP_GONE &&
        (h->topic_ptr == topic || !strcmp(h->topic, topic))) {
        h->topic_ptr = topic; /* rd_kafka_topic_name() is stable per topic handle */
        return h;
    }
    for (size_t i = 0; i < st->n_cur; i++) {
        kepoch *ep = st->cur[i];
        if (ep->partition == partition && !strcmp(ep->topic, topic)) {
            st->last_hit = ep;
            return ep;
        }
    }
    return NULL;
}

static void cur_add(kstate *st, kepoch *ep) {
    if (st->n_cur == st->cap_cur) {
        st->cap_cur = st->cap_cur ? st->cap_cur * 2 : 16;
        st->cur = hm_xrealloc(st->cur, st->cap_cur * sizeof(*st->cur));
    }
    st->cur[st->n_cur++] = ep;
}

/* Removes GONE epochs from the current set. */
static void cur_prune(kstate *st) {
    size_t j = 0;
    for (size_t i = 0; i < st->n_cur; i++)
        if (st->cur[i]->state != EP_GONE) st->cur[j++] = st->cur[i];
    st->n_cur = j;
    st->last_hit = NULL;
}

static void fl_push(kepoch *ep, int64_t off) {
    if (ep->fl_len == ep->fl_cap) {
        if (ep->fl_head > 0) {
            memmove(ep->fl, ep->fl + ep->fl_head, (ep->fl_len - ep->fl_head) * sizeof(*ep->fl));
            ep->fl_len -= ep->fl_head;
            ep->fl_head = 0;
        }
        if (ep->fl_len == ep->fl_cap) {
            ep->fl_cap = ep->fl_cap ? ep->fl_cap * 2 : 8;
            ep->fl = hm_xrealloc(ep->fl, ep->fl_cap * sizeof(*ep->fl));
        }
    }
    ep->fl[ep->fl_len++] = (inflight){off, off, 1, false};
}

/* Moves the watermark over the contiguous done prefix. Under mu. */
static void fl_advance(kstate *st, kepoch *ep) {
    while (ep->fl_head < ep->fl_len && ep->fl[ep->fl_head].done) {
        inflight *f = &ep->fl[ep->fl_head++];
        ep->wm = f->last;
        ep->inflight_msgs -= f->n;
        st->acked += f->n;
        st->store_dirty = true;
    }
    if (ep->fl_head == ep->fl_len) ep->fl_head = ep->fl_len = 0;
}

/* ---- offsets ---- */

/* Stores wm+1 for ACTIVE epochs that moved. Poller thread (or close after the join). */
static void store_offsets(kstate *st) {
    rd_kafka_topic_partition_list_t *l = NULL;
    pthread_mutex_lock(&st->mu);
    st->store_dirty = false;
    for (size_t i = 0; i < st->n_cur; i++) {
        kepoch *ep = st->cur[i];
        if (ep->state != EP_ACTIVE || ep->wm < 0 || ep->wm + 1 <= ep->stored) continue;
        if (!l) l = rd_kafka_topic_partition_list_new((int)st->n_cur);
        rd_kafka_topic_partition_list_add(l, ep->topic, ep->partition)->offset = ep->wm + 1;
        ep->stored = ep->wm + 1;
    }
    pthread_mutex_unlock(&st->mu);
    if (!l) return;
    /* a partition we no longer own fails with __STATE: nothing to do, its tracker is gone */
    rd_kafka_offsets_store(st->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Synchronous commit with a bound (a commit with the coordinator down must not hang the
 * rebalance or the shutdown). offsets NULL = the stored offsets of the assignment. */
static void commit_bounded(kstate *st, const rd_kafka_topic_partition_list_t *offsets,
                           int timeout_ms, const char *why) {
    rd_kafka_queue_t *q = rd_kafka_queue_new(st->rk);
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(st->rk, offsets, q, NULL, NULL);
    if (!e) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
        if (!ev) {
            e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        } else {
            e = rd_kafka_event_error(ev);
            rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
    pthread_mutex_lock(&st->mu);
    if (!e)
        st->commits++;
    else if (e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        st->commit_errors++;
    pthread_mutex_unlock(&st->mu);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)
        hm_warn("kafka",
                "%s: offset commit (%s) failed: %s; records after the last commit will be "
                "read again",
                st->uri, why, rd_kafka_err2str(e));
}

/* ---- rebalances (poller thread, inside poll; or close) ---- */

static void list_names(const rd_kafka_topic_partition_list_t *parts, char *buf, size_t len) {
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < parts->cnt && o + 32 < len; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        bool same = i > 0 && !strcmp(parts->elems[i - 1].topic, p->topic);
        int w = same ? snprintf(buf + o, len - o, ",%d", (int)p->partition)
                     : snprintf(buf + o, len - o, "%s%s[%d", i ? "] " : "", p->topic,
                                (int)p->partition);
        if (w < 0) break;
        o += (size_t)w;
        if (o >= len) {
            o = len - 1;
            break;
        }
    }
    if (parts->cnt && o + 2 < len) snprintf(buf + o, len - o, "]");
}

/* Ready (an empty poll counts as idle) once every assigned partition has been read to its
 * end. With no partition at all, only after session.timeout.ms: under the cooperative
 * protocol a new member's first assignment is usually empty and its partitions come one
 * rebalance later (which the broker may hold for up to a session timeout). Under mu. */
static void check_ready(kstate *st) {
    if (st->ready || !st->assigned_once) return;
    size_t active = 0;
    for (size_t i = 0; i < st->n_cur; i++) {
        if (st->cur[i]->state != EP_ACTIVE) continue;
        if (!st->cur[i]->eof) return;
        active++;
    }
    if (!active && hm_mono_ns() - st->last_assign_ns < st->empty_grace_ns) return;
    st->ready = true;
    pthread_cond_broadcast(&st->cv_data);
}

static void do_assign(kstate *st, rd_kafka_topic_partition_list_t *parts, bool coop) {
    pthread_mutex_lock(&st->mu);
    if (!coop) /* eager: the list is the whole assignment */
        for (size_t i = 0; i < st->n_cur; i++) st->cur[i]->state = EP_GONE;
    for (int i = 0; i < parts->cnt; i++) {
        kepoch *old = cur_find(st, parts->elems[i].topic, parts->elems[i].partition);
        if (old) old->state = EP_GONE;
    }
    cur_prune(st);
    for (int i = 0; i < parts->cnt; i++)
        cur_add(st, epoch_new(st, parts->elems[i].topic, parts->elems[i].partition));
    st->assigned_once = true;
    st->last_assign_ns = hm_mono_ns();
    st->rebalances++;
    bool paused = st->paused;
    if (st->down) {
        st->down = false;
        hm_info("kafka", "%s: brokers reachable again", st->uri);
    }
    pthread_mutex_unlock(&st->mu);
    rd_kafka_error_t *error = NULL;
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (coop)
        error = rd_kafka_incremental_assign(st->rk, parts);
    else
        e = rd_kafka_assign(st->rk, parts);
    if (error) {
        hm_error("kafka", "%s: assign failed: %s", st->uri, rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    } else if (e) {
        hm_error("kafka", "%s: assign failed: %s", st->uri, rd_kafka_err2str(e));
    }
    if (paused && parts->cnt) rd_kafka_pause_partitions(st->rk, parts);
    char names[1024];
    list_names(parts, names, sizeof names);
    if (parts->cnt)
        hm_info("kafka", "%s: group %s: assigned %d partition(s): %s", st->uri, st->group,
                parts->cnt, names);
    pthread_mutex_lock(&st->mu);
    check_ready(st);
    pthread_mutex_unlock(&st->mu);
}

static void do_revoke(kstate *st, rd_kafka_topic_partition_list_t *parts, bool coop, bool lost) {
    /* 1. stop dispatching: mark the epochs, drop their queued messages */
    pthread_mutex_lock(&st->mu);
    size_t dropped = 0;
    for (int i = 0; i < parts->cnt; i++) {
        kepoch *ep = cur_find(st, parts->elems[i].topic, parts->elems[i].partition);
        if (ep) ep->state = lost ? EP_GONE : EP_REVOKING;
    }
    if (!coop) /* eager: everything is revoked */
        for (size_t i = 0; i < st->n_cur; i++) st->cur[i]->state = lost ? EP_GONE : EP_REVOKING;
    size_t keep = 0;
    qent *drop = NULL;
    size_t n_drop = 0;
    for (size_t k = 0; k < st->q_n; k++) {
        qent e = st->q[(st->q_head + k) & (st->q_cap - 1)];
        if (e.ep->state == EP_ACTIVE) {
            st->q[(st->q_head + keep) & (st->q_cap - 1)] = e;
            keep++;
        } else {
            drop = hm_xrealloc(drop, (n_drop + 1) * sizeof(*drop));
            drop[n_drop++] = e;
            st->q_bytes -= e.m->len + e.m->key_len;
        }
    }
    st->q_n = keep;
    dropped = n_drop;
    st->dropped_revoked += dropped;

    /* 2. wait (bounded) for their in-flight batches */
    rd_kafka_topic_partition_list_t *commit = NULL;
    if (!lost) {
        int64_t deadline = hm_mono_ns() + (int64_t)REVOKE_WAIT_MS * 1000000LL;
        for (;;) {
            uint64_t pending = 0;
            for (size_t i = 0; i < st->n_cur; i++)
                if (st->cur[i]->state == EP_REVOKING) pending += st->cur[i]->inflight_msgs;
            if (!pending) break;
            if (hm_mono_ns() >= deadline) {
                st->revoke_timeouts++;
                hm_warn("kafka",
                        "%s: %llu record(s) of revoked partitions still in flight after %d ms; "
                        "committing what is done (the rest is read again by the new owner)",
                        st->uri, (unsigned long long)pending, REVOKE_WAIT_MS);
                break;
            }
            struct timespec ts = hm_deadline_ms(100);
            pthread_cond_timedwait(&st->cv_ack, &st->mu, &ts);
        }
        /* 3. final watermarks of the revoked partitions */
        for (size_t i = 0; i < st->n_cur; i++) {
            kepoch *ep = st->cur[i];
            if (ep->state != EP_REVOKING || ep->wm < 0) continue;
            if (!commit) commit = rd_kafka_topic_partition_list_new((int)st->n_cur);
            rd_kafka_topic_partition_list_add(commit, ep->topic, ep->partition)->offset =
                ep->wm + 1;
            ep->stored = ep->wm + 1;
        }
    }
    pthread_mutex_unlock(&st->mu);
    for (size_t i = 0; i < n_drop; i++) rd_kafka_message_destroy(drop[i].m);
    free(drop);
    if (commit) {
        rd_kafka_offsets_store(st->rk, commit);
        commit_bounded(st, commit, 10000, "on revoke");
        rd_kafka_topic_partition_list_destroy(commit);
    }
    /* 4. unassign */
    if (coop) {
        rd_kafka_error_t *error = rd_kafka_incremental_unassign(st->rk, parts);
        if (error) {
            hm_warn("kafka", "%s: unassign: %s", st->uri, rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else {
        rd_kafka_assign(st->rk, NULL);
    }
    /* 5. drop the trackers (late acks for them are ignored) */
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < st->n_cur; i++)
        if (st->cur[i]->state == EP_REVOKING) st->cur[i]->state = EP_GONE;
    cur_prune(st);
    st->rebalances++;
    pthread_mutex_unlock(&st->mu);
    if (parts->cnt) {
        char names[1024];
        list_names(parts, names, sizeof names);
        hm_info("kafka", "%s: group %s: %s %d partition(s): %s%s", st->uri, st->group,
                lost ? "lost" : "revoked", parts->cnt, names,
                lost ? " (not committed: another member may own them)" : "");
    }
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
    kstate *st = opaque;
    bool coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        do_assign(st, parts, coop);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        do_revoke(st, parts, coop, rd_kafka_assignment_lost(rk) != 0);
    } else {
        hm_error("kafka", "%s: rebalance error: %s", st->uri, rd_kafka_err2str(err));
        pthread_mutex_lock(&st->mu);
        for (size_t i = 0; i < st->n_cur; i++) st->cur[i]->state = EP_GONE;
        cur_prune(st);
        pthread_mutex_unlock(&st->mu);
        rd_kafka_assign(rk, NULL);
    }
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    kstate *st = opaque;
    char fatal[512];
    if (rd_kafka_fatal_error(rk, fatal, sizeof fatal)) {
        hm_error("kafka", "%s: fatal consumer error: %s", st->uri, fatal);
        st->fatal = 1;
        pthread_mutex_lock(&st->mu);
        pthread_cond_broadcast(&st->cv_data);
        pthread_mutex_unlock(&st->mu);
        return;
    }
    bool conn = err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                err == RD_KAFKA_RESP_ERR__RESOLVE || err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
                err == RD_KAFKA_RESP_ERR__SSL;
    int64_t now = hm_mono_ns();
    pthread_mutex_lock(&st->mu);
    st->broker_errors++;
    bool log = !st->last_err_log_ns || now - st->last_err_log_ns > 30LL * 1000000000LL;
    if (conn && !st->down) log = true;
    if (log) st->last_err_log_ns = now;
    if (conn) {
        st->down = true;
        /* all brokers down: "idle" from now on (--exit-on-idle counts) */
        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__RESOLVE) {
            st->ready = true;
            pthread_cond_broadcast(&st->cv_data);
        }
    }
    pthread_mutex_unlock(&st->mu);
    if (!log) return;
    if (conn)
        hm_error("kafka",
                 "%s: cannot reach Kafka brokers %s (%s); retrying in the background, nothing "
                 "is lost",
                 st->uri, st->brokers, reason);
    else
        hm_warn("kafka", "%s: %s", st->uri, reason);
}

/* ---- poller thread ---- */

static void q_grow(kstate *st) {
    size_t ncap = st->q_cap ? st->q_cap * 2 : 4096;
    qent *nq = hm_xmalloc(ncap * sizeof(*nq));
    for (size_t k = 0; k < st->q_n; k++) nq[k] = st->q[(st->q_head + k) & (st->q_cap - 1)];
    free(st->q);
    st->q = nq;
    st->q_cap = ncap;
    st->q_head = 0;
}

/* Sorts polled messages: partition EOFs and errors are noted, messages of partitions we
 * do not own (any more) are dropped, the rest go to out[] (direct poll by read_batch) or,
 * with out NULL, to the local queue (poller thread). Returns how many went to out. */
static size_t accept_msgs(kstate *st, rd_kafka_message_t **msgs, size_t n, qent *out) {
    size_t nd = 0, nout = 0; /* discarded ones are compacted into msgs[0..nd) */
    char errmsg[512] = "";
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = msgs[i];
        if (m->err) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                kepoch *ep =
                    m->rkt ? cur_find(st, rd_kafka_topic_name(m->rkt), m->partition) : NULL;
                if (ep) {
                    ep->eof = true;
                    if (ep->start < 0) ep->start = m->offset; /* EOF carries the end offset */
                }
            } else {
                st->msg_errors++;
                if (!errmsg[0])
                    snprintf(errmsg, sizeof errmsg, "%s%s%s",
                             m->rkt ? rd_kafka_topic_name(m->rkt) : "", m->rkt ? ": " : "",
                             rd_kafka_message_errstr(m));
            }
            msgs[nd++] = m;
            continue;
        }
        kepoch *ep = m->rkt ? cur_find(st, rd_kafka_topic_name(m->rkt), m->partition) : NULL;
        if (!ep || ep->state != EP_ACTIVE) { /* not ours (any more) */
            st->dropped_unowned++;
            msgs[nd++] = m;
            continue;
        }
        st->consumed++;
        if (ep->start < 0) ep->start = m->offset;
        if (out) {
            out[nout++] = (qent){m, ep};
        } else {
            if (st->q_n == st->q_cap) q_grow(st);
            st->q[(st->q_head + st->q_n) & (st->q_cap - 1)] = (qent){m, ep};
            st->q_n++;
            st->q_bytes += m->len + m->key_len;
        }
    }
    if (st->down && (nout || st->q_n)) {
        st->down = false;
        hm_info("kafka", "%s: brokers reachable again", st->uri);
    }
    check_ready(st);
    if (st->q_n && !out) pthread_cond_broadcast(&st->cv_data);
    pthread_mutex_unlock(&st->mu);
    for (size_t i = 0; i < nd; i++) rd_kafka_message_destroy(msgs[i]);
    if (errmsg[0]) {
        int64_t now = hm_mono_ns();
        if (!st->last_err_log_ns || now - st->last_err_log_ns > 30LL * 1000000000LL) {
            st->last_err_log_ns = now;
            hm_warn("kafka", "%s: %s", st->uri, errmsg);
        }
    }
    return nout;
}

/* Up to max messages: waits up to timeout_ms for the first, takes what is ready after it.
 * Caller holds poll_mu. */
static size_t poll_some(kstate *st, rd_kafka_message_t **msgs, size_t max, int timeout_ms) {
    size_t n = 0;
    rd_kafka_message_t *m = rd_kafka_consumer_poll(st->rk, timeout_ms);
    while (m) {
        msgs[n++] = m;
        if (n >= max) break;
        m = rd_kafka_consumer_poll(st->rk, 0);
    }
    return n;
}

static void timed_wait(pthread_cond_t *cv, pthread_mutex_t *mu, long ms) {
    struct timespec ts = hm_deadline_ms(ms);
    pthread_cond_timedwait(cv, mu, &ts);
}

/* Backpressure. Above the high mark the poller polls only a few times a second (events
 * and max.poll.interval.ms are still served; librdkafka's own prefetch then fills up to
 * queued.min.messages and stops fetching). When the engine has also stopped taking
 * batches for STALL_MS (a stalled output), every assigned partition is paused, which
 * releases librdkafka's prefetched messages; they are resumed when the queue drains.
 * (librdkafka 2.0.2 resumes fetching only ~1 s after a resume: pausing is kept for real
 * stalls, not for an engine that is merely slower than the brokers.)
 * Returns true when the queue is full and the poller should throttle. */
static bool flow_control(kstate *st) {
    int64_t now = hm_mono_ns();
    pthread_mutex_lock(&st->mu);
    bool full = st->q_n >= st->high || st->q_bytes >= st->high_bytes;
    bool want_pause = !st->paused && full && now - st->last_take_ns > (int64_t)STALL_MS * 1000000LL;
    bool want_resume = st->paused && st->q_n <= st->low && st->q_bytes <= st->low_bytes;
    pthread_mutex_unlock(&st->mu);
    if (want_pause || want_resume) {
        rd_kafka_topic_partition_list_t *l = NULL;
        if (rd_kafka_assignment(st->rk, &l) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (want_pause)
                rd_kafka_pause_partitions(st->rk, l);
            else
                rd_kafka_resume_partitions(st->rk, l);
            rd_kafka_topic_partition_list_destroy(l);
            pthread_mutex_lock(&st->mu);
            st->paused = want_pause;
            if (want_pause) st->pauses++;
            pthread_mutex_unlock(&st->mu);
        }
    }
    return full && !want_pause && !st->paused;
}

/* The poller thread polls while the engine is not calling read_batch (stalled output,
 * idle input): rebalances and max.poll.interval.ms are served at all times, and messages go
 * to the local queue (bounded by flow_control). While the engine is taking batches,
 * read_batch polls itself (poll_mu hands the consumer over), saving a hop per message.
 * Only rd_kafka_consumer_poll is used: librdkafka 2.0.2's batch consume API can skip
 * offsets around pause/resume and rebalances (fixed in 2.1.0). */
static void *poll_main(void *arg) {
    kstate *st = arg;
    rd_kafka_message_t *msgs[POLL_BATCH];
    while (!st->quit) {
        bool throttle = flow_control(st);
        if (st->store_dirty) store_offsets(st);
        pthread_mutex_lock(&st->mu);
        bool engine_polls = hm_mono_ns() - st->last_call_ns < (int64_t)HANDOFF_MS * 1000000LL;
        pthread_mutex_unlock(&st->mu);
        if (engine_polls) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        size_t n = 0;
        if (throttle) {
            /* full: wait for room, then one poll (serves rebalances, counts as a poll) */
            pthread_mutex_lock(&st->mu);
            if (st->q_n >= st->high || st->q_bytes >= st->high_bytes)
                timed_wait(&st->cv_space, &st->mu, THROTTLE_MS);
            pthread_mutex_unlock(&st->mu);
            pthread_mutex_lock(&st->poll_mu);
            n = poll_some(st, msgs, 1, 0);
            pthread_mutex_unlock(&st->poll_mu);
        } else {
            pthread_mutex_lock(&st->poll_mu);
            n = poll_some(st, msgs, POLL_BATCH, 100);
            pthread_mutex_unlock(&st->poll_mu);
        }
        if (n) accept_msgs(st, msgs, n, NULL);
    }
    return NULL;
}

/* ---- connector ops ---- */

static void kstate_free(kstate *st) {
    if (!st) return;
    for (size_t k = 0; k < st->q_n; k++)
        rd_kafka_message_destroy(st->q[(st->q_head + k) & (st->q_cap - 1)].m);
    free(st->q);
    kepoch *ep = st->all;
    while (ep) {
        kepoch *next = ep->next_all;
        free(ep->topic);
        free(ep->fl);
        free(ep);
        ep = next;
    }
    free(st->cur);
    free(st->scratch);
    free(st->take);
    free(st->pollbuf);
    free(st->uri);
    free(st->brokers);
    free(st->group);
    free(st->batch_origin);
    pthread_mutex_destroy(&st->mu);
    pthread_cond_destroy(&st->cv_data);
    pthread_cond_destroy(&st->cv_ack);
    pthread_cond_destroy(&st->cv_space);
    pthread_mutex_destroy(&st->poll_mu);
    free(st);
}

static int kafka_open(hm_source *src, const char *uri, const hm_conn_opts *opts, char *err,
                      size_t errlen) {
    src->opts = *opts;
    hm_kafka_uri u;
    if (hm_kafka_uri_parse(uri, "--input", &u, err, errlen) != HM_OK) return HM_EUSAGE;
    kstate *st = hm_xcalloc(1, sizeof(*st));
    st->src = src;
    st->uri = hm_xstrdup(uri);
    st->brokers = hm_xstrdup(u.brokers);
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv_data, NULL);
    pthread_cond_init(&st->cv_ack, NULL);
    pthread_cond_init(&st->cv_space, NULL);
    pthread_mutex_init(&st->poll_mu, NULL);
    size_t bl = strlen(u.topics) + 7;
    st->batch_origin = hm_xmalloc(bl);
    snprintf(st->batch_origin, bl, "kafka:%s", u.topics);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    hm_kafka_conf_must(conf, "bootstrap.servers", u.brokers);
    hm_kafka_conf_must(conf, "client.id", "hallmonitor");
    hm_kafka_conf_must(conf, "enable.auto.commit", "true");
    hm_kafka_conf_must(conf, "auto.commit.interval.ms", "1000");
    hm_kafka_conf_must(conf, "auto.offset.reset", "earliest");
    hm_kafka_conf_must(conf, "partition.assignment.strategy", "cooperative-sticky");
    hm_kafka_conf_must(conf, "log.connection.close", "false");
    /* Prefetch: librdkafka 2.0.2 stops fetching for ~1 s once its queue passes these
     * marks, so they must hold about a second of the engine's work, or a backlog replay
     * stalls every second. The local queue (used while the engine is stalled) has the
     * same bounds. Lower them with -X on small machines. */
    hm_kafka_conf_must(conf, "queued.min.messages", "1000000");
    hm_kafka_conf_must(conf, "queued.max.messages.kbytes", "131072");
    if (hm_kafka_conf_props(conf, opts->kafka_props, opts->n_kafka_props, "-X", err, errlen) !=
            HM_OK ||
        hm_kafka_conf_props(conf, (const char *const *)u.params, u.n_params, "--input", err,
                            errlen) != HM_OK) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    /* the at-least-once design needs these two: say so instead of silently breaking it */
    for (size_t i = 0; i < opts->n_kafka_props + u.n_params; i++) {
        const char *kv =
            i < opts->n_kafka_props ? opts->kafka_props[i] : u.params[i - opts->n_kafka_props];
        if (!strncmp(kv, "enable.auto.offset.store=", 25) && strcmp(kv + 25, "false"))
            hm_warn("kafka",
                    "%s: enable.auto.offset.store stays false: offsets are stored "
                    "only once records are written (at least once)",
                    uri);
    }
    char v[64];
    hm_kafka_conf_must(conf, "enable.auto.offset.store", "false");
    hm_kafka_conf_must(conf, "enable.partition.eof", "true");
    /* the local queue extends librdkafka's consumer queue: same bounds */
    size_t sz2 = sizeof v;
    st->high = 1000000;
    if (rd_kafka_conf_get(conf, "queued.min.messages", v, &sz2) == RD_KAFKA_CONF_OK && atol(v) > 0)
        st->high = (size_t)atol(v);
    st->low = st->high / 4;
    sz2 = sizeof v;
    st->high_bytes = 64u << 20;
    if (rd_kafka_conf_get(conf, "queued.max.messages.kbytes", v, &sz2) == RD_KAFKA_CONF_OK &&
        atol(v) > 0)
        st->high_bytes = (size_t)atol(v) * 1024;
    st->low_bytes = st->high_bytes / 4;
    /* an empty assignment is final only if no rebalance follows within a session timeout */
    sz2 = sizeof v;
    long sess = 45000;
    if (rd_kafka_conf_get(conf, "session.timeout.ms", v, &sz2) == RD_KAFKA_CONF_OK && atol(v) > 0)
        sess = atol(v);
    st->empty_grace_ns = sess * 1000000LL;
    char gid[512];
    size_t gsz = sizeof gid;
    if (u.group) {
        hm_kafka_conf_must(conf, "group.id", u.group);
        st->group = hm_xstrdup(u.group);
    } else if (rd_kafka_conf_get(conf, "group.id", gid, &gsz) == RD_KAFKA_CONF_OK && gid[0]) {
        st->group = hm_xstrdup(gid);
    } else {
        hm_kafka_conf_must(conf, "group.id", "hallmonitor");
        st->group = hm_xstrdup("hallmonitor");
    }
    hm_kafka_conf_logging(conf);
    rd_kafka_conf_set_opaque(conf, st);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    char e2[512];
    st->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e2, sizeof e2);
    if (!st->rk) {
        snprintf(err, errlen, "--input %s: cannot create a Kafka consumer: %s", uri, e2);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    rd_kafka_poll_set_consumer(st->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new((int)u.n_topics);
    for (size_t i = 0; i < u.n_topics; i++)
        rd_kafka_topic_partition_list_add(topics, u.topic[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(st->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        snprintf(err, errlen, "--input %s: cannot subscribe to %s: %s", uri, u.topics,
                 rd_kafka_err2str(e));
        rd_kafka_destroy(st->rk);
        goto fail;
    }
    st->warm_deadline_ns = hm_mono_ns() + (int64_t)WARMUP_MAX_MS * 1000000LL;
    if (pthread_create(&st->th, NULL, poll_main, st) != 0) {
        snprintf(err, errlen, "--input %s: cannot start the consumer thread", uri);
        rd_kafka_consumer_close(st->rk);
        rd_kafka_destroy(st->rk);
        goto fail;
    }
    st->th_started = true;
    src->state = st;
    hm_kafka_uri_free(&u);
    return HM_OK;
fail:
    hm_kafka_uri_free(&u);
    kstate_free(st);
    return HM_EUSAGE;
}

static int64_t header_recv_ns(rd_kafka_message_t *m) {
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR || !h) return 0;
    const void *v = NULL;
    size_t vl = 0;
    if (rd_kafka_header_get_last(h, "recv_time", &v, &vl) != RD_KAFKA_RESP_ERR_NO_ERROR || !v)
        return 0;
    int64_t ns = 0;
    bool zone = false;
    if (hm_parse_iso8601(v, vl, &ns, &zone) == 0 || !zone) return 0;
    return ns;
}

static int kafka_read_batch(hm_source *src, hm_batch *b) {
    kstate *st = src->state;
    if (st->fatal) return HM_EIO;
    if ((size_t)b->cap * 2 > st->high) { /* at least two batches ahead */
        pthread_mutex_lock(&st->mu);
        st->high = (size_t)b->cap * 2;
        st->low = b->cap / 2;
        pthread_mutex_unlock(&st->mu);
    }
    if (st->cap_take < b->cap) {
        st->cap_take = b->cap;
        st->take = hm_xrealloc(st->take, st->cap_take * sizeof(*st->take));
        st->pollbuf = hm_xrealloc(st->pollbuf, st->cap_take * sizeof(*st->pollbuf));
    }
    int64_t start = hm_mono_ns();
    size_t k = 0;
    for (;;) {
        pthread_mutex_lock(&st->mu);
        int64_t now = hm_mono_ns();
        st->last_call_ns = now;
        if (st->q_n) { /* what the poller queued while we were away comes first */
            k = st->q_n < b->cap ? st->q_n : b->cap;
            for (size_t i = 0; i < k; i++) {
                st->take[i] = st->q[(st->q_head + i) & (st->q_cap - 1)];
                st->q_bytes -= st->take[i].m->len + st->take[i].m->key_len;
            }
            st->q_head = (st->q_head + k) & (st->q_cap - 1);
            st->q_n -= k;
            st->last_take_ns = now;
            pthread_cond_signal(&st->cv_space);
            pthread_mutex_unlock(&st->mu);
            break;
        }
        bool stop = st->quit || st->fatal || (src->opts.stop && *src->opts.stop);
        /* Until the first assignment has caught up, an empty queue is "joining the group",
         * not "idle" (the group's first rebalance alone takes ~3 s): keep waiting. */
        if (!st->ready && now > st->warm_deadline_ns) st->ready = true;
        check_ready(st);
        bool ready = st->ready;
        pthread_mutex_unlock(&st->mu);
        if (stop) return st->fatal ? HM_EIO : 0;
        if (pthread_mutex_trylock(&st->poll_mu) == 0) {
            size_t n = poll_some(st, st->pollbuf, b->cap, 100);
            pthread_mutex_unlock(&st->poll_mu);
            if (n) k = accept_msgs(st, st->pollbuf, n, st->take);
            if (k) {
                pthread_mutex_lock(&st->mu);
                st->last_take_ns = hm_mono_ns();
                pthread_mutex_unlock(&st->mu);
                break;
            }
        } else { /* the poller has the consumer for a moment */
            pthread_mutex_lock(&st->mu);
            if (!st->q_n) timed_wait(&st->cv_data, &st->mu, 50);
            pthread_mutex_unlock(&st->mu);
        }
        if (ready && hm_mono_ns() - start >= 100 * 1000000LL) return 0;
    }

    /* copy payloads and keys into the batch buffer (one reservation: slices stay valid) */
    size_t total = 0;
    for (size_t i = 0; i < k; i++) {
        size_t l = st->take[i].m->len;
        if (l > src->opts.hard_cap) l = src->opts.hard_cap;
        total += l + st->take[i].m->key_len + 1;
    }
    b->origin = st->batch_origin;
    b->source_index = src->index;
    pthread_mutex_lock(&st->mu); /* partitions assigned since the last batch */
    for (kepoch *ep = st->all; ep && ep != st->announced; ep = ep->next_all)
        if (ep->state == EP_ACTIVE) hm_batch_add_stream(b, ep->origin);
    st->announced = st->all;
    pthread_mutex_unlock(&st->mu);
    hm_batch_reserve_buf(b, total);
    int64_t now = hm_now_ns();
    for (size_t i = 0; i < k; i++) {
        rd_kafka_message_t *m = st->take[i].m;
        const char *p = m->payload ? m->payload : "";
        size_t len = m->len;
        if (len && p[len - 1] == '\n') len--;
        if (len && p[len - 1] == '\r') len--;
        uint32_t flags = 0;
        uint64_t orig_len = 0;
        if (len > src->opts.hard_cap) {
            orig_len = len;
            len = src->opts.hard_cap;
            flags |= HM_REC_TRUNCATED | HM_REC_OVERSIZE;
        }
        if (len > src->opts.max_record) flags |= HM_REC_OVERSIZE;
        char *dst = b->buf + b->buf_len;
        if (len) memcpy(dst, p, len);
        b->buf_len += len;
        hm_record *r = &b->rec[b->n++];
        r->data = dst;
        r->len = (uint32_t)len;
        r->flags = flags;
        r->pos = (uint64_t)m->offset;
        int64_t rn = header_recv_ns(m);
        r->recv_ns = rn ? rn : now;
        r->orig_len = orig_len;
        r->origin = st->take[i].ep->origin;
        r->partition = m->partition;
        r->key = NULL;
        r->key_len = 0;
        if (m->key && m->key_len) {
            char *kd = b->buf + b->buf_len;
            memcpy(kd, m->key, m->key_len);
            b->buf_len += m->key_len;
            r->key = kd;
            r->key_len = (uint32_t)m->key_len;
        }
        rd_kafka_message_destroy(m);
    }

    /* register the batch in the in-flight lists; records of partitions revoked meanwhile
     * are dropped (the new owner reads them) */
    pthread_mutex_lock(&st->mu);
    uint64_t seq = ++st->mark_seq;
    uint32_t j = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        hm_record *r = &b->rec[i];
        kepoch *ep = EPOCH_OF(r->origin);
        if (ep->state != EP_ACTIVE) {
            st->dropped_revoked++;
            continue;
        }
        if (ep->mark != seq) {
            ep->mark = seq;
            fl_push(ep, (int64_t)r->pos);
        } else {
            inflight *f = &ep->fl[ep->fl_len - 1];
            f->last = (int64_t)r->pos;
            f->n++;
        }
        ep->inflight_msgs++;
        if (j != i) b->rec[j] = *r;
        j++;
    }
    b->n = j;
    st->dispatched += j;
    if (j && !st->first_dispatch_ns) st->first_dispatch_ns = hm_mono_ns();
    pthread_mutex_unlock(&st->mu);
    return (int)b->n;
}

static void kafka_ack(hm_source *src, const hm_batch *b) {
    kstate *st = src->state;
    if (!st || !b->n) return;
    pthread_mutex_lock(&st->mu);
    uint64_t seq = ++st->mark_seq;
    size_t ns = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        const hm_record *r = &b->rec[i];
        if (!r->origin) continue;
        kepoch *ep = EPOCH_OF(r->origin);
        if (ep->mark == seq) continue;
        ep->mark = seq;
        ep->mark_first = (int64_t)r->pos;
        if (ns == st->cap_scratch) {
            st->cap_scratch = st->cap_scratch ? st->cap_scratch * 2 : 16;
            st->scratch = hm_xrealloc(st->scratch, st->cap_scratch * sizeof(*st->scratch));
        }
        st->scratch[ns++] = ep;
    }
    for (size_t k = 0; k < ns; k++) {
        kepoch *ep = st->scratch[k];
        if (ep->state == EP_GONE) continue; /* revoked and forgotten: nothing to commit */
        for (size_t x = ep->fl_head; x < ep->fl_len; x++)
            if (ep->fl[x].first == ep->mark_first && !ep->fl[x].done) {
                ep->fl[x].done = true;
                break;
            }
        fl_advance(st, ep);
    }
    st->last_ack_ns = hm_mono_ns();
    pthread_cond_broadcast(&st->cv_ack);
    pthread_mutex_unlock(&st->mu);
}

static void kafka_stats_json(hm_source *src, hm_buf *out) {
    kstate *st = src->state;
    if (!st) return;
    pthread_mutex_lock(&st->mu);
    uint64_t inflight = 0;
    int64_t lag = 0;
    hm_buf parts = {0};
    for (size_t i = 0; i < st->n_cur; i++) {
        kepoch *ep = st->cur[i];
        inflight += ep->inflight_msgs;
        int64_t lo = 0, hi = -1;
        /* next: after the watermark; before the first record of this assignment, the
         * consumer's position (the committed offset it started from) */
        int64_t next = ep->wm >= 0 ? ep->wm + 1 : ep->start;
        if (rd_kafka_get_watermark_offsets(st->rk, ep->topic, ep->partition, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0 && next >= 0)
            lag += hi > next ? hi - next : 0;
        hm_buf_printf(&parts, "%s\"%s/%d\":{\"next\":%lld,\"high\":%lld,\"in_flight\":%llu}",
                      i ? "," : "", ep->topic, (int)ep->partition, (long long)next, (long long)hi,
                      (unsigned long long)ep->inflight_msgs);
    }
    hm_buf_printf(out,
                  "\"group\":\"%s\",\"assigned\":%zu,\"consumed\":%llu,\"dispatched\":%llu,"
                  "\"acked\":%llu,\"in_flight\":%llu,\"queued\":%zu,\"lag\":%lld,"
                  "\"paused\":%s,\"pauses\":%llu,\"rebalances\":%llu,\"commits\":%llu,"
                  "\"commit_errors\":%llu,\"dropped_revoked\":%llu,\"dropped_unowned\":%llu,"
                  "\"revoke_timeouts\":%llu,\"message_errors\":%llu,\"broker_errors\":%llu,"
                  "\"active_s\":%.3f,\"partitions\":{%.*s}",
                  st->group, st->n_cur, (unsigned long long)st->consumed,
                  (unsigned long long)st->dispatched, (unsigned long long)st->acked,
                  (unsigned long long)inflight, st->q_n, (long long)lag,
                  st->paused ? "true" : "false", (unsigned long long)st->pauses,
                  (unsigned long long)st->rebalances, (unsigned long long)st->commits,
                  (unsigned long long)st->commit_errors, (unsigned long long)st->dropped_revoked,
                  (unsigned long long)st->dropped_unowned, (unsigned long long)st->revoke_timeouts,
                  (unsigned long long)st->msg_errors, (unsigned long long)st->broker_errors,
                  st->first_dispatch_ns && st->last_ack_ns > st->first_dispatch_ns
                      ? (double)(st->last_ack_ns - st->first_dispatch_ns) / 1e9
                      : 0.0,
                  (int)parts.len, parts.p ? parts.p : "");
    hm_buf_free(&parts);
    pthread_mutex_unlock(&st->mu);
}

static void kafka_close(hm_source *src) {
    kstate *st = src->state;
    if (!st) return;
    if (st->th_started) {
        st->quit = 1;
        pthread_join(st->th, NULL);
    }
    /* queued, never dispatched: not committed, read again next time */
    pthread_mutex_lock(&st->mu);
    for (size_t k = 0; k < st->q_n; k++)
        rd_kafka_message_destroy(st->q[(st->q_head + k) & (st->q_cap - 1)].m);
    st->q_n = 0;
    st->q_bytes = 0;
    pthread_mutex_unlock(&st->mu);
    store_offsets(st);
    commit_bounded(st, NULL, 10000, "at exit");
    rd_kafka_consumer_close(st->rk); /* final revoke (rebalance_cb) and leave the group */
    rd_kafka_destroy(st->rk);
    kstate_free(st);
    src->state = NULL;
}

const hm_connector_ops hm_conn_kafka = {
    .abi = HM_CONNECTOR_ABI,
    .scheme = "kafka",
    .description = "Kafka topics as a consumer group member (at least once; -X for "
                   "librdkafka properties)",
    .open = kafka_open,
    .read_batch = kafka_read_batch,
    .ack = kafka_ack,
    .stats_json = kafka_stats_json,
    .close = kafka_close,
};
