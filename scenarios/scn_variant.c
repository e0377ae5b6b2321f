/*
 * scn_variant.c - editing parsed scenarios, the seeded variants explore runs,
 * and the verdict on one run (explore.h says what varies and what must hold).
 *
 * An edit never writes into the scenario it started from: it owns copies of
 * the arrays it may change and ends by printing itself and parsing the text
 * back, so every variant and every shrink candidate is an ordinary scenario
 * that went through the same checks as a file would - one a person can read,
 * write to disk and run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/explore.h"
#include "scenarios/replay.h"

static void *dup_array(const void *p, size_t n, size_t size)
{
    if (!n)
        return NULL;
    void *c = malloc(n * size);
    if (!c)
        abort();
    memcpy(c, p, n * size);
    return c;
}

void scn_edit_begin(struct scn_edit *e, const struct scn_scenario *base)
{
    e->s = *base;
    e->s.config = dup_array(base->config, base->n_config, sizeof(*base->config));
    e->s.faults = dup_array(base->faults, base->n_faults, sizeof(*base->faults));
    e->s.jobs = dup_array(base->jobs, base->n_jobs, sizeof(*base->jobs));
    for (size_t j = 0; j < base->n_jobs; j++)
        e->s.jobs[j].ops = dup_array(base->jobs[j].ops, base->jobs[j].n_ops,
                                     sizeof(*base->jobs[j].ops));
}

void scn_edit_drop_fault(struct scn_edit *e, size_t i)
{
    if (i >= e->s.n_faults)
        return;
    memmove(&e->s.faults[i], &e->s.faults[i + 1], (e->s.n_faults - i - 1) * sizeof(e->s.faults[0]));
    e->s.n_faults--;
}

int scn_edit_finish(struct scn_edit *e, struct scn_scenario **out, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = scn_scenario_text(&e->s, &len);
    for (size_t j = 0; j < e->s.n_jobs; j++)
        free(e->s.jobs[j].ops);
    free(e->s.jobs);
    free(e->s.faults);
    free(e->s.config);
    if (!text) {
        snprintf(err, errlen, "cannot print the edited scenario");
        return -ENOMEM;
    }
    struct scn_diags d;
    scn_diags_init(&d);
    int rc = scn_parse_text(e->s.name, text, len, out, &d);
    if (rc < 0)
        snprintf(err, errlen, "the edited scenario is invalid: %u:%u: %s",
                 d.count ? d.items[0].pos.line : 0, d.count ? d.items[0].pos.col : 0,
                 d.count ? d.items[0].msg : "?");
    scn_diags_free(&d);
    free(text);
    return rc;
}

/* ---- the seeded variant ------------------------------------------------------ */

/* splitmix64: small, and every seed gives an independent-looking stream. */
static uint64_t next(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t *x, uint64_t n)
{
    return n ? next(x) % n : 0;
}

/* v scaled by a factor uniform in [lo, hi] (per mille). */
static uint64_t scale(uint64_t *x, uint64_t v, uint64_t lo, uint64_t hi)
{
    uint64_t f = lo + below(x, hi - lo + 1);
    return v / 1000 * f + v % 1000 * f / 1000;
}

static void vary_target(uint64_t *x, struct scn_edit *e, struct scn_target *t, uint32_t tms)
{
    if ((t->kind == SCN_TARGET_TASKMANAGER_OF || t->kind == SCN_TARGET_TASK) && t->job.name)
        t->index = (uint32_t)below(x, e->s.jobs[t->job.index].parallelism
                                          ? e->s.jobs[t->job.index].parallelism : 1);
    else if (t->kind == SCN_TARGET_TASKMANAGER)
        t->index = (uint32_t)below(x, tms);
}

