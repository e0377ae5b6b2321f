/*
 * explore.c - `explore`: every seed of a range, each the seeded variant of one
 * scenario (scn_variant.c) in its own sim world, judged by
 * scn_explore_verdict.
 *
 * Threads.  The caller's thread starts `workers` threads and joins them.  A
 * worker takes the next seed from an atomic counter, builds the variant, runs
 * it (scn_run drives a sim world entirely on the calling thread, so two
 * workers share nothing but the allocator, libfiu and this file's state),
 * and records the outcome under `mu`, which also orders the progress lines.
 * Seeds are handed out in order and a worker always finishes the seed it
 * took, so with stop_after the lowest failing seed found is the lowest
 * failing seed of the range, however the two workers interleave.
 * Failpoints are libfiu's process-wide table: a scenario that arms them runs
 * on one worker.
 *
 * A failing seed is classified (safety, liveness, expectation: explore.h);
 * every failing seed is recorded, and those of the classes asked for
 * (fail_on) are what stop_after and the exit code count.  With a shard K/N
 * the workers take only every N-th seed of the range, from its K-th on, so
 * N machines given 1/N .. N/N run the range once between them
 * (explore_merge.c puts their reports together).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include "scenarios/explore.h"
#include "scenarios/replay.h"

#define MAX_WORKERS 16

struct explore {
    const struct scn_scenario *s;
    const struct scn_explore_opts *o;
    _Atomic uint64_t next;          /* next seed to hand out */
    atomic_bool stop;               /* stop_after reached */
    pthread_mutex_t mu;             /* guards everything below */
    unsigned fail_on;               /* scn_explore_fail_on(o) */
    uint64_t total;                 /* seeds of the shard */
    uint64_t runs;
    struct scn_explore_failure *fail;
    size_t nfail, capfail;
    uint64_t by_class[SCN_CLASS_COUNT];
    uint64_t counted;               /* failing seeds of the classes in fail_on */
    double t0, last_progress;
};

unsigned scn_explore_fail_on(const struct scn_explore_opts *o)
{
    if (o->safety_only)
        return SCN_CLASS_BIT(SCN_CLASS_SAFETY);
    return o->fail_on ? o->fail_on : SCN_CLASSES_ALL;
}

