/*
 * jkadmin candidates import | plan check | plan assign | papers build |
 * package verify: the offline flow of a sitting, from the clerk's CSV to
 * sealed site packages.
 *
 * Shared steps (load the standard, the candidates with their eligibility on
 * the sitting date, the plan and its assignment) live in static helpers so
 * every command sees the same inputs the same way.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "jk_bank.h"
#include "jk_candidates.h"
#include "jk_clock.h"
#include "jk_date.h"
#include "jk_eligibility.h"
#include "jk_package.h"
#include "jk_plan.h"
#include "jk_sitting.h"
#include "jk_standard.h"

typedef struct {
    const char *plan_path;
    const char *candidates_path;
    const char *bank_path;
    const char *out_dir;
    const char *key_path;      /* center signing key to reuse */
    const char *on_text;       /* eligibility date */
    const char *release_key;   /* package verify */
    const char *keys_path;     /* package verify: keys file */
    const char *pub_path;      /* package verify: center public key */
    const char *roster_path;
    const char *json_path;
    uint64_t seed;
    double exposure;
    long kdf_iterations;
    const char *positional[4];
    int n_positional;
} s_args_t;

static int s_parse(int argc, char **argv, s_args_t *a)
{
    memset(a, 0, sizeof *a);
    a->seed = 20261212;
    for (int i = 0; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **dst = NULL;
        if (strcmp(k, "--plan") == 0) dst = &a->plan_path;
        else if (strcmp(k, "--candidates") == 0) dst = &a->candidates_path;
        else if (strcmp(k, "--bank") == 0) dst = &a->bank_path;
        else if (strcmp(k, "--out") == 0) dst = &a->out_dir;
        else if (strcmp(k, "--center-key") == 0) dst = &a->key_path;
        else if (strcmp(k, "--on") == 0) dst = &a->on_text;
        else if (strcmp(k, "--release-key") == 0) dst = &a->release_key;
        else if (strcmp(k, "--keys") == 0) dst = &a->keys_path;
        else if (strcmp(k, "--key") == 0) dst = &a->pub_path;
        else if (strcmp(k, "--roster") == 0) dst = &a->roster_path;
        else if (strcmp(k, "--json") == 0) dst = &a->json_path;
        else if (strcmp(k, "--kdf-iterations") == 0) {
            char *end;
            a->kdf_iterations = v ? strtol(v, &end, 10) : 0;
            if (!v || *end || a->kdf_iterations < 1000 || a->kdf_iterations > 10000000) {
                admin__fail("--kdf-iterations: expected 1000..10000000");
                return ADMIN_USAGE;
            }
            i++;
            continue;
        } else if (strcmp(k, "--seed") == 0 || strcmp(k, "--exposure") == 0) {
            if (!v) {
                admin__fail("%s needs a value", k);
                return ADMIN_USAGE;
            }
            char *end;
            if (k[2] == 's') {
                a->seed = strtoull(v, &end, 10);
            } else {
                a->exposure = strtod(v, &end);
                if (!(a->exposure > 0 && a->exposure <= 1))
                    *end = 'x';
            }
            if (*end) {
                admin__fail("%s: '%s' is not valid", k, v);
                return ADMIN_USAGE;
            }
            i++;
            continue;
        } else if (k[0] == '-') {
            admin__fail("unknown option '%s'", k);
            return ADMIN_USAGE;
        } else {
            if (a->n_positional >= 4) {
                admin__fail("too many arguments");
                return ADMIN_USAGE;
            }
            a->positional[a->n_positional++] = k;
            continue;
        }
        if (!v) {
            admin__fail("%s needs a value", k);
            return ADMIN_USAGE;
        }
        *dst = v;
        i++;
    }
    return ADMIN_OK;
}

static void s_print_diag(void *ud, jk_diag_severity_t sev, jk_err_t code, const char *msg)
{
    (void)ud;
    (void)code;
    fprintf(stderr, "%s: %s\n", sev == JK_DIAG_ERROR ? "error" : "warning", msg);
}

/* Everything a sitting command needs, loaded once. */
typedef struct {
    jk_standard_t *std;
    jk_candidates_t *cands;
    jk_plan_t *plan;
    jk_plan_result_t *assignment;
    jk_plan_candidate_t *pc;
    size_t n_pc;
    jk_date_t on;
    size_t eligible[JK_LEVEL_COUNT], applied[JK_LEVEL_COUNT];
    size_t rejected_rows;
} s_ctx_t;

