/*
 * jobrun_failover.c - the job runner's failover (see jobrun.h): which tasks
 * a failure restarts - the failover strategy's restart set, or every task
 * in the cases jobrun.h lists - stopping them and taking them out of the
 * runner's counts, the checkpoint fallback after a failed restore, and when
 * the restart comes (on_failure's delay; a failure while a restart waits
 * widens it).  Runs on the runner's node, from its handlers.
 */
#include <stdio.h>
#include <string.h>

#include "engine/jobrun_internal.h"

void eng__jobrun_cancel_task(struct jobrun *r, uint32_t t)
{
    if (r->taddr[t])
        rt_send(r->self, r->taddr[t], ENG_MSG_CANCEL, &r->tattempt[t], sizeof(r->tattempt[t]));
}

/* Breaks task t's channels, which its next instance will not use (a
 * deployment makes new channels for the tasks it deploys).  An instance
 * that has not reported yet cannot be cancelled; with its channels broken
 * it fails at its first step instead of feeding its sinks beside its
 * successor. */
static void break_channels(struct jobrun *r, uint32_t t)
{
    const struct eng_execgraph *eg = r->job->eg;
    const struct eng_task *tk = eng_execgraph_task(eg, t);
    char cause[64];
    snprintf(cause, sizeof(cause), "task %u restarts", t);
    for (uint32_t i = 0; i < tk->n_in; i++)
        eng_chan_break(r->att->chans[eng_execgraph_inputs(eg)[tk->first_in + i]], cause);
    for (uint32_t i = 0; i < tk->n_out; i++)
        eng_chan_break(r->att->chans[tk->first_out + i], cause);
}

/* Task t is to restart: it stops, and it counts neither as running nor as a
 * source that ended until its next instance says so. */
static void stop_task(struct jobrun *r, uint32_t t)
{
    eng__jobrun_cancel_task(r, t);
    if (r->att)
        break_channels(r, t);
    r->taddr[t] = 0;
    if (r->tstate[t] == ENG_TASK_RUNNING)
        r->running--;
    else if (r->tstate[t] == ENG_TASK_FINISHED)
        r->finished--;
    r->sources_ended -= r->input_ended[t];
    r->input_ended[t] = 0;
    r->tstate[t] = ENG_TASK_CANCELED;
    r->restart[t] = 1;
}

/* Whether mask can restart while the other tasks run on: it holds every
 * failed task, and no channel joins a task in it to one outside (that one
 * would wait on a channel nobody serves any more). */
static bool closed_set(struct jobrun *r, const uint32_t *failed, uint32_t nfailed,
                       const uint8_t *mask)
{
    const struct eng_execgraph *eg = r->job->eg;
    for (uint32_t i = 0; i < nfailed; i++)
        if (!mask[failed[i]])
            return false;
    for (uint32_t c = 0; c < eng_execgraph_channel_count(eg); c++) {
        const struct eng_channel *ch = eng_execgraph_channel(eg, c);
        if (mask[ch->producer] != mask[ch->consumer])
            return false;
    }
    return true;
}

/* Puts the tasks to restart after failed[] (NULL: the whole job) in r->mask.
 * Returns NULL when the failover strategy's set is a part of the job, or
 * why every task restarts ("" for no particular reason). */
static const char *restart_set(struct jobrun *r, const uint32_t *failed, uint32_t nfailed,
                               bool restore_failed)
{
    const char *why = "";
    if (!failed)
        why = "the whole job failed";
    else if (restore_failed)
        why = "a restore failed";
    else if (r->final_triggered || r->finished)
        why = "the job is finishing";   /* see jobrun.h: no region restart then */
    else if (r->pol.restart_set) {
        memset(r->mask, 0, r->ntasks);
        if (r->pol.restart_set(r->pol.arg, failed, nfailed, r->mask) < 0 ||
            !closed_set(r, failed, nfailed, r->mask)) {
            why = "the failover strategy gave no restart set that can run alone";
        } else {
            for (uint32_t t = 0; t < r->ntasks; t++)
                if (!r->mask[t])
                    return NULL;
            why = "the failover strategy restarts every task";
        }
    }
    memset(r->mask, 1, r->ntasks);
    return why;
}

/* "3 of 9 tasks, region 1 of 3 (region failover)": what the waiting
 * restart deploys, for the job's events. */
