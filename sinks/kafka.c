/* kafka.c - Kafka output `kafka://BROKERS/TOPIC`, plus the Kafka helpers shared with the
 * input connector, `forward` and `devbroker` (declared in hm_kafka.h).
 *
 * Output: every JSON line becomes one message (no key). The producer is idempotent with
 * acks=all; write() returns HM_OK only once every line of the batch is acknowledged by
 * the brokers, so the engine acknowledges (commits) its input only after that. While the
 * local queue is full or deliveries are outstanding or failed, write() returns HM_ERETRY:
 * the engine backs off and calls again with the same bytes; lines already queued are not
 * queued twice (a resume offset), failed ones are queued again. After a failed delivery
 * the order of the lines on the topic may differ from the output order. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hm_kafka.h"
#include "sink.h"

/* ---- URIs and configuration ---- */

static void split_list(const char *s, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 4;
                *out = hm_xrealloc(*out, cap * sizeof(char *));
            }
            (*out)[(*n)++] = hm_xstrndup(p, l);
        }
        if (!e) break;
        p = e + 1;
    }
}

int hm_kafka_uri_parse(const char *uri, const char *what, hm_kafka_uri *u, char *err,
                       size_t errlen) {
    memset(u, 0, sizeof(*u));
    const char *p = uri;
    if (!strncmp(p, "kafka://", 8))
        p += 8;
    else if (!strncmp(p, "kafka:", 6))
        p += 6;
    else {
        snprintf(err, errlen, "%s %s: expected kafka://BROKER[,BROKER...]/TOPIC", what, uri);
        return HM_EUSAGE;
    }
    const char *slash = strchr(p, '/');
    const char *q = strchr(p, '?');
    if (!slash || (q && q < slash) || slash == p) {
        snprintf(err, errlen,
                 "%s %s: expected kafka://BROKER[,BROKER...]/TOPIC (brokers and a topic are "
                 "required)",
                 what, uri);
        return HM_EUSAGE;
    }
    u->brokers = hm_xstrndup(p, (size_t)(slash - p));
    const char *t = slash + 1;
    u->topics = q ? hm_xstrndup(t, (size_t)(q - t)) : hm_xstrdup(t);
    split_list(u->topics, &u->topic, &u->n_topics);
    if (!u->n_topics) {
        snprintf(err, errlen, "%s %s: no topic after the brokers", what, uri);
        hm_kafka_uri_free(u);
        return HM_EUSAGE;
    }
    if (q) {
        char *query = hm_xstrdup(q + 1);
        char *save = NULL;
        for (char *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq || eq == kv) {
                snprintf(err, errlen, "%s %s: query parameter '%s' is not key=value", what, uri,
                         kv);
                free(query);
                hm_kafka_uri_free(u);
                return HM_EUSAGE;
            }
            if (eq - kv == 5 && !strncmp(kv, "group", 5)) {
                free(u->group);
                u->group = hm_xstrdup(eq + 1);
            } else {
                u->params = hm_xrealloc(u->params, (u->n_params + 1) * sizeof(char *));
                u->params[u->n_params++] = hm_xstrdup(kv);
            }
        }
        free(query);
    }
    return HM_OK;
}

void hm_kafka_uri_free(hm_kafka_uri *u) {
    free(u->brokers);
    free(u->topics);
    for (size_t i = 0; i < u->n_topics; i++) free(u->topic[i]);
    free(u->topic);
    free(u->group);
    for (size_t i = 0; i < u->n_params; i++) free(u->params[i]);
    free(u->params);
    memset(u, 0, sizeof(*u));
}

int hm_kafka_conf_props(rd_kafka_conf_t *conf, const char *const *props, size_t n, const char *what,
                        char *err, size_t errlen) {
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(props[i], '=');
        if (!eq || eq == props[i]) {
            snprintf(err, errlen, "%s %s: expected key=value (a librdkafka property)", what,
                     props[i]);
            return HM_EUSAGE;
        }
        char key[256];
        size_t kl = (size_t)(eq - props[i]);
        if (kl >= sizeof key) kl = sizeof key - 1;
        memcpy(key, props[i], kl);
        key[kl] = 0;
        char e2[512];
        if (rd_kafka_conf_set(conf, key, eq + 1, e2, sizeof e2) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "%s %s: %s", what, props[i], e2);
            return HM_EUSAGE;
        }
    }
    return HM_OK;
}

