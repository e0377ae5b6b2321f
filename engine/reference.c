/*
 * reference.c - the reference model: what a job's sinks must have committed,
 * and the verdict comparing a run's output with it.
 *
 * eng_reference runs the job graph on the calling thread through the very
 * operator code the tasks run (eng_op_new with env.reference set: no world,
 * no RNG, test operators pass-through), with no failures, no checkpoints and
 * no channels.  Records move along edges exactly as the engine routes them:
 * FORWARD to the same subtask, HASH to eng_key_group_subtask(eng_key_group(
 * key)), REBALANCE round-robin per record, producer subtask s starting at consumer s
 * (as task_out.c does),
 * BROADCAST to every consumer.  Sources take turns one batch at a time; a
 * rate-limited source's clock simply jumps to its wake-up time.  What
 * reaches a sink is committed into a private struct eng_output, so expected
 * and actual output are the same kind of table; a DISCARD runs as itself and
 * its count and digest are published there as its receipt.
 *
 * Verification rule (eng_output_verify): per key, the committed record count
 * must equal the expected one (the shortfall is "lost", the excess
 * "duplicated"; keys never expected count wholly as duplicated) and the
 * largest committed value must equal the expected largest ("wrong_values",
 * also counting keys missing or unexpected).  Both are independent of the
 * order in which parallel subtasks interleave, so they hold for any run -
 * as long as each key's per-operator multiset of records is fixed, which is
 * true for every built-in except WINDOW behind parallel producers (which
 * records are late depends on timing).  So eng_reference accepts a WINDOW
 * only where each of its subtasks has one deterministic input stream:
 * every vertex on the way from the sources has a single input that is
 * either FORWARD or comes from parallelism 1 (REBALANCE only into
 * parallelism 1).
 *
 * User operators (the USER_* kinds a program registers) run as themselves
 * too, so the verdict holds them to the same rule and assumes their output
 * is a function of their input; a user source declares no length, so one
 * that has not ended within REF_USER_SOURCE_MAX records is taken for
 * unbounded.  (mc_run_differential checks a user pipeline without this
 * model.)
 *
 * DISCARD receipts are compared summed over subtasks: fewer records than
 * expected are "lost", more "duplicated", the same count with another
 * digest one wrong value.  A digest covers every value a DISCARD received,
 * and a running aggregate's values depend on the order of its input, so a
 * DISCARD is accepted only where it has one deterministic input stream, as
 * a WINDOW.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/jobgraph.h"
#include "engine/op_internal.h"
#include "engine/operator.h"
#include "runtime/rt_mem.h"

/* Records the user sources of one reference run may emit in all: a user
 * source that has not ended by then is taken for an unbounded one (the
 * scenario report asks for a reference of every job, finished or not). */
#define REF_USER_SOURCE_MAX (UINT64_C(1) << 26)

struct eng_expected {
    struct eng_output *out;
};

struct ref_edge {
    const struct eng_edge *e;
    struct eng_rvec *part;      /* HASH: one vector per consumer subtask */
    uint64_t *rr;               /* REBALANCE: next consumer per producer subtask */
};

struct ref {
    const struct eng_jobgraph *g;
    uint32_t nv, ne;
    struct eng_op ***op;        /* [vertex][subtask], NULL for sinks */
    struct eng_rvec **out;      /* [vertex][subtask] process output */
    struct ref_edge *edge;
    struct eng_output *sink;
    uint64_t txn;
    char *err;
    size_t errlen;
};

static int deliver(struct ref *r, uint32_t v, uint32_t s, const struct eng_record *rec,
                   uint32_t n);

static inline void append(struct eng_rvec *v, const struct eng_record *rec)
{
    if (v->n == v->cap)
        eng_rvec_push(v, rec);      /* grows it */
    else
        v->rec[v->n++] = *rec;
}

