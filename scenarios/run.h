/*
 * run.h - running a scenario: build the world for one deployment mode, run
 * the workload with the fault plan until everything ends or the deadline
 * passes, evaluate the expectations, and describe the run as the JSON object
 * of INTERFACE.md (docs/json-schema.md).
 *
 * Modes, as Flink deploys them:
 *   session      one long-lived cluster shared by every job; the client
 *                downloads artifacts, runs main() and, with each job it
 *                submits, uploads the job's blobs to the JobManager's blob
 *                server
 *   per-job      a cluster per job, sized to it (active provider), torn down
 *                when it ends; the client does main() and uploads each job's
 *                blobs to its cluster's blob server
 *   application  a cluster per application; main() runs on its JobManager,
 *                which downloads the artifacts itself; nothing is uploaded
 *
 * In session and per-job mode each application has a client of its own (a
 * node "client-APP", or "client" when there is one application), as each is
 * submitted by its own `flink run` process: their main()s run side by side.
 *
 * Threads: scn_run drives the world from the calling thread (the sim world
 * runs on it; the real world's nodes have their own).  Not reentrant with
 * respect to libfiu failpoints, which are process-wide.
 */
#ifndef SCN_RUN_H
#define SCN_RUN_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "runtime/rt.h"
#include "scenarios/scn.h"

struct scn_run_opts {
    enum scn_mode mode;             /* SESSION, PER_JOB or APPLICATION */
    enum rt_world_kind world;
    bool has_seed;                  /* else the scenario's seed, else 1 */
    uint64_t seed;
    const char *trace_path;         /* NULL: no trace file */
    const char *workdir;            /* NULL: a fresh 0700 dir under $TMPDIR */
    bool keep;                      /* keep the run directory */
    bool quiet;                     /* no progress lines */
    bool check_determinism;         /* sim: run twice, compare hashes */
    uint64_t link_latency_ns;       /* sim: one-way latency, jitter a fifth of it;
                                     * 0 = SCN_RUN_LINK_LATENCY_NS */
    bool test_nondeterministic;     /* TEST ONLY: see rt_world_config */
    bool twin;                      /* run the no-fault twin: the scenario without its
                                     * faults and expectations (which speak of the
                                     * faulted run); the run object says "twin": true */
    /* Outside interfaces (minicluster/rest.h, docs/rest.md): each cluster's
     * JobManager serves Flink's REST API and/or Prometheus metrics on
     * rest_port / prom_port + its index (0: free ports), on rest_bind
     * (NULL: 127.0.0.1).  Sim world: they answer only while the world
     * stands still - at pause_at (NULL: never) and after the run - until a
     * client sends POST /minicluster/resume. */
    bool rest, prometheus;
    uint16_t rest_port, prom_port;
    const char *rest_bind;
    const struct scn_event *pause_at;   /* parsed by scn_pause_parse */
    const char *pause_text;             /* as the user wrote it, for messages */
};

#define SCN_RUN_LINK_LATENCY_NS 100000ull   /* 100 us: a LAN hop */

/* Outcome of scn_run (also the CLI's exit code). */
enum {
    SCN_RUN_OK = 0,                 /* every expectation holds */
    SCN_RUN_FAILED = 1,             /* an expectation failed, or a job failed unexpectedly */
};

/*
 * Runs s in one mode.  On return *out is the run object (caller frees with
 * json_decref) whenever the run happened, even if it failed.  Returns
 * SCN_RUN_OK, SCN_RUN_FAILED, or -errno for an internal error with err
 * saying what.  With a trace_path the file starts with a header line
 * (scenarios/replay.h) and ends with a footer {"end":..}.  With
 * check_determinism in the sim world the run is repeated and -ENOTRECOVERABLE
 * returned (err: "the simulation is not deterministic: ...") when the two
 * trace hashes differ; *out is then NULL.
 */
int scn_run(const struct scn_scenario *s, const struct scn_run_opts *o, json_t **out,
            char *err, size_t errlen);

const char *scn_mode_name(enum scn_mode m);

/*
 * The fault's own cost: adds `impact` to the faulted run object `run` from
 * its no-fault twin's object `twin` (same scenario, mode and seed, run with
 * .twin) - extra DFS bytes and requests, extra time the probe spent over its
 * SLO, the twin's probe p99 and max in the faulted run's recovery window,
 * records replayed, job-seconds lost.  twin NULL: impact says there is no
 * twin (`twin: false`, only the run's own figures) and why, in `note`.
 * In the real world the twin is a separate run and the note says so.
 * Any thread; reads twin, writes run.
 */
void scn_run_impact(json_t *run, const json_t *twin, const char *why_none);

/* What a real-world run of a scenario needs at least (declared state is real
 * bytes there: in memory, in checkpoint files), and what a machine has. */
struct scn_fit {
    uint64_t declared_bytes;        /* every job's state= */
    uint64_t mem_bytes;             /* 2 x declared: the state and one encoded copy */
    uint64_t disk_bytes;            /* (retained + 1) x declared with checkpointing, else 0 */
    uint32_t retained;              /* state.checkpoints.num-retained */
    uint64_t mem_avail, disk_avail; /* the machine's (0: unknown, not checked) */
};
/* Fills the needs of f from s. */
void scn_run_fit_needs(const struct scn_scenario *s, struct scn_fit *f);
/* Whether a real-world run of s fits: 0, or -EFBIG with err saying
 * `FILE:LINE:COL: error: too large ...` with the figures it needs and has.
 * machine: its mem_avail and disk_avail (NULL: measured here - MemAvailable,
 * and the free space where the run directory goes: workdir, else $TMPDIR or
 * /tmp).  The sim world needs no check: declared state is descriptors there. */
int scn_run_fit(const struct scn_scenario *s, const char *workdir, const struct scn_fit *machine,
                char *err, size_t errlen);

/* Parses --pause-at's EVENT against s: `checkpoint JOB [N] done`, `job JOB
 * running|restarting|finished|failed|canceled`, `restore JOB started`,
 * `taskmanager registered` (the scenario language's events).  The event
 * refers to s's job names (valid while s is).  0, or -EINVAL with err. */
int scn_pause_parse(const struct scn_scenario *s, const char *text, struct scn_event *out,
                    char *err, size_t errlen);
/* scn_run returns one of these when --rest or --prometheus cannot listen
 * (a port in use, an address not ours): bad input, not a bug. */
#define SCN_RUN_IS_BIND_ERROR(rc) ((rc) == -EADDRINUSE || (rc) == -EADDRNOTAVAIL || \
                                   (rc) == -EACCES)
/* Whether mode m exists on the scenario's deployment target: per-job mode
 * runs on YARN (and standalone, for comparison) only, as in Flink (and
 * Flink 2.0 removed it).  0, or -EINVAL with `FILE:LINE:COL: error: ...`
 * (the position of target=) in err. */
int scn_mode_check(const struct scn_scenario *s, enum scn_mode m, char *err, size_t errlen);

/* Nodes a run's world holds: per-job mode adds a cluster's nodes for every
 * job.  Part of what a trace header records (replay rebuilds the same). */
#define SCN_RUN_MAX_NODES 1024

/* The job graph of a scenario's job (keyby becomes a HASH edge, totals are
 * split per subtask, state= becomes keyed state); the caller owns it. */
struct eng_jobgraph;
struct eng_jobgraph *scn_job_graph(const struct scn_job *sj);

#endif