void hm_kafka_conf_must(rd_kafka_conf_t *conf, const char *key, const char *value) {
    char e[512];
    if (rd_kafka_conf_set(conf, key, value, e, sizeof e) != RD_KAFKA_CONF_OK) {
        hm_error("kafka", "internal: cannot set %s=%s: %s", key, value, e);
        abort();
    }
}

/* syslog levels (not <syslog.h>: engine/syslog.h shadows it on the include path) */
#define KLOG_ERR     3
#define KLOG_WARNING 4

static volatile int g_kafka_debug = 0;

static void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    if (!g_kafka_debug) {
        if (level > KLOG_WARNING) return;
        /* connection failures are reported (named, rate-limited) by our error callbacks */
        if (!strcmp(fac, "FAIL")) return;
        /* -X applies to inputs and outputs alike: producer-only properties on a consumer
         * (and the reverse) are expected; the mock cluster's host handle has no brokers */
        if (!strcmp(fac, "CONFWARN") &&
            (strstr(buf, "will be ignored") || strstr(buf, "bootstrap.servers")))
            return;
    }
    hm_log(level <= KLOG_ERR       ? "error"
           : level <= KLOG_WARNING ? "warn"
                                   : "debug",
           "kafka", "%s: %s: %s", rk ? rd_kafka_name(rk) : "rdkafka", fac, buf);
}

void hm_kafka_conf_logging(rd_kafka_conf_t *conf) {
    char v[256];
    size_t sz = sizeof v;
    if (rd_kafka_conf_get(conf, "debug", v, &sz) == RD_KAFKA_CONF_OK && v[0]) g_kafka_debug = 1;
    rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
}

static const char **g_sink_props;
static size_t g_sink_nprops;

void hm_kafka_sink_set_props(const char **props, size_t n) {
    g_sink_props = props;
    g_sink_nprops = n;
}

/* ---- producer ---- */

typedef struct failed_msg {
    void *val, *key;
    size_t vlen, klen;
    rd_kafka_headers_t *hdrs;
} failed_msg;

struct hm_kprod {
    rd_kafka_t *rk;
    char *topic, *brokers, *uri;
    failed_msg *failed;
    size_t n_failed, cap_failed;
    uint64_t queued, delivered, resent, dropped, outstanding;
    int64_t last_err_log_ns, last_dr_log_ns;
    bool down;
};

static bool permanent_error(rd_kafka_resp_err_t err) {
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_RECORD || err == RD_KAFKA_RESP_ERR_INVALID_MSG;
}

static void prod_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    HM_UNUSED(rk);
    hm_kprod *p = opaque;
    if (p->outstanding) p->outstanding--;
    if (!m->err) {
        p->delivered++;
        if (p->down) {
            p->down = false;
            hm_info("kafka", "%s: brokers reachable again, deliveries resumed", p->uri);
        }
        return;
    }
    if (permanent_error(m->err)) {
        p->dropped++;
        hm_error("kafka", "%s: a message of %zu bytes was refused (%s); it is dropped", p->uri,
                 m->len, rd_kafka_err2str(m->err));
        return;
    }
    /* keep a copy: settle() queues it again, so a failed delivery is not a loss */
    if (p->n_failed == p->cap_failed) {
        p->cap_failed = p->cap_failed ? p->cap_failed * 2 : 64;
        p->failed = hm_xrealloc(p->failed, p->cap_failed * sizeof(*p->failed));
    }
    failed_msg *f = &p->failed[p->n_failed++];
    f->vlen = m->len;
    f->val = hm_xmalloc(m->len ? m->len : 1);
    if (m->len) memcpy(f->val, m->payload, m->len);
    f->klen = m->key ? m->key_len : 0;
    f->key = NULL;
    if (m->key) {
        f->key = hm_xmalloc(m->key_len ? m->key_len : 1);
        memcpy(f->key, m->key, m->key_len);
    }
    f->hdrs = NULL;
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR && h)
        f->hdrs = rd_kafka_headers_copy(h);
    int64_t now = hm_mono_ns();
    if (!p->last_dr_log_ns || now - p->last_dr_log_ns > 30LL * 1000000000LL) {
        p->last_dr_log_ns = now;
        hm_warn("kafka", "%s: delivery failed (%s); the message is queued again", p->uri,
                rd_kafka_err2str(m->err));
    }
}

