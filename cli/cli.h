/* cli.h - the subcommands of the minicluster command line (cli/main.c's table). */
#ifndef CLI_H
#define CLI_H

int cli_run(int argc, char **argv);
int cli_compare(int argc, char **argv);
int cli_check(int argc, char **argv);
/* cmd_tools.c: the determinism tools */
int cli_replay(int argc, char **argv);
int cli_explore(int argc, char **argv);
int cli_shrink(int argc, char **argv);
/* cmd_bridge.c: to and from a real Flink cluster */
int cli_import(int argc, char **argv);
int cli_export(int argc, char **argv);
/* cmd_sweep.c: failpoint anomaly testing */
int cli_sweep(int argc, char **argv);

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* "WHO: unknown WHAT 'WORD' (did you mean 'X'?)" and a newline on stderr,
 * the suggestion from names[0..n) by the scenario language's rule, if any
 * is close (cli/main.c). */
void cli_unknown(const char *who, const char *what, const char *word,
                 const char *const *names, size_t n);

/* Argument A was not expected: an unknown option (cli_unknown) or a stray
 * word, then USAGE, on stderr.  Returns 2, the exit code. */
int cli_unexpected(const char *who, const char *a, const char *const *names, size_t n,
                   const char *usage);

/* Whether option a is one of names (NULL-terminated): an option that takes a
 * value, so that a missing value can be told from an unknown option. */
static inline bool cli_is_one_of(const char *a, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(a, *names) == 0)
            return true;
    return false;
}

#endif
