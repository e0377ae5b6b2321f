/*
 * cmd_run.c - `minicluster run`, `compare` and `check`: option parsing,
 * progress and summaries on the terminal, JSON and HTML files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "scenarios/report.h"
#include "scenarios/run.h"

struct common {
    const char *scenario, *json, *html, *trace, *workdir;
    const char *modes;
    enum rt_world_kind world;
    bool has_seed, quiet, keep, check_determinism;
    uint64_t seed;
    enum scn_mode mode;
    uint64_t runs;          /* compare --runs N; 0: not given */
    int twin;               /* compare --twin 1, --no-twin 0, neither -1 */
    bool claims;            /* compare --claims */
    /* run only: outside interfaces (docs/rest.md) */
    bool rest, prometheus;
    uint16_t rest_port, prom_port;
    const char *rest_bind, *pause_at;
};

#define MAX_RUNS 1000       /* --runs above this is surely a typo */

static int parse_u64(const char *s, uint64_t *out);

/* A TCP port for --rest/--prometheus: 0 (free ports) to 65535. */
static int parse_port(const char *cmd, const char *opt, const char *v, uint16_t *out)
{
    uint64_t p;
    if (parse_u64(v, &p) < 0 || p > 65535) {
        fprintf(stderr, "minicluster %s: %s takes a port from 0 (free ports) to 65535, not '%s'\n",
                cmd, opt, v);
        return -EINVAL;
    }
    *out = (uint16_t)p;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s)
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_mode(const char *s, enum scn_mode *m)
{
    if (strcmp(s, "session") == 0) *m = SCN_MODE_SESSION;
    else if (strcmp(s, "per-job") == 0) *m = SCN_MODE_PER_JOB;
    else if (strcmp(s, "application") == 0) *m = SCN_MODE_APPLICATION;
    else return -EINVAL;
    return 0;
}

/* Every option parse() takes, for "did you mean"; the last RUN_ONLY are
 * run's alone. */
static const char *const options[] = {
    "--help", "--mode", "--modes", "--world", "--seed", "--json", "--html", "--trace",
    "--workdir", "--quiet", "--keep", "--check-determinism", "--runs", "--twin", "--no-twin",
    "--claims", "--rest", "--prometheus", "--rest-bind", "--pause-at", NULL,
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]) - 1)    /* the NULL ends them */
#define RUN_ONLY 4

