/*
 * bench_recovery.c - `minicluster bench recovery`: how long a job with
 * ~100 MB of keyed state takes to get its state back after a TaskManager
 * crash, against a bare loop doing the same restore work.
 *
 * Setup (real world): a session cluster of 3 TaskManagers x 1 slot, slots
 * spread, the DFS unthrottled (every capacity 0: the local disk's cost), and
 * one job source -HASH-> alloc(BYTES_PER_KEY per key) -> sink at parallelism
 * 2, KEYS keys (KEYS * BYTES_PER_KEY = 100 MB of keyed state), checkpoints
 * every CHK_INTERVAL, two retained.  Once two checkpoints completed, the
 * TaskManager of subtask 0 is crashed (mc_tm_crash: its process dies, calls
 * to it fail, so the RPC-failure threshold finds it).  Every task restarts
 * (one pipelined region) from the latest checkpoint on the two live slots.
 *
 * Figures, each from the job's own event list (world time), median of reps:
 *   detect    crash -> the job's FAILING event (its JobManager heard the loss)
 *   schedule  FAILING -> "attempt N deployed, restoring checkpoint K"
 *   restore   deployed -> RUNNING (every task read its files and decoded its
 *             state; a task reports RUNNING only then) = restore_ms
 *   catch-up  RUNNING -> the sources emitted, again, what they had emitted
 *             between checkpoint K and the crash (records_in polled)
 * Floor, bound_ms: in the same run, right after the job ends, one thread
 * reads each state file of checkpoint K (hard-linked away when the job
 * fails, so later checkpoints cannot delete them) with read(2) and decodes
 * it with eng_snapshot_decode into a fresh eng_kstate: no messages, no DFS
 * service, no actors.  ratio_to_bound = restore_ms / bound_ms (two tasks
 * restore in parallel, so below 1 is possible).
 *
 * Every run must end FINISHED with exactly the reference model's output
 * (eng_output_verify vs eng_reference), restored from the checkpoint we
 * linked, or the bench fails (exit 3).  The same harness then runs in the
 * SIM world at Flink's default heartbeats (10 s / 50 s, restart delay 1 s),
 * and the scenario runner (scn_run, sim) runs a scenario of the same job
 * with a silent kill at those defaults (bench_recovery_sim.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/bench_recovery.h"
#include "minicluster/cluster.h"
#include "engine/kstate.h"
#include "engine/operator.h"
#include "runtime/dfs.h"
#include "runtime/rt_dir.h"

#define KEYS 100000u
#define BYTES_PER_KEY 1000u             /* KEYS * BYTES_PER_KEY = 100 MB */
#define PAR 2
#define WAIT_NS (600 * RT_NS_PER_SEC)       /* sim: virtual time */
#define REAL_WAIT_NS (60 * RT_NS_PER_SEC)   /* real: a hang ends the bench (exit 3) */
#define POLL_NS (1 * RT_NS_PER_MS)

struct rec_env {
    struct rt_world *w;
    struct dfs *dfs;
    char root[256];
    struct mc_cluster *c;
    struct mc_job *j;
    const struct bench_rec_params *p;
};

/* The sources' counter, polled through the run (world time, records_in). */
struct rec_samples {
    uint64_t *t, *in;
    uint32_t n, cap;
    uint64_t chk_seen, in_at_chk;       /* records_in when chk_seen was first seen */
};

static struct eng_jobgraph *rec_graph(const struct bench_rec_params *p)
{
    struct eng_jobgraph *g = eng_jobgraph_new("stateful");
    struct eng_op_args src = { .records = p->records, .keys = p->keys, .rate = p->rate };
    struct eng_op_args al = { .bytes_per_key = p->bytes_per_key };
    int s = eng_jobgraph_add_vertex(g, "source", ENG_OP_SOURCE_SEQUENCE, &src, PAR, 0);
    int a = eng_jobgraph_add_vertex(g, "state", ENG_OP_ALLOC, &al, PAR, 0);
    int k = eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, PAR, 0);
    eng_jobgraph_add_edge(g, (uint32_t)s, (uint32_t)a, ENG_EDGE_HASH);
    eng_jobgraph_add_edge(g, (uint32_t)a, (uint32_t)k, ENG_EDGE_FORWARD);
    return g;
}


static void env_down(struct rec_env *e)
{
    rt_world_free(e->w);
    dfs_free(e->dfs);
    mc_job_free(e->j);
    mc_cluster_free(e->c);
    if (e->root[0])
        rt_dir_remove(e->root);
}

