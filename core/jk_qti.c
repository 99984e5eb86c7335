/*
 * jk_qti: QTI 2.x / 3.0 item import; see jk_qti.h for the contract and
 * docs/qti-import.md for what is mapped and reported.
 *
 * Design. QTI 3.0 renamed every 2.x element to a "qti-" kebab-case form
 * (choiceInteraction -> qti-choice-interaction) and every multi-word
 * attribute to kebab-case (maxChoices -> max-choices) without changing
 * their meaning, so the importer speaks 2.x names internally: s_canon()
 * turns an element's local name into its 2.x form, s_attr() looks an
 * attribute up under both spellings. Messages show the element name as
 * written in the document.
 *
 * One item is mapped in passes over the parsed tree: metadata (jikao:
 * attributes), the item's top-level children, the one interaction, its
 * choices, the response declaration and processing (key and points), and
 * the stem (itemBody flattened to text with the prompt in place of the
 * interaction). Every problem is reported where it is found with file,
 * line, item and element; an error marks the item skipped but the passes go
 * on, so one run reports everything wrong with an item. The finished item
 * goes through jk_bank_add_item(), so the bank's own rules apply unchanged.
 *
 * Safety. Hostile documents are expected (a package from elsewhere). Before
 * libxml2 sees a document it is bounded in size, required to be UTF-8 (so a
 * byte scan means what it says), and refused when a DOCTYPE is followed by an
 * entity declaration: XXE and entity expansion bombs never reach the parser.
 * libxml2 then runs per parser context (no global handlers) with NONET, no
 * NOENT/DTDLOAD/DTDATTR/XINCLUDE, and with the SAX callbacks that record
 * entity declarations, load external subsets or resolve external entities
 * removed, as a second line of defence. Errors are captured through the
 * context's structured error callback, keeping the first one with its line.
 * Rejected: xmlSetExternalEntityLoader() and xmlSetStructuredErrorFunc(),
 * which change process-wide state other code may rely on.
 *
 * Package hrefs are percent-decoded, then normalised segment by segment; an
 * absolute path, a URL (a ':' in the first segment), a backslash or a ".."
 * that climbs above the package directory is refused before any file is
 * opened, and realpath() of the file must still lie inside realpath() of
 * the package directory (a symlink cannot lead out).
 */
#include "jk_qti.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "jk_file.h"
#include "jk_text.h"

#define S_NAME_MAX 64        /* canonical element names we care about are shorter */
#define S_MAX_DECLS 16       /* responseDeclarations looked at per item */
#define S_LABEL_MAX 64       /* bytes of an identifier shown in messages */

/* ---- one import call ---- */

typedef struct {
    jk_bank_t *b;
    const jk_qti_defaults_t *d; /* never NULL inside */
    jk_diag_t *diag;
    jk_error_t *err;
    jk_err_t first;             /* code of the first error, JK_OK if none */
    jk_qti_stats_t st;
} s_run_t;

static void s_appendf(char *buf, size_t size, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_appendf(char *buf, size_t size, size_t *pos, const char *fmt, ...)
{
    if (*pos >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *pos, size - *pos, fmt, ap);
    va_end(ap);
    if (k > 0)
        *pos = (size_t)k >= size - *pos ? size : *pos + (size_t)k;
}

/* Reports "<name>:<line>: item <item>: <<elem>>: <msg>"; line <= 0, item
 * and elem NULL leave their part out. */
static void s_vreport(s_run_t *r, bool is_err, jk_err_t code, const char *name, long line,
                      const char *item, const char *elem, const char *fmt, va_list ap)
    __attribute__((format(printf, 8, 0)));

static void s_vreport(s_run_t *r, bool is_err, jk_err_t code, const char *name, long line,
                      const char *item, const char *elem, const char *fmt, va_list ap)
{
    char msg[JK_ERROR_MSG_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    char full[JK_ERROR_MSG_MAX];
    size_t pos = 0;
    s_appendf(full, sizeof full, &pos, "%s", name ? name : "(buffer)");
    if (line > 0)
        s_appendf(full, sizeof full, &pos, ":%ld", line);
    if (item && item[0])
        s_appendf(full, sizeof full, &pos, ": item %s", item);
    if (elem)
        s_appendf(full, sizeof full, &pos, ": <%s>", elem);
    s_appendf(full, sizeof full, &pos, ": %s", msg);
    if (is_err) {
        if (r->first == JK_OK) {
            r->first = code;
            jk_error_set(r->err, code, "%s", full);
        }
        jk_diag_error(r->diag, code, "%s", full);
    } else {
        r->st.warnings++;
        jk_diag_warn(r->diag, code, "%s", full);
    }
}

static void s_report(s_run_t *r, bool is_err, jk_err_t code, const char *name, long line,
                     const char *item, const char *elem, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static void s_report(s_run_t *r, bool is_err, jk_err_t code, const char *name, long line,
                     const char *item, const char *elem, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vreport(r, is_err, code, name, line, item, elem, fmt, ap);
    va_end(ap);
}

/* ---- one item ---- */

typedef struct {
    s_run_t *r;
    const char *name;           /* document name for messages */
    char label[S_LABEL_MAX + 1]; /* item identifier for messages; "" unknown */
    size_t errors;              /* essential problems: the item is skipped */
    bool warned_subsup, warned_table, warned_after;
} s_ictx_t;

static void s_ierr(s_ictx_t *ic, const xmlNode *n, jk_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_ierr(s_ictx_t *ic, const xmlNode *n, jk_err_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vreport(ic->r, true, code, ic->name, n ? xmlGetLineNo(n) : 0, ic->label,
              n ? (const char *)n->name : NULL, fmt, ap);
    va_end(ap);
    ic->errors++;
}

static void s_iwarn(s_ictx_t *ic, const xmlNode *n, jk_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_iwarn(s_ictx_t *ic, const xmlNode *n, jk_err_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s_vreport(ic->r, false, code, ic->name, n ? xmlGetLineNo(n) : 0, ic->label,
              n ? (const char *)n->name : NULL, fmt, ap);
    va_end(ap);
}

/* Copies at most size-1 bytes of UTF-8 s, never cutting a character. */
static void s_copy_utf8(char *out, size_t size, const char *s)
{
    size_t n = strlen(s);
    if (n >= size) {
        n = size - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--; /* s[n] would be a continuation byte: cut before its lead */
    }
    memcpy(out, s, n);
    out[n] = 0;
}

/* ---- names and attributes ---- */

enum { S_NS_QTI, S_NS_MATH, S_NS_SVG, S_NS_XINCLUDE, S_NS_OTHER };

static int s_ns_kind(const xmlNode *n)
{
    if (!n->ns || !n->ns->href)
        return S_NS_QTI;
    const char *h = (const char *)n->ns->href;
    if (strstr(h, "imsglobal.org/xsd/imsqti") || strcmp(h, "http://www.w3.org/1999/xhtml") == 0)
        return S_NS_QTI;
    if (strcmp(h, "http://www.w3.org/1998/Math/MathML") == 0)
        return S_NS_MATH;
    if (strcmp(h, "http://www.w3.org/2000/svg") == 0)
        return S_NS_SVG;
    if (strcmp(h, "http://www.w3.org/2001/XInclude") == 0 ||
        strcmp(h, "http://www.w3.org/2003/XInclude") == 0)
        return S_NS_XINCLUDE;
    return S_NS_OTHER;
}

/* The 2.x name of an element: "qti-choice-interaction" -> "choiceInteraction";
 * other names unchanged. Names longer than the buffer come out truncated and
 * match nothing. */
static void s_canon(const xmlNode *n, char *out, size_t size)
{
    const char *s = (const char *)n->name;
    bool qti = strncmp(s, "qti-", 4) == 0, up = false;
    size_t o = 0;
    if (qti)
        s += 4;
    for (; *s && o + 1 < size; s++) {
        if (qti && *s == '-') {
            up = true;
            continue;
        }
        out[o++] = up ? (char)toupper((unsigned char)*s) : *s;
        up = false;
    }
    out[o] = 0;
}

static bool s_is(const xmlNode *n, const char *canon)
{
    char c[S_NAME_MAX];
    if (!n || n->type != XML_ELEMENT_NODE)
        return false;
    s_canon(n, c, sizeof c);
    return strcmp(c, canon) == 0;
}

static bool s_in(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(name, list[i]) == 0)
            return true;
    return false;
}

/* An attribute without namespace by its 2.x name or its 3.0 kebab-case
 * name; the caller frees with xmlFree. */
static xmlChar *s_attr(const xmlNode *n, const char *camel)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)camel);
    if (v)
        return v;
    char kebab[S_NAME_MAX];
    size_t o = 0;
    for (const char *p = camel; *p && o + 2 < sizeof kebab; p++) {
        if (isupper((unsigned char)*p)) {
            kebab[o++] = '-';
            kebab[o++] = (char)tolower((unsigned char)*p);
        } else {
            kebab[o++] = *p;
        }
    }
    kebab[o] = 0;
    return strcmp(kebab, camel) == 0 ? NULL : xmlGetNoNsProp(n, (const xmlChar *)kebab);
}

/* malloc'd copy of s without leading and trailing XML white space. */
static char *s_trimdup(const char *s)
{
    if (!s)
        return NULL;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        n--;
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = 0;
    }
    return c;
}

