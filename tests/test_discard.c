/*
 * test_discard.c - the discarding sink, driven without a task runtime: its
 * receipt (count and digest) through snapshots, crashes and restores, the
 * verdict it gives, and what the reference model refuses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/jobgraph.h"
#include "engine/op_internal.h"
#include "engine/operator.h"
#include "engine/snapshot.h"
#include "runtime/rt_mem.h"

#include "tests/ops_fixture.h"

#define RECORDS 2000
#define PER_CKPT 300
#define KEYS 7

/* What reaches the discard of source -HASH-> sum -> discard, as the
 * reference computes it: key i % KEYS, value the key's running sum. */
static struct eng_record in[RECORDS];

static struct eng_jobgraph *sum_job(uint32_t source_par)
{
    struct eng_jobgraph *g = eng_jobgraph_new("discardjob");
    struct eng_op_args a = {.records = RECORDS, .keys = KEYS};
    assert_int_equal(eng_jobgraph_add_vertex(g, "src", ENG_OP_SOURCE_SEQUENCE, &a, source_par,
                                             0), 0);
    assert_int_equal(eng_jobgraph_add_vertex(g, "sum", ENG_OP_SUM, NULL, 1, 0), 1);
    assert_int_equal(eng_jobgraph_add_vertex(g, "drop", ENG_OP_DISCARD, NULL, 1, 0), 2);
    assert_int_equal(eng_jobgraph_add_edge(g, 0, 1, ENG_EDGE_HASH), 0);
    assert_int_equal(eng_jobgraph_add_edge(g, 1, 2, ENG_EDGE_FORWARD), 0);
    return g;
}

static struct eng_expected *expected(void)
{
    struct eng_jobgraph *g = sum_job(1);
    struct eng_expected *e;
    char err[256];
    assert_int_equal(eng_reference(g, &e, err, sizeof(err)), 0);
    eng_jobgraph_free(g);
    /* Receipts count as committed records; no key is committed. */
    assert_int_equal(eng_expected_records(e), RECORDS);
    struct eng_output_key k;
    assert_int_equal(eng_expected_key(e, 0, &k), -ENOENT);
    int64_t sum[KEYS] = {0};
    for (int i = 0; i < RECORDS; i++) {
        sum[i % KEYS] += i;
        in[i] = (struct eng_record){.key = (uint64_t)i % KEYS, .value = sum[i % KEYS], .ts = i};
    }
    return e;
}

static void feed(struct eng_op *op, uint32_t from, uint32_t to)
{
    ops_feed(op, in, from, to);
}

/* Checkpoints 1..crash_after every PER_CKPT records, the first `notified`
 * of them notified, 150 records more, a crash, a restore from `from` (0: a
 * fresh start), the rest re-fed and a final checkpoint notified. */
static void life(struct fixture *f, const struct eng_vertex *v, const struct eng_expected *e,
                 uint32_t crash_after, uint32_t notified, uint32_t from,
                 struct eng_verdict *verdict)
{
    struct eng_output *o = eng_output_new();
    struct eng_op *op = ops_new_op(f, v, 0, 0, o);
    uint8_t *buf[8] = {0};
    size_t len[8];
    for (uint32_t c = 1; c <= crash_after; c++) {
        feed(op, (c - 1) * PER_CKPT, c * PER_CKPT);
        ops_snap_encode(op, c, &buf[c], &len[c]);
        if (c == notified)
            op->ops->notify_complete(op, c);    /* covers the earlier ones too */
    }
    /* The receipt stands for the last completed checkpoint only. */
    assert_int_equal(eng_output_records(o), notified * PER_CKPT);
    feed(op, crash_after * PER_CKPT, crash_after * PER_CKPT + 150);
    assert_int_equal(eng_output_records(o), notified * PER_CKPT);
    eng_op_free(op);    /* the crash */

    op = ops_new_op(f, v, 0, 1, o);
    if (from)
        ops_restore_from(op, buf[from], len[from], 0, v->max_parallelism - 1);
    feed(op, from * PER_CKPT, RECORDS);
    uint8_t *last;
    size_t last_len;
    ops_snap_encode(op, 100, &last, &last_len);
    op->ops->notify_complete(op, 100);
    eng_output_verify(o, e, verdict);
    rt_free(last);
    eng_op_free(op);
    for (int i = 0; i < 8; i++)
        rt_free(buf[i]);
    eng_output_free(o);
}

