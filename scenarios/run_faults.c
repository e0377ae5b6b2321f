/*
 * run_faults.c - the runner's fault plan: a scenario's fault targets
 * resolved to what the fault layer takes (a job's TaskManager, a cluster's
 * JobManager, the DFS node, ...) in the mode being run, faults fired and
 * logged for the report, and the events event-triggered faults wait for
 * counted.  Runs on the runner's thread, from run.c's loop.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "faults/faults.h"
#include "runtime/dfs.h"
#include "scenarios/run_internal.h"

static struct run_job *job_of(struct run *r, const struct scn_ref *ref)
{
    return ref->name ? &r->jobs[ref->index] : NULL;
}

/* A scenario target to what the fault layer takes; false when it does not
 * exist (yet) in this mode, with a reason. */
static bool resolve(struct run *r, const struct scn_target *t, struct flt_target *out,
                    char *why, size_t len)
{
    memset(out, 0, sizeof(*out));
    struct run_job *j = job_of(r, &t->job);
    switch (t->kind) {
    case SCN_TARGET_TASKMANAGER_OF:
    case SCN_TARGET_TASK:
        if (!j || !j->mj) {
            snprintf(why, len, "job %s is not running yet", t->job.name);
            return false;
        }
        out->job = j->mj;
        out->cluster = j->mj->cluster;
        out->subtask = t->index;
        out->tm = mc_job_tm_of(j->mj, t->index);
        if (t->kind == SCN_TARGET_TASKMANAGER_OF && out->tm < 0) {
            snprintf(why, len, "%s[%u] has no TaskManager now", t->job.name, t->index);
            return false;
        }
        return true;
    case SCN_TARGET_JOBMANAGER_OF:
        if (!j || !j->mj) {
            snprintf(why, len, "job %s is not running yet", t->job.name);
            return false;
        }
        out->cluster = j->mj->cluster;
        out->tm = FLT_TM_JM;
        return true;
    case SCN_TARGET_TASKMANAGER:
    case SCN_TARGET_JOBMANAGER:
        if (!r->nclusters) {
            snprintf(why, len, "no cluster is up");
            return false;
        }
        out->cluster = r->clusters[0].c;
        out->tm = t->kind == SCN_TARGET_JOBMANAGER ? FLT_TM_JM : (int)t->index;
        return true;
    case SCN_TARGET_CLIENT: out->node = r->clients[0]; return true;  /* run__fire: all of them */
    case SCN_TARGET_PROBE: out->node = r->probe_node; return true;
    case SCN_TARGET_DFS: out->node = dfs_node(r->dfs); return true;
    }
    return false;
}

static const int kind_map[] = {
    [SCN_ACT_KILL] = FLT_KILL, [SCN_ACT_STOP] = FLT_STOP, [SCN_ACT_PAUSE] = FLT_PAUSE,
    [SCN_ACT_RESTART] = FLT_RESTART, [SCN_ACT_ADD_TASKMANAGER] = FLT_ADD_TM,
    [SCN_ACT_CRASH_JM_LEADER] = FLT_CRASH_JM, [SCN_ACT_PARTITION] = FLT_PARTITION,
    [SCN_ACT_DELAY_MESSAGES] = FLT_DELAY, [SCN_ACT_DROP_MESSAGES] = FLT_DROP,
    [SCN_ACT_DUPLICATE_MESSAGES] = FLT_DUPLICATE, [SCN_ACT_FAIL_TASK] = FLT_FAIL_TASK,
    [SCN_ACT_EXHAUST_MEMORY] = FLT_EXHAUST_MEMORY, [SCN_ACT_FAIL_FAILPOINT] = FLT_FAILPOINT_FAIL,
    [SCN_ACT_SLOW_FAILPOINT] = FLT_FAILPOINT_SLOW, [SCN_ACT_CORRUPT_FAILPOINT] = FLT_FAILPOINT_CORRUPT,
};

