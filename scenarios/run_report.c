/*
 * run_report.c - the run object (INTERFACE.md, docs/json-schema.md) and the
 * expectations, from what the run measured.
 *
 * Recovery, per job restarted by a fault (from the job's event list, world time):
 *   detect   first fault -> the job fails (its JobManager declared the loss)
 *   restart  failure -> the next attempt deployed (restart delay + slots)
 *   restore  deployed -> RUNNING (every task read its state back)
 *   total    first fault -> RUNNING again
 * The run's recovery figures are the largest over restarted jobs.  Probe
 * baseline: the p99 of the probe's samples before the first fault (all of
 * them without faults).  Nothing is reported that was not measured: a
 * figure without data is JSON null.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/operator.h"
#include "runtime/dfs.h"
#include "scenarios/run_internal.h"

static double ms(uint64_t ns) { return (double)ns / 1e6; }

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t pct(uint64_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof(*v), cmp_u64);
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

struct recovery {
    bool had;
    uint64_t detect, restart, restore, total;
};

/* Walks a job's events oldest first (the list is newest first). */
static void job_recovery(struct run *r, const struct eng_job *ej, struct recovery *rec)
{
    memset(rec, 0, sizeof(*rec));
    if (!r->first_fault_ns || !atomic_load(&((struct eng_job *)ej)->restarts))
        return;
    const struct eng_job_event *ev[512];
    size_t n = 0;
    for (const struct eng_job_event *e = atomic_load(&((struct eng_job *)ej)->events); e && n < 512;
         e = e->next)
        ev[n++] = e;
    uint64_t failed = 0, deployed = 0;
    for (size_t i = n; i-- > 0;) {
        const struct eng_job_event *e = ev[i];
        if (e->t_ns < r->first_fault_ns)
            continue;
        if (!failed && strncmp(e->text, "FAILING", 7) == 0)
            failed = e->t_ns;
        else if (failed && !deployed && strncmp(e->text, "attempt ", 8) == 0)
            deployed = e->t_ns;
        else if (deployed && strncmp(e->text, "RUNNING", 7) == 0) {
            rec->had = true;
            rec->detect = failed - r->first_fault_ns;
            rec->restart = deployed - failed;
            rec->restore = e->t_ns - deployed;
            rec->total = e->t_ns - r->first_fault_ns;
            return;
        }
    }
}

static json_t *num_or_null(bool have, double v)
{
    return have ? json_real(v) : json_null();
}

static const char *state_of(const struct run_job *j)
{
    return j->mj ? eng_job_state_name(eng_job_state(j->mj->ej)) : "NOT_SUBMITTED";
}

/* ---- expectations --------------------------------------------------------------- */

struct figures {
    uint64_t jobs_restarted, tasks_restarted, recovery_bytes_read, recovery_peak, bytes_read,
        bytes_written, peak;
    uint64_t p50, p99, max, lingering;
    uint64_t throttled, pool_waits;     /* the storage profile's, whole run */
    uint64_t retries, restore_queued, restore_queue_ns, restore_link_waits;
    bool have_probe;
};

static bool cmp_ok(enum scn_cmp c, uint64_t a, uint64_t b)
{
    switch (c) {
    case SCN_CMP_LT: return a < b;
    case SCN_CMP_LE: return a <= b;
    case SCN_CMP_GT: return a > b;
    case SCN_CMP_GE: return a >= b;
    case SCN_CMP_EQ: return a == b;
    case SCN_CMP_NE: return a != b;
    }
    return false;
}

