/* scorerd configuration: one table documents every key (deploy/scorerd.conf
 * is generated from it). */
#include <stddef.h>
#include <stdio.h>

#include "jk_config.h"
#include "jk_log.h"
#include "jk_net.h"
#include "jk_text.h"
#include "scorerd.h"

static const char *const s_release[] = { "manual", "immediate", NULL };
static const char *const s_multi[] = { "all-or-nothing", "partial", NULL };

static const jk_cfg_opt_t s_table[] = {
    { "node.id", JK_CFG_STRING, "scorerd-1", 0, 0, offsetof(scorerd_config_t, node_id),
      "this scorer's id (routing id at the broker; unique per scorer)", NULL },
    { "broker.endpoint", JK_CFG_STRING, "tcp://127.0.0.1:7102", 0, 0,
      offsetof(scorerd_config_t, broker_endpoint), "the broker's backend", NULL },
    { "security", JK_CFG_ENUM, "curve", 0, 0, offsetof(scorerd_config_t, security),
      "link security to the broker: curve, or plain (loopback endpoints only)",
      jk_net_security_names },
    { "curve.broker_public", JK_CFG_STRING, NULL, 0, 0, offsetof(scorerd_config_t, broker_public),
      "the broker's CURVE public key file", NULL },
    { "curve.public", JK_CFG_STRING, NULL, 0, 0, offsetof(scorerd_config_t, curve_public),
      "this scorer's CURVE public key file (on the broker's allow-list)", NULL },
    { "curve.secret", JK_CFG_STRING, NULL, 0, 0, offsetof(scorerd_config_t, curve_secret),
      "this scorer's CURVE secret key file (mode 0600)", NULL },
    { "center.dir", JK_CFG_STRING, "center", 0, 0, offsetof(scorerd_config_t, center_dir),
      "the center directory written by `jkadmin papers build` (sitting.json, master.key, keys.json)",
      NULL },
    { "bank", JK_CFG_STRING, NULL, 0, 0, offsetof(scorerd_config_t, bank),
      "the item bank with its keys (a file or a directory of *.json); empty: the source tree's "
      "data/bank", NULL },
    { "redis.host", JK_CFG_STRING, "127.0.0.1", 0, 0, offsetof(scorerd_config_t, redis_host),
      "Redis host (an IP address: names are resolved with a blocking call)", NULL },
    { "redis.port", JK_CFG_INT, "6379", 1, 65535, offsetof(scorerd_config_t, redis_port),
      "Redis port", NULL },
    { "redis.password", JK_CFG_STRING, NULL, 0, 0, offsetof(scorerd_config_t, redis_password),
      "Redis password (AUTH), if any", NULL },
    { "redis.timeout", JK_CFG_DURATION, "5s", 100, 600000,
      offsetof(scorerd_config_t, redis_timeout_ms),
      "a Redis request not answered in this time fails; the connection is dropped and made again",
      NULL },
    { "capacity", JK_CFG_INT, "512", 1, 32767, offsetof(scorerd_config_t, capacity),
      "requests this scorer takes from the broker at once (its credit)", NULL },
    { "heartbeat", JK_CFG_DURATION, "1s", 100, 60000, offsetof(scorerd_config_t, heartbeat_ms),
      "heartbeat interval to the broker; 3 missed intervals mark it dead", NULL },
    { "release.mode", JK_CFG_ENUM, "manual", 0, 0, offsetof(scorerd_config_t, release_mode),
      "manual: packages are released by `jkadmin sitting release`; immediate: an exam node "
      "asking for its release key gets it, with the digest of its package read from "
      "center.dir/../sites (simulations)", s_release },
    { "score.multi", JK_CFG_ENUM, "all-or-nothing", 0, 0, offsetof(scorerd_config_t, multi_rule),
      "多选 scoring: all-or-nothing (错选、多选、少选均不得分) or partial", s_multi },
    { "score.partial_permille", JK_CFG_INT, "500", 0, 1000,
      offsetof(scorerd_config_t, partial_permille),
      "partial credit for a correct subset, in thousandths of the item's points", NULL },
    { "score.arbitration_permille", JK_CFG_INT, "200", 0, 1000,
      offsetof(scorerd_config_t, arbitration_permille),
      "examiners' spread (max - min) above this share of a part's points sends it to arbitration",
      NULL },
    { "stats.interval", JK_CFG_DURATION, "10s", 1000, 3600000, offsetof(scorerd_config_t, stats_ms),
      "log a scorerd.stats line this often", NULL },
    { "log.level", JK_CFG_ENUM, "info", 0, 0, offsetof(scorerd_config_t, log_level),
      "debug, info, warn, error or off", jk_log_level_names },
    { "log.file", JK_CFG_STRING, NULL, 0, 0, offsetof(scorerd_config_t, log_file),
      "append the log to this file instead of stderr", NULL },
    JK_CFG_END,
};

jk_err_t scorerd_config_load(scorerd_config_t *cfg, int argc, char **argv, bool *help,
                             jk_error_t *err)
{
    const char *rest[8];
    size_t nrest = 0;
    jk_err_t rc = jk_config_load(s_table, cfg, "JK_SCORERD_", argc, argv, rest, 8, &nrest, help, err);
    if (rc != JK_OK)
        return rc;
    if (*help) {
        printf("usage: scorerd [--config FILE] [--key value ...]\n\n");
        jk_config_usage(s_table, "JK_SCORERD_", stdout);
        return JK_OK;
    }
    if (nrest)
        return jk_error_set(err, JK_ERR_CONFIG, "command line: unexpected argument '%s'", rest[0]);
    if (!jk_id_valid(cfg->node_id, JK_CODEC_ID_MAX))
        return jk_error_set(err, JK_ERR_CONFIG, "node.id: '%s' is not an id", cfg->node_id);
    return jk_net_client_keys_check(cfg->security, cfg->broker_public, cfg->curve_public,
                                    cfg->curve_secret, err);
}

void scorerd_config_release(scorerd_config_t *cfg) { jk_config_release(s_table, cfg); }

void scorerd_config_reference(FILE *out)
{
    jk_config_write_reference(s_table, "scorerd.conf: a scoring daemon of the center", out);
}
