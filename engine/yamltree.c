#include "yamltree.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <yaml.h>

typedef struct ybuild {
    yaml_parser_t parser;
    const char *name;
    char *err;
    size_t errlen;
    /* anchors for aliases */
    struct {
        char *name;
        hm_ynode *node;
    } * anchors;
    size_t n_anchors, cap_anchors;
} ybuild;

static hm_ynode *ynode_new(hm_ytype t, const yaml_mark_t *m) {
    hm_ynode *n = hm_xcalloc(1, sizeof(*n));
    n->type = t;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

static void ynode_free(hm_ynode *n);

static void ynode_push(hm_ynode *parent, hm_ynode *key, hm_ynode *val) {
    /* capacity doubles whenever n reaches a power of two */
    if (parent->n == 0 || (parent->n & (parent->n - 1)) == 0) {
        size_t cap = parent->n ? parent->n * 2 : 2;
        parent->vals = hm_xrealloc(parent->vals, cap * sizeof(*parent->vals));
        if (parent->type == HM_Y_MAP)
            parent->keys = hm_xrealloc(parent->keys, cap * sizeof(*parent->keys));
    }
    if (parent->type == HM_Y_MAP) parent->keys[parent->n] = key;
    parent->vals[parent->n++] = val;
}

static hm_ynode *ynode_clone(const hm_ynode *src) {
    hm_ynode *n = hm_xcalloc(1, sizeof(*n));
    *n = *src;
    n->str = src->str ? hm_xstrdup(src->str) : NULL;
    n->keys = NULL;
    n->vals = NULL;
    n->n = 0;
    for (size_t i = 0; i < src->n; i++)
        ynode_push(n, src->type == HM_Y_MAP ? ynode_clone(src->keys[i]) : NULL,
                   ynode_clone(src->vals[i]));
    return n;
}

static void yerr(ybuild *b, const yaml_mark_t *m, const char *what) {
    snprintf(b->err, b->errlen, "%s:%zu:%zu: %s", b->name, m->line + 1, m->column + 1, what);
}

static void remember_anchor(ybuild *b, const yaml_char_t *anchor, hm_ynode *n) {
    if (!anchor) return;
    if (b->n_anchors == b->cap_anchors) {
        b->cap_anchors = b->cap_anchors ? b->cap_anchors * 2 : 8;
        b->anchors = hm_xrealloc(b->anchors, b->cap_anchors * sizeof(*b->anchors));
    }
    b->anchors[b->n_anchors].name = hm_xstrdup((const char *)anchor);
    b->anchors[b->n_anchors].node = n;
    b->n_anchors++;
}

/* Parse one node starting at event ev (already fetched). Returns NULL on error. */
static hm_ynode *parse_node(ybuild *b, yaml_event_t *ev, int depth) {
    if (depth > 64) {
        yerr(b, &ev->start_mark, "nesting deeper than 64 levels");
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        hm_ynode *n = ynode_new(HM_Y_SCALAR, &ev->start_mark);
        n->str = hm_xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
        if (!n->quoted && (!strcmp(n->str, "~") || !strcmp(n->str, "null") ||
                           !strcmp(n->str, "Null") || !strcmp(n->str, "NULL") || !n->str[0]))
            n->is_null = true;
        remember_anchor(b, ev->data.scalar.anchor, n);
        return n;
    }
    case YAML_ALIAS_EVENT: {
        for (size_t i = 0; i < b->n_anchors; i++)
            if (!strcmp(b->anchors[i].name, (const char *)ev->data.alias.anchor))
                return ynode_clone(b->anchors[i].node);
        yerr(b, &ev->start_mark, "alias to an unknown anchor");
        return NULL;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool is_map = ev->type == YAML_MAPPING_START_EVENT;
        hm_ynode *n = ynode_new(is_map ? HM_Y_MAP : HM_Y_SEQ, &ev->start_mark);
        const yaml_char_t *anchor =
            is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
        char *anchor_copy = anchor ? hm_xstrdup((const char *)anchor) : NULL;
        for (;;) {
            yaml_event_t cev;
            if (!yaml_parser_parse(&b->parser, &cev)) {
                snprintf(b->err, b->errlen, "%s:%zu:%zu: %s", b->name,
                         b->parser.problem_mark.line + 1, b->parser.problem_mark.column + 1,
                         b->parser.problem ? b->parser.problem : "invalid YAML");
                free(anchor_copy);
                ynode_free(n);
                return NULL;
            }
            if (cev.type == YAML_SEQUENCE_END_EVENT || cev.type == YAML_MAPPING_END_EVENT) {
                yaml_event_delete(&cev);
                break;
            }
            hm_ynode *key = NULL;
            if (is_map) {
                key = parse_node(b, &cev, depth + 1);
                yaml_event_delete(&cev);
                if (!key) {
                    free(anchor_copy);
                    ynode_free(n);
                    return NULL;
                }
                if (key->type != HM_Y_SCALAR) {
                    snprintf(b->err, b->errlen, "%s:%d:%d: mapping key must be a scalar", b->name,
                             key->line, key->col);
                    ynode_free(key);
                    free(anchor_copy);
                    ynode_free(n);
                    return NULL;
                }
                if (!yaml_parser_parse(&b->parser, &cev)) {
                    snprintf(b->err, b->errlen, "%s:%zu:%zu: %s", b->name,
                             b->parser.problem_mark.line + 1, b->parser.problem_mark.column + 1,
                             b->parser.problem ? b->parser.problem : "invalid YAML");
                    ynode_free(key);
                    free(anchor_copy);
                    ynode_free(n);
                    return NULL;
                }
            }
            hm_ynode *val = parse_node(b, &cev, depth + 1);
            yaml_event_delete(&cev);
            if (!val) {
                ynode_free(key);
                free(anchor_copy);
                ynode_free(n);
                return NULL;
            }
            if (is_map && !strcmp(key->str, "<<") && val->type == HM_Y_MAP) {
                /* merge key: copy the merged map's pairs */
                for (size_t i = 0; i < val->n; i++)
                    ynode_push(n, ynode_clone(val->keys[i]), ynode_clone(val->vals[i]));
                ynode_free(key);
                ynode_free(val);
                continue;
            }
            ynode_push(n, key, val);
        }
        if (anchor_copy) {
            remember_anchor(b, (const yaml_char_t *)anchor_copy, n);
            free(anchor_copy);
        }
        return n;
    }
    default:
        yerr(b, &ev->start_mark, "unexpected YAML event");
        return NULL;
    }
}

