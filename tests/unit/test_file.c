/* Unit tests for jk_file: bounded reads (exact bound, over it, empty,
 * missing, not a regular file), the secret-file mode check, reads from an
 * open descriptor (messages without a path), and crash-safe writes (exact
 * mode whatever the umask, no temporary file left behind, refusals).
 * Temporary files live in a fresh mkdtemp directory under $TMPDIR (or
 * /tmp) and are removed at the end. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "jk_file.h"

static char s_dir[512];

static void s_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", s_dir, name);
}

static int s_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(s_dir, sizeof s_dir, "%s/jk-file-test.XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(s_dir) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    DIR *d = opendir(s_dir);
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", s_dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    return rmdir(s_dir);
}

static size_t s_entries(void)
{
    size_t n = 0;
    DIR *d = opendir(s_dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static unsigned s_mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

static void test_read_bounds(void **state)
{
    (void)state;
    jk_error_t e;
    char path[1024];
    s_path(path, sizeof path, "bounded.txt");
    assert_int_equal(jk_file_write(path, "hello", 5, 0644, &e), JK_OK);

    uint8_t *buf = NULL;
    size_t len = 0;
    /* Exactly the bound is fine, and the buffer is NUL-terminated. */
    assert_int_equal(jk_file_read(path, 5, false, &buf, &len, &e), JK_OK);
    assert_int_equal(len, 5);
    assert_string_equal((char *)buf, "hello");
    free(buf);
    /* One byte over: refused before reading, naming the path and bound. */
    static uint8_t sentinel;
    buf = &sentinel;
    assert_int_equal(jk_file_read(path, 4, false, &buf, &len, &e), JK_ERR_TOO_BIG);
    assert_null(buf);
    assert_int_equal(len, 0);
    assert_int_equal(e.code, JK_ERR_TOO_BIG);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "5 bytes, more than the bound of 4"));

    /* An empty file: a non-NULL, empty, terminated buffer. */
    assert_int_equal(jk_file_write(path, NULL, 0, 0644, &e), JK_OK);
    assert_int_equal(jk_file_read(path, 0, false, &buf, &len, &e), JK_OK);
    assert_non_null(buf);
    assert_int_equal(len, 0);
    assert_int_equal(buf[0], '\0');
    free(buf);
    unlink(path);

    /* Missing, a directory, missing arguments. */
    char missing[1024];
    s_path(missing, sizeof missing, "no-such-file");
    assert_int_equal(jk_file_read(missing, 5, false, &buf, &len, &e), JK_ERR_IO);
    assert_null(buf);
    assert_non_null(strstr(e.msg, "no-such-file: cannot open"));
    assert_int_equal(jk_file_read(s_dir, 5, false, &buf, &len, &e), JK_ERR_IO);
    assert_null(buf);
    char want[1100];
    snprintf(want, sizeof want, "%s: not a regular file", s_dir);
    assert_string_equal(e.msg, want);
    assert_int_equal(jk_file_read(NULL, 5, false, &buf, &len, &e), JK_ERR_INVAL);
    assert_int_equal(jk_file_read(missing, 5, false, NULL, &len, &e), JK_ERR_INVAL);
    assert_int_equal(jk_file_read(missing, 5, false, &buf, NULL, &e), JK_ERR_INVAL);
    /* A NULL error record is allowed. */
    assert_int_equal(jk_file_read(missing, 5, false, &buf, &len, NULL), JK_ERR_IO);
}

