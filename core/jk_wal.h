/*
 * jk_wal: the exam node's write-ahead log. examd appends every session event
 * (and a few other records) here and acknowledges a candidate only once the
 * record is durable; after a crash (kill -9, power loss) it replays the log
 * to rebuild every session. docs/wal.md has the byte layout, the guarantees
 * and the recovery rules; this header has the contracts.
 *
 * Life of a log:
 *
 *   jk_wal_t *w = jk_wal_open(dir, &opts, &err);  // lock dir, check headers
 *   jk_wal_replay(w, fn, ud, &rs, &err);          // recover: every record in
 *                                                 // order, torn tail cut off
 *   loop: jk_wal_append(w, type, p, n, &lsn, &err) ... (buffers only)
 *         jk_wal_commit(w, &durable, &err)         // one fdatasync per batch
 *         acknowledge everything with lsn <= durable
 *   jk_wal_release_before(w, lowest_lsn_still_needed, &n, &err);
 *   jk_wal_destroy(&w);
 *
 * LSN: the record number, 1 for the first record ever written to the log,
 * +1 for each record; 0 means "none". LSNs above the durable LSN are
 * provisional: after a crash or a failed commit they are handed out again
 * (to different records), so they must never leave the process.
 *
 * Failure: a failed write(2) or fdatasync(2) leaves the page cache and the
 * file in an unknown state (after a failed fdatasync the kernel may have
 * dropped the dirty pages and a retry can "succeed" without writing them).
 * The log therefore refuses every further append and commit with JK_ERR_IO
 * (jk_wal_failed() is true) until it is destroyed and opened again, which
 * re-reads what is really on disk. The caller must treat that as fatal for
 * durability: stop acknowledging, and restart or fail over.
 *
 * Not thread-safe: one thread owns a log (examd's event loop). One process
 * (and one handle) per directory: a second open of the same directory fails
 * while the first handle is alive (flock on `wal.lock`).
 */
#ifndef JK_WAL_H
#define JK_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jk_clock.h"
#include "jk_err.h"

/* Largest payload of one record, checked on append and on read. */
#define JK_WAL_RECORD_MAX_BYTES (1024u * 1024u)
/* Record header: u32 payload length, u32 checksum, u8 type. */
#define JK_WAL_RECORD_HEADER_BYTES 9u
/* Segment header: magic, version, header size, first LSN, salt, CRC. */
#define JK_WAL_SEGMENT_HEADER_BYTES 32u
#define JK_WAL_FORMAT_VERSION 1u

/* Bounds and defaults of the options (for examd's config table). */
#define JK_WAL_SEGMENT_DEFAULT_BYTES (64ull * 1024 * 1024)
#define JK_WAL_SEGMENT_MIN_BYTES 4096ull
#define JK_WAL_SEGMENT_MAX_BYTES (1024ull * 1024 * 1024)
#define JK_WAL_PENDING_DEFAULT_BYTES (64ull * 1024 * 1024)
#define JK_WAL_PENDING_MIN_BYTES \
    ((unsigned long long)JK_WAL_RECORD_MAX_BYTES + JK_WAL_RECORD_HEADER_BYTES)
#define JK_WAL_PENDING_MAX_BYTES (1024ull * 1024 * 1024)

typedef struct jk_wal jk_wal_t;

typedef struct {
    /* Start a new segment when the next record would take the current one
     * past this size; a record larger than this goes alone into a segment.
     * [JK_WAL_SEGMENT_MIN_BYTES, JK_WAL_SEGMENT_MAX_BYTES]. */
    uint64_t segment_bytes;
    /* Bound on bytes appended but not yet committed (append answers
     * JK_ERR_FULL past it). [JK_WAL_PENDING_MIN_BYTES, ..._MAX_BYTES]. */
    uint64_t max_pending_bytes;
    /* Clock for the fsync timings; NULL = jk_clock_system(). Borrowed: must
     * outlive the log. */
    const jk_clock_t *clock;
} jk_wal_opts_t;

