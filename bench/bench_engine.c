/*
 * bench_engine.c - `minicluster bench engine`: records per second through
 * real jobs of the task engine, each against a bare loop doing the same work
 * on the same machine in the same run.
 *
 * Setup (real world, one per measured run): a JobManager-like node with the
 * job's runner, two worker nodes each with a task host, and the DFS.  Source
 * tasks are placed on worker 0 and every other task on worker 1, so records
 * cross nodes (threads) through the engine's channels.  Parallelism 1.
 *
 * Figures, each the median of the repetitions:
 *   passthrough_rps  sequence source -REBALANCE-> sink, unthrottled;
 *                    records / (FINISHED - RUNNING), both from the job's own
 *                    event list (world time).  Floor: ring_rps, a bare
 *                    batched SPSC ring between two threads moving the same
 *                    records (bench_engine_floor.c).
 *   keyed_rps        source -HASH-> sum -> discard over KEYED_KEYS keys, same
 *                    clock.  Floor: hashagg_rps, one thread summing the same
 *                    key sequence into a bare open-addressing table.  The
 *                    sink is the discarding one, as in Flink's keyBy
 *                    benchmark (a sink that does nothing), so the figure is
 *                    the cost of the keyBy and the sum; it still checks the
 *                    run through its count and digest (op_discard.c).  The
 *                    same job ending in the transactional sink, which folds
 *                    every record into the output's per-key tables, is
 *                    reported beside it as keyed_txn_*.
 *   checkpoint_overhead  1 - rps(interval 100 ms) / rps(no periodic
 *                    checkpoint) for source -HASH-> sum -> alloc -> sink,
 *                    the ALLOC operator holding ~16 MB of keyed state, with
 *                    incremental checkpoints (chk_incremental), as Flink
 *                    users run large state: the blobs are written by the
 *                    first checkpoint and referred to after.  The same with
 *                    full checkpoints, every one writing all 16 MB, is
 *                    chk_*_full beside it.  The variants alternate, run by
 *                    run, so drift of the machine hits them alike, and run
 *                    CHK_PAIRS times each (a single pair varies by +-0.1
 *                    on a quiet machine).
 *                    Each run is long enough (~1 s) for some ten periodic
 *                    checkpoints, so the figure is the steady cost of
 *                    checkpointing rather than of the first one (fresh copy
 *                    arrays, page faults) and of the final one, which both
 *                    variants take, and so the CPU figures below have
 *                    enough checkpoints to divide by.
 * Where a checkpoint's cost lands (chk_cpu_ms_*, medians over the pairs):
 * CPU time of the threads, read from /proc/self/task/<tid>/schedstat at the
 * end of each run, by thread name: the TaskManager threads ("tm0", "tm1"),
 * their snapshot workers ("ofl-tm0", "ofl-tm1") and the DFS ("dfs").  Per
 * checkpoint: offload and DFS CPU of the run with periodic checkpoints over
 * its checkpoints (the final one included); the task threads' extra CPU
 * over the extra checkpoints, (with - without) / (checkpoints with -
 * checkpoints without), which also counts whatever makes their record
 * processing slower meanwhile.  Thread names are the runtime's: a node's
 * thread is named after the node, its offload worker "ofl-<node>".
 * Extras: chan_rps (the engine's channel in the floor's bare loops),
 * kstate_rps (eng_kstate_add_batch alone), *_drain_ms (RUNNING until the sink
 * task has received the last record; the rest up to FINISHED is the final
 * checkpoint and the sink's commit), *_wakes_per_batch (channel wake-ups per
 * data batch).
 * Spreads: *_ratio_min/max (a repetition's job against the floor run next
 * to it) and ring_rps_min/max, hashagg_rps_min/max (the floor alone).  On
 * a shared machine the same bare loop can run 30 % faster or slower from
 * one minute to the next, and the jobs with it, so a median is worth only
 * as much as the spread beside it says.
 *
 * Every run is checked: the job must finish with no restart and its committed
 * output must be exactly the reference model's (eng_output_verify against
 * eng_reference).  A broken run makes the bench fail (non-zero exit) rather
 * than report a figure of something that did not work.  --quick: smaller
 * sizes and one repetition, for CI.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_engine.h"
#include "engine/jobrun.h"
#include "engine/operator.h"
#include "runtime/dfs.h"
#include "runtime/rt_dir.h"

#define WAIT_NS (60 * RT_NS_PER_SEC)
#define POLL_NS (2 * RT_NS_PER_MS)      /* how often the drain moment is looked for */
#define PASS_KEYS 1024                  /* few keys: the sink's output table stays small */
#define KEYED_KEYS 100000
#define CHK_INTERVAL_MS 100
#define CHK_STATE_BYTES (16u << 20)     /* keyed state the checkpointed job carries */
#define CHK_BYTES_PER_KEY (CHK_STATE_BYTES / KEYED_KEYS)
#define CHK_PAIRS 7
#define MAX_REPS CHK_PAIRS  /* the most repetitions of any figure */

