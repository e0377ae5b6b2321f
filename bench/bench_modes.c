/*
 * bench_modes.c - `minicluster bench modes`: what each deployment mode costs
 * for a trivial job, source(SMALL records) -REBALANCE-> sink, parallelism 1
 * (two tasks in one slot).  Real world, DFS unthrottled, clocks are world
 * time (monotonic) unless said otherwise.
 *
 * Session (one running cluster, 4 TaskManagers x 64 slots):
 *   A "submission" is accepted when the dispatcher has taken the job and
 *   created its job master: mc__jm_submit has run on the JobManager thread,
 *   which publishes the job's slot count (mc_job.nslots > 0); the bench sees
 *   that by spinning on the atomic.  From mc_cluster_submit's call (the
 *   job's submitted_ns) to:
 *     accepted  the job master exists (spin, with sched_yield)
 *     running   the job's RUNNING event (slots offered, tasks deployed and
 *               reported RUNNING)
 *     finished  the job's finished_ns (final checkpoint and commit done)
 *   submit_ms: median `accepted` over SEQ jobs submitted one at a time on an
 *   idle cluster, each waited to its end.  submits_per_s: bursts of BURST
 *   jobs submitted back to back from one thread; per burst BURST / (first
 *   submit -> all accepted); median over the bursts.  The same bursts give
 *   running_per_s (-> all RUNNING) and finished_per_s (-> all ended).
 *   Bursts stay below the cluster's slots: the resource manager keeps at
 *   most 32 pending slot requests and drops the rest (cluster/jm.c).
 * Per-job: a cluster per job (active provider, launch latency 0, one
 *   TaskManager started up front, as the scenario runner does): cycle_ms =
 *   mc_cluster_new -> submit (at once: Flink's per-job client deploys the
 *   cluster with the job graph) -> job ended -> mc_cluster_stop returned
 *   (every node asked to stop at once, then joined).  spinup_ms is the
 *   cluster's own creation -> every TaskManager registered.  Median of
 *   CYCLES, a fresh world each (world creation not counted).
 * Application: the per-job cycle with main() on the JobManager node
 *   (mc_app_work, no artifacts, no CPU) before the submission.
 * per_job_ratio_to_session = per-job cycle / session submit->finished
 *   (median of the SEQ one-at-a-time jobs); target <= 2.
 * client: per mode, the scenario runner's "client" object for a small
 *   application with artifacts (bench_modes_client.c).
 * Every job must end FINISHED with exactly its reference output, else the
 * bench fails (exit 3).
 */
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_modes.h"
#include "minicluster/client.h"
#include "minicluster/cluster.h"
#include "engine/operator.h"
#include "runtime/dfs.h"
#include "runtime/rt_dir.h"

#define WAIT_NS (20 * RT_NS_PER_SEC)
#define SMALL 100               /* records of the trivial job */
#define SMALL_RATE 20000        /* records/s: 5 ms of output (see the note in the report) */
#define MAX_JOBS 2048

struct world {
    struct rt_world *w;
    struct dfs *dfs;
    char root[256];
};


static int world_up(struct world *x)
{
    memset(x, 0, sizeof(*x));
    /* Every per-job and application cycle adds a cluster's nodes to this world. */
    struct rt_world_config wc = { .kind = RT_WORLD_REAL, .seed = 3, .max_nodes = 4096 };
    int rc = rt_world_new(&wc, &x->w);
    if (rc < 0)
        return rc;
    if ((rc = rt_dir_make_temp("mc-bench-modes", x->root, sizeof(x->root))) < 0) {
        x->root[0] = '\0';
        return rc;
    }
    struct dfs_config dc = { .root = x->root };
    return dfs_new(x->w, &dc, &x->dfs);
}

static void world_down(struct world *x)
{
    rt_world_free(x->w);
    dfs_free(x->dfs);
    if (x->root[0])
        rt_dir_remove(x->root);
}

struct eng_jobgraph *bench_modes_graph(void)
{
    struct eng_jobgraph *g = eng_jobgraph_new("trivial");
    struct eng_op_args src = { .records = SMALL, .keys = 10, .rate = SMALL_RATE };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, 1, 0);
    int k = eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 1, 0);
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)k, ENG_EDGE_REBALANCE);
    return g;
}

static void config(struct mc_cluster_config *cfg, uint32_t tms, uint32_t slots, bool active)
{
    mc_cluster_config_defaults(cfg);
    cfg->taskmanagers = tms;
    cfg->slots = slots;
    cfg->evenly_spread = true;
    cfg->provider = active ? MC_PROVIDER_ACTIVE : MC_PROVIDER_STANDALONE;
    cfg->launch_latency_ns = 0;
}

