/*
 * op_source.c - the replayable sources, SOURCE_SEQUENCE and SOURCE_RANDOM.
 *
 * A source's whole state is its position: the number of records this
 * subtask has emitted (snapshot value "source.offset").  Every record is a
 * pure function of (args, parallelism, subtask, position), so a restore at
 * offset k emits exactly what the first run emitted from k on.  For subtask
 * s of parallelism p, local record i has the global index g = i * p + s
 * (the subtasks interleave into 0, 1, 2, ... as if one source):
 *
 *   SOURCE_SEQUENCE  key = g % keys (g when keys is 0), value = g, ts = g
 *   SOURCE_RANDOM    h = mix(mix(seed + s * C) + i * C'), key = h % keys
 *                    (h when keys is 0), value = (h >> 32) % 1000, ts = g
 *
 * Event time is "one millisecond per global record": per key it only grows
 * along one subtask's output, which is what WINDOW needs.  Values are never
 * negative, so every running aggregate downstream only grows.
 *
 * Rate limiting (args.rate records/s per subtask, 0 = none): the first
 * produce() after open or restore fixes an origin t0 and the position k0
 * there; record k0 + j is due at t0 + ceil(j * 1e9 / rate).  Due records
 * leave in batches sized by time, as Flink's network buffers ship them: a
 * batch goes when a full one (ENG_BATCH_CAP, or what is left of a bounded
 * source) is due, or when its oldest record has waited ENG_SRC_LINGER_NS,
 * whichever comes first.  Otherwise produce() returns ENG_SRC_WAIT with
 * exactly that time.  One event per batch instead of one per record is
 * what lets the sim world run a 300k records/s job far faster than real
 * time; the records, their order and the offsets are the same.
 * Arithmetic is split into seconds and remainder so that nothing overflows
 * for rates below 2^34/s over any run length.
 *
 * Bounded by args.records per subtask (0 = unbounded): once the position
 * reaches it, produce() returns ENG_SRC_END.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>

#include "engine/op_internal.h"
#include "engine/operator.h"
#include "mc_config.h"

#define SRC_OFFSET_VALUE "source.offset"
#define NS_PER_SEC 1000000000ull
#define SRC_SUBTASK_MUL 0xD1B54A32D192ED03ull  /* spreads subtasks apart in the hash */
#define SRC_INDEX_MUL 0x9E3779B97F4A7C15ull    /* golden ratio: consecutive i far apart */

struct source_op {
    struct eng_op base;
    uint64_t pos;           /* records emitted so far by this subtask */
    uint64_t subtask_seed;  /* SOURCE_RANDOM: mix(seed + s * C), fixed per instance */
    bool have_origin;       /* rate limit origin fixed */
    uint64_t t0_ns, k0;     /* origin: time and position */
};

/* Records the rate allows between the origin and elapsed_ns later, inclusive
 * of the one at the origin: floor(elapsed * rate / 1e9) + 1. */
static uint64_t rate_allowed(uint64_t rate, uint64_t elapsed_ns)
{
    uint64_t secs = elapsed_ns / NS_PER_SEC, rem = elapsed_ns % NS_PER_SEC;
    return secs * rate + rem * rate / NS_PER_SEC + 1;
}

/* Time after the origin at which record j (0-based since the origin) is due:
 * ceil(j * 1e9 / rate). */
static uint64_t rate_due_ns(uint64_t rate, uint64_t j)
{
    uint64_t secs = j / rate, rem = j % rate;
    return secs * NS_PER_SEC + (rem * NS_PER_SEC + rate - 1) / rate;
}

/* Sequence records pos .. pos+n-1 of subtask s of p: g = i * p + s, key
 * g % keys.  The key steps by p % keys and wraps instead of being divided
 * out per record: a 64-bit division was most of the loop. */
static void fill_sequence(struct eng_record *r, uint32_t n, uint64_t pos, uint64_t p,
                          uint64_t s, uint64_t keys)
{
    uint64_t g = pos * p + s;
    if (!keys) {
        for (uint32_t j = 0; j < n; j++, g += p)
            r[j] = (struct eng_record){ .key = g, .value = (int64_t)g, .ts = (int64_t)g };
        return;
    }
    uint64_t key = g % keys, step = p % keys;
    for (uint32_t j = 0; j < n; j++, g += p) {
        r[j] = (struct eng_record){ .key = key, .value = (int64_t)g, .ts = (int64_t)g };
        key = key >= keys - step ? key - (keys - step) : key + step;    /* (key + step) % keys */
    }
}

