/* Unit tests for jk_wal: CRC-32C, append/commit/replay round trips across
 * segments, torn tails at every byte of the last record (cut and garbled),
 * corruption refused with file and offset, the record bound, compaction,
 * the failed state after a write error (RLIMIT_FSIZE in a child), and a
 * child killed with SIGKILL at random moments while committing: every LSN
 * whose commit had returned must be there after recovery, in order, intact.
 *
 * Every record's type and payload are a function of its LSN (s_gen), so any
 * surviving record can be checked wherever and whenever it was written.
 * Logs live in a fresh mkdtemp directory under $TMPDIR (or /tmp), removed
 * at the end of each test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jk_log.h"
#include "jk_rand.h"
#include "jk_wal.h"

#define S_GEN_MAX_BYTES 300u
#define S_SMALL_SEGMENT_BYTES 4096u
#define S_MAX_FILES 512u

/* ---- helpers: directories and files ---- */

static char s_base[512];   /* per test: mkdtemp directory */
static char s_dir[600];    /* the log directory inside it */
static unsigned long s_torn_logged;

/* Counts torn-tail log lines (a line is len bytes, not NUL-terminated). */
static void s_count_sink(void *ud, const char *line, size_t len)
{
    (void)ud;
    static const char want[] = "event=wal.torn_tail";
    size_t n = sizeof want - 1;
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(line + i, want, n) == 0) {
            s_torn_logged++;
            return;
        }
}

static int s_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(s_base, sizeof s_base, "%s/jk-wal-test.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(s_base))
        return -1;
    snprintf(s_dir, sizeof s_dir, "%s/log", s_base);
    jk_log_set_sink(s_count_sink, NULL);
    jk_log_set_level(JK_LOG_DEBUG);
    s_torn_logged = 0;
    return 0;
}

static void s_clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[1200];
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
}

static int s_teardown(void **state)
{
    (void)state;
    s_clear_dir(s_dir);
    rmdir(s_dir);
    jk_log_set_sink(NULL, NULL);
    jk_log_set_level(JK_LOG_INFO);
    return rmdir(s_base);
}

typedef struct {
    char name[256];
    uint8_t *data;
    size_t len;
} s_file_t;

typedef struct {
    s_file_t f[S_MAX_FILES];
    size_t n;
} s_snap_t;

static int s_cmp_file(const void *a, const void *b)
{
    return strcmp(((const s_file_t *)a)->name, ((const s_file_t *)b)->name);
}

static uint8_t *s_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    uint8_t *b = malloc((size_t)sb.st_size + 1);
    assert_non_null(b);
    size_t have = 0;
    while (have < (size_t)sb.st_size) {
        ssize_t n = read(fd, b + have, (size_t)sb.st_size - have);
        assert_true(n > 0);
        have += (size_t)n;
    }
    close(fd);
    *len = have;
    return b;
}

static void s_write_file(const char *path, const uint8_t *b, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, b + done, len - done);
        assert_true(n > 0);
        done += (size_t)n;
    }
    close(fd);
}

/* Segment files of the log directory, sorted by name (= by first LSN). */
static void s_snap_take(s_snap_t *s)
{
    s->n = 0;
    DIR *d = opendir(s_dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "wal-", 4) != 0)
            continue;
        assert_true(s->n < S_MAX_FILES);
        s_file_t *f = &s->f[s->n++];
        snprintf(f->name, sizeof f->name, "%s", de->d_name);
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", s_dir, de->d_name);
        f->data = s_read_file(p, &f->len);
    }
    closedir(d);
    qsort(s->f, s->n, sizeof s->f[0], s_cmp_file);
}

static void s_snap_restore(const s_snap_t *s)
{
    s_clear_dir(s_dir);
    for (size_t i = 0; i < s->n; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/%s", s_dir, s->f[i].name);
        s_write_file(p, s->f[i].data, s->f[i].len);
    }
}

static void s_snap_free(s_snap_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->f[i].data);
    s->n = 0;
}

static void s_seg_path(char *out, size_t n, const s_snap_t *s, size_t i)
{
    snprintf(out, n, "%s/%s", s_dir, s->f[i].name);
}

static size_t s_count_segments(void)
{
    s_snap_t *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s_snap_take(s);
    size_t n = s->n;
    s_snap_free(s);
    free(s);
    return n;
}

static uint64_t s_le32(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

/* Offsets of the records of a valid segment image; returns their count. */
static size_t s_record_offsets(const uint8_t *b, size_t len, size_t *offs, size_t max)
{
    size_t n = 0, off = JK_WAL_SEGMENT_HEADER_BYTES;
    while (off < len) {
        assert_true(n < max);
        offs[n++] = off;
        off += JK_WAL_RECORD_HEADER_BYTES + (size_t)s_le32(b + off);
    }
    assert_int_equal(off, len);
    return n;
}

/* ---- helpers: records ---- */

/* The record for an LSN: type 1..250, 0..S_GEN_MAX_BYTES-1 payload bytes. */
static size_t s_gen(uint64_t lsn, uint8_t *type, uint8_t buf[S_GEN_MAX_BYTES])
{
    uint64_t h = lsn * 0x9e3779b97f4a7c15ull;
    size_t len = (size_t)((h >> 20) % S_GEN_MAX_BYTES);
    if (lsn % 17 == 0)
        len = 0;
    *type = (uint8_t)(1 + lsn % 250);
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(h >> (8 * (i % 8))) ^ (uint8_t)(i * 31);
    return len;
}

static void s_append_gen(jk_wal_t *w, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint8_t type, buf[S_GEN_MAX_BYTES];
        uint64_t expect = jk_wal_next_lsn(w), lsn = 0;
        size_t len = s_gen(expect, &type, buf);
        jk_error_t e;
        assert_int_equal(jk_wal_append(w, type, buf, len, &lsn, &e), JK_OK);
        assert_int_equal(lsn, expect);
    }
}

static uint64_t s_commit(jk_wal_t *w)
{
    uint64_t d = 0;
    jk_error_t e;
    jk_err_t rc = jk_wal_commit(w, &d, &e);
    if (rc != JK_OK)
        fail_msg("commit: %s", e.msg);
    assert_int_equal(d, jk_wal_next_lsn(w) - 1);
    return d;
}