/* Trimmed copy of an attribute, or NULL when absent. *oom set on failure. */
static char *s_attr_dup(const xmlNode *n, const char *camel, bool *oom)
{
    xmlChar *v = s_attr(n, camel);
    if (!v)
        return NULL;
    char *c = s_trimdup((const char *)v);
    xmlFree(v);
    if (!c)
        *oom = true;
    return c;
}

/* Trimmed text content of an element (malloc'd), "" when empty. */
static char *s_content(const xmlNode *n)
{
    xmlChar *v = xmlNodeGetContent(n);
    char *c = s_trimdup(v ? (const char *)v : "");
    xmlFree(v);
    return c;
}

static bool s_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (errno || *end || !isfinite(x))
        return false;
    *out = x;
    return true;
}

/* x as hundredths: positive, at most 100, a multiple of 0.01. */
static bool s_centi(double x, int32_t *out)
{
    if (!(x > 0) || x > 100)
        return false;
    double c = x * 100.0, r = round(c);
    if (fabs(c - r) > 1e-6)
        return false;
    *out = (int32_t)r;
    return true;
}

static bool s_bool_attr(const xmlNode *n, const char *camel, bool *present)
{
    xmlChar *v = s_attr(n, camel);
    *present = v != NULL;
    bool t = v && strcmp((const char *)v, "true") == 0;
    xmlFree(v);
    return t;
}

/* ---- text flattening ---- */

enum { S_LAST_NONE, S_LAST_NARROW, S_LAST_WIDE, S_LAST_NL };

typedef struct {
    char *s;
    size_t n, cap;
    bool oom;
    bool oneline; /* options: line breaks become spaces */
    bool space;   /* collapsible white space pending */
    bool hard;    /* a separator that survives next to wide characters */
    bool nl;      /* line break pending */
    int last;     /* S_LAST_* of what was written last */
} s_text_t;

static void s_raw(s_text_t *t, const char *p, size_t n)
{
    if (t->oom)
        return;
    if (t->n + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->n + n + 1)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            t->oom = true;
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    memcpy(t->s + t->n, p, n);
    t->n += n;
    t->s[t->n] = 0;
}

/* Wide (East Asian full-width) code points: white space next to them is
 * typesetting, not text, as in the transcription rules of the standard. */
static bool s_wide(uint32_t c)
{
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) ||
           (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
           (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x20000 && c <= 0x3FFFD);
}

/* Decodes one code point of UTF-8 that libxml2 has already validated. */
static uint32_t s_decode(const unsigned char *p, size_t *len)
{
    if (p[0] < 0x80) {
        *len = 1;
        return p[0];
    }
    if ((p[0] & 0xE0) == 0xC0 && p[1]) {
        *len = 2;
        return ((uint32_t)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
    }
    if ((p[0] & 0xF0) == 0xE0 && p[1] && p[2]) {
        *len = 3;
        return ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    }
    if ((p[0] & 0xF8) == 0xF0 && p[1] && p[2] && p[3]) {
        *len = 4;
        return ((uint32_t)(p[0] & 0x07) << 18) | ((uint32_t)(p[1] & 0x3F) << 12) |
               ((uint32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    }
    *len = 1;
    return p[0];
}

static void s_flush(s_text_t *t, bool next_wide)
{
    if (t->last == S_LAST_NONE) {
        t->space = t->hard = t->nl = false;
        return;
    }
    if (t->nl && !t->oneline) {
        if (t->last != S_LAST_NL) {
            s_raw(t, "\n", 1);
            t->last = S_LAST_NL;
        }
    } else if (t->last != S_LAST_NL &&
               (t->hard || ((t->space || t->nl) && t->last != S_LAST_WIDE && !next_wide))) {
        s_raw(t, " ", 1);
        t->last = S_LAST_NARROW;
    }
    t->space = t->hard = t->nl = false;
}

static void s_text_add(s_text_t *t, const char *s, bool pre)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            if (!pre) {
                t->space = true;
            } else if (*p == '\n' && !t->oneline) {
                s_flush(t, false);
                if (t->last != S_LAST_NONE) {
                    s_raw(t, "\n", 1);
                    t->last = S_LAST_NL;
                }
            } else if (*p != '\r') {
                s_flush(t, false);
                if (t->last != S_LAST_NONE) {
                    s_raw(t, " ", 1);
                    t->last = S_LAST_NARROW;
                }
            }
            p++;
            continue;
        }
        size_t len;
        uint32_t cp = s_decode(p, &len);
        bool w = s_wide(cp);
        s_flush(t, w);
        s_raw(t, (const char *)p, len);
        t->last = w ? S_LAST_WIDE : S_LAST_NARROW;
        p += len;
    }
}

static void s_text_block(s_text_t *t)
{
    t->nl = true;
}

static void s_text_br(s_text_t *t)
{
    if (t->oneline) {
        t->space = true;
        return;
    }
    if (t->last == S_LAST_NONE)
        return;
    s_flush(t, false);
    if (!(t->n >= 2 && t->s[t->n - 1] == '\n' && t->s[t->n - 2] == '\n'))
        s_raw(t, "\n", 1);
    t->last = S_LAST_NL;
}

/* Ends the text: trailing separators dropped; returns the string (owned by
 * the caller) or NULL when out of memory. */
static char *s_text_end(s_text_t *t)
{
    if (!t->s && !t->oom)
        s_raw(t, "", 0);
    if (t->oom) {
        free(t->s);
        return NULL;
    }
    while (t->n && (t->s[t->n - 1] == ' ' || t->s[t->n - 1] == '\n'))
        t->s[--t->n] = 0;
    return t->s;
}

typedef struct {
    s_ictx_t *ic;
    s_text_t *t;
    const xmlNode *interaction; /* replaced by its prompt; NULL in choices */
    bool after;                 /* past the interaction */
    bool pre;                   /* inside <pre> */
    int ol;                     /* number of the next <li> of an <ol>; 0 = not in <ol> */
} s_flat_t;

static const char *const s_inline_names[] = {
    "span", "em",   "strong", "b",   "i",    "u",   "small", "big",  "tt",    "code",
    "kbd",  "samp", "var",    "cite", "abbr", "acronym", "dfn", "a",  "bdo",   "bdi",
    "label", "mark", "time",  "ruby", "rb",   "rt",  "rp",    "wbr", "thead", "tbody",
    "tfoot", "colgroup", "col", NULL
};
static const char *const s_block_names[] = {
    "p",      "div",    "h1",     "h2",      "h3",     "h4",     "h5",      "h6",
    "blockquote", "address", "ul", "dl",     "dt",     "dd",     "hr",      "caption",
    "figure", "figcaption", "section", "article", "aside", "header", "footer", "nav",
    "details", "summary", "prompt", NULL
};
static const char *const s_media_names[] = {
    "img", "object", "audio", "video", "svg", "picture", "iframe", "embed",
    "canvas", "math", "source", "track", "param", "map", "area", NULL
};
static const char *const s_input_names[] = {
    "input", "select", "textarea", "button", "form", "option", NULL
};
static const char *const s_template_names[] = {
    "printedVariable", "templateInline", "templateBlock", NULL
};

static void s_flatten(s_flat_t *f, const xmlNode *n);

static void s_flatten_children(s_flat_t *f, const xmlNode *n)
{
    for (const xmlNode *c = n->children; c; c = c->next)
        s_flatten(f, c);
}

static bool s_has_text(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return true;
    return false;
}

static void s_media_error(s_ictx_t *ic, const xmlNode *n, const char *name)
{
    xmlChar *alt = xmlGetNoNsProp(n, (const xmlChar *)"alt");
    if (strcmp(name, "math") == 0)
        s_ierr(ic, n, JK_ERR_INVAL, "MathML cannot be imported; items are plain text");
    else if (alt)
        s_ierr(ic, n, JK_ERR_INVAL,
               "images and other media cannot be imported; items are plain text (alt: '%.80s')",
               (const char *)alt);
    else
        s_ierr(ic, n, JK_ERR_INVAL,
               "images and other media cannot be imported; items are plain text");
    xmlFree(alt);
}

