/*
 * jk_sitting: building a sitting's papers and documents, and reading them
 * back; see jk_sitting.h for the contract and docs/sitting-format.md for the
 * format.
 *
 * The builder works session by session (one paper builder per session, so
 * exposure and distinctness hold within each session), in the order the
 * plan's assignment seats candidates, which is deterministic. Documents are
 * assembled with jansson and dumped compactly; the parser copies what it
 * keeps into an arena and indexes entries by session id.
 */
#include "jk_sitting.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "jk_arena.h"
#include "jk_blueprint.h"
#include "jk_crypto.h"
#include "jk_file.h"
#include "jk_strmap.h"
#include "jk_text.h"

/* ---- secrets ---- */

static void s_hmac(const uint8_t *key, size_t klen, const char *label, const char *id,
                   uint8_t out[32])
{
    jk_hmac_sha256_2(key, klen, label, strlen(label), id, strlen(id), out);
}

void jk_sitting_site_key(const uint8_t master[JK_SITTING_KEY_BYTES], const char *site_id,
                         uint8_t out[JK_SITTING_KEY_BYTES])
{
    s_hmac(master, JK_SITTING_KEY_BYTES, "jikao-site:", site_id, out);
}

void jk_sitting_session_key(const uint8_t site_key[JK_SITTING_KEY_BYTES], const char *session_id,
                            uint8_t out[JK_SITTING_KEY_BYTES])
{
    s_hmac(site_key, JK_SITTING_KEY_BYTES, "jikao-session:", session_id, out);
}

void jk_sitting_password(const uint8_t master[JK_SITTING_KEY_BYTES], const char *admission,
                         char out[JK_SITTING_PASSWORD_LEN + 1])
{
    uint8_t h[32];
    s_hmac(master, JK_SITTING_KEY_BYTES, "jikao-credential:", admission, h);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    v %= 100000000ULL;
    for (int i = JK_SITTING_PASSWORD_LEN - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    out[JK_SITTING_PASSWORD_LEN] = '\0';
    OPENSSL_cleanse(h, sizeof h);
}

/* ---- building ---- */

struct jk_sitting_build {
    size_t n_sites;
    char **site_ids;
    char **site_docs;
    size_t *site_lens;
    char *center_doc;
    size_t center_len;
    size_t papers;
    /* credentials, in order of first seat */
    size_t n_creds;
    char **cred_admission;
    char **cred_name;
    char (*cred_password)[JK_SITTING_PASSWORD_LEN + 1];
};

void jk_sitting_build_destroy(jk_sitting_build_t **pb)
{
    if (!pb || !*pb)
        return;
    jk_sitting_build_t *b = *pb;
    for (size_t i = 0; i < b->n_sites; i++) {
        free(b->site_ids ? b->site_ids[i] : NULL);
        free(b->site_docs ? b->site_docs[i] : NULL);
    }
    free(b->site_ids);
    free(b->site_docs);
    free(b->site_lens);
    free(b->center_doc);
    for (size_t i = 0; i < b->n_creds; i++) {
        free(b->cred_admission[i]);
        free(b->cred_name[i]);
    }
    if (b->cred_password)
        OPENSSL_cleanse(b->cred_password, b->n_creds * sizeof *b->cred_password);
    free(b->cred_admission);
    free(b->cred_name);
    free(b->cred_password);
    free(b);
    *pb = NULL;
}

size_t jk_sitting_build_site_count(const jk_sitting_build_t *b) { return b->n_sites; }
const char *jk_sitting_build_site_id(const jk_sitting_build_t *b, size_t i)
{
    return i < b->n_sites ? b->site_ids[i] : NULL;
}
const char *jk_sitting_build_site_doc(const jk_sitting_build_t *b, size_t i, size_t *len)
{
    if (i >= b->n_sites)
        return NULL;
    if (len)
        *len = b->site_lens[i];
    return b->site_docs[i];
}
const char *jk_sitting_build_center_doc(const jk_sitting_build_t *b, size_t *len)
{
    if (len)
        *len = b->center_len;
    return b->center_doc;
}
size_t jk_sitting_build_papers(const jk_sitting_build_t *b) { return b->papers; }

jk_err_t jk_sitting_build_write_credentials(const jk_sitting_build_t *b, FILE *out,
                                            jk_error_t *err)
{
    fprintf(out, "admission_no,name,password\n");
    for (size_t i = 0; i < b->n_creds; i++)
        fprintf(out, "%s,%s,%s\n", b->cred_admission[i], b->cred_name[i], b->cred_password[i]);
    if (ferror(out))
        return jk_error_set(err, JK_ERR_IO, "writing credentials failed");
    return JK_OK;
}

static const char *s_section(jk_item_type_t t)
{
    switch (t) {
    case JK_ITEM_JUDGE: return "一、判断题";
    case JK_ITEM_SINGLE: return "二、单选题";
    case JK_ITEM_MULTI: return "三、多选题";
    default: return "";
    }
}

/* Text of a theory item for sites: type, stem, option texts, points. */
static json_t *s_item_text(const jk_item_t *it)
{
    json_t *o = json_pack("{s:s,s:s,s:i}", "type", jk_item_type_name(it->type), "stem", it->stem,
                          "points_centi", (int)it->points_centi);
    json_object_set_new(o, "section", json_string(s_section(it->type)));
    if (it->n_options) {
        json_t *opts = json_array();
        for (int i = 0; i < it->n_options; i++)
            json_array_append_new(opts, json_string(it->options[i].text));
        json_object_set_new(o, "options", opts);
    }
    return o;
}

static const char *s_input_name(jk_field_kind_t k)
{
    switch (k) {
    case JK_FIELD_NUMBER: return "number";
    case JK_FIELD_DATE: return "date";
    default: return "text"; /* one_of is typed too: listing choices would give answers away */
    }
}

/* Text of a skills task for sites: no expected field values; rubrics are
 * examiner material. */
static json_t *s_task_text(const jk_task_t *t)
{
    json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:i}", "type", jk_task_type_name(t->type), "title",
                          t->title, "scenario", t->scenario, "minutes", t->minutes, "points_centi",
                          (int)t->points_centi);
    json_t *parts = json_array();
    for (size_t i = 0; i < t->n_parts; i++) {
        const jk_part_t *p = &t->parts[i];
        json_t *po = json_pack("{s:s,s:s,s:i}", "id", p->id, "prompt", p->prompt, "points_centi",
                               (int)p->points_centi);
        if (t->type == JK_TASK_OPERATION) {
            json_object_set_new(po, "form", json_string(p->form));
            json_t *fs = json_array();
            for (size_t f = 0; f < p->n_fields; f++)
                json_array_append_new(fs, json_pack("{s:s,s:s,s:s}", "name", p->fields[f].name,
                                                    "label", p->fields[f].label, "input",
                                                    s_input_name(p->fields[f].kind)));
            json_object_set_new(po, "fields", fs);
        } else {
            json_t *rs = json_array();
            for (size_t r = 0; r < p->n_rubric; r++) {
                char line[1200];
                snprintf(line, sizeof line, "%s（%g分）", p->rubric[r].criterion,
                         p->rubric[r].points_centi / 100.0);
                json_array_append_new(rs, json_string(line));
            }
            json_object_set_new(po, "rubric", rs);
        }
        json_array_append_new(parts, po);
    }
    json_object_set_new(o, "parts", parts);
    return o;
}

