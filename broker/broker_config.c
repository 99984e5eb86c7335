/*
 * broker_config: the broker's configuration table (one row per key: name,
 * type, default, bounds, help). deploy/broker.conf is this table written
 * by `broker reference` (jk_config_write_reference); docs/broker.md lists
 * the keys with their reasons.
 *
 * Defaults are for one machine carrying a province: 100 000 requests may
 * wait (a minute of the end-of-exam submit burst at full load would not
 * fit, which is what RETRY_LATER is for), 256 MiB of envelopes may be held.
 * Endpoints default to every interface because CURVE is the default; with
 * security = plain they must be changed to loopback ones or the broker
 * refuses to start.
 */
#include <stddef.h>

#include "broker.h"
#include "jk_log.h"
#include "jk_net.h"


static const jk_cfg_opt_t s_table[] = {
    { "node.id", JK_CFG_STRING, "broker-1", 0, 0, offsetof(broker_config_t, node_id),
      "node id in envelopes the broker writes (ACK, HEARTBEAT, MONITOR_EVENT); an id", NULL },
    { "frontend", JK_CFG_STRING, "tcp://*:7101", 0, 0, offsetof(broker_config_t, frontend),
      "endpoints (comma-separated) where exam nodes and other clients connect (ROUTER)", NULL },
    { "backend", JK_CFG_STRING, "tcp://*:7102", 0, 0, offsetof(broker_config_t, backend),
      "endpoints (comma-separated) where scorers connect (ROUTER)", NULL },
    { "pub", JK_CFG_STRING, "tcp://*:7103", 0, 0, offsetof(broker_config_t, pub),
      "endpoints (comma-separated) where dashboards subscribe (XPUB)", NULL },
    { "security", JK_CFG_ENUM, "curve", 0, 0, offsetof(broker_config_t, security),
      "curve (encrypted, clients admitted by the allow-list) or plain (loopback endpoints only)",
      jk_net_security_names },
    { "curve.secret", JK_CFG_STRING, NULL, 0, 0, offsetof(broker_config_t, secret_key),
      "the broker's CURVE secret key file (jkadmin keys curve; mode 0600); curve only", NULL },
    { "curve.allow", JK_CFG_STRING, NULL, 0, 0, offsetof(broker_config_t, allow),
      "allow-list of client public keys, '<name> <z85-key>' per line (jkadmin keys allow)",
      NULL },
    { "curve.allow_backend", JK_CFG_STRING, NULL, 0, 0, offsetof(broker_config_t, allow_backend),
      "allow-list of scorer keys for the backend; empty = curve.allow admits on every socket "
      "(then a site's key could also connect as a scorer)",
      NULL },
    { "heartbeat.interval", JK_CFG_DURATION, "1s", 100, 600000,
      offsetof(broker_config_t, heartbeat_ms),
      "how often the broker sends HEARTBEAT to a peer it sent nothing else to", NULL },
    { "heartbeat.liveness", JK_CFG_INT, "3", 2, 100, offsetof(broker_config_t, liveness),
      "a peer silent for this many of its announced intervals is dead", NULL },
    { "queue.max", JK_CFG_INT, "100000", 1, 10000000, offsetof(broker_config_t, queue_max),
      "requests waiting for a scorer; beyond, clients get ACK RETRY_LATER", NULL },
    { "queue.max_bytes", JK_CFG_SIZE, "256MiB", 65536, (int64_t)1 << 40,
      offsetof(broker_config_t, queue_max_bytes),
      "envelope bytes held (waiting and in flight); beyond, clients get ACK RETRY_LATER", NULL },
    { "queue.max_age", JK_CFG_DURATION, "0", 0, 86400000,
      offsetof(broker_config_t, queue_max_age_ms),
      "drop a waiting request older than this (its client resends); 0 = never", NULL },
    { "queue.retry_after", JK_CFG_DURATION, "1s", 1, 600000,
      offsetof(broker_config_t, retry_after_ms),
      "retry_after_ms in the ACK RETRY_LATER of a full queue", NULL },
    { "batch.max", JK_CFG_INT, "256", 1, 256, offsetof(broker_config_t, batch_max),
      "requests per message to a scorer (docs/live-exam.md section 2)", NULL },
    { "scorers.max", JK_CFG_INT, "1024", 1, 65536, offsetof(broker_config_t, scorers_max),
      "scorers tracked at once; more are told DISCONNECT", NULL },
    { "scorers.max_credit", JK_CFG_INT, "65535", 1, 65535,
      offsetof(broker_config_t, scorer_credit_max),
      "bound on a scorer's credit plus its requests in flight", NULL },
    { "clients.max", JK_CFG_INT, "10000", 1, 1000000, offsetof(broker_config_t, clients_max),
      "clients tracked for heartbeats and site routing; more are served untracked", NULL },
    { "hwm", JK_CFG_INT, "100000", 1, 10000000, offsetof(broker_config_t, hwm),
      "ZeroMQ high-water mark (messages) per peer on the frontend and the backend", NULL },
    { "pub.hwm", JK_CFG_INT, "100000", 1, 10000000, offsetof(broker_config_t, pub_hwm),
      "ZeroMQ send high-water mark (messages) per subscriber", NULL },
    { "pub.nodrop", JK_CFG_BOOL, "no", 0, 0, offsetof(broker_config_t, pub_nodrop),
      "no: a slow subscriber loses messages alone (seen as stream_seq gaps); yes: the broker "
      "counts drops, but one full subscriber makes every subscriber miss that message",
      NULL },
    { "pub.results", JK_CFG_BOOL, "yes", 0, 0, offsetof(broker_config_t, pub_results),
      "publish RESULT envelopes of scorers on <exam>/<site>/<room>/result", NULL },
    { "pub.max_topics", JK_CFG_INT, "100000", 16, 10000000,
      offsetof(broker_config_t, pub_topics_max),
      "topic streams numbered at once; the least recently used is evicted beyond", NULL },
    { "release.allow", JK_CFG_STRING, NULL, 0, 0, offsetof(broker_config_t, release_allow),
      "allow-list names (comma-separated) that may send PACKAGE_RELEASE to a site, e.g. the "
      "admin tool's; empty = any admitted client",
      NULL },
    { "log.level", JK_CFG_ENUM, "info", 0, 0, offsetof(broker_config_t, log_level),
      "debug, info, warn, error or off", jk_log_level_names },
    { "log.file", JK_CFG_STRING, NULL, 0, 0, offsetof(broker_config_t, log_file),
      "append log lines to this file; empty = stderr", NULL },
    { "stats.interval", JK_CFG_DURATION, "10s", 0, 3600000,
      offsetof(broker_config_t, metrics_ms),
      "log a broker.stats line this often; 0 = never", NULL },
    JK_CFG_END,
};

const jk_cfg_opt_t *broker_config_table(void)
{
    return s_table;
}
