/*
 * cmd_tools.c - the determinism tools: `replay TRACE`, `explore SCENARIO
 * --seeds A..B`, `shrink SCENARIO --seed N -o OUT.scn`.  The work is in
 * scenarios/replay.c, explore.c and shrink.c; this file parses options and
 * prints.  Exit codes as INTERFACE.md: 0 good, 1 a run failed or diverged,
 * 2 usage or bad input, 3 internal error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "scenarios/explore.h"
#include "scenarios/replay.h"
#include "scenarios/shrink.h"

static bool want_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

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

static struct scn_scenario *load(const char *path)
{
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_file(path, &s, &d);
    scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    return rc == 0 ? s : NULL;
}

/* ---- replay ------------------------------------------------------------------ */

static const char replay_usage[] =
    "usage: minicluster replay TRACE [--quiet]\n\n"
    "Re-runs the sim run recorded in TRACE (written by `run --world sim --trace TRACE`):\n"
    "the scenario, mode, seed and network parameters come from its header line.  The\n"
    "new run's trace is compared with TRACE event by event; the first difference is\n"
    "printed with its line number.  Exit: 0 identical (the hash is printed), 1 they\n"
    "diverge, 2 TRACE is not a sim trace, 3 internal error.\n";

int cli_replay(int argc, char **argv)
{
    const char *trace = NULL;
    bool quiet = false;
    if (want_help(argc, argv)) {
        printf("%s", replay_usage);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else if (argv[i][0] == '-' || trace) {
            fprintf(stderr, "minicluster replay: unexpected '%s'\n%s", argv[i], replay_usage);
            return 2;
        } else
            trace = argv[i];
    }
    if (!trace) {
        fprintf(stderr, "minicluster replay: which trace?\n%s", replay_usage);
        return 2;
    }
    struct scn_replay_result res;
    char err[512] = "";
    int rc = scn_replay(trace, quiet, &res, err, sizeof(err));
    if (rc < 0) {
        bool input = rc == -EINVAL || rc == -ENOENT || rc == -EACCES;
        fprintf(stderr, "minicluster replay: %s%s\n", input ? "" : "internal error: ", err);
        return input ? 2 : 3;
    }
    if (res.diverged) {
        printf("replay: DIVERGED at line %llu of %s\n  recorded: %s\n  replayed: %s\n",
               (unsigned long long)res.line, trace, res.recorded, res.replayed);
        scn_replay_result_free(&res);
        return 1;
    }
    printf("replay: identical, %llu lines, trace %s%s%s\n", (unsigned long long)res.lines,
           res.hash, res.recorded_hash[0] && strcmp(res.recorded_hash, res.hash) == 0
               ? " (as recorded)" : "", res.recorded_hash[0] ? "" : " (no footer recorded)");
    if (res.run_ok)
        printf("replay: the run's expectations hold, as recorded\n");
    else
        printf("replay: the run fails, as recorded: %s\n", res.failed);
    scn_replay_result_free(&res);
    return 0;
}

/* ---- explore ----------------------------------------------------------------- */

static const char explore_usage[] =
    "usage: minicluster explore SCENARIO --seeds A..B [--json FILE] [--mode MODE]\n"
    "                           [--workers N] [--stop-after N] [--print-variants]\n\n"
    "Runs SCENARIO once per seed in the sim world (session mode unless --mode), each\n"
    "seed randomising the world within the scenario's fault model: fault times and\n"
    "checkpoint numbers, which TaskManager or subtask a fault hits, taskmanagers +-1,\n"
    "parallelism +-1, checkpoint interval, DFS bandwidth and streams, link latency.\n"
    "Every run must meet the scenario's expectations, end every job in its expected\n"
    "state before the deadline, be exactly-once, and never run a finished job again.\n"
    "Prints progress and each failing seed with its reason; `shrink --seed N` cuts one\n"
    "down.  Two worker threads (one when the scenario arms failpoints).\n"
    "JSON: {scenario, seeds:[A,B], runs, failures:[{seed, reason, trace_hash}],\n"
    "seeds_per_minute, workers, mode, wall_s}.  Exit: 0 no failing seed, 1 some, 2 bad\n"
    "input, 3 internal error.  --print-variants prints each seed's scenario, runs nothing.\n";

