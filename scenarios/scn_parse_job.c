/*
 * scn_parse_job.c - parsing of the workload: `job` statements (a pipeline of
 * operators from a source to a sink, then its settings) and `application`
 * statements (jobs grouped with what the client or JobManager does for them).
 *
 * Operator arguments are described by a table (name, unit, field, required),
 * so adding an operator is one row; defaults are filled here so the runner
 * never has to guess what an omitted argument meant.
 */
#include <stddef.h>
#include <string.h>

#include "engine/operator.h"
#include "runtime/rt_mem.h"
#include "scenarios/scn_internal.h"

const char *const scn__op_names[SCN_OP__COUNT] = {
    [SCN_OP_SEQUENCE] = "sequence", [SCN_OP_RANDOM] = "random", [SCN_OP_MAP] = "map",
    [SCN_OP_FILTER] = "filter",     [SCN_OP_FLATMAP] = "flatmap", [SCN_OP_KEYBY] = "keyby",
    [SCN_OP_COUNT] = "count",       [SCN_OP_SUM] = "sum",         [SCN_OP_REDUCE] = "reduce",
    [SCN_OP_WINDOW] = "window",     [SCN_OP_SINK] = "sink",       [SCN_OP_FAIL] = "fail",
    [SCN_OP_STALL] = "stall",       [SCN_OP_BURN] = "burn",       [SCN_OP_ALLOC] = "alloc",
    [SCN_OP_REBALANCE] = "rebalance",
};

/* ---- job ---- */

enum arg_type { ARG_COUNT, ARG_RATE, ARG_DUR, ARG_SIZE, ARG_PROB };

struct arg_spec {
    const char *name;
    enum arg_type type;
    size_t off;
    bool required;
};

#define ARG(n, t, f, r) {n, t, offsetof(struct scn_op, f), r}
static const struct arg_spec op_args[SCN_OP__COUNT][4] = {
    [SCN_OP_SEQUENCE] = {ARG("records", ARG_COUNT, records, true),
                         ARG("keys", ARG_COUNT, keys, false),
                         ARG("rate", ARG_RATE, rate, false)},
    [SCN_OP_RANDOM] = {ARG("records", ARG_COUNT, records, true),
                       ARG("keys", ARG_COUNT, keys, false), ARG("seed", ARG_COUNT, seed, false),
                       ARG("rate", ARG_RATE, rate, false)},
    [SCN_OP_WINDOW] = {ARG("size", ARG_DUR, size_ns, true)},
    [SCN_OP_FAIL] = {ARG("at", ARG_COUNT, at, false),
                     ARG("probability", ARG_PROB, probability, false)},
    [SCN_OP_STALL] = {ARG("for", ARG_DUR, for_ns, true)},
    [SCN_OP_BURN] = {ARG("per-record", ARG_DUR, per_record_ns, true)},
    [SCN_OP_ALLOC] = {ARG("per-key", ARG_SIZE, per_key_bytes, true)},
};

static bool is_source(enum scn_op_kind k)
{
    return k == SCN_OP_SEQUENCE || k == SCN_OP_RANDOM;
}

static bool op_is_source(const struct scn_op *op)
{
    return op->kind == SCN_OP_USER ? op->user->kind == ENG_OP_USER_SOURCE : is_source(op->kind);
}

static bool op_is_sink(const struct scn_op *op)
{
    return op->kind == SCN_OP_USER ? op->user->kind == ENG_OP_USER_SINK : op->kind == SCN_OP_SINK;
}

/* A user operator's arguments: `(name=COUNT, ...)`, integers, at most
 * ENG_USER_PARAMS_MAX, any names (the operator reads what it knows). */
