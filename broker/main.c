/*
 * broker main: configuration, logging, new, run, destroy. Nothing else.
 *
 *   broker [--config FILE] [--key=value ...]   run
 *   broker reference                            print the commented reference
 *                                               configuration (deploy/broker.conf)
 *   broker --help
 *
 * SIGINT and SIGTERM stop the loop; the broker then says DISCONNECT to its
 * peers and exits 0. Exit codes: 0 stopped, 1 bad configuration, 3 failure.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "jk_log.h"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

int main(int argc, char **argv)
{
    const jk_cfg_opt_t *table = broker_config_table();
    broker_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *rest[8];
    size_t n_rest = 0;
    bool help = false;
    jk_error_t err;
    int rc = 0;

    jk_log_init("broker", JK_LOG_INFO, NULL);
    if (jk_config_load(table, &cfg, BROKER_ENV_PREFIX, argc, argv, rest, 8, &n_rest, &help,
                       &err) != JK_OK) {
        fprintf(stderr, "broker: %s\n", err.msg);
        jk_config_release(table, &cfg);
        return 1;
    }
    if (help) {
        printf("usage: broker [--config FILE] [--key=value ...] | broker reference\n\n");
        jk_config_usage(table, BROKER_ENV_PREFIX, stdout);
        jk_config_release(table, &cfg);
        return 0;
    }
    if (n_rest == 1 && strcmp(rest[0], "reference") == 0) {
        jk_config_write_reference(
            table, "jikao broker configuration (docs/broker.md); written by `broker reference`",
            stdout);
        jk_config_release(table, &cfg);
        return 0;
    }
    if (n_rest > 0) {
        fprintf(stderr, "broker: unexpected argument '%s' (try --help)\n", rest[0]);
        jk_config_release(table, &cfg);
        return 1;
    }
    if (jk_log_daemon_start((jk_log_level_t)cfg.log_level, cfg.log_file, s_on_signal) != 0) {
        jk_config_release(table, &cfg);
        return 1;
    }

    broker_t *b = broker_new(&cfg, NULL, &err);
    if (!b) {
        JK_ERROR("broker.start_failed", "reason=\"%s\"", err.msg);
        fprintf(stderr, "broker: %s\n", err.msg);
        rc = err.code == JK_ERR_CONFIG || err.code == JK_ERR_PARSE ? 1 : 3;
    } else {
        rc = broker_run(b, &s_stop) == JK_OK ? 0 : 3;
        broker_destroy(&b);
    }
    jk_config_release(table, &cfg);
    return rc;
}
