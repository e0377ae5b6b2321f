/*
 * minicluster.c - the public C API (include/minicluster/minicluster.h): a
 * session cluster in a world of its own, driven from the caller's thread.
 *
 * It is a thin layer over the cluster (cluster/cluster.h), reusing the
 * scenario language to read pipelines and the engine's reference model to
 * judge exactly-once, so that a test and a scenario mean the same thing.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "minicluster/cluster.h"
#include "engine/operator.h"
#include "minicluster/minicluster.h"
#include "runtime/dfs.h"
#include "scenarios/run.h"
#include "runtime/rt_dir.h"
#include "api/api_internal.h"

#include <jansson.h>

static _Thread_local char open_err[256];

/* The open handles, so that a call on a closed one is an error rather than
 * a use after free: every entry point looks its handle up here first. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct minicluster **live;
static size_t nlive, caplive;

bool api_live(const struct minicluster *mc)
{
    bool found = false;
    if (!mc)
        return false;
    pthread_mutex_lock(&live_lock);
    for (size_t i = 0; i < nlive && !found; i++)
        found = live[i] == mc;
    pthread_mutex_unlock(&live_lock);
    return found;
}

static int live_add(struct minicluster *mc)
{
    int rc = 0;
    pthread_mutex_lock(&live_lock);
    if (nlive == caplive) {
        size_t cap = caplive ? 2 * caplive : 8;
        struct minicluster **n = realloc(live, cap * sizeof(*n));
        if (n) {
            live = n;
            caplive = cap;
        }
    }
    if (nlive < caplive)
        live[nlive++] = mc;
    else
        rc = -ENOMEM;
    pthread_mutex_unlock(&live_lock);
    return rc;
}

static void live_remove(struct minicluster *mc)
{
    pthread_mutex_lock(&live_lock);
    for (size_t i = 0; i < nlive; i++)
        if (live[i] == mc) {
            live[i] = live[--nlive];
            break;
        }
    if (nlive == 0) {       /* no handle open: nothing kept (leak checkers stay quiet) */
        free(live);
        live = NULL;
        caplive = 0;
    }
    pthread_mutex_unlock(&live_lock);
}

int api_closed(const char *fn)
{
    snprintf(open_err, sizeof(open_err), "%s: the handle is closed (or was never opened)", fn);
    return -EBADF;
}

int api_fail(struct minicluster *mc, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(mc ? mc->err : open_err, sizeof(open_err), fmt, ap);
    va_end(ap);
    return rc;
}

void mc_options_default(struct mc_options *o)
{
    memset(o, 0, sizeof(*o));
    o->world = MC_WORLD_REAL;
    o->seed = 1;
    o->taskmanagers = 2;
    o->slots = 2;
    o->heartbeat_interval_ms = 100;
    o->heartbeat_timeout_ms = 500;
    o->checkpoint_interval_ms = 200;
    o->restart_attempts = 3;
    o->restart_delay_ms = 100;
}

const char *mc_errmsg(const struct minicluster *mc)
{
    return api_live(mc) ? mc->err : open_err;
}

static bool cluster_ready(void *arg) { return mc_cluster_ready(arg); }

