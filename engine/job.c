/*
 * job.c - the shared job object: creation from a job graph, the event list,
 * configuration defaults (Flink's), and freeing every attempt's channels
 * (each by the attempt that owns it).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/job.h"
#include "engine/operator.h"

void eng_job_config_defaults(struct eng_job_config *c)
{
    memset(c, 0, sizeof(*c));
    c->checkpoint_interval_ns = 0;                      /* Flink: checkpointing off */
    c->checkpoint_timeout_ns = 10ull * 60 * RT_NS_PER_SEC;
    c->min_pause_ns = 0;
    c->max_concurrent = 1;
    c->tolerable_failed = 0;
    c->num_retained = 1;
    c->chan_slots = 0;                                  /* by world: see new_attempt */
}

const char *eng_job_state_name(enum eng_job_state s)
{
    static const char *const names[] = { "CREATED", "RUNNING", "FAILING", "RESTARTING",
                                         "FINISHED", "FAILED", "CANCELED" };
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

int eng_job_new(uint32_t id, struct eng_jobgraph *graph, const struct eng_job_config *cfg,
                struct dfs *dfs, struct eng_job **out, char *err, size_t errlen)
{
    struct eng_execgraph *eg = NULL;
    int rc = eng_execgraph_build(graph, &eg, err, errlen);
    if (rc < 0)
        return rc;
    struct eng_job *j = rt_xcalloc_process(1, sizeof(*j));
    j->id = id;
    snprintf(j->name, sizeof(j->name), "%s", eng_jobgraph_name(graph));
    snprintf(j->dir, sizeof(j->dir), "job-%u", id);
    j->graph = graph;
    j->eg = eg;
    j->cfg = *cfg;
    if (!j->cfg.checkpoint_timeout_ns)
        j->cfg.checkpoint_timeout_ns = 10ull * 60 * RT_NS_PER_SEC;
    j->dfs = dfs;
    j->output = eng_output_new();
    uint32_t ntasks = eng_execgraph_task_count(eg);
    j->task_io = rt_xcalloc_process(ntasks ? ntasks : 1, sizeof(*j->task_io));
    atomic_init(&j->state, ENG_JOB_CREATED);
    *out = j;
    return 0;
}

void eng_job_free(struct eng_job *j)
{
    if (!j)
        return;
    struct eng_attempt *a = j->attempts;
    while (a) {
        struct eng_attempt *next = a->next;
        for (uint32_t c = 0; c < a->nchans; c++)
            if (a->owns[c])
                eng_chan_free(a->chans[c]);
        rt_free(a->chans);
        rt_free(a->owns);
        rt_free(a);
        a = next;
    }
    struct eng_job_event *e = atomic_load(&j->events);
    while (e) {
        struct eng_job_event *next = e->next;
        rt_free(e);
        e = next;
    }
    struct eng_checkpoint_stat *cs = atomic_load(&j->checkpoint_stats);
    while (cs) {
        struct eng_checkpoint_stat *next = cs->next;
        rt_free(cs);
        cs = next;
    }
    rt_free(j->task_io);
    eng_output_free(j->output);
    eng_execgraph_free(j->eg);
    eng_jobgraph_free(j->graph);
    rt_free(j);
}

enum eng_job_state eng_job_state(const struct eng_job *j)
{
    return atomic_load_explicit(&((struct eng_job *)j)->state, memory_order_acquire);
}

bool eng_job_state_is_terminal(enum eng_job_state s)
{
    return s == ENG_JOB_FINISHED || s == ENG_JOB_FAILED || s == ENG_JOB_CANCELED;
}

bool eng_job_ended(const struct eng_job *j)
{
    return eng_job_state_is_terminal(eng_job_state(j));
}

/* Appends an event whose entry says the job is in `state` after it. */
static void append_event(struct eng_job *j, int state, uint64_t t_ns, const char *text)
{
    size_t n = strlen(text);
    /* Process memory: the job outlives the runner's node. */
    struct eng_job_event *e = rt_xcalloc_process(1, sizeof(*e) + n + 1);
    e->t_ns = t_ns;
    e->state = state;
    memcpy(e->text, text, n);
    e->next = atomic_load_explicit(&j->events, memory_order_relaxed);
    atomic_store_explicit(&j->events, e, memory_order_release);
}

void eng_job_event(struct eng_job *j, uint64_t t_ns, const char *fmt, ...)
{
    char text[320];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0)
        text[0] = '\0';
    append_event(j, atomic_load(&j->state), t_ns, text);
}

/* Every job's state changes, process-wide: a watcher of many jobs rescans
 * them only when this moved (jobs of other worlds move it too, which costs
 * a rescan, never a missed change). */
static atomic_uint_fast64_t state_changes;

void eng_job_set_state(struct eng_job *j, enum eng_job_state st, uint64_t t_ns, const char *why)
{
    char text[320];
    snprintf(text, sizeof(text), "%s%s%s", eng_job_state_name(st), why ? ": " : "",
             why ? why : "");
    /* The event first: whoever sees the new state finds its event (the
     * bench reads FINISHED's time, a test a FAILED job's reason). */
    append_event(j, (int)st, t_ns, text);
    atomic_store_explicit(&j->state, st, memory_order_release);
    atomic_fetch_add_explicit(&state_changes, 1, memory_order_release);
}

uint64_t eng_job_state_changes(void)
{
    return atomic_load_explicit(&state_changes, memory_order_acquire);
}

void eng_job_last_error(const struct eng_job *j, char *buf, size_t len)
{
    buf[0] = '\0';
    for (const struct eng_job_event *e = atomic_load_explicit(&((struct eng_job *)j)->events,
                                                              memory_order_acquire);
         e; e = e->next) {
        if (strncmp(e->text, "FAILING: ", 9) == 0 || strncmp(e->text, "FAILED: ", 8) == 0) {
            snprintf(buf, len, "%s", strchr(e->text, ':') + 2);
            return;
        }
    }
}

_Static_assert(sizeof(struct eng_task_io) == 64, "one cache line a task");

void eng_task_io_times(const struct eng_task_io *io, uint64_t now, uint64_t *busy,
                       uint64_t *idle, uint64_t *bp)
{
    *busy = *idle = *bp = 0;
    uint32_t mode = atomic_load_explicit(&io->time_mode, memory_order_acquire);
    if (mode == ENG_TASK_TIME_NONE)
        return;
    uint64_t run = atomic_load_explicit(&io->run_ns, memory_order_relaxed);
    uint64_t since = atomic_load_explicit(&io->since_ns, memory_order_acquire);
    *idle = atomic_load_explicit(&io->idle_ns, memory_order_relaxed);
    *bp = atomic_load_explicit(&io->bp_ns, memory_order_relaxed);
    uint64_t end = mode == ENG_TASK_TIME_ENDED ? since : now;
    if (end < since)
        end = since;
    if (mode == ENG_TASK_TIME_IDLE)
        *idle += end - since;
    else if (mode == ENG_TASK_TIME_BP)
        *bp += end - since;
    uint64_t spent = end > run ? end - run : 0;
    *busy = spent > *idle + *bp ? spent - *idle - *bp : 0;
}
