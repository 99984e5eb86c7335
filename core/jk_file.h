/*
 * jk_file: whole-file reads and writes, bounded and crash-safe, for every
 * loader of the project (standard, banks, plans, candidate lists, config,
 * QTI, keys, packages, sittings, the Redis library).
 *
 * Design. A read sizes its buffer from fstat before allocating and never
 * grows it: a grown (realloc'd) buffer would leave a copy of a secret file
 * in freed memory, and a file larger than the bound is refused without
 * being read. A file that grows while it is read is an error rather than a
 * silent truncation. A write goes through a temporary file in the same
 * directory and a rename, so a crash leaves the old file or the new one.
 *
 * This object depends on libc only (no OpenSSL, no ZeroMQ), so that any
 * layer may use it.
 */
#ifndef JK_FILE_H
#define JK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jk_err.h"

/* Reads a whole regular file of at most max_bytes. On JK_OK *out is a
 * malloc'd buffer of *len_out bytes plus a NUL terminator (never NULL;
 * caller frees). Errors name the path: JK_ERR_IO (cannot open or read, not
 * a regular file, or the file grew while it was read), JK_ERR_TOO_BIG (over
 * max_bytes), JK_ERR_NOMEM, JK_ERR_INVAL (missing argument).
 *
 * With `secret` (a key file): also JK_ERR_CONFIG when group or others may
 * access the file (it must be mode 0600), and the buffer is wiped before it
 * is freed on failure. */
jk_err_t jk_file_read(const char *path, size_t max_bytes, bool secret, uint8_t **out,
                      size_t *len_out, jk_error_t *err);

/* The same for a file the caller has opened (for example with O_NOFOLLOW).
 * Does not close fd. The messages do not name the file (the caller knows
 * what to call it): "not a regular file", "N bytes, more than the bound of
 * M", ... */
jk_err_t jk_file_read_fd(int fd, size_t max_bytes, bool secret, uint8_t **out, size_t *len_out,
                         jk_error_t *err);

/* Replaces path with data[0..len) so that a crash leaves either the old or
 * the new file, never a mix: writes a temporary file in the same directory,
 * sets its mode (exactly `mode`, e.g. 0600, regardless of umask), fsyncs it,
 * renames it over path and fsyncs the directory. On error the temporary
 * file is removed and path is untouched. JK_ERR_IO names the path and the
 * step; JK_ERR_INVAL for a missing argument or a bad mode. */
jk_err_t jk_file_write(const char *path, const void *data, size_t len, unsigned mode,
                       jk_error_t *err);

#endif
