/*
 * jkadmin keys curve|allow: CURVE key pairs for the ZeroMQ links and the
 * broker's allow-list.
 *
 *   keys curve --name NAME --out DIR [--force]
 *       writes DIR/NAME.key (the secret key, mode 0600) and DIR/NAME.pub
 *       (the public key, mode 0644); Z85 text, one line each. An existing
 *       NAME.key is never replaced without --force: overwriting a node's key
 *       locks it out until the allow-list is rebuilt.
 *   keys allow --dir DIR --out FILE
 *       writes an allow-list (`<name> <z85-public-key>` per line, sorted by
 *       name) of every public key file in DIR (NAME.pub); the name is the
 *       file name without .pub.
 *
 * The formats and checks live in core/jk_net.c (the same code reads them in
 * the daemons); this file only walks arguments and directories. Writes are
 * atomic (temporary file + rename), so a reader never sees half a file.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "jk_net.h"
#include "jk_package.h"
#include "jk_text.h"

#define S_PATH_MAX 4096u
#define S_PUB_SUFFIX ".pub"

int admin__keys_curve(int argc, char **argv)
{
    const char *name = NULL, *dir = NULL;
    bool force = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--force") == 0)
            force = true;
        else {
            admin__fail("keys curve: unexpected argument '%s'", argv[i]);
            return ADMIN_USAGE;
        }
    }
    if (!name || !dir) {
        admin__fail("keys curve: needs --name NAME and --out DIR");
        return ADMIN_USAGE;
    }
    if (!jk_id_valid(name, JK_NET_NAME_MAX)) {
        admin__fail("keys curve: name '%s' is not an id (1..64 of A-Z a-z 0-9 - _ . :)", name);
        return ADMIN_INVALID;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        admin__fail("keys curve: %s: not a directory", dir);
        return ADMIN_FAIL;
    }
    char kpath[S_PATH_MAX], ppath[S_PATH_MAX];
    if ((size_t)snprintf(kpath, sizeof kpath, "%s/%s.key", dir, name) >= sizeof kpath ||
        (size_t)snprintf(ppath, sizeof ppath, "%s/%s.pub", dir, name) >= sizeof ppath) {
        admin__fail("keys curve: path too long");
        return ADMIN_USAGE;
    }
    if (!force && stat(kpath, &st) == 0) {
        admin__fail("keys curve: %s exists; use --force to replace it (the old key stops "
                    "working)",
                    kpath);
        return ADMIN_INVALID;
    }
    jk_net_keypair_t kp;
    jk_error_t err;
    int rc = ADMIN_OK;
    if (jk_net_keypair_generate(&kp, &err) != JK_OK) {
        admin__fail("keys curve: %s", err.msg);
        return ADMIN_FAIL;
    }
    /* The public file first: a crash in between leaves a .pub without a
     * .key, which is harmless, never a secret without its public half. */
    if (jk_net_key_write(ppath, kp.public_z85, false, &err) != JK_OK ||
        jk_net_key_write(kpath, kp.secret_z85, true, &err) != JK_OK) {
        admin__fail("keys curve: %s", err.msg);
        rc = admin__exit_code(err.code);
    } else {
        printf("keys curve: %s (secret, mode 0600) and %s written; public key %s\n", kpath, ppath,
               kp.public_z85);
    }
    jk_net_keypair_wipe(&kp);
    return rc;
}

static int s_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int admin__keys_allow(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else {
            admin__fail("keys allow: unexpected argument '%s'", argv[i]);
            return ADMIN_USAGE;
        }
    }
    if (!dir || !out) {
        admin__fail("keys allow: needs --dir DIR and --out FILE");
        return ADMIN_USAGE;
    }
    int rc = ADMIN_OK;
    char **names = NULL;
    size_t n = 0, cap = 0;
    char *text = NULL;
    size_t tlen = 0;
    DIR *d = opendir(dir);
    if (!d) {
        admin__fail("keys allow: %s: %s", dir, strerror(errno));
        return ADMIN_FAIL;
    }
    struct dirent *de;
    const size_t sl = strlen(S_PUB_SUFFIX);
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l <= sl || strcmp(de->d_name + l - sl, S_PUB_SUFFIX) != 0)
            continue;
        if (n >= JK_NET_ALLOW_ENTRIES_MAX) {
            admin__fail("keys allow: %s: more than %u public keys", dir, JK_NET_ALLOW_ENTRIES_MAX);
            rc = ADMIN_INVALID;
            goto cleanup;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn) {
                admin__fail("keys allow: out of memory");
                rc = ADMIN_FAIL;
                goto cleanup;
            }
            names = nn;
            cap = nc;
        }
        if (!(names[n] = strndup(de->d_name, l - sl))) {
            admin__fail("keys allow: out of memory");
            rc = ADMIN_FAIL;
            goto cleanup;
        }
        n++;
    }
    if (n == 0) {
        admin__fail("keys allow: no *.pub file in %s", dir);
        rc = ADMIN_INVALID;
        goto cleanup;
    }
    qsort(names, n, sizeof *names, s_cmp);

    /* One line per key: name, space, 40 characters, newline. */
    static const char header[] =
        "# jikao CURVE allow-list: <name> <z85-public-key>; made by jkadmin keys allow\n";
    size_t tcap = sizeof header + n * (JK_NET_NAME_MAX + JK_NET_Z85_LEN + 3);
    if (!(text = malloc(tcap))) {
        admin__fail("keys allow: out of memory");
        rc = ADMIN_FAIL;
        goto cleanup;
    }
    memcpy(text, header, sizeof header - 1);
    tlen = sizeof header - 1;
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        char path[S_PATH_MAX], key[JK_NET_Z85_LEN + 1];
        jk_error_t err;
        if (!jk_id_valid(names[i], JK_NET_NAME_MAX)) {
            admin__fail("keys allow: %s/%s.pub: the name is not an id (1..64 of A-Z a-z 0-9 - _ "
                        ". :)",
                        dir, names[i]);
            bad++;
            continue;
        }
        if ((size_t)snprintf(path, sizeof path, "%s/%s.pub", dir, names[i]) >= sizeof path) {
            admin__fail("keys allow: path too long");
            bad++;
            continue;
        }
        if (jk_net_key_read(path, false, key, &err) != JK_OK) {
            admin__fail("keys allow: %s", err.msg);
            bad++;
            continue;
        }
        tlen += (size_t)snprintf(text + tlen, tcap - tlen, "%s %s\n", names[i], key);
    }
    if (bad) {
        admin__fail("keys allow: %zu bad public key file%s; %s not written", bad,
                    bad == 1 ? "" : "s", out);
        rc = ADMIN_INVALID;
        goto cleanup;
    }
    /* Check what we are about to write with the daemons' own parser
     * (duplicate keys, for one). */
    jk_error_t err;
    jk_net_allow_t *al = jk_net_allow_parse(text, tlen, out, &err);
    if (!al) {
        admin__fail("keys allow: %s", err.msg);
        rc = admin__exit_code(err.code);
        goto cleanup;
    }
    jk_net_allow_destroy(&al);
    if (jk_package_file_write(out, text, tlen, 0644u, &err) != JK_OK) {
        admin__fail("keys allow: %s", err.msg);
        rc = ADMIN_FAIL;
        goto cleanup;
    }
    printf("keys allow: %zu key%s written to %s\n", n, n == 1 ? "" : "s", out);
cleanup:
    free(text);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    closedir(d);
    return rc;
}
