/*
 * test_kstate.c - the keyed state backend against a naive reference, its
 * iteration order, blobs, removal and footprint.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "engine/jobgraph.h"
#include "engine/kstate.h"
#include "runtime/rt_mem.h"

/* splitmix64: a seeded, reproducible workload. */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Key i of a universe of U: an odd multiplier is a bijection on uint64, so
 * keys spread over the whole range while the reference indexes by i. */
static uint64_t key_of(uint32_t i)
{
    return (uint64_t)i * 0xD6E8FEB86659FD93ull;
}

#define U 20000

struct reference {
    uint8_t present[U];
    int64_t value[U];
    uint32_t blob_len[U];
    uint8_t blob_byte[U];  /* blobs are filled with one byte value */
};

static void check_against(struct eng_kstate *ks, const struct reference *ref)
{
    size_t n = 0;
    for (uint32_t i = 0; i < U; i++) {
        int64_t *v = eng_kstate_get(ks, key_of(i));
        uint32_t len;
        const uint8_t *blob = eng_kstate_get_blob(ks, key_of(i), &len);
        if (!ref->present[i]) {
            assert_null(v);
            assert_null(blob);
            continue;
        }
        n++;
        assert_non_null(v);
        assert_true(*v == ref->value[i]);
        assert_int_equal(len, ref->blob_len[i]);
        for (uint32_t b = 0; b < len; b++)
            assert_int_equal(blob[b], ref->blob_byte[i]);
    }
    assert_int_equal(eng_kstate_count(ks), n);
}

static void test_reference_workload(void **state)
{
    static struct reference ref;
    memset(&ref, 0, sizeof(ref));
    struct eng_kstate *ks = eng_kstate_new(128);
    uint64_t seed = 42;
    uint8_t buf[300];
    for (int step = 0; step < 400000; step++) {
        uint64_t r = next_rand(&seed);
        uint32_t i = (uint32_t)(r % U);
        uint64_t key = key_of(i);
        int64_t delta = (int64_t)(r >> 40) - (1 << 23);
        switch ((r >> 32) % 16) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6:
            eng_kstate_add(ks, key, delta);
            ref.value[i] += delta;
            ref.present[i] = 1;
            break;
        case 7: case 8: {
            bool ins;
            int64_t *v = eng_kstate_get_or_insert(ks, key, &ins);
            assert_int_equal(ins, !ref.present[i]);
            assert_true(*v == ref.value[i]);
            *v = delta;
            ref.value[i] = delta;
            ref.present[i] = 1;
            break;
        }
        case 9:
            eng_kstate_put(ks, key, delta);
            ref.value[i] = delta;
            ref.present[i] = 1;
            break;
        case 10: case 11: {
            uint32_t len = (uint32_t)(r % 300);
            memset(buf, (int)(r & 0xff), len);
            eng_kstate_put_blob(ks, key, buf, len);
            ref.blob_len[i] = len;
            ref.blob_byte[i] = (uint8_t)(r & 0xff);
            ref.present[i] = 1;
            break;
        }
        case 12: case 13:
            assert_int_equal(eng_kstate_remove(ks, key), ref.present[i]);
            ref.present[i] = 0;
            ref.value[i] = 0;
            ref.blob_len[i] = 0;
            break;
        default: {
            int64_t *v = eng_kstate_get(ks, key);
            assert_int_equal(v != NULL, ref.present[i]);
            if (v)
                assert_true(*v == ref.value[i]);
        }
        }
        if (step % 50000 == 0)
            check_against(ks, &ref);
    }
    check_against(ks, &ref);

    size_t sum = 0;
    for (uint32_t g = 0; g < 128; g++)
        sum += eng_kstate_group_count(ks, g);
    assert_int_equal(sum, eng_kstate_count(ks));
    eng_kstate_free(ks);
}

