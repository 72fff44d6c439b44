/* Unit tests: syslog header parsing, time conversion, key=value tokenizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "syslog.h"
#include "decode.h"

static hm_tz g_chicago, g_utc;

static int setup(void **state) {
    (void)state;
    if (hm_tz_load(&g_chicago, "America/Chicago", 2020, 2027) != HM_OK) return -1;
    if (hm_tz_load(&g_utc, "UTC", 2020, 2027) != HM_OK) return -1;
    return 0;
}
static int teardown(void **state) {
    (void)state;
    hm_tz_free(&g_chicago);
    hm_tz_free(&g_utc);
    return 0;
}

static void assert_str(hm_str s, const char *want) {
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)s.len, s.p ? s.p : "");
    assert_string_equal(buf, want);
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s) {
    return hm_civil_to_epoch(y, mo, d, h, mi, s) * 1000000000LL;
}

static void test_rfc3164_with_tag(void **state) {
    (void)state;
    hm_time_ctx tc = {.tz = &g_chicago, .fixed_year = 2024};
    hm_syslog_hdr h;
    const char *l = "<134>Mar 11 00:00:25 sis-app02 sis[3301]: login failure user=x src=1.2.3.4";
    hm_syslog_parse(l, strlen(l), &tc, &h);
    assert_int_equal(h.pri, 134);
    assert_true(h.has_ts);
    assert_false(h.ts_has_zone);
    assert_str(h.host, "sis-app02");
    assert_str(h.app, "sis");
    assert_str(h.procid, "3301");
    assert_str(h.body, "login failure user=x src=1.2.3.4");
    /* 2024-03-11 00:00:25 CDT (DST began Mar 10) = 05:00:25Z */
    assert_int_equal(hm_time_local_to_utc_ns(&tc, h.ts_ns), utc(2024, 3, 11, 5, 0, 25));
}

static void test_rfc3164_no_tag_and_single_digit_day(void **state) {
    (void)state;
    hm_time_ctx tc = {.tz = &g_utc, .fixed_year = 2022};
    hm_syslog_hdr h;
    const char *l = "<181>Mar 2 09:09:13 cisco-ise-host CISE_Failed_Attempts 0000075134 1 0";
    hm_syslog_parse(l, strlen(l), &tc, &h);
    assert_str(h.host, "cisco-ise-host");
    assert_int_equal(h.app.len, 0);
    assert_str(h.body, "CISE_Failed_Attempts 0000075134 1 0");
    assert_int_equal(h.ts_ns, utc(2022, 3, 2, 9, 9, 13));

    const char *l2 = "Jan  3 13:45:36 192.168.5.1 id=firewall sn=000SERIAL";
    hm_syslog_parse(l2, strlen(l2), &tc, &h);
    assert_int_equal(h.pri, -1);
    assert_str(h.host, "192.168.5.1");
    assert_str(h.body, "id=firewall sn=000SERIAL");
}

static void test_rfc3164_no_host(void **state) {
    (void)state;
    hm_time_ctx tc = {.tz = &g_utc, .fixed_year = 2024};
    hm_syslog_hdr h;
    const char *l = "<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match";
    hm_syslog_parse(l, strlen(l), &tc, &h);
    assert_int_equal(h.host.len, 0);
    assert_str(h.app, "filterlog");
    assert_str(h.body, "146,,,1535324496,igb1.12,match");
    /* FortiGate: host then key=value body, no tag */
    const char *f = "<189>Mar 11 00:00:59 FGT-DC01 date=2024-03-11 time=00:00:59 devname=\"x\"";
    hm_syslog_parse(f, strlen(f), &tc, &h);
    assert_str(h.host, "FGT-DC01");
    assert_int_equal(h.app.len, 0);
    assert_str(h.body, "date=2024-03-11 time=00:00:59 devname=\"x\"");
}

static void test_rfc5424(void **state) {
    (void)state;
    hm_time_ctx tc = {.tz = &g_chicago};
    hm_syslog_hdr h;
    const char *l = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
                    "[exampleSDID@32473 iut=\"3\" eventID=\"1011\"] An application event";
    hm_syslog_parse(l, strlen(l), &tc, &h);
    assert_int_equal(h.version, 1);
    assert_true(h.ts_has_zone);
    assert_int_equal(h.ts_ns, utc(2003, 10, 11, 22, 14, 15) + 3000000);
    assert_str(h.host, "mymachine.example.com");
    assert_str(h.app, "evntslog");
    assert_int_equal(h.procid.len, 0);
    assert_str(h.msgid, "ID47");
    assert_str(h.sd, "[exampleSDID@32473 iut=\"3\" eventID=\"1011\"]");
    assert_str(h.body, "An application event");
    /* offset zone and nil SD */
    const char *l2 = "<34>1 2024-03-11T07:00:00-05:00 host app 12 - - msg";
    hm_syslog_parse(l2, strlen(l2), &tc, &h);
    assert_int_equal(h.ts_ns, utc(2024, 3, 11, 12, 0, 0));
    assert_str(h.procid, "12");
    assert_int_equal(h.sd.len, 0);
    assert_str(h.body, "msg");
}

