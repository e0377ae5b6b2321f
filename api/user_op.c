/*
 * user_op.c - user-defined operators (include/minicluster/operator.h) on the
 * engine's own operator contract (engine/operator.h).
 *
 * mc_register_operator copies the user's vtable into an entry that lives
 * for the process and registers an engine kind (ENG_OP_USER_*) whose create
 * builds a struct user_op: a struct eng_op first, then the user's vtable,
 * the context handed to every callback, and self.  The adapter's engine
 * callbacks translate:
 *   produce  -> the user's produce into the task's batch (mc_emit appends);
 *   process  -> the user's process into the output vector, then checks the
 *               shape's promise (a map emits one per input, a filter a
 *               subsequence of its input);
 *   snapshot -> the keyed state to the engine (KEYED), and the opaque bytes
 *               the user's snapshot wrote as the file's staged records (24
 *               bytes each) with their length in value "user.bytes": the
 *               state file format carries them, checksummed, unchanged;
 *   restore  -> those bytes back to the user's restore (the engine has
 *               loaded the keyed state already);
 *   notify   -> commit; free -> close.
 * A negative return from a user callback becomes the operator's error
 * ("user operator 'x' subtask S attempt A: <the user's message>"), which
 * fails the task exactly as a built-in's failure does.
 *
 * Threads: an instance's callbacks run on its task's node thread (or the
 * caller's, inside eng_reference), one at a time; the context is per
 * instance, so nothing here is shared but the read-only registry entries.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kstate.h"
#include "engine/operator.h"
#include "minicluster/operator.h"
#include "runtime/rt_mem.h"
#include "api/api_internal.h"

#define SNAP_BYTES_MAX (64u << 20)      /* opaque state per subtask and checkpoint */
#define SNAP_LEN_VALUE "user.bytes"     /* the opaque state's length, in the state file */
#define IDLE_WAIT_NS 1000000ull         /* a source that emitted nothing: 1 ms */

_Static_assert(sizeof(struct mc_record) == sizeof(struct eng_record) &&
               offsetof(struct mc_record, key) == offsetof(struct eng_record, key) &&
               offsetof(struct mc_record, value) == offsetof(struct eng_record, value) &&
               offsetof(struct mc_record, ts) == offsetof(struct eng_record, ts),
               "a user record is an engine record");

/* A registered operator: lives until the process ends. */
struct op_entry {
    struct eng_user_kind uk;            /* uk.arg points back here */
    struct mc_operator def;             /* def.name points at name */
    char name[MC_OP_NAME_MAX];
};

enum phase { PH_IDLE, PH_PROCESS, PH_PRODUCE, PH_SNAPSHOT };

struct mc_op_ctx {
    struct user_op *u;
    enum phase phase;
    struct eng_rvec *out;               /* PH_PROCESS: where emits go */
    struct eng_batch *batch;            /* PH_PRODUCE: where emits go */
    uint32_t max;                       /* PH_PRODUCE: the most it may emit */
    uint8_t *snap;                      /* PH_SNAPSHOT: the bytes written so far */
    size_t snap_len, snap_cap;
    char err[200];
};

struct user_op {
    struct eng_op base;                 /* first: a struct eng_op * converts */
    const struct op_entry *e;
    struct mc_op_ctx ctx;
    bool opened;                        /* open succeeded: close is owed */
    void *self;                         /* e->def.self_size bytes after the struct */
};

static struct user_op *user_of(struct eng_op *op) { return (struct user_op *)op; }

/* The operator's error, in the engine's form, from the user's message. */
static int op_failed(struct user_op *u, int rc, const char *callback)
{
    const char *msg = u->ctx.err[0] ? u->ctx.err : strerror(rc < 0 ? -rc : EINVAL);
    snprintf(u->base.error, sizeof(u->base.error), "user operator '%s' subtask %u attempt %u: "
             "%s%s%.150s", u->e->name, u->base.env.subtask, u->base.env.attempt,
             u->ctx.err[0] ? "" : callback, u->ctx.err[0] ? "" : " returned: ", msg);
    return rc < 0 ? rc : -EINVAL;
}

