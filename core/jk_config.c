/*
 * jk_config: table-driven configuration; see jk_config.h for the contract.
 *
 * Values are parsed into a scratch variable first and stored only when valid,
 * so a failed set leaves the previous value in force. Strings are owned by
 * the target struct and replaced (old freed) on every set.
 */
#include "jk_config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "jk_file.h"

extern char **environ;

static const jk_cfg_opt_t *s_find(const jk_cfg_opt_t *t, const char *key, size_t keylen)
{
    for (; t->name; t++)
        if (strlen(t->name) == keylen && strncmp(t->name, key, keylen) == 0)
            return t;
    return NULL;
}

/* Command-line spelling: '.' becomes '-' ("redis.port" -> "redis-port"). */
static const jk_cfg_opt_t *s_find_arg(const jk_cfg_opt_t *t, const char *key, size_t keylen)
{
    for (; t->name; t++) {
        if (strlen(t->name) != keylen)
            continue;
        size_t i = 0;
        for (; i < keylen; i++) {
            char a = t->name[i] == '.' ? '-' : t->name[i];
            char b = key[i] == '.' ? '-' : key[i];
            if (a != b)
                break;
        }
        if (i == keylen)
            return t;
    }
    return NULL;
}

static jk_err_t s_parse_int(const char *v, int64_t *out)
{
    if (!*v)
        return JK_ERR_PARSE;
    errno = 0;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (errno == ERANGE)
        return JK_ERR_RANGE;
    if (*end != '\0')
        return JK_ERR_PARSE;
    *out = x;
    return JK_OK;
}

/* Parses "<number><unit>" where unit is one of `units` with its factor. */
typedef struct { const char *suffix; int64_t factor; } s_unit_t;

static jk_err_t s_parse_scaled(const char *v, const s_unit_t *units, int64_t *out)
{
    if (!isdigit((unsigned char)*v))
        return JK_ERR_PARSE;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno == ERANGE || x > (unsigned long long)INT64_MAX)
        return JK_ERR_RANGE;
    int64_t factor = 1;
    if (*end) {
        const s_unit_t *u = units;
        for (; u->suffix; u++)
            if (strcmp(end, u->suffix) == 0)
                break;
        if (!u->suffix)
            return JK_ERR_PARSE;
        factor = u->factor;
    }
    if (factor > 1 && x > (unsigned long long)(INT64_MAX / factor))
        return JK_ERR_RANGE;
    *out = (int64_t)x * factor;
    return JK_OK;
}