static int print_variants(const struct scn_scenario *s, uint64_t a, uint64_t b)
{
    for (uint64_t seed = a; seed >= a && seed <= b; seed++) {
        struct scn_scenario *v = NULL;
        struct scn_variant_world w;
        char err[256];
        if (scn_explore_variant(s, seed, &v, &w, err, sizeof(err)) < 0) {
            fprintf(stderr, "minicluster explore: seed %llu: %s (this is a bug)\n",
                    (unsigned long long)seed, err);
            return 3;
        }
        printf("# seed %llu: link latency %llu us\n", (unsigned long long)seed,
               (unsigned long long)w.link_latency_ns / 1000);
        scn_scenario_print(stdout, v);
        scn_scenario_free(v);
    }
    return 0;
}

static int parse_range(const char *v, uint64_t *a, uint64_t *b)
{
    const char *dots = strstr(v, "..");
    if (!dots)
        return -EINVAL;
    char first[32];
    size_t n = (size_t)(dots - v);
    if (n == 0 || n >= sizeof(first))
        return -EINVAL;
    memcpy(first, v, n);
    first[n] = 0;
    if (parse_u64(first, a) < 0 || parse_u64(dots + 2, b) < 0 || *b < *a)
        return -EINVAL;
    return 0;
}

int cli_explore(int argc, char **argv)
{
    if (want_help(argc, argv)) {
        printf("%s", explore_usage);
        return 0;
    }
    const char *path = NULL, *json = NULL;
    struct scn_explore_opts o = { .mode = SCN_MODE_SESSION, .progress = stderr };
    bool have_seeds = false, print = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t n;
        if (strcmp(a, "--print-variants") == 0) {
            print = true;
            continue;
        }
        if (a[0] == '-' && !v) {
            fprintf(stderr, "minicluster explore: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--seeds") == 0) {
            if (parse_range(v, &o.first, &o.last) < 0) {
                fprintf(stderr, "minicluster explore: --seeds takes A..B with A <= B, not '%s'\n", v);
                return 2;
            }
            have_seeds = true;
            i++;
        } else if (strcmp(a, "--json") == 0) {
            json = v;
            i++;
        } else if (strcmp(a, "--mode") == 0) {
            if (scn_mode_parse(v, &o.mode) < 0) {
                fprintf(stderr, "minicluster explore: unknown mode '%s' (session, per-job or "
                        "application)\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--workers") == 0 || strcmp(a, "--stop-after") == 0) {
            if (parse_u64(v, &n) < 0 || n > 1000000) {
                fprintf(stderr, "minicluster explore: %s takes a whole number, not '%s'\n", a, v);
                return 2;
            }
            if (a[2] == 'w')
                o.workers = (unsigned)n;
            else
                o.stop_after = (size_t)n;
            i++;
        } else if (a[0] == '-' || path) {
            fprintf(stderr, "minicluster explore: unexpected '%s'\n%s", a, explore_usage);
            return 2;
        } else {
            path = a;
        }
    }
    if (!path || !have_seeds) {
        fprintf(stderr, "minicluster explore: needs a SCENARIO and --seeds A..B\n%s", explore_usage);
        return 2;
    }
    struct scn_scenario *s = load(path);
    if (!s)
        return 2;
    if (print) {
        int prc = print_variants(s, o.first, o.last);
        scn_scenario_free(s);
        return prc;
    }
    char merr[512];
    if (scn_mode_check(s, o.mode, merr, sizeof(merr)) < 0) {
        fprintf(stderr, "%s\n", merr);
        scn_scenario_free(s);
        return 2;
    }
    if (scn_uses_failpoints(s))
        fprintf(stderr, "explore: %s arms libfiu failpoints, which are process-wide: one "
                "worker\n", path);
    struct scn_explore_result res;
    char err[256] = "";
    if (scn_explore(s, &o, &res, err, sizeof(err)) < 0) {
        fprintf(stderr, "minicluster explore: %s\n", err);
        scn_scenario_free(s);
        return 2;
    }
    int rc = res.n_failures ? 1 : 0;
    printf("explore %s: %llu runs on %u worker(s), %.1f s, %.0f seeds/min, %zu failing\n", path,
           (unsigned long long)res.runs, res.workers, res.wall_s, res.seeds_per_minute,
           res.n_failures);
    for (size_t i = 0; i < res.n_failures; i++) {
        printf("  seed %-8llu %s\n", (unsigned long long)res.failures[i].seed,
               res.failures[i].reason);
        if (strncmp(res.failures[i].reason, "internal error", 14) == 0)
            rc = 3;
    }
    if (json) {
        json_t *j = scn_explore_json(s, &o, &res);
        if (json_dump_file(j, json, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
            fprintf(stderr, "minicluster explore: cannot write %s: %s\n", json, strerror(errno));
            rc = 3;
        }
        json_decref(j);
    }
    scn_explore_result_free(&res);
    scn_scenario_free(s);
    return rc;
}

/* ---- shrink ------------------------------------------------------------------ */

static const char shrink_usage[] =
    "usage: minicluster shrink SCENARIO --seed N -o OUT.scn [--mode MODE] [--as-is]\n\n"
    "Takes the failing seed N of `explore SCENARIO` (its variant for N; with --as-is\n"
    "SCENARIO itself run with seed N) and searches for a smaller scenario that fails the\n"
    "same way: the default link latency, fewer faults (halves, then one at a time),\n"
    "fewer TaskManagers, lower parallelism, fewer records.  Writes it to OUT.scn as an\n"
    "ordinary scenario with a comment saying what was removed.  Exit: 0 written, 1 the\n"
    "seed does not fail (nothing written), 2 bad input, 3 internal error.\n";

int cli_shrink(int argc, char **argv)
{
    if (want_help(argc, argv)) {
        printf("%s", shrink_usage);
        return 0;
    }
    const char *path = NULL, *outp = NULL;
    struct scn_shrink_opts o = { .mode = SCN_MODE_SESSION, .progress = stderr };
    bool have_seed = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--as-is") == 0) {
            o.as_is = true;
            continue;
        }
        if (a[0] == '-' && !v) {
            fprintf(stderr, "minicluster shrink: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--seed") == 0) {
            if (parse_u64(v, &o.seed) < 0) {
                fprintf(stderr, "minicluster shrink: --seed takes a whole number, not '%s'\n", v);
                return 2;
            }
            have_seed = true;
            i++;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            outp = v;
            i++;
        } else if (strcmp(a, "--mode") == 0) {
            if (scn_mode_parse(v, &o.mode) < 0) {
                fprintf(stderr, "minicluster shrink: unknown mode '%s'\n", v);
                return 2;
            }
            i++;
        } else if (a[0] == '-' || path) {
            fprintf(stderr, "minicluster shrink: unexpected '%s'\n%s", a, shrink_usage);
            return 2;
        } else {
            path = a;
        }
    }
    if (!path || !have_seed || !outp) {
        fprintf(stderr, "minicluster shrink: needs SCENARIO, --seed N and -o OUT.scn\n%s",
                shrink_usage);
        return 2;
    }
    struct scn_scenario *s = load(path);
    if (!s)
        return 2;
    struct scn_shrink_result res;
    char err[512] = "";
    if (scn_mode_check(s, o.mode, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        scn_scenario_free(s);
        return 2;
    }
    int rc = scn_shrink(s, &o, &res, err, sizeof(err));
    scn_scenario_free(s);
    if (rc < 0) {
        fprintf(stderr, "minicluster shrink: internal error: %s\n", err);
        return 3;
    }
    if (rc == 1) {
        fprintf(stderr, "minicluster shrink: seed %llu does not fail %s in %s mode: nothing to "
                "shrink\n", (unsigned long long)o.seed, path, scn_mode_name(o.mode));
        return 1;
    }
    FILE *f = fopen(outp, "w");
    int wrc = f ? scn_shrink_write(f, path, &o, &res) : -errno;
    if (f && fclose(f) != 0)
        wrc = -EIO;
    if (wrc < 0) {
        fprintf(stderr, "minicluster shrink: cannot write %s: %s\n", outp, strerror(-wrc));
        scn_shrink_result_free(&res);
        return 3;
    }
    printf("shrink: %zu -> %zu faults in %u runs; wrote %s\n  fails: %s\n", res.faults_before,
           res.s->n_faults, res.runs, outp, res.reason);
    scn_shrink_result_free(&res);
    return 0;
}