typedef struct {
    json_t *doc;
    json_t *entries;
    json_t *items;
    json_t *tasks;
    json_t *credentials;
    json_t *duties;
} s_site_t;

jk_sitting_build_t *jk_sitting_build(const jk_sitting_spec_t *spec, jk_sitting_progress_fn progress,
                                     void *ud, jk_error_t *err)
{
    const jk_plan_result_t *res = spec->assignment;
    if (!res || !jk_plan_result_ok(res)) {
        jk_error_set(err, JK_ERR_STATE, "sitting: the plan's assignment has shortfalls; fix the plan first");
        return NULL;
    }
    const jk_plan_t *plan = jk_plan_result_plan(res);
    const jk_standard_t *std = spec->std;
    const jk_bank_t *bank = spec->bank;
    int iterations = spec->pbkdf2_iterations > 0 ? spec->pbkdf2_iterations : JK_SITTING_PBKDF2_ITERATIONS;

    jk_sitting_build_t *b = calloc(1, sizeof *b);
    size_t nsites = jk_plan_site_count(plan);
    s_site_t *sites = calloc(nsites ? nsites : 1, sizeof *sites);
    jk_strmap_t *cred_seen = jk_strmap_new(1024);
    jk_theory_paper_t *paper = malloc(sizeof *paper);
    json_t *center = NULL, *c_entries = NULL, *c_duties = NULL;
    jk_paper_builder_t *pb = NULL;
    jk_arena_t *scratch = jk_arena_new(0);
    if (!b || !sites || !cred_seen || !paper || !scratch) {
        jk_error_set(err, JK_ERR_NOMEM, "sitting: out of memory");
        goto fail;
    }
    b->n_sites = nsites;
    b->site_ids = calloc(nsites ? nsites : 1, sizeof *b->site_ids);
    b->site_docs = calloc(nsites ? nsites : 1, sizeof *b->site_docs);
    b->site_lens = calloc(nsites ? nsites : 1, sizeof *b->site_lens);
    if (!b->site_ids || !b->site_docs || !b->site_lens) {
        jk_error_set(err, JK_ERR_NOMEM, "sitting: out of memory");
        goto fail;
    }

    char std_ref[96];
    snprintf(std_ref, sizeof std_ref, "%s/%s", jk_standard_occupation_code(std),
             jk_standard_edition(std));
    json_t *hdr = json_pack("{s:s,s:s,s:s,s:I}", "id", jk_plan_id(plan), "name",
                            jk_plan_name(plan) ? jk_plan_name(plan) : jk_plan_id(plan), "standard",
                            std_ref, "created_ms", (json_int_t)spec->created_ms);
    json_t *sessions = json_array();
    for (size_t i = 0; i < jk_plan_session_count(plan); i++) {
        const jk_plan_session_t *ps = jk_plan_session(plan, i);
        json_array_append_new(sessions,
                              json_pack("{s:s,s:i,s:s,s:I,s:i}", "id", ps->id, "level", ps->level,
                                        "exam", jk_exam_name(ps->exam), "start_ms",
                                        (json_int_t)ps->start_s * 1000, "minutes", ps->minutes));
    }
    json_t *rooms_all = json_array();
    for (size_t i = 0; i < jk_plan_room_count(plan); i++) {
        const jk_plan_room_t *r = jk_plan_room(plan, i);
        json_array_append_new(rooms_all,
                              json_pack("{s:s,s:s,s:s}", "id", r->id, "site",
                                        jk_plan_site(plan, r->site)->id, "name",
                                        r->name ? r->name : r->id));
    }
    center = json_pack("{s:s,s:i,s:s,s:O,s:O,s:O}", "format", "jikao-sitting", "format_version", 1,
                       "role", "center", "sitting", hdr, "sessions", sessions, "rooms", rooms_all);
    c_entries = json_array();
    c_duties = json_array();
    for (size_t si = 0; si < nsites; si++) {
        const jk_plan_site_t *ps = jk_plan_site(plan, si);
        b->site_ids[si] = strdup(ps->id);
        uint8_t sk[JK_SITTING_KEY_BYTES];
        char skhex[2 * JK_SITTING_KEY_BYTES + 1];
        jk_sitting_site_key(spec->master, ps->id, sk);
        jk_hex_encode(sk, sizeof sk, skhex);
        OPENSSL_cleanse(sk, sizeof sk);
        json_t *site_rooms = json_array();
        for (size_t r = 0; r < ps->n_rooms; r++)
            json_array_append(site_rooms, json_array_get(rooms_all, ps->first_room + r));
        sites[si].entries = json_array();
        sites[si].items = json_object();
        sites[si].tasks = json_object();
        sites[si].credentials = json_object();
        sites[si].duties = json_array();
        sites[si].doc = json_pack("{s:s,s:i,s:s,s:O,s:s,s:s,s:O,s:o}", "format", "jikao-sitting",
                                  "format_version", 1, "role", "site", "sitting", hdr, "site",
                                  ps->id, "site_key", skhex, "sessions", sessions, "rooms",
                                  site_rooms);
        OPENSSL_cleanse(skhex, sizeof skhex);
    }
    json_decref(hdr);
    json_decref(sessions);
    json_decref(rooms_all);

    /* Total papers, for progress. */
    size_t total = 0, done = 0;
    for (size_t i = 0; i < jk_plan_session_count(plan); i++)
        total += jk_plan_result_session(res, i)->n_seats;

    for (size_t i = 0; i < jk_plan_session_count(plan); i++) {
        const jk_plan_session_t *ps = jk_plan_session(plan, i);
        const jk_plan_session_result_t *sr = jk_plan_result_session(res, i);
        jk_blueprint_t bp;
        jk_err_t rc = ps->exam == JK_EXAM_THEORY
                          ? jk_blueprint_theory(std, ps->level, NULL, &bp, err)
                          : jk_blueprint_skills(std, ps->level, ps->minutes, &bp, err);
        if (rc != JK_OK) {
            jk_error_prefix(err, "session %s: ", ps->id);
            goto fail;
        }
        if (sr->n_seats > 0) {
            /* Skills papers keep the sitting's seed (a candidate's paper
             * depends on the seed, level and admission number only); the
             * builder finds the usable tasks once for the session. */
            jk_paper_opts_t o;
            jk_paper_opts_default(&o);
            o.seed = ps->exam == JK_EXAM_THEORY ? spec->seed ^ jk_hash_bytes(ps->id, strlen(ps->id))
                                                : spec->seed;
            o.planned_papers = sr->n_seats;
            if (spec->exposure_max > 0)
                o.exposure_max = spec->exposure_max;
            pb = jk_paper_builder_new(bank, &bp, &o, err);
            if (!pb) {
                jk_error_prefix(err, "session %s: ", ps->id);
                goto fail;
            }
        }
        /* Duties per room (staff on duty) and the room's panel size. */
        for (size_t ru = 0; ru < sr->n_rooms; ru++) {
            const jk_plan_room_use_t *use = &sr->rooms[ru];
            const jk_plan_room_t *room = jk_plan_room(plan, use->room);
            for (size_t k = 0; k < use->n_staff; k++) {
                const jk_plan_staff_t *st = jk_plan_staff(plan, use->staff[k].staff);
                json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s}", "staff", st->id, "name",
                                      st->name ? st->name : st->id, "session", ps->id, "room",
                                      room->id, "role", jk_role_name(use->staff[k].role));
                json_array_append(c_duties, d);
                json_array_append_new(sites[room->site].duties, d);
            }
            for (int k = 0; k < use->candidates; k++) {
                const jk_plan_seat_t *seat = &use->seats[k];
                const jk_candidate_t *cand = jk_candidates_find(spec->candidates, seat->admission);
                char sid[160];
                int sl = snprintf(sid, sizeof sid, "%s.%s", ps->id, seat->admission);
                if (sl <= 0 || sl > 64 || !jk_id_valid(sid, 64)) {
                    jk_error_set(err, JK_ERR_RANGE,
                                 "session %s, candidate %s: session id '%s' is longer than 64 "
                                 "bytes; use shorter session ids in the plan",
                                 ps->id, seat->admission, sid);
                    goto fail;
                }
                json_t *e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i}", "session_id", sid,
                                      "session", ps->id, "admission", seat->admission, "name",
                                      cand ? cand->name : "", "site",
                                      jk_plan_site(plan, room->site)->id, "room", room->id,
                                      "seat", seat->seat);
                s_site_t *site = &sites[room->site];
                if (ps->exam == JK_EXAM_THEORY) {
                    if (jk_paper_build(pb, seat->admission, paper, err) != JK_OK) {
                        jk_error_prefix(err, "session %s, candidate %s: ", ps->id, seat->admission);
                        json_decref(e);
                        goto fail;
                    }
                    json_t *items = json_array();
                    for (uint32_t n = 0; n < paper->n; n++) {
                        const jk_item_t *it = jk_bank_item(bank, paper->entries[n].item);
                        char ref[JK_ID_MAX + 2 + JK_MAX_OPTIONS];
                        size_t rl = (size_t)snprintf(ref, sizeof ref, "%s", it->id);
                        if (it->n_options) {
                            ref[rl++] = ':';
                            for (unsigned k2 = 0; k2 < it->n_options; k2++)
                                ref[rl++] = (char)('A' + jk_paper_perm_at(paper->entries[n].perm, k2));
                            ref[rl] = '\0';
                        }
                        json_array_append_new(items, json_string(ref));
                        if (!json_object_get(site->items, it->id))
                            json_object_set_new(site->items, it->id, s_item_text(it));
                    }
                    json_object_set_new(e, "paper", items);
                } else {
                    jk_skills_paper_t sp;
                    if (jk_paper_build_skills_with(pb, seat->admission, &sp, err) != JK_OK) {
                        jk_error_prefix(err, "session %s, candidate %s: ", ps->id, seat->admission);
                        json_decref(e);
                        goto fail;
                    }
                    json_t *tasks = json_array();
                    for (uint32_t n = 0; n < sp.n; n++) {
                        const jk_task_t *t = jk_bank_task(bank, sp.tasks[n]);
                        json_array_append_new(tasks, json_string(t->id));
                        if (!json_object_get(site->tasks, t->id))
                            json_object_set_new(site->tasks, t->id, s_task_text(t));
                    }
                    json_object_set_new(e, "tasks", tasks);
                    json_object_set_new(e, "panel", json_integer((json_int_t)use->n_staff));
                }
                json_array_append(c_entries, e);
                json_array_append_new(site->entries, e);
                b->papers++;

                /* Credential verifier, once per candidate per site. */
                if (!json_object_get(site->credentials, seat->admission)) {
                    char pw[JK_SITTING_PASSWORD_LEN + 1];
                    uint8_t salt[32], hash[32];
                    jk_sitting_password(spec->master, seat->admission, pw);
                    s_hmac(spec->master, JK_SITTING_KEY_BYTES, "jikao-salt:", seat->admission, salt);
                    if (PKCS5_PBKDF2_HMAC(pw, JK_SITTING_PASSWORD_LEN, salt, 16, iterations,
                                          EVP_sha256(), sizeof hash, hash) != 1) {
                        jk_error_set(err, JK_ERR_CRYPTO, "sitting: PBKDF2 failed");
                        goto fail;
                    }
                    char sh[33], hh[65];
                    jk_hex_encode(salt, 16, sh);
                    jk_hex_encode(hash, 32, hh);
                    json_object_set_new(site->credentials, seat->admission,
                                        json_pack("{s:s,s:s,s:i}", "salt", sh, "hash", hh,
                                                  "iterations", iterations));
                    /* The printable list, once per candidate overall. */
                    if (jk_strmap_put(cred_seen, jk_arena_strdup(scratch, seat->admission), b->n_creds, NULL) == 1) {
                        size_t n = b->n_creds + 1;
                        char **a = realloc(b->cred_admission, n * sizeof *a);
                        if (a)
                            b->cred_admission = a;
                        char **nm = realloc(b->cred_name, n * sizeof *nm);
                        if (nm)
                            b->cred_name = nm;
                        char (*p)[JK_SITTING_PASSWORD_LEN + 1] = realloc(b->cred_password, n * sizeof *p);
                        if (p)
                            b->cred_password = p;
                        if (!a || !nm || !p) {
                            jk_error_set(err, JK_ERR_NOMEM, "sitting: out of memory");
                            goto fail;
                        }
                        b->cred_admission[b->n_creds] = strdup(seat->admission);
                        b->cred_name[b->n_creds] = strdup(cand ? cand->name : "");
                        memcpy(b->cred_password[b->n_creds], pw, sizeof pw);
                        b->n_creds++;
                    }
                    OPENSSL_cleanse(pw, sizeof pw);
                }
                if (progress)
                    progress(ud, ++done, total);
            }
        }
        jk_paper_builder_destroy(&pb);
    }

    json_object_set_new(center, "entries", c_entries);
    json_object_set_new(center, "duties", c_duties);
    c_entries = c_duties = NULL;
    b->center_doc = json_dumps(center, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!b->center_doc) {
        jk_error_set(err, JK_ERR_NOMEM, "sitting: out of memory");
        goto fail;
    }
    b->center_len = strlen(b->center_doc);
    for (size_t si = 0; si < nsites; si++) {
        json_object_set_new(sites[si].doc, "entries", sites[si].entries);
        json_object_set_new(sites[si].doc, "duties", sites[si].duties);
        json_object_set_new(sites[si].doc, "credentials", sites[si].credentials);
        json_object_set_new(sites[si].doc, "items", sites[si].items);
        json_object_set_new(sites[si].doc, "tasks", sites[si].tasks);
        sites[si].entries = sites[si].duties = sites[si].credentials = NULL;
        sites[si].items = sites[si].tasks = NULL;
        b->site_docs[si] = json_dumps(sites[si].doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!b->site_docs[si]) {
            jk_error_set(err, JK_ERR_NOMEM, "sitting: out of memory");
            goto fail;
        }
        b->site_lens[si] = strlen(b->site_docs[si]);
        json_decref(sites[si].doc);
        sites[si].doc = NULL;
    }
    json_decref(center);
    free(sites);
    free(paper);
    jk_strmap_destroy(&cred_seen);
    jk_arena_destroy(&scratch);
    return b;