static bool ready(void *arg) { return mc_cluster_ready(arg); }

static bool job_ended(const struct mc_job *j)
{
    return eng_job_ended(j->ej);
}

struct batch {
    struct mc_job **jobs;
    uint32_t n;
};

static bool batch_ended(void *arg)
{
    struct batch *b = arg;
    for (uint32_t i = 0; i < b->n; i++)
        if (!job_ended(b->jobs[i]))
            return false;
    return true;
}

static bool batch_running(void *arg)
{
    struct batch *b = arg;
    for (uint32_t i = 0; i < b->n; i++)
        if (eng_job_state(b->jobs[i]->ej) == ENG_JOB_CREATED)
            return false;
    return true;
}

/* World time of the job's last event starting with state (0: none). */
static uint64_t state_at(const struct mc_job *j, const char *state)
{
    uint64_t t = 0;
    for (const struct eng_job_event *e = atomic_load(&j->ej->events); e; e = e->next)
        if (strncmp(e->text, state, strlen(state)) == 0 && e->t_ns > t)
            t = e->t_ns;
    return t;
}

static uint64_t running_at(const struct mc_job *j)
{
    return state_at(j, "RUNNING");
}

/* The job ended FINISHED with exactly the reference output. */
int bench_modes_check(const struct mc_job *j, const struct eng_expected *ex)
{
    struct eng_verdict v = { 0 };
    enum eng_job_state st = eng_job_state(j->ej);
    if (st == ENG_JOB_FINISHED)
        eng_output_verify(j->ej->output, ex, &v);
    if (st == ENG_JOB_FINISHED && v.exactly_once && atomic_load(&j->ej->restarts) == 0)
        return 0;
    char err[256];
    eng_job_last_error(j->ej, err, sizeof(err));
    fprintf(stderr, "bench modes: broken run of job %u: state %s (%s), exactly-once %d, "
            "restarts %u\n", j->ej->id, eng_job_state_name(st), err, v.exactly_once,
            atomic_load(&j->ej->restarts));
    return -EPROTO;
}

/* ---- session ----------------------------------------------------------------- */