static void s_flatten_element(s_flat_t *f, const xmlNode *n)
{
    s_ictx_t *ic = f->ic;
    s_text_t *t = f->t;
    char c[S_NAME_MAX];
    s_canon(n, c, sizeof c);
    int ns = s_ns_kind(n);

    if (ns == S_NS_MATH || ns == S_NS_SVG) {
        s_media_error(ic, n, ns == S_NS_MATH ? "math" : "svg");
        return;
    }
    if (ns == S_NS_XINCLUDE) {
        s_ierr(ic, n, JK_ERR_INVAL, "included content (XInclude) is not read");
        return;
    }
    if (ns == S_NS_OTHER) {
        s_iwarn(ic, n, JK_ERR_INVAL,
                "element of namespace '%.80s' is not understood; its text is kept",
                (const char *)n->ns->href);
        s_flatten_children(f, n);
        return;
    }
    if (n == f->interaction) {
        s_text_block(t);
        for (const xmlNode *k = n->children; k; k = k->next)
            if (s_is(k, "prompt"))
                s_flatten_children(f, k);
        s_text_block(t);
        f->after = true;
        return;
    }
    size_t len = strlen(c);
    if (len >= 11 && strcmp(c + len - 11, "Interaction") == 0)
        return; /* a second interaction: reported by the caller */
    if (s_in(c, s_media_names)) {
        s_media_error(ic, n, c);
        return;
    }
    if (s_in(c, s_input_names)) {
        s_ierr(ic, n, JK_ERR_INVAL, "form controls cannot be imported");
        return;
    }
    if (s_in(c, s_template_names)) {
        s_ierr(ic, n, JK_ERR_INVAL, "template variables cannot be imported; the text depends on them");
        return;
    }
    if (strcmp(c, "feedbackInline") == 0 || strcmp(c, "feedbackBlock") == 0) {
        s_iwarn(ic, n, JK_ERR_INVAL, "feedback is not imported");
        return;
    }
    if (strcmp(c, "rubricBlock") == 0) {
        s_iwarn(ic, n, JK_ERR_INVAL, "rubric blocks are not imported");
        return;
    }
    if (strcmp(c, "br") == 0) {
        s_text_br(t);
        return;
    }
    if (strcmp(c, "sub") == 0 || strcmp(c, "sup") == 0) {
        if (!ic->warned_subsup) {
            ic->warned_subsup = true;
            s_iwarn(ic, n, JK_ERR_INVAL,
                    "subscript and superscript formatting is lost (the text is kept inline)");
        }
        s_flatten_children(f, n);
        return;
    }
    if (strcmp(c, "q") == 0) {
        s_text_add(t, "\xE2\x80\x9C", false); /* “ */
        s_flatten_children(f, n);
        s_text_add(t, "\xE2\x80\x9D", false); /* ” */
        return;
    }
    if (strcmp(c, "pre") == 0) {
        bool was = f->pre;
        s_text_block(t);
        f->pre = true;
        s_flatten_children(f, n);
        f->pre = was;
        s_text_block(t);
        return;
    }
    if (strcmp(c, "table") == 0 || strcmp(c, "tr") == 0) {
        if (!ic->warned_table) {
            ic->warned_table = true;
            s_iwarn(ic, n, JK_ERR_INVAL, "table layout is flattened to lines of text");
        }
        s_text_block(t);
        s_flatten_children(f, n);
        s_text_block(t);
        return;
    }
    if (strcmp(c, "td") == 0 || strcmp(c, "th") == 0) {
        if (t->last != S_LAST_NL && !t->nl)
            t->hard = true;
        s_flatten_children(f, n);
        return;
    }
    if (strcmp(c, "ol") == 0 || strcmp(c, "li") == 0) {
        int was = f->ol;
        s_text_block(t);
        if (strcmp(c, "ol") == 0) {
            f->ol = 1;
        } else {
            if (f->ol > 0) {
                char num[16];
                snprintf(num, sizeof num, "%d. ", f->ol++);
                s_text_add(t, num, false);
                t->hard = true; /* "1. 劳动..." keeps its space */
                was = f->ol;
            }
            f->ol = 0; /* an <ol> nested in the <li> starts again */
        }
        s_flatten_children(f, n);
        f->ol = was;
        s_text_block(t);
        return;
    }
    if (s_in(c, s_block_names) || strcmp(c, "ul") == 0) {
        int was = f->ol;
        f->ol = 0;
        s_text_block(t);
        s_flatten_children(f, n);
        s_text_block(t);
        f->ol = was;
        return;
    }
    if (!s_in(c, s_inline_names))
        s_iwarn(ic, n, JK_ERR_INVAL, "element not understood; its text is kept");
    s_flatten_children(f, n);
}

static void s_flatten(s_flat_t *f, const xmlNode *n)
{
    switch (n->type) {
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        if (f->after && !f->ic->warned_after && s_has_text((const char *)n->content)) {
            f->ic->warned_after = true;
            s_iwarn(f->ic, n->parent, JK_ERR_INVAL,
                    "text after the interaction is moved into the stem, before the options");
        }
        s_text_add(f->t, (const char *)n->content, f->pre);
        break;
    case XML_ENTITY_REF_NODE:
        s_ierr(f->ic, n->parent, JK_ERR_INVAL, "entity reference &%s; is not expanded",
               (const char *)n->name);
        break;
    case XML_ELEMENT_NODE:
        s_flatten_element(f, n);
        break;
    default:
        break; /* comments, processing instructions */
    }
}

/* ---- ids ---- */

static uint32_t s_fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* Our id from prefix + a QTI identifier: bytes outside [A-Za-z0-9._-]
 * become '_' (one per run); an id with no letter or digit left becomes
 * "q-<hash>"; one longer than JK_ID_MAX keeps its head and a hash of the
 * whole. Returns true when the result differs from prefix + raw. */
static bool s_make_id(const char *prefix, const char *raw, char out[JK_ID_MAX + 1])
{
    char buf[512];
    size_t o = 0;
    bool alnum = false;
    snprintf(buf, sizeof buf, "%s", prefix ? prefix : "");
    o = strlen(buf);
    for (const unsigned char *p = (const unsigned char *)raw; *p && o + 1 < sizeof buf; p++) {
        if (isalnum(*p) && *p < 0x80) {
            buf[o++] = (char)*p;
            alnum = true;
        } else if (*p == '.' || *p == '_' || *p == '-') {
            buf[o++] = (char)*p;
        } else if (o == 0 || buf[o - 1] != '_') {
            buf[o++] = '_'; /* one per run: a CJK character's bytes give one */
        }
    }
    buf[o] = 0;
    char full[512];
    snprintf(full, sizeof full, "%s%s", prefix ? prefix : "", raw);
    if (!alnum) {
        snprintf(out, JK_ID_MAX + 1, "%sq-%08x", prefix ? prefix : "", (unsigned)s_fnv1a(full));
    } else if (o > JK_ID_MAX) {
        snprintf(out, JK_ID_MAX + 1, "%.*s-%08x", JK_ID_MAX - 9, buf, (unsigned)s_fnv1a(full));
    } else {
        memcpy(out, buf, o + 1);
    }
    return strcmp(out, full) != 0;
}

static bool s_id_chars_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > JK_ID_MAX)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

/* ---- metadata ---- */

typedef struct {
    int level;            /* 0 = not given */
    char *ref, *basis, *id;
    bool has_difficulty;
    double difficulty;
    bool has_points;
    int32_t points_centi;
    bool oom;
} s_meta_t;

static void s_meta_free(s_meta_t *m)
{
    free(m->ref);
    free(m->basis);
    free(m->id);
}

static void s_read_meta(s_ictx_t *ic, const xmlNode *root, s_meta_t *m)
{
    for (const xmlAttr *a = root->properties; a; a = a->next) {
        if (!a->ns || !a->ns->href || strcmp((const char *)a->ns->href, JK_QTI_NS) != 0)
            continue;
        const char *an = (const char *)a->name;
        xmlChar *raw = xmlNodeListGetString(root->doc, a->children, 1);
        char *v = s_trimdup(raw ? (const char *)raw : "");
        xmlFree(raw);
        if (!v) {
            m->oom = true;
            return;
        }
        double x;
        if (strcmp(an, "level") == 0) {
            if (strcmp(v, "5") == 0 || strcmp(v, "4") == 0 || strcmp(v, "3") == 0)
                m->level = v[0] - '0';
            else
                s_ierr(ic, root, JK_ERR_RANGE, "jikao:level: '%.32s', expected 5, 4 or 3", v);
        } else if (strcmp(an, "ref") == 0 || strcmp(an, "basis") == 0 || strcmp(an, "id") == 0) {
            char **slot = an[0] == 'r' ? &m->ref : an[0] == 'b' ? &m->basis : &m->id;
            if (!*v) {
                s_ierr(ic, root, JK_ERR_INVAL, "jikao:%s: empty", an);
            } else if (an[0] == 'i' && !s_id_chars_ok(v)) {
                s_ierr(ic, root, JK_ERR_INVAL,
                       "jikao:id: '%.64s' is not 1 to %d characters of [A-Za-z0-9._-]", v, JK_ID_MAX);
            } else {
                free(*slot);
                *slot = v;
                v = NULL;
            }
        } else if (strcmp(an, "difficulty") == 0) {
            if (s_parse_double(v, &x) && x >= 0 && x <= 1) {
                m->has_difficulty = true;
                m->difficulty = x;
            } else {
                s_ierr(ic, root, JK_ERR_RANGE, "jikao:difficulty: '%.32s', expected a number from 0 to 1", v);
            }
        } else if (strcmp(an, "points") == 0) {
            if (s_parse_double(v, &x) && s_centi(x, &m->points_centi))
                m->has_points = true;
            else
                s_ierr(ic, root, JK_ERR_RANGE,
                       "jikao:points: '%.32s', expected a positive multiple of 0.01 up to 100", v);
        } else {
            s_ierr(ic, root, JK_ERR_INVAL,
                   "jikao:%.32s: unknown attribute (known: level, ref, basis, difficulty, points, id)", an);
        }
        free(v);
    }
}

/* ---- the item ---- */

typedef struct {
    const xmlNode *node;
    char *ident;
    char *text;
} s_choice_t;

typedef enum { S_RP_MATCH, S_RP_MAP } s_rp_t;

typedef struct {
    const xmlNode *node;       /* the responseDeclaration */
    bool has_correct;
    const xmlNode *correct_node;
    uint32_t correct;          /* bit per choice */
    size_t n_correct;
    bool has_map;
    const xmlNode *map_node;
    double def, lower, upper;
    bool has_lower, has_upper;
    double value[JK_MAX_OPTIONS];
    bool mapped[JK_MAX_OPTIONS];
} s_resp_t;