static void test_octet_counting_and_meraki(void **state) {
    (void)state;
    hm_time_ctx tc = {.tz = &g_utc, .fixed_year = 2024};
    hm_syslog_hdr h;
    const char *l = "52 <134>Mar 11 00:00:25 h sshd[1]: Accepted password";
    hm_syslog_parse(l, strlen(l), &tc, &h);
    assert_int_equal(h.pri, 134);
    assert_str(h.app, "sshd");
    const char *m = "<134>1 1647479055.795119971 MR_device_2 events type=dfs_event channel='136'";
    hm_syslog_parse(m, strlen(m), &tc, &h);
    assert_str(h.host, "MR_device_2");
    assert_str(h.body, "events type=dfs_event channel='136'");
    assert_int_equal(h.ts_ns, 1647479055795119971LL);
}

static void test_headerless(void **state) {
    (void)state;
    hm_time_ctx tc = {.tz = &g_utc, .fixed_year = 2024};
    hm_syslog_hdr h;
    const char *l = "%ASA-1-505015: Module ips, application up";
    hm_syslog_parse(l, strlen(l), &tc, &h);
    assert_int_equal(h.pri, -1);
    assert_false(h.has_ts);
    assert_str(h.body, "%ASA-1-505015: Module ips, application up");
    const char *j = "{\"a\":1}";
    hm_syslog_parse(j, strlen(j), &tc, &h);
    assert_str(h.body, "{\"a\":1}");
    hm_syslog_parse("", 0, &tc, &h);
    assert_int_equal(h.body.len, 0);
    const char *junk = "<999>garbage";
    hm_syslog_parse(junk, strlen(junk), &tc, &h);
    assert_int_equal(h.pri, -1);
}

static void test_year_inference(void **state) {
    (void)state;
    /* reference 2025-01-02: a Dec 31 stamp belongs to 2024, a Jan 2 stamp to 2025 */
    hm_time_ctx tc = {.tz = &g_utc, .ref_ns = utc(2025, 1, 2, 12, 0, 0)};
    assert_int_equal(hm_time_infer_year(&tc, 12, 31), 2024);
    assert_int_equal(hm_time_infer_year(&tc, 1, 2), 2025);
    assert_int_equal(hm_time_infer_year(&tc, 1, 3), 2025); /* one day of clock skew allowed */
    assert_int_equal(hm_time_infer_year(&tc, 1, 5), 2024);
    hm_time_ctx fixed = {.tz = &g_utc, .fixed_year = 2019};
    assert_int_equal(hm_time_infer_year(&fixed, 6, 1), 2019);
}

static void test_dst_edges(void **state) {
    (void)state;
    /* fall back 2024-11-03 01:30 local happens twice: the first (CDT) reading is taken */
    int64_t local = hm_civil_to_epoch(2024, 11, 3, 1, 30, 0);
    assert_int_equal(hm_tz_local_to_utc(&g_chicago, local),
                     hm_civil_to_epoch(2024, 11, 3, 6, 30, 0));
    /* winter */
    local = hm_civil_to_epoch(2024, 1, 15, 12, 0, 0);
    assert_int_equal(hm_tz_local_to_utc(&g_chicago, local),
                     hm_civil_to_epoch(2024, 1, 15, 18, 0, 0));
    assert_int_equal(hm_tz_load(&(hm_tz){0}, "Nowhere/Atlantis", 2024, 2024), HM_EUSAGE);
}

static void test_iso8601(void **state) {
    (void)state;
    int64_t ns;
    bool zone;
    assert_int_equal(hm_parse_iso8601("2024-03-11T05:13:12", 19, &ns, &zone), 19);
    assert_false(zone);
    assert_int_equal(ns, utc(2024, 3, 11, 5, 13, 12));
    const char *s = "2022-12-11 02:57:48.693000000";
    assert_int_equal(hm_parse_iso8601(s, strlen(s), &ns, &zone), strlen(s));
    assert_int_equal(ns, utc(2022, 12, 11, 2, 57, 48) + 693000000);
    s = "2020-10-02T15:00:00+0230";
    assert_int_equal(hm_parse_iso8601(s, strlen(s), &ns, &zone), strlen(s));
    assert_true(zone);
    assert_int_equal(ns, utc(2020, 10, 2, 12, 30, 0));
    assert_int_equal(hm_parse_iso8601("2024-13-11T05:13:12", 19, &ns, &zone), 0);
    assert_int_equal(hm_parse_iso8601("not a time at all!!", 19, &ns, &zone), 0);
}

