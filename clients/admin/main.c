/*
 * jkadmin main: finds the command in the table and runs it. Thin on purpose:
 * every rule lives in libjkcore.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "jk_log.h"

static const admin_command_t s_commands[] = {
    { "standard", "check", "[FILE]", "load and validate the standard (default data/standard.json)",
      admin__standard_check },
    { "standard", "show", "[FILE] [--level N]",
      "print each level's blueprint: areas and points for theory and skills",
      admin__standard_show },
    { "bank", "check", "[--standard FILE] [PATH...]",
      "validate item bank files or directories (default data/bank)", admin__bank_check },
    { "bank", "stats", "[--standard FILE] [PATH...]",
      "count items per level x area x type against each level's blueprint", admin__bank_stats },
    { "bank", "import", "--out FILE [--id ID] [--level N --ref REF --basis TEXT] PATH...",
      "import bank JSON and QTI 2.1/3.0 items or packages into one JSON bank", admin__bank_import },
    { "bank", "generate", "--items N --out FILE [--seed S]",
      "write a synthetic bank of N items for load tests", admin__bank_generate },
    { "candidates", "import", "CSV (--on YYYY-MM-DD | --plan FILE)",
      "import candidates, report refused rows and each one's eligibility on the sitting date",
      admin__candidates_import },
    { "plan", "check", "FILE", "validate a sitting plan", admin__plan_check },
    { "plan", "assign", "--plan FILE --candidates CSV [--seed N] [--roster FILE] [--json FILE]",
      "seat eligible candidates and staff the rooms; name every shortfall", admin__plan_assign },
    { "papers", "build",
      "--plan FILE --candidates CSV --out DIR [--bank PATH] [--seed N] [--exposure S]\n"
      "               [--center-key FILE] [--kdf-iterations N]",
      "build every candidate's papers and one sealed package per site; keys stay in DIR/center",
      admin__papers_build },
    { "package", "verify", "PACKAGE --key CENTER.pub [--release-key HEX | --keys KEYS.json]",
      "check a package's signature (and, with its release key, that it opens)",
      admin__package_verify },
    { "keys", "curve", "--name NAME --out DIR [--force]",
      "write a CURVE key pair: DIR/NAME.key (secret, mode 0600) and DIR/NAME.pub",
      admin__keys_curve },
    { "keys", "allow", "--dir DIR --out FILE",
      "write the broker's allow-list of every DIR/*.pub (name = file name)", admin__keys_allow },
    { "sitting", "release",
      "--broker EP --keys KEYS.json [--packages DIR] [--site ID...] [--wait SECONDS] (--curve-secret FILE --broker-public FILE | --plain)",
      "send the release keys to the sites' exam nodes through the broker (exam start); each names its package's SHA-256, read from DIR (default: KEYS.json's ../sites); waits (30 s by default) until the broker has routed each to its site's exam node",
      admin__sitting_release },
    { "results", "show", "--center DIR [--redis HOST:PORT] [--wait SECONDS] [--csv FILE]",
      "pass rates, score distributions and per-area means of the sitting, from Redis",
      admin__results },
    { NULL, NULL, NULL, NULL, NULL },
};

static void s_usage(FILE *out)
{
    fprintf(out, "usage: jkadmin <group> <command> [arguments]\n\ncommands:\n");
    for (const admin_command_t *c = s_commands; c->group; c++)
        fprintf(out, "  %s %s %s\n      %s\n", c->group, c->verb, c->args, c->help);
    fprintf(out, "\nexit codes: 0 ok, 1 input invalid, 2 usage error, 3 failure\n"
                 "environment: JK_STANDARD (standard file), JK_LOG_LEVEL (debug|info|warn|error)\n");
}

int admin__exit_code(jk_err_t code)
{
    switch (code) {
    case JK_OK:
        return ADMIN_OK;
    case JK_ERR_NOMEM:
    case JK_ERR_IO:
    case JK_ERR_CRYPTO:
    case JK_ERR_INTERNAL:
    case JK_ERR_UNAVAIL:
    case JK_ERR_TIMEOUT:
        return ADMIN_FAIL;
    default:
        return ADMIN_INVALID;
    }
}

void admin__fail(const char *fmt, ...)
{
    va_list ap;
    fputs("jkadmin: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int main(int argc, char **argv)
{
    jk_log_init("jkadmin", JK_LOG_WARN, NULL);
    const char *lvl = getenv("JK_LOG_LEVEL");
    if (lvl && jk_log_level_parse(lvl) >= 0)
        jk_log_set_level((jk_log_level_t)jk_log_level_parse(lvl));

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? ADMIN_USAGE : ADMIN_OK;
    }
    for (const admin_command_t *c = s_commands; c->group; c++) {
        if (strcmp(c->group, argv[1]) != 0)
            continue;
        if (argc < 3 || strcmp(c->verb, argv[2]) != 0)
            continue;
        return c->run(argc - 3, argv + 3);
    }
    admin__fail("unknown command '%s%s%s' (try: jkadmin help)", argv[1], argc > 2 ? " " : "",
                argc > 2 ? argv[2] : "");
    return ADMIN_USAGE;
}