/* Fills *o with the defaults. */
void jk_wal_opts_default(jk_wal_opts_t *o);

/* Opens (creating it, mode 0700, if missing) the log in directory dir:
 * takes the directory's lock, removes temporary files left by a crash while
 * a segment was being created, lists the segments `wal-<16 hex>.log` in LSN
 * order and checks each header (magic, version, CRC, first LSN = name). An
 * empty directory gets its first segment (first LSN 1). opts NULL = the
 * defaults. Does not read records: call jk_wal_replay() next (appends are
 * refused until a replay has completed).
 * Returns the log, or NULL with *err set: JK_ERR_INVAL (no directory),
 * JK_ERR_RANGE (options), JK_ERR_TOO_BIG (directory path, too many segment
 * files),
 * JK_ERR_STATE (directory locked by another handle), JK_ERR_PARSE (bad
 * header, naming the file), JK_ERR_VERSION, JK_ERR_IO, JK_ERR_NOMEM. */
jk_wal_t *jk_wal_open(const char *dir, const jk_wal_opts_t *opts, jk_error_t *err);

/* Closes the log and frees it; sets *w to NULL; accepts NULL and *w NULL.
 * Records appended but not committed are discarded (they were never
 * durable); commit first to keep them. */
void jk_wal_destroy(jk_wal_t **w);

/* Called once per record, in LSN order. payload points into a read-only
 * mapping valid only during the call (copy what you keep); len <=
 * JK_WAL_RECORD_MAX_BYTES; type >= 1. Return JK_OK to go on; any other code
 * stops the replay and is returned by jk_wal_replay(). */
typedef jk_err_t (*jk_wal_replay_fn)(void *ud, uint64_t lsn, uint8_t type,
                                     const uint8_t *payload, size_t len);

typedef struct {
    uint64_t segments;        /* segment files read */
    uint64_t records;         /* records delivered to fn */
    uint64_t bytes;           /* bytes of those records, headers included */
    uint64_t first_lsn;       /* LSN of the first record delivered; 0 = none */
    uint64_t last_lsn;        /* LSN of the last record delivered; 0 = none */
    uint64_t torn_tails;      /* torn tails cut off (0 or 1) */
    uint64_t torn_bytes;      /* bytes cut off with them */
} jk_wal_replay_stats_t;

/* Reads every durable record in order and calls fn (may be NULL: check
 * only) for each. stats (may be NULL) is filled.
 *
 * The first successful replay is the recovery: an invalid record (length
 * above the bound or past the end of the file, checksum mismatch, type 0)
 * at the tail of the last segment with no valid record after it is a torn
 * write: the segment is truncated there (ftruncate + fsync), the cut is
 * counted and logged, and appends continue after the last valid record. An
 * invalid record in a non-last segment, or one followed by a valid record,
 * or a gap in LSNs between segments, is corruption: JK_ERR_PARSE naming the
 * file and the byte offset; nothing is truncated. Records before the bad
 * one have already been delivered: the caller must treat JK_ERR_PARSE as
 * fatal (the log is incomplete; an operator decides).
 *
 * Later calls (e.g. to resend a session's events) read the committed
 * records again; any invalid record is then corruption (the file changed
 * under the log); bytes appended but not committed are not read.
 * Returns JK_OK; fn's code (err says at which LSN); JK_ERR_PARSE; JK_ERR_IO
 * (also: the log failed earlier); JK_ERR_STATE (called from inside fn). */
jk_err_t jk_wal_replay(jk_wal_t *w, jk_wal_replay_fn fn, void *ud,
                       jk_wal_replay_stats_t *stats, jk_error_t *err);

/* Buffers one record (no system call) and sets *lsn (may be NULL) to its
 * LSN. The record is durable only once a later jk_wal_commit() returns a
 * durable LSN >= it. type must be >= 1 (0 marks invalid data); payload may
 * be NULL when len is 0.
 * Returns JK_OK; JK_ERR_INVAL (type 0, NULL payload); JK_ERR_TOO_BIG (len >
 * JK_WAL_RECORD_MAX_BYTES); JK_ERR_FULL (max_pending_bytes reached: commit
 * first); JK_ERR_STATE (no replay yet, or inside a replay); JK_ERR_IO (the
 * log failed earlier); JK_ERR_NOMEM. Nothing is buffered on error. */
