/*
 * jk_wal: the exam node's write-ahead log; contracts in jk_wal.h, format and
 * recovery rules in docs/wal.md.
 *
 * Design. A directory of segments `wal-<16 hex first LSN>.log`. A segment is
 * a 32-byte header then records `[u32 len][u32 crc][u8 type][payload]`,
 * little-endian, where crc = CRC-32C(type || payload) XOR the segment's salt
 * (a random u32 in its header). LSNs are record numbers and are not stored
 * per record: record k of a segment has LSN first_lsn + k, and consecutive
 * segments must join (next first LSN = previous first LSN + its records).
 *
 * Why the salt: recovery scans the bytes after an invalid record for any
 * valid record, to tell a torn tail (nothing valid after it: cut) from
 * corruption (valid data after it: refuse). Payloads carry candidate input;
 * with a plain CRC a candidate could type the bytes of a well-formed record
 * into an answer and, if the node crashed while writing it, make recovery
 * refuse to start. Without the salt such a fake cannot be built.
 *
 * Invariants that make recovery sound:
 *  - A segment appears in the directory only complete with its header
 *    (written to `<name>.tmp`, fdatasync'ed, renamed, directory fsync'ed).
 *  - The old segment is fdatasync'ed before the next one is created, so
 *    every non-last segment is whole; only the last one can have a torn
 *    tail.
 *  - A commit's fdatasync covers every byte before its records, so a record
 *    reported durable is never followed by a torn region that precedes it.
 *  - Segments are deleted oldest first with a directory fsync after each,
 *    so what survives a crash is always a contiguous run of LSNs.
 *
 * Buffers: appends encode into one pending buffer (the CRC is computed
 * there); a record that would take the segment past segment_bytes records a
 * "roll point" (buffer offset, first LSN, salt of the segment to come), so a
 * commit is one pwrite per segment touched plus one fdatasync. Segments are
 * read with mmap (no copy of a 64 MiB file into memory); the directory's
 * flock keeps other handles from truncating a mapped file.
 *
 * Rejected: byte-position LSNs (record numbers are dense, which examd's
 * per-session bookkeeping prefers, and survive compaction unchanged);
 * O_DIRECT and preallocated segments (faster fdatasync on some filesystems
 * but zero-filled tails make the torn-tail rule ambiguous and cost memory
 * alignment everywhere); checking records at open and again at replay (two
 * reads of the whole log at start).
 */
#include "jk_wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "jk_log.h"

#define S_MAGIC "JKWALSEG"
#define S_MAGIC_BYTES 8u
#define S_LOCK_NAME "wal.lock"
#define S_NAME_PREFIX "wal-"
#define S_NAME_SUFFIX ".log"
#define S_TMP_SUFFIX ".tmp"
#define S_NAME_HEX_DIGITS 16u
#define S_NAME_BYTES 40u               /* "wal-" 16 hex ".log.tmp" NUL, rounded up */
#define S_DIR_PATH_MAX_BYTES 3072u     /* leaves room for "/" + a segment name */
#define S_SEGMENTS_MAX 1000000u        /* more files than this is not a log we wrote */
/* Largest segment file the writer can produce: a full segment, or one record
 * too big for a segment alone after the header. */
#define S_SEGMENT_FILE_MAX_BYTES \
    (JK_WAL_SEGMENT_MAX_BYTES + JK_WAL_SEGMENT_HEADER_BYTES + JK_WAL_RECORD_HEADER_BYTES + \
     JK_WAL_RECORD_MAX_BYTES)
/* Bytes of checksum work the torn-tail scan may do before giving up and
 * calling the tail corrupt (fail safe). Honest torn tails cost a few KiB;
 * this only bounds the work crafted or random garbage could cause. */
#define S_SCAN_CRC_BUDGET_BYTES (256ull * 1024 * 1024)
#define S_PENDING_INITIAL_BYTES (64u * 1024)

/* Header layout (offsets in bytes). */
#define S_HDR_VERSION_OFF 8u
#define S_HDR_SIZE_OFF 12u
#define S_HDR_FIRST_LSN_OFF 16u
#define S_HDR_SALT_OFF 24u
#define S_HDR_CRC_OFF 28u

typedef struct {
    uint64_t first_lsn;
    uint64_t end_bytes;   /* valid end (file size) once recovered */
    uint32_t salt;
} s_segment_t;

typedef struct {
    size_t off;           /* offset in the pending buffer where it starts */
    uint64_t first_lsn;
    uint32_t salt;
} s_roll_t;

struct jk_wal {
    char *dir;
    int dir_fd;
    int lock_fd;
    int cur_fd;                 /* last segment, O_RDWR */
    uint64_t cur_bytes;         /* its durable-or-written size */
    bool cur_dirty;             /* written since its last fdatasync */

    s_segment_t *segs;          /* on disk, LSN order; last = current */
    size_t nsegs, segs_cap;

    uint8_t *pend;              /* encoded records not yet written */
    size_t pend_len, pend_cap;
    uint64_t pend_records;
    s_roll_t *rolls;
    size_t nrolls, rolls_cap;
    uint64_t tail_bytes;        /* size the last segment will have after commit */
    uint32_t tail_salt;         /* salt of the segment the next record goes to */

    uint64_t next_lsn;          /* 0 until recovered */
    uint64_t durable_lsn;
    bool recovered;
    bool in_replay;
    bool failed;
    jk_error_t fail;

    jk_wal_opts_t opts;
    jk_wal_stats_t st;
};

/* ---- CRC-32C ---- */

