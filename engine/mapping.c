#include "mapping.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "decode.h"
#include "event.h"
#include "yamltree.h"

typedef struct map_slot {
    char *key; /* NULL = empty */
    uint32_t len;
    int field;
} map_slot;

struct hm_field_map {
    char *decoder;
    size_t cap; /* power of two */
    size_t n;
    map_slot *slots;
};

/* Word-at-a-time hash: vendor keys are short and looked up for every field of every event. */
static uint64_t key_hash(const char *k, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, k, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        k += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, k, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 29);
}

static void map_put(hm_field_map *m, const char *k, size_t n, int field) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        map_slot *ns = hm_xcalloc(ncap, sizeof(*ns));
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key) continue;
            size_t j = key_hash(m->slots[i].key, m->slots[i].len) & (ncap - 1);
            while (ns[j].key) j = (j + 1) & (ncap - 1);
            ns[j] = m->slots[i];
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    size_t j = key_hash(k, n) & (m->cap - 1);
    while (m->slots[j].key) {
        if (m->slots[j].len == n && !memcmp(m->slots[j].key, k, n)) {
            m->slots[j].field = field;
            return;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->slots[j].key = hm_xstrndup(k, n);
    m->slots[j].len = (uint32_t)n;
    m->slots[j].field = field;
    m->n++;
}

int hm_field_map_get(const hm_field_map *m, const char *key, size_t n) {
    if (!m || !m->cap) return -1;
    size_t j = key_hash(key, n) & (m->cap - 1);
    while (m->slots[j].key) {
        if (m->slots[j].len == n && !memcmp(m->slots[j].key, key, n)) return m->slots[j].field;
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

const char *hm_field_map_decoder(const hm_field_map *m) {
    return m->decoder;
}

void hm_field_map_free(hm_field_map *m) {
    if (!m) return;
    for (size_t i = 0; i < m->cap; i++) free(m->slots[i].key);
    free(m->slots);
    free(m->decoder);
    free(m);
}

hm_field_map *hm_field_map_load(const char *path, char *err, size_t errlen) {
    hm_ydoc *docs;
    int nd = hm_yaml_load_file(path, &docs, err, errlen);
    if (nd < 0) return NULL;
    hm_field_map *m = NULL;
    if (nd != 1 || !docs[0].root || docs[0].root->type != HM_Y_MAP) {
        snprintf(err, errlen, "%s:1:1: a mapping file is one YAML map with `decoder` and `fields`",
                 path);
        goto out;
    }
    hm_ynode *root = docs[0].root;
    hm_ynode *dec = hm_ymap_get(root, "decoder");
    hm_ynode *fields = hm_ymap_get(root, "fields");
    if (!hm_y_is_scalar(dec)) {
        snprintf(err, errlen, "%s:%d:%d: missing `decoder: NAME`", path, root->line, root->col);
        goto out;
    }
    if (hm_decoder_index(dec->str) < 0) {
        snprintf(err, errlen, "%s:%d:%d: unknown decoder '%s'", path, dec->line, dec->col,
                 dec->str);
        goto out;
    }
    if (!fields || fields->type != HM_Y_MAP) {
        snprintf(err, errlen, "%s:%d:%d: missing `fields:` map (vendor_key: taxonomy_field)", path,
                 root->line, root->col);
        goto out;
    }
    m = hm_xcalloc(1, sizeof(*m));
    m->decoder = hm_xstrdup(dec->str);
    for (size_t i = 0; i < fields->n; i++) {
        hm_ynode *k = fields->keys[i], *v = fields->vals[i];
        if (!hm_y_is_scalar(v)) {
            snprintf(err, errlen, "%s:%d:%d: value of '%s' must be a taxonomy field name", path,
                     v->line, v->col, k->str);
            hm_field_map_free(m);
            m = NULL;
            goto out;
        }
        int id = hm_field_lookup(v->str, strlen(v->str));
        if (id < 0) {
            snprintf(err, errlen, "%s:%d:%d: '%s' is not a taxonomy field (see docs/fields.md)",
                     path, v->line, v->col, v->str);
            hm_field_map_free(m);
            m = NULL;
            goto out;
        }
        map_put(m, k->str, strlen(k->str), id);
    }
out:
    hm_ydocs_free(docs, nd);
    return m;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int hm_field_maps_load_dir(const char *dir, const hm_field_map **maps, char *err, size_t errlen) {
    for (size_t i = 0; i < hm_decoders_count; i++) maps[i] = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open mappings folder: %s", dir, strerror(errno));
        return HM_EUSAGE;
    }
    char **names = NULL;
    size_t nn = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l > 4 && !strcmp(de->d_name + l - 4, ".yml")) {
            names = hm_xrealloc(names, (nn + 1) * sizeof(*names));
            names[nn++] = hm_xstrdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, nn, sizeof(*names), cmp_str);
    int rc = HM_OK;
    for (size_t i = 0; i < nn; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (rc == HM_OK) {
            hm_field_map *m = hm_field_map_load(path, err, errlen);
            if (!m) {
                rc = HM_EUSAGE;
            } else {
                int idx = hm_decoder_index(m->decoder);
                if (maps[idx]) {
                    snprintf(err, errlen, "%s: decoder '%s' already has a mapping file", path,
                             m->decoder);
                    hm_field_map_free(m);
                    rc = HM_EUSAGE;
                } else {
                    maps[idx] = m;
                }
            }
        }
        free(names[i]);
    }
    free(names);
    if (rc != HM_OK) hm_field_maps_free(maps);
    return rc;
}

void hm_field_maps_free(const hm_field_map **maps) {
    for (size_t i = 0; i < hm_decoders_count; i++) {
        hm_field_map_free((hm_field_map *)maps[i]);
        maps[i] = NULL;
    }
}