static int route(struct ref *r, uint32_t v, uint32_t s, const struct eng_record *rec,
                 uint32_t n)
{
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && n && i < r->ne; i++) {
        struct ref_edge *re = &r->edge[i];
        if (re->e->from != v)
            continue;
        const struct eng_vertex *w = eng_jobgraph_vertex(r->g, re->e->to);
        uint32_t to = re->e->to, pw = w->parallelism;
        switch (re->e->kind) {
        case ENG_EDGE_FORWARD:
            rc = deliver(r, to, s, rec, n);
            break;
        case ENG_EDGE_BROADCAST:
            for (uint32_t t = 0; rc == 0 && t < pw; t++)
                rc = deliver(r, to, t, rec, n);
            break;
        case ENG_EDGE_HASH:
        case ENG_EDGE_REBALANCE:
        default:
            /* Records are appended inline, with a call only when a part
             * must grow (an eng_rvec_push and an eng_key_group_subtask call
             * per record cost the default scenario's reference runs 15 M of
             * their 115 M instructions); the subtask is
             * eng_key_group_subtask's kg * pw / maxp, computed inline. */
            for (uint32_t t = 0; t < pw; t++)
                re->part[t].n = 0;
            if (re->e->kind == ENG_EDGE_HASH) {
                uint32_t maxp = w->max_parallelism;
                for (uint32_t j = 0; j < n; j++) {
                    uint32_t t = (uint32_t)((uint64_t)eng_key_group(rec[j].key, maxp) * pw /
                                            maxp);
                    append(&re->part[t], &rec[j]);
                }
            } else {
                for (uint32_t j = 0; j < n; j++) {
                    append(&re->part[re->rr[s]++ % pw], &rec[j]);
                }
            }
            for (uint32_t t = 0; rc == 0 && t < pw; t++)
                if (re->part[t].n)
                    rc = deliver(r, to, t, re->part[t].rec, re->part[t].n);
            break;
        }
    }
    return rc;
}

static int deliver(struct ref *r, uint32_t v, uint32_t s, const struct eng_record *rec,
                   uint32_t n)
{
    struct eng_op *op = r->op[v][s];
    if (!op) {  /* a sink: what reaches it is what it must commit */
        bool applied;
        return eng_output_commit(r->sink, v, s, ++r->txn, rec, n, &applied);
    }
    struct eng_rvec *out = &r->out[v][s];
    out->n = 0;
    uint64_t stall_ns = 0;
    int rc = op->ops->process(op, rec, n, out, &stall_ns);
    if (rc != 0) {
        snprintf(r->err, r->errlen, "reference run: %s",
                 rc == ENG_PROCESS_STALL ? "an operator stalled" : eng_op_error(op));
        return rc < 0 ? rc : -EINVAL;
    }
    return route(r, v, s, out->rec, out->n);
}

/* Checks what the reference cannot run; see the file comment. */
static int check_graph(const struct eng_jobgraph *g, char *err, size_t errlen)
{
    int rc = eng_jobgraph_validate(g, err, errlen);
    if (rc < 0)
        return rc;
    uint32_t nv = eng_jobgraph_vertex_count(g), ne = eng_jobgraph_edge_count(g);
    for (uint32_t v = 0; v < nv; v++) {
        const struct eng_vertex *x = eng_jobgraph_vertex(g, v);
        /* A user source says nothing of its length: REF_USER_SOURCE_MAX bounds it. */
        if (eng_op_kind_is_source(x->kind) && x->kind != ENG_OP_USER_SOURCE &&
            x->args.records == 0) {
            snprintf(err, errlen, "source '%s' is unbounded (records = 0): the reference "
                     "model needs a bounded job", x->name);
            return -EINVAL;
        }
    }
    /* ordered(v): each subtask of v sees one deterministic stream.  Validation
     * has ruled out cycles, so a fixed point over nv rounds settles it. */
    bool *ordered = rt_xcalloc(nv ? nv : 1, sizeof(*ordered));
    for (uint32_t v = 0; v < nv; v++)
        ordered[v] = eng_op_kind_is_source(eng_jobgraph_vertex(g, v)->kind);
    for (uint32_t round = 0; round < nv; round++) {
        for (uint32_t v = 0; v < nv; v++) {
            uint32_t inputs = 0;
            bool ok = false;
            for (uint32_t i = 0; i < ne; i++) {
                const struct eng_edge *e = eng_jobgraph_edge(g, i);
                if (e->to != v)
                    continue;
                inputs++;
                uint32_t pu = eng_jobgraph_vertex(g, e->from)->parallelism;
                uint32_t pv = eng_jobgraph_vertex(g, v)->parallelism;
                ok = ordered[e->from] &&
                     (e->kind == ENG_EDGE_FORWARD ||
                      (pu == 1 && (e->kind != ENG_EDGE_REBALANCE || pv == 1)));
            }
            if (inputs == 1 && ok)
                ordered[v] = true;
        }
    }
    for (uint32_t v = 0; v < nv; v++) {
        const struct eng_vertex *x = eng_jobgraph_vertex(g, v);
        const char *why =
            x->kind == ENG_OP_WINDOW ? "which records are late depends on timing and its "
                                       "output is not deterministic" :
            x->kind == ENG_OP_DISCARD ? "the values a running aggregate before it emits "
                                        "depend on timing, and so does its digest" : NULL;
        if (why && !ordered[v]) {
            snprintf(err, errlen, "%s '%s' receives a key's records from several parallel "
                     "producers, so %s; feed it through forward edges or from parallelism 1",
                     eng_op_kind_name(x->kind), x->name, why);
            rt_free(ordered);
            return -EINVAL;
        }
    }
    rt_free(ordered);
    return 0;
}