static void ynode_free(hm_ynode *n) {
    if (!n) return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys) ynode_free(n->keys[i]);
        ynode_free(n->vals[i]);
    }
    free(n->keys);
    free(n->vals);
    free(n->str);
    free(n);
}

/* Anchor nodes are owned by the tree; anchors only index them (freed with the doc). */
static void anchors_reset(ybuild *b) {
    for (size_t i = 0; i < b->n_anchors; i++) free(b->anchors[i].name);
    b->n_anchors = 0;
}

int hm_yaml_load_buf(const char *name, const char *buf, size_t len, hm_ydoc **docs_out, char *err,
                     size_t errlen) {
    ybuild b = {.name = name, .err = err, .errlen = errlen};
    hm_ydoc *docs = NULL;
    int ndocs = 0;
    *docs_out = NULL;
    if (!yaml_parser_initialize(&b.parser)) {
        snprintf(err, errlen, "%s: cannot initialize YAML parser", name);
        return -1;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)buf, len);
    bool ok = true;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&b.parser, &ev)) {
            snprintf(err, errlen, "%s:%zu:%zu: %s", name, b.parser.problem_mark.line + 1,
                     b.parser.problem_mark.column + 1,
                     b.parser.problem ? b.parser.problem : "invalid YAML");
            ok = false;
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            anchors_reset(&b);
            yaml_event_delete(&ev);
            yaml_event_t nev;
            if (!yaml_parser_parse(&b.parser, &nev)) {
                snprintf(err, errlen, "%s:%zu:%zu: %s", name, b.parser.problem_mark.line + 1,
                         b.parser.problem_mark.column + 1,
                         b.parser.problem ? b.parser.problem : "invalid YAML");
                ok = false;
                break;
            }
            hm_ynode *root = NULL;
            if (nev.type != YAML_DOCUMENT_END_EVENT) {
                root = parse_node(&b, &nev, 0);
                yaml_event_delete(&nev);
                if (!root) {
                    ok = false;
                    break;
                }
                yaml_event_t endev;
                if (!yaml_parser_parse(&b.parser, &endev)) {
                    snprintf(err, errlen, "%s:%zu:%zu: %s", name, b.parser.problem_mark.line + 1,
                             b.parser.problem_mark.column + 1,
                             b.parser.problem ? b.parser.problem : "invalid YAML");
                    ynode_free(root);
                    ok = false;
                    break;
                }
                yaml_event_delete(&endev);
            } else {
                yaml_event_delete(&nev);
            }
            docs = hm_xrealloc(docs, (size_t)(ndocs + 1) * sizeof(*docs));
            docs[ndocs++].root = root;
            continue;
        }
        yaml_event_delete(&ev);
    }
    anchors_reset(&b);
    free(b.anchors);
    yaml_parser_delete(&b.parser);
    if (!ok) {
        hm_ydocs_free(docs, ndocs);
        return -1;
    }
    *docs_out = docs;
    return ndocs;
}

int hm_yaml_load_file(const char *path, hm_ydoc **docs, char *err, size_t errlen) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 65536, len = 0;
    char *buf = hm_xmalloc(cap);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap) buf = hm_xrealloc(buf, cap *= 2);
    }
    bool rerr = ferror(f);
    fclose(f);
    if (rerr) {
        free(buf);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    int n = hm_yaml_load_buf(path, buf, len, docs, err, errlen);
    free(buf);
    return n;
}

void hm_ydocs_free(hm_ydoc *docs, int n) {
    if (!docs) return;
    for (int i = 0; i < n; i++) ynode_free(docs[i].root);
    free(docs);
}

hm_ynode *hm_ymap_get(const hm_ynode *map, const char *key) {
    if (!map || map->type != HM_Y_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i]->str, key)) return map->vals[i];
    return NULL;
}