/* Sizes: a full run of the checkpointed job takes ~1 s on the reference
 * machine, of the others 50-500 ms.  The keyed jobs run 20 M records: with
 * the discarding sink 6 M took ~55 ms, of which ~10 ms are the start and the
 * final checkpoint, costs the floor does not have. */
struct sizes {
    uint64_t pass_records, keyed_records, chk_records;
    int job_reps;
    int chk_reps;   /* pairs: a ratio of two noisy figures needs more */
};

static const struct sizes full_sizes = { 8000000, 20000000, 20000000, 5, CHK_PAIRS };
static const struct sizes quick_sizes = { 1000000, 500000, 500000, 1, 1 };

enum shape { SHAPE_PASS, SHAPE_KEYED, SHAPE_KEYED_TXN, SHAPE_CHK };

/* ---- the harness: one world per run ----------------------------------------------- */

struct harness {
    struct rt_world *w;
    struct dfs *dfs;
    char root[256];
    struct rt_node *jm, *tm[2];
    _Atomic rt_addr host[2];
    struct eng_job *job;
};

static void spawn_host(struct rt_node *n, void *arg)
{
    _Atomic rt_addr *slot = arg;
    atomic_store(slot, rt_actor_addr(eng_taskhost_spawn(n)));
    rt_world_notify(rt_node_world(n));
}

static bool host_ready(void *arg)
{
    return atomic_load((_Atomic rt_addr *)arg) != 0;
}

/* Source chains on worker 0, everything else on worker 1.  Runs on the jm
 * node; the execution graph is read-only by then. */
static rt_addr place(void *arg, uint32_t task, uint32_t attempt)
{
    struct harness *h = arg;
    const struct eng_task *t = eng_execgraph_task(h->job->eg, task);
    const struct eng_chain *c = eng_execgraph_chain(h->job->eg, t->chain);
    const struct eng_vertex *head = eng_jobgraph_vertex(h->job->graph, c->ops[0]);
    bool src = head->kind == ENG_OP_SOURCE_SEQUENCE || head->kind == ENG_OP_SOURCE_RANDOM;
    return atomic_load(&h->host[src ? 0 : 1]);
}

/* A bench must not hide a failure behind a restart. */
static int no_restart(void *arg, uint32_t failures, const char *reason, uint64_t *delay_ns)
{
    return 0;
}


static void harness_down(struct harness *h)
{
    rt_world_free(h->w);
    dfs_free(h->dfs);
    eng_job_free(h->job);
    if (h->root[0])
        rt_dir_remove(h->root);
}