static int parse_user_args(struct scn__ctx *c, struct scn_op *op, const struct scn__tok *name)
{
    struct eng_user_params *p = &op->params;
    if (!scn__accept(c, SCN__TOK_LPAREN))
        return 0;
    do {
        const struct scn__tok *key;
        if (scn__expect_word(c, "an argument name", &key) < 0)
            return -1;
        if (strlen(key->text) >= ENG_USER_PARAM_NAME_MAX) {
            scn__error(c, key->pos, "argument name '%s' is longer than %d characters",
                       key->text, ENG_USER_PARAM_NAME_MAX - 1);
            return -1;
        }
        for (uint32_t i = 0; i < p->n; i++)
            if (strcmp(p->name[i], key->text) == 0) {
                scn__error(c, key->pos, "'%s' is given twice", key->text);
                return -1;
            }
        if (p->n == ENG_USER_PARAMS_MAX) {
            scn__error(c, key->pos, "'%s' takes at most %d arguments", name->text,
                       ENG_USER_PARAMS_MAX);
            return -1;
        }
        if (scn__expect_kind(c, SCN__TOK_ASSIGN, "'=' after the argument name") < 0)
            return -1;
        uint64_t v = 0;
        if (scn__count(c, &v) < 0)
            return -1;
        if (v > INT64_MAX) {
            scn__error(c, key->pos, "'%s' is too large (at most 2^63-1)", key->text);
            return -1;
        }
        snprintf(p->name[p->n], sizeof(p->name[p->n]), "%s", key->text);
        p->value[p->n++] = (int64_t)v;
    } while (scn__accept(c, SCN__TOK_COMMA));
    return scn__expect_kind(c, SCN__TOK_RPAREN, "',' or ')'") < 0 ? -1 : 0;
}

static int parse_op_args(struct scn__ctx *c, struct scn_op *op, const struct scn__tok *name)
{
    const struct arg_spec *spec = op_args[op->kind];
    const char *names[4];
    size_t n = 0;
    bool given[4] = {false}, unknown = false;
    char *base = (char *)op;
    while (n < 4 && spec[n].name) {
        names[n] = spec[n].name;
        n++;
    }
    if (scn__accept(c, SCN__TOK_LPAREN)) {
        if (n == 0) {
            scn__error(c, name->pos, "'%s' takes no arguments", name->text);
            return -1;
        }
        do {
            const struct scn__tok *key;
            char what[64];
            snprintf(what, sizeof(what), "%s argument", name->text);
            int k = scn__kv_key(c, what, names, n, &key);
            if (k == -1)
                return -1;
            if (k == -2) {
                unknown = true;
                continue;
            }
            if (given[k]) {
                scn__error(c, key->pos, "'%s' is given twice", key->text);
                scn__next(c);
                continue;
            }
            given[k] = true;
            void *field = base + spec[k].off;
            switch (spec[k].type) {
            case ARG_COUNT: scn__count(c, field); break;
            case ARG_RATE: scn__value_u64(c, scn_parse_count_rate, "a rate", field); break;
            case ARG_DUR: scn__duration(c, field); break;
            case ARG_SIZE: scn__size(c, field); break;
            case ARG_PROB: scn__probability(c, field); break;
            }
        } while (scn__accept(c, SCN__TOK_COMMA));
        if (scn__expect_kind(c, SCN__TOK_RPAREN, "',' or ')'") < 0)
            return -1;
    }
    for (size_t k = 0; k < n; k++) {
        if (spec[k].required && !given[k] && !unknown) {
            scn__error(c, name->pos, "'%s' needs %s= (as in %s(%s=...))", name->text,
                       spec[k].name, name->text, spec[k].name);
            return -1;
        }
    }
    if (op->kind == SCN_OP_FAIL && given[0] == given[1]) {
        scn__error(c, name->pos, "'fail' needs either at=RECORD or probability=P");
        return -1;
    }
    if (op->kind == SCN_OP_FAIL && given[0] && op->at == 0) {
        scn__error(c, name->pos, "'fail' counts records from 1 (at=1 is the first)");
        return -1;
    }
    return 0;
}

