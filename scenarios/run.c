/*
 * run.c - one scenario in one mode: set the world up, drive the
 * applications and the fault plan, and end when every job has ended or the
 * deadline has passed (so a hung run ends as a failed expectation, never a
 * hang).
 *
 * The loop.  The runner's thread waits on the world (rt_world_wait) with a
 * predicate that is true when anything needs it: an application whose next
 * step is due, an event a fault waits for, a job that ended, a cluster to
 * tear down.  Timed faults bound the wait.  In the sim world that wait runs
 * the simulation itself, so everything the runner does happens at an exact
 * virtual instant and the run replays from its seed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/operator.h"
#include "faults/faults.h"
#include "runtime/dfs.h"
#include "scenarios/replay.h"
#include "scenarios/run_internal.h"
#include "runtime/rt_dir.h"

#define SETUP_WAIT_NS (60 * RT_NS_PER_SEC)
#define RESULT_WAIT_NS (1 * RT_NS_PER_SEC)  /* for job results on their way to the HA store */

void run__say(struct run *r, const char *fmt, ...)
{
    if (r->o.quiet)
        return;
    char line[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    uint64_t t = r->w ? rt_now(r->w) - r->t0_ns : 0;
    fprintf(stderr, "[%-11s %7.3fs] %s\n", scn_mode_name(r->o.mode), (double)t / 1e9, line);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- clusters ---------------------------------------------------------------- */

static struct run_cluster *new_cluster(struct run *r, const char *name, uint32_t tms,
                                       bool active)
{
    if (r->nclusters == RUN_MAX_CLUSTERS)
        return NULL;
    struct mc_cluster_config cfg = r->ccfg;
    cfg.taskmanagers = tms;
    /* A deployment target decides for every mode alike; without one, the
     * clusters of per-job and application mode get TaskManagers on demand. */
    if (active && r->s->cluster.target == SCN_DEPLOY_NONE)
        cfg.provider = MC_PROVIDER_ACTIVE;
    /* On YARN and Kubernetes a per-job or application cluster asks for its
     * TaskManagers when it starts: they come after the launch latency. */
    cfg.launch_initial = active && r->s->cluster.target != SCN_DEPLOY_NONE;
    struct run_cluster *rc = &r->clusters[r->nclusters];
    if (mc_cluster_new(r->w, r->dfs, name, &cfg, &rc->c) < 0)
        return NULL;
    r->nclusters++;
    run__rest_attach(r, rc);
    return rc;
}

static uint32_t job_slots(const struct scn_job *j)
{
    return j->parallelism ? j->parallelism : 1;
}

static uint32_t tms_for(struct run *r, uint32_t slots)
{
    uint32_t per = r->ccfg.slots ? r->ccfg.slots : 1;
    return (slots + per - 1) / per;
}

static bool job_ended(const struct run_job *j)
{
    return j->mj && eng_job_ended(j->mj->ej);
}

struct results_arg {
    struct run *r;
    struct run_cluster *rc;
};

/* Every job of the cluster that has ended has its result in the HA store. */
static bool results_stored(void *arg)
{
    const struct results_arg *a = arg;
    for (size_t j = 0; j < a->r->s->n_jobs; j++) {
        const struct run_job *rj = &a->r->jobs[j];
        if (rj->cluster == a->rc && job_ended(rj) && !atomic_load(&rj->mj->result_stored))
            return false;
    }
    return true;
}

static void teardown(struct run *r, struct run_cluster *rc)
{
    if (rc->torn_down)
        return;
    /* With HA, the job master of a job that ended writes its result to the
     * HA store; a write still on its way when the cluster's files are
     * deleted would linger after the teardown.  A result that does not come
     * (its JobManager is gone) is not waited for long. */
    if (rc->c->cfg.ha) {
        struct results_arg ra = { r, rc };
        rt_world_wait(r->w, results_stored, &ra, RESULT_WAIT_NS);
    }
    uint64_t t0 = rt_now(r->w);
    mc_cluster_stop(rc->c);
    char prefix[80];
    snprintf(prefix, sizeof(prefix), "%s/", rc->c->name);
    /* A failed delete is tried once more, as a cleanup script would: one
     * transient error must not leave the cluster's files behind. */
    if (mc_driver_delete_prefix(r->driver, prefix, DFS_PHASE_OTHER) < 0)
        mc_driver_delete_prefix(r->driver, prefix, DFS_PHASE_OTHER);
    rc->teardown_ns = rt_now(r->w) - t0;
    if (!rc->teardown_ns)
        rc->teardown_ns = 1;
    rc->lingering = dfs_count_files(r->dfs, prefix);
    rc->torn_down = true;
    run__say(r, "cluster %s torn down in %.1f ms, %d file(s) left", rc->c->name,
             (double)rc->teardown_ns / 1e6, rc->lingering);
}

/* ---- applications -------------------------------------------------------------- */

static void app_fail(struct run *r, struct run_app *app, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void app_fail(struct run *r, struct run_app *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(app->error, sizeof(app->error), fmt, ap);
    va_end(ap);
    app->state = APP_FAILED;
    run__say(r, "application %s failed: %s", app->a->name, app->error);
}

#define JOB_GRAPH_BYTES 4096     /* a job graph as the client ships it (~4 KiB here) */

static int submit_now(struct run *r, struct run_app *app, struct run_job *j,
                      struct run_cluster *rc)
{
    char err[256];
    size_t idx = (size_t)(j - r->jobs);
    /* The artifacts are in the blob server only when the client put them there. */
    uint64_t artifacts = r->o.mode == SCN_MODE_APPLICATION ? 0 : app->a->artifacts_bytes;
    int rc2 = mc_cluster_submit_artifacts(rc->c, run__job_graph(j->sj), (uint32_t)idx + 1,
                                          app->a->name, artifacts, &j->mj, err, sizeof(err));
    if (rc2 < 0) {
        app_fail(r, app, "job %s: %s", j->sj->name, err);
        return rc2;
    }
    j->cluster = rc;
    run__say(r, "job %s submitted to %s", j->sj->name, rc->c->name);
    return 0;
}

/* Submits a job: in session and per-job mode the client first uploads its
 * job graph and artifacts to the blob server of the cluster that will run
 * it (upload_done submits it then); in application mode main() runs on the
 * JobManager, so there is nothing to upload. */
static int submit_job(struct run *r, struct run_app *app, struct run_job *j)
{
    const struct scn_job *sj = j->sj;
    struct run_cluster *rc = NULL;
    if (r->o.mode == SCN_MODE_SESSION) {
        rc = &r->clusters[0];
    } else if (r->o.mode == SCN_MODE_PER_JOB) {
        char name[64];
        snprintf(name, sizeof(name), "%s-cluster", sj->name);
        rc = new_cluster(r, name, tms_for(r, job_slots(sj)), true);
        run__say(r, "cluster %s starting for job %s", name, sj->name);
    } else {
        rc = app->cluster;
    }
    if (!rc) {
        app_fail(r, app, "job %s: no cluster could be started for it (a run holds at most %d)",
                 sj->name, RUN_MAX_CLUSTERS);
        return -ENOSPC;
    }
    if (r->o.mode == SCN_MODE_APPLICATION)
        return submit_now(r, app, j, rc);
    struct mc_upload *u = &app->upload;
    u->cluster = rc->c;
    u->job = (uint32_t)(j - r->jobs) + 1;
    u->graph_bytes = JOB_GRAPH_BYTES;
    u->artifact_bytes = app->a->artifacts_bytes;
    u->work = &app->work;
    /* Declared artifacts are descriptors in the sim world, as declared state. */
    u->logical = r->o.world == RT_WORLD_SIM;
    if (mc_upload_start(app->client, u) < 0) {
        app_fail(r, app, "job %s: cannot upload its blobs: the client is down", sj->name);
        return -EHOSTDOWN;
    }
    app->uploading = j;
    app->upload_to = rc;
    return 0;
}

/* The client's upload for app->uploading has ended: submits the job if its
 * blobs are stored.  False while the upload runs, or when it failed (the
 * application fails). */
static bool upload_done(struct run *r, struct run_app *app)
{
    int d = atomic_load(&app->upload.done);
    if (d == 0)
        return false;
    struct run_job *j = app->uploading;
    app->uploading = NULL;
    j->blob_bytes_in = atomic_load(&app->upload.bytes_stored);
    if (d < 0) {
        app_fail(r, app, "job %s: cannot upload its job graph and artifacts to the blob server "
                 "of %s: %s", j->sj->name, app->upload_to->c->name, strerror(-d));
        return false;
    }
    return submit_now(r, app, j, app->upload_to) == 0;
}

/* Moves an application on: main() first, then its execute() calls in order -
 * blocking ones wait for the previous job to end, async ones do not. */
static void app_step(struct run *r, struct run_app *app)
{
    const struct scn_application *a = app->a;
    if (app->state == APP_WAITING) {
        struct rt_node *where = r->o.mode == SCN_MODE_APPLICATION ? app->cluster->c->jm
                                                                  : app->client;
        if (r->o.mode == SCN_MODE_APPLICATION) {
            for (size_t f = 0; f < a->n_files; f++)
                if (a->files[f].on == SCN_FILE_ON_CLIENT) {
                    app_fail(r, app, "cached file '%s' registered by main() exists only on the "
                             "client; in application mode main() runs on the JobManager, which "
                             "cannot read it (put it on the shared filesystem)", a->files[f].path);
                    return;
                }
        }
        if (mc_app_work_start(where, r->dfs, &app->work) < 0) {
            app_fail(r, app, "cannot start main(): its node is down");
            return;
        }
        app->state = APP_MAIN;
        return;
    }
    if (app->state == APP_MAIN) {
        int d = atomic_load(&app->work.done);
        if (d == 0)
            return;
        if (d < 0) {
            app_fail(r, app, "main() failed: %s", strerror(-d));
            return;
        }
        app->state = APP_RUNNING;
    }
    if (app->state != APP_RUNNING || (app->uploading && !upload_done(r, app)))
        return;
    while (app->next < a->n_jobs) {
        struct run_job *prev = app->next ? &r->jobs[a->jobs[app->next - 1].index] : NULL;
        if (prev && a->execute == SCN_EXECUTE_BLOCKING && !job_ended(prev))
            return;
        if (app->next == 1 && r->s->cluster.ha && r->o.mode == SCN_MODE_APPLICATION) {
            /* Flink's rule: with HA, application mode takes one execute() only. */
            app_fail(r, app, "Cannot have more than one execute() or executeAsync() call in a "
                     "single environment.");
            return;
        }
        struct run_job *j = &r->jobs[a->jobs[app->next].index];
        app->next++;
        if (submit_job(r, app, j) < 0 || app->uploading)
            return;     /* the next execute() waits: executeAsync() too returns only
                           once its job is submitted */
    }
    for (size_t k = 0; k < a->n_jobs; k++)
        if (!job_ended(&r->jobs[a->jobs[k].index]))
            return;
    app->state = APP_DONE;
    run__say(r, "application %s done", a->name);
}

/* ---- the loop ------------------------------------------------------------------ */

static bool all_done(struct run *r)
{
    for (size_t a = 0; a < r->s->n_apps; a++)
        if (r->apps[a].state != APP_DONE && r->apps[a].state != APP_FAILED)
            return false;
    return true;
}

static bool needs_teardown(struct run *r, struct run_cluster *rc)
{
    if (rc->torn_down || r->o.mode == SCN_MODE_SESSION)
        return false;
    bool any = false;
    for (size_t j = 0; j < r->s->n_jobs; j++)
        if (r->jobs[j].cluster == rc) {
            any = true;
            if (!job_ended(&r->jobs[j]))
                return false;
        }
    if (r->o.mode == SCN_MODE_APPLICATION)
        for (size_t a = 0; a < r->s->n_apps; a++)
            if (r->apps[a].cluster == rc && r->apps[a].state != APP_DONE &&
                r->apps[a].state != APP_FAILED)
                return false;
    return any || r->o.mode == SCN_MODE_APPLICATION;
}

/* What the main loop must act on now.  Called after every event of the
 * world, so the checks that read every job's state or every JobManager's
 * node (dozens of jobs, as many clusters in per-job mode) run only when some
 * job changed state or some node went down since they last found nothing,
 * or the main loop ran meanwhile. */
static bool due_now(struct run *r, bool jobs, bool nodes);

static bool something_due(void *arg)
{
    struct run *r = arg;
    uint64_t epoch = eng_job_state_changes(), downs = rt_world_downs(r->w);
    bool due = due_now(r, !r->quiet || epoch != r->jobs_epoch, !r->quiet || downs != r->downs_epoch);
    r->jobs_epoch = epoch;
    r->downs_epoch = downs;
    r->quiet = !due;
    return due;
}

static bool due_now(struct run *r, bool jobs, bool nodes)
{
    for (size_t a = 0; a < r->s->n_apps; a++) {
        struct run_app *app = &r->apps[a];
        if (app->state == APP_MAIN && atomic_load(&app->work.done))
            return true;
        if (app->state == APP_RUNNING && app->uploading) {
            if (atomic_load(&app->upload.done))
                return true;
        } else if (app->state == APP_RUNNING && jobs) {
            const struct scn_application *sa = app->a;
            if (app->next < sa->n_jobs &&
                (sa->execute == SCN_EXECUTE_ASYNC || job_ended(&r->jobs[sa->jobs[app->next - 1].index])))
                return true;
            bool all = true;
            for (size_t k = 0; k < sa->n_jobs; k++)
                all &= job_ended(&r->jobs[sa->jobs[k].index]);
            if (all)
                return true;
        }
    }
    for (size_t c = 0; c < r->nclusters; c++) {
        struct run_cluster *rc = &r->clusters[c];
        if (!rc->spinup_ns && mc_cluster_ready(rc->c))
            return true;
        if (jobs && needs_teardown(r, rc))
            return true;
        if ((jobs || nodes) && mc_cluster_jobs_orphaned(rc->c))
            return true;
    }
    if (run__rest_pause_due(r))
        return true;
    return run__check_events(r, false);
}

static uint64_t next_timed(struct run *r, uint64_t now)
{
    uint64_t next = r->t0_ns + r->s->deadline_ns;
    for (size_t i = 0; i < r->s->n_faults; i++) {
        struct run_fault *rf = &r->faults[i];
        if (rf->f->trigger.kind == SCN_TRIGGER_AT && !rf->fired && r->t0_ns + rf->f->trigger.at_ns < next)
            next = r->t0_ns + rf->f->trigger.at_ns;
        if (rf->heal_at && rf->heal_at < next)
            next = rf->heal_at;
    }
    return next > now ? next : now;
}

static void loop(struct run *r)
{
    for (;;) {
        uint64_t now = rt_now(r->w);
        for (size_t c = 0; c < r->nclusters; c++) {
            struct run_cluster *rc = &r->clusters[c];
            if (!rc->spinup_ns && mc_cluster_ready(rc->c)) {
                rc->spinup_ns = atomic_load(&rc->c->ready_ns) - atomic_load(&rc->c->created_ns);
                if (!rc->spinup_ns)
                    rc->spinup_ns = 1;
            }
        }
        for (size_t i = 0; i < r->s->n_faults; i++) {
            struct run_fault *rf = &r->faults[i];
            if (rf->f->trigger.kind == SCN_TRIGGER_AT && !rf->fired &&
                now >= r->t0_ns + rf->f->trigger.at_ns)
                run__fire(r, rf);
            if (rf->heal_at && now >= rf->heal_at) {
                run__heal(rf);
                rf->heal_at = 0;
                run__say(r, "healed: %s", rf->text);
            }
        }
        /* Without HA a crashed JobManager takes its jobs with it. */
        for (size_t c = 0; c < r->nclusters; c++) {
            int lost = mc_cluster_fail_orphaned(r->clusters[c].c);
            if (lost > 0)
                run__say(r, "%d job(s) of %s failed: JobManager lost and high availability is off",
                         lost, r->clusters[c].c->name);
        }
        if (run__rest_pause_due(r))
            run__rest_pause(r, r->o.pause_text ? r->o.pause_text : "--pause-at");
        run__check_events(r, true);
        for (size_t a = 0; a < r->s->n_apps; a++)
            app_step(r, &r->apps[a]);
        for (size_t c = 0; c < r->nclusters; c++)
            if (needs_teardown(r, &r->clusters[c]))
                teardown(r, &r->clusters[c]);
        if (all_done(r))
            break;
        now = rt_now(r->w);
        if (now >= r->t0_ns + r->s->deadline_ns) {
            r->deadline_hit = true;
            run__say(r, "deadline of %.1f s reached: ending the run",
                     (double)r->s->deadline_ns / 1e9);
            break;
        }
        uint64_t until = next_timed(r, now);
        r->quiet = false;           /* the loop above may have changed what is due */
        rt_world_wait(r->w, something_due, r, until > now ? until - now : 0);
    }
    r->end_ns = rt_now(r->w);
    for (size_t i = 0; i < r->s->n_faults; i++)
        run__heal(&r->faults[i]);
}

/* ---- set-up --------------------------------------------------------------------- */

static int setup(struct run *r, char *err, size_t errlen)
{
    const struct scn_scenario *s = r->s;
    if (r->o.workdir) {
        snprintf(r->root, sizeof(r->root), "%s", r->o.workdir);
        if (mkdir(r->root, 0700) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", r->root, strerror(errno));
            return -errno;
        }
    } else {
        int rc = rt_dir_make_temp("minicluster", r->root, sizeof(r->root));
        if (rc < 0) {
            snprintf(err, errlen, "cannot create a run directory under $TMPDIR (or /tmp): %s",
                     strerror(-rc));
            return rc;
        }
    }
    int rc = run__cluster_config(s, &r->ccfg, err, errlen);
    if (rc < 0)
        return rc;
    uint64_t lat = r->o.link_latency_ns ? r->o.link_latency_ns : SCN_RUN_LINK_LATENCY_NS;
    /* Per-job mode adds a cluster's nodes for every job: room for many. */
    struct rt_world_config wc = { .kind = r->o.world, .seed = r->seed,
                                  .max_nodes = SCN_RUN_MAX_NODES,
                                  .link_latency_ns = lat, .link_jitter_ns = lat / 5,
                                  .test_nondeterministic = r->o.test_nondeterministic };
    if ((rc = rt_world_new(&wc, &r->w)) < 0) {
        snprintf(err, errlen, "cannot create the world");
        return rc;
    }
    if (r->o.trace_path && (rc = rt_trace_open(r->w, r->o.trace_path)) < 0) {
        snprintf(err, errlen, "cannot write the trace to %s: %s", r->o.trace_path, strerror(-rc));
        return rc;
    }
    if (r->o.trace_path) {
        /* Everything replay needs to rebuild this world, before any event. */
        char *h = scn_trace_header(s, r->o.mode, &wc);
        rt_trace_note(r->w, h);
        free(h);
    }
    struct dfs_config dc;
    run__dfs_config(s, &dc);
    dc.root = r->root;
    if ((rc = dfs_new(r->w, &dc, &r->dfs)) < 0) {
        snprintf(err, errlen, "cannot start the shared filesystem in %s: %s", r->root, strerror(-rc));
        return rc;
    }
    /* A client node per application in session and per-job mode, where
     * each application's main() and uploads run on its own client process
     * (so eight applications' main()s overlap, as eight `flink run`s do);
     * one otherwise.  A lone client keeps the name "client". */
    r->nclients = r->o.mode != SCN_MODE_APPLICATION && s->n_apps > 1 ? s->n_apps : 1;
    r->clients = rt_xcalloc_process(r->nclients, sizeof(*r->clients));
    for (size_t i = 0; i < r->nclients; i++) {
        char name[48] = "client";
        if (r->nclients > 1)
            snprintf(name, sizeof(name), "client-%s", s->apps[i].name);
        if (!(r->clients[i] = rt_node_new(r->w, name))) {
            snprintf(err, errlen, "cannot create the client node %s", name);
            return -ENOSPC;
        }
        rt_node_start(r->clients[i]);
    }
    r->probe_node = rt_node_new(r->w, "probe");
    r->driver_node = rt_node_new(r->w, "driver");
    rt_node_start(r->probe_node);
    rt_node_start(r->driver_node);
    r->driver = mc_driver_new(r->driver_node, r->dfs);
    if (!r->driver) {
        snprintf(err, errlen, "cannot start the driver agent");
        return -EIO;
    }
    /* What the workload reads before it runs: artifacts and the probe's file. */
    for (size_t a = 0; a < s->n_apps; a++)
        if (s->apps[a].artifacts_bytes) {
            char path[128];
            snprintf(path, sizeof(path), "artifacts/%s.jar", s->apps[a].name);
            /* Staged as a deploy script would: one more try after an error,
             * then on without them - the application's main() finds them
             * missing and fails, saying so (a fault, not a broken run). */
            if (mc_driver_stage(r->driver, path, s->apps[a].artifacts_bytes,
                                DFS_PHASE_ARTIFACT) < 0 &&
                (rc = mc_driver_stage(r->driver, path, s->apps[a].artifacts_bytes,
                                      DFS_PHASE_ARTIFACT)) < 0)
                run__say(r, "the artifacts of %s could not be stored: %s", s->apps[a].name,
                         strerror(-rc));
        }
    if (s->probe.present)
        mc_driver_write(r->driver, "probe/data", s->probe.read_bytes, DFS_PHASE_PROBE);
    struct dfs_stats st;
    dfs_stats_get(r->dfs, &st);
    r->setup_bytes_read = st.total.bytes_read;
    r->setup_bytes_written = st.total.bytes_written;
    r->setup_ops = st.total.ops;
    r->setup_files = st.files_created;
    for (int p = 0; p < DFS_PURPOSE_COUNT; p++)
        dfs_purpose_get(r->dfs, p, &r->setup_purpose[p]);
    return 0;
}

static void init_apps(struct run *r)
{
    const struct scn_scenario *s = r->s;
    for (size_t j = 0; j < s->n_jobs; j++)
        r->jobs[j].sj = &s->jobs[j];
    for (size_t a = 0; a < s->n_apps; a++) {
        struct run_app *app = &r->apps[a];
        const struct scn_application *sa = &s->apps[a];
        app->a = sa;
        app->client = r->clients[r->nclients > 1 ? a : 0];
        struct mc_app_work *w = &app->work;
        snprintf(w->name, sizeof(w->name), "%s", sa->name);
        if (sa->artifacts_bytes)
            snprintf(w->artifact, sizeof(w->artifact), "artifacts/%s.jar", sa->name);
        w->main_cpu_ns = sa->main_cpu_ns;
    }
}

static void start_mode(struct run *r)
{
    const struct scn_scenario *s = r->s;
    if (r->o.mode == SCN_MODE_SESSION) {
        uint32_t tms = s->cluster.taskmanagers ? s->cluster.taskmanagers : 1;
        new_cluster(r, "session", tms, false);
        run__say(r, "session cluster starting: %u TaskManagers x %u slots", tms, r->ccfg.slots);
        rt_world_wait(r->w, (bool (*)(void *))mc_cluster_ready, r->clusters[0].c, SETUP_WAIT_NS);
    } else if (r->o.mode == SCN_MODE_APPLICATION) {
        for (size_t a = 0; a < s->n_apps; a++) {
            const struct scn_application *sa = &s->apps[a];
            uint32_t slots = 0;
            for (size_t k = 0; k < sa->n_jobs; k++) {
                uint32_t js = job_slots(&s->jobs[sa->jobs[k].index]);
                slots = sa->execute == SCN_EXECUTE_ASYNC ? slots + js : (js > slots ? js : slots);
            }
            char name[64];
            snprintf(name, sizeof(name), "%s-app", sa->name);
            r->apps[a].cluster = new_cluster(r, name, tms_for(r, slots), true);
            run__say(r, "application cluster %s starting (%u slots)", name, slots);
        }
    }
}

/* The verdict's tables, computed on the other core while the run goes on
 * (eng_reference_warm): every job's graph, as run_job submits it. */
static void start_references(struct run *r)
{
    const struct scn_scenario *s = r->s;
    struct eng_jobgraph **g = rt_xcalloc_process(s->n_jobs ? s->n_jobs : 1, sizeof(*g));
    for (size_t j = 0; j < s->n_jobs; j++)
        g[j] = run__job_graph(&s->jobs[j]);
    r->warm = eng_reference_warm(g, s->n_jobs);
    rt_free(g);
}

static void cleanup(struct run *r)
{
    eng_reference_warm_join(r->warm);   /* a run that ended before its report */
    r->warm = NULL;
    run__rest_close(r);     /* it reads the clusters and the world */
    rt_world_free(r->w);
    for (size_t j = 0; r->jobs && j < r->s->n_jobs; j++)
        mc_job_free(r->jobs[j].mj);
    for (size_t c = 0; c < r->nclusters; c++)
        mc_cluster_free(r->clusters[c].c);
    dfs_free(r->dfs);
    mc_driver_free(r->driver);
    rt_free(r->probe.t_ns);
    rt_free(r->probe.lat_ns);
    flt_failpoints_reset();
}


static int run_once(const struct scn_scenario *s, const struct scn_run_opts *o, json_t **out,
                    char *err, size_t errlen)
{
    struct run *r = rt_xcalloc_process(1, sizeof(*r));
    /* The twin: the same scenario with nothing injected.  A shallow copy
     * is enough, as the runner only reads the scenario. */
    struct scn_scenario twin;
    if (o->twin) {
        twin = *s;
        twin.n_faults = 0;
        twin.n_expects = 0;
        s = &twin;
    }
    r->s = s;
    r->o = *o;
    r->seed = o->has_seed ? o->seed : s->has_seed ? s->seed : 1;
    r->apps = rt_xcalloc_process(s->n_apps ? s->n_apps : 1, sizeof(*r->apps));
    r->jobs = rt_xcalloc_process(s->n_jobs ? s->n_jobs : 1, sizeof(*r->jobs));
    r->faults = rt_xcalloc_process(s->n_faults ? s->n_faults : 1, sizeof(*r->faults));
    for (size_t i = 0; i < s->n_faults; i++) {
        r->faults[i].f = &s->faults[i];
        char *t = scn_fault_text(s, &s->faults[i]);
        snprintf(r->faults[i].text, sizeof(r->faults[i].text), "%s", t ? t : "?");
        rt_free(t);
    }
    uint64_t wall0 = mono_ms();
    *out = NULL;
    int rc = setup(r, err, errlen);
    if (rc == 0)
        rc = run__rest_open(r, err, errlen);
    if (rc == 0) {
        start_references(r);
        init_apps(r);
        if (s->probe.present) {
            r->probe.every_ns = s->probe.every_ns;
            r->probe.read_bytes = s->probe.read_bytes;
            snprintf(r->probe.path, sizeof(r->probe.path), "probe/data");
            r->probe.cap = (uint32_t)(s->deadline_ns / (s->probe.every_ns ? s->probe.every_ns : 1)) + 16;
            if (r->probe.cap > 1000000)
                r->probe.cap = 1000000;
            r->probe.t_ns = rt_xcalloc_process(r->probe.cap, sizeof(uint64_t));
            r->probe.lat_ns = rt_xcalloc_process(r->probe.cap, sizeof(uint64_t));
        }
        r->t0_ns = rt_now(r->w);
        const char *um[16];
        size_t nu = run__unmodelled(s, um, 16);
        for (size_t i = 0; i < nu; i++)
            run__say(r, "warning: %s is not modelled by minicluster yet: the setting has no effect",
                     um[i]);
        if (s->probe.present)
            mc_probe_start(r->probe_node, r->dfs, &r->probe);
        run__rest_start(r);
        start_mode(r);
        loop(r);
        atomic_store(&r->probe.stop, 1);
        /* Sim world: the clusters answer once more with the run over. */
        run__rest_pause(r, "the run is over");
        /* The session cluster ends with the run: its teardown is measured too. */
        for (size_t c = 0; c < r->nclusters; c++)
            teardown(r, &r->clusters[c]);
        r->wall_ms = mono_ms() - wall0 - r->paused_ms;
        rc = run__report(r, out);
        run__rest_json(r, *out);
        if (r->o.trace_path) {
            char *f = scn_trace_footer(*out);
            rt_trace_note(r->w, f);
            free(f);
        }
    }
    cleanup(r);
    if (!o->keep && r->root[0] && !o->workdir)
        rt_dir_remove(r->root);
    rt_free(r->apps);
    rt_free(r->jobs);
    for (size_t i = 0; i < s->n_faults; i++)
        rt_free(r->faults[i].active);
    rt_free(r->faults);
    rt_free(r->clients);
    rt_free(r);
    return rc;
}

/* The determinism self-check runs the same world twice; the second run
 * writes no trace (the file does not enter the hash) and says nothing. */
int scn_run(const struct scn_scenario *s, const struct scn_run_opts *o, json_t **out,
            char *err, size_t errlen)
{
    int rc = run_once(s, o, out, err, errlen);
    if (rc < 0 || !o->check_determinism || o->world != RT_WORLD_SIM)
        return rc;
    struct scn_run_opts again = *o;
    again.trace_path = NULL;
    again.rest = again.prometheus = false;     /* the first run served them */
    again.quiet = true;
    again.check_determinism = false;
    json_t *second = NULL;
    int rc2 = run_once(s, &again, &second, err, errlen);
    if (rc2 < 0) {
        json_decref(*out);
        *out = NULL;
        return rc2;
    }
    const char *h1 = json_string_value(json_object_get(*out, "trace_hash"));
    const char *h2 = json_string_value(json_object_get(second, "trace_hash"));
    if (!h1 || !h2 || strcmp(h1, h2) != 0 || rc != rc2) {
        snprintf(err, errlen, "the simulation is not deterministic: seed %lld gave trace %s, "
                 "then %s on a second run of the same world (record both with --trace and "
                 "`minicluster replay` shows the first event that differs)",
                 (long long)json_integer_value(json_object_get(*out, "seed")),
                 h1 ? h1 : "?", h2 ? h2 : "?");
        json_decref(second);
        json_decref(*out);
        *out = NULL;
        return -ENOTRECOVERABLE;
    }
    json_decref(second);
    return rc;
}