static void prod_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    hm_kprod *p = opaque;
    char fatal[256];
    if (rd_kafka_fatal_error(rk, fatal, sizeof fatal)) {
        hm_error("kafka", "%s: fatal producer error: %s", p->uri, fatal);
        return;
    }
    bool conn = err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
                err == RD_KAFKA_RESP_ERR__RESOLVE;
    int64_t now = hm_mono_ns();
    if (p->last_err_log_ns && now - p->last_err_log_ns < 30LL * 1000000000LL) return;
    p->last_err_log_ns = now;
    if (conn) {
        p->down = true;
        hm_error("kafka",
                 "%s: cannot reach Kafka brokers %s (%s); retrying, output is held until "
                 "they acknowledge",
                 p->uri, p->brokers, reason);
    } else {
        hm_warn("kafka", "%s: %s", p->uri, reason);
    }
}

hm_kprod *hm_kprod_new(const char *uri, const char *const *props, size_t n_props, const char *what,
                       char *err, size_t errlen) {
    hm_kafka_uri u;
    if (hm_kafka_uri_parse(uri, what, &u, err, errlen) != HM_OK) return NULL;
    if (u.n_topics != 1) {
        snprintf(err, errlen, "%s %s: an output takes exactly one topic", what, uri);
        hm_kafka_uri_free(&u);
        return NULL;
    }
    hm_kprod *p = hm_xcalloc(1, sizeof(*p));
    p->uri = hm_xstrdup(uri);
    p->brokers = hm_xstrdup(u.brokers);
    p->topic = hm_xstrdup(u.topic[0]);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    hm_kafka_conf_must(conf, "bootstrap.servers", u.brokers);
    hm_kafka_conf_must(conf, "client.id", "hallmonitor");
    hm_kafka_conf_must(conf, "enable.idempotence", "true");
    hm_kafka_conf_must(conf, "acks", "all");
    hm_kafka_conf_must(conf, "linger.ms", "5");
    hm_kafka_conf_must(conf, "log.connection.close", "false");
    if (hm_kafka_conf_props(conf, props, n_props, "-X", err, errlen) != HM_OK ||
        hm_kafka_conf_props(conf, (const char *const *)u.params, u.n_params, what, err, errlen) !=
            HM_OK) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    hm_kafka_conf_logging(conf);
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, prod_dr_cb);
    rd_kafka_conf_set_error_cb(conf, prod_error_cb);
    char e2[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e2, sizeof e2);
    if (!p->rk) {
        snprintf(err, errlen, "%s %s: cannot create a Kafka producer: %s", what, uri, e2);
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    hm_kafka_uri_free(&u);
    return p;
fail:
    hm_kafka_uri_free(&u);
    free(p->uri);
    free(p->brokers);
    free(p->topic);
    free(p);
    return NULL;
}

static int produce1(hm_kprod *p, const void *val, size_t vlen, const void *key, size_t klen,
                    rd_kafka_headers_t *headers) {
    int64_t deadline = hm_mono_ns() + 1000000000LL;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(p->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_KEY(key, key ? klen : 0),
            RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(NULL), RD_KAFKA_V_END);
        if (!e) {
            p->outstanding++;
            return HM_OK;
        }
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(p->rk, 50); /* serve delivery reports: frees queue room */
            if (hm_mono_ns() > deadline) return HM_ERETRY;
            continue;
        }
        if (permanent_error(e)) {
            p->dropped++;
            hm_error("kafka", "%s: a message of %zu bytes cannot be produced (%s); it is dropped",
                     p->uri, vlen, rd_kafka_err2str(e));
            if (headers) rd_kafka_headers_destroy(headers);
            return HM_OK;
        }
        if (e == RD_KAFKA_RESP_ERR__FATAL) {
            char fatal[256] = "";
            rd_kafka_fatal_error(p->rk, fatal, sizeof fatal);
            hm_error("kafka", "%s: fatal producer error: %s", p->uri, fatal);
            return HM_EIO;
        }
        /* unknown topic/partition while metadata is pending, and similar: retry later */
        rd_kafka_poll(p->rk, 50);
        if (hm_mono_ns() > deadline) {
            hm_warn("kafka", "%s: cannot queue a message: %s", p->uri, rd_kafka_err2str(e));
            return HM_ERETRY;
        }
    }
}