static int harness_up(struct harness *h)
{
    memset(h, 0, sizeof(*h));
    struct rt_world_config cfg = { .kind = RT_WORLD_REAL, .seed = 7 };
    int rc = rt_world_new(&cfg, &h->w);
    if (rc < 0)
        return rc;
    if ((rc = rt_dir_make_temp("mc-bench-engine", h->root, sizeof(h->root))) < 0) {
        h->root[0] = '\0';
        goto fail;
    }
    /* No modelled latency or bandwidth: the DFS costs what the local disk costs. */
    struct dfs_config dc = { .root = h->root };
    if ((rc = dfs_new(h->w, &dc, &h->dfs)) < 0)
        goto fail;
    h->jm = rt_node_new(h->w, "jm");
    if ((rc = rt_node_start(h->jm)) < 0)
        goto fail;
    for (int i = 0; i < 2; i++) {
        h->tm[i] = rt_node_new(h->w, i ? "tm1" : "tm0");
        if ((rc = rt_node_start(h->tm[i])) < 0 ||
            (rc = rt_node_call(h->tm[i], spawn_host, &h->host[i])) < 0 ||
            (rc = rt_world_wait(h->w, host_ready, &h->host[i], WAIT_NS)) < 0)
            goto fail;
    }
    return 0;
fail:
    harness_down(h);
    memset(h, 0, sizeof(*h));
    return rc;
}

/* ---- jobs ----------------------------------------------------------------------------- */

static struct eng_jobgraph *build_graph(enum shape s, uint64_t records)
{
    static const char *const name[] = { "passthrough", "keyed", "keyed-txn", "checkpointed" };
    struct eng_jobgraph *g = eng_jobgraph_new(name[s]);
    struct eng_op_args src = { .records = records,
                               .keys = s == SHAPE_PASS ? PASS_KEYS : KEYED_KEYS };
    int v = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, 1, 0);
    int k = eng_jobgraph_add_vertex(g, "sink", s == SHAPE_KEYED ? ENG_OP_DISCARD : ENG_OP_SINK,
                                    NULL, 1, 0);
    if (s == SHAPE_PASS) {
        /* REBALANCE, not FORWARD: a forward edge would fuse source and sink
         * into one task and no record would cross a channel. */
        eng_jobgraph_add_edge(g, (uint32_t)v, (uint32_t)k, ENG_EDGE_REBALANCE);
        return g;
    }
    int sum = eng_jobgraph_add_vertex(g, "sum", ENG_OP_SUM, NULL, 1, 0);
    eng_jobgraph_add_edge(g, (uint32_t)v, (uint32_t)sum, ENG_EDGE_HASH);
    int last = sum;
    if (s == SHAPE_CHK) {
        struct eng_op_args al = { .bytes_per_key = CHK_BYTES_PER_KEY };
        int a = eng_jobgraph_add_vertex(g, "state", ENG_OP_ALLOC, &al, 1, 0);
        eng_jobgraph_add_edge(g, (uint32_t)sum, (uint32_t)a, ENG_EDGE_FORWARD);
        last = a;
    }
    eng_jobgraph_add_edge(g, (uint32_t)last, (uint32_t)k, ENG_EDGE_FORWARD);
    return g;
}

struct run_result {
    double rps;                 /* records / (FINISHED - RUNNING) */
    double run_ms, drain_ms;
    double wakes_per_batch;
    uint64_t records;
    uint32_t checkpoints;
    uint64_t chk_bytes;         /* written to the DFS for checkpoints */
    double cpu_task_ms, cpu_offload_ms, cpu_dfs_ms;   /* thread CPU, whole run */
};

struct run_req {
    struct harness *h;
    struct eng_jobrun_policy pol;
};

static void spawn_runner(struct rt_node *n, void *arg)
{
    struct run_req *r = arg;
    eng_jobrun_spawn(n, r->h->job, &r->pol);
}

static bool terminal(void *arg)
{
    return eng_job_ended(arg);
}

/* World time of the oldest event whose text starts with the state's name. */
static uint64_t event_time(const struct eng_job *j, enum eng_job_state st)
{
    const char *name = eng_job_state_name(st);
    uint64_t t = 0;
    for (const struct eng_job_event *e = atomic_load(&((struct eng_job *)j)->events); e;
         e = e->next)
        if (strncmp(e->text, name, strlen(name)) == 0)
            t = e->t_ns;
    return t;
}

