/* jk_text: UTF-8 checks and answer normalisation; see jk_text.h. */
#include "jk_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one code point; returns its length, or 0 when malformed. */
static size_t s_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return len;
}

bool jk_utf8_check(const char *s, size_t n, size_t *bad_at)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    /* One pass, ASCII first: the codec runs every text field through this. */
    while (i < n) {
        unsigned char b = p[i];
        if (b < 0x80) {
            if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f)
                goto bad;
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (b >= 0xc2 && b <= 0xdf) {
            need = 1;
            cp = b & 0x1fu;
        } else if (b >= 0xe0 && b <= 0xef) {
            need = 2;
            cp = b & 0x0fu;
        } else if (b >= 0xf0 && b <= 0xf4) {
            need = 3;
            cp = b & 0x07u;
        } else {
            goto bad; /* a continuation byte, C0/C1 (always overlong), F5..FF */
        }
        if (n - i - 1 < need)
            goto bad; /* truncated */
        for (size_t k = 1; k <= need; k++) {
            unsigned char cb = p[i + k];
            if ((cb & 0xc0) != 0x80)
                goto bad;
            cp = (cp << 6) | (cb & 0x3fu);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            goto bad; /* overlong, above U+10FFFF, surrogate */
        i += need + 1;
    }
    return true;
bad:
    if (bad_at)
        *bad_at = i;
    return false;
}

bool jk_utf8_valid(const char *s, size_t n)
{
    return jk_utf8_check(s, n, NULL);
}

size_t jk_utf8_length(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            count++;
    return count;
}

bool jk_id_valid(const char *s, size_t max)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!jk_id_char((unsigned char)s[i]))
            return false;
    return true;
}

static size_t s_put(char *out, size_t size, size_t o, const unsigned char *b, size_t l)
{
    if (o + l < size) {
        memcpy(out + o, b, l);
        return o + l;
    }
    return o;
}

size_t jk_text_normalize(const char *in, size_t n, char *out, size_t out_size)
{
    if (out_size == 0)
        return 0;
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0, o = 0;
    bool pending_space = false;
    while (i < n) {
        uint32_t cp;
        size_t l = s_decode(p + i, n - i, &cp);
        if (!l) { /* malformed: copy the byte */
            if (pending_space && o > 0)
                o = s_put(out, out_size, o, (const unsigned char *)" ", 1);
            pending_space = false;
            o = s_put(out, out_size, o, p + i, 1);
            i++;
            continue;
        }
        i += l;
        if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000) {
            pending_space = true;
            continue;
        }
        if (cp >= 0xFF01 && cp <= 0xFF5E) /* full-width ASCII */
            cp -= 0xFEE0;
        if (pending_space && o > 0)
            o = s_put(out, out_size, o, (const unsigned char *)" ", 1);
        pending_space = false;
        if (cp < 0x80) {
            unsigned char c = (unsigned char)cp;
            if (c >= 'A' && c <= 'Z')
                c = (unsigned char)(c - 'A' + 'a');
            o = s_put(out, out_size, o, &c, 1);
        } else {
            o = s_put(out, out_size, o, p + i - l, l);
        }
    }
    out[o] = '\0';
    return o;
}

bool jk_text_equal_normalized(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *na = malloc(la + 1), *nb = malloc(lb + 1);
    bool eq = false;
    if (na && nb) {
        size_t x = jk_text_normalize(a, la, na, la + 1);
        size_t y = jk_text_normalize(b, lb, nb, lb + 1);
        eq = x == y && memcmp(na, nb, x) == 0;
    }
    free(na);
    free(nb);
    return eq;
}

bool jk_text_parse_number(const char *s, double *out)
{
    char buf[64];
    size_t n = strlen(s);
    if (n >= 256)
        return false;
    char tmp[256];
    size_t m = jk_text_normalize(s, n, tmp, sizeof tmp);
    if (m == 0 || m >= sizeof buf)
        return false;
    memcpy(buf, tmp, m + 1);
    /* Strict grammar: [+-]? digits ( '.' digits )? */
    size_t i = 0;
    if (buf[i] == '+' || buf[i] == '-')
        i++;
    size_t d0 = i;
    while (buf[i] >= '0' && buf[i] <= '9')
        i++;
    if (i == d0)
        return false;
    if (buf[i] == '.') {
        i++;
        size_t f0 = i;
        while (buf[i] >= '0' && buf[i] <= '9')
            i++;
        if (i == f0)
            return false;
    }
    if (buf[i] != '\0')
        return false;
    *out = strtod(buf, NULL);
    return true;
}

/* ---- hex ---- */

void jk_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xF];
    }
    out[2 * n] = '\0';
}

int jk_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool jk_hex_decode(const char *hex, uint8_t *out, size_t n)
{
    if (!hex)
        return false;
    /* Check first, so that out is untouched on failure; the check stops at
     * the first non-digit, the terminating NUL included. */
    for (size_t i = 0; i < 2 * n; i++)
        if (jk_hex_digit((unsigned char)hex[i]) < 0)
            return false;
    if (hex[2 * n] != '\0')
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(jk_hex_digit((unsigned char)hex[2 * i]) << 4 |
                           jk_hex_digit((unsigned char)hex[2 * i + 1]));
    return true;
}