static int ctx_fail(struct mc_op_ctx *ctx, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ctx_fail(struct mc_op_ctx *ctx, int rc, const char *fmt, ...)
{
    if (!ctx)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- the engine's callbacks ------------------------------------------------- */

static enum eng_src_status user_produce(struct eng_op *op, uint64_t now_ns,
                                        struct eng_batch *out, uint64_t *wake_at_ns)
{
    struct user_op *u = user_of(op);
    struct mc_op_ctx *c = &u->ctx;
    out->n = 0;
    c->phase = PH_PRODUCE;
    c->batch = out;
    c->max = ENG_BATCH_CAP;
    int rc = u->e->def.produce(c, u->self, ENG_BATCH_CAP);
    c->phase = PH_IDLE;
    c->batch = NULL;
    if (rc < 0) {
        op_failed(u, rc, "produce");
        return ENG_SRC_ERROR;
    }
    if (rc == MC_SOURCE_END && out->n == 0)
        return ENG_SRC_END;
    /* Records emitted with END go out first; END comes with the next call. */
    if (out->n > 0)
        return ENG_SRC_MORE;
    *wake_at_ns = now_ns + IDLE_WAIT_NS;
    return ENG_SRC_WAIT;
}

/* Whether out[0..m-1] is in[0..n-1] with some records left out, in order. */
static bool is_subsequence(const struct eng_record *out, uint32_t m, const struct eng_record *in,
                           uint32_t n)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < n && j < m; i++)
        if (memcmp(&in[i], &out[j], sizeof(*in)) == 0)
            j++;
    return j == m;
}

static int user_process(struct eng_op *op, const struct eng_record *in, uint32_t n,
                        struct eng_rvec *out, uint64_t *stall_ns)
{
    struct user_op *u = user_of(op);
    struct mc_op_ctx *c = &u->ctx;
    uint32_t before = out->n;
    c->phase = PH_PROCESS;
    c->out = out;
    int rc = u->e->def.process(c, u->self, (const struct mc_record *)in, n);
    c->phase = PH_IDLE;
    c->out = NULL;
    if (rc < 0)
        return op_failed(u, rc, "process");
    uint32_t m = out->n - before;
    switch (u->e->def.shape) {
    case MC_SHAPE_MAP:
        if (m != n)
            return op_failed(u, ctx_fail(c, -EPROTO, "a map emitted %u records for %u "
                                         "(one per record; use MC_SHAPE_FLATMAP)", m, n),
                             "process");
        break;
    case MC_SHAPE_FILTER:
        if (!is_subsequence(out->rec + before, m, in, n))
            return op_failed(u, ctx_fail(c, -EPROTO, "a filter emitted a record it did not "
                                         "receive, or out of order (use MC_SHAPE_FLATMAP)"),
                             "process");
        break;
    default:
        break;
    }
    return 0;
}

static int user_snapshot(struct eng_op *op, struct eng_snap_state *st, struct eng_kstate **ks)
{
    struct user_op *u = user_of(op);
    struct mc_op_ctx *c = &u->ctx;
    *ks = op->kstate;
    st->n_staged = 0;
    st->staged = NULL;
    if (!u->e->def.snapshot)
        return 0;
    c->phase = PH_SNAPSHOT;
    c->snap_len = 0;
    int rc = u->e->def.snapshot(c, u->self, st->checkpoint_id);
    c->phase = PH_IDLE;
    if (rc < 0)
        return op_failed(u, rc, "snapshot");
    if (c->snap_len == 0)
        return 0;
    /* Pad to whole records; the length value says where the bytes end.  The
     * task copies the records before this returns (task_out.c). */
    size_t nrec = (c->snap_len + sizeof(struct eng_record) - 1) / sizeof(struct eng_record);
    memset(c->snap + c->snap_len, 0, nrec * sizeof(struct eng_record) - c->snap_len);
    st->staged = (struct eng_record *)(void *)c->snap;
    st->n_staged = (uint32_t)nrec;
    return eng_snap_set_u64(st, SNAP_LEN_VALUE, c->snap_len);
}

static int user_restore(struct eng_op *op, const struct eng_snap_state *st)
{
    struct user_op *u = user_of(op);
    if (!u->e->def.restore)
        return 0;
    uint64_t len = 0;
    if (eng_snap_get_u64(st, SNAP_LEN_VALUE, &len) < 0)
        len = 0;
    if (len > (uint64_t)st->n_staged * sizeof(struct eng_record)) {
        snprintf(op->error, sizeof(op->error), "user operator '%s': the state file says %llu "
                 "bytes of state but holds %zu", u->e->name, (unsigned long long)len,
                 (size_t)st->n_staged * sizeof(struct eng_record));
        return -EBADMSG;
    }
    int rc = u->e->def.restore(&u->ctx, u->self, len ? (const void *)st->staged : NULL,
                               (size_t)len);
    return rc < 0 ? op_failed(u, rc, "restore") : 0;
}