static const char *const s_true_words[] = { "正确", "对", "true", "√", NULL };
static const char *const s_false_words[] = { "错误", "错", "false", "×", NULL };

/* 1 for a "true" word, 0 for a "false" word, -1 otherwise. */
static int s_truth(const char *text)
{
    char norm[64];
    size_t n = strlen(text);
    if (n >= sizeof norm)
        return -1;
    jk_text_normalize(text, n, norm, sizeof norm);
    if (s_in(norm, s_true_words))
        return 1;
    if (s_in(norm, s_false_words))
        return 0;
    return -1;
}

/* Finds interactions under n (not descending into them). */
static void s_find_interactions(const xmlNode *n, const xmlNode **found, size_t max, size_t *count)
{
    for (const xmlNode *c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || s_ns_kind(c) != S_NS_QTI)
            continue;
        char name[S_NAME_MAX];
        s_canon(c, name, sizeof name);
        size_t len = strlen(name);
        if (len >= 11 && strcmp(name + len - 11, "Interaction") == 0) {
            if (*count < max)
                found[*count] = c;
            (*count)++;
        } else {
            s_find_interactions(c, found, max, count);
        }
    }
}

static int s_choice_index(const s_choice_t *ch, size_t n, const char *ident)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(ch[i].ident, ident) == 0)
            return (int)i;
    return -1;
}

static void s_read_response(s_ictx_t *ic, const xmlNode *decl, const s_choice_t *ch, size_t nch,
                            s_resp_t *rs)
{
    rs->node = decl;
    for (const xmlNode *k = decl->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        if (s_is(k, "correctResponse")) {
            rs->has_correct = true;
            rs->correct_node = k;
            for (const xmlNode *v = k->children; v; v = v->next) {
                if (!s_is(v, "value"))
                    continue;
                char *id = s_content(v);
                if (!id)
                    continue;
                int i = s_choice_index(ch, nch, id);
                if (i < 0)
                    s_ierr(ic, v, JK_ERR_NOTFOUND, "'%.64s' is not the identifier of a choice", id);
                else if (rs->correct & (1u << i))
                    s_ierr(ic, v, JK_ERR_DUP, "'%.64s' is given twice", id);
                else
                    rs->correct |= 1u << i, rs->n_correct++;
                free(id);
            }
        } else if (s_is(k, "mapping")) {
            rs->has_map = true;
            rs->map_node = k;
            bool oom = false;
            char *s;
            rs->def = 0;
            if ((s = s_attr_dup(k, "defaultValue", &oom)) && !s_parse_double(s, &rs->def))
                s_ierr(ic, k, JK_ERR_INVAL, "defaultValue '%.32s' is not a number", s);
            free(s);
            if ((s = s_attr_dup(k, "lowerBound", &oom))) {
                rs->has_lower = s_parse_double(s, &rs->lower);
                if (!rs->has_lower)
                    s_ierr(ic, k, JK_ERR_INVAL, "lowerBound '%.32s' is not a number", s);
            }
            free(s);
            if ((s = s_attr_dup(k, "upperBound", &oom))) {
                rs->has_upper = s_parse_double(s, &rs->upper);
                if (!rs->has_upper)
                    s_ierr(ic, k, JK_ERR_INVAL, "upperBound '%.32s' is not a number", s);
            }
            free(s);
            for (const xmlNode *e = k->children; e; e = e->next) {
                if (!s_is(e, "mapEntry"))
                    continue;
                char *key = s_attr_dup(e, "mapKey", &oom);
                char *val = s_attr_dup(e, "mappedValue", &oom);
                double x = 0;
                int i = key ? s_choice_index(ch, nch, key) : -1;
                if (!key || !val || !s_parse_double(val, &x))
                    s_ierr(ic, e, JK_ERR_INVAL, "needs mapKey and a numeric mappedValue");
                else if (i < 0)
                    s_iwarn(ic, e, JK_ERR_NOTFOUND,
                            "'%.64s' is not the identifier of a choice; entry ignored", key);
                else if (rs->mapped[i])
                    s_ierr(ic, e, JK_ERR_DUP, "'%.64s' is mapped twice", key);
                else
                    rs->mapped[i] = true, rs->value[i] = x;
                free(key);
                free(val);
            }
            if (oom)
                s_ierr(ic, k, JK_ERR_NOMEM, "out of memory");
        } else if (s_is(k, "areaMapping")) {
            s_ierr(ic, k, JK_ERR_INVAL, "area mappings (graphic interactions) cannot be imported");
        } else if (!s_is(k, "defaultValue")) {
            s_iwarn(ic, k, JK_ERR_INVAL, "not understood; ignored");
        }
    }
}

static void s_mask_str(uint32_t m, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (m & (1u << i)) {
            if (o)
                out[o++] = ',';
            out[o++] = (char)('A' + i);
        }
    out[o] = 0;
}

static const int32_t s_builtin_points[JK_ITEM__COUNT] = { 100, 100, 200 };