static void test_kv_iter(void **state) {
    (void)state;
    hm_kv_iter it;
    hm_str k, v;
    const char *s = "a=1  b=\"two words\" junk c='x y' d=\"esc\\\"aped\" e=";
    hm_kv_iter_init(&it, hm_str_c(s));
    assert_true(hm_kv_next(&it, &k, &v));
    assert_str(k, "a");
    assert_str(v, "1");
    assert_true(hm_kv_next(&it, &k, &v));
    assert_str(k, "b");
    assert_str(v, "two words");
    assert_true(hm_kv_next(&it, &k, &v));
    assert_str(k, "c");
    assert_str(v, "x y");
    assert_true(hm_kv_next(&it, &k, &v));
    assert_str(k, "d");
    assert_str(v, "esc\\\"aped");
    assert_true(hm_kv_next(&it, &k, &v));
    assert_str(k, "e");
    assert_str(v, "");
    assert_false(hm_kv_next(&it, &k, &v));
    /* unterminated quote must not run past the end */
    const char *u = "k=\"open";
    hm_kv_iter_init(&it, hm_str_c(u));
    assert_true(hm_kv_next(&it, &k, &v));
    assert_str(v, "open");
    assert_false(hm_kv_next(&it, &k, &v));
}

static void test_json_helpers(void **state) {
    (void)state;
    hm_arena a;
    hm_arena_init(&a, 4096);
    jsmntok_t tok[HM_JSON_MAX_TOKENS];
    hm_decode_ctx ctx = {.arena = &a, .tok = tok};
    const char *j =
        "{\"actor\":{\"email\":\"a\\u00e9@x\"},\"n\":5,\"z\":null,\"arr\":[1,{\"q\":\"w\"}]}";
    assert_int_equal(hm_dec_json(&ctx, hm_str_c(j)), 0);
    int t = hm_json_path(&ctx, 0, "actor.email");
    assert_true(t > 0);
    assert_str(hm_json_str(&ctx, t), "a\xc3\xa9@x");
    assert_str(hm_json_str(&ctx, hm_json_path(&ctx, 0, "n")), "5");
    assert_true(hm_json_is_null(&ctx, hm_json_path(&ctx, 0, "z")));
    assert_int_equal(hm_json_path(&ctx, 0, "missing.key"), -1);
    hm_decode_ctx ctx2 = {.arena = &a, .tok = tok};
    assert_int_equal(hm_dec_json(&ctx2, hm_str_c("{\"a\":1")), -1); /* truncated */
    hm_decode_ctx ctx3 = {.arena = &a, .tok = tok};
    assert_int_equal(hm_dec_json(&ctx3, hm_str_c("{\"a\":1} x")), -1); /* trailing junk */
    hm_arena_free(&a);
}

static void test_json_escape_output(void **state) {
    (void)state;
    hm_buf b = {0};
    size_t bad = hm_buf_put_json_escaped(&b, "a\"b\\\n\x01\xff\xc3\xa9", 9);
    hm_buf_putc(&b, 0);
    assert_string_equal(b.p, "a\\\"b\\\\\\n\\u0001\\u00ff\xc3\xa9");
    assert_int_equal(bad, 1);
    b.len = 0;
    hm_buf_put_time(&b, utc(2024, 3, 11, 5, 0, 25) + 120000000);
    hm_buf_putc(&b, 0);
    assert_string_equal(b.p, "2024-03-11T05:00:25.120Z");
    hm_buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3164_with_tag),
        cmocka_unit_test(test_rfc3164_no_tag_and_single_digit_day),
        cmocka_unit_test(test_rfc3164_no_host),
        cmocka_unit_test(test_rfc5424),
        cmocka_unit_test(test_octet_counting_and_meraki),
        cmocka_unit_test(test_headerless),
        cmocka_unit_test(test_year_inference),
        cmocka_unit_test(test_dst_edges),
        cmocka_unit_test(test_iso8601),
        cmocka_unit_test(test_kv_iter),
        cmocka_unit_test(test_json_helpers),
        cmocka_unit_test(test_json_escape_output),
    };
    return cmocka_run_group_tests_name("syslog", tests, setup, teardown);
}
