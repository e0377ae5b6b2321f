/*
 * run_twin.c - the fault's own cost, from a faulted run and its no-fault
 * twin (the same scenario, mode and seed with the faults removed).
 *
 * In the sim world the two runs are the same world up to the first fault
 * (tests/test_run.c compares their traces), so every difference after it is
 * the fault's doing.  In the real world the twin is a separate run with its
 * own scheduling noise; the figures are still measured, and the note says
 * what they are worth.  Works on run objects (JSON), so it needs nothing of
 * the runs but what they reported.
 */
#include <stdlib.h>
#include <string.h>

#include "scenarios/run.h"

static bool num_at(const json_t *o, const char *a, const char *b, double *out)
{
    const json_t *v = json_object_get(json_object_get(o, a), b);
    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return true;
}

static json_t *diff(const json_t *run, const json_t *twin, const char *a, const char *b)
{
    double x, y;
    return num_at(run, a, b, &x) && num_at(twin, a, b, &y) ? json_real(x - y) : json_null();
}

static json_t *dfs_extra(const json_t *run, const json_t *twin)
{
    double r1, w1, r2, w2;
    if (!num_at(run, "dfs", "bytes_read", &r1) || !num_at(run, "dfs", "bytes_written", &w1) ||
        !num_at(twin, "dfs", "bytes_read", &r2) || !num_at(twin, "dfs", "bytes_written", &w2))
        return json_null();
    return json_real(r1 + w1 - r2 - w2);
}

/* Records read by the sources of the faulted run beyond the twin's, job by
 * job (matched by name): what the restarted jobs read a second time. */
static json_t *replayed(const json_t *run, const json_t *twin)
{
    const json_t *jobs = json_object_get(run, "jobs"), *tjobs = json_object_get(twin, "jobs");
    double sum = 0;
    size_t i, k;
    json_t *j, *t;
    json_array_foreach(jobs, i, j) {
        const char *name = json_string_value(json_object_get(j, "name"));
        json_array_foreach(tjobs, k, t) {
            const char *tn = json_string_value(json_object_get(t, "name"));
            if (name && tn && strcmp(name, tn) == 0)
                sum += (double)json_integer_value(json_object_get(j, "records_in")) -
                       (double)json_integer_value(json_object_get(t, "records_in"));
        }
    }
    return json_real(sum);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The twin's probe samples sent inside the faulted run's recovery window:
 * p99 (nearest rank, as the run object's own) and max; null when the
 * window or the samples are missing. */
static void twin_window(const json_t *run, const json_t *twin, json_t *impact)
{
    double from, to;
    const json_t *pts = json_object_get(json_object_get(twin, "probe_series"), "points");
    json_t *p99 = json_null(), *max = json_null();
    if (num_at(run, "recovery", "window_from_ms", &from) &&
        num_at(run, "recovery", "window_to_ms", &to) && json_is_array(pts)) {
        double *v = malloc((json_array_size(pts) + 1) * sizeof(double));
        size_t n = 0, i;
        json_t *p;
        json_array_foreach(pts, i, p) {
            double t = json_number_value(json_object_get(p, "t_ms"));
            if (v && t >= from && t < to)
                v[n++] = json_number_value(json_object_get(p, "latency_ms"));
        }
        if (n) {
            qsort(v, n, sizeof(double), cmp_double);
            size_t k = (size_t)(0.99 * (double)(n - 1) + 0.5);
            json_decref(p99);
            json_decref(max);
            p99 = json_real(v[k < n ? k : n - 1]);
            max = json_real(v[n - 1]);
        }
        free(v);
    }
    json_object_set_new(impact, "probe_recovery_p99_ms_twin", p99);
    json_object_set_new(impact, "probe_recovery_max_ms_twin", max);
}

void scn_run_impact(json_t *run, const json_t *twin, const char *why_none)
{
    json_t *impact = json_object();
    const json_t *lost = json_object_get(json_object_get(run, "recovery"), "job_seconds_lost");
    json_object_set_new(impact, "job_seconds_lost", lost ? json_deep_copy(lost) : json_null());
    json_object_set_new(impact, "probe_recovery_p99_ms",
        json_deep_copy(json_object_get(json_object_get(run, "probe"), "recovery_p99_ms")));
    if (!json_object_get(impact, "probe_recovery_p99_ms"))
        json_object_set_new(impact, "probe_recovery_p99_ms", json_null());
    if (!twin) {
        json_object_set_new(impact, "twin", json_false());
        json_object_set_new(impact, "note", json_string(why_none ? why_none : "no twin was run"));
        json_object_set_new(run, "impact", impact);
        return;
    }
    const char *world = json_string_value(json_object_get(run, "world"));
    bool sim = world && strcmp(world, "sim") == 0;
    json_object_set_new(impact, "twin", json_true());
    json_object_set_new(impact, "note", json_string(sim
        ? "sim world: the twin is the same world as this run up to the first fault, so the "
          "differences are the fault's own cost"
        : "real world: the twin is a separate run, so the differences include that run's "
          "scheduling noise (compare --runs N gives their spread)"));
    json_object_set_new(impact, "dfs_bytes_extra", dfs_extra(run, twin));
    json_object_set_new(impact, "dfs_requests_extra", diff(run, twin, "dfs", "ops"));
    json_object_set_new(impact, "probe_over_slo_ms_extra", diff(run, twin, "probe", "over_slo_ms"));
    twin_window(run, twin, impact);
    json_object_set_new(impact, "records_replayed", replayed(run, twin));
    json_object_set_new(run, "impact", impact);
}
