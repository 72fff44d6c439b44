/* hm_kafka.h - shared by the Kafka input (connectors/kafka.c), the Kafka output
 * (sinks/kafka.c), `hallmonitor forward` and `hallmonitor devbroker`: URI parsing,
 * client configuration from -X properties, librdkafka log routing and a producer that
 * reports "delivered" only after acks=all delivery reports (nothing is lost).
 *
 * Threading: an hm_kprod is used by one thread at a time (its delivery reports are
 * served by the thread that calls hm_kprod_send/settle). */
#ifndef HM_KAFKA_H
#define HM_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "hm.h"

/* kafka://BROKER[,BROKER...]/TOPIC[,TOPIC...][?group=G&librdkafka.key=value...] */
typedef struct hm_kafka_uri {
    char *brokers; /* "b1:9092,b2:9092" */
    char *topics;  /* "t1,t2" as written */
    char **topic;  /* split */
    size_t n_topics;
    char *group;   /* ?group=, or NULL */
    char **params; /* other query parameters "key=value" (librdkafka properties) */
    size_t n_params;
} hm_kafka_uri;

/* Returns HM_OK or HM_EUSAGE with err filled ("what" names the option, e.g. "--input"). */
int hm_kafka_uri_parse(const char *uri, const char *what, hm_kafka_uri *u, char *err,
                       size_t errlen);
void hm_kafka_uri_free(hm_kafka_uri *u);

/* Sets "key=value" properties on conf. HM_OK or HM_EUSAGE naming the bad property. */
int hm_kafka_conf_props(rd_kafka_conf_t *conf, const char *const *props, size_t n, const char *what,
                        char *err, size_t errlen);
/* Sets one property that the code itself chose (aborts on failure: a programming error). */
void hm_kafka_conf_must(rd_kafka_conf_t *conf, const char *key, const char *value);
/* Routes librdkafka's own log lines (warnings and errors only, unless -X debug=...) through
 * hm_log, without the connection-failure lines the error callbacks already report. */
void hm_kafka_conf_logging(rd_kafka_conf_t *conf);

/* -X properties for kafka:// outputs opened after this call (the engine sets them from
 * hm_engine_cfg.kafka_props before it opens its sinks). The strings must outlive the sinks. */
void hm_kafka_sink_set_props(const char **props, size_t n);

/* A producer to one topic: idempotent, acks=all. */
typedef struct hm_kprod hm_kprod;
/* uri: kafka://BROKERS/TOPIC. NULL with err on a configuration error. */
hm_kprod *hm_kprod_new(const char *uri, const char *const *props, size_t n_props, const char *what,
                       char *err, size_t errlen);
/* Queues one message (copied). headers (may be NULL) are taken over on HM_OK.
 * HM_OK: queued (or, for a message Kafka can never accept such as one above
 * message.max.bytes, logged and counted as dropped); HM_ERETRY: the local queue stayed full
 * for about a second (headers stay with the caller); HM_EIO: fatal producer error. */
int hm_kprod_send(hm_kprod *p, const void *val, size_t vlen, const void *key, size_t klen,
                  rd_kafka_headers_t *headers);
/* Waits up to timeout_ms until every message queued so far is acknowledged by the broker;
 * failed deliveries are queued again. HM_OK when all are delivered, HM_ERETRY when some are
 * still outstanding, HM_EIO on a fatal producer error. */
int hm_kprod_settle(hm_kprod *p, int timeout_ms);
/* Counters: queued, delivered, redelivered after a failure, dropped (unacceptable). */
void hm_kprod_counts(const hm_kprod *p, uint64_t *queued, uint64_t *delivered, uint64_t *resent,
                     uint64_t *dropped);
/* Settles for up to timeout_ms (warns about anything undelivered), then destroys. */
void hm_kprod_free(hm_kprod *p, int timeout_ms);

#endif