/* Maps one parsed item document; returns true when it was added. */
static bool s_map_item(s_run_t *r, xmlDoc *doc, const char *name)
{
    s_ictx_t ic0 = { .r = r, .name = name };
    s_ictx_t *ic = &ic0;
    const jk_qti_defaults_t *d = r->d;
    const xmlNode *root = xmlDocGetRootElement(doc);
    char rc[S_NAME_MAX];
    s_canon(root, rc, sizeof rc);

    if (strcmp(rc, "assessmentItem") != 0) {
        const char *why = strcmp(rc, "manifest") == 0
                              ? "an IMS content package manifest, not an item; import it as a package"
                          : strcmp(rc, "assessmentTest") == 0 || strcmp(rc, "assessmentSection") == 0
                              ? "a test, not an item; import the package that lists its items"
                          : strcmp(rc, "questestinterop") == 0
                              ? "QTI 1.x is not supported; only QTI 2.x and 3.0 items are read"
                              : "not a QTI assessmentItem";
        s_ierr(ic, root, JK_ERR_VERSION, "%s", why);
        return false;
    }
    if (root->ns && root->ns->href && s_ns_kind(root) != S_NS_QTI)
        s_iwarn(ic, root, JK_ERR_VERSION,
                "namespace '%.80s' is not QTI 2.x or 3.0; read by element names",
                (const char *)root->ns->href);

    bool oom = false;
    char *ident = s_attr_dup(root, "identifier", &oom);
    if (ident)
        s_copy_utf8(ic->label, sizeof ic->label, ident);
    if (!ident || !*ident)
        s_ierr(ic, root, JK_ERR_MISSING, "identifier: missing");

    s_meta_t meta = { 0 };
    s_read_meta(ic, root, &meta);
    bool present;
    if (s_bool_attr(root, "adaptive", &present))
        s_iwarn(ic, root, JK_ERR_INVAL, "adaptive=\"true\": only the first attempt is imported");
    if (s_bool_attr(root, "timeDependent", &present))
        s_iwarn(ic, root, JK_ERR_INVAL, "timeDependent=\"true\": response time is not scored");

    /* Top-level children. */
    const xmlNode *body = NULL, *rp = NULL;
    const xmlNode *decls[S_MAX_DECLS];
    size_t n_decls = 0;
    for (const xmlNode *k = root->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        char c[S_NAME_MAX];
        s_canon(k, c, sizeof c);
        if (strcmp(c, "responseDeclaration") == 0) {
            if (n_decls < S_MAX_DECLS)
                decls[n_decls++] = k;
        } else if (strcmp(c, "outcomeDeclaration") == 0 || strcmp(c, "contextDeclaration") == 0) {
            /* scoring variables; points come from the mapping or metadata */
        } else if (strcmp(c, "itemBody") == 0) {
            if (body)
                s_ierr(ic, k, JK_ERR_DUP, "a second item body");
            body = k;
        } else if (strcmp(c, "responseProcessing") == 0) {
            rp = k;
        } else if (strcmp(c, "templateDeclaration") == 0 || strcmp(c, "templateProcessing") == 0) {
            s_ierr(ic, k, JK_ERR_INVAL, "template variables cannot be imported (the item is cloned per candidate)");
        } else if (strcmp(c, "assessmentStimulusRef") == 0) {
            s_ierr(ic, k, JK_ERR_INVAL, "shared stimuli are not imported; the stem would be incomplete");
        } else if (strcmp(c, "modalFeedback") == 0) {
            s_iwarn(ic, k, JK_ERR_INVAL, "feedback is not imported");
        } else if (strcmp(c, "stylesheet") == 0) {
            s_iwarn(ic, k, JK_ERR_INVAL, "stylesheets are not imported");
        } else if (strcmp(c, "companionMaterialsInfo") == 0 || strcmp(c, "catalogInfo") == 0) {
            s_iwarn(ic, k, JK_ERR_INVAL, "not imported (accessibility catalogues and companion materials)");
        } else {
            s_iwarn(ic, k, JK_ERR_INVAL, "not understood; ignored");
        }
    }

    s_choice_t ch[JK_MAX_OPTIONS];
    size_t nch = 0;
    const xmlNode *inter = NULL;
    char *stem = NULL;
    jk_item_type_t type = JK_ITEM_SINGLE;
    uint32_t key = 0;
    int32_t points = 0;
    bool imported = false;

    if (!body) {
        s_ierr(ic, root, JK_ERR_MISSING, "no item body");
        goto cleanup;
    }
    const xmlNode *found[4];
    size_t n_found = 0;
    s_find_interactions(body, found, 4, &n_found);
    if (n_found == 0) {
        s_ierr(ic, body, JK_ERR_MISSING, "no interaction; only choice interactions can be imported");
        goto cleanup;
    }
    for (size_t i = 0; i < n_found && i < 4; i++)
        if (!s_is(found[i], "choiceInteraction"))
            s_ierr(ic, found[i], JK_ERR_INVAL, "only choice interactions can be imported");
    if (n_found > 1)
        s_ierr(ic, found[1], JK_ERR_INVAL,
               "%zu interactions in one item; only items with exactly one can be imported", n_found);
    if (ic->errors && (n_found > 1 || !s_is(found[0], "choiceInteraction")))
        goto cleanup;
    inter = found[0];

    /* Choices. */
    bool shuffle_given;
    bool shuffle = s_bool_attr(inter, "shuffle", &shuffle_given);
    bool any_fixed = false;
    const xmlNode *first_fixed = NULL;
    for (const xmlNode *k = inter->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE || s_is(k, "prompt"))
            continue;
        if (!s_is(k, "simpleChoice")) {
            s_iwarn(ic, k, JK_ERR_INVAL, "not understood; ignored");
            continue;
        }
        if (nch == JK_MAX_OPTIONS) {
            s_ierr(ic, k, JK_ERR_RANGE, "more than %d choices; the bank holds at most %d options",
                   JK_MAX_OPTIONS, JK_MAX_OPTIONS);
            break;
        }
        s_choice_t *c = &ch[nch];
        c->node = k;
        c->ident = s_attr_dup(k, "identifier", &oom);
        if (!c->ident || !*c->ident) {
            s_ierr(ic, k, JK_ERR_MISSING, "identifier: missing");
            free(c->ident);
            c->ident = NULL;
            continue;
        }
        if (s_choice_index(ch, nch, c->ident) >= 0) {
            s_ierr(ic, k, JK_ERR_DUP, "identifier '%.64s' used twice", c->ident);
            free(c->ident);
            c->ident = NULL;
            continue;
        }
        xmlChar *tv = s_attr(k, "templateIdentifier");
        if (tv)
            s_ierr(ic, k, JK_ERR_INVAL, "choices shown or hidden by template variables cannot be imported");
        xmlFree(tv);
        bool fixed_given;
        if (s_bool_attr(k, "fixed", &fixed_given) && !any_fixed) {
            any_fixed = true;
            first_fixed = k;
        }
        s_text_t t = { .oneline = true };
        s_flat_t f = { .ic = ic, .t = &t };
        s_flatten_children(&f, k);
        c->text = s_text_end(&t);
        if (!c->text)
            oom = true;
        else if (!*c->text)
            s_ierr(ic, k, JK_ERR_MISSING, "a choice without text");
        nch++;
    }

    /* Type. */
    bool mc_oom = false;
    char *mc = s_attr_dup(inter, "maxChoices", &mc_oom);
    long max_choices = 1;
    if (mc) {
        char *end;
        max_choices = strtol(mc, &end, 10);
        if (*end || max_choices < 0) {
            s_ierr(ic, inter, JK_ERR_INVAL, "maxChoices '%.32s' is not a non-negative integer", mc);
            max_choices = 1;
        }
        free(mc);
    }
    char *mn = s_attr_dup(inter, "minChoices", &mc_oom);
    if (mn) {
        long min_choices = strtol(mn, NULL, 10);
        if (min_choices > 1)
            s_iwarn(ic, inter, JK_ERR_INVAL,
                    "minChoices=%ld is not enforced: a candidate may choose fewer", min_choices);
        free(mn);
    }
    oom = oom || mc_oom;
    int truth[2] = { -1, -1 };
    if (nch == 2 && ch[0].text && ch[1].text) {
        truth[0] = s_truth(ch[0].text);
        truth[1] = s_truth(ch[1].text);
    }
    bool tf_pair = truth[0] >= 0 && truth[1] >= 0 && truth[0] != truth[1];
    if (max_choices == 1) {
        type = tf_pair ? JK_ITEM_JUDGE : JK_ITEM_SINGLE;
    } else {
        type = JK_ITEM_MULTI;
        if (tf_pair)
            s_ierr(ic, inter, JK_ERR_INVAL,
                   "a true/false pair with maxChoices=%ld: a judge item takes one choice", max_choices);
        else if (max_choices > 1 && (size_t)max_choices < nch)
            s_iwarn(ic, inter, JK_ERR_INVAL,
                    "maxChoices=%ld is not enforced: a candidate may choose up to all %zu options",
                    max_choices, nch);
    }
    if (nch < 2)
        s_ierr(ic, inter, JK_ERR_RANGE, "%zu choices; an item needs at least 2", nch);
    else if (type == JK_ITEM_MULTI && nch < 3)
        s_ierr(ic, inter, JK_ERR_RANGE, "%zu choices; a multiple-response item needs at least 3", nch);
    if (type != JK_ITEM_JUDGE) {
        if (shuffle_given && !shuffle)
            s_iwarn(ic, inter, JK_ERR_INVAL,
                    "shuffle=\"false\" is not kept: papers shuffle options per candidate");
        else if (shuffle && any_fixed)
            s_iwarn(ic, first_fixed, JK_ERR_INVAL,
                    "fixed=\"true\" is not kept: papers shuffle every option");
    }

    /* Response declaration. */
    s_resp_t rs;
    memset(&rs, 0, sizeof rs);
    char *rid = s_attr_dup(inter, "responseIdentifier", &oom);
    const xmlNode *decl = NULL;
    for (size_t i = 0; i < n_decls; i++) {
        char *id = s_attr_dup(decls[i], "identifier", &oom);
        if (rid && id && strcmp(id, rid) == 0 && !decl)
            decl = decls[i];
        else
            s_iwarn(ic, decls[i], JK_ERR_INVAL, "'%.64s' is not the response of the interaction; ignored",
                    id ? id : "");
        free(id);
    }
    if (!rid)
        s_ierr(ic, inter, JK_ERR_MISSING, "responseIdentifier: missing");
    else if (!decl)
        s_ierr(ic, inter, JK_ERR_NOTFOUND, "no responseDeclaration '%.64s'", rid);
    free(rid);
    if (decl) {
        char *card = s_attr_dup(decl, "cardinality", &oom);
        char *bt = s_attr_dup(decl, "baseType", &oom);
        /* QTI: a choice response is single or multiple; more than one
         * choice (maxChoices != 1) needs multiple. */
        bool card_ok = card && (strcmp(card, "multiple") == 0 ||
                                (strcmp(card, "single") == 0 && max_choices == 1));
        if (!card_ok)
            s_ierr(ic, decl, JK_ERR_INVAL, "cardinality '%.32s' with maxChoices=%ld; expected %s",
                   card ? card : "", max_choices,
                   max_choices == 1 ? "'single' or 'multiple'" : "'multiple'");
        if (!bt || strcmp(bt, "identifier") != 0)
            s_ierr(ic, decl, JK_ERR_INVAL, "baseType '%.32s'; a choice response is 'identifier'",
                   bt ? bt : "");
        free(card);
        free(bt);
        s_read_response(ic, decl, ch, nch, &rs);
    }

    /* Response processing: which rule gives the key. */
    s_rp_t mode = S_RP_MATCH;
    const char *by = rs.has_correct || !rs.has_map ? "correctResponse" : "the mapping";
    s_rp_t fallback = rs.has_correct || !rs.has_map ? S_RP_MATCH : S_RP_MAP;
    if (!rp) {
        mode = fallback;
        s_iwarn(ic, root, JK_ERR_MISSING,
                "no responseProcessing; scored all-or-nothing against %s", by);
    } else {
        char *tpl = s_attr_dup(rp, "template", &oom);
        bool custom = false;
        for (const xmlNode *k = rp->children; k; k = k->next)
            custom = custom || k->type == XML_ELEMENT_NODE;
        const char *base = tpl ? strrchr(tpl, '/') : NULL;
        base = base ? base + 1 : tpl;
        size_t bl = base ? strlen(base) : 0;
        if (bl > 4 && strcmp(base + bl - 4, ".xml") == 0)
            bl -= 4;
        if (!custom && base && bl == 13 && strncmp(base, "match_correct", 13) == 0) {
            mode = S_RP_MATCH;
        } else if (!custom && base && bl == 12 && strncmp(base, "map_response", 12) == 0) {
            mode = S_RP_MAP;
        } else {
            mode = fallback;
            if (custom)
                s_iwarn(ic, rp, JK_ERR_INVAL,
                        "custom response processing is not interpreted; scored all-or-nothing against %s", by);
            else
                s_iwarn(ic, rp, JK_ERR_INVAL,
                        "template '%.100s' is not understood; scored all-or-nothing against %s",
                        tpl ? tpl : "", by);
        }
        free(tpl);
    }

    /* Key and points. */
    char mask_s[2 * JK_MAX_OPTIONS + 1];
    if (!decl) {
        /* reported above */
    } else if (mode == S_RP_MATCH) {
        if (!rs.has_correct || rs.n_correct == 0) {
            s_ierr(ic, decl, JK_ERR_MISSING, "no correctResponse: the key is unknown");
        } else {
            key = rs.correct;
            if (type != JK_ITEM_MULTI && rs.n_correct != 1)
                s_ierr(ic, rs.correct_node, JK_ERR_INVAL,
                       "%zu values; a single-choice interaction has one correct choice", rs.n_correct);
        }
    } else if (!rs.has_map) {
        s_ierr(ic, decl, JK_ERR_MISSING, "map_response without a mapping: the key is unknown");
    } else {
        uint32_t pos = 0;
        double sum = 0, vmin = 0, vmax = 0;
        bool neg = false;
        for (size_t i = 0; i < nch; i++) {
            double v = rs.mapped[i] ? rs.value[i] : rs.def;
            if (v > 0) {
                vmin = pos ? fmin(vmin, v) : v;
                vmax = pos ? fmax(vmax, v) : v;
                pos |= 1u << i;
                sum += v;
            } else if (v < 0) {
                neg = true;
            }
        }
        s_mask_str(pos, nch, mask_s);
        int npos = __builtin_popcount(pos);
        if (npos == 0) {
            s_ierr(ic, rs.map_node, JK_ERR_INVAL, "no choice has a positive mapped value: the key is unknown");
        } else if (type != JK_ITEM_MULTI && npos != 1) {
            s_ierr(ic, rs.map_node, JK_ERR_INVAL,
                   "%d choices have a positive value in a single-choice interaction; partial credit "
                   "for several answers is not representable (one key, all-or-nothing)", npos);
        } else {
            key = pos;
            double max_score = sum;
            if (rs.has_upper && rs.upper < sum) {
                max_score = rs.upper;
                s_iwarn(ic, rs.map_node, JK_ERR_RANGE,
                        "upperBound %g caps the sum %g of the positive values; points are %g", rs.upper,
                        sum, rs.upper);
            }
            if (neg)
                s_iwarn(ic, rs.map_node, JK_ERR_INVAL,
                        "negative mapped values (penalties) are not representable under all-or-nothing "
                        "scoring; imported with key %s and %g points", mask_s, max_score);
            if (fabs(vmax - vmin) > 1e-9)
                s_iwarn(ic, rs.map_node, JK_ERR_INVAL,
                        "unequal mapped values (%g to %g) are not representable under all-or-nothing "
                        "scoring; imported with key %s and %g points", vmin, vmax, mask_s, max_score);
            if (rs.has_lower && rs.lower > 0)
                s_iwarn(ic, rs.map_node, JK_ERR_INVAL,
                        "lowerBound %g (a score for any answer) is not representable", rs.lower);
            if (rs.has_correct && rs.correct != pos) {
                char cs[2 * JK_MAX_OPTIONS + 1];
                s_mask_str(rs.correct, nch, cs);
                s_iwarn(ic, rs.correct_node, JK_ERR_INVAL,
                        "correctResponse %s differs from the mapping's positive choices %s; the key "
                        "follows the mapping (map_response)", cs, mask_s);
            }
            if (meta.has_points) {
                points = meta.points_centi;
                if (fabs(points / 100.0 - max_score) > 1e-6)
                    s_iwarn(ic, root, JK_ERR_INVAL,
                            "jikao:points %g overrides the mapping's maximum %g", points / 100.0,
                            max_score);
            } else if (!s_centi(max_score, &points)) {
                s_ierr(ic, rs.map_node, JK_ERR_RANGE,
                       "the maximum score %g is not a positive multiple of 0.01 up to 100; give "
                       "jikao:points", max_score);
            }
        }
    }
    if (key && type == JK_ITEM_MULTI) {
        int nk = __builtin_popcount(key);
        const xmlNode *kn = mode == S_RP_MAP ? rs.map_node : rs.correct_node;
        if (nk < 2)
            s_ierr(ic, kn, JK_ERR_INVAL,
                   "one correct choice; a multiple-response item needs at least two (maxChoices=1 "
                   "makes a single-choice item)");
        else if ((size_t)nk == nch)
            s_ierr(ic, kn, JK_ERR_INVAL,
                   "every choice is correct; a multiple-response item needs a wrong one");
    }
    if (points == 0)
        points = meta.has_points ? meta.points_centi
                 : d->points_centi[type] > 0 ? d->points_centi[type]
                                             : s_builtin_points[type];

    /* Stem. */
    {
        s_text_t t = { .oneline = false };
        s_flat_t f = { .ic = ic, .t = &t, .interaction = inter };
        s_flatten_children(&f, body);
        stem = s_text_end(&t);
        if (!stem)
            oom = true;
        else if (!*stem)
            s_ierr(ic, body, JK_ERR_MISSING, "no text for the stem (before the interaction or in its prompt)");
    }

    /* Our fields: metadata, then defaults. */
    int level = meta.level ? meta.level : d->level;
    const char *ref = meta.ref ? meta.ref : d->ref;
    const char *basis = meta.basis ? meta.basis : d->basis;
    if (!level)
        s_ierr(ic, root, JK_ERR_MISSING, "no level: give jikao:level or a default level");
    else if (!jk_level_valid(level))
        s_ierr(ic, root, JK_ERR_RANGE, "default level %d is not 5, 4 or 3", level);
    if (!ref || !*ref)
        s_ierr(ic, root, JK_ERR_MISSING, "no ref: give jikao:ref or a default ref");
    if (!basis || !*basis)
        s_ierr(ic, root, JK_ERR_MISSING, "no basis: give jikao:basis or a default basis");
    double difficulty = meta.has_difficulty ? meta.difficulty
                        : d->difficulty >= 0 && d->difficulty <= 1 ? d->difficulty
                                                                   : 0.5;
    char id[JK_ID_MAX + 1] = "";
    if (meta.id) {
        snprintf(id, sizeof id, "%s", meta.id);
    } else if (ident && *ident) {
        if (s_make_id(d->id_prefix, ident, id))
            s_iwarn(ic, root, JK_ERR_INVAL,
                    "identifier '%.64s' is stored as id '%s' (ids are at most %d characters of "
                    "[A-Za-z0-9._-])", ident, id, JK_ID_MAX);
    }
    if (oom)
        s_ierr(ic, root, JK_ERR_NOMEM, "out of memory");
    if (meta.oom)
        s_ierr(ic, root, JK_ERR_NOMEM, "out of memory");

    if (ic->errors)
        goto cleanup;

    jk_item_t it;
    memset(&it, 0, sizeof it);
    it.id = id;
    it.type = type;
    it.level = level;
    it.ref = ref;
    it.stem = stem;
    if (type == JK_ITEM_JUDGE) {
        int ki = key & 1u ? 0 : 1;
        it.key = truth[ki] == 1 ? 1u : 0u;
    } else {
        it.n_options = (uint8_t)nch;
        for (size_t i = 0; i < nch; i++) {
            it.options[i].id = (char)('A' + i);
            it.options[i].text = ch[i].text;
        }
        it.key = key;
    }
    it.points_centi = points;
    it.difficulty = (float)difficulty;
    it.basis = basis;
    char where[JK_ERROR_MSG_MAX];
    snprintf(where, sizeof where, "%s:%ld: item %s", name, xmlGetLineNo(root), ic->label);
    jk_error_t e;
    jk_error_clear(&e);
    if (jk_bank_add_item(r->b, &it, where, r->diag, &e) == JK_OK) {
        imported = true;
    } else {
        ic->errors++;
        if (r->first == JK_OK) {
            r->first = e.code;
            if (r->err)
                *r->err = e;
        }
    }