/* Seeds of [first, last] in shard K/N (every seed without a shard). */
static uint64_t shard_seeds(const struct scn_explore_opts *o)
{
    uint64_t span = o->last - o->first;        /* + 1 may wrap: count from 0 */
    if (!o->shard_n)
        return span + 1;
    if (span < o->shard_k - 1u)
        return 0;
    return (span - (o->shard_k - 1u)) / o->shard_n + 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(struct explore *x, bool final)
{
    double t = now_s();
    if (!x->o->progress || (!final && t - x->last_progress < 1.0))
        return;
    x->last_progress = t;
    double el = t - x->t0;
    fprintf(x->o->progress, "explore: %llu/%llu seeds, %llu safety, %llu liveness, %llu "
            "expectation, %.0f seeds/min\n", (unsigned long long)x->runs,
            (unsigned long long)x->total, (unsigned long long)x->by_class[SCN_CLASS_SAFETY],
            (unsigned long long)x->by_class[SCN_CLASS_LIVENESS],
            (unsigned long long)x->by_class[SCN_CLASS_EXPECTATION],
            el > 0 ? (double)x->runs * 60.0 / el : 0.0);
    fflush(x->o->progress);
}

static void record(struct explore *x, uint64_t seed, enum scn_fail_class v, const char *reason,
                   const char *hash)
{
    pthread_mutex_lock(&x->mu);
    x->runs++;
    if (v != SCN_CLASS_NONE) {
        if (x->nfail == x->capfail) {
            x->capfail = x->capfail ? 2 * x->capfail : 16;
            x->fail = realloc(x->fail, x->capfail * sizeof(*x->fail));
            if (!x->fail)
                abort();
        }
        struct scn_explore_failure *f = &x->fail[x->nfail++];
        f->seed = seed;
        f->cls = v;
        snprintf(f->reason, sizeof(f->reason), "%s", reason);
        snprintf(f->trace_hash, sizeof(f->trace_hash), "%s", hash);
        x->by_class[v]++;
        bool counts = (x->fail_on & SCN_CLASS_BIT(v)) != 0;
        x->counted += counts;
        if (x->o->progress)
            fprintf(x->o->progress, "explore: seed %llu fails (%s%s): %s\n",
                    (unsigned long long)seed, scn_class_name(v), counts ? "" : ", not counted",
                    reason);
        if (x->o->stop_after && x->counted >= x->o->stop_after)
            atomic_store_explicit(&x->stop, true, memory_order_relaxed);
    }
    progress(x, false);
    pthread_mutex_unlock(&x->mu);
}

static void *worker(void *arg)
{
    struct explore *x = arg;
    for (;;) {
        /* relaxed: the counter only hands out distinct seeds; results are
         * published under mu. */
        if (atomic_load_explicit(&x->stop, memory_order_relaxed))
            break;
        uint64_t i = atomic_fetch_add_explicit(&x->next, 1, memory_order_relaxed);
        if (i >= x->total)
            break;
        /* The i-th seed of the shard. */
        uint64_t seed = x->o->first + (x->o->shard_n ? (x->o->shard_k - 1u) + i * x->o->shard_n : i);
        struct scn_scenario *v = NULL;
        struct scn_variant_world world;
        char reason[256], hash[17] = "";
        int rc = scn_explore_variant(x->s, seed, &v, &world, reason, sizeof(reason));
        if (rc < 0) {
            char why[320];
            snprintf(why, sizeof(why), "internal error -- cannot build the variant: %.250s",
                     reason);
            record(x, seed, SCN_CLASS_SAFETY, why, "");
            continue;
        }
        enum scn_fail_class cls;
        scn_explore_run_classified(v, x->o->mode, &world, x->o->safety_only, &cls, reason,
                                   sizeof(reason), hash);
        record(x, seed, cls, reason, hash);
        scn_scenario_free(v);
    }
    return NULL;
}

static int by_seed(const void *a, const void *b)
{
    uint64_t x = ((const struct scn_explore_failure *)a)->seed;
    uint64_t y = ((const struct scn_explore_failure *)b)->seed;
    return (x > y) - (x < y);
}

int scn_explore(const struct scn_scenario *s, const struct scn_explore_opts *o,
                struct scn_explore_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    if (o->last < o->first) {
        snprintf(err, errlen, "empty seed range %llu..%llu", (unsigned long long)o->first,
                 (unsigned long long)o->last);
        return -EINVAL;
    }
    if (o->shard_n && (o->shard_k < 1 || o->shard_k > o->shard_n)) {
        snprintf(err, errlen, "shard %u/%u: K must be 1 to N", o->shard_k, o->shard_n);
        return -EINVAL;
    }
    struct explore x = { .s = s, .o = o, .fail_on = scn_explore_fail_on(o),
                         .total = shard_seeds(o) };
    atomic_init(&x.next, 0);
    atomic_init(&x.stop, false);
    pthread_mutex_init(&x.mu, NULL);
    x.t0 = x.last_progress = now_s();
    unsigned n = o->workers ? o->workers : 2;
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    if (scn_uses_failpoints(s))
        n = 1;
    if (n > x.total)
        n = x.total ? (unsigned)x.total : 1;
    pthread_t th[MAX_WORKERS];
    unsigned started = 0;
    int rc = 0;
    for (; started < n; started++)
        if ((rc = pthread_create(&th[started], NULL, worker, &x)) != 0)
            break;
    if (started == 0) {
        snprintf(err, errlen, "cannot start a worker thread: %s", strerror(rc));
        pthread_mutex_destroy(&x.mu);
        return -rc;
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    progress(&x, true);
    pthread_mutex_destroy(&x.mu);
    if (x.nfail)
        qsort(x.fail, x.nfail, sizeof(*x.fail), by_seed);
    res->runs = x.runs;
    res->failures = x.fail;
    res->n_failures = x.nfail;
    memcpy(res->by_class, x.by_class, sizeof(res->by_class));
    res->counted = x.counted;
    res->workers = started;
    res->wall_s = now_s() - x.t0;
    res->seeds_per_minute = res->wall_s > 0 ? (double)x.runs * 60.0 / res->wall_s : 0;
    return 0;
}

void scn_explore_result_free(struct scn_explore_result *res)
{
    free(res->failures);
    res->failures = NULL;
    res->n_failures = 0;
}

void scn_scenario_hash(const struct scn_scenario *s, char out[17])
{
    size_t len = 0;
    char *text = scn_scenario_text(s, &len);
    snprintf(out, 17, "%016llx", text ? (unsigned long long)XXH64(text, len, 0) : 0ull);
    free(text);
}

json_t *scn_explore_json(const struct scn_scenario *s, const struct scn_explore_opts *o,
                         const struct scn_explore_result *res)
{
    json_t *fails = json_array();
    for (size_t i = 0; i < res->n_failures; i++)
        json_array_append_new(fails, json_pack("{s:I, s:s, s:s, s:s}",
            "seed", (json_int_t)res->failures[i].seed,
            "class", scn_class_name(res->failures[i].cls), "reason", res->failures[i].reason,
            "trace_hash", res->failures[i].trace_hash));
    json_t *classes = json_object(), *fail_on = json_array();
    unsigned mask = scn_explore_fail_on(o);
    for (int c = SCN_CLASS_SAFETY; c < SCN_CLASS_COUNT; c++) {
        json_object_set_new(classes, scn_class_name((enum scn_fail_class)c),
                            json_integer((json_int_t)res->by_class[c]));
        if (mask & SCN_CLASS_BIT(c))
            json_array_append_new(fail_on, json_string(scn_class_name((enum scn_fail_class)c)));
    }
    char hash[17];
    scn_scenario_hash(s, hash);
    return json_pack("{s:s, s:s, s:[I, I], s:[i, i], s:I, s:o, s:o, s:I, s:o, s:b, s:f, s:i, "
                     "s:s, s:f}",
                     "scenario", s->name ? s->name : "?", "scenario_hash", hash,
                     "seeds", (json_int_t)o->first, (json_int_t)o->last,
                     "shard", o->shard_n ? (int)o->shard_k : 1, o->shard_n ? (int)o->shard_n : 1,
                     "runs", (json_int_t)res->runs, "failures", fails, "classes", classes,
                     "failing", (json_int_t)res->counted, "fail_on", fail_on,
                     "safety_only", o->safety_only,
                     "seeds_per_minute", res->seeds_per_minute, "workers", (int)res->workers,
                     "mode", scn_mode_name(o->mode), "wall_s", res->wall_s);
}
