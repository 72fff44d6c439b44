/* cli_rules.c - `hallmonitor rules check|test|explain`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "sigma.h"

/* cli_rules_test.c: argv[0] is the subcommand ("test" / "explain") */
int hm_cmd_rules_test(int argc, char **argv);
int hm_cmd_rules_explain(int argc, char **argv);

static void rules_usage(FILE *f) {
    fprintf(f,
            "usage: hallmonitor rules check PATH... [--format text|json] [--placeholders FILE]\n"
            "                                [--yara DIR] [--include-unsupported]\n"
            "       hallmonitor rules test PATH... [--format text|json] [--year Y] [--tz TZ]\n"
            "                                [--require-tests] [--case TEXT] [--rules PATH]\n"
            "       hallmonitor rules explain RULE (--event JSON | --line RAW) [--rules PATH]\n"
            "\n"
            "  check   lint and compile Sigma rules; every problem is reported as\n"
            "          file:line:column with what is wrong. Exit 0 clean (warnings allowed),\n"
            "          1 errors found, 2 usage error.\n"
            "  test    run the test cases beside the rules (<rule>.test.yml or tests/<rule>.yml,\n"
            "          docs/rule-testing.md); ok/FAIL per case with a diff, then\n"
            "          'rules test: N passed, N failed'. Exit 0 passed, 1 failed, 2 usage or\n"
            "          rule load error.\n"
            "  explain show why RULE does or does not match one event: every search identifier,\n"
            "          per item the value seen against the modifier and value, the condition.\n"
            "          Exit 0 match, 1 no match, 2 usage error.\n"
            "\n"
            "  hallmonitor rules SUBCOMMAND --help for the options of each.\n");
}

int hm_cmd_rules(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        rules_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "test")) return hm_cmd_rules_test(argc - 1, argv + 1);
    if (!strcmp(sub, "explain")) return hm_cmd_rules_explain(argc - 1, argv + 1);
    if (strcmp(sub, "check") != 0) {
        fprintf(stderr, "hallmonitor rules: unknown subcommand '%s'\n", sub);
        rules_usage(stderr);
        return 2;
    }
    const char *format = "text";
    hm_rules_opts opts = {0};
    enum { O_FORMAT = 1000, O_PH, O_YARA, O_UNSUP, O_HELP };
    static const struct option longopts[] = {
        {"format", required_argument, 0, O_FORMAT},
        {"placeholders", required_argument, 0, O_PH},
        {"yara", required_argument, 0, O_YARA},
        {"include-unsupported", no_argument, 0, O_UNSUP},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_FORMAT:
            format = optarg;
            break;
        case O_PH:
            opts.placeholders_file = optarg;
            break;
        case O_YARA:
            opts.yara_dir = optarg;
            break;
        case O_UNSUP:
            opts.include_unsupported = true;
            break;
        case O_HELP:
            rules_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "hallmonitor rules check: unknown option '%s'\n", argv[optind]);
            return 2;
        }
    }
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "hallmonitor rules check: --format %s: expected text or json\n", format);
        return 2;
    }
    int npaths = argc - 1 - optind;
    if (npaths <= 0) {
        fprintf(stderr, "hallmonitor rules check: name at least one rule file or folder\n");
        return 2;
    }
    char *def_yara = NULL;
    if (!opts.yara_dir) {
        def_yara = hm_default_data_dir("rules/yara");
        FILE *probe = fopen(def_yara, "r");
        if (probe) {
            fclose(probe);
            opts.yara_dir = def_yara;
        }
    }
    opts.skip_bad_rules = true; /* report everything, not just the first bad rule */
    char *def_ph = NULL;
    if (!opts.placeholders_file)
        opts.placeholders_file = def_ph =
            hm_rules_default_placeholders((const char *const *)(argv + 1 + optind), (size_t)npaths);
    hm_diags d = {0};
    hm_ruleset *rs =
        hm_ruleset_load((const char *const *)(argv + 1 + optind), (size_t)npaths, &opts, &d);
    if (!strcmp(format, "json")) {
        hm_diags_print_json(&d, stdout);
    } else {
        hm_diags_print_text(&d, stdout);
        hm_ruleset_info info = {0};
        if (rs) hm_ruleset_get_info(rs, &info);
        printf("%zu rules compiled (%zu correlation, %zu filters), %zu errors, %zu warnings; "
               "%zu predicates, %zu pattern databases and %zu value lists (%.1f MiB), compiled in "
               "%.2f s\n",
               info.detection_rules, info.correlation_rules, info.filters, d.errors, d.warnings,
               info.predicates, info.databases, info.list_databases,
               (double)info.db_bytes / (1024.0 * 1024.0), info.compile_s);
    }
    int rc = d.errors ? 1 : 0;
    hm_diags_free(&d);
    hm_ruleset_free(rs);
    free(def_yara);
    free(def_ph);
    return rc;
}