static void user_notify(struct eng_op *op, uint64_t checkpoint_id)
{
    struct user_op *u = user_of(op);
    if (u->e->def.commit)
        u->e->def.commit(&u->ctx, u->self, checkpoint_id);
}

static void user_free(struct eng_op *op)
{
    struct user_op *u = user_of(op);
    if (u->opened && u->e->def.close)
        u->e->def.close(&u->ctx, u->self);
    rt_free(u->ctx.snap);
}

static const struct eng_op_ops source_ops = {
    .produce = user_produce, .snapshot = user_snapshot, .restore = user_restore,
    .notify_complete = user_notify, .free = user_free,
};
static const struct eng_op_ops process_ops = {
    .process = user_process, .snapshot = user_snapshot, .restore = user_restore,
    .notify_complete = user_notify, .free = user_free,
};

#define SELF_ALIGN 16u

static struct eng_op *user_create(const struct eng_user_kind *uk, const struct eng_vertex *v,
                                  const struct eng_op_env *env, char *err, size_t errlen)
{
    const struct op_entry *e = uk->arg;
    size_t head = (sizeof(struct user_op) + SELF_ALIGN - 1) / SELF_ALIGN * SELF_ALIGN;
    struct eng_op *op = eng_op_alloc(head + e->def.self_size,
                                     e->def.shape == MC_SHAPE_SOURCE ? &source_ops : &process_ops,
                                     v, env);
    struct user_op *u = user_of(op);
    u->e = e;
    u->ctx.u = u;
    u->self = e->def.self_size ? (char *)u + head : NULL;
    if (v->kind == ENG_OP_USER_KEYED)
        op->kstate = eng_kstate_new(env->max_parallelism ? env->max_parallelism
                                                         : v->max_parallelism);
    if (e->def.open) {
        int rc = e->def.open(&u->ctx, u->self);
        if (rc < 0) {
            op_failed(u, rc, "open");
            snprintf(err, errlen, "%s", op->error);
            eng_op_free(op);
            return NULL;
        }
    }
    u->opened = true;
    return op;
}

/* ---- registration ----------------------------------------------------------- */

/* Words of the pipeline language: a user operator may not hide them. */
static const char *const reserved[] = {
    "source", "sequence", "random", "map", "filter", "flatmap", "keyby", "count", "sum",
    "reduce", "window", "sink", "fail", "stall", "burn", "alloc", "discard", "parallelism",
    "max-parallelism", "state", "checkpoint-bytes", NULL,
};

static int check_name(const char *name)
{
    if (!name || !*name)
        return api_fail(NULL, -EINVAL, "mc_register_operator: the operator has no name");
    size_t len = strlen(name);
    if (len >= MC_OP_NAME_MAX)
        return api_fail(NULL, -EINVAL, "mc_register_operator: name '%.60s...' is longer than "
                        "%d characters", name, MC_OP_NAME_MAX - 1);
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        bool ok = ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (i > 0 && ch >= '0' && ch <= '9');
        if (!ok)
            return api_fail(NULL, -EINVAL, "mc_register_operator: name '%s': character %zu "
                            "('%c') is not a letter, digit or '_' (names are "
                            "[A-Za-z_][A-Za-z0-9_]*)", name, i + 1, ch);
    }
    for (size_t i = 0; reserved[i]; i++)
        if (strcmp(reserved[i], name) == 0)
            return api_fail(NULL, -EINVAL, "mc_register_operator: '%s' is a built-in word of "
                            "the pipeline language; choose another name", name);
    return 0;
}

static enum eng_op_kind kind_of(enum mc_op_shape s)
{
    switch (s) {
    case MC_SHAPE_SOURCE: return ENG_OP_USER_SOURCE;
    case MC_SHAPE_KEYED: return ENG_OP_USER_KEYED;
    case MC_SHAPE_SINK: return ENG_OP_USER_SINK;
    default: return ENG_OP_USER;
    }
}

