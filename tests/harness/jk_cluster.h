/*
 * jk_cluster: a whole small sitting on this machine, for integration
 * stories and benchmarks: a sitting built with the real jkadmin (a test plan
 * of level-5 sessions over one or more sites, candidates taken from the
 * sample file), CURVE keys for every process, a private redis-server, the
 * broker, N scorers and one examd per site, the packages released through
 * the broker — and the checks the stories share:
 *
 *   - every answer acknowledged to the load generator is in Redis (its seq
 *     stored once with its event, and per item the stored answer is the
 *     highest acknowledged one or a later one);
 *   - nothing applied twice: every session's stored seqs are exactly
 *     1..last_seq;
 *   - every session's stored result equals the library's scoring of the
 *     session's events replayed from its examd's write-ahead log.
 *
 * Processes are the real binaries of the build (JK_BUILD_DIR), started
 * through jk_harness, so a story can kill -9 and restart any of them
 * between or during loads.
 */
#ifndef JK_CLUSTER_H
#define JK_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "jk_harness.h"

#define JK_CLUSTER_MAX_SITES 4
#define JK_CLUSTER_MAX_SCORERS 8

typedef struct {
    int sites;            /* 1..JK_CLUSTER_MAX_SITES */
    int scorers;          /* 1..JK_CLUSTER_MAX_SCORERS */
    int candidates;       /* level-5 candidates per site: up to 30 from the sample
                             file, more (up to 5000) are generated */
    int kdf_iterations;   /* PBKDF2 rounds of the credentials; 0 = default */
    int clock_scale;      /* exam clock speed-up (90 min / scale) */
    bool curve;           /* CURVE on every link (else plain, loopback) */
    bool aof;             /* Redis append-only file */
    const char *log_level;/* daemons' log level; NULL = info */
    const char *const *examd_args; /* more examd options (NULL-terminated, at most 8), or NULL */
    bool release_by_scorer; /* scorers release on request (release.mode immediate), not jkadmin */
} jk_cluster_opts_t;

void jk_cluster_opts_default(jk_cluster_opts_t *o);

typedef struct jk_cluster jk_cluster_t;

/* Builds the sitting, starts everything, releases the packages and waits
 * until every examd has opened its package. NULL (with the reason on
 * stderr) on failure. Owned by the caller; jk_cluster_free stops it all. */
jk_cluster_t *jk_cluster_new(const jk_cluster_opts_t *o);
void jk_cluster_free(jk_cluster_t **c);

const char *jk_cluster_dir(const jk_cluster_t *c);        /* working directory */
const char *jk_cluster_center(const jk_cluster_t *c);     /* center/ of the sitting */
jk_redis_t *jk_cluster_redis(jk_cluster_t *c);
int jk_cluster_sites(const jk_cluster_t *c);
const char *jk_cluster_site_id(const jk_cluster_t *c, int site);
const char *jk_cluster_candidate_endpoint(const jk_cluster_t *c, int site);
const char *jk_cluster_staff_endpoint(const jk_cluster_t *c, int site);
const char *jk_cluster_broker_frontend(const jk_cluster_t *c);
const char *jk_cluster_broker_pub(const jk_cluster_t *c);

/* Processes: kill with a signal (SIGKILL for crash tests), start again with
 * the same configuration (same ports, same WAL directory). */
jk_child_t *jk_cluster_scorer(jk_cluster_t *c, int i);
bool jk_cluster_kill_scorer(jk_cluster_t *c, int i, int sig);
bool jk_cluster_start_scorer(jk_cluster_t *c, int i);
jk_child_t *jk_cluster_broker(jk_cluster_t *c);
bool jk_cluster_kill_broker(jk_cluster_t *c, int sig);
bool jk_cluster_start_broker(jk_cluster_t *c);
jk_child_t *jk_cluster_examd(jk_cluster_t *c, int site);
bool jk_cluster_kill_examd(jk_cluster_t *c, int site, int sig);
bool jk_cluster_start_examd(jk_cluster_t *c, int site);

/* Sends one staff command to a site's examd and copies the reply (NUL-
 * terminated) into buf. False on timeout. */
bool jk_cluster_staff(jk_cluster_t *c, int site, const char *cmd, char *buf, size_t size);

/* A numeric field "name=value" of a site's `status` reply; -1 if absent. */
long jk_cluster_status(jk_cluster_t *c, int site, const char *field);

/* Starts jkload against every site for the given sessions (comma list),
 * writing acknowledged answers to <dir>/acked-<tag>.tsv. extra: more
 * arguments (NULL-terminated) or NULL. Returns the child. */
jk_child_t *jk_cluster_load(jk_cluster_t *c, const char *tag, const char *sessions, double rate,
                            const char *const *extra);

/* Waits until every examd has no event outbox and has reconciled every
 * ended session, and no session is still running. */
bool jk_cluster_wait_settled(jk_cluster_t *c, int timeout_ms);

/* The checks described above. Each returns true, or false with the first
 * failures printed to stderr. `tags`: the jk_cluster_load tags to read. */
bool jk_cluster_check_acked(jk_cluster_t *c, const char *const *tags, size_t n_tags,
                            size_t *answers_checked);
bool jk_cluster_check_dense(jk_cluster_t *c, size_t *sessions_checked);
/* Stops every examd first (SIGTERM) so its log is complete and unlocked. */
bool jk_cluster_check_scores(jk_cluster_t *c, size_t *sessions_checked);

/* Stops every daemon (SIGTERM, so sanitizers write their exit reports) and
 * scans every log for sanitizer reports (AddressSanitizer, LeakSanitizer,
 * UBSan "runtime error"); true when there are none (reports are printed). */
bool jk_cluster_logs_clean(jk_cluster_t *c);

/* Sums "name=value" over the daemons' logs' latest stats lines
 * ("scorerd.stats" lines of all scorers, for instance). */
long jk_cluster_log_stat(jk_cluster_t *c, const char *proc, const char *event, const char *name);
/* The latest value of a field of one daemon's stats line; -1 without log. */
long jk_cluster_scorer_stat(jk_cluster_t *c, int i, const char *name);
long jk_cluster_examd_stat(jk_cluster_t *c, int site, const char *name);
long jk_cluster_broker_stat(jk_cluster_t *c, const char *name);

#endif