static void dump_events(const struct eng_job *j)
{
    for (const struct eng_job_event *e = atomic_load(&((struct eng_job *)j)->events); e;
         e = e->next)
        fprintf(stderr, "    at %.3f ms: %s\n", (double)e->t_ns / 1e6, e->text);
}

/* CPU time used so far by this process's threads, summed by name (see the
 * top): the first field of /proc/self/task/<tid>/schedstat, in ns.  A sum
 * is -1 when a thread's times cannot be read.  Threads of earlier runs have
 * exited. */
static void threads_cpu(struct run_result *res)
{
    static const char *const prefix[3] = { "tm", "ofl-", "dfs" };
    double ms[3] = { 0, 0, 0 };
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[sizeof("/proc/self/task//schedstat") + sizeof(e->d_name)], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *fp = e->d_name[0] == '.' ? NULL : fopen(path, "r");
        if (!fp)
            continue;   /* not a thread, or it has just exited */
        bool named = fgets(comm, sizeof(comm), fp) != NULL;
        fclose(fp);
        int k = 0;
        while (named && k < 3 && strncmp(comm, prefix[k], strlen(prefix[k])) != 0)
            k++;
        if (!named || k == 3)
            continue;
        unsigned long long ns;
        snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
        if (!(fp = fopen(path, "r")))
            continue;
        if (fscanf(fp, "%llu", &ns) != 1)
            ms[k] = -1;
        else if (ms[k] >= 0)
            ms[k] += (double)ns / 1e6;
        fclose(fp);
    }
    if (d)
        closedir(d);
    res->cpu_task_ms = d ? ms[0] : -1;
    res->cpu_offload_ms = d ? ms[1] : -1;
    res->cpu_dfs_ms = d ? ms[2] : -1;
}

/* Runs one job to its end in a fresh world and checks its output against
 * `expected`.  Returns 0 with *res filled, -EPROTO for a run that did not do
 * what it should (said on stderr), or -errno from the setup. */
/* How a job checkpoints: the interval of its periodic checkpoints (0:
 * the final one only) and whether they are incremental. */
struct variant {
    uint64_t interval_ms;
    bool incremental;
};

static int run_job(enum shape s, uint64_t records, struct variant var,
                   const struct eng_expected *expected, struct run_result *res)
{
    struct harness h;
    int rc = harness_up(&h);
    if (rc < 0)
        return rc;
    struct eng_job_config cfg;
    eng_job_config_defaults(&cfg);
    cfg.checkpoint_interval_ns = var.interval_ms * RT_NS_PER_MS;
    cfg.incremental = var.incremental;
    char err[256];
    if ((rc = eng_job_new(1, build_graph(s, records), &cfg, h.dfs, &h.job, err,
                          sizeof(err))) < 0) {
        fprintf(stderr, "bench engine: job rejected: %s\n", err);
        goto out;
    }
    struct run_req req = { &h, { .place = place, .on_failure = no_restart, .arg = &h } };
    if ((rc = rt_node_call(h.jm, spawn_runner, &req)) < 0)
        goto out;
    /* Poll for the moment the sink task has every record, to split the run
     * into data flow and final checkpoint; the job's end wakes us at once. */
    uint64_t deadline = rt_now(h.w) + WAIT_NS, drained = 0;
    while (!terminal(h.job) && rt_now(h.w) < deadline) {
        rt_world_wait(h.w, terminal, h.job, POLL_NS);
        if (!drained && atomic_load(&h.job->records_out) >= records)
            drained = rt_now(h.w);
    }
    enum eng_job_state st = eng_job_state(h.job);
    struct eng_verdict v = { 0 };
    if (st == ENG_JOB_FINISHED)
        eng_output_verify(h.job->output, expected, &v);
    if (st != ENG_JOB_FINISHED || atomic_load(&h.job->restarts) != 0 || !v.exactly_once ||
        v.committed != records) {
        eng_job_last_error(h.job, err, sizeof(err));
        fprintf(stderr, "bench engine: broken run of %s: state %s (%s), restarts %u, "
                "committed %llu of %llu, lost %llu, duplicated %llu, wrong %llu\n",
                h.job->name, eng_job_state_name(st), err[0] ? err : "no error",
                atomic_load(&h.job->restarts), (unsigned long long)v.committed,
                (unsigned long long)records, (unsigned long long)v.lost,
                (unsigned long long)v.duplicated, (unsigned long long)v.wrong_values);
        dump_events(h.job);
        rc = -EPROTO;
        goto out;
    }
    uint64_t t_run = event_time(h.job, ENG_JOB_RUNNING);
    uint64_t t_fin = event_time(h.job, ENG_JOB_FINISHED);
    uint64_t wakes = 0;
    for (struct eng_attempt *a = h.job->attempts; a; a = a->next)
        for (uint32_t i = 0; i < a->nchans; i++)
            if (a->owns[i])     /* a channel reused by a later attempt counts once */
                wakes += atomic_load(&a->chans[i]->wakes);
    struct dfs_io_stats io;
    dfs_stats_phase(h.dfs, DFS_PHASE_CHECKPOINT, &io);
    *res = (struct run_result){
        .records = records,
        .run_ms = (double)(t_fin - t_run) / 1e6,
        .drain_ms = drained > t_run ? (double)(drained - t_run) / 1e6 : 0,
        .wakes_per_batch = (double)wakes / ((double)records / ENG_BATCH_CAP),
        .checkpoints = atomic_load(&h.job->checkpoints_completed),
        .chk_bytes = io.bytes_written,
    };
    res->rps = t_fin > t_run ? (double)records / ((double)(t_fin - t_run) / 1e9) : 0;
    threads_cpu(res);
    rc = 0;
out:
    harness_down(&h);
    return rc;
}

