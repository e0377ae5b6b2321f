/*
 * test_snapshot.c - checkpoint file formats: round trips (full, key-group
 * sub-range, rescaled restore), byte-identical encoding, and a decoder that
 * rejects every flipped byte and every truncation with a precise message
 * and survives random and structurally mutated input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "engine/jobgraph.h"
#include "engine/kstate.h"
#include "engine/snapshot.h"
#include "runtime/rt_mem.h"

#define MAXP 128

static char err[512];

static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* A state with `n` keys, every 7th with a blob of a few bytes. */
static struct eng_kstate *make_state(size_t n, uint64_t seed)
{
    struct eng_kstate *ks = eng_kstate_new(MAXP);
    for (size_t i = 0; i < n; i++) {
        uint64_t key = next_rand(&seed);
        eng_kstate_put(ks, key, (int64_t)next_rand(&seed));
        if (i % 7 == 0) {
            uint8_t blob[13];
            memset(blob, (int)i, sizeof(blob));
            eng_kstate_put_blob(ks, key, blob, (uint32_t)(i % 13) + 1);
        }
    }
    return ks;
}

static void init_meta(struct eng_snap_state *st, uint32_t first, uint32_t last,
                      struct eng_record *staged, uint32_t n_staged)
{
    memset(st, 0, sizeof(*st));
    st->checkpoint_id = 3;
    st->max_parallelism = MAXP;
    st->kg_first = first;
    st->kg_last = last;
    st->staged = staged;
    st->n_staged = n_staged;
    assert_int_equal(eng_snap_set_u64(st, "source.offset", 123456789), 0);
    assert_int_equal(eng_snap_set_i64(st, "sink.txn", -7), 0);
}

/* Entries of a and b over [first, last] are equal, blobs included. */
static void assert_same_range(const struct eng_kstate *a, const struct eng_kstate *b,
                              uint32_t first, uint32_t last)
{
    struct eng_kstate_entry *ea, *eb;
    size_t na = eng_kstate_collect(a, first, last, &ea);
    size_t nb = eng_kstate_collect(b, first, last, &eb);
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_true(ea[i].key == eb[i].key);
        assert_true(ea[i].value == eb[i].value);
        assert_int_equal(ea[i].blob_len, eb[i].blob_len);
        if (ea[i].blob_len)
            assert_memory_equal(ea[i].blob, eb[i].blob, ea[i].blob_len);
    }
    rt_free(ea);
    rt_free(eb);
}