jk_err_t jk_wal_append(jk_wal_t *w, uint8_t type, const void *payload, size_t len,
                       uint64_t *lsn, jk_error_t *err);

/* Writes every record appended since the last commit (one pwrite(2) per
 * segment touched, retried on EINTR and short writes), then one
 * fdatasync(2); a roll to a new segment syncs the old one first and creates
 * the new one durably (temp file, fsync, rename, fsync of the directory).
 * With nothing pending it makes no system call. Sets *durable_lsn (may be
 * NULL) to the highest LSN known durable (0 = none).
 * Returns JK_OK; JK_ERR_IO when a write, sync or segment creation failed:
 * the log is then failed (see the top of this file) and *durable_lsn still
 * receives the durable LSN of before this commit; JK_ERR_STATE (no replay
 * yet, or inside a replay). */
jk_err_t jk_wal_commit(jk_wal_t *w, uint64_t *durable_lsn, jk_error_t *err);

/* Highest durable LSN (0 = none, or before the first replay). */
uint64_t jk_wal_durable_lsn(const jk_wal_t *w);
/* LSN the next append will get (0 before the first replay). */
uint64_t jk_wal_next_lsn(const jk_wal_t *w);

/* Deletes, oldest first, every segment all of whose records have LSN < lsn
 * (examd passes the lowest LSN still needed by an unreconciled session, or
 * jk_wal_next_lsn() when none is). Never deletes the current (last)
 * segment. Each unlink is followed by an fsync of the directory. Sets
 * *released (may be NULL) to the number of segments deleted.
 * Returns JK_OK; JK_ERR_RANGE (lsn > jk_wal_next_lsn()); JK_ERR_STATE (no
 * replay yet, or inside a replay); JK_ERR_IO (the log failed earlier, or an
 * unlink or directory fsync failed: the segments deleted before it stay
 * deleted and the log stays usable). */
jk_err_t jk_wal_release_before(jk_wal_t *w, uint64_t lsn, unsigned *released,
                               jk_error_t *err);

typedef struct {
    uint64_t bytes_written;     /* record bytes written by commits */
    uint64_t records;           /* records made durable by commits */
    uint64_t commits;           /* commits that wrote something */
    uint64_t fsyncs;            /* fdatasync/fsync calls on segments and dir */
    uint64_t fsync_us_total;    /* us spent in them */
    uint64_t fsync_us_max;      /* longest one, us */
    uint64_t segments;          /* segment files now */
    uint64_t segments_created;  /* by this handle */
    uint64_t segments_released; /* by this handle */
    uint64_t pending_bytes;     /* appended, not yet committed */
    uint64_t pending_records;
    uint64_t torn_tails;        /* cut off by this handle's recovery */
} jk_wal_stats_t;

/* Fills *out with the counters (for metrics). */
void jk_wal_stats(const jk_wal_t *w, jk_wal_stats_t *out);

/* True once a write or sync failed; jk_wal_error() then says why. */
bool jk_wal_failed(const jk_wal_t *w);
/* The error that failed the log (code JK_OK when it has not failed).
 * Borrowed; valid until the log is destroyed. */
const jk_error_t *jk_wal_error(const jk_wal_t *w);

/* CRC-32C (Castagnoli, as in iSCSI/ext4): crc is the value so far (0 to
 * start), so calls chain: c = jk_wal_crc32c(jk_wal_crc32c(0, a, n), b, m).
 * Uses SSE4.2 when the CPU has it, else a table. */
uint32_t jk_wal_crc32c(uint32_t crc, const void *buf, size_t len);
/* The table-driven implementation alone, for tests of both paths. */
uint32_t jk_wal_crc32c_table(uint32_t crc, const void *buf, size_t len);

#endif
