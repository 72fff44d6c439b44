/* incident.h - alerts -> prioritized incidents (docs/incidents.md).
 *
 * The incident engine runs on the pipeline's writer thread, after detection and
 * correlation, in batch order (so the same input gives the same incidents with any worker
 * count). It reads the alert lines the engine is about to write, groups them by entity
 * (user, source IP, door, host, site ...) within a gap window, scores each incident (rule
 * level + asset/person criticality + accumulated entity risk + ATT&CK tactic spread),
 * applies suppressions, flags student data, and returns one `"kind":"incident"` line per
 * incident changed in a batch. Incident ids are deterministic (entity + window bucket), so
 * a replay updates the same incidents instead of duplicating them.
 *
 * Threading: not thread-safe; one writer thread drives it. Memory is bounded
 * (max_active incidents, entities expire after the risk horizon). */
#ifndef HM_INCIDENT_H
#define HM_INCIDENT_H

#include <stdio.h>

#include "arena.h"
#include "hm.h"

struct hm_ruleset;

typedef struct hm_incident_opts {
    const char *assets_file;       /* criticality inventory (YAML), NULL = none */
    const char *suppressions_file; /* suppressions/allowlist (YAML), NULL = none */
    int64_t window_ns;             /* max gap between alerts of one incident (0 = 4h) */
    int64_t max_span_ns;           /* an incident longer than this is split (0 = 24h) */
    int64_t horizon_ns;            /* entity risk horizon (0 = 24h) */
    int64_t lateness_ns;           /* extra slack before an incident is closed (0 = 60s) */
    const char *tz_name;           /* district zone for suppression hours/dates (NULL = UTC) */
    size_t max_active;             /* open incidents kept in memory (0 = 20000) */
} hm_incident_opts;

typedef struct hm_incidents hm_incidents;

/* Loads the inventory and suppression files. *rules (rules and *rules may be NULL) is
 * the rule set in force, read on the writer thread for rule descriptions and false
 * positives (next steps); a hot reload that replaces it is noticed and cached rule
 * details are refreshed. NULL with "file:line:col: ..." in err. */
hm_incidents *hm_incidents_new(const hm_incident_opts *o, const struct hm_ruleset *const *rules,
                               char *err, size_t errlen);
void hm_incidents_free(hm_incidents *inc);

/* Feeds a buffer of output lines (events, alerts, others). Every alert line updates the
 * incidents. On return data, len and lines describe the lines to write instead: alert
 * lines carry "incident_id" (or "suppressed": true and the suppression), and are dropped
 * when keep_alerts is false. The returned bytes stay valid until the next call. */
void hm_incidents_feed(hm_incidents *inc, const char **data, size_t *len, uint64_t *lines,
                       bool keep_alerts);
/* Appends one incident line per incident created or updated since the last call (in
 * order of first change) and closes incidents whose window has passed. Returns the number
 * of lines appended. */
size_t hm_incidents_flush(hm_incidents *inc, hm_buf *out);
/* End of input: like flush; afterwards the state is empty. */
size_t hm_incidents_finish(hm_incidents *inc, hm_buf *out);

typedef struct hm_incident_stats {
    uint64_t alerts, suppressed, incidents, lines, closed, evicted, bad_lines;
    uint64_t active, entities;
    uint64_t by_priority[5]; /* incidents by their latest priority: info .. critical */
    int64_t busy_ns;         /* time spent in feed/flush */
} hm_incident_stats;
void hm_incidents_get_stats(const hm_incidents *inc, hm_incident_stats *s);
/* `"incidents":{...}` for --stats (no leading comma). */
void hm_incidents_stats_json(const hm_incidents *inc, FILE *f);

/* ---- shared with the triage CLI ---- */

/* "critical".."info" for 4..0 */
extern const char *const hm_priority_names[5];
/* priority rank from a word (info/informational 0 .. critical 4), -1 when unknown */
int hm_priority_rank(const char *w);

#endif
