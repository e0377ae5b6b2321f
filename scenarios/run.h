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