static void test_round_trip(void **state)
{
    struct eng_kstate *ks = make_state(3000, 1);
    struct eng_record staged[3] = {{1, 2, 3}, {UINT64_MAX, INT64_MIN, -1}, {9, 9, 9}};
    struct eng_snap_state st;
    init_meta(&st, 0, MAXP - 1, staged, 3);
    uint8_t *buf;
    size_t len;
    assert_int_equal(eng_snapshot_encode(&st, ks, &buf, &len), 0);
    assert_true(eng_snapshot_checksum(buf, len) == XXH64(buf, len - 8, 0));

    struct eng_kstate *back = eng_kstate_new(MAXP);
    struct eng_snap_state out;
    int rc = eng_snapshot_decode(buf, len, "chk-3/task-0.state", 0, MAXP - 1, back, &out,
                                 err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(eng_kstate_count(back), 3000);
    assert_same_range(ks, back, 0, MAXP - 1);
    assert_true(out.checkpoint_id == 3);
    assert_int_equal(out.kg_first, 0);
    assert_int_equal(out.kg_last, MAXP - 1);
    assert_int_equal(out.n_values, 2);
    uint64_t off;
    int64_t txn;
    assert_int_equal(eng_snap_get_u64(&out, "source.offset", &off), 0);
    assert_true(off == 123456789);
    assert_int_equal(eng_snap_get_i64(&out, "sink.txn", &txn), 0);
    assert_true(txn == -7);
    assert_int_equal(eng_snap_get_u64(&out, "nope", &off), -ENOENT);
    assert_int_equal(out.n_staged, 3);
    assert_memory_equal(out.staged, staged, sizeof(staged));
    eng_snap_state_release(&out);
    eng_snap_state_release(&out);

    /* Byte-identical output for the same content reached differently. */
    struct eng_snap_state st2;
    init_meta(&st2, 0, MAXP - 1, staged, 3);
    uint8_t *buf2;
    size_t len2;
    assert_int_equal(eng_snapshot_encode(&st2, back, &buf2, &len2), 0);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    rt_free(buf2);

    /* Without a state to restore into, values and staged records still come back. */
    assert_int_equal(eng_snapshot_decode(buf, len, "f", 0, MAXP - 1, NULL, &out, err,
                                         sizeof(err)), 0);
    assert_int_equal(out.n_staged, 3);
    eng_snap_state_release(&out);

    /* Max parallelism cannot change across a restore. */
    struct eng_kstate *other = eng_kstate_new(256);
    assert_int_equal(eng_snapshot_decode(buf, len, "chk-3/task-0.state", 0, 255, other, &out,
                                         err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "chk-3/task-0.state: max parallelism 128 in the file, 256 in the "
                             "restoring operator; key groups cannot be remapped");
    eng_kstate_free(other);
    rt_free(buf);
    eng_kstate_free(back);
    eng_kstate_free(ks);
}

static void test_empty_and_encode_errors(void **state)
{
    struct eng_snap_state st, out;
    uint8_t *buf;
    size_t len;
    init_meta(&st, 5, 5, NULL, 0);
    assert_int_equal(eng_snapshot_encode(&st, NULL, &buf, &len), 0);
    assert_int_equal(eng_snapshot_decode(buf, len, "f", 0, 127, NULL, &out, err, sizeof(err)), 0);
    assert_int_equal(out.kg_first, 5);
    assert_int_equal(out.n_staged, 0);
    eng_snap_state_release(&out);
    rt_free(buf);

    init_meta(&st, 6, 5, NULL, 0);
    assert_int_equal(eng_snapshot_encode(&st, NULL, &buf, &len), -EINVAL);
    init_meta(&st, 0, MAXP, NULL, 0);
    assert_int_equal(eng_snapshot_encode(&st, NULL, &buf, &len), -EINVAL);
    struct eng_kstate *ks = eng_kstate_new(64);
    init_meta(&st, 0, 63, NULL, 0);
    assert_int_equal(eng_snapshot_encode(&st, ks, &buf, &len), -EINVAL);
    eng_kstate_free(ks);

    char longname[ENG_SNAP_NAME_MAX + 1];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[ENG_SNAP_NAME_MAX] = '\0';
    assert_int_equal(eng_snap_set_u64(&st, longname, 1), -ENAMETOOLONG);
    longname[ENG_SNAP_NAME_MAX - 1] = '\0';
    assert_int_equal(eng_snap_set_u64(&st, longname, 1), 0);
    assert_int_equal(eng_snap_set_u64(&st, "", 1), -EINVAL);
    assert_int_equal(eng_snap_set_u64(&st, "source.offset", 5), 0); /* replaces */
    while (st.n_values < ENG_SNAP_VALUES_MAX) {
        char name[16];
        snprintf(name, sizeof(name), "v%u", st.n_values);
        assert_int_equal(eng_snap_set_i64(&st, name, -1), 0);
    }
    assert_int_equal(eng_snap_set_i64(&st, "one.more", 1), -ENOSPC);
    assert_int_equal(eng_snapshot_encode(&st, NULL, &buf, &len), 0);
    assert_int_equal(eng_snapshot_decode(buf, len, "f", 0, 0, NULL, &out, err, sizeof(err)), 0);
    assert_int_equal(out.n_values, ENG_SNAP_VALUES_MAX);
    uint64_t v;
    assert_int_equal(eng_snap_get_u64(&out, longname, &v), 0);
    assert_int_equal(eng_snap_get_u64(&out, "source.offset", &v), 0);
    assert_true(v == 5);
    eng_snap_state_release(&out);
    rt_free(buf);
}

static void test_sub_range_and_rescale(void **state)
{
    struct eng_kstate *ks = make_state(5000, 2);
    /* Old job: parallelism 3, one file per subtask covering its key groups. */
    uint8_t *files[3];
    size_t lens[3];
    for (uint32_t i = 0; i < 3; i++) {
        struct eng_snap_state st;
        uint32_t first, last;
        eng_key_group_range(i, 3, MAXP, &first, &last);
        init_meta(&st, first, last, NULL, 0);
        assert_int_equal(eng_snapshot_encode(&st, ks, &files[i], &lens[i]), 0);
    }
    /* A sub-range of one file. */
    struct eng_kstate *part = eng_kstate_new(MAXP);
    struct eng_snap_state out;
    assert_int_equal(eng_snapshot_decode(files[0], lens[0], "f0", 10, 20, part, &out, err,
                                         sizeof(err)), 0);
    eng_snap_state_release(&out);
    assert_same_range(ks, part, 10, 20);
    struct eng_kstate_entry *e;
    size_t n = eng_kstate_collect(ks, 10, 20, &e);
    rt_free(e);
    assert_int_equal(eng_kstate_count(part), n);
    n = eng_kstate_collect(part, 0, MAXP - 1, &e);
    for (size_t i = 0; i < n; i++)
        assert_true(e[i].key_group >= 10 && e[i].key_group <= 20);
    rt_free(e);
    eng_kstate_free(part);

    /* New parallelisms: each new subtask reads every old file for its key
     * groups; the union equals the original, with no key twice. */
    static const uint32_t new_pars[] = {1, 2, 5, 7, 128};
    for (size_t p = 0; p < sizeof(new_pars) / sizeof(new_pars[0]); p++) {
        uint32_t par = new_pars[p];
        size_t total = 0;
        for (uint32_t s = 0; s < par; s++) {
            uint32_t first, last;
            eng_key_group_range(s, par, MAXP, &first, &last);
            struct eng_kstate *mine = eng_kstate_new(MAXP);
            for (int f = 0; f < 3; f++) {
                int rc = eng_snapshot_decode(files[f], lens[f], "old", first, last, mine, &out,
                                             err, sizeof(err));
                if (rc)
                    fail_msg("%s", err);
                eng_snap_state_release(&out);
            }
            assert_same_range(ks, mine, first, last);
            struct eng_kstate_entry *all;
            size_t nall = eng_kstate_collect(mine, 0, MAXP - 1, &all);
            assert_int_equal(nall, eng_kstate_count(mine)); /* nothing outside its range */
            rt_free(all);
            total += eng_kstate_count(mine);
            eng_kstate_free(mine);
        }
        assert_int_equal(total, eng_kstate_count(ks));
    }
    for (int f = 0; f < 3; f++)
        rt_free(files[f]);
    eng_kstate_free(ks);
}

/* A small valid state file for the corruption walks. */
static uint8_t *small_file(size_t *len)
{
    struct eng_kstate *ks = make_state(12, 3);
    struct eng_record staged[1] = {{4, 5, 6}};
    struct eng_snap_state st;
    uint8_t *buf;
    init_meta(&st, 20, 40, staged, 1);
    assert_int_equal(eng_snapshot_encode(&st, ks, &buf, len), 0);
    eng_kstate_free(ks);
    return buf;
}

static int decode_fresh(const uint8_t *buf, size_t len)
{
    struct eng_kstate *ks = eng_kstate_new(MAXP);
    struct eng_snap_state out;
    int rc = eng_snapshot_decode(buf, len, "chk-3/task-2.state", 0, MAXP - 1, ks, &out, err,
                                 sizeof(err));
    if (rc == 0)
        eng_snap_state_release(&out);
    eng_kstate_free(ks);
    return rc;
}

static void test_flipped_bytes(void **state)
{
    size_t len;
    uint8_t *buf = small_file(&len);
    assert_int_equal(decode_fresh(buf, len), 0);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1u << bit);
            int rc = decode_fresh(buf, len);
            if (rc == 0)
                fail_msg("flip of bit %d at byte %zu of %zu went unnoticed", bit, i, len);
            assert_true(rc == -EBADMSG || rc == -ENOTSUP);
            buf[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* The messages a reader sees, one per header field. */
    buf[0] = 'X';
    decode_fresh(buf, len);
    assert_string_equal(err, "chk-3/task-2.state: bad magic 0x4b434358 (expected \"MCCK\"; not a "
                             "minicluster checkpoint file)");
    buf[0] = 'M';
    buf[4] = 7;
    assert_int_equal(decode_fresh(buf, len), -ENOTSUP);
    assert_string_equal(err, "chk-3/task-2.state: unsupported format version 7 (this build reads 1 to 3)");
    buf[4] = 1;
    buf[6] = 2;
    decode_fresh(buf, len);
    assert_string_equal(err, "chk-3/task-2.state: file kind 2 (checkpoint metadata) where task "
                             "state was expected");
    buf[6] = 1;
    buf[100] ^= 0x40;
    decode_fresh(buf, len);
    char want[200];
    snprintf(want, sizeof(want), "checksum mismatch in chk-3/task-2.state: expected 0x%016llx, got 0x%016llx",
             (unsigned long long)eng_snapshot_checksum(buf, len),
             (unsigned long long)XXH64(buf, len - 8, 0));
    assert_string_equal(err, want);
    rt_free(buf);
}

static void test_truncation(void **state)
{
    size_t len;
    uint8_t *buf = small_file(&len);
    for (size_t n = 0; n < len; n++) {
        /* A copy of exactly n bytes, so ASan sees any read past it. */
        uint8_t *cut = rt_xmalloc(n ? n : 1);
        memcpy(cut, buf, n);
        assert_int_equal(decode_fresh(cut, n), -EBADMSG);
        rt_free(cut);
    }
    decode_fresh(buf, 10);
    assert_string_equal(err, "chk-3/task-2.state: truncated at byte 10 of the 16-byte header");
    decode_fresh(buf, len - 1);
    char want[120];
    snprintf(want, sizeof(want), "chk-3/task-2.state: truncated at byte %zu of %zu", len - 1, len);
    assert_string_equal(err, want);

    uint8_t *longer = rt_xcalloc(1, len + 3);
    memcpy(longer, buf, len);
    assert_int_equal(decode_fresh(longer, len + 3), -EBADMSG);
    snprintf(want, sizeof(want),
             "chk-3/task-2.state: 3 bytes of trailing data after the declared length %zu", len);
    assert_string_equal(err, want);
    rt_free(longer);
    rt_free(buf);
}

/* Re-seals a mutated file so the structural checks, not the checksum,
 * must catch the damage. */
static void reseal(uint8_t *buf, size_t len)
{
    uint64_t h = XXH64(buf, len - 8, 0);
    for (int i = 0; i < 8; i++)
        buf[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

static void test_fuzz(void **state)
{
    uint64_t seed = 99;
    uint8_t junk[512];
    for (int round = 0; round < 20000; round++) {
        size_t n = next_rand(&seed) % sizeof(junk);
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)next_rand(&seed);
        if (round % 2 && n >= 16) { /* a plausible header over random bytes */
            memcpy(junk, "MCCK\x01\x00\x01\x00", 8);
            junk[4] = (uint8_t)(1 + (round / 2) % 2);   /* either version */
            for (int i = 0; i < 8; i++)
                junk[8 + i] = (uint8_t)((uint64_t)n >> (8 * i));
            if (n >= 24)
                reseal(junk, n);
        }
        uint8_t *copy = rt_xmalloc(n ? n : 1);
        memcpy(copy, junk, n);
        assert_true(decode_fresh(copy, n) < 0);
        struct eng_meta m;
        if (eng_meta_decode(copy, n, "m", &m, err, sizeof(err)) == 0)
            eng_meta_release(&m);
        rt_free(copy);
    }

    /* Valid files with a few bytes changed after the header, re-sealed: the
     * decoder may accept or reject, but must never read out of bounds. */
    size_t len;
    uint8_t *buf = small_file(&len);
    uint8_t *copy = rt_xmalloc(len);
    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(copy, buf, len);
        int flips = 1 + (int)(next_rand(&seed) % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = 16 + next_rand(&seed) % (len - 24);
            copy[at] = (round & 1) ? (uint8_t)next_rand(&seed) : copy[at] ^ 0x80;
        }
        reseal(copy, len);
        accepted += decode_fresh(copy, len) == 0;
    }
    assert_true(accepted < 20000);
    rt_free(copy);
    rt_free(buf);
}

static void test_metadata(void **state)
{
    struct eng_meta_entry entries[3] = {
        {.vertex = 2, .subtask = 0, .kg_first = 0, .kg_last = 63, .size = 1024,
         .checksum = 0x1122334455667788ull, .file = "chk-3/task-0.state", .n_refs = 2,
         .refs = {{1, 4096, 0xabc}, {2, 77, UINT64_MAX}}},
        {.vertex = 2, .subtask = 1, .kg_first = 64, .kg_last = 127, .size = 99,
         .checksum = 1, .file = "chk-3/task-1.state"},
        {.vertex = 0, .subtask = 0, .size = 0, .file = "x"},
    };
    struct eng_meta m = {.job_id = 77, .checkpoint_id = 3, .timestamp_ms = 1500,
                         .n_entries = 3, .entries = entries};
    uint8_t *buf;
    size_t len;
    assert_int_equal(eng_meta_encode(&m, &buf, &len), 0);
    struct eng_meta back;
    assert_int_equal(eng_meta_decode(buf, len, "chk-3/_metadata", &back, err, sizeof(err)), 0);
    assert_true(back.job_id == 77 && back.checkpoint_id == 3 && back.timestamp_ms == 1500);
    assert_int_equal(back.n_entries, 3);
    assert_memory_equal(back.entries, entries, sizeof(entries));
    eng_meta_release(&back);

    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 0x10;
        assert_true(eng_meta_decode(buf, len, "m", &back, err, sizeof(err)) < 0);
        buf[i] ^= 0x10;
    }
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = rt_xmalloc(n ? n : 1);
        memcpy(cut, buf, n);
        assert_int_equal(eng_meta_decode(cut, n, "m", &back, err, sizeof(err)), -EBADMSG);
        rt_free(cut);
    }
    /* A state decoder refuses a metadata file, and the other way round. */
    struct eng_snap_state out;
    assert_int_equal(eng_snapshot_decode(buf, len, "chk-3/_metadata", 0, 0, NULL, &out, err,
                                         sizeof(err)), -EBADMSG);
    assert_string_equal(err, "chk-3/_metadata: file kind 2 (checkpoint metadata) where task "
                             "state was expected");
    rt_free(buf);

    size_t slen;
    uint8_t *sbuf = small_file(&slen);
    assert_int_equal(eng_meta_decode(sbuf, slen, "m", &back, err, sizeof(err)), -EBADMSG);
    assert_string_equal(err, "m: file kind 1 (task state) where checkpoint metadata was expected");
    rt_free(sbuf);

    entries[0].n_refs = ENG_SNAP_REFS_MAX + 1;
    assert_int_equal(eng_meta_encode(&m, &buf, &len), -EINVAL);
    entries[0].n_refs = 2;
    entries[2].file[0] = '\0';
    assert_int_equal(eng_meta_encode(&m, &buf, &len), -EINVAL);
    m.n_entries = 0;
    assert_int_equal(eng_meta_encode(&m, &buf, &len), 0);
    assert_int_equal(eng_meta_decode(buf, len, "m", &back, err, sizeof(err)), 0);
    assert_int_equal(back.n_entries, 0);
    eng_meta_release(&back);
    rt_free(buf);
}

