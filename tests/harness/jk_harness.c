/*
 * jk_harness.c: processes, ports, directories and a private redis-server for
 * the integration stories. See jk_harness.h for the contract.
 *
 * Design note. All state is a few static registries (children, Redis
 * servers, directories, strings) because a test process is single-threaded
 * and its clean-up must run from atexit and from signal handlers, which take
 * no arguments. The signal handler touches only s_child_pgid[], an array of
 * plain integers, and calls only kill(), signal() and raise(), which are
 * async-signal-safe.
 *
 * A child's process group id equals its pid (setpgid in both parent and
 * child, so there is no window). The harness signals the group only while
 * the leader is not yet reaped: a zombie leader keeps its pid and group id
 * reserved, so the signal cannot reach an unrelated process that reused the
 * number. When the leader is found to have exited (waitid WNOWAIT), whatever
 * is left of its group is killed and only then is the leader reaped.
 */
#include "jk_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jk_clock.h"

extern char **environ;

/* Sleeps of wait_for and wait_exit: short at first so fast conditions are
 * seen quickly, longer later so a long wait does not spin. */
#define S_POLL_FIRST_MS 1
#define S_POLL_MAX_MS 20
/* Deepest directory tree rmtree descends (ours are two or three deep). */
#define S_RMTREE_DEPTH_MAX 32
/* Most bytes of a log jk_harness_log_contains() reads (its tail). */
#define S_LOG_SCAN_MAX_BYTES (1u << 20)
/* Most Redis servers one test process may have at once. */
#define S_REDIS_MAX 16

struct jk_child {
    pid_t pid;       /* also the process group id */
    bool reaped;     /* waitpid done; pid no longer ours */
    int status;      /* wait status once reaped */
    char *name;      /* basename of argv[0], for messages */
    char *log_path;  /* stdout+stderr of the child */
    int slot;        /* index in s_children */
};

struct jk_redis {
    char *dir;          /* --dir: AOF lives here across restarts */
    int port;
    bool aof;
    bool paused;        /* SIGSTOP sent, no SIGCONT yet */
    char *log_path;     /* dir/redis.log */
    jk_child_t *child;  /* NULL when not running */
};

static bool s_inited;
static bool s_cleaning;
static jk_child_t *s_children[JK_HARNESS_CHILDREN_MAX];
/* Group ids of live children, for the signal handler (0 = free slot). */
static volatile pid_t s_child_pgid[JK_HARNESS_CHILDREN_MAX];
static jk_redis_t *s_redis[S_REDIS_MAX];
static char **s_dirs;       /* temp dirs to remove at exit */
static size_t s_ndirs;
static char **s_strings;    /* strings from jk_harness_strf */
static size_t s_nstrings;
static const char *s_default_dir; /* logs of children spawned without a path */
static unsigned s_spawn_count;

/* ---------------------------------------------------------------------- */
/* Small helpers.                                                           */

static int64_t s_now_ms(void)
{
    return jk_clock_mono_ms(jk_clock_system());
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static char *s_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* Appends p to a growable array of pointers; false when out of memory. */
static bool s_push(char ***arr, size_t *n, char *p)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!grown)
        return false;
    grown[(*n)++] = p;
    *arr = grown;
    return true;
}

static void s_on_signal(int sig)
{
    for (size_t i = 0; i < JK_HARNESS_CHILDREN_MAX; i++) {
        pid_t g = s_child_pgid[i];
        if (g > 0)
            kill(-g, SIGKILL);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void s_atexit(void)
{
    jk_harness_cleanup();
}

void jk_harness_init(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    if (s_inited)
        return;
    s_inited = true;
    atexit(s_atexit);
    /* A story writes to sockets of processes it has just killed (hiredis
     * uses write(2)); that must be EPIPE, not the death of the test, as in
     * the daemons, which ignore SIGPIPE too. Children get the default back. */
    struct sigaction pipe_old;
    if (sigaction(SIGPIPE, NULL, &pipe_old) == 0 && pipe_old.sa_handler == SIG_DFL)
        signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* Leave alone a handler the test process installed itself. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = s_on_signal;
            sigemptyset(&sa.sa_mask);
            sigaction(sigs[i], &sa, NULL);
        }
    }
}