static int env_up(struct rec_env *e, const struct bench_rec_params *p)
{
    memset(e, 0, sizeof(*e));
    e->p = p;
    struct rt_world_config wc = { .kind = p->kind, .seed = 11 };
    int rc = rt_world_new(&wc, &e->w);
    if (rc < 0)
        return rc;
    if ((rc = rt_dir_make_temp("mc-bench-recovery", e->root, sizeof(e->root))) < 0) {
        e->root[0] = '\0';
        return rc;
    }
    struct dfs_config dc = { .root = e->root };     /* unthrottled */
    if ((rc = dfs_new(e->w, &dc, &e->dfs)) < 0)
        return rc;
    struct mc_cluster_config cfg;
    mc_cluster_config_defaults(&cfg);
    cfg.taskmanagers = 3;
    cfg.slots = 1;
    cfg.evenly_spread = true;
    cfg.hb_interval_ns = p->hb_interval_ns;
    cfg.hb_timeout_ns = p->hb_timeout_ns;
    cfg.job.checkpoint_interval_ns = p->chk_interval_ns;
    cfg.job.num_retained = 2;
    mc_restart_config_defaults(&cfg.restart, MC_RESTART_FIXED_DELAY);
    char err[128], delay[32];
    snprintf(delay, sizeof(delay), "%llums", (unsigned long long)(p->restart_delay_ns / RT_NS_PER_MS));
    if (mc_restart_config_set(&cfg.restart, "restart-strategy.fixed-delay.attempts", "10", err,
                              sizeof(err)) < 0 ||
        mc_restart_config_set(&cfg.restart, "restart-strategy.fixed-delay.delay", delay, err,
                              sizeof(err)) < 0) {
        fprintf(stderr, "bench recovery: restart config: %s\n", err);
        return -EINVAL;
    }
    return mc_cluster_new(e->w, e->dfs, "rec", &cfg, &e->c);
}

static bool ready_env(void *arg) { return mc_cluster_ready(((struct rec_env *)arg)->c); }

static bool two_checkpoints(void *arg)
{
    struct rec_env *e = arg;
    return atomic_load(&e->j->ej->last_checkpoint) >= 2 || eng_job_ended(e->j->ej);
}

static bool failing(void *arg)
{
    struct rec_env *e = arg;
    return atomic_load(&e->j->ej->restarts) >= 1 || eng_job_state(e->j->ej) != ENG_JOB_RUNNING;
}

static bool ended(void *arg) { return eng_job_ended(((struct rec_env *)arg)->j->ej); }

/* Waits for pred; with samples, polls every POLL_NS and records the sources'
 * counter each time (records_in sends no notification), for the catch-up. */
static int wait_for(struct rec_env *e, bool (*pred)(void *), struct rec_samples *smp)
{
    uint64_t wait = e->p->kind == RT_WORLD_SIM ? WAIT_NS : REAL_WAIT_NS;
    if (!smp)
        return rt_world_wait(e->w, pred, e, wait);
    uint64_t deadline = rt_now(e->w) + wait;
    while (!pred(e)) {
        if (rt_now(e->w) >= deadline)
            return -ETIMEDOUT;
        rt_world_wait(e->w, pred, e, POLL_NS);
        if (smp->n < smp->cap) {
            smp->t[smp->n] = rt_now(e->w);
            smp->in[smp->n++] = atomic_load(&e->j->ej->records_in);
        }
        uint64_t k = atomic_load(&e->j->ej->last_checkpoint);
        if (k != smp->chk_seen) {
            smp->chk_seen = k;
            smp->in_at_chk = atomic_load(&e->j->ej->records_in);
        }
    }
    return 0;
}

/* World time of the oldest event at or after t0 whose text starts with pfx. */
static uint64_t event_after(const struct eng_job *j, uint64_t t0, const char *pfx,
                            const char **text)
{
    uint64_t t = 0;
    for (const struct eng_job_event *ev = atomic_load(&((struct eng_job *)j)->events); ev;
         ev = ev->next)
        if (ev->t_ns >= t0 && strncmp(ev->text, pfx, strlen(pfx)) == 0) {
            t = ev->t_ns;
            if (text)
                *text = ev->text;
        }
    return t;
}

/* Hard-links the .state files of <root>/<job dir>/chk-K into <root>/bound-K so
 * that newer checkpoints cannot delete them before the bound loop reads them. */
