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
            static const char *const opts[] = { "--help", "--quiet" };
            return cli_unexpected("minicluster replay", argv[i], opts, 2, replay_usage);
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
    "                           [--workers N] [--stop-after N] [--print-variants]\n"
    "                           [--safety-only | --fail-on CLASSES] [--shard K/N]\n"
    "       minicluster explore merge REPORT.json... [--json FILE] [--quiet]\n\n"
    "Runs SCENARIO once per seed in the sim world (session mode unless --mode), each\n"
    "seed randomising the world within the scenario's fault model: fault times and\n"
    "checkpoint numbers, which TaskManager or subtask a fault hits, taskmanagers +-1,\n"
    "parallelism +-1, checkpoint interval, DFS bandwidth and streams, link latency.\n"
    "No variant has fewer slots than its jobs need before the first fault.\n"
    "Each failing seed is classified:\n"
    "  safety       lost, duplicated or wrong output; a finished job run again; the run\n"
    "               broke (internal error)\n"
    "  liveness     the deadline passed, or a job ended short of its expected state;\n"
    "               the reason says why (e.g. \"2 slots short after the kill\")\n"
    "  expectation  one of the scenario's own `expect` lines\n"
    "--safety-only ignores the scenario's expectations and fails only on safety;\n"
    "--fail-on safety,liveness picks the classes that fail the command (default: all).\n"
    "--shard K/N runs every N-th seed of the range from its K-th (1 <= K <= N), so N\n"
    "machines run the range once between them; `explore merge` combines their JSON\n"
    "reports (docs/explore.md).  Prints progress, each failing seed with its class and\n"
    "reason, and the count per class; `shrink --seed N` cuts one down.  Two worker\n"
    "threads (one when the scenario arms failpoints).\n"
    "JSON: {scenario, scenario_hash, seeds:[A,B], shard:[K,N], runs, mode, classes:\n"
    "{safety, liveness, expectation}, failing, fail_on, safety_only, failures:[{seed,\n"
    "class, reason, trace_hash}], seeds_per_minute, workers, wall_s}.  Exit: 0 no seed\n"
    "fails in a class asked for, 1 some do, 2 bad input, 3 internal error.\n"
    "--print-variants prints each seed's scenario, runs nothing.\n";

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