const char *jk_harness_strf(const char *fmt, ...)
{
    va_list ap;
    jk_harness_init();
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (!s_push(&s_strings, &s_nstrings, p)) {
        free(p);
        return NULL;
    }
    return p;
}

/* ---------------------------------------------------------------------- */
/* Ports and directories.                                                   */

int jk_harness_free_port(void)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int port = 0;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        fprintf(stderr, "jk_harness: socket: %s\n", strerror(errno));
        return 0;
    }
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "jk_harness: bind 127.0.0.1:0: %s\n", strerror(errno));
        goto cleanup;
    }
    if (getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        fprintf(stderr, "jk_harness: getsockname: %s\n", strerror(errno));
        goto cleanup;
    }
    port = ntohs(a.sin_port);
cleanup:
    close(fd);
    return port;
}

static bool s_label_ok(const char *s)
{
    if (!*s || strlen(s) > 32)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

const char *jk_harness_tempdir(const char *label)
{
    const char *base = getenv("TMPDIR");
    jk_harness_init();
    if (!label)
        label = "test";
    if (!s_label_ok(label)) {
        fprintf(stderr, "jk_harness: tempdir label \"%s\" is not [A-Za-z0-9_-]{1,32}\n", label);
        return NULL;
    }
    if (!base || base[0] != '/')
        base = "/tmp";
    int n = snprintf(NULL, 0, "%s/jk-%s-XXXXXX", base, label);
    char *path = malloc((size_t)n + 1);
    if (!path)
        return NULL;
    snprintf(path, (size_t)n + 1, "%s/jk-%s-XXXXXX", base, label);
    if (!mkdtemp(path)) {
        fprintf(stderr, "jk_harness: mkdtemp %s: %s\n", path, strerror(errno));
        free(path);
        return NULL;
    }
    if (!s_push(&s_dirs, &s_ndirs, path)) {
        rmdir(path);
        free(path);
        return NULL;
    }
    return path;
}

/* Removes the entries of the directory open as dfd, recursively; closes
 * dfd. Returns false if anything could not be removed. */
static bool s_rmtree_at(int dfd, int depth)
{
    bool ok = true;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return false;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            ok = false;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int sub = depth < S_RMTREE_DEPTH_MAX
                          ? openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                          : -1;
            if (sub < 0 || !s_rmtree_at(sub, depth + 1) || unlinkat(dfd, e->d_name, AT_REMOVEDIR) != 0)
                ok = false;
        } else if (unlinkat(dfd, e->d_name, 0) != 0) {
            ok = false;
        }
    }
    closedir(d);
    return ok;
}

bool jk_harness_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = s_rmtree_at(fd, 0);
    return rmdir(path) == 0 && ok;
}

static const char *s_default_tempdir(void)
{
    if (!s_default_dir)
        s_default_dir = jk_harness_tempdir("run");
    return s_default_dir;
}

/* ---------------------------------------------------------------------- */
/* Children.                                                                */

/* The environment for a child: ours with env's entries replacing those of
 * the same name or added. Returns a malloc'd NULL-terminated array whose
 * strings are borrowed, or NULL when out of memory. */
static char **s_build_env(const char *const env[])
{
    size_t nold = 0, nnew = 0;
    while (environ && environ[nold])
        nold++;
    while (env[nnew])
        nnew++;
    char **out = calloc(nold + nnew + 1, sizeof *out);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < nold; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < nnew && !replaced; j++)
            replaced = strncmp(env[j], environ[i], klen) == 0 && env[j][klen] == '=';
        if (!replaced)
            out[n++] = environ[i];
    }
    for (size_t j = 0; j < nnew; j++)
        out[n++] = (char *)env[j];
    out[n] = NULL;
    return out;
}

static void s_child_register(jk_child_t *c)
{
    s_children[c->slot] = c;
    s_child_pgid[c->slot] = c->pid;
}

