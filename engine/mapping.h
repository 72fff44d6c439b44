/* mapping.h - vendor field name -> taxonomy field id, loaded from rules/mappings/NAME.yml.
 *
 * A mapping file is YAML:
 *   decoder: fortigate          # which decoder uses it
 *   fields:                     # vendor key: taxonomy field name (docs/fields.md)
 *     srcip: src_ip
 * Loaded once at start, immutable afterwards: shared read-only by all workers. */
#ifndef HM_MAPPING_H
#define HM_MAPPING_H

#include "hm.h"

/* The table is defined here only so that the lookup, run for every vendor key of every event,
 * inlines; nothing outside mapping.c touches its fields. */

/* One vendor key. w0/w1 are the key's first 16 bytes as two zero-padded little-endian words:
 * with the length they identify keys up to 16 bytes exactly, so a lookup compares three
 * integers instead of calling memcmp; longer keys also compare their full bytes. */
typedef struct hm_map_key {
    uint64_t w0, w1;
    uint32_t len;
    int field;
    char *key;
} hm_map_key;

/* Keys in a dense array, found through an open-addressing table of indexes (0 = empty,
 * else index + 1) kept at most a quarter full: misses, the common case for vendor keys that
 * stay vendor fields, end at the first or second slot. The multiplier is chosen at load
 * among a few candidates for the fewest probes over the loaded keys. */
typedef struct hm_field_map {
    char *decoder;
    hm_map_key *keys;
    size_t n, cap_keys;
    uint32_t *slot; /* [1 << bits] */
    unsigned bits;
    uint64_t mul;
} hm_field_map;

static inline uint64_t hm_map_le64(const char *p) {
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w;
}

static inline uint32_t hm_map_le32(const char *p) {
    uint32_t w;
    memcpy(&w, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap32(w);
#endif
    return w;
}

/* The n (<= 8) bytes at p as a zero-padded little-endian word, reading only those bytes:
 * two overlapping loads whose shared bytes are equal, so OR-ing them is exact. */
static inline uint64_t hm_map_upto8(const char *p, size_t n) {
    if (n >= 8) return hm_map_le64(p);
    if (n >= 4) return hm_map_le32(p) | (uint64_t)hm_map_le32(p + n - 4) << ((n - 4) * 8);
    if (n == 0) return 0;
    return (uint64_t)(unsigned char)p[0] | (uint64_t)(unsigned char)p[n >> 1] << ((n >> 1) * 8) |
           (uint64_t)(unsigned char)p[n - 1] << ((n - 1) * 8);
}

static inline void hm_map_key_words(const char *k, size_t n, uint64_t *w0, uint64_t *w1) {
    *w0 = hm_map_upto8(k, n);
    *w1 = n > 8 ? hm_map_upto8(k + 8, n - 8 < 8 ? n - 8 : 8) : 0;
}

static inline size_t hm_map_slot(const hm_field_map *m, uint64_t w0, uint64_t w1, size_t n) {
    uint64_t h = (w0 ^ (w1 * 0x9E3779B97F4A7C15ULL) ^ n) * m->mul;
    return (size_t)(h >> (64 - m->bits));
}

static inline bool hm_map_key_is(const hm_map_key *e, const char *k, size_t n, uint64_t w0,
                                 uint64_t w1) {
    return e->w0 == w0 && e->w1 == w1 && e->len == n && (n <= 16 || !memcmp(e->key, k, n));
}

/* Taxonomy id for a vendor key, or -1. Lock-free, no allocation. */
static inline int hm_field_map_get(const hm_field_map *m, const char *key, size_t n) {
    if (!m || !m->n) return -1;
    uint64_t w0, w1;
    hm_map_key_words(key, n, &w0, &w1);
    size_t mask = ((size_t)1 << m->bits) - 1;
    for (size_t j = hm_map_slot(m, w0, w1, n);; j = (j + 1) & mask) {
        uint32_t s = m->slot[j];
        if (!s) return -1;
        const hm_map_key *e = &m->keys[s - 1];
        if (hm_map_key_is(e, key, n, w0, w1)) return e->field;
    }
}

/* Loads one file. On error returns NULL and writes "file:line:col: what" to err. */
hm_field_map *hm_field_map_load(const char *path, char *err, size_t errlen);
/* Loads every *.yml in dir and attaches each to the decoder it names; maps[i] is the map
 * of hm_decoders[i] or NULL. Returns 0 or HM_EUSAGE with err filled. */
int hm_field_maps_load_dir(const char *dir, const hm_field_map **maps, char *err, size_t errlen);
void hm_field_maps_free(const hm_field_map **maps);
const char *hm_field_map_decoder(const hm_field_map *m);
void hm_field_map_free(hm_field_map *m);

#endif