/* Runs the reference; see operator.h.  Caller's thread; allocations with
 * rt_x* on the current node, except the expected table itself, which is an
 * eng_output (plain malloc). */
int eng_reference(const struct eng_jobgraph *g, struct eng_expected **out, char *err,
                  size_t errlen)
{
    char dummy[1];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    *out = NULL;
    int rc = check_graph(g, err, errlen);
    if (rc < 0)
        return rc;

    struct ref r = {.g = g, .err = err, .errlen = errlen};
    r.nv = eng_jobgraph_vertex_count(g);
    r.ne = eng_jobgraph_edge_count(g);
    r.op = rt_xcalloc(r.nv, sizeof(*r.op));
    r.out = rt_xcalloc(r.nv, sizeof(*r.out));
    r.edge = rt_xcalloc(r.ne ? r.ne : 1, sizeof(*r.edge));
    r.sink = eng_output_new();
    for (uint32_t v = 0; rc == 0 && v < r.nv; v++) {
        const struct eng_vertex *x = eng_jobgraph_vertex(g, v);
        r.op[v] = rt_xcalloc(x->parallelism, sizeof(**r.op));
        r.out[v] = rt_xcalloc(x->parallelism, sizeof(**r.out));
        if (x->kind == ENG_OP_SINK)
            continue;
        for (uint32_t s = 0; rc == 0 && s < x->parallelism; s++) {
            struct eng_op_env env = {.vertex = v, .subtask = s, .parallelism = x->parallelism,
                                     .max_parallelism = x->max_parallelism,
                                     .reference = true};
            r.op[v][s] = eng_op_new(x, &env, err, errlen);
            if (!r.op[v][s])
                rc = -EINVAL;
        }
    }
    for (uint32_t i = 0; i < r.ne; i++) {
        r.edge[i].e = eng_jobgraph_edge(g, i);
        const struct eng_vertex *to = eng_jobgraph_vertex(g, r.edge[i].e->to);
        const struct eng_vertex *from = eng_jobgraph_vertex(g, r.edge[i].e->from);
        r.edge[i].part = rt_xcalloc(to->parallelism, sizeof(*r.edge[i].part));
        r.edge[i].rr = rt_xcalloc(from->parallelism, sizeof(*r.edge[i].rr));
        for (uint32_t s = 0; s < from->parallelism; s++)
            r.edge[i].rr[s] = s;
    }

    /* Sources take turns, one batch each, until all have ended. */
    struct eng_batch *batch = rt_xmalloc(sizeof(*batch));
    uint64_t user_emitted = 0;
    bool active = rc == 0;
    while (active && rc == 0) {
        active = false;
        for (uint32_t v = 0; rc == 0 && v < r.nv; v++) {
            const struct eng_vertex *x = eng_jobgraph_vertex(g, v);
            if (!eng_op_kind_is_source(x->kind))
                continue;
            for (uint32_t s = 0; rc == 0 && s < x->parallelism; s++) {
                struct eng_op *op = r.op[v][s];
                if (!op)
                    continue;
                uint64_t now = 0, wake = 0;
                enum eng_src_status st;
                /* Each source's clock starts at 0 and jumps to its wake-ups. */
                while ((st = op->ops->produce(op, now, batch, &wake)) == ENG_SRC_WAIT)
                    now = wake > now ? wake : now + 1;
                if (st == ENG_SRC_ERROR) {
                    snprintf(err, errlen, "reference run: %s", eng_op_error(op));
                    rc = -EINVAL;
                    break;
                }
                if (st == ENG_SRC_END) {
                    eng_op_free(op);
                    r.op[v][s] = NULL;
                    continue;
                }
                active = true;
                if (x->kind == ENG_OP_USER_SOURCE &&
                    (user_emitted += batch->n) > REF_USER_SOURCE_MAX) {
                    snprintf(err, errlen, "user source '%s' did not end within %llu records: "
                             "the reference model needs a bounded job", x->name,
                             (unsigned long long)REF_USER_SOURCE_MAX);
                    rc = -EINVAL;
                    break;
                }
                rc = route(&r, v, s, batch->rec, batch->n);
            }
        }
    }
    rt_free(batch);

    for (uint32_t i = 0; i < r.ne; i++) {
        const struct eng_vertex *to = eng_jobgraph_vertex(g, r.edge[i].e->to);
        for (uint32_t t = 0; t < to->parallelism; t++)
            eng_rvec_free(&r.edge[i].part[t]);
        rt_free(r.edge[i].part);
        rt_free(r.edge[i].rr);
    }
    for (uint32_t v = 0; v < r.nv; v++) {
        const struct eng_vertex *x = eng_jobgraph_vertex(g, v);
        for (uint32_t s = 0; s < x->parallelism; s++) {
            if (rc == 0 && x->kind == ENG_OP_DISCARD && r.op[v][s]) {
                uint64_t records, digest;
                eng__op_discard_receipt(r.op[v][s], &records, &digest);
                eng_output_publish(r.sink, v, s, 0, 1, records, digest);
            }
            if (r.op[v])
                eng_op_free(r.op[v][s]);
            if (r.out[v])
                eng_rvec_free(&r.out[v][s]);
        }
        rt_free(r.op[v]);
        rt_free(r.out[v]);
    }
    rt_free(r.op);
    rt_free(r.out);
    rt_free(r.edge);
    if (rc < 0) {
        eng_output_free(r.sink);
        return rc;
    }
    struct eng_expected *e = rt_xmalloc(sizeof(*e));
    e->out = r.sink;
    *out = e;
    return 0;
}