/* Replay checker: LSNs consecutive from `first`, content = s_gen. */
typedef struct {
    uint64_t first;     /* 0 = accept whatever the first is */
    uint64_t next;      /* next LSN expected; 0 = none seen yet */
    uint64_t count;
    uint64_t bad;       /* records that did not match */
    uint64_t special_lsn;   /* a record with other content: type 200 "after" */
} s_check_t;

static jk_err_t s_check_fn(void *ud, uint64_t lsn, uint8_t type, const uint8_t *p, size_t len)
{
    s_check_t *c = ud;
    if (c->next == 0)
        c->next = c->first ? c->first : lsn;
    if (lsn != c->next) {
        c->bad++;
        return JK_ERR_INTERNAL;
    }
    if (c->special_lsn && lsn == c->special_lsn) {
        if (type != 200 || len != 5 || memcmp(p, "after", 5) != 0)
            c->bad++;
    } else {
        uint8_t et, eb[S_GEN_MAX_BYTES];
        size_t el = s_gen(lsn, &et, eb);
        if (type != et || len != el || (len && memcmp(p, eb, len) != 0))
            c->bad++;
    }
    c->next++;
    c->count++;
    return JK_OK;
}

static jk_wal_opts_t s_opts(uint64_t segment_bytes)
{
    jk_wal_opts_t o;
    jk_wal_opts_default(&o);
    o.segment_bytes = segment_bytes;
    return o;
}

static jk_wal_t *s_open(uint64_t segment_bytes)
{
    jk_wal_opts_t o = s_opts(segment_bytes);
    jk_error_t e;
    jk_wal_t *w = jk_wal_open(s_dir, &o, &e);
    if (!w)
        fail_msg("open: %s", e.msg);
    return w;
}

/* Opens and recovers; checks every record against s_gen from LSN 1. */
static jk_wal_t *s_open_replay(uint64_t segment_bytes, s_check_t *c, jk_wal_replay_stats_t *rs)
{
    jk_wal_t *w = s_open(segment_bytes);
    jk_error_t e;
    jk_err_t rc = jk_wal_replay(w, s_check_fn, c, rs, &e);
    if (rc != JK_OK)
        fail_msg("replay: %s", e.msg);
    assert_int_equal(c->bad, 0);
    return w;
}

/* ---- CRC-32C ---- */

static uint32_t s_crc_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
    uint32_t c = ~crc;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
    }
    return ~c;
}

