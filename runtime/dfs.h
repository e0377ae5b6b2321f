/*
 * dfs.h - the shared filesystem service: where checkpoints, HA metadata and
 * artifacts live, with a finite capacity that every client competes for.
 *
 * The service is one node of the world (named "dfs" unless configured) that
 * hosts one server actor.  Clients are actors on other nodes: they call
 * dfs_submit() from a handler, which sends a DFS_MSG_REQ message, and later
 * receive one DFS_MSG_DONE message per request.  Nothing ever blocks.
 *
 * Capacity model (the same arithmetic in both worlds; 0 means unlimited):
 *   - at most `streams` requests are in service at once; more wait in a FIFO;
 *   - each request in service moves bytes at bandwidth/streams bytes/s
 *     (at `bandwidth` when streams is unlimited);
 *   - an op starts only with a token of an ops/s bucket (depth ops_burst);
 *   - every op costs base_latency_ns on top of its transfer.
 * A request that starts at t completes at t + base_latency + bytes * streams /
 * bandwidth (+ the dfs/slow failpoint's extra), rounded up to a nanosecond.
 * Metadata ops (fsync, rename, list, delete, stat) move 0 bytes but hold a
 * stream for their latency: a probe's stat queues behind a recovery storm.
 *
 * Worlds: RT_WORLD_SIM keeps files in memory (sorted map; deterministic, no
 * wall clock) and queues in virtual time.  RT_WORLD_REAL does real file I/O
 * under cfg.root in the server's handler when a request starts, then holds the
 * reply until the model's completion time (at once when unlimited).
 *
 * The stored data outlives a crash of the dfs node (a crash loses requests in
 * flight and their replies, never what was written), as with a real DFS; in
 * the sim world it is therefore charged to the process, not to the dfs node.
 *
 * Logical bytes.  A WRITE may stand for more bytes than it carries: `logical`
 * bytes of payload follow its data, defined by a 64-bit seed and never
 * materialised in the sim world (production-sized declared state costs a
 * descriptor, not memory).  The model charges them like real bytes -
 * transfer time, queueing, counters, the stored size - and a READ that
 * covers them reports how many it delivered and their payload sum
 * (dfs_payload_sum of the seed, the range's offset in the payload and its
 * length), which dfs/corrupt spoils when the byte it picks lies in them.  The
 * real world writes real bytes: it refuses a WRITE with logical bytes with
 * -EOPNOTSUPP.
 *
 * Failpoints (libfiu; table in docs/failpoints.md): dfs/open, dfs/read,
 * dfs/write, dfs/fsync, dfs/rename, dfs/list, dfs/delete, dfs/stat (fail the
 * op with the errno given as failinfo, else the natural one), dfs/corrupt
 * (flip one byte of the data a read returns), dfs/slow (failinfo: extra ns).
 */
#ifndef DFS_H
#define DFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/rt.h"

struct dfs;

/* Message types of the protocol (RT_MSG_USER + 900.. belongs to dfs). */
#define DFS_MSG_REQ  (RT_MSG_USER + 900)   /* client -> server; layout private to dfs */
#define DFS_MSG_DONE (RT_MSG_USER + 901)   /* server -> client: struct dfs_done + payload */

enum dfs_op {
    DFS_OP_WRITE = 1,   /* create/truncate (or append) path, write data */
    DFS_OP_READ,        /* offset, length (0: to end of file) */
    DFS_OP_FSYNC,       /* make path durable */
    DFS_OP_RENAME,      /* path -> path2, atomic, replaces path2 */
    DFS_OP_LIST,        /* file names starting with path (a string prefix), sorted */
    DFS_OP_DELETE,      /* path, or every file under it with DFS_F_PREFIX */
    DFS_OP_STAT,        /* size of path; -ENOENT when absent */
    DFS_OP_COUNT        /* number of ops + 1; not an op */
};

/* What a request is for: accounting only. */
enum dfs_phase {
    DFS_PHASE_OTHER,        /* untagged */
    DFS_PHASE_CHECKPOINT,   /* writing snapshots and checkpoint metadata */
    DFS_PHASE_RESTORE,      /* reading state back after a failure */
    DFS_PHASE_ARTIFACT,     /* jars, application code */
    DFS_PHASE_HA,           /* leader and job-graph metadata */
    DFS_PHASE_BLOB,         /* blob server uploads and downloads */
    DFS_PHASE_PROBE,        /* an unrelated client measuring the service */
    DFS_PHASE_COUNT         /* number of phases; not a phase */
};