static const s_unit_t s_duration_units[] = {
    { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { NULL, 0 } };
static const s_unit_t s_size_units[] = {
    { "B", 1 }, { "KiB", 1024 }, { "MiB", 1024 * 1024 }, { "GiB", 1024LL * 1024 * 1024 },
    { NULL, 0 } };

static int s_parse_bool(const char *v)
{
    static const char *const yes[] = { "yes", "true", "on", "1", NULL };
    static const char *const no[] = { "no", "false", "off", "0", NULL };
    for (int i = 0; yes[i]; i++)
        if (strcmp(v, yes[i]) == 0)
            return 1;
    for (int i = 0; no[i]; i++)
        if (strcmp(v, no[i]) == 0)
            return 0;
    return -1;
}

static const char *s_type_name(jk_cfg_type_t t)
{
    switch (t) {
    case JK_CFG_INT: return "integer";
    case JK_CFG_BOOL: return "boolean";
    case JK_CFG_STRING: return "string";
    case JK_CFG_DURATION: return "duration";
    case JK_CFG_SIZE: return "size";
    case JK_CFG_ENUM: return "one of";
    }
    return "?";
}

static jk_err_t s_store(const jk_cfg_opt_t *o, void *cfg, const char *value,
                        const char *source, jk_error_t *err)
{
    char *base = (char *)cfg + o->offset;
    const char *v = value ? value : "";
    int64_t x = 0;
    jk_err_t rc = JK_OK;
    switch (o->type) {
    case JK_CFG_INT:
    case JK_CFG_DURATION:
    case JK_CFG_SIZE:
        rc = o->type == JK_CFG_INT ? s_parse_int(v, &x)
             : o->type == JK_CFG_DURATION ? s_parse_scaled(v, s_duration_units, &x)
                                          : s_parse_scaled(v, s_size_units, &x);
        if (rc == JK_ERR_PARSE)
            return jk_error_set(err, JK_ERR_CONFIG, "%s: %s: '%s' is not a valid %s%s",
                                source, o->name, v, s_type_name(o->type),
                                o->type == JK_CFG_DURATION ? " (e.g. 250ms, 2s, 5m, 1h)"
                                : o->type == JK_CFG_SIZE   ? " (e.g. 512, 64KiB, 8MiB)"
                                                           : "");
        if (rc != JK_OK || x < o->min || x > o->max)
            return jk_error_set(err, JK_ERR_CONFIG,
                                "%s: %s: %s is out of range %" PRId64 "..%" PRId64, source,
                                o->name, v, o->min, o->max);
        memcpy(base, &x, sizeof x);
        return JK_OK;
    case JK_CFG_BOOL: {
        int b = s_parse_bool(v);
        if (b < 0)
            return jk_error_set(err, JK_ERR_CONFIG,
                                "%s: %s: '%s' is not a boolean (yes/no, true/false, on/off, 1/0)",
                                source, o->name, v);
        bool bv = b == 1;
        memcpy(base, &bv, sizeof bv);
        return JK_OK;
    }
    case JK_CFG_STRING: {
        char *copy = strdup(v);
        if (!copy)
            return jk_error_set(err, JK_ERR_NOMEM, "%s: %s: out of memory", source, o->name);
        char *old;
        memcpy(&old, base, sizeof old);
        free(old);
        memcpy(base, &copy, sizeof copy);
        return JK_OK;
    }
    case JK_CFG_ENUM:
        for (int i = 0; o->choices && o->choices[i]; i++) {
            if (strcmp(o->choices[i], v) == 0) {
                memcpy(base, &i, sizeof i);
                return JK_OK;
            }
        }
        {
            char list[256] = "";
            size_t used = 0;
            for (int i = 0; o->choices && o->choices[i] && used < sizeof list - 1; i++) {
                int n = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 o->choices[i]);
                if (n < 0)
                    break;
                used += (size_t)n;
            }
            return jk_error_set(err, JK_ERR_CONFIG, "%s: %s: '%s' is not one of: %s", source,
                                o->name, v, list);
        }
    }
    return jk_error_set(err, JK_ERR_INTERNAL, "%s: %s: unknown option type", source, o->name);
}

jk_err_t jk_config_defaults(const jk_cfg_opt_t *table, void *cfg, jk_error_t *err)
{
    for (const jk_cfg_opt_t *o = table; o->name; o++) {
        jk_err_t rc = s_store(o, cfg, o->def ? o->def : "", "default", err);
        if (rc != JK_OK)
            return rc;
    }
    return JK_OK;
}

jk_err_t jk_config_set(const jk_cfg_opt_t *table, void *cfg, const char *key,
                       const char *value, const char *source, jk_error_t *err)
{
    const jk_cfg_opt_t *o = s_find(table, key, strlen(key));
    if (!o)
        return jk_error_set(err, JK_ERR_CONFIG, "%s: unknown key '%s'", source, key);
    return s_store(o, cfg, value, source, err);
}

/* Unquotes a "..." value in place; returns NULL on a malformed quote. */
static char *s_unquote(char *v)
{
    if (*v != '"')
        return v;
    char *r = v + 1, *w = v;
    for (; *r && *r != '"'; r++) {
        if (*r == '\\') {
            r++;
            if (*r == 'n')
                *w++ = '\n';
            else if (*r == '"' || *r == '\\')
                *w++ = *r;
            else
                return NULL;
        } else {
            *w++ = *r;
        }
    }
    if (*r != '"' || r[1] != '\0')
        return NULL;
    *w = '\0';
    return v;
}

static char *s_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