static int parse_op(struct scn__ctx *c, struct scn_job *job)
{
    const struct scn__tok *name;
    char hint[128];
    if (scn__expect_word(c, "an operator", &name) < 0)
        return -1;
    int kind = -1;
    for (int k = 0; k < SCN_OP__COUNT; k++)
        if (strcmp(scn__op_names[k], name->text) == 0)
            kind = k;
    /* Not a built-in: an operator this program registered (operator.h)? */
    const struct eng_user_kind *user = kind < 0 ? eng_user_kind_find(name->text) : NULL;
    if (user)
        kind = SCN_OP_USER;
    if (kind < 0) {
        scn__hint(hint, sizeof(hint), name->text, scn__op_names, SCN_OP__COUNT);
        scn__error(c, name->pos, "unknown operator '%s'%s", name->text, hint);
        return -1;
    }
    job->ops = rt_xrealloc(job->ops, (job->n_ops + 1) * sizeof(*job->ops));
    struct scn_op *op = &job->ops[job->n_ops++];
    *op = (struct scn_op){.pos = name->pos, .kind = kind, .user = user};
    if (is_source(op->kind))
        op->keys = 1000;
    if (user ? parse_user_args(c, op, name) < 0 : parse_op_args(c, op, name) < 0)
        return -1;
    bool first = job->n_ops == 1;
    if (first && !op_is_source(op)) {
        scn__error(c, name->pos, "'%s' is not a source (use sequence or random)", name->text);
        return -1;
    }
    if (!first && op_is_source(op)) {
        scn__error(c, name->pos, "'%s' is a source and can only come first", name->text);
        return -1;
    }
    return 0;
}

/* Flink's KeyGroupRangeAssignment.computeDefaultMaxParallelism. */
static uint32_t flink_max_parallelism(uint32_t p)
{
    uint64_t want = (uint64_t)p + p / 2, pow2 = 1;
    while (pow2 < want)
        pow2 <<= 1;
    return pow2 < 128 ? 128 : pow2 > 32768 ? 32768 : (uint32_t)pow2;
}

int scn__parse_job(struct scn__ctx *c, const struct scn__tok *kw)
{
    static const char *const names[] = {"parallelism", "max-parallelism", "state",
                                        "checkpoint-bytes"};
    struct scn_pos seen[4] = {{0, 0}};
    const struct scn__tok *name, *key;
    if (scn__name_token(c, "job", &name) < 0)
        return -1;
    struct scn_scenario *s = c->s;
    s->jobs = rt_xrealloc(s->jobs, (s->n_jobs + 1) * sizeof(*s->jobs));
    struct scn_job *job = &s->jobs[s->n_jobs++];
    *job = (struct scn_job){.pos = kw->pos, .name_pos = name->pos,
                            .name = rt_xstrdup(name->text), .parallelism = 1};
    if (!scn__at_word(c, "source")) {
        scn__unexpected(c, "'source=' after the job name");
        return -1;
    }
    c->i++;
    if (scn__expect_kind(c, SCN__TOK_ASSIGN, "'=' after 'source'") < 0)
        return -1;
    do {
        if (parse_op(c, job) < 0)
            return -1;
    } while (scn__accept(c, SCN__TOK_PIPE));
    for (size_t i = 0; i + 1 < job->n_ops; i++) {
        if (op_is_sink(&job->ops[i])) {
            scn__error(c, job->ops[i].pos, "'%s' must be the last operator",
                       job->ops[i].user ? job->ops[i].user->name : "sink");
            return -1;
        }
    }
    if (!op_is_sink(&job->ops[job->n_ops - 1])) {
        scn__error(c, job->ops[job->n_ops - 1].pos,
                   "the pipeline of job '%s' must end with '| sink'", job->name);
        return -1;
    }
    while (scn__peek(c)->kind != SCN__TOK_END) {
        int k = scn__kv_next(c, "job setting", names, 4, seen, &key);
        if (k == -1)
            return -1;
        if (k < 0)
            continue;
        if (k == 0)
            scn__count32(c, &job->parallelism);
        else if (k == 1)
            scn__count32(c, &job->max_parallelism);
        else
            scn__size(c, k == 2 ? &job->state_bytes : &job->checkpoint_bytes);
    }
    if (job->parallelism == 0 || job->parallelism > 32768)
        scn__error(c, seen[0], "parallelism must be from 1 to 32768");
    if (!seen[1].line)
        job->max_parallelism = flink_max_parallelism(job->parallelism);
    else if (job->max_parallelism < job->parallelism || job->max_parallelism > 32768)
        scn__error(c, seen[1], "max-parallelism must be from parallelism (%u) to 32768",
                   job->parallelism);
    if (!seen[3].line)
        job->checkpoint_bytes = job->state_bytes;
    return 0;
}

