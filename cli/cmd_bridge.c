/*
 * cmd_bridge.c - to and from a real Flink cluster: `import PLAN.json|DIR|URL
 * [-o OUT.scn]` and `export SCENARIO --to kubernetes|yarn --mode MODE -o DIR`.
 * The work is in scenarios/import*.c and scenarios/export*.c; this file
 * parses options and prints.  Exit codes as INTERFACE.md: 0 done, 2 usage or
 * bad input (or, with --strict, a fault the target cannot express), 3 a bug.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "scenarios/export.h"
#include "scenarios/import.h"
#include "scenarios/scn.h"

static bool want_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* ---- import ---------------------------------------------------------------------- */

static const char import_usage[] =
    "usage: minicluster import PLAN.json|DIR|URL [-o OUT.scn] [--quiet]\n\n"
    "Writes a scenario from a real Flink job:\n"
    "  PLAN.json  Flink's execution plan (StreamExecutionEnvironment.getExecutionPlan())\n"
    "             or a saved /jobs/JOBID/plan response\n"
    "  DIR        saved REST responses laid out as the paths: DIR/jobs/overview,\n"
    "             DIR/jobs/JOBID/plan, DIR/jobs/JOBID/checkpoints, DIR/jobmanager/config,\n"
    "             DIR/taskmanagers (a .json suffix is allowed)\n"
    "  URL        a running cluster's REST API, e.g. http://localhost:8081\n"
    "The scenario goes to OUT.scn (standard output without -o); what does not carry over\n"
    "exactly is a comment in it and a warning here (--quiet: no warnings).\n"
    "Exit: 0 written, 2 bad input or an address that does not answer, 3 internal error.\n";

int cli_import(int argc, char **argv)
{
    const char *src = NULL, *out = NULL;
    bool quiet = false;
    if (want_help(argc, argv)) {
        fputs(import_usage, stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else if (argv[i][0] == '-' && argv[i][1]) {
            static const char *const opts[] = { "-o", "--quiet", "--help" };
            cli_unknown("minicluster import", "option", argv[i], opts, 3);
            fprintf(stderr, "\n%s", import_usage);
            return 2;
        } else if (!src)
            src = argv[i];
        else {
            fprintf(stderr, "minicluster import: one source only ('%s')\n", argv[i]);
            return 2;
        }
    }
    if (!src) {
        fputs(import_usage, stderr);
        return 2;
    }
    struct scn_import_result r;
    char err[2048];
    int rc = scn_import(src, &r, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        scn_import_result_free(&r);
        return rc == -EPROTO ? 3 : 2;
    }
    if (!quiet)
        for (size_t i = 0; i < r.n_warnings; i++)
            fprintf(stderr, "minicluster import: warning: %s\n", r.warnings[i]);
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "minicluster import: %s: %s\n", out, strerror(errno));
        scn_import_result_free(&r);
        return 2;
    }
    fputs(r.text, f);
    int bad = ferror(f);
    if (out && fclose(f) != 0)
        bad = 1;
    scn_import_result_free(&r);
    if (bad) {
        fprintf(stderr, "minicluster import: cannot write %s\n", out ? out : "standard output");
        return 2;
    }
    if (out && !quiet)
        fprintf(stderr, "minicluster import: wrote %s\n", out);
    return 0;
}

/* ---- export ---------------------------------------------------------------------- */

static const char export_usage[] =
    "usage: minicluster export SCENARIO --to kubernetes --mode session|application -o DIR\n"
    "                          [--strict] [--image IMAGE] [--flink-version v1_20]\n"
    "                          [--jar URI] [--namespace NS] [--store URI]\n"
    "       minicluster export SCENARIO --to yarn --mode session|per-job|application [-o DIR]\n"
    "                          [--store URI]\n\n"
    "kubernetes: manifests for the Flink Kubernetes Operator (FlinkDeployment, and a\n"
    "FlinkSessionJob per job in session mode), Chaos Mesh manifests for the faults, a\n"
    "probe Job, and DIR/README.md with the `kubectl apply` order and what to compare.\n"
    "Per-job mode does not exist on Kubernetes (deprecated in Flink 1.15, removed in 2.0,\n"
    "YARN only): use --to yarn, which prints the `flink run -t yarn-per-job` lines.\n"
    "Faults the target cannot express are listed, never dropped silently; --strict makes\n"
    "them an error.  Exit: 0 written, 2 usage, bad scenario, or --strict and a fault\n"
    "not expressed, 3 internal error.\n"
    "--store URI: where checkpoints, savepoints and HA data go (s3://BUCKET/PATH,\n"
    "hdfs://..., file://...); by default `dfs profile=s3` gives s3://NAME, profile=hdfs\n"
    "and YARN hdfs:///flink/NAME, otherwise a ReadWriteMany volume at /flink-data.\n";

