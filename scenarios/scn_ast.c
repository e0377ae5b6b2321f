/*
 * scn_ast.c - lifetime and comparison of a parsed scenario.
 *
 * Equality is by meaning: positions and the scenario's name are ignored, so a
 * scenario written by scn_scenario_print and parsed again compares equal to
 * the original (the round-trip property `shrink` relies on).
 */
#include <string.h>

#include "runtime/rt_mem.h"
#include "scenarios/scn_internal.h"

static void free_ref(struct scn_ref *r)
{
    rt_free(r->name);
}

void scn_scenario_free(struct scn_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_jobs; i++) {
        rt_free(s->jobs[i].name);
        rt_free(s->jobs[i].ops);
    }
    rt_free(s->jobs);
    for (size_t i = 0; i < s->n_apps; i++) {
        struct scn_application *a = &s->apps[i];
        rt_free(a->name);
        for (size_t k = 0; k < a->n_jobs; k++)
            free_ref(&a->jobs[k]);
        rt_free(a->jobs);
        for (size_t k = 0; k < a->n_files; k++)
            rt_free(a->files[k].path);
        rt_free(a->files);
    }
    rt_free(s->apps);
    for (size_t i = 0; i < s->n_faults; i++) {
        struct scn_fault *f = &s->faults[i];
        free_ref(&f->trigger.event.job);
        free_ref(&f->target.job);
        free_ref(&f->peer.job);
        rt_free(f->failpoint);
    }
    rt_free(s->faults);
    for (size_t i = 0; i < s->n_expects; i++) {
        free_ref(&s->expects[i].job);
        free_ref(&s->expects[i].app);
        rt_free(s->expects[i].text);
    }
    rt_free(s->expects);
    rt_free(s->config);
    rt_free(s->name);
    rt_free(s);
}

static bool eq_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool eq_ref(const struct scn_ref *a, const struct scn_ref *b)
{
    return eq_str(a->name, b->name) && (!a->name || a->index == b->index);
}

static bool eq_target(const struct scn_target *a, const struct scn_target *b)
{
    return a->kind == b->kind && eq_ref(&a->job, &b->job) && a->index == b->index;
}

static bool eq_op(const struct scn_op *a, const struct scn_op *b)
{
    return a->kind == b->kind && a->records == b->records && a->keys == b->keys &&
           a->seed == b->seed && a->rate == b->rate && a->size_ns == b->size_ns &&
           a->at == b->at && a->probability == b->probability && a->for_ns == b->for_ns &&
           a->per_record_ns == b->per_record_ns && a->per_key_bytes == b->per_key_bytes;
}

static bool eq_job(const struct scn_job *a, const struct scn_job *b)
{
    if (!eq_str(a->name, b->name) || a->n_ops != b->n_ops ||
        a->parallelism != b->parallelism || a->max_parallelism != b->max_parallelism ||
        a->state_bytes != b->state_bytes || a->checkpoint_bytes != b->checkpoint_bytes ||
        a->app != b->app)
        return false;
    for (size_t i = 0; i < a->n_ops; i++)
        if (!eq_op(&a->ops[i], &b->ops[i]))
            return false;
    return true;
}

static bool eq_app(const struct scn_application *a, const struct scn_application *b)
{
    if (!eq_str(a->name, b->name) || a->implicit != b->implicit || a->n_jobs != b->n_jobs ||
        a->execute != b->execute || a->artifacts_bytes != b->artifacts_bytes ||
        a->main_cpu_ns != b->main_cpu_ns || a->n_files != b->n_files)
        return false;
    for (size_t i = 0; i < a->n_jobs; i++)
        if (!eq_ref(&a->jobs[i], &b->jobs[i]))
            return false;
    for (size_t i = 0; i < a->n_files; i++)
        if (!eq_str(a->files[i].path, b->files[i].path) || a->files[i].on != b->files[i].on)
            return false;
    return true;
}