void run__fire(struct run *r, struct run_fault *rf)
{
    const struct scn_fault *f = rf->f;
    struct flt_spec spec = { .kind = (enum flt_kind)kind_map[f->action],
                             .duration_ns = f->duration_ns, .delay_ns = f->delay_ns,
                             .probability = f->probability, .nth = f->nth,
                             .fp_mode = (int)f->fp_mode, .failpoint = f->failpoint,
                             .count = f->count };
    char why[200] = "";
    bool ok = true, on_clients = false;
    if (f->action == SCN_ACT_CRASH_JM_LEADER && !f->target.job.name && r->nclusters) {
        spec.a.cluster = r->clusters[0].c;
        spec.a.tm = FLT_TM_JM;
    } else if (f->action == SCN_ACT_ADD_TASKMANAGER) {
        ok = r->nclusters > 0;
        spec.a.cluster = ok ? r->clusters[0].c : NULL;
    } else if (f->action < SCN_ACT_FAIL_FAILPOINT) {
        ok = resolve(r, &f->target, &spec.a, why, sizeof(why));
        on_clients = f->target.kind == SCN_TARGET_CLIENT;
        if (ok && (f->action == SCN_ACT_PARTITION || f->action == SCN_ACT_DELAY_MESSAGES ||
                   f->action == SCN_ACT_DROP_MESSAGES || f->action == SCN_ACT_DUPLICATE_MESSAGES) &&
            f->peer.kind != SCN_TARGET_JOBMANAGER && f->peer.job.name)
            ok = resolve(r, &f->peer, &spec.b, why, sizeof(why));
    }
    struct run_fault_log *lg = r->nlog < sizeof(r->log) / sizeof(r->log[0]) ? &r->log[r->nlog++] : NULL;
    uint64_t now = rt_now(r->w);
    if (lg) {
        lg->at_ns = now - r->t0_ns;
        lg->until_ns = lg->at_ns + (f->action == SCN_ACT_PAUSE || f->duration_ns ? f->duration_ns : 0);
        char *txt = scn_fault_text(r->s, f);
        snprintf(lg->action, sizeof(lg->action), "%s", txt ? txt : "?");
        rt_free(txt);
        snprintf(lg->target, sizeof(lg->target), "%s", f->failpoint ? f->failpoint : "");
    }
    rf->fired++;
    if (!ok) {
        run__say(r, "fault skipped: %s (%s)", rf->text, why);
        if (lg)
            snprintf(lg->detail, sizeof(lg->detail), "skipped: %.140s", why);
        return;
    }
    /* A fault on the client hits every client node: each application's
     * client process.  "client" meant all of the applications' client work
     * when one node did it, and still does. */
    size_t nhit = on_clients ? r->nclients : 1;
    if (!rf->active) {
        rf->nactive = r->nclients > 1 ? r->nclients : 1;
        rf->active = rt_xcalloc_process(rf->nactive, sizeof(*rf->active));
    }
    struct flt_active **acts = rt_xcalloc_process(nhit, sizeof(*acts));
    char detail[160] = "";
    int rc = -1;
    size_t failed = 0;
    bool any = false;
    for (size_t i = 0; i < nhit; i++) {
        char d[160] = "";
        if (on_clients)
            spec.a.node = r->clients[i];
        int rci = flt_apply(r->w, &spec, &acts[i], d, sizeof(d));
        failed += rci < 0;
        any |= acts[i] != NULL;
        /* The detail of the first node it applied to (of the first if none). */
        if (i == 0 || (rc < 0 && rci == 0)) {
            rc = rci;
            snprintf(detail, sizeof(detail), "%s", d);
        }
    }
    if (nhit > 1) {
        size_t len = strlen(detail);
        snprintf(detail + len, sizeof(detail) - len, " (on %zu client nodes, %zu not applied)",
                 nhit, failed);
    }
    if (!r->first_fault_ns)
        r->first_fault_ns = now;
    if (lg)
        snprintf(lg->detail, sizeof(lg->detail), "%s%.140s", rc < 0 ? "not applied: " : "", detail);
    run__say(r, "fault: %s -> %s%s", rf->text, rc < 0 ? "not applied: " : "", detail);
    if (any) {
        run__heal(rf);
        for (size_t i = 0; i < nhit; i++)
            rf->active[i] = acts[i];
        rf->heal_at = f->duration_ns ? now + f->duration_ns : 0;
    }
    rt_free(acts);
}

void run__heal(struct run_fault *rf)
{
    for (size_t i = 0; i < rf->nactive; i++) {
        flt_heal(rf->active[i]);
        rf->active[i] = NULL;
    }
}

/* How often the event a fault waits for has happened so far. */
static uint64_t event_count(struct run *r, const struct scn_event *e)
{
    struct run_job *j = job_of(r, &e->job);
    switch (e->kind) {
    case SCN_EVENT_CHECKPOINT_DONE:
        if (!j || !j->mj)
            return 0;
        if (e->checkpoint)
            return atomic_load(&j->mj->ej->last_checkpoint) >= e->checkpoint;
        return atomic_load(&j->mj->ej->checkpoints_completed);
    case SCN_EVENT_JOB_STATE: {
        if (!j || !j->mj)
            return 0;
        static const int map[] = { ENG_JOB_RUNNING, ENG_JOB_RESTARTING, ENG_JOB_FINISHED,
                                   ENG_JOB_FAILED, ENG_JOB_CANCELED };
        uint64_t n = 0;
        for (struct eng_job_event *ev = atomic_load(&j->mj->ej->events); ev; ev = ev->next)
            n += ev->state == map[e->state] &&
                 strncmp(ev->text, eng_job_state_name((enum eng_job_state)ev->state),
                         strlen(eng_job_state_name((enum eng_job_state)ev->state))) == 0;
        return n;
    }
    case SCN_EVENT_RESTORE_STARTED:
        return j && j->mj ? atomic_load(&j->mj->ej->restarts) : 0;
    case SCN_EVENT_TM_REGISTERED: {
        uint64_t n = 0;
        for (size_t c = 0; c < r->nclusters; c++)
            n += atomic_load(&r->clusters[c].c->ntms);
        return n;
    }
    }
    return 0;
}

uint64_t run__event_count(struct run *r, const struct scn_event *e)
{
    return event_count(r, e);
}

bool run__check_events(struct run *r, bool act)
{
    bool any = false;
    for (size_t i = 0; i < r->s->n_faults; i++) {
        struct run_fault *rf = &r->faults[i];
        const struct scn_trigger *t = &rf->f->trigger;
        if (t->kind != SCN_TRIGGER_WHEN || (t->repeat && rf->fired >= t->repeat))
            continue;
        uint64_t n = event_count(r, &t->event);
        if (n <= rf->last_count)
            continue;
        any = true;
        if (!act)
            continue;
        while (rf->last_count < n) {
            rf->last_count++;
            if (++rf->seen % (t->every ? t->every : 1) == 0 && (!t->repeat || rf->fired < t->repeat))
                run__fire(r, rf);
        }
    }
    return any;
}