/* Parses the options both commands share; returns 0, 1 for --help, or 2. */
static int parse(const char *cmd, const char *usage, int argc, char **argv, struct common *c)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDS_VALUE() do { if (!v) { fprintf(stderr, "minicluster %s: %s needs a value\n", cmd, a); return 2; } i++; } while (0)
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", usage);
            return 1;
        } else if (strcmp(a, "--mode") == 0) {
            NEEDS_VALUE();
            if (parse_mode(v, &c->mode) < 0) {
                fprintf(stderr, "minicluster %s: unknown mode '%s' (session, per-job or application)\n", cmd, v);
                return 2;
            }
        } else if (strcmp(a, "--modes") == 0) {
            NEEDS_VALUE();
            c->modes = v;
        } else if (strcmp(a, "--world") == 0) {
            NEEDS_VALUE();
            if (strcmp(v, "real") == 0) c->world = RT_WORLD_REAL;
            else if (strcmp(v, "sim") == 0) c->world = RT_WORLD_SIM;
            else {
                fprintf(stderr, "minicluster %s: unknown world '%s' (real or sim)\n", cmd, v);
                return 2;
            }
        } else if (strcmp(a, "--seed") == 0) {
            NEEDS_VALUE();
            if (parse_u64(v, &c->seed) < 0) {
                fprintf(stderr, "minicluster %s: --seed takes a whole number, not '%s'\n", cmd, v);
                return 2;
            }
            c->has_seed = true;
        } else if (strcmp(a, "--json") == 0) {
            NEEDS_VALUE();
            c->json = v;
        } else if (strcmp(a, "--html") == 0) {
            NEEDS_VALUE();
            c->html = v;
        } else if (strcmp(a, "--trace") == 0) {
            NEEDS_VALUE();
            c->trace = v;
        } else if (strcmp(a, "--workdir") == 0) {
            NEEDS_VALUE();
            c->workdir = v;
        } else if (strcmp(a, "--quiet") == 0) {
            c->quiet = true;
        } else if (strcmp(a, "--keep") == 0) {
            c->keep = true;
        } else if (strcmp(a, "--check-determinism") == 0) {
            c->check_determinism = true;
        } else if (strcmp(a, "--runs") == 0) {
            NEEDS_VALUE();
            if (parse_u64(v, &c->runs) < 0 || c->runs == 0 || c->runs > MAX_RUNS) {
                fprintf(stderr, "minicluster %s: --runs takes a whole number from 1 to %d, "
                        "not '%s'\n", cmd, MAX_RUNS, v);
                return 2;
            }
        } else if (strcmp(a, "--twin") == 0) {
            c->twin = 1;
        } else if (strcmp(a, "--no-twin") == 0) {
            c->twin = 0;
        } else if (strcmp(a, "--claims") == 0) {
            c->claims = true;
        } else if (strcmp(cmd, "run") == 0 && strcmp(a, "--rest") == 0) {
            NEEDS_VALUE();
            if (parse_port(cmd, a, v, &c->rest_port) < 0)
                return 2;
            c->rest = true;
        } else if (strcmp(cmd, "run") == 0 && strcmp(a, "--prometheus") == 0) {
            NEEDS_VALUE();
            if (parse_port(cmd, a, v, &c->prom_port) < 0)
                return 2;
            c->prometheus = true;
        } else if (strcmp(cmd, "run") == 0 && strcmp(a, "--rest-bind") == 0) {
            NEEDS_VALUE();
            c->rest_bind = v;
        } else if (strcmp(cmd, "run") == 0 && strcmp(a, "--pause-at") == 0) {
            NEEDS_VALUE();
            c->pause_at = v;
        } else if (a[0] == '-' && cli_is_one_of(a, options + N_OPTIONS - RUN_ONLY)) {
            fprintf(stderr, "minicluster %s: %s belongs to `minicluster run`\n%s", cmd, a, usage);
            return 2;
        } else if (a[0] == '-') {
            char who[32];
            snprintf(who, sizeof(who), "minicluster %s", cmd);
            cli_unknown(who, "option", a, options,
                        N_OPTIONS - (strcmp(cmd, "run") == 0 ? 0 : RUN_ONLY));
            fputs(usage, stderr);
            return 2;
        } else if (!c->scenario) {
            c->scenario = a;
        } else {
            fprintf(stderr, "minicluster %s: one scenario at a time ('%s' and '%s')\n", cmd,
                    c->scenario, a);
            return 2;
        }
#undef NEEDS_VALUE
    }
    return 0;
}

/* Loads the scenario (the built-in default without a name); prints every
 * error as FILE:LINE:COL.  NULL on failure. */
static struct scn_scenario *load(const char *path)
{
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = path ? scn_parse_file(path, &s, &d)
                  : scn_parse_text(SCN_DEFAULT_NAME, scn_default_text, strlen(scn_default_text), &s, &d);
    scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    return rc == 0 ? s : NULL;
}

static int write_json(const char *path, json_t *o)
{
    if (!path)
        return 0;
    if (json_dump_file(o, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "minicluster: cannot write %s: %s\n", path, strerror(errno));
        return -EIO;
    }
    return 0;
}

static int write_html(const char *path, json_t *compare)
{
    if (!path)
        return 0;
    FILE *fp = fopen(path, "w");
    char err[200] = "";
    int rc = fp ? report_html_write(fp, compare, err, sizeof(err)) : -errno;
    if (fp && fclose(fp) != 0 && rc == 0)
        rc = -EIO;
    if (rc < 0)
        fprintf(stderr, "minicluster: cannot write %s: %s\n", path, err[0] ? err : strerror(-rc));
    return rc;
}