static int link_checkpoint(struct rec_env *e, uint64_t k, char *dst, size_t dstlen)
{
    char src[512];
    snprintf(src, sizeof(src), "%s/%s/chk-%llu", e->root, e->j->ej->dir, (unsigned long long)k);
    snprintf(dst, dstlen, "%s/bound-%llu", e->root, (unsigned long long)k);
    if (mkdir(dst, 0700) < 0 && errno != EEXIST)
        return -errno;
    DIR *d = opendir(src);
    if (!d)
        return -errno;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l < 7 || strcmp(de->d_name + l - 6, ".state") != 0)
            continue;
        char a[1024], b[1024];
        snprintf(a, sizeof(a), "%s/%s", src, de->d_name);
        snprintf(b, sizeof(b), "%s/%s", dst, de->d_name);
        if (link(a, b) == 0)
            n++;
    }
    closedir(d);
    return n > 0 ? n : -ENOENT;
}

static int verify(struct rec_env *e, uint64_t k, uint64_t t_fail, uint64_t t_dep,
                  uint64_t t_run, const char *dep_text)
{
    char err[256];
    struct eng_expected *ex = NULL;
    struct eng_jobgraph *ref = rec_graph(e->p);
    int rc = eng_reference(ref, &ex, err, sizeof(err));
    eng_jobgraph_free(ref);
    if (rc < 0) {
        fprintf(stderr, "bench recovery: reference model: %s\n", err);
        return rc;
    }
    struct eng_verdict v = { 0 };
    enum eng_job_state st = eng_job_state(e->j->ej);
    if (st == ENG_JOB_FINISHED)
        eng_output_verify(e->j->ej->output, ex, &v);
    eng_expected_free(ex);
    char want[64];
    snprintf(want, sizeof(want), "restoring checkpoint %llu", (unsigned long long)k);
    if (st == ENG_JOB_FINISHED && v.exactly_once && t_fail && t_dep && t_run &&
        strstr(dep_text, want))
        return 0;
    eng_job_last_error(e->j->ej, err, sizeof(err));
    fprintf(stderr, "bench recovery: broken run: state %s (%s), exactly-once %d (lost %llu, "
            "duplicated %llu, wrong %llu), deploy event '%s' (wanted '%s')\n",
            eng_job_state_name(st), err, v.exactly_once, (unsigned long long)v.lost,
            (unsigned long long)v.duplicated, (unsigned long long)v.wrong_values, dep_text, want);
    for (const struct eng_job_event *ev = atomic_load(&e->j->ej->events); ev; ev = ev->next)
        fprintf(stderr, "    at %.3f ms: %s\n", (double)ev->t_ns / 1e6, ev->text);
    return -EPROTO;
}

/* ---- the floor ------------------------------------------------------------------ */

static int read_file(const char *path, uint8_t **buf, size_t *len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0 || !(*buf = malloc((size_t)st.st_size ? (size_t)st.st_size : 1))) {
        rc = -errno;
        close(fd);
        return rc ? rc : -ENOMEM;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);
        if (r <= 0) {
            rc = r < 0 ? -errno : -EIO;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    if (rc < 0)
        free(*buf);
    return rc;
}

int bench_rec_bound(const char *dir, const struct eng_jobgraph *g, double *ms,
                    uint64_t *bytes, uint64_t *src_offsets)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    char names[64][256];
    uint32_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 64)
        if (strstr(de->d_name, ".state"))
            snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
    closedir(d);
    uint64_t total = 0, offsets = 0;
    int rc = 0;
    double t0 = bench_now_ms();
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        char path[1024], err[160];
        unsigned vtx = 0, sub = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (sscanf(names[i], "v%u-s%u", &vtx, &sub) != 2 || vtx >= eng_jobgraph_vertex_count(g))
            return -EINVAL;
        uint32_t maxp = eng_jobgraph_vertex(g, vtx)->max_parallelism;
        uint8_t *buf = NULL;
        size_t len = 0;
        if ((rc = read_file(path, &buf, &len)) < 0)
            break;
        struct eng_kstate *ks = eng_kstate_new(maxp);
        struct eng_snap_state st;
        rc = eng_snapshot_decode(buf, len, names[i], 0, maxp - 1, ks, &st, err, sizeof(err));
        if (rc == 0) {
            uint64_t off;
            if (src_offsets && eng_snap_get_u64(&st, "source.offset", &off) == 0)
                offsets += off;
            eng_snap_state_release(&st);
        } else {
            fprintf(stderr, "bench recovery: bound: %s\n", err);
        }
        eng_kstate_free(ks);
        free(buf);
        total += len;
    }
    *ms = bench_now_ms() - t0;
    *bytes = total;
    if (src_offsets)
        *src_offsets = offsets;
    return rc;
}

/* ---- one run ------------------------------------------------------------------- */