jk_err_t jk_config_parse_string(const jk_cfg_opt_t *table, void *cfg, const char *text,
                                size_t len, const char *name, jk_error_t *err)
{
    char line[JK_CONFIG_LINE_MAX + 1];
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        lineno++;
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        if (ll > JK_CONFIG_LINE_MAX)
            return jk_error_set(err, JK_ERR_CONFIG, "%s:%d: line longer than %d bytes", name,
                                lineno, JK_CONFIG_LINE_MAX);
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        pos += ll + (nl ? 1 : 0);
        if (memchr(line, '\0', ll))
            return jk_error_set(err, JK_ERR_CONFIG, "%s:%d: NUL byte in line", name, lineno);

        char *s = s_trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return jk_error_set(err, JK_ERR_CONFIG, "%s:%d: expected 'key = value'", name,
                                lineno);
        *eq = '\0';
        char *key = s_trim(s);
        char *val = s_trim(eq + 1);
        if (*key == '\0')
            return jk_error_set(err, JK_ERR_CONFIG, "%s:%d: missing key before '='", name,
                                lineno);
        char *uq = s_unquote(val);
        if (!uq)
            return jk_error_set(err, JK_ERR_CONFIG, "%s:%d: %s: malformed quoted value", name,
                                lineno, key);
        char where[512];
        snprintf(where, sizeof where, "%s:%d", name, lineno);
        jk_err_t rc = jk_config_set(table, cfg, key, uq, where, err);
        if (rc != JK_OK)
            return rc;
    }
    return JK_OK;
}

jk_err_t jk_config_load_file(const jk_cfg_opt_t *table, void *cfg, const char *path,
                             jk_error_t *err)
{
    uint8_t *buf = NULL;
    size_t n = 0;
    jk_err_t rc = jk_file_read(path, JK_CONFIG_FILE_MAX, false, &buf, &n, err);
    if (rc != JK_OK)
        return rc;
    rc = jk_config_parse_string(table, cfg, (const char *)buf, n, path, err);
    free(buf);
    return rc;
}

/* Environment name of a key: PREFIX + upper(key) with '.'/'-' -> '_'. */
static void s_env_name(const char *prefix, const char *key, char *out, size_t size)
{
    size_t o = (size_t)snprintf(out, size, "%s", prefix);
    for (const char *k = key; *k && o + 1 < size; k++)
        out[o++] = (*k == '.' || *k == '-') ? '_' : (char)toupper((unsigned char)*k);
    out[o < size ? o : size - 1] = '\0';
}

jk_err_t jk_config_apply_env(const jk_cfg_opt_t *table, void *cfg, const char *prefix,
                             char *const *envp, jk_error_t *err)
{
    if (!envp)
        envp = environ;
    size_t pl = strlen(prefix);
    for (char *const *e = envp; e && *e; e++) {
        if (strncmp(*e, prefix, pl) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        size_t nl = (size_t)(eq - *e);
        if (nl == pl + 6 && strncmp(*e + pl, "CONFIG", 6) == 0)
            continue; /* the config file's name, handled by jk_config_load */
        const jk_cfg_opt_t *o = table;
        char envname[256];
        for (; o->name; o++) {
            s_env_name(prefix, o->name, envname, sizeof envname);
            if (strlen(envname) == nl && strncmp(envname, *e, nl) == 0)
                break;
        }
        char var[256];
        snprintf(var, sizeof var, "%.*s", (int)(nl < 200 ? nl : 200), *e);
        if (!o->name)
            return jk_error_set(err, JK_ERR_CONFIG, "environment %s: no such setting", var);
        char where[300];
        snprintf(where, sizeof where, "environment %s", var);
        jk_err_t rc = s_store(o, cfg, eq + 1, where, err);
        if (rc != JK_OK)
            return rc;
    }
    return JK_OK;
}

jk_err_t jk_config_apply_args(const jk_cfg_opt_t *table, void *cfg, int argc,
                              char *const *argv, const char **rest, size_t max_rest,
                              size_t *n_rest, jk_error_t *err)
{
    size_t nr = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int passthrough = strncmp(a, "--", 2) != 0 || strcmp(a, "--help") == 0 ||
                          strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0 ||
                          strcmp(a, "-h") == 0;
        if (passthrough) {
            if (nr >= max_rest)
                return jk_error_set(err, JK_ERR_CONFIG, "command line: too many arguments");
            rest[nr++] = a;
            /* "--config FILE": keep FILE with it. */
            if (strcmp(a, "--config") == 0 && i + 1 < argc) {
                if (nr >= max_rest)
                    return jk_error_set(err, JK_ERR_CONFIG, "command line: too many arguments");
                rest[nr++] = argv[++i];
            }
            continue;
        }
        const char *key = a + 2;
        const char *eq = strchr(key, '=');
        size_t kl = eq ? (size_t)(eq - key) : strlen(key);
        const jk_cfg_opt_t *o = s_find_arg(table, key, kl);
        const char *val = eq ? eq + 1 : NULL;
        char where[300];
        if (!o && !eq && kl > 3 && strncmp(key, "no-", 3) == 0) {
            o = s_find_arg(table, key + 3, kl - 3);
            if (o && o->type == JK_CFG_BOOL) {
                snprintf(where, sizeof where, "command line %s", a);
                jk_err_t rc = s_store(o, cfg, "no", where, err);
                if (rc != JK_OK)
                    return rc;
                continue;
            }
            o = NULL;
        }
        if (!o)
            return jk_error_set(err, JK_ERR_CONFIG, "command line: unknown option --%.*s",
                                (int)(kl < 200 ? kl : 200), key);
        snprintf(where, sizeof where, "command line --%.*s", (int)(kl < 200 ? kl : 200), key);
        if (!val) {
            if (o->type == JK_CFG_BOOL)
                val = "yes";
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return jk_error_set(err, JK_ERR_CONFIG, "%s: needs a value", where);
        }
        jk_err_t rc = s_store(o, cfg, val, where, err);
        if (rc != JK_OK)
            return rc;
    }
    if (n_rest)
        *n_rest = nr;
    return JK_OK;
}