int hm_kprod_send(hm_kprod *p, const void *val, size_t vlen, const void *key, size_t klen,
                  rd_kafka_headers_t *headers) {
    int rc = produce1(p, val, vlen, key, klen, headers);
    if (rc == HM_OK) p->queued++;
    return rc;
}

int hm_kprod_settle(hm_kprod *p, int timeout_ms) {
    int64_t deadline = hm_mono_ns() + (int64_t)timeout_ms * 1000000LL;
    for (;;) {
        /* queue failed deliveries again (they keep their key and headers) */
        while (p->n_failed) {
            failed_msg *f = &p->failed[p->n_failed - 1];
            int rc = produce1(p, f->val, f->vlen, f->key, f->klen, f->hdrs);
            if (rc != HM_OK) {
                if (rc == HM_EIO) return HM_EIO;
                break;
            }
            p->resent++;
            free(f->val);
            free(f->key);
            p->n_failed--;
        }
        int64_t left = (deadline - hm_mono_ns()) / 1000000LL;
        rd_kafka_flush(p->rk, (int)(left < 0 ? 0 : left > 200 ? 200 : left));
        rd_kafka_poll(p->rk, 0);
        if (rd_kafka_fatal_error(p->rk, NULL, 0)) return HM_EIO;
        if (!p->n_failed && rd_kafka_outq_len(p->rk) == 0) return HM_OK;
        if (hm_mono_ns() >= deadline) return HM_ERETRY;
    }
}

void hm_kprod_counts(const hm_kprod *p, uint64_t *queued, uint64_t *delivered, uint64_t *resent,
                     uint64_t *dropped) {
    if (queued) *queued = p->queued;
    if (delivered) *delivered = p->delivered;
    if (resent) *resent = p->resent;
    if (dropped) *dropped = p->dropped;
}

void hm_kprod_free(hm_kprod *p, int timeout_ms) {
    if (!p) return;
    if (hm_kprod_settle(p, timeout_ms) != HM_OK) {
        size_t left = (size_t)rd_kafka_outq_len(p->rk) + p->n_failed;
        hm_error("kafka", "%s: %zu message(s) not acknowledged by the brokers at exit", p->uri,
                 left);
    }
    for (size_t i = 0; i < p->n_failed; i++) {
        free(p->failed[i].val);
        free(p->failed[i].key);
        if (p->failed[i].hdrs) rd_kafka_headers_destroy(p->failed[i].hdrs);
    }
    free(p->failed);
    rd_kafka_destroy(p->rk);
    free(p->uri);
    free(p->brokers);
    free(p->topic);
    free(p);
}

/* ---- the output sink ---- */

typedef struct ksink {
    hm_kprod *p;
    size_t resume; /* bytes of the current buffer already queued before a retry */
} ksink;

static int ksink_open(const char *uri, void **state, char *err, size_t errlen) {
    hm_kprod *p = hm_kprod_new(uri, g_sink_props, g_sink_nprops, "--output", err, errlen);
    if (!p) return HM_EUSAGE;
    ksink *st = hm_xcalloc(1, sizeof(*st));
    st->p = p;
    *state = st;
    return HM_OK;
}

static int ksink_write(void *state, const char *data, size_t len) {
    ksink *st = state;
    size_t off = st->resume <= len ? st->resume : 0;
    while (off < len) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - data) : len;
        if (end > off) {
            int rc = hm_kprod_send(st->p, data + off, end - off, NULL, 0, NULL);
            if (rc != HM_OK) {
                st->resume = off;
                return rc;
            }
        }
        off = nl ? end + 1 : len;
    }
    st->resume = len; /* everything queued: a retry only waits for the deliveries */
    int rc = hm_kprod_settle(st->p, 2000);
    if (rc == HM_OK) st->resume = 0;
    return rc;
}

static int ksink_flush(void *state) {
    ksink *st = state;
    return hm_kprod_settle(st->p, 10000);
}

static void ksink_close(void *state) {
    ksink *st = state;
    hm_kprod_free(st->p, 10000);
    free(st);
}

const hm_sink_ops hm_sink_kafka = {
    .abi = HM_SINK_ABI,
    .scheme = "kafka",
    .description = "one Kafka message per JSON line (idempotent producer, acks=all)",
    .open = ksink_open,
    .write = ksink_write,
    .flush = ksink_flush,
    .close = ksink_close,
};