static bool expect(struct run *r, const struct scn_expect *e, const struct figures *f,
                   const struct eng_verdict *verdicts, char *detail, size_t len)
{
    const struct scn_scenario *s = r->s;
    if (e->kind == SCN_EXPECT_EXACTLY_ONCE) {
        for (size_t j = 0; j < s->n_jobs; j++) {
            const struct run_job *rj = &r->jobs[j];
            if (!rj->mj || eng_job_state(rj->mj->ej) != ENG_JOB_FINISHED) {
                snprintf(detail, len, "job %s ended %s", s->jobs[j].name, state_of(rj));
                return false;
            }
            if (!verdicts[j].exactly_once) {
                snprintf(detail, len, "job %s: %llu lost, %llu duplicated, %llu wrong",
                         s->jobs[j].name, (unsigned long long)verdicts[j].lost,
                         (unsigned long long)verdicts[j].duplicated,
                         (unsigned long long)verdicts[j].wrong_values);
                return false;
            }
        }
        snprintf(detail, len, "%zu jobs finished, every key exactly once", s->n_jobs);
        return true;
    }
    if (e->kind == SCN_EXPECT_JOB_STATE) {
        static const char *want[] = { "RUNNING", "RESTARTING", "FINISHED", "FAILED", "CANCELED" };
        const char *got = state_of(&r->jobs[e->job.index]);
        snprintf(detail, len, "job %s is %s", e->job.name, got);
        return strcmp(got, want[e->state]) == 0;
    }
    if (e->kind == SCN_EXPECT_APP_FAILED_WITH) {
        const struct run_app *app = &r->apps[e->app.index];
        snprintf(detail, len, "application %.40s %s%.180s", e->app.name,
                 app->state == APP_FAILED ? "failed: " : "did not fail", app->error);
        return app->state == APP_FAILED && strstr(app->error, e->text);
    }
    uint64_t v = 0;
    bool have = true;
    switch (e->metric) {
    case SCN_METRIC_RECOVERY: {
        struct recovery rec = { 0 };
        const struct run_job *rj = &r->jobs[e->job.index];
        if (rj->mj)
            job_recovery(r, rj->mj->ej, &rec);
        have = rec.had;
        v = rec.total;
        break;
    }
    case SCN_METRIC_RESTARTS: {
        const struct run_job *rj = &r->jobs[e->job.index];
        v = rj->mj ? atomic_load(&rj->mj->ej->restarts) : 0;
        break;
    }
    case SCN_METRIC_JOBS_RESTARTED: v = f->jobs_restarted; break;
    case SCN_METRIC_TASKS_RESTARTED: v = f->tasks_restarted; break;
    case SCN_METRIC_DFS_RECOVERY_BYTES_READ: v = f->recovery_bytes_read; break;
    case SCN_METRIC_DFS_BYTES_READ: v = f->bytes_read; break;
    case SCN_METRIC_DFS_BYTES_WRITTEN: v = f->bytes_written; break;
    case SCN_METRIC_DFS_PEAK_CONCURRENCY: v = f->peak; break;
    case SCN_METRIC_DFS_RECOVERY_PEAK_CONCURRENCY: v = f->recovery_peak; break;
    case SCN_METRIC_PROBE_P50: v = f->p50; have = f->have_probe; break;
    case SCN_METRIC_PROBE_P99: v = f->p99; have = f->have_probe; break;
    case SCN_METRIC_PROBE_MAX: v = f->max; have = f->have_probe; break;
    case SCN_METRIC_LINGERING_FILES: v = f->lingering; break;
    case SCN_METRIC_DFS_THROTTLED_REQUESTS: v = f->throttled; break;
    case SCN_METRIC_DFS_POOL_WAITS: v = f->pool_waits; break;
    case SCN_METRIC_DFS_RETRIES: v = f->retries; break;
    case SCN_METRIC_DFS_RESTORE_QUEUED: v = f->restore_queued; break;
    case SCN_METRIC_DFS_RESTORE_QUEUE_TIME: v = f->restore_queue_ns; break;
    case SCN_METRIC_DFS_RESTORE_LINK_WAITS: v = f->restore_link_waits; break;
    default: have = false; break;
    }
    if (!have) {
        snprintf(detail, len, "%s: not measured in this run (nothing recovered or no samples)",
                 scn_metric_name(e->metric));
        return false;
    }
    enum scn_unit u = scn_metric_unit(e->metric);
    if (u == SCN_UNIT_DURATION)
        snprintf(detail, len, "%s = %.1f ms", scn_metric_name(e->metric), ms(v));
    else
        snprintf(detail, len, "%s = %llu", scn_metric_name(e->metric), (unsigned long long)v);
    return cmp_ok(e->cmp, v, e->value);
}

/* ---- the run object ------------------------------------------------------------- */

