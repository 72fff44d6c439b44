#include "mapping.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "decode.h"
#include "event.h"
#include "yamltree.h"

/* Places every key with multiplier mul; returns the total probe count (a measure of how
 * well mul spreads these keys). */
static size_t map_place(hm_field_map *m, uint64_t mul) {
    size_t cap = (size_t)1 << m->bits, probes = 0;
    m->mul = mul;
    memset(m->slot, 0, cap * sizeof(*m->slot));
    for (size_t i = 0; i < m->n; i++) {
        size_t j = hm_map_slot(m, m->keys[i].w0, m->keys[i].w1, m->keys[i].len);
        while (m->slot[j]) {
            j = (j + 1) & (cap - 1);
            probes++;
        }
        m->slot[j] = (uint32_t)(i + 1);
    }
    return probes;
}

/* Sizes the index table to at least 4x the keys and keeps the best of a few multipliers
 * (odd constants; the first that places every key in its home slot wins at once). */
static void map_build(hm_field_map *m) {
    static const uint64_t muls[] = {
        0xff51afd7ed558ccdULL, 0xc4ceb9fe1a85ec53ULL, 0x9E3779B97F4A7C15ULL, 0xbf58476d1ce4e5b9ULL,
        0x94d049bb133111ebULL, 0xd6e8feb86659fd93ULL, 0xa0761d6478bd642fULL, 0xe7037ed1a0b428dbULL};
    unsigned bits = 4;
    while (((size_t)1 << bits) < m->n * 4) bits++;
    free(m->slot);
    m->bits = bits;
    m->slot = hm_xcalloc((size_t)1 << bits, sizeof(*m->slot));
    size_t best = SIZE_MAX, best_i = 0;
    for (size_t i = 0; i < HM_ARRAY_LEN(muls) && best; i++) {
        size_t p = map_place(m, muls[i]);
        if (p < best) {
            best = p;
            best_i = i;
        }
    }
    map_place(m, muls[best_i]);
}

static void map_put(hm_field_map *m, const char *k, size_t n, int field) {
    uint64_t w0, w1;
    hm_map_key_words(k, n, &w0, &w1);
    for (size_t i = 0; i < m->n; i++)
        if (hm_map_key_is(&m->keys[i], k, n, w0, w1)) {
            m->keys[i].field = field; /* a repeated key: the last one wins */
            return;
        }
    if (m->n == m->cap_keys) {
        m->cap_keys = m->cap_keys ? m->cap_keys * 2 : 32;
        m->keys = hm_xrealloc(m->keys, m->cap_keys * sizeof(*m->keys));
    }
    m->keys[m->n++] = (hm_map_key){
        .w0 = w0, .w1 = w1, .len = (uint32_t)n, .field = field, .key = hm_xstrndup(k, n)};
}

const char *hm_field_map_decoder(const hm_field_map *m) {
    return m->decoder;
}

void hm_field_map_free(hm_field_map *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n; i++) free(m->keys[i].key);
    free(m->keys);
    free(m->slot);
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
    map_build(m);
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
