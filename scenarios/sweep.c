/*
 * sweep.c - `minicluster sweep`: every catalogued failpoint failed at every
 * hit (or a sample of them), once and from then on, each run judged (see
 * sweep.h).  Runs one sim world at a time on the caller's thread: the
 * failpoints are armed in libfiu's process-wide table before each run
 * (faults/fp_sweep.h) and the run's end disables them.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faults/faults.h"
#include "faults/fp_sweep.h"
#include "scenarios/explore.h"
#include "scenarios/sweep.h"

#define SLOW_NS_DEFAULT 100000000ull       /* dfs/slow's delay when "failing": 100 ms */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *scn_sweep_outcome_name(enum scn_sweep_outcome o)
{
    static const char *names[] = { "recovered", "failed-clean", "unsafe", "hang", "leak",
                                   "unexplained-failure", "not-fired", "internal-error" };
    return (unsigned)o < SCN_SWEEP_OUTCOMES ? names[o] : "?";
}

static bool good(enum scn_sweep_outcome o)
{
    return o == SCN_SWEEP_RECOVERED || o == SCN_SWEEP_FAILED_CLEAN;
}

size_t scn_sweep_pick(uint64_t hits, uint64_t max, uint64_t **out)
{
    size_t n = (size_t)(max && hits > max ? max : hits);
    *out = calloc(n ? n : 1, sizeof(**out));
    if (!*out)
        abort();
    for (size_t i = 0; i < n; i++)
        (*out)[i] = n == hits ? i + 1
                  : n == 1 ? 1 : 1 + (uint64_t)((double)i * (double)(hits - 1) / (double)(n - 1) + 0.5);
    return n;
}

/* True when the scenario puts a fault of its own on failpoint NAME (then a
 * sweep of it would fight the scenario over libfiu's one entry per name). */
static bool scenario_arms(const struct scn_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->n_faults; i++) {
        const struct scn_fault *f = &s->faults[i];
        if (f->action == SCN_ACT_SLOW_FAILPOINT && strcmp(name, "dfs/slow") == 0)
            return true;
        if (f->action == SCN_ACT_CORRUPT_FAILPOINT && strcmp(name, "dfs/corrupt") == 0)
            return true;
        if (f->action == SCN_ACT_FAIL_TASK && strcmp(name, "task/process") == 0)
            return true;
        if (f->action != SCN_ACT_FAIL_FAILPOINT || !f->failpoint)
            continue;
        size_t n = strlen(f->failpoint);
        if (strcmp(f->failpoint, name) == 0 ||
            (n && f->failpoint[n - 1] == '*' && strncmp(f->failpoint, name, n - 1) == 0))
            return true;
    }
    return false;
}

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "";
}

/* A job that ended short of FINISHED: explained when its last error (or
 * its application's) says why. */
static enum scn_sweep_outcome failed_how(const json_t *run, char *reason, size_t len)
{
    size_t i, k;
    json_t *j, *a;
    json_array_foreach(json_object_get(run, "jobs"), i, j) {
        if (strcmp(str(j, "state"), "FINISHED") == 0)
            continue;
        const char *why = str(j, "error");
        json_array_foreach(json_object_get(run, "applications"), k, a)
            if (!why[0] && strcmp(str(a, "name"), str(j, "application")) == 0)
                why = str(a, "error");
        if (why[0]) {
            snprintf(reason, len, "job %s %s: %s", str(j, "name"), str(j, "state"), why);
            return SCN_SWEEP_FAILED_CLEAN;
        }
    }
    size_t n = strlen(reason);
    snprintf(reason + n, len - n, " (nothing says why)");
    return SCN_SWEEP_UNEXPLAINED;
}

/* The outcome of one finished run (RC and RUN from scn_run). */
static enum scn_sweep_outcome judge(const struct scn_scenario *s, enum scn_mode mode, int rc,
                                    const json_t *run, uint64_t fails, bool deletes_fail,
                                    char *reason, size_t len)
{
    if (rc < 0)
        return SCN_SWEEP_INTERNAL;     /* reason already says */
    enum scn_fail_class c = scn_explore_classify(s, mode, rc, run, true, reason, len);
    if (c == SCN_CLASS_SAFETY)
        return SCN_SWEEP_UNSAFE;
    if (c == SCN_CLASS_LIVENESS && strncmp(reason, "liveness: the deadline passed", 29) == 0)
        return SCN_SWEEP_HANG;
    if (!fails) {
        snprintf(reason, len, "the armed hit never came: the run diverged from the clean run");
        return SCN_SWEEP_NOT_FIRED;
    }
    json_int_t files = json_integer_value(json_object_get(json_object_get(run, "clusters"),
                                                          "lingering_files"));
    if (files > 0) {
        /* With every delete failing the files cannot go; the run says how
         * many stayed.  After one failed delete they must not stay. */
        snprintf(reason, len, "%lld file(s) left after teardown%s", (long long)files,
                 deletes_fail ? ": every delete fails from this hit on" : "");
        return deletes_fail ? SCN_SWEEP_FAILED_CLEAN : SCN_SWEEP_LEAK;
    }
    if (c == SCN_CLASS_LIVENESS)
        return failed_how(run, reason, len);
    snprintf(reason, len, "recovered");
    return SCN_SWEEP_RECOVERED;
}

