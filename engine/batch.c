#include "batch.h"

#include <stdlib.h>

hm_batch *hm_batch_new(uint32_t cap, size_t buf_cap) {
    hm_batch *b = hm_xcalloc(1, sizeof(*b));
    b->cap = cap;
    b->rec = hm_xcalloc(cap, sizeof(*b->rec));
    b->reason = hm_xcalloc(cap, sizeof(*b->reason));
    b->buf_cap = buf_cap;
    b->buf = hm_xmalloc(buf_cap);
    hm_arena_init(&b->arena, 256 * 1024);
    return b;
}

void hm_batch_reset(hm_batch *b) {
    b->n = 0;
    b->buf_len = 0;
    b->origin = NULL;
    b->chunk = NULL;
    b->chunk_len = 0;
    b->first_dead_reason = NULL;
    b->n_new_streams = 0;
    b->out.len = 0;
    b->dead.len = 0;
    b->n_hits = 0;
    memset(&b->stats, 0, sizeof(b->stats));
    hm_arena_reset(&b->arena);
}

void hm_batch_reserve_buf(hm_batch *b, size_t need) {
    if (b->buf_len + need <= b->buf_cap) return;
    size_t cap = b->buf_cap;
    while (cap < b->buf_len + need) cap *= 2;
    char *old = b->buf;
    b->buf = hm_xrealloc(b->buf, cap);
    b->buf_cap = cap;
    uintptr_t o = (uintptr_t)old; /* offsets computed on integers: old is already freed */
    if (b->buf != old)
        for (uint32_t i = 0; i < b->n; i++) {
            b->rec[i].data = b->buf + ((uintptr_t)b->rec[i].data - o);
            /* a Kafka key copied into the buffer moves with it */
            uintptr_t k = (uintptr_t)b->rec[i].key;
            if (k && k >= o && k < o + b->buf_len) b->rec[i].key = b->buf + (k - o);
        }
}

void hm_batch_add_stream(hm_batch *b, const char *origin) {
    if (b->n_new_streams == b->cap_new_streams) {
        b->cap_new_streams = b->cap_new_streams ? b->cap_new_streams * 2 : 16;
        b->new_streams = hm_xrealloc(b->new_streams, b->cap_new_streams * sizeof(char *));
    }
    b->new_streams[b->n_new_streams++] = origin;
}

void hm_batch_free(hm_batch *b) {
    if (!b) return;
    free(b->new_streams);
    free(b->rec);
    free(b->reason);
    free(b->buf);
    hm_arena_free(&b->arena);
    hm_buf_free(&b->out);
    hm_buf_free(&b->dead);
    free(b->hits);
    free(b);
}

uint32_t hm_split_lines(const char **p, const char *end, const char *base, uint64_t pos0,
                        int64_t recv_ns, size_t max_record, size_t hard_cap, hm_record *out,
                        uint32_t max_out) {
    const char *s = *p;
    uint32_t n = 0;
    while (n < max_out && s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        size_t len = (size_t)(le - s);
        if (len && le[-1] == '\r') len--;
        hm_record *r = &out[n++];
        memset(r, 0, sizeof(*r));
        r->data = s;
        r->pos = pos0 + (uint64_t)(s - base);
        r->recv_ns = recv_ns;
        r->partition = -1;
        if (HM_UNLIKELY(len > hard_cap)) {
            r->orig_len = len;
            len = hard_cap;
            r->flags = HM_REC_TRUNCATED | HM_REC_OVERSIZE;
        } else if (HM_UNLIKELY(len > max_record)) {
            r->flags = HM_REC_OVERSIZE;
        }
        r->len = (uint32_t)len;
        s = nl ? nl + 1 : end;
    }
    *p = s;
    return n;
}