/* What a request's bytes were for, as a report groups the phases: the
 * recovery rows count restore reads, not the checkpoints of jobs that never
 * failed.  DFS_PHASE_ARTIFACT and DFS_PHASE_BLOB are both artifacts (jars and
 * job graphs); HA and untagged requests are "other". */
enum dfs_purpose {
    DFS_PURPOSE_RESTORE,        /* DFS_PHASE_RESTORE */
    DFS_PURPOSE_CHECKPOINT,     /* DFS_PHASE_CHECKPOINT */
    DFS_PURPOSE_ARTIFACTS,      /* DFS_PHASE_ARTIFACT, DFS_PHASE_BLOB */
    DFS_PURPOSE_PROBE,          /* DFS_PHASE_PROBE */
    DFS_PURPOSE_OTHER,          /* DFS_PHASE_HA, DFS_PHASE_OTHER */
    DFS_PURPOSE_COUNT           /* number of purposes; not a purpose */
};

/* The purpose of a phase (any value; unknown phases are "other"), and the
 * purpose's name as reports print it ("restore", "checkpoint", "artifacts",
 * "probe", "other"). */
enum dfs_purpose dfs_phase_purpose(unsigned phase);
const char *dfs_purpose_name(enum dfs_purpose p);

#define DFS_F_APPEND 0x1u   /* WRITE: append instead of create/truncate */
#define DFS_F_PREFIX 0x2u   /* DELETE: every file whose name starts with path */
#define DFS_F_LOCAL  0x4u   /* READ: the client's local copy of the file (a TaskManager's
                               local recovery): served at once, outside the capacity
                               model and the counters but for dfs_local_bytes_read */
#define DFS_F_INLINE 0x8u   /* WRITE, READ, FSYNC: state small enough to travel inside the
                               checkpoint's _metadata (state.storage.fs.memory-threshold):
                               no request of its own - served at once, outside the model
                               and the counters but for dfs_inline_bytes */

#define DFS_PATH_MAX 1024   /* longest accepted path, bytes */

/*
 * Storage profiles (runtime/dfs_profile.c; parameters and their sources in
 * docs/storage.md).  A profile adds what a real store does on top of the
 * generic model above:
 *   - request rates per partition, separately for write-class requests
 *     (S3 PUT/COPY/DELETE; HDFS create/rename/delete at the NameNode) and
 *     read-class ones (S3 GET/HEAD/LIST; HDFS open/stat/list).  S3's
 *     partitions are key prefixes: every checkpoint file shares one unless
 *     entropy injection spreads data files over entropy_length random
 *     characters (metadata files excluded, as in Flink); HDFS and NFS have
 *     one (the NameNode, the server).  Above the rate, S3 answers 503
 *     SlowDown and the client retries after a jittered exponential backoff
 *     (retry_limit times from retry_interval, then the request fails with
 *     -EAGAIN); HDFS and NFS make the request wait for its turn;
 *   - a per-connection bandwidth: a request in service never moves faster;
 *   - a first-byte latency drawn uniformly in [base_latency, latency_max]
 *     from the dfs node's seeded RNG;
 *   - a connection pool per client node (a TaskManager's s3a pool, shared by
 *     its slots): at most `pool` requests of one node in service or queued
 *     at the store; more wait at the client;
 *   - a network link per client node (client_link, per direction): the
 *     bytes of one node's requests in service pass it one after the other
 *     at its rate, from their first byte on, so a node's requests together
 *     never move faster than its link; a request the link slows finishes
 *     late by the difference (dfs_wait_stats.link_*).
 */
enum dfs_profile_kind {
    DFS_PROFILE_NONE,           /* the generic model only */
    DFS_PROFILE_S3,
    DFS_PROFILE_HDFS,
    DFS_PROFILE_NFS,
};

struct dfs_profile {
    enum dfs_profile_kind kind;
    uint64_t write_rate;        /* write-class requests/s per partition; 0: unlimited */
    uint64_t read_rate;         /* read-class requests/s per partition; 0: unlimited */
    bool throttle;              /* above the rate: 503 and client retry (S3), else wait */
    uint64_t conn_bandwidth;    /* bytes/s of one request in service; 0: unlimited */
    uint64_t latency_max_ns;    /* > base_latency_ns: latency drawn in between */
    uint32_t pool;              /* requests per client node at the store; 0: unlimited */
    uint32_t retry_limit;       /* throttled retries before the request fails */
    uint64_t retry_interval_ns; /* first backoff; doubles per retry, +-50% jitter */
    uint32_t entropy_length;    /* S3 entropy characters on data files; 0: none */
    uint64_t client_link;       /* bytes/s of each client node's network link to the
                                   store, per direction (a full-duplex NIC: reads
                                   share one, writes the other); 0: unlimited */
};