fail:
    jk_paper_builder_destroy(&pb);
    json_decref(c_entries);
    json_decref(c_duties);
    json_decref(center);
    for (size_t si = 0; sites && si < nsites; si++) {
        json_decref(sites[si].doc);
        json_decref(sites[si].entries);
        json_decref(sites[si].items);
        json_decref(sites[si].tasks);
        json_decref(sites[si].credentials);
        json_decref(sites[si].duties);
    }
    free(sites);
    free(paper);
    jk_strmap_destroy(&cred_seen);
    jk_arena_destroy(&scratch);
    jk_sitting_build_destroy(&b);
    return NULL;
}

/* ---- parsing ---- */

struct jk_sitting {
    jk_arena_t *arena;
    bool site_role;
    const char *id, *name, *site;
    bool have_site_key;
    uint8_t site_key[JK_SITTING_KEY_BYTES];
    jk_sitting_session_t *sessions;
    size_t n_sessions;
    jk_sitting_room_t *rooms;
    size_t n_rooms;
    jk_sitting_duty_t *duties;
    size_t n_duties;
    jk_sitting_entry_t *entries;
    size_t n_entries;
    jk_strmap_t *by_session_id;
    jk_strmap_t *by_candidate;  /* "<admission>/<session>" -> entry */
    jk_strmap_t *creds;         /* admission -> index */
    jk_sitting_credential_t *cred;
    size_t n_cred;
    jk_strmap_t *items_map;
    jk_sitting_item_t *items;
    size_t n_items;
    jk_strmap_t *tasks_map;
    jk_sitting_task_t *tasks;
    size_t n_tasks;
};

