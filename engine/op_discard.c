/*
 * op_discard.c - the discarding sink: it drops every record and keeps only
 * how many it received and an additive digest of them (Flink's
 * DiscardingSink, with a receipt).
 *
 * It is the sink for measuring the pipeline in front of it: Flink's own
 * keyBy benchmark ends in a sink that does nothing, where the transactional
 * sink (op_sink.c) would fold every record into the output's tables.  A run
 * with it is still checked.  The count and the digest are operator state,
 * snapshotted and restored like any other, and once a checkpoint completes
 * the values it captured are published to the output as the subtask's
 * receipt (eng_output_publish).  eng_output_verify compares the receipts
 * with the reference model's: a record lost or processed twice across a
 * restore shows in the count, a wrong value in the digest.
 *
 *   digest = sum over records of digest_of(record), mod 2^64
 *
 * A sum does not depend on the order records arrive in, but the values a
 * keyed running aggregate emits do; so the reference model accepts a
 * DISCARD only where its input is one deterministic stream per subtask,
 * as for a WINDOW (reference.c).
 *
 * Snapshot values: "discard.subtask" (whose receipt this is),
 * "discard.records", "discard.digest".  The values of snapshots whose
 * checkpoint has not completed yet wait in a short list; notify_complete(m)
 * publishes the newest one taken at a checkpoint <= m and drops the rest up
 * to m.  When checkpoints stop completing the oldest entry makes room: a
 * later checkpoint's receipt supersedes it anyway.
 *
 * restore() takes the values of its own subtask's file, publishes them (that
 * checkpoint completed) and fences the subtask in the output, so a zombie
 * instance of the failed attempt cannot publish over it.  A file of another
 * subtask (a rescaled restore) is refused: its receipt would count twice.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/op_internal.h"
#include "engine/operator.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define DIGEST_VECTOR 1     /* AVX-512 digest, taken where the CPU has it */
#endif

#define DISCARD_SUBTASK_VALUE "discard.subtask"
#define DISCARD_RECORDS_VALUE "discard.records"
#define DISCARD_DIGEST_VALUE "discard.digest"
#define DISCARD_PENDING_MAX 16
#define DIGEST_MUL 0xD6E8FEB86659FD93ull   /* odd: x -> x * DIGEST_MUL is a bijection */
#define DIGEST_MUL2 0x9E3779B97F4A7C15ull

/* A record's term of the digest.  Two multiplications rather than a full
 * mix (eng__mix64 takes three and would be a fifth of a keyed job's sink
 * thread): the key and the value each go through an odd multiplier, so a
 * change in either changes the term, and the xor-shift after the second
 * carries the high bits down, so terms of different records do not cancel
 * in the sum the way a linear function's would. */
static inline uint64_t digest_of(const struct eng_record *r)
{
    uint64_t t = (r->key * DIGEST_MUL ^ (uint64_t)r->value) * DIGEST_MUL2;
    return t ^ (t >> 31);
}

/*
 * The digest of a batch, eight records at a time where the CPU has
 * AVX-512DQ (a 64-bit multiply per lane): the 24 quadwords of eight records
 * are three 64-byte loads, and two permutes each pick out the keys and the
 * values.  The terms are exactly digest_of's.  On the reference machine the
 * scalar loop costs ~1.05 ns/record, a seventh of a keyed job's sink
 * thread, the vector one ~0.3.
 */
#ifdef DIGEST_VECTOR
_Static_assert(sizeof(struct eng_record) == 24 && offsetof(struct eng_record, key) == 0 &&
               offsetof(struct eng_record, value) == 8, "digest_avx512 reads records as 3 x u64");

__attribute__((target("avx512f,avx512dq")))
static uint64_t digest_avx512(const struct eng_record *r, uint32_t n, uint32_t *done)
{
    const __m512i keys_ab = _mm512_setr_epi64(0, 3, 6, 9, 12, 15, 0, 0);
    const __m512i keys_c = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 10, 13);
    const __m512i values_ab = _mm512_setr_epi64(1, 4, 7, 10, 13, 0, 0, 0);
    const __m512i values_c = _mm512_setr_epi64(0, 1, 2, 3, 4, 8, 11, 14);
    const __m512i mul = _mm512_set1_epi64((long long)DIGEST_MUL);
    const __m512i mul2 = _mm512_set1_epi64((long long)DIGEST_MUL2);
    __m512i acc = _mm512_setzero_si512();
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint64_t *q = (const uint64_t *)(const void *)&r[i];
        __m512i a = _mm512_loadu_si512(q), b = _mm512_loadu_si512(q + 8);
        __m512i c = _mm512_loadu_si512(q + 16);
        __m512i key = _mm512_permutex2var_epi64(_mm512_permutex2var_epi64(a, keys_ab, b),
                                                keys_c, c);
        __m512i value = _mm512_permutex2var_epi64(_mm512_permutex2var_epi64(a, values_ab, b),
                                                  values_c, c);
        __m512i t = _mm512_mullo_epi64(_mm512_xor_si512(_mm512_mullo_epi64(key, mul), value),
                                       mul2);
        acc = _mm512_add_epi64(acc, _mm512_xor_si512(t, _mm512_srli_epi64(t, 31)));
    }
    *done = i;
    /* Not _mm512_reduce_add_epi64: GCC's adds its lanes as signed long
     * long, which overflows (UBSan says so); the digest wraps. */
    uint64_t lane[8], sum = 0;
    _mm512_storeu_si512(lane, acc);
    for (int k = 0; k < 8; k++)
        sum += lane[k];
    return sum;
}
#endif

