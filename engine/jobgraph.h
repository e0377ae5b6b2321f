/*
 * jobgraph.h - the logical job (vertices and edges), its validation, the
 * execution graph it expands to (chains, tasks, channels, pipelined regions)
 * and key groups.
 *
 * A job graph is built by the client, validated once, and expanded by the
 * job master.  Nothing here has threads or I/O; every structure is owned by
 * the graph that holds it and freed with it.
 */
#ifndef ENG_JOBGRAPH_H
#define ENG_JOBGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ENG_MAX_PARALLELISM_LIMIT 32768u /* Flink's upper bound for max parallelism */

/* Operator kinds.  The test operators exist to misbehave on command. */
enum eng_op_kind {
    ENG_OP_SOURCE_SEQUENCE, /* replayable source: keys 0..keys-1 in turn */
    ENG_OP_SOURCE_RANDOM,   /* replayable source: seeded random keys */
    ENG_OP_MAP,             /* one record in, one out */
    ENG_OP_FILTER,          /* keeps a seeded fraction of records */
    ENG_OP_FLATMAP,         /* one record in, `fanout` out */
    ENG_OP_KEYBY,           /* re-keys records (key = key % keys) */
    ENG_OP_COUNT,           /* keyed running count */
    ENG_OP_SUM,             /* keyed running sum of values */
    ENG_OP_REDUCE,          /* keyed running max of values */
    ENG_OP_WINDOW,          /* keyed tumbling event-time window sum */
    ENG_OP_SINK,            /* transactional sink, commits on checkpoint */
    ENG_OP_FAIL,            /* throws at a record, or with a probability */
    ENG_OP_STALL,           /* blocks its task for a while at a record */
    ENG_OP_BURN,            /* spends CPU per record */
    ENG_OP_ALLOC,           /* holds `bytes_per_key` of state per key */
    ENG_OP_DISCARD,         /* sink that drops records, keeping a count and digest */
    /* Registered at run time by a program (args.user says which): */
    ENG_OP_USER_SOURCE,     /* a user's source */
    ENG_OP_USER,            /* a user's one-input operator (map, flat map, filter) */
    ENG_OP_USER_KEYED,      /* a user's keyed process operator, state per key */
    ENG_OP_USER_SINK,       /* a user's sink */
    ENG_OP_KIND_COUNT       /* number of kinds, not a kind */
};

/* How records travel along an edge. */
enum eng_edge_kind {
    ENG_EDGE_FORWARD,    /* subtask i to subtask i; equal parallelism */
    ENG_EDGE_HASH,       /* by key group of the record key */
    ENG_EDGE_REBALANCE,  /* round robin over all consumers */
    ENG_EDGE_BROADCAST,  /* every record to every consumer */
    ENG_EDGE_KIND_COUNT  /* number of kinds, not a kind */
};

/* A user operator's parameters, as written in a pipeline: name=integer. */
#define ENG_USER_PARAMS_MAX 8
#define ENG_USER_PARAM_NAME_MAX 32      /* NUL included */
struct eng_user_params {
    uint32_t n;
    char name[ENG_USER_PARAMS_MAX][ENG_USER_PARAM_NAME_MAX];
    int64_t value[ENG_USER_PARAMS_MAX];
};

struct eng_user_kind;   /* engine/operator.h */

/* Operator arguments; each kind reads the fields it needs, zero elsewhere. */
struct eng_op_args {
    uint64_t records;       /* sources: records per subtask, 0 = unbounded */
    uint64_t keys;          /* sources, KEYBY: distinct keys */
    uint64_t rate;          /* sources: records/s per subtask, 0 = unthrottled */
    uint64_t seed;          /* SOURCE_RANDOM, FILTER, FAIL: RNG seed */
    uint64_t window_ms;     /* WINDOW: tumbling window size in event time */
    uint64_t at_record;     /* FAIL, STALL: record index that triggers, 0 = never */
    double probability;     /* FILTER: keep ratio; FAIL: per-record failure chance */
    uint64_t ns_per_record; /* BURN: CPU time per record */
    uint64_t stall_ms;      /* STALL: how long the task blocks */
    uint64_t bytes_per_key; /* ALLOC; COUNT, SUM, REDUCE with declared: state bytes
                               held per key */
    uint32_t fanout;        /* FLATMAP: records out per record in */
    const struct eng_user_kind *user;   /* USER_*: the registered operator (lives for
                                         * the process) */
    struct eng_user_params params;      /* USER_*: its parameters */
    bool declared;          /* ALLOC, COUNT, SUM, REDUCE: bytes_per_key is a job's
                               declared state (state=SIZE): in the sim world each
                               key holds a payload descriptor standing for its bytes
                               (eng_kstate_put_logical), not the bytes */
};