static int run_once(const struct scn_scenario *s, enum scn_mode mode, json_t **run, char *err,
                    size_t errlen)
{
    struct scn_run_opts ro = { .mode = mode, .world = RT_WORLD_SIM, .quiet = true };
    *run = NULL;
    return scn_run(s, &ro, run, err, errlen);
}

static void *failinfo_for(const char *name, const struct scn_sweep_opts *o)
{
    if (strcmp(name, "dfs/slow") == 0)
        return (void *)(uintptr_t)(o->slow_ns ? o->slow_ns : SLOW_NS_DEFAULT);
    return NULL;    /* the natural errno */
}

static void note(struct scn_sweep_point *p, uint64_t n, bool persistent,
                 enum scn_sweep_outcome out, const char *reason)
{
    struct scn_sweep_note nt = { .n = n, .persistent = persistent, .outcome = out };
    snprintf(nt.reason, sizeof(nt.reason), "%s", reason);
    if (out == SCN_SWEEP_FAILED_CLEAN && !p->example.n)
        p->example = nt;
    if (good(out))
        return;
    p->bad = realloc(p->bad, (p->n_bad + 1) * sizeof(*p->bad));
    if (!p->bad)
        abort();
    p->bad[p->n_bad++] = nt;
}

/* One run with P's N-th hit failing (PERSISTENT: and every later one). */
static void sweep_one(const struct scn_scenario *s, const struct scn_sweep_opts *o,
                      struct scn_sweep_point *p, uint64_t n, bool persistent,
                      struct scn_sweep_result *res)
{
    char reason[256] = "", err[256] = "";
    json_t *run = NULL;
    enum scn_sweep_outcome out;
    int rc = flt_sweep_arm(p->name, n, persistent, failinfo_for(p->name, o), err, sizeof(err));
    if (rc == 0)
        rc = run_once(s, o->mode, &run, err, sizeof(err));
    uint64_t hits, fails;
    flt_sweep_counts(p->name, &hits, &fails);
    flt_sweep_disarm_all();
    if (rc < 0)
        snprintf(reason, sizeof(reason), "internal error: %.200s (this is a bug)", err);
    out = judge(s, o->mode, rc, run, fails, persistent && strcmp(p->name, "dfs/delete") == 0,
                reason, sizeof(reason));
    json_decref(run);
    p->outcomes[persistent][out]++;
    note(p, n, persistent, out, reason);
    res->runs++;
    res->bad += !good(out);
    if (o->progress)
        fprintf(o->progress, "sweep: %s hit %llu %s: %s%s%s\n", p->name, (unsigned long long)n,
                persistent ? "persistent" : "transient", scn_sweep_outcome_name(out),
                out == SCN_SWEEP_RECOVERED ? "" : " -- ", out == SCN_SWEEP_RECOVERED ? "" : reason);
}

/* The points the glob selects, with the clean run's hit counts. */
static int clean_run(const struct scn_scenario *s, const struct scn_sweep_opts *o,
                     struct scn_sweep_result *res, char *err, size_t errlen)
{
    for (const struct flt_failpoint *f = flt_failpoints; f->name; f++) {
        if (o->glob && fnmatch(o->glob, f->name, 0) != 0)
            continue;
        res->points = realloc(res->points, (res->n_points + 1) * sizeof(*res->points));
        if (!res->points)
            abort();
        struct scn_sweep_point *p = &res->points[res->n_points++];
        memset(p, 0, sizeof(*p));
        p->name = f->name;
        char why[200];
        if (scenario_arms(s, f->name))
            p->skipped = "the scenario puts a fault of its own on it";
        else if (flt_sweep_arm(f->name, 0, false, NULL, why, sizeof(why)) < 0)
            p->skipped = "libfiu refused to arm it";
    }
    if (!res->n_points) {
        size_t off = (size_t)snprintf(err, errlen, "--failpoints '%s' matches no failpoint (there "
                                      "are:", o->glob ? o->glob : "");
        for (const struct flt_failpoint *f = flt_failpoints; f->name && off < errlen; f++)
            off += (size_t)snprintf(err + off, errlen - off, " %s", f->name);
        if (off < errlen)
            snprintf(err + off, errlen - off, ")");
        flt_sweep_disarm_all();
        return -EINVAL;
    }
    json_t *run = NULL;
    char rerr[256] = "";
    int rc = run_once(s, o->mode, &run, rerr, sizeof(rerr));
    for (size_t i = 0; i < res->n_points; i++) {
        uint64_t fails;
        flt_sweep_counts(res->points[i].name, &res->points[i].hits, &fails);
    }
    flt_sweep_disarm_all();
    json_decref(run);
    res->runs++;
    if (rc < 0) {
        snprintf(err, errlen, "the clean run failed: %s", rerr);
        return rc;
    }
    return 0;
}

