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

uint64_t scn_slots_needed(const struct scn_scenario *s)
{
    uint64_t need = 0;
    for (size_t a = 0; a < s->n_apps; a++) {
        const struct scn_application *app = &s->apps[a];
        uint64_t sum = 0, max = 0;
        for (size_t k = 0; k < app->n_jobs; k++) {
            uint32_t p = s->jobs[app->jobs[k].index].parallelism;
            p = p ? p : 1;
            sum += p;
            max = p > max ? p : max;
        }
        need += app->execute == SCN_EXECUTE_ASYNC ? sum : max;
    }
    return need;
}

/* Parallelism and cluster size of the variant.  A base with slots for every
 * job that runs at once keeps that room; a base without it is not made any
 * tighter (more parallelism, fewer TaskManagers): a variant that cannot
 * place its jobs before the first fault tests nothing of the fault model. */
static void vary_size(uint64_t *x, struct scn_scenario *s)
{
    uint32_t slots = s->cluster.slots ? s->cluster.slots : 1;
    uint32_t tms0 = s->cluster.taskmanagers ? s->cluster.taskmanagers : 1;
    bool roomy = tms0 * (uint64_t)slots >= scn_slots_needed(s);
    for (size_t j = 0; j < s->n_jobs; j++) {
        struct scn_job *job = &s->jobs[j];
        uint32_t p0 = job->parallelism ? job->parallelism : 1;
        uint32_t p = p0 + (uint32_t)below(x, 3) - 1;
        if (p < 1)
            p = 1;
        if (job->max_parallelism && p > job->max_parallelism)
            p = job->max_parallelism;
        if (!roomy && p > p0)
            p = p0;
        job->parallelism = p;
    }
    uint32_t tms = tms0 + (uint32_t)below(x, 3) - 1;
    if (tms < 1)
        tms = 1;
    uint64_t need = scn_slots_needed(s);
    if (roomy && tms * (uint64_t)slots < need)
        tms = (uint32_t)((need + slots - 1) / slots);
    if (!roomy && tms < tms0)
        tms = tms0;
    s->cluster.taskmanagers = tms;
}