static int session(const struct bench_modes_sizes *z, const struct eng_expected *ex,
                   struct bench_modes_figs *f)
{
    struct world x;
    struct mc_cluster *c = NULL;
    struct mc_job **jobs = calloc(MAX_JOBS, sizeof(*jobs));
    uint32_t njobs = 0;
    double acc[256], run[256], fin[256], rate[64], rrate[64], frate[64], lat_run[MAX_JOBS];
    uint32_t nlat = 0;
    int rc = world_up(&x);
    struct mc_cluster_config cfg;
    config(&cfg, 4, 64, false);
    if (rc < 0 || !jobs || (rc = mc_cluster_new(x.w, x.dfs, "session", &cfg, &c)) < 0 ||
        (rc = rt_world_wait(x.w, ready, c, WAIT_NS)) < 0)
        goto out;
    char err[256];
    /* One at a time. */
    for (int i = 0; i < z->seq && rc == 0; i++) {
        struct mc_job *j;
        if ((rc = mc_cluster_submit(c, bench_modes_graph(), ++njobs, NULL, &j, err,
                                    sizeof(err))) < 0)
            break;
        jobs[njobs - 1] = j;
        while (atomic_load(&j->nslots) == 0)
            sched_yield();
        uint64_t t_acc = rt_now(x.w), t0 = atomic_load(&j->submitted_ns);
        struct batch b = { &jobs[njobs - 1], 1 };
        if ((rc = rt_world_wait(x.w, batch_ended, &b, WAIT_NS)) < 0 ||
            (rc = bench_modes_check(j, ex)) < 0)
            break;
        acc[i] = (double)(t_acc - t0) / 1e6;
        run[i] = (double)(running_at(j) - t0) / 1e6;
        fin[i] = (double)(atomic_load(&j->finished_ns) - t0) / 1e6;
    }
    /* Bursts. */
    for (int k = 0; k < z->bursts && rc == 0; k++) {
        struct batch b = { &jobs[njobs], (uint32_t)z->burst };
        uint64_t t0 = rt_now(x.w);
        for (uint32_t i = 0; i < b.n && rc == 0; i++, njobs++)
            rc = mc_cluster_submit(c, bench_modes_graph(), njobs + 1, NULL, &jobs[njobs], err,
                                   sizeof(err));
        if (rc < 0)
            break;
        for (uint32_t i = 0; i < b.n; i++)
            while (atomic_load(&b.jobs[i]->nslots) == 0)
                sched_yield();
        uint64_t t_acc = rt_now(x.w);
        if ((rc = rt_world_wait(x.w, batch_running, &b, WAIT_NS)) < 0 ||
            (rc = rt_world_wait(x.w, batch_ended, &b, WAIT_NS)) < 0)
            break;
        uint64_t t_run = 0, t_fin = 0;
        for (uint32_t i = 0; i < b.n && rc == 0; i++) {
            uint64_t r = running_at(b.jobs[i]), e = atomic_load(&b.jobs[i]->finished_ns);
            t_run = r > t_run ? r : t_run;
            t_fin = e > t_fin ? e : t_fin;
            lat_run[nlat++] = (double)(r - atomic_load(&b.jobs[i]->submitted_ns)) / 1e6;
            rc = bench_modes_check(b.jobs[i], ex);
        }
        rate[k] = b.n / ((double)(t_acc - t0) / 1e9);
        rrate[k] = b.n / ((double)(t_run - t0) / 1e9);
        frate[k] = b.n / ((double)(t_fin - t0) / 1e9);
    }
    if (rc < 0)
        goto out;
    f->submit_ms = bench_median(acc, z->seq);
    f->to_running_ms = bench_median(run, z->seq);
    f->to_finished_ms = bench_median(fin, z->seq);
    f->submits_per_s = bench_median(rate, z->bursts);
    f->running_per_s = bench_median(rrate, z->bursts);
    f->finished_per_s = bench_median(frate, z->bursts);
    f->burst_to_running_ms = bench_median(lat_run, (int)nlat);
    f->jobs = njobs;
out:
    for (uint32_t i = 0; rc == -ETIMEDOUT && i < njobs; i++)
        if (jobs[i] && !job_ended(jobs[i])) {
            fprintf(stderr, "bench modes: session job %u did not end within %d s (slots %u on TaskManager %d, records in %llu out %llu, checkpoints %u):\n",
                    i + 1, (int)(WAIT_NS / RT_NS_PER_SEC), atomic_load(&jobs[i]->nslots),
                    mc_job_tm_of(jobs[i], 0), (unsigned long long)atomic_load(&jobs[i]->ej->records_in),
                    (unsigned long long)atomic_load(&jobs[i]->ej->records_out),
                    atomic_load(&jobs[i]->ej->checkpoints_completed));
            for (const struct eng_job_event *e = atomic_load(&jobs[i]->ej->events); e; e = e->next)
                fprintf(stderr, "    at %.3f ms: %s\n", (double)e->t_ns / 1e6, e->text);
            break;
        }
    world_down(&x);
    for (uint32_t i = 0; i < njobs; i++)
        mc_job_free(jobs[i]);
    mc_cluster_free(c);
    free(jobs);
    return rc;
}

/* ---- per-job and application --------------------------------------------------- */

static bool work_done(void *arg) { return atomic_load(&((struct mc_app_work *)arg)->done) != 0; }

/* One cluster's whole life for one job; *ms is its cycle (world time). */
/* The phases of one cycle, ms: the cluster's spin-up, the job's own run
 * (submitted -> finished, the session figure's span), the stop. */
struct cycle_figs {
    double ms, spin, job, stop;
};

static int cycle(bool application, const struct eng_expected *ex, struct cycle_figs *cf)
{
    struct world x;
    struct mc_cluster *c = NULL;
    struct mc_job *j = NULL;
    struct mc_app_work work = { .job = 1 };
    snprintf(work.name, sizeof(work.name), "trivial");
    char err[256];
    struct mc_cluster_config cfg;
    config(&cfg, 1, 1, true);
    int rc = world_up(&x);
    if (rc < 0)
        goto out;
    uint64_t t0 = rt_now(x.w);
    if ((rc = mc_cluster_new(x.w, x.dfs, application ? "app" : "perjob", &cfg, &c)) < 0)
        goto out;
    /* As in Flink, the job goes with the cluster (per-job: the client ships
     * the job graph with the deployment; application: main() starts on the
     * JobManager as it comes up): nothing waits for the TaskManagers but
     * the job's slot request. */
    if (application && ((rc = mc_app_work_start(c->jm, x.dfs, &work)) < 0 ||
                        (rc = rt_world_wait(x.w, work_done, &work, WAIT_NS)) < 0))
        goto out;
    if ((rc = mc_cluster_submit(c, bench_modes_graph(), 1, NULL, &j, err, sizeof(err))) < 0)
        goto out;
    struct batch b = { &j, 1 };
    if ((rc = rt_world_wait(x.w, batch_ended, &b, WAIT_NS)) < 0 ||
        (rc = bench_modes_check(j, ex)) < 0)
        goto out;
    cf->spin = (double)(atomic_load(&c->ready_ns) - atomic_load(&c->created_ns)) / 1e6;
    cf->job = (double)(state_at(j, "FINISHED") - atomic_load(&j->submitted_ns)) / 1e6;
    uint64_t t_stop = rt_now(x.w);
    mc_cluster_stop(c);
    cf->stop = (double)(rt_now(x.w) - t_stop) / 1e6;
    cf->ms = (double)(rt_now(x.w) - t0) / 1e6;
out:
    world_down(&x);
    mc_job_free(j);
    mc_cluster_free(c);
    return rc;
}

