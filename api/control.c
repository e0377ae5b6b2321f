/*
 * control.c - acting at exact moments through the public API: waits that
 * run callbacks on checkpoint completion and job state changes, waiting for
 * a checkpoint, and failpoint and network faults (include/minicluster/
 * minicluster.h).
 *
 * Every wait of the API goes through api_wait.  Its predicate first asks
 * whether a callback is due (a job completed a checkpoint or logged a state
 * change the callbacks have not been told of); if so the world wait returns
 * - in the sim world right after the event that did it, since the world
 * checks the predicate after every event - and the callbacks run here, on
 * the caller's thread, outside any handler, before the wait resumes for
 * what is left of its timeout.  That is how the scenario runner fires its
 * `when` faults (scenarios/run.c), and why a fault a callback injects lands
 * at the same point of a sim schedule on every run with that seed.
 *
 * Faults go through the fault injector (faults/faults.h); they are kept by
 * id on the handle and healed at mc_close, because libfiu's failpoints are
 * process-global and must not outlive the world whose RNG they draw from.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "api/api_internal.h"
#include "faults/faults.h"
#include "minicluster/cluster.h"
#include "runtime/rt.h"

/* ---- callbacks ---------------------------------------------------------------- */

/* State-change events of a job's log (the runner logs failures, checkpoints
 * and other news too; a state change's text starts with the state's name). */
static unsigned state_events(const struct eng_job *ej)
{
    unsigned n = 0;
    for (struct eng_job_event *ev = atomic_load(&ej->events); ev; ev = ev->next) {
        const char *name = eng_job_state_name((enum eng_job_state)ev->state);
        n += strncmp(ev->text, name, strlen(name)) == 0;
    }
    return n;
}

/* The state of the k-th (0-based, oldest first) state-change event. */
static int state_event_at(const struct eng_job *ej, unsigned k)
{
    unsigned total = state_events(ej), i = total;
    for (struct eng_job_event *ev = atomic_load(&ej->events); ev; ev = ev->next) {
        const char *name = eng_job_state_name((enum eng_job_state)ev->state);
        if (strncmp(ev->text, name, strlen(name)) != 0)
            continue;
        if (--i == k)
            return ev->state;
    }
    return -1;
}

static bool due(struct minicluster *mc)
{
    for (int j = 0; j < mc->njobs; j++) {
        const struct eng_job *ej = mc->jobs[j]->ej;
        if (mc->n_on_checkpoint &&
            atomic_load(&ej->checkpoints_completed) != mc->seen[j].checkpoints)
            return true;
        if (mc->n_on_state && state_events(ej) != mc->seen[j].state_events)
            return true;
    }
    return false;
}

/* Tells the callbacks what happened since they last heard, job by job. */
static void run_callbacks(struct minicluster *mc)
{
    mc->in_callback = true;
    for (int j = 0; j < mc->njobs; j++) {
        const struct eng_job *ej = mc->jobs[j]->ej;
        struct api_seen *seen = &mc->seen[j];
        unsigned done = atomic_load(&ej->checkpoints_completed);
        for (; mc->n_on_checkpoint && seen->checkpoints < done; seen->checkpoints++)
            for (unsigned c = 0; c < mc->n_on_checkpoint; c++)
                mc->on_checkpoint[c].cb(mc, j + 1, atomic_load(&ej->last_checkpoint),
                                        mc->on_checkpoint[c].arg);
        unsigned states = state_events(ej);
        for (; mc->n_on_state && seen->state_events < states; seen->state_events++) {
            int st = state_event_at(ej, seen->state_events);
            for (unsigned c = 0; c < mc->n_on_state && st >= 0; c++)
                mc->on_state[c].cb(mc, j + 1, (enum mc_job_state)st, mc->on_state[c].arg);
        }
    }
    mc->in_callback = false;
}

struct wait_ctx {
    struct minicluster *mc;
    bool (*pred)(void *arg);
    void *arg;
    bool callbacks;
};

static bool wait_pred(void *arg)
{
    struct wait_ctx *w = arg;
    return (w->callbacks && due(w->mc)) || (w->pred && w->pred(w->arg));
}

