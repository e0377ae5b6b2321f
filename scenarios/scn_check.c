/*
 * scn_check.c - the checks that need the whole file: names resolved (jobs,
 * applications), subtask and TaskManager numbers in range, configuration
 * consistent with the `cluster` statement, and the implicit application of
 * every bare job.
 *
 * These run after parsing, even when parsing reported errors, so a user sees
 * an unknown job name and a syntax error in the same run.  Statements that
 * failed to parse leave partial nodes; a reference whose name is NULL was
 * never read and is skipped.
 */
#include <string.h>

#include "runtime/rt_mem.h"
#include "scenarios/scn_internal.h"

static size_t find_job(const struct scn_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->n_jobs; i++)
        if (strcmp(s->jobs[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

static size_t find_app(const struct scn_scenario *s, const char *name)
{
    for (size_t i = 0; i < s->n_apps; i++)
        if (strcmp(s->apps[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

/* Resolve a job reference; report an unknown name with the closest one. */
static bool resolve_job(struct scn__ctx *c, struct scn_ref *r)
{
    const struct scn_scenario *s = c->s;
    char hint[160];
    if (!r->name)
        return false;
    r->index = find_job(s, r->name);
    if (r->index != SIZE_MAX)
        return true;
    const char **names = rt_xcalloc(s->n_jobs + 1, sizeof(*names));
    for (size_t i = 0; i < s->n_jobs; i++)
        names[i] = s->jobs[i].name;
    scn__hint(hint, sizeof(hint), r->name, names, s->n_jobs);
    rt_free(names);
    scn__error(c, r->pos, "unknown job '%s'%s", r->name, hint);
    return false;
}

static void check_names(struct scn__ctx *c)
{
    struct scn_scenario *s = c->s;
    for (size_t i = 0; i < s->n_jobs; i++) {
        size_t first = find_job(s, s->jobs[i].name);
        if (first != i)
            scn__error(c, s->jobs[i].name_pos, "duplicate job '%s' (first defined at line %u)",
                       s->jobs[i].name, s->jobs[first].pos.line);
    }
    for (size_t i = 0; i < s->n_apps; i++) {
        size_t first = find_app(s, s->apps[i].name);
        if (first != i)
            scn__error(c, s->apps[i].pos, "duplicate application '%s' (first defined at "
                       "line %u)", s->apps[i].name, s->apps[first].pos.line);
    }
}

/* Every job belongs to exactly one application; bare jobs get their own. */
static void check_apps(struct scn__ctx *c)
{
    struct scn_scenario *s = c->s;
    size_t explicit_apps = s->n_apps;
    for (size_t j = 0; j < s->n_jobs; j++)
        s->jobs[j].app = SIZE_MAX;
    for (size_t a = 0; a < explicit_apps; a++) {
        struct scn_application *app = &s->apps[a];
        for (size_t k = 0; k < app->n_jobs; k++) {
            struct scn_ref *r = &app->jobs[k];
            if (!resolve_job(c, r))
                continue;
            struct scn_job *job = &s->jobs[r->index];
            if (job->app != SIZE_MAX) {
                scn__error(c, r->pos, "job '%s' is already in application '%s' (line %u)",
                           r->name, s->apps[job->app].name, s->apps[job->app].pos.line);
                continue;
            }
            job->app = a;
        }
    }
    for (size_t j = 0; j < s->n_jobs; j++) {
        struct scn_job *job = &s->jobs[j];
        if (job->app != SIZE_MAX || find_job(s, job->name) != j)
            continue;
        size_t clash = find_app(s, job->name);
        if (clash != SIZE_MAX && clash < explicit_apps) {
            scn__error(c, s->apps[clash].pos, "application '%s' has the name of job '%s', "
                       "which runs as an application of its own (line %u)", job->name,
                       job->name, job->pos.line);
            continue;
        }
        s->apps = rt_xrealloc(s->apps, (s->n_apps + 1) * sizeof(*s->apps));
        struct scn_application *app = &s->apps[s->n_apps];
        *app = (struct scn_application){.pos = job->pos, .name = rt_xstrdup(job->name),
                                        .implicit = true, .n_jobs = 1};
        app->jobs = rt_xcalloc(1, sizeof(*app->jobs));
        app->jobs[0] = (struct scn_ref){job->name_pos, rt_xstrdup(job->name), j};
        job->app = s->n_apps++;
    }
}

static uint32_t max_taskmanagers(const struct scn_scenario *s)
{
    uint64_t n = s->cluster.taskmanagers;
    for (size_t i = 0; i < s->n_faults; i++)
        if (s->faults[i].action == SCN_ACT_ADD_TASKMANAGER)
            n += s->faults[i].count;
    return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static void check_target(struct scn__ctx *c, struct scn_target *t)
{
    const struct scn_scenario *s = c->s;
    switch (t->kind) {
    case SCN_TARGET_TASKMANAGER_OF:
    case SCN_TARGET_TASK:
        if (resolve_job(c, &t->job) && t->index >= s->jobs[t->job.index].parallelism) {
            const struct scn_job *job = &s->jobs[t->job.index];
            scn__error(c, t->job.pos, "subtask %u is out of range: job '%s' has parallelism "
                       "%u (use 0 to %u)", t->index, job->name, job->parallelism,
                       job->parallelism - 1);
        }
        break;
    case SCN_TARGET_JOBMANAGER_OF:
        resolve_job(c, &t->job);
        break;
    case SCN_TARGET_TASKMANAGER: {
        uint32_t n = max_taskmanagers(s);
        if (t->index >= n) {
            if (n == 0)
                scn__error(c, t->pos, "taskmanager %u is out of range: the cluster starts "
                           "with none", t->index);
            else
                scn__error(c, t->pos, "taskmanager %u is out of range: the cluster has %u "
                           "(numbered from 0 to %u)", t->index, n, n - 1);
        }
        break;
    }
    default:
        break;
    }
}

static void check_faults(struct scn__ctx *c)
{
    struct scn_scenario *s = c->s;
    union scn_value v;
    bool checkpointing = scn_config_get(s, "execution.checkpointing.interval", &v) == 0;
    for (size_t i = 0; i < s->n_faults; i++) {
        struct scn_fault *f = &s->faults[i];
        if (f->trigger.kind == SCN_TRIGGER_WHEN && f->trigger.event.job.name)
            resolve_job(c, &f->trigger.event.job);
        if (f->trigger.kind == SCN_TRIGGER_WHEN &&
            f->trigger.event.kind == SCN_EVENT_CHECKPOINT_DONE && f->trigger.event.pos.line &&
            !checkpointing)
            scn__diag(c->diags, c->file, SCN_SEV_WARNING, f->trigger.event.pos,
                      "this event never happens: checkpointing is off (set "
                      "execution.checkpointing.interval)");
        check_target(c, &f->target);
        check_target(c, &f->peer);
    }
}

static void check_expects(struct scn__ctx *c)
{
    struct scn_scenario *s = c->s;
    for (size_t i = 0; i < s->n_expects; i++) {
        struct scn_expect *e = &s->expects[i];
        if (e->job.name)
            resolve_job(c, &e->job);
        if (e->app.name) {
            e->app.index = find_app(s, e->app.name);
            if (e->app.index == SIZE_MAX) {
                const char **names = rt_xcalloc(s->n_apps + 1, sizeof(*names));
                char hint[160];
                for (size_t k = 0; k < s->n_apps; k++)
                    names[k] = s->apps[k].name;
                scn__hint(hint, sizeof(hint), e->app.name, names, s->n_apps);
                rt_free(names);
                scn__error(c, e->app.pos, "unknown application '%s'%s", e->app.name, hint);
            }
        }
        if (e->kind == SCN_EXPECT_METRIC && !s->probe.present &&
            (e->metric == SCN_METRIC_PROBE_P50 || e->metric == SCN_METRIC_PROBE_P99 ||
             e->metric == SCN_METRIC_PROBE_MAX))
            scn__error(c, e->metric_pos, "'%s' needs a 'probe' statement",
                       scn_metric_name(e->metric));
    }
}

/* Keys that say again what the cluster statement says must agree with it. */
static void check_config(struct scn__ctx *c)
{
    struct scn_scenario *s = c->s;
    for (size_t i = 0; i < s->n_config; i++) {
        const struct scn_config *cf = &s->config[i];
        const char *name = cf->key->name;
        /* Without a cluster statement these keys describe the cluster. */
        if (!s->cluster.pos.line) {
            if (strcmp(name, "taskmanager.numberOfTaskSlots") == 0 && cf->value.u >= 1 &&
                cf->value.u <= UINT32_MAX)
                s->cluster.slots = (uint32_t)cf->value.u;
            if (strcmp(name, "taskmanager.memory.process.size") == 0)
                s->cluster.tm_memory_bytes = cf->value.u;
            if (strcmp(name, "high-availability.type") == 0 && cf->value.u != 0) {
                s->cluster.ha = true;
                s->cluster.jobmanagers = 1;
            }
            continue;
        }
        if (strcmp(name, "taskmanager.numberOfTaskSlots") == 0 && cf->value.u != s->cluster.slots)
            scn__error(c, cf->pos, "taskmanager.numberOfTaskSlots=%llu contradicts cluster "
                       "slots=%u", (unsigned long long)cf->value.u, s->cluster.slots);
        if (strcmp(name, "taskmanager.memory.process.size") == 0 &&
            s->cluster.tm_memory_bytes && cf->value.u != s->cluster.tm_memory_bytes)
            scn__error(c, cf->pos, "taskmanager.memory.process.size contradicts cluster "
                       "tm-memory=");
        if (strcmp(name, "high-availability.type") == 0 && (cf->value.u != 0) != s->cluster.ha)
            scn__error(c, cf->pos, "high-availability.type=%s contradicts cluster ha=%s",
                       cf->key->choices[cf->value.u], s->cluster.ha ? "on" : "off");
    }
}

/* The S3 client's keys mean something only on S3, and the entropy length
 * only with an entropy key to replace. */
static void check_storage_config(struct scn__ctx *c)
{
    struct scn_scenario *s = c->s;
    bool has_key = false;
    for (size_t i = 0; i < s->n_config; i++)
        has_key |= strcmp(s->config[i].key->name, "s3.entropy.key") == 0;
    union scn_value bv;
    bool rocksdb = scn_config_get(s, "state.backend.type", &bv) == 0 && bv.u == 1;
    for (size_t i = 0; i < s->n_config; i++) {
        const struct scn_config *cf = &s->config[i];
        const char *name = cf->key->name;
        if (strcmp(name, "state.backend.rocksdb.checkpoint.transfer.thread.num") == 0 &&
            cf->value.u == 0)
            scn__error(c, cf->pos, "state.backend.rocksdb.checkpoint.transfer.thread.num must be "
                       "at least 1 (Flink's negative value, the TaskManager's shared IO pool, "
                       "is not modelled)");
        if (strcmp(name, "state.storage.fs.memory-threshold") == 0 && cf->value.u > (1u << 20))
            scn__error(c, cf->pos, "state.storage.fs.memory-threshold is at most 1MiB in Flink "
                       "(larger state goes to files of its own)");
        if (strncmp(name, "state.backend.rocksdb.", 22) == 0 && !rocksdb)
            scn__diag(c->diags, c->file, SCN_SEV_WARNING, cf->pos, "'%s' has no effect "
                      "without state.backend.type=rocksdb", name);
        if (strcmp(name, "slotmanager.redundant-taskmanager-num") == 0 &&
            s->cluster.target == SCN_DEPLOY_STANDALONE && cf->value.u)
            scn__error(c, cf->pos, "slotmanager.redundant-taskmanager-num needs TaskManagers on "
                       "demand (target=kubernetes or yarn): a standalone cluster has fixed ones");
        if (strncmp(name, "s3.", 3) != 0 && strncmp(name, "fs.s3a.", 7) != 0)
            continue;
        if (s->dfs.profile != SCN_DFS_PROFILE_S3) {
            scn__error(c, cf->pos, "'%s' is an S3 setting: it needs 'dfs profile=s3'%s", name,
                       s->dfs.profile ? " (the dfs statement names another profile)" : "");
            continue;
        }
        if (strcmp(name, "s3.entropy.length") == 0) {
            if (!has_key)
                scn__error(c, cf->pos, "s3.entropy.length has no effect without s3.entropy.key");
            else if (cf->value.u < 1 || cf->value.u > 10)
                scn__error(c, cf->pos, "s3.entropy.length=%llu is out of range (1 to 10 "
                           "characters)", (unsigned long long)cf->value.u);
        }
        if (strcmp(name, "fs.s3a.connection.maximum") == 0 && cf->value.u == 0)
            scn__error(c, cf->pos, "fs.s3a.connection.maximum must be at least 1");
    }
}

void scn__check(struct scn__ctx *c)
{
    if (c->s->n_jobs == 0) {
        if (!c->saw_job)
            scn__error(c, (struct scn_pos){1, 1}, "the scenario defines no job (add a 'job' "
                   "statement)");
        return;
    }
    check_names(c);
    check_apps(c);
    check_faults(c);
    check_expects(c);
    check_config(c);
    check_storage_config(c);
}