static void print_expectations(const json_t *run)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(run, "expectations"), i, e)
        printf("  %s %-44s %s\n", json_is_true(json_object_get(e, "ok")) ? "ok  " : "FAIL",
               json_string_value(json_object_get(e, "text")),
               json_string_value(json_object_get(e, "detail")));
}

static const char run_usage[] =
    "usage: minicluster run [SCENARIO] [--mode session|per-job|application] [--world real|sim]\n"
    "                       [--seed N] [--json FILE] [--trace FILE] [--html FILE] [--quiet]\n"
    "                       [--workdir DIR] [--keep] [--check-determinism]\n"
    "                       [--rest PORT] [--prometheus PORT] [--rest-bind ADDR]\n"
    "                       [--pause-at EVENT]\n\n"
    "Runs SCENARIO (the built-in default without one) in one deployment mode (session by\n"
    "default) and checks its expectations.  --trace FILE (sim) writes every event, after\n"
    "a header `minicluster replay FILE` re-runs from.  --check-determinism (sim) runs\n"
    "twice and compares the trace hashes.  Exit: 0 all hold, 1 one failed, 2 bad input,\n"
    "3 internal error (a nondeterministic simulation included).\n\n"
    "--rest PORT serves Flink's REST API v1 from every JobManager (cluster k on PORT+k;\n"
    "0: free ports), --prometheus PORT Prometheus metrics at /metrics; on 127.0.0.1\n"
    "unless --rest-bind ADDR.  Each address is printed (`rest: CLUSTER URL`).  Sim world:\n"
    "they answer with the world stopped, at --pause-at EVENT (e.g. 'checkpoint orders 2\n"
    "done', 'job orders restarting') and after the run, until POST URL/minicluster/resume.\n"
    "See docs/rest.md.\n";

