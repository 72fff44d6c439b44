/* cli_devbroker.c - `hallmonitor devbroker`: an in-process Kafka cluster for development
 * and tests (librdkafka's mock cluster), reachable by any Kafka client on loopback.
 *
 * Prints its bootstrap string as one line on stdout, then runs until SIGINT/SIGTERM.
 * The mock cluster is experimental librdkafka API (rdkafka_mock.h, pinned to the
 * installed 2.0.2): producers (idempotent too), consumer groups with offset commits and
 * metadata work; it keeps everything in memory; replica counts it reports are not real. */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "hm_kafka.h"

static void devbroker_usage(FILE *f) {
    fprintf(f, "usage: hallmonitor devbroker [--brokers N] [--topics T1,T2] [--partitions N]\n"
               "\n"
               "Starts an in-memory Kafka cluster on loopback (librdkafka's mock cluster) for\n"
               "development and tests, prints its bootstrap address (host:port,...) as one line\n"
               "on stdout and runs until SIGINT/SIGTERM. Any Kafka client can use it, e.g.\n"
               "  kcat -b BOOTSTRAP -P -t day < day.log\n"
               "  hallmonitor run --input kafka://BOOTSTRAP/day?group=dev --exit-on-idle 5s\n"
               "\n"
               "  --brokers N        brokers in the cluster (default 1)\n"
               "  --topics T1,T2     topics to create (others are created on first use, with\n"
               "                     4 partitions)\n"
               "  --partitions N     partitions of each --topics topic (default 4)\n"
               "  --help\n"
               "\n"
               "kill -USR1 takes every broker down (a broker outage for tests); the next\n"
               "SIGUSR1 brings them back.\n");
}

int hm_cmd_devbroker(int argc, char **argv) {
    enum { O_BROKERS = 1000, O_TOPICS, O_PARTS, O_HELP };
    static const struct option longopts[] = {
        {"brokers", required_argument, 0, O_BROKERS},
        {"topics", required_argument, 0, O_TOPICS},
        {"partitions", required_argument, 0, O_PARTS},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    int brokers = 1, parts = 4, c;
    const char *topics = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_BROKERS:
            brokers = atoi(optarg);
            if (brokers < 1 || brokers > 16) {
                fprintf(stderr, "hallmonitor devbroker: --brokers %s: expected 1..16\n", optarg);
                return 2;
            }
            break;
        case O_TOPICS:
            topics = optarg;
            break;
        case O_PARTS:
            parts = atoi(optarg);
            if (parts < 1 || parts > 1000) {
                fprintf(stderr, "hallmonitor devbroker: --partitions %s: expected 1..1000\n",
                        optarg);
                return 2;
            }
            break;
        case O_HELP:
            devbroker_usage(stdout);
            return 0;
        default:
            fprintf(stderr, "hallmonitor devbroker: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            devbroker_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hallmonitor devbroker: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    /* librdkafka's threads inherit this mask: the signals are taken by sigwait below */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    hm_kafka_conf_logging(conf); /* hides the host handle's "no bootstrap.servers" warning */
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "hallmonitor devbroker: cannot create the host handle: %s\n", err);
        rd_kafka_conf_destroy(conf);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mc) {
        fprintf(stderr, "hallmonitor devbroker: cannot start the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    int rc = 0;
    if (topics) {
        char *list = hm_xstrdup(topics), *save = NULL;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, t, parts, 1);
            if (e) {
                fprintf(stderr, "hallmonitor devbroker: topic %s: %s\n", t, rd_kafka_err2str(e));
                rc = 1;
            }
        }
        free(list);
    }
    if (rc == 0) {
        printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);
        fprintf(stderr,
                "hallmonitor: info: devbroker: %d broker(s) on loopback%s%s (%d partitions); "
                "SIGINT/SIGTERM stops it, and its data is gone\n",
                brokers, topics ? ", topics " : "", topics ? topics : "", parts);
        /* SIGUSR1 takes every broker down (connections dropped, new ones refused) and
         * the next one brings them back: a broker outage for tests */
        bool down = false;
        for (;;) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) break;
            if (sig != SIGUSR1) break;
            down = !down;
            for (int b = 1; b <= brokers; b++) {
                if (down)
                    rd_kafka_mock_broker_set_down(mc, b);
                else
                    rd_kafka_mock_broker_set_up(mc, b);
            }
            fprintf(stderr, "hallmonitor: info: devbroker: brokers %s (SIGUSR1)\n",
                    down ? "down" : "up again");
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return rc;
}
