/*
 * jk_harness: what an integration story needs to run real processes.
 *
 * Design note. Integration stories (tests/integration/test_<story>.c) start
 * the real daemons and a real redis-server on free loopback ports, crash
 * them, restart them and wait for conditions. This harness is the one place
 * that knows how to do that safely:
 *
 *   - ports: jk_harness_free_port() asks the kernel for a free loopback port
 *     (bind port 0, read it back, close). There is a window in which another
 *     process could take it; on a test machine that is rare and shows up as
 *     a clear "address in use" in the child's log, never as a hang.
 *   - files: temporary directories under $TMPDIR (or /tmp), one per call,
 *     removed recursively when the test process exits. Set JK_HARNESS_KEEP=1
 *     in the environment to keep them (their paths are printed at exit).
 *   - children: jk_harness_spawn() forks and execs a program in its own
 *     process group, with stdin from /dev/null and stdout+stderr appended to
 *     a log file. Every child is in a registry: at exit (atexit, and on
 *     SIGINT/SIGTERM/SIGHUP/SIGQUIT) each one still running has its whole
 *     process group killed with SIGKILL and is reaped, so a failed assertion
 *     (cmocka longjmps out of the test, then the runner exits) never leaves a
 *     daemon behind. As a last guard against the test process dying in a way
 *     that runs no handler at all (SIGKILL from a ctest timeout), each child
 *     also has PR_SET_PDEATHSIG = SIGKILL (Linux), set before exec.
 *   - waiting: jk_harness_wait_for() polls a predicate with short sleeps and
 *     returns false on timeout, so a story fails with its own message instead
 *     of hanging. Stories never sleep for a fixed time to "let things
 *     settle": they wait for the condition they need.
 *   - Redis: jk_harness_redis_start() runs a private redis-server (PATH, then
 *     /usr/bin; JK_REDIS_SERVER overrides) on 127.0.0.1 with RDB snapshots
 *     off, AOF on or off, everysec fsync, and waits until PING answers PONG
 *     (not LOADING). stop (SIGTERM), kill (SIGKILL), pause (SIGSTOP), resume
 *     (SIGCONT) and restart keep the same directory and port, so an AOF
 *     restart can be tested. jk_harness_redis_cmd() is a synchronous one-shot
 *     command for assertions (it connects each time, so it works across
 *     restarts, and has a timeout, so a paused server cannot hang a test).
 *
 * Ownership: every object the harness returns (children, Redis servers,
 * directories, strings from jk_harness_strf) is owned by the harness and
 * released at exit; the *_free functions release early. The harness is for
 * single-threaded test processes; it is not thread-safe. It never calls
 * cmocka itself, so it can serve any test runner; JK_HARNESS_WAIT() is a
 * convenience for cmocka stories.
 *
 * Rejected: a shell script around each story (crashes and restarts are part
 * of the story, so the story must drive them); fixed ports (parallel builds
 * and leftover servers would collide); sleeping instead of waiting (slow and
 * still flaky).
 */
#ifndef JK_HARNESS_H
#define JK_HARNESS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

/* The programs under test, as built (JK_BUILD_DIR comes from CMake). */
#define JK_HARNESS_BROKER_BIN JK_BUILD_DIR "/broker/broker"
#define JK_HARNESS_EXAMD_BIN JK_BUILD_DIR "/examd/examd"
#define JK_HARNESS_SCORERD_BIN JK_BUILD_DIR "/scorerd/scorerd"
#define JK_HARNESS_JKADMIN_BIN JK_BUILD_DIR "/clients/admin/jkadmin"

/* Most children a test process may have registered at once. */
#define JK_HARNESS_CHILDREN_MAX 64
/* How long to wait for a redis-server to answer PING after start (it may
 * have a large AOF to load on a slow machine). */
#define JK_HARNESS_REDIS_START_TIMEOUT_MS 30000
/* How long stop (SIGTERM) waits before it gives up. */
#define JK_HARNESS_STOP_TIMEOUT_MS 15000
/* Connect and per-command timeout of the synchronous Redis helper. */
#define JK_HARNESS_REDIS_CMD_TIMEOUT_MS 5000

/* ---- set-up ------------------------------------------------------------ */

/* Registers the exit handler and signal handlers, and ignores SIGPIPE in
 * the test process (as the daemons do: writing to a killed peer must be an
 * EPIPE, not the test's death). Idempotent; every other function calls it,
 * so stories need not. */
void jk_harness_init(void);

/* Kills (SIGKILL, whole process group) and reaps every registered child,
 * frees every harness object and removes the temporary directories (unless
 * JK_HARNESS_KEEP=1). Runs at exit; safe to call more than once. */
void jk_harness_cleanup(void);

/* A string formatted like printf, owned by the harness (freed at exit).
 * Returns NULL only when out of memory. For paths: strf("%s/x.log", dir). */
const char *jk_harness_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- ports and directories -------------------------------------------- */

/* A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it
 * back, close). Returns the port, or 0 (with a message on stderr) if the
 * kernel refused. */
int jk_harness_free_port(void);

/* Creates a new directory $TMPDIR/jk-<label>-XXXXXX (label: [A-Za-z0-9_-],
 * NULL for "test") and registers it for recursive removal at exit. Returns
 * the path (owned by the harness) or NULL with a message on stderr. */
const char *jk_harness_tempdir(const char *label);

/* Removes path and everything under it (does not follow symlinks). Returns
 * true if it is gone afterwards (also when it did not exist). */
bool jk_harness_rmtree(const char *path);

/* ---- children ----------------------------------------------------------- */

typedef struct jk_child jk_child_t;