int cli_run(int argc, char **argv)
{
    struct common c = { .world = RT_WORLD_REAL, .mode = SCN_MODE_SESSION, .twin = -1 };
    int p = parse("run", run_usage, argc, argv, &c);
    if (p)
        return p == 1 ? 0 : 2;
    if (c.runs || c.twin >= 0 || c.claims) {
        fprintf(stderr, "minicluster run: --runs, --twin, --no-twin and --claims belong to "
                "`minicluster compare`\n");
        return 2;
    }
    struct scn_scenario *s = load(c.scenario);
    if (!s)
        return 2;
    struct scn_run_opts o = { .mode = c.mode, .world = c.world, .has_seed = c.has_seed,
                              .seed = c.seed, .trace_path = c.trace, .workdir = c.workdir,
                              .keep = c.keep, .quiet = c.quiet,
                              .check_determinism = c.check_determinism };
    struct scn_event pause_ev;
    if (c.pause_at) {
        char perr[300];
        if (c.world != RT_WORLD_SIM || (!c.rest && !c.prometheus)) {
            fprintf(stderr, "minicluster run: --pause-at needs --world sim and --rest or "
                    "--prometheus (the real world is served live)\n");
            scn_scenario_free(s);
            return 2;
        }
        if (scn_pause_parse(s, c.pause_at, &pause_ev, perr, sizeof(perr)) < 0) {
            fprintf(stderr, "minicluster run: --pause-at '%s': %s\n", c.pause_at, perr);
            scn_scenario_free(s);
            return 2;
        }
        o.pause_at = &pause_ev;
        o.pause_text = c.pause_at;
    }
    o.rest = c.rest;
    o.prometheus = c.prometheus;
    o.rest_port = c.rest_port;
    o.prom_port = c.prom_port;
    o.rest_bind = c.rest_bind;
    if (c.check_determinism && c.world != RT_WORLD_SIM) {
        fprintf(stderr, "minicluster run: --check-determinism needs --world sim (the real "
                "world differs run to run by nature)\n");
        scn_scenario_free(s);
        return 2;
    }
    char fit[768];
    if (c.world == RT_WORLD_REAL && scn_run_fit(s, c.workdir, NULL, fit, sizeof(fit)) < 0) {
        fprintf(stderr, "%s\n", fit);     /* refused before it starts */
        scn_scenario_free(s);
        return 2;
    }
    json_t *run = NULL;
    char err[512] = "";
    if (scn_mode_check(s, c.mode, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        scn_scenario_free(s);
        return 2;
    }
    int rc = scn_run(s, &o, &run, err, sizeof(err));
    if (rc < 0 && SCN_RUN_IS_BIND_ERROR(rc)) {
        fprintf(stderr, "minicluster run: %s\n", err);
        scn_scenario_free(s);
        return 2;
    }
    if (rc < 0) {
        fprintf(stderr, "minicluster run: internal error: %s (this is a bug)\n", err);
        scn_scenario_free(s);
        return 3;
    }
    scn_run_impact(run, NULL, s->n_faults ? "`run` runs no twin: `compare` pairs each faulted "
                   "run with its no-fault twin" : "the scenario has no fault");
    json_t *cmp = json_pack("{s:s, s:I, s:s, s:{s:O}}", "scenario", s->name,
                            "seed", json_object_get(run, "seed") ?
                                json_integer_value(json_object_get(run, "seed")) : 0,
                            "world", c.world == RT_WORLD_SIM ? "sim" : "real",
                            "modes", scn_mode_name(c.mode), run);
    printf("\n");
    if (s->cluster.target != SCN_DEPLOY_NONE)
        printf("deployment target: %s (TaskManagers %s in every mode)\n",
               scn_target_name(s->cluster.target),
               s->cluster.target == SCN_DEPLOY_STANDALONE ? "fixed" : "on demand");
    report_text_table(stdout, cmp);
    printf("\nexpectations (%s):\n", scn_mode_name(c.mode));
    print_expectations(run);
    printf("seed: %lld\ntrace: %s\n", (long long)json_integer_value(json_object_get(run, "seed")),
           json_string_value(json_object_get(run, "trace_hash")));
    if (write_json(c.json, run) < 0 || write_html(c.html, cmp) < 0)
        rc = 3;
    json_decref(cmp);
    json_decref(run);
    scn_scenario_free(s);
    return rc;
}

static const char compare_usage[] =
    "usage: minicluster compare [SCENARIO] [--modes session,per-job,application]\n"
    "                           [--world real|sim] [--seed N] [--json FILE] [--html FILE]\n"
    "                           [--quiet] [--workdir DIR] [--keep]\n"
    "                           [--runs N] [--twin|--no-twin] [--claims]\n\n"
    "Runs SCENARIO (the built-in default without one) once per deployment mode with the\n"
    "same seed and workload, and shows the figures side by side (best value marked *).\n"
    "--runs N: N seeds (seed, seed+1, ...) in the sim world, N repetitions with the modes\n"
    "interleaved in the real world; every figure is then a median with its spread, and a\n"
    "mode is marked best only when it wins beyond the spread (the rule is printed).\n"
    "--twin runs each faulted run's no-fault twin (same scenario and seed, faults\n"
    "removed) and reports the fault's own cost; the default in the sim world, where it is\n"
    "cheap (--no-twin turns it off).  --claims checks the deployment-mode claims (a)-(f)\n"
    "of the guide against the spread and prints which this run showed, by what margin.\n"
    "Exit: 0 every expectation holds in every mode, 1 one failed, 2 bad input, 3 internal.\n";

/* Sets the number at a dotted path of o when one is there (a median over a
 * sample's value); anything else is left alone. */
static void set_number(json_t *o, const char *path, double v)
{
    char key[96];
    const char *p = path;
    for (;;) {
        size_t n = strcspn(p, ".");
        if (n >= sizeof(key) || !json_is_object(o))
            return;
        memcpy(key, p, n);
        key[n] = '\0';
        if (!p[n]) {
            /* A count stays an integer when its median is whole (odd N). */
            const json_t *old = json_object_get(o, key);
            if (json_is_integer(old) && v == (double)(json_int_t)v)
                json_object_set_new(o, key, json_integer((json_int_t)v));
            else if (json_is_number(old))
                json_object_set_new(o, key, json_real(v));
            return;
        }
        o = json_object_get(o, key);
        p += n + 1;
    }
}

/* A mode's entry for N samples: the first sample's object (its charts),
 * its figures replaced by the medians, with every sample kept.  Samples
 * after the first drop their time series: the file stays small, and the
 * figures - what a spread is about - are all there. */
static json_t *mode_entry(json_t *samples)
{
    json_t *first = json_array_get(samples, 0);
    json_t *entry = json_deep_copy(first);
    json_object_del(first, "twin_series");     /* the entry draws it; once is enough */
    for (size_t i = 1; i < json_array_size(samples); i++) {
        json_t *x = json_array_get(samples, i);
        json_object_del(x, "timeline");
        json_object_del(x, "dfs_series");
        json_object_del(x, "probe_series");
    }
    json_object_set(entry, "samples", samples);
    return entry;
}

/* With samples: how many runs kept every expectation, and what failed in
 * the others (the first run's list is printed above). */
static void print_sample_failures(const json_t *entry)
{
    const json_t *samples = json_object_get(entry, "samples");
    size_t n = json_array_size(samples), ok = 0, i, k;
    json_t *s, *e;
    if (n < 2)
        return;
    json_array_foreach(samples, i, s)
        ok += json_is_true(json_object_get(s, "ok"));
    printf("  every expectation held in %zu of %zu runs\n", ok, n);
    json_array_foreach(samples, i, s) {
        if (i == 0 || json_is_true(json_object_get(s, "ok")))
            continue;
        json_array_foreach(json_object_get(s, "expectations"), k, e)
            if (!json_is_true(json_object_get(e, "ok")))
                printf("  FAIL (seed %lld) %s: %s\n",
                       (long long)json_integer_value(json_object_get(s, "seed")),
                       json_string_value(json_object_get(e, "text")),
                       json_string_value(json_object_get(e, "detail")));
    }
}

static void medians(json_t *modes_obj)
{
    const char *key, *fig;
    json_t *entry, *sp;
    json_object_foreach(modes_obj, key, entry)
        json_object_foreach(json_object_get(entry, "spread"), fig, sp)
            set_number(entry, fig, json_number_value(json_object_get(sp, "median")));
}

struct cmp_plan {
    const struct scn_scenario *s;
    struct common *c;
    enum scn_mode modes[3];
    size_t nmodes;
    uint64_t seed, runs;
    bool twin;
    const char *no_twin_why;
};

/* One faulted run (and its twin); returns the run object or NULL, worst
 * updated with its outcome. */
static json_t *one_run(const struct cmp_plan *pl, enum scn_mode mode, uint64_t seed, bool first,
                       int *worst)
{
    struct scn_run_opts o = { .mode = mode, .world = pl->c->world, .has_seed = true,
                              .seed = seed, .keep = pl->c->keep,
                              .quiet = pl->c->quiet || pl->runs > 1 };
    json_t *run = NULL, *twin = NULL;
    char err[256] = "";
    int rc = scn_run(pl->s, &o, &run, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "minicluster compare: internal error in %s mode: %s (this is a bug)\n",
                scn_mode_name(mode), err);
        *worst = 3;
        return NULL;
    }
    if (rc > *worst)
        *worst = rc;
    if (pl->twin) {
        o.twin = true;
        o.quiet = true;
        if (scn_run(pl->s, &o, &twin, err, sizeof(err)) < 0) {
            fprintf(stderr, "minicluster compare: internal error in the twin of %s mode: %s "
                    "(this is a bug)\n", scn_mode_name(mode), err);
            *worst = 3;
        }
    }
    scn_run_impact(run, twin, twin ? NULL : pl->no_twin_why ? pl->no_twin_why
                                                            : "the twin failed to run");
    if (twin && first)
        json_object_set_new(run, "twin_series", json_pack("{s:O, s:O}",
            "probe_series", json_object_get(twin, "probe_series"),
            "dfs_series", json_object_get(twin, "dfs_series")));
    json_decref(twin);
    return run;
}

