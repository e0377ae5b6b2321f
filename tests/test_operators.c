/*
 * test_operators.c - the built-in operators driven directly, without a task
 * runtime: each operator's output, source replay and rate limits, keyed
 * state across a rescaled restore, the test operators' triggers, and the
 * reference model with its verdict.  The sink's proof is in test_sink.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "engine/jobgraph.h"
#include "engine/kstate.h"
#include "engine/operator.h"
#include "engine/snapshot.h"
#include "runtime/rt.h"
#include "runtime/rt_mem.h"

#include "tests/ops_fixture.h"

/* ---- rvec and construction ------------------------------------------------- */

static void test_rvec(void **state)
{
    struct eng_rvec v = {0};
    for (int i = 0; i < 1000; i++) {
        struct eng_record r = {.key = (uint64_t)i, .value = i, .ts = -i};
        eng_rvec_push(&v, &r);
    }
    struct eng_record *x = eng_rvec_extend(&v, 3000);
    x[2999].key = 77;
    assert_int_equal(v.n, 4000);
    assert_true(v.cap >= 4000);
    assert_int_equal(v.rec[999].value, 999);
    assert_int_equal(v.rec[3999].key, 77);
    eng_rvec_free(&v);
    assert_null(v.rec);
    assert_int_equal(v.n, 0);
}

static void test_new_errors(void **state)
{
    struct fixture *f = *state;
    struct eng_op_env env = {.parallelism = 1, .max_parallelism = 128};
    struct eng_op_args a = {0};
    const struct eng_vertex *w = ops_vertex(f, "w", ENG_OP_WINDOW, &a, 1, 0);
    assert_null(eng_op_new(w, &env, f->err, sizeof(f->err)));
    assert_non_null(strstr(f->err, "window_ms"));
    const struct eng_vertex *fm = ops_vertex(f, "fm", ENG_OP_FLATMAP, &a, 1, 0);
    assert_null(eng_op_new(fm, &env, f->err, sizeof(f->err)));
    assert_non_null(strstr(f->err, "fanout"));
    const struct eng_vertex *sk = ops_vertex(f, "sk", ENG_OP_SINK, &a, 1, 0);
    assert_null(eng_op_new(sk, &env, f->err, sizeof(f->err)));
    assert_non_null(strstr(f->err, "output"));
    const struct eng_vertex *dk = ops_vertex(f, "dk", ENG_OP_DISCARD, &a, 1, 0);
    assert_null(eng_op_new(dk, &env, f->err, sizeof(f->err)));
    assert_non_null(strstr(f->err, "no output to publish"));
    struct eng_vertex bogus = *sk;
    bogus.kind = ENG_OP_KIND_COUNT;
    assert_null(eng_op_new(&bogus, &env, f->err, sizeof(f->err)));
    assert_non_null(strstr(f->err, "no implementation"));
    /* Every kind that builds has the vtable entries operator.h promises. */
    struct eng_output *o = eng_output_new();
    a.window_ms = 10;
    a.fanout = 2;
    for (int k = 0; k < ENG_OP_KIND_COUNT; k++) {
        char name[16];
        snprintf(name, sizeof(name), "k%d", k);
        const struct eng_vertex *v = ops_vertex(f, name, (enum eng_op_kind)k, &a, 1, 0);
        if (eng_op_kind_is_user(v->kind)) {
            /* A user kind needs its registered operator (test_user_op has them). */
            assert_null(eng_op_new(v, &env, f->err, sizeof(f->err)));
            assert_non_null(strstr(f->err, "without a registered operator"));
            continue;
        }
        struct eng_op *op = ops_new_op(f, v, 0, 0, o);
        bool src = eng_op_kind_is_source(v->kind);
        assert_true((op->ops->produce != NULL) == src);
        assert_true((op->ops->process != NULL) == !src);
        assert_non_null(op->ops->snapshot);
        assert_non_null(op->ops->restore);
        assert_non_null(op->ops->notify_complete);
        assert_non_null(op->ops->free);
        eng_op_free(op);
    }
    eng_output_free(o);
}

/* ---- sources ----------------------------------------------------------------- */

/* Record i of subtask s of p is g = i * p + s, with key g % keys (g for
 * keys 0): for keys above, below and equal to the parallelism, and one
 * near 2^64 where a key stepped past it would wrap. */
