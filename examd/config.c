/* examd configuration: one table (jk_config) documents every key; see
 * deploy/examd.conf for the commented reference it generates. */
#include <stddef.h>
#include <stdio.h>

#include "examd.h"
#include "jk_config.h"
#include "jk_log.h"
#include "jk_net.h"
#include "jk_text.h"


static const jk_cfg_opt_t s_table[] = {
    { "node.id", JK_CFG_STRING, "examd-1", 0, 0, offsetof(examd_config_t, node_id),
      "this exam node's id on the wire (an id: A-Z a-z 0-9 . _ : -)", NULL },
    { "package", JK_CFG_STRING, NULL, 0, 0, offsetof(examd_config_t, package),
      "the site's sealed paper package (.jkpkg) from `jkadmin papers build`", NULL },
    { "center.key", JK_CFG_STRING, NULL, 0, 0, offsetof(examd_config_t, center_key),
      "the center's signing public key (center-signing.pub), to verify the package", NULL },
    { "release.key", JK_CFG_STRING, NULL, 0, 0, offsetof(examd_config_t, release_key),
      "the package's release key (hex); normally it comes from the center at the start", NULL },
    { "wal.dir", JK_CFG_STRING, "examd-wal", 0, 0, offsetof(examd_config_t, wal_dir),
      "directory of the write-ahead log (on a disk that honours fdatasync)", NULL },
    { "candidate.endpoint", JK_CFG_STRING, "tcp://127.0.0.1:7301", 0, 0,
      offsetof(examd_config_t, candidate_endpoint),
      "where candidate workstations connect (ZeroMQ; requests are authenticated by session tokens)",
      NULL },
    { "staff.endpoint", JK_CFG_STRING, "tcp://127.0.0.1:7302", 0, 0,
      offsetof(examd_config_t, staff_endpoint),
      "where proctor and examiner consoles connect; loopback or ipc:// only", NULL },
    { "broker.endpoint", JK_CFG_STRING, "tcp://127.0.0.1:7101", 0, 0,
      offsetof(examd_config_t, broker_endpoint), "the center broker's frontend", NULL },
    { "security", JK_CFG_ENUM, "curve", 0, 0, offsetof(examd_config_t, security),
      "link security to the broker: curve, or plain (loopback endpoints only)",
      jk_net_security_names },
    { "curve.broker_public", JK_CFG_STRING, NULL, 0, 0, offsetof(examd_config_t, broker_public),
      "the broker's CURVE public key file", NULL },
    { "curve.public", JK_CFG_STRING, NULL, 0, 0, offsetof(examd_config_t, curve_public),
      "this node's CURVE public key file (its name must be on the broker's allow-list)", NULL },
    { "curve.secret", JK_CFG_STRING, NULL, 0, 0, offsetof(examd_config_t, curve_secret),
      "this node's CURVE secret key file (mode 0600)", NULL },
    { "heartbeat", JK_CFG_DURATION, "1s", 100, 60000, offsetof(examd_config_t, heartbeat_ms),
      "heartbeat interval to the broker; 3 missed intervals mark it dead", NULL },
    { "resend.after", JK_CFG_DURATION, "3s", 100, 600000, offsetof(examd_config_t, resend_ms),
      "resend an event the center has not acknowledged after this long", NULL },
    { "window", JK_CFG_INT, "1024", 1, 65535, offsetof(examd_config_t, window),
      "events in flight to the center at most; window / the center's rate bounds the wait "
      "in its queues and must stay well under resend.after", NULL },
    { "batch", JK_CFG_INT, "128", 1, 256, offsetof(examd_config_t, batch),
      "events per message to the broker at most", NULL },
    { "reconcile.delay", JK_CFG_DURATION, "3s", 0, 600000,
      offsetof(examd_config_t, reconcile_delay_ms),
      "after a session ends and all its events are acknowledged, wait this long (more than "
      "Redis's 1 s fsync window) before reconciling with the center", NULL },
    { "tick", JK_CFG_DURATION, "2s", 100, 60000, offsetof(examd_config_t, tick_ms),
      "write the time to the log this often; bounds the downtime that can't be measured after a crash",
      NULL },
    { "clock.scale", JK_CFG_INT, "1", 1, 1000, offsetof(examd_config_t, clock_scale),
      "SIMULATION ONLY: run the exam clock this many times faster than real time", NULL },
    { "clock.origin", JK_CFG_INT, "0", 0, 4102444800000LL, offsetof(examd_config_t, clock_origin_ms),
      "SIMULATION ONLY: the real time (ms since 1970) scaled time starts from; 0 = at start", NULL },
    { "login.attempts", JK_CFG_INT, "5", 1, 100, offsetof(examd_config_t, login_attempts),
      "failed logins before a candidate is locked out (a proctor must help)", NULL },
    { "login.threads", JK_CFG_INT, "2", 1, 16, offsetof(examd_config_t, login_threads),
      "threads that check passwords (PBKDF2, slow on purpose) off the main loop", NULL },
    { "login.queue", JK_CFG_INT, "4096", 1, 1000000, offsetof(examd_config_t, login_queue),
      "logins being checked at most; more are answered \"busy, try again\"", NULL },
    { "stats.interval", JK_CFG_DURATION, "10s", 1000, 3600000, offsetof(examd_config_t, stats_ms),
      "log an examd.stats line this often", NULL },
    { "log.level", JK_CFG_ENUM, "info", 0, 0, offsetof(examd_config_t, log_level),
      "debug, info, warn, error or off", jk_log_level_names },
    { "log.file", JK_CFG_STRING, NULL, 0, 0, offsetof(examd_config_t, log_file),
      "append the log to this file instead of stderr", NULL },
    JK_CFG_END,
};

jk_err_t examd_config_load(examd_config_t *cfg, int argc, char **argv, bool *help, jk_error_t *err)
{
    const char *rest[8];
    size_t nrest = 0;
    jk_err_t rc = jk_config_load(s_table, cfg, "JK_EXAMD_", argc, argv, rest, 8, &nrest, help, err);
    if (rc != JK_OK)
        return rc;
    if (*help) {
        printf("usage: examd [--config FILE] [--key value ...]\n\n");
        jk_config_usage(s_table, "JK_EXAMD_", stdout);
        return JK_OK;
    }
    if (nrest)
        return jk_error_set(err, JK_ERR_CONFIG, "command line: unexpected argument '%s'", rest[0]);
    if (!cfg->package || !*cfg->package)
        return jk_error_set(err, JK_ERR_CONFIG, "package: required (the site's .jkpkg)");
    if (!cfg->center_key || !*cfg->center_key)
        return jk_error_set(err, JK_ERR_CONFIG, "center.key: required (center-signing.pub)");
    if (!jk_id_valid(cfg->node_id, JK_CODEC_ID_MAX))
        return jk_error_set(err, JK_ERR_CONFIG, "node.id: '%s' is not an id", cfg->node_id);
    if (!jk_net_endpoint_is_loopback(cfg->staff_endpoint))
        return jk_error_set(err, JK_ERR_CONFIG,
                            "staff.endpoint: '%s' is not loopback or ipc; consoles must be local",
                            cfg->staff_endpoint);
    return jk_net_client_keys_check(cfg->security, cfg->broker_public, cfg->curve_public,
                                    cfg->curve_secret, err);
}

void examd_config_release(examd_config_t *cfg) { jk_config_release(s_table, cfg); }

void examd_config_reference(FILE *out)
{
    jk_config_write_reference(s_table, "examd.conf: the exam node of one test site", out);
}