static void test_crc32c(void **state)
{
    (void)state;
    /* Check value of the catalogue and the iSCSI vectors of RFC 3720. */
    assert_int_equal(jk_wal_crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(jk_wal_crc32c_table(0, "123456789", 9), 0xe3069283u);
    uint8_t b[32];
    memset(b, 0, sizeof b);
    assert_int_equal(jk_wal_crc32c(0, b, 32), 0x8a9136aau);
    memset(b, 0xff, sizeof b);
    assert_int_equal(jk_wal_crc32c(0, b, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    assert_int_equal(jk_wal_crc32c(0, b, 32), 0x46dd794eu);
    assert_int_equal(jk_wal_crc32c(0, NULL, 0), 0);

    /* Both implementations agree with a bitwise one at every length and
     * alignment, and calls chain. */
    uint8_t *buf = malloc(4096 + 8);
    assert_non_null(buf);
    jk_rand_t r;
    jk_rand_seed(&r, 5);
    for (size_t i = 0; i < 4096 + 8; i++)
        buf[i] = (uint8_t)jk_rand_next(&r);
    for (int t = 0; t < 2000; t++) {
        size_t off = (size_t)jk_rand_below(&r, 8), len = (size_t)jk_rand_below(&r, 4096);
        uint32_t want = s_crc_bitwise(0, buf + off, len);
        assert_int_equal(jk_wal_crc32c(0, buf + off, len), want);
        assert_int_equal(jk_wal_crc32c_table(0, buf + off, len), want);
        size_t cut = len ? (size_t)jk_rand_below(&r, len) : 0;
        assert_int_equal(jk_wal_crc32c(jk_wal_crc32c(0, buf + off, cut), buf + off + cut, len - cut), want);
    }
    free(buf);
}

/* ---- round trip ---- */

/* Replay callback for the big-record check. */
typedef struct {
    uint64_t big_lsn;
    size_t big_len;
    uint64_t empty_lsn;     /* a type-2 record with no payload; 0 = none */
    uint64_t count, bad;
} s_big_t;

static jk_err_t s_big_fn(void *ud, uint64_t lsn, uint8_t type, const uint8_t *p, size_t len)
{
    s_big_t *b = ud;
    b->count++;
    if (lsn == b->big_lsn) {
        if (type != 9 || len != b->big_len)
            b->bad++;
        for (size_t i = 0; i < len; i++)
            if (p[i] != (uint8_t)(i * 7)) {
                b->bad++;
                break;
            }
        return JK_OK;
    }
    if (lsn == b->empty_lsn) {
        if (type != 2 || len != 0)
            b->bad++;
        return JK_OK;
    }
    uint8_t et, eb[S_GEN_MAX_BYTES];
    size_t el = s_gen(lsn, &et, eb);
    if (type != et || len != el || (len && memcmp(p, eb, len) != 0))
        b->bad++;
    return JK_OK;
}


static void test_round_trip(void **state)
{
    (void)state;
    jk_wal_t *w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_error_t e;
    uint64_t lsn = 99;
    /* Nothing before the first replay. */
    assert_int_equal(jk_wal_append(w, 1, "x", 1, &lsn, &e), JK_ERR_STATE);
    assert_int_equal(jk_wal_commit(w, NULL, &e), JK_ERR_STATE);
    assert_int_equal(jk_wal_release_before(w, 1, NULL, &e), JK_ERR_STATE);
    assert_int_equal(jk_wal_next_lsn(w), 0);
    jk_wal_replay_stats_t rs;
    assert_int_equal(jk_wal_replay(w, NULL, NULL, &rs, &e), JK_OK);
    assert_int_equal(rs.records, 0);
    assert_int_equal(rs.segments, 1);
    assert_int_equal(jk_wal_next_lsn(w), 1);
    assert_int_equal(jk_wal_durable_lsn(w), 0);

    /* An empty commit makes no write. */
    uint64_t d = 7;
    assert_int_equal(jk_wal_commit(w, &d, &e), JK_OK);
    assert_int_equal(d, 0);
    jk_wal_stats_t st;
    jk_wal_stats(w, &st);
    assert_int_equal(st.commits, 0);
    assert_int_equal(st.fsyncs, 2);   /* the first segment's header and the directory */

    jk_rand_t r;
    jk_rand_seed(&r, 11);
    const uint64_t total = 3000;
    uint64_t commits = 0;
    while (jk_wal_next_lsn(w) <= total) {
        uint64_t batch = 1 + jk_rand_below(&r, 50);
        if (jk_wal_next_lsn(w) + batch > total + 1)
            batch = total + 1 - jk_wal_next_lsn(w);
        s_append_gen(w, batch);
        jk_wal_stats(w, &st);
        assert_int_equal(st.pending_records, batch);
        assert_int_equal(jk_wal_durable_lsn(w), jk_wal_next_lsn(w) - 1 - batch);
        s_commit(w);
        commits++;
    }
    jk_wal_stats(w, &st);
    assert_int_equal(st.records, total);
    assert_int_equal(st.commits, commits);
    assert_int_equal(st.pending_bytes, 0);
    assert_true(st.segments > 3);
    assert_int_equal(st.segments, s_count_segments());
    assert_int_equal(st.segments_created, st.segments);
    assert_true(st.bytes_written > total * JK_WAL_RECORD_HEADER_BYTES);
    assert_true(st.fsyncs >= commits);
    uint64_t segments = st.segments;

    /* A second replay on the live log reads the committed records; pending
     * appends are not read. */
    s_append_gen(w, 3);
    s_check_t c = { .first = 1 };
    assert_int_equal(jk_wal_replay(w, s_check_fn, &c, &rs, &e), JK_OK);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.count, total);
    assert_int_equal(rs.torn_tails, 0);
    assert_int_equal(rs.segments, segments);
    jk_wal_destroy(&w);   /* the 3 pending records are discarded */
    assert_null(w);
    jk_wal_destroy(&w);

    /* Reopen: every record, in order, across every segment. */
    memset(&c, 0, sizeof c);
    c.first = 1;
    w = s_open_replay(S_SMALL_SEGMENT_BYTES, &c, &rs);
    assert_int_equal(c.count, total);
    assert_int_equal(rs.records, total);
    assert_int_equal(rs.first_lsn, 1);
    assert_int_equal(rs.last_lsn, total);
    assert_int_equal(rs.segments, segments);
    assert_int_equal(rs.torn_tails, 0);
    assert_int_equal(jk_wal_next_lsn(w), total + 1);
    assert_int_equal(jk_wal_durable_lsn(w), total);

    /* Appends continue; a maximum-size record, larger than a segment, goes
     * alone into one. */
    s_append_gen(w, 100);
    uint8_t *big = malloc(JK_WAL_RECORD_MAX_BYTES);
    assert_non_null(big);
    for (size_t i = 0; i < JK_WAL_RECORD_MAX_BYTES; i++)
        big[i] = (uint8_t)(i * 7);
    assert_int_equal(jk_wal_append(w, 9, big, JK_WAL_RECORD_MAX_BYTES, &lsn, &e), JK_OK);
    assert_int_equal(lsn, total + 101);
    s_append_gen(w, 10);
    s_commit(w);
    jk_wal_destroy(&w);

    s_big_t b = { .big_lsn = total + 101, .big_len = JK_WAL_RECORD_MAX_BYTES };
    w = s_open(S_SMALL_SEGMENT_BYTES);
    assert_int_equal(jk_wal_replay(w, s_big_fn, &b, &rs, &e), JK_OK);
    assert_int_equal(b.bad, 0);
    assert_int_equal(b.count, total + 111);
    assert_int_equal(rs.records, total + 111);
    assert_int_equal(rs.last_lsn, total + 111);
    assert_int_equal(rs.torn_tails, 0);
    jk_wal_destroy(&w);
    free(big);
}

/* ---- the record bound and the pending bound ---- */

static void test_record_bound(void **state)
{
    (void)state;
    jk_wal_t *w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_error_t e;
    assert_int_equal(jk_wal_replay(w, NULL, NULL, NULL, &e), JK_OK);
    uint8_t *big = malloc(JK_WAL_RECORD_MAX_BYTES + 1);
    assert_non_null(big);
    for (size_t i = 0; i <= JK_WAL_RECORD_MAX_BYTES; i++)
        big[i] = (uint8_t)(i * 7);
    uint64_t lsn = 0;
    assert_int_equal(jk_wal_append(w, 9, big, JK_WAL_RECORD_MAX_BYTES + 1, &lsn, &e), JK_ERR_TOO_BIG);
    assert_non_null(strstr(e.msg, "exceeds the bound"));
    assert_int_equal(jk_wal_append(w, 0, "x", 1, &lsn, &e), JK_ERR_INVAL);
    assert_int_equal(jk_wal_append(w, 1, NULL, 3, &lsn, &e), JK_ERR_INVAL);
    jk_wal_stats_t st;
    jk_wal_stats(w, &st);
    assert_int_equal(st.pending_bytes, 0);
    assert_int_equal(jk_wal_next_lsn(w), 1);

    assert_int_equal(jk_wal_append(w, 2, NULL, 0, &lsn, &e), JK_OK);   /* empty payload */
    assert_int_equal(lsn, 1);
    assert_int_equal(jk_wal_append(w, 9, big, JK_WAL_RECORD_MAX_BYTES, &lsn, &e), JK_OK);
    assert_int_equal(lsn, 2);
    s_append_gen(w, 5);   /* LSNs 3..7 */
    s_commit(w);
    jk_wal_destroy(&w);

    s_big_t b = { .big_lsn = 2, .big_len = JK_WAL_RECORD_MAX_BYTES, .empty_lsn = 1 };
    w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_wal_replay_stats_t rs;
    assert_int_equal(jk_wal_replay(w, s_big_fn, &b, &rs, &e), JK_OK);
    assert_int_equal(b.count, 7);
    assert_int_equal(b.bad, 0);
    assert_int_equal(rs.records, 7);
    jk_wal_destroy(&w);

    /* The pending bound: with room for one maximum record, a second one is
     * refused until the first is committed. */
    jk_wal_opts_t o = s_opts(S_SMALL_SEGMENT_BYTES);
    o.max_pending_bytes = JK_WAL_PENDING_MIN_BYTES;
    w = jk_wal_open(s_dir, &o, &e);
    assert_non_null(w);
    assert_int_equal(jk_wal_replay(w, NULL, NULL, NULL, &e), JK_OK);
    assert_int_equal(jk_wal_append(w, 9, big, JK_WAL_RECORD_MAX_BYTES, &lsn, &e), JK_OK);
    assert_int_equal(jk_wal_append(w, 9, big, 1, &lsn, &e), JK_ERR_FULL);
    s_commit(w);
    assert_int_equal(jk_wal_append(w, 9, big, JK_WAL_RECORD_MAX_BYTES, &lsn, &e), JK_OK);
    assert_int_equal(lsn, 9);
    s_commit(w);
    jk_wal_destroy(&w);

    /* Options out of range are refused. */
    o = s_opts(JK_WAL_SEGMENT_MIN_BYTES - 1);
    assert_null(jk_wal_open(s_dir, &o, &e));
    assert_int_equal(e.code, JK_ERR_RANGE);
    o = s_opts(S_SMALL_SEGMENT_BYTES);
    o.max_pending_bytes = JK_WAL_PENDING_MIN_BYTES - 1;
    assert_null(jk_wal_open(s_dir, &o, &e));
    assert_int_equal(e.code, JK_ERR_RANGE);
    assert_null(jk_wal_open("", NULL, &e));
    assert_int_equal(e.code, JK_ERR_INVAL);
    free(big);
}

/* ---- torn tails ---- */

/* Builds a log of several segments whose last record is LSN n; when
 * alone_in_segment, that record is the only one of the last segment. */
static uint64_t s_build_log(bool alone_in_segment)
{
    jk_wal_t *w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_error_t e;
    assert_int_equal(jk_wal_replay(w, NULL, NULL, NULL, &e), JK_OK);
    s_append_gen(w, 60);
    s_commit(w);
    if (alone_in_segment) {
        jk_wal_stats_t st;
        jk_wal_stats(w, &st);
        uint64_t before = st.segments;
        while (st.segments == before) {
            s_append_gen(w, 1);
            s_commit(w);
            jk_wal_stats(w, &st);
        }
    } else {
        /* A last record with a long payload, in a batch with others. */
        while (true) {
            uint8_t t, b[S_GEN_MAX_BYTES];
            s_append_gen(w, 1);
            if (s_gen(jk_wal_next_lsn(w), &t, b) > 150)
                break;
        }
        s_append_gen(w, 1);
        s_commit(w);
    }
    uint64_t n = jk_wal_next_lsn(w) - 1;
    jk_wal_destroy(&w);
    return n;
}

/* Reopens the (damaged) log and checks: records 1..n-1, torn count, next
 * LSN n; then an append continues at n and survives another reopen. */
static void s_check_recovers_to(uint64_t n, bool expect_torn, const char *what, size_t at)
{
    s_check_t c = { .first = 1 };
    jk_wal_replay_stats_t rs;
    jk_wal_t *w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_error_t e;
    jk_err_t rc = jk_wal_replay(w, s_check_fn, &c, &rs, &e);
    if (rc != JK_OK)
        fail_msg("%s at %zu: replay: %s", what, at, e.msg);
    assert_int_equal(c.bad, 0);
    if (c.count != n - 1)
        fail_msg("%s at %zu: %" PRIu64 " records, want %" PRIu64, what, at, c.count, n - 1);
    assert_int_equal(rs.torn_tails, expect_torn ? 1 : 0);
    assert_int_equal(jk_wal_next_lsn(w), n);
    assert_int_equal(jk_wal_durable_lsn(w), n - 1);
    uint64_t lsn = 0;
    assert_int_equal(jk_wal_append(w, 200, "after", 5, &lsn, &e), JK_OK);
    assert_int_equal(lsn, n);
    s_commit(w);
    jk_wal_destroy(&w);

    s_check_t c2 = { .first = 1, .special_lsn = n };
    w = s_open(S_SMALL_SEGMENT_BYTES);
    rc = jk_wal_replay(w, s_check_fn, &c2, &rs, &e);
    if (rc != JK_OK)
        fail_msg("%s at %zu: second replay: %s", what, at, e.msg);
    assert_int_equal(c2.bad, 0);
    assert_int_equal(c2.count, n);
    assert_int_equal(rs.torn_tails, 0);
    jk_wal_destroy(&w);
}

static void s_torn_every_offset(bool alone_in_segment)
{
    uint64_t n = s_build_log(alone_in_segment);
    s_snap_t *snap = calloc(1, sizeof *snap), *after = calloc(1, sizeof *after);
    assert_non_null(snap);
    assert_non_null(after);
    s_snap_take(snap);
    assert_true(snap->n >= 2);
    s_file_t *last = &snap->f[snap->n - 1];
    size_t offs[512];
    size_t nrec = s_record_offsets(last->data, last->len, offs, 512);
    assert_true(nrec >= 1);
    if (alone_in_segment)
        assert_int_equal(nrec, 1);
    size_t start = offs[nrec - 1], end = last->len;
    assert_true(end - start > 150);
    char path[1200];
    s_seg_path(path, sizeof path, snap, snap->n - 1);
    unsigned long logged = s_torn_logged;
    unsigned long expect_logged = logged;

    /* Cut: the file ends at every byte of the last record. */
    for (size_t cut = start; cut < end; cut++) {
        s_snap_restore(snap);
        assert_int_equal(truncate(path, (off_t)cut), 0);
        s_check_recovers_to(n, cut > start, "cut", cut);
        expect_logged += cut > start;
        /* The cut was made durable: the file ends where the record began,
         * plus the new record. */
        s_snap_take(after);
        assert_int_equal(after->n, snap->n);
        assert_int_equal(after->f[after->n - 1].len, start + JK_WAL_RECORD_HEADER_BYTES + 5);
        s_snap_free(after);
    }
    /* Garble: every byte of the last record in turn. */
    for (size_t at = start; at < end; at++) {
        last->data[at] ^= 0xa5;
        s_snap_restore(snap);
        last->data[at] ^= 0xa5;
        s_check_recovers_to(n, true, "garble", at);
        expect_logged++;
    }
    /* Trailing garbage that is not a record (zeros, as after a crash that
     * extended the file before writing its data). */
    s_snap_restore(snap);
    {
        uint8_t zeros[700] = { 0 };
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, zeros, sizeof zeros), (ssize_t)sizeof zeros);
        close(fd);
    }
    s_check_recovers_to(n + 1, true, "zeros", 0);
    expect_logged++;
    assert_int_equal(s_torn_logged, expect_logged);
    s_snap_free(snap);
    free(snap);
    free(after);
}