int api_wait(struct minicluster *mc, bool (*pred)(void *arg), void *arg, uint64_t timeout_ns)
{
    struct wait_ctx w = { mc, pred, arg, !mc->in_callback };
    uint64_t deadline = rt_now(mc->w) + timeout_ns;
    for (;;) {
        if (w.callbacks && due(mc))
            run_callbacks(mc);
        if (pred && pred(arg))
            return 0;
        uint64_t now = rt_now(mc->w);
        if (now >= deadline)
            return pred ? -ETIMEDOUT : 0;
        if (rt_world_wait(mc->w, wait_pred, &w, deadline - now) < 0)
            return pred ? -ETIMEDOUT : 0;
    }
}

int mc_on_checkpoint(struct minicluster *mc,
                     void (*cb)(struct minicluster *mc, int job, uint64_t checkpoint, void *arg),
                     void *arg)
{
    API_LIVE_OR_RETURN(mc, "mc_on_checkpoint");
    if (!cb)
        return api_fail(mc, -EINVAL, "mc_on_checkpoint: NULL callback");
    if (mc->n_on_checkpoint == MC_API_MAX_CALLBACKS)
        return api_fail(mc, -ENOSPC, "mc_on_checkpoint: at most %d callbacks",
                        MC_API_MAX_CALLBACKS);
    /* A new watcher hears of what happens from now on. */
    if (mc->n_on_checkpoint == 0)
        for (int j = 0; j < mc->njobs; j++)
            mc->seen[j].checkpoints = atomic_load(&mc->jobs[j]->ej->checkpoints_completed);
    mc->on_checkpoint[mc->n_on_checkpoint++] = (struct api_checkpoint_cb){ cb, arg };
    return 0;
}

int mc_on_job_state(struct minicluster *mc,
                    void (*cb)(struct minicluster *mc, int job, enum mc_job_state state, void *arg),
                    void *arg)
{
    API_LIVE_OR_RETURN(mc, "mc_on_job_state");
    if (!cb)
        return api_fail(mc, -EINVAL, "mc_on_job_state: NULL callback");
    if (mc->n_on_state == MC_API_MAX_CALLBACKS)
        return api_fail(mc, -ENOSPC, "mc_on_job_state: at most %d callbacks",
                        MC_API_MAX_CALLBACKS);
    if (mc->n_on_state == 0)
        for (int j = 0; j < mc->njobs; j++)
            mc->seen[j].state_events = state_events(mc->jobs[j]->ej);
    mc->on_state[mc->n_on_state++] = (struct api_state_cb){ cb, arg };
    return 0;
}

/* ---- waiting for a checkpoint ------------------------------------------------- */

struct chk_arg {
    const struct eng_job *ej;
    uint64_t n;
};

static bool chk_reached(void *arg)
{
    struct chk_arg *a = arg;
    return atomic_load(&a->ej->last_checkpoint) >= a->n ||
           eng_job_state_is_terminal(eng_job_state(a->ej));
}

int mc_wait_checkpoint(struct minicluster *mc, int job, uint64_t n, uint64_t timeout_ms)
{
    API_LIVE_OR_RETURN(mc, "mc_wait_checkpoint");
    struct mc_job *j = api_job(mc, job);
    if (!j)
        return api_fail(mc, -ENOENT, "mc_wait_checkpoint: no job %d", job);
    struct chk_arg a = { j->ej, n };
    int rc = api_wait(mc, chk_reached, &a, timeout_ms * RT_NS_PER_MS);
    uint64_t last = atomic_load(&j->ej->last_checkpoint);
    if (last >= n)
        return 0;
    if (rc == 0)
        return api_fail(mc, -ECANCELED, "mc_wait_checkpoint: job %d ended %s after checkpoint "
                        "%llu, before checkpoint %llu", job,
                        eng_job_state_name(eng_job_state(j->ej)), (unsigned long long)last,
                        (unsigned long long)n);
    return api_fail(mc, -ETIMEDOUT, "mc_wait_checkpoint: job %d completed checkpoint %llu "
                    "within %llu ms, not %llu", job, (unsigned long long)last,
                    (unsigned long long)timeout_ms, (unsigned long long)n);
}

/* ---- faults ------------------------------------------------------------------- */

