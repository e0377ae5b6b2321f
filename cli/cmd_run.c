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
};

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
        } else if (a[0] == '-') {
            fprintf(stderr, "minicluster %s: unknown option '%s'\n%s", cmd, a, usage);
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
    "                       [--workdir DIR] [--keep] [--check-determinism]\n\n"
    "Runs SCENARIO (the built-in default without one) in one deployment mode (session by\n"
    "default) and checks its expectations.  --trace FILE (sim) writes every event, after\n"
    "a header `minicluster replay FILE` re-runs from.  --check-determinism (sim) runs\n"
    "twice and compares the trace hashes.  Exit: 0 all hold, 1 one failed, 2 bad input,\n"
    "3 internal error (a nondeterministic simulation included).\n";

int cli_run(int argc, char **argv)
{
    struct common c = { .world = RT_WORLD_REAL, .mode = SCN_MODE_SESSION };
    int p = parse("run", run_usage, argc, argv, &c);
    if (p)
        return p == 1 ? 0 : 2;
    struct scn_scenario *s = load(c.scenario);
    if (!s)
        return 2;
    struct scn_run_opts o = { .mode = c.mode, .world = c.world, .has_seed = c.has_seed,
                              .seed = c.seed, .trace_path = c.trace, .workdir = c.workdir,
                              .keep = c.keep, .quiet = c.quiet,
                              .check_determinism = c.check_determinism };
    if (c.check_determinism && c.world != RT_WORLD_SIM) {
        fprintf(stderr, "minicluster run: --check-determinism needs --world sim (the real "
                "world differs run to run by nature)\n");
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
    if (rc < 0) {
        fprintf(stderr, "minicluster run: internal error: %s (this is a bug)\n", err);
        scn_scenario_free(s);
        return 3;
    }
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
    "                           [--quiet] [--workdir DIR] [--keep]\n\n"
    "Runs SCENARIO (the built-in default without one) once per deployment mode with the\n"
    "same seed and workload, and shows the figures side by side (best value marked *).\n"
    "Exit: 0 every expectation holds in every mode, 1 one failed, 2 bad input, 3 internal.\n";

int cli_compare(int argc, char **argv)
{
    struct common c = { .world = RT_WORLD_REAL, .modes = "session,per-job,application" };
    int p = parse("compare", compare_usage, argc, argv, &c);
    if (p)
        return p == 1 ? 0 : 2;
    enum scn_mode modes[3];
    size_t nmodes = 0;
    char list[64];
    snprintf(list, sizeof(list), "%s", c.modes);
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (nmodes == 3 || parse_mode(t, &modes[nmodes]) < 0) {
            fprintf(stderr, "minicluster compare: bad --modes '%s' (a list of session, per-job, "
                    "application)\n", c.modes);
            return 2;
        }
        nmodes++;
    }
    struct scn_scenario *s = load(c.scenario);
    if (!s)
        return 2;
    uint64_t seed = c.has_seed ? c.seed : s->has_seed ? s->seed : 1;
    json_t *modes_obj = json_object();
    int worst = 0;
    for (size_t m = 0; m < nmodes; m++) {
        struct scn_run_opts o = { .mode = modes[m], .world = c.world, .has_seed = true,
                                  .seed = seed, .workdir = NULL, .keep = c.keep, .quiet = c.quiet };
        json_t *run = NULL;
        char err[512] = "";
        if (scn_mode_check(s, modes[m], err, sizeof(err)) < 0) {
            fprintf(stderr, "%s (the comparison goes on without it)\n", err);
            continue;
        }
        int rc = scn_run(s, &o, &run, err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "minicluster compare: internal error in %s mode: %s (this is a bug)\n",
                    scn_mode_name(modes[m]), err);
            worst = 3;
            continue;
        }
        if (rc > worst)
            worst = rc;
        json_object_set_new(modes_obj, scn_mode_name(modes[m]), run);
    }
    json_t *cmp = json_pack("{s:s, s:I, s:s, s:o}", "scenario", s->name, "seed", (json_int_t)seed,
                            "world", c.world == RT_WORLD_SIM ? "sim" : "real", "modes", modes_obj);
    json_object_set_new(cmp, "target", s->cluster.target == SCN_DEPLOY_NONE ? json_null()
                        : json_string(scn_target_name(s->cluster.target)));
    printf("\n");
    if (s->cluster.target != SCN_DEPLOY_NONE)
        printf("deployment target: %s (TaskManagers %s in every mode)\n",
               scn_target_name(s->cluster.target),
               s->cluster.target == SCN_DEPLOY_STANDALONE ? "fixed" : "on demand");
    report_text_table(stdout, cmp);
    const char *key;
    json_t *run;
    json_object_foreach(modes_obj, key, run) {
        printf("\nexpectations (%s):\n", key);
        print_expectations(run);
    }
    printf("seed: %llu\n", (unsigned long long)seed);
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