static void s_ctx_free(s_ctx_t *c)
{
    jk_plan_result_destroy(&c->assignment);
    jk_plan_destroy(&c->plan);
    jk_candidates_destroy(&c->cands);
    jk_standard_destroy(&c->std);
    free(c->pc);
}

/* The sitting date: --on, else the date (UTC+8) of the plan's first session. */
static int s_sitting_date(const s_args_t *a, const jk_plan_t *plan, jk_date_t *on)
{
    if (a->on_text) {
        if (!jk_date_parse_iso(a->on_text, on)) {
            admin__fail("--on: '%s' is not a date YYYY-MM-DD", a->on_text);
            return ADMIN_USAGE;
        }
        return ADMIN_OK;
    }
    int64_t first = INT64_MAX;
    for (size_t i = 0; plan && i < jk_plan_session_count(plan); i++)
        if (jk_plan_session(plan, i)->start_s < first)
            first = jk_plan_session(plan, i)->start_s;
    if (first == INT64_MAX) {
        admin__fail("no sitting date: give --on YYYY-MM-DD");
        return ADMIN_USAGE;
    }
    *on = jk_date_from_wall_ms(first * 1000);
    return ADMIN_OK;
}

/* Loads standard, plan (if given), candidates with eligibility. */
static int s_load(const s_args_t *a, s_ctx_t *c, bool need_plan)
{
    memset(c, 0, sizeof *c);
    jk_error_t err;
    jk_diag_t diag;
    jk_diag_init(&diag, s_print_diag, NULL, 100);
    c->std = jk_standard_load_default(&err);
    if (!c->std) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    if (need_plan) {
        if (!a->plan_path) {
            admin__fail("needs --plan FILE");
            return ADMIN_USAGE;
        }
        c->plan = jk_plan_load(c->std, a->plan_path, &diag, &err);
        if (!c->plan) {
            admin__fail("plan: %zu errors", diag.errors);
            return admin__exit_code(err.code);
        }
    }
    int rc = s_sitting_date(a, c->plan, &c->on);
    if (rc != ADMIN_OK)
        return rc;
    if (!a->candidates_path) {
        admin__fail("needs --candidates FILE");
        return ADMIN_USAGE;
    }
    c->cands = jk_candidates_new();
    jk_err_t lr = jk_candidates_load_file(c->cands, a->candidates_path, &diag, &err);
    c->rejected_rows = jk_candidates_rejected(c->cands);
    if (lr != JK_OK && jk_candidates_count(c->cands) == 0) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    c->n_pc = jk_candidates_count(c->cands);
    c->pc = calloc(c->n_pc ? c->n_pc : 1, sizeof *c->pc);
    if (!c->pc) {
        admin__fail("out of memory");
        return ADMIN_FAIL;
    }
    for (size_t i = 0; i < c->n_pc; i++) {
        const jk_candidate_t *cd = jk_candidates_get(c->cands, i);
        jk_elig_result_t r;
        jk_err_t er = jk_eligibility_check(c->std, cd->level, &cd->applicant, c->on, &r);
        c->pc[i].admission = cd->admission_no;
        c->pc[i].level = cd->level;
        c->pc[i].eligible = er == JK_OK;
        int li = jk_level_index(cd->level);
        c->applied[li]++;
        c->eligible[li] += er == JK_OK;
    }
    return ADMIN_OK;
}