static json_t *timeline(struct run *r)
{
    json_t *jobs = json_array();
    for (size_t j = 0; j < r->s->n_jobs; j++) {
        const struct run_job *rj = &r->jobs[j];
        json_t *evs = json_array();
        if (rj->mj) {
            const struct eng_job_event *ev[512];
            size_t n = 0;
            for (const struct eng_job_event *e = atomic_load(&rj->mj->ej->events); e && n < 512;
                 e = e->next)
                ev[n++] = e;
            int last = -1;
            for (size_t i = n; i-- > 0;) {
                if (ev[i]->state == last)
                    continue;
                last = ev[i]->state;
                json_array_append_new(evs, json_pack("{s:f, s:s}", "t_ms",
                    ms(ev[i]->t_ns > r->t0_ns ? ev[i]->t_ns - r->t0_ns : 0), "state",
                    eng_job_state_name((enum eng_job_state)ev[i]->state)));
            }
        }
        json_array_append_new(jobs, json_pack("{s:s, s:s, s:o}", "name", r->s->jobs[j].name,
            "application", r->s->apps[r->s->jobs[j].app].name, "events", evs));
    }
    json_t *faults = json_array();
    for (size_t i = 0; i < r->nlog; i++)
        json_array_append_new(faults, json_pack("{s:f, s:f, s:s, s:s}", "at_ms", ms(r->log[i].at_ns),
            "until_ms", ms(r->log[i].until_ns), "action", r->log[i].action, "target", r->log[i].detail));
    return json_pack("{s:o, s:o}", "jobs", jobs, "faults", faults);
}

static json_t *dfs_series(struct run *r)
{
    struct dfs_bucket b[4096];
    uint64_t width = 0;
    size_t n = dfs_series_get(r->dfs, b, 4096, &width);
    if (n > 4096)
        n = 4096;   /* the series merges buckets as it grows: 4096 cover the run */
    json_t *pts = json_array();
    for (size_t i = 0; i < n; i++) {
        if (b[i].t_ns < r->t0_ns)
            continue;
        json_array_append_new(pts, json_pack("{s:f, s:I, s:I, s:I, s:I}", "t_ms", ms(b[i].t_ns - r->t0_ns),
            "bytes_read", (json_int_t)b[i].bytes_read, "bytes_written", (json_int_t)b[i].bytes_written,
            "ops", (json_int_t)b[i].ops, "inflight_peak", (json_int_t)b[i].peak_in_flight));
    }
    return json_pack("{s:f, s:o}", "bucket_ms", ms(width), "points", pts);
}