int mc_open(const struct mc_options *o, struct minicluster **out)
{
    if (!o || !out || o->taskmanagers == 0 || o->taskmanagers > MC_MAX_TMS || o->slots == 0)
        return api_fail(NULL, -EINVAL, "mc_open: taskmanagers must be 1..%d and slots at least 1",
                    MC_MAX_TMS);
    struct minicluster *mc = calloc(1, sizeof(*mc));
    if (!mc)
        return api_fail(NULL, -ENOMEM, "mc_open: out of memory");
    int rc;
    if (o->workdir) {
        snprintf(mc->root, sizeof(mc->root), "%s", o->workdir);
        if (mkdir(mc->root, 0700) < 0 && errno != EEXIST) {
            rc = api_fail(NULL, -errno, "mc_open: cannot create %s: %s", mc->root, strerror(errno));
            goto fail_root;
        }
    } else if (o->world == MC_WORLD_REAL) {
        /* The sim world's filesystem is in memory: it needs no directory (and
         * creating one on a busy disk cost more than a whole sim job). */
        if ((rc = rt_dir_make_temp("minicluster", mc->root, sizeof(mc->root))) < 0) {
            api_fail(NULL, rc, "mc_open: cannot create a run directory: %s", strerror(-rc));
            goto fail_root;
        }
        mc->own_root = true;
    }
    struct rt_world_config wc = { .kind = o->world == MC_WORLD_SIM ? RT_WORLD_SIM : RT_WORLD_REAL,
                                  .seed = o->seed, .link_latency_ns = 100000 };
    if ((rc = rt_world_new(&wc, &mc->w)) < 0) {
        api_fail(NULL, rc, "mc_open: cannot create the world");
        goto fail_world;
    }
    struct dfs_config dc = { .root = mc->root };
    if ((rc = dfs_new(mc->w, &dc, &mc->dfs)) < 0) {
        api_fail(NULL, rc, "mc_open: cannot start the shared filesystem: %s", strerror(-rc));
        goto fail_dfs;
    }
    struct mc_cluster_config cfg;
    mc_cluster_config_defaults(&cfg);
    cfg.taskmanagers = o->taskmanagers;
    cfg.slots = o->slots;
    cfg.evenly_spread = true;
    cfg.hb_interval_ns = o->heartbeat_interval_ms * RT_NS_PER_MS;
    cfg.hb_timeout_ns = o->heartbeat_timeout_ms * RT_NS_PER_MS;
    cfg.tm_memory = o->taskmanager_memory;
    cfg.job.checkpoint_interval_ns = o->checkpoint_interval_ms * RT_NS_PER_MS;
    mc_restart_config_defaults(&cfg.restart, o->restart_attempts ? MC_RESTART_FIXED_DELAY
                                                                 : MC_RESTART_NONE);
    char v[32], err[160];
    snprintf(v, sizeof(v), "%u", o->restart_attempts);
    if (o->restart_attempts)
        mc_restart_config_set(&cfg.restart, "restart-strategy.fixed-delay.attempts", v, err, sizeof(err));
    snprintf(v, sizeof(v), "%llums", (unsigned long long)o->restart_delay_ms);
    if (o->restart_attempts)
        mc_restart_config_set(&cfg.restart, "restart-strategy.fixed-delay.delay", v, err, sizeof(err));
    if ((rc = mc_cluster_new(mc->w, mc->dfs, "mc", &cfg, &mc->c)) < 0) {
        api_fail(NULL, rc, "mc_open: cannot create the cluster's nodes");
        goto fail_cluster;
    }
    if (rt_world_wait(mc->w, cluster_ready, mc->c, 30 * RT_NS_PER_SEC) < 0) {
        rc = api_fail(NULL, -ETIMEDOUT, "mc_open: the TaskManagers did not register within 30 s");
        goto fail_cluster;
    }
    if ((rc = live_add(mc)) < 0) {
        api_fail(NULL, rc, "mc_open: out of memory");
        goto fail_cluster;
    }
    *out = mc;
    return 0;

fail_cluster:
    rt_world_free(mc->w);
    dfs_free(mc->dfs);
    mc_cluster_free(mc->c);
    goto fail_world;
fail_dfs:
    rt_world_free(mc->w);
fail_world:
    if (mc->own_root)
        rt_dir_remove(mc->root);
fail_root:
    free(mc);
    return rc;
}


void mc_close(struct minicluster *mc)
{
    if (!api_live(mc))
        return;     /* NULL, or closed already: nothing to do */
    if (mc->in_callback) {
        api_fail(mc, -EBUSY, "mc_close: not from inside a callback (close after the wait "
                 "returns)");
        return;
    }
    live_remove(mc);
    api_heal_all(mc);   /* failpoints are process-global: none may outlive the world */
    rt_world_free(mc->w);
    dfs_free(mc->dfs);
    for (int i = 0; i < mc->njobs; i++)
        mc_job_free(mc->jobs[i]);
    mc_cluster_free(mc->c);
    if (mc->own_root)
        rt_dir_remove(mc->root);
    free(mc);
}