static void test_torn_tail_every_offset(void **state)
{
    (void)state;
    s_torn_every_offset(false);
}

static void test_torn_tail_alone_in_segment(void **state)
{
    (void)state;
    s_torn_every_offset(true);
}

/* ---- corruption ---- */

/* Opens and replays; expects JK_ERR_PARSE naming file and offset. */
static void s_expect_corrupt(const char *file, size_t offset, const char *phrase)
{
    jk_wal_t *w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_error_t e;
    s_check_t c = { .first = 1 };
    jk_err_t rc = jk_wal_replay(w, s_check_fn, &c, NULL, &e);
    assert_int_equal(rc, JK_ERR_PARSE);
    assert_int_equal(c.bad, 0);
    char want[128];
    snprintf(want, sizeof want, "%s: offset %zu: ", file, offset);
    if (!strstr(e.msg, want) || (phrase && !strstr(e.msg, phrase)))
        fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", e.msg, want, phrase ? phrase : "");
    /* Still not writable. */
    uint64_t lsn;
    assert_int_equal(jk_wal_append(w, 1, "x", 1, &lsn, &e), JK_ERR_STATE);
    jk_wal_destroy(&w);
}

static void test_corruption_refused(void **state)
{
    (void)state;
    s_build_log(false);
    s_snap_t *snap = calloc(1, sizeof *snap), *now = calloc(1, sizeof *now);
    assert_non_null(snap);
    assert_non_null(now);
    s_snap_take(snap);
    assert_true(snap->n >= 3);
    size_t offs[512];
    s_file_t *last = &snap->f[snap->n - 1], *mid = &snap->f[1];
    size_t nlast = s_record_offsets(last->data, last->len, offs, 512);
    assert_true(nlast >= 3);

    /* A bad checksum in the middle of the last segment, valid records after
     * it: corruption, and nothing is truncated. */
    size_t at = offs[nlast / 2];
    s_snap_restore(snap);
    {
        char path[1200];
        s_seg_path(path, sizeof path, snap, snap->n - 1);
        last->data[at + JK_WAL_RECORD_HEADER_BYTES - 1] ^= 1;   /* the type byte */
        s_write_file(path, last->data, last->len);
        last->data[at + JK_WAL_RECORD_HEADER_BYTES - 1] ^= 1;
    }
    s_expect_corrupt(last->name, at, "followed by a valid record");
    s_snap_take(now);
    assert_int_equal(now->f[now->n - 1].len, last->len);
    s_snap_free(now);

    /* An impossible length in the middle of the last segment: same. */
    s_snap_restore(snap);
    {
        char path[1200];
        s_seg_path(path, sizeof path, snap, snap->n - 1);
        uint8_t saved[4];
        memcpy(saved, last->data + at, 4);
        memset(last->data + at, 0xff, 4);
        s_write_file(path, last->data, last->len);
        memcpy(last->data + at, saved, 4);
    }
    s_expect_corrupt(last->name, at, "length above the bound");

    /* The same impossible length on the last record: a torn tail. */
    s_snap_restore(snap);
    {
        char path[1200];
        s_seg_path(path, sizeof path, snap, snap->n - 1);
        size_t lastoff = offs[nlast - 1];
        uint8_t saved[4];
        memcpy(saved, last->data + lastoff, 4);
        memset(last->data + lastoff, 0xff, 4);
        s_write_file(path, last->data, last->len);
        memcpy(last->data + lastoff, saved, 4);
    }
    s_check_t c = { .first = 1 };
    jk_wal_replay_stats_t rs;
    jk_wal_t *w = s_open_replay(S_SMALL_SEGMENT_BYTES, &c, &rs);
    assert_int_equal(rs.torn_tails, 1);
    jk_wal_destroy(&w);

    /* A bad byte in a segment that is not the last: corruption, even on its
     * last record. */
    size_t nmid = s_record_offsets(mid->data, mid->len, offs, 512);
    at = offs[nmid - 1];
    s_snap_restore(snap);
    {
        char path[1200];
        s_seg_path(path, sizeof path, snap, 1);
        mid->data[mid->len - 1] ^= 0x40;
        s_write_file(path, mid->data, mid->len);
        mid->data[mid->len - 1] ^= 0x40;
    }
    s_expect_corrupt(mid->name, at, "not the last");

    /* A non-last segment cut short. */
    s_snap_restore(snap);
    {
        char path[1200];
        s_seg_path(path, sizeof path, snap, 1);
        assert_int_equal(truncate(path, (off_t)(mid->len - 3)), 0);
    }
    s_expect_corrupt(mid->name, at, "not the last");

    /* A non-last segment cut exactly at a record boundary: the next
     * segment does not join. */
    s_snap_restore(snap);
    {
        char path[1200];
        s_seg_path(path, sizeof path, snap, 1);
        assert_int_equal(truncate(path, (off_t)at), 0);
    }
    s_expect_corrupt(snap->f[2].name, 16, "missing or was cut short");

    /* A missing segment in the middle. */
    s_snap_restore(snap);
    {
        char path[1200];
        s_seg_path(path, sizeof path, snap, 1);
        assert_int_equal(unlink(path), 0);
    }
    s_expect_corrupt(snap->f[2].name, 16, "missing or was cut short");

    /* Headers: bad magic, bad header checksum, another version, a name that
     * does not match the header, a file shorter than a header. */
    jk_error_t e;
    char path[1200];
    s_seg_path(path, sizeof path, snap, 1);
    s_snap_restore(snap);
    mid->data[0] ^= 0x20;
    s_write_file(path, mid->data, mid->len);
    mid->data[0] ^= 0x20;
    assert_null(jk_wal_open(s_dir, NULL, &e));
    assert_int_equal(e.code, JK_ERR_PARSE);
    assert_non_null(strstr(e.msg, mid->name));
    assert_non_null(strstr(e.msg, "magic"));

    s_snap_restore(snap);
    mid->data[20] ^= 0x01;
    s_write_file(path, mid->data, mid->len);
    mid->data[20] ^= 0x01;
    assert_null(jk_wal_open(s_dir, NULL, &e));
    assert_int_equal(e.code, JK_ERR_PARSE);
    assert_non_null(strstr(e.msg, "header checksum"));

    s_snap_restore(snap);
    {
        uint8_t h[JK_WAL_SEGMENT_HEADER_BYTES];
        memcpy(h, mid->data, sizeof h);
        h[8] = 2;   /* version 2 */
        uint32_t crc = jk_wal_crc32c(0, h, 28);
        h[28] = (uint8_t)crc;
        h[29] = (uint8_t)(crc >> 8);
        h[30] = (uint8_t)(crc >> 16);
        h[31] = (uint8_t)(crc >> 24);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, h, sizeof h, 0), (ssize_t)sizeof h);
        close(fd);
    }
    assert_null(jk_wal_open(s_dir, NULL, &e));
    assert_int_equal(e.code, JK_ERR_VERSION);

    s_snap_restore(snap);
    {
        char other[1200];
        snprintf(other, sizeof other, "%s/wal-00000000000fffff.log", s_dir);
        assert_int_equal(rename(path, other), 0);
        assert_null(jk_wal_open(s_dir, NULL, &e));
        assert_int_equal(e.code, JK_ERR_PARSE);
        assert_non_null(strstr(e.msg, "the file name says"));
        unlink(other);
    }

    s_snap_restore(snap);
    assert_int_equal(truncate(path, 20), 0);
    assert_null(jk_wal_open(s_dir, NULL, &e));
    assert_int_equal(e.code, JK_ERR_PARSE);
    assert_non_null(strstr(e.msg, "truncated"));

    /* Untouched, the log still reads whole. */
    s_snap_restore(snap);
    memset(&c, 0, sizeof c);
    c.first = 1;
    w = s_open_replay(S_SMALL_SEGMENT_BYTES, &c, &rs);
    assert_int_equal(rs.torn_tails, 0);
    jk_wal_destroy(&w);
    s_snap_free(snap);
    free(snap);
    free(now);
}

