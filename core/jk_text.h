/*
 * jk_text: small text utilities shared by loaders and scoring: UTF-8
 * validation, the normalisation used for typed answers, safe-id checks and
 * hex.
 */
#ifndef JK_TEXT_H
#define JK_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates, no
 * code points above U+10FFFF) with no NUL, no C0 control other than tab,
 * newline and carriage return, and no DEL. */
bool jk_utf8_valid(const char *s, size_t n);

/* The same check in one pass; on false, *bad_at (when bad_at is non-NULL)
 * is the offset of the first byte at fault: the start of a malformed,
 * overlong, surrogate, out-of-range or truncated sequence, or a forbidden
 * character. The byte there tells which: below 0x80 it is a forbidden
 * control character (NUL, C0, DEL), else the UTF-8 is invalid. */
bool jk_utf8_check(const char *s, size_t n, size_t *bad_at);

/* Number of code points in valid UTF-8. */
size_t jk_utf8_length(const char *s, size_t n);

/* True for 1..max bytes of [A-Za-z0-9._:-]: the id charset of the system. */
bool jk_id_valid(const char *s, size_t max);

/* True for one byte of that charset (inline: the codec checks ids per byte
 * on its hot path). */
static inline bool jk_id_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == ':';
}

/* Normalises a typed answer into out (size >= n + 1 suffices; output is
 * never longer than input): trims, collapses runs of white space (ASCII and
 * U+3000) to one ASCII space, maps full-width ASCII U+FF01..U+FF5E to its
 * half-width form, and lower-cases Latin letters. Invalid UTF-8 is copied
 * byte for byte. Returns the output length. */
size_t jk_text_normalize(const char *in, size_t n, char *out, size_t out_size);

/* Compares two answers after normalisation. */
bool jk_text_equal_normalized(const char *a, const char *b);

/* Parses a decimal number typed by a candidate ("12", "-3.5", "１２",
 * " 12.0 ") after normalisation; rejects anything else (units, commas,
 * exponents, hex, inf, nan). */
bool jk_text_parse_number(const char *s, double *out);

/* ---- hex ---- */

/* Writes the 2n lower-case hex digits of in[0..n) and a NUL to out, which
 * must hold 2n + 1 bytes. */
void jk_hex_encode(const uint8_t *in, size_t n, char *out);

/* Decodes hex, which must be exactly 2n hex digits (either case) and then
 * the end of the string, into out[0..n). False for anything else (NULL,
 * shorter, longer, a non-hex character), leaving out untouched. Reads no
 * further than the first character that is not a hex digit. */
bool jk_hex_decode(const char *hex, uint8_t *out, size_t n);

/* The value 0..15 of one hex digit (either case), or -1. */
int jk_hex_digit(int c);

#endif
