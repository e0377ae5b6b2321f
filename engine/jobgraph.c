/*
 * jobgraph.c - building, validating and expanding a job graph.
 *
 * The job graph is what a client ships: operators and how records move
 * between them.  Validation turns every way a graph can be wrong into one
 * precise sentence, because a scenario author only ever sees that sentence.
 * Expansion produces the execution graph the scheduler deploys: operator
 * chains (fused forward pipelines), their parallel tasks, the channels
 * between tasks and the pipelined regions used by region failover.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/jobgraph.h"
#include "runtime/rt_mem.h"

struct eng_jobgraph {
    char *name;
    struct eng_vertex *v;
    uint32_t nv, capv;
    struct eng_edge *e;
    uint32_t ne, cape;
};

static const char *const op_names[ENG_OP_KIND_COUNT] = {
    [ENG_OP_SOURCE_SEQUENCE] = "source_sequence",
    [ENG_OP_SOURCE_RANDOM] = "source_random",
    [ENG_OP_MAP] = "map",
    [ENG_OP_FILTER] = "filter",
    [ENG_OP_FLATMAP] = "flatmap",
    [ENG_OP_KEYBY] = "keyby",
    [ENG_OP_COUNT] = "count",
    [ENG_OP_SUM] = "sum",
    [ENG_OP_REDUCE] = "reduce",
    [ENG_OP_WINDOW] = "window",
    [ENG_OP_SINK] = "sink",
    [ENG_OP_FAIL] = "fail",
    [ENG_OP_STALL] = "stall",
    [ENG_OP_BURN] = "burn",
    [ENG_OP_ALLOC] = "alloc",
    [ENG_OP_DISCARD] = "discard",
    [ENG_OP_USER_SOURCE] = "user_source",
    [ENG_OP_USER] = "user",
    [ENG_OP_USER_KEYED] = "user_keyed",
    [ENG_OP_USER_SINK] = "user_sink",
};

static const char *const edge_names[ENG_EDGE_KIND_COUNT] = {
    [ENG_EDGE_FORWARD] = "forward",
    [ENG_EDGE_HASH] = "hash",
    [ENG_EDGE_REBALANCE] = "rebalance",
    [ENG_EDGE_BROADCAST] = "broadcast",
};

const char *eng_op_kind_name(enum eng_op_kind kind)
{
    return (unsigned)kind < ENG_OP_KIND_COUNT ? op_names[kind] : "unknown";
}

const char *eng_edge_kind_name(enum eng_edge_kind kind)
{
    return (unsigned)kind < ENG_EDGE_KIND_COUNT ? edge_names[kind] : "unknown";
}

int eng_op_kind_parse(const char *name, enum eng_op_kind *out)
{
    for (unsigned k = 0; k < ENG_OP_KIND_COUNT; k++) {
        if (strcasecmp(name, op_names[k]) == 0) {
            *out = (enum eng_op_kind)k;
            return 0;
        }
    }
    return -EINVAL;
}

bool eng_op_kind_is_source(enum eng_op_kind kind)
{
    return kind == ENG_OP_SOURCE_SEQUENCE || kind == ENG_OP_SOURCE_RANDOM ||
           kind == ENG_OP_USER_SOURCE;
}

bool eng_op_kind_is_sink(enum eng_op_kind kind)
{
    return kind == ENG_OP_SINK || kind == ENG_OP_DISCARD || kind == ENG_OP_USER_SINK;
}

bool eng_op_kind_is_keyed(enum eng_op_kind kind)
{
    return kind == ENG_OP_COUNT || kind == ENG_OP_SUM || kind == ENG_OP_REDUCE ||
           kind == ENG_OP_WINDOW || kind == ENG_OP_ALLOC || kind == ENG_OP_USER_KEYED;
}

bool eng_op_kind_is_user(enum eng_op_kind kind)
{
    return kind == ENG_OP_USER_SOURCE || kind == ENG_OP_USER || kind == ENG_OP_USER_KEYED ||
           kind == ENG_OP_USER_SINK;
}

uint32_t eng_default_max_parallelism(uint32_t parallelism)
{
    uint64_t want = (uint64_t)parallelism + parallelism / 2;
    uint64_t p = 1;
    while (p < want)
        p <<= 1;
    if (p < 128)
        p = 128;
    if (p > ENG_MAX_PARALLELISM_LIMIT)
        p = ENG_MAX_PARALLELISM_LIMIT;
    return (uint32_t)p;
}

struct eng_jobgraph *eng_jobgraph_new(const char *name)
{
    struct eng_jobgraph *g = rt_xcalloc(1, sizeof(*g));
    g->name = rt_xstrdup(name ? name : "");
    return g;
}

void eng_jobgraph_free(struct eng_jobgraph *g)
{
    if (!g)
        return;
    for (uint32_t i = 0; i < g->nv; i++)
        rt_free(g->v[i].name);
    rt_free(g->v);
    rt_free(g->e);
    rt_free(g->name);
    rt_free(g);
}

const char *eng_jobgraph_name(const struct eng_jobgraph *g)
{
    return g->name;
}

int eng_jobgraph_add_vertex(struct eng_jobgraph *g, const char *name,
                            enum eng_op_kind kind, const struct eng_op_args *args,
                            uint32_t parallelism, uint32_t max_parallelism)
{
    if (!name || !*name || g->nv >= INT32_MAX)
        return -EINVAL;
    if (g->nv == g->capv) {
        g->capv = g->capv ? 2 * g->capv : 8;
        g->v = rt_xrealloc(g->v, g->capv * sizeof(*g->v));
    }
    struct eng_vertex *v = &g->v[g->nv];
    memset(v, 0, sizeof(*v));
    v->name = rt_xstrdup(name);
    v->kind = kind;
    if (args)
        v->args = *args;
    v->parallelism = parallelism;
    v->max_parallelism = max_parallelism ? max_parallelism
                                         : eng_default_max_parallelism(parallelism);
    return (int)g->nv++;
}

int eng_jobgraph_add_edge(struct eng_jobgraph *g, uint32_t from, uint32_t to,
                          enum eng_edge_kind kind)
{
    if (from >= g->nv || to >= g->nv)
        return -EINVAL;
    if (g->ne == g->cape) {
        g->cape = g->cape ? 2 * g->cape : 8;
        g->e = rt_xrealloc(g->e, g->cape * sizeof(*g->e));
    }
    g->e[g->ne++] = (struct eng_edge){.from = from, .to = to, .kind = kind};
    return 0;
}

uint32_t eng_jobgraph_vertex_count(const struct eng_jobgraph *g) { return g->nv; }
uint32_t eng_jobgraph_edge_count(const struct eng_jobgraph *g) { return g->ne; }

const struct eng_vertex *eng_jobgraph_vertex(const struct eng_jobgraph *g, uint32_t id)
{
    return id < g->nv ? &g->v[id] : NULL;
}

const struct eng_edge *eng_jobgraph_edge(const struct eng_jobgraph *g, uint32_t id)
{
    return id < g->ne ? &g->e[id] : NULL;
}

int eng_jobgraph_find(const struct eng_jobgraph *g, const char *name)
{
    for (uint32_t i = 0; i < g->nv; i++)
        if (strcmp(g->v[i].name, name) == 0)
            return (int)i;
    return -ENOENT;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */

/* Out-edge lists in compressed form: edges of vertex v are
 * adj[start[v] .. start[v+1]-1], in edge-id order (which keeps every walk,
 * and so every message and id, deterministic). */
struct adjacency {
    uint32_t *start;
    uint32_t *adj;
};

static void adjacency_build(const struct eng_jobgraph *g, struct adjacency *a)
{
    a->start = rt_xcalloc(g->nv + 1, sizeof(uint32_t));
    a->adj = rt_xcalloc(g->ne ? g->ne : 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < g->ne; i++)
        a->start[g->e[i].from + 1]++;
    for (uint32_t v = 0; v < g->nv; v++)
        a->start[v + 1] += a->start[v];
    uint32_t *fill = rt_xcalloc(g->nv ? g->nv : 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < g->ne; i++) {
        uint32_t f = g->e[i].from;
        a->adj[a->start[f] + fill[f]++] = i;
    }
    rt_free(fill);
}

static void adjacency_free(struct adjacency *a)
{
    rt_free(a->start);
    rt_free(a->adj);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

enum { WHITE, GRAY, BLACK };

/* Depth-first search for a back edge; on finding one, writes the cycle
 * (starting and ending at the vertex the back edge enters) to err. */
static bool find_cycle(const struct eng_jobgraph *g, const struct adjacency *a,
                       uint32_t v, uint8_t *color, uint32_t *parent,
                       char *err, size_t errlen)
{
    color[v] = GRAY;
    for (uint32_t k = a->start[v]; k < a->start[v + 1]; k++) {
        uint32_t w = g->e[a->adj[k]].to;
        if (color[w] == GRAY) {
            /* The path w -> ... -> v runs through parent links backwards. */
            uint32_t n = 1;
            for (uint32_t x = v; x != w; x = parent[x])
                n++;
            uint32_t *path = rt_xmalloc(n * sizeof(uint32_t));
            uint32_t i = n;
            for (uint32_t x = v; x != w; x = parent[x])
                path[--i] = x;
            path[0] = w;
            size_t used = 0;
            if (err && errlen) {
                used = (size_t)snprintf(err, errlen, "cycle:");
                for (i = 0; i <= n && used < errlen; i++)
                    used += (size_t)snprintf(err + used, errlen - used, "%s '%s'",
                                             i ? " ->" : "", g->v[path[i % n]].name);
            }
            rt_free(path);
            return true;
        }
        if (color[w] == WHITE) {
            parent[w] = v;
            if (find_cycle(g, a, w, color, parent, err, errlen))
                return true;
        }
    }
    color[v] = BLACK;
    return false;
}

static int check_vertices(const struct eng_jobgraph *g, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < g->nv; i++) {
        const struct eng_vertex *v = &g->v[i];
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(g->v[j].name, v->name) == 0)
                return fail(err, errlen, "duplicate vertex name '%s' (vertices %u and %u)",
                            v->name, j, i);
        if ((unsigned)v->kind >= ENG_OP_KIND_COUNT)
            return fail(err, errlen, "vertex '%s': unknown operator kind %u", v->name,
                        (unsigned)v->kind);
        if (eng_op_kind_is_user(v->kind) && !v->args.user)
            return fail(err, errlen, "vertex '%s': a %s vertex needs its registered operator "
                        "(args.user)", v->name, eng_op_kind_name(v->kind));
        if (v->parallelism == 0)
            return fail(err, errlen, "vertex '%s': parallelism must be at least 1, got 0",
                        v->name);
        if (v->max_parallelism < v->parallelism)
            return fail(err, errlen,
                        "vertex '%s': max parallelism %u is less than parallelism %u",
                        v->name, v->max_parallelism, v->parallelism);
        if (v->max_parallelism > ENG_MAX_PARALLELISM_LIMIT)
            return fail(err, errlen, "vertex '%s': max parallelism %u exceeds the limit %u",
                        v->name, v->max_parallelism, ENG_MAX_PARALLELISM_LIMIT);
    }
    return 0;
}