int scn_explore_variant(const struct scn_scenario *base, uint64_t seed,
                        struct scn_scenario **out, struct scn_variant_world *world,
                        char *err, size_t errlen)
{
    uint64_t x = seed ^ 0x6578706c6f7265ull;    /* "explore": not the world's own stream */
    struct scn_edit e;
    scn_edit_begin(&e, base);
    struct scn_scenario *s = &e.s;
    uint32_t slots = s->cluster.slots ? s->cluster.slots : 1;
    uint64_t base_need = 0, need = 0;
    for (size_t j = 0; j < s->n_jobs; j++) {
        struct scn_job *job = &s->jobs[j];
        uint32_t p = job->parallelism ? job->parallelism : 1;
        base_need += p;
        p = p + (uint32_t)below(&x, 3) - 1;
        if (p < 1)
            p = 1;
        if (job->max_parallelism && p > job->max_parallelism)
            p = job->max_parallelism;
        job->parallelism = p;
        need += p;
    }
    uint32_t tms = s->cluster.taskmanagers ? s->cluster.taskmanagers : 1;
    bool roomy = tms * (uint64_t)slots >= base_need;
    tms = tms + (uint32_t)below(&x, 3) - 1;
    if (tms < 1)
        tms = 1;
    /* A base with room for every job at once keeps it: otherwise a variant
     * would fail for want of slots, which is not the fault model's doing. */
    if (roomy && tms * (uint64_t)slots < need)
        tms = (uint32_t)((need + slots - 1) / slots);
    s->cluster.taskmanagers = tms;
    for (size_t i = 0; i < s->n_faults; i++) {
        struct scn_fault *f = &s->faults[i];
        if (f->trigger.kind == SCN_TRIGGER_AT && f->trigger.at_ns) {
            f->trigger.at_ns = scale(&x, f->trigger.at_ns, 500, 1500);
            if (f->trigger.at_ns > s->deadline_ns / 10 * 9)
                f->trigger.at_ns = s->deadline_ns / 10 * 9;
            f->trigger.at_ns -= f->trigger.at_ns % 1000000;     /* whole ms: reads well */
        } else if (f->trigger.kind == SCN_TRIGGER_WHEN &&
                   f->trigger.event.kind == SCN_EVENT_CHECKPOINT_DONE &&
                   f->trigger.event.checkpoint) {
            uint64_t n = f->trigger.event.checkpoint + below(&x, 3);
            f->trigger.event.checkpoint = n > 1 ? n - 1 : 1;
        }
        if (f->duration_ns) {
            f->duration_ns = scale(&x, f->duration_ns, 500, 1500);
            f->duration_ns -= f->duration_ns % 1000000;
            if (!f->duration_ns)
                f->duration_ns = 1000000;
        }
        vary_target(&x, &e, &f->target, tms);
        vary_target(&x, &e, &f->peer, tms);
    }
    static const uint64_t ckpt_pm[] = { 500, 750, 1000, 1500, 2000 };
    for (size_t i = 0; i < s->n_config; i++)
        if (strcmp(s->config[i].key->name, "execution.checkpointing.interval") == 0 &&
            s->config[i].value.u) {
            uint64_t v = s->config[i].value.u / 1000 * ckpt_pm[below(&x, 5)];
            v -= v % 1000000;
            s->config[i].value.u = v ? v : 1000000;
        }
    if (s->dfs.bandwidth)
        s->dfs.bandwidth = scale(&x, s->dfs.bandwidth, 500, 2000) / 1000000 * 1000000 + 1000000;
    if (s->dfs.streams) {
        uint64_t st = scale(&x, s->dfs.streams, 500, 2000);
        s->dfs.streams = st ? (uint32_t)st : 1;
    }
    static const uint64_t lat_us[] = { 50, 100, 200, 500, 1000, 2000 };
    world->link_latency_ns = lat_us[below(&x, 6)] * 1000;
    s->has_seed = true;
    s->seed = seed;
    return scn_edit_finish(&e, out, err, errlen);
}

/* ---- the verdict ----------------------------------------------------------- */

bool scn_reason_same(const char *a, const char *b)
{
    const char *ea = strstr(a, " -- "), *eb = strstr(b, " -- ");
    size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
    /* A metric that was not measured at all fails its expectation for another
     * reason than one measured out of bounds: not the same failure. */
    bool na = strstr(a, "not measured") != NULL, nb = strstr(b, "not measured") != NULL;
    return la == lb && memcmp(a, b, la) == 0 && na == nb;
}

static const char *expected_state(const struct scn_scenario *s, size_t job)
{
    static const char *names[] = { "RUNNING", "RESTARTING", "FINISHED", "FAILED", "CANCELED" };
    for (size_t i = 0; i < s->n_expects; i++)
        if (s->expects[i].kind == SCN_EXPECT_JOB_STATE && s->expects[i].job.index == job)
            return names[s->expects[i].state];
    return "FINISHED";
}

static const char *str(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));
    return v ? v : "?";
}

