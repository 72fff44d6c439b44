/* dec_kv.c - generic key=value payloads (any vendor that logs `k=v k2="v 2"`).
 * Last resort: accepts a body with at least two key=value pairs. Keys map through
 * rules/mappings/kv.yml (common spellings: src, srcip, src_ip, user, action...). */
#include "../decode.h"

static int kv_probe(hm_decode_ctx *ctx, const hm_syslog_hdr *h) {
    HM_UNUSED(ctx);
    hm_kv_iter it;
    hm_str k, v;
    hm_kv_iter_init(&it, h->body);
    int pairs = 0;
    while (pairs < 2 && hm_kv_next(&it, &k, &v)) pairs++;
    return pairs >= 2 ? 5 : 0;
}

static int kv_decode(hm_decode_ctx *ctx, hm_event *ev) {
    hm_kv_iter it;
    hm_str k, v;
    hm_kv_iter_init(&it, ctx->hdr->body);
    hm_dec_origin(ev, HM_SRC_UNKNOWN, NULL, NULL, NULL, NULL);
    while (hm_kv_next(&it, &k, &v)) hm_dec_map(ctx, ev, k, v);
    hm_str a = hm_ev_get(ev, HM_F_ACTION);
    if (a.len && !hm_ev_has(ev, HM_F_OUTCOME))
        hm_ev_set_c(ev, HM_F_OUTCOME, hm_outcome_from_word(a));
    if (ctx->hdr->app.len) hm_ev_set_default(ev, HM_F_SERVICE, ctx->hdr->app);
    return HM_OK;
}

const hm_decoder_ops hm_dec_kv = {
    .abi = HM_DECODER_ABI,
    .name = "kv",
    .description = "generic key=value payloads (fallback)",
    .probe = kv_probe,
    .decode = kv_decode,
};