static void test_discard_exactly_once(void **state)
{
    struct fixture *f = *state;
    struct eng_expected *e = expected();
    const struct eng_vertex *v = ops_vertex(f, "drop", ENG_OP_DISCARD, NULL, 1, 0);
    int cases = 0;
    for (uint32_t crash = 1; crash <= 5; crash++)
        for (uint32_t notified = 0; notified <= crash; notified++)
            for (uint32_t from = notified; from <= crash; from++) {
                struct eng_verdict vd;
                life(f, v, e, crash, notified, from, &vd);
                if (!vd.exactly_once)
                    fail_msg("crash after %u, notified %u, restore %u: lost %llu dup %llu "
                             "wrong %llu", crash, notified, from, (unsigned long long)vd.lost,
                             (unsigned long long)vd.duplicated,
                             (unsigned long long)vd.wrong_values);
                assert_int_equal(vd.expected, RECORDS);
                assert_int_equal(vd.committed, RECORDS);
                cases++;
            }
    assert_true(cases > 30);
    eng_expected_free(e);
}

/* What the receipt catches: a record lost, one counted twice, and a wrong
 * value with the count right. */
static void test_discard_verdicts(void **state)
{
    struct fixture *f = *state;
    struct eng_expected *e = expected();
    const struct eng_vertex *v = ops_vertex(f, "drop", ENG_OP_DISCARD, NULL, 1, 0);
    struct {
        uint32_t skip, twice, wrong;    /* record index + 1, 0 for none */
        uint64_t lost, duplicated, wrong_values;
    } cases[] = {
        {0, 0, 0, 0, 0, 0},
        {1234, 0, 0, 1, 0, 0},
        {0, 77, 0, 0, 1, 0},
        {0, 0, 500, 0, 0, 1},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct eng_output *o = eng_output_new();
        struct eng_op *op = ops_new_op(f, v, 0, 0, o);
        for (uint32_t i = 0; i < RECORDS; i++) {
            struct eng_record r = in[i];
            if (i + 1 == cases[c].wrong)
                r.value++;
            uint32_t times = i + 1 == cases[c].skip ? 0 : i + 1 == cases[c].twice ? 2 : 1;
            for (uint32_t t = 0; t < times; t++) {
                struct eng_rvec out = ops_run(op, &r, 1);
                eng_rvec_free(&out);
            }
        }
        uint8_t *buf;
        size_t len;
        ops_snap_encode(op, 1, &buf, &len);
        op->ops->notify_complete(op, 1);
        struct eng_verdict vd;
        eng_output_verify(o, e, &vd);
        assert_int_equal(vd.lost, cases[c].lost);
        assert_int_equal(vd.duplicated, cases[c].duplicated);
        assert_int_equal(vd.wrong_values, cases[c].wrong_values);
        assert_int_equal(vd.exactly_once, c == 0);
        rt_free(buf);
        eng_op_free(op);
        eng_output_free(o);
    }
    eng_expected_free(e);
}

/* A zombie of the failed attempt cannot publish over its successor, a
 * receipt of an older checkpoint does not replace a newer one, and another
 * subtask's file is refused. */