/* A payload that carries the bytes of a well-formed record (as a candidate
 * could type into an answer), torn at a crash: still a torn tail, because
 * record checksums are salted per segment. */
static void test_forged_record_in_torn_tail(void **state)
{
    (void)state;
    jk_wal_t *w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_error_t e;
    assert_int_equal(jk_wal_replay(w, NULL, NULL, NULL, &e), JK_OK);
    s_append_gen(w, 5);
    uint8_t forged[64];
    memset(forged, 'a', sizeof forged);
    /* [len 20][plain CRC-32C][type 1][20 bytes] at offset 10. */
    uint8_t *r = forged + 10;
    r[0] = 20;
    r[1] = r[2] = r[3] = 0;
    r[8] = 1;
    uint32_t crc = jk_wal_crc32c(0, r + 8, 21);
    r[4] = (uint8_t)crc;
    r[5] = (uint8_t)(crc >> 8);
    r[6] = (uint8_t)(crc >> 16);
    r[7] = (uint8_t)(crc >> 24);
    uint64_t lsn;
    assert_int_equal(jk_wal_append(w, 3, forged, sizeof forged, &lsn, &e), JK_OK);
    s_commit(w);
    jk_wal_destroy(&w);

    s_snap_t *snap = calloc(1, sizeof *snap);
    assert_non_null(snap);
    s_snap_take(snap);
    char path[1200];
    s_seg_path(path, sizeof path, snap, snap->n - 1);
    /* Cut inside the forged record's payload, past its end. */
    size_t size = snap->f[snap->n - 1].len;
    assert_int_equal(truncate(path, (off_t)(size - 10)), 0);
    s_check_t c = { .first = 1 };
    jk_wal_replay_stats_t rs;
    w = s_open_replay(S_SMALL_SEGMENT_BYTES, &c, &rs);
    assert_int_equal(c.count, 5);
    assert_int_equal(rs.torn_tails, 1);
    jk_wal_destroy(&w);
    s_snap_free(snap);
    free(snap);
}