struct eng_vertex {
    char *name;                /* unique within the graph */
    enum eng_op_kind kind;
    struct eng_op_args args;
    uint32_t parallelism;
    uint32_t max_parallelism;  /* number of key groups */
};

struct eng_edge {
    uint32_t from;             /* vertex ids */
    uint32_t to;
    enum eng_edge_kind kind;
};

struct eng_jobgraph;

/* Kind names as used in scenario files and messages ("sum", "source_random"). */
const char *eng_op_kind_name(enum eng_op_kind kind);
const char *eng_edge_kind_name(enum eng_edge_kind kind);
/* Parse a kind name (case-insensitive); 0, or -EINVAL for an unknown name. */
int eng_op_kind_parse(const char *name, enum eng_op_kind *out);
bool eng_op_kind_is_source(enum eng_op_kind kind);
bool eng_op_kind_is_sink(enum eng_op_kind kind);      /* SINK or DISCARD */
/* Keeps state per key, restored by key group: COUNT, SUM, REDUCE, WINDOW, ALLOC,
 * USER_KEYED. */
bool eng_op_kind_is_keyed(enum eng_op_kind kind);
/* One of the USER_* kinds: an operator a program registered (engine/operator.h). */
bool eng_op_kind_is_user(enum eng_op_kind kind);

/* Flink's default max parallelism: 1.5 x parallelism rounded up to a power
 * of two, clamped to [128, 32768]. */
uint32_t eng_default_max_parallelism(uint32_t parallelism);

/* A new, empty job graph named `name` (copied).  Never NULL; free with
 * eng_jobgraph_free. */
struct eng_jobgraph *eng_jobgraph_new(const char *name);
/* Frees the graph and everything it owns; NULL is a no-op. */
void eng_jobgraph_free(struct eng_jobgraph *g);
const char *eng_jobgraph_name(const struct eng_jobgraph *g);

/* Adds a vertex and returns its id (>= 0, ids are dense from 0).  `args`
 * may be NULL (all zero) and is copied; `name` is copied.  max_parallelism
 * 0 means eng_default_max_parallelism(parallelism).  Nothing is checked
 * here beyond the arguments themselves: eng_jobgraph_validate reports what
 * is wrong with the graph.  Returns -EINVAL for a NULL or empty name. */
int eng_jobgraph_add_vertex(struct eng_jobgraph *g, const char *name,
                            enum eng_op_kind kind, const struct eng_op_args *args,
                            uint32_t parallelism, uint32_t max_parallelism);
/* Adds an edge between existing vertices; 0, or -EINVAL for an unknown id. */
int eng_jobgraph_add_edge(struct eng_jobgraph *g, uint32_t from, uint32_t to,
                          enum eng_edge_kind kind);

uint32_t eng_jobgraph_vertex_count(const struct eng_jobgraph *g);
uint32_t eng_jobgraph_edge_count(const struct eng_jobgraph *g);
/* Borrowed views, valid until the graph is modified or freed. */
const struct eng_vertex *eng_jobgraph_vertex(const struct eng_jobgraph *g, uint32_t id);
const struct eng_edge *eng_jobgraph_edge(const struct eng_jobgraph *g, uint32_t id);
/* Vertex id by name, or -ENOENT. */
int eng_jobgraph_find(const struct eng_jobgraph *g, const char *name);

/* Checks the graph.  Returns 0, or -EINVAL with the first problem written
 * to err (always NUL-terminated when errlen > 0; err may be NULL).  Checks,
 * in this order: at least one vertex; per vertex: duplicate name, unknown
 * operator, zero parallelism, max parallelism below parallelism or above the
 * limit; per edge: unknown partitioning, duplicate edge, a source with an
 * input, a sink with an output, a forward edge across different
 * parallelisms; then no source, no sink, a cycle, an unreachable vertex. */
int eng_jobgraph_validate(const struct eng_jobgraph *g, char *err, size_t errlen);

/*
 * The execution graph.  Operators joined by a FORWARD edge with equal
 * parallelism, where the producer has no other output and the consumer no
 * other input, are fused into one chain; chains are linear (Flink also fuses
 * a fan-out, we keep a task a straight pipeline).  A task is one parallel
 * instance of a chain.  A channel joins a producer task to a consumer task
 * for one job-graph edge.  Pipelined regions are the connected components of
 * tasks over channels: with streaming (pipelined) exchanges, a failure in a
 * region restarts exactly that region.
 *
 * Ids are dense and deterministic: chains are numbered in topological order
 * of their head vertex (ties by vertex id), tasks by (chain, subtask),
 * channels by (producer task, edge, consumer subtask), regions by their
 * lowest task id.  (Implemented in execgraph.c.)
 */
struct eng_chain {
    uint32_t n_ops;
    const uint32_t *ops;       /* vertex ids, head first */
    uint32_t parallelism;
    uint32_t first_task;       /* tasks first_task .. first_task+parallelism-1 */
    const char *name;          /* "src -> map" */
};