void jk_sitting_destroy(jk_sitting_t **ps)
{
    if (!ps || !*ps)
        return;
    jk_sitting_t *s = *ps;
    OPENSSL_cleanse(s->site_key, sizeof s->site_key);
    jk_strmap_destroy(&s->by_session_id);
    jk_strmap_destroy(&s->by_candidate);
    jk_strmap_destroy(&s->creds);
    jk_strmap_destroy(&s->items_map);
    jk_strmap_destroy(&s->tasks_map);
    jk_arena_destroy(&s->arena);
    free(s);
    *ps = NULL;
}

typedef struct {
    jk_sitting_t *s;
    const char *name;
    jk_error_t *err;
    bool failed;
} s_pctx_t;

/* Allocation failures, oversized arrays and map failures fail the parse with
 * an error naming the document and the field (the first failure wins). */
static void *s_oom(s_pctx_t *c, const char *path)
{
    if (!c->failed)
        jk_error_set(c->err, JK_ERR_NOMEM, "%s: %s: out of memory", c->name, path);
    c->failed = true;
    return NULL;
}

/* n zeroed elements (at least one) from the arena, or NULL and failed. */
static void *s_calloc(s_pctx_t *c, size_t n, size_t size, const char *path)
{
    void *p = jk_arena_calloc(c->s->arena, n ? n : 1, size);
    return p ? p : s_oom(c, path);
}

static char *s_strdup(s_pctx_t *c, const char *str, const char *path)
{
    char *p = jk_arena_strdup(c->s->arena, str);
    return p ? p : s_oom(c, path);
}