static int reference_of(enum shape s, uint64_t records, struct eng_expected **out)
{
    char err[256];
    struct eng_jobgraph *g = build_graph(s, records);
    int rc = eng_reference(g, out, err, sizeof(err));
    eng_jobgraph_free(g);
    if (rc < 0)
        fprintf(stderr, "bench engine: reference model: %s\n", err);
    return rc;
}

/* Medians over the repetitions of one job shape. */
struct job_figs {
    double rps, run_ms, drain_ms, flow_rps, wakes_per_batch, chk_bytes, checkpoints;
    double floor_rps;           /* the floor run next to each repetition */
    /* The spread over the repetitions: of the floor alone (a bare loop, so
     * what the machine itself varied by) and of the job against the floor
     * run next to it. */
    double floor_min, floor_max, ratio_min, ratio_max;
};

static void medians(const struct run_result *r, const double *floor, int n,
                    struct job_figs *f)
{
    double v[8][MAX_REPS];
    for (int i = 0; i < n; i++) {
        v[0][i] = r[i].rps;
        v[1][i] = r[i].run_ms;
        v[2][i] = r[i].drain_ms;
        v[3][i] = r[i].drain_ms > 0 ? (double)r[i].records / (r[i].drain_ms / 1e3) : 0;
        v[4][i] = r[i].wakes_per_batch;
        v[5][i] = (double)r[i].chk_bytes;
        v[6][i] = r[i].checkpoints;
        v[7][i] = floor ? floor[i] : 0;
    }
    f->rps = bench_median(v[0], n);
    f->run_ms = bench_median(v[1], n);
    f->drain_ms = bench_median(v[2], n);
    f->flow_rps = bench_median(v[3], n);
    f->wakes_per_batch = bench_median(v[4], n);
    f->chk_bytes = bench_median(v[5], n);
    f->checkpoints = bench_median(v[6], n);
    f->floor_rps = bench_median(v[7], n);
    f->floor_min = f->ratio_min = INFINITY;
    f->floor_max = f->ratio_max = -INFINITY;
    for (int i = 0; floor && i < n; i++) {
        f->floor_min = fmin(f->floor_min, floor[i]);
        f->floor_max = fmax(f->floor_max, floor[i]);
        f->ratio_min = fmin(f->ratio_min, r[i].rps / floor[i]);
        f->ratio_max = fmax(f->ratio_max, r[i].rps / floor[i]);
    }
}