static void fill(struct source_op *so, struct eng_record *r, uint32_t n)
{
    const struct eng_op_args *a = &so->base.vertex->args;
    uint64_t p = so->base.env.parallelism, s = so->base.env.subtask;
    bool seq = so->base.vertex->kind == ENG_OP_SOURCE_SEQUENCE;
    if (seq) {
        fill_sequence(r, n, so->pos, p, s, a->keys);
        return;
    }
    for (uint32_t j = 0; j < n; j++) {
        uint64_t i = so->pos + j, g = i * p + s;
        uint64_t h = eng__mix64(so->subtask_seed + i * SRC_INDEX_MUL);
        r[j].key = a->keys ? h % a->keys : h;
        r[j].value = (int64_t)((h >> 32) % 1000);
        r[j].ts = (int64_t)g;
    }
}

/* Emits the next batch; see operator.h.  Never fails. */
static enum eng_src_status source_produce(struct eng_op *op, uint64_t now_ns,
                                          struct eng_batch *out, uint64_t *wake_at_ns)
{
    struct source_op *so = (struct source_op *)op;
    const struct eng_op_args *a = &op->vertex->args;
    out->n = 0;
    uint64_t want = ENG_BATCH_CAP;
    if (a->records) {
        if (so->pos >= a->records)
            return ENG_SRC_END;
        if (a->records - so->pos < want)
            want = a->records - so->pos;
    }
    if (a->rate) {
        if (!so->have_origin) {
            so->have_origin = true;
            so->t0_ns = now_ns;
            so->k0 = so->pos;
        }
        uint64_t done = so->pos - so->k0;
        uint64_t allowed = now_ns >= so->t0_ns ? rate_allowed(a->rate, now_ns - so->t0_ns) : 0;
        uint64_t oldest_due = so->t0_ns + rate_due_ns(a->rate, done);
        if (allowed < done + want &&
            (allowed <= done || now_ns - oldest_due < ENG_SRC_LINGER_NS)) {
            /* Not a full batch yet, and nothing due has waited long enough. */
            uint64_t full_due = so->t0_ns + rate_due_ns(a->rate, done + want - 1);
            uint64_t linger_end = oldest_due + ENG_SRC_LINGER_NS;
            *wake_at_ns = full_due < linger_end ? full_due : linger_end;
            return ENG_SRC_WAIT;
        }
        if (allowed - done < want)
            want = allowed - done;
    }
    fill(so, out->rec, (uint32_t)want);
    out->n = (uint32_t)want;
    so->pos += want;
    return ENG_SRC_MORE;
}

static int source_snapshot(struct eng_op *op, struct eng_snap_state *st,
                           struct eng_kstate **ks)
{
    struct source_op *so = (struct source_op *)op;
    *ks = NULL;
    int rc = eng_snap_set_u64(st, SRC_OFFSET_VALUE, so->pos);
    if (rc < 0)
        return eng__op_fail(op, rc, "cannot store %s in checkpoint %llu", SRC_OFFSET_VALUE,
                            (unsigned long long)st->checkpoint_id);
    return 0;
}

/* Resumes at the stored offset; a state without one starts from 0 (a
 * source added to the job since).  The rate origin restarts too: a restored
 * source does not burst to catch up on the time it was down. */
static int source_restore(struct eng_op *op, const struct eng_snap_state *st)
{
    struct source_op *so = (struct source_op *)op;
    uint64_t off = 0;
    (void)eng_snap_get_u64(st, SRC_OFFSET_VALUE, &off);
#if MC_PLANTED_BUG_SOURCE_OFFSET
    /* Planted bug (meson -Dplanted_bug=source-offset, never in a release):
     * resume one record late, so every restore loses a record per subtask. */
    off++;
#endif
    so->pos = off;
    so->have_origin = false;
    return 0;
}

static const struct eng_op_ops source_ops = {
    .produce = source_produce,
    .snapshot = source_snapshot,
    .restore = source_restore,
    .notify_complete = eng__op_notify_none,
    .free = eng__op_free_none,
};

struct eng_op *eng__op_source_new(const struct eng_vertex *v, const struct eng_op_env *env,
                                  char *err, size_t errlen)
{
    struct source_op *so =
        (struct source_op *)eng__op_alloc(sizeof(*so), &source_ops, v, env);
    so->subtask_seed = eng__mix64(v->args.seed + (uint64_t)env->subtask * SRC_SUBTASK_MUL);
    return &so->base;
}