cleanup:
    for (size_t i = 0; i < nch; i++) {
        free(ch[i].ident);
        free(ch[i].text);
    }
    free(stem);
    free(ident);
    s_meta_free(&meta);
    return imported;
}

/* ---- safe parsing ---- */

static long s_line_at(const char *buf, size_t off)
{
    long line = 1;
    for (size_t i = 0; i < off; i++)
        if (buf[i] == '\n')
            line++;
    return line;
}

static const char *s_find(const char *buf, size_t len, size_t from, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t i = from; i + nl <= len; i++)
        if (memcmp(buf + i, needle, nl) == 0)
            return buf + i;
    return NULL;
}

/* Checks the raw bytes before libxml2 sees them: UTF-8 only, and no entity
 * declarations after a DOCTYPE. Reports and returns false when refused. */
static bool s_precheck(s_run_t *r, const char *buf, size_t len, const char *name)
{
    size_t p = 0;
    if (len >= 2 && (((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF) ||
                     ((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE))) {
        s_report(r, true, JK_ERR_VERSION, name, 1, NULL, NULL,
                 "UTF-16 documents are not read; convert to UTF-8");
        return false;
    }
    if (memchr(buf, 0, len)) {
        s_report(r, true, JK_ERR_PARSE, name, s_line_at(buf, (size_t)((const char *)memchr(buf, 0, len) - buf)),
                 NULL, NULL, "NUL byte in the document (only UTF-8 text is read)");
        return false;
    }
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        p = 3;
    if (len - p >= 5 && memcmp(buf + p, "<?xml", 5) == 0) {
        const char *end = s_find(buf, len, p, "?>");
        const char *enc = s_find(buf, end ? (size_t)(end - buf) : len, p, "encoding");
        if (enc) {
            const char *q = enc + 8;
            while (q < buf + len && (*q == ' ' || *q == '=' || *q == '\t'))
                q++;
            char val[32] = "";
            if (q < buf + len && (*q == '"' || *q == '\'')) {
                char quote = *q++;
                size_t n = 0;
                while (q < buf + len && *q != quote && n + 1 < sizeof val)
                    val[n++] = *q++;
                val[n] = 0;
            }
            if (strcasecmp(val, "UTF-8") != 0 && strcasecmp(val, "UTF8") != 0 &&
                strcasecmp(val, "US-ASCII") != 0 && strcasecmp(val, "ASCII") != 0) {
                s_report(r, true, JK_ERR_VERSION, name, 1, NULL, NULL,
                         "encoding '%s' is not read; only UTF-8 documents are (convert with iconv)", val);
                return false;
            }
        }
    }
    /* The prolog: white space, XML declaration, comments, PIs, DOCTYPE. */
    while (p < len) {
        char ch = buf[p];
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            p++;
        } else if (len - p >= 4 && memcmp(buf + p, "<!--", 4) == 0) {
            const char *e = s_find(buf, len, p + 4, "-->");
            p = e ? (size_t)(e - buf) + 3 : len;
        } else if (len - p >= 2 && memcmp(buf + p, "<?", 2) == 0) {
            const char *e = s_find(buf, len, p + 2, "?>");
            p = e ? (size_t)(e - buf) + 2 : len;
        } else if (len - p >= 9 && memcmp(buf + p, "<!DOCTYPE", 9) == 0) {
            /* An entity can only be declared in a DOCTYPE; "<!ENTITY"
             * anywhere after one (even in a later comment) is refused. */
            const char *ent = s_find(buf, len, p, "<!ENTITY");
            if (ent) {
                s_report(r, true, JK_ERR_INVAL, name, s_line_at(buf, (size_t)(ent - buf)), NULL,
                         "!ENTITY",
                         "entity declarations are refused (XXE and entity expansion defence); "
                         "nothing of this document was read");
                return false;
            }
            break;
        } else {
            break;
        }
    }
    return true;
}

typedef struct {
    bool have;
    int line;
    char msg[256];
} s_xmlerr_t;

static void s_on_xml_error(void *ud, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = ud;
    s_xmlerr_t *x = ctxt ? ctxt->_private : NULL;
    if (!x || x->have || !e || e->level < XML_ERR_ERROR)
        return;
    x->have = true;
    x->line = e->line;
    snprintf(x->msg, sizeof x->msg, "%s", e->message ? e->message : "error");
    size_t n = strlen(x->msg);
    while (n && (x->msg[n - 1] == '\n' || x->msg[n - 1] == ' '))
        x->msg[--n] = 0;
}

/* Parses buf safely; returns the document (caller xmlFreeDoc) or NULL,
 * reported. */
static xmlDoc *s_parse(s_run_t *r, const char *buf, size_t len, const char *name)
{
    if (len > JK_QTI_FILE_MAX) {
        s_report(r, true, JK_ERR_TOO_BIG, name, 0, NULL, NULL,
                 "%zu bytes, more than the limit of %u", len, JK_QTI_FILE_MAX);
        return NULL;
    }
    if (!s_precheck(r, buf, len, name))
        return NULL;
    xmlInitParser();
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        s_report(r, true, JK_ERR_NOMEM, name, 0, NULL, NULL, "out of memory");
        return NULL;
    }
    s_xmlerr_t xe = { .have = false };
    ctxt->_private = &xe;
    ctxt->sax->serror = s_on_xml_error;
    /* Second line of defence behind s_precheck: entity declarations are not
     * recorded, external subsets and entities are never loaded. */
    ctxt->sax->entityDecl = NULL;
    ctxt->sax->unparsedEntityDecl = NULL;
    ctxt->sax->externalSubset = NULL;
    ctxt->sax->resolveEntity = NULL;
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA |
               XML_PARSE_BIG_LINES;
    xmlDoc *doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, "UTF-8", opts);
    if (doc && (!ctxt->wellFormed || xe.have)) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    if (!doc) {
        if (xe.have)
            s_report(r, true, JK_ERR_PARSE, name, xe.line, NULL, NULL, "not well-formed XML: %s", xe.msg);
        else
            s_report(r, true, JK_ERR_PARSE, name, 0, NULL, NULL, "not well-formed XML");
    } else if (!xmlDocGetRootElement(doc)) {
        s_report(r, true, JK_ERR_PARSE, name, 0, NULL, NULL, "no root element");
        xmlFreeDoc(doc);
        doc = NULL;
    }
    xmlFreeParserCtxt(ctxt);
    return doc;
}