struct eng_task {
    uint32_t chain;
    uint32_t subtask;          /* 0-based index within the chain */
    uint32_t region;
    uint32_t first_out, n_out; /* output channels: ids first_out .. +n_out-1 */
    uint32_t first_in, n_in;   /* input channel ids: eng_execgraph_inputs()[first_in ..] */
};

struct eng_channel {
    uint32_t edge;             /* job-graph edge id */
    enum eng_edge_kind kind;
    uint32_t producer;         /* task ids */
    uint32_t consumer;
    uint32_t consumer_subtask; /* index the producer's partitioner picks */
};

struct eng_region {
    uint32_t n_tasks;
    const uint32_t *tasks;     /* task ids, ascending */
};

struct eng_execgraph;

/* Validates `g` (same errors as eng_jobgraph_validate) and expands it.
 * On success *out owns a new execution graph that does not refer to `g`;
 * free with eng_execgraph_free. */
int eng_execgraph_build(const struct eng_jobgraph *g, struct eng_execgraph **out,
                        char *err, size_t errlen);
void eng_execgraph_free(struct eng_execgraph *eg);

uint32_t eng_execgraph_chain_count(const struct eng_execgraph *eg);
uint32_t eng_execgraph_task_count(const struct eng_execgraph *eg);
uint32_t eng_execgraph_channel_count(const struct eng_execgraph *eg);
uint32_t eng_execgraph_region_count(const struct eng_execgraph *eg);
/* Borrowed views, valid for the life of the execution graph. */
const struct eng_chain *eng_execgraph_chain(const struct eng_execgraph *eg, uint32_t id);
const struct eng_task *eng_execgraph_task(const struct eng_execgraph *eg, uint32_t id);
const struct eng_channel *eng_execgraph_channel(const struct eng_execgraph *eg, uint32_t id);
const struct eng_region *eng_execgraph_region(const struct eng_execgraph *eg, uint32_t id);
/* Input channel ids of all tasks, indexed by eng_task.first_in; each task's
 * inputs are in ascending channel id, i.e. by (producer task, edge). */
const uint32_t *eng_execgraph_inputs(const struct eng_execgraph *eg);
/* The chain holding vertex `v`, and v's position in it. */
uint32_t eng_execgraph_chain_of(const struct eng_execgraph *eg, uint32_t v, uint32_t *pos);

/*
 * Key groups (Flink's scheme).  A key belongs to key group
 * XXH64(key as 8 little-endian bytes, seed 0) % max_parallelism; key group
 * kg belongs to subtask kg * parallelism / max_parallelism; subtask i owns
 * the contiguous range eng_key_group_range(i).  Rescaling moves whole key
 * groups, never single keys.
 */
/*
 * Both are inline because HASH routing and keyed state call them once per
 * record.  eng_key_hash is XXH64 (seed 0) of the key's 8 little-endian bytes
 * written out for that one input length: no length dispatch, no byte buffer,
 * and, since it works on the key's value, the same on every host byte order
 * (test_jobgraph checks it against libxxhash).
 */
static inline uint64_t eng__rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t eng_key_hash(uint64_t key)
{
    const uint64_t p1 = 0x9E3779B185EBCA87ull, p2 = 0xC2B2AE3D27D4EB4Full;
    const uint64_t p3 = 0x165667B19E3779F9ull, p4 = 0x85EBCA77C2B2AE63ull;
    const uint64_t p5 = 0x27D4EB2F165667C5ull;
    uint64_t h = p5 + 8;
    h ^= eng__rotl64(key * p2, 31) * p1;
    h = eng__rotl64(h, 27) * p1 + p4;
    h ^= h >> 33;
    h *= p2;
    h ^= h >> 29;
    h *= p3;
    h ^= h >> 32;
    return h;
}

/* eng_key_hash(key) % max_parallelism; a mask instead of the 64-bit division
 * when max_parallelism is a power of two (the default 128 is). */
static inline uint32_t eng_key_group(uint64_t key, uint32_t max_parallelism)
{
    uint64_t h = eng_key_hash(key);
    if ((max_parallelism & (max_parallelism - 1)) == 0)
        return (uint32_t)(h & (max_parallelism - 1));
    return (uint32_t)(h % max_parallelism);
}
uint32_t eng_key_group_subtask(uint32_t key_group, uint32_t parallelism,
                               uint32_t max_parallelism);
/* First and last (inclusive) key group of `subtask`; the range is empty
 * (first > last) only when parallelism > max_parallelism, which validation
 * forbids. */
void eng_key_group_range(uint32_t subtask, uint32_t parallelism, uint32_t max_parallelism,
                         uint32_t *first, uint32_t *last);

#endif