/* ---- the shared tables (eng_reference_shared) ----
 * The reference is a function of the graph alone (no world, no RNG), and it
 * was a quarter of an explore seed's instructions, the same table
 * recomputed for every seed.  An entry is found by comparing the whole
 * description, byte for byte (no hash that could collide).  At most
 * REF_CACHE_MAX tables and REF_CACHE_KEYS_MAX keys are kept; past that a
 * table is the caller's. */
#define REF_CACHE_MAX 64
/* And at most this many keys over all kept tables (about 64 bytes each at
 * the output table's load): a sweep of large jobs must not pile up gigabytes
 * of expected tables.  Explore's default-scenario variants need ~50 k. */
#define REF_CACHE_KEYS_MAX (UINT64_C(1) << 20)

struct ref_cache_entry {
    unsigned char *desc;
    size_t len;
    struct eng_expected *e;
};

static pthread_mutex_t ref_cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ref_cache_entry ref_cache[REF_CACHE_MAX];
static unsigned ref_cache_n;
static uint64_t ref_cache_keys;

struct desc {
    unsigned char *p;
    size_t len, cap;
};

static void desc_put(struct desc *d, const void *v, size_t n)
{
    if (d->len + n > d->cap) {
        d->cap = (d->len + n) * 2;
        d->p = realloc(d->p, d->cap);
        if (!d->p)
            abort();    /* as eng_output's allocations */
    }
    memcpy(d->p + d->len, v, n);
    d->len += n;
}

#define DESC(d, field) desc_put((d), &(field), sizeof(field))

/* Everything of g the reference reads, field by field (no padding bytes);
 * false for a graph with a user operator, whose code may keep state across
 * runs. */