int mc_submit(struct minicluster *mc, const char *name, const char *pipeline, int *job)
{
    API_LIVE_OR_RETURN(mc, "mc_submit");
    if (!name || !pipeline || !job)
        return api_fail(mc, -EINVAL, "mc_submit: name, pipeline and job are required");
    if (mc->njobs == MC_API_MAX_JOBS)
        return api_fail(mc, -ENOSPC, "mc_submit: at most %d jobs per cluster", MC_API_MAX_JOBS);
    size_t len = strlen(name) + strlen(pipeline) + 8;
    char *text = malloc(len);
    if (!text)
        return api_fail(mc, -ENOMEM, "mc_submit: out of memory");
    snprintf(text, len, "job %s %s\n", name, pipeline);
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_text("pipeline", text, strlen(text), &s, &d);
    free(text);
    if (rc < 0 || !s || s->n_jobs != 1) {
        /* The parser saw "job NAME PIPELINE": give the first error's position
         * as a column of the pipeline the caller wrote. */
        const struct scn_diag *e = NULL;
        for (size_t i = 0; i < d.count && !e; i++)
            if (d.items[i].severity == SCN_SEV_ERROR)
                e = &d.items[i];
        size_t skip = strlen(name) + 5;     /* "job " NAME " " */
        if (e && e->pos.line == 1 && e->pos.col > skip)
            api_fail(mc, -EINVAL, "mc_submit: invalid job \"%s\": pipeline:1:%zu: %s", name,
                     (size_t)e->pos.col - skip, e->msg);
        else
            api_fail(mc, -EINVAL, "mc_submit: invalid job \"%s\": %s", name,
                     e ? e->msg : "not one job statement");
        scn_diags_free(&d);
        scn_scenario_free(s);
        return -EINVAL;
    }
    scn_diags_free(&d);
    char err[256];
    struct mc_job *j = NULL;
    rc = mc_cluster_submit(mc->c, scn_job_graph(&s->jobs[0]), (uint32_t)mc->njobs + 1, name, &j,
                           err, sizeof(err));
    scn_scenario_free(s);
    if (rc < 0)
        return api_fail(mc, rc, "mc_submit: %s", err);
    mc->jobs[mc->njobs] = j;
    *job = ++mc->njobs;
    return 0;
}

static struct mc_job *job_of(struct minicluster *mc, int job)
{
    return job >= 1 && job <= mc->njobs ? mc->jobs[job - 1] : NULL;
}

struct mc_job *api_job(struct minicluster *mc, int job)
{
    return job_of(mc, job);
}

struct wait_arg {
    struct mc_job *j;
    enum eng_job_state want;
};

static bool reached(void *arg)
{
    struct wait_arg *a = arg;
    enum eng_job_state s = eng_job_state(a->j->ej);
    return s == a->want || (a->want == ENG_JOB_FINISHED && eng_job_state_is_terminal(s));
}

int mc_wait(struct minicluster *mc, int job, enum mc_job_state state, uint64_t timeout_ms)
{
    API_LIVE_OR_RETURN(mc, "mc_wait");
    struct mc_job *j = job_of(mc, job);
    if (!j)
        return api_fail(mc, -ENOENT, "mc_wait: no job %d", job);
    struct wait_arg a = { j, (enum eng_job_state)state };
    if (api_wait(mc, reached, &a, timeout_ms * RT_NS_PER_MS) < 0)
        return api_fail(mc, -ETIMEDOUT, "mc_wait: job %d is %s after %llu ms, not %s", job,
                    eng_job_state_name(eng_job_state(j->ej)), (unsigned long long)timeout_ms,
                    mc_job_state_name(state));
    if (state == MC_JOB_FINISHED && eng_job_state(j->ej) != ENG_JOB_FINISHED) {
        char why[200];
        eng_job_last_error(j->ej, why, sizeof(why));
        return api_fail(mc, -ECANCELED, "mc_wait: job %d ended %s: %s", job,
                    eng_job_state_name(eng_job_state(j->ej)), why);
    }
    return 0;
}

int mc_run_for(struct minicluster *mc, uint64_t ms)
{
    API_LIVE_OR_RETURN(mc, "mc_run_for");
    api_wait(mc, NULL, NULL, ms * RT_NS_PER_MS);
    return 0;
}

int mc_job_info(struct minicluster *mc, int job, struct mc_job_info *out)
{
    API_LIVE_OR_RETURN(mc, "mc_job_info");
    struct mc_job *j = job_of(mc, job);
    if (!j || !out)
        return api_fail(mc, -ENOENT, "mc_job_info: no job %d", job);
    memset(out, 0, sizeof(*out));
    struct eng_job *ej = j->ej;
    out->state = (enum mc_job_state)eng_job_state(ej);
    out->restarts = atomic_load(&ej->restarts);
    out->last_checkpoint = atomic_load(&ej->last_checkpoint);
    out->records_in = atomic_load(&ej->records_in);
    out->records_committed = eng_output_records(ej->output);
    eng_job_last_error(ej, out->last_error, sizeof(out->last_error));
    if (out->state == MC_JOB_FINISHED) {
        struct eng_expected *e = NULL;
        char err[200];
        if (eng_reference(ej->graph, &e, err, sizeof(err)) == 0) {
            struct eng_verdict v;
            eng_output_verify(ej->output, e, &v);
            out->lost = v.lost;
            out->duplicated = v.duplicated;
            out->exactly_once = v.exactly_once;
            eng_expected_free(e);
        }
    }
    return 0;
}

const char *mc_job_state_name(enum mc_job_state s)
{
    return eng_job_state_name((enum eng_job_state)s);
}