static const uint32_t s_crc_table[256] = {
    0x00000000u, 0xf26b8303u, 0xe13b70f7u, 0x1350f3f4u, 0xc79a971fu, 0x35f1141cu,
    0x26a1e7e8u, 0xd4ca64ebu, 0x8ad958cfu, 0x78b2dbccu, 0x6be22838u, 0x9989ab3bu,
    0x4d43cfd0u, 0xbf284cd3u, 0xac78bf27u, 0x5e133c24u, 0x105ec76fu, 0xe235446cu,
    0xf165b798u, 0x030e349bu, 0xd7c45070u, 0x25afd373u, 0x36ff2087u, 0xc494a384u,
    0x9a879fa0u, 0x68ec1ca3u, 0x7bbcef57u, 0x89d76c54u, 0x5d1d08bfu, 0xaf768bbcu,
    0xbc267848u, 0x4e4dfb4bu, 0x20bd8edeu, 0xd2d60dddu, 0xc186fe29u, 0x33ed7d2au,
    0xe72719c1u, 0x154c9ac2u, 0x061c6936u, 0xf477ea35u, 0xaa64d611u, 0x580f5512u,
    0x4b5fa6e6u, 0xb93425e5u, 0x6dfe410eu, 0x9f95c20du, 0x8cc531f9u, 0x7eaeb2fau,
    0x30e349b1u, 0xc288cab2u, 0xd1d83946u, 0x23b3ba45u, 0xf779deaeu, 0x05125dadu,
    0x1642ae59u, 0xe4292d5au, 0xba3a117eu, 0x4851927du, 0x5b016189u, 0xa96ae28au,
    0x7da08661u, 0x8fcb0562u, 0x9c9bf696u, 0x6ef07595u, 0x417b1dbcu, 0xb3109ebfu,
    0xa0406d4bu, 0x522bee48u, 0x86e18aa3u, 0x748a09a0u, 0x67dafa54u, 0x95b17957u,
    0xcba24573u, 0x39c9c670u, 0x2a993584u, 0xd8f2b687u, 0x0c38d26cu, 0xfe53516fu,
    0xed03a29bu, 0x1f682198u, 0x5125dad3u, 0xa34e59d0u, 0xb01eaa24u, 0x42752927u,
    0x96bf4dccu, 0x64d4cecfu, 0x77843d3bu, 0x85efbe38u, 0xdbfc821cu, 0x2997011fu,
    0x3ac7f2ebu, 0xc8ac71e8u, 0x1c661503u, 0xee0d9600u, 0xfd5d65f4u, 0x0f36e6f7u,
    0x61c69362u, 0x93ad1061u, 0x80fde395u, 0x72966096u, 0xa65c047du, 0x5437877eu,
    0x4767748au, 0xb50cf789u, 0xeb1fcbadu, 0x197448aeu, 0x0a24bb5au, 0xf84f3859u,
    0x2c855cb2u, 0xdeeedfb1u, 0xcdbe2c45u, 0x3fd5af46u, 0x7198540du, 0x83f3d70eu,
    0x90a324fau, 0x62c8a7f9u, 0xb602c312u, 0x44694011u, 0x5739b3e5u, 0xa55230e6u,
    0xfb410cc2u, 0x092a8fc1u, 0x1a7a7c35u, 0xe811ff36u, 0x3cdb9bddu, 0xceb018deu,
    0xdde0eb2au, 0x2f8b6829u, 0x82f63b78u, 0x709db87bu, 0x63cd4b8fu, 0x91a6c88cu,
    0x456cac67u, 0xb7072f64u, 0xa457dc90u, 0x563c5f93u, 0x082f63b7u, 0xfa44e0b4u,
    0xe9141340u, 0x1b7f9043u, 0xcfb5f4a8u, 0x3dde77abu, 0x2e8e845fu, 0xdce5075cu,
    0x92a8fc17u, 0x60c37f14u, 0x73938ce0u, 0x81f80fe3u, 0x55326b08u, 0xa759e80bu,
    0xb4091bffu, 0x466298fcu, 0x1871a4d8u, 0xea1a27dbu, 0xf94ad42fu, 0x0b21572cu,
    0xdfeb33c7u, 0x2d80b0c4u, 0x3ed04330u, 0xccbbc033u, 0xa24bb5a6u, 0x502036a5u,
    0x4370c551u, 0xb11b4652u, 0x65d122b9u, 0x97baa1bau, 0x84ea524eu, 0x7681d14du,
    0x2892ed69u, 0xdaf96e6au, 0xc9a99d9eu, 0x3bc21e9du, 0xef087a76u, 0x1d63f975u,
    0x0e330a81u, 0xfc588982u, 0xb21572c9u, 0x407ef1cau, 0x532e023eu, 0xa145813du,
    0x758fe5d6u, 0x87e466d5u, 0x94b49521u, 0x66df1622u, 0x38cc2a06u, 0xcaa7a905u,
    0xd9f75af1u, 0x2b9cd9f2u, 0xff56bd19u, 0x0d3d3e1au, 0x1e6dcdeeu, 0xec064eedu,
    0xc38d26c4u, 0x31e6a5c7u, 0x22b65633u, 0xd0ddd530u, 0x0417b1dbu, 0xf67c32d8u,
    0xe52cc12cu, 0x1747422fu, 0x49547e0bu, 0xbb3ffd08u, 0xa86f0efcu, 0x5a048dffu,
    0x8ecee914u, 0x7ca56a17u, 0x6ff599e3u, 0x9d9e1ae0u, 0xd3d3e1abu, 0x21b862a8u,
    0x32e8915cu, 0xc083125fu, 0x144976b4u, 0xe622f5b7u, 0xf5720643u, 0x07198540u,
    0x590ab964u, 0xab613a67u, 0xb831c993u, 0x4a5a4a90u, 0x9e902e7bu, 0x6cfbad78u,
    0x7fab5e8cu, 0x8dc0dd8fu, 0xe330a81au, 0x115b2b19u, 0x020bd8edu, 0xf0605beeu,
    0x24aa3f05u, 0xd6c1bc06u, 0xc5914ff2u, 0x37faccf1u, 0x69e9f0d5u, 0x9b8273d6u,
    0x88d28022u, 0x7ab90321u, 0xae7367cau, 0x5c18e4c9u, 0x4f48173du, 0xbd23943eu,
    0xf36e6f75u, 0x0105ec76u, 0x12551f82u, 0xe03e9c81u, 0x34f4f86au, 0xc69f7b69u,
    0xd5cf889du, 0x27a40b9eu, 0x79b737bau, 0x8bdcb4b9u, 0x988c474du, 0x6ae7c44eu,
    0xbe2da0a5u, 0x4c4623a6u, 0x5f16d052u, 0xad7d5351u,
};

uint32_t jk_wal_crc32c_table(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t c = ~crc;
    while (len--)
        c = s_crc_table[(c ^ *p++) & 0xffu] ^ (c >> 8);
    return ~c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define S_HAVE_SSE42 1
__attribute__((target("sse4.2")))
static uint32_t s_crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t c = (uint32_t)~crc;
    while (len > 0 && ((uintptr_t)p & 7u)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);   /* aligned here; memcpy keeps UBSan and aliasing happy */
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        len -= 8;
    }
    while (len--)
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#endif

uint32_t jk_wal_crc32c(uint32_t crc, const void *buf, size_t len)
{
#ifdef S_HAVE_SSE42
    if (__builtin_cpu_supports("sse4.2"))
        return s_crc32c_sse42(crc, buf, len);
#endif
    return jk_wal_crc32c_table(crc, buf, len);
}

/* ---- small helpers ---- */