jk_err_t jk_config_load(const jk_cfg_opt_t *table, void *cfg, const char *env_prefix,
                        int argc, char *const *argv, const char **rest, size_t max_rest,
                        size_t *n_rest, bool *help_requested, jk_error_t *err)
{
    if (help_requested)
        *help_requested = false;
    if (n_rest)
        *n_rest = 0;
    jk_err_t rc = jk_config_defaults(table, cfg, err);
    if (rc != JK_OK)
        return rc;

    /* Find --config and --help first: the file's values sit below the
     * environment and the other arguments. */
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            if (help_requested)
                *help_requested = true;
            return JK_OK;
        }
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc)
                return jk_error_set(err, JK_ERR_CONFIG, "command line --config: needs a file");
            file = argv[i + 1];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            file = argv[i] + 9;
        }
    }
    if (!file && env_prefix) {
        char name[128];
        snprintf(name, sizeof name, "%sCONFIG", env_prefix);
        const char *v = getenv(name);
        if (v && *v)
            file = v;
    }
    if (file) {
        rc = jk_config_load_file(table, cfg, file, err);
        if (rc != JK_OK)
            return rc;
    }
    if (env_prefix) {
        rc = jk_config_apply_env(table, cfg, env_prefix, NULL, err);
        if (rc != JK_OK)
            return rc;
    }
    const char *tmp[64];
    size_t nt = 0;
    rc = jk_config_apply_args(table, cfg, argc, argv, tmp, 64, &nt, err);
    if (rc != JK_OK)
        return rc;
    size_t nr = 0;
    for (size_t i = 0; i < nt; i++) {
        if (strcmp(tmp[i], "--config") == 0) {
            i++; /* skip its file */
            continue;
        }
        if (strncmp(tmp[i], "--config=", 9) == 0)
            continue;
        if (nr >= max_rest)
            return jk_error_set(err, JK_ERR_CONFIG, "command line: too many arguments");
        rest[nr++] = tmp[i];
    }
    if (n_rest)
        *n_rest = nr;
    return JK_OK;
}

void jk_config_release(const jk_cfg_opt_t *table, void *cfg)
{
    for (const jk_cfg_opt_t *o = table; o->name; o++) {
        if (o->type != JK_CFG_STRING)
            continue;
        char *base = (char *)cfg + o->offset;
        char *p;
        memcpy(&p, base, sizeof p);
        free(p);
        p = NULL;
        memcpy(base, &p, sizeof p);
    }
}

