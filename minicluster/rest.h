/*
 * rest.h - the outside interfaces of a running minicluster: Flink's REST API
 * v1 (the shapes of Flink 1.19's OpenAPI description, for what minicluster
 * models; docs/rest.md) and Prometheus metrics in the text format, with the
 * names and labels of Flink's Prometheus reporter.
 *
 * One hub per run holds every listener: per cluster (per JobManager, as in
 * Flink: a session cluster, each per-job cluster, each application cluster)
 * one REST listener and one metrics listener, all bound when the hub is made
 * so that a port in use is an error at start, and handed to clusters as they
 * are created (mc_rest_hub_attach).
 *
 * Threads.  Everything a response says is read from what the cluster
 * publishes for outside readers - the atomics of struct mc_cluster, struct
 * mc_job and struct eng_job, the append-only event and checkpoint lists, the
 * DFS's locked statistics - never by a message to a node or a wait on one,
 * so a slow or hostile client cannot slow a JobManager down.  The only write
 * is PATCH /jobs/:jobid?mode=cancel, one message to the job's runner.
 * Real world: the hub's own thread runs the listeners (mc_rest_hub_start).
 * Sim world: nothing serves while the world runs; mc_rest_hub_serve_paused
 * serves on the caller's thread, with the world stopped, until a client
 * sends POST /minicluster/resume.
 *
 * Bounds (what a client can cost): at most MC_REST_MAX_CONNS connections per
 * listener (more wait in the kernel's accept queue), request headers of at
 * most MC_REST_MAX_HEADERS bytes, bodies of MC_REST_MAX_BODY, a connection
 * idle for MC_REST_IDLE_S seconds is closed, and one that has not completed
 * a request MC_REST_REQUEST_S seconds after it opened or after its previous
 * request (a slowloris) is closed too.  Every response is built in one pass
 * over published state: no request waits for anything.
 */
#ifndef MC_REST_H
#define MC_REST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mc_cluster;
struct mc_probe;
struct dfs;
struct rt_world;
struct mc_rest_hub;

#define MC_REST_MAX_CONNS 64        /* open connections per listener */
#define MC_REST_MAX_HEADERS 8192    /* bytes of request line and headers */
#define MC_REST_MAX_BODY 4096       /* bytes of request body (none is needed) */
#define MC_REST_IDLE_S 5            /* a connection idle this long is closed */
#define MC_REST_REQUEST_S 10        /* a request must be complete within this */

struct mc_rest_hub_config {
    const char *bind;               /* address to listen on; NULL: 127.0.0.1 */
    int rest_port;                  /* -1: no REST API; 0: free ports; else cluster k
                                     * gets rest_port + k */
    int prom_port;                  /* -1: no metrics; 0 and above: as rest_port */
    uint32_t clusters;              /* listeners to bind per kind: the run's clusters */
    struct rt_world *w;
    struct dfs *dfs;                /* the shared DFS (minicluster_dfs_* metrics) */
    const struct mc_probe *probe;   /* NULL: no probe (no probe histogram) */
};

/*
 * Binds every listener.  Returns 0 and *out, or -EADDRINUSE / -errno with err
 * saying which address could not be bound ("127.0.0.1:8081 is in use: ...").
 * Thread that drives the run.
 */
int mc_rest_hub_new(const struct mc_rest_hub_config *cfg, struct mc_rest_hub **out, char *err,
                    size_t errlen);
/*
 * Serves cluster c on the next free listeners; their ports go to *rest_port
 * and *prom_port (0: that kind is off).  Returns 0, or -ENOSPC when every
 * listener is taken.  c must outlive the hub's serving (mc_rest_hub_free
 * first).  Thread that drives the run; safe while the hub thread serves.
 */
int mc_rest_hub_attach(struct mc_rest_hub *h, struct mc_cluster *c, uint16_t *rest_port,
                       uint16_t *prom_port);
/* Real world: serves on the hub's own thread from now on.  0 or -errno. */
int mc_rest_hub_start(struct mc_rest_hub *h);
/* Sim world: serves on the caller's thread until a client sends POST
 * /minicluster/resume to any listener.  The caller keeps the world still. */
void mc_rest_hub_serve_paused(struct mc_rest_hub *h);
/* Stops serving, closes every listener and connection, frees the hub.  NULL
 * is a no-op.  Thread that made it. */
void mc_rest_hub_free(struct mc_rest_hub *h);

/* The printable id Flink would give a job or a vertex: 32 hex digits, from
 * the cluster's name and the job's id (and the vertex's index).  buf holds 33
 * bytes.  Any thread. */
void mc_rest_job_id(const struct mc_cluster *c, uint32_t job, char buf[33]);
void mc_rest_vertex_id(const struct mc_cluster *c, uint32_t job, uint32_t vertex, char buf[33]);
/* A TaskManager's ResourceID, 32 hex digits as Flink's description wants. */
void mc_rest_tm_id(const struct mc_cluster *c, uint32_t tm, char buf[33]);

#endif
