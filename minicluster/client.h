/*
 * client.h - the work around a cluster: the client that runs an
 * application's main() before submission, the probe that stands for "other
 * services" using the shared filesystem, and a driver agent through which
 * code outside the world (the scenario runner) issues DFS operations.
 *
 * The client does what a Flink client does before submitting: download the
 * application's artifacts from the DFS and run main() (CPU); then, with each
 * job it submits, upload that job's graph and artifacts to the blob server of
 * the cluster that runs it (mc_upload_start; cluster/blob.h).  In application
 * mode the same work runs on the JobManager node instead (download and
 * main(); no upload), which is the point of that mode: spawn the client
 * actor there.
 *
 * Results are atomics in process memory, read by any thread.
 */
#ifndef MC_CLIENT_H
#define MC_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/rt.h"

struct dfs;
struct mc_cluster;

struct mc_app_work {
    struct dfs *dfs;            /* set by mc_app_work_start */
    char name[48];
    char artifact[128];         /* DFS path to download ("" : nothing) */
    uint64_t main_cpu_ns;       /* main()'s CPU: burned for real in the real world,
                                   modelled as elapsed time in the sim world */
    uint32_t job;               /* accounting */

    atomic_int done;            /* 1 ok, -errno failed */
    atomic_uint_fast64_t cpu_ns, bytes_down;
    atomic_uint_fast64_t bytes_up;      /* what its uploads stored (struct mc_upload) */
    atomic_uint_fast64_t started_ns, finished_ns;
};

/* Runs the work on node n (its application's client node, or a JobManager
 * node in application mode): spawns a short-lived actor.  w stays owned by the
 * caller, in process memory, until done != 0.  Any thread. */
int mc_app_work_start(struct rt_node *n, struct dfs *d, struct mc_app_work *w);

/* ---- blob upload ------------------------------------------------------------- */

/* One job's blobs as the client ships them with its submission (a Flink
 * client uploads a job's jars each time it submits one): the job graph,
 * then the artifacts, in chunks of MC_BLOB_CHUNK to the blob server of the
 * cluster's leader.  Submit the job once done is 1. */
struct mc_upload {
    struct mc_cluster *cluster;
    uint32_t job;               /* the id the job will be submitted with */
    uint64_t graph_bytes;       /* the job graph (0: none) */
    uint64_t artifact_bytes;    /* the artifacts (0: none) */
    struct mc_app_work *work;   /* its bytes_up counts what was stored (NULL: none) */
    bool logical;               /* sim world: descriptors, no bytes (blob.h, "Logical blobs") */

    atomic_int done;            /* 1 ok, -errno failed (-EHOSTDOWN: no blob server to
                                   talk to; -errno the server's) */
    atomic_uint_fast64_t bytes_stored;  /* acknowledged by the blob server */
};

/* Runs the upload on node n (its application's client node) as a
 * short-lived actor; u stays owned by the caller, in process memory, until
 * done != 0.  Returns 0, or -EHOSTDOWN when n is down.  Any thread. */
int mc_upload_start(struct rt_node *n, struct mc_upload *u);

/* ---- the probe ------------------------------------------------------------- */

struct mc_probe {
    struct dfs *dfs;            /* set by mc_probe_start */
    uint64_t every_ns;
    uint64_t read_bytes;
    char path[64];
    uint32_t cap;
    atomic_uint n;              /* samples recorded */
    uint64_t *t_ns, *lat_ns;    /* cap each; written by the probe, read after n */
    atomic_int stop;
};
/* Starts the probe on node n: every every_ns a read of read_bytes from path
 * (which must exist), its latency recorded.  p in process memory. */
int mc_probe_start(struct rt_node *n, struct dfs *d, struct mc_probe *p);

/* ---- the driver agent ---------------------------------------------------------- */

struct mc_driver;
/* An agent on node n for DFS operations from outside the world. */
struct mc_driver *mc_driver_new(struct rt_node *n, struct dfs *d);
void mc_driver_free(struct mc_driver *dr);
/* Writes `bytes` bytes (a pattern) to path, or deletes everything under a
 * prefix; waits (rt_world_wait) until done.  Returns 0 or -errno.  Not from
 * a handler. */
int mc_driver_write(struct mc_driver *dr, const char *path, uint64_t bytes, uint32_t phase);
/* As mc_driver_write, for a file whose bytes nobody reads, only their count
 * and the transfer (an application's jar: main() downloads it): in the sim
 * world they are a payload descriptor (seeded by the path) that the DFS
 * charges like real bytes - transfer, queueing, counters, the file's size -
 * without holding them (dfs.h, "Logical bytes").  The real world writes them. */
int mc_driver_stage(struct mc_driver *dr, const char *path, uint64_t bytes, uint32_t phase);
int mc_driver_delete_prefix(struct mc_driver *dr, const char *prefix, uint32_t phase);

#endif