/* A job whose timeline shows it running again after FINISHED. */
static bool ran_twice(const json_t *run, const char *job, double *t_ms)
{
    size_t i, k;
    json_t *tj, *ev;
    json_array_foreach(json_object_get(json_object_get(run, "timeline"), "jobs"), i, tj) {
        if (strcmp(str(tj, "name"), job) != 0)
            continue;
        bool finished = false;
        json_array_foreach(json_object_get(tj, "events"), k, ev) {
            const char *st = str(ev, "state");
            if (finished && (strcmp(st, "RUNNING") == 0 || strcmp(st, "RESTARTING") == 0)) {
                *t_ms = json_number_value(json_object_get(ev, "t_ms"));
                return true;
            }
            finished |= strcmp(st, "FINISHED") == 0;
        }
    }
    return false;
}

int scn_explore_verdict(const struct scn_scenario *s, int run_rc, const json_t *run,
                        char *reason, size_t len)
{
    size_t i;
    json_t *e, *j;
    const json_t *exps = json_object_get(run, "expectations");
    /* Liveness first: a run cut at its deadline fails everything after it. */
    json_array_foreach(exps, i, e)
        if (!json_is_true(json_object_get(e, "ok")) &&
            strcmp(str(e, "text"), "the run ends before its deadline") == 0) {
            char still[160] = "";
            size_t off = 0;
            json_array_foreach(json_object_get(run, "jobs"), i, j)
                if (strcmp(str(j, "state"), "FINISHED") != 0 && off < sizeof(still))
                    off += (size_t)snprintf(still + off, sizeof(still) - off, "%s%s %s",
                                            off ? ", " : "", str(j, "name"), str(j, "state"));
            snprintf(reason, len, "liveness: the deadline passed -- jobs not done: %s",
                     still[0] ? still : "none (an application did not end)");
            return 1;
        }
    json_array_foreach(exps, i, e)
        if (!json_is_true(json_object_get(e, "ok"))) {
            snprintf(reason, len, "%s -- %s", str(e, "text"), str(e, "detail"));
            return 1;
        }
    json_array_foreach(json_object_get(run, "jobs"), i, j) {
        const char *name = str(j, "name"), *state = str(j, "state");
        const char *want = i < s->n_jobs ? expected_state(s, i) : "FINISHED";
        double t;
        if (strcmp(state, want) != 0) {
            snprintf(reason, len, "job %s ended %s, expected %s -- after %d restart(s)", name,
                     state, want, (int)json_integer_value(json_object_get(j, "restarts")));
            return 1;
        }
        if (ran_twice(run, name, &t)) {
            snprintf(reason, len, "job %s ran again after finishing -- running at %.1f ms", name, t);
            return 1;
        }
        if (strcmp(state, "FINISHED") == 0 && !json_is_true(json_object_get(j, "exactly_once"))) {
            snprintf(reason, len, "job %s not exactly-once -- lost %lld, duplicated %lld, wrong "
                     "values %lld", name, (long long)json_integer_value(json_object_get(j, "lost")),
                     (long long)json_integer_value(json_object_get(j, "duplicated")),
                     (long long)json_integer_value(json_object_get(j, "wrong_values")));
            return 1;
        }
    }
    if (run_rc != SCN_RUN_OK) {
        snprintf(reason, len, "the run failed -- no expectation says why (see its run object)");
        return 1;
    }
    return 0;
}

int scn_explore_run_one(const struct scn_scenario *s, enum scn_mode mode,
                        const struct scn_variant_world *world, char *reason, size_t len,
                        char *hash)
{
    struct scn_run_opts o = { .mode = mode, .world = RT_WORLD_SIM, .has_seed = true,
                              .seed = s->has_seed ? s->seed : 1, .quiet = true,
                              .link_latency_ns = world ? world->link_latency_ns : 0 };
    json_t *run = NULL;
    char err[256] = "";
    hash[0] = 0;
    int rc = scn_run(s, &o, &run, err, sizeof(err));
    if (rc < 0) {
        snprintf(reason, len, "internal error -- %s (this is a bug)", err);
        return rc;
    }
    snprintf(hash, 17, "%s", str(run, "trace_hash"));
    int v = scn_explore_verdict(s, rc, run, reason, len);
    json_decref(run);
    return v;
}

bool scn_uses_failpoints(const struct scn_scenario *s)
{
    for (size_t i = 0; i < s->n_faults; i++)
        if (s->faults[i].action == SCN_ACT_FAIL_FAILPOINT ||
            s->faults[i].action == SCN_ACT_SLOW_FAILPOINT ||
            s->faults[i].action == SCN_ACT_CORRUPT_FAILPOINT)
            return true;
    return false;
}