static void s_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void s_put_le64(uint8_t *p, uint64_t v)
{
    s_put_le32(p, (uint32_t)v);
    s_put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t s_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t s_get_le64(const uint8_t *p)
{
    return (uint64_t)s_get_le32(p) | (uint64_t)s_get_le32(p + 4) << 32;
}

static void s_segment_name(char out[S_NAME_BYTES], uint64_t first_lsn, bool tmp)
{
    snprintf(out, S_NAME_BYTES, S_NAME_PREFIX "%016" PRIx64 S_NAME_SUFFIX "%s", first_lsn,
             tmp ? S_TMP_SUFFIX : "");
}

/* Parses "wal-<16 lower-case hex>.log" (tmp: with ".tmp" after it). */
static bool s_parse_name(const char *name, bool tmp, uint64_t *lsn)
{
    size_t plen = sizeof S_NAME_PREFIX - 1, slen = sizeof S_NAME_SUFFIX - 1;
    size_t tlen = tmp ? sizeof S_TMP_SUFFIX - 1 : 0;
    if (strlen(name) != plen + S_NAME_HEX_DIGITS + slen + tlen)
        return false;
    if (memcmp(name, S_NAME_PREFIX, plen) != 0 ||
        memcmp(name + plen + S_NAME_HEX_DIGITS, S_NAME_SUFFIX, slen) != 0 ||
        (tmp && memcmp(name + plen + S_NAME_HEX_DIGITS + slen, S_TMP_SUFFIX, tlen) != 0))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < S_NAME_HEX_DIGITS; i++) {
        char ch = name[plen + i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *lsn = v;
    return true;
}

static void s_encode_header(uint8_t h[JK_WAL_SEGMENT_HEADER_BYTES], uint64_t first_lsn, uint32_t salt)
{
    memset(h, 0, JK_WAL_SEGMENT_HEADER_BYTES);
    memcpy(h, S_MAGIC, S_MAGIC_BYTES);
    s_put_le32(h + S_HDR_VERSION_OFF, JK_WAL_FORMAT_VERSION);
    s_put_le32(h + S_HDR_SIZE_OFF, JK_WAL_SEGMENT_HEADER_BYTES);
    s_put_le64(h + S_HDR_FIRST_LSN_OFF, first_lsn);
    s_put_le32(h + S_HDR_SALT_OFF, salt);
    s_put_le32(h + S_HDR_CRC_OFF, jk_wal_crc32c(0, h, S_HDR_CRC_OFF));
}

/* Checks a segment header read from the file `name` whose name says
 * name_lsn; sets *salt. */
static jk_err_t s_check_header(const uint8_t *h, size_t have, const char *path, uint64_t name_lsn,
                               uint32_t *salt, jk_error_t *err)
{
    if (have < JK_WAL_SEGMENT_HEADER_BYTES)
        return jk_error_set(err, JK_ERR_PARSE, "%s: offset 0: segment header truncated (%zu of %u bytes)",
                            path, have, JK_WAL_SEGMENT_HEADER_BYTES);
    if (memcmp(h, S_MAGIC, S_MAGIC_BYTES) != 0)
        return jk_error_set(err, JK_ERR_PARSE, "%s: offset 0: not a jikao WAL segment (bad magic)", path);
    if (s_get_le32(h + S_HDR_CRC_OFF) != jk_wal_crc32c(0, h, S_HDR_CRC_OFF))
        return jk_error_set(err, JK_ERR_PARSE, "%s: offset %u: segment header checksum mismatch", path,
                            S_HDR_CRC_OFF);
    uint32_t version = s_get_le32(h + S_HDR_VERSION_OFF);
    if (version != JK_WAL_FORMAT_VERSION)
        return jk_error_set(err, JK_ERR_VERSION, "%s: offset %u: segment format version %" PRIu32
                            " (this build reads %u)", path, S_HDR_VERSION_OFF, version, JK_WAL_FORMAT_VERSION);
    uint32_t hsize = s_get_le32(h + S_HDR_SIZE_OFF);
    if (hsize != JK_WAL_SEGMENT_HEADER_BYTES)
        return jk_error_set(err, JK_ERR_PARSE, "%s: offset %u: header size %" PRIu32 ", expected %u", path,
                            S_HDR_SIZE_OFF, hsize, JK_WAL_SEGMENT_HEADER_BYTES);
    uint64_t first = s_get_le64(h + S_HDR_FIRST_LSN_OFF);
    if (first != name_lsn || first == 0)
        return jk_error_set(err, JK_ERR_PARSE, "%s: offset %u: header says first LSN %" PRIu64
                            ", the file name says %" PRIu64, path, S_HDR_FIRST_LSN_OFF, first, name_lsn);
    *salt = s_get_le32(h + S_HDR_SALT_OFF);
    return JK_OK;
}

static void s_path(const jk_wal_t *w, uint64_t first_lsn, char *out, size_t size)
{
    char name[S_NAME_BYTES];
    s_segment_name(name, first_lsn, false);
    snprintf(out, size, "%s/%s", w->dir, name);
}

#define S_PATH_BYTES (S_DIR_PATH_MAX_BYTES + S_NAME_BYTES + 2u)

/* Writes all of buf at offset off, retrying EINTR and short writes. */
static int s_pwrite_all(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {           /* no progress and no error: do not spin */
            errno = EIO;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* fdatasync (data = true) or fsync, timed into the stats. EINTR is retried:
 * it reports an interrupted wait, not lost data. Any other error is final
 * (see the failure rule in jk_wal.h). */
static int s_sync(jk_wal_t *w, int fd, bool data)
{
    const jk_clock_t *clk = w->opts.clock;
    int64_t t0 = jk_clock_mono_us(clk);
    int rc;
    do
        rc = data ? fdatasync(fd) : fsync(fd);
    while (rc < 0 && errno == EINTR);
    int saved = errno;
    int64_t dt = jk_clock_mono_us(clk) - t0;
    if (dt < 0)
        dt = 0;
    w->st.fsyncs++;
    w->st.fsync_us_total += (uint64_t)dt;
    if ((uint64_t)dt > w->st.fsync_us_max)
        w->st.fsync_us_max = (uint64_t)dt;
    errno = saved;
    return rc;
}

/* Marks the log failed with the message already in *e (copied). */
static jk_err_t s_fail(jk_wal_t *w, jk_error_t *e)
{
    w->failed = true;
    w->fail = *e;
    char b1[JK_LOG_VALUE_MAX], b2[JK_LOG_VALUE_MAX];
    JK_ERROR("wal.failed", "dir=%s reason=%s", jk_log_value(w->dir, b1), jk_log_value(e->msg, b2));
    return e->code;
}

static jk_err_t s_failed_error(const jk_wal_t *w, jk_error_t *err)
{
    return jk_error_set(err, JK_ERR_IO, "wal %s failed earlier and refuses writes until reopened: %s",
                        w->dir, w->fail.msg);
}

static jk_err_t s_segs_reserve(jk_wal_t *w, size_t need)
{
    if (need <= w->segs_cap)
        return JK_OK;
    size_t cap = w->segs_cap ? w->segs_cap : 8;
    while (cap < need)
        cap *= 2;
    s_segment_t *p = realloc(w->segs, cap * sizeof *p);
    if (!p)
        return JK_ERR_NOMEM;
    w->segs = p;
    w->segs_cap = cap;
    return JK_OK;
}

static jk_err_t s_new_salt(uint32_t *salt, jk_error_t *err)
{
    if (getentropy(salt, sizeof *salt) != 0)
        return jk_error_set(err, JK_ERR_IO, "wal: getentropy: %s", strerror(errno));
    return JK_OK;
}

/* Creates segment first_lsn with the given salt and makes it the current
 * one (cur_fd, cur_bytes), appending it to segs (capacity reserved by the
 * caller). The header goes to a temp file that is synced and then renamed,
 * so the segment never exists without its whole header; the directory is
 * then fsync'ed because fdatasync on the file does not make its name
 * durable: without it a crash could lose the whole segment, acknowledged
 * records included. */
static jk_err_t s_segment_create(jk_wal_t *w, uint64_t first_lsn, uint32_t salt, jk_error_t *err)
{
    char name[S_NAME_BYTES], tmp[S_NAME_BYTES];
    s_segment_name(name, first_lsn, false);
    s_segment_name(tmp, first_lsn, true);
    uint8_t h[JK_WAL_SEGMENT_HEADER_BYTES];
    s_encode_header(h, first_lsn, salt);
    jk_err_t rc = JK_OK;

    int fd = openat(w->dir_fd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s/%s: create: %s", w->dir, tmp, strerror(errno));
        goto cleanup;
    }
    if (s_pwrite_all(fd, h, sizeof h, 0) != 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s/%s: write header: %s", w->dir, tmp, strerror(errno));
        goto cleanup;
    }
    if (s_sync(w, fd, true) != 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s/%s: fdatasync: %s", w->dir, tmp, strerror(errno));
        goto cleanup;
    }
    if (renameat(w->dir_fd, tmp, w->dir_fd, name) != 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s/%s: rename to %s: %s", w->dir, tmp, name, strerror(errno));
        goto cleanup;
    }
    if (s_sync(w, w->dir_fd, false) != 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s: fsync of the directory: %s", w->dir, strerror(errno));
        goto cleanup;
    }
    if (w->cur_fd >= 0)
        close(w->cur_fd);
    w->cur_fd = fd;
    fd = -1;
    w->cur_bytes = JK_WAL_SEGMENT_HEADER_BYTES;
    w->cur_dirty = false;
    w->segs[w->nsegs++] = (s_segment_t){ first_lsn, JK_WAL_SEGMENT_HEADER_BYTES, salt };
    w->st.segments_created++;
    JK_DEBUG("wal.segment.create", "file=%s first_lsn=%" PRIu64, name, first_lsn);
cleanup:
    if (fd >= 0) {
        close(fd);
        unlinkat(w->dir_fd, tmp, 0);   /* best effort; open removes leftovers too */
    }
    return rc;
}

/* ---- open / destroy ---- */

void jk_wal_opts_default(jk_wal_opts_t *o)
{
    o->segment_bytes = JK_WAL_SEGMENT_DEFAULT_BYTES;
    o->max_pending_bytes = JK_WAL_PENDING_DEFAULT_BYTES;
    o->clock = NULL;
}

static int s_cmp_seg(const void *a, const void *b)
{
    uint64_t x = ((const s_segment_t *)a)->first_lsn, y = ((const s_segment_t *)b)->first_lsn;
    return x < y ? -1 : x > y;
}

/* Creates dir when missing and fsyncs its parent (so the new directory's
 * entry survives a crash along with the segments inside it). */
static jk_err_t s_ensure_dir(const char *dir, jk_error_t *err)
{
    if (mkdir(dir, 0700) == 0) {
        char *parent = strdup(dir);
        if (!parent)
            return jk_error_set(err, JK_ERR_NOMEM, "wal: out of memory");
        char *slash = strrchr(parent, '/');
        if (!slash)
            strcpy(parent, ".");
        else if (slash == parent)
            parent[1] = '\0';
        else
            *slash = '\0';
        int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int rc = pfd < 0 ? -1 : fsync(pfd);
        int saved = errno;
        if (pfd >= 0)
            close(pfd);
        if (rc != 0) {
            jk_error_set(err, JK_ERR_IO, "%s: fsync of the parent directory: %s", parent, strerror(saved));
            free(parent);
            return JK_ERR_IO;
        }
        free(parent);
        return JK_OK;
    }
    if (errno == EEXIST)
        return JK_OK;
    return jk_error_set(err, JK_ERR_IO, "%s: mkdir: %s", dir, strerror(errno));
}

/* Lists segments into w->segs (sorted) and removes leftover temp files. */
static jk_err_t s_list_segments(jk_wal_t *w, jk_error_t *err)
{
    jk_err_t rc = JK_OK;
    bool removed = false;
    DIR *d = opendir(w->dir);
    if (!d)
        return jk_error_set(err, JK_ERR_IO, "%s: opendir: %s", w->dir, strerror(errno));
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno != 0)
                rc = jk_error_set(err, JK_ERR_IO, "%s: readdir: %s", w->dir, strerror(errno));
            break;
        }
        uint64_t lsn;
        if (s_parse_name(de->d_name, true, &lsn)) {
            /* A crash while a segment was being created: never renamed, so
             * never held a record. */
            if (unlinkat(w->dir_fd, de->d_name, 0) != 0) {
                rc = jk_error_set(err, JK_ERR_IO, "%s/%s: unlink leftover: %s", w->dir, de->d_name,
                                  strerror(errno));
                break;
            }
            removed = true;
            continue;
        }
        if (!s_parse_name(de->d_name, false, &lsn))
            continue;
        if (w->nsegs >= S_SEGMENTS_MAX) {
            rc = jk_error_set(err, JK_ERR_TOO_BIG, "%s: more than %u segment files", w->dir,
                              S_SEGMENTS_MAX);
            break;
        }
        if (s_segs_reserve(w, w->nsegs + 1) != JK_OK) {
            rc = jk_error_set(err, JK_ERR_NOMEM, "wal: out of memory");
            break;
        }
        w->segs[w->nsegs++] = (s_segment_t){ lsn, 0, 0 };
    }
    closedir(d);
    if (rc == JK_OK && removed && s_sync(w, w->dir_fd, false) != 0)
        rc = jk_error_set(err, JK_ERR_IO, "%s: fsync of the directory: %s", w->dir, strerror(errno));
    if (rc == JK_OK && w->nsegs > 1)
        qsort(w->segs, w->nsegs, sizeof *w->segs, s_cmp_seg);
    return rc;
}

/* Reads and checks the header of segment i; opens the last one for writing
 * (cur_fd). */
static jk_err_t s_check_segment(jk_wal_t *w, size_t i, jk_error_t *err)
{
    char path[S_PATH_BYTES], name[S_NAME_BYTES];
    s_path(w, w->segs[i].first_lsn, path, sizeof path);
    s_segment_name(name, w->segs[i].first_lsn, false);
    bool last = i + 1 == w->nsegs;
    int fd = openat(w->dir_fd, name, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return jk_error_set(err, JK_ERR_IO, "%s: open: %s", path, strerror(errno));
    uint8_t h[JK_WAL_SEGMENT_HEADER_BYTES];
    size_t have = 0;
    jk_err_t rc = JK_OK;
    while (have < sizeof h) {
        ssize_t n = pread(fd, h + have, sizeof h - have, (off_t)have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = jk_error_set(err, JK_ERR_IO, "%s: read: %s", path, strerror(errno));
            goto cleanup;
        }
        if (n == 0)
            break;
        have += (size_t)n;
    }
    rc = s_check_header(h, have, path, w->segs[i].first_lsn, &w->segs[i].salt, err);
    if (rc == JK_OK && last) {
        w->cur_fd = fd;
        fd = -1;
    }
cleanup:
    if (fd >= 0)
        close(fd);
    return rc;
}

jk_wal_t *jk_wal_open(const char *dir, const jk_wal_opts_t *opts, jk_error_t *err)
{
    jk_error_clear(err);
    jk_wal_opts_t o;
    if (opts)
        o = *opts;
    else
        jk_wal_opts_default(&o);
    if (!o.clock)
        o.clock = jk_clock_system();
    if (!dir || !*dir) {
        jk_error_set(err, JK_ERR_INVAL, "wal: no directory given");
        return NULL;
    }
    if (strlen(dir) > S_DIR_PATH_MAX_BYTES) {
        jk_error_set(err, JK_ERR_TOO_BIG, "wal: directory path longer than %u bytes", S_DIR_PATH_MAX_BYTES);
        return NULL;
    }
    if (o.segment_bytes < JK_WAL_SEGMENT_MIN_BYTES || o.segment_bytes > JK_WAL_SEGMENT_MAX_BYTES) {
        jk_error_set(err, JK_ERR_RANGE, "wal: segment_bytes %" PRIu64 " is out of range %llu..%llu",
                     o.segment_bytes, JK_WAL_SEGMENT_MIN_BYTES, JK_WAL_SEGMENT_MAX_BYTES);
        return NULL;
    }
    if (o.max_pending_bytes < JK_WAL_PENDING_MIN_BYTES || o.max_pending_bytes > JK_WAL_PENDING_MAX_BYTES) {
        jk_error_set(err, JK_ERR_RANGE, "wal: max_pending_bytes %" PRIu64 " is out of range %llu..%llu",
                     o.max_pending_bytes, JK_WAL_PENDING_MIN_BYTES, JK_WAL_PENDING_MAX_BYTES);
        return NULL;
    }

    jk_wal_t *w = calloc(1, sizeof *w);
    if (!w) {
        jk_error_set(err, JK_ERR_NOMEM, "wal: out of memory");
        return NULL;
    }
    w->dir_fd = w->lock_fd = w->cur_fd = -1;
    w->opts = o;
    w->dir = strdup(dir);
    if (!w->dir) {
        jk_error_set(err, JK_ERR_NOMEM, "wal: out of memory");
        goto fail;
    }
    if (s_ensure_dir(dir, err) != JK_OK)
        goto fail;
    w->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dir_fd < 0) {
        jk_error_set(err, JK_ERR_IO, "%s: open directory: %s", dir, strerror(errno));
        goto fail;
    }
    /* One writer per directory: two handles appending to one segment would
     * interleave records and truncate each other's tails. flock (not fcntl)
     * so that a second handle in the same process conflicts too. */
    w->lock_fd = openat(w->dir_fd, S_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (w->lock_fd < 0) {
        jk_error_set(err, JK_ERR_IO, "%s/%s: open: %s", dir, S_LOCK_NAME, strerror(errno));
        goto fail;
    }
    while (flock(w->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EWOULDBLOCK)
            jk_error_set(err, JK_ERR_STATE, "%s: the log is open in another process or handle", dir);
        else
            jk_error_set(err, JK_ERR_IO, "%s/%s: flock: %s", dir, S_LOCK_NAME, strerror(errno));
        goto fail;
    }
    if (s_list_segments(w, err) != JK_OK)
        goto fail;
    for (size_t i = 0; i < w->nsegs; i++)
        if (s_check_segment(w, i, err) != JK_OK)
            goto fail;
    if (w->nsegs == 0) {
        uint32_t salt;
        if (s_new_salt(&salt, err) != JK_OK)
            goto fail;
        if (s_segs_reserve(w, 1) != JK_OK) {
            jk_error_set(err, JK_ERR_NOMEM, "wal: out of memory");
            goto fail;
        }
        if (s_segment_create(w, 1, salt, err) != JK_OK)
            goto fail;
    }
    w->st.segments = w->nsegs;
    char buf[JK_LOG_VALUE_MAX];
    JK_INFO("wal.open", "dir=%s segments=%zu first_lsn=%" PRIu64, jk_log_value(dir, buf), w->nsegs,
            w->segs[0].first_lsn);
    return w;
fail:
    jk_wal_destroy(&w);
    return NULL;
}

void jk_wal_destroy(jk_wal_t **pw)
{
    if (!pw || !*pw)
        return;
    jk_wal_t *w = *pw;
    if (w->cur_fd >= 0)
        close(w->cur_fd);
    if (w->lock_fd >= 0)
        close(w->lock_fd);   /* releases the flock */
    if (w->dir_fd >= 0)
        close(w->dir_fd);
    free(w->segs);
    free(w->pend);
    free(w->rolls);
    free(w->dir);
    free(w);
    *pw = NULL;
}

/* ---- replay ---- */

typedef enum {
    S_REC_OK = 0,
    S_REC_SHORT_HEADER,
    S_REC_TOO_LONG,
    S_REC_PAST_END,
    S_REC_BAD_CRC,
    S_REC_BAD_TYPE,
} s_rec_check_t;

/* Short token for log lines. */
static const char *s_rec_token(s_rec_check_t r)
{
    switch (r) {
    case S_REC_SHORT_HEADER: return "short-header";
    case S_REC_TOO_LONG: return "length-too-big";
    case S_REC_PAST_END: return "past-end";
    case S_REC_BAD_CRC: return "bad-checksum";
    case S_REC_BAD_TYPE: return "type-0";
    default: return "ok";
    }
}

/* Phrase for error messages. */
static const char *s_rec_reason(s_rec_check_t r)
{
    switch (r) {
    case S_REC_SHORT_HEADER: return "record header cut short by the end of the file";
    case S_REC_TOO_LONG: return "record length above the bound";
    case S_REC_PAST_END: return "record extends past the end of the file";
    case S_REC_BAD_CRC: return "record checksum mismatch";
    case S_REC_BAD_TYPE: return "record type 0";
    default: return "valid record";
    }
}

/* Checks the record at off in map[0..end); sets *len to its payload length
 * when the header is readable. *crc_bytes (may be NULL) gets the bytes
 * checksummed. */
static s_rec_check_t s_rec_check(const uint8_t *map, uint64_t off, uint64_t end, uint32_t salt,
                                 uint32_t *len, uint64_t *crc_bytes)
{
    if (end - off < JK_WAL_RECORD_HEADER_BYTES)
        return S_REC_SHORT_HEADER;
    const uint8_t *r = map + off;
    *len = s_get_le32(r);
    if (*len > JK_WAL_RECORD_MAX_BYTES)
        return S_REC_TOO_LONG;
    if (end - off - JK_WAL_RECORD_HEADER_BYTES < *len)
        return S_REC_PAST_END;
    if (crc_bytes)
        *crc_bytes += 1u + *len;
    if ((jk_wal_crc32c(0, r + 8, 1u + *len) ^ salt) != s_get_le32(r + 4))
        return S_REC_BAD_CRC;
    if (r[8] == 0)
        return S_REC_BAD_TYPE;
    return S_REC_OK;
}

/* After an invalid record at bad: is there a valid record anywhere after
 * it? Returns 1 (found, *at = where), 0 (none), -1 (budget exhausted). */
static int s_scan_for_valid(const uint8_t *map, uint64_t bad, uint64_t end, uint32_t salt, uint64_t *at)
{
    uint64_t budget = 0;
    for (uint64_t p = bad + 1; p + JK_WAL_RECORD_HEADER_BYTES <= end; p++) {
        uint32_t len;
        if (s_rec_check(map, p, end, salt, &len, &budget) == S_REC_OK) {
            *at = p;
            return 1;
        }
        if (budget > S_SCAN_CRC_BUDGET_BYTES)
            return -1;
    }
    return 0;
}

/* Cuts the last segment at off: the torn tail of a write that never
 * completed. ftruncate + fsync (not fdatasync: the size is the point). */
static jk_err_t s_truncate_tail(jk_wal_t *w, const char *path, uint64_t off, uint64_t size,
                                s_rec_check_t why, jk_wal_replay_stats_t *rs, jk_error_t *err)
{
    int rc;
    do
        rc = ftruncate(w->cur_fd, (off_t)off);
    while (rc < 0 && errno == EINTR);
    if (rc != 0)
        return jk_error_set(err, JK_ERR_IO, "%s: ftruncate to %" PRIu64 ": %s", path, off, strerror(errno));
    if (s_sync(w, w->cur_fd, false) != 0)
        return jk_error_set(err, JK_ERR_IO, "%s: fsync after truncation: %s", path, strerror(errno));
    rs->torn_tails++;
    rs->torn_bytes += size - off;
    w->st.torn_tails++;
    char buf[JK_LOG_VALUE_MAX];
    JK_WARN("wal.torn_tail", "file=%s offset=%" PRIu64 " dropped_bytes=%" PRIu64 " reason=%s",
            jk_log_value(path, buf), off, size - off, s_rec_token(why));
    return JK_OK;
}

/* Replays segment i: checks its header and its join with the previous one,
 * delivers its records, and on recovery cuts a torn tail off the last
 * segment. *expect is the LSN the segment must start with (0 for the first
 * segment: anything) and receives the LSN after its last record. */
static jk_err_t s_replay_segment(jk_wal_t *w, size_t i, bool recovery, uint64_t *expect,
                                 jk_wal_replay_fn fn, void *ud, jk_wal_replay_stats_t *rs,
                                 jk_error_t *err)
{
    s_segment_t *seg = &w->segs[i];
    bool last = i + 1 == w->nsegs;
    char path[S_PATH_BYTES], name[S_NAME_BYTES];
    s_path(w, seg->first_lsn, path, sizeof path);
    s_segment_name(name, seg->first_lsn, false);
    jk_err_t rc = JK_OK;
    uint8_t *map = MAP_FAILED;
    uint64_t size = 0;
    int fd = last ? w->cur_fd : openat(w->dir_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return jk_error_set(err, JK_ERR_IO, "%s: open: %s", path, strerror(errno));

    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s: fstat: %s", path, strerror(errno));
        goto cleanup;
    }
    if (sb.st_size < 0 || (uint64_t)sb.st_size > S_SEGMENT_FILE_MAX_BYTES) {
        rc = jk_error_set(err, JK_ERR_PARSE, "%s: %lld bytes, larger than any segment the log writes",
                          path, (long long)sb.st_size);
        goto cleanup;
    }
    size = (uint64_t)sb.st_size;
    if (!recovery) {
        if (size < seg->end_bytes) {
            rc = jk_error_set(err, JK_ERR_PARSE, "%s: %" PRIu64 " bytes but %" PRIu64
                              " were committed: the file changed under the log", path, size, seg->end_bytes);
            goto cleanup;
        }
        size = seg->end_bytes;   /* bytes past it are not committed (or not ours) */
    }
    if (size < JK_WAL_SEGMENT_HEADER_BYTES) {
        rc = jk_error_set(err, JK_ERR_PARSE, "%s: offset 0: segment header truncated (%" PRIu64 " of %u bytes)",
                          path, size, JK_WAL_SEGMENT_HEADER_BYTES);
        goto cleanup;
    }
    map = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = jk_error_set(err, JK_ERR_IO, "%s: mmap: %s", path, strerror(errno));
        goto cleanup;
    }
    uint32_t salt;
    rc = s_check_header(map, (size_t)size, path, seg->first_lsn, &salt, err);
    if (rc != JK_OK)
        goto cleanup;
    if (salt != seg->salt) {
        rc = jk_error_set(err, JK_ERR_PARSE, "%s: offset %u: segment header changed under the log", path,
                          S_HDR_SALT_OFF);
        goto cleanup;
    }
    if (*expect != 0 && seg->first_lsn != *expect) {
        rc = jk_error_set(err, JK_ERR_PARSE, "%s: offset %u: first LSN %" PRIu64 " but the previous segment "
                          "ends before LSN %" PRIu64 " (a segment is missing or was cut short)",
                          path, S_HDR_FIRST_LSN_OFF, seg->first_lsn, *expect);
        goto cleanup;
    }
    rs->segments++;

    uint64_t off = JK_WAL_SEGMENT_HEADER_BYTES, lsn = seg->first_lsn;
    s_rec_check_t why = S_REC_OK;
    while (off < size) {
        uint32_t len = 0;
        why = s_rec_check(map, off, size, salt, &len, NULL);
        if (why != S_REC_OK)
            break;
        if (fn) {
            rc = fn(ud, lsn, map[off + 8], map + off + JK_WAL_RECORD_HEADER_BYTES, len);
            if (rc != JK_OK) {
                jk_error_set(err, rc, "%s: replay stopped by the caller at LSN %" PRIu64 " (%s)", path, lsn,
                             jk_strerror(rc));
                goto cleanup;
            }
        }
        rs->records++;
        rs->bytes += JK_WAL_RECORD_HEADER_BYTES + (uint64_t)len;
        if (!rs->first_lsn)
            rs->first_lsn = lsn;
        rs->last_lsn = lsn;
        lsn++;
        off += JK_WAL_RECORD_HEADER_BYTES + (uint64_t)len;
    }

    if (why != S_REC_OK) {
        if (!recovery) {
            rc = jk_error_set(err, JK_ERR_PARSE, "%s: offset %" PRIu64 ": %s (LSN %" PRIu64
                              ") in committed data: the file changed under the log", path, off,
                              s_rec_reason(why), lsn);
            goto cleanup;
        }
        if (!last) {
            rc = jk_error_set(err, JK_ERR_PARSE, "%s: offset %" PRIu64 ": %s (LSN %" PRIu64
                              ") in a segment that is not the last: corruption, refusing to go on",
                              path, off, s_rec_reason(why), lsn);
            goto cleanup;
        }
        uint64_t at = 0;
        int found = s_scan_for_valid(map, off, size, salt, &at);
        if (found > 0) {
            rc = jk_error_set(err, JK_ERR_PARSE, "%s: offset %" PRIu64 ": %s (LSN %" PRIu64
                              ") followed by a valid record at offset %" PRIu64
                              ": corruption, not a torn write; refusing to go on",
                              path, off, s_rec_reason(why), lsn, at);
            goto cleanup;
        }
        if (found < 0) {
            rc = jk_error_set(err, JK_ERR_PARSE, "%s: offset %" PRIu64 ": %s (LSN %" PRIu64
                              "); too much data after it to rule out valid records: refusing to go on",
                              path, off, s_rec_reason(why), lsn);
            goto cleanup;
        }
        munmap(map, (size_t)size);
        map = MAP_FAILED;
        rc = s_truncate_tail(w, path, off, size, why, rs, err);
        if (rc != JK_OK)
            goto cleanup;
    }
    seg->end_bytes = off;
    if (last) {
        w->cur_bytes = off;
        w->cur_dirty = false;
    }
    *expect = lsn;
cleanup:
    if (map != MAP_FAILED)
        munmap(map, (size_t)size);
    if (!last)
        close(fd);
    return rc;
}

jk_err_t jk_wal_replay(jk_wal_t *w, jk_wal_replay_fn fn, void *ud, jk_wal_replay_stats_t *stats,
                       jk_error_t *err)
{
    jk_wal_replay_stats_t local;
    jk_wal_replay_stats_t *rs = stats ? stats : &local;
    memset(rs, 0, sizeof *rs);
    if (w->in_replay)
        return jk_error_set(err, JK_ERR_STATE, "wal %s: replay called from inside a replay", w->dir);
    if (w->failed)
        return s_failed_error(w, err);
    bool recovery = !w->recovered;
    uint64_t expect = 0;
    jk_err_t rc = JK_OK;
    w->in_replay = true;
    for (size_t i = 0; i < w->nsegs && rc == JK_OK; i++)
        rc = s_replay_segment(w, i, recovery, &expect, fn, ud, rs, err);
    w->in_replay = false;
    if (rc != JK_OK)
        return rc;
    if (recovery) {
        w->recovered = true;
        w->next_lsn = expect;
        w->durable_lsn = expect - 1;
        w->tail_bytes = w->cur_bytes;
        w->tail_salt = w->segs[w->nsegs - 1].salt;
        char buf[JK_LOG_VALUE_MAX];
        JK_INFO("wal.recovered", "dir=%s segments=%" PRIu64 " records=%" PRIu64 " next_lsn=%" PRIu64
                " torn_bytes=%" PRIu64, jk_log_value(w->dir, buf), rs->segments, rs->records,
                w->next_lsn, rs->torn_bytes);
    }
    return JK_OK;
}

/* ---- append / commit ---- */

static jk_err_t s_check_writable(const jk_wal_t *w, const char *what, jk_error_t *err)
{
    if (w->failed)
        return s_failed_error(w, err);
    if (!w->recovered)
        return jk_error_set(err, JK_ERR_STATE, "wal %s: %s before the log was replayed", w->dir, what);
    if (w->in_replay)
        return jk_error_set(err, JK_ERR_STATE, "wal %s: %s during a replay", w->dir, what);
    return JK_OK;
}

jk_err_t jk_wal_append(jk_wal_t *w, uint8_t type, const void *payload, size_t len, uint64_t *lsn,
                       jk_error_t *err)
{
    jk_err_t rc = s_check_writable(w, "append", err);
    if (rc != JK_OK)
        return rc;
    if (type == 0)
        return jk_error_set(err, JK_ERR_INVAL, "wal: record type 0 is reserved");
    if (len > JK_WAL_RECORD_MAX_BYTES)
        return jk_error_set(err, JK_ERR_TOO_BIG, "wal: record of %zu bytes exceeds the bound of %u bytes",
                            len, JK_WAL_RECORD_MAX_BYTES);
    if (!payload && len > 0)
        return jk_error_set(err, JK_ERR_INVAL, "wal: NULL payload of %zu bytes", len);
    size_t rec = JK_WAL_RECORD_HEADER_BYTES + len;
    if ((uint64_t)w->pend_len + rec > w->opts.max_pending_bytes)
        return jk_error_set(err, JK_ERR_FULL, "wal: %zu bytes pending, a record of %zu more exceeds "
                            "max_pending_bytes %" PRIu64 ": commit first", w->pend_len, rec,
                            w->opts.max_pending_bytes);

    bool roll = w->tail_bytes > JK_WAL_SEGMENT_HEADER_BYTES && w->tail_bytes + rec > w->opts.segment_bytes;
    uint32_t salt = w->tail_salt;
    if (roll) {
        rc = s_new_salt(&salt, err);
        if (rc != JK_OK)
            return rc;
        if (w->nrolls == w->rolls_cap) {
            size_t cap = w->rolls_cap ? 2 * w->rolls_cap : 4;
            s_roll_t *p = realloc(w->rolls, cap * sizeof *p);
            if (!p)
                return jk_error_set(err, JK_ERR_NOMEM, "wal: out of memory");
            w->rolls = p;
            w->rolls_cap = cap;
        }
        /* Room for every segment the next commit may create, so a commit
         * never fails for memory half way. */
        if (s_segs_reserve(w, w->nsegs + w->nrolls + 1) != JK_OK)
            return jk_error_set(err, JK_ERR_NOMEM, "wal: out of memory");
    }
    if (w->pend_len + rec > w->pend_cap) {
        size_t cap = w->pend_cap ? w->pend_cap : S_PENDING_INITIAL_BYTES;
        while (cap < w->pend_len + rec)
            cap *= 2;
        uint8_t *p = realloc(w->pend, cap);
        if (!p)
            return jk_error_set(err, JK_ERR_NOMEM, "wal: out of memory");
        w->pend = p;
        w->pend_cap = cap;
    }
    uint8_t *r = w->pend + w->pend_len;
    s_put_le32(r, (uint32_t)len);
    r[8] = type;
    if (len > 0)
        memcpy(r + JK_WAL_RECORD_HEADER_BYTES, payload, len);
    s_put_le32(r + 4, jk_wal_crc32c(0, r + 8, 1u + len) ^ salt);
    if (roll) {
        w->rolls[w->nrolls++] = (s_roll_t){ w->pend_len, w->next_lsn, salt };
        w->tail_bytes = JK_WAL_SEGMENT_HEADER_BYTES;
        w->tail_salt = salt;
    }
    w->tail_bytes += rec;
    w->pend_len += rec;
    w->pend_records++;
    if (lsn)
        *lsn = w->next_lsn;
    w->next_lsn++;
    return JK_OK;
}

jk_err_t jk_wal_commit(jk_wal_t *w, uint64_t *durable_lsn, jk_error_t *err)
{
    if (durable_lsn)
        *durable_lsn = w->durable_lsn;
    jk_err_t rc = s_check_writable(w, "commit", err);
    if (rc != JK_OK || w->pend_len == 0)
        return rc;

    jk_error_t e;
    jk_error_clear(&e);
    char path[S_PATH_BYTES];
    size_t pos = 0;
    for (size_t r = 0; r <= w->nrolls; r++) {
        size_t end = r < w->nrolls ? w->rolls[r].off : w->pend_len;
        if (end > pos) {
            if (s_pwrite_all(w->cur_fd, w->pend + pos, end - pos, w->cur_bytes) != 0) {
                s_path(w, w->segs[w->nsegs - 1].first_lsn, path, sizeof path);
                jk_error_set(&e, JK_ERR_IO, "%s: write at offset %" PRIu64 ": %s", path, w->cur_bytes,
                             strerror(errno));
                goto fail;
            }
            w->cur_bytes += end - pos;
            w->segs[w->nsegs - 1].end_bytes = w->cur_bytes;
            w->st.bytes_written += end - pos;
            w->cur_dirty = true;
        }
        pos = end;
        if (r == w->nrolls)
            break;
        /* The old segment must be whole on disk before the next one exists:
         * recovery treats a bad record in a non-last segment as corruption. */
        if (w->cur_dirty) {
            if (s_sync(w, w->cur_fd, true) != 0) {
                s_path(w, w->segs[w->nsegs - 1].first_lsn, path, sizeof path);
                jk_error_set(&e, JK_ERR_IO, "%s: fdatasync: %s", path, strerror(errno));
                goto fail;
            }
            w->cur_dirty = false;
        }
        if (s_segment_create(w, w->rolls[r].first_lsn, w->rolls[r].salt, &e) != JK_OK)
            goto fail;
        w->st.segments = w->nsegs;
    }
    if (w->cur_dirty) {
        if (s_sync(w, w->cur_fd, true) != 0) {
            s_path(w, w->segs[w->nsegs - 1].first_lsn, path, sizeof path);
            jk_error_set(&e, JK_ERR_IO, "%s: fdatasync: %s", path, strerror(errno));
            goto fail;
        }
        w->cur_dirty = false;
    }
    w->durable_lsn = w->next_lsn - 1;
    w->st.records += w->pend_records;
    w->st.commits++;
    w->pend_len = 0;
    w->pend_records = 0;
    w->nrolls = 0;
    if (durable_lsn)
        *durable_lsn = w->durable_lsn;
    return JK_OK;
fail:
    if (err)
        *err = e;
    return s_fail(w, &e);
}

uint64_t jk_wal_durable_lsn(const jk_wal_t *w)
{
    return w->durable_lsn;
}

uint64_t jk_wal_next_lsn(const jk_wal_t *w)
{
    return w->next_lsn;
}

/* ---- compaction ---- */

jk_err_t jk_wal_release_before(jk_wal_t *w, uint64_t lsn, unsigned *released, jk_error_t *err)
{
    if (released)
        *released = 0;
    jk_err_t rc = s_check_writable(w, "release", err);
    if (rc != JK_OK)
        return rc;
    if (lsn > w->next_lsn)
        return jk_error_set(err, JK_ERR_RANGE, "wal: release before LSN %" PRIu64 ", beyond the next LSN %"
                            PRIu64, lsn, w->next_lsn);
    unsigned n = 0;
    uint64_t first = w->segs[0].first_lsn;
    /* Oldest first, and the directory synced after each unlink: a crash then
     * leaves a contiguous run of segments. Deleting several and syncing once
     * could leave a hole (an older segment back, a newer one gone), which
     * recovery must call corruption. */
    while (w->nsegs > 1 && w->segs[1].first_lsn <= lsn) {
        char name[S_NAME_BYTES];
        s_segment_name(name, w->segs[0].first_lsn, false);
        if (unlinkat(w->dir_fd, name, 0) != 0) {
            rc = jk_error_set(err, JK_ERR_IO, "%s/%s: unlink: %s", w->dir, name, strerror(errno));
            break;
        }
        memmove(w->segs, w->segs + 1, (w->nsegs - 1) * sizeof *w->segs);
        w->nsegs--;
        n++;
        w->st.segments_released++;
        w->st.segments = w->nsegs;
        if (s_sync(w, w->dir_fd, false) != 0) {
            rc = jk_error_set(err, JK_ERR_IO, "%s: fsync of the directory: %s", w->dir, strerror(errno));
            break;
        }
    }
    if (n > 0) {
        char buf[JK_LOG_VALUE_MAX];
        JK_INFO("wal.release", "dir=%s segments=%u lsn_from=%" PRIu64 " lsn_to=%" PRIu64,
                jk_log_value(w->dir, buf), n, first, w->segs[0].first_lsn - 1);
    }
    if (released)
        *released = n;
    return rc;
}

/* ---- stats ---- */

void jk_wal_stats(const jk_wal_t *w, jk_wal_stats_t *out)
{
    *out = w->st;
    out->segments = w->nsegs;
    out->pending_bytes = w->pend_len;
    out->pending_records = w->pend_records;
}

bool jk_wal_failed(const jk_wal_t *w)
{
    return w->failed;
}

const jk_error_t *jk_wal_error(const jk_wal_t *w)
{
    return &w->fail;
}