static void test_read_secret(void **state)
{
    (void)state;
    jk_error_t e;
    char path[1024];
    s_path(path, sizeof path, "secret.key");
    uint8_t *buf = NULL;
    size_t len = 0;

    assert_int_equal(jk_file_write(path, "k3y\n", 4, 0640, &e), JK_OK);
    assert_int_equal(jk_file_read(path, 64, true, &buf, &len, &e), JK_ERR_CONFIG);
    assert_null(buf);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "(mode 0640); it must be mode 0600"));
    /* The same file is fine when it is not a secret. */
    assert_int_equal(jk_file_read(path, 64, false, &buf, &len, &e), JK_OK);
    free(buf);

    assert_int_equal(jk_file_write(path, "k3y\n", 4, 0600, &e), JK_OK);
    assert_int_equal(jk_file_read(path, 64, true, &buf, &len, &e), JK_OK);
    assert_int_equal(len, 4);
    assert_string_equal((char *)buf, "k3y\n");
    free(buf);
    /* The bound applies to a secret too. */
    assert_int_equal(jk_file_read(path, 3, true, &buf, &len, &e), JK_ERR_TOO_BIG);
    assert_null(buf);
    unlink(path);
}

static void test_read_fd(void **state)
{
    (void)state;
    jk_error_t e;
    char path[1024];
    s_path(path, sizeof path, "fd.txt");
    assert_int_equal(jk_file_write(path, "abc", 3, 0644, &e), JK_OK);
    uint8_t *buf = NULL;
    size_t len = 0;

    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(jk_file_read_fd(fd, 3, false, &buf, &len, &e), JK_OK);
    assert_int_equal(len, 3);
    assert_string_equal((char *)buf, "abc");
    free(buf);
    /* The descriptor stays open (the caller's) and the message names no
     * file: the caller knows what to call it. */
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(jk_file_read_fd(fd, 2, false, &buf, &len, &e), JK_ERR_TOO_BIG);
    assert_string_equal(e.msg, "3 bytes, more than the bound of 2");
    close(fd);

    int dfd = open(s_dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    assert_int_equal(jk_file_read_fd(dfd, 64, false, &buf, &len, &e), JK_ERR_IO);
    assert_string_equal(e.msg, "not a regular file");
    close(dfd);
    assert_int_equal(jk_file_read_fd(-1, 64, false, &buf, &len, &e), JK_ERR_INVAL);
    unlink(path);
}

static void test_write(void **state)
{
    (void)state;
    jk_error_t e;
    char path[1024], nodir[1024];
    s_path(path, sizeof path, "out.bin");
    s_path(nodir, sizeof nodir, "no-such-dir/out.bin");

    /* Exactly the mode asked for, whatever the umask. */
    mode_t old = umask(077);
    assert_int_equal(jk_file_write(path, "v1", 2, 0644, &e), JK_OK);
    umask(old);
    assert_int_equal(s_mode_of(path), 0644);
    /* Replacing leaves only the file (no temporary beside it). */
    assert_int_equal(jk_file_write(path, "v2!", 3, 0600, &e), JK_OK);
    assert_int_equal(s_mode_of(path), 0600);
    assert_int_equal(s_entries(), 1);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(jk_file_read(path, 16, false, &buf, &len, &e), JK_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "v2!", 3);
    free(buf);

    /* Refusals leave path untouched and nothing behind. */
    assert_int_equal(jk_file_write(nodir, "x", 1, 0600, &e), JK_ERR_IO);
    assert_non_null(strstr(e.msg, "no-such-dir/out.bin: cannot create a temporary file"));
    assert_int_equal(jk_file_write(path, "x", 1, 010000, &e), JK_ERR_INVAL);
    assert_int_equal(jk_file_write(NULL, "x", 1, 0600, &e), JK_ERR_INVAL);
    assert_int_equal(jk_file_write("", "x", 1, 0600, &e), JK_ERR_INVAL);
    assert_int_equal(jk_file_write(path, NULL, 1, 0600, &e), JK_ERR_INVAL);
    assert_int_equal(jk_file_read(path, 16, false, &buf, &len, &e), JK_OK);
    assert_memory_equal(buf, "v2!", 3);
    free(buf);
    assert_int_equal(s_entries(), 1);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_bounds),
        cmocka_unit_test(test_read_secret),
        cmocka_unit_test(test_read_fd),
        cmocka_unit_test(test_write),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