/* ---- compaction ---- */

static void test_release_before(void **state)
{
    (void)state;
    jk_wal_t *w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_error_t e;
    assert_int_equal(jk_wal_replay(w, NULL, NULL, NULL, &e), JK_OK);
    for (int i = 0; i < 50; i++) {
        s_append_gen(w, 10);
        s_commit(w);
    }
    s_snap_t *snap = calloc(1, sizeof *snap);
    assert_non_null(snap);
    s_snap_take(snap);
    size_t n = snap->n;
    assert_true(n >= 6);
    uint64_t first[S_MAX_FILES];
    for (size_t i = 0; i < n; i++)
        first[i] = strtoull(snap->f[i].name + 4, NULL, 16);
    s_snap_free(snap);
    assert_int_equal(first[0], 1);

    unsigned released = 99;
    /* Below the end of segment 0: nothing. */
    assert_int_equal(jk_wal_release_before(w, first[1] - 1, &released, &e), JK_OK);
    assert_int_equal(released, 0);
    assert_int_equal(s_count_segments(), n);
    /* Exactly the first LSN of segment 1: segment 0 goes. */
    assert_int_equal(jk_wal_release_before(w, first[1], &released, &e), JK_OK);
    assert_int_equal(released, 1);
    assert_int_equal(s_count_segments(), n - 1);
    /* Inside segment 3: segments 1 and 2 go. */
    assert_int_equal(jk_wal_release_before(w, first[3] + 1, &released, &e), JK_OK);
    assert_int_equal(released, 2);
    s_snap_take(snap);
    assert_int_equal(snap->n, n - 3);
    assert_int_equal(strtoull(snap->f[0].name + 4, NULL, 16), first[3]);
    s_snap_free(snap);
    /* Lower again: nothing. */
    assert_int_equal(jk_wal_release_before(w, 1, &released, &e), JK_OK);
    assert_int_equal(released, 0);
    /* Beyond the next LSN: refused. */
    assert_int_equal(jk_wal_release_before(w, jk_wal_next_lsn(w) + 1, &released, &e), JK_ERR_RANGE);

    /* A later replay starts at the first remaining segment. */
    s_check_t c = { .first = first[3] };
    jk_wal_replay_stats_t rs;
    assert_int_equal(jk_wal_replay(w, s_check_fn, &c, &rs, &e), JK_OK);
    assert_int_equal(c.bad, 0);
    assert_int_equal(rs.first_lsn, first[3]);
    assert_int_equal(rs.last_lsn, 500);
    assert_int_equal(rs.segments, n - 3);

    /* Everything needed is past the end: all but the current segment go. */
    assert_int_equal(jk_wal_release_before(w, jk_wal_next_lsn(w), &released, &e), JK_OK);
    assert_int_equal(released, n - 4);
    assert_int_equal(s_count_segments(), 1);
    assert_int_equal(jk_wal_release_before(w, jk_wal_next_lsn(w), &released, &e), JK_OK);
    assert_int_equal(released, 0);
    jk_wal_stats_t st;
    jk_wal_stats(w, &st);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.segments_released, n - 1);
    jk_wal_destroy(&w);

    /* Reopen: the log starts at the current segment's first LSN and goes
     * on from 501. */
    memset(&c, 0, sizeof c);
    c.first = first[n - 1];
    w = s_open_replay(S_SMALL_SEGMENT_BYTES, &c, &rs);
    assert_int_equal(rs.first_lsn, first[n - 1]);
    assert_int_equal(jk_wal_next_lsn(w), 501);
    s_append_gen(w, 1);
    s_commit(w);
    jk_wal_destroy(&w);
    free(snap);
}