static bool describe(const struct eng_jobgraph *g, struct desc *d)
{
    uint32_t nv = eng_jobgraph_vertex_count(g), ne = eng_jobgraph_edge_count(g);
    DESC(d, nv);
    DESC(d, ne);
    for (uint32_t v = 0; v < nv; v++) {
        const struct eng_vertex *x = eng_jobgraph_vertex(g, v);
        if (eng_op_kind_is_user(x->kind) || x->args.user)
            return false;
        uint32_t kind = (uint32_t)x->kind, namelen = (uint32_t)strlen(x->name);
        uint8_t declared = x->args.declared;
        DESC(d, kind);
        DESC(d, x->parallelism);
        DESC(d, x->max_parallelism);
        DESC(d, x->args.records);
        DESC(d, x->args.keys);
        DESC(d, x->args.rate);
        DESC(d, x->args.seed);
        DESC(d, x->args.window_ms);
        DESC(d, x->args.at_record);
        DESC(d, x->args.probability);
        DESC(d, x->args.ns_per_record);
        DESC(d, x->args.stall_ms);
        DESC(d, x->args.bytes_per_key);
        DESC(d, x->args.fanout);
        DESC(d, declared);
        DESC(d, namelen);
        desc_put(d, x->name, namelen);
    }
    for (uint32_t i = 0; i < ne; i++) {
        const struct eng_edge *e = eng_jobgraph_edge(g, i);
        uint32_t kind = (uint32_t)e->kind;
        DESC(d, e->from);
        DESC(d, e->to);
        DESC(d, kind);
    }
    return true;
}

static struct eng_expected *cache_find(const struct desc *d)
{
    for (unsigned i = 0; i < ref_cache_n; i++)
        if (ref_cache[i].len == d->len && memcmp(ref_cache[i].desc, d->p, d->len) == 0)
            return ref_cache[i].e;
    return NULL;
}

int eng_reference_shared(const struct eng_jobgraph *g, struct eng_expected **out, bool *shared,
                         char *err, size_t errlen)
{
    *shared = false;
    struct desc d = {0};
    if (!describe(g, &d)) {
        free(d.p);
        return eng_reference(g, out, err, errlen);
    }
    pthread_mutex_lock(&ref_cache_mu);
    struct eng_expected *hit = cache_find(&d);
    pthread_mutex_unlock(&ref_cache_mu);
    if (hit) {
        free(d.p);
        *out = hit;
        *shared = true;
        return 0;
    }
    /* Computed outside the lock: another worker may be computing the same
     * table; the first to finish files it, the other frees its own. */
    int rc = eng_reference(g, out, err, errlen);
    if (rc < 0) {
        free(d.p);
        return rc;
    }
    pthread_mutex_lock(&ref_cache_mu);
    if ((hit = cache_find(&d)) != NULL) {
        eng_expected_free(*out);
        *out = hit;
        *shared = true;
    } else if (ref_cache_n < REF_CACHE_MAX &&
               ref_cache_keys + eng_output_key_count((*out)->out) <= REF_CACHE_KEYS_MAX) {
        /* The table (an eng_output) is plain malloc already; its wrapper
         * came from the current node's pool, which a node's end resets, so
         * the entry gets a plain one: it outlives the run. */
        struct eng_expected *keep = malloc(sizeof(*keep));
        if (!keep)
            abort();
        keep->out = (*out)->out;
        rt_free(*out);
        *out = keep;
        ref_cache_keys += eng_output_key_count(keep->out);
        ref_cache[ref_cache_n++] = (struct ref_cache_entry){ .desc = d.p, .len = d.len,
                                                             .e = keep };
        d.p = NULL;
        *shared = true;
    }
    pthread_mutex_unlock(&ref_cache_mu);
    free(d.p);
    return 0;
}

/* ---- computed beside the run (eng_reference_warm) ----
 * A run's verdict needs every job's table only at the end, and the sim world
 * keeps one core busy: the default scenario spent a fifth of its wall time
 * (12 ms of 76) computing tables after the run.  A thread computes them while
 * the run goes on and files them in the cache above, where the verdict finds
 * them.  Only graphs the cache takes are computed there: a user operator's
 * code may keep state, and must not run on a second thread beside its
 * tasks. */
struct eng_reference_warmer {
    pthread_t thread;
    struct eng_jobgraph **g;
    size_t n;
};

static void *warm_main(void *arg)
{
    struct eng_reference_warmer *w = arg;
    for (size_t i = 0; i < w->n; i++) {
        struct eng_expected *e;
        bool shared;
        char err[200];
        if (eng_reference_shared(w->g[i], &e, &shared, err, sizeof(err)) == 0 && !shared)
            eng_expected_free(e);       /* the cache is full: the verdict computes its own */
    }
    return NULL;
}

