/*
 * jk_candidates: CSV import of the candidates of a sitting; see
 * jk_candidates.h for the contract and docs/candidates-format.md for the
 * format.
 *
 * Design. A small RFC 4180 reader (s_read) cuts the bytes into records and
 * fields, unescaping quoted fields into one fixed scratch area: at most
 * S_FIELDS_KEPT fields of at most JK_CANDIDATES_FIELD_MAX bytes are kept per
 * record, anything beyond is scanned and counted but not stored, so memory
 * is bounded whatever the input. Syntax problems (unterminated quote, text
 * after a closing quote, a quote inside an unquoted field, a bare CR) are
 * recorded on the record with the field they happened in, and the reader
 * resynchronises at the end of the line, so one bad row does not hide the
 * rows after it. UTF-8 is checked per field after unescaping: the CSV
 * metacharacters are ASCII and never occur inside a multi-byte sequence.
 *
 * The header is the first non-blank record; it maps columns (English names
 * or their Chinese aliases, any order) to fields. A bad header refuses the
 * whole document before any row is added. Each row is then checked column
 * by column, reporting every problem it has (not just the first) as
 * "<name>: line <n>, column \"<header text>\": <what>", and is added only
 * when it has none: strings and work periods are copied into the list's
 * arena, so candidates never move and pointers handed out stay valid until
 * destroy. Uniqueness of admission numbers and 身份证号 is checked against
 * two string maps, across every document parsed into the list.
 *
 * Rejected: a general CSV library (the bounds and error reporting are the
 * point, and 300 lines do it); sniffing separators or encodings (GBK files
 * are refused with a hint to save as UTF-8, not guessed at); accepting a row
 * with a bad optional field (a clerk must fix the record: a silently empty
 * work history would make an eligible applicant ineligible).
 */
#include "jk_candidates.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jk_arena.h"
#include "jk_date.h"
#include "jk_file.h"
#include "jk_strmap.h"
#include "jk_text.h"

#define S_FIELDS_KEPT 16                /* fields of a record stored; more are counted */
#define S_ENTRY_BYTES 128               /* one ';'-separated entry of a list cell */
#define S_ENTRY_PARTS 4                 /* ':'-separated parts of an entry, at most */
#define S_ARENA_BLOCK_BYTES (256u * 1024u)
#define S_HOURS_DIGITS 6                /* JK_APPLICANT_MAX_HOURS has 6 digits */

/* ---- columns ---- */

enum {
    COL_ADMISSION,
    COL_NAME,
    COL_ID,
    COL_LEVEL,
    COL_EDUCATION,
    COL_SCHOOLS,
    COL_TRAINING,
    COL_CERTIFICATES,
    COL_WORK,
    COL__COUNT
};

static const struct {
    const char *name;  /* English header name (ASCII, matched ignoring case) */
    const char *alias; /* Chinese header name (matched exactly) */
    bool required;
} s_columns[COL__COUNT] = {
    [COL_ADMISSION] = { "admission_no", "准考证号", true },
    [COL_NAME] = { "name", "姓名", true },
    [COL_ID] = { "id_number", "身份证号", true },
    [COL_LEVEL] = { "level", "申报级别", true },
    [COL_EDUCATION] = { "education", "学历", false },
    [COL_SCHOOLS] = { "schools", "院校", false },
    [COL_TRAINING] = { "training", "预备培训", false },
    [COL_CERTIFICATES] = { "certificates", "证书", false },
    [COL_WORK] = { "work", "工作经历", false },
};

static int s_column_find(const char *text)
{
    for (int i = 0; i < COL__COUNT; i++)
        if (strcasecmp(text, s_columns[i].name) == 0 || strcmp(text, s_columns[i].alias) == 0)
            return i;
    return -1;
}

/* ---- the list ---- */

struct jk_candidates {
    jk_arena_t *arena;         /* strings, candidates, work periods */
    jk_candidate_t **items;    /* malloc'd array of arena pointers */
    size_t n, cap;
    jk_strmap_t *by_admission; /* admission_no -> index */
    jk_strmap_t *by_id;        /* id_number -> index */
    size_t rejected;           /* rows refused, all parses */
};

jk_candidates_t *jk_candidates_new(void)
{
    jk_candidates_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!(c->arena = jk_arena_new(S_ARENA_BLOCK_BYTES)) ||
        !(c->by_admission = jk_strmap_new(64)) || !(c->by_id = jk_strmap_new(64)))
        jk_candidates_destroy(&c);
    return c;
}

void jk_candidates_destroy(jk_candidates_t **cp)
{
    if (!cp || !*cp)
        return;
    jk_candidates_t *c = *cp;
    jk_strmap_destroy(&c->by_id);
    jk_strmap_destroy(&c->by_admission);
    free(c->items);
    jk_arena_destroy(&c->arena);
    free(c);
    *cp = NULL;
}

size_t jk_candidates_count(const jk_candidates_t *c) { return c ? c->n : 0; }

const jk_candidate_t *jk_candidates_get(const jk_candidates_t *c, size_t i)
{
    return c && i < c->n ? c->items[i] : NULL;
}

const jk_candidate_t *jk_candidates_find(const jk_candidates_t *c, const char *admission_no)
{
    size_t i;
    if (!c || !admission_no || !jk_strmap_get(c->by_admission, admission_no, &i))
        return NULL;
    return c->items[i];
}

size_t jk_candidates_rejected(const jk_candidates_t *c) { return c ? c->rejected : 0; }