/* What only both runs of each checkpoint pair tell, medians over the pairs;
 * a CPU figure is -1 when no pair had both a periodic checkpoint (--quick
 * runs are too short) and readable thread times. */
struct chk_figs {
    double overhead_min, overhead_max;  /* of single pairs: the spread */
    double task_ms, offload_ms, dfs_ms; /* CPU per checkpoint, see the top */
};

static void pair_figs(const struct run_result *off, const struct run_result *on, int n,
                      struct chk_figs *cf)
{
    double v[3][MAX_REPS];
    int m = 0;
    cf->overhead_min = INFINITY;
    cf->overhead_max = -INFINITY;
    for (int i = 0; i < n; i++) {
        double ov = 1.0 - on[i].rps / off[i].rps;
        cf->overhead_min = fmin(cf->overhead_min, ov);
        cf->overhead_max = fmax(cf->overhead_max, ov);
        if (on[i].checkpoints <= off[i].checkpoints || on[i].cpu_task_ms < 0 ||
            off[i].cpu_task_ms < 0 || on[i].cpu_offload_ms < 0 || on[i].cpu_dfs_ms < 0)
            continue;
        v[0][m] = (on[i].cpu_task_ms - off[i].cpu_task_ms) /
                  (on[i].checkpoints - off[i].checkpoints);
        v[1][m] = on[i].cpu_offload_ms / on[i].checkpoints;
        v[2][m] = on[i].cpu_dfs_ms / on[i].checkpoints;
        m++;
    }
    cf->task_ms = m ? bench_median(v[0], m) : -1;
    cf->offload_ms = m ? bench_median(v[1], m) : -1;
    cf->dfs_ms = m ? bench_median(v[2], m) : -1;
}

typedef int (*floor_fn)(uint64_t records, uint64_t keys, double *rps);

/* Runs shape s n times in each variant v[0..nv-1], the variants one after
 * the other within a repetition, into f[0..nv-1].  With floor_of, the
 * floor runs right before each repetition, so a machine busy with something
 * else for a while slows figure and floor alike; the variants alternate for
 * the same reason.  cf[k-1] is what the pairs of v[0] and v[k] tell. */
static int measure(enum shape s, uint64_t records, int n, floor_fn floor_of, uint64_t keys,
                   const struct variant *v, int nv, struct job_figs *f, struct chk_figs *cf)
{
    enum { VARIANTS_MAX = 3 };
    struct eng_expected *e = NULL;
    int rc = reference_of(s, records, &e);
    if (rc < 0)
        return rc;
    struct run_result r[VARIANTS_MAX][MAX_REPS];
    double fl[MAX_REPS];
    for (int i = 0; i < n && rc == 0; i++) {
        if (floor_of && (rc = floor_of(records, keys, &fl[i])) < 0) {
            fprintf(stderr, "bench engine: a floor loop lost records (checksum)\n");
            break;
        }
        for (int k = 0; k < nv && k < VARIANTS_MAX && rc == 0; k++)
            rc = run_job(s, records, v[k], e, &r[k][i]);
    }
    eng_expected_free(e);
    if (rc < 0)
        return rc;
    for (int k = 0; k < nv && k < VARIANTS_MAX; k++) {
        medians(r[k], floor_of && k == 0 ? fl : NULL, n, &f[k]);
        if (k)
            pair_figs(r[0], r[k], n, &cf[k - 1]);
    }
    return 0;
}

/* The median of n runs of a floor on its own (the extra floors). */
static int floor_median(floor_fn fn, uint64_t records, uint64_t keys, int n, double *rps)
{
    double v[MAX_REPS];
    for (int i = 0; i < n; i++) {
        int rc = fn(records, keys, &v[i]);
        if (rc < 0) {
            fprintf(stderr, "bench engine: a floor loop lost records (checksum)\n");
            return rc;
        }
    }
    *rps = bench_median(v, n);
    return 0;
}