/* Fills *p with kind's documented defaults (docs/storage.md). */
void dfs_profile_defaults(struct dfs_profile *p, enum dfs_profile_kind kind);
/* "s3", "hdfs", "nfs", or "none". */
const char *dfs_profile_name(enum dfs_profile_kind kind);

/* What the profile did (any thread). */
struct dfs_profile_stats {
    uint64_t throttled_requests;    /* 503 SlowDown answers */
    uint64_t retries;               /* requests sent again after a backoff */
    uint64_t gave_up;               /* failed with -EAGAIN after retry_limit retries */
    uint64_t pool_waits;            /* requests that waited for a pooled connection */
    uint64_t rate_waits;            /* requests that waited for a partition's rate */
    uint64_t partitions;            /* distinct partitions (prefixes) used */
};
void dfs_profile_stats_get(struct dfs *d, struct dfs_profile_stats *out);
/* Queueing: requests of one purpose that waited for capacity before their
 * service began - for a pooled connection of their node, a stream, an ops
 * token or their partition's rate (HDFS, NFS) - and how long, from when
 * they were sent to the store (or sent again after a 503 backoff) to the
 * start of service.  Neither a 503 backoff nor the wait for the sender's
 * own transfer threads counts: the first is in dfs_profile_stats, the
 * second is the client's parallelism, not the store's capacity.  A request
 * started by the handler that received it never waited.  Any thread. */
struct dfs_wait_stats {
    uint64_t waits;             /* requests (each SST-file part one) that waited; a
                                   request sent again after a 503 may wait again */
    uint64_t wait_ns;           /* their waits, summed */
    uint64_t max_wait_ns;       /* the longest one */
    uint64_t link_waits;        /* requests in service that their node's link slowed */
    uint64_t link_wait_ns;      /* the time the link added to them, summed */
};
void dfs_wait_stats_get(struct dfs *d, enum dfs_purpose p, struct dfs_wait_stats *out);
/* Bytes read with DFS_F_LOCAL (from TaskManagers' local copies); any thread. */
uint64_t dfs_local_bytes_read(struct dfs *d);
/* Bytes written and read with DFS_F_INLINE (inside _metadata); any thread. */
uint64_t dfs_inline_bytes(struct dfs *d);

struct dfs_config {
    uint64_t bandwidth;         /* bytes/s shared by all streams; 0: unlimited */
    uint64_t ops_per_s;         /* op starts per second; 0: unlimited */
    uint32_t ops_burst;         /* token bucket depth; 0: 1 */
    uint32_t streams;           /* requests in service at once; 0: unlimited */
    uint64_t base_latency_ns;   /* added to every op */
    const char *root;           /* real world: an existing directory (the caller
                                   makes a fresh 0700 run dir); ignored in sim */
    const char *node_name;      /* NULL: "dfs" */
    uint64_t series_bucket_ns;  /* time-series bucket width; 0: 10 ms */
    uint32_t series_cap;        /* buckets kept; 0: 4096.  When full, pairs merge
                                   and the width doubles, so the series always
                                   covers the whole run */
    struct dfs_profile profile; /* zero: DFS_PROFILE_NONE */
};

/* A request.  Pointers need only live during dfs_submit (it copies). */
struct dfs_req {
    enum dfs_op op;
    const char *path;           /* relative: "job-3/chk-5/task-2.state" */
    const char *path2;          /* RENAME: the new name */
    const void *data;           /* WRITE: bytes */
    size_t len;                 /* WRITE: byte count */
    uint64_t offset;            /* READ */
    uint64_t length;            /* READ: 0 = to end of file */
    uint32_t flags;             /* DFS_F_* */
    uint32_t job;               /* job id for accounting (0: none) */
    enum dfs_phase phase;
    uint64_t cookie;            /* echoed in dfs_done, for the client's use */
    uint64_t logical;           /* WRITE, sim world: payload bytes after data,
                                   carried as a descriptor (see above); 0: none.
                                   With DFS_F_APPEND only without data, onto a file
                                   that is payload of the same seed alone (the payload
                                   grows); otherwise -EINVAL */
    uint64_t logical_seed;      /* WRITE: what defines the payload's bytes */
    /* READ or WRITE as a set of files (RocksDB's SST files of one state
     * handle, downloaded or uploaded):
     * the store serves it as ceil(size / part_size) requests, each its
     * own request to the capacity model and the profile (rate, pool,
     * connection bandwidth, latency), at most part_parallel of one
     * (requesting node, job, part_group) in flight at once - a state backend's
     * transfer threads, shared by all the files it moves.  One completion
     * with all the data.  part_size 0 (or an append): one request. */
    uint64_t part_size;
    uint32_t part_group;
    uint32_t part_parallel;     /* 0: 1 */
};