/* ---- 身份证号 (GB 11643-1999) ---- */

char jk_id_number_check_digit(const char *s)
{
    static const int weight[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
    static const char check[11] = { '1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2' };
    if (!s)
        return 0;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        sum += (s[i] - '0') * weight[i];
    }
    return check[sum % 11];
}

/* The birth date in characters 7-14, or false. */
static bool s_id_birth(const char *s, jk_date_t *out)
{
    int y = 0, m = 0, d = 0;
    for (int i = 6; i < 10; i++)
        y = y * 10 + (s[i] - '0');
    m = (s[10] - '0') * 10 + (s[11] - '0');
    d = (s[12] - '0') * 10 + (s[13] - '0');
    return jk_date_from_ymd(y, m, d, out);
}

bool jk_id_number_valid(const char *s)
{
    jk_date_t birth;
    if (!s || strlen(s) != JK_ID_NUMBER_LEN)
        return false;
    char want = jk_id_number_check_digit(s);
    char got = s[17] == 'x' ? 'X' : s[17];
    return want && got == want && s_id_birth(s, &birth);
}

/* ---- the CSV reader ---- */

typedef enum {
    S_SYN_OK = 0,
    S_SYN_UNTERMINATED, /* quoted field runs to the end of the document */
    S_SYN_AFTER_QUOTE,  /* text between a closing quote and , or line end */
    S_SYN_QUOTE_INSIDE, /* " inside an unquoted field */
    S_SYN_BARE_CR,      /* CR not followed by LF */
} s_syntax_t;

typedef struct {
    size_t line;                   /* line the record starts on */
    size_t n_fields;               /* fields seen, including any not kept */
    char *field[S_FIELDS_KEPT];    /* NUL-terminated, in the reader's scratch */
    size_t flen[S_FIELDS_KEPT];    /* bytes kept */
    bool flong[S_FIELDS_KEPT];     /* more than JK_CANDIDATES_FIELD_MAX bytes */
    bool quoted[S_FIELDS_KEPT];
    bool too_long;                 /* more than JK_CANDIDATES_LINE_MAX bytes */
    size_t long_field;             /* the field the record passed the bound in */
    s_syntax_t syntax;             /* first syntax problem */
    size_t syntax_field;           /* its field */
} s_record_t;

typedef struct {
    const char *p, *end;
    size_t line;   /* line of p, 1-based */
    char *scratch; /* S_FIELDS_KEPT slots of JK_CANDIDATES_FIELD_MAX + 1 bytes */
} s_reader_t;

static void s_syntax(s_record_t *rec, s_syntax_t what, size_t field)
{
    if (rec->syntax == S_SYN_OK) {
        rec->syntax = what;
        rec->syntax_field = field;
    }
}

/* Reads one record; false at the end of the document. */
static bool s_read(s_reader_t *rd, s_record_t *rec)
{
    if (rd->p >= rd->end)
        return false;
    memset(rec, 0, sizeof *rec);
    rec->line = rd->line;
    const char *start = rd->p;
    for (;;) {
        size_t fi = rec->n_fields++;
        bool keep = fi < S_FIELDS_KEPT;
        char *f = keep ? rd->scratch + fi * (JK_CANDIDATES_FIELD_MAX + 1) : NULL;
        size_t fl = 0;
        bool flong = false, last = false;
        const char *fend; /* where the field's text ends (before , or line end) */
#define S_EMIT(ch)                                                                          \
    do {                                                                                    \
        if (keep) {                                                                         \
            if (fl < JK_CANDIDATES_FIELD_MAX)                                               \
                f[fl++] = (ch);                                                             \
            else                                                                            \
                flong = true;                                                               \
        }                                                                                   \
    } while (0)
        if (rd->p < rd->end && *rd->p == '"') {
            if (keep)
                rec->quoted[fi] = true;
            rd->p++;
            bool closed = false;
            while (rd->p < rd->end) {
                char ch = *rd->p;
                if (ch == '"') {
                    if (rd->p + 1 < rd->end && rd->p[1] == '"') {
                        S_EMIT('"');
                        rd->p += 2;
                        continue;
                    }
                    rd->p++;
                    closed = true;
                    break;
                }
                if (ch == '\n')
                    rd->line++;
                S_EMIT(ch);
                rd->p++;
            }
            fend = rd->p;
            if (!closed) {
                s_syntax(rec, S_SYN_UNTERMINATED, fi);
                last = true;
            } else if (rd->p >= rd->end) {
                last = true;
            } else if (*rd->p == ',') {
                rd->p++;
            } else if (*rd->p == '\n') {
                rd->p++;
                rd->line++;
                last = true;
            } else if (*rd->p == '\r' && rd->p + 1 < rd->end && rd->p[1] == '\n') {
                rd->p += 2;
                rd->line++;
                last = true;
            } else {
                /* Resynchronise at the end of this physical line. */
                s_syntax(rec, S_SYN_AFTER_QUOTE, fi);
                while (rd->p < rd->end && *rd->p != '\n')
                    rd->p++;
                fend = rd->p;
                if (rd->p < rd->end) {
                    rd->p++;
                    rd->line++;
                }
                last = true;
            }
        } else {
            for (;;) {
                fend = rd->p;
                if (rd->p >= rd->end) {
                    last = true;
                    break;
                }
                char ch = *rd->p;
                if (ch == ',') {
                    rd->p++;
                    break;
                }
                if (ch == '\n') {
                    rd->p++;
                    rd->line++;
                    last = true;
                    break;
                }
                if (ch == '\r') {
                    if (rd->p + 1 < rd->end && rd->p[1] == '\n') {
                        rd->p += 2;
                        rd->line++;
                        last = true;
                        break;
                    }
                    s_syntax(rec, S_SYN_BARE_CR, fi);
                } else if (ch == '"') {
                    s_syntax(rec, S_SYN_QUOTE_INSIDE, fi);
                }
                S_EMIT(ch);
                rd->p++;
            }
        }
#undef S_EMIT
        if (keep) {
            f[fl] = '\0';
            rec->field[fi] = f;
            rec->flen[fi] = fl;
            rec->flong[fi] = flong;
        }
        if (!rec->too_long && (size_t)(fend - start) > JK_CANDIDATES_LINE_MAX) {
            rec->too_long = true;
            rec->long_field = fi;
        }
        if (last)
            return true;
    }
}

