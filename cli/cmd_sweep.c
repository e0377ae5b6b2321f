/*
 * cmd_sweep.c - `sweep SCENARIO`: every failpoint failed at its N-th hit,
 * once and from then on (scenarios/sweep.c does the work; this file parses
 * options and prints the report per failpoint).  Exit codes as INTERFACE.md:
 * 0 every run recovered or failed cleanly, 1 some run went badly, 2 usage or
 * bad input (a glob that matches no failpoint), 3 internal error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "scenarios/replay.h"
#include "scenarios/sweep.h"

static const char sweep_usage[] =
    "usage: minicluster sweep [SCENARIO] [--mode MODE] [--failpoints GLOB] [--max N]\n"
    "                         [--json FILE] [--quiet]\n\n"
    "Failpoint anomaly testing, as SQLite tests I/O errors.  One clean run of SCENARIO\n"
    "(the default scenario when none) in the sim world counts each failpoint's hits;\n"
    "then for every failpoint matching GLOB (fnmatch; default every one) and every N\n"
    "from 1 to its count - or --max N of them, evenly spread - the scenario runs with\n"
    "the N-th hit failing once (transient) and with every hit from the N-th on failing\n"
    "(persistent).  Every run must recover or fail cleanly (a job FAILED and its\n"
    "application says why); bad: lost, duplicated or wrong output, a finished job run\n"
    "again, the deadline passed (hang), files left after teardown (leak), an internal\n"
    "error, or a hit that never came.  The scenario's expectations are not consulted.\n"
    "Prints a line per failpoint; JSON: {scenario, mode, max, runs, bad, wall_s,\n"
    "failpoints:[{name, hits, ns, transient:{outcome: count}, persistent:{...}, bad:[{n,\n"
    "kind, outcome, reason}], example, skipped}]}.  Exit: 0 no bad run, 1 some, 2 bad\n"
    "input (a GLOB matching no failpoint), 3 internal error.  docs/failpoints.md.\n";

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || s[0] == '-')
        return -EINVAL;
    *out = v;
    return 0;
}

static void print_point(const struct scn_sweep_point *p)
{
    if (p->skipped) {
        printf("  %-12s %6llu hits  skipped: %s\n", p->name, (unsigned long long)p->hits,
               p->skipped);
        return;
    }
    printf("  %-12s %6llu hits  %4zu N", p->name, (unsigned long long)p->hits, p->n_ns);
    for (int k = 0; k < 2; k++)
        printf("  %s: %llu recovered, %llu failed cleanly, %llu bad", k ? "persistent" : "transient",
               (unsigned long long)p->outcomes[k][SCN_SWEEP_RECOVERED],
               (unsigned long long)p->outcomes[k][SCN_SWEEP_FAILED_CLEAN],
               (unsigned long long)(p->n_ns - p->outcomes[k][SCN_SWEEP_RECOVERED] -
                                    p->outcomes[k][SCN_SWEEP_FAILED_CLEAN]));
    printf("\n");
    if (p->example.n)
        printf("      e.g. hit %llu %s: %s\n", (unsigned long long)p->example.n,
               p->example.persistent ? "persistent" : "transient", p->example.reason);
    for (size_t i = 0; i < p->n_bad; i++)
        printf("      BAD hit %llu %s: %s -- %s\n", (unsigned long long)p->bad[i].n,
               p->bad[i].persistent ? "persistent" : "transient",
               scn_sweep_outcome_name(p->bad[i].outcome), p->bad[i].reason);
}

int cli_sweep(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("%s", sweep_usage);
            return 0;
        }
    const char *path = NULL, *json = NULL;
    struct scn_sweep_opts o = { .mode = SCN_MODE_SESSION, .progress = stderr };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quiet") == 0) {
            o.progress = NULL;
            continue;
        }
        /* The options with a value, NULL, then the others (for "did you mean"). */
        static const char *const valued[] = { "--mode", "--failpoints", "--max", "--json", NULL,
                                              "--quiet", "--help" };
        if (!v && cli_is_one_of(a, valued)) {
            fprintf(stderr, "minicluster sweep: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--mode") == 0) {
            if (scn_mode_parse(v, &o.mode) < 0) {
                fprintf(stderr, "minicluster sweep: unknown mode '%s' (session, per-job or "
                        "application)\n", v);
                return 2;
            }
        } else if (strcmp(a, "--failpoints") == 0) {
            o.glob = v;
        } else if (strcmp(a, "--max") == 0) {
            if (parse_u64(v, &o.max) < 0 || o.max == 0) {
                fprintf(stderr, "minicluster sweep: --max takes a whole number >= 1, not '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--json") == 0) {
            json = v;
        } else if (a[0] == '-' || path) {
            return cli_unexpected("minicluster sweep", a, valued,
                                  sizeof(valued) / sizeof(valued[0]), sweep_usage);
        } else {
            path = a;
            continue;
        }
        i++;
    }
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = path ? scn_parse_file(path, &s, &d)
                  : scn_parse_text("default.scn", scn_default_text, strlen(scn_default_text), &s, &d);
    scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    if (rc < 0)
        return 2;
    struct scn_sweep_result res;
    char err[768] = "";
    rc = scn_sweep(s, &o, &res, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "minicluster sweep: %s%s\n", rc == -EINVAL ? "" : "internal error: ", err);
        scn_scenario_free(s);
        return rc == -EINVAL ? 2 : 3;
    }
    printf("sweep %s (%s mode): %llu runs, %.1f s, %llu bad\n", path ? path : "default.scn",
           scn_mode_name(o.mode), (unsigned long long)res.runs, res.wall_s,
           (unsigned long long)res.bad);
    bool internal = false;
    for (size_t i = 0; i < res.n_points; i++) {
        print_point(&res.points[i]);
        for (size_t k = 0; k < res.points[i].n_bad; k++)
            internal |= res.points[i].bad[k].outcome == SCN_SWEEP_INTERNAL;
    }
    rc = internal ? 3 : res.bad ? 1 : 0;
    if (json) {
        json_t *j = scn_sweep_json(s, &o, &res);
        if (json_dump_file(j, json, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
            fprintf(stderr, "minicluster sweep: cannot write %s: %s\n", json, strerror(errno));
            rc = 3;
        }
        json_decref(j);
    }
    scn_sweep_result_free(&res);
    scn_scenario_free(s);
    return rc;
}
