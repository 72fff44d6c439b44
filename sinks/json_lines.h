/* json_lines.h - helpers shared by the network and database sinks: walk a batch of JSON
 * lines, parse one line with jsmn and pull fields out of it, the stable identity of a line,
 * level/priority ranks, and URI option parsing.
 *
 * A hm_jl_doc belongs to one sink (the single writer thread); strings it returns stay valid
 * until the next hm_jl_parse on the same doc. */
#ifndef HM_JSON_LINES_H
#define HM_JSON_LINES_H

#include "hm.h"
#include "arena.h"

#define JSMN_HEADER
#define JSMN_PARENT_LINKS
#define JSMN_STRICT
#include <jsmn.h>

/* ---- walking a buffer of lines ---- */

typedef struct hm_jl_iter {
    const char *p, *end;
    size_t index; /* 0-based index of the line last returned */
} hm_jl_iter;

static inline void hm_jl_iter_init(hm_jl_iter *it, const char *data, size_t len) {
    it->p = data;
    it->end = data + len;
    it->index = (size_t)-1;
}
/* Next non-blank line (without its '\n' and a trailing '\r'); false at the end. Blank lines
 * are skipped and do not count as lines. */
bool hm_jl_next(hm_jl_iter *it, hm_str *line);
/* Number of non-blank lines in a buffer. */
size_t hm_jl_count(const char *data, size_t len);

/* ---- one parsed line ---- */

typedef enum hm_jl_kind {
    HM_JL_OTHER = 1,
    HM_JL_ALERT = 2,
    HM_JL_INCIDENT = 4,
    HM_JL_EVENT = 8,
} hm_jl_kind;

typedef struct hm_jl_doc {
    const char *json;
    size_t len;
    jsmntok_t *tok;
    int ntok, cap;
    hm_jl_kind kind;
    hm_arena arena; /* unescaped strings and small formatted values; reset per parse */
} hm_jl_doc;

void hm_jl_init(hm_jl_doc *d);
void hm_jl_free(hm_jl_doc *d);
/* Parses one line; the root must be an object. 0 on success, -1 when the line is not
 * valid JSON. Sets d->kind from "kind". */
int hm_jl_parse(hm_jl_doc *d, const char *line, size_t len);
/* Token of a dotted path under object token obj (0 = root), e.g. "rule.id"; -1 if absent. */
int hm_jl_get(const hm_jl_doc *d, int obj, const char *path);
/* Index of the token after t and all its children. */
int hm_jl_skip(const hm_jl_doc *d, int t);
/* i-th element of an array token, or -1. */
int hm_jl_elem(const hm_jl_doc *d, int arr, int i);
static inline bool hm_jl_is(const hm_jl_doc *d, int t, jsmntype_t type) {
    return t >= 0 && t < d->ntok && d->tok[t].type == type;
}
static inline bool hm_jl_is_null(const hm_jl_doc *d, int t) {
    return t < 0 || t >= d->ntok ||
           (d->tok[t].type == JSMN_PRIMITIVE && d->json[d->tok[t].start] == 'n');
}
/* The value as valid JSON text (strings with their quotes, objects/arrays whole); {NULL,0}
 * when absent. */
hm_str hm_jl_json(const hm_jl_doc *d, int t);
/* The value as text: strings unescaped (UTF-8), primitives as written, objects/arrays as
 * JSON text; {NULL,0} when absent or null. */
hm_str hm_jl_str(hm_jl_doc *d, int t);
/* Same as hm_jl_str by path; also a NUL-terminated copy in the doc arena ("" if absent). */
hm_str hm_jl_str_at(hm_jl_doc *d, int obj, const char *path);
const char *hm_jl_cstr_at(hm_jl_doc *d, int obj, const char *path);
bool hm_jl_i64(const hm_jl_doc *d, int t, int64_t *out);
bool hm_jl_num(const hm_jl_doc *d, int t, double *out);
bool hm_jl_bool(const hm_jl_doc *d, int t, bool *out);
/* RFC 3339 value -> milliseconds since the epoch (zone-less values read as UTC). */
bool hm_jl_time_ms(const hm_jl_doc *d, int t, int64_t *ms);
/* A NUL-terminated copy of bytes in the doc arena. */
char *hm_jl_dup(hm_jl_doc *d, const char *p, size_t n);
/* Event field of the line: for alerts under "fields", for events at the root. */
hm_str hm_jl_field(hm_jl_doc *d, const char *name);

/* Stable identity of a line, the same on every replay of the same input:
 *   incident -> its "id"; versioned adds "#<alert_count>@<last_seen>" (one key per update)
 *   alert    -> "<rule id>|<event id>,<event id>,..."
 *   event and others with an "id" -> that id; otherwise the SHA-256 of the line (hex).
 * Appended to out (not NUL-terminated). */
void hm_jl_identity(hm_jl_doc *d, hm_buf *out, bool versioned);

/* Severity rank of a level or priority word: info(rmational) 0, low 1, medium 2, high 3,
 * critical 4; -1 when not one of them. */
int hm_jl_rank(hm_str word);
/* Rank of a line: rule.level for alerts, priority for incidents; -1 when none. */
int hm_jl_line_rank(hm_jl_doc *d);
/* Kind mask from a list such as "alert,incident", "all"; false on an unknown word. */
bool hm_jl_kind_mask(const char *list, unsigned *mask);

/* ---- URI helpers ---- */

/* Percent-decodes s[0..n) into out (NUL-terminated, at most cap-1 bytes); false when it does
 * not fit or an escape is malformed. */
bool hm_pct_decode(const char *s, size_t n, char *out, size_t cap);
/* Next "key=value" of an &-separated option string, percent-decoded. *p advances; returns
 * false at the end. A bare "key" gives value "". */
bool hm_uriopt_next(const char **p, const char *end, char *key, size_t kcap, char *val,
                    size_t vcap);
/* "HOST:PORT", "[V6]:PORT" -> host (without brackets) and port; false when malformed. */
bool hm_parse_hostport(const char *s, size_t n, char *host, size_t hcap, int *port);
/* "1", "true", "yes", "on" / "0", "false", "no", "off". */
bool hm_parse_bool(const char *s, bool *out);
/* Copy of a URI for logs with the userinfo password and secret/password/token option
 * values replaced by "***". Caller frees. */
char *hm_uri_redact(const char *uri);

/* A secret option value: "env:NAME" (environment variable), "file:PATH" (file contents,
 * trailing newline dropped) or the literal text. Returns a malloc'd string, or NULL with
 * err set. */
char *hm_secret_resolve(const char *v, const char *what, char *err, size_t errlen);

/* Lowercase hex of SHA-256(data) into out[65]. */
void hm_sha256_hex(const void *data, size_t n, char out[65]);

#endif