static void test_growth_and_footprint(void **state)
{
    struct eng_kstate *ks = eng_kstate_new(128);
    size_t empty = eng_kstate_bytes(ks);
    const size_t n = 1000000;
    for (size_t i = 0; i < n; i++)
        eng_kstate_add(ks, key_of((uint32_t)i), 1);
    for (size_t i = 0; i < n; i++)
        eng_kstate_add(ks, key_of((uint32_t)i), (int64_t)i);
    assert_int_equal(eng_kstate_count(ks), n);
    for (size_t i = 0; i < n; i += 997)
        assert_true(*eng_kstate_get(ks, key_of((uint32_t)i)) == (int64_t)i + 1);
    /* 24-byte slots at a load factor of at most 0.7: 2^21 slots for 1M keys. */
    size_t bytes = eng_kstate_bytes(ks);
    assert_true(bytes >= n * 24 * 10 / 7);
    assert_true(bytes <= 3 * n * 24);
    assert_true(bytes > empty);

    eng_kstate_clear(ks);
    assert_int_equal(eng_kstate_count(ks), 0);
    assert_null(eng_kstate_get(ks, key_of(5)));
    eng_kstate_add(ks, key_of(5), 9);
    assert_true(*eng_kstate_get(ks, key_of(5)) == 9);
    eng_kstate_free(ks);

    ks = eng_kstate_new(100);
    eng_kstate_reserve(ks, 5000);
    size_t reserved = eng_kstate_bytes(ks);
    for (uint32_t i = 0; i < 5000; i++)
        eng_kstate_put(ks, key_of(i), i);
    assert_int_equal(eng_kstate_bytes(ks), reserved); /* no resize after reserve */
    eng_kstate_free(ks);
    eng_kstate_free(NULL);
}

