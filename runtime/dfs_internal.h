/*
 * dfs_internal.h - state shared by dfs.c (service, capacity model), dfs_store.c
 * (executing ops on the in-memory or real store) and dfs_stats.c (counters).
 * Nothing outside runtime/dfs*.c includes it.
 */
#ifndef DFS_INTERNAL_H
#define DFS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/queue.h>

#include "runtime/dfs.h"

/* The DFS_MSG_REQ payload: this header, path NUL, path2 NUL, data. */
struct dfs__wire {
    uint64_t req_id, cookie, submit_ns, offset, length, part_size;
    uint64_t logical, logical_seed;     /* WRITE: the payload descriptor */
    uint32_t op, flags, job, phase;
    uint32_t path_len, path2_len, data_len, part_group, part_parallel, pad;
};

/* A request on the server.  Its names and data point into the message while
 * it is being handled, into `body` (a copy) if it has to wait for its turn.
 * Lives in the dfs node's memory (a crash drops it with the node). */
struct dfs__req {
    TAILQ_ENTRY(dfs__req) link; /* in the server's queue or in-service list */
    struct dfs__wire w;
    rt_addr client;
    uint32_t node;              /* requesting node id */
    const char *path, *path2;
    const unsigned char *data;
    struct dfs_done done;       /* filled when the op runs */
    uint64_t started;           /* when its service began (its bytes move from then to due) */
    uint64_t due;               /* completion time per the model */
    uint64_t seq;               /* server's start order: the completion timer's tag */
    unsigned char *payload;     /* READ data / LIST names (dfs__payload_alloc) */
    unsigned char *reply_buf;   /* the message buffer payload lies in, held by the node */
    unsigned char *body;        /* names and data, if copied; else NULL */
    unsigned char *kept;        /* the request message, kept (held by the node) while the
                                   request waits its turn, instead of a copy; else NULL */
    int created, deleted, synced;
    /* Storage profile (dfs_profile.c). */
    uint32_t attempts;          /* 503 answers so far */
    uint64_t retry_seq;         /* its backoff timer's tag, while in backoff */
    bool holds_conn;            /* counts against its node's pool */
    bool rate_waited;           /* counted in rate_waits already */
    bool waiting;               /* sent to the store, service not begun (dfs_wait_stats) */
    uint64_t wait_from;         /* since when */
    uint64_t wait_epoch;        /* the server handler that sent it */
    /* Parts (dfs_req.part_size): a parent runs its op once and completes
     * when its parts have; a part only takes the model's time. */
    struct dfs__req *parent;    /* a part's; NULL otherwise */
    uint32_t part_index;        /* which SST file of the parent */
    uint32_t parts_left;        /* a parent's parts not yet completed */
    bool executed;              /* its op ran already (a parent, a part) */
};
TAILQ_HEAD(dfs__req_list, dfs__req);

/* Request classes for the profile's per-partition rates. */
enum { DFS__CLS_NONE = -1, DFS__CLS_READ = 0, DFS__CLS_WRITE = 1 };

/* One partition's rate state: GCRA theoretical arrival times per class. */
struct dfs__part {
    uint64_t key;               /* partition id + 1; 0: empty slot */
    uint64_t tat[2];
};

/* One state backend's transfer threads: parts in flight and those waiting. */
struct dfs__group {
    uint32_t node, job, id;     /* one backend instance: ids are per job */
    uint32_t inflight;
    struct dfs__req_list backlog;
};

/* One client node's connection pool. */
struct dfs__client {
    uint64_t link_free[2];      /* when its link is free, reads [0] and writes [1] */
    uint32_t busy;              /* requests holding a connection */
    struct dfs__req_list wait;  /* waiting for one, FIFO */
};

/* The profile's state on the server (node memory: a crash of the dfs node
 * drops it with the node, as a store forgets its rate history). */