/* Reads a regular file of at most JK_QTI_FILE_MAX bytes; *buf is the
 * caller's to free. nofollow refuses a symlink as the last component (the
 * package reader has already resolved the path and checked it lies inside
 * the package; this keeps a symlink swapped in afterwards from being
 * followed). Reports and returns false on failure. */
static bool s_read_file(s_run_t *r, const char *path, const char *name, bool nofollow, char **buf,
                        size_t *len)
{
    *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (nofollow ? O_NOFOLLOW : 0));
    if (fd < 0) {
        s_report(r, true, JK_ERR_IO, name, 0, NULL, NULL, "cannot open: %s", strerror(errno));
        return false;
    }
    uint8_t *b = NULL;
    jk_error_t fe;
    jk_err_t rc = jk_file_read_fd(fd, JK_QTI_FILE_MAX, false, &b, len, &fe);
    close(fd);
    if (rc != JK_OK) {
        s_report(r, true, rc, name, 0, NULL, NULL, "%s", fe.msg);
        return false;
    }
    *buf = (char *)b;
    return true;
}

static const jk_qti_defaults_t s_no_defaults = { .difficulty = -1.0f };

static void s_run_init(s_run_t *r, jk_bank_t *b, const jk_qti_defaults_t *d, jk_diag_t *diag,
                       jk_error_t *err)
{
    memset(r, 0, sizeof *r);
    r->b = b;
    r->d = d ? d : &s_no_defaults;
    r->diag = diag;
    r->err = err;
    jk_error_clear(err);
}

static jk_err_t s_run_end(s_run_t *r, jk_qti_stats_t *stats)
{
    if (stats)
        *stats = r->st;
    return r->first;
}

/* Maps a parsed item document (or NULL: already reported) and counts it
 * as imported or skipped; frees doc. The caller counts it as read. */
static void s_import_doc(s_run_t *r, xmlDoc *doc, const char *name)
{
    bool ok = doc && s_map_item(r, doc, name);
    xmlFreeDoc(doc);
    if (ok)
        r->st.imported++;
    else
        r->st.skipped++;
}

/* ---- public: items ---- */

void jk_qti_defaults_init(jk_qti_defaults_t *d)
{
    memset(d, 0, sizeof *d);
    d->difficulty = -1.0f;
}

jk_err_t jk_qti_import_buffer(jk_bank_t *b, const char *xml, size_t len, const char *name,
                              const jk_qti_defaults_t *d, jk_diag_t *diag,
                              jk_qti_stats_t *stats, jk_error_t *err)
{
    s_run_t r;
    s_run_init(&r, b, d, diag, err);
    const char *nm = name ? name : "(buffer)";
    r.st.read = 1;
    s_import_doc(&r, s_parse(&r, xml, len, nm), nm);
    return s_run_end(&r, stats);
}

jk_err_t jk_qti_import_file(jk_bank_t *b, const char *path, const jk_qti_defaults_t *d,
                            jk_diag_t *diag, jk_qti_stats_t *stats, jk_error_t *err)
{
    s_run_t r;
    s_run_init(&r, b, d, diag, err);
    char *buf;
    size_t len;
    r.st.read = 1;
    if (!s_read_file(&r, path, path, false, &buf, &len)) {
        r.st.skipped = 1;
        return s_run_end(&r, stats);
    }
    xmlDoc *doc = s_parse(&r, buf, len, path);
    free(buf);
    if (doc && strcmp((const char *)xmlDocGetRootElement(doc)->name, "manifest") == 0) {
        xmlFreeDoc(doc);
        return jk_qti_import_package(b, path, d, diag, stats, err);
    }
    s_import_doc(&r, doc, path);
    return s_run_end(&r, stats);
}

/* ---- public: packages ---- */

/* Resolves an href of the manifest to a normalised relative path in out.
 * Returns NULL when acceptable, else why not. */
static const char *s_safe_href(const char *href, char *out, size_t size)
{
    char dec[PATH_MAX];
    size_t o = 0;
    if (!*href)
        return "empty";
    for (const char *p = href; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int h = jk_hex_digit((unsigned char)p[1]);
            int l = h >= 0 ? jk_hex_digit((unsigned char)p[2]) : -1;
            if (h < 0 || l < 0)
                return "bad percent-encoding";
            c = h * 16 + l;
            p += 2;
        }
        if (c < 0x20 || c == 0x7F)
            return "control character";
        if (c == '\\')
            return "backslash (not a URI path)";
        if (c == '?' || c == '#')
            return "query or fragment in the href";
        if (o + 1 >= sizeof dec)
            return "too long";
        dec[o++] = (char)c;
    }
    dec[o] = 0;
    if (dec[0] == '/')
        return "absolute path";
    const char *slash = strchr(dec, '/');
    const char *colon = strchr(dec, ':');
    if (colon && (!slash || colon < slash))
        return "a URL or drive letter; only paths inside the package are read";
    /* Normalise segment by segment; ".." may not climb above the top. */
    size_t starts[PATH_MAX / 2];
    size_t depth = 0, w = 0;
    out[0] = 0;
    char *save = NULL;
    for (char *seg = strtok_r(dec, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0)
            continue;
        if (strcmp(seg, "..") == 0) {
            if (depth == 0)
                return "leaves the package directory";
            w = starts[--depth];
            out[w] = 0;
            continue;
        }
        size_t sl = strlen(seg);
        if (w + sl + 2 > size || depth >= sizeof starts / sizeof starts[0])
            return "too long";
        starts[depth++] = w;
        if (w)
            out[w++] = '/';
        memcpy(out + w, seg, sl + 1);
        w += sl;
    }
    if (w == 0)
        return "names the package directory, not a file";
    return NULL;
}