int scn_sweep(const struct scn_scenario *s, const struct scn_sweep_opts *o,
              struct scn_sweep_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    double t0 = now_s();
    int rc = clean_run(s, o, res, err, errlen);
    if (rc < 0) {
        scn_sweep_result_free(res);
        return rc;
    }
    if (o->progress)
        for (size_t i = 0; i < res->n_points; i++)
            fprintf(o->progress, "sweep: %s: %llu hit(s) in the clean run%s%s\n",
                    res->points[i].name, (unsigned long long)res->points[i].hits,
                    res->points[i].skipped ? "; skipped: " : "",
                    res->points[i].skipped ? res->points[i].skipped : "");
    for (size_t i = 0; i < res->n_points; i++) {
        struct scn_sweep_point *p = &res->points[i];
        if (p->skipped)
            continue;
        p->n_ns = scn_sweep_pick(p->hits, o->max, &p->ns);
        for (size_t k = 0; k < p->n_ns; k++) {
            sweep_one(s, o, p, p->ns[k], false, res);
            sweep_one(s, o, p, p->ns[k], true, res);
        }
    }
    res->wall_s = now_s() - t0;
    return 0;
}

void scn_sweep_result_free(struct scn_sweep_result *res)
{
    for (size_t i = 0; i < res->n_points; i++) {
        free(res->points[i].ns);
        free(res->points[i].bad);
    }
    free(res->points);
    memset(res, 0, sizeof(*res));
}

static json_t *note_json(const struct scn_sweep_note *n)
{
    return json_pack("{s:I, s:s, s:s, s:s}", "n", (json_int_t)n->n,
                     "kind", n->persistent ? "persistent" : "transient",
                     "outcome", scn_sweep_outcome_name(n->outcome), "reason", n->reason);
}

json_t *scn_sweep_json(const struct scn_scenario *s, const struct scn_sweep_opts *o,
                       const struct scn_sweep_result *res)
{
    json_t *pts = json_array();
    for (size_t i = 0; i < res->n_points; i++) {
        const struct scn_sweep_point *p = &res->points[i];
        json_t *jp = json_pack("{s:s, s:I}", "name", p->name, "hits", (json_int_t)p->hits);
        if (p->skipped) {
            json_object_set_new(jp, "skipped", json_string(p->skipped));
            json_array_append_new(pts, jp);
            continue;
        }
        json_t *ns = json_array(), *bad = json_array();
        for (size_t k = 0; k < p->n_ns; k++)
            json_array_append_new(ns, json_integer((json_int_t)p->ns[k]));
        for (size_t k = 0; k < p->n_bad; k++)
            json_array_append_new(bad, note_json(&p->bad[k]));
        json_object_set_new(jp, "ns", ns);
        for (int kind = 0; kind < 2; kind++) {
            json_t *c = json_object();
            for (int out = 0; out < SCN_SWEEP_OUTCOMES; out++)
                json_object_set_new(c, scn_sweep_outcome_name((enum scn_sweep_outcome)out),
                                    json_integer((json_int_t)p->outcomes[kind][out]));
            json_object_set_new(jp, kind ? "persistent" : "transient", c);
        }
        json_object_set_new(jp, "bad", bad);
        if (p->example.n)
            json_object_set_new(jp, "example", note_json(&p->example));
        json_array_append_new(pts, jp);
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:o}",
                     "scenario", s->name ? s->name : "?", "mode", scn_mode_name(o->mode),
                     "max", (json_int_t)o->max, "runs", (json_int_t)res->runs,
                     "bad", (json_int_t)res->bad, "wall_s", res->wall_s, "failpoints", pts);
}