/* A record with one empty unquoted field: an empty line, skipped. */
static bool s_blank(const s_record_t *rec)
{
    return rec->n_fields == 1 && rec->flen[0] == 0 && !rec->quoted[0] &&
           rec->syntax == S_SYN_OK;
}

/* Copies at most `max` bytes of UTF-8 text for quoting in a message, cut at
 * a character boundary (never in the middle of one); returns dst. */
#define S_QUOTE_BYTES 64
static const char *s_clip(char dst[S_QUOTE_BYTES + 1], const char *src)
{
    size_t n = strlen(src);
    if (n > S_QUOTE_BYTES) {
        n = S_QUOTE_BYTES;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return dst;
}

/* Trims ASCII blanks in place; returns the start. */
static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* ---- reporting ---- */

typedef struct {
    jk_candidates_t *c;
    const char *name;
    jk_diag_t *diag;
    jk_error_t *err;
    jk_err_t first;                       /* first problem's code */
    size_t n_header;                      /* fields of the header */
    const char *label[S_FIELDS_KEPT];     /* header text of each field (static) */
    int col_field[COL__COUNT];            /* field of each column, -1 if absent */
    const char *source;                   /* name copied into the arena */
} s_ctx_t;

static void s_vreport(s_ctx_t *x, jk_err_t code, const char *where, const char *fmt,
                      va_list ap)
{
    char what[JK_ERROR_MSG_MAX];
    vsnprintf(what, sizeof what, fmt, ap);
    jk_diag_error(x->diag, code, "%s: %s: %s", x->name, where, what);
    if (x->first == JK_OK) {
        x->first = code;
        jk_error_set(x->err, code, "%s: %s: %s", x->name, where, what);
    }
}

/* Reports a problem at a line ("line 12"). */
static void s_at_line(s_ctx_t *x, jk_err_t code, size_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_at_line(s_ctx_t *x, jk_err_t code, size_t line, const char *fmt, ...)
{
    char where[64];
    snprintf(where, sizeof where, "line %zu", line);
    va_list ap;
    va_start(ap, fmt);
    s_vreport(x, code, where, fmt, ap);
    va_end(ap);
}

/* Reports a problem at a line and a field: "line 12, column \"name\"", or
 * "line 12, column 11" for a field the header does not name. */
static void s_at(s_ctx_t *x, jk_err_t code, size_t line, size_t field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void s_at(s_ctx_t *x, jk_err_t code, size_t line, size_t field, const char *fmt, ...)
{
    char where[128];
    if (field < x->n_header && field < S_FIELDS_KEPT && x->label[field])
        snprintf(where, sizeof where, "line %zu, column \"%s\"", line, x->label[field]);
    else
        snprintf(where, sizeof where, "line %zu, column %zu", line, field + 1);
    va_list ap;
    va_start(ap, fmt);
    s_vreport(x, code, where, fmt, ap);
    va_end(ap);
}

static const char *s_syntax_text(s_syntax_t s)
{
    switch (s) {
    case S_SYN_OK: break;
    case S_SYN_UNTERMINATED: return "unterminated quoted field (no closing \")";
    case S_SYN_AFTER_QUOTE: return "text after the closing quote of a quoted field";
    case S_SYN_QUOTE_INSIDE:
        return "quote inside an unquoted field (quote the field and double the \")";
    case S_SYN_BARE_CR: return "carriage return not followed by a line feed";
    }
    return "syntax error";
}

/* ---- the header ---- */

static void s_known_columns(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < COL__COUNT && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", s_columns[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static jk_err_t s_header(s_ctx_t *x, s_record_t *rec)
{
    size_t line = rec->line;
    char known[256];
    s_known_columns(known, sizeof known);
    for (int i = 0; i < COL__COUNT; i++)
        x->col_field[i] = -1;
    if (rec->syntax != S_SYN_OK) {
        s_at_line(x, JK_ERR_PARSE, line, "header: column %zu: %s", rec->syntax_field + 1,
                  s_syntax_text(rec->syntax));
        return x->first;
    }
    if (rec->too_long || rec->n_fields > S_FIELDS_KEPT) {
        s_at_line(x, JK_ERR_INVAL, line, "header: %zu columns; the known columns are %s",
                  rec->n_fields, known);
        return x->first;
    }
    x->n_header = rec->n_fields;
    bool bad = false;
    for (size_t i = 0; i < rec->n_fields; i++) {
        char q[S_QUOTE_BYTES + 1];
        if (rec->flong[i]) {
            s_at(x, JK_ERR_TOO_BIG, line, i, "header cell longer than %u bytes",
                 JK_CANDIDATES_FIELD_MAX);
            bad = true;
            continue;
        }
        if (!jk_utf8_valid(rec->field[i], rec->flen[i])) {
            s_at(x, JK_ERR_PARSE, line, i,
                 "header is not valid UTF-8 (save the file as \"CSV UTF-8\")");
            bad = true;
            continue;
        }
        char *text = s_trim(rec->field[i]);
        int col = s_column_find(text);
        if (col < 0) {
            s_at(x, JK_ERR_INVAL, line, i, "unknown column \"%s\"; the known columns are %s",
                 s_clip(q, text), known);
            bad = true;
            continue;
        }
        x->label[i] = strcmp(text, s_columns[col].alias) == 0 ? s_columns[col].alias
                                                              : s_columns[col].name;
        if (x->col_field[col] >= 0) {
            s_at(x, JK_ERR_DUP, line, i, "column \"%s\" given twice (also column %d)",
                 s_columns[col].name, x->col_field[col] + 1);
            bad = true;
            continue;
        }
        x->col_field[col] = (int)i;
    }
    for (int col = 0; col < COL__COUNT; col++)
        if (s_columns[col].required && x->col_field[col] < 0) {
            s_at_line(x, JK_ERR_MISSING, line, "header: missing required column \"%s\" (%s)",
                      s_columns[col].name, s_columns[col].alias);
            bad = true;
        }
    return bad ? x->first : JK_OK;
}

/* ---- fields ---- */

/* A row being checked: the record, its fields, and where output goes. */
typedef struct {
    s_ctx_t *x;
    s_record_t *rec;
    bool bad;
} s_row_t;

static void s_bad(s_row_t *r, jk_err_t code, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void s_bad(s_row_t *r, jk_err_t code, int col, const char *fmt, ...)
{
    char what[JK_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    s_at(r->x, code, r->rec->line, (size_t)r->x->col_field[col], "%s", what);
    r->bad = true;
}

/* The trimmed text of a column, "" when the header has no such column. */
static char *s_cell(s_row_t *r, int col)
{
    static char empty[1] = "";
    int f = r->x->col_field[col];
    if (f < 0)
        return empty;
    return s_trim(r->rec->field[f]);
}

/* Level from "5", "4", "3" (and, in the level column, 五级/四级/三级). */
static int s_level(const char *s, bool chinese_ok)
{
    if ((s[0] == '5' || s[0] == '4' || s[0] == '3') && s[1] == '\0')
        return s[0] - '0';
    if (chinese_ok) {
        if (strcmp(s, "五级") == 0)
            return 5;
        if (strcmp(s, "四级") == 0)
            return 4;
        if (strcmp(s, "三级") == 0)
            return 3;
    }
    return 0;
}

/* Splits s in place at sep into at most max parts (the last takes the
 * rest); returns how many. */
static size_t s_split(char *s, char sep, char **parts, size_t max)
{
    size_t n = 0;
    parts[n++] = s;
    for (char *p = s; *p && n < max; p++)
        if (*p == sep) {
            *p = '\0';
            parts[n++] = p + 1;
        }
    for (size_t i = 0; i < n; i++)
        parts[i] = s_trim(parts[i]);
    return n;
}

/* Iterates the ';'-separated entries of a list cell: copies the next
 * non-empty entry into buf (trimmed) and advances *pos; false at the end.
 * An entry longer than the buffer is copied cut; *too_long says so. */
static bool s_next_entry(char **pos, char *buf, size_t size, bool *too_long)
{
    char *p = *pos;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            return false;
        char *e = strchr(p, ';');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        *pos = e ? e + 1 : p + n;
        *too_long = n >= size;
        if (n >= size)
            n = size - 1;
        memcpy(buf, p, n);
        buf[n] = '\0';
        char *t = s_trim(buf);
        if (t != buf)
            memmove(buf, t, strlen(t) + 1);
        if (buf[0] || *too_long)
            return true;
        p = *pos;
    }
}

static bool s_date(const char *s, jk_date_t *out) { return jk_date_parse_iso(s, out); }

static void s_check_admission(s_row_t *r, jk_candidate_t *cand)
{
    char *s = s_cell(r, COL_ADMISSION), q[S_QUOTE_BYTES + 1];
    if (!*s)
        s_bad(r, JK_ERR_MISSING, COL_ADMISSION, "empty");
    else if (!jk_id_valid(s, JK_ADMISSION_NO_MAX))
        s_bad(r, JK_ERR_INVAL, COL_ADMISSION,
              "\"%s\": must be 1 to %d characters of A-Z a-z 0-9 . _ : -", s_clip(q, s),
              JK_ADMISSION_NO_MAX);
    cand->admission_no = s;
}

static void s_check_name(s_row_t *r, jk_candidate_t *cand)
{
    char *s = s_cell(r, COL_NAME);
    size_t n = strlen(s);
    if (!*s)
        s_bad(r, JK_ERR_MISSING, COL_NAME, "empty");
    else if (strpbrk(s, "\t\r\n"))
        s_bad(r, JK_ERR_INVAL, COL_NAME, "contains a tab or line break");
    else if (jk_utf8_length(s, n) > JK_CANDIDATE_NAME_MAX_CHARS)
        s_bad(r, JK_ERR_INVAL, COL_NAME, "%zu characters, at most %d", jk_utf8_length(s, n),
              JK_CANDIDATE_NAME_MAX_CHARS);
    cand->name = s;
}

static void s_check_id(s_row_t *r, jk_candidate_t *cand)
{
    char *s = s_cell(r, COL_ID);
    size_t n = strlen(s);
    jk_date_t birth;
    cand->id_number = s;
    if (!*s) {
        s_bad(r, JK_ERR_MISSING, COL_ID, "empty");
        return;
    }
    if (n != JK_ID_NUMBER_LEN) {
        s_bad(r, JK_ERR_INVAL, COL_ID, "%zu characters, a 身份证号 has %d", n, JK_ID_NUMBER_LEN);
        return;
    }
    if (s[17] == 'x')
        s[17] = 'X';
    char want = jk_id_number_check_digit(s);
    if (!want || !((s[17] >= '0' && s[17] <= '9') || s[17] == 'X')) {
        s_bad(r, JK_ERR_INVAL, COL_ID,
              "\"%s\": must be 17 digits followed by a digit or X", s);
        return;
    }
    if (!s_id_birth(s, &birth)) {
        s_bad(r, JK_ERR_INVAL, COL_ID, "\"%s\": birth date %.8s is not a date", s, s + 6);
        return;
    }
    if (s[17] != want)
        s_bad(r, JK_ERR_INVAL, COL_ID, "\"%s\": check digit is %c, expected %c", s, s[17], want);
}

static void s_check_level(s_row_t *r, jk_candidate_t *cand)
{
    char *s = s_cell(r, COL_LEVEL), q[S_QUOTE_BYTES + 1];
    cand->level = s_level(s, true);
    if (!*s)
        s_bad(r, JK_ERR_MISSING, COL_LEVEL, "empty");
    else if (!cand->level)
        s_bad(r, JK_ERR_INVAL, COL_LEVEL, "\"%s\": must be 5, 4 or 3 (五级, 四级, 三级)",
              s_clip(q, s));
}

static void s_check_education(s_row_t *r, jk_applicant_t *a)
{
    char *s = s_cell(r, COL_EDUCATION), *parts[3];
    if (!*s)
        return; /* none on record */
    char orig[S_QUOTE_BYTES + 1];
    s_clip(orig, s);
    size_t n = s_split(s, ':', parts, 3);
    int e = jk_education_parse(parts[0]);
    if (e < 0) {
        s_bad(r, JK_ERR_INVAL, COL_EDUCATION,
              "\"%s\": education must be none, high_school, associate, bachelor, master or "
              "doctor", orig);
        return;
    }
    a->education = (jk_education_t)e;
    if (n >= 2) {
        if (n > 2 || strcmp(parts[1], "equivalent") != 0)
            s_bad(r, JK_ERR_INVAL, COL_EDUCATION,
                  "\"%s\": after the education only \":equivalent\" (同等学力) may follow",
                  orig);
        else if (e == JK_EDU_NONE)
            s_bad(r, JK_ERR_INVAL, COL_EDUCATION, "\"%s\": none cannot be equivalent", orig);
        else
            a->equivalent = true;
    }
}

static void s_check_schools(s_row_t *r, jk_applicant_t *a)
{
    char *pos = s_cell(r, COL_SCHOOLS), entry[S_ENTRY_BYTES], orig[S_ENTRY_BYTES];
    char *parts[S_ENTRY_PARTS], *kp[2];
    bool too_long;
    size_t k = 0;
    while (s_next_entry(&pos, entry, sizeof entry, &too_long)) {
        k++;
        if (too_long) {
            s_bad(r, JK_ERR_INVAL, COL_SCHOOLS, "entry %zu: longer than %d bytes", k,
                  S_ENTRY_BYTES - 1);
            continue;
        }
        memcpy(orig, entry, sizeof orig);
        if (a->n_schools >= JK_APPLICANT_MAX_SCHOOLS) {
            s_bad(r, JK_ERR_RANGE, COL_SCHOOLS, "more than %d schools",
                  JK_APPLICANT_MAX_SCHOOLS);
            break;
        }
        size_t n = s_split(entry, ':', parts, S_ENTRY_PARTS);
        jk_school_t sc = { 0 };
        size_t nk = s_split(parts[0], '/', kp, 2);
        sc.kind = jk_institution_parse(kp[0]);
        if (!sc.kind) {
            s_bad(r, JK_ERR_INVAL, COL_SCHOOLS,
                  "entry %zu \"%s\": school kind must be technical_school, vocational_school, "
                  "technician_class or college", k, orig);
            continue;
        }
        if (nk == 2) {
            int e = jk_education_parse(kp[1]);
            if (sc.kind != JK_INST_COLLEGE || e < JK_EDU_ASSOCIATE) {
                s_bad(r, JK_ERR_INVAL, COL_SCHOOLS,
                      "entry %zu \"%s\": only college takes a programme (/associate, "
                      "/bachelor, /master, /doctor)", k, orig);
                continue;
            }
            sc.programme = (jk_education_t)e;
        }
        const char *st = n >= 2 ? parts[1] : "";
        if (strcmp(st, "enrolled") == 0)
            sc.status = JK_SCHOOL_ENROLLED;
        else if (strcmp(st, "internship") == 0)
            sc.status = JK_SCHOOL_INTERNSHIP;
        else if (strcmp(st, "graduated") == 0)
            sc.status = JK_SCHOOL_GRADUATED;
        else {
            s_bad(r, JK_ERR_INVAL, COL_SCHOOLS,
                  "entry %zu \"%s\": status must be enrolled, internship or graduated", k, orig);
            continue;
        }
        if (sc.status == JK_SCHOOL_GRADUATED) {
            if (n != 3 || !s_date(parts[2], &sc.graduated)) {
                s_bad(r, JK_ERR_INVAL, COL_SCHOOLS,
                      "entry %zu \"%s\": graduated needs a date YYYY-MM-DD "
                      "(kind:graduated:date)", k, orig);
                continue;
            }
        } else if (n != 2) {
            s_bad(r, JK_ERR_INVAL, COL_SCHOOLS,
                  "entry %zu \"%s\": %s takes no date (kind:%s)", k, orig, st, st);
            continue;
        }
        a->schools[a->n_schools++] = sc;
    }
}

/* Reads 0..JK_APPLICANT_MAX_HOURS written in digits. */
static bool s_hours(const char *s, int *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > S_HOURS_DIGITS)
        return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v > JK_APPLICANT_MAX_HOURS)
        return false;
    *out = v;
    return true;
}

static void s_check_training(s_row_t *r, jk_applicant_t *a)
{
    char *pos = s_cell(r, COL_TRAINING), entry[S_ENTRY_BYTES], orig[S_ENTRY_BYTES];
    char *parts[S_ENTRY_PARTS];
    bool too_long, seen[JK_LEVEL_COUNT] = { false };
    size_t k = 0;
    while (s_next_entry(&pos, entry, sizeof entry, &too_long)) {
        k++;
        if (too_long) {
            s_bad(r, JK_ERR_INVAL, COL_TRAINING, "entry %zu: longer than %d bytes", k,
                  S_ENTRY_BYTES - 1);
            continue;
        }
        memcpy(orig, entry, sizeof orig);
        size_t n = s_split(entry, ':', parts, S_ENTRY_PARTS);
        int level = s_level(parts[0], false), hours = 0;
        jk_training_t t = { 0 };
        if (!level) {
            s_bad(r, JK_ERR_INVAL, COL_TRAINING,
                  "entry %zu \"%s\": level must be 5, 4 or 3 (level:hours[:certificate-date])",
                  k, orig);
            continue;
        }
        if (n < 2 || n > 3 || !s_hours(parts[1], &hours)) {
            s_bad(r, JK_ERR_INVAL, COL_TRAINING,
                  "entry %zu \"%s\": expected level:hours[:certificate-date] with hours 0..%d",
                  k, orig, JK_APPLICANT_MAX_HOURS);
            continue;
        }
        t.hours = hours;
        if (n == 3 && *parts[2]) {
            if (!s_date(parts[2], &t.certificate_date)) {
                s_bad(r, JK_ERR_INVAL, COL_TRAINING,
                      "entry %zu \"%s\": certificate date \"%s\" is not a date YYYY-MM-DD", k,
                      orig, parts[2]);
                continue;
            }
            t.certificate = true;
        }
        int li = jk_level_index(level);
        if (seen[li]) {
            s_bad(r, JK_ERR_DUP, COL_TRAINING, "entry %zu \"%s\": level %d given twice", k,
                  orig, level);
            continue;
        }
        seen[li] = true;
        a->training[li] = t;
    }
}

static void s_check_certificates(s_row_t *r, jk_applicant_t *a)
{
    char *pos = s_cell(r, COL_CERTIFICATES), entry[S_ENTRY_BYTES], orig[S_ENTRY_BYTES];
    char *parts[S_ENTRY_PARTS];
    bool too_long;
    size_t k = 0;
    while (s_next_entry(&pos, entry, sizeof entry, &too_long)) {
        k++;
        if (too_long) {
            s_bad(r, JK_ERR_INVAL, COL_CERTIFICATES, "entry %zu: longer than %d bytes", k,
                  S_ENTRY_BYTES - 1);
            continue;
        }
        memcpy(orig, entry, sizeof orig);
        size_t n = s_split(entry, ':', parts, S_ENTRY_PARTS);
        int level = s_level(parts[0], false);
        jk_date_t d;
        if (!level || n != 2) {
            s_bad(r, JK_ERR_INVAL, COL_CERTIFICATES,
                  "entry %zu \"%s\": expected level:date with level 5, 4 or 3", k, orig);
            continue;
        }
        if (!s_date(parts[1], &d)) {
            s_bad(r, JK_ERR_INVAL, COL_CERTIFICATES,
                  "entry %zu \"%s\": \"%s\" is not a date YYYY-MM-DD", k, orig, parts[1]);
            continue;
        }
        jk_level_certificate_t *c = &a->certificates[jk_level_index(level)];
        if (c->held) {
            s_bad(r, JK_ERR_DUP, COL_CERTIFICATES, "entry %zu \"%s\": level %d given twice", k,
                  orig, level);
            continue;
        }
        c->held = true;
        c->date = d;
    }
}

static void s_check_work(s_row_t *r, jk_work_period_t *work, size_t *n_work)
{
    char *pos = s_cell(r, COL_WORK), entry[S_ENTRY_BYTES], orig[S_ENTRY_BYTES];
    char *parts[S_ENTRY_PARTS];
    bool too_long;
    size_t k = 0;
    *n_work = 0;
    while (s_next_entry(&pos, entry, sizeof entry, &too_long)) {
        k++;
        if (too_long) {
            s_bad(r, JK_ERR_INVAL, COL_WORK, "entry %zu: longer than %d bytes", k,
                  S_ENTRY_BYTES - 1);
            continue;
        }
        memcpy(orig, entry, sizeof orig);
        if (*n_work >= JK_APPLICANT_MAX_WORK) {
            s_bad(r, JK_ERR_RANGE, COL_WORK, "more than %d work periods",
                  JK_APPLICANT_MAX_WORK);
            break;
        }
        size_t n = s_split(entry, ':', parts, S_ENTRY_PARTS);
        jk_work_period_t w = { 0 };
        if (strcmp(parts[0], "this") == 0)
            w.scope = JK_OCC_THIS;
        else if (strcmp(parts[0], "related") == 0)
            w.scope = JK_OCC_RELATED;
        else {
            s_bad(r, JK_ERR_INVAL, COL_WORK,
                  "entry %zu \"%s\": occupation must be this or related (scope:start:[end])",
                  k, orig);
            continue;
        }
        if (n < 2 || n > 3 || !s_date(parts[1], &w.start)) {
            s_bad(r, JK_ERR_INVAL, COL_WORK,
                  "entry %zu \"%s\": expected scope:start:[end] with dates YYYY-MM-DD", k, orig);
            continue;
        }
        if (n == 2 || !*parts[2]) {
            w.ongoing = true;
        } else if (!s_date(parts[2], &w.end)) {
            s_bad(r, JK_ERR_INVAL, COL_WORK, "entry %zu \"%s\": end \"%s\" is not a date "
                  "YYYY-MM-DD (leave it empty for ongoing work)", k, orig, parts[2]);
            continue;
        } else if (w.end < w.start) {
            s_bad(r, JK_ERR_INVAL, COL_WORK, "entry %zu \"%s\": ends before it starts", k, orig);
            continue;
        }
        work[(*n_work)++] = w;
    }
}

/* ---- rows ---- */

/* Copies a checked row into the list. */
static jk_err_t s_add(s_ctx_t *x, const jk_candidate_t *cand, const jk_work_period_t *work,
                      size_t n_work, size_t line)
{
    jk_candidates_t *c = x->c;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        jk_candidate_t **items = realloc(c->items, cap * sizeof *items);
        if (!items)
            return JK_ERR_NOMEM;
        c->items = items;
        c->cap = cap;
    }
    jk_candidate_t *k = jk_arena_alloc(c->arena, sizeof *k);
    if (!k)
        return JK_ERR_NOMEM;
    *k = *cand;
    k->admission_no = jk_arena_strdup(c->arena, cand->admission_no);
    k->name = jk_arena_strdup(c->arena, cand->name);
    k->id_number = jk_arena_strdup(c->arena, cand->id_number);
    k->source = x->source;
    k->line = line;
    k->applicant.work = NULL;
    if (n_work) {
        jk_work_period_t *w = jk_arena_alloc(c->arena, n_work * sizeof *w);
        if (!w)
            return JK_ERR_NOMEM;
        memcpy(w, work, n_work * sizeof *w);
        k->applicant.work = w;
    }
    if (!k->admission_no || !k->name || !k->id_number)
        return JK_ERR_NOMEM;
    if (jk_strmap_put(c->by_admission, k->admission_no, c->n, NULL) < 0 ||
        jk_strmap_put(c->by_id, k->id_number, c->n, NULL) < 0)
        return JK_ERR_NOMEM;
    c->items[c->n++] = k;
    return JK_OK;
}

/* Says where an earlier row was: "line 5" or "line 5 of other.csv". */
static void s_where(const s_ctx_t *x, const jk_candidate_t *prev, char *buf, size_t size)
{
    if (prev->source == x->source)
        snprintf(buf, size, "line %zu", prev->line);
    else
        snprintf(buf, size, "line %zu of %s", prev->line, prev->source);
}

/* Checks one data record; adds it when good. Returns JK_ERR_NOMEM or JK_OK
 * (a bad row is reported and counted, not returned). */
static jk_err_t s_row(s_ctx_t *x, s_record_t *rec)
{
    s_row_t r = { x, rec, false };
    size_t line = rec->line;
    if (rec->syntax != S_SYN_OK) {
        s_at(x, JK_ERR_PARSE, line, rec->syntax_field, "%s", s_syntax_text(rec->syntax));
        goto rejected;
    }
    if (rec->too_long) {
        s_at(x, JK_ERR_TOO_BIG, line, rec->long_field, "line longer than %u bytes",
             JK_CANDIDATES_LINE_MAX);
        goto rejected;
    }
    if (rec->n_fields < x->n_header) {
        s_at(x, JK_ERR_MISSING, line, rec->n_fields,
             "missing: the row has %zu fields, the header %zu", rec->n_fields, x->n_header);
        goto rejected;
    }
    if (rec->n_fields > x->n_header) {
        s_at(x, JK_ERR_INVAL, line, x->n_header,
             "extra field: the row has %zu fields, the header %zu", rec->n_fields, x->n_header);
        goto rejected;
    }
    for (size_t i = 0; i < rec->n_fields; i++) {
        if (rec->flong[i]) {
            s_at(x, JK_ERR_TOO_BIG, line, i, "field longer than %u bytes",
                 JK_CANDIDATES_FIELD_MAX);
            r.bad = true;
        } else if (!jk_utf8_valid(rec->field[i], rec->flen[i])) {
            s_at(x, JK_ERR_PARSE, line, i,
                 "not valid UTF-8 or contains control characters (save the file as \"CSV "
                 "UTF-8\")");
            r.bad = true;
        }
    }
    if (r.bad)
        goto rejected;

    jk_candidate_t cand;
    jk_work_period_t work[JK_APPLICANT_MAX_WORK];
    size_t n_work = 0;
    memset(&cand, 0, sizeof cand);
    s_check_admission(&r, &cand);
    s_check_name(&r, &cand);
    s_check_id(&r, &cand);
    s_check_level(&r, &cand);
    s_check_education(&r, &cand.applicant);
    s_check_schools(&r, &cand.applicant);
    s_check_training(&r, &cand.applicant);
    s_check_certificates(&r, &cand.applicant);
    s_check_work(&r, work, &n_work);
    if (r.bad)
        goto rejected;
    cand.applicant.work = work;
    cand.applicant.n_work = n_work;
    jk_error_t ve;
    if (jk_applicant_validate(&cand.applicant, &ve) != JK_OK) { /* not reachable: belt */
        s_at_line(x, ve.code, line, "%s", ve.msg);
        goto rejected;
    }

    size_t prev;
    char where[JK_ERROR_MSG_MAX / 2];
    if (jk_strmap_get(x->c->by_admission, cand.admission_no, &prev)) {
        s_where(x, x->c->items[prev], where, sizeof where);
        s_bad(&r, JK_ERR_DUP, COL_ADMISSION, "%s already used on %s", cand.admission_no, where);
    }
    if (jk_strmap_get(x->c->by_id, cand.id_number, &prev)) {
        s_where(x, x->c->items[prev], where, sizeof where);
        s_bad(&r, JK_ERR_DUP, COL_ID, "%s already used on %s", cand.id_number, where);
    }
    if (r.bad)
        goto rejected;
    return s_add(x, &cand, work, n_work, line);

rejected:
    x->c->rejected++;
    return JK_OK;
}

/* ---- documents ---- */

jk_err_t jk_candidates_parse(jk_candidates_t *c, const char *buf, size_t len, const char *name,
                             jk_diag_t *diag, jk_error_t *err)
{
    jk_error_clear(err);
    if (!c || (!buf && len))
        return jk_error_set(err, JK_ERR_INVAL, "jk_candidates_parse: no list or no buffer");
    if (!buf)
        buf = ""; /* len is 0: no pointer arithmetic on NULL */
    s_ctx_t x;
    memset(&x, 0, sizeof x);
    x.c = c;
    x.name = name ? name : "candidates";
    x.diag = diag;
    x.err = err;
    x.first = JK_OK;

    const unsigned char *u = (const unsigned char *)buf;
    if (len > JK_CANDIDATES_FILE_MAX) {
        s_at_line(&x, JK_ERR_TOO_BIG, 1, "%zu bytes, more than %u", len, JK_CANDIDATES_FILE_MAX);
        return x.first;
    }
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
        s_at_line(&x, JK_ERR_PARSE, 1, "UTF-16 text; save the file as \"CSV UTF-8\"");
        return x.first;
    }
    size_t skip = len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF ? 3 : 0;

    if (!(x.source = jk_arena_strdup(c->arena, x.name)))
        return jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", x.name);
    s_reader_t rd = { buf + skip, buf + len, 1, NULL };
    rd.scratch = malloc((size_t)S_FIELDS_KEPT * (JK_CANDIDATES_FIELD_MAX + 1));
    if (!rd.scratch)
        return jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", x.name);

    s_record_t rec;
    bool got;
    while ((got = s_read(&rd, &rec)) && s_blank(&rec))
        ;
    if (!got) {
        s_at_line(&x, JK_ERR_MISSING, 1, "empty file: expected a header line naming the "
                  "columns (admission_no, name, id_number, level, ...)");
        goto done;
    }
    if (s_header(&x, &rec) != JK_OK)
        goto done;
    size_t header_line = rec.line, rows = 0;
    while (s_read(&rd, &rec)) {
        if (s_blank(&rec))
            continue;
        if (++rows > JK_CANDIDATES_ROWS_MAX || c->n >= JK_CANDIDATES_ROWS_MAX) {
            s_at_line(&x, JK_ERR_TOO_BIG, rec.line, "more than %u rows; the rest is not read",
                      JK_CANDIDATES_ROWS_MAX);
            break;
        }
        if (s_row(&x, &rec) == JK_ERR_NOMEM) {
            s_at_line(&x, JK_ERR_NOMEM, rec.line, "out of memory");
            break;
        }
    }
    if (rows == 0)
        jk_diag_warn(diag, JK_ERR_MISSING, "%s: line %zu: header only, no candidate rows",
                     x.name, header_line);
done:
    free(rd.scratch);
    return x.first;
}

jk_err_t jk_candidates_load_file(jk_candidates_t *c, const char *path, jk_diag_t *diag,
                                 jk_error_t *err)
{
    jk_error_clear(err);
    if (!c || !path)
        return jk_error_set(err, JK_ERR_INVAL, "jk_candidates_load_file: no list or no path");
    uint8_t *buf = NULL;
    size_t len = 0;
    jk_error_t fe;
    if (jk_file_read(path, JK_CANDIDATES_FILE_MAX, false, &buf, &len, &fe) != JK_OK) {
        jk_diag_error(diag, fe.code, "%s", fe.msg);
        return jk_error_set(err, fe.code, "%s", fe.msg);
    }
    jk_err_t rc = jk_candidates_parse(c, (const char *)buf, len, path, diag, err);
    free(buf);
    return rc;
}