static json_t *run_all(const struct cmp_plan *pl, int *worst)
{
    json_t *samples[3];
    for (size_t m = 0; m < pl->nmodes; m++)
        samples[m] = json_array();
    bool sim = pl->c->world == RT_WORLD_SIM;
    /* Repetitions outermost: in the real world the modes interleave, so a
     * burst of load on the machine falls on every mode alike. */
    for (uint64_t k = 0; k < pl->runs; k++)
        for (size_t m = 0; m < pl->nmodes; m++) {
            uint64_t seed = sim ? pl->seed + k : pl->seed;
            json_t *run = one_run(pl, pl->modes[m], seed, k == 0, worst);
            if (pl->runs > 1 && !pl->c->quiet)
                fprintf(stderr, "[compare] run %llu/%llu %-11s seed %llu: %s (%.1f s wall)\n",
                        (unsigned long long)k + 1, (unsigned long long)pl->runs,
                        scn_mode_name(pl->modes[m]), (unsigned long long)seed,
                        !run ? "internal error" : json_is_true(json_object_get(run, "ok"))
                                                      ? "ok" : "expectation failed",
                        run ? (double)json_integer_value(json_object_get(run, "wall_ms")) / 1e3
                            : 0.0);
            if (run)
                json_array_append_new(samples[m], run);
        }
    json_t *modes_obj = json_object();
    for (size_t m = 0; m < pl->nmodes; m++) {
        if (json_array_size(samples[m]) == 0) {
            json_decref(samples[m]);
            continue;
        }
        json_t *entry = pl->runs > 1 ? mode_entry(samples[m])
                                     : json_incref(json_array_get(samples[m], 0));
        json_decref(samples[m]);
        json_object_set_new(modes_obj, scn_mode_name(pl->modes[m]), entry);
    }
    return modes_obj;
}