static jk_strmap_t *s_map_new(s_pctx_t *c, size_t expected, const char *path)
{
    jk_strmap_t *m = jk_strmap_new(expected);
    return m ? m : s_oom(c, path);
}

/* Puts key -> v; a key already present is JK_ERR_DUP. */
static bool s_map_put(s_pctx_t *c, jk_strmap_t *m, const char *key, size_t v, const char *path)
{
    int r = jk_strmap_put(m, key, v, NULL);
    if (r == 1)
        return true;
    if (r < 0)
        s_oom(c, path);
    else if (!c->failed)
        jk_error_set(c->err, JK_ERR_DUP, "%s: %s: '%s' appears twice", c->name, path, key);
    c->failed = true;
    return false;
}

/* Refuses an array of more than max elements (never truncates it). */
static bool s_check_max(s_pctx_t *c, json_t *arr, size_t max, const char *path, const char *key,
                        const char *what)
{
    size_t n = json_array_size(arr);
    if (n <= max)
        return true;
    if (!c->failed)
        jk_error_set(c->err, JK_ERR_TOO_BIG, "%s: %s.%s: %zu %s, more than %zu", c->name, path, key,
                     n, what, max);
    c->failed = true;
    return false;
}

static const char *s_get_str(s_pctx_t *c, json_t *o, const char *key, const char *path, bool id)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) {
        if (!c->failed)
            jk_error_set(c->err, v ? JK_ERR_INVAL : JK_ERR_MISSING, "%s: %s.%s: expected a string",
                         c->name, path, key);
        c->failed = true;
        return NULL;
    }
    const char *str = json_string_value(v);
    if ((id && !jk_id_valid(str, 64)) || !jk_utf8_valid(str, json_string_length(v))) {
        if (!c->failed)
            jk_error_set(c->err, JK_ERR_INVAL, "%s: %s.%s: invalid %s", c->name, path, key,
                         id ? "id" : "text");
        c->failed = true;
        return NULL;
    }
    char *p = jk_arena_strdup(c->s->arena, str);
    if (!p) {
        char where[160];
        snprintf(where, sizeof where, "%s.%s", path, key);
        return s_oom(c, where);
    }
    return p;
}

static int64_t s_get_int(s_pctx_t *c, json_t *o, const char *key, const char *path, int64_t lo,
                         int64_t hi)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        if (!c->failed)
            jk_error_set(c->err, v ? JK_ERR_RANGE : JK_ERR_MISSING,
                         "%s: %s.%s: expected an integer in %lld..%lld", c->name, path, key,
                         (long long)lo, (long long)hi);
        c->failed = true;
        return lo;
    }
    return json_integer_value(v);
}

static json_t *s_get_array(s_pctx_t *c, json_t *o, const char *key, const char *path, bool required)
{
    json_t *v = json_object_get(o, key);
    if (!v && !required)
        return NULL;
    if (!json_is_array(v)) {
        if (!c->failed)
            jk_error_set(c->err, v ? JK_ERR_INVAL : JK_ERR_MISSING, "%s: %s.%s: expected an array",
                         c->name, path, key);
        c->failed = true;
        return NULL;
    }
    return v;
}

static void s_parse_entries(s_pctx_t *c, json_t *arr)
{
    jk_sitting_t *s = c->s;
    s->n_entries = json_array_size(arr);
    s->entries = s_calloc(c, s->n_entries, sizeof *s->entries, "$.entries");
    s->by_session_id = s_map_new(c, s->n_entries, "$.entries");
    s->by_candidate = s_map_new(c, s->n_entries, "$.entries");
    for (size_t i = 0; i < s->n_entries && !c->failed; i++) {
        json_t *o = json_array_get(arr, i);
        char path[48];
        snprintf(path, sizeof path, "$.entries[%zu]", i);
        jk_sitting_entry_t *e = &s->entries[i];
        e->session_id = s_get_str(c, o, "session_id", path, true);
        const char *sess = s_get_str(c, o, "session", path, true);
        e->admission = s_get_str(c, o, "admission", path, true);
        e->name = s_get_str(c, o, "name", path, false);
        e->site = s_get_str(c, o, "site", path, true);
        e->room = s_get_str(c, o, "room", path, true);
        e->seat = (int)s_get_int(c, o, "seat", path, 1, 100000);
        if (c->failed)
            return;
        long si = jk_sitting_find_session(s, sess);
        if (si < 0) {
            jk_error_set(c->err, JK_ERR_NOTFOUND, "%s: %s.session: '%s' is not a session", c->name,
                         path, sess);
            c->failed = true;
            return;
        }
        e->session = (size_t)si;
        json_t *paper = s_get_array(c, o, "paper", path, false);
        json_t *tasks = s_get_array(c, o, "tasks", path, false);
        if (paper) {
            if (!s_check_max(c, paper, JK_PAPER_MAX_ITEMS, path, "paper", "items"))
                return;
            e->n_items = json_array_size(paper);
            jk_sitting_paper_item_t *items = s_calloc(c, e->n_items, sizeof *items, path);
            if (!items)
                return;
            for (size_t k = 0; k < e->n_items; k++) {
                const char *ref = json_string_value(json_array_get(paper, k));
                const char *colon = ref ? strchr(ref, ':') : NULL;
                size_t idl = ref ? (colon ? (size_t)(colon - ref) : strlen(ref)) : 0;
                size_t nord = colon ? strlen(colon + 1) : 0;
                bool ok = ref && idl > 0 && idl <= JK_ID_MAX && nord <= JK_MAX_OPTIONS;
                unsigned seen = 0;
                for (size_t q = 0; ok && q < nord; q++) {
                    char ch = colon[1 + q];
                    ok = ch >= 'A' && ch < 'A' + (int)nord && !(seen & (1u << (ch - 'A')));
                    seen |= ok ? 1u << (ch - 'A') : 0;
                    items[k].order[q] = (uint8_t)(ch - 'A' + 1);
                }
                if (!ok) {
                    jk_error_set(c->err, JK_ERR_INVAL, "%s: %s.paper[%zu]: expected \"<item id>[:<option order>]\"",
                                 c->name, path, k);
                    c->failed = true;
                    return;
                }
                if (!(items[k].item = jk_arena_strndup(s->arena, ref, idl))) {
                    s_oom(c, path);
                    return;
                }
                items[k].n_order = (uint8_t)nord;
            }
            e->items = items;
        }
        if (tasks) {
            if (!s_check_max(c, tasks, JK_PAPER_MAX_TASKS, path, "tasks", "tasks"))
                return;
            e->n_tasks = json_array_size(tasks);
            const char **t = s_calloc(c, e->n_tasks, sizeof *t, path);
            if (!t)
                return;
            for (size_t k = 0; k < e->n_tasks; k++) {
                const char *id = json_string_value(json_array_get(tasks, k));
                if (!id || !jk_id_valid(id, JK_ID_MAX)) {
                    jk_error_set(c->err, JK_ERR_INVAL, "%s: %s.tasks[%zu]: expected a task id", c->name, path, k);
                    c->failed = true;
                    return;
                }
                if (!(t[k] = s_strdup(c, id, path)))
                    return;
            }
            e->tasks = t;
            e->panel = (int)s_get_int(c, o, "panel", path, 0, 1000);
        }
        if (c->failed)
            return;
        char where[96];
        snprintf(where, sizeof where, "%s.session_id", path);
        if (!s_map_put(c, s->by_session_id, e->session_id, i, where))
            return;
        /* Ids are at most 64 bytes each, so the key is never truncated. */
        char key[160];
        snprintf(key, sizeof key, "%s/%s", e->admission, sess);
        snprintf(where, sizeof where, "%s.admission", path);
        const char *k2 = s_strdup(c, key, where);
        if (!k2 || !s_map_put(c, s->by_candidate, k2, i, where))
            return;
    }
}

