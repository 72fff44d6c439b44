/* yamltree.h - a YAML document as a small tree with line:column positions (libyaml).
 *
 * Used for rules, mappings and config: start-up paths only, never per event.
 * Ownership: a hm_ydoc owns all its nodes and strings; free with hm_ydoc_free. */
#ifndef HM_YAMLTREE_H
#define HM_YAMLTREE_H

#include "hm.h"

typedef enum { HM_Y_SCALAR, HM_Y_SEQ, HM_Y_MAP } hm_ytype;

typedef struct hm_ynode hm_ynode;
struct hm_ynode {
    hm_ytype type;
    int line, col;   /* 1-based position in the file */
    char *str;       /* scalar text (NUL-terminated), NULL otherwise */
    bool quoted;     /* scalar was quoted ('x' or "x"): never null/bool/number */
    bool is_null;    /* plain scalar '~', 'null', '' */
    size_t n;        /* children: seq items, or map key/value pairs */
    hm_ynode **keys; /* map keys (scalars) */
    hm_ynode **vals; /* map values, or seq items */
};

typedef struct hm_ydoc {
    hm_ynode *root;
} hm_ydoc;

/* Parses every document of a file/buffer. Returns the number of documents (>=0) or -1
 * with "path:line:col: message" in err. *docs is malloc'd; free with hm_ydocs_free. */
int hm_yaml_load_file(const char *path, hm_ydoc **docs, char *err, size_t errlen);
int hm_yaml_load_buf(const char *name, const char *buf, size_t len, hm_ydoc **docs, char *err,
                     size_t errlen);
void hm_ydocs_free(hm_ydoc *docs, int n);

/* Map lookup by key; NULL when absent or node is not a map. */
hm_ynode *hm_ymap_get(const hm_ynode *map, const char *key);
static inline bool hm_y_is_scalar(const hm_ynode *n) {
    return n && n->type == HM_Y_SCALAR;
}

#endif