int cli_compare(int argc, char **argv)
{
    struct common c = { .world = RT_WORLD_REAL, .modes = "session,per-job,application",
                        .twin = -1 };
    int p = parse("compare", compare_usage, argc, argv, &c);
    if (p)
        return p == 1 ? 0 : 2;
    struct cmp_plan pl = { .c = &c, .runs = c.runs ? c.runs : 1 };
    char list[64];
    snprintf(list, sizeof(list), "%s", c.modes);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (pl.nmodes == 3 || parse_mode(t, &pl.modes[pl.nmodes]) < 0) {
            fprintf(stderr, "minicluster compare: bad --modes '%s' (a list of session, per-job, "
                    "application)\n", c.modes);
            return 2;
        }
        pl.nmodes++;
    }
    if (c.check_determinism || c.trace) {
        fprintf(stderr, "minicluster compare: --check-determinism and --trace belong to "
                "`minicluster run`\n");
        return 2;
    }
    struct scn_scenario *s = load(c.scenario);
    if (!s)
        return 2;
    char fit[768];
    if (c.world == RT_WORLD_REAL && scn_run_fit(s, c.workdir, NULL, fit, sizeof(fit)) < 0) {
        fprintf(stderr, "%s\n", fit);     /* refused before it starts */
        scn_scenario_free(s);
        return 2;
    }
    pl.s = s;
    /* A mode the deployment target does not have (per-job on kubernetes)
     * is left out, and the comparison goes on without it. */
    size_t kept = 0;
    for (size_t m = 0; m < pl.nmodes; m++) {
        char merr[512];
        if (scn_mode_check(s, pl.modes[m], merr, sizeof(merr)) < 0) {
            fprintf(stderr, "%s (the comparison goes on without it)\n", merr);
            continue;
        }
        pl.modes[kept++] = pl.modes[m];
    }
    pl.nmodes = kept;
    pl.seed = c.has_seed ? c.seed : s->has_seed ? s->seed : 1;
    /* Twins are the default where they are cheap: the sim world. */
    pl.twin = c.twin >= 0 ? c.twin == 1 : c.world == RT_WORLD_SIM;
    if (c.twin == 0)
        pl.no_twin_why = "--no-twin: no twin was run";
    else if (!pl.twin)
        pl.no_twin_why = "real world: twins are not run by default (--twin runs them)";
    if (pl.twin && s->n_faults == 0) {
        pl.twin = false;
        pl.no_twin_why = "the scenario has no fault: a twin would be the same run";
        if (c.twin == 1)
            fprintf(stderr, "minicluster compare: note: --twin: %s has no fault, so there is "
                    "no fault's cost to measure; running without twins\n", s->name);
    }
    int worst = 0;
    json_t *modes_obj = run_all(&pl, &worst);
    json_t *cmp = json_pack("{s:s, s:I, s:s, s:I, s:o}", "scenario", s->name,
                            "seed", (json_int_t)pl.seed,
                            "world", c.world == RT_WORLD_SIM ? "sim" : "real",
                            "runs", (json_int_t)pl.runs, "modes", modes_obj);
    json_object_set_new(cmp, "target", s->cluster.target == SCN_DEPLOY_NONE ? json_null()
                        : json_string(scn_target_name(s->cluster.target)));
    char err[200] = "";
    if (report_spread_annotate(cmp, err, sizeof(err)) < 0) {
        fprintf(stderr, "minicluster compare: internal error: %s (this is a bug)\n", err);
        worst = 3;
    }
    if (pl.runs > 1)
        medians(modes_obj);
    printf("\n");
    if (s->cluster.target != SCN_DEPLOY_NONE)
        printf("deployment target: %s (TaskManagers %s in every mode)\n",
               scn_target_name(s->cluster.target),
               s->cluster.target == SCN_DEPLOY_STANDALONE ? "fixed" : "on demand");
    report_text_table(stdout, cmp);
    const char *key;
    json_t *run;
    json_object_foreach(modes_obj, key, run) {
        printf("\nexpectations (%s%s):\n", key, pl.runs > 1 ? ", first run" : "");
        print_expectations(run);
        print_sample_failures(run);
    }
    if (pl.runs > 1)
        printf("seeds: %llu..%llu\n", (unsigned long long)pl.seed,
               (unsigned long long)(pl.seed + (c.world == RT_WORLD_SIM ? pl.runs - 1 : 0)));
    else
        printf("seed: %llu\n", (unsigned long long)pl.seed);
    if (c.claims)
        report_claims(stdout, cmp);
    if (write_json(c.json, cmp) < 0 || write_html(c.html, cmp) < 0)
        worst = 3;
    json_decref(cmp);
    scn_scenario_free(s);
    return worst;
}

int cli_check(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        printf("usage: minicluster check SCENARIO...\n\nParses and validates scenario files; "
               "prints every error as FILE:LINE:COL.\nExit: 0 all valid, 2 an error.\n");
        return argc < 2 ? 2 : 0;
    }
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1]) {     /* "-" alone may be a file's name */
            static const char *const opts[] = { "--help" };
            cli_unknown("minicluster check", "option", argv[i], opts, 1);
            return 2;
        }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct scn_scenario *s = load(argv[i]);
        if (!s) {
            rc = 2;
            continue;
        }
        printf("%s: ok (%zu jobs, %zu applications, %zu faults, %zu expectations)\n", argv[i],
               s->n_jobs, s->n_apps, s->n_faults, s->n_expects);
        scn_scenario_free(s);
    }
    return rc;
}
