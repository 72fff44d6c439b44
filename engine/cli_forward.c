/* cli_forward.c - `hallmonitor forward`: collector mode. Reads the inputs with the normal
 * connectors and sends every RAW record (not decoded) to one Kafka topic, keyed by its
 * origin (the record's Kafka key when it has one), with headers recv_time (RFC 3339),
 * origin, sender (when the record names its own sender) and pos (position in the
 * source). A central `hallmonitor run --input kafka://...` then decodes and detects.
 *
 * Design: a small dedicated loop per input over the hm_connector ops (read_batch, then
 * produce, then wait for acks=all delivery, then ack), not the engine pipeline: the engine
 * always decodes and serializes events, and forward needs none of its workers, ordering
 * ring or sinks. Each input has its own thread and its own idempotent producer; a batch is
 * acknowledged to its source (Kafka offsets, when forwarding from Kafka) only after every
 * record of it is delivered, so forward is at least once end to end. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "connector.h"
#include "hm_kafka.h"
#include "timeutil.h"

static volatile int g_fwd_stop = 0;

static void fwd_on_signal(int sig) {
    HM_UNUSED(sig);
    g_fwd_stop++;
}

typedef struct fwd_input {
    hm_source src;
    pthread_t th;
    hm_kprod *p;
    uint32_t batch_cap;
    int64_t idle_ns;
    uint64_t records, bytes;
    int rc;
} fwd_input;

static void fwd_usage(FILE *f) {
    fprintf(f,
            "usage: hallmonitor forward --input URI... --output kafka://BROKERS/TOPIC [options]\n"
            "\n"
            "Collector mode: sends every raw input record (not decoded) to a Kafka topic, keyed\n"
            "by its origin, with headers recv_time, origin, sender and pos; idempotent\n"
            "producer, acks=all, a batch is acknowledged to its input only once delivered.\n"
            "\n"
            "  --input URI             file:PATH, -, kafka://..., any `run` input (repeatable)\n"
            "  --output kafka://BROKER[,BROKER]/TOPIC\n"
            "  -X key=value            librdkafka property (repeatable)\n"
            "  --follow                keep reading growing files (tail -F)\n"
            "  --exit-on-idle D        stop once no input arrived for D (e.g. 5s)\n"
            "  --batch N               records per batch (default 1024)\n"
            "  --max-record BYTES      records above this are flagged (default 65536)\n"
            "  --stats                 print counters as JSON to stderr at exit\n"
            "  --help\n");
}

static bool stop_hard(void) {
    return g_fwd_stop > 1;
}

static void *fwd_main(void *arg) {
    fwd_input *in = arg;
    hm_batch *b = hm_batch_new(in->batch_cap, 512 * 1024);
    hm_buf tb = {0};
    char posbuf[32], lenbuf[32];
    int64_t last = hm_mono_ns(), last_warn = 0;
    while (!g_fwd_stop) {
        hm_batch_reset(b);
        int rc = in->src.ops->read_batch(&in->src, b);
        if (rc == 0) {
            if (in->idle_ns && hm_mono_ns() - last > in->idle_ns) break;
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (rc == HM_EOF) break;
        if (rc < 0) {
            hm_error("forward", "%s: stopped after an input error", in->src.uri);
            in->rc = HM_EIO;
            break;
        }
        /* a mapped file hands over a chunk of whole lines: split it b->cap at a time */
        const char *cp = b->chunk, *ce = b->chunk ? b->chunk + b->chunk_len : NULL;
        uint64_t nrec = 0;
        do {
            if (b->chunk)
                b->n =
                    hm_split_lines(&cp, ce, b->chunk, b->chunk_pos, b->chunk_recv_ns,
                                   in->src.opts.max_record, in->src.opts.hard_cap, b->rec, b->cap);
            for (uint32_t i = 0; i < b->n; i++) {
                const hm_record *r = &b->rec[i];
                const char *origin = r->origin ? r->origin : b->origin ? b->origin : in->src.uri;
                rd_kafka_headers_t *h = rd_kafka_headers_new(5);
                tb.len = 0;
                hm_buf_put_time(&tb, r->recv_ns);
                rd_kafka_header_add(h, "recv_time", -1, tb.p, (ssize_t)tb.len);
                rd_kafka_header_add(h, "origin", -1, origin, -1);
                if (r->origin && strncmp(r->origin, "kafka:", 6) != 0)
                    rd_kafka_header_add(h, "sender", -1, r->origin, -1);
                int pl = snprintf(posbuf, sizeof posbuf, "%llu", (unsigned long long)r->pos);
                rd_kafka_header_add(h, "pos", -1, posbuf, pl);
                if (r->flags & HM_REC_TRUNCATED) {
                    int ll =
                        snprintf(lenbuf, sizeof lenbuf, "%llu", (unsigned long long)r->orig_len);
                    rd_kafka_header_add(h, "orig_len", -1, lenbuf, ll);
                }
                const void *key = r->key_len ? (const void *)r->key : (const void *)origin;
                size_t klen = r->key_len ? r->key_len : strlen(origin);
                for (;;) {
                    int s = hm_kprod_send(in->p, r->data, r->len, key, klen, h);
                    if (s == HM_OK) break;
                    if (s == HM_EIO || stop_hard()) {
                        rd_kafka_headers_destroy(h);
                        in->rc = HM_EIO;
                        goto out;
                    }
                    int64_t now = hm_mono_ns();
                    if (now - last_warn > 30LL * 1000000000LL) {
                        last_warn = now;
                        hm_warn("forward", "%s: Kafka is not taking messages; input is held",
                                in->src.uri);
                    }
                }
                in->bytes += r->len;
            }
            nrec += b->n;
        } while (b->chunk && cp < ce);
        /* acks=all for the whole batch before the source may commit it */
        for (;;) {
            int s = hm_kprod_settle(in->p, 2000);
            if (s == HM_OK) break;
            if (s == HM_EIO || stop_hard()) {
                in->rc = HM_EIO;
                goto out; /* not acknowledged: read again next time */
            }
            int64_t now = hm_mono_ns();
            if (now - last_warn > 30LL * 1000000000LL) {
                last_warn = now;
                hm_warn("forward", "%s: waiting for Kafka to acknowledge; input is held",
                        in->src.uri);
            }
        }
        if (in->src.ops->ack) in->src.ops->ack(&in->src, b);
        in->records += nrec;
        last = hm_mono_ns();
    }