static int export_option(int argc, char **argv, int *i, struct scn_export_opts *o,
                         const char **scenario)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    const char **slot = strcmp(a, "-o") == 0 ? &o->dir : strcmp(a, "--image") == 0 ? &o->image
                      : strcmp(a, "--flink-version") == 0 ? &o->flink_version
                      : strcmp(a, "--jar") == 0 ? &o->jar
                      : strcmp(a, "--namespace") == 0 ? &o->ns
                      : strcmp(a, "--store") == 0 ? &o->store : NULL;
    if (strcmp(a, "--strict") == 0) {
        o->strict = true;
        return 0;
    }
    if (slot || strcmp(a, "--to") == 0 || strcmp(a, "--mode") == 0) {
        if (!v) {
            fprintf(stderr, "minicluster export: %s needs a value\n", a);
            return -1;
        }
        (*i)++;
        if (slot) {
            *slot = v;
            return 0;
        }
        if (strcmp(a, "--to") == 0)
            return scn_export_target_parse(v, &o->to) == 0 ? 0
                 : (fprintf(stderr, "minicluster export: --to %s: use kubernetes or yarn\n", v), -1);
        return scn_export_mode_parse(v, &o->mode) == 0 ? 0
             : (fprintf(stderr, "minicluster export: --mode %s: use session, application or "
                        "per-job\n", v), -1);
    }
    if (a[0] == '-' && a[1]) {
        static const char *const opts[] = { "-o", "--image", "--flink-version", "--jar",
                                            "--namespace", "--store", "--strict", "--to",
                                            "--mode", "--help" };
        cli_unknown("minicluster export", "option", a, opts, sizeof(opts) / sizeof(opts[0]));
        return -1;
    }
    if (*scenario) {
        fprintf(stderr, "minicluster export: one scenario only ('%s')\n", a);
        return -1;
    }
    *scenario = a;
    return 0;
}

int cli_export(int argc, char **argv)
{
    struct scn_export_opts o;
    const char *path = NULL;
    scn_export_opts_init(&o);
    if (want_help(argc, argv)) {
        fputs(export_usage, stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++)
        if (export_option(argc, argv, &i, &o, &path) < 0) {
            fputs("\n", stderr);
            fputs(export_usage, stderr);
            return 2;
        }
    if (!path || o.to == SCN_EXPORT_TO_NONE || o.mode == SCN_MODE_ANY) {
        fprintf(stderr, "minicluster export: %s\n\n", !path ? "which scenario?"
                : o.to == SCN_EXPORT_TO_NONE ? "--to is required" : "--mode is required");
        fputs(export_usage, stderr);
        return 2;
    }
    struct scn_diags d;
    struct scn_scenario *s = NULL;
    scn_diags_init(&d);
    int rc = scn_parse_file(path, &s, &d);
    scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    if (rc < 0)
        return 2;
    struct scn_export_report r;
    char err[1024];
    rc = scn_export(s, &o, stdout, &r, err, sizeof(err));
    scn_scenario_free(s);
    if (rc < 0) {
        fprintf(stderr, "minicluster export: %s\n", err);
        scn_export_report_free(&r);
        return rc == -EPROTO ? 3 : 2;
    }
    for (size_t i = 0; i < r.n_approximated; i++)
        fprintf(stderr, "minicluster export: approximated: %s\n", r.approximated[i]);
    for (size_t i = 0; i < r.n_unexpressed; i++)
        fprintf(stderr, "minicluster export: %s: %s\n", o.strict ? "error" : "not expressed",
                r.unexpressed[i]);
    int code = o.strict && r.n_unexpressed ? 2 : 0;
    if (code)
        fprintf(stderr, "minicluster export: --strict: %zu fault%s the target cannot express\n",
                r.n_unexpressed, r.n_unexpressed == 1 ? "" : "s");
    scn_export_report_free(&r);
    return code;
}