int admin__candidates_import(int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse(argc, argv, &a);
    if (rc != ADMIN_OK)
        return rc;
    if (a.n_positional == 1 && !a.candidates_path)
        a.candidates_path = a.positional[0];
    if (!a.on_text && !a.plan_path) {
        admin__fail("candidates import: give --on YYYY-MM-DD (the sitting date) or --plan FILE");
        return ADMIN_USAGE;
    }
    s_ctx_t c;
    rc = s_load(&a, &c, a.plan_path != NULL);
    if (rc == ADMIN_OK) {
        char day[11];
        printf("candidates: %zu imported, %zu rows refused (%s); eligibility on %s:\n",
               jk_candidates_count(c.cands), c.rejected_rows, a.candidates_path,
               jk_date_format(c.on, day));
        for (int li = 0; li < JK_LEVEL_COUNT; li++) {
            int lv = jk_level_at(li);
            printf("  %-12s applied %4zu, eligible %4zu, not eligible %4zu\n",
                   jk_standard_level_name(c.std, lv), c.applied[li], c.eligible[li],
                   c.applied[li] - c.eligible[li]);
        }
        for (size_t i = 0; i < c.n_pc; i++) {
            if (c.pc[i].eligible)
                continue;
            const jk_candidate_t *cd = jk_candidates_get(c.cands, i);
            jk_elig_result_t r;
            jk_eligibility_check(c.std, cd->level, &cd->applicant, c.on, &r);
            char why[4096];
            jk_elig_result_format(&r, why, sizeof why);
            printf("  not eligible: %s %s (level %d, line %zu):\n", cd->admission_no, cd->name,
                   cd->level, cd->line);
            for (char *line = strtok(why, "\n"); line; line = strtok(NULL, "\n"))
                printf("      %s\n", line);
        }
        rc = c.rejected_rows ? ADMIN_INVALID : ADMIN_OK;
    }
    s_ctx_free(&c);
    return rc;
}

int admin__plan_check(int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse(argc, argv, &a);
    if (rc != ADMIN_OK)
        return rc;
    if (a.n_positional == 1 && !a.plan_path)
        a.plan_path = a.positional[0];
    jk_error_t err;
    jk_standard_t *std = jk_standard_load_default(&err);
    if (!std) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    jk_diag_t diag;
    jk_diag_init(&diag, s_print_diag, NULL, 100);
    jk_plan_t *plan = a.plan_path ? jk_plan_load(std, a.plan_path, &diag, &err) : NULL;
    if (!a.plan_path) {
        admin__fail("plan check: needs a plan file");
        rc = ADMIN_USAGE;
    } else if (!plan) {
        admin__fail("plan %s: %zu errors", a.plan_path, diag.errors);
        rc = admin__exit_code(err.code);
    } else {
        printf("plan %s: %s, ok: %zu sessions, %zu sites, %zu rooms, %zu staff\n", a.plan_path,
               jk_plan_id(plan), jk_plan_session_count(plan), jk_plan_site_count(plan),
               jk_plan_room_count(plan), jk_plan_staff_count(plan));
    }
    jk_plan_destroy(&plan);
    jk_standard_destroy(&std);
    return rc;
}

static int s_assign(const s_args_t *a, s_ctx_t *c)
{
    jk_error_t err;
    jk_diag_t diag;
    jk_diag_init(&diag, s_print_diag, NULL, 200);
    c->assignment = jk_plan_assign(c->plan, c->pc, c->n_pc, a->seed, &diag, &err);
    if (!c->assignment) {
        admin__fail("plan assign: %s", err.msg);
        return admin__exit_code(err.code);
    }
    size_t seated = 0;
    for (size_t i = 0; i < jk_plan_session_count(c->plan); i++)
        seated += jk_plan_result_session(c->assignment, i)->seated;
    printf("plan %s: %zu seats assigned over %zu sessions; %zu shortfalls\n", jk_plan_id(c->plan),
           seated, jk_plan_session_count(c->plan), jk_plan_result_shortfall_count(c->assignment));
    return jk_plan_result_ok(c->assignment) ? ADMIN_OK : ADMIN_INVALID;
}

/* Writes what fn prints to path, atomically and with exactly `mode`
 * (jk_package_file_write: a crash leaves the old file or the new one). */
static int s_write_file(const char *path, unsigned mode, bool (*fn)(const void *, FILE *),
                        const void *ud)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        admin__fail("cannot write %s: %s", path, strerror(errno));
        return ADMIN_FAIL;
    }
    bool ok = fn(ud, f);
    ok = fclose(f) == 0 && ok;
    jk_error_t err;
    int rc = ADMIN_OK;
    if (!ok) {
        admin__fail("cannot write %s: out of memory", path);
        rc = ADMIN_FAIL;
    } else if (jk_package_file_write(path, buf, len, mode, &err) != JK_OK) {
        admin__fail("%s", err.msg);
        rc = ADMIN_FAIL;
    }
    if (buf)
        OPENSSL_cleanse(buf, len); /* the credentials are secrets */
    free(buf);
    return rc;
}

