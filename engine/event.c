#include "event.h"

const char *const hm_field_names[HM_F_COUNT] = {
#define HM_FIELD(id, name, type) name,
#include "fields.def"
#undef HM_FIELD
};

const uint8_t hm_field_types[HM_F_COUNT] = {
#define HM_FIELD(id, name, type) HM_T_##type,
#include "fields.def"
#undef HM_FIELD
};

const char *const hm_src_type_names[HM_SRC_COUNT] = {
#define X(id, name) name,
    HM_SRC_TYPES(X)
#undef X
};

int hm_field_lookup(const char *name, size_t n) {
    for (int i = 0; i < HM_F_COUNT; i++)
        if (strlen(hm_field_names[i]) == n && !memcmp(hm_field_names[i], name, n)) return i;
    return -1;
}

bool hm_ev_lookup(const hm_event *ev, const char *name, size_t n, hm_str *out) {
    int id = hm_field_lookup(name, n);
    if (id >= 0) {
        if (!hm_ev_has(ev, (hm_field_id)id)) return false;
        *out = ev->f[id];
        return true;
    }
    for (uint16_t i = 0; i < ev->n_extra; i++)
        if (ev->extra[i].key.len == n && !memcmp(ev->extra[i].key.p, name, n)) {
            *out = ev->extra[i].val;
            return true;
        }
    return false;
}