/* 1: g's table is in the cache; 0: it is not; -1: g is not cacheable. */
static int cached(const struct eng_jobgraph *g)
{
    struct desc d = {0};
    int rc = -1;
    if (describe(g, &d)) {
        pthread_mutex_lock(&ref_cache_mu);
        rc = cache_find(&d) != NULL;
        pthread_mutex_unlock(&ref_cache_mu);
    }
    free(d.p);
    return rc;
}

bool eng_reference_cached(const struct eng_jobgraph *g)
{
    return cached(g) == 1;
}

struct eng_reference_warmer *eng_reference_warm(struct eng_jobgraph **g, size_t n)
{
    struct eng_reference_warmer *w = calloc(1, sizeof(*w));
    if (!w)
        abort();
    w->g = calloc(n ? n : 1, sizeof(*w->g));
    if (!w->g)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (g[i] && cached(g[i]) == 0)
            w->g[w->n++] = g[i];
        else
            eng_jobgraph_free(g[i]);
    }
    if (w->n && pthread_create(&w->thread, NULL, warm_main, w) != 0) {
        for (size_t i = 0; i < w->n; i++)   /* no thread: the verdict computes them */
            eng_jobgraph_free(w->g[i]);
        w->n = 0;
    }
    return w;
}

void eng_reference_warm_join(struct eng_reference_warmer *w)
{
    if (!w)
        return;
    if (w->n)
        pthread_join(w->thread, NULL);
    for (size_t i = 0; i < w->n; i++)
        eng_jobgraph_free(w->g[i]);
    free(w->g);
    free(w);
}

void eng_expected_free(struct eng_expected *e)
{
    if (!e)
        return;
    eng_output_free(e->out);
    rt_free(e);
}

uint64_t eng_expected_records(const struct eng_expected *e)
{
    return eng_output_records(e->out);
}

int eng_expected_key(const struct eng_expected *e, uint64_t key, struct eng_output_key *out)
{
    return eng_output_key(e->out, key, out);
}

struct verify_ctx {
    const struct eng_output *got;
    struct eng_verdict *v;
    uint64_t matched_keys, matched_records;
};

static void verify_key(const struct eng_output_key *exp, void *arg)
{
    struct verify_ctx *c = arg;
    struct eng_output_key got;
    if (eng_output_key(c->got, exp->key, &got) < 0) {
        c->v->lost += exp->records;
        c->v->wrong_values++;
        return;
    }
    c->matched_keys++;
    c->matched_records += got.records;
    if (got.records < exp->records)
        c->v->lost += exp->records - got.records;
    else
        c->v->duplicated += got.records - exp->records;
    if (got.max != exp->max)
        c->v->wrong_values++;
}

/* Compares committed output o with the reference e; see the file comment
 * for the rule.  Any thread; o may be committed to concurrently (the verdict
 * then describes some moment). */
void eng_output_verify(const struct eng_output *o, const struct eng_expected *e,
                       struct eng_verdict *out)
{
    memset(out, 0, sizeof(*out));
    struct verify_ctx c = {.got = o, .v = out};
    /* One pass over the expected keys (locks expected, then committed); keys
     * only in o are what o holds beyond the matched ones. */
    eng_output_foreach(e->out, verify_key, &c);
    out->expected = eng_output_records(e->out);
    out->committed = eng_output_records(o);
    uint64_t keys = eng_output_key_count(o);
    uint64_t exp_receipts, exp_digest, got_receipts, got_digest;
    eng_output_receipts(e->out, &exp_receipts, &exp_digest);
    eng_output_receipts(o, &got_receipts, &got_digest);
    if (out->committed - got_receipts > c.matched_records)
        out->duplicated += out->committed - got_receipts - c.matched_records;
    if (keys > c.matched_keys)
        out->wrong_values += keys - c.matched_keys;
    /* DISCARD receipts: a count and a digest for all their records. */
    if (got_receipts < exp_receipts)
        out->lost += exp_receipts - got_receipts;
    else if (got_receipts > exp_receipts)
        out->duplicated += got_receipts - exp_receipts;
    else if (got_digest != exp_digest)
        out->wrong_values++;
    out->exactly_once = out->lost == 0 && out->duplicated == 0 && out->wrong_values == 0;
}