static void s_format_value(const jk_cfg_opt_t *o, const void *cfg, char *out, size_t size)
{
    const char *base = (const char *)cfg + o->offset;
    int64_t x;
    switch (o->type) {
    case JK_CFG_INT:
        memcpy(&x, base, sizeof x);
        snprintf(out, size, "%" PRId64, x);
        return;
    case JK_CFG_DURATION:
        memcpy(&x, base, sizeof x);
        if (x % 3600000 == 0 && x)
            snprintf(out, size, "%" PRId64 "h", x / 3600000);
        else if (x % 60000 == 0 && x)
            snprintf(out, size, "%" PRId64 "m", x / 60000);
        else if (x % 1000 == 0 && x)
            snprintf(out, size, "%" PRId64 "s", x / 1000);
        else
            snprintf(out, size, "%" PRId64 "ms", x);
        return;
    case JK_CFG_SIZE:
        memcpy(&x, base, sizeof x);
        if (x % (1024 * 1024 * 1024) == 0 && x)
            snprintf(out, size, "%" PRId64 "GiB", x / (1024 * 1024 * 1024));
        else if (x % (1024 * 1024) == 0 && x)
            snprintf(out, size, "%" PRId64 "MiB", x / (1024 * 1024));
        else if (x % 1024 == 0 && x)
            snprintf(out, size, "%" PRId64 "KiB", x / 1024);
        else
            snprintf(out, size, "%" PRId64, x);
        return;
    case JK_CFG_BOOL: {
        bool b;
        memcpy(&b, base, sizeof b);
        snprintf(out, size, "%s", b ? "yes" : "no");
        return;
    }
    case JK_CFG_STRING: {
        const char *s;
        memcpy(&s, base, sizeof s);
        snprintf(out, size, "\"%s\"", s ? s : "");
        return;
    }
    case JK_CFG_ENUM: {
        int i;
        memcpy(&i, base, sizeof i);
        snprintf(out, size, "%s", o->choices && i >= 0 ? o->choices[i] : "?");
        return;
    }
    }
}

void jk_config_print(const jk_cfg_opt_t *table, const void *cfg, FILE *out)
{
    for (const jk_cfg_opt_t *o = table; o->name; o++) {
        char v[1024];
        s_format_value(o, cfg, v, sizeof v);
        fprintf(out, "%s = %s\n", o->name, v);
    }
}

static void s_bounds(const jk_cfg_opt_t *o, char *out, size_t size)
{
    out[0] = '\0';
    switch (o->type) {
    case JK_CFG_INT:
        snprintf(out, size, "integer %" PRId64 "..%" PRId64, o->min, o->max);
        break;
    case JK_CFG_DURATION:
        snprintf(out, size, "duration %" PRId64 "ms..%" PRId64 "ms", o->min, o->max);
        break;
    case JK_CFG_SIZE:
        snprintf(out, size, "size %" PRId64 "..%" PRId64 " bytes", o->min, o->max);
        break;
    case JK_CFG_BOOL:
        snprintf(out, size, "yes or no");
        break;
    case JK_CFG_STRING:
        snprintf(out, size, "string");
        break;
    case JK_CFG_ENUM: {
        size_t used = (size_t)snprintf(out, size, "one of:");
        for (int i = 0; o->choices && o->choices[i] && used < size; i++)
            used += (size_t)snprintf(out + used, size - used, " %s", o->choices[i]);
        break;
    }
    }
}

void jk_config_write_reference(const jk_cfg_opt_t *table, const char *title, FILE *out)
{
    fprintf(out, "# %s\n#\n# Every key with its default. Lines are `key = value`; `#` starts a\n"
                 "# comment. Precedence: default < this file < environment < command line.\n\n",
            title);
    for (const jk_cfg_opt_t *o = table; o->name; o++) {
        char b[512];
        s_bounds(o, b, sizeof b);
        fprintf(out, "# %s\n# (%s)\n# %s = %s\n\n", o->help ? o->help : "", b, o->name,
                o->def ? o->def : "\"\"");
    }
}

void jk_config_usage(const jk_cfg_opt_t *table, const char *env_prefix, FILE *out)
{
    fprintf(out, "Options (also settable as `key = value` in --config FILE");
    if (env_prefix)
        fprintf(out, " or as %sKEY in the environment", env_prefix);
    fprintf(out, "):\n");
    for (const jk_cfg_opt_t *o = table; o->name; o++) {
        char arg[128], b[512];
        size_t i = 0;
        for (; o->name[i] && i < sizeof arg - 1; i++)
            arg[i] = o->name[i] == '.' ? '-' : o->name[i];
        arg[i] = '\0';
        s_bounds(o, b, sizeof b);
        fprintf(out, "  --%-28s %s\n  %-30s (%s; default %s)\n", arg, o->help ? o->help : "",
                "", b, o->def ? o->def : "\"\"");
    }
}
