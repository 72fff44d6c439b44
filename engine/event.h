/* event.h - raw records, normalized events and the field taxonomy.
 *
 * Ownership: an hm_event's slices point into its batch's raw buffer, its arena, or
 * static strings; they are valid until the batch is recycled. Events are not
 * shared between threads while being filled. */
#ifndef HM_EVENT_H
#define HM_EVENT_H

#include "hm.h"

typedef enum hm_field_id {
#define HM_FIELD(id, name, type) HM_F_##id,
#include "fields.def"
#undef HM_FIELD
    HM_F_COUNT
} hm_field_id;

_Static_assert(HM_F_COUNT <= 128, "present-bitset holds 128 fields");

typedef enum hm_field_type { HM_T_S = 0, HM_T_N = 1, HM_T_I = 2 } hm_field_type;

extern const char *const hm_field_names[HM_F_COUNT];
extern const uint8_t hm_field_types[HM_F_COUNT];
/* Field id by name, or -1. Not for the hot path (rules resolve names once). */
int hm_field_lookup(const char *name, size_t n);

/* Source kinds (src_type); also the first routing key of detection. */
/* one entry a line: clang-format reflows X-macro lists differently on every run */
/* clang-format off */
#define HM_SRC_TYPES(X) \
    X(UNKNOWN, "unknown") \
    X(FIREWALL, "firewall") \
    X(WEB, "web") \
    X(VPN, "vpn") \
    X(DOOR, "door") \
    X(VISITOR, "visitor") \
    X(SIS, "sis") \
    X(IDP, "idp") \
    X(RADIUS, "radius") \
    X(SSH, "ssh") \
    X(DHCP, "dhcp") \
    X(HOST, "host") \
    X(SAAS, "saas") \
    X(WINDOWS, "windows")
/* clang-format on */

typedef enum hm_src_type {
#define X(id, name) HM_SRC_##id,
    HM_SRC_TYPES(X)
#undef X
        HM_SRC_COUNT
} hm_src_type;
extern const char *const hm_src_type_names[HM_SRC_COUNT];

/* Record flags set by connectors or the framing/decoding stages. */
enum {
    HM_REC_OVERSIZE = 1u << 0,  /* longer than --max-record: dead-lettered, not decoded */
    HM_REC_TRUNCATED = 1u << 1, /* longer than the hard cap; only a prefix was kept */
};

/* One raw record as a connector received it. */
typedef struct hm_record {
    const char *data; /* into the batch buffer */
    uint32_t len;
    uint32_t flags;
    uint64_t pos;       /* byte offset (files), offset (Kafka), receive sequence (sockets) */
    int64_t recv_ns;    /* wall clock when read */
    uint64_t orig_len;  /* full length when truncated */
    const char *origin; /* source name for the event id when it differs per record (Kafka
                         * "kafka:topic/partition", syslog sender); NULL = the batch origin.
                         * Must live as long as the engine (connectors intern them). */
    int32_t partition;  /* Kafka partition, -1 otherwise */
    const char *key;    /* Kafka record key / source-type hint (batch buffer), may be NULL */
    uint32_t key_len;
} hm_record;

/* A vendor field kept under its own name (not in the taxonomy), for rules that use
 * vendor names (Windows `CommandLine`, FortiGate `logid`...). */
typedef struct hm_kv {
    hm_str key, val;
} hm_kv;

#define HM_EVENT_MAX_EXTRA 96

typedef struct hm_event {
    int64_t ts_ns;       /* event time, UTC ns since epoch */
    int64_t recv_ns;     /* receive time */
    uint64_t present[2]; /* bit per field id */
    uint16_t decoder;    /* index in the decoder registry */
    uint8_t src_type;    /* hm_src_type */
    uint8_t flags;       /* HM_EV_* */
    uint16_t n_extra;
    const hm_record *rec; /* raw record; rec->data is the `raw` field */
    hm_kv *extra;         /* arena array of n_extra */
    hm_str f[HM_F_COUNT]; /* valid where present bit set */
} hm_event;

enum {
    HM_EV_INVALID_UTF8 = 1u << 0, /* raw bytes are not valid UTF-8 (decoded anyway) */
    HM_EV_HAS_NUL = 1u << 1,      /* raw bytes contain NUL */
    HM_EV_TS_FROM_RECV = 1u << 2, /* no time in the record: receive time used */
};

static inline bool hm_ev_has(const hm_event *ev, hm_field_id id) {
    return (ev->present[id >> 6] >> (id & 63)) & 1;
}
static inline void hm_ev_set(hm_event *ev, hm_field_id id, hm_str v) {
    ev->f[id] = v;
    ev->present[id >> 6] |= 1ULL << (id & 63);
}
static inline void hm_ev_set_c(hm_event *ev, hm_field_id id, const char *static_str) {
    hm_ev_set(ev, id, hm_str_c(static_str));
}
/* Set only when not already set (first writer wins). */
static inline void hm_ev_set_default(hm_event *ev, hm_field_id id, hm_str v) {
    if (!hm_ev_has(ev, id)) hm_ev_set(ev, id, v);
}
static inline hm_str hm_ev_get(const hm_event *ev, hm_field_id id) {
    return hm_ev_has(ev, id) ? ev->f[id] : (hm_str){NULL, 0};
}
static inline void hm_ev_clear(hm_event *ev) {
    ev->present[0] = ev->present[1] = 0;
    ev->n_extra = 0;
    ev->extra = NULL;
    ev->flags = 0;
    ev->src_type = HM_SRC_UNKNOWN;
    ev->ts_ns = 0;
}
/* Look up a field by name: taxonomy first, then vendor extras. */
bool hm_ev_lookup(const hm_event *ev, const char *name, size_t n, hm_str *out);

#endif
