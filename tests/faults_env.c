/*
 * faults_env.c - the test environment of test_faults.c (see faults_env.h):
 * the tests' common cluster (cluster_env.h) with three TaskManagers, two
 * retained checkpoints, and one job (source -> count -> sink, parallelism 2)
 * already checkpointing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/operator.h"
#include "tests/faults_env.h"
#include "tests/verdict.h"

static bool running(void *arg)
{
    return atomic_load(&((struct cluster_env *)arg)->jobs[0]->ej->last_checkpoint) >= 2;
}

/* A cluster with a running job.  tolerable: failed checkpoints the job takes
 * without failing (failpoint tests keep it running through them). */
void env_up(struct cluster_env *e, enum rt_world_kind kind, uint64_t seed, uint32_t tolerable,
            uint64_t records)
{
    cenv_up(e, kind, "faults", seed, 100000);
    struct mc_cluster_config cfg;
    cenv_config(&cfg, 3);
    cfg.job.tolerable_failed = tolerable;
    cfg.job.num_retained = 2;
    cenv_start(e, "session", &cfg);
    char err[256];
    assert_int_equal(mc_cluster_submit(e->c, cenv_keyed_graph("orders", records, 2), 1, NULL,
                                       &e->jobs[0], err, sizeof(err)), 0);
    assert_int_equal(rt_world_wait(e->w, running, e, WAIT_NS), 0);
}

void env_down(struct cluster_env *e)
{
    assert_int_equal(flt_failpoints_active(), 0);
    cenv_down(e);
}

struct flt_active *apply(struct cluster_env *e, struct flt_spec s)
{
    char d[256];
    struct flt_active *a = NULL;
    int rc = flt_apply(e->w, &s, &a, d, sizeof(d));
    if (rc != 0)
        fail_msg("flt_apply: %s (%d)", d, rc);
    print_message("# %s\n", d);
    return a;
}

int apply_err(struct cluster_env *e, struct flt_spec s)
{
    char d[256];
    struct flt_active *a = NULL;
    int rc = flt_apply(e->w, &s, &a, d, sizeof(d));
    assert_null(a);
    assert_true(d[0] != '\0');
    print_message("# refused: %s\n", d);
    return rc;
}

/* ---- predicates ------------------------------------------------------------- */



bool lost_n(void *arg)
{
    struct until *u = arg;
    return atomic_load(&u->e->c->tms_lost) >= u->n;
}

bool registered_n(void *arg)
{
    struct until *u = arg;
    return atomic_load(&u->e->c->registered) >= u->n;
}

bool failed_chk_n(void *arg)
{
    struct until *u = arg;
    return atomic_load(&u->e->jobs[0]->ej->checkpoints_failed) >= u->n;
}

bool chk_n(void *arg)
{
    struct until *u = arg;
    return atomic_load(&u->e->jobs[0]->ej->last_checkpoint) >= u->n;
}

bool restored_again(void *arg)
{
    for (struct eng_job_event *ev = atomic_load(&((struct cluster_env *)arg)->jobs[0]->ej->events);
         ev; ev = ev->next)
        if (strstr(ev->text, "restoring it again"))
            return true;
    return false;
}

bool node_down(void *arg) { return rt_node_is_down(arg); }

bool job_over(void *arg)
{
    return eng_job_ended(((struct cluster_env *)arg)->jobs[0]->ej);
}

void wait_for(struct cluster_env *e, bool (*pred)(void *), void *arg, const char *what)
{
    if (rt_world_wait(e->w, pred, arg, WAIT_NS) != 0)
        fail_msg("timed out waiting for %s", what);
}

/* Waits for the job's end and checks its output against the reference:
 * exactly once, or (dups_ok) at least once with right values. */
void finishes(struct cluster_env *e, bool dups_ok)
{
    rt_world_wait(e->w, job_over, e, WAIT_NS);
    struct eng_verdict v = assert_output(e->jobs[0]->ej, NULL, dups_ok);
    if (dups_ok && v.duplicated)
        print_message("# %llu records duplicated (allowed here)\n", (unsigned long long)v.duplicated);
}

void finishes_exactly_once(struct cluster_env *e) { finishes(e, false); }

bool has_event(struct cluster_env *e, const char *text)
{
    for (struct eng_job_event *ev = atomic_load(&e->jobs[0]->ej->events); ev; ev = ev->next)
        if (strstr(ev->text, text))
            return true;
    return false;
}

struct flt_target tm_of(struct cluster_env *e, uint32_t subtask)
{
    return (struct flt_target){ .job = e->jobs[0], .subtask = subtask };
}