static void test_sequence_formula(void **state)
{
    struct fixture *f = *state;
    static const struct {
        uint32_t par, subtask;
        uint64_t keys;
    } cases[] = { { 3, 1, 7 }, { 3, 2, 2 }, { 4, 3, 4 }, { 5, 0, 3 }, { 2, 1, 0 },
                  { 3, 2, UINT64_MAX - 1 } };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct eng_op_args a = {.records = 1000, .keys = cases[c].keys};
        char name[16];
        snprintf(name, sizeof(name), "seq%zu", c);
        const struct eng_vertex *v = ops_vertex(f, name, ENG_OP_SOURCE_SEQUENCE, &a,
                                                cases[c].par, 0);
        struct eng_op *op = ops_new_op(f, v, cases[c].subtask, 0, NULL);
        static struct eng_record rec[1000];
        ops_pull(op, rec, 1000);     /* two batches: the second resumes the key */
        for (uint64_t i = 0; i < 1000; i++) {
            uint64_t g = i * cases[c].par + cases[c].subtask;
            uint64_t key = cases[c].keys ? g % cases[c].keys : g;
            if (rec[i].key != key || rec[i].value != (int64_t)g || rec[i].ts != (int64_t)g)
                fail_msg("case %zu record %llu: key %llu value %lld, want %llu %llu", c,
                         (unsigned long long)i, (unsigned long long)rec[i].key,
                         (long long)rec[i].value, (unsigned long long)key,
                         (unsigned long long)g);
        }
        struct eng_batch b;
        uint64_t wake;
        assert_int_equal(op->ops->produce(op, 0, &b, &wake), ENG_SRC_END);
        assert_int_equal(b.n, 0);
        eng_op_free(op);
    }
}

/* A source restored at offset k continues exactly as the uninterrupted one. */
static void test_source_replay(void **state)
{
    struct fixture *f = *state;
    for (int kind = 0; kind < 2; kind++) {
        struct eng_op_args a = {.records = 3000, .keys = 50, .seed = 99};
        const struct eng_vertex *v =
            ops_vertex(f, kind ? "rnd" : "sq", kind ? ENG_OP_SOURCE_RANDOM : ENG_OP_SOURCE_SEQUENCE,
                   &a, 2, 0);
        static struct eng_record full[3000], part[3000];
        struct eng_op *op = ops_new_op(f, v, 1, 0, NULL);
        ops_pull(op, full, 3000);
        eng_op_free(op);

        op = ops_new_op(f, v, 1, 0, NULL);
        ops_pull(op, part, 1024);
        uint8_t *buf;
        size_t len;
        ops_snap_encode(op, 1, &buf, &len);
        ops_pull(op, part + 1024, 512); /* lost with the crash */
        eng_op_free(op);
        op = ops_new_op(f, v, 1, 1, NULL);
        ops_restore_from(op, buf, len, 0, v->max_parallelism - 1);
        ops_pull(op, part + 1024, 3000 - 1024);
        assert_memory_equal(full, part, sizeof(full));
        eng_op_free(op);
        rt_free(buf);
        if (kind) { /* random keys spread over the key space, values in [0, 1000) */
            uint64_t seen = 0;
            for (int i = 0; i < 3000; i++) {
                assert_true(full[i].key < 50 && full[i].value >= 0 && full[i].value < 1000);
                seen |= 1ull << full[i].key;
            }
            assert_int_equal(__builtin_popcountll(seen), 50);
        }
    }
}