/*
 * A WRITE whose bytes the caller produces in place, for large files (a
 * snapshot encodes straight into its request): dfs_write_prepare returns
 * where to put len bytes (req->data and req->len are not used), and
 * dfs_submit_write sends it as dfs_submit would; dfs_write_abandon drops one
 * that will not be sent.  NULL, with nothing to submit or abandon, when the
 * request is too large for one message (dfs_submit says -EMSGSIZE).
 */
struct dfs_write;
void *dfs_write_prepare(const struct dfs_req *req, size_t len, struct dfs_write **w);
/* Sets a prepared WRITE's logical payload (as dfs_req.logical and
 * logical_seed), once its data is known: a state file's seed is its own
 * checksum.  Before dfs_submit_write. */
void dfs_write_set_logical(struct dfs_write *w, uint64_t logical, uint64_t seed);

/* The payload sum of `len` logical bytes at offset `off` of a payload with
 * this seed, as an intact READ reports it.  Any thread. */
uint64_t dfs_payload_sum(uint64_t seed, uint64_t off, uint64_t len);

/* The head of a DFS_MSG_DONE payload; the payload follows it at once:
 * READ: `bytes` bytes of data; LIST: `count` names, each NUL-terminated,
 * sorted, `payload_len` bytes in all.  Other ops: no payload. */
struct dfs_done {
    uint64_t req_id;            /* what dfs_submit returned */
    uint64_t cookie;            /* from the request */
    uint32_t op;                /* enum dfs_op */
    int32_t status;             /* 0 or -errno */
    uint64_t bytes;             /* READ: data bytes; WRITE: bytes written */
    uint64_t offset;            /* READ/WRITE: file offset of the data */
    uint64_t size;              /* file size after WRITE/READ/FSYNC/STAT */
    uint32_t count;             /* LIST: names; DELETE: files removed; WRITE: 1 if created */
    uint32_t payload_len;       /* bytes after this header */
    uint64_t latency_ns;        /* submit to completion */
    uint64_t logical;           /* READ/WRITE: logical bytes moved beyond `bytes`
                                   (READ: they follow the data in the file) */
    uint64_t logical_sum;       /* READ: payload sum of them as delivered */
};

/* ---- service ----------------------------------------------------------- */

/*
 * Adds the dfs node to w, starts it and spawns the server actor.  Real world:
 * cfg->root must name an existing directory; files go under it.  Returns 0
 * and *out, -EINVAL for a bad config, -ENOSPC when the world has no room for
 * a node, or -errno from opening root.  The caller owns *out.  Call from the
 * thread that drives the world, not from a handler (in the sim world it runs
 * the world until the server is up).
 */
int dfs_new(struct rt_world *w, const struct dfs_config *cfg, struct dfs **out);

/* Frees the service's memory (stored data, counters) and closes root; real
 * files stay.  Call after rt_world_free(w), or at least once the dfs node is
 * down and no actor can call dfs_submit.  NULL is a no-op. */
void dfs_free(struct dfs *d);

/* After a crash or stop of the dfs node: starts it again and spawns a new
 * server (new address; stored data kept).  Returns 0, -EALREADY if up, or
 * -errno.  Same thread rules as dfs_new. */
int dfs_restart(struct dfs *d);

/* The node hosting the server, and the server's current address.  Any thread. */
struct rt_node *dfs_node(const struct dfs *d);
rt_addr dfs_addr(const struct dfs *d);

/* ---- client ------------------------------------------------------------ */

/*
 * Sends req to the server on behalf of self and returns its request id (> 0).
 * Exactly one DFS_MSG_DONE with this id comes back to self - unless the dfs
 * node crashes or the network loses a message meanwhile, so clients keep a
 * timeout.  When the request cannot leave (the dfs node is down: -EHOSTDOWN;
 * too large for a message: -EMSGSIZE) the completion is sent by self to self.
 * Bad paths and missing files come back as statuses.  From a handler (or an
 * rt_node_call function) of self's node.
 */
uint64_t dfs_submit(struct rt_actor *self, struct dfs *d, const struct dfs_req *req);
/* Sends a prepared WRITE (see dfs_write_prepare) as dfs_submit does; w is gone after. */
uint64_t dfs_submit_write(struct rt_actor *self, struct dfs *d, struct dfs_write *w);
void dfs_write_abandon(struct dfs_write *w);
/* Adds DFS_F_* flags to a prepared WRITE (say, DFS_F_INLINE once its size
 * is known). */