int mc_taskmanager_of(struct minicluster *mc, int job, unsigned subtask)
{
    API_LIVE_OR_RETURN(mc, "mc_taskmanager_of");
    struct mc_job *j = job_of(mc, job);
    int tm = j ? mc_job_tm_of(j, subtask) : -1;
    return tm >= 0 ? tm : api_fail(mc, -ENOENT, "job %d subtask %u has no TaskManager now", job, subtask);
}

static int tm_ok(struct minicluster *mc, int tm)
{
    if (tm < 0 || (unsigned)tm >= atomic_load(&mc->c->ntms))
        return api_fail(mc, -EINVAL, "no TaskManager %d (the cluster has %u)", tm,
                    atomic_load(&mc->c->ntms));
    return 0;
}

int mc_kill_taskmanager(struct minicluster *mc, int tm)
{
    API_LIVE_OR_RETURN(mc, "mc_kill_taskmanager");
    int rc = tm_ok(mc, tm);
    if (rc == 0)
        mc_tm_kill(mc->c, (uint32_t)tm);
    return rc;
}

int mc_crash_taskmanager(struct minicluster *mc, int tm)
{
    API_LIVE_OR_RETURN(mc, "mc_crash_taskmanager");
    int rc = tm_ok(mc, tm);
    if (rc == 0)
        mc_tm_crash(mc->c, (uint32_t)tm);
    return rc;
}

int mc_stop_taskmanager(struct minicluster *mc, int tm)
{
    API_LIVE_OR_RETURN(mc, "mc_stop_taskmanager");
    int rc = tm_ok(mc, tm);
    if (rc == 0)
        mc_tm_stop(mc->c, (uint32_t)tm);
    return rc;
}

int mc_restart_taskmanager(struct minicluster *mc, int tm)
{
    API_LIVE_OR_RETURN(mc, "mc_restart_taskmanager");
    int rc = tm_ok(mc, tm);
    if (rc == 0 && (rc = mc_tm_restart(mc->c, (uint32_t)tm)) < 0)
        api_fail(mc, rc, "TaskManager %d cannot restart: it is still up", tm);
    return rc;
}

int mc_add_taskmanager(struct minicluster *mc)
{
    API_LIVE_OR_RETURN(mc, "mc_add_taskmanager");
    int rc = mc_tm_add(mc->c);
    return rc < 0 ? api_fail(mc, rc, "the cluster is full (%d TaskManagers)", MC_MAX_TMS) : rc;
}

int mc_crash_jobmanager(struct minicluster *mc)
{
    API_LIVE_OR_RETURN(mc, "mc_crash_jobmanager");
    rt_node_crash(mc->c->jm);
    return 0;
}

int mc_taskmanagers_registered(struct minicluster *mc)
{
    API_LIVE_OR_RETURN(mc, "mc_taskmanagers_registered");
    return (int)atomic_load(&mc->c->registered);
}

int mc_taskmanagers_lost(struct minicluster *mc)
{
    API_LIVE_OR_RETURN(mc, "mc_taskmanagers_lost");
    return (int)atomic_load(&mc->c->tms_lost);
}

int mc_run_scenario(const char *text, enum mc_mode mode, enum mc_world_kind world, uint64_t seed,
                    char **json)
{
    if (!text)
        return api_fail(NULL, -EINVAL, "mc_run_scenario: no scenario text");
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_text("scenario", text, strlen(text), &s, &d);
    if (rc < 0) {
        char *msg = NULL;
        size_t msz = 0;
        FILE *f = open_memstream(&msg, &msz);
        if (f) {
            scn_diags_print(f, &d);
            fclose(f);
        }
        api_fail(NULL, -EINVAL, "mc_run_scenario: %s", msg && *msg ? msg : "invalid scenario");
        free(msg);
        scn_diags_free(&d);
        return -EINVAL;
    }
    scn_diags_free(&d);
    static const enum scn_mode modes[] = { SCN_MODE_SESSION, SCN_MODE_PER_JOB, SCN_MODE_APPLICATION };
    struct scn_run_opts o = { .mode = modes[mode <= MC_MODE_APPLICATION ? mode : 0],
                              .world = world == MC_WORLD_SIM ? RT_WORLD_SIM : RT_WORLD_REAL,
                              .has_seed = true, .seed = seed, .quiet = true };
    json_t *run = NULL;
    char err[256] = "";
    rc = scn_run(s, &o, &run, err, sizeof(err));
    scn_scenario_free(s);
    if (rc < 0) {
        json_decref(run);
        return api_fail(NULL, rc, "mc_run_scenario: %s", err);
    }
    if (json)
        *json = json_dumps(run, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(run);
    return rc;
}
