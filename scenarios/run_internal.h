/*
 * run_internal.h - what the runner's files share: run_build.c (scenario to
 * configuration and job graphs), run.c (the run itself), run_faults.c (the
 * fault plan), run_report.c (the run object and the expectations).
 */
#ifndef SCN_RUN_INTERNAL_H
#define SCN_RUN_INTERNAL_H

#include <stdio.h>

#include "minicluster/client.h"
#include "minicluster/cluster.h"
#include "runtime/dfs.h"
#include "scenarios/run.h"

struct dfs;
struct flt_active;

#define RUN_MAX_CLUSTERS 1024   /* per-job mode: one a job; production-sized runs have dozens */

struct run_cluster {
    struct mc_cluster *c;
    uint64_t spinup_ns;             /* creation to every TaskManager registered; 0: not yet */
    uint64_t teardown_ns;           /* stop + delete of its files; 0: not torn down */
    int lingering;                  /* files left under its folder after teardown */
    bool torn_down;
    uint16_t rest_port, prom_port;  /* where its JobManager serves (0: not served) */
};

enum run_app_state { APP_WAITING, APP_MAIN, APP_RUNNING, APP_DONE, APP_FAILED };

struct run_app {
    const struct scn_application *a;
    struct mc_app_work work;        /* client or JobManager pre-submission work */
    enum run_app_state state;
    size_t next;                    /* next job of a->jobs to execute */
    struct run_cluster *cluster;    /* application mode */
    struct rt_node *client;         /* where its main() and uploads run in session and
                                       per-job mode: its own `flink run` process */
    struct mc_upload upload;        /* the client shipping a job's blobs before its submission */
    struct run_job *uploading;      /* that job (NULL: none) ... */
    struct run_cluster *upload_to;  /* ... and the cluster it goes to */
    char error[256];
};

struct run_job {
    const struct scn_job *sj;
    struct mc_job *mj;
    struct run_cluster *cluster;    /* where it runs */
    uint64_t blob_bytes_in;         /* its blobs the blob server stored */
    bool done;
};

struct run_fault {
    const struct scn_fault *f;
    uint32_t seen, fired;           /* event occurrences, firings */
    uint64_t last_count;            /* event counter at the last look */
    uint64_t heal_at;               /* world ns; 0: nothing to heal */
    struct flt_active **active;     /* what to heal: one per node it hit (r->nclients
                                       for a fault on the client), NULL entries none */
    size_t nactive;
    char text[200];
};

struct run_fault_log {
    uint64_t at_ns, until_ns;
    char action[96], target[96], detail[160];
};

struct run {
    const struct scn_scenario *s;
    struct scn_run_opts o;
    /* something_due's job and node checks found nothing at these counts of
     * job state changes (eng_job_state_changes) and nodes gone down
     * (rt_world_downs); valid while quiet. */
    uint64_t jobs_epoch, downs_epoch;
    bool quiet;
    uint64_t seed;
    struct mc_cluster_config ccfg;
    struct rt_world *w;
    struct dfs *dfs;
    char root[256];
    /* The client nodes: in session and per-job mode one per application, as
     * each application is submitted by its own client process (`flink run`)
     * and their main()s run side by side.  Named "client" when there is one,
     * "client-APP" otherwise.  Application mode has a single idle "client"
     * (main() runs on the JobManager), so a fault on the client still has a
     * node to hit. */
    struct rt_node **clients;
    size_t nclients;
    struct rt_node *probe_node, *driver_node;
    struct mc_driver *driver;
    struct eng_reference_warmer *warm;  /* the verdict's tables, computed beside the run */
    struct mc_probe probe;
    struct run_cluster clusters[RUN_MAX_CLUSTERS];
    size_t nclusters;
    struct run_app *apps;
    struct run_job *jobs;
    struct run_fault *faults;
    struct run_fault_log log[128];
    size_t nlog;
    uint64_t t0_ns, first_fault_ns, end_ns, wall_ms;
    bool deadline_hit;
    uint64_t setup_bytes_read, setup_bytes_written, setup_ops, setup_files;
    struct dfs_window setup_purpose[DFS_PURPOSE_COUNT];   /* by purpose, before t0 */
    struct mc_rest_hub *hub;        /* outside interfaces (run_rest.c); NULL: none */
    bool paused;                    /* sim: the --pause-at pause has happened */
    uint64_t paused_ms;             /* wall time spent serving with the world still */
};

/* run_build.c */
/* The shared filesystem's capacity model and storage profile from the
 * scenario's dfs statement and S3 keys (root left for the caller). */
struct dfs_config;
void run__dfs_config(const struct scn_scenario *s, struct dfs_config *dc);
int run__cluster_config(const struct scn_scenario *s, struct mc_cluster_config *c, char *err,
                        size_t errlen);
struct eng_jobgraph *run__job_graph(const struct scn_job *sj);
/* Configuration keys set in s that the runner does not model (no effect). */
size_t run__unmodelled(const struct scn_scenario *s, const char **out, size_t cap);

/* run_report.c: the run object; returns SCN_RUN_OK or SCN_RUN_FAILED. */
int run__report(struct run *r, json_t **out);

/* run_window.c: the recovery-window figures (probe against a baseline
 * window, SLO, DFS by purpose) added to the run object; had: a recovery
 * happened, over [from, to) in world ns. */
void run__window_figures(struct run *r, bool had, uint64_t from, uint64_t to, json_t *run);

/* run_faults.c: fires one fault now (skipped, with the reason logged, when
 * its target does not exist in this mode yet) ... */
void run__fire(struct run *r, struct run_fault *rf);
/* ... and fires the event-triggered faults whose event has happened since
 * the last look (act false: only tells whether any has); true if any has. */
bool run__check_events(struct run *r, bool act);
/* Heals what rf applied that lasts (no-op when nothing). */
void run__heal(struct run_fault *rf);

/* run_faults.c: how often event e has happened so far. */
uint64_t run__event_count(struct run *r, const struct scn_event *e);

/* run_rest.c: the outside interfaces.  run__rest_open binds every listener
 * (err says why not: a port in use is bad input); run__rest_attach serves a
 * new cluster and prints its addresses; run__rest_start starts serving (real
 * world); run__rest_pause_due says whether --pause-at's event has come (sim);
 * run__rest_pause serves with the world still; run__rest_json adds the
 * addresses to the run object; run__rest_close stops serving. */
int run__rest_open(struct run *r, char *err, size_t errlen);
void run__rest_attach(struct run *r, struct run_cluster *rc);
void run__rest_start(struct run *r);
bool run__rest_pause_due(struct run *r);
void run__rest_pause(struct run *r, const char *why);
void run__rest_json(struct run *r, json_t *out);
void run__rest_close(struct run *r);

/* run.c: a progress line on stderr (unless quiet). */
void run__say(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