void dfs_write_add_flags(struct dfs_write *w, uint32_t flags);

/* Reads a DFS_MSG_DONE message: copies the header to *out and points
 * *payload at what follows.  Returns 0, or -EINVAL if m is not a well-formed
 * completion.  During the handler only (the payload lives as long as m). */
int dfs_done_parse(const struct rt_msg *m, struct dfs_done *out, const void **payload);

/* Walks a LIST payload: the name after prev (NULL: the first), or NULL at the
 * end.  Any thread. */
const char *dfs_list_next(const void *payload, uint32_t payload_len, const char *prev);

/* Counts files whose name starts with prefix ("" for all): real files under
 * root (real world) or stored entries (sim) - to report what lingers after a
 * teardown.  Returns the count or -errno.  Any thread, not from a dfs handler. */
int dfs_count_files(struct dfs *d, const char *prefix);

/* ---- statistics (any thread; each getter takes a consistent snapshot) -- */

struct dfs_io_stats {
    uint64_t ops;               /* completed requests, failed ones included */
    uint64_t errors;            /* of which failed */
    uint64_t bytes_read;        /* every byte the model moved, logical ones included */
    uint64_t bytes_written;
    uint64_t logical_bytes_read;    /* of those, carried as descriptors */
    uint64_t logical_bytes_written;
};

#define DFS_LAT_BUCKETS 64      /* bucket k counts latencies in [2^k, 2^(k+1)) ns; 0 in 0 */

struct dfs_stats {
    struct dfs_io_stats total;
    uint64_t files_created;
    uint64_t files_deleted;
    uint64_t fsyncs;
    uint64_t cur_concurrency;   /* requests in service + queued, now */
    uint64_t peak_concurrency;
    uint64_t cur_queued;        /* waiting for a stream or a token, now */
    uint64_t peak_queued;
    uint64_t lat_count;
    uint64_t lat_p50_ns;        /* upper bound of the log2 bucket, capped at max */
    uint64_t lat_p99_ns;
    uint64_t lat_max_ns;
    uint64_t lat_hist[DFS_LAT_BUCKETS];
    uint64_t stored_bytes;      /* sim store: bytes held in memory (data) */
    uint64_t stored_logical_bytes;  /* sim store: the files' sizes, logical bytes included */
    uint64_t peak_stored_bytes;     /* the highest of each so far (0 in the real world) */
    uint64_t peak_stored_logical_bytes;
};

void dfs_stats_get(struct dfs *d, struct dfs_stats *out);
/* Counters of one phase, one job, or one requesting node (zeros if none). */
void dfs_stats_phase(struct dfs *d, enum dfs_phase phase, struct dfs_io_stats *out);
void dfs_stats_job(struct dfs *d, uint32_t job, struct dfs_io_stats *out);
void dfs_stats_node(struct dfs *d, uint32_t node_id, struct dfs_io_stats *out);

/* One bucket of the time series: world time [t_ns, t_ns + width). */
struct dfs_bucket {
    uint64_t t_ns;
    uint64_t t_ms;
    uint32_t peak_in_flight;    /* highest concurrency during the bucket */
    uint32_t end_in_flight;     /* concurrency at its end */
    uint64_t ops;               /* completed in the bucket */
    uint64_t bytes_read;        /* by requests completed in the bucket */
    uint64_t bytes_written;
};

/* Copies up to cap buckets (from time 0) to out, sets *width_ns, returns how
 * many exist (may exceed cap). */
size_t dfs_series_get(struct dfs *d, struct dfs_bucket *out, size_t cap, uint64_t *width_ns);

/* Sums of the buckets overlapping [t0_ns, t1_ns): what a report calls
 * "recovery_bytes_read" or "recovery_peak_concurrency" with t0 = recovery
 * start.  Resolution is the bucket width. */
struct dfs_window {
    uint64_t ops, bytes_read, bytes_written;
    uint64_t peak_concurrency;
};
void dfs_window_get(struct dfs *d, uint64_t t0_ns, uint64_t t1_ns, struct dfs_window *out);

/* One purpose's share: its bytes, requests (completed) and its peak of
 * requests in service or queued at once - over the whole run
 * (dfs_purpose_get), or over the buckets overlapping [t0_ns, t1_ns)
 * (dfs_purpose_window; peak_concurrency is then the purpose's highest in
 * those buckets).  The purposes' bytes and ops add up to the totals. */
void dfs_purpose_get(struct dfs *d, enum dfs_purpose p, struct dfs_window *out);
void dfs_purpose_window(struct dfs *d, enum dfs_purpose p, uint64_t t0_ns, uint64_t t1_ns,
                        struct dfs_window *out);

#endif