static int s_free_slot(void)
{
    for (int i = 0; i < JK_HARNESS_CHILDREN_MAX; i++)
        if (!s_children[i])
            return i;
    return -1;
}

/* Runs in the child after fork: never returns. */
static void s_child_exec(const char *const argv[], char **envp, int logfd, int errfd,
                         pid_t parent)
{
    sigset_t none;
    setpgid(0, 0);
    /* Die with the test process, whatever kills it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(127);
    for (int sig = 1; sig < 32; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        if (devnull != STDIN_FILENO)
            close(devnull);
    }
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    if (logfd > STDERR_FILENO)
        close(logfd);
    if (envp)
        environ = envp;
    execvp(argv[0], (char *const *)argv);
    int e = errno;
    ssize_t w = write(errfd, &e, sizeof e);
    (void)w;
    _exit(127);
}

jk_child_t *jk_harness_spawn(const char *const argv[], const char *const env[],
                             const char *log_path)
{
    jk_child_t *c = NULL;
    char **envp = NULL;
    int logfd = -1, pfd[2] = {-1, -1};
    jk_harness_init();
    if (!argv || !argv[0] || !argv[0][0]) {
        fprintf(stderr, "jk_harness_spawn: no program given\n");
        return NULL;
    }
    int slot = s_free_slot();
    if (slot < 0) {
        fprintf(stderr, "jk_harness_spawn: more than %d children at once\n",
                JK_HARNESS_CHILDREN_MAX);
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c)
        goto fail;
    c->slot = slot;
    c->status = -1;
    const char *base = strrchr(argv[0], '/');
    c->name = s_strdup(base ? base + 1 : argv[0]);
    if (!c->name)
        goto fail;
    if (!log_path) {
        const char *dir = s_default_tempdir();
        if (!dir)
            goto fail;
        log_path = jk_harness_strf("%s/%s-%u.log", dir, c->name, ++s_spawn_count);
        if (!log_path)
            goto fail;
    }
    c->log_path = s_strdup(log_path);
    if (!c->log_path)
        goto fail;
    logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0) {
        fprintf(stderr, "jk_harness_spawn %s: cannot open log %s: %s\n", c->name, log_path,
                strerror(errno));
        goto fail;
    }
    if (env && !(envp = s_build_env(env)))
        goto fail;
    if (pipe(pfd) != 0 || fcntl(pfd[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(pfd[1], F_SETFD, FD_CLOEXEC) != 0) {
        fprintf(stderr, "jk_harness_spawn %s: pipe: %s\n", c->name, strerror(errno));
        goto fail;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "jk_harness_spawn %s: fork: %s\n", c->name, strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        close(pfd[0]);
        s_child_exec(argv, envp, logfd, pfd[1], parent);
    }
    /* Parent. Also set the group here, so it exists before we return. */
    setpgid(pid, pid);
    close(pfd[1]);
    pfd[1] = -1;
    close(logfd);
    logfd = -1;
    free(envp);
    envp = NULL;
    c->pid = pid;
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(pfd[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    close(pfd[0]);
    pfd[0] = -1;
    if (n == (ssize_t)sizeof child_errno) {
        fprintf(stderr, "jk_harness_spawn: cannot exec %s: %s\n", argv[0], strerror(child_errno));
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        goto fail;
    }
    s_child_register(c);
    return c;
fail:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    if (logfd >= 0)
        close(logfd);
    free(envp);
    if (c) {
        free(c->name);
        free(c->log_path);
        free(c);
    }
    return NULL;
}

/* If the leader has exited: kills what is left of its group, reaps it and
 * returns true. Returns true too if reaped before. Does not block. */
static bool s_reap(jk_child_t *c)
{
    if (c->reaped)
        return true;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
        if (errno == EINTR)
            return false;
        /* ECHILD: somebody else reaped it; treat it as gone. */
        c->reaped = true;
        s_child_pgid[c->slot] = 0;
        return true;
    }
    if (si.si_pid == 0)
        return false;
    kill(-c->pid, SIGKILL); /* stragglers of the group; leader is a zombie */
    int st = 0;
    while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {
    }
    c->status = st;
    c->reaped = true;
    s_child_pgid[c->slot] = 0;
    return true;
}

bool jk_harness_kill(jk_child_t *c, int sig)
{
    if (!c || c->reaped)
        return false;
    return kill(-c->pid, sig) == 0;
}

bool jk_harness_wait_exit(jk_child_t *c, int timeout_ms)
{
    if (!c)
        return true;
    int64_t deadline = s_now_ms() + timeout_ms;
    int nap = S_POLL_FIRST_MS;
    for (;;) {
        if (s_reap(c))
            return true;
        int64_t left = deadline - s_now_ms();
        if (left <= 0)
            return false;
        s_sleep_ms((int)(left < nap ? left : nap));
        if (nap < S_POLL_MAX_MS)
            nap *= 2;
    }
}

bool jk_harness_running(jk_child_t *c)
{
    return c && !s_reap(c);
}

int jk_harness_exit_status(const jk_child_t *c)
{
    return c && c->reaped ? c->status : -1;
}

bool jk_harness_exited_with(const jk_child_t *c, int code)
{
    return c && c->reaped && WIFEXITED(c->status) && WEXITSTATUS(c->status) == code;
}

pid_t jk_harness_pid(const jk_child_t *c)
{
    return c ? c->pid : -1;
}

const char *jk_harness_log_path(const jk_child_t *c)
{
    return c ? c->log_path : NULL;
}

/* Reads the last max bytes of path into a malloc'd NUL-terminated buffer. */
static char *s_read_tail(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    *len = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0)
        goto cleanup;
    long size = ftell(f);
    if (size < 0)
        goto cleanup;
    size_t want = (size_t)size < max ? (size_t)size : max;
    if (fseek(f, (long)((size_t)size - want), SEEK_SET) != 0)
        goto cleanup;
    buf = malloc(want + 1);
    if (!buf)
        goto cleanup;
    *len = fread(buf, 1, want, f);
    buf[*len] = '\0';
cleanup:
    fclose(f);
    return buf;
}