static bool eq_fault(const struct scn_fault *a, const struct scn_fault *b)
{
    const struct scn_trigger *ta = &a->trigger, *tb = &b->trigger;
    if (ta->kind != tb->kind)
        return false;
    if (ta->kind == SCN_TRIGGER_AT && ta->at_ns != tb->at_ns)
        return false;
    if (ta->kind == SCN_TRIGGER_WHEN &&
        (ta->event.kind != tb->event.kind || !eq_ref(&ta->event.job, &tb->event.job) ||
         ta->event.checkpoint != tb->event.checkpoint || ta->event.state != tb->event.state ||
         ta->every != tb->every || ta->repeat != tb->repeat))
        return false;
    return a->action == b->action && eq_target(&a->target, &b->target) &&
           eq_target(&a->peer, &b->peer) && a->duration_ns == b->duration_ns &&
           a->delay_ns == b->delay_ns && a->probability == b->probability &&
           a->nth == b->nth && a->fp_mode == b->fp_mode &&
           eq_str(a->failpoint, b->failpoint) && a->count == b->count;
}

static bool eq_expect(const struct scn_expect *a, const struct scn_expect *b)
{
    return a->mode == b->mode && a->kind == b->kind && eq_ref(&a->job, &b->job) &&
           eq_ref(&a->app, &b->app) && a->state == b->state && a->metric == b->metric &&
           a->cmp == b->cmp && a->value == b->value && eq_str(a->text, b->text);
}

bool scn_scenario_equal(const struct scn_scenario *a, const struct scn_scenario *b)
{
    const struct scn_cluster *ca = &a->cluster, *cb = &b->cluster;
    if (ca->taskmanagers != cb->taskmanagers || ca->slots != cb->slots ||
        ca->provider != cb->provider || ca->ha != cb->ha ||
        ca->jobmanagers != cb->jobmanagers || ca->launch_latency_ns != cb->launch_latency_ns ||
        ca->quota != cb->quota || ca->tm_memory_bytes != cb->tm_memory_bytes ||
        ca->target != cb->target)
        return false;
    if (a->dfs.bandwidth != b->dfs.bandwidth || a->dfs.ops != b->dfs.ops ||
        a->dfs.streams != b->dfs.streams || a->dfs.latency_ns != b->dfs.latency_ns ||
        a->dfs.profile != b->dfs.profile || a->dfs.write_rate != b->dfs.write_rate ||
        a->dfs.read_rate != b->dfs.read_rate || a->dfs.conn_bandwidth != b->dfs.conn_bandwidth ||
        a->dfs.latency_max_ns != b->dfs.latency_max_ns || a->dfs.client_link != b->dfs.client_link)
        return false;
    if (a->probe.present != b->probe.present || a->probe.every_ns != b->probe.every_ns ||
        a->probe.read_bytes != b->probe.read_bytes)
        return false;
    if (a->deadline_ns != b->deadline_ns || a->has_seed != b->has_seed || a->seed != b->seed)
        return false;
    if (a->n_config != b->n_config || a->n_jobs != b->n_jobs || a->n_apps != b->n_apps ||
        a->n_faults != b->n_faults || a->n_expects != b->n_expects)
        return false;
    for (size_t i = 0; i < a->n_config; i++) {
        const struct scn_config *x = &a->config[i], *y = &b->config[i];
        if (x->key != y->key)
            return false;
        if (x->key->type == SCN_CFG_WORD ? strcmp(x->value.w, y->value.w) != 0
            : x->key->type == SCN_CFG_DOUBLE ? x->value.d != y->value.d : x->value.u != y->value.u)
            return false;
    }
    for (size_t i = 0; i < a->n_jobs; i++)
        if (!eq_job(&a->jobs[i], &b->jobs[i]))
            return false;
    for (size_t i = 0; i < a->n_apps; i++)
        if (!eq_app(&a->apps[i], &b->apps[i]))
            return false;
    for (size_t i = 0; i < a->n_faults; i++)
        if (!eq_fault(&a->faults[i], &b->faults[i]))
            return false;
    for (size_t i = 0; i < a->n_expects; i++)
        if (!eq_expect(&a->expects[i], &b->expects[i]))
            return false;
    return true;
}