int scn_explore_variant(const struct scn_scenario *base, uint64_t seed,
                        struct scn_scenario **out, struct scn_variant_world *world,
                        char *err, size_t errlen)
{
    uint64_t x = seed ^ 0x6578706c6f7265ull;    /* "explore": not the world's own stream */
    struct scn_edit e;
    scn_edit_begin(&e, base);
    struct scn_scenario *s = &e.s;
    vary_size(&x, s);
    uint32_t tms = s->cluster.taskmanagers;
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

static bool applies(const struct scn_expect *e, enum scn_mode mode)
{
    return e->mode == SCN_MODE_ANY || e->mode == mode;
}

/* The state JOB should end in, in MODE: what an `expect [mode:] job J
 * failed|canceled|...` line says (*explicit set), NULL when its application
 * is expected to fail (then any state goes: that expectation judges it),
 * else FINISHED. */
static const char *expected_state(const struct scn_scenario *s, enum scn_mode mode, size_t job,
                                  bool *explicit)
{
    static const char *names[] = { "RUNNING", "RESTARTING", "FINISHED", "FAILED", "CANCELED" };
    *explicit = false;
    for (size_t i = 0; i < s->n_expects; i++) {
        const struct scn_expect *e = &s->expects[i];
        if (!applies(e, mode))
            continue;
        if (e->kind == SCN_EXPECT_JOB_STATE && e->job.index == job) {
            *explicit = true;
            return names[e->state];
        }
        if (e->kind == SCN_EXPECT_APP_FAILED_WITH && e->app.index == s->jobs[job].app) {
            *explicit = true;
            return NULL;
        }
    }
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

static json_int_t num(const json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

static bool ended(const char *state)
{
    return strcmp(state, "FINISHED") == 0 || strcmp(state, "FAILED") == 0 ||
           strcmp(state, "CANCELED") == 0;
}

/* Safety: what no fault may cause.  Output committed twice is a violation
 * in any state; a record missing or a wrong value only once the job claims
 * to have finished. */
static bool unsafe(const json_t *run, char *reason, size_t len)
{
    size_t i;
    json_t *j;
    json_array_foreach(json_object_get(run, "jobs"), i, j) {
        const char *name = str(j, "name"), *state = str(j, "state");
        double t;
        if (ran_twice(run, name, &t)) {
            snprintf(reason, len, "job %s ran again after finishing -- running at %.1f ms", name, t);
            return true;
        }
        /* Before the end, a key's committed value is a partial aggregate, so
         * only a surplus of records says something is wrong. */
        bool finished = strcmp(state, "FINISHED") == 0;
        if ((finished && !json_is_true(json_object_get(j, "exactly_once"))) ||
            (json_is_true(json_object_get(j, "verified")) && num(j, "duplicated") > 0)) {
            snprintf(reason, len, "job %s not exactly-once -- %s, lost %lld, duplicated %lld, "
                     "wrong values %lld", name, state, (long long)num(j, "lost"),
                     (long long)num(j, "duplicated"), (long long)num(j, "wrong_values"));
            return true;
        }
    }
    return false;
}

/* TaskManagers of the session cluster lost and gained by the faults that
 * fired (their details, faults.c's wording). */
static void tm_changes(const json_t *run, int *lost, int *gained)
{
    size_t i;
    json_t *f;
    *lost = *gained = 0;
    json_array_foreach(json_object_get(run, "faults"), i, f) {
        const char *d = str(f, "detail");
        if (strncmp(d, "killed session-tm", 17) == 0 || strncmp(d, "crashed session-tm", 18) == 0 ||
            strncmp(d, "stopped session-tm", 18) == 0 ||
            strncmp(d, "exhausting the memory of session-tm", 35) == 0)
            (*lost)++;
        else if (strncmp(d, "restarted session-tm", 20) == 0)
            (*gained)++;
        else if (strncmp(d, "added session-tm", 16) == 0)
            for (const char *c = d; (c = strstr(c, "session-tm")) != NULL; c++)
                (*gained)++;
    }
}

/* Why jobs are still not done at the deadline: in session mode on fixed
 * TaskManagers, the slots left after the faults against what the jobs not
 * done need at once; otherwise their states. */
static void why_stuck(const struct scn_scenario *s, enum scn_mode mode, const json_t *run,
                      char *out, size_t len)
{
    size_t i, off = 0;
    json_t *j;
    out[0] = 0;
    uint32_t par[64];                   /* slots each job not done takes: 0 once ended */
    bool fits = s->n_jobs <= sizeof(par) / sizeof(par[0]);
    json_array_foreach(json_object_get(run, "jobs"), i, j) {
        const char *state = str(j, "state");
        if (fits && i < s->n_jobs)
            par[i] = ended(state) ? 0 : (s->jobs[i].parallelism ? s->jobs[i].parallelism : 1);
        if (!ended(state) && off < len)
            off += (size_t)snprintf(out + off, len - off, "%s%s %s", off ? ", " : "",
                                    str(j, "name"), state);
    }
    if (!off)
        snprintf(out, len, "no job left (an application did not end)");
    if (!fits || mode != SCN_MODE_SESSION || s->cluster.provider != SCN_PROVIDER_STANDALONE)
        return;
    uint64_t need = 0;
    for (size_t a = 0; a < s->n_apps; a++) {    /* as scn_slots_needed */
        uint64_t sum = 0, max = 0;
        for (size_t k = 0; k < s->apps[a].n_jobs; k++) {
            uint32_t p = par[s->apps[a].jobs[k].index];
            sum += p;
            max = p > max ? p : max;
        }
        need += s->apps[a].execute == SCN_EXECUTE_ASYNC ? sum : max;
    }
    int lost, gained;
    tm_changes(run, &lost, &gained);
    uint32_t slots = s->cluster.slots ? s->cluster.slots : 1;
    int64_t tms = (int64_t)(s->cluster.taskmanagers ? s->cluster.taskmanagers : 1) - lost + gained;
    if (tms < 0)
        tms = 0;
    uint64_t have = (uint64_t)tms * slots;
    if (have < need) {
        char jobs_txt[160];
        snprintf(jobs_txt, sizeof(jobs_txt), "%s", out);
        snprintf(out, len, "%llu slot%s short after the %s: %lld TaskManager%s x %u slots for "
                 "jobs needing %llu (%s)", (unsigned long long)(need - have),
                 need - have == 1 ? "" : "s", lost ? "kill" : "faults", (long long)tms,
                 tms == 1 ? "" : "s", slots, (unsigned long long)need, jobs_txt);
    }
}

enum scn_fail_class scn_explore_classify(const struct scn_scenario *s, enum scn_mode mode,
                                         int run_rc, const json_t *run, bool safety_only,
                                         char *reason, size_t len)
{
    size_t i;
    json_t *e, *j;
    const json_t *exps = json_object_get(run, "expectations");
    if (unsafe(run, reason, len))
        return SCN_CLASS_SAFETY;
    /* Liveness: a run cut at its deadline fails everything after it. */
    json_array_foreach(exps, i, e)
        if (!json_is_true(json_object_get(e, "ok")) &&
            strcmp(str(e, "text"), "the run ends before its deadline") == 0) {
            char why[320];
            why_stuck(s, mode, run, why, sizeof(why));
            snprintf(reason, len, "liveness: the deadline passed -- %s", why);
            return SCN_CLASS_LIVENESS;
        }
    /* A job short of FINISHED did not get done (liveness); one in another
     * state than an `expect job` line of this mode names fails that line. */
    enum scn_fail_class state_class = SCN_CLASS_NONE;
    json_array_foreach(json_object_get(run, "jobs"), i, j) {
        const char *name = str(j, "name"), *state = str(j, "state");
        bool explicit = false;
        const char *want = i < s->n_jobs ? expected_state(s, mode, i, &explicit) : "FINISHED";
        if (!want || strcmp(state, want) == 0 || (explicit && state_class != SCN_CLASS_NONE))
            continue;
        snprintf(reason, len, "job %s ended %s, expected %s -- after %d restart(s)", name,
                 state, want, (int)num(j, "restarts"));
        if (!explicit)
            return SCN_CLASS_LIVENESS;
        state_class = SCN_CLASS_EXPECTATION;
    }
    if (safety_only)
        return SCN_CLASS_NONE;
    if (state_class != SCN_CLASS_NONE)
        return state_class;
    json_array_foreach(exps, i, e)
        if (!json_is_true(json_object_get(e, "ok"))) {
            snprintf(reason, len, "%s -- %s", str(e, "text"), str(e, "detail"));
            return SCN_CLASS_EXPECTATION;
        }
    if (run_rc != SCN_RUN_OK) {
        snprintf(reason, len, "the run failed -- no expectation says why (see its run object)");
        return SCN_CLASS_EXPECTATION;
    }
    return SCN_CLASS_NONE;
}

int scn_explore_verdict(const struct scn_scenario *s, int run_rc, const json_t *run,
                        char *reason, size_t len)
{
    enum scn_mode mode = SCN_MODE_SESSION;
    scn_mode_parse(str(run, "mode"), &mode);
    return scn_explore_classify(s, mode, run_rc, run, false, reason, len) != SCN_CLASS_NONE;
}

const char *scn_class_name(enum scn_fail_class c)
{
    static const char *names[] = { "none", "safety", "liveness", "expectation" };
    return (unsigned)c < SCN_CLASS_COUNT ? names[c] : "?";
}

int scn_classes_parse(const char *list, unsigned *mask)
{
    *mask = 0;
    const char *p = list;
    while (p && *p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        bool found = false;
        for (int k = SCN_CLASS_SAFETY; k < SCN_CLASS_COUNT; k++)
            if (strlen(scn_class_name((enum scn_fail_class)k)) == n &&
                strncmp(p, scn_class_name((enum scn_fail_class)k), n) == 0) {
                *mask |= SCN_CLASS_BIT(k);
                found = true;
            }
        if (!found)
            return -EINVAL;
        p = c ? c + 1 : NULL;
    }
    return *mask ? 0 : -EINVAL;
}

int scn_explore_run_classified(const struct scn_scenario *s, enum scn_mode mode,
                               const struct scn_variant_world *world, bool safety_only,
                               enum scn_fail_class *cls, char *reason, size_t len,
                               char *hash)
{
    struct scn_run_opts o = { .mode = mode, .world = RT_WORLD_SIM, .has_seed = true,
                              .seed = s->has_seed ? s->seed : 1, .quiet = true,
                              .link_latency_ns = world ? world->link_latency_ns : 0 };
    json_t *run = NULL;
    char err[256] = "";
    hash[0] = 0;
    *cls = SCN_CLASS_NONE;
    int rc = scn_run(s, &o, &run, err, sizeof(err));
    if (rc < 0) {
        snprintf(reason, len, "internal error -- %s (this is a bug)", err);
        *cls = SCN_CLASS_SAFETY;
        json_decref(run);
        return rc;
    }
    snprintf(hash, 17, "%s", str(run, "trace_hash"));
    *cls = scn_explore_classify(s, mode, rc, run, safety_only, reason, len);
    json_decref(run);
    return *cls != SCN_CLASS_NONE;
}

int scn_explore_run_one(const struct scn_scenario *s, enum scn_mode mode,
                        const struct scn_variant_world *world, char *reason, size_t len,
                        char *hash)
{
    enum scn_fail_class cls;
    return scn_explore_run_classified(s, mode, world, false, &cls, reason, len, hash);
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