void jk_harness_print_log(const jk_child_t *c, size_t max_bytes)
{
    size_t len;
    if (!c)
        return;
    char *buf = s_read_tail(c->log_path, max_bytes, &len);
    fprintf(stderr, "----- %s (pid %ld) log %s, last %zu bytes -----\n", c->name, (long)c->pid,
            c->log_path, len);
    if (buf)
        fwrite(buf, 1, len, stderr);
    fprintf(stderr, "----- end of %s log -----\n", c->name);
    free(buf);
}

bool jk_harness_log_contains(const jk_child_t *c, const char *needle)
{
    size_t len;
    if (!c || !needle)
        return false;
    char *buf = s_read_tail(c->log_path, S_LOG_SCAN_MAX_BYTES, &len);
    if (!buf)
        return false;
    /* The log may contain NUL bytes; search each NUL-separated piece. */
    bool found = false;
    for (size_t off = 0; off < len && !found; off += strlen(buf + off) + 1)
        found = strstr(buf + off, needle) != NULL;
    free(buf);
    return found;
}

void jk_harness_child_free(jk_child_t **pc)
{
    if (!pc || !*pc)
        return;
    jk_child_t *c = *pc;
    *pc = NULL;
    if (!c->reaped) {
        kill(-c->pid, SIGKILL);
        int st = 0;
        while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {
        }
        c->reaped = true;
    }
    s_child_pgid[c->slot] = 0;
    s_children[c->slot] = NULL;
    free(c->name);
    free(c->log_path);
    free(c);
}

/* ---------------------------------------------------------------------- */
/* Waiting.                                                                 */

bool jk_harness_wait_for(jk_harness_pred_fn pred, void *ud, int timeout_ms)
{
    int64_t deadline = s_now_ms() + timeout_ms;
    int nap = S_POLL_FIRST_MS;
    for (;;) {
        if (pred(ud))
            return true;
        int64_t left = deadline - s_now_ms();
        if (left <= 0)
            return pred(ud);
        s_sleep_ms((int)(left < nap ? left : nap));
        if (nap < S_POLL_MAX_MS)
            nap *= 2;
    }
}