static int check_edges(const struct eng_jobgraph *g, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < g->ne; i++) {
        const struct eng_edge *e = &g->e[i];
        const struct eng_vertex *f = &g->v[e->from], *t = &g->v[e->to];
        if ((unsigned)e->kind >= ENG_EDGE_KIND_COUNT)
            return fail(err, errlen, "edge '%s' -> '%s': unknown partitioning %u",
                        f->name, t->name, (unsigned)e->kind);
        for (uint32_t j = 0; j < i; j++)
            if (g->e[j].from == e->from && g->e[j].to == e->to)
                return fail(err, errlen, "duplicate edge '%s' -> '%s' (edges %u and %u)",
                            f->name, t->name, j, i);
        if (eng_op_kind_is_source(t->kind))
            return fail(err, errlen,
                        "source '%s' has an input from '%s'; a source takes no inputs",
                        t->name, f->name);
        if (eng_op_kind_is_sink(f->kind))
            return fail(err, errlen,
                        "sink '%s' has an output to '%s'; a sink takes no outputs",
                        f->name, t->name);
        if (e->kind == ENG_EDGE_FORWARD && f->parallelism != t->parallelism)
            return fail(err, errlen,
                        "forward edge '%s' -> '%s' joins parallelism %u to parallelism %u; "
                        "forward needs equal parallelism (use rebalance or hash)",
                        f->name, t->name, f->parallelism, t->parallelism);
    }
    return 0;
}

static int check_shape(const struct eng_jobgraph *g, char *err, size_t errlen)
{
    bool source = false, sink = false;
    for (uint32_t i = 0; i < g->nv; i++) {
        source |= eng_op_kind_is_source(g->v[i].kind);
        sink |= eng_op_kind_is_sink(g->v[i].kind);
    }
    if (!source)
        return fail(err, errlen,
                    "job graph '%s' has no source (add a source_sequence or source_random vertex)",
                    g->name);
    if (!sink)
        return fail(err, errlen, "job graph '%s' has no sink (add a sink vertex)", g->name);

    struct adjacency a;
    adjacency_build(g, &a);
    uint8_t *color = rt_xcalloc(g->nv, 1);
    uint32_t *parent = rt_xcalloc(g->nv, sizeof(uint32_t));
    int rc = 0;
    for (uint32_t v = 0; v < g->nv && rc == 0; v++)
        if (color[v] == WHITE && find_cycle(g, &a, v, color, parent, err, errlen))
            rc = -EINVAL;

    if (rc == 0) {
        /* Reachability from all sources at once; parent doubles as the stack. */
        uint32_t *stack = parent, top = 0;
        memset(color, 0, g->nv);
        for (uint32_t v = 0; v < g->nv; v++)
            if (eng_op_kind_is_source(g->v[v].kind)) {
                color[v] = 1;
                stack[top++] = v;
            }
        while (top) {
            uint32_t v = stack[--top];
            for (uint32_t k = a.start[v]; k < a.start[v + 1]; k++) {
                uint32_t w = g->e[a.adj[k]].to;
                if (!color[w]) {
                    color[w] = 1;
                    stack[top++] = w;
                }
            }
        }
        for (uint32_t v = 0; v < g->nv && rc == 0; v++)
            if (!color[v])
                rc = fail(err, errlen, "vertex '%s' is not reachable from any source",
                          g->v[v].name);
    }
    rt_free(parent);
    rt_free(color);
    adjacency_free(&a);
    return rc;
}

