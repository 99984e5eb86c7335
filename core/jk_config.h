/*
 * jk_config: table-driven configuration.
 *
 * A program describes its settings once, as a table of jk_cfg_opt_t (name,
 * type, default, bounds, help, and where in its own config struct the value
 * lives). The same table then
 *   - sets defaults,
 *   - parses a file (or a string, for tests): `key = value` lines, `#`
 *     comments, values optionally "double-quoted" with \" \\ \n escapes;
 *   - applies the environment: PREFIX + the key upper-cased with '.' and '-'
 *     turned into '_' (examd's `redis.port` is JK_EXAMD_REDIS_PORT);
 *   - applies the command line: --key=value or --key value, and --no-key /
 *     --key for booleans;
 *   - prints the effective values and a commented reference file.
 * Precedence, lowest first: default, file, environment, command line.
 *
 * Every error names its source and the key: "examd.conf:12: redis.port:
 * 70000 is out of range 1..65535", "environment JK_EXAMD_REDIS_PORT: ...",
 * "command line --redis-port: ...". Unknown keys are errors (a typo must not
 * silently leave a default in force).
 *
 * Types and their storage in the target struct (at `offset`):
 *   JK_CFG_INT       int64_t, decimal, within [min, max]
 *   JK_CFG_BOOL      bool: yes/no, true/false, on/off, 1/0
 *   JK_CFG_STRING    char * owned by the struct; freed by jk_config_release
 *   JK_CFG_DURATION  int64_t milliseconds: "250ms", "2s", "5m", "1h" or a
 *                    bare number of ms; within [min, max] ms
 *   JK_CFG_SIZE      int64_t bytes: "512", "64KiB", "8MiB", "1GiB"
 *   JK_CFG_ENUM      int: index of the value in `choices` (NULL-ended)
 */
#ifndef JK_CONFIG_H
#define JK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jk_err.h"

typedef enum {
    JK_CFG_INT,
    JK_CFG_BOOL,
    JK_CFG_STRING,
    JK_CFG_DURATION,
    JK_CFG_SIZE,
    JK_CFG_ENUM,
} jk_cfg_type_t;

typedef struct {
    const char *name;             /* "redis.port"; [a-z0-9._-] */
    jk_cfg_type_t type;
    const char *def;              /* default, as text; NULL for an empty string */
    int64_t min, max;             /* bounds for INT, DURATION (ms), SIZE (bytes) */
    size_t offset;                /* offsetof(struct, field) */
    const char *help;             /* one line, for --help and the reference file */
    const char *const *choices;   /* JK_CFG_ENUM: NULL-terminated list */
} jk_cfg_opt_t;

#define JK_CFG_END { NULL, JK_CFG_INT, NULL, 0, 0, 0, NULL, NULL }

#define JK_CONFIG_LINE_MAX 4096          /* longer lines are an error */
#define JK_CONFIG_FILE_MAX (1u << 20)    /* bound on a config file */

/* Sets every option to its default. The struct should be zeroed first; string
 * fields already set are freed. */
jk_err_t jk_config_defaults(const jk_cfg_opt_t *table, void *cfg, jk_error_t *err);

/* Sets one option from text; `source` names where it came from (for the
 * error message). */
jk_err_t jk_config_set(const jk_cfg_opt_t *table, void *cfg, const char *key,
                       const char *value, const char *source, jk_error_t *err);

/* Parses configuration text; `name` stands for the file in messages. */
jk_err_t jk_config_parse_string(const jk_cfg_opt_t *table, void *cfg, const char *text,
                                size_t len, const char *name, jk_error_t *err);

/* Reads and parses a file (bounded by JK_CONFIG_FILE_MAX). */
jk_err_t jk_config_load_file(const jk_cfg_opt_t *table, void *cfg, const char *path,
                             jk_error_t *err);

/* Applies PREFIX* variables from envp (NULL = the process environment).
 * Variables with the prefix but no matching key are errors. */
jk_err_t jk_config_apply_env(const jk_cfg_opt_t *table, void *cfg, const char *prefix,
                             char *const *envp, jk_error_t *err);

/* Applies --key=value / --key value / --flag / --no-flag arguments. argv[0]
 * is skipped. Arguments that do not start with "--" are left alone and
 * returned in order in rest[] (up to max_rest; *n_rest set). "--config" and
 * "--help" are also passed through to rest for the caller. */
jk_err_t jk_config_apply_args(const jk_cfg_opt_t *table, void *cfg, int argc,
                              char *const *argv, const char **rest, size_t max_rest,
                              size_t *n_rest, jk_error_t *err);

/* The whole sequence for a program: defaults; the file named by --config
 * FILE on the command line or PREFIX"CONFIG" in the environment, if any;
 * the environment; the command line. Non-option arguments go to rest. If
 * --help is given, *help_requested is set and nothing else is done after
 * defaults. */
jk_err_t jk_config_load(const jk_cfg_opt_t *table, void *cfg, const char *env_prefix,
                        int argc, char *const *argv, const char **rest, size_t max_rest,
                        size_t *n_rest, bool *help_requested, jk_error_t *err);

/* Frees the strings the struct owns (accepts a struct never configured). */
void jk_config_release(const jk_cfg_opt_t *table, void *cfg);

/* Writes `key = value` lines of the effective configuration. */
void jk_config_print(const jk_cfg_opt_t *table, const void *cfg, FILE *out);

/* Writes a commented reference file: for every key, its help, type, bounds
 * and default, then `# key = default`. */
void jk_config_write_reference(const jk_cfg_opt_t *table, const char *title, FILE *out);

/* Writes --help text for the table. */
void jk_config_usage(const jk_cfg_opt_t *table, const char *env_prefix, FILE *out);

#endif
