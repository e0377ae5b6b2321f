/*
 * differential.c - the differential oracle (mc_run_differential): one
 * pipeline run fault-free, fault-free again under another seed, and with the
 * caller's fault plan under the first seed, all in the sim world; then the
 * sinks' committed outputs compared key by key.
 *
 * What is compared per key is what the exactly-once verdict compares
 * (engine/reference.c): the number of committed records and the largest
 * committed value.  Both are independent of the order in which parallel
 * sink subtasks commit, so two correct runs of a deterministic pipeline
 * agree whatever the schedule - which is what lets the second fault-free run
 * use another seed: if it disagrees with the first, the pipeline's output
 * depends on the schedule or on something outside its input (a clock, an
 * unseeded RNG, a global), and no faulted run could be judged by it.
 *
 * Each run opens its own cluster (mc_open) and closes it, so the runs share
 * nothing but the operator registry.  Caller's thread throughout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "engine/operator.h"
#include "minicluster/cluster.h"

#define DEFAULT_TIMEOUT_MS 600000
#define OTHER_SEED(s) ((uint64_t)(s) ^ UINT64_C(0x9E3779B97F4A7C15))    /* the second fault-free run's */

/* One run's committed output, sorted by key. */
struct outcome {
    struct eng_output_key *k;
    size_t n, cap;
    unsigned restarts;
};

static void collect_key(const struct eng_output_key *k, void *arg)
{
    struct outcome *o = arg;
    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 1024;
        struct eng_output_key *nk = realloc(o->k, cap * sizeof(*nk));
        if (!nk)
            return;     /* out of memory: the count check below reports it */
        o->k = nk;
        o->cap = cap;
    }
    o->k[o->n++] = *k;
}

static int by_key(const void *a, const void *b)
{
    uint64_t x = ((const struct eng_output_key *)a)->key;
    uint64_t y = ((const struct eng_output_key *)b)->key;
    return x < y ? -1 : x > y;
}

/* Runs the pipeline once; 0 and *o filled, or -errno with mc_errmsg(NULL). */
static int run_once(const struct mc_differential *d, uint64_t seed, bool faults,
                    struct outcome *o)
{
    struct mc_options opt = d->options;
    opt.world = MC_WORLD_SIM;
    opt.seed = seed;
    struct minicluster *mc = NULL;
    int rc = mc_open(&opt, &mc);
    if (rc < 0)
        return rc;      /* mc_errmsg(NULL) says why */
    const char *name = d->name ? d->name : "job";
    const char *what = faults ? "the faulted run" : "a fault-free run";
    uint64_t timeout = d->timeout_ms ? d->timeout_ms : DEFAULT_TIMEOUT_MS;
    int job;
    if ((rc = mc_submit(mc, name, d->pipeline, &job)) < 0) {
        api_fail(NULL, rc, "mc_run_differential: %s", mc_errmsg(mc));
        goto out;
    }
    if (faults && d->faults && (rc = d->faults(mc, job, d->faults_arg)) < 0) {
        api_fail(NULL, rc, "mc_run_differential: the fault plan returned %d: %s", rc,
                 mc_errmsg(mc));
        goto out;
    }
    if ((rc = mc_wait(mc, job, MC_JOB_FINISHED, timeout)) < 0) {
        api_fail(NULL, rc, "mc_run_differential: in %s (seed %" PRIu64 "): %s", what, seed,
                 mc_errmsg(mc));
        goto out;
    }
    const struct eng_job *ej = api_job(mc, job)->ej;
    eng_output_foreach(ej->output, collect_key, o);
    if (o->n != eng_output_key_count(ej->output)) {
        rc = api_fail(NULL, -ENOMEM, "mc_run_differential: out of memory collecting keys");
        goto out;
    }
    qsort(o->k, o->n, sizeof(*o->k), by_key);
    o->restarts = atomic_load(&ej->restarts);
out:
    mc_close(mc);
    return rc;
}

static bool same_key(const struct eng_output_key *a, const struct eng_output_key *b)
{
    return a->records == b->records && a->max == b->max;
}