/* ---- states, lock, leftovers ---- */

typedef struct {
    jk_wal_t *w;
    jk_err_t append_rc, replay_rc, commit_rc, release_rc;
    uint64_t calls;
} s_reentry_t;

static jk_err_t s_reentry_fn(void *ud, uint64_t lsn, uint8_t type, const uint8_t *p, size_t len)
{
    (void)lsn;
    (void)type;
    (void)p;
    (void)len;
    s_reentry_t *r = ud;
    jk_error_t e;
    uint64_t l;
    r->append_rc = jk_wal_append(r->w, 1, "x", 1, &l, &e);
    r->commit_rc = jk_wal_commit(r->w, NULL, &e);
    r->release_rc = jk_wal_release_before(r->w, 1, NULL, &e);
    r->replay_rc = jk_wal_replay(r->w, NULL, NULL, NULL, &e);
    return ++r->calls == 3 ? JK_ERR_FULL : JK_OK;
}

static void test_states_and_lock(void **state)
{
    (void)state;
    jk_wal_t *w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_error_t e;
    /* One handle per directory, also within one process. */
    assert_null(jk_wal_open(s_dir, NULL, &e));
    assert_int_equal(e.code, JK_ERR_STATE);
    assert_non_null(strstr(e.msg, "open in another"));
    assert_int_equal(jk_wal_replay(w, NULL, NULL, NULL, &e), JK_OK);
    s_append_gen(w, 10);
    s_commit(w);

    /* Nothing may change the log from inside a replay; the callback's code
     * stops the replay. */
    s_reentry_t r = { .w = w };
    assert_int_equal(jk_wal_replay(w, s_reentry_fn, &r, NULL, &e), JK_ERR_FULL);
    assert_int_equal(r.calls, 3);
    assert_non_null(strstr(e.msg, "LSN 3"));
    assert_int_equal(r.append_rc, JK_ERR_STATE);
    assert_int_equal(r.commit_rc, JK_ERR_STATE);
    assert_int_equal(r.release_rc, JK_ERR_STATE);
    assert_int_equal(r.replay_rc, JK_ERR_STATE);
    s_append_gen(w, 1);
    s_commit(w);
    jk_wal_destroy(&w);

    /* A recovery stopped by its callback can be run again. */
    w = s_open(S_SMALL_SEGMENT_BYTES);
    memset(&r, 0, sizeof r);
    r.w = w;
    assert_int_equal(jk_wal_replay(w, s_reentry_fn, &r, NULL, &e), JK_ERR_FULL);
    uint64_t lsn;
    assert_int_equal(jk_wal_append(w, 1, "x", 1, &lsn, &e), JK_ERR_STATE);
    s_check_t c = { .first = 1 };
    assert_int_equal(jk_wal_replay(w, s_check_fn, &c, NULL, &e), JK_OK);
    assert_int_equal(c.count, 11);
    jk_wal_destroy(&w);

    /* A leftover temp file of an interrupted segment creation is removed;
     * other files are left alone. */
    char p[1200];
    snprintf(p, sizeof p, "%s/wal-00000000000000ff.log.tmp", s_dir);
    s_write_file(p, (const uint8_t *)"junk", 4);
    snprintf(p, sizeof p, "%s/README", s_dir);
    s_write_file(p, (const uint8_t *)"notes", 5);
    memset(&c, 0, sizeof c);
    c.first = 1;
    jk_wal_replay_stats_t rs;
    w = s_open_replay(S_SMALL_SEGMENT_BYTES, &c, &rs);
    assert_int_equal(c.count, 11);
    snprintf(p, sizeof p, "%s/wal-00000000000000ff.log.tmp", s_dir);
    assert_int_equal(access(p, F_OK), -1);
    snprintf(p, sizeof p, "%s/README", s_dir);
    assert_int_equal(access(p, F_OK), 0);
    jk_wal_destroy(&w);
    unlink(p);
}

/* ---- a failed write: the log refuses until reopened ---- */

static void test_write_failure(void **state)
{
    (void)state;
    jk_wal_t *w = s_open(S_SMALL_SEGMENT_BYTES);
    jk_error_t e;
    assert_int_equal(jk_wal_replay(w, NULL, NULL, NULL, &e), JK_OK);
    s_append_gen(w, 10);
    s_commit(w);
    jk_wal_destroy(&w);
    s_snap_t *snap = calloc(1, sizeof *snap);
    assert_non_null(snap);
    s_snap_take(snap);
    assert_int_equal(snap->n, 1);
    size_t size = snap->f[0].len;
    s_snap_free(snap);
    free(snap);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child: files may not grow past size + 100 bytes. */
        signal(SIGXFSZ, SIG_IGN);
        jk_wal_t *cw = s_open(S_SMALL_SEGMENT_BYTES);
        jk_error_t ce;
        if (jk_wal_replay(cw, NULL, NULL, NULL, &ce) != JK_OK)
            _exit(10);
        struct rlimit rl = { (rlim_t)size + 100, (rlim_t)size + 100 };
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(11);
        uint8_t b[1000];
        memset(b, 'z', sizeof b);
        uint64_t l, d = 99;
        if (jk_wal_append(cw, 5, b, sizeof b, &l, &ce) != JK_OK || l != 11)
            _exit(12);
        if (jk_wal_commit(cw, &d, &ce) != JK_ERR_IO || d != 10 || !strstr(ce.msg, "write"))
            _exit(13);
        if (!jk_wal_failed(cw) || jk_wal_error(cw)->code != JK_ERR_IO)
            _exit(14);
        if (jk_wal_append(cw, 5, b, 1, &l, &ce) != JK_ERR_IO || !strstr(ce.msg, "reopened"))
            _exit(15);
        if (jk_wal_commit(cw, &d, &ce) != JK_ERR_IO || d != 10)
            _exit(16);
        if (jk_wal_release_before(cw, 1, NULL, &ce) != JK_ERR_IO)
            _exit(17);
        if (jk_wal_replay(cw, NULL, NULL, NULL, &ce) != JK_ERR_IO)
            _exit(18);
        if (jk_wal_durable_lsn(cw) != 10)
            _exit(19);
        jk_wal_destroy(&cw);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* What the short write left is a torn tail of exactly 100 bytes. */
    s_check_t c = { .first = 1 };
    jk_wal_replay_stats_t rs;
    w = s_open_replay(S_SMALL_SEGMENT_BYTES, &c, &rs);
    assert_int_equal(c.count, 10);
    assert_int_equal(rs.torn_tails, 1);
    assert_int_equal(rs.torn_bytes, 100);
    assert_false(jk_wal_failed(w));
    assert_int_equal(jk_wal_error(w)->code, JK_OK);
    jk_wal_destroy(&w);
}