static int fault_slot(struct minicluster *mc)
{
    for (int i = 0; i < MC_API_MAX_FAULTS; i++)
        if (!mc->faults[i])
            return i;
    return -1;
}

static int apply(struct minicluster *mc, const char *fn, const struct flt_spec *spec)
{
    int slot = fault_slot(mc);
    if (slot < 0)
        return api_fail(mc, -ENOSPC, "%s: at most %d faults at a time (mc_heal some)", fn,
                        MC_API_MAX_FAULTS);
    char detail[160] = "";
    struct flt_active *a = NULL;
    int rc = flt_apply(mc->w, spec, &a, detail, sizeof(detail));
    if (rc < 0)
        return api_fail(mc, rc, "%s: %s", fn, detail[0] ? detail : "cannot apply");
    if (!a)
        return api_fail(mc, -EINVAL, "%s: nothing to heal later (%s)", fn, detail);
    mc->faults[slot] = a;
    return slot + 1;
}

int mc_fail(struct minicluster *mc, const char *name, const struct mc_fail *how)
{
    API_LIVE_OR_RETURN(mc, "mc_fail");
    if (!name || !flt_failpoint_known(name))
        return api_fail(mc, -EINVAL, "mc_fail: unknown failpoint '%s' (docs/failpoints.md "
                        "lists them)", name ? name : "(null)");
    struct mc_fail always = { .mode = MC_FAIL_ALWAYS };
    if (!how)
        how = &always;
    if ((unsigned)how->mode > MC_FAIL_ONCE)
        return api_fail(mc, -EINVAL, "mc_fail: unknown mode %d", (int)how->mode);
    if (how->mode == MC_FAIL_PROBABILITY && !(how->probability >= 0 && how->probability <= 1))
        return api_fail(mc, -EINVAL, "mc_fail: probability %g is not in [0, 1]",
                        how->probability);
    if (how->mode == MC_FAIL_NTH && how->nth == 0)
        return api_fail(mc, -EINVAL, "mc_fail: nth counts hits from 1");
    static const int modes[] = { [MC_FAIL_ALWAYS] = FLT_FP_ALWAYS,
                                 [MC_FAIL_PROBABILITY] = FLT_FP_PROBABILITY,
                                 [MC_FAIL_NTH] = FLT_FP_NTH, [MC_FAIL_ONCE] = FLT_FP_ONCE };
    struct flt_spec spec = { .kind = FLT_FAILPOINT_FAIL, .failpoint = name,
                             .fp_mode = modes[how->mode], .probability = how->probability,
                             .nth = how->nth };
    return apply(mc, "mc_fail", &spec);
}

static int tm_target(struct minicluster *mc, int tm, struct flt_target *t)
{
    if (tm != MC_JOBMANAGER && (tm < 0 || (unsigned)tm >= atomic_load(&mc->c->ntms)))
        return -EINVAL;
    *t = (struct flt_target){ .cluster = mc->c, .tm = tm == MC_JOBMANAGER ? FLT_TM_JM : tm };
    return 0;
}

int mc_partition(struct minicluster *mc, int a, int b)
{
    API_LIVE_OR_RETURN(mc, "mc_partition");
    struct flt_spec spec = { .kind = FLT_PARTITION };
    if (a == b || tm_target(mc, a, &spec.a) < 0 || tm_target(mc, b, &spec.b) < 0)
        return api_fail(mc, -EINVAL, "mc_partition: %d and %d are not two nodes of the "
                        "cluster (TaskManagers 0..%u, or MC_JOBMANAGER)", a, b,
                        atomic_load(&mc->c->ntms) - 1);
    return apply(mc, "mc_partition", &spec);
}

int mc_heal(struct minicluster *mc, int fault)
{
    API_LIVE_OR_RETURN(mc, "mc_heal");
    if (fault < 1 || fault > MC_API_MAX_FAULTS || !mc->faults[fault - 1])
        return api_fail(mc, -ENOENT, "mc_heal: no fault %d", fault);
    flt_heal(mc->faults[fault - 1]);
    mc->faults[fault - 1] = NULL;
    return 0;
}

void api_heal_all(struct minicluster *mc)
{
    for (int i = 0; i < MC_API_MAX_FAULTS; i++) {
        flt_heal(mc->faults[i]);
        mc->faults[i] = NULL;
    }
}