/* Concatenates xml:base values and the href (each relative). */
static void s_join_base(const xmlNode *resources, const xmlNode *res, const char *href, char *out,
                        size_t size)
{
    size_t pos = 0;
    const xmlNode *levels[2] = { resources, res };
    out[0] = 0;
    for (int i = 0; i < 2; i++) {
        xmlChar *base = xmlGetNsProp(levels[i], (const xmlChar *)"base", XML_XML_NAMESPACE);
        if (base && *base) {
            s_appendf(out, size, &pos, "%s", (const char *)base);
            if (pos < size && pos && out[pos - 1] != '/')
                s_appendf(out, size, &pos, "/");
        }
        xmlFree(base);
    }
    s_appendf(out, size, &pos, "%s", href);
}

static bool s_has_metadata_content(const xmlNode *res)
{
    for (const xmlNode *m = res->children; m; m = m->next) {
        if (m->type != XML_ELEMENT_NODE || strcmp((const char *)m->name, "metadata") != 0)
            continue;
        for (const xmlNode *k = m->children; k; k = k->next)
            if (k->type == XML_ELEMENT_NODE && strcmp((const char *)k->name, "schema") != 0 &&
                strcmp((const char *)k->name, "schemaversion") != 0)
                return true;
    }
    return false;
}

/* Relative paths of the item files already imported from a package. */
typedef struct {
    char **v;
    size_t n, cap;
} s_seen_t;

/* Adds rel; returns 1 if new, 0 if seen before, -1 when out of memory. */
static int s_seen_add(s_seen_t *s, const char *rel)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], rel) == 0)
            return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(rel)))
        return -1;
    s->n++;
    return 1;
}

static void s_seen_free(s_seen_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

static void s_package_item(s_run_t *r, const char *mname, const xmlNode *resources,
                           const xmlNode *res, const char *dir, const char *rdir, s_seen_t *seen)
{
    long line = xmlGetLineNo(res);
    xmlChar *rid = xmlGetNoNsProp(res, (const xmlChar *)"identifier");
    char label[S_LABEL_MAX + 1];
    s_copy_utf8(label, sizeof label, rid ? (const char *)rid : "");
    xmlFree(rid);

    xmlChar *href = xmlGetNoNsProp(res, (const xmlChar *)"href");
    for (const xmlNode *k = res->children; !href && k; k = k->next)
        if (k->type == XML_ELEMENT_NODE && strcmp((const char *)k->name, "file") == 0)
            href = xmlGetNoNsProp(k, (const xmlChar *)"href");
    if (!href) {
        r->st.read++;
        r->st.skipped++;
        s_report(r, true, JK_ERR_MISSING, mname, line, NULL, "resource", "'%s': no href", label);
        return;
    }
    char joined[PATH_MAX], rel[PATH_MAX];
    s_join_base(resources, res, (const char *)href, joined, sizeof joined);
    const char *why = s_safe_href(joined, rel, sizeof rel);
    if (why) {
        r->st.read++;
        r->st.skipped++;
        s_report(r, true, JK_ERR_INVAL, mname, line, NULL, "resource", "'%s': href '%.200s' refused: %s",
                 label, (const char *)href, why);
        xmlFree(href);
        return;
    }
    xmlFree(href);
    int fresh = s_seen_add(seen, rel);
    if (fresh == 0) {
        s_report(r, false, JK_ERR_DUP, mname, line, NULL, "resource",
                 "'%s': '%s' is listed again; imported once", label, rel);
        return;
    }

    r->st.read++;
    if (fresh < 0) {
        r->st.skipped++;
        s_report(r, true, JK_ERR_NOMEM, mname, line, NULL, "resource", "out of memory");
        return;
    }
    char full[PATH_MAX * 2];
    snprintf(full, sizeof full, "%s/%s", dir, rel);
    char real[PATH_MAX];
    if (!realpath(full, real)) {
        r->st.skipped++;
        s_report(r, true, JK_ERR_IO, mname, line, NULL, "resource", "'%s': '%s': cannot open: %s",
                 label, rel, strerror(errno));
        return;
    }
    size_t rl = strlen(rdir);
    if (strncmp(real, rdir, rl) != 0 || (real[rl] != '/' && strcmp(rdir, "/") != 0)) {
        r->st.skipped++;
        s_report(r, true, JK_ERR_INVAL, mname, line, NULL, "resource",
                 "'%s': '%s' leads outside the package directory (symbolic link); refused", label, rel);
        return;
    }
    if (s_has_metadata_content(res))
        s_report(r, false, JK_ERR_INVAL, mname, line, NULL, "resource",
                 "'%s': its <metadata> is not read; level, ref and basis come from jikao: "
                 "attributes on the item or the import defaults", label);
    char *buf;
    size_t len;
    if (!s_read_file(r, real, rel, true, &buf, &len)) {
        r->st.skipped++;
        return;
    }
    xmlDoc *doc = s_parse(r, buf, len, rel);
    free(buf);
    s_import_doc(r, doc, rel);
}

jk_err_t jk_qti_import_package(jk_bank_t *b, const char *path, const jk_qti_defaults_t *d,
                               jk_diag_t *diag, jk_qti_stats_t *stats, jk_error_t *err)
{
    s_run_t r;
    s_run_init(&r, b, d, diag, err);
    char manifest[PATH_MAX], dir[PATH_MAX], rdir[PATH_MAX];
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(manifest, sizeof manifest, "%s/imsmanifest.xml", path);
    } else {
        snprintf(manifest, sizeof manifest, "%s", path);
        const char *slash = strrchr(path, '/');
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else if (slash == path)
            snprintf(dir, sizeof dir, "/");
        else
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    }
    if (!realpath(dir, rdir)) {
        s_report(&r, true, JK_ERR_IO, dir, 0, NULL, NULL, "cannot open: %s", strerror(errno));
        return s_run_end(&r, stats);
    }
    char *buf;
    size_t len;
    if (!s_read_file(&r, manifest, manifest, false, &buf, &len))
        return s_run_end(&r, stats);
    xmlDoc *doc = s_parse(&r, buf, len, manifest);
    free(buf);
    if (!doc)
        return s_run_end(&r, stats);
    const xmlNode *root = xmlDocGetRootElement(doc);
    s_seen_t seen = { 0 };
    if (strcmp((const char *)root->name, "manifest") != 0) {
        s_report(&r, true, JK_ERR_VERSION, manifest, xmlGetLineNo(root), NULL, (const char *)root->name,
                 "not an IMS content package manifest");
        goto done;
    }
    for (const xmlNode *k = root->children; k; k = k->next) {
        if (k->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)k->name, "manifest") == 0) {
            s_report(&r, false, JK_ERR_INVAL, manifest, xmlGetLineNo(k), NULL, "manifest",
                     "nested manifests are not read");
            continue;
        }
        if (strcmp((const char *)k->name, "resources") != 0)
            continue;
        for (const xmlNode *res = k->children; res; res = res->next) {
            if (res->type != XML_ELEMENT_NODE || strcmp((const char *)res->name, "resource") != 0)
                continue;
            xmlChar *type = xmlGetNoNsProp(res, (const xmlChar *)"type");
            const char *t = type ? (const char *)type : "";
            if (strncmp(t, "imsqti_item_xmlv2p", 18) == 0 || strcmp(t, "imsqti_item_xmlv3p0") == 0) {
                s_package_item(&r, manifest, k, res, dir, rdir, &seen);
            } else if (strncmp(t, "imsqti_item_xmlv1", 17) == 0) {
                r.st.read++;
                r.st.skipped++;
                s_report(&r, true, JK_ERR_VERSION, manifest, xmlGetLineNo(res), NULL, "resource",
                         "type '%.64s': QTI 1.x items are not supported", t);
            } else if (strncmp(t, "imsqti_test_", 12) == 0 || strncmp(t, "imsqti_assessment_", 18) == 0) {
                s_report(&r, false, JK_ERR_INVAL, manifest, xmlGetLineNo(res), NULL, "resource",
                         "type '%.64s': tests are not imported (their items are, when listed as "
                         "item resources)", t);
            } else if (strcmp(t, "webcontent") != 0 && strncmp(t, "associatedcontent", 17) != 0 &&
                       strncmp(t, "controlfile", 11) != 0 && strncmp(t, "imsqti_stimulus", 15) != 0 &&
                       strncmp(t, "imsqti_outcomes", 15) != 0 && strncmp(t, "imsqti_fragment", 15) != 0 &&
                       strncmp(t, "resourcemetadata", 16) != 0 && strncmp(t, "imsqti_responseprocessing", 25) != 0) {
                s_report(&r, false, JK_ERR_INVAL, manifest, xmlGetLineNo(res), NULL, "resource",
                         "type '%.64s' is not an item; ignored", t);
            }
            xmlFree(type);
        }
    }
done:
    s_seen_free(&seen);
    xmlFreeDoc(doc);
    return s_run_end(&r, stats);
}