int run__report(struct run *r, json_t **out)
{
    const struct scn_scenario *s = r->s;
    struct figures f = { 0 };
    eng_reference_warm_join(r->warm);
    r->warm = NULL;
    struct eng_verdict *verdicts = rt_xcalloc_process(s->n_jobs ? s->n_jobs : 1, sizeof(*verdicts));
    json_t *jobs = json_array();
    struct recovery worst = { 0 };
    uint64_t lost_ns = 0;  /* job-time without processing: each restarted job's recovery */
    uint64_t rec_end = r->first_fault_ns;
    for (size_t j = 0; j < s->n_jobs; j++) {
        struct run_job *rj = &r->jobs[j];
        struct recovery rec = { 0 };
        json_t *eo = json_false();     /* a job that never ran, or was never checked */
        bool verified = false;
        if (rj->mj) {
            struct eng_expected *ex = NULL;
            char err[200];
            bool shared = false;
            if (eng_reference_shared(rj->mj->ej->graph, &ex, &shared, err, sizeof(err)) == 0) {
                eng_output_verify(rj->mj->ej->output, ex, &verdicts[j]);
                verified = true;
                json_decref(eo);
                eo = json_boolean(verdicts[j].exactly_once &&
                                  eng_job_state(rj->mj->ej) == ENG_JOB_FINISHED);
                if (!shared)
                    eng_expected_free(ex);
            }
            job_recovery(r, rj->mj->ej, &rec);
            if (atomic_load(&rj->mj->ej->restarts))
                f.jobs_restarted++;
            f.tasks_restarted += atomic_load(&rj->mj->ej->tasks_restarted);
        }
        if (rec.had) {
            worst.had = true;
            lost_ns += rec.total;
            if (rec.total > worst.total)
                worst = rec;
            if (r->first_fault_ns + rec.total > rec_end)
                rec_end = r->first_fault_ns + rec.total;
        }
        json_t *jo = json_pack("{s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:o, s:b, s:o}",
            "name", s->jobs[j].name, "application", s->apps[s->jobs[j].app].name,
            "state", state_of(rj), "restarts", rj->mj ? (int)atomic_load(&rj->mj->ej->restarts) : 0,
            "tasks_restarted", rj->mj ? (int)atomic_load(&rj->mj->ej->tasks_restarted) : 0,
            "records_in", (json_int_t)(rj->mj ? atomic_load(&rj->mj->ej->records_in) : 0),
            "records_out", (json_int_t)verdicts[j].committed,
            "lost", (json_int_t)verdicts[j].lost, "duplicated", (json_int_t)verdicts[j].duplicated,
            "wrong_values", (json_int_t)verdicts[j].wrong_values, "exactly_once", eo,
            "verified", verified, "recovery_ms", num_or_null(rec.had, ms(rec.total)));
        /* Its blobs: what the client stored in the blob server, what that served. */
        json_object_set_new(jo, "blob_bytes_in", json_integer((json_int_t)rj->blob_bytes_in));
        json_object_set_new(jo, "blob_bytes_out", json_integer(
            (json_int_t)(rj->mj ? atomic_load(&rj->mj->blob_bytes_out) : 0)));
        /* Why a job that did not finish ended as it did (its last error). */
        if (rj->mj && eng_job_state(rj->mj->ej) != ENG_JOB_FINISHED) {
            char why[256] = "";
            eng_job_last_error(rj->mj->ej, why, sizeof(why));
            json_object_set_new(jo, "error", json_string(why));
        }
        json_array_append_new(jobs, jo);
    }

    struct dfs_stats st;
    dfs_stats_get(r->dfs, &st);
    f.bytes_read = st.total.bytes_read - r->setup_bytes_read;
    f.bytes_written = st.total.bytes_written - r->setup_bytes_written;
    f.peak = st.peak_concurrency;
    struct dfs_profile_stats fps;
    dfs_profile_stats_get(r->dfs, &fps);
    f.throttled = fps.throttled_requests;
    f.pool_waits = fps.pool_waits;
    f.retries = fps.retries;
    struct dfs_wait_stats rws;
    dfs_wait_stats_get(r->dfs, DFS_PURPOSE_RESTORE, &rws);
    f.restore_queued = rws.waits;
    f.restore_queue_ns = rws.wait_ns;
    f.restore_link_waits = rws.link_waits;
    if (worst.had) {
        struct dfs_window win;
        dfs_window_get(r->dfs, r->first_fault_ns, rec_end, &win);
        f.recovery_bytes_read = win.bytes_read;
        f.recovery_peak = win.peak_concurrency;
    }

    /* Probe. */
    unsigned np = atomic_load(&r->probe.n);
    uint64_t *lat = rt_xcalloc_process(np ? np : 1, sizeof(uint64_t));
    uint64_t *base = rt_xcalloc_process(np ? np : 1, sizeof(uint64_t));
    size_t nb = 0;
    json_t *ppts = json_array();
    for (unsigned i = 0; i < np; i++) {
        lat[i] = r->probe.lat_ns[i];
        if (!r->first_fault_ns || r->probe.t_ns[i] < r->first_fault_ns)
            base[nb++] = r->probe.lat_ns[i];
        json_array_append_new(ppts, json_pack("{s:f, s:f}", "t_ms",
            ms(r->probe.t_ns[i] > r->t0_ns ? r->probe.t_ns[i] - r->t0_ns : 0), "latency_ms",
            ms(r->probe.lat_ns[i])));
    }
    f.have_probe = np > 0;
    f.p50 = pct(lat, np, 0.50);
    f.p99 = pct(lat, np, 0.99);
    f.max = np ? lat[np - 1] : 0;
    uint64_t base_p99 = pct(base, nb, 0.99);

    /* JobManagers, clusters, client, memory. */
    json_t *jms = json_array();
    double spin[RUN_MAX_CLUSTERS], down[RUN_MAX_CLUSTERS];
    size_t nspin = 0, ndown = 0;
    uint64_t peak_mem = 0;
    json_t *tm_peaks = json_array();
    for (size_t c = 0; c < r->nclusters; c++) {
        struct run_cluster *rc = &r->clusters[c];
        unsigned njobs = 0;
        for (size_t j = 0; j < s->n_jobs; j++)
            njobs += r->jobs[j].cluster == rc;
        /* Every JobManager, standbys included; the jobs count goes to the leader. */
        for (uint32_t k = 0; k < rc->c->njms; k++) {
            struct rt_node *jn = rc->c->jms[k].node;
            struct rt_node_stats ns;
            rt_node_get_stats(jn, &ns);
            /* What this JobManager read from the shared filesystem: in
             * application mode, the artifacts main() fetched on it. */
            struct dfs_io_stats io;
            dfs_stats_node(r->dfs, rt_node_id(jn), &io);
            json_array_append_new(jms, json_pack("{s:s, s:i, s:I, s:f, s:I, s:I, s:I}", "name",
                rt_node_name(jn), "jobs", jn == mc_cluster_leader(rc->c) ? (int)njobs : 0,
                "messages", (json_int_t)ns.delivered, "busy_ms", ms(ns.busy_ns),
                "bytes_read", (json_int_t)io.bytes_read,
                "blob_bytes_in", (json_int_t)atomic_load(&rc->c->jms[k].blob_bytes_in),
                "blob_bytes_out", (json_int_t)atomic_load(&rc->c->jms[k].blob_bytes_out)));
            if (k)
                peak_mem += rt_node_mem_peak(jn);
        }
        if (rc->spinup_ns)
            spin[nspin++] = ms(rc->spinup_ns);
        if (rc->teardown_ns)
            down[ndown++] = ms(rc->teardown_ns);
        if (rc->torn_down && rc->lingering > 0)
            f.lingering += (uint64_t)rc->lingering;
        peak_mem += rt_node_mem_peak(rc->c->jm);
        for (uint32_t t = 0; t < atomic_load(&rc->c->ntms); t++) {
            size_t p = rt_node_mem_peak(rc->c->tms[t].node);
            peak_mem += p;
            json_array_append_new(tm_peaks, json_integer((json_int_t)p));
        }
    }
    qsort(spin, nspin, sizeof(double), cmp_double);
    uint64_t cpu = 0, down_b = 0, up_b = 0;
    /* The client's figures sum every application's: each ran on its own
     * client node (its own `flink run`), and the report has one client. */
    for (size_t a = 0; a < s->n_apps; a++) {
        if (r->o.mode == SCN_MODE_APPLICATION)
            continue;   /* main() ran on the JobManager: not the client's cost */
        cpu += atomic_load(&r->apps[a].work.cpu_ns);
        down_b += atomic_load(&r->apps[a].work.bytes_down);
        up_b += atomic_load(&r->apps[a].work.bytes_up);
    }

    /* Expectations. */
    json_t *exps = json_array();
    bool ok = !r->deadline_hit;
    for (size_t i = 0; i < s->n_expects; i++) {
        const struct scn_expect *e = &s->expects[i];
        if (e->mode != SCN_MODE_ANY && e->mode != r->o.mode)
            continue;
        char detail[256];
        bool good = expect(r, e, &f, verdicts, detail, sizeof(detail));
        ok &= good;
        char *text = scn_expect_text(s, e);
        json_array_append_new(exps, json_pack("{s:s, s:b, s:s}", "text", text ? text : "?", "ok", good,
                                              "detail", detail));
        rt_free(text);
    }
    if (r->deadline_hit)
        json_array_append_new(exps, json_pack("{s:s, s:b, s:s}", "text", "the run ends before its deadline",
            "ok", 0, "detail", "the deadline passed with jobs still running"));
    for (size_t a = 0; a < s->n_apps; a++) {
        bool expected_fail = false;
        for (size_t i = 0; i < s->n_expects; i++)
            expected_fail |= s->expects[i].kind == SCN_EXPECT_APP_FAILED_WITH &&
                             s->expects[i].app.index == a &&
                             (s->expects[i].mode == SCN_MODE_ANY || s->expects[i].mode == r->o.mode);
        if (r->apps[a].state == APP_FAILED && !expected_fail)
            ok = false;
    }

    json_t *faults = json_array();
    for (size_t i = 0; i < r->nlog; i++)
        json_array_append_new(faults, json_pack("{s:f, s:s, s:s, s:s}", "at_ms", ms(r->log[i].at_ns),
            "action", r->log[i].action, "target", r->log[i].target, "detail", r->log[i].detail));

    double spin_med = nspin ? spin[nspin / 2] : 0, down_med = 0;
    if (ndown) {
        qsort(down, ndown, sizeof(double), cmp_double);
        down_med = down[ndown / 2];
    }
    char hash[24];
    snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)rt_trace_hash(r->w));
    json_t *run = json_object();
    json_object_set_new(run, "scenario", json_string(s->name));
    json_object_set_new(run, "mode", json_string(scn_mode_name(r->o.mode)));
    json_object_set_new(run, "world", json_string(r->o.world == RT_WORLD_SIM ? "sim" : "real"));
    json_object_set_new(run, "seed", json_integer((json_int_t)r->seed));
    json_object_set_new(run, "trace_hash", json_string(hash));
    json_object_set_new(run, "ok", json_boolean(ok));
    if (r->o.twin)
        json_object_set_new(run, "twin", json_true());
    json_object_set_new(run, "wall_ms", json_integer((json_int_t)r->wall_ms));
    json_object_set_new(run, "sim_ms", json_real(ms(r->end_ns - r->t0_ns)));
    json_object_set_new(run, "expectations", exps);
    json_object_set_new(run, "jobs", jobs);
    json_object_set_new(run, "recovery", json_pack("{s:o, s:o, s:o, s:o, s:i, s:I}",
        "detect_ms", num_or_null(worst.had, ms(worst.detect)),
        "restart_ms", num_or_null(worst.had, ms(worst.restart)),
        "restore_ms", num_or_null(worst.had, ms(worst.restore)),
        "total_ms", num_or_null(worst.had, ms(worst.total)), "jobs_restarted", (int)f.jobs_restarted,
        "tasks_restarted", (json_int_t)f.tasks_restarted));
    json_object_set_new(json_object_get(run, "recovery"), "job_seconds_lost",
                        num_or_null(worst.had, (double)lost_ns / 1e9));
    json_object_set_new(run, "dfs", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
        "bytes_read", (json_int_t)f.bytes_read, "bytes_written", (json_int_t)f.bytes_written,
        "ops", (json_int_t)(st.total.ops - r->setup_ops),
        "files_created", (json_int_t)(st.files_created - r->setup_files),
        "fsyncs", (json_int_t)st.fsyncs, "peak_concurrency", (json_int_t)f.peak,
        "recovery_bytes_read", (json_int_t)f.recovery_bytes_read,
        "recovery_peak_concurrency", (json_int_t)f.recovery_peak));
    /* Of the bytes above, those carried as payload descriptors (declared
     * state in the sim world; 0 in the real world).  Setup moves none. */
    json_t *jdfs = json_object_get(run, "dfs");
    json_object_set_new(jdfs, "logical_bytes_read", json_integer((json_int_t)st.total.logical_bytes_read));
    json_object_set_new(jdfs, "logical_bytes_written",
                        json_integer((json_int_t)st.total.logical_bytes_written));
    if (r->o.world == RT_WORLD_SIM) {
        /* The events the simulator delivered: what a sim run costs. */
        json_object_set_new(run, "events", json_integer((json_int_t)rt_trace_events(r->w)));
        /* What the sim store held at most: in memory, and as the files'
         * logical sizes. */
        json_object_set_new(jdfs, "stored_bytes_peak",
                            json_integer((json_int_t)st.peak_stored_bytes));
        json_object_set_new(jdfs, "stored_logical_bytes_peak",
                            json_integer((json_int_t)st.peak_stored_logical_bytes));
    }
    /* What the storage profile did (zeros without one). */
    struct dfs_profile_stats ps;
    dfs_profile_stats_get(r->dfs, &ps);
    json_t *dj = json_object_get(run, "dfs");
    json_object_set_new(dj, "profile", json_string(scn_dfs_profile_name((int)s->dfs.profile)));
    json_object_set_new(dj, "throttled_requests", json_integer((json_int_t)ps.throttled_requests));
    json_object_set_new(dj, "retries", json_integer((json_int_t)ps.retries));
    json_object_set_new(dj, "failed_after_retries", json_integer((json_int_t)ps.gave_up));
    json_object_set_new(dj, "pool_waits", json_integer((json_int_t)ps.pool_waits));
    json_object_set_new(dj, "rate_waits", json_integer((json_int_t)ps.rate_waits));
    json_object_set_new(dj, "local_bytes_read", json_integer((json_int_t)dfs_local_bytes_read(r->dfs)));
    json_object_set_new(dj, "inline_bytes", json_integer((json_int_t)dfs_inline_bytes(r->dfs)));
    unsigned slot_timeouts = 0;
    for (size_t c = 0; c < r->nclusters; c++)
        slot_timeouts += atomic_load(&r->clusters[c].c->slot_timeouts);
    json_object_set_new(run, "slot_request_timeouts", json_integer((json_int_t)slot_timeouts));
    json_object_set_new(run, "target", s->cluster.target == SCN_DEPLOY_NONE ? json_null()
                        : json_string(scn_target_name(s->cluster.target)));
    json_object_set_new(run, "probe", json_pack("{s:i, s:o, s:o, s:o, s:o}", "samples", (int)np,
        "p50_ms", num_or_null(np, ms(f.p50)), "p99_ms", num_or_null(np, ms(f.p99)),
        "max_ms", num_or_null(np, ms(f.max)), "baseline_p99_ms", num_or_null(nb, ms(base_p99))));
    run__window_figures(r, worst.had, r->first_fault_ns, rec_end, run);
    json_object_set_new(run, "jobmanagers", jms);
    /* Each application's outcome: what its cluster reports when it shuts down. */
    json_t *apps = json_array();
    for (size_t a = 0; a < s->n_apps; a++) {
        const struct run_app *app = &r->apps[a];
        const char *ast = app->state == APP_DONE ? "SUCCEEDED" : app->state == APP_FAILED ? "FAILED"
                                                                                         : "UNFINISHED";
        bool all_ok = app->state == APP_DONE;
        for (size_t k = 0; all_ok && k < app->a->n_jobs; k++) {
            const struct run_job *rj = &r->jobs[app->a->jobs[k].index];
            all_ok = rj->mj && eng_job_state(rj->mj->ej) == ENG_JOB_FINISHED;
        }
        if (app->state == APP_DONE && !all_ok)
            ast = "FAILED";     /* main() returned, but a job of it did not finish */
        /* Its cluster: its own in application mode, the session cluster, or
         * in per-job mode its first job's ("" when that never started). */
        const struct run_cluster *rc = app->cluster;
        if (!rc && r->o.mode == SCN_MODE_PER_JOB && app->a->n_jobs)
            rc = r->jobs[app->a->jobs[0].index].cluster;
        else if (!rc && r->o.mode == SCN_MODE_SESSION && r->nclusters)
            rc = &r->clusters[0];
        json_array_append_new(apps, json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", app->a->name,
            "state", ast, "error", app->error, "cluster", rc ? rc->c->name : "",
            "jobs", (int)app->a->n_jobs));
    }
    json_object_set_new(run, "applications", apps);
    json_object_set_new(run, "client", json_pack("{s:f, s:I, s:I}", "cpu_ms", ms(cpu),
        "bytes_downloaded", (json_int_t)down_b, "bytes_uploaded", (json_int_t)up_b));
    json_object_set_new(run, "clusters", json_pack("{s:i, s:o, s:o, s:I}", "started", (int)r->nclusters,
        "spinup_ms_median", num_or_null(nspin, spin_med), "teardown_ms_median",
        num_or_null(ndown, down_med), "lingering_files", (json_int_t)f.lingering));
    json_object_set_new(run, "memory", json_pack("{s:I, s:o}", "peak_bytes", (json_int_t)peak_mem,
        "taskmanager_peak_bytes", tm_peaks));
    json_object_set_new(run, "faults", faults);
    json_t *warn = json_array();
    const char *um[16];
    size_t nu = run__unmodelled(s, um, 16);
    for (size_t i = 0; i < nu; i++) {
        char w[160];
        snprintf(w, sizeof(w), "%s is not modelled by minicluster yet: the setting has no effect",
                 um[i]);
        json_array_append_new(warn, json_string(w));
    }
    json_object_set_new(run, "warnings", warn);
    json_object_set_new(run, "timeline", timeline(r));
    json_object_set_new(run, "dfs_series", dfs_series(r));
    json_object_set_new(run, "probe_series", json_pack("{s:o}", "points", ppts));
    rt_free(lat);
    rt_free(base);
    rt_free(verdicts);
    *out = run;
    return ok ? SCN_RUN_OK : SCN_RUN_FAILED;
}