int mc_register_operator(const struct mc_operator *op)
{
    if (!op)
        return api_fail(NULL, -EINVAL, "mc_register_operator: NULL operator");
    int rc = check_name(op->name);
    if (rc < 0)
        return rc;
    if ((unsigned)op->shape > MC_SHAPE_SINK)
        return api_fail(NULL, -EINVAL, "mc_register_operator: '%s' has unknown shape %d",
                        op->name, (int)op->shape);
    if (op->shape == MC_SHAPE_SOURCE ? !op->produce : !op->process)
        return api_fail(NULL, -EINVAL, "mc_register_operator: '%s' has a NULL %s callback "
                        "(required for its shape)", op->name,
                        op->shape == MC_SHAPE_SOURCE ? "produce" : "process");
    if (op->shape == MC_SHAPE_SOURCE && op->process)
        return api_fail(NULL, -EINVAL, "mc_register_operator: source '%s' sets process; a "
                        "source sets produce only", op->name);
    if (op->shape != MC_SHAPE_SOURCE && op->produce)
        return api_fail(NULL, -EINVAL, "mc_register_operator: '%s' is not a source but sets "
                        "produce", op->name);
    if (eng_user_kind_find(op->name))
        return api_fail(NULL, -EEXIST, "mc_register_operator: an operator named '%s' is "
                        "already registered", op->name);
    struct op_entry *e = calloc(1, sizeof(*e));
    if (!e)
        return api_fail(NULL, -ENOMEM, "mc_register_operator: out of memory");
    snprintf(e->name, sizeof(e->name), "%s", op->name);
    e->def = *op;
    e->def.name = e->name;
    e->uk = (struct eng_user_kind){ .name = e->name, .kind = kind_of(op->shape),
                                    .create = user_create, .arg = e };
    rc = eng_user_kind_register(&e->uk);
    if (rc < 0) {
        free(e);
        return api_fail(NULL, rc, "mc_register_operator: '%s': %s", op->name,
                        rc == -EEXIST ? "already registered" :
                        rc == -ENOSPC ? "too many operators registered (256)" : "invalid");
    }
    return 0;      /* e is the registry's now, for the life of the process */
}

/* ---- what callbacks may call ------------------------------------------------ */

int mc_emit(struct mc_op_ctx *ctx, const struct mc_record *r)
{
    if (!ctx || !r)
        return ctx_fail(ctx, -EINVAL, "mc_emit: NULL record");
    if (ctx->phase == PH_PRODUCE) {
        if (ctx->batch->n >= ctx->max)
            return ctx_fail(ctx, -ENOSPC, "mc_emit: a source emits at most %u records per "
                            "produce call", ctx->max);
        memcpy(&ctx->batch->rec[ctx->batch->n++], r, sizeof(*r));
        return 0;
    }
    if (ctx->phase != PH_PROCESS || ctx->u->e->def.shape == MC_SHAPE_SINK)
        return ctx_fail(ctx, -EPERM, "mc_emit: '%s' may emit only inside %s", ctx->u->e->name,
                        ctx->u->e->def.shape == MC_SHAPE_SINK ? "nothing (it is a sink)" :
                        "process or produce");
    memcpy(eng_rvec_extend(ctx->out, 1), r, sizeof(*r));
    return 0;
}

/* 0 and *ks, the keyed state that holds key; or -EPERM (no keyed context),
 * -EXDEV (another subtask's key), -EINVAL (no ctx), with the reason on ctx.
 * Callers start ks at NULL: gcc -O3 cannot prove it is set on 0. */
static int keyed(struct mc_op_ctx *ctx, uint64_t key, const char *fn, struct eng_kstate **ks)
{
    if (!ctx)
        return -EINVAL;
    struct user_op *u = ctx->u;
    if (u->e->def.shape != MC_SHAPE_KEYED || ctx->phase != PH_PROCESS || !u->base.kstate)
        return ctx_fail(ctx, -EPERM, "%s: no keyed context: '%s' is %s; keyed state is for "
                        "MC_SHAPE_KEYED operators, inside process", fn, u->e->name,
                        u->e->def.shape != MC_SHAPE_KEYED ? "not a keyed operator" :
                        "not inside process now");
    const struct eng_op_env *env = &u->base.env;
    uint32_t maxp = eng_kstate_max_parallelism(u->base.kstate);
    uint32_t owner = eng_key_group_subtask(eng_key_group(key, maxp), env->parallelism, maxp);
    if (owner != env->subtask)
        return ctx_fail(ctx, -EXDEV, "%s: key %llu belongs to subtask %u, not to this one "
                        "(%u): a keyed operator may touch only the keys that keyby sends it",
                        fn, (unsigned long long)key, owner, env->subtask);
    *ks = u->base.kstate;
    return 0;
}

int mc_state_get(struct mc_op_ctx *ctx, uint64_t key, int64_t *value)
{
    struct eng_kstate *ks = NULL;
    int rc = keyed(ctx, key, "mc_state_get", &ks);
    if (value)
        *value = 0;
    if (rc < 0)
        return rc;
    const int64_t *v = eng_kstate_get(ks, key);
    if (!v)
        return -ENOENT;
    if (value)
        *value = *v;
    return 0;
}