/* ---------------------------------------------------------------------- */
/* Redis.                                                                   */

/* The redis-server to run: $JK_REDIS_SERVER, else the first in PATH, else
 * /usr/bin/redis-server. Returns a string valid until the next call. */
static const char *s_redis_binary(void)
{
    static char found[4096];
    const char *env = getenv("JK_REDIS_SERVER");
    if (env && *env)
        return env;
    const char *p = getenv("PATH");
    while (p && *p) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n > 0 && n < sizeof found - sizeof "/redis-server") {
            snprintf(found, sizeof found, "%.*s/redis-server", (int)n, p);
            if (access(found, X_OK) == 0)
                return found;
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return "/usr/bin/redis-server";
}

static redisContext *s_redis_connect_port(int port)
{
    struct timeval tv = {JK_HARNESS_REDIS_CMD_TIMEOUT_MS / 1000,
                         (JK_HARNESS_REDIS_CMD_TIMEOUT_MS % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c)
        return NULL;
    if (c->err || redisSetTimeout(c, tv) != REDIS_OK) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* True when the server on port answers PING with PONG (not LOADING). */
static bool s_redis_pong(int port)
{
    bool ok = false;
    redisContext *c = s_redis_connect_port(port);
    if (!c)
        return false;
    redisReply *r = redisCommand(c, "PING");
    if (r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0)
        ok = true;
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return ok;
}

typedef struct {
    jk_redis_t *r;
    bool died;
} s_redis_wait_t;

static bool s_redis_ready(void *ud)
{
    s_redis_wait_t *w = ud;
    if (!jk_harness_running(w->r->child)) {
        w->died = true;
        return true;
    }
    return s_redis_pong(w->r->port);
}

/* Starts the server process for r and waits for PONG. */
static bool s_redis_launch(jk_redis_t *r)
{
    char port[16];
    snprintf(port, sizeof port, "%d", r->port);
    const char *argv[] = {s_redis_binary(), "--port", port, "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", r->aof ? "yes" : "no",
                          "--appendfsync", "everysec", "--dir", r->dir,
                          "--daemonize", "no", NULL};
    r->paused = false;
    r->child = jk_harness_spawn(argv, NULL, r->log_path);
    if (!r->child)
        return false;
    s_redis_wait_t w = {r, false};
    bool ok = jk_harness_wait_for(s_redis_ready, &w, JK_HARNESS_REDIS_START_TIMEOUT_MS);
    if (!ok || w.died) {
        fprintf(stderr, "jk_harness_redis: redis-server on port %d %s\n", r->port,
                w.died ? "exited during start" : "did not answer PING in time");
        jk_harness_print_log(r->child, 4096);
        jk_harness_child_free(&r->child);
        return false;
    }
    return true;
}

jk_redis_t *jk_harness_redis_start(const char *dir, int port, bool aof)
{
    jk_redis_t *r = NULL;
    int slot = -1;
    jk_harness_init();
    for (int i = 0; i < S_REDIS_MAX && slot < 0; i++)
        if (!s_redis[i])
            slot = i;
    if (slot < 0) {
        fprintf(stderr, "jk_harness_redis_start: more than %d servers at once\n", S_REDIS_MAX);
        return NULL;
    }
    if (!dir && !(dir = jk_harness_tempdir("redis")))
        return NULL;
    if (port == 0 && (port = jk_harness_free_port()) == 0)
        return NULL;
    r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->dir = s_strdup(dir);
    r->port = port;
    r->aof = aof;
    const char *log = jk_harness_strf("%s/redis.log", dir);
    r->log_path = log ? s_strdup(log) : NULL;
    if (!r->dir || !r->log_path)
        goto fail;
    if (!s_redis_launch(r))
        goto fail;
    s_redis[slot] = r;
    return r;
fail:
    free(r->dir);
    free(r->log_path);
    free(r);
    return NULL;
}

bool jk_harness_redis_stop(jk_redis_t *r)
{
    if (!r || !r->child)
        return true;
    if (r->paused)
        jk_harness_redis_resume(r);
    jk_harness_kill(r->child, SIGTERM);
    if (!jk_harness_wait_exit(r->child, JK_HARNESS_STOP_TIMEOUT_MS)) {
        fprintf(stderr, "jk_harness_redis_stop: port %d did not exit on SIGTERM\n", r->port);
        return false;
    }
    jk_harness_child_free(&r->child);
    return true;
}

bool jk_harness_redis_kill(jk_redis_t *r)
{
    if (!r || !r->child)
        return true;
    jk_harness_kill(r->child, SIGKILL);
    bool ok = jk_harness_wait_exit(r->child, JK_HARNESS_STOP_TIMEOUT_MS);
    jk_harness_child_free(&r->child);
    return ok;
}

bool jk_harness_redis_restart(jk_redis_t *r)
{
    if (!r)
        return false;
    if (r->child)
        jk_harness_redis_kill(r);
    return s_redis_launch(r);
}

bool jk_harness_redis_pause(jk_redis_t *r)
{
    if (!r || !r->child || !jk_harness_kill(r->child, SIGSTOP))
        return false;
    r->paused = true;
    return true;
}

bool jk_harness_redis_resume(jk_redis_t *r)
{
    if (!r || !r->child || !jk_harness_kill(r->child, SIGCONT))
        return false;
    r->paused = false;
    return true;
}

int jk_harness_redis_port(const jk_redis_t *r)
{
    return r ? r->port : 0;
}

const char *jk_harness_redis_dir(const jk_redis_t *r)
{
    return r ? r->dir : NULL;
}

jk_child_t *jk_harness_redis_child(const jk_redis_t *r)
{
    return r ? r->child : NULL;
}

redisContext *jk_harness_redis_connect(const jk_redis_t *r)
{
    return r ? s_redis_connect_port(r->port) : NULL;
}

redisReply *jk_harness_redis_cmd(const jk_redis_t *r, const char *fmt, ...)
{
    va_list ap;
    redisContext *c = jk_harness_redis_connect(r);
    if (!c)
        return NULL;
    va_start(ap, fmt);
    redisReply *reply = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return reply;
}

void jk_harness_redis_free(jk_redis_t **pr)
{
    if (!pr || !*pr)
        return;
    jk_redis_t *r = *pr;
    *pr = NULL;
    jk_harness_child_free(&r->child);
    for (int i = 0; i < S_REDIS_MAX; i++)
        if (s_redis[i] == r)
            s_redis[i] = NULL;
    free(r->dir);
    free(r->log_path);
    free(r);
}

/* ---------------------------------------------------------------------- */
/* Clean-up.                                                                */

void jk_harness_cleanup(void)
{
    if (s_cleaning)
        return;
    s_cleaning = true;
    for (int i = 0; i < S_REDIS_MAX; i++)
        if (s_redis[i]) {
            jk_redis_t *r = s_redis[i];
            jk_harness_redis_free(&r);
        }
    for (int i = 0; i < JK_HARNESS_CHILDREN_MAX; i++)
        if (s_children[i]) {
            jk_child_t *c = s_children[i];
            jk_harness_child_free(&c);
        }
    const char *keep = getenv("JK_HARNESS_KEEP");
    bool keeping = keep && strcmp(keep, "1") == 0;
    for (size_t i = 0; i < s_ndirs; i++) {
        if (keeping)
            fprintf(stderr, "jk_harness: kept %s\n", s_dirs[i]);
        else if (!jk_harness_rmtree(s_dirs[i]))
            fprintf(stderr, "jk_harness: could not remove all of %s\n", s_dirs[i]);
        free(s_dirs[i]);
    }
    free(s_dirs);
    s_dirs = NULL;
    s_ndirs = 0;
    s_default_dir = NULL;
    for (size_t i = 0; i < s_nstrings; i++)
        free(s_strings[i]);
    free(s_strings);
    s_strings = NULL;
    s_nstrings = 0;
    s_cleaning = false;
}