struct dfs__pstate {
    struct dfs__part *parts;    /* open addressing, cap a power of two */
    size_t nparts, cap_parts;
    struct dfs__client **clients;   /* by node id, each allocated on first use */
    size_t nclients;
    struct dfs__req_list backoff;   /* throttled, waiting to retry */
    struct dfs__group **groups;     /* with parts in flight or waiting */
    size_t ngroups, cap_groups;
};

/* One stored file (sim world): `size` bytes of data, then `logical` bytes
 * of payload that exist only as their seed. */
struct dfs__file {
    char *name;
    unsigned char *data;
    void *msg;                  /* the WRITE message data lies in (rt_msg_take), else NULL:
                                   a large file is kept as it came, not copied */
    uint64_t size, cap;
    uint64_t logical, seed;
};

struct dfs__job_stats {
    uint32_t job;
    struct dfs_io_stats s;
};

/* A purpose's part of one series bucket. */
struct dfs__pbucket {
    uint32_t peak_in_flight, end_in_flight;
    uint64_t ops, bytes_read, bytes_written;
};

struct dfs__stats {
    pthread_mutex_t mu;
    struct dfs_io_stats total, phase[DFS_PHASE_COUNT];
    struct dfs_io_stats *nodes;         /* by node id */
    size_t nnodes;
    struct dfs__job_stats *jobs;        /* sorted by job */
    size_t njobs, cap_jobs;
    uint64_t files_created, files_deleted, fsyncs;
    uint64_t cur, peak, cur_queued, peak_queued;
    uint64_t hist[DFS_LAT_BUCKETS], lat_count, lat_max;
    struct dfs_bucket *series;          /* [series_cap] */
    size_t series_n, series_cap;
    uint64_t width_ns;
    /* By purpose: now, peak, totals, and the series [series_cap][DFS_PURPOSE_COUNT]. */
    uint64_t pcur[DFS_PURPOSE_COUNT], ppeak[DFS_PURPOSE_COUNT];
    struct dfs_io_stats ptotal[DFS_PURPOSE_COUNT];
    struct dfs__pbucket *pseries;
};

struct dfs {
    struct rt_world *w;
    struct rt_node *node;
    struct dfs_config cfg;              /* root and node_name point at copies */
    int real;
    int root_fd;                        /* real world */
    _Atomic rt_addr server;             /* read by every client */
    struct rt_actor *self;              /* the server actor; its thread only */
    const struct rt_msg *cur_msg;       /* the request being handled, while it is */
    atomic_uint_fast64_t next_req;

    /* Sim store: sorted by name.  Written by the server only; the mutex is
     * for dfs_count_files from other threads. */
    pthread_mutex_t store_mu;
    struct dfs__file *files;
    size_t nfiles, cap_files;
    uint64_t stored, stored_logical;    /* data bytes held; sizes incl. logical */
    uint64_t peak_stored, peak_stored_logical;

    struct dfs__stats st;

    /* Storage profile counters (struct dfs_profile_stats), any thread. */
    atomic_uint_fast64_t p_throttled, p_retries, p_gave_up, p_pool_waits, p_rate_waits,
        p_partitions, local_bytes, inline_bytes;
    /* Queueing by purpose (struct dfs_wait_stats), any thread. */
    atomic_uint_fast64_t q_waits[DFS_PURPOSE_COUNT], q_wait_ns[DFS_PURPOSE_COUNT],
        q_wait_max[DFS_PURPOSE_COUNT], l_waits[DFS_PURPOSE_COUNT], l_wait_ns[DFS_PURPOSE_COUNT];
};

/* Allocations that outlive a crash of the dfs node (stored data, counter
 * tables) are charged to the process even from a dfs handler: rt_xmalloc_process,
 * or this for growing a block of which `used` bytes matter. */
void *dfs__proc_grow(void *p, size_t used, size_t size);    /* keeps used bytes */

/* r's payload of n bytes, laid out in a message buffer behind room for the
 * DONE header, so the reply sends it without a copy.  The buffer is held by
 * the dfs node (released if it crashes).  Server thread. */
unsigned char *dfs__payload_alloc(struct dfs *d, struct dfs__req *r, size_t n);
void dfs__payload_free(struct dfs *d, struct dfs__req *r);