static void s_parse_contents(s_pctx_t *c, json_t *items, json_t *tasks)
{
    jk_sitting_t *s = c->s;
    s->n_items = json_object_size(items);
    s->items = s_calloc(c, s->n_items, sizeof *s->items, "$.items");
    s->items_map = s_map_new(c, s->n_items, "$.items");
    size_t i = 0;
    const char *key;
    json_t *o;
    json_object_foreach(items, key, o) {
        if (c->failed)
            return;
        char path[96];
        snprintf(path, sizeof path, "$.items.%.60s", key);
        jk_sitting_item_t *it = &s->items[i];
        if (!(it->id = s_strdup(c, key, path)))
            return;
        json_t *tv = json_object_get(o, "type");
        int t = json_is_string(tv) ? jk_item_type_parse(json_string_value(tv)) : -1;
        if (t < 0 || !jk_id_valid(key, JK_ID_MAX)) {
            jk_error_set(c->err, JK_ERR_INVAL, "%s: %s: bad id or type", c->name, path);
            c->failed = true;
            return;
        }
        it->type = (jk_item_type_t)t;
        it->stem = s_get_str(c, o, "stem", path, false);
        it->points_centi = (int32_t)s_get_int(c, o, "points_centi", path, 1, 10000);
        json_t *opts = s_get_array(c, o, "options", path, false);
        if (opts) {
            if (!s_check_max(c, opts, JK_MAX_OPTIONS, path, "options", "options"))
                return;
            it->n_options = (uint8_t)json_array_size(opts);
            for (size_t k = 0; k < it->n_options; k++) {
                const char *txt = json_string_value(json_array_get(opts, k));
                if (!(it->options[k] = s_strdup(c, txt ? txt : "", path)))
                    return;
            }
        }
        if (c->failed || !s_map_put(c, s->items_map, it->id, i, path))
            return;
        i++;
    }
    s->n_tasks = json_object_size(tasks);
    s->tasks = s_calloc(c, s->n_tasks, sizeof *s->tasks, "$.tasks");
    s->tasks_map = s_map_new(c, s->n_tasks, "$.tasks");
    i = 0;
    json_object_foreach(tasks, key, o) {
        if (c->failed)
            return;
        char path[96];
        snprintf(path, sizeof path, "$.tasks.%.60s", key);
        jk_sitting_task_t *t = &s->tasks[i];
        if (!(t->id = s_strdup(c, key, path)))
            return;
        json_t *tv = json_object_get(o, "type");
        int ty = json_is_string(tv) ? jk_task_type_parse(json_string_value(tv)) : -1;
        if (ty < 0 || !jk_id_valid(key, JK_ID_MAX)) {
            jk_error_set(c->err, JK_ERR_INVAL, "%s: %s: bad id or type", c->name, path);
            c->failed = true;
            return;
        }
        t->type = (jk_task_type_t)ty;
        t->title = s_get_str(c, o, "title", path, false);
        t->scenario = s_get_str(c, o, "scenario", path, false);
        t->minutes = (int)s_get_int(c, o, "minutes", path, 1, 240);
        t->points_centi = (int32_t)s_get_int(c, o, "points_centi", path, 1, 10000);
        json_t *parts = s_get_array(c, o, "parts", path, true);
        if (!parts || !s_check_max(c, parts, JK_MAX_PARTS, path, "parts", "parts"))
            return;
        t->n_parts = json_array_size(parts);
        jk_sitting_part_t *pp = s_calloc(c, t->n_parts, sizeof *pp, path);
        if (!pp)
            return;
        for (size_t k = 0; k < t->n_parts && !c->failed; k++) {
            json_t *po = json_array_get(parts, k);
            char pp_path[128];
            snprintf(pp_path, sizeof pp_path, "%s.parts[%zu]", path, k);
            pp[k].id = s_get_str(c, po, "id", pp_path, true);
            pp[k].prompt = s_get_str(c, po, "prompt", pp_path, false);
            pp[k].points_centi = (int32_t)s_get_int(c, po, "points_centi", pp_path, 1, 10000);
            json_t *fs = s_get_array(c, po, "fields", pp_path, false);
            if (fs) {
                pp[k].form = s_get_str(c, po, "form", pp_path, false);
                if (!s_check_max(c, fs, JK_MAX_FIELDS, pp_path, "fields", "fields"))
                    return;
                pp[k].n_fields = json_array_size(fs);
                jk_sitting_field_t *f = s_calloc(c, pp[k].n_fields, sizeof *f, pp_path);
                if (!f)
                    return;
                for (size_t q = 0; q < pp[k].n_fields; q++) {
                    json_t *fo = json_array_get(fs, q);
                    char f_path[160];
                    snprintf(f_path, sizeof f_path, "%s.fields[%zu]", pp_path, q);
                    f[q].name = s_get_str(c, fo, "name", f_path, false);
                    f[q].label = s_get_str(c, fo, "label", f_path, false);
                    const char *in = json_string_value(json_object_get(fo, "input"));
                    f[q].input = in && strcmp(in, "number") == 0 ? JK_INPUT_NUMBER
                                 : in && strcmp(in, "date") == 0 ? JK_INPUT_DATE
                                                                 : JK_INPUT_TEXT;
                }
                pp[k].fields = f;
            }
            json_t *rs = s_get_array(c, po, "rubric", pp_path, false);
            if (rs) {
                if (!s_check_max(c, rs, JK_MAX_RUBRIC, pp_path, "rubric", "rubric lines"))
                    return;
                pp[k].n_rubric = json_array_size(rs);
                const char **r = s_calloc(c, pp[k].n_rubric, sizeof *r, pp_path);
                if (!r)
                    return;
                for (size_t q = 0; q < pp[k].n_rubric; q++) {
                    const char *txt = json_string_value(json_array_get(rs, q));
                    if (!(r[q] = s_strdup(c, txt ? txt : "", pp_path)))
                        return;
                }
                pp[k].rubric = r;
            }
        }
        t->parts = pp;
        if (c->failed || !s_map_put(c, s->tasks_map, t->id, i, path))
            return;
        i++;
    }
}

