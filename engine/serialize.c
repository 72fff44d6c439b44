/* serialize.c - JSON Lines for events and dead letters (hot path: no malloc, no printf). */
#include "pipeline.h"

static void put_id(hm_buf *out, const char *origin, uint64_t pos) {
    hm_buf_putc(out, '"');
    hm_buf_put_json_escaped(out, origin, strlen(origin));
    hm_buf_putc(out, ':');
    hm_buf_put_u64(out, pos);
    hm_buf_putc(out, '"');
}

static bool is_json_int(hm_str v) {
    if (v.len == 0 || v.len > 18) return false;
    size_t i = v.p[0] == '-' ? 1 : 0;
    if (i == v.len) return false;
    if (v.p[i] == '0' && v.len > i + 1) return false; /* leading zero: keep as string */
    for (; i < v.len; i++)
        if ((unsigned)(v.p[i] - '0') > 9) return false;
    return true;
}

/* taxonomy fields then vendor fields, each preceded by a comma */
static void put_fields(hm_buf *out, const hm_event *ev) {
    for (int i = 0; i < HM_F_COUNT; i++) {
        if (!hm_ev_has(ev, (hm_field_id)i)) continue;
        hm_buf_puts(out, ",\"");
        hm_buf_puts(out, hm_field_names[i]);
        hm_buf_puts(out, "\":");
        hm_str v = ev->f[i];
        if (hm_field_types[i] == HM_T_N && is_json_int(v))
            hm_buf_put(out, v.p, v.len);
        else
            hm_buf_put_json_str(out, v);
    }
    if (ev->n_extra) {
        hm_buf_puts(out, ",\"vendor_fields\":{");
        for (uint16_t i = 0; i < ev->n_extra; i++) {
            if (i) hm_buf_putc(out, ',');
            hm_buf_put_json_str(out, ev->extra[i].key);
            hm_buf_putc(out, ':');
            hm_buf_put_json_str(out, ev->extra[i].val);
        }
        hm_buf_putc(out, '}');
    }
}

void hm_serialize_event(hm_buf *out, const hm_event *ev, const char *origin, bool include_raw) {
    hm_buf_puts(out, "{\"kind\":\"event\",\"id\":");
    put_id(out, origin, ev->rec->pos);
    hm_buf_puts(out, ",\"time\":\"");
    hm_buf_put_time(out, ev->ts_ns);
    hm_buf_puts(out, "\",\"recv_time\":\"");
    hm_buf_put_time(out, ev->recv_ns);
    hm_buf_puts(out, "\",\"decoder\":\"");
    hm_buf_puts(out, hm_decoders[ev->decoder]->name);
    hm_buf_putc(out, '"');
    put_fields(out, ev);
    if (ev->flags & (HM_EV_INVALID_UTF8 | HM_EV_HAS_NUL | HM_EV_TS_FROM_RECV)) {
        hm_buf_puts(out, ",\"flags\":[");
        bool first = true;
        if (ev->flags & HM_EV_INVALID_UTF8) {
            hm_buf_puts(out, "\"invalid_utf8\"");
            first = false;
        }
        if (ev->flags & HM_EV_HAS_NUL) {
            hm_buf_puts(out, first ? "\"nul_byte\"" : ",\"nul_byte\"");
            first = false;
        }
        if (ev->flags & HM_EV_TS_FROM_RECV)
            hm_buf_puts(out, first ? "\"time_from_receive\"" : ",\"time_from_receive\"");
        hm_buf_putc(out, ']');
    }
    if (include_raw) {
        hm_buf_puts(out, ",\"raw\":");
        hm_buf_put_json_str(out, (hm_str){ev->rec->data, ev->rec->len});
    }
    hm_buf_puts(out, "}\n");
}

void hm_serialize_dead(hm_buf *out, const hm_record *r, const char *origin, const char *reason) {
    hm_buf_puts(out, "{\"kind\":\"dead_letter\",\"id\":");
    put_id(out, origin, r->pos);
    hm_buf_puts(out, ",\"source\":");
    hm_buf_put_json_str(out, hm_str_c(origin));
    hm_buf_puts(out, ",\"pos\":");
    hm_buf_put_u64(out, r->pos);
    hm_buf_puts(out, ",\"recv_time\":\"");
    hm_buf_put_time(out, r->recv_ns);
    hm_buf_puts(out, "\",\"reason\":");
    hm_buf_put_json_str(out, hm_str_c(reason));
    hm_buf_puts(out, ",\"length\":");
    hm_buf_put_u64(out, r->orig_len ? r->orig_len : r->len);
    if (r->flags & HM_REC_TRUNCATED) hm_buf_puts(out, ",\"truncated\":true");
    hm_buf_puts(out, ",\"raw\":");
    hm_buf_put_json_str(out, (hm_str){r->data, r->len});
    hm_buf_puts(out, "}\n");
}

void hm_serialize_alert(hm_buf *out, const hm_rule_meta *rule, const hm_match *m,
                        const hm_event *ev, const char *origin) {
    hm_buf_puts(out, "{\"kind\":\"alert\",\"rule\":{\"id\":");
    hm_buf_put_json_str(out, hm_str_c(rule->id));
    hm_buf_puts(out, ",\"title\":");
    hm_buf_put_json_str(out, hm_str_c(rule->title));
    hm_buf_puts(out, ",\"level\":\"");
    hm_buf_puts(out, hm_level_names[rule->level]);
    hm_buf_puts(out, "\",\"tags\":[");
    for (size_t i = 0; i < rule->n_tags; i++) {
        if (i) hm_buf_putc(out, ',');
        hm_buf_put_json_str(out, hm_str_c(rule->tags[i]));
    }
    hm_buf_puts(out, "]},\"time\":\"");
    hm_buf_put_time(out, ev->ts_ns);
    hm_buf_puts(out, "\",\"event_ids\":[");
    put_id(out, origin, ev->rec->pos);
    hm_buf_puts(out, "],\"group\":null,\"fields\":{\"decoder\":\"");
    hm_buf_puts(out, hm_decoders[ev->decoder]->name);
    hm_buf_putc(out, '"');
    put_fields(out, ev);
    hm_buf_puts(out, "},\"evidence\":{\"selections\":[");
    bool first = true;
    for (size_t i = 0; i < rule->n_selections && i < 64; i++) {
        if (!(m->selections >> i & 1)) continue;
        if (!first) hm_buf_putc(out, ',');
        first = false;
        hm_buf_put_json_str(out, hm_str_c(rule->selection_names[i]));
    }
    hm_buf_puts(out, "],\"raw\":");
    hm_buf_put_json_str(out, (hm_str){ev->rec->data, ev->rec->len});
    hm_buf_puts(out, "}}\n");
}