static bool s_write_roster(const void *r, FILE *f) { return jk_plan_result_write_roster(r, f, NULL) == JK_OK; }
static bool s_write_json(const void *r, FILE *f) { return jk_plan_result_write_json(r, f, NULL) == JK_OK; }
static bool s_write_credentials(const void *b, FILE *f)
{
    return jk_sitting_build_write_credentials(b, f, NULL) == JK_OK;
}

int admin__plan_assign(int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse(argc, argv, &a);
    if (rc != ADMIN_OK)
        return rc;
    s_ctx_t c;
    rc = s_load(&a, &c, true);
    if (rc == ADMIN_OK)
        rc = s_assign(&a, &c);
    if (c.assignment && a.roster_path && s_write_file(a.roster_path, 0644, s_write_roster, c.assignment) != ADMIN_OK)
        rc = ADMIN_FAIL;
    if (c.assignment && a.json_path && s_write_file(a.json_path, 0644, s_write_json, c.assignment) != ADMIN_OK)
        rc = ADMIN_FAIL;
    if (c.assignment && !a.roster_path && !a.json_path)
        jk_plan_result_write_roster(c.assignment, stdout, NULL);
    s_ctx_free(&c);
    return rc;
}

/* A progress bar when stderr is a terminal, a line per 10 % otherwise. */
typedef struct {
    bool tty;
    int last;
} s_progress_t;

static void s_progress(void *ud, size_t done, size_t total)
{
    s_progress_t *p = ud;
    int pct = total ? (int)(done * 100 / total) : 100;
    if (pct == p->last)
        return;
    if (p->tty) {
        char bar[41];
        int fill = pct * 40 / 100;
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(40 - fill));
        bar[40] = '\0';
        fprintf(stderr, "\rpapers [%s] %3d%% (%zu/%zu)", bar, pct, done, total);
        if (done == total)
            fputc('\n', stderr);
    } else if (pct / 10 != p->last / 10 || done == total) {
        fprintf(stderr, "papers: %d%% (%zu/%zu)\n", pct, done, total);
    }
    p->last = pct;
}

static int s_mkdir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        admin__fail("cannot create %s: %s", path, strerror(errno));
        return ADMIN_FAIL;
    }
    return ADMIN_OK;
}