jk_sitting_t *jk_sitting_parse(const char *json, size_t len, const char *name, jk_error_t *err)
{
    if (len > JK_SITTING_DOC_MAX) {
        jk_error_set(err, JK_ERR_TOO_BIG, "%s: %zu bytes, more than %u", name, len, JK_SITTING_DOC_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        jk_error_set(err, JK_ERR_PARSE, "%s:%d:%d: %s", name, je.line, je.column, je.text);
        return NULL;
    }
    jk_sitting_t *s = calloc(1, sizeof *s);
    if (!s || !(s->arena = jk_arena_new(0))) {
        free(s);
        json_decref(root);
        jk_error_set(err, JK_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    s_pctx_t c = { s, name, err, false };
    json_t *fmt = json_object_get(root, "format");
    json_t *ver = json_object_get(root, "format_version");
    const char *role = json_string_value(json_object_get(root, "role"));
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "jikao-sitting") != 0 ||
        !json_is_integer(ver) || json_integer_value(ver) != 1) {
        jk_error_set(err, JK_ERR_VERSION, "%s: $: not a jikao-sitting document of version 1", name);
        c.failed = true;
    } else if (!role || (strcmp(role, "site") != 0 && strcmp(role, "center") != 0)) {
        jk_error_set(err, JK_ERR_INVAL, "%s: $.role: expected \"site\" or \"center\"", name);
        c.failed = true;
    }
    if (!c.failed) {
        s->site_role = strcmp(role, "site") == 0;
        json_t *hdr = json_object_get(root, "sitting");
        s->id = s_get_str(&c, hdr, "id", "$.sitting", true);
        s->name = s_get_str(&c, hdr, "name", "$.sitting", false);
        if (s->site_role) {
            s->site = s_get_str(&c, root, "site", "$", true);
            const char *kh = json_string_value(json_object_get(root, "site_key"));
            if (!jk_hex_decode(kh, s->site_key, sizeof s->site_key)) {
                if (!c.failed)
                    jk_error_set(err, JK_ERR_INVAL, "%s: $.site_key: expected 64 hex digits", name);
                c.failed = true;
            }
            s->have_site_key = true;
        }
    }
    json_t *sessions = c.failed ? NULL : s_get_array(&c, root, "sessions", "$", true);
    if (sessions) {
        s->n_sessions = json_array_size(sessions);
        s->sessions = s_calloc(&c, s->n_sessions, sizeof *s->sessions, "$.sessions");
        for (size_t i = 0; i < s->n_sessions && !c.failed; i++) {
            json_t *o = json_array_get(sessions, i);
            char path[48];
            snprintf(path, sizeof path, "$.sessions[%zu]", i);
            s->sessions[i].id = s_get_str(&c, o, "id", path, true);
            s->sessions[i].level = (int)s_get_int(&c, o, "level", path, 3, 5);
            const char *exam = json_string_value(json_object_get(o, "exam"));
            int ex = exam ? jk_exam_parse(exam) : -1;
            if (ex < 0 && !c.failed) {
                jk_error_set(err, JK_ERR_INVAL, "%s: %s.exam: expected theory or skills", name, path);
                c.failed = true;
            }
            s->sessions[i].exam = ex < 0 ? JK_EXAM_THEORY : (jk_exam_t)ex;
            s->sessions[i].start_ms = s_get_int(&c, o, "start_ms", path, 0, INT64_MAX / 2);
            s->sessions[i].minutes = (int)s_get_int(&c, o, "minutes", path, 1, 1440);
        }
    }
    json_t *rooms = c.failed ? NULL : s_get_array(&c, root, "rooms", "$", true);
    if (rooms) {
        s->n_rooms = json_array_size(rooms);
        s->rooms = s_calloc(&c, s->n_rooms, sizeof *s->rooms, "$.rooms");
        for (size_t i = 0; i < s->n_rooms && !c.failed; i++) {
            json_t *o = json_array_get(rooms, i);
            char path[48];
            snprintf(path, sizeof path, "$.rooms[%zu]", i);
            s->rooms[i].id = s_get_str(&c, o, "id", path, true);
            s->rooms[i].site = s_get_str(&c, o, "site", path, true);
            s->rooms[i].name = s_get_str(&c, o, "name", path, false);
        }
    }
    json_t *duties = c.failed ? NULL : s_get_array(&c, root, "duties", "$", true);
    if (duties) {
        s->n_duties = json_array_size(duties);
        s->duties = s_calloc(&c, s->n_duties, sizeof *s->duties, "$.duties");
        for (size_t i = 0; i < s->n_duties && !c.failed; i++) {
            json_t *o = json_array_get(duties, i);
            char path[48];
            snprintf(path, sizeof path, "$.duties[%zu]", i);
            s->duties[i].staff = s_get_str(&c, o, "staff", path, true);
            s->duties[i].name = s_get_str(&c, o, "name", path, false);
            s->duties[i].session = s_get_str(&c, o, "session", path, true);
            s->duties[i].room = s_get_str(&c, o, "room", path, true);
            s->duties[i].role = s_get_str(&c, o, "role", path, true);
        }
    }
    json_t *entries = c.failed ? NULL : s_get_array(&c, root, "entries", "$", true);
    if (entries)
        s_parse_entries(&c, entries);
    if (!c.failed && s->site_role) {
        json_t *creds = json_object_get(root, "credentials");
        json_t *items = json_object_get(root, "items");
        json_t *tasks = json_object_get(root, "tasks");
        if (!json_is_object(creds) || !json_is_object(items) || !json_is_object(tasks)) {
            jk_error_set(err, JK_ERR_MISSING, "%s: $: a site document needs credentials, items and tasks objects", name);
            c.failed = true;
        } else {
            s->n_cred = json_object_size(creds);
            s->cred = s_calloc(&c, s->n_cred, sizeof *s->cred, "$.credentials");
            s->creds = s_map_new(&c, s->n_cred, "$.credentials");
            size_t i = 0;
            const char *adm;
            json_t *o;
            json_object_foreach(creds, adm, o) {
                if (c.failed)
                    break;
                char path[96];
                snprintf(path, sizeof path, "$.credentials.%.40s", adm);
                s->cred[i].salt_hex = s_get_str(&c, o, "salt", path, false);
                s->cred[i].hash_hex = s_get_str(&c, o, "hash", path, false);
                s->cred[i].iterations = (int)s_get_int(&c, o, "iterations", path, 1000, 10000000);
                const char *key = c.failed ? NULL : s_strdup(&c, adm, path);
                if (!key || !s_map_put(&c, s->creds, key, i, path))
                    break;
                i++;
            }
            if (!c.failed)
                s_parse_contents(&c, items, tasks);
        }
    }
    json_decref(root);
    if (c.failed) {
        jk_sitting_destroy(&s);
        return NULL;
    }
    return s;
}

jk_sitting_t *jk_sitting_load(const char *path, jk_error_t *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (jk_file_read(path, JK_SITTING_DOC_MAX, false, &buf, &len, err) != JK_OK)
        return NULL;
    jk_sitting_t *s = jk_sitting_parse((const char *)buf, len, path, err);
    free(buf);
    return s;
}

bool jk_sitting_is_site(const jk_sitting_t *s) { return s->site_role; }
const char *jk_sitting_id(const jk_sitting_t *s) { return s->id; }
const char *jk_sitting_name(const jk_sitting_t *s) { return s->name; }
const char *jk_sitting_site(const jk_sitting_t *s) { return s->site; }

bool jk_sitting_site_key_get(const jk_sitting_t *s, uint8_t out[JK_SITTING_KEY_BYTES])
{
    if (!s->have_site_key)
        return false;
    memcpy(out, s->site_key, JK_SITTING_KEY_BYTES);
    return true;
}

size_t jk_sitting_session_count(const jk_sitting_t *s) { return s->n_sessions; }
const jk_sitting_session_t *jk_sitting_session(const jk_sitting_t *s, size_t i)
{
    return i < s->n_sessions ? &s->sessions[i] : NULL;
}
long jk_sitting_find_session(const jk_sitting_t *s, const char *id)
{
    for (size_t i = 0; id && i < s->n_sessions; i++)
        if (s->sessions[i].id && strcmp(s->sessions[i].id, id) == 0)
            return (long)i;
    return -1;
}
size_t jk_sitting_room_count(const jk_sitting_t *s) { return s->n_rooms; }
const jk_sitting_room_t *jk_sitting_room(const jk_sitting_t *s, size_t i)
{
    return i < s->n_rooms ? &s->rooms[i] : NULL;
}
size_t jk_sitting_duty_count(const jk_sitting_t *s) { return s->n_duties; }
const jk_sitting_duty_t *jk_sitting_duty(const jk_sitting_t *s, size_t i)
{
    return i < s->n_duties ? &s->duties[i] : NULL;
}
size_t jk_sitting_entry_count(const jk_sitting_t *s) { return s->n_entries; }
const jk_sitting_entry_t *jk_sitting_entry(const jk_sitting_t *s, size_t i)
{
    return i < s->n_entries ? &s->entries[i] : NULL;
}
const jk_sitting_entry_t *jk_sitting_find_entry(const jk_sitting_t *s, const char *session_id)
{
    size_t v;
    return session_id && s->by_session_id && jk_strmap_get(s->by_session_id, session_id, &v)
               ? &s->entries[v]
               : NULL;
}
const jk_sitting_entry_t *jk_sitting_find_candidate(const jk_sitting_t *s, const char *admission,
                                                    const char *session)
{
    char key[160];
    snprintf(key, sizeof key, "%s/%s", admission, session);
    size_t v;
    return s->by_candidate && jk_strmap_get(s->by_candidate, key, &v) ? &s->entries[v] : NULL;
}

const jk_sitting_credential_t *jk_sitting_credential(const jk_sitting_t *s, const char *admission)
{
    size_t v;
    return s->creds && jk_strmap_get(s->creds, admission, &v) ? &s->cred[v] : NULL;
}

bool jk_sitting_check_password(const jk_sitting_credential_t *c, const char *password, size_t len)
{
    uint8_t salt[16], want[32], got[32];
    if (!c || !jk_hex_decode(c->salt_hex, salt, sizeof salt) ||
        !jk_hex_decode(c->hash_hex, want, sizeof want))
        return false;
    if (len > 256 ||
        PKCS5_PBKDF2_HMAC(password, (int)len, salt, sizeof salt, c->iterations, EVP_sha256(),
                          sizeof got, got) != 1)
        return false;
    bool ok = CRYPTO_memcmp(got, want, sizeof got) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return ok;
}

const jk_sitting_item_t *jk_sitting_item(const jk_sitting_t *s, const char *id)
{
    size_t v;
    return s->items_map && jk_strmap_get(s->items_map, id, &v) ? &s->items[v] : NULL;
}

const jk_sitting_task_t *jk_sitting_task(const jk_sitting_t *s, const char *id)
{
    size_t v;
    return s->tasks_map && jk_strmap_get(s->tasks_map, id, &v) ? &s->tasks[v] : NULL;
}
