/* Fuzz-style robustness test: random and mutated records through every decoder and
 * the serializer. Asserts no crash (run under ASan/UBSan by `make asan`) and that
 * every output line is one valid JSON object. Deterministic (fixed seeds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "decode.h"
#include "pipeline.h"

static const char *const seeds[] = {
    "<134>Mar 11 00:00:25 sis-app02 sis[3301]: login failure user=svc src=10.30.2.44 "
    "portal=teacher "
    "method=password reason=bad_password country=US",
    "<189>Mar 11 00:00:59 FGT-DC01 date=2024-03-11 time=00:00:59 devname=\"FGT-DC01\" "
    "devid=\"FG100FTK19000101\" logid=\"0000000013\" type=\"traffic\" subtype=\"forward\" "
    "level=\"notice\" eventtime=1710115259 srcip=10.20.244.212 srcport=30916 dstip=212.120.109.73 "
    "dstport=80 action=\"accept\" sentbyte=1804 rcvdbyte=3265",
    "<134>Mar 11 00:00:11 pfsense-es2 filterlog[40212]: 5,,,1000000103,igb0,match,block,in,4,0x0,,"
    "123,26179,0,DF,6,tcp,52,172.199.121.133,198.18.0.10,43432,22,0,S,1153576527,,29200,,mss",
    "<38>Mar 11 13:02:36 sftp01 sshd[32708]: Failed password for invalid user oracle from "
    "141.97.218.110 port 40277 ssh2",
    "<38>Mar 11 00:02:00 radius01 radiusd[1187]: Auth: (50019) Login incorrect (pap: "
    "Authentication "
    "failed): [svc-copier] (from client fgt-vpn-dc port 0 cli 10.10.5.20)",
    "<134>Mar 11 05:13:12 acs-es3 doorctl[815]: evt=ACCESS_GRANTED door_id=ES3-D08 door=\"Madison "
    "Elementary Kitchen\" reader=ES3-R08 badge=0020276 holder=\"jrodriguez\" "
    "time=2024-03-11T05:13:12",
    "<129>Mar 11 07:37:57 vms01 visitor[2222]: action=watchlist_hit site=\"Roosevelt Middle\" "
    "visitor=\"David Davis\" list=district_banned match_score=99 screening=alert",
    "<30>Mar 11 00:05:47 dhcp01 dhcpd[922]: DHCPACK on 10.38.57.241 to 5c:e7:7e:ef:dc:1b "
    "(CHROMEBOOK-5895) via 10.38.57.1",
    "<85>Mar 11 00:07:47 lnx-web01 sudo:    mgarcia : TTY=pts/0 ; PWD=/home/mgarcia ; USER=root ; "
    "COMMAND=/usr/bin/apt-get update",
    "%ASA-6-302013: Built outbound TCP connection 1 for outside:1.2.3.4/443 (1.2.3.4/443) to "
    "inside:10.0.0.1/5000 (10.0.0.1/5000)",
    "CEF:0|Vendor|Product|1.0|100|Name \\| pipe|5|src=10.0.0.1 dst=2.2.2.2 suser=bob msg=hello "
    "world act=blocked",
    "LEEF:2.0|Vendor|Product|1.0|Evt|^|src=1.2.3.4^usrName=bob^devTime=1710115259000",
    "{\"kind\":\"admin#reports#activity\",\"id\":{\"time\":\"2020-10-02T15:00:00Z\","
    "\"applicationName\":\"login\"},\"actor\":{\"email\":\"foo@bar.com\"},\"ipAddress\":\"1.2.3."
    "4\","
    "\"events\":[{\"type\":\"login\",\"name\":\"login_failure\",\"parameters\":[{\"name\":\"x\","
    "\"value\":\"y\"}]}]}",
    "{\"time\":\"2025-01-15 09:30:45.123\",\"category\":\"SignInLogs\",\"properties\":{"
    "\"userPrincipalName\":\"a@b.com\",\"ipAddress\":\"2.2.2.2\",\"status\":{\"errorCode\":50126}},"
    "\"resultType\":\"50126\"}",
    "{\"integration\":\"office365\",\"office365\":{\"Operation\":\"UserLoginFailed\",\"UserId\":"
    "\"a@b.com\",\"ClientIP\":\"[2001:db8::1]:443\",\"CreationTime\":\"2020-03-19T16:48:02\"}}",
    "<134>1 1647479055.795119971 MR_device_2 events type=wpa_auth radio='1' client_mac='E4:F4:18'",
    "<165>1 2003-10-11T22:14:15.003Z host app - ID47 [sd@1 a=\"b\\]c\"] user=a src=1.2.3.4",
    "Nov 30 16:09:08 PA-220 1,2018/11/30 16:09:07,012801096514,TRAFFIC,end,2049,2018/11/30 "
    "16:09:07,192.168.15.207,175.16.199.1,192.168.1.63,175.16.199.1,rule,,,apple-maps,vsys1",
};

static uint64_t rng_state;
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static const char *const dict[] = {
    "=", "\"", "'",     "{",    "}",     "[",     "]",    ":",    ",",    "|", "\\", " ", "\n",
    "<", ">",  "%ASA-", "CEF:", "LEEF:", "\\u00", "\xff", "\xc3", "\x00", "1", "-",  "."};

static size_t mutate(char *buf, size_t len, size_t cap) {
    int ops = 1 + (int)(rnd() % 8);
    for (int k = 0; k < ops; k++) {
        uint64_t r = rnd();
        size_t at = len ? (size_t)(rnd() % len) : 0;
        switch (r % 6) {
        case 0:
            if (len) buf[at] = (char)rnd();
            break; /* flip a byte */
        case 1:
            if (len) len = at;
            break; /* truncate */
        case 2: {  /* insert token */
            const char *t = dict[rnd() % HM_ARRAY_LEN(dict)];
            size_t tl = strlen(t) ? strlen(t) : 1;
            if (len + tl < cap) {
                memmove(buf + at + tl, buf + at, len - at);
                memcpy(buf + at, t, tl);
                len += tl;
            }
            break;
        }
        case 3:
            if (len > 1) {
                size_t n = (size_t)(rnd() % (len - at));
                memmove(buf + at, buf + at + n, len - at - n);
                len -= n;
            }
            break;
        case 4: { /* duplicate a span */
            size_t n = (size_t)(rnd() % 64);
            if (at + n <= len && len + n < cap) {
                memmove(buf + at + n, buf + at, len - at);
                len += n;
            }
            break;
        }
        default:
            if (len) buf[at] = (char)(rnd() % 128);
            break;
        }
    }
    return len;
}

