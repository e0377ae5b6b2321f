/*
 * execgraph.c - expansion of a validated job graph into the execution
 * graph: operator chains, parallel tasks, task-to-task channels and
 * pipelined regions (the API lives in jobgraph.h).
 *
 * Everything is computed once, in deterministic order, into flat arrays:
 * the scheduler and the failover strategy index them by id and never walk
 * the job graph again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/jobgraph.h"
#include "runtime/rt_mem.h"

struct eng_execgraph {
    uint32_t nchains, ntasks, nchannels, nregions, nv;
    struct eng_chain *chains;
    uint32_t *chain_ops;   /* storage behind chains[].ops */
    char **chain_names;    /* storage behind chains[].name */
    uint32_t *vchain, *vpos;
    struct eng_task *tasks;
    struct eng_channel *channels;
    uint32_t *inputs;
    struct eng_region *regions;
    uint32_t *region_tasks;
};

void eng_execgraph_free(struct eng_execgraph *eg)
{
    if (!eg)
        return;
    for (uint32_t c = 0; c < eg->nchains; c++)
        rt_free(eg->chain_names[c]);
    rt_free(eg->chain_names);
    rt_free(eg->chains);
    rt_free(eg->chain_ops);
    rt_free(eg->vchain);
    rt_free(eg->vpos);
    rt_free(eg->tasks);
    rt_free(eg->channels);
    rt_free(eg->inputs);
    rt_free(eg->regions);
    rt_free(eg->region_tasks);
    rt_free(eg);
}

/* Topological order, lowest vertex id first among the ready ones, so ids
 * do not depend on the order edges were added.  The graph is validated
 * acyclic; graphs are small, so the quadratic pick is fine. */
static void topo_order(const struct eng_jobgraph *g, uint32_t *order)
{
    uint32_t nv = eng_jobgraph_vertex_count(g), ne = eng_jobgraph_edge_count(g);
    uint32_t *indeg = rt_xcalloc(nv, sizeof(uint32_t));
    uint8_t *done = rt_xcalloc(nv, 1);
    for (uint32_t i = 0; i < ne; i++)
        indeg[eng_jobgraph_edge(g, i)->to]++;
    for (uint32_t n = 0; n < nv; n++) {
        uint32_t v = 0;
        while (done[v] || indeg[v])
            v++;
        done[v] = 1;
        order[n] = v;
        for (uint32_t i = 0; i < ne; i++)
            if (eng_jobgraph_edge(g, i)->from == v)
                indeg[eng_jobgraph_edge(g, i)->to]--;
    }
    rt_free(done);
    rt_free(indeg);
}

/* Fuses forward pipelines into chains: v and w share a chain when the only
 * output of v is a forward edge to w and it is w's only input (validation
 * already guarantees equal parallelism on forward edges). */