static void test_edge_keys_and_blobs(void **state)
{
    struct eng_kstate *ks = eng_kstate_new(7); /* not a power of two */
    eng_kstate_add(ks, 0, 5);
    eng_kstate_add(ks, UINT64_MAX, -5);
    eng_kstate_add(ks, 0, INT64_MAX); /* wraps, no UB */
    assert_true(*eng_kstate_get(ks, 0) == (int64_t)((uint64_t)INT64_MAX + 5));
    assert_true(*eng_kstate_get(ks, UINT64_MAX) == -5);
    assert_null(eng_kstate_get(ks, 1));

    size_t before = eng_kstate_bytes(ks);
    uint8_t big[4096];
    memset(big, 0xAB, sizeof(big));
    eng_kstate_put_blob(ks, 77, big, sizeof(big));
    assert_true(eng_kstate_bytes(ks) >= before + sizeof(big));
    uint32_t len;
    const uint8_t *b = eng_kstate_get_blob(ks, 77, &len);
    assert_int_equal(len, 4096);
    assert_memory_equal(b, big, 4096);
    assert_true(*eng_kstate_get(ks, 77) == 0);
    eng_kstate_put_blob(ks, 77, "xy", 2);
    b = eng_kstate_get_blob(ks, 77, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(b, "xy", 2);
    eng_kstate_put_blob(ks, 77, NULL, 0);
    assert_null(eng_kstate_get_blob(ks, 77, &len));
    assert_int_equal(len, 0);
    assert_null(eng_kstate_get_blob(ks, 12345, &len));
    eng_kstate_put_blob(ks, 78, big, 100);
    assert_true(eng_kstate_remove(ks, 78));
    assert_false(eng_kstate_remove(ks, 78));
    assert_int_equal(eng_kstate_count(ks), 3);
    eng_kstate_free(ks);
}

static void fill(struct eng_kstate *ks, uint64_t seed, int order)
{
    /* Same final content whatever `order`: keys 0..9999 with value 3*i, some
     * with blobs, reached through different histories. */
    if (order == 0) {
        for (uint32_t i = 0; i < 10000; i++)
            eng_kstate_put(ks, key_of(i), 3 * (int64_t)i);
    } else {
        for (uint32_t i = 10000; i-- > 0;) {
            eng_kstate_add(ks, key_of(i), (int64_t)i);
            eng_kstate_add(ks, key_of(i + 20000), 1); /* removed again below */
            eng_kstate_add(ks, key_of(i), 2 * (int64_t)i);
        }
        for (uint32_t i = 0; i < 10000; i++)
            eng_kstate_remove(ks, key_of(i + 20000));
    }
    for (uint32_t i = 0; i < 10000; i += 10)
        eng_kstate_put_blob(ks, key_of(i), &seed, sizeof(seed));
}

static void test_deterministic_order(void **state)
{
    struct eng_kstate *a = eng_kstate_new(128), *b = eng_kstate_new(128);
    fill(a, 1, 0);
    fill(b, 1, 1);
    struct eng_kstate_entry *ea, *eb;
    size_t na = eng_kstate_collect(a, 0, 127, &ea);
    size_t nb = eng_kstate_collect(b, 0, 127, &eb);
    assert_int_equal(na, 10000);
    assert_int_equal(nb, 10000);
    for (size_t i = 0; i < na; i++) {
        assert_true(ea[i].key == eb[i].key);
        assert_true(ea[i].value == eb[i].value);
        assert_int_equal(ea[i].key_group, eb[i].key_group);
        assert_int_equal(ea[i].blob_len, eb[i].blob_len);
        assert_int_equal(ea[i].key_group, eng_key_group(ea[i].key, 128));
        if (i) {
            bool ordered = ea[i - 1].key_group < ea[i].key_group ||
                           (ea[i - 1].key_group == ea[i].key_group &&
                            eng_kstate_rank(ea[i - 1].key) < eng_kstate_rank(ea[i].key));
            assert_true(ordered);
        }
    }
    rt_free(eb);

    /* A sub-range is exactly the matching slice of the full order. */
    size_t lo = 0;
    while (ea[lo].key_group < 40)
        lo++;
    struct eng_kstate_entry *es;
    size_t ns = eng_kstate_collect(a, 40, 59, &es);
    assert_true(ns > 0);
    for (size_t i = 0; i < ns; i++) {
        assert_true(es[i].key == ea[lo + i].key);
        assert_true(es[i].key_group >= 40 && es[i].key_group <= 59);
    }
    assert_true(lo + ns == na || ea[lo + ns].key_group > 59);
    size_t n_group = eng_kstate_group_count(a, 40);
    assert_true(n_group > 0 && n_group < ns);
    rt_free(es);
    rt_free(ea);
    assert_int_equal(eng_kstate_collect(a, 5, 4, &es), 0);
    rt_free(es);
    eng_kstate_free(a);
    eng_kstate_free(b);
}

/* Keys whose ranks share their top bits share a home slot in any table
 * smaller than 2^bits, so they pile into one cluster in insertion order:
 * near the top of the rank range the cluster wraps past the last slot, and
 * long clusters are far from rank order.  collect must sort them all the
 * same, and the same way for any insertion order. */
static void test_collect_order_clustered(void **state)
{
    enum { N = 3000 };
    static uint64_t keys[N];
    for (int top = 0; top < 2; top++) {
        /* Ranks within 2^-11 of the bottom (top == 0) or of the top. */
        size_t n = 0;
        for (uint64_t k = 1; n < N; k++) {
            uint64_t r = eng_kstate_rank(k) >> 53;
            if (r == (top ? 0x7ffu : 0))
                keys[n++] = k;
        }
        struct eng_kstate *a = eng_kstate_new(1), *b = eng_kstate_new(1);
        for (size_t i = 0; i < N; i++) {
            eng_kstate_put(a, keys[i], (int64_t)i);
            eng_kstate_put(b, keys[N - 1 - i], (int64_t)(N - 1 - i));
        }
        /* A few keys elsewhere, so the table has more than the pile. */
        for (uint64_t k = 0; k < 200; k++) {
            eng_kstate_put(a, k * 0x9E3779B97F4A7C15ull + 1, 1);
            eng_kstate_put(b, k * 0x9E3779B97F4A7C15ull + 1, 1);
        }
        struct eng_kstate_entry *ea, *eb;
        size_t na = eng_kstate_collect(a, 0, 0, &ea);
        size_t nb = eng_kstate_collect(b, 0, 0, &eb);
        assert_int_equal(na, eng_kstate_count(a));
        assert_int_equal(na, nb);
        for (size_t i = 0; i < na; i++) {
            assert_true(ea[i].key == eb[i].key && ea[i].value == eb[i].value);
            if (i)
                assert_true(eng_kstate_rank(ea[i - 1].key) < eng_kstate_rank(ea[i].key));
        }
        rt_free(ea);
        rt_free(eb);
        eng_kstate_free(a);
        eng_kstate_free(b);
    }
}

/* Keys the batched loops see in a big state: enough first that the table
 * outgrows PREFETCH_TABLE_BYTES (8 MB: 2^19 slots of 24 bytes), where they
 * switch to prefetching ahead. */
#define BIG_KEYS 300000u

static void prefill(struct eng_kstate *a, struct eng_kstate *b, bool big)
{
    for (uint32_t k = 0; big && k < BIG_KEYS; k++) {
        eng_kstate_put(a, key_of(k), (int64_t)k);
        eng_kstate_put(b, key_of(k), (int64_t)k);
    }
}

/* eng_kstate_add_batch gives what one eng_kstate_add per record gives. */
static void add_batch_case(bool big)
{
    static struct eng_batch b;
    struct eng_kstate *one = eng_kstate_new(128), *batched = eng_kstate_new(128);
    prefill(one, batched, big);
    uint64_t seed = 11;
    for (int round = 0; round < 200; round++) {
        b.n = (uint32_t)(next_rand(&seed) % (ENG_BATCH_CAP + 1));
        for (uint32_t i = 0; i < b.n; i++) {
            b.rec[i].key = key_of((uint32_t)(next_rand(&seed) % (big ? 2 * BIG_KEYS : 30000)));
            b.rec[i].value = (int64_t)(next_rand(&seed) % 1000) - 500;
            eng_kstate_add(one, b.rec[i].key, b.rec[i].value);
        }
        eng_kstate_add_batch(batched, b.rec, b.n);
    }
    struct eng_kstate_entry *e1, *e2;
    size_t n1 = eng_kstate_collect(one, 0, 127, &e1);
    size_t n2 = eng_kstate_collect(batched, 0, 127, &e2);
    assert_int_equal(n1, n2);
    assert_memory_equal(e1, e2, n1 * sizeof(*e1));
    assert_true(!big || eng_kstate_bytes(batched) > (8u << 20));
    rt_free(e1);
    rt_free(e2);
    eng_kstate_free(one);
    eng_kstate_free(batched);
}

/* In a small table and in a big one. */
static void test_add_batch(void **state)
{
    add_batch_case(false);
    add_batch_case(true);
}

/* Per-record running aggregates from the batched call must be those of one
 * get-or-insert per record, for every agg, with the table growing inside a
 * batch, with out == in, in a small table and in a big one. */
static void test_aggregate_batch(void **state)
{
    static struct eng_batch b;
    static struct eng_record got[ENG_BATCH_CAP];
    for (int run = 0; run < 2 * (ENG_KSTATE_MAX + 1); run++) {
        bool big = run > ENG_KSTATE_MAX;
        int agg = run % (ENG_KSTATE_MAX + 1);
        struct eng_kstate *one = eng_kstate_new(128), *batched = eng_kstate_new(128);
        prefill(one, batched, big);
        uint64_t seed = 23 + (uint64_t)agg;
        for (int round = 0; round < 120; round++) {
            b.n = (uint32_t)(next_rand(&seed) % (ENG_BATCH_CAP + 1));
            for (uint32_t i = 0; i < b.n; i++) {
                b.rec[i].key = key_of((uint32_t)(next_rand(&seed) % (big ? 2 * BIG_KEYS : 50000)));
                b.rec[i].value = (int64_t)(next_rand(&seed) % 1000) - 500;
                b.rec[i].ts = (int64_t)i;
            }
            bool in_place = round % 3 == 0;
            struct eng_record *out = got;
            if (in_place)
                memcpy(got, b.rec, b.n * sizeof(*got));
            eng_kstate_aggregate_batch(batched, (enum eng_kstate_agg)agg,
                                       in_place ? got : b.rec, b.n, out);
            for (uint32_t i = 0; i < b.n; i++) {
                bool inserted;
                int64_t *v = eng_kstate_get_or_insert(one, b.rec[i].key, &inserted);
                if (agg == ENG_KSTATE_COUNT)
                    *v += 1;
                else if (agg == ENG_KSTATE_SUM)
                    *v += b.rec[i].value;
                else if (inserted || b.rec[i].value > *v)
                    *v = b.rec[i].value;
                assert_true(out[i].key == b.rec[i].key && out[i].ts == b.rec[i].ts);
                if (out[i].value != *v)
                    fail_msg("agg %d round %d record %u: %lld, want %lld", agg, round, i,
                             (long long)out[i].value, (long long)*v);
            }
        }
        struct eng_kstate_entry *e1, *e2;
        size_t n1 = eng_kstate_collect(one, 0, 127, &e1);
        size_t n2 = eng_kstate_collect(batched, 0, 127, &e2);
        assert_int_equal(n1, n2);
        assert_memory_equal(e1, e2, n1 * sizeof(*e1));
        rt_free(e1);
        rt_free(e2);
        eng_kstate_free(one);
        eng_kstate_free(batched);
    }
}

/* The state's hash must place keys in the key groups of Flink's scheme,
 * libxxhash's XXH64 of the 8 little-endian key bytes modulo max
 * parallelism, as must the inline eng_key_group, for power-of-two and other
 * max parallelisms. */
static void test_key_groups_match(void **state)
{
    static const uint32_t maxps[] = {1, 7, 128, 1000, 32768};
    uint64_t seed = 5;
    for (size_t m = 0; m < sizeof(maxps) / sizeof(maxps[0]); m++) {
        struct eng_kstate *ks = eng_kstate_new(maxps[m]);
        for (int i = 0; i < 20000; i++)
            eng_kstate_add(ks, i < 10 ? (uint64_t)i : next_rand(&seed), 1);
        struct eng_kstate_entry *e;
        size_t n = eng_kstate_collect(ks, 0, maxps[m] - 1, &e);
        assert_int_equal(n, 20000);
        for (size_t i = 0; i < n; i++) {
            uint8_t le[8];
            for (int j = 0; j < 8; j++)
                le[j] = (uint8_t)(e[i].key >> (8 * j));
            uint32_t want = (uint32_t)(XXH64(le, 8, 0) % maxps[m]);
            assert_int_equal(e[i].key_group, want);
            assert_int_equal(eng_key_group(e[i].key, maxps[m]), want);
        }
        rt_free(e);
        eng_kstate_free(ks);
    }
}

/* A frozen copy keeps what the state held when it was taken, whatever the
 * state does after: new keys, changed values, replaced and removed blobs, a
 * clear, a growth.  The state frees the blobs the copy shares only at the
 * last thaw (ASan would report a read after free in the checks below, LSan
 * a blob never freed), and a state freed while frozen goes at that thaw. */
static void test_freeze(void **state)
{
    (void)state;
    enum { N = 2000 };
    struct eng_kstate *ks = eng_kstate_new(128);
    uint8_t blob[16];
    for (uint64_t k = 0; k < N; k++) {
        eng_kstate_put(ks, k, (int64_t)k * 3);
        memset(blob, (int)(k & 0xff), sizeof(blob));
        if (k % 2 == 0)
            eng_kstate_put_blob(ks, k, blob, sizeof(blob));
    }
    struct eng_kstate_entry *before;
    size_t nb = eng_kstate_collect(ks, 0, 127, &before);
    struct eng_kstate *c1 = eng_kstate_freeze(ks);

    /* Change everything the copy must not see. */
    for (uint64_t k = 0; k < N; k++) {
        eng_kstate_add(ks, k, 1);
        memset(blob, 0xEE, sizeof(blob));
        if (k % 4 == 0)
            eng_kstate_put_blob(ks, k, blob, sizeof(blob));   /* replaces a shared blob */
        else if (k % 4 == 2)
            eng_kstate_remove(ks, k);                        /* frees one */
    }
    struct eng_kstate *c2 = eng_kstate_freeze(ks);          /* two copies out */
    for (uint64_t k = N; k < 8 * N; k++)
        eng_kstate_put(ks, k, 1);                            /* grows the table */
    eng_kstate_clear(ks);

    struct eng_kstate_entry *after;
    size_t na = eng_kstate_collect(c1, 0, 127, &after);
    assert_int_equal(na, nb);
    assert_int_equal(eng_kstate_count(c1), N);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(after[i].key, before[i].key);
        assert_int_equal(after[i].value, (int64_t)after[i].key * 3);
        assert_int_equal(after[i].blob_len, before[i].blob_len);
        for (uint32_t b = 0; b < after[i].blob_len; b++)
            assert_int_equal(after[i].blob[b], after[i].key & 0xff);
    }
    rt_free(after);
    rt_free(before);
    /* The second copy: removed keys gone, replaced blobs new. */
    assert_int_equal(eng_kstate_count(c2), N - N / 4);
    uint32_t len;
    const uint8_t *b4 = eng_kstate_get_blob(c2, 4, &len);
    assert_non_null(b4);
    assert_int_equal(len, sizeof(blob));
    assert_int_equal(b4[0], 0xEE);
    assert_null(eng_kstate_get(c2, 2));
    assert_int_equal(*eng_kstate_get(c2, 1), 4);
    eng_kstate_thaw(c1);
    assert_int_equal(eng_kstate_count(ks), 0);

    /* The owner frees the state while c2 is out: it goes at c2's thaw. */
    eng_kstate_free(ks);
    assert_int_equal(*eng_kstate_get(c2, 3), 10);
    eng_kstate_thaw(c2);
    eng_kstate_thaw(NULL);

    /* Freeze, thaw, freeze again reuses the copy's table: same contents. */
    ks = eng_kstate_new(4);
    eng_kstate_put(ks, 7, 70);
    size_t bytes = eng_kstate_bytes(ks);
    eng_kstate_thaw(eng_kstate_freeze(ks));
    assert_true(eng_kstate_bytes(ks) > bytes);  /* the kept copy counts */
    eng_kstate_put(ks, 8, 80);
    struct eng_kstate *c3 = eng_kstate_freeze(ks);
    assert_int_equal(eng_kstate_count(c3), 2);
    assert_int_equal(*eng_kstate_get(c3, 8), 80);
    eng_kstate_thaw(c3);
    eng_kstate_free(ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_workload),
        cmocka_unit_test(test_growth_and_footprint),
        cmocka_unit_test(test_edge_keys_and_blobs),
        cmocka_unit_test(test_deterministic_order),
        cmocka_unit_test(test_collect_order_clustered),
        cmocka_unit_test(test_key_groups_match),
        cmocka_unit_test(test_add_batch),
        cmocka_unit_test(test_aggregate_batch),
        cmocka_unit_test(test_freeze),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