int mc_state_put(struct mc_op_ctx *ctx, uint64_t key, int64_t value)
{
    struct eng_kstate *ks = NULL;
    int rc = keyed(ctx, key, "mc_state_put", &ks);
    if (rc == 0)
        eng_kstate_put(ks, key, value);
    return rc;
}

int mc_state_get_bytes(struct mc_op_ctx *ctx, uint64_t key, const void **data, uint32_t *len)
{
    struct eng_kstate *ks = NULL;
    int rc = keyed(ctx, key, "mc_state_get_bytes", &ks);
    if (data)
        *data = NULL;
    if (len)
        *len = 0;
    if (rc < 0)
        return rc;
    if (!data || !len)
        return ctx_fail(ctx, -EINVAL, "mc_state_get_bytes: NULL data or len");
    *data = eng_kstate_get_blob(ks, key, len);
    return *data ? 0 : -ENOENT;
}

int mc_state_put_bytes(struct mc_op_ctx *ctx, uint64_t key, const void *data, uint32_t len)
{
    struct eng_kstate *ks = NULL;
    int rc = keyed(ctx, key, "mc_state_put_bytes", &ks);
    if (rc < 0)
        return rc;
    if (len && !data)
        return ctx_fail(ctx, -EINVAL, "mc_state_put_bytes: NULL data for %u bytes", len);
    eng_kstate_put_blob(ks, key, data, len);
    return 0;
}

int mc_state_remove(struct mc_op_ctx *ctx, uint64_t key)
{
    struct eng_kstate *ks = NULL;
    int rc = keyed(ctx, key, "mc_state_remove", &ks);
    if (rc < 0)
        return rc;
    return eng_kstate_remove(ks, key) ? 0 : -ENOENT;
}

int mc_snapshot_write(struct mc_op_ctx *ctx, const void *data, size_t len)
{
    if (!ctx)
        return -EINVAL;
    if (ctx->phase != PH_SNAPSHOT)
        return ctx_fail(ctx, -EPERM, "mc_snapshot_write: only inside snapshot");
    if (len && !data)
        return ctx_fail(ctx, -EINVAL, "mc_snapshot_write: NULL data for %zu bytes", len);
    if (len > SNAP_BYTES_MAX - ctx->snap_len)
        return ctx_fail(ctx, -EFBIG, "mc_snapshot_write: more than %u bytes of state in one "
                        "snapshot", SNAP_BYTES_MAX);
    /* Room for the padding to a whole record, too. */
    size_t need = ctx->snap_len + len + sizeof(struct eng_record);
    if (need > ctx->snap_cap) {
        size_t cap = ctx->snap_cap ? ctx->snap_cap : 256;
        while (cap < need)
            cap *= 2;
        ctx->snap = rt_xrealloc(ctx->snap, cap);
        ctx->snap_cap = cap;
    }
    memcpy(ctx->snap + ctx->snap_len, data, len);
    ctx->snap_len += len;
    return 0;
}

int64_t mc_op_param(const struct mc_op_ctx *ctx, const char *name, int64_t dflt)
{
    if (!ctx || !name)
        return dflt;
    const struct eng_user_params *p = &ctx->u->base.vertex->args.params;
    for (uint32_t i = 0; i < p->n; i++)
        if (strcmp(p->name[i], name) == 0)
            return p->value[i];
    return dflt;
}

unsigned mc_op_subtask(const struct mc_op_ctx *ctx) { return ctx ? ctx->u->base.env.subtask : 0; }
unsigned mc_op_parallelism(const struct mc_op_ctx *ctx)
{
    return ctx ? ctx->u->base.env.parallelism : 0;
}
unsigned mc_op_attempt(const struct mc_op_ctx *ctx) { return ctx ? ctx->u->base.env.attempt : 0; }
void *mc_op_arg(const struct mc_op_ctx *ctx) { return ctx ? ctx->u->e->def.arg : NULL; }
const char *mc_op_name(const struct mc_op_ctx *ctx) { return ctx ? ctx->u->e->name : ""; }

int mc_op_fail(struct mc_op_ctx *ctx, int rc, const char *fmt, ...)
{
    if (!ctx || !fmt)
        return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
    va_end(ap);
    return rc;
}

const char *mc_op_errmsg(const struct mc_op_ctx *ctx)
{
    return ctx ? ctx->err : "";
}