static void build_chains(const struct eng_jobgraph *g, struct eng_execgraph *eg)
{
    uint32_t nv = eg->nv, ne = eng_jobgraph_edge_count(g);
    uint32_t *indeg = rt_xcalloc(nv, sizeof(uint32_t));
    uint32_t *outdeg = rt_xcalloc(nv, sizeof(uint32_t));
    uint32_t *next = rt_xmalloc(nv * sizeof(uint32_t));
    uint8_t *chained_in = rt_xcalloc(nv, 1);
    uint32_t *order = rt_xmalloc(nv * sizeof(uint32_t));

    for (uint32_t i = 0; i < ne; i++) {
        outdeg[eng_jobgraph_edge(g, i)->from]++;
        indeg[eng_jobgraph_edge(g, i)->to]++;
    }
    for (uint32_t v = 0; v < nv; v++)
        next[v] = UINT32_MAX;
    for (uint32_t i = 0; i < ne; i++) {
        const struct eng_edge *e = eng_jobgraph_edge(g, i);
        if (e->kind == ENG_EDGE_FORWARD && outdeg[e->from] == 1 && indeg[e->to] == 1) {
            next[e->from] = e->to;
            chained_in[e->to] = 1;
        }
    }

    topo_order(g, order);
    eg->chains = rt_xcalloc(nv, sizeof(struct eng_chain));
    eg->chain_names = rt_xcalloc(nv, sizeof(char *));
    eg->chain_ops = rt_xmalloc(nv * sizeof(uint32_t));
    uint32_t used = 0;
    for (uint32_t k = 0; k < nv; k++) {
        uint32_t head = order[k];
        if (chained_in[head])
            continue;
        uint32_t c = eg->nchains++;
        struct eng_chain *ch = &eg->chains[c];
        size_t namelen = 1;
        ch->ops = &eg->chain_ops[used];
        for (uint32_t v = head; v != UINT32_MAX; v = next[v]) {
            eg->chain_ops[used++] = v;
            eg->vchain[v] = c;
            eg->vpos[v] = ch->n_ops++;
            namelen += strlen(eng_jobgraph_vertex(g, v)->name) + 4;
        }
        char *name = rt_xmalloc(namelen);
        size_t at = 0;
        for (uint32_t i = 0; i < ch->n_ops; i++)
            at += (size_t)snprintf(name + at, namelen - at, "%s%s", i ? " -> " : "",
                                   eng_jobgraph_vertex(g, ch->ops[i])->name);
        eg->chain_names[c] = name;
        ch->name = name;
        ch->parallelism = eng_jobgraph_vertex(g, head)->parallelism;
        ch->first_task = eg->ntasks;
        eg->ntasks += ch->parallelism;
    }
    rt_free(order);
    rt_free(chained_in);
    rt_free(next);
    rt_free(outdeg);
    rt_free(indeg);
}

static void build_tasks_and_channels(const struct eng_jobgraph *g, struct eng_execgraph *eg)
{
    uint32_t ne = eng_jobgraph_edge_count(g), cap = 16;
    eg->tasks = rt_xcalloc(eg->ntasks, sizeof(struct eng_task));
    eg->channels = rt_xmalloc(cap * sizeof(struct eng_channel));

    for (uint32_t c = 0; c < eg->nchains; c++) {
        const struct eng_chain *ch = &eg->chains[c];
        uint32_t tail = ch->ops[ch->n_ops - 1];
        for (uint32_t s = 0; s < ch->parallelism; s++) {
            uint32_t t = ch->first_task + s;
            eg->tasks[t].chain = c;
            eg->tasks[t].subtask = s;
            eg->tasks[t].first_out = eg->nchannels;
            for (uint32_t i = 0; i < ne; i++) {
                const struct eng_edge *e = eng_jobgraph_edge(g, i);
                if (e->from != tail)
                    continue;
                const struct eng_chain *cc = &eg->chains[eg->vchain[e->to]];
                uint32_t lo = 0, hi = cc->parallelism;
                if (e->kind == ENG_EDGE_FORWARD) {
                    lo = s;
                    hi = s + 1;
                }
                for (uint32_t j = lo; j < hi; j++) {
                    if (eg->nchannels == cap) {
                        cap *= 2;
                        eg->channels = rt_xrealloc(eg->channels, cap * sizeof(struct eng_channel));
                    }
                    eg->channels[eg->nchannels++] = (struct eng_channel){
                        .edge = i, .kind = e->kind, .producer = t,
                        .consumer = cc->first_task + j, .consumer_subtask = j};
                }
            }
            eg->tasks[t].n_out = eg->nchannels - eg->tasks[t].first_out;
        }
    }

    /* Input lists: counting sort of channel ids by consumer task. */
    eg->inputs = rt_xmalloc((eg->nchannels ? eg->nchannels : 1) * sizeof(uint32_t));
    for (uint32_t k = 0; k < eg->nchannels; k++)
        eg->tasks[eg->channels[k].consumer].n_in++;
    uint32_t at = 0;
    for (uint32_t t = 0; t < eg->ntasks; t++) {
        eg->tasks[t].first_in = at;
        at += eg->tasks[t].n_in;
        eg->tasks[t].n_in = 0;
    }
    for (uint32_t k = 0; k < eg->nchannels; k++) {
        struct eng_task *t = &eg->tasks[eg->channels[k].consumer];
        eg->inputs[t->first_in + t->n_in++] = k;
    }
}

