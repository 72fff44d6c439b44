/* main.c - the hallmonitor command line (see ../shared CLI contract in docs/cli.md). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "hm.h"

#ifdef HM_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

const char *hm_allocator_name(void) {
#ifdef HM_JEMALLOC
    static char name[64];
    const char *v = NULL;
    size_t sz = sizeof(v);
    if (mallctl("version", &v, &sz, NULL, 0) == 0 && v) {
        snprintf(name, sizeof name, "jemalloc %s", v);
        return name;
    }
    return "jemalloc";
#else
    return "libc malloc (sanitizer build)";
#endif
}

static void usage(FILE *f) {
    fprintf(f,
            "hallmonitor %s - log and event correlation for school-district security teams\n"
            "\n"
            "usage: hallmonitor COMMAND [OPTIONS]\n"
            "\n"
            "commands:\n"
            "  run         read inputs, decode, detect, correlate, write alerts/incidents\n"
            "  rules       check Sigma rules (lint + compile)\n"
            "  incidents   triage incidents in the SQLite store: list, show, ack, resolve,\n"
            "              reopen, note, export (--db PATH)\n"
            "  decoders    list the payload decoders\n"
            "  forward     collector: send raw input records to Kafka (no decoding)\n"
            "  devbroker   in-memory Kafka cluster on loopback for development and tests\n"
            "\n"
            "  hallmonitor --version | --help | COMMAND --help\n",
            HM_VERSION);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("hallmonitor %s (allocator: %s)\n", HM_VERSION, hm_allocator_name());
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "run")) return hm_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "rules")) return hm_cmd_rules(argc - 1, argv + 1);
    if (!strcmp(cmd, "decoders")) return hm_cmd_decoders(argc - 1, argv + 1);
    if (!strcmp(cmd, "incidents")) return hm_cmd_incidents(argc - 1, argv + 1);
    if (!strcmp(cmd, "devbroker")) return hm_cmd_devbroker(argc - 1, argv + 1);
    if (!strcmp(cmd, "forward")) return hm_cmd_forward(argc - 1, argv + 1);
    fprintf(stderr, "hallmonitor: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
