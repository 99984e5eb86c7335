/*
 * jkadmin: the offline administration tool of an assessment agency. One
 * binary, subcommands dispatched from a table (admin_commands[]); each
 * command group lives in its own cmd_<group>.c and gets the arguments after
 * its two words.
 *
 * Exit codes (documented in docs/admin.md):
 *   0  success
 *   1  the input was checked and found wrong (validation errors printed)
 *   2  usage error (unknown command, missing argument)
 *   3  could not do the work (I/O, out of memory, internal)
 */
#ifndef JK_ADMIN_H
#define JK_ADMIN_H

#include <stdio.h>

#include "jk_err.h"

enum { ADMIN_OK = 0, ADMIN_INVALID = 1, ADMIN_USAGE = 2, ADMIN_FAIL = 3 };

typedef struct {
    const char *group;  /* "standard" */
    const char *verb;   /* "check" */
    const char *args;   /* synopsis of the arguments */
    const char *help;   /* one line */
    int (*run)(int argc, char **argv); /* argv[0] is the first argument */
} admin_command_t;

/* Maps a library error to an exit code: data errors to ADMIN_INVALID,
 * the rest to ADMIN_FAIL. */
int admin__exit_code(jk_err_t code);

/* Prints "jkadmin: <msg>" to stderr. */
void admin__fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Command handlers. */
int admin__standard_check(int argc, char **argv);
int admin__standard_show(int argc, char **argv);
int admin__bank_check(int argc, char **argv);
int admin__bank_stats(int argc, char **argv);
int admin__bank_generate(int argc, char **argv);
int admin__keys_curve(int argc, char **argv);
int admin__keys_allow(int argc, char **argv);
int admin__bank_import(int argc, char **argv);
int admin__candidates_import(int argc, char **argv);
int admin__plan_check(int argc, char **argv);
int admin__plan_assign(int argc, char **argv);
int admin__papers_build(int argc, char **argv);
int admin__package_verify(int argc, char **argv);
int admin__results(int argc, char **argv);
int admin__sitting_release(int argc, char **argv);

#endif
