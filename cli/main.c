/*
 * main.c - the minicluster command line: one table of subcommands, each with
 * its own --help.  Exit codes (INTERFACE.md): 0 all expectations hold, 1 an
 * expectation or a job failed, 2 usage error or invalid scenario, 3 internal
 * error (a bug).
 */
#include <stdio.h>
#include <string.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "mc_config.h"
#include "scenarios/scn.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis;
    const char *what;
};

static const struct command commands[] = {
    { "run", cli_run, "run [SCENARIO] [--mode session|per-job|application] [--world real|sim] "
                   "[--seed N] [--json FILE] [--trace FILE] [--html FILE] [--quiet] [--check-determinism]",
      "run a scenario in one deployment mode" },
    { "compare", cli_compare, "compare [SCENARIO] [--modes session,per-job,application] "
                       "[--world real|sim] [--seed N] [--json FILE] [--html FILE]",
      "run a scenario in each mode and compare them side by side" },
    { "check", cli_check, "check SCENARIO...", "parse and validate scenario files" },
    { "replay", cli_replay, "replay TRACE", "re-run a recorded sim run and verify the same hash" },
    { "explore", cli_explore, "explore SCENARIO --seeds A..B [--json FILE]", "run many seeds, report failing ones" },
    { "sweep", cli_sweep, "sweep [SCENARIO] [--mode MODE] [--failpoints GLOB] [--max N] [--json FILE]", "fail every failpoint at its N-th hit, once and from then on" },
    { "shrink", cli_shrink, "shrink SCENARIO --seed N -o OUT.scn", "cut a failing run down to what matters" },
    { "import", cli_import, "import PLAN.json|DIR|URL [-o OUT.scn]", "a scenario from a real Flink job's plan or REST API" },
    { "export", cli_export, "export SCENARIO --to kubernetes|yarn --mode session|application|per-job -o DIR [--strict]", "manifests to run a scenario on a real cluster" },
    { "bench", bench_main, "bench spinup|engine|recovery|modes|sim|api|scale [--json FILE]",
      "measure a figure against its floor" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void cli_unknown(const char *who, const char *what, const char *word,
                 const char *const *names, size_t n)
{
    const char *s = scn_suggest(word, names, n);
    fprintf(stderr, "%s: unknown %s '%s'", who, what, word);
    if (s)
        fprintf(stderr, " (did you mean '%s'?)", s);
    fputc('\n', stderr);
}

int cli_unexpected(const char *who, const char *a, const char *const *names, size_t n,
                   const char *usage)
{
    if (a[0] == '-' && a[1])
        cli_unknown(who, "option", a, names, n);
    else
        fprintf(stderr, "%s: unexpected '%s'\n", who, a);
    fputs(usage, stderr);
    return 2;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: minicluster COMMAND [ARGS]\n\n"
                "An in-process Flink-style mini-cluster: run scenarios with faults and\n"
                "compare session, per-job and application deployment modes.\n\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(fp, "  %-8s %s%s\n", commands[i].name, commands[i].what,
                commands[i].run ? "" : " (not built yet)");
    fprintf(fp, "\n  minicluster COMMAND --help   for a command's options\n"
                "  minicluster --version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("minicluster %s\n", MC_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const struct command *c = &commands[i];
        if (strcmp(argv[1], c->name) != 0)
            continue;
        if (c->run)
            return c->run(argc - 1, argv + 1);
        if (argc > 2 && strcmp(argv[2], "--help") == 0) {
            printf("usage: minicluster %s\n\n%s.\nThis command is not built yet.\n",
                   c->synopsis, c->what);
            return 0;
        }
        fprintf(stderr, "minicluster: '%s' is not built yet in this version (%s)\n",
                c->name, MC_VERSION);
        return 2;
    }
    const char *names[NCOMMANDS];
    for (size_t i = 0; i < NCOMMANDS; i++)
        names[i] = commands[i].name;
    cli_unknown("minicluster", "command", argv[1], names, NCOMMANDS);
    fputc('\n', stderr);
    usage(stderr);
    return 2;
}
