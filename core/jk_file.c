/* jk_file: bounded whole-file reads and crash-safe writes; see jk_file.h. */
#include "jk_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Wipes memory in a way the compiler may not elide (no OpenSSL here: this
 * object stays below the crypto library). */
static void s_wipe(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}

/* ---- reading ---- */

jk_err_t jk_file_read_fd(int fd, size_t max_bytes, bool secret, uint8_t **out, size_t *len_out,
                         jk_error_t *err)
{
    jk_err_t rc = JK_OK;
    uint8_t *buf = NULL;
    size_t cap = 0, got = 0;
    struct stat st;

    if (fd < 0 || !out || !len_out)
        return jk_error_set(err, JK_ERR_INVAL, "read file: missing argument");
    *out = NULL;
    *len_out = 0;
    if (fstat(fd, &st) != 0)
        return jk_error_set(err, JK_ERR_IO, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return jk_error_set(err, JK_ERR_IO, "not a regular file");
    if (secret && (st.st_mode & 077))
        return jk_error_set(err, JK_ERR_CONFIG,
                            "group or others may access this secret file (mode %04o); "
                            "it must be mode 0600",
                            (unsigned)(st.st_mode & 07777));
    if (st.st_size < 0 || (unsigned long long)st.st_size > (unsigned long long)max_bytes)
        return jk_error_set(err, JK_ERR_TOO_BIG, "%lld bytes, more than the bound of %zu",
                            (long long)st.st_size, max_bytes);
    /* One byte more than fstat promised: reading into it means the file
     * grew, and the same byte holds the NUL terminator otherwise. */
    cap = (size_t)st.st_size;
    if (!(buf = malloc(cap + 1)))
        return jk_error_set(err, JK_ERR_NOMEM, "out of memory");
    for (;;) {
        ssize_t n = read(fd, buf + got, cap + 1 - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = jk_error_set(err, JK_ERR_IO, "read failed: %s", strerror(errno));
            goto cleanup;
        }
        if (n == 0)
            break;
        got += (size_t)n;
        if (got > cap) {
            rc = jk_error_set(err, JK_ERR_IO, "the file grew while it was read");
            goto cleanup;
        }
    }
    buf[got] = '\0';
    *out = buf;
    *len_out = got;
    buf = NULL;
cleanup:
    if (buf) {
        if (secret)
            s_wipe(buf, cap + 1);
        free(buf);
    }
    return rc;
}

jk_err_t jk_file_read(const char *path, size_t max_bytes, bool secret, uint8_t **out,
                      size_t *len_out, jk_error_t *err)
{
    if (!path || !out || !len_out)
        return jk_error_set(err, JK_ERR_INVAL, "read file: missing argument");
    *out = NULL;
    *len_out = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return jk_error_set(err, JK_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    jk_err_t rc = jk_file_read_fd(fd, max_bytes, secret, out, len_out, err);
    close(fd);
    if (rc != JK_OK)
        jk_error_prefix(err, "%s: ", path);
    return rc;
}

/* ---- writing ---- */

/* fsyncs the directory holding path, so that a rename into it survives a
 * crash (the rename is an update of the directory, not of the file). */
static jk_err_t s_fsync_dir(const char *path, jk_error_t *err)
{
    jk_err_t rc = JK_OK;
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    if (!slash) {
        dir = strdup(".");
    } else if (slash == path) {
        dir = strdup("/");
    } else {
        size_t n = (size_t)(slash - path);
        if ((dir = malloc(n + 1))) {
            memcpy(dir, path, n);
            dir[n] = '\0';
        }
    }
    if (!dir)
        return jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s: cannot open its directory: %s", path,
                          strerror(errno));
    } else {
        /* Some file systems can't fsync a directory (EINVAL); the rename is
         * then as durable as that file system makes it. */
        if (fsync(fd) != 0 && errno != EINVAL)
            rc = jk_error_set(err, JK_ERR_IO, "%s: cannot fsync its directory: %s", path,
                              strerror(errno));
        close(fd);
    }
    free(dir);
    return rc;
}

jk_err_t jk_file_write(const char *path, const void *data, size_t len, unsigned mode,
                       jk_error_t *err)
{
    static const char suffix[] = ".tmp.XXXXXX";
    jk_err_t rc = JK_OK;
    char *tmp = NULL;
    int fd = -1;
    bool created = false;

    if (!path || !*path || (!data && len > 0))
        return jk_error_set(err, JK_ERR_INVAL, "write file: missing argument");
    if (mode & ~07777u)
        return jk_error_set(err, JK_ERR_INVAL, "%s: bad file mode %o", path, mode);
    size_t pl = strlen(path);
    if (!(tmp = malloc(pl + sizeof suffix)))
        return jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, suffix, sizeof suffix);

    /* The temporary file lives next to path so that rename() is atomic (same
     * file system); mkstemp creates it 0600 and exclusively. */
    if ((fd = mkstemp(tmp)) < 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s: cannot create a temporary file: %s", path,
                          strerror(errno));
        goto cleanup;
    }
    created = true;
    /* Exactly `mode`, whatever the umask: a key file must not end up wider,
     * and a public file not narrower, than asked. */
    if (fchmod(fd, (mode_t)mode) != 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s: cannot set the file mode: %s", path,
                          strerror(errno));
        goto cleanup;
    }
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = jk_error_set(err, JK_ERR_IO, "%s: write failed: %s", path, strerror(errno));
            goto cleanup;
        }
        done += (size_t)n;
    }
    /* The data must be on disk before the rename makes it the file: else a
     * crash could leave path naming an empty or partial file. */
    if (fsync(fd) != 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
        goto cleanup;
    }
    int cr = close(fd);
    fd = -1;
    if (cr != 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s: close failed: %s", path, strerror(errno));
        goto cleanup;
    }
    if (rename(tmp, path) != 0) {
        rc = jk_error_set(err, JK_ERR_IO, "%s: cannot rename the temporary file into place: %s",
                          path, strerror(errno));
        goto cleanup;
    }
    created = false;
    rc = s_fsync_dir(path, err);
cleanup:
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp);
    free(tmp);
    return rc;
}