/* ---- kill -9 while committing ---- */

#define S_KILL_ROUNDS 20
#define S_KILL_SEGMENT_BYTES (64u * 1024)

/* The child: recover, then append s_gen records in batches and commit,
 * reporting each durable LSN through the pipe, until killed. */
static void s_kill_child(int wfd, uint64_t seed)
{
    jk_wal_opts_t o = s_opts(S_KILL_SEGMENT_BYTES);
    jk_error_t e;
    jk_wal_t *w = jk_wal_open(s_dir, &o, &e);
    if (!w)
        _exit(20);
    if (jk_wal_replay(w, NULL, NULL, NULL, &e) != JK_OK)
        _exit(21);
    jk_rand_t r;
    jk_rand_seed(&r, seed);
    for (;;) {
        /* Mostly small batches, as examd's loop makes; now and then a big
         * one, whose write(2) spans many pages and segments, so that the
         * kill can land inside it and leave a torn tail. */
        uint64_t batch = jk_rand_below(&r, 4) == 0 ? 200 + jk_rand_below(&r, 600)
                                                   : 1 + jk_rand_below(&r, 20);
        for (uint64_t i = 0; i < batch; i++) {
            uint8_t type, buf[S_GEN_MAX_BYTES];
            uint64_t want = jk_wal_next_lsn(w), lsn;
            size_t len = s_gen(want, &type, buf);
            if (jk_wal_append(w, type, buf, len, &lsn, &e) != JK_OK || lsn != want)
                _exit(22);
        }
        uint64_t d;
        if (jk_wal_commit(w, &d, &e) != JK_OK)
            _exit(23);
        uint8_t msg[8];
        for (int k = 0; k < 8; k++)
            msg[k] = (uint8_t)(d >> (8 * k));
        if (write(wfd, msg, sizeof msg) != (ssize_t)sizeof msg)
            _exit(24);
    }
}

static void test_kill9_keeps_durable(void **state)
{
    (void)state;
    jk_rand_t r;
    uint64_t seed = (uint64_t)time(NULL);
    jk_rand_seed(&r, seed);
    uint64_t durable_max = 0, torn = 0;
    for (int round = 0; round < S_KILL_ROUNDS; round++) {
        int pfd[2];
        assert_int_equal(pipe(pfd), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(pfd[0]);
            s_kill_child(pfd[1], jk_rand_next(&r));
            _exit(25);
        }
        close(pfd[1]);
        /* Wait until the child has made a random number of new records
         * durable (so every round makes progress), then let it run a random
         * little longer and kill it wherever it is. */
        uint64_t target = durable_max + 1 + jk_rand_below(&r, 2000);
        uint64_t seen = durable_max;
        uint8_t buf[4096];
        size_t have = 0;
        bool killed = false;
        for (;;) {
            if (!killed && seen >= target) {
                struct timespec ts = { 0, (long)jk_rand_below(&r, 3000) * 1000 };
                nanosleep(&ts, NULL);
                assert_int_equal(kill(pid, SIGKILL), 0);
                killed = true;
            }
            ssize_t n = read(pfd[0], buf + have, sizeof buf - have);
            if (n < 0 && errno == EINTR)
                continue;
            assert_true(n >= 0);
            if (n == 0)
                break;   /* the child is gone: every report it made is read */
            have += (size_t)n;
            size_t i = 0;
            for (; i + 8 <= have; i += 8) {
                uint64_t d = 0;
                for (int k = 0; k < 8; k++)
                    d |= (uint64_t)buf[i + k] << (8 * k);
                assert_true(d >= seen);
                seen = d;
            }
            memmove(buf, buf + i, have - i);
            have -= i;
        }
        close(pfd[0]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!killed || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            fail_msg("round %d (seed %" PRIu64 "): child ended by itself (status %d)", round, seed, status);
        assert_int_equal(have, 0);   /* 8-byte writes to a pipe are atomic */

        /* Everything reported durable is there, in order, intact. */
        s_check_t c = { .first = 1 };
        jk_wal_replay_stats_t rs;
        jk_wal_t *w = s_open_replay(S_KILL_SEGMENT_BYTES, &c, &rs);
        if (c.count < seen)
            fail_msg("round %d (seed %" PRIu64 "): %" PRIu64 " records after recovery, %" PRIu64
                     " were reported durable", round, seed, c.count, seen);
        assert_int_equal(jk_wal_next_lsn(w), c.count + 1);
        torn += rs.torn_tails;
        jk_wal_destroy(&w);
        durable_max = c.count;
    }
    assert_true(s_count_segments() > 2);
    print_message("kill -9: %d rounds, %" PRIu64 " records, %" PRIu64 " torn tails cut\n", S_KILL_ROUNDS,
                  durable_max, torn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),
        cmocka_unit_test_setup_teardown(test_round_trip, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_record_bound, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_alone_in_segment, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_corruption_refused, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_forged_record_in_torn_tail, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_release_before, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_states_and_lock, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_write_failure, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_kill9_keeps_durable, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