/* K/N with 1 <= K <= N. */
static int parse_shard(const char *v, uint32_t *k, uint32_t *n)
{
    const char *slash = strchr(v, '/');
    char first[32];
    uint64_t a, b;
    if (!slash || (size_t)(slash - v) >= sizeof(first) || slash == v)
        return -EINVAL;
    memcpy(first, v, (size_t)(slash - v));
    first[slash - v] = 0;
    if (parse_u64(first, &a) < 0 || parse_u64(slash + 1, &b) < 0 || b < 1 || a < 1 || a > b ||
        b > UINT32_MAX)
        return -EINVAL;
    *k = (uint32_t)a;
    *n = (uint32_t)b;
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

/* "failing: 0 safety, 2 liveness, 5 expectation (counted: safety)" */
static void print_classes(const uint64_t *by, unsigned mask, bool safety_only)
{
    printf("  failing seeds: %llu safety, %llu liveness, %llu expectation",
           (unsigned long long)by[SCN_CLASS_SAFETY], (unsigned long long)by[SCN_CLASS_LIVENESS],
           (unsigned long long)by[SCN_CLASS_EXPECTATION]);
    if (mask != SCN_CLASSES_ALL) {
        printf(" (failing the command: ");
        for (int c = SCN_CLASS_SAFETY, n = 0; c < SCN_CLASS_COUNT; c++)
            if (mask & SCN_CLASS_BIT(c))
                printf("%s%s", n++ ? ", " : "", scn_class_name((enum scn_fail_class)c));
        printf("%s)", safety_only ? "; expectations not consulted" : "");
    }
    printf("\n");
}

static int explore_merge(int argc, char **argv)
{
    const char *json = NULL;
    bool quiet = false;
    const char **names = calloc((size_t)argc, sizeof(*names));
    json_t **reports = calloc((size_t)argc, sizeof(*reports));
    size_t n = 0;
    int rc = 0;
    if (!names || !reports)
        abort();
    for (int i = 1; i < argc && rc == 0; i++) {
        if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (argv[i][0] == '-') {
            static const char *const opts[] = { "--json", "--quiet" };
            cli_unknown("minicluster explore merge", "option", argv[i], opts, 2);
            fputs(explore_usage, stderr);
            rc = 2;
        } else {
            json_error_t je;
            reports[n] = json_load_file(argv[i], 0, &je);
            if (!reports[n]) {
                fprintf(stderr, "minicluster explore merge: %s:%d:%d: %s\n", argv[i], je.line,
                        je.column, je.text);
                rc = 2;
            } else {
                names[n++] = argv[i];
            }
        }
    }
    if (rc == 0 && n == 0) {
        fprintf(stderr, "minicluster explore merge: which reports?\n%s", explore_usage);
        rc = 2;
    }
    json_t *m = NULL;
    char err[512] = "";
    if (rc == 0 && scn_explore_merge(reports, names, n, &m, err, sizeof(err)) < 0) {
        fprintf(stderr, "minicluster explore merge: %s\n", err);
        rc = 2;
    }
    if (rc == 0) {
        uint64_t by[SCN_CLASS_COUNT] = { 0 };
        unsigned mask = 0;
        size_t i;
        json_t *f;
        json_t *classes = json_object_get(m, "classes");
        for (int c = SCN_CLASS_SAFETY; c < SCN_CLASS_COUNT; c++)
            by[c] = (uint64_t)json_integer_value(
                json_object_get(classes, scn_class_name((enum scn_fail_class)c)));
        json_array_foreach(json_object_get(m, "fail_on"), i, f) {
            unsigned b;
            if (scn_classes_parse(json_string_value(f), &b) == 0)
                mask |= b;
        }
        printf("explore merge: %zu report(s) of %s (%s mode): %lld runs, %.0f seeds/min over "
               "%.1f s\n", n, json_string_value(json_object_get(m, "scenario")),
               json_string_value(json_object_get(m, "mode")),
               (long long)json_integer_value(json_object_get(m, "runs")),
               json_number_value(json_object_get(m, "seeds_per_minute")),
               json_number_value(json_object_get(m, "wall_s")));
        print_classes(by, mask, json_is_true(json_object_get(m, "safety_only")));
        const json_t *shard0 = json_object_get(json_array_get(json_object_get(m, "parts"), 0),
                                               "shard");
        json_array_foreach(json_object_get(m, "missing_shards"), i, f)
            printf("  shard %lld/%lld is missing: its seeds did not run\n",
                   (long long)json_integer_value(f),
                   (long long)json_integer_value(json_array_get(shard0, 1)));
        json_array_foreach(json_object_get(m, "failures"), i, f)
            if (!quiet)
                printf("  seed %-8lld %-11s %s\n", (long long)json_integer_value(
                       json_object_get(f, "seed")), json_string_value(json_object_get(f, "class")),
                       json_string_value(json_object_get(f, "reason")));
        rc = json_integer_value(json_object_get(m, "failing")) ? 1 : 0;
        if (json && json_dump_file(m, json, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
            fprintf(stderr, "minicluster explore merge: cannot write %s: %s\n", json,
                    strerror(errno));
            rc = 3;
        }
    }
    json_decref(m);
    for (size_t i = 0; i < n; i++)
        json_decref(reports[i]);
    free(reports);
    free(names);
    return rc;
}

int cli_explore(int argc, char **argv)
{
    if (want_help(argc, argv)) {
        printf("%s", explore_usage);
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "merge") == 0)
        return explore_merge(argc - 1, argv + 1);
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
        if (strcmp(a, "--safety-only") == 0) {
            o.safety_only = true;
            continue;
        }
        /* The options with a value, NULL, then the others (for "did you mean"). */
        static const char *const valued[] = { "--seeds", "--shard", "--fail-on", "--json",
                                              "--mode", "--workers", "--stop-after", NULL,
                                              "--print-variants", "--safety-only", "--help" };
        if (!v && cli_is_one_of(a, valued)) {
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
        } else if (strcmp(a, "--shard") == 0) {
            if (parse_shard(v, &o.shard_k, &o.shard_n) < 0) {
                fprintf(stderr, "minicluster explore: --shard takes K/N with 1 <= K <= N "
                        "(shard K of N), not '%s'\n", v);
                return 2;
            }
            i++;
        } else if (strcmp(a, "--fail-on") == 0) {
            if (scn_classes_parse(v, &o.fail_on) < 0) {
                fprintf(stderr, "minicluster explore: --fail-on takes classes separated by "
                        "commas (safety, liveness, expectation), not '%s'\n", v);
                return 2;
            }
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
            return cli_unexpected("minicluster explore", a, valued,
                                  sizeof(valued) / sizeof(valued[0]), explore_usage);
        } else {
            path = a;
        }
    }
    if (!path || !have_seeds) {
        fprintf(stderr, "minicluster explore: needs a SCENARIO and --seeds A..B\n%s", explore_usage);
        return 2;
    }
    if (o.safety_only && o.fail_on && o.fail_on != SCN_CLASS_BIT(SCN_CLASS_SAFETY)) {
        fprintf(stderr, "minicluster explore: --safety-only fails on safety alone; drop "
                "--fail-on or --safety-only\n");
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
    int rc = res.counted ? 1 : 0;
    char shard[48] = "";
    if (o.shard_n)
        snprintf(shard, sizeof(shard), " (shard %u/%u)", o.shard_k, o.shard_n);
    printf("explore %s%s: %llu runs in %s mode on %u worker(s), %.1f s, %.0f seeds/min\n",
           path, shard, (unsigned long long)res.runs, scn_mode_name(o.mode), res.workers,
           res.wall_s, res.seeds_per_minute);
    print_classes(res.by_class, scn_explore_fail_on(&o), o.safety_only);
    for (size_t i = 0; i < res.n_failures; i++) {
        printf("  seed %-8llu %-11s %s\n", (unsigned long long)res.failures[i].seed,
               scn_class_name(res.failures[i].cls), res.failures[i].reason);
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
        /* The options with a value, NULL, then the others (for "did you mean"). */
        static const char *const valued[] = { "--seed", "-o", "--output", "--mode", NULL,
                                              "--as-is", "--help" };
        if (!v && cli_is_one_of(a, valued)) {
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
            return cli_unexpected("minicluster shrink", a, valued,
                                  sizeof(valued) / sizeof(valued[0]), shrink_usage);
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