/* Why the records u sends over a forward edge are not partitioned by key
 * the way a consumer v holding state per key needs - each key at the
 * subtask that owns its key group - or NULL when they are.  owned[u]: u's
 * input is so partitioned. */
static const char *forward_unpartitioned(const struct eng_vertex *u, const struct eng_vertex *v,
                                         bool owned_u)
{
    if (eng_op_kind_is_source(u->kind))
        return "every subtask of a source emits any key";
    if (u->kind == ENG_OP_KEYBY)
        return "it changes keys";
    if (!owned_u)
        return "its own input is not partitioned by key";
    if (u->max_parallelism != v->max_parallelism)
        return "its max parallelism differs, so its key groups do";
    return NULL;
}

/* A keyed vertex at parallelism > 1 restores exactly its key groups, so
 * every key must reach it at the subtask owning the key's group: through a
 * hash edge, or forward from a vertex whose input was and which keeps keys.
 * Otherwise a restore would silently drop the state of keys held by the
 * wrong subtask.  Validation has ruled out cycles, so nv rounds settle it. */
static int check_keyed(const struct eng_jobgraph *g, char *err, size_t errlen)
{
    bool *owned = rt_xcalloc(g->nv ? g->nv : 1, sizeof(*owned));
    for (uint32_t round = 0; round <= g->nv; round++)
        for (uint32_t v = 0; v < g->nv; v++) {
            bool ok = g->v[v].parallelism == 1 || !eng_op_kind_is_source(g->v[v].kind);
            for (uint32_t i = 0; i < g->ne && ok && g->v[v].parallelism > 1; i++) {
                const struct eng_edge *e = &g->e[i];
                if (e->to == v && e->kind != ENG_EDGE_HASH)
                    ok = e->kind == ENG_EDGE_FORWARD &&
                         !forward_unpartitioned(&g->v[e->from], &g->v[v], owned[e->from]);
            }
            owned[v] = ok;
        }
    int rc = 0;
    for (uint32_t v = 0; v < g->nv && rc == 0; v++) {
        const struct eng_vertex *x = &g->v[v];
        if (!eng_op_kind_is_keyed(x->kind) || owned[v])
            continue;
        for (uint32_t i = 0; i < g->ne && rc == 0; i++) {
            const struct eng_edge *e = &g->e[i];
            if (e->to != v || e->kind == ENG_EDGE_HASH)
                continue;
            const struct eng_vertex *u = &g->v[e->from];
            const char *why =
                e->kind == ENG_EDGE_REBALANCE ? "it spreads keys over subtasks" :
                e->kind == ENG_EDGE_BROADCAST ? "it sends every key to every subtask" :
                forward_unpartitioned(u, x, owned[e->from]);
            if (why)
                rc = fail(err, errlen, "%s '%s' (parallelism %u) keeps state per key, but "
                          "its %s input from '%s' is not partitioned by key (%s); make that "
                          "edge hash", eng_op_kind_name(x->kind), x->name, x->parallelism,
                          eng_edge_kind_name(e->kind), u->name, why);
        }
    }
    rt_free(owned);
    return rc;
}

int eng_jobgraph_validate(const struct eng_jobgraph *g, char *err, size_t errlen)
{
    int rc;
    if (err && errlen)
        err[0] = '\0';
    if (g->nv == 0)
        return fail(err, errlen, "job graph '%s' has no vertices", g->name);
    if ((rc = check_vertices(g, err, errlen)) < 0)
        return rc;
    if ((rc = check_edges(g, err, errlen)) < 0)
        return rc;
    if ((rc = check_shape(g, err, errlen)) < 0)
        return rc;
    return check_keyed(g, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Key groups (eng_key_hash and eng_key_group are inline in the header) */

uint32_t eng_key_group_subtask(uint32_t key_group, uint32_t parallelism,
                               uint32_t max_parallelism)
{
    return (uint32_t)((uint64_t)key_group * parallelism / max_parallelism);
}

void eng_key_group_range(uint32_t subtask, uint32_t parallelism, uint32_t max_parallelism,
                         uint32_t *first, uint32_t *last)
{
    uint64_t p = parallelism, m = max_parallelism;
    *first = (uint32_t)((subtask * m + p - 1) / p);
    *last = (uint32_t)(((subtask + 1) * m - 1) / p);
}