static void test_discard_fencing_and_restore(void **state)
{
    struct fixture *f = *state;
    struct eng_expected *e = expected();
    eng_expected_free(e);
    const struct eng_vertex *v = ops_vertex(f, "drop", ENG_OP_DISCARD, NULL, 2, 0);
    struct eng_output *o = eng_output_new();
    struct eng_op *old = ops_new_op(f, v, 0, 0, o);
    feed(old, 0, 100);
    uint8_t *buf1, *buf2;
    size_t len1, len2;
    ops_snap_encode(old, 1, &buf1, &len1);
    feed(old, 100, 150);
    ops_snap_encode(old, 2, &buf2, &len2);
    old->ops->notify_complete(old, 2);
    uint64_t records, digest;
    eng_output_receipts(o, &records, &digest);
    assert_int_equal(records, 150);

    /* A restore from the older checkpoint 1 (2's file was lost, say): its
     * receipt does not replace 2's, which stands until a newer one. */
    struct eng_op *next = ops_new_op(f, v, 0, 1, o);
    ops_restore_from(next, buf1, len1, 0, v->max_parallelism - 1);
    eng_output_receipts(o, &records, &digest);
    assert_int_equal(records, 150);
    feed(next, 100, 120);
    uint8_t *buf3;
    size_t len3;
    ops_snap_encode(next, 3, &buf3, &len3);
    next->ops->notify_complete(next, 3);
    eng_output_receipts(o, &records, &digest);
    assert_int_equal(records, 120);

    /* The old instance is fenced off. */
    uint8_t *buf4;
    size_t len4;
    ops_snap_encode(old, 4, &buf4, &len4);
    old->ops->notify_complete(old, 4);
    assert_non_null(strstr(eng_op_error(old), "fenced off"));
    eng_output_receipts(o, &records, &digest);
    assert_int_equal(records, 120);

    /* Subtask 1 restoring subtask 0's file would count its receipt twice. */
    struct eng_op *other = ops_new_op(f, v, 1, 1, o);
    struct eng_snap_state st;
    char err[256];
    assert_int_equal(eng_snapshot_decode(buf3, len3, "chk-3/task-0.state", 0,
                                         v->max_parallelism - 1, NULL, &st, err, sizeof(err)),
                     0);
    assert_int_equal(other->ops->restore(other, &st), -ENOTSUP);
    assert_non_null(strstr(eng_op_error(other), "rescaled"));
    eng_snap_state_release(&st);
    /* A file without the receipt values (a sink's, say) is refused. */
    struct eng_snap_state bare;
    ops_snap_init(&bare, 5, v->max_parallelism);
    assert_int_equal(other->ops->restore(other, &bare), -EBADMSG);
    assert_non_null(strstr(eng_op_error(other), "no receipt"));

    rt_free(buf1);
    rt_free(buf2);
    rt_free(buf3);
    rt_free(buf4);
    eng_op_free(old);
    eng_op_free(next);
    eng_op_free(other);
    eng_output_free(o);
}

/* The reference accepts a DISCARD only behind one deterministic stream: the
 * running sums a keyed sum emits depend on how two parallel sources
 * interleave, and so would the digest. */
static void test_discard_reference_refuses_parallel_input(void **state)
{
    (void)state;
    struct eng_jobgraph *g = sum_job(2);
    struct eng_expected *e = NULL;
    char err[256];
    assert_int_equal(eng_reference(g, &e, err, sizeof(err)), -EINVAL);
    assert_null(e);
    assert_non_null(strstr(err, "discard 'drop'"));
    assert_non_null(strstr(err, "parallel producers"));
    eng_jobgraph_free(g);
    /* A discard must not have outputs, like any sink. */
    g = sum_job(1);
    int m = eng_jobgraph_add_vertex(g, "after", ENG_OP_MAP, NULL, 1, 0);
    eng_jobgraph_add_edge(g, 2, (uint32_t)m, ENG_EDGE_FORWARD);
    assert_int_equal(eng_jobgraph_validate(g, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "a sink takes no outputs"));
    eng_jobgraph_free(g);
}

/* The vector digest must give the scalar loop's sum for every batch length
 * (whole groups of eight and a rest), at any alignment of the records, and
 * for keys and values at their extremes; a wrong lane or a misread field
 * changes the sum. */
static void test_discard_digest_vector(void **state)
{
    (void)state;
    if (!eng__discard_digest_vectorised())
        skip();     /* no AVX-512DQ here: only the scalar loop runs */
    static struct eng_record rec[ENG_BATCH_CAP + 1];
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (uint32_t i = 0; i <= ENG_BATCH_CAP; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        rec[i] = (struct eng_record){ .key = x, .value = (int64_t)(x * 3), .ts = (int64_t)i };
    }
    rec[3].key = UINT64_MAX;
    rec[5].value = INT64_MIN;
    rec[9].key = 0;
    for (uint32_t off = 0; off < 2; off++)
        for (uint32_t n = 0; n + off <= ENG_BATCH_CAP; n = n < 40 ? n + 1 : 2 * n + 1) {
            uint64_t scalar = eng__discard_digest(rec + off, n, false);
            uint64_t vector = eng__discard_digest(rec + off, n, true);
            if (scalar != vector)
                fail_msg("n %u offset %u: vector %llx, scalar %llx", n, off,
                         (unsigned long long)vector, (unsigned long long)scalar);
        }
    /* The sum is of every record: changing one value anywhere changes it. */
    uint64_t before = eng__discard_digest(rec, 24, true);
    rec[17].value++;
    assert_int_not_equal(eng__discard_digest(rec, 24, true), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_discard_exactly_once, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_discard_verdicts, ops_setup, ops_teardown),
        cmocka_unit_test_setup_teardown(test_discard_fencing_and_restore, ops_setup,
                                        ops_teardown),
        cmocka_unit_test(test_discard_reference_refuses_parallel_input),
        cmocka_unit_test(test_discard_digest_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