uint64_t eng__discard_digest(const struct eng_record *r, uint32_t n, bool vector)
{
    uint64_t sum = 0;
    uint32_t i = 0;
#ifdef DIGEST_VECTOR
    if (vector && n >= 8 && __builtin_cpu_supports("avx512dq"))
        sum = digest_avx512(r, n, &i);
#else
    (void)vector;
#endif
    for (; i < n; i++)
        sum += digest_of(&r[i]);
    return sum;
}

bool eng__discard_digest_vectorised(void)
{
#ifdef DIGEST_VECTOR
    return __builtin_cpu_supports("avx512dq");
#else
    return false;
#endif
}

struct receipt {
    uint64_t chk, records, digest;
};

struct discard_op {
    struct eng_op base;
    uint64_t records, digest;
    uint64_t restored;      /* checkpoint restored from, 0 for none */
    uint32_t epoch;         /* from eng_output_fence; 0 until fenced */
    struct receipt pending[DISCARD_PENDING_MAX];    /* ascending chk */
    uint32_t n_pending;
};

/* Publishes r, fencing the subtask first if this instance has not yet. */
static int publish(struct discard_op *d, const struct receipt *r)
{
    struct eng_op *op = &d->base;
    if (!op->env.output)
        return 0;   /* the reference model reads the receipt itself */
    if (!d->epoch)
        d->epoch = eng_output_fence(op->env.output, op->env.vertex, op->env.subtask,
                                    d->restored, NULL);
    int rc = eng_output_publish(op->env.output, op->env.vertex, op->env.subtask, d->epoch,
                                r->chk, r->records, r->digest);
    if (rc == -ESTALE)
        return eng__op_fail(op, rc, "fenced off: a newer instance of discard subtask %u has "
                            "taken over its receipt (this one is left over from a failed "
                            "attempt)", op->env.subtask);
    return rc;
}

static int discard_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                           struct eng_rvec *out, uint64_t *stall_ns)
{
    struct discard_op *d = (struct discard_op *)op;
    d->digest += eng__discard_digest(in, n, true);
    d->records += n;
    return 0;
}

static int discard_snapshot(struct eng_op *op, struct eng_snap_state *st,
                            struct eng_kstate **ks)
{
    struct discard_op *d = (struct discard_op *)op;
    *ks = NULL;
    int rc = eng_snap_set_u64(st, DISCARD_SUBTASK_VALUE, op->env.subtask);
    if (rc == 0)
        rc = eng_snap_set_u64(st, DISCARD_RECORDS_VALUE, d->records);
    if (rc == 0)
        rc = eng_snap_set_u64(st, DISCARD_DIGEST_VALUE, d->digest);
    if (rc < 0)
        return eng__op_fail(op, rc, "checkpoint %llu: cannot store the receipt",
                            (unsigned long long)st->checkpoint_id);
    if (d->n_pending == DISCARD_PENDING_MAX) {
        memmove(d->pending, d->pending + 1, (DISCARD_PENDING_MAX - 1) * sizeof(*d->pending));
        d->n_pending--;
    }
    d->pending[d->n_pending++] = (struct receipt){ st->checkpoint_id, d->records, d->digest };
    return 0;
}

static void discard_notify(struct eng_op *op, uint64_t m)
{
    struct discard_op *d = (struct discard_op *)op;
    uint32_t done = 0;
    while (done < d->n_pending && d->pending[done].chk <= m)
        done++;
    if (done && publish(d, &d->pending[done - 1]) < 0)
        return;     /* the instance has failed; the error says why */
    memmove(d->pending, d->pending + done, (d->n_pending - done) * sizeof(*d->pending));
    d->n_pending -= done;
}

static int discard_restore(struct eng_op *op, const struct eng_snap_state *st)
{
    struct discard_op *d = (struct discard_op *)op;
    uint64_t chk = st->checkpoint_id, owner, records, digest;
    if (eng_snap_get_u64(st, DISCARD_SUBTASK_VALUE, &owner) < 0 ||
        eng_snap_get_u64(st, DISCARD_RECORDS_VALUE, &records) < 0 ||
        eng_snap_get_u64(st, DISCARD_DIGEST_VALUE, &digest) < 0)
        return eng__op_fail(op, -EBADMSG, "checkpoint %llu: the state has no receipt (%s, "
                            "%s and %s)", (unsigned long long)chk, DISCARD_SUBTASK_VALUE,
                            DISCARD_RECORDS_VALUE, DISCARD_DIGEST_VALUE);
    if (owner != op->env.subtask)
        return eng__op_fail(op, -ENOTSUP, "checkpoint %llu: restoring the receipt of subtask "
                            "%llu into subtask %u (a rescaled restore) would count it twice",
                            (unsigned long long)chk, (unsigned long long)owner,
                            op->env.subtask);
    d->records = records;
    d->digest = digest;
    d->n_pending = 0;
    d->restored = chk;
    d->epoch = 0;   /* fence anew: this instance takes the subtask over */
    return publish(d, &(struct receipt){ chk, records, digest });
}

static const struct eng_op_ops discard_ops = {
    .process = discard_process,
    .snapshot = discard_snapshot,
    .restore = discard_restore,
    .notify_complete = discard_notify,
    .free = eng__op_free_none,
};

struct eng_op *eng__op_discard_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                   char *err, size_t errlen)
{
    if (!env->output && !env->reference) {
        snprintf(err, errlen, "discard '%s': no output to publish its receipt to "
                 "(env.output is NULL)", v->name);
        return NULL;
    }
    return eng__op_alloc(sizeof(struct discard_op), &discard_ops, v, env);
}

void eng__op_discard_receipt(const struct eng_op *op, uint64_t *records, uint64_t *digest)
{
    const struct discard_op *d = (const struct discard_op *)op;
    *records = d->records;
    *digest = d->digest;
}