int bench_modes(json_t **out)
{
    static const struct bench_modes_sizes full = { .seq = 50, .bursts = 10, .burst = 200,
                                                   .cycles = 15 };
    static const struct bench_modes_sizes quick = { .seq = 5, .bursts = 2, .burst = 50,
                                                    .cycles = 3 };
    const struct bench_modes_sizes *z = bench_quick ? &quick : &full;
    struct bench_modes_figs f = { 0 };
    struct eng_expected *ex = NULL;
    char err[256];
    double t0 = bench_now_ms(), load0 = bench_loadavg();
    struct eng_jobgraph *g = bench_modes_graph();
    int rc = eng_reference(g, &ex, err, sizeof(err));
    eng_jobgraph_free(g);
    if (rc < 0)
        return rc;
    double pj[32], app[32], pjs[32], apps[32], pjj[32], pjstop[32];
    if ((rc = session(z, ex, &f)) < 0)
        goto out;
    double load1 = bench_loadavg();
    for (int i = 0; i < z->cycles && rc == 0; i++) {
        struct cycle_figs a = { 0 }, b = { 0 };
        if ((rc = cycle(false, ex, &a)) == 0)
            rc = cycle(true, ex, &b);
        pj[i] = a.ms, pjs[i] = a.spin, pjj[i] = a.job, pjstop[i] = a.stop;
        app[i] = b.ms, apps[i] = b.spin;
    }
    if (rc < 0)
        goto out;
    json_t *o = json_object();
    json_object_set_new(o, "session", json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:i, s:i}",
        "submit_ms", f.submit_ms, "submits_per_s", f.submits_per_s,
        "to_running_ms", f.to_running_ms, "to_finished_ms", f.to_finished_ms,
        "running_per_s", f.running_per_s, "finished_per_s", f.finished_per_s,
        "burst_to_running_ms", f.burst_to_running_ms, "burst", z->burst, "jobs", (int)f.jobs));
    double pjm = bench_median(pj, z->cycles), apm = bench_median(app, z->cycles);
    json_object_set_new(o, "per_job", json_pack("{s:f, s:f, s:f, s:f, s:i}", "cycle_ms", pjm,
        "spinup_ms", bench_median(pjs, z->cycles), "job_ms", bench_median(pjj, z->cycles),
        "stop_ms", bench_median(pjstop, z->cycles), "cycles", z->cycles));
    json_object_set_new(o, "application", json_pack("{s:f, s:f, s:i}", "cycle_ms", apm,
        "spinup_ms", bench_median(apps, z->cycles), "cycles", z->cycles));
    double ratio = pjm / f.to_finished_ms;
    json_object_set_new(o, "per_job_ratio_to_session", json_real(ratio));
    json_t *client = json_object();
    if ((rc = bench_modes_client(client)) < 0) {
        json_decref(client);
        json_decref(o);
        goto out;
    }
    json_object_set_new(o, "client", client);
    json_object_set_new(o, "loadavg_1min", json_real(load0));
    json_object_set_new(o, "loadavg_1min_after_session", json_real(load1));
    json_object_set_new(o, "bench_wall_s", json_real((bench_now_ms() - t0) / 1000.0));
    fprintf(stderr, "bench modes: session accept %.3f ms, RUNNING %.3f ms, finished %.3f ms "
            "(one at a time); bursts of %d: %.0f accepted/s, %.0f RUNNING/s, %.0f finished/s\n"
            "bench modes: per-job cycle %.1f ms, application cycle %.1f ms, ratio %.2f\n",
            f.submit_ms, f.to_running_ms, f.to_finished_ms, z->burst, f.submits_per_s,
            f.running_per_s, f.finished_per_s, pjm, apm, ratio);
    if (!isfinite(ratio) || ratio <= 0 || !isfinite(f.submits_per_s)) {
        json_decref(o);
        rc = -EPROTO;
        goto out;
    }
    *out = o;
out:
    eng_expected_free(ex);
    return rc;
}