out:
    hm_buf_free(&tb);
    hm_batch_free(b);
    return NULL;
}

int hm_cmd_forward(int argc, char **argv) {
    enum { O_INPUT = 1000, O_OUTPUT, O_IDLE, O_FOLLOW, O_BATCH, O_MAXREC, O_STATS, O_HELP };
    static const struct option longopts[] = {
        {"input", required_argument, 0, O_INPUT},
        {"output", required_argument, 0, O_OUTPUT},
        {"exit-on-idle", required_argument, 0, O_IDLE},
        {"follow", no_argument, 0, O_FOLLOW},
        {"batch", required_argument, 0, O_BATCH},
        {"max-record", required_argument, 0, O_MAXREC},
        {"stats", no_argument, 0, O_STATS},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char **inputs = calloc((size_t)argc + 1, sizeof(char *));
    const char **xprops = calloc((size_t)argc + 1, sizeof(char *));
    size_t ni = 0, nx = 0;
    const char *output = NULL;
    int64_t idle_ns = 0;
    bool follow = false, stats = false;
    long batch = 1024, maxrec = 64 * 1024;
    fwd_input *ins = NULL;
    size_t n_ins = 0;
    int rc = 2, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "X:", longopts, NULL)) != -1) {
        switch (c) {
        case O_INPUT:
            inputs[ni++] = optarg;
            break;
        case O_OUTPUT:
            if (output) {
                fprintf(stderr, "hallmonitor forward: only one --output\n");
                goto out;
            }
            output = optarg;
            break;
        case 'X':
            xprops[nx++] = optarg;
            break;
        case O_IDLE:
            if (!hm_parse_duration_ns(optarg, &idle_ns)) {
                fprintf(stderr,
                        "hallmonitor forward: --exit-on-idle %s: expected a duration like 5s\n",
                        optarg);
                goto out;
            }
            break;
        case O_FOLLOW:
            follow = true;
            break;
        case O_BATCH:
            batch = atol(optarg);
            if (batch < 1 || batch > 65536) {
                fprintf(stderr, "hallmonitor forward: --batch %s: expected 1..65536\n", optarg);
                goto out;
            }
            break;
        case O_MAXREC:
            maxrec = atol(optarg);
            if (maxrec < 64 || maxrec > 16 * 1024 * 1024) {
                fprintf(stderr, "hallmonitor forward: --max-record %s: expected 64..16777216\n",
                        optarg);
                goto out;
            }
            break;
        case O_STATS:
            stats = true;
            break;
        case O_HELP:
            fwd_usage(stdout);
            rc = 0;
            goto out;
        default:
            fprintf(stderr, "hallmonitor forward: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            fwd_usage(stderr);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hallmonitor forward: unexpected argument '%s'\n", argv[optind]);
        goto out;
    }
    if (!ni || !output) {
        fprintf(stderr, "hallmonitor forward: --input and --output kafka://BROKERS/TOPIC are "
                        "required\n\n");
        fwd_usage(stderr);
        goto out;
    }
    if (strncmp(output, "kafka:", 6) != 0) {
        fprintf(stderr, "hallmonitor forward: --output %s: expected kafka://BROKERS/TOPIC\n",
                output);
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fwd_on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ins = hm_xcalloc(ni, sizeof(*ins));
    n_ins = ni;
    hm_conn_opts copts = {.follow = follow,
                          .max_record = (size_t)maxrec,
                          .hard_cap = 16 * 1024 * 1024,
                          .stop = &g_fwd_stop,
                          .kafka_props = xprops,
                          .n_kafka_props = nx};
    char err[1024] = "";
    for (size_t i = 0; i < ni; i++) {
        fwd_input *in = &ins[i];
        const hm_connector_ops *ops = hm_connector_for_uri(inputs[i]);
        if (!ops) {
            fprintf(stderr, "hallmonitor forward: --input %s: unknown input scheme\n", inputs[i]);
            goto out;
        }
        in->src.ops = ops;
        in->src.uri = hm_xstrdup(inputs[i]);
        in->src.index = (uint32_t)i;
        in->src.opts = copts;
        in->batch_cap = (uint32_t)batch;
        in->idle_ns = idle_ns;
        if (ops->open(&in->src, inputs[i], &copts, err, sizeof err) != HM_OK) {
            fprintf(stderr, "hallmonitor forward: %s\n", err);
            in->src.ops = NULL;
            goto out;
        }
        in->p = hm_kprod_new(output, xprops, nx, "--output", err, sizeof err);
        if (!in->p) {
            fprintf(stderr, "hallmonitor forward: %s\n", err);
            goto out;
        }
    }
    int64_t t0 = hm_mono_ns();
    for (size_t i = 0; i < ni; i++) pthread_create(&ins[i].th, NULL, fwd_main, &ins[i]);
    rc = 0;
    for (size_t i = 0; i < ni; i++) {
        pthread_join(ins[i].th, NULL);
        if (ins[i].rc) rc = 1;
    }
    double secs = (double)(hm_mono_ns() - t0) / 1e9;
    if (stats) {
        uint64_t recs = 0, bytes = 0, del = 0, resent = 0, dropped = 0;
        for (size_t i = 0; i < ni; i++) {
            uint64_t d, r, x;
            hm_kprod_counts(ins[i].p, NULL, &d, &r, &x);
            recs += ins[i].records;
            bytes += ins[i].bytes;
            del += d;
            resent += r;
            dropped += x;
        }
        fprintf(stderr,
                "{\"kind\":\"forward_stats\",\"elapsed_s\":%.3f,\"records\":%llu,\"bytes\":%llu,"
                "\"delivered\":%llu,\"resent\":%llu,\"dropped\":%llu,\"records_per_s\":%.0f,"
                "\"inputs\":{",
                secs, (unsigned long long)recs, (unsigned long long)bytes, (unsigned long long)del,
                (unsigned long long)resent, (unsigned long long)dropped,
                secs > 0 ? (double)recs / secs : 0.0);
        for (size_t i = 0; i < ni; i++)
            fprintf(stderr, "%s\"%s\":%llu", i ? "," : "", ins[i].src.uri,
                    (unsigned long long)ins[i].records);
        fprintf(stderr, "}}\n");
    }
out:
    for (size_t i = 0; i < n_ins; i++) {
        if (ins[i].p) hm_kprod_free(ins[i].p, 10000);
        if (ins[i].src.ops) ins[i].src.ops->close(&ins[i].src);
        free(ins[i].src.uri);
    }
    free(ins);
    free(inputs);
    free(xprops);
    return rc;
}