static void check_json_line(const char *p, size_t n) {
    static jsmntok_t tok[HM_JSON_MAX_TOKENS * 4];
    jsmn_parser parser;
    jsmn_init(&parser);
    assert_true(n > 1 && p[n - 1] == '\n');
    int r = jsmn_parse(&parser, p, n - 1, tok, HM_ARRAY_LEN(tok));
    if (r < 1 || tok[0].type != JSMN_OBJECT || (size_t)tok[0].end != n - 1) {
        fprintf(stderr, "invalid JSON output line: %.*s\n", (int)n, p);
        fail();
    }
}

static void run_fuzz(const hm_field_map **maps, int iterations) {
    hm_tz tz;
    assert_int_equal(hm_tz_load(&tz, "America/New_York", 2020, 2026), HM_OK);
    hm_time_ctx tc = {.tz = &tz, .fixed_year = 2024};
    hm_arena arena;
    hm_arena_init(&arena, 64 * 1024);
    static jsmntok_t tok[HM_JSON_MAX_TOKENS];
    hm_decode_ctx ctx = {.arena = &arena, .tc = &tc, .tok = tok};
    size_t cap = 8192;
    char *buf = malloc(cap);
    hm_buf out = {0};
    hm_syslog_hdr hdr;
    hm_event ev;
    int decoded = 0, dead = 0;
    for (int i = 0; i < iterations; i++) {
        size_t len;
        if (rnd() % 10 == 0) { /* pure random bytes */
            len = (size_t)(rnd() % 300);
            for (size_t k = 0; k < len; k++) buf[k] = (char)rnd();
        } else {
            const char *s = seeds[rnd() % HM_ARRAY_LEN(seeds)];
            len = strlen(s);
            memcpy(buf, s, len);
            len = mutate(buf, len, cap - 1);
        }
        /* copy to an exact-size heap block so ASan sees any over-read */
        char *rec_data = malloc(len ? len : 1);
        memcpy(rec_data, buf, len);
        hm_record rec = {.data = rec_data, .len = (uint32_t)len, .pos = (uint64_t)i, .recv_ns = 1};
        out.len = 0;
        if (hm_decode_record(&ctx, maps, &rec, &hdr, &ev) == HM_OK) {
            decoded++;
            hm_serialize_event(&out, &ev, "fuzz", true);
        } else {
            dead++;
            assert_non_null(ctx.reason);
            hm_serialize_dead(&out, &rec, "fuzz", ctx.reason);
        }
        check_json_line(out.p, out.len);
        free(rec_data);
        if (i % 256 == 0) hm_arena_reset(&arena);
    }
    assert_true(decoded > iterations / 20);
    assert_true(dead > 0);
    free(buf);
    hm_buf_free(&out);
    hm_arena_free(&arena);
    hm_tz_free(&tz);
}

static void test_fuzz_decoders(void **state) {
    (void)state;
    const hm_field_map **maps = calloc(hm_decoders_count, sizeof(*maps));
    char err[512];
    assert_int_equal(hm_field_maps_load_dir("rules/mappings", maps, err, sizeof err), HM_OK);
    rng_state = 42;
    const char *it = getenv("HM_FUZZ_ITERATIONS");
    run_fuzz(maps, it ? atoi(it) : 100000);
    hm_field_maps_free(maps);
    free(maps);
}

static void test_seeds_decode(void **state) {
    (void)state;
    const hm_field_map **maps = calloc(hm_decoders_count, sizeof(*maps));
    char err[512];
    assert_int_equal(hm_field_maps_load_dir("rules/mappings", maps, err, sizeof err), HM_OK);
    hm_tz tz;
    hm_tz_load(&tz, "UTC", 2020, 2026);
    hm_time_ctx tc = {.tz = &tz, .fixed_year = 2024};
    hm_arena arena;
    hm_arena_init(&arena, 64 * 1024);
    static jsmntok_t tok[HM_JSON_MAX_TOKENS];
    hm_decode_ctx ctx = {.arena = &arena, .tc = &tc, .tok = tok};
    for (size_t i = 0; i < HM_ARRAY_LEN(seeds); i++) {
        hm_record rec = {.data = seeds[i], .len = (uint32_t)strlen(seeds[i])};
        hm_syslog_hdr hdr;
        hm_event ev;
        if (hm_decode_record(&ctx, maps, &rec, &hdr, &ev) != HM_OK) {
            fprintf(stderr, "seed %zu not decoded: %s\n", i, ctx.reason);
            fail();
        }
    }
    hm_arena_free(&arena);
    hm_tz_free(&tz);
    hm_field_maps_free(maps);
    free(maps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seeds_decode),
        cmocka_unit_test(test_fuzz_decoders),
    };
    return cmocka_run_group_tests_name("fuzz", tests, NULL, NULL);
}