static void test_source_rate(void **state)
{
    struct fixture *f = *state;
    struct eng_op_args a = {.rate = 1000};
    const struct eng_vertex *v = ops_vertex(f, "r", ENG_OP_SOURCE_SEQUENCE, &a, 1, 0);
    struct eng_op *op = ops_new_op(f, v, 0, 0, NULL);
    struct eng_batch b;
    const uint64_t ms = 1000000, linger = ENG_SRC_LINGER_NS;
    uint64_t wake = 0, t0 = 5000;
    /* The record at the origin is due, but a batch waits for its oldest
     * record to have lingered (a full one is 512 ms away at 1000/s). */
    assert_int_equal(op->ops->produce(op, t0, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(wake, t0 + linger);
    assert_int_equal(op->ops->produce(op, t0 + linger - 1, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(wake, t0 + linger);
    /* Then everything due goes at once: records 0..100, sized by time. */
    assert_int_equal(op->ops->produce(op, t0 + linger, &b, &wake), ENG_SRC_MORE);
    assert_int_equal(b.n, linger / ms + 1);
    assert_int_equal(b.rec[0].value, 0);
    assert_int_equal(b.rec[b.n - 1].value, 100);
    /* The next batch: when record 101 (due at 101 ms) has lingered. */
    assert_int_equal(op->ops->produce(op, t0 + linger, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(wake, t0 + 101 * ms + linger);
    /* One second in: 1001 records due, 101 sent - a full batch, then the
     * rest (which has lingered long enough). */
    assert_int_equal(op->ops->produce(op, t0 + RT_NS_PER_SEC, &b, &wake), ENG_SRC_MORE);
    assert_int_equal(b.n, ENG_BATCH_CAP);
    assert_int_equal(op->ops->produce(op, t0 + RT_NS_PER_SEC, &b, &wake), ENG_SRC_MORE);
    assert_int_equal(b.n, 1001 - 101 - ENG_BATCH_CAP);
    assert_int_equal(b.rec[b.n - 1].value, 1000);
    assert_int_equal(op->ops->produce(op, t0 + RT_NS_PER_SEC, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(wake, t0 + 1001 * ms + linger);
    eng_op_free(op);

    /* A fast source fills a batch before anything lingers: 512 records are
     * due at 511 us at 1M/s, and go then, whole. */
    a.rate = 1000000;
    v = ops_vertex(f, "fast", ENG_OP_SOURCE_SEQUENCE, &a, 1, 0);
    op = ops_new_op(f, v, 0, 0, NULL);
    assert_int_equal(op->ops->produce(op, 0, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(wake, (ENG_BATCH_CAP - 1) * 1000ull);
    assert_int_equal(op->ops->produce(op, wake - 1, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(op->ops->produce(op, wake, &b, &wake), ENG_SRC_MORE);
    assert_int_equal(b.n, ENG_BATCH_CAP);
    eng_op_free(op);

    /* A rate that does not divide 1e9: record j is due at ceil(j * 1e9 / 3). */
    a.rate = 3;
    a.records = 4;
    v = ops_vertex(f, "r3", ENG_OP_SOURCE_SEQUENCE, &a, 1, 0);
    op = ops_new_op(f, v, 0, 0, NULL);
    assert_int_equal(op->ops->produce(op, 0, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(wake, linger);
    assert_int_equal(op->ops->produce(op, linger, &b, &wake), ENG_SRC_MORE);
    assert_int_equal(b.n, 1);
    assert_int_equal(op->ops->produce(op, linger, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(wake, 333333334 + linger);
    assert_int_equal(op->ops->produce(op, 333333333 + linger, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(op->ops->produce(op, 333333334 + linger, &b, &wake), ENG_SRC_MORE);
    assert_int_equal(b.n, 1);
    /* Two left: the batch is full when the last one is due (1 s), but
     * record 2 (due at 2/3 s) has lingered long enough before that. */
    assert_int_equal(op->ops->produce(op, 333333334 + linger, &b, &wake), ENG_SRC_WAIT);
    assert_int_equal(wake, 666666667 + linger);
    assert_int_equal(op->ops->produce(op, 0 + 10 * RT_NS_PER_SEC, &b, &wake), ENG_SRC_MORE);
    assert_int_equal(b.n, 2);   /* bounded: 4 in all, whatever the rate allows */
    assert_int_equal(op->ops->produce(op, 20 * RT_NS_PER_SEC, &b, &wake), ENG_SRC_END);
    eng_op_free(op);
}

/* ---- stateless operators ---------------------------------------------------- */

static void test_basic_ops(void **state)
{
    struct fixture *f = *state;
    static struct eng_record in[2000];
    for (int i = 0; i < 2000; i++)
        in[i] = (struct eng_record){.key = (uint64_t)(i % 13), .value = i, .ts = i};

    struct eng_op_args a = {.seed = 5};
    struct eng_op *m1 = ops_new_op(f, ops_vertex(f, "map", ENG_OP_MAP, &a, 1, 0), 0, 0, NULL);
    struct eng_op *m2 = ops_new_op(f, ops_vertex(f, "map2", ENG_OP_MAP, &a, 1, 0), 0, 1, NULL);
    struct eng_rvec o1 = ops_run(m1, in, 2000), o2 = ops_run(m2, in, 2000);
    assert_int_equal(o1.n, 2000);
    assert_memory_equal(o1.rec, o2.rec, 2000 * sizeof(*in));   /* a pure function */
    for (int i = 0; i < 2000; i++) {
        int64_t d = o1.rec[i].value - in[i].value;
        assert_true(d >= 0 && d < 256);
        assert_int_equal(d, o1.rec[i % 13].value - in[i % 13].value); /* per key */
        assert_int_equal(o1.rec[i].key, in[i].key);
    }
    eng_rvec_free(&o1);
    eng_rvec_free(&o2);
    eng_op_free(m1);
    eng_op_free(m2);

    a.probability = 0.25;
    struct eng_op *fl = ops_new_op(f, ops_vertex(f, "filter", ENG_OP_FILTER, &a, 1, 0), 0, 0, NULL);
    o1 = ops_run(fl, in, 2000);
    assert_true(o1.n > 400 && o1.n < 600);
    o2 = ops_run(fl, in, 2000);
    assert_int_equal(o1.n, o2.n);
    assert_memory_equal(o1.rec, o2.rec, o1.n * sizeof(*in));
    eng_rvec_free(&o1);
    eng_rvec_free(&o2);
    eng_op_free(fl);
    a.probability = 1.0;
    fl = ops_new_op(f, ops_vertex(f, "all", ENG_OP_FILTER, &a, 1, 0), 0, 0, NULL);
    o1 = ops_run(fl, in, 2000);
    assert_int_equal(o1.n, 2000);
    eng_rvec_free(&o1);
    eng_op_free(fl);

    a.fanout = 3;
    struct eng_op *fm = ops_new_op(f, ops_vertex(f, "flat", ENG_OP_FLATMAP, &a, 1, 0), 0, 0, NULL);
    o1 = ops_run(fm, in, 2000);
    assert_int_equal(o1.n, 6000);
    for (int i = 0; i < 6000; i++) {
        assert_int_equal(o1.rec[i].key, in[i / 3].key);
        assert_int_equal(o1.rec[i].value, in[i / 3].value + i % 3);
    }
    eng_rvec_free(&o1);
    eng_op_free(fm);

    a.keys = 4;
    struct eng_op *kb = ops_new_op(f, ops_vertex(f, "keyby", ENG_OP_KEYBY, &a, 1, 0), 0, 0, NULL);
    o1 = ops_run(kb, in, 2000);
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(o1.rec[i].key, in[i].key % 4);
        assert_int_equal(o1.rec[i].value, in[i].value);
    }
    eng_rvec_free(&o1);
    eng_op_free(kb);
}

/* ---- keyed operators --------------------------------------------------------- */

static void test_keyed_ops(void **state)
{
    struct fixture *f = *state;
    struct eng_record in[6] = {
        {1, 5, 0}, {2, 7, 1}, {1, 3, 2}, {1, 9, 3}, {2, 1, 4}, {3, 0, 5},
    };
    struct eng_op_args a = {0};
    struct eng_op *c = ops_new_op(f, ops_vertex(f, "count", ENG_OP_COUNT, &a, 1, 0), 0, 0, NULL);
    struct eng_op *s = ops_new_op(f, ops_vertex(f, "sum", ENG_OP_SUM, &a, 1, 0), 0, 0, NULL);
    struct eng_op *r = ops_new_op(f, ops_vertex(f, "reduce", ENG_OP_REDUCE, &a, 1, 0), 0, 0, NULL);
    struct eng_rvec oc = ops_run(c, in, 6), os = ops_run(s, in, 6), orr = ops_run(r, in, 6);
    const int64_t count[6] = {1, 1, 2, 3, 2, 1}, sum[6] = {5, 7, 8, 17, 8, 0},
                  max[6] = {5, 7, 5, 9, 7, 0};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(oc.rec[i].value, count[i]);
        assert_int_equal(os.rec[i].value, sum[i]);
        assert_int_equal(orr.rec[i].value, max[i]);
        assert_int_equal(oc.rec[i].key, in[i].key);
        assert_int_equal(oc.rec[i].ts, in[i].ts);
    }
    assert_int_equal(*eng_kstate_get(s->kstate, 1), 17);
    eng_rvec_free(&oc);
    eng_rvec_free(&os);
    eng_rvec_free(&orr);
    eng_op_free(c);
    eng_op_free(s);
    eng_op_free(r);

    /* Window of 10 ms: key 1 fills [0,10) and [10,20), a late record for
     * [0,10) is dropped, [20,30) closes [10,20); key 2 never closes. */
    a.window_ms = 10;
    struct eng_op *w = ops_new_op(f, ops_vertex(f, "window", ENG_OP_WINDOW, &a, 1, 0), 0, 0, NULL);
    struct eng_record win[7] = {
        {1, 1, 0}, {1, 2, 9}, {2, 4, 3}, {1, 10, 10}, {1, 100, 5}, {1, 20, 19}, {1, 7, 25},
    };
    struct eng_rvec ow = ops_run(w, win, 7);
    assert_int_equal(ow.n, 2);
    assert_true(ow.rec[0].key == 1 && ow.rec[0].value == 3 && ow.rec[0].ts == 9);
    assert_true(ow.rec[1].key == 1 && ow.rec[1].value == 30 && ow.rec[1].ts == 19);
    eng_rvec_free(&ow);
    eng_op_free(w);
}

/* COUNT at parallelism 1, checkpointed, restored into parallelism 3 (each
 * subtask loads its key-group range) and continued: the counts go on. */
static void test_keyed_rescale(void **state)
{
    struct fixture *f = *state;
    enum { KEYS = 100, HALF = 5000 };
    static struct eng_record in[2 * HALF];
    for (int i = 0; i < 2 * HALF; i++)
        in[i] = (struct eng_record){.key = (uint64_t)((i * 7) % KEYS) * 1000003u, .value = 1};
    struct eng_op_args a = {0};
    const struct eng_vertex *v1 = ops_vertex(f, "c1", ENG_OP_COUNT, &a, 1, 128);
    const struct eng_vertex *v3 = ops_vertex(f, "c3", ENG_OP_COUNT, &a, 3, 128);
    struct eng_op *op = ops_new_op(f, v1, 0, 0, NULL);
    struct eng_rvec o = ops_run(op, in, HALF);
    eng_rvec_free(&o);
    uint8_t *buf;
    size_t len;
    ops_snap_encode(op, 4, &buf, &len);
    eng_op_free(op);

    struct eng_op *sub[3];
    size_t keys = 0;
    for (uint32_t s = 0; s < 3; s++) {
        uint32_t first, last;
        eng_key_group_range(s, 3, 128, &first, &last);
        sub[s] = ops_new_op(f, v3, s, 1, NULL);
        ops_restore_from(sub[s], buf, len, first, last);
        keys += eng_kstate_count(sub[s]->kstate);
        assert_true(eng_kstate_count(sub[s]->kstate) > 0);
    }
    assert_int_equal(keys, KEYS); /* every key restored exactly once */
    rt_free(buf);

    int64_t final[KEYS] = {0};
    for (int i = HALF; i < 2 * HALF; i++) {
        uint32_t kg = eng_key_group(in[i].key, 128);
        uint32_t s = eng_key_group_subtask(kg, 3, 128);
        o = ops_run(sub[s], &in[i], 1);
        final[(i * 7) % KEYS] = o.rec[0].value;
        eng_rvec_free(&o);
    }
    for (int k = 0; k < KEYS; k++)
        assert_int_equal(final[k], 2 * HALF / KEYS); /* the count never restarted */
    for (int s = 0; s < 3; s++)
        eng_op_free(sub[s]);
}

/* ---- test operators ---------------------------------------------------------- */

static void test_fail_at_record(void **state)
{
    struct fixture *f = *state;
    static struct eng_record in[ENG_BATCH_CAP];
    struct eng_op_args a = {.at_record = 700};
    const struct eng_vertex *v = ops_vertex(f, "fail", ENG_OP_FAIL, &a, 2, 0);
    for (uint32_t attempt = 0; attempt < 3; attempt++) {
        struct eng_op *op = ops_new_op(f, v, 1, attempt, NULL);
        struct eng_rvec out = {0};
        uint64_t stall = 0;
        assert_int_equal(op->ops->process(op, in, ENG_BATCH_CAP, &out, &stall), 0);
        int rc = op->ops->process(op, in, ENG_BATCH_CAP, &out, &stall);
        if (attempt == 0) {
            assert_int_equal(rc, -EIO);
            assert_non_null(strstr(eng_op_error(op), "record 700"));
            assert_non_null(strstr(eng_op_error(op), "subtask 1"));
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(out.n, 2 * ENG_BATCH_CAP);
        }
        eng_rvec_free(&out);
        eng_op_free(op);
    }
    /* The reference never fails. */
    struct eng_op_env env = {.parallelism = 2, .max_parallelism = 128, .reference = true};
    struct eng_op *op = eng_op_new(v, &env, f->err, sizeof(f->err));
    struct eng_rvec out = ops_run(op, in, ENG_BATCH_CAP);
    eng_rvec_free(&out);
    out = ops_run(op, in, ENG_BATCH_CAP);
    assert_int_equal(out.n, ENG_BATCH_CAP);
    eng_rvec_free(&out);
    eng_op_free(op);
}

static void test_fail_probability(void **state)
{
    struct fixture *f = *state;
    struct rt_world_config cfg = {.kind = RT_WORLD_SIM, .seed = 7};
    struct rt_world *w;
    assert_int_equal(rt_world_new(&cfg, &w), 0);
    struct rt_node *node = rt_node_new(w, "tm");
    assert_int_equal(rt_node_start(node), 0);
    static struct eng_record in[100];
    struct eng_op_args a = {.probability = 0.01};
    const struct eng_vertex *v = ops_vertex(f, "pfail", ENG_OP_FAIL, &a, 1, 0);
    struct eng_op_env env = {.parallelism = 1, .max_parallelism = 128, .attempt = 3,
                             .node = node};
    struct eng_op *op = eng_op_new(v, &env, f->err, sizeof(f->err));
    int failures = 0;
    for (int i = 0; i < 100; i++) {  /* 10000 records at 1%: ~100 failures */
        struct eng_rvec out = {0};
        uint64_t stall;
        if (op->ops->process(op, in, 100, &out, &stall) == -EIO)
            failures++;
        eng_rvec_free(&out);
    }
    assert_true(failures > 20 && failures < 100);
    assert_non_null(strstr(eng_op_error(op), "probability"));
    eng_op_free(op);
    /* Without a node there is nothing to draw from: pass-through. */
    a.probability = 1.0;
    op = ops_new_op(f, ops_vertex(f, "pfail1", ENG_OP_FAIL, &a, 1, 0), 0, 0, NULL);
    struct eng_rvec out = ops_run(op, in, 100);
    assert_int_equal(out.n, 100);
    eng_rvec_free(&out);
    eng_op_free(op);
    rt_world_free(w);
}

static void test_stall(void **state)
{
    struct fixture *f = *state;
    static struct eng_record in[10];
    struct eng_op_args a = {.at_record = 15, .stall_ms = 250};
    const struct eng_vertex *v = ops_vertex(f, "stall", ENG_OP_STALL, &a, 1, 0);
    for (uint32_t attempt = 0; attempt < 2; attempt++) {
        struct eng_op *op = ops_new_op(f, v, 0, attempt, NULL);
        struct eng_rvec out = {0};
        uint64_t stall = 0;
        assert_int_equal(op->ops->process(op, in, 10, &out, &stall), 0);
        assert_int_equal(op->ops->process(op, in, 10, &out, &stall), ENG_PROCESS_STALL);
        assert_int_equal(stall, 250 * RT_NS_PER_MS);
        assert_int_equal(out.n, 10); /* nothing emitted by the stalled call */
        assert_int_equal(op->ops->process(op, in, 10, &out, &stall), 0); /* same batch */
        assert_int_equal(op->ops->process(op, in, 10, &out, &stall), 0);
        assert_int_equal(out.n, 30);
        eng_rvec_free(&out);
        eng_op_free(op);
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * RT_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void test_burn_and_alloc(void **state)
{
    struct fixture *f = *state;
    static struct eng_record in[200];
    for (int i = 0; i < 200; i++)
        in[i] = (struct eng_record){.key = (uint64_t)(i % 50), .value = i};
    struct eng_op_args a = {.ns_per_record = 20000};
    struct eng_op *b = ops_new_op(f, ops_vertex(f, "burn", ENG_OP_BURN, &a, 1, 0), 0, 0, NULL);
    uint64_t t = now_ns();
    struct eng_rvec out = ops_run(b, in, 200);
    assert_true(now_ns() - t >= 200 * 20000ull); /* 4 ms of real spinning */
    assert_memory_equal(out.rec, in, sizeof(in));
    eng_rvec_free(&out);
    eng_op_free(b);

    a.bytes_per_key = 4096;
    struct eng_op *al = ops_new_op(f, ops_vertex(f, "alloc", ENG_OP_ALLOC, &a, 1, 0), 0, 0, NULL);
    size_t before = eng_kstate_bytes(al->kstate);
    out = ops_run(al, in, 200);
    assert_int_equal(out.n, 200);
    assert_int_equal(eng_kstate_count(al->kstate), 50);
    assert_true(eng_kstate_bytes(al->kstate) >= before + 50 * 4096);
    uint32_t len;
    assert_non_null(eng_kstate_get_blob(al->kstate, 7, &len));
    assert_int_equal(len, 4096);
    eng_rvec_free(&out);
    eng_op_free(al);
}

/* ---- reference and verdict --------------------------------------------------- */

static int ref_graph(struct eng_jobgraph *g, enum eng_op_kind mid, uint32_t src_par,
                     uint32_t mid_par, enum eng_edge_kind in_edge, struct eng_expected **e,
                     char *err)
{
    struct eng_op_args s = {.records = 1000, .keys = 10, .rate = 500};
    struct eng_op_args m = {.window_ms = 10};
    eng_jobgraph_add_vertex(g, "src", ENG_OP_SOURCE_SEQUENCE, &s, src_par, 0);
    eng_jobgraph_add_vertex(g, "mid", mid, &m, mid_par, 0);
    eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, mid_par, 0);
    eng_jobgraph_add_edge(g, 0, 1, in_edge);
    eng_jobgraph_add_edge(g, 1, 2, ENG_EDGE_FORWARD);
    return eng_reference(g, e, err, 256);
}

/* A count graph over `records` records per source subtask, 10 keys. */
static struct eng_jobgraph *count_graph(uint64_t records)
{
    struct eng_jobgraph *g = eng_jobgraph_new("count");
    struct eng_op_args s = {.records = records, .keys = 10, .rate = 500};
    eng_jobgraph_add_vertex(g, "src", ENG_OP_SOURCE_SEQUENCE, &s, 2, 0);
    eng_jobgraph_add_vertex(g, "mid", ENG_OP_COUNT, NULL, 3, 0);
    eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 3, 0);
    eng_jobgraph_add_edge(g, 0, 1, ENG_EDGE_HASH);
    eng_jobgraph_add_edge(g, 1, 2, ENG_EDGE_FORWARD);
    return g;
}

/* Identical graphs (separate objects) share one table; a graph that differs
 * in one argument gets its own, with its own figures. */
static void test_reference_shared(void **state)
{
    (void)state;
    char err[256];
    struct eng_output_key k;
    struct eng_jobgraph *a = count_graph(1000), *b = count_graph(1000), *c = count_graph(1500);
    struct eng_expected *ea, *eb, *ec;
    bool sa, sb, sc;
    assert_int_equal(eng_reference_shared(a, &ea, &sa, err, sizeof(err)), 0);
    assert_int_equal(eng_reference_shared(b, &eb, &sb, err, sizeof(err)), 0);
    assert_int_equal(eng_reference_shared(c, &ec, &sc, err, sizeof(err)), 0);
    assert_true(sa && sb && sc);
    assert_ptr_equal(ea, eb);
    assert_ptr_not_equal(ea, ec);
    assert_int_equal(eng_expected_records(eb), 2000);
    assert_int_equal(eng_expected_records(ec), 3000);
    assert_int_equal(eng_expected_key(ec, 3, &k), 0);
    assert_int_equal(k.records, 300);
    /* The shared table is what eng_reference computes afresh. */
    struct eng_expected *fresh;
    assert_int_equal(eng_reference(a, &fresh, err, sizeof(err)), 0);
    assert_int_equal(eng_expected_records(fresh), eng_expected_records(ea));
    for (uint64_t key = 0; key < 10; key++) {
        struct eng_output_key x, y;
        assert_int_equal(eng_expected_key(fresh, key, &x), 0);
        assert_int_equal(eng_expected_key(ea, key, &y), 0);
        assert_int_equal(x.records, y.records);
        assert_int_equal(x.max, y.max);
    }
    eng_expected_free(fresh);
    eng_jobgraph_free(a);
    eng_jobgraph_free(b);
    eng_jobgraph_free(c);
}

static int warm_user_creates;

static struct eng_op *warm_user_create(const struct eng_user_kind *uk, const struct eng_vertex *v,
                                       const struct eng_op_env *env, char *err, size_t errlen)
{
    (void)uk, (void)v, (void)env;
    warm_user_creates++;
    snprintf(err, errlen, "not for this test");
    return NULL;
}

/* The warmer fills the cache beside the caller: after the join the tables
 * of its graphs are there and right.  A graph with a user operator is left
 * alone - its code never runs on the warmer's thread. */
static void test_reference_warm(void **state)
{
    (void)state;
    static const struct eng_user_kind uk = { "warm-test-map", ENG_OP_USER, warm_user_create,
                                             NULL };
    assert_int_equal(eng_user_kind_register(&uk), 0);
    struct eng_jobgraph *user = eng_jobgraph_new("user");
    struct eng_op_args s = {.records = 100, .keys = 10};
    struct eng_op_args u = {.user = &uk};
    eng_jobgraph_add_vertex(user, "src", ENG_OP_SOURCE_SEQUENCE, &s, 1, 0);
    eng_jobgraph_add_vertex(user, "m", ENG_OP_USER, &u, 1, 0);
    eng_jobgraph_add_vertex(user, "sink", ENG_OP_SINK, NULL, 1, 0);
    eng_jobgraph_add_edge(user, 0, 1, ENG_EDGE_FORWARD);
    eng_jobgraph_add_edge(user, 1, 2, ENG_EDGE_FORWARD);

    struct eng_jobgraph *probe = count_graph(700);
    assert_false(eng_reference_cached(probe));
    struct eng_jobgraph *g[4] = { count_graph(700), NULL, user, count_graph(700) };
    eng_reference_warm_join(eng_reference_warm(g, 4));
    assert_true(eng_reference_cached(probe));
    assert_int_equal(warm_user_creates, 0);

    char err[256];
    struct eng_expected *e;
    bool shared;
    assert_int_equal(eng_reference_shared(probe, &e, &shared, err, sizeof(err)), 0);
    assert_true(shared);
    assert_int_equal(eng_expected_records(e), 1400);
    /* Warming what is cached already leaves the table as it is and frees
     * the graph (a leak would fail the ASan run). */
    struct eng_jobgraph *again[1] = { count_graph(700) };
    eng_reference_warm_join(eng_reference_warm(again, 1));
    struct eng_expected *e2;
    assert_int_equal(eng_reference_shared(probe, &e2, &shared, err, sizeof(err)), 0);
    assert_true(shared);
    assert_ptr_equal(e2, e);
    eng_jobgraph_free(probe);
}

static void test_reference(void **state)
{
    char err[256];
    struct eng_expected *e;
    struct eng_output_key k;

    /* count per key = records per key: 2 x 1000 records over 10 keys. */
    struct eng_jobgraph *g = eng_jobgraph_new("count");
    assert_int_equal(ref_graph(g, ENG_OP_COUNT, 2, 3, ENG_EDGE_HASH, &e, err), 0);
    assert_int_equal(eng_expected_records(e), 2000);
    for (uint64_t key = 0; key < 10; key++) {
        assert_int_equal(eng_expected_key(e, key, &k), 0);
        assert_int_equal(k.records, 200);
        assert_int_equal(k.max, 200);
    }
    assert_int_equal(eng_expected_key(e, 10, &k), -ENOENT);

    /* The verdict: a faithful output passes; loss, duplication and a wrong
     * value are each caught. */
    struct eng_output *o = eng_output_new();
    struct eng_record rec[200];
    uint64_t txn = 0;
    bool applied;
    for (uint64_t key = 0; key < 10; key++) {
        for (int i = 0; i < 200; i++)
            rec[i] = (struct eng_record){.key = key, .value = i + 1};
        eng_output_commit(o, 2, (uint32_t)key % 3, ++txn, rec, 200, &applied);
    }
    struct eng_verdict vd;
    eng_output_verify(o, e, &vd);
    assert_true(vd.exactly_once);
    rec[0] = (struct eng_record){.key = 4, .value = 3};
    eng_output_commit(o, 2, 9, 1, rec, 1, &applied);
    eng_output_verify(o, e, &vd);
    assert_int_equal(vd.duplicated, 1);
    assert_int_equal(vd.wrong_values, 0);
    rec[0] = (struct eng_record){.key = 99, .value = 3};
    rec[1] = (struct eng_record){.key = 5, .value = 1000};
    eng_output_commit(o, 2, 9, 2, rec, 2, &applied);
    eng_output_verify(o, e, &vd);
    assert_int_equal(vd.duplicated, 3);
    assert_int_equal(vd.wrong_values, 2);   /* key 5's max, key 99 unexpected */
    assert_false(vd.exactly_once);
    eng_output_free(o);
    o = eng_output_new();
    eng_output_verify(o, e, &vd);
    assert_int_equal(vd.lost, 2000);
    assert_int_equal(vd.wrong_values, 10);
    eng_output_free(o);
    eng_expected_free(e);
    eng_jobgraph_free(g);

    /* sum: the largest value per key is the key's total. */
    g = eng_jobgraph_new("sum");
    assert_int_equal(ref_graph(g, ENG_OP_SUM, 1, 2, ENG_EDGE_HASH, &e, err), 0);
    assert_int_equal(eng_expected_key(e, 3, &k), 0);
    assert_int_equal(k.records, 100);
    assert_int_equal(k.max, 100 * 3 + 10 * 99 * 100 / 2); /* sum of 3, 13, ..., 993 */
    eng_expected_free(e);
    eng_jobgraph_free(g);

    /* window of 10 ms over ts = g: key k's windows close one by one, the
     * last (90..99) never; each holds one record (value 10w + k). */
    g = eng_jobgraph_new("window");
    assert_int_equal(ref_graph(g, ENG_OP_WINDOW, 1, 2, ENG_EDGE_HASH, &e, err), 0);
    assert_int_equal(eng_expected_key(e, 3, &k), 0);
    assert_int_equal(k.records, 99);
    assert_int_equal(k.max, 983);
    eng_expected_free(e);
    eng_jobgraph_free(g);

    /* Rejected: a window fed by two parallel producers, an unbounded source. */
    g = eng_jobgraph_new("window2");
    assert_int_equal(ref_graph(g, ENG_OP_WINDOW, 2, 2, ENG_EDGE_HASH, &e, err), -EINVAL);
    assert_non_null(strstr(err, "window 'mid'"));
    assert_null(e);
    eng_jobgraph_free(g);
    /* Forward from a parallel source each window subtask would see one
     * stream, but keys of every key group: validation refuses keyed state
     * that a restore by key group would lose. */
    g = eng_jobgraph_new("window-forward");
    assert_int_equal(ref_graph(g, ENG_OP_WINDOW, 2, 2, ENG_EDGE_FORWARD, &e, err), -EINVAL);
    assert_non_null(strstr(err, "window 'mid' (parallelism 2) keeps state per key, but its "
                                "forward input from 'src' is not partitioned by key"));
    assert_null(e);
    eng_jobgraph_free(g);
    g = eng_jobgraph_new("unbounded");
    struct eng_op_args s = {.keys = 3};
    eng_jobgraph_add_vertex(g, "src", ENG_OP_SOURCE_RANDOM, &s, 1, 0);
    eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 1, 0);
    eng_jobgraph_add_edge(g, 0, 1, ENG_EDGE_REBALANCE);
    assert_int_equal(eng_reference(g, &e, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "unbounded"));
    eng_jobgraph_free(g);

    /* Flat map and broadcast multiply, filter and test operators are
     * faithful: every path is exercised by one graph. */
    g = eng_jobgraph_new("mix");
    struct eng_op_args src = {.records = 500, .keys = 5, .seed = 3};
    struct eng_op_args fm = {.fanout = 2};
    struct eng_op_args fail = {.at_record = 1, .probability = 1.0};
    struct eng_op_args st = {.at_record = 1, .stall_ms = 10};
    eng_jobgraph_add_vertex(g, "src", ENG_OP_SOURCE_RANDOM, &src, 2, 0);
    eng_jobgraph_add_vertex(g, "flat", ENG_OP_FLATMAP, &fm, 2, 0);
    eng_jobgraph_add_vertex(g, "fail", ENG_OP_FAIL, &fail, 3, 0);
    eng_jobgraph_add_vertex(g, "stall", ENG_OP_STALL, &st, 3, 0);
    eng_jobgraph_add_vertex(g, "sink", ENG_OP_SINK, NULL, 2, 0);
    eng_jobgraph_add_edge(g, 0, 1, ENG_EDGE_FORWARD);
    eng_jobgraph_add_edge(g, 1, 2, ENG_EDGE_REBALANCE);
    eng_jobgraph_add_edge(g, 2, 3, ENG_EDGE_FORWARD);
    eng_jobgraph_add_edge(g, 3, 4, ENG_EDGE_BROADCAST);
    if (eng_reference(g, &e, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(eng_expected_records(e), 2 * 500 * 2 * 2);
    eng_expected_free(e);
    eng_jobgraph_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rvec),
        cmocka_unit_test_setup_teardown(test_new_errors, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_sequence_formula, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_source_replay, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_source_rate, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_basic_ops, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_keyed_ops, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_keyed_rescale, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_fail_at_record, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_fail_probability, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_stall, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_burn_and_alloc, ops_setup, ops_teardown),
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_reference_shared),
        cmocka_unit_test(test_reference_warm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