int admin__papers_build(int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse(argc, argv, &a);
    if (rc != ADMIN_OK)
        return rc;
    if (!a.out_dir) {
        admin__fail("papers build: needs --out DIR");
        return ADMIN_USAGE;
    }
    s_ctx_t c;
    jk_bank_t *bank = NULL;
    jk_package_key_t *key = NULL;
    jk_package_keys_t *keys = NULL;
    jk_sitting_build_t *build = NULL;
    uint8_t master[JK_SITTING_KEY_BYTES];
    jk_error_t err;
    char path[4096];
    rc = s_load(&a, &c, true);
    if (rc != ADMIN_OK)
        goto out;
    rc = s_assign(&a, &c);
    if (rc != ADMIN_OK) {
        admin__fail("papers build: the plan has shortfalls; see `jkadmin plan assign`");
        goto out;
    }
    bank = jk_bank_new(c.std);
    jk_diag_t diag;
    jk_diag_init(&diag, s_print_diag, NULL, 100);
    if (jk_bank_load_path(bank, a.bank_path ? a.bank_path : JK_DATA_DIR "/bank", &diag, &err) != JK_OK) {
        admin__fail("bank: %s", err.msg);
        rc = admin__exit_code(err.code);
        goto out;
    }
    if (s_mkdir(a.out_dir) != ADMIN_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/center", a.out_dir);
    if (s_mkdir(path) != ADMIN_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/sites", a.out_dir);
    if (s_mkdir(path) != ADMIN_OK)
        goto fail;

    /* The center's signing key: reuse one given, else make one. */
    if (a.key_path) {
        key = jk_package_key_load_private(a.key_path, &err);
    } else {
        key = jk_package_key_generate(&err);
        if (key) {
            snprintf(path, sizeof path, "%s/center/center-signing.key", a.out_dir);
            if (jk_package_key_save_private(key, path, &err) != JK_OK)
                jk_package_key_destroy(&key);
        }
    }
    if (!key) {
        admin__fail("center key: %s", err.msg);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/center/center-signing.pub", a.out_dir);
    if (jk_package_key_save_public(key, path, &err) != JK_OK) {
        admin__fail("%s", err.msg);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/sites/center-signing.pub", a.out_dir);
    if (jk_package_key_save_public(key, path, &err) != JK_OK) {
        admin__fail("%s", err.msg);
        goto fail;
    }

    /* The master secret of the sitting: random, center only. */
    if (RAND_bytes(master, sizeof master) != 1) {
        admin__fail("no randomness for the master secret");
        goto fail;
    }
    char mhex[2 * JK_SITTING_KEY_BYTES + 2];
    jk_release_key_format(master, mhex);
    size_t ml = strlen(mhex);
    mhex[ml] = '\n';
    snprintf(path, sizeof path, "%s/center/master.key", a.out_dir);
    jk_err_t wr = jk_package_file_write(path, mhex, ml + 1, 0600, &err);
    OPENSSL_cleanse(mhex, sizeof mhex);
    if (wr != JK_OK) {
        admin__fail("%s", err.msg);
        goto fail;
    }

    s_progress_t prog = { isatty(2) != 0, -1 };
    jk_sitting_spec_t spec = { .std = c.std, .bank = bank, .candidates = c.cands,
                               .assignment = c.assignment, .seed = a.seed,
                               .exposure_max = a.exposure, .master = master,
                               .created_ms = jk_clock_wall_ms(jk_clock_system()),
                               .pbkdf2_iterations = (int)a.kdf_iterations };
    build = jk_sitting_build(&spec, s_progress, &prog, &err);
    if (!build) {
        admin__fail("papers build: %s", err.msg);
        rc = admin__exit_code(err.code);
        goto out;
    }
    size_t clen;
    const char *cdoc = jk_sitting_build_center_doc(build, &clen);
    snprintf(path, sizeof path, "%s/center/sitting.json", a.out_dir);
    if (jk_package_file_write(path, cdoc, clen, 0600, &err) != JK_OK) {
        admin__fail("%s", err.msg);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/center/credentials.csv", a.out_dir);
    if (s_write_file(path, 0600, s_write_credentials, build) != ADMIN_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/center/roster.txt", a.out_dir);
    if (s_write_file(path, 0644, s_write_roster, c.assignment) != ADMIN_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/center/assignment.json", a.out_dir);
    if (s_write_file(path, 0644, s_write_json, c.assignment) != ADMIN_OK)
        goto fail;

    keys = jk_package_keys_new();
    int64_t start_ms = INT64_MAX;
    for (size_t i = 0; i < jk_plan_session_count(c.plan); i++)
        if (jk_plan_session(c.plan, i)->start_s * 1000 < start_ms)
            start_ms = jk_plan_session(c.plan, i)->start_s * 1000;
    for (size_t s = 0; s < jk_sitting_build_site_count(build); s++) {
        size_t len;
        const char *doc = jk_sitting_build_site_doc(build, s, &len);
        jk_package_info_t info = { jk_plan_id(c.plan), jk_sitting_build_site_id(build, s),
                                   spec.created_ms, start_ms };
        uint8_t rk[JK_RELEASE_KEY_BYTES];
        uint8_t *pkg = NULL;
        size_t plen = 0;
        jk_package_header_t hdr;
        if (jk_package_seal(doc, len, &info, key, rk, &pkg, &plen, &hdr, &err) != JK_OK ||
            jk_package_keys_add(keys, &hdr, rk, &err) != JK_OK) {
            OPENSSL_cleanse(rk, sizeof rk);
            free(pkg);
            admin__fail("site %s: %s", info.site_id, err.msg);
            goto fail;
        }
        OPENSSL_cleanse(rk, sizeof rk);
        snprintf(path, sizeof path, "%s/sites/%s.jkpkg", a.out_dir, info.site_id);
        jk_err_t pw = jk_package_file_write(path, pkg, plen, 0644, &err);
        free(pkg);
        if (pw != JK_OK) {
            admin__fail("%s", err.msg);
            goto fail;
        }
        printf("  site %s: %s (%zu bytes, package %s)\n", info.site_id, path, plen, hdr.package_id);
    }
    snprintf(path, sizeof path, "%s/center/keys.json", a.out_dir);
    if (jk_package_keys_save(keys, path, &err) != JK_OK) {
        admin__fail("%s", err.msg);
        goto fail;
    }
    printf("papers build: %zu papers for %zu sites; center files in %s/center (keep them "
           "there: release keys, master secret, credentials), packages in %s/sites\n",
           jk_sitting_build_papers(build), jk_sitting_build_site_count(build), a.out_dir,
           a.out_dir);
    rc = ADMIN_OK;
    goto out;
fail:
    rc = ADMIN_FAIL;
out:
    OPENSSL_cleanse(master, sizeof master);
    jk_sitting_build_destroy(&build);
    jk_package_keys_destroy(&keys);
    jk_package_key_destroy(&key);
    jk_bank_destroy(&bank);
    s_ctx_free(&c);
    return rc;
}

int admin__package_verify(int argc, char **argv)
{
    s_args_t a;
    int rc = s_parse(argc, argv, &a);
    if (rc != ADMIN_OK)
        return rc;
    if (a.n_positional != 1 || !a.pub_path) {
        admin__fail("package verify: needs PACKAGE and --key CENTER.pub");
        return ADMIN_USAGE;
    }
    jk_error_t err;
    uint8_t *pkg = NULL, *payload = NULL;
    size_t len = 0, plen = 0;
    jk_package_key_t *key = jk_package_key_load_public(a.pub_path, &err);
    jk_package_keys_t *keys = NULL;
    jk_sitting_t *site = NULL;
    if (!key) {
        admin__fail("%s", err.msg);
        return admin__exit_code(err.code);
    }
    jk_package_header_t hdr;
    if (jk_package_file_read(a.positional[0], (size_t)1 << 31, &pkg, &len, &err) != JK_OK ||
        jk_package_verify(pkg, len, key, &hdr, &err) != JK_OK) {
        admin__fail("%s: %s", a.positional[0], err.msg);
        rc = err.code == JK_ERR_IO ? ADMIN_FAIL : ADMIN_INVALID;
        goto out;
    }
    printf("%s: signature ok: sitting %s, site %s, package %s, signed by key %s, %llu bytes sealed\n",
           a.positional[0], hdr.sitting_id, hdr.site_id, hdr.package_id, hdr.key_id,
           (unsigned long long)hdr.payload_bytes);
    uint8_t rk[JK_RELEASE_KEY_BYTES];
    bool have_rk = false;
    if (a.release_key) {
        have_rk = jk_release_key_parse(a.release_key, rk, &err) == JK_OK;
        if (!have_rk) {
            admin__fail("--release-key: %s", err.msg);
            rc = ADMIN_USAGE;
            goto out;
        }
    } else if (a.keys_path) {
        keys = jk_package_keys_load(a.keys_path, &err);
        const jk_package_keys_entry_t *e = keys ? jk_package_keys_find_package(keys, hdr.package_id) : NULL;
        if (!e) {
            admin__fail("%s: %s", a.keys_path, keys ? "no release key for this package" : err.msg);
            rc = ADMIN_INVALID;
            goto out;
        }
        memcpy(rk, e->release_key, sizeof rk);
        have_rk = true;
    }
    if (have_rk) {
        jk_err_t orc = jk_package_open(pkg, len, key, rk, &hdr, &payload, &plen, &err);
        OPENSSL_cleanse(rk, sizeof rk);
        if (orc != JK_OK) {
            admin__fail("%s: %s", a.positional[0], err.msg);
            rc = ADMIN_INVALID;
            goto out;
        }
        site = jk_sitting_parse((const char *)payload, plen, a.positional[0], &err);
        if (!site) {
            admin__fail("%s", err.msg);
            rc = ADMIN_INVALID;
            goto out;
        }
        printf("%s: opened: %zu papers over %zu sessions for site %s; no answer keys inside\n",
               a.positional[0], jk_sitting_entry_count(site), jk_sitting_session_count(site),
               jk_sitting_site(site));
    }
    rc = ADMIN_OK;
out:
    if (payload) {
        OPENSSL_cleanse(payload, plen);
        free(payload);
    }
    jk_sitting_destroy(&site);
    free(pkg);
    jk_package_keys_destroy(&keys);
    jk_package_key_destroy(&key);
    return rc;
}