/* Builds a state file as version 1 wrote it (no references, blobs always
 * inline right after the blob length): checkpoint 5, max parallelism 4,
 * one value, one staged record, keys 1..6 with a blob on even keys. */
static uint8_t *version1_file(size_t *len)
{
    uint8_t *b = rt_xcalloc(1, 1024), *p = b + 16;
#define PUT(v, n) do { uint64_t v_ = (v); for (int i_ = 0; i_ < (n); i_++) *p++ = (uint8_t)(v_ >> (8 * i_)); } while (0)
    PUT(5, 8); PUT(4, 4); PUT(0, 4); PUT(3, 4); PUT(1, 4); PUT(1, 4); PUT(0, 4);
    uint8_t *offs = p;
    p += 32;
    size_t values = (size_t)(p - b);
    PUT(1, 1); PUT(13, 1); memcpy(p, "source.offset", 13); p += 13; PUT(42, 8);
    size_t staged = (size_t)(p - b);
    PUT(7, 8); PUT(8, 8); PUT(9, 8);
    size_t index = (size_t)(p - b);
    p += 4 * 24;
    size_t keyed = (size_t)(p - b);
    for (uint32_t g = 0; g < 4; g++) {
        uint8_t *start = p;
        uint32_t count = 0;
        for (uint64_t key = 1; key <= 6; key++) {
            if (eng_key_group(key, 4) != g)
                continue;
            PUT(key, 8); PUT(key * 100, 8); PUT(key % 2 ? 0 : key, 4);
            for (uint64_t i = 0; key % 2 == 0 && i < key; i++)
                PUT(key, 1);
            count++;
        }
        uint8_t *at = b + index + g * 24, *save = p;
        p = at;
        PUT((uint64_t)(start - b), 8); PUT((uint64_t)(save - start), 8); PUT(count, 4);
        p = save;
    }
    *len = (size_t)(p - b) + 8;
    p = offs;
    PUT(values, 8); PUT(staged, 8); PUT(index, 8); PUT(keyed, 8);
    p = b;
    memcpy(p, "MCCK", 4);
    p += 4;
    PUT(1, 2); PUT(1, 2); PUT(*len, 8);
#undef PUT
    reseal(b, *len);
    return b;
}