int bench_rec_run(const struct bench_rec_params *p, struct bench_rec_result *res)
{
    struct rec_env e;
    struct rec_samples smp = { .cap = 1u << 20 };
    char err[256], bdir[600] = "";
    memset(res, 0, sizeof(*res));
    smp.t = calloc(smp.cap, sizeof(*smp.t));
    smp.in = calloc(smp.cap, sizeof(*smp.in));
    int rc = env_up(&e, p);
    if (rc < 0 || !smp.t || !smp.in)
        goto out;
    if ((rc = wait_for(&e, ready_env, NULL)) < 0)
        goto out;
    if ((rc = mc_cluster_submit(e.c, rec_graph(p), 1, NULL, &e.j, err, sizeof(err))) < 0) {
        fprintf(stderr, "bench recovery: job rejected: %s\n", err);
        goto out;
    }
    if ((rc = wait_for(&e, two_checkpoints, &smp)) < 0 || eng_job_ended(e.j->ej)) {
        fprintf(stderr, "bench recovery: the job ended or stalled before its 2nd checkpoint\n");
        rc = -EPROTO;
        goto out;
    }
    int victim = mc_job_tm_of(e.j, 0);
    uint64_t t_crash = rt_now(e.w), in_crash = atomic_load(&e.j->ej->records_in);
    mc_tm_crash(e.c, (uint32_t)victim);
    smp.n = 0;
    if ((rc = wait_for(&e, failing, &smp)) < 0)
        goto out;
    uint64_t k = atomic_load(&e.j->ej->last_checkpoint);
    uint64_t in_chk = smp.chk_seen == k ? smp.in_at_chk : in_crash;
    /* The sim world's DFS keeps its files in memory: no floor there. */
    int nfiles = p->kind == RT_WORLD_REAL ? link_checkpoint(&e, k, bdir, sizeof(bdir)) : 0;
    if (nfiles < 0) {
        fprintf(stderr, "bench recovery: cannot link checkpoint %llu: %s\n",
                (unsigned long long)k, strerror(-nfiles));
        rc = nfiles;
        goto out;
    }
    if ((rc = wait_for(&e, ended, &smp)) < 0)
        goto out;
    const char *dep_text = "";
    uint64_t t_fail = event_after(e.j->ej, t_crash, "FAILING", NULL);
    uint64_t t_dep = event_after(e.j->ej, t_crash, "attempt", &dep_text);
    uint64_t t_run = event_after(e.j->ej, t_crash, "RUNNING", NULL);
    if ((rc = verify(&e, k, t_fail, t_dep, t_run, dep_text)) < 0)
        goto out;
    /* The floor, now that the job is over (the cluster's threads idle). */
    uint64_t off = in_chk;     /* sim: records_in when k was seen complete (>= offsets) */
    if (p->kind == RT_WORLD_REAL &&
        (rc = bench_rec_bound(bdir, e.j->ej->graph, &res->bound_ms, &res->state_bytes, &off)) < 0)
        goto out;
    /* Back where it was: the sources re-emitted what they had emitted
     * between checkpoint k (offsets `off`) and the crash. */
    uint64_t target = in_crash + (in_crash > off ? in_crash - off : 0), t_caught = 0;
    for (uint32_t i = 0; i < smp.n && !t_caught; i++)
        if (smp.t[i] >= t_run && smp.in[i] >= target)
            t_caught = smp.t[i];
    res->detect_ms = (double)(t_fail - t_crash) / 1e6;
    res->schedule_ms = (double)(t_dep - t_fail) / 1e6;
    res->restore_ms = (double)(t_run - t_dep) / 1e6;
    res->catchup_ms = t_caught ? (double)(t_caught - t_run) / 1e6 : -1;
    res->replayed_records = in_crash > off ? in_crash - off : 0;
    res->restored_checkpoint = k;
    res->state_files = (uint32_t)nfiles;
    res->restarts = atomic_load(&e.j->ej->restarts);
out:
    if (rc == -ETIMEDOUT && e.j) {
        fprintf(stderr, "bench recovery: timed out; job state %s, records in %llu out %llu:\n",
                eng_job_state_name(eng_job_state(e.j->ej)),
                (unsigned long long)atomic_load(&e.j->ej->records_in),
                (unsigned long long)atomic_load(&e.j->ej->records_out));
        for (const struct eng_job_event *ev = atomic_load(&e.j->ej->events); ev; ev = ev->next)
            fprintf(stderr, "    at %.3f ms: %s\n", (double)ev->t_ns / 1e6, ev->text);
    }
    env_down(&e);
    free(smp.t);
    free(smp.in);
    return rc;
}
