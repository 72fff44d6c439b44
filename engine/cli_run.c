/* cli_run.c - `hallmonitor run` and `hallmonitor decoders`. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "pipeline.h"
#include "sigma.h"

char *hm_default_data_dir(const char *rel) {
    char buf[PATH_MAX + 64];
    char exe[PATH_MAX - 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(buf, sizeof buf, "%s/../%s", exe, rel);
            if (access(buf, R_OK) == 0) return hm_xstrdup(buf);
        }
    }
    return hm_xstrdup(rel);
}

static void run_usage(FILE *f) {
    fprintf(f,
            "usage: hallmonitor run --input URI... [options]\n"
            "\n"
            "detection:\n"
            "  --rules PATH            Sigma rule file or folder (repeatable)\n"
            "  --skip-bad-rules        load the rules that compile, report the rest\n"
            "  --matcher compiled|reference  reference = the slow plain evaluator (for checks)\n"
            "  --watch                 reload rules when their files change (SIGHUP reloads too)\n"
            "  --placeholders FILE     values for %%name%% placeholders (|expand)\n"
            "  --yara DIR              YARA rules for the |yara modifier (default rules/yara)\n"
            "correlation:\n"
            "  --state memory|redis://[user:pass@]host:port/db   state backend (default memory)\n"
            "  --lateness D            accept out-of-order events up to D (default 60s; 0: none,\n"
            "                          an event not newer than all earlier ones is late)\n"
            "  --instance NAME         this instance's name when sharing Redis (default host:pid)\n"
            "  --state-dir DIR         memory state: save open windows to DIR/correlation.state\n"
            "                          at a clean exit (end of input, SIGTERM, SIGINT) and\n"
            "                          continue them at the next start (same correlation rules)\n"
            "  --max-groups N          memory state: live groups per correlation (default\n"
            "                          1000000); hits for new groups beyond it are dropped,\n"
            "                          counted and logged\n"
            "inputs (repeatable):\n"
            "  --input file:PATH       a file; globs allowed (quote them): file:'/var/log/*.log'\n"
            "  --input -               standard input\n"
            "  --input syslog+udp://HOST:PORT[?rcvbuf=8M]\n"
            "                          syslog listener, one message per datagram\n"
            "  --input syslog+tcp://HOST:PORT[?idle=300s&max_conn=1024]\n"
            "                          syslog listener, LF or octet-counted framing (RFC 6587)\n"
            "  --input syslog+tls://HOST:PORT?cert=PEM&key=PEM[&ca=PEM][&idle=..&max_conn=..]\n"
            "                          syslog over TLS (RFC 5425); ca= requires client certs\n"
            "  --input kafka://BROKER[,BROKER]/TOPIC[,TOPIC]?group=GROUP\n"
            "                          Kafka consumer group member, at least once\n"
            "  -X key=value            librdkafka property for kafka:// inputs and outputs\n"
            "                          (repeatable, like kcat -X)\n"
            "  --follow                keep reading growing files (tail -F, rotation-safe)\n"
            "outputs:\n"
            "  --output URI            jsonl:PATH, a path, or - (stdout, default); repeatable\n"
            "                          kafka://BROKERS/TOPIC: one message per line (acks=all)\n"
            "                          sqlite:PATH: triage store (alerts, incidents upserted)\n"
            "                          redis://[USER:PASS@]HOST:PORT/STREAM[?maxlen=N]: XADD\n"
            "                          webhook:URL[?format=raw|array|slack|teams&secret=S]\n"
            "                          cef+udp://HOST:PORT, cef+tcp://HOST:PORT: CEF over syslog\n"
            "                          (options of each: docs/sinks.md)\n"
            "  --emit WHAT             events|alerts|incidents|all, or a list such as\n"
            "                          alerts,incidents (default: events until rules are given)\n"
            "incidents (with --emit incidents|all; docs/incidents.md):\n"
            "  --assets FILE           criticality inventory (default rules/assets/inventory.yml;\n"
            "                          none = no inventory)\n"
            "  --suppressions FILE     suppressions/allowlist with expiry and reason (default\n"
            "                          rules/assets/suppressions.yml; none = no suppressions)\n"
            "  --incident-window D     max gap between alerts of one incident (default 4h)\n"
            "  --risk-horizon D        entity risk accumulates over D (default 24h)\n"
            "  --dead-letter PATH      JSONL file for records that could not be decoded\n"
            "  --no-raw                leave the raw line out of event output\n"
            "decoding:\n"
            "  --tz Area/City          district time zone for zone-less stamps (default UTC)\n"
            "  --year YYYY             year for syslog stamps without one (default: inferred\n"
            "                          from the clock, the most recent past date)\n"
            "  --mappings DIR          vendor field mappings (default: rules/mappings)\n"
            "  --max-record BYTES      longer records are dead-lettered (default 65536)\n"
            "engine:\n"
            "  --workers N             worker threads (default: number of cores)\n"
            "  --batch N               records per batch (default 1024)\n"
            "  --exit-on-idle D        exit once no input arrived for D (e.g. 5s)\n"
            "  --stats                 print counters as JSON to stderr at exit (and on SIGUSR1)\n"
            "  --help\n");
}

static void on_signal(int sig) {
    if (sig == SIGUSR1)
        hm_engine_request_stats();
    else if (sig == SIGHUP)
        hm_engine_request_reload();
    else
        hm_engine_request_stop();
}

int hm_cmd_run(int argc, char **argv) {
    /* handlers first: a SIGHUP (log rotation) or SIGTERM while the rules compile must not
     * kill the process with the default action; they are acted on once the engine runs */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    hm_engine_cfg cfg;
    hm_engine_cfg_defaults(&cfg);
    const char **inputs = calloc((size_t)argc + 1, sizeof(char *));
    const char **outputs = calloc((size_t)argc + 1, sizeof(char *));
    const char **xprops = calloc((size_t)argc + 1, sizeof(char *)); /* -X key=value */
    size_t ni = 0, no = 0, nx = 0;
    const char *emit = NULL;
    cfg.mappings_dir = NULL;
    enum {
        O_INPUT = 1000,
        O_OUTPUT,
        O_EMIT,
        O_DEAD,
        O_TZ,
        O_YEAR,
        O_MAPPINGS,
        O_WORKERS,
        O_BATCH,
        O_IDLE,
        O_STATS,
        O_FOLLOW,
        O_MAXREC,
        O_NORAW,
        O_HELP,
        O_RULES,
        O_SKIPBAD,
        O_PH,
        O_YARA,
        O_STATE,
        O_LATENESS,
        O_INSTANCE,
        O_MATCHER,
        O_WATCH,
        O_ASSETS,
        O_SUPPS,
        O_IWINDOW,
        O_HORIZON,
        O_STATEDIR,
        O_MAXGROUPS
    };
    static const struct option longopts[] = {
        {"input", required_argument, 0, O_INPUT},
        {"output", required_argument, 0, O_OUTPUT},
        {"emit", required_argument, 0, O_EMIT},
        {"dead-letter", required_argument, 0, O_DEAD},
        {"tz", required_argument, 0, O_TZ},
        {"year", required_argument, 0, O_YEAR},
        {"mappings", required_argument, 0, O_MAPPINGS},
        {"workers", required_argument, 0, O_WORKERS},
        {"batch", required_argument, 0, O_BATCH},
        {"exit-on-idle", required_argument, 0, O_IDLE},
        {"stats", no_argument, 0, O_STATS},
        {"follow", no_argument, 0, O_FOLLOW},
        {"max-record", required_argument, 0, O_MAXREC},
        {"no-raw", no_argument, 0, O_NORAW},
        {"help", no_argument, 0, O_HELP},
        {"rules", required_argument, 0, O_RULES},
        {"skip-bad-rules", no_argument, 0, O_SKIPBAD},
        {"placeholders", required_argument, 0, O_PH},
        {"yara", required_argument, 0, O_YARA},
        {"state", required_argument, 0, O_STATE},
        {"lateness", required_argument, 0, O_LATENESS},
        {"instance", required_argument, 0, O_INSTANCE},
        {"matcher", required_argument, 0, O_MATCHER},
        {"watch", no_argument, 0, O_WATCH},
        {"assets", required_argument, 0, O_ASSETS},
        {"suppressions", required_argument, 0, O_SUPPS},
        {"incident-window", required_argument, 0, O_IWINDOW},
        {"risk-horizon", required_argument, 0, O_HORIZON},
        {"state-dir", required_argument, 0, O_STATEDIR},
        {"max-groups", required_argument, 0, O_MAXGROUPS},
        {0, 0, 0, 0},
    };
    const char **rule_paths = calloc((size_t)argc + 1, sizeof(char *));
    size_t nr = 0;
    hm_rules_opts ropts = {0};
    hm_ruleset *rs = NULL;
    hm_tz rule_tz = {0};
    char *default_mappings = NULL, *default_yara = NULL, *default_assets = NULL,
         *default_supps = NULL, *default_ph = NULL;
    const char *assets = NULL, *supps = NULL;
    int rc = 2, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "X:", longopts, NULL)) != -1) {
        switch (c) {
        case O_INPUT:
            inputs[ni++] = optarg;
            break;
        case O_OUTPUT:
            outputs[no++] = optarg;
            break;
        case 'X':
            xprops[nx++] = optarg;
            break;
        case O_EMIT:
            emit = optarg;
            break;
        case O_DEAD:
            cfg.dead_letter = optarg;
            break;
        case O_TZ:
            cfg.tz_name = optarg;
            break;
        case O_YEAR:
            cfg.fixed_year = atoi(optarg);
            if (cfg.fixed_year < 1970 || cfg.fixed_year > 9999) {
                fprintf(stderr, "hallmonitor run: --year %s: expected a year like 2024\n", optarg);
                goto out;
            }
            break;
        case O_MAPPINGS:
            cfg.mappings_dir = optarg;
            break;
        case O_WORKERS:
            cfg.workers = atoi(optarg);
            if (cfg.workers < 1 || cfg.workers > 256) {
                fprintf(stderr, "hallmonitor run: --workers %s: expected 1..256\n", optarg);
                goto out;
            }
            break;
        case O_BATCH:
            cfg.batch_cap = (uint32_t)atoi(optarg);
            if (cfg.batch_cap < 1 || cfg.batch_cap > 65536) {
                fprintf(stderr, "hallmonitor run: --batch %s: expected 1..65536\n", optarg);
                goto out;
            }
            break;
        case O_IDLE:
            if (!hm_parse_duration_ns(optarg, &cfg.exit_on_idle_ns)) {
                fprintf(stderr, "hallmonitor run: --exit-on-idle %s: expected a duration like 5s\n",
                        optarg);
                goto out;
            }
            break;
        case O_STATS:
            cfg.stats = true;
            break;
        case O_FOLLOW:
            cfg.follow = true;
            break;
        case O_MAXREC: {
            long v = atol(optarg);
            if (v < 64 || v > 16 * 1024 * 1024) {
                fprintf(stderr, "hallmonitor run: --max-record %s: expected 64..16777216\n",
                        optarg);
                goto out;
            }
            cfg.max_record = (size_t)v;
            break;
        }
        case O_NORAW:
            cfg.include_raw = false;
            break;
        case O_RULES:
            rule_paths[nr++] = optarg;
            break;
        case O_SKIPBAD:
            ropts.skip_bad_rules = true;
            break;
        case O_PH:
            ropts.placeholders_file = optarg;
            break;
        case O_YARA:
            ropts.yara_dir = optarg;
            break;
        case O_STATE:
            cfg.corr.state = optarg;
            break;
        case O_INSTANCE:
            cfg.corr.instance = optarg;
            break;
        case O_STATEDIR:
            cfg.corr.state_dir = optarg;
            break;
        case O_MAXGROUPS: {
            char *end = NULL;
            unsigned long long v = strtoull(optarg, &end, 10);
            if (!end || *end || v < 1 || v > 4000000000ULL || optarg[0] == '-') {
                fprintf(stderr, "hallmonitor run: --max-groups %s: expected 1..4000000000\n",
                        optarg);
                goto out;
            }
            cfg.corr.max_groups = v;
            break;
        }
        case O_WATCH:
            cfg.watch_rules = true;
            break;
        case O_ASSETS:
            assets = optarg;
            break;
        case O_SUPPS:
            supps = optarg;
            break;
        case O_IWINDOW:
        case O_HORIZON: {
            int64_t *dst = c == O_IWINDOW ? &cfg.incident.window_ns : &cfg.incident.horizon_ns;
            if (!hm_parse_duration_ns(optarg, dst) || *dst < 1000000000LL) {
                fprintf(stderr,
                        "hallmonitor run: --%s %s: expected a duration of 1s or more, e.g. 1h\n",
                        c == O_IWINDOW ? "incident-window" : "risk-horizon", optarg);
                goto out;
            }
            break;
        }
        case O_MATCHER:
            if (!strcmp(optarg, "reference"))
                cfg.reference_matcher = true;
            else if (strcmp(optarg, "compiled")) {
                fprintf(stderr, "hallmonitor run: --matcher %s: expected compiled or reference\n",
                        optarg);
                goto out;
            }
            break;
        case O_LATENESS:
            if (!hm_parse_duration_ns(optarg, &cfg.corr.lateness_ns) || cfg.corr.lateness_ns < 0) {
                fprintf(stderr, "hallmonitor run: --lateness %s: expected a duration like 60s\n",
                        optarg);
                goto out;
            }
            cfg.corr.lateness_set = true; /* 0 means none, not the default */
            break;
        case O_HELP:
            run_usage(stdout);
            rc = 0;
            goto out;
        default:
            fprintf(stderr, "hallmonitor run: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            run_usage(stderr);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hallmonitor run: unexpected argument '%s'\n", argv[optind]);
        goto out;
    }
    if (!ni) {
        fprintf(stderr, "hallmonitor run: at least one --input is required\n\n");
        run_usage(stderr);
        goto out;
    }
    if (!no) outputs[no++] = "-";
    if (nr) cfg.emit = HM_EMIT_ALERTS; /* with rules, alerts by default */
    if (emit) {                        /* one word or a comma list: alerts,incidents */
        cfg.emit = 0;
        for (const char *w = emit; *w;) {
            size_t l = strcspn(w, ",");
            if (l == 6 && !strncmp(w, "events", l))
                cfg.emit |= HM_EMIT_EVENTS;
            else if (l == 6 && !strncmp(w, "alerts", l))
                cfg.emit |= HM_EMIT_ALERTS;
            else if (l == 9 && !strncmp(w, "incidents", l))
                cfg.emit |= HM_EMIT_INCIDENTS;
            else if (l == 3 && !strncmp(w, "all", l))
                cfg.emit |= HM_EMIT_EVENTS | HM_EMIT_ALERTS | HM_EMIT_INCIDENTS;
            else if (!(l == 4 && !strncmp(w, "none", l))) {
                fprintf(stderr,
                        "hallmonitor run: --emit %s: expected events|alerts|incidents|all or a "
                        "comma list\n",
                        emit);
                goto out;
            }
            w += l;
            if (*w == ',') w++;
        }
    }
    /* incident data files: explicit ones must exist; defaults are used when present */
    if (assets && !strcmp(assets, "none"))
        assets = NULL;
    else if (!assets) {
        default_assets = hm_default_data_dir("rules/assets/inventory.yml");
        if (access(default_assets, R_OK) == 0) assets = default_assets;
    }
    if (supps && !strcmp(supps, "none"))
        supps = NULL;
    else if (!supps) {
        default_supps = hm_default_data_dir("rules/assets/suppressions.yml");
        if (access(default_supps, R_OK) == 0) supps = default_supps;
    }
    cfg.incident.assets_file = assets;
    cfg.incident.suppressions_file = supps;
    if (!cfg.mappings_dir)
        cfg.mappings_dir = default_mappings = hm_default_data_dir("rules/mappings");
    cfg.inputs = inputs;
    cfg.n_inputs = ni;
    cfg.outputs = outputs;
    cfg.n_outputs = no;
    cfg.kafka_props = xprops;
    cfg.n_kafka_props = nx;

    if (nr) {
        if (hm_tz_load(&rule_tz, cfg.tz_name, 2000, 2100) != HM_OK) {
            fprintf(stderr, "hallmonitor run: --tz %s: unknown time zone\n", cfg.tz_name);
            goto out;
        }
        ropts.tz = &rule_tz;
        if (!ropts.placeholders_file) /* a pack's district.yml carries its parameters */
            ropts.placeholders_file = default_ph = hm_rules_default_placeholders(rule_paths, nr);
        if (!ropts.yara_dir) {
            default_yara = hm_default_data_dir("rules/yara");
            if (access(default_yara, R_OK) == 0) ropts.yara_dir = default_yara;
        }
        hm_diags d = {0};
        rs = hm_ruleset_load(rule_paths, nr, &ropts, &d);
        if (d.n) hm_diags_print_text(&d, stderr);
        if (!rs) {
            fprintf(stderr,
                    "hallmonitor run: %zu rule error(s); not starting (fix them, or pass "
                    "--skip-bad-rules to load the rest)\n",
                    d.errors);
            hm_diags_free(&d);
            goto out;
        }
        if (d.errors)
            fprintf(stderr, "hallmonitor run: skipped rules with %zu error(s) (listed above)\n",
                    d.errors);
        hm_diags_free(&d);
        cfg.rules = rs;
        cfg.rule_paths = rule_paths;
        cfg.n_rule_paths = nr;
        cfg.rules_opts = ropts;
    }
    char err[1024] = "";
    hm_engine *e = hm_engine_new(&cfg, err, sizeof err);
    if (!e) {
        fprintf(stderr, "hallmonitor run: %s\n", err);
        goto out;
    }
    rs = NULL; /* the engine owns the rule set now (hot reload replaces it) */
    int r = hm_engine_run(e);
    hm_engine_free(e);
    rc = r == HM_OK ? 0 : 1;
out:
    hm_ruleset_free(rs);
    hm_tz_free(&rule_tz);
    free(default_mappings);
    free(default_yara);
    free(default_assets);
    free(default_supps);
    free(default_ph);
    free(rule_paths);
    free(inputs);
    free(outputs);
    free(xprops);
    return rc;
}

int hm_cmd_decoders(int argc, char **argv) {
    HM_UNUSED(argc);
    HM_UNUSED(argv);
    for (size_t i = 0; i < hm_decoders_count; i++)
        printf("%-12s %s\n", hm_decoders[i]->name, hm_decoders[i]->description);
    return 0;
}