/* ---- the bench ------------------------------------------------------------------------ */

static bool sane(double x)
{
    return isfinite(x) && x > 0;
}

static void put(json_t *o, const char *key, double v)
{
    json_object_set_new(o, key, json_real(v));
}

int bench_engine(json_t **out)
{
    const struct sizes *z = bench_quick ? &quick_sizes : &full_sizes;
    struct job_figs pass, keyed, txn, chk[3];
    struct chk_figs cf[2];
    /* Without periodic checkpoints, with incremental ones (the figure), and
     * with full ones (beside it). */
    const struct variant none = { 0, false }, chk_vars[3] = {
        { 0, false }, { CHK_INTERVAL_MS, true }, { CHK_INTERVAL_MS, false } };
    double chan = 0, kstate = 0;
    double t0 = bench_now_ms();
    int rc;
    if ((rc = measure(SHAPE_PASS, z->pass_records, z->job_reps, bench_floor_ring, PASS_KEYS,
                      &none, 1, &pass, NULL)) < 0 ||
        (rc = measure(SHAPE_KEYED, z->keyed_records, z->job_reps, bench_floor_hashagg,
                      KEYED_KEYS, &none, 1, &keyed, NULL)) < 0 ||
        (rc = measure(SHAPE_KEYED_TXN, z->keyed_records, z->job_reps, bench_floor_hashagg,
                      KEYED_KEYS, &none, 1, &txn, NULL)) < 0 ||
        (rc = measure(SHAPE_CHK, z->chk_records, z->chk_reps, NULL, 0, chk_vars, 3, chk,
                      cf)) < 0 ||
        (rc = floor_median(bench_floor_chan, z->pass_records, PASS_KEYS, z->job_reps,
                           &chan)) < 0 ||
        (rc = floor_median(bench_floor_kstate, z->keyed_records, KEYED_KEYS, z->job_reps,
                           &kstate)) < 0)
        return rc;
    const struct job_figs *chk_off = &chk[0], *chk_on = &chk[1], *chk_full = &chk[2];
    double overhead = 1.0 - chk_on->rps / chk_off->rps;
    json_t *o = json_object();
    put(o, "passthrough_rps", pass.rps);
    put(o, "ring_rps", pass.floor_rps);
    put(o, "passthrough_ratio", pass.rps / pass.floor_rps);
    put(o, "keyed_rps", keyed.rps);
    put(o, "hashagg_rps", keyed.floor_rps);
    put(o, "keyed_ratio", keyed.rps / keyed.floor_rps);
    put(o, "checkpoint_overhead", overhead);
    /* The raw material behind the figures.  *_flow_rps: records over the
     * time until the sink task had them all (the rest of the run is the
     * final checkpoint, which writes every record the sink staged). */
    json_object_set_new(o, "repetitions", json_integer(z->job_reps));
    json_object_set_new(o, "passthrough_records", json_integer((json_int_t)z->pass_records));
    put(o, "passthrough_ms", pass.run_ms);
    put(o, "passthrough_drain_ms", pass.drain_ms);
    put(o, "passthrough_flow_rps", pass.flow_rps);
    put(o, "passthrough_wakes_per_batch", pass.wakes_per_batch);
    put(o, "passthrough_ratio_min", pass.ratio_min);
    put(o, "passthrough_ratio_max", pass.ratio_max);
    put(o, "ring_rps_min", pass.floor_min);
    put(o, "ring_rps_max", pass.floor_max);
    put(o, "chan_rps", chan);
    json_object_set_new(o, "keyed_records", json_integer((json_int_t)z->keyed_records));
    json_object_set_new(o, "keyed_keys", json_integer(KEYED_KEYS));
    put(o, "keyed_ms", keyed.run_ms);
    put(o, "keyed_drain_ms", keyed.drain_ms);
    put(o, "keyed_flow_rps", keyed.flow_rps);
    put(o, "keyed_wakes_per_batch", keyed.wakes_per_batch);
    put(o, "keyed_ratio_min", keyed.ratio_min);
    put(o, "keyed_ratio_max", keyed.ratio_max);
    put(o, "hashagg_rps_min", keyed.floor_min);
    put(o, "hashagg_rps_max", keyed.floor_max);
    /* The same job into the transactional sink, against its own floor runs. */
    put(o, "keyed_txn_rps", txn.rps);
    put(o, "keyed_txn_ratio", txn.rps / txn.floor_rps);
    put(o, "keyed_txn_ms", txn.run_ms);
    put(o, "keyed_txn_drain_ms", txn.drain_ms);
    put(o, "kstate_rps", kstate);
    json_object_set_new(o, "chk_records", json_integer((json_int_t)z->chk_records));
    json_object_set_new(o, "chk_repetitions", json_integer(z->chk_reps));
    json_object_set_new(o, "chk_state_bytes", json_integer(CHK_BYTES_PER_KEY * KEYED_KEYS));
    put(o, "chk_rps_with", chk_on->rps);
    put(o, "chk_rps_without", chk_off->rps);
    put(o, "chk_ms_with", chk_on->run_ms);
    put(o, "chk_ms_without", chk_off->run_ms);
    put(o, "chk_flow_rps_with", chk_on->flow_rps);
    put(o, "chk_flow_rps_without", chk_off->flow_rps);
    /* The cost while data flows, which the final checkpoint of the run
     * without periodic ones hides in checkpoint_overhead. */
    put(o, "chk_flow_overhead", 1.0 - chk_on->flow_rps / chk_off->flow_rps);
    put(o, "chk_checkpoints", chk_on->checkpoints);
    put(o, "chk_bytes_written", chk_on->chk_bytes);
    put(o, "chk_overhead_min", cf[0].overhead_min);
    put(o, "chk_overhead_max", cf[0].overhead_max);
    put(o, "chk_cpu_ms_task", cf[0].task_ms);
    put(o, "chk_cpu_ms_offload", cf[0].offload_ms);
    put(o, "chk_cpu_ms_dfs", cf[0].dfs_ms);
    /* The same with full checkpoints, each writing all 16 MB. */
    json_object_set_new(o, "chk_incremental", json_true());
    put(o, "chk_overhead_full", 1.0 - chk_full->rps / chk_off->rps);
    put(o, "chk_overhead_full_min", cf[1].overhead_min);
    put(o, "chk_overhead_full_max", cf[1].overhead_max);
    put(o, "chk_rps_with_full", chk_full->rps);
    put(o, "chk_checkpoints_full", chk_full->checkpoints);
    put(o, "chk_bytes_written_full", chk_full->chk_bytes);
    put(o, "chk_cpu_ms_task_full", cf[1].task_ms);
    put(o, "chk_cpu_ms_offload_full", cf[1].offload_ms);
    put(o, "chk_cpu_ms_dfs_full", cf[1].dfs_ms);
    put(o, "bench_wall_s", (bench_now_ms() - t0) / 1000.0);
    /* Two cores shared with whatever else runs: say how busy the machine was. */
    put(o, "loadavg_1min", bench_loadavg());
    /* A figure that is zero, negative or not a number measured nothing. */
    if (!sane(pass.rps) || !sane(pass.floor_rps) || !sane(keyed.rps) ||
        !sane(keyed.floor_rps) || !sane(txn.rps) || !sane(txn.floor_rps) ||
        !sane(chk_on->rps) || !sane(chk_off->rps) || !sane(chk_full->rps) ||
        !isfinite(overhead)) {
        fprintf(stderr, "bench engine: a figure is not a positive finite number "
                "(passthrough %g, ring %g, keyed %g, hashagg %g, keyed-txn %g, hashagg %g, "
                "checkpointed %g/%g)\n", pass.rps, pass.floor_rps, keyed.rps, keyed.floor_rps,
                txn.rps, txn.floor_rps, chk_on->rps, chk_off->rps);
        json_decref(o);
        return -EPROTO;
    }
    *out = o;
    return 0;
}