static void describe_restart(struct jobrun *r, const char *full, char *buf, size_t len)
{
    const struct eng_execgraph *eg = r->job->eg;
    uint32_t n = 0, nreg = eng_execgraph_region_count(eg), in = 0;
    for (uint32_t t = 0; t < r->ntasks; t++)
        n += r->restart[t];
    size_t at = (size_t)snprintf(buf, len, "%u of %u tasks", n, r->ntasks);
    if (full) {
        snprintf(buf + at, len - at, " (full failover%s%s)", full[0] ? ": " : "", full);
        return;
    }
    for (uint32_t g = 0; g < nreg; g++)
        in += r->restart[eng_execgraph_region(eg, g)->tasks[0]];
    at += (size_t)snprintf(buf + at, len - at, ", region%s", in > 1 ? "s" : "");
    for (uint32_t g = 0; g < nreg && at + 32 < len; g++)
        if (r->restart[eng_execgraph_region(eg, g)->tasks[0]])
            at += (size_t)snprintf(buf + at, len - at, " %u", g);
    snprintf(buf + at, len - at, " of %u (region failover)", nreg);
}

/*
 * Tasks failed[] failed (failed NULL: the whole job did).  Stops the tasks
 * to restart - those the strategy picks and every task in the cases
 * jobrun.h lists - aborts the pending checkpoints and asks the policy
 * whether and when to restart.  While a restart waits for its delay, the
 * failure widens it instead of starting another.  Tasks that already wait
 * for their restart are no news.
 */
void eng__jobrun_failover(struct jobrun *r, const uint32_t *failed, uint32_t nfailed,
                          const char *reason, bool restore_failed)
{
    enum eng_job_state st = eng_job_state(r->job);
    if (st != ENG_JOB_RUNNING && st != ENG_JOB_CREATED && st != ENG_JOB_RESTARTING)
        return;
    bool news = !failed;
    for (uint32_t i = 0; i < nfailed; i++)
        news |= !r->restart[failed[i]];
    if (!news)
        return;
    const char *full = restart_set(r, failed, nfailed, restore_failed);
    bool widen = st == ENG_JOB_RESTARTING;
    if (widen)
        eng_job_event(r->job, now(r), "failure while restarting: %s", reason);
    else
        eng__jobrun_set_state(r, ENG_JOB_FAILING, reason);
    for (uint32_t t = 0; t < r->ntasks; t++)
        if (r->mask[t] && !r->restart[t])
            stop_task(r, t);
    for (uint32_t i = 0; i < (r->job->cfg.max_concurrent ? r->job->cfg.max_concurrent : 1); i++)
        eng__jobrun_abort_pending(r, &r->pend[i], "tasks failed");
    r->final_triggered = false;
    uint64_t delay = 0;
    int again = r->pol.on_failure ? r->pol.on_failure(r->pol.arg, ++r->failures, reason, &delay) : 1;
    if (!again) {
        for (uint32_t t = 0; t < r->ntasks; t++)
            eng__jobrun_cancel_task(r, t);
        eng__jobrun_set_state(r, ENG_JOB_FAILED, reason);
        return;
    }
    char what[192];
    describe_restart(r, full, what, sizeof(what));
    uint64_t at = now(r) + delay;
    if (widen) {
        eng_job_event(r->job, now(r), "restart widened to %s", what);
        if (at <= r->restart_at)
            return;
        rt_timer_cancel(r->self, r->restart_timer);
    } else {
        eng__jobrun_set_state(r, ENG_JOB_RESTARTING, what);
    }
    r->restart_at = at;
    r->restart_timer = rt_timer_start(r->self, delay, TAG_RESTART);
}

void eng__jobrun_fall_back(struct jobrun *r, uint64_t bad, const char *reason)
{
    enum eng_job_state st = eng_job_state(r->job);
    if (st != ENG_JOB_RUNNING && st != ENG_JOB_CREATED && st != ENG_JOB_FAILING &&
        st != ENG_JOB_RESTARTING)
        return;
    if (!r->ndone || r->done[r->ndone - 1].id != bad)
        return;     /* dropped already, on another task's word */
    if (bad <= r->announced) {
        /* The sinks committed up to it: an older checkpoint, or a fresh
         * start, would commit its records again.  As Flink does, restore
         * it again - a read error may pass - and let the restart strategy
         * bound the tries: one that cannot be read fails the job. */
        eng_job_event(r->job, now(r), "checkpoint %llu kept, restoring it again: the sinks "
                      "committed its output, so an older one would repeat records: %s",
                      (unsigned long long)bad, reason);
        return;
    }
    struct completed *c = &r->done[--r->ndone];
    eng_job_event(r->job, now(r), "checkpoint %llu dropped, falling back to %s: %s",
                  (unsigned long long)c->id, r->ndone ? "the previous checkpoint" : "a fresh start",
                  reason);
    atomic_fetch_add(&r->job->restores_fell_back, 1);
    rt_free(c->e);
}

void eng__jobrun_fail_job(struct jobrun *r, const char *reason)
{
    eng__jobrun_failover(r, NULL, 0, reason, false);
}