/* Starts argv[0] (searched in PATH when it has no '/') with arguments argv
 * (NULL-terminated) in a new process group. env: NULL to inherit the
 * environment, or NULL-terminated "NAME=value" entries that override or add
 * to it. log_path: file that receives stdout and stderr (appended, created
 * 0644); NULL for "<default tempdir>/<program>-<n>.log". Returns the child
 * (owned by the harness) or NULL, with the reason on stderr, if the log
 * could not be opened or exec failed (exec errors are reported back from
 * the child through a close-on-exec pipe, so NULL means it never ran). */
jk_child_t *jk_harness_spawn(const char *const argv[], const char *const env[],
                             const char *log_path);

/* Sends sig to the child's process group (SIGKILL for crash tests, SIGTERM
 * for a clean stop, SIGSTOP/SIGCONT to freeze). Returns true if sent, false
 * if the child has already been reaped (nothing to signal). Does not wait. */
bool jk_harness_kill(jk_child_t *c, int sig);

/* Waits up to timeout_ms for the child to exit and reaps it. True if it has
 * exited (now or before); false on timeout (the child is left running). */
bool jk_harness_wait_exit(jk_child_t *c, int timeout_ms);

/* Whether the child is still running (reaps it if it has exited). */
bool jk_harness_running(jk_child_t *c);

/* The raw wait status (see WIFEXITED...) once reaped; -1 while running. */
int jk_harness_exit_status(const jk_child_t *c);

/* True if the child exited normally with code `code`. */
bool jk_harness_exited_with(const jk_child_t *c, int code);

pid_t jk_harness_pid(const jk_child_t *c);
const char *jk_harness_log_path(const jk_child_t *c);

/* Copies the last max_bytes of the child's log to stderr, framed with its
 * name, for a story that is about to fail. */
void jk_harness_print_log(const jk_child_t *c, size_t max_bytes);

/* Whether the child's log contains needle (reads at most the last 1 MiB). */
bool jk_harness_log_contains(const jk_child_t *c, const char *needle);

/* Kills the child's process group (SIGKILL) if it is still running, reaps
 * it, unregisters and frees it; sets *c to NULL. Accepts NULL. */
void jk_harness_child_free(jk_child_t **c);

/* ---- waiting ------------------------------------------------------------ */

typedef bool (*jk_harness_pred_fn)(void *ud);

/* Calls pred(ud) until it returns true or timeout_ms (monotonic) passes,
 * sleeping 1 ms between calls at first and up to 20 ms later. Returns true
 * as soon as pred does; false on timeout (pred is called once more at the
 * deadline). */
bool jk_harness_wait_for(jk_harness_pred_fn pred, void *ud, int timeout_ms);

/* For cmocka stories: fails the test with a message naming what was
 * awaited. Needs <cmocka.h> included before use. */
#define JK_HARNESS_WAIT(pred, ud, timeout_ms, what)                                 \
    do {                                                                            \
        if (!jk_harness_wait_for((pred), (ud), (timeout_ms)))                       \
            fail_msg("timed out after %d ms waiting for %s", (int)(timeout_ms), (what)); \
    } while (0)

/* ---- Redis ---------------------------------------------------------------- */

typedef struct jk_redis jk_redis_t;

/* Starts a private redis-server:
 *   --port P --bind 127.0.0.1 --save "" --appendonly yes|no
 *   --appendfsync everysec --dir DIR --daemonize no
 * dir: NULL for a new temporary directory; port: 0 for a free port. Its log
 * is DIR/redis.log (appended across restarts). Waits until PING answers
 * PONG. Returns the server (owned by the harness) or NULL, with the reason
 * and the log's tail on stderr. */
jk_redis_t *jk_harness_redis_start(const char *dir, int port, bool aof);

/* Clean stop: SIGTERM (Redis flushes the AOF and exits), then waits. True
 * if it exited. A paused server is resumed first. */
bool jk_harness_redis_stop(jk_redis_t *r);

/* Crash: SIGKILL, then reaps. True if it is gone. */
bool jk_harness_redis_kill(jk_redis_t *r);

/* Starts the server again (after stop or kill; kills it first if still
 * running) with the same directory, port and AOF setting, and waits for
 * PING. True when it answers. */
bool jk_harness_redis_restart(jk_redis_t *r);

/* Freezes (SIGSTOP) / thaws (SIGCONT) the server: connections stay open and
 * nothing is answered, which is how a hung Redis looks to a client. */
bool jk_harness_redis_pause(jk_redis_t *r);
bool jk_harness_redis_resume(jk_redis_t *r);

int jk_harness_redis_port(const jk_redis_t *r);
const char *jk_harness_redis_dir(const jk_redis_t *r);
/* The running server process, NULL after stop/kill. It stays the
 * server's: signal it or read its log, but never jk_harness_child_free it. */
jk_child_t *jk_harness_redis_child(const jk_redis_t *r);

/* A synchronous connection with JK_HARNESS_REDIS_CMD_TIMEOUT_MS for connect
 * and commands. The caller frees it with redisFree(). NULL on failure. */
redisContext *jk_harness_redis_connect(const jk_redis_t *r);

/* One command on a fresh connection (formatted as redisCommand: %s, %b for
 * binary). Returns the reply, the caller's to freeReplyObject(), or NULL if
 * the server could not be reached or did not answer in time. An error reply
 * is returned as a REDIS_REPLY_ERROR reply, not NULL. */
redisReply *jk_harness_redis_cmd(const jk_redis_t *r, const char *fmt, ...);

/* Kills the server if running, unregisters and frees it; *r = NULL. The
 * directory stays (it is removed at exit if the harness made it). */
void jk_harness_redis_free(jk_redis_t **r);

#endif