/* dfs_store.c: runs r's op now (failpoints first), filling r->done (status,
 * bytes, offset, size, count, payload_len) and r->payload.  Server thread. */
void dfs__exec(struct dfs *d, struct dfs__req *r);
/* Validates a relative name: 0 or -EINVAL.  A prefix (LIST, DELETE with
 * DFS_F_PREFIX, counting) may also be "" or end with '/'. */
int dfs__path_ok(const char *p, int prefix);
int dfs__count(struct dfs *d, const char *prefix);
/* dfs_fs.c: the real-world store (same contract as the sim one). */
int dfs__fs_exec(struct dfs *d, struct dfs__req *r);
int dfs__fs_count(struct dfs *d, const char *prefix);
void dfs__store_free(struct dfs *d);
/* The sim store's data bytes and logical sizes, now and at their peaks.
 * Any thread. */
void dfs__store_sizes(struct dfs *d, uint64_t out[4]);

/* dfs_profile.c: the storage profile's pieces, server thread only. */
void dfs__pstate_init(struct dfs__pstate *p);
/* The class of r for the per-partition rates (DFS__CLS_*). */
int dfs__req_class(const struct dfs_profile *pr, const struct dfs__req *r);
/* The partition r falls in (S3: its prefix, entropy applied). */
uint64_t dfs__partition(const struct dfs_profile *pr, const struct dfs__req *r);
/* The rate state of partition part (created on first use). */
struct dfs__part *dfs__part_get(struct dfs *d, struct dfs__pstate *p, uint64_t part);
/* The backoff before retry number `attempt` (1-based), jitter from rnd. */
uint64_t dfs__backoff_ns(const struct dfs_profile *pr, uint32_t attempt, uint64_t rnd);
/* Takes a pooled connection of r's node for r: true, or false with r put
 * on the node's wait list. */
bool dfs__pool_admit(struct dfs *d, struct dfs__pstate *p, struct dfs__req *r);
/* r gives its connection back; returns the next waiter of its node, which
 * now holds one, or NULL. */
struct dfs__req *dfs__pool_release(struct dfs *d, struct dfs__pstate *p, struct dfs__req *r);

/* r's wait for capacity (dfs_wait_stats) ends at now; epoch: the server
 * handler running now.  Server thread. */
void dfs__wait_end(struct dfs *d, struct dfs__req *r, uint64_t now, uint64_t epoch);
/* When r, moving `bytes` from data_start on and due at `due` by the rest
 * of the model, completes once its node's link has carried its bytes
 * (client_link); counts the delay.  Server thread. */
uint64_t dfs__link_due(struct dfs *d, struct dfs__pstate *p, const struct dfs__req *r,
                       uint64_t data_start, uint64_t bytes, uint64_t due);

/* A backend's transfer-thread group (created on first use, or NULL), and
 * its removal once nothing of it is in flight or waiting. */
struct dfs__group *dfs__group_get(struct dfs__pstate *p, uint32_t node, uint32_t job, uint32_t id,
                                  bool create);
void dfs__group_drop_if_idle(struct dfs__pstate *p, struct dfs__group *g);

/* dfs_stats.c */
void dfs__stats_init(struct dfs__stats *st, const struct dfs_config *cfg);
void dfs__stats_free(struct dfs__stats *st);
/* Requests in service + queued changed by delta at world time now; phase
 * is the request's (for the by-purpose counts). */
void dfs__stats_flight(struct dfs__stats *st, uint64_t now, unsigned phase, int delta);
/* Requests waiting for a stream or a token, now. */
void dfs__stats_queued(struct dfs__stats *st, uint64_t now, uint64_t queued);
/* A request completed at now (the counters, the histogram, the series). */
void dfs__stats_done(struct dfs__stats *st, uint64_t now, const struct dfs__req *r);
/* The server restarted: nothing is in flight any more. */
void dfs__stats_reset_flight(struct dfs__stats *st, uint64_t now);

#endif