/* Compares a (the fault-free run) with b key by key into r; returns whether
 * they agree.  Both sorted by key. */
static bool compare(const struct outcome *a, const struct outcome *b, struct mc_diff_result *r)
{
    size_t i = 0, j = 0;
    bool first = true;
    r->differing_keys = 0;
    while (i < a->n || j < b->n) {
        const struct eng_output_key *x = i < a->n ? &a->k[i] : NULL;
        const struct eng_output_key *y = j < b->n ? &b->k[j] : NULL;
        if (x && y && x->key == y->key) {
            i++, j++;
            if (same_key(x, y))
                continue;
        } else if (x && (!y || x->key < y->key)) {
            i++, y = NULL;      /* only in a */
        } else {
            j++, x = NULL;      /* only in b */
        }
        r->differing_keys++;
        if (!first)
            continue;
        first = false;
        r->key = x ? x->key : y->key;
        r->present[0] = x != NULL;
        r->present[1] = y != NULL;
        r->records[0] = x ? x->records : 0;
        r->records[1] = y ? y->records : 0;
        r->value[0] = x ? x->max : 0;
        r->value[1] = y ? y->max : 0;
    }
    return r->differing_keys == 0;
}

static void describe(struct mc_diff_result *r, const char *other, uint64_t seed)
{
    char a[96], b[96];
    if (r->present[0])
        snprintf(a, sizeof(a), "%" PRIu64 " records, value %" PRId64, r->records[0],
                 r->value[0]);
    else
        snprintf(a, sizeof(a), "nothing");
    if (r->present[1])
        snprintf(b, sizeof(b), "%" PRIu64 " records, value %" PRId64, r->records[1],
                 r->value[1]);
    else
        snprintf(b, sizeof(b), "nothing");
    snprintf(r->text, sizeof(r->text), "%" PRIu64 " of %" PRIu64 " keys differ; first key %"
             PRIu64 ": the fault-free run (seed %" PRIu64 ") committed %s, %s committed %s%s",
             r->differing_keys, r->keys, r->key, seed, a, other, b,
             r->verdict == MC_DIFF_NONDETERMINISTIC
                 ? ". The output is not a function of the input (a clock, an unseeded "
                   "random number, a global, or an order that depends on the schedule), "
                   "so faults cannot be judged against it"
                 : "");
}

int mc_run_differential(const struct mc_differential *d, struct mc_diff_result *out)
{
    if (!d || !out || !d->pipeline)
        return api_fail(NULL, -EINVAL, "mc_run_differential: the differential, its pipeline "
                        "and the result are required");
    memset(out, 0, sizeof(*out));
    struct outcome base = { 0 }, other = { 0 }, faulted = { 0 };
    uint64_t seed = d->options.seed;
    int rc = run_once(d, seed, false, &base);
    if (rc == 0)
        rc = run_once(d, OTHER_SEED(seed), false, &other);
    if (rc < 0)
        goto out;
    out->keys = base.n;
    if (!compare(&base, &other, out)) {
        out->verdict = MC_DIFF_NONDETERMINISTIC;
        char what[96];
        snprintf(what, sizeof(what), "a second fault-free run (seed %" PRIu64 ")",
                 OTHER_SEED(seed));
        describe(out, what, seed);
        rc = out->verdict;
        goto out;
    }
    if ((rc = run_once(d, seed, true, &faulted)) < 0)
        goto out;
    out->restarts = faulted.restarts;
    if (compare(&base, &faulted, out)) {
        out->verdict = MC_DIFF_SAME;
        snprintf(out->text, sizeof(out->text), "all %" PRIu64 " keys agree: the faulted run "
                 "(%u restarts) committed what the fault-free run did", out->keys,
                 out->restarts);
    } else {
        out->verdict = MC_DIFF_DIFFERENT;
        char what[96];
        snprintf(what, sizeof(what), "the faulted run (%u restarts)", out->restarts);
        describe(out, what, seed);
    }
    rc = out->verdict;
out:
    free(base.k);
    free(other.k);
    free(faulted.k);
    return rc;
}