/* ---- application ---- */

static bool path_escapes(const char *p)
{
    if (p[0] == '/' || p[0] == '~')
        return true;
    for (const char *seg = p; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL)
        if (seg[0] == '.' && seg[1] == '.' && (seg[2] == '/' || seg[2] == '\0'))
            return true;
    return false;
}

static int parse_cached_file(struct scn__ctx *c, struct scn_application *app)
{
    const struct scn__tok *t = scn__next(c), *loc;
    if (t->kind != SCN__TOK_WORD && t->kind != SCN__TOK_STRING) {
        c->i--;
        return scn__unexpected(c, "a path");
    }
    if (t->text[0] == '\0' || path_escapes(t->text)) {
        scn__error(c, t->pos, "path '%s' leaves the run directory (use a relative path "
                   "without '..')", t->text);
        return -1;
    }
    enum scn_file_loc on = SCN_FILE_ON_CLIENT;
    if (scn__at_word(c, "on")) {
        c->i++;
        if (scn__expect_word(c, "client or dfs", &loc) < 0)
            return -1;
        if (strcmp(loc->text, "dfs") == 0)
            on = SCN_FILE_ON_DFS;
        else if (strcmp(loc->text, "client") != 0) {
            scn__error(c, loc->pos, "'%s' is not a place for a cached file (use client or "
                       "dfs)", loc->text);
            return -1;
        }
    }
    app->files = rt_xrealloc(app->files, (app->n_files + 1) * sizeof(*app->files));
    app->files[app->n_files++] =
        (struct scn_cached_file){t->pos, rt_xstrdup(t->text), on};
    return 0;
}

int scn__parse_application(struct scn__ctx *c, const struct scn__tok *kw)
{
    static const char *const names[] = {"jobs", "execute", "artifacts", "main-cpu",
                                        "cached-file"};
    struct scn_pos seen[5] = {{0, 0}};
    const struct scn__tok *name, *key, *v;
    if (scn__name_token(c, "application", &name) < 0)
        return -1;
    struct scn_scenario *s = c->s;
    s->apps = rt_xrealloc(s->apps, (s->n_apps + 1) * sizeof(*s->apps));
    struct scn_application *app = &s->apps[s->n_apps++];
    *app = (struct scn_application){.pos = kw->pos, .name = rt_xstrdup(name->text)};
    while (scn__peek(c)->kind != SCN__TOK_END) {
        int k = scn__kv_key(c, "application setting", names, 5, &key);
        if (k == -1)
            return -1;
        if (k == -2 || (k != 4 && !scn__kv_once(c, &seen[k], key))) {
            if (k >= 0)
                scn__next(c);
            continue;
        }
        switch (k) {
        case 0:
            do {
                app->jobs = rt_xrealloc(app->jobs, (app->n_jobs + 1) * sizeof(*app->jobs));
                if (scn__ref(c, &app->jobs[app->n_jobs], "a job name") < 0)
                    return -1;
                app->n_jobs++;
            } while (scn__accept(c, SCN__TOK_COMMA));
            break;
        case 1:
            if (scn__expect_word(c, "blocking or async", &v) < 0)
                return -1;
            if (strcmp(v->text, "blocking") == 0 || strcmp(v->text, "async") == 0)
                app->execute = v->text[0] == 'a' ? SCN_EXECUTE_ASYNC : SCN_EXECUTE_BLOCKING;
            else
                scn__error(c, v->pos, "'%s' is not a value of 'execute' (use blocking or "
                           "async)", v->text);
            break;
        case 2: scn__size(c, &app->artifacts_bytes); break;
        case 3: scn__duration(c, &app->main_cpu_ns); break;
        case 4:
            if (parse_cached_file(c, app) < 0)
                return -1;
            break;
        }
    }
    if (!seen[0].line)
        scn__error(c, name->pos, "application '%s' needs jobs=JOB,...", app->name);
    return 0;
}