static void test_version1(void **state)
{
    size_t len;
    uint8_t *buf = version1_file(&len);
    struct eng_kstate *ks = eng_kstate_new(4);
    struct eng_snap_state out;
    int rc = eng_snapshot_decode(buf, len, "chk-5/v1.state", 0, 3, ks, &out, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(eng_kstate_count(ks), 6);
    for (uint64_t key = 1; key <= 6; key++) {
        assert_true(*eng_kstate_get(ks, key) == (int64_t)key * 100);
        uint32_t blen;
        const uint8_t *blob = eng_kstate_get_blob(ks, key, &blen);
        assert_int_equal(blen, key % 2 ? 0 : key);
        for (uint32_t i = 0; i < blen; i++)
            assert_int_equal(blob[i], key);
    }
    uint64_t off;
    assert_int_equal(eng_snap_get_u64(&out, "source.offset", &off), 0);
    assert_true(off == 42 && out.n_staged == 1 && out.staged[0].ts == 9 && out.n_refs == 0);
    eng_snap_state_release(&out);
    eng_kstate_free(ks);
    rt_free(buf);
}

/* Encodes ks for checkpoint chk over every key group, referring to base. */
static uint8_t *encode_chk(const struct eng_kstate *ks, uint64_t chk,
                           const struct eng_snap_fileref *base, uint32_t n_base,
                           struct eng_snap_state *st, size_t *len)
{
    memset(st, 0, sizeof(*st));
    st->checkpoint_id = chk;
    st->max_parallelism = MAXP;
    st->kg_last = MAXP - 1;
    st->n_base = n_base;
    if (n_base)
        memcpy(st->base, base, n_base * sizeof(*base));
    uint8_t *buf;
    assert_int_equal(eng_snapshot_encode(st, ks, &buf, len), 0);
    return buf;
}

static struct eng_snap_fileref ref_to(uint64_t chk, const uint8_t *buf, size_t len)
{
    return (struct eng_snap_fileref){ chk, len, eng_snapshot_checksum(buf, len) };
}

static void test_incremental(void **state)
{
    /* 400 keys with a 200-byte blob each, as the ALLOC operator keeps. */
    struct eng_kstate *ks = eng_kstate_new(MAXP);
    uint8_t blob[200];
    for (uint64_t key = 1; key <= 400; key++) {
        memset(blob, (int)key, sizeof(blob));
        eng_kstate_put(ks, key, (int64_t)key);
        eng_kstate_put_blob(ks, key, blob, sizeof(blob));
    }
    struct eng_snap_state st1, st2, st3, out;
    size_t len1, len2, len3;
    uint8_t *f1 = encode_chk(ks, 1, NULL, 0, &st1, &len1);
    assert_int_equal(st1.n_refs, 0);
    assert_true(len1 > 400 * 200);

    /* Checkpoint 2 refers to 1 for the blobs that did not change. */
    for (uint64_t key = 1; key <= 10; key++) {
        memset(blob, 0xEE, sizeof(blob));
        eng_kstate_put_blob(ks, key, blob, sizeof(blob));    /* replaced */
    }
    eng_kstate_put_blob(ks, 1000, blob, 50);                 /* new */
    eng_kstate_add(ks, 20, 5);                                /* value only */
    struct eng_snap_fileref b1 = ref_to(1, f1, len1);
    uint8_t *f2 = encode_chk(ks, 2, &b1, 1, &st2, &len2);
    assert_int_equal(st2.n_refs, 1);
    assert_memory_equal(&st2.refs[0], &b1, sizeof(b1));
    assert_true(len2 < len1 / 5);

    struct eng_snap_file files[2] = {{1, f1, len1, "chk-1/v.state", 0}, {2, f2, len2, "chk-2/v.state", 0}};
    struct eng_kstate *back = eng_kstate_new(MAXP);
    int rc = eng_snapshot_decode_refs(f2, len2, "chk-2/v.state", 0, MAXP - 1, back, files, 1,
                                      &out, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_int_equal(out.n_refs, 1);
    assert_true(out.refs[0].checkpoint_id == 1);
    eng_snap_state_release(&out);
    assert_same_range(ks, back, 0, MAXP - 1);

    /* The restored state writes everything inline once more, and the same
     * bytes as a full snapshot of the live state. */
    struct eng_snap_state st_full;
    size_t len_back, len_full;
    uint8_t *fb = encode_chk(back, 2, NULL, 0, &st_full, &len_back);
    uint8_t *ff = encode_chk(back, 2, &b1, 1, &st_full, &len_full);
    assert_int_equal(st_full.n_refs, 0);
    assert_int_equal(len_back, len_full);
    assert_memory_equal(fb, ff, len_back);
    rt_free(fb);
    rt_free(ff);
    eng_kstate_free(back);

    /* Without the referred file, or with another in its place: no state. */
    back = eng_kstate_new(MAXP);
    assert_int_equal(eng_snapshot_decode_refs(f2, len2, "chk-2/v.state", 0, MAXP - 1, back,
                                              NULL, 0, &out, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "chk-2/v.state refers to the state file of checkpoint 1, which "
                             "was not found");
    /* Values and staged records need no referred file. */
    assert_int_equal(eng_snapshot_decode_refs(f2, len2, "chk-2/v.state", 0, MAXP - 1, NULL,
                                              NULL, 0, &out, err, sizeof(err)), 0);
    eng_snap_state_release(&out);
    f1[200] ^= 1;
    struct eng_snap_file bad = {1, f1, len1, "chk-1/v.state", 0};
    assert_int_equal(eng_snapshot_decode_refs(f2, len2, "chk-2/v.state", 0, MAXP - 1, back,
                                              &bad, 1, &out, err, sizeof(err)), -EBADMSG);
    assert_non_null(strstr(err, "checksum mismatch in chk-1/v.state: "));
    reseal(f1, len1);   /* whole again, but not the file chk-2 refers to */
    assert_int_equal(eng_snapshot_decode_refs(f2, len2, "chk-2/v.state", 0, MAXP - 1, back,
                                              &bad, 1, &out, err, sizeof(err)), -EBADMSG);
    if (!strstr(err, "where chk-2/v.state refers to"))
        fail_msg("%s", err);
    f1[200] ^= 1;
    reseal(f1, len1);
    /* A reference that misses its entry, re-sealed so the checksum passes. */
    uint8_t *f2x = rt_xmalloc(len2);
    memcpy(f2x, f2, len2);
    size_t at = len2 - 8 - 8;       /* the last entry of the last group: a reference */
    f2x[at] ^= 0x04;
    reseal(f2x, len2);
    eng_kstate_clear(back);
    rc = eng_snapshot_decode_refs(f2x, len2, "chk-2/v.state", 0, MAXP - 1, back, files, 1,
                                  &out, err, sizeof(err));
    assert_int_equal(rc, -EBADMSG);
    assert_non_null(strstr(err, "which does not hold its 200-byte blob"));
    rt_free(f2x);
    eng_kstate_free(back);

    /* Checkpoint 3, based on 2 (which refers to 1): once most of 1's blobs
     * are replaced, 1 is no longer worth keeping and 3 writes them all. */
    for (uint64_t key = 11; key <= 300; key++) {
        memset(blob, 0xDD, sizeof(blob));
        eng_kstate_put_blob(ks, key, blob, sizeof(blob));
    }
    struct eng_snap_fileref b2[2] = {ref_to(2, f2, len2), b1};
    uint8_t *f3 = encode_chk(ks, 3, b2, 2, &st3, &len3);
    assert_int_equal(st3.n_refs, 0);
    assert_true(len3 > 400 * 200);
    back = eng_kstate_new(MAXP);
    rc = eng_snapshot_decode(f3, len3, "chk-3/v.state", 0, MAXP - 1, back, &out, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    eng_snap_state_release(&out);
    assert_same_range(ks, back, 0, MAXP - 1);
    eng_kstate_free(back);

    /* Checkpoint 4 refers to 3 alone; 2 held no blob. */
    struct eng_snap_state st4;
    size_t len4;
    struct eng_snap_fileref b3[1] = {ref_to(3, f3, len3)};
    uint8_t *f4 = encode_chk(ks, 4, b3, 1, &st4, &len4);
    assert_int_equal(st4.n_refs, 1);
    assert_true(st4.refs[0].checkpoint_id == 3);
    rt_free(f4);

    rt_free(f3);
    rt_free(f2);
    rt_free(f1);
    eng_kstate_free(ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_and_encode_errors),
        cmocka_unit_test(test_sub_range_and_rescale),
        cmocka_unit_test(test_flipped_bytes),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_version1),
        cmocka_unit_test(test_incremental),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