static uint32_t uf_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Pipelined regions: every exchange of a streaming job is pipelined, so a
 * region is a connected component of tasks over channels. */
static void build_regions(struct eng_execgraph *eg)
{
    uint32_t n = eg->ntasks;
    uint32_t *parent = rt_xmalloc(n * sizeof(uint32_t));
    uint32_t *rid = rt_xmalloc(n * sizeof(uint32_t));
    for (uint32_t t = 0; t < n; t++) {
        parent[t] = t;
        rid[t] = UINT32_MAX;
    }
    for (uint32_t k = 0; k < eg->nchannels; k++) {
        uint32_t a = uf_find(parent, eg->channels[k].producer);
        uint32_t b = uf_find(parent, eg->channels[k].consumer);
        if (a != b)
            parent[a < b ? b : a] = a < b ? a : b;
    }
    eg->regions = rt_xcalloc(n, sizeof(struct eng_region));
    for (uint32_t t = 0; t < n; t++) {
        uint32_t r = uf_find(parent, t);
        if (rid[r] == UINT32_MAX)
            rid[r] = eg->nregions++;
        eg->tasks[t].region = rid[r];
        eg->regions[rid[r]].n_tasks++;
    }
    eg->region_tasks = rt_xmalloc(n * sizeof(uint32_t));
    uint32_t at = 0;
    for (uint32_t r = 0; r < eg->nregions; r++) {
        eg->regions[r].tasks = &eg->region_tasks[at];
        at += eg->regions[r].n_tasks;
        eg->regions[r].n_tasks = 0;
    }
    for (uint32_t t = 0; t < n; t++) {
        struct eng_region *r = &eg->regions[eg->tasks[t].region];
        eg->region_tasks[(size_t)(r->tasks - eg->region_tasks) + r->n_tasks++] = t;
    }
    rt_free(rid);
    rt_free(parent);
}

int eng_execgraph_build(const struct eng_jobgraph *g, struct eng_execgraph **out,
                        char *err, size_t errlen)
{
    int rc = eng_jobgraph_validate(g, err, errlen);
    if (rc < 0)
        return rc;
    struct eng_execgraph *eg = rt_xcalloc(1, sizeof(*eg));
    eg->nv = eng_jobgraph_vertex_count(g);
    eg->vchain = rt_xcalloc(eg->nv, sizeof(uint32_t));
    eg->vpos = rt_xcalloc(eg->nv, sizeof(uint32_t));
    build_chains(g, eg);
    build_tasks_and_channels(g, eg);
    build_regions(eg);
    *out = eg;
    return 0;
}

uint32_t eng_execgraph_chain_count(const struct eng_execgraph *eg) { return eg->nchains; }
uint32_t eng_execgraph_task_count(const struct eng_execgraph *eg) { return eg->ntasks; }
uint32_t eng_execgraph_channel_count(const struct eng_execgraph *eg) { return eg->nchannels; }
uint32_t eng_execgraph_region_count(const struct eng_execgraph *eg) { return eg->nregions; }

const struct eng_chain *eng_execgraph_chain(const struct eng_execgraph *eg, uint32_t id)
{
    return id < eg->nchains ? &eg->chains[id] : NULL;
}

const struct eng_task *eng_execgraph_task(const struct eng_execgraph *eg, uint32_t id)
{
    return id < eg->ntasks ? &eg->tasks[id] : NULL;
}

const struct eng_channel *eng_execgraph_channel(const struct eng_execgraph *eg, uint32_t id)
{
    return id < eg->nchannels ? &eg->channels[id] : NULL;
}

const struct eng_region *eng_execgraph_region(const struct eng_execgraph *eg, uint32_t id)
{
    return id < eg->nregions ? &eg->regions[id] : NULL;
}

const uint32_t *eng_execgraph_inputs(const struct eng_execgraph *eg)
{
    return eg->inputs;
}

uint32_t eng_execgraph_chain_of(const struct eng_execgraph *eg, uint32_t v, uint32_t *pos)
{
    if (pos)
        *pos = eg->vpos[v];
    return eg->vchain[v];
}
